"""The catalogue matches the implementations and music21's own ids and names."""

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from musicneurons.features import MUSIC21_IDS, catalogue, compute_features, feature_ids
from musicneurons.features.melody import MELODY_FEATURES
from musicneurons.features.music21_reference import music21_extractors
from musicneurons.features.pitch import PITCH_FEATURES
from musicneurons.features.rhythm import RHYTHM_FEATURES


@pytest.fixture(scope="module")
def random_events():
    """300 random 2-bar windows: 55% holds, 20% note-offs, 25% note-ons of any pitch."""
    p = np.r_[0.55, 0.2, np.full(88, 0.25 / 88)]
    return np.random.default_rng(5).choice(90, size=(300, 32), p=p).astype(np.int8)


def test_catalogue_loads_to_the_table_it_was_written_from():
    # The digest, counts and rows were taken from the table as catalogue.py held it in code, before it
    # became catalogue.csv: the same columns, dtypes, order and values, to the character.
    cat = catalogue()
    assert list(cat.columns) == [
        "id", "name", "category", "meaning", "music21_id", "jsymbolic_code",
        "constant", "duplicate_of", "scaled_duplicate_of", "nan_when",
    ]  # fmt: skip
    assert cat["constant"].dtype == bool
    assert all(pd.api.types.is_string_dtype(cat[c]) for c in cat.columns if c != "constant")
    assert cat.index.equals(pd.RangeIndex(113))
    assert cat["category"].value_counts(sort=False).to_dict() == {"pitch": 32, "melody": 24, "rhythm": 57}
    assert (cat["music21_id"] != "").sum() == 50 and cat["constant"].sum() == 7
    assert (cat["duplicate_of"] != "").sum() == 9 and (cat["scaled_duplicate_of"] != "").sum() == 1
    assert cat["nan_when"].value_counts().to_dict() == {
        "": 83,
        "window has no notes": 14,
        "window has fewer than 2 notes": 14,
        "no interval lies in the arpeggio set (music21 raises; jSymbolic gives 0)": 1,
        "no rising or falling interval": 1,
    }
    assert cat.iloc[40].to_dict() == {
        "id": "M10",
        "name": "Chromatic Motion",
        "category": "melody",
        "meaning": "fraction of 1-semitone intervals",
        "music21_id": "m10",
        "jsymbolic_code": "M-10",
        "constant": False,
        "duplicate_of": "",
        "scaled_duplicate_of": "",
        "nan_when": "window has fewer than 2 notes",
    }
    assert cat.iloc[-1].to_dict() == {
        "id": "R-52",
        "name": "Variability Across Voices of Combined Rests",
        "category": "rhythm",
        "meaning": "sd of total rest across voices; 0 for one voice",
        "music21_id": "",
        "jsymbolic_code": "R-52",
        "constant": True,
        "duplicate_of": "",
        "scaled_duplicate_of": "",
        "nan_when": "",
    }
    assert cat.loc[cat["id"] == "M8", "meaning"].item() == (
        "fraction of intervals in {0,3,4,7,10,11,12,15,16} (0 without intervals)"
    )  # a quoted field with commas
    digest = hashlib.sha256(json.dumps(cat.to_dict(orient="split")).encode()).hexdigest()
    assert digest == "ee50a8353d5cb9ec757d3d931d155d7b07a91108cf9ee50717b778c57516c80c"
    assert feature_ids() == list(cat["id"])
    assert MUSIC21_IDS == list(cat.loc[cat["music21_id"] != "", "id"])
    assert MUSIC21_IDS[:3] == ["P1", "P2", "P3"] and MUSIC21_IDS[-1] == "R36"


def test_catalogue_rows_are_the_implemented_features():
    cat = catalogue()
    assert cat["id"].is_unique
    assert len(cat) >= 80
    implemented = {**PITCH_FEATURES, **MELODY_FEATURES, **RHYTHM_FEATURES}
    assert set(cat["id"]) == set(implemented)
    for table, category in [(PITCH_FEATURES, "pitch"), (MELODY_FEATURES, "melody"), (RHYTHM_FEATURES, "rhythm")]:
        assert set(cat.loc[cat["category"] == category, "id"]) == set(table)


def test_music21_ids_and_names_are_music21s():
    cat = catalogue().set_index("id")
    extractors = music21_extractors()
    assert sorted(MUSIC21_IDS) == sorted(extractors) and len(MUSIC21_IDS) == 50
    for fid, fe in extractors.items():
        assert cat.loc[fid, "name"] == fe().name
        assert cat.loc[fid, "music21_id"] == fe.id  # music21's own spelling, lower case m10 and m17 included


def test_rule_columns_point_at_catalogued_features():
    cat = catalogue()
    ids = set(cat["id"])
    for column in ("duplicate_of", "scaled_duplicate_of"):
        targets = set(cat[column]) - {""}
        assert targets <= ids
    assert set(cat.loc[cat["constant"], "id"]) == {"P22", "R30", "R32", "R33", "R34", "R35", "R-52"}
    assert set(cat["category"]) == {"pitch", "melody", "rhythm"}
    assert cat["jsymbolic_code"].str.match(r"^(P|M|R|RT)-\d+$").all()


def test_catalogued_duplicates_and_constants_hold_on_data(random_events):
    values = compute_features(random_events, 120.0)
    cat = catalogue()
    for fid, dup in cat.loc[cat["duplicate_of"] != "", ["id", "duplicate_of"]].itertuples(index=False):
        assert values[fid].equals(values[dup]), fid
    for fid in cat.loc[cat["constant"], "id"]:
        assert values[fid].nunique() == 1, fid
    # R15 = R-10 * qpm / 60 at one tempo
    assert (values["R15"] - values["R-10"] * 2).abs().max() < 1e-12


def test_feature_ids_by_category_and_unknown_ids_rejected(random_events):
    assert feature_ids("pitch")[0] == "P1" and all(f.startswith("M") for f in feature_ids("melody"))
    assert list(compute_features(random_events[:2], features=["R-9", "P1"]).columns) == ["R-9", "P1"]
    with pytest.raises(ValueError, match="unknown feature ids"):
        compute_features(random_events[:2], features=["P99"])
