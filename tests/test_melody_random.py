"""The paper's random sequences (§5.1 and footnote 6): every rule checked on 10,000 draws."""

import numpy as np
import pytest
from scipy import stats

from musicneurons.melody import events_to_notes, random_windows
from musicneurons.melody.events import event_to_pitch


@pytest.fixture(scope="module")
def draws():
    return random_windows(10_000, bars=2, seed=7)


def test_shapes_and_seed(draws):
    events, qpm = draws
    assert events.shape == (10_000, 32) and events.dtype == np.int8 and qpm.shape == (10_000,)
    again, _ = random_windows(10_000, bars=2, seed=7)
    np.testing.assert_array_equal(events, again)
    assert not np.array_equal(events, random_windows(10_000, bars=2, seed=8)[0])


def test_onset_counts_uniform_on_2_to_32(draws):
    counts = (draws[0] >= 2).sum(axis=1)
    assert counts.min() == 2 and counts.max() == 32
    observed = np.bincount(counts, minlength=33)[2:]
    assert stats.chisquare(observed).pvalue > 1e-3


def test_first_onset_at_zero_and_no_note_off(draws):
    events = draws[0]
    assert (events[:, 0] >= 2).all()
    assert not (events == 1).any()


def test_pitches_uniform_on_30_to_100(draws):
    pitches = event_to_pitch(draws[0][draws[0] >= 2])
    assert pitches.min() == 30 and pitches.max() == 100
    assert stats.chisquare(np.bincount(pitches, minlength=101)[30:]).pvalue > 1e-3


def test_monophonic_and_each_note_held_to_next_onset(draws):
    for ev in draws[0][:500]:
        notes = events_to_notes(ev)
        np.testing.assert_array_equal(notes[1:, 0], notes[:-1, 1])  # each note ends where the next starts
        assert notes[-1, 1] == 32 and notes[0, 0] == 0


def test_onset_positions_uniform_over_steps_1_to_31(draws):
    positions = (draws[0][:, 1:] >= 2).sum(axis=0)
    assert stats.chisquare(positions).pvalue > 1e-3


def test_two_bar_duration_uniform_integer_seconds(draws):
    seconds = 8 * 60.0 / draws[1]
    np.testing.assert_allclose(seconds, np.round(seconds))
    assert set(np.round(seconds).astype(int)) == set(range(1, 9))
    assert stats.chisquare(np.bincount(np.round(seconds).astype(int))[1:]).pvalue > 1e-3


def test_sixteen_bar_variant():
    events, qpm = random_windows(2000, bars=16, seed=1)
    counts = (events >= 2).sum(axis=1)
    assert events.shape == (2000, 256) and counts.min() >= 2 and counts.max() <= 256
    assert (events[:, 0] >= 2).all() and not (events == 1).any()
    assert set(np.round(480.0 / qpm).astype(int)) == set(range(1, 9))


def test_bad_n():
    with pytest.raises(ValueError, match="'n' parameter of random_windows"):
        random_windows(-1)
