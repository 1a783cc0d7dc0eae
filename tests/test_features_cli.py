"""The ``musicneurons features`` command on small melody tables."""

import numpy as np
import pandas as pd
import pytest

from musicneurons.cli import main
from musicneurons.features import MUSIC21_IDS, catalogue, compute_features
from musicneurons.melody import random_windows
from musicneurons.tables import load_table, save_table


@pytest.fixture(scope="module")
def melodies(tmp_path_factory):
    events, qpm = random_windows(25, bars=2, seed=11)
    events[0] = 0  # a silent window: NaN features with reasons
    path = tmp_path_factory.mktemp("features") / "melodies.parquet"
    save_table(path, pd.DataFrame({"tempo": qpm}), arrays={"events": events})
    return path, events, qpm


def test_numpy_engine_writes_every_feature_in_chunks(melodies, tmp_path):
    path, events, qpm = melodies
    out = tmp_path / "features.parquet"
    assert main(["features", str(path), "--out", str(out), "--chunk", "10", "--quiet"]) == 0
    table, meta = load_table(out)
    assert list(table.columns) == ["row"] + list(catalogue()["id"]) + ["nan_reasons"]
    assert table["row"].tolist() == list(range(25))
    expected = compute_features(events, qpm)
    pd.testing.assert_frame_equal(table[expected.columns], expected, check_exact=True)
    assert table.loc[0, "nan_reasons"].startswith("P1: window has no notes; P2: window has no notes")
    has_nan = expected.isna().any(axis=1)
    assert ((table["nan_reasons"] != "") == has_nan).all() and 0 < has_nan.sum() < 25
    assert all(r.startswith("M8: no interval lies in the arpeggio set") for r in table.loc[1:, "nan_reasons"] if r)
    assert meta["engine"] == "numpy" and meta["n_windows"] == 25


def test_music21_engine_gives_the_same_music21_features(melodies, tmp_path):
    path, _, _ = melodies
    fast, slow = tmp_path / "numpy.parquet", tmp_path / "music21.parquet"
    main(["features", str(path), "--out", str(fast), "--quiet"])
    main(["features", str(path), "--out", str(slow), "--engine", "music21", "--quiet"])
    a, _ = load_table(fast)
    b, meta = load_table(slow)
    assert list(b.columns) == ["row"] + MUSIC21_IDS + ["nan_reasons"] and meta["engine"] == "music21"
    np.testing.assert_allclose(a[MUSIC21_IDS].to_numpy(), b[MUSIC21_IDS].to_numpy(), rtol=0, atol=1e-9)
    assert "P1: JSymbolicFeatureException: input lacks notes" in b.loc[0, "nan_reasons"]


def test_missing_events_column_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "bad.parquet"
    save_table(bad, pd.DataFrame({"tempo": [120.0]}))
    assert main(["features", str(bad), "--out", str(tmp_path / "x.parquet")]) == 1
    assert "bad.parquet: a melody table needs the array columns 'events'; it lacks 'events'" in capsys.readouterr().err
    assert main(["features", str(tmp_path / "nope.parquet"), "--out", str(tmp_path / "x.parquet")]) == 1
    assert "nope.parquet: not a readable Parquet table" in capsys.readouterr().err
