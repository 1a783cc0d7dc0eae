"""The numpy features equal music21's own extractors (one shared DataInstance a window).

Always-run subset: real corpus windows (2 and 16 bars), the paper's random sequences, hand-made
edge cases. The full check (>= 2,000 corpus windows, 1,000 random) is checks/check_features_music21.py.
"""

import numpy as np
import pytest

from musicneurons.features import (
    MUSIC21_IDS,
    compare_with_music21,
    compute_features,
    music21_features,
    nan_reasons,
    window_to_stream,
)
from musicneurons.melody import corpus_melodies, random_windows
from musicneurons.melody.events import NOTE_OFF, notes_to_events, pitch_to_event
from musicneurons.tables import array_column


def assert_equal_to_music21(events, qpm):
    """Largest |difference| <= 1e-9 and NaN exactly where music21 raises, for all 50 features."""
    report = compare_with_music21(events, qpm)
    assert len(report) == 50
    assert report["max_abs_diff"].max() <= 1e-9, report["max_abs_diff"].idxmax()
    assert (report["nan_mismatch"] == 0).all(), report.index[report["nan_mismatch"] > 0].tolist()
    return report


@pytest.mark.parametrize("bars, max_tunes", [(2, 40), (16, 40)])
def test_equal_to_music21_on_corpus_windows(bars, max_tunes):
    df = corpus_melodies(bars=bars, max_tunes=max_tunes, progress=False)
    events = array_column(df, "events")
    assert len(events) >= 25
    assert_equal_to_music21(events, df["tempo"].to_numpy())


def test_equal_to_music21_on_random_sequences():
    events, qpm = random_windows(150, bars=2, seed=3)
    assert_equal_to_music21(events, qpm)


def _window(notes, n_steps=32):
    return notes_to_events(np.array(notes).reshape(-1, 3), n_steps)


# (name, window, features that must be NaN): each music21 failure mode once.
EDGE_CASES = [
    (
        "empty",
        np.zeros(32, np.int8),
        {
            "P1",
            "P2",
            "P4",
            "P10",
            "P12",
            "P13",
            "P14",
            "P15",
            "M2",
            "M5",
            "M6",
            "M7",
            "M10",
            "M11",
            "M12",
            "M13",
            "M14",
            "M15",
            "M17",
            "R17",
            "R18",
            "R19",
            "R20",
            "R21",
            "R22",
            "R23",
            "R24",
            "R25",
            "R36",
        },
    ),
    (
        "one note",
        _window([(4, 9, 60)]),
        {"M2", "M5", "M6", "M7", "M10", "M11", "M12", "M13", "M14", "M15", "M17", "R22", "R23", "R24", "R25"},
    ),
    ("steps only: no arpeggio interval", _window([(0, 4, 60), (4, 8, 62), (8, 12, 61)]), {"M8"}),
    ("repeated notes: no direction", _window([(0, 4, 60), (4, 8, 60), (12, 16, 60)]), {"M17"}),
    (
        "octave leaps and tied pitch counts",
        _window([(0, 2, 60), (2, 4, 48), (4, 6, 60), (6, 8, 48), (8, 32, 53)]),
        set(),
    ),
]


@pytest.mark.parametrize("name, window, nan_ids", EDGE_CASES, ids=[c[0] for c in EDGE_CASES])
def test_edge_cases_nan_exactly_where_music21_raises(name, window, nan_ids):
    assert_equal_to_music21(window[None], 120.0)
    _, reasons = music21_features(window[None], 120.0)
    ours = compute_features(window[None], 120.0)
    assert set(reasons["feature"]) == nan_ids
    assert set(ours.columns[ours.iloc[0].isna()]) == nan_ids
    assert set(nan_reasons(ours)["feature"]) == nan_ids


def test_tempo_scales_the_seconds_features_only():
    window = _window([(0, 3, 60), (3, 8, 64), (10, 16, 67)])
    slow, fast = compute_features(np.stack([window, window]), np.array([60.0, 240.0]), features=MUSIC21_IDS).to_numpy()
    ratio = {fid: s / f for fid, s, f in zip(MUSIC21_IDS, slow, fast) if f not in (0.0,)}
    assert ratio["R17"] == pytest.approx(4) and ratio["R36"] == pytest.approx(4)
    assert ratio["R15"] == pytest.approx(0.25) and ratio["R30"] == pytest.approx(0.25)
    assert ratio["P12"] == 1 and ratio["M2"] == 1


def test_stream_holds_the_window_notes_rests_and_tempo():
    ev = np.zeros(32, np.int8)
    ev[[2, 8, 20]] = [pitch_to_event(60), NOTE_OFF, pitch_to_event(72)]
    s = window_to_stream(ev, 90.0)
    notes = [(float(n.offset), float(n.quarterLength), n.pitch.midi) for n in s.notes]
    rests = [(float(r.offset), float(r.quarterLength)) for r in s.getElementsByClass("Rest")]
    assert notes == [(0.5, 1.5, 60), (5.0, 3.0, 72)]
    assert rests == [(0.0, 0.5), (2.0, 3.0)]
    assert s.metronomeMarkBoundaries()[0][2].number == 90.0


def test_ties_between_pitch_counts_go_to_the_pitch_heard_first():
    window = _window([(0, 2, 60), (2, 4, 48), (4, 6, 60), (6, 8, 48), (8, 32, 53)])
    values = compute_features(window[None], features=["P11", "P5", "P16", "M3"]).iloc[0]
    assert values.tolist() == [60.0, 12.0, 0.0, 12.0]
