"""Hand-worked values of every jSymbolic-2.2-only feature on small melodies.

Melody A (2 bars, 32 steps; a step is a sixteenth, durations in steps):
  C4 0-4, E4 4-6, G4 6-7, [rest 7-8], E4 8-14, D4 14-15, C4 15-18, [rest 18-20], C5 20-25, B4 25-32
Melody B (3 bars, 48 steps):
  [rest 0-4], C4 4-6, F4 6-8, D5 8-10, E4 10-12, G5 12-16, G5 16-20, [rest 20-36], G4 36-40, [silence 40-48]
"""

import math

import numpy as np
import pytest

from musicneurons.features import catalogue, compute_features
from musicneurons.melody.events import NOTE_OFF, notes_to_events

A_NOTES = [(0, 4, 60), (4, 6, 64), (6, 7, 67), (8, 14, 64), (14, 15, 62), (15, 18, 60), (20, 25, 72), (25, 32, 71)]
B_NOTES = [(4, 6, 60), (6, 8, 65), (8, 10, 74), (10, 12, 64), (12, 16, 79), (16, 20, 79), (36, 40, 67)]


def _events(notes, n_steps):
    return notes_to_events(np.array(notes), n_steps)


def _sd(xs):
    m = sum(xs) / len(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))


def _kurt(devs, sd):
    """jSymbolic's kurtosis from hand-listed deviations from the mean."""
    n = len(devs)
    return n * (n + 1) / ((n - 1) * (n - 2) * (n - 3)) * sum(d**4 for d in devs) / sd**4 + 3 * (n - 1) ** 2 / (
        (n - 2) * (n - 3)
    )


# Melody A: pitches 60 64 67 64 62 60 72 71 (mean 65); pitch classes 0 4 7 4 2 0 0 11 (mean 3.5);
# fifths-folded classes 0 4 1 4 2 0 0 5 (mean 2); |intervals| 4 3 3 2 2 12 1; quantised rhythmic
# values 1 .5 .25 1.5 .25 .75 1.5 2 (5 and 7 steps are 1.25 and 1.75 quarters: midpoints go up).
_A_PITCH_DEV = [-5, -1, 2, -1, -3, -5, 7, 6]
_A_PC_DEV = [-3.5, 0.5, 3.5, 0.5, -1.5, -3.5, -3.5, 7.5]
_A_FOLD_DEV = [-2, 2, -1, 2, 0, -2, -2, 3]
_A_RHYTHM = [1, 0.5, 0.25, 1.5, 0.25, 0.75, 1.5, 2]
_A_RHYTHM_DEV = [x - 7.75 / 8 for x in _A_RHYTHM]
EXPECTED_A = {
    "P-7": 2,  # C 3/8 and E 2/8 reach 20%
    "P-15": 28 / 8,
    "P-24": math.sqrt(150 / 7),
    "P-25": math.sqrt(108 / 7),
    "P-26": math.sqrt(30 / 7),
    "P-27": 3 * (65 - 64) / math.sqrt(150 / 7),  # upper median of 8 sorted pitches = 64
    "P-28": 3 * (3.5 - 4) / math.sqrt(108 / 7),
    "P-29": 0.0,  # mean 2 = median 2
    "P-30": _kurt(_A_PITCH_DEV, math.sqrt(150 / 7)),
    "P-31": _kurt(_A_PC_DEV, math.sqrt(108 / 7)),
    "P-32": _kurt(_A_FOLD_DEV, math.sqrt(30 / 7)),
    "P-34": 60,
    "P-35": 0,
    "P-36": 71,
    "P-37": 11,
    "M-13": 0.0,
    "M-16": 0.0,
    "M-17": 0.0,
    "M-19": 0.0,  # the octave (12) is not larger than an octave
    "M-20": 2.0,  # two minor thirds, one major third
    "M-21": 1 / 8,  # D4 (1 step) between E4 (6) and C4 (3)
    "M-25": (5 + 2) / 2,  # C4 recurs after 5 notes, E4 after 2
    "R-9": 8,
    "R-10": 1.0,
    "R-11": 1.0,
    "R-12": 0.0,  # one 8-quarter window
    "R-14": 5,  # sixteenth (bin 1) .. half (bin 6)
    "R-15": 6,
    "R-16": 2,  # sixteenths and dotted quarters hold 2/8 each
    "R-17": 2 / 8,
    "R-18": 3 / 8,
    "R-19": 6 / 8,
    "R-20": 1 / 8,
    "R-21": 0.0,
    "R-22": 3 / 8,
    "R-23": 0.25,
    "R-24": 2.0,
    "R-25": 7.75 / 8,
    "R-26": 0.25,  # tie sixteenth / dotted quarter: the shorter
    "R-27": 2 / 8,
    "R-28": 1.0,
    "R-29": 4,
    "R-30": _sd(_A_RHYTHM),
    "R-31": 3 * (7.75 / 8 - 1) / _sd(_A_RHYTHM),
    "R-32": _kurt(_A_RHYTHM_DEV, _sd(_A_RHYTHM)),
    "R-34": 1.0,
    "R-35": 1.0,
    "R-36": 0.0,  # no two neighbours share a rhythmic value
    "R-38": 0.5 / 8,
    "R-39": 0.0,
    "R-40": _sd([0, 0, 0, 0, 0, 0, 0.25, 0.25]),
    "R-41": 0.75 / 8,
    "R-42": 0.75 / 8,
    "R-43": 0.75 / 8,  # rests of .25 and .5 quarters in 8
    "R-44": 0.5,
    "R-45": 0.5,
    "R-46": 0.375,
    "R-47": 0.375,
    "R-48": 0.5,
    "R-49": 0.5,
    "R-50": _sd([0.25, 0.5]),
    "R-51": _sd([0.25, 0.5]),
    "R-52": 0.0,
}

