"""The catalogue matches the implementations and music21's own ids and names."""

import numpy as np
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