# Melody B: |intervals| 5 9 10 15 0 12; rhythmic values .5 x4, 1 x3; rests 1 and 4 quarters;
# the music ends with G4 at 40 steps (10 quarters).
EXPECTED_B = {
    "P-7": 1,  # only G (3 of 7 notes)
    "P-34": 60,
    "P-35": 0,
    "P-36": 67,
    "P-37": 7,
    "M-13": 1 / 6,
    "M-16": 1 / 6,
    "M-17": 1 / 6,
    "M-19": 1 / 6,
    "M-20": 0.0,
    "M-21": 0.0,
    "M-25": 1.0,  # only G5 recurs, right away
    "R-9": 7,
    "R-10": 0.7,
    "R-11": 0.7,
    "R-12": _sd([6 / 8, 1 / 2]),  # 6 onsets in quarters 0-8, 1 in the last 2 quarters
    "R-14": 2,
    "R-15": 2,
    "R-16": 2,
    "R-17": 0.0,
    "R-18": 4 / 7,
    "R-19": 1.0,
    "R-20": 0.0,
    "R-21": 0.0,
    "R-22": 0.0,
    "R-23": 0.5,
    "R-24": 1.0,
    "R-25": 5 / 7,
    "R-26": 0.5,
    "R-27": 4 / 7,
    "R-28": 0.75,
    "R-29": 2,
    "R-30": math.sqrt(1 / 14),
    "R-31": 3 * (5 / 7 - 0.5) / math.sqrt(1 / 14),
    "R-32": _kurt([-3 / 14] * 4 + [2 / 7] * 3, math.sqrt(1 / 14)),
    "R-34": 3.5,
    "R-35": 4.0,
    "R-36": _sd([4, 3]),
    "R-38": 0.0,
    "R-39": 0.0,
    "R-40": 0.0,
    "R-41": 0.5,
    "R-44": 4.0,
    "R-46": 2.5,
    "R-48": 4.0,
    "R-50": _sd([1, 4]),
}


@pytest.fixture(scope="module")
def values():
    a = _events(A_NOTES, 32)
    b = _events(B_NOTES, 48)
    return compute_features(a[None]).iloc[0], compute_features(b[None]).iloc[0]


def test_melody_b_events_end_with_a_note_off():
    ev = _events(B_NOTES, 48)
    assert ev[40] == NOTE_OFF and not ev[41:].any()


@pytest.mark.parametrize("fid", sorted(EXPECTED_A))
def test_hand_worked_melody_a(values, fid):
    assert values[0][fid] == pytest.approx(EXPECTED_A[fid], abs=1e-12)


@pytest.mark.parametrize("fid", sorted(EXPECTED_B))
def test_hand_worked_melody_b(values, fid):
    assert values[1][fid] == pytest.approx(EXPECTED_B[fid], abs=1e-12)


def test_every_jsymbolic_only_feature_is_hand_checked():
    cat = catalogue()
    only = set(cat.loc[cat["music21_id"] == "", "id"])
    assert only == set(EXPECTED_A)


def test_jsymbolic_defaults_without_notes_and_with_one_note():
    empty = np.zeros(32, np.int8)
    single = _events([(8, 12, 69)], 32)
    out = compute_features(np.stack([empty, single]))
    only = [f for f in EXPECTED_A]
    assert (out.loc[0, only] == 0).all()  # jSymbolic's 0 for every statistic of nothing
    one = out.loc[1]
    assert one["P-34"] == 69 and one["P-37"] == 9 and one["P-15"] == 9
    assert one[["P-24", "P-27", "P-30", "R-30", "R-31", "R-32", "M-25", "M-21"]].eq(0).all()
    assert one["R-41"] == pytest.approx(8 / 12) and one["R-44"] == 2.0 and one["R-10"] == pytest.approx(1 / 3)
