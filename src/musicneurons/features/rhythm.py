"""Rhythm features (R): music21's tempo-dependent R15-R36 and jSymbolic 2.2's tempo-free R-9 to R-52.

music21's rhythm features are jSymbolic 2.2's "RT" group: seconds at the window's tempo (quarter notes
per minute). jSymbolic 2.2's "R" group counts in quarter notes and quantises each note's duration to
the nearest of 12 rhythmic values (32nd ... dotted double whole), as jSymbolic's
``MIDIIntermediateRepresentations.generateRhythmicValueFeatures`` does with MIDI ticks. The music spans
from the window's start to the end of its last note, as in the window's MIDI file
(:func:`musicneurons.melody.events.events_to_midi`); rests are the silent spans inside it.
"""

from functools import cached_property

import numpy as np

from .notes import Moments, NoteBatch, group_max, group_min, group_sum, occupied_bins

__all__ = ["RhythmView", "RHYTHM_FEATURES", "RHYTHMIC_VALUES"]

#: Quantised rhythmic values in quarter notes, jSymbolic's bins 0-11.
RHYTHMIC_VALUES = np.array([0.125, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0])
# jSymbolic's bin boundaries: a duration d falls in bin i when d < lower[i + 1]; lower[i] is the
# midpoint of values i-1 and i (so an exact midpoint goes to the longer value).
_LOWER = np.concatenate([[0.0], (RHYTHMIC_VALUES[:-1] + RHYTHMIC_VALUES[1:]) / 2])
_DOTTED = [3, 5, 7, 9, 11]
_DENSITY_WINDOW_QUARTERS = 8
_MIN_REST_QUARTERS = 0.1


class RhythmView:
    """Durations, attacks, rhythmic values and rests of a NoteBatch at given tempi."""

    def __init__(self, batch, qpm):
        self.batch = batch
        self.n = batch.n_windows
        self.qpm = qpm
        self.empty = batch.n_notes == 0
        self._moments = {}

    # -- seconds (music21) -------------------------------------------------------------------------
    @cached_property
    def seconds_per_quarter(self):
        """ndarray (n_windows,), float64: 60 / qpm, as music21's MetronomeMark computes it."""
        return 60.0 / self.qpm

    def seconds(self, steps, rows):
        """Steps -> seconds at each row's tempo, float64 (quarter length times seconds per quarter)."""
        return NoteBatch.quarters(steps) * self.seconds_per_quarter[rows]

    @cached_property
    def duration_s(self):
        """ndarray (n_notes,), float64: note durations in seconds."""
        return self.seconds(self.batch.duration, self.batch.row)

    @cached_property
    def attack_gap_s(self):
        """(row, gap): flat ndarrays of the time between consecutive attacks in seconds."""
        b = self.batch
        same = b.same_row_next
        rows = b.row[1:][same]
        return rows, self.seconds(np.diff(b.start)[same], rows)

    def nan_below(self, values, min_notes):
        """``values`` with NaN in windows of fewer than ``min_notes`` notes (where music21 raises)."""
        return np.where(self.batch.n_notes < min_notes, np.nan, values)

    # -- quarter notes (jSymbolic 2.2) -------------------------------------------------------------
    @cached_property
    def duration_q(self):
        """ndarray (n_notes,), float64: note durations in quarter notes."""
        return NoteBatch.quarters(self.batch.duration)

    @cached_property
    def rhythm_bin(self):
        """ndarray (n_notes,), int64: jSymbolic rhythmic-value bin (0-11) of each note."""
        return np.searchsorted(_LOWER[1:], self.duration_q, side="right")

    @cached_property
    def rhythm_hist(self):
        """ndarray (n_windows, 12), int64: notes per rhythmic value."""
        return self.batch.histogram(self.rhythm_bin, len(RHYTHMIC_VALUES))

    @cached_property
    def rhythm_fraction(self):
        """ndarray (n_windows, 12), float64: jSymbolic's normalised rhythmic value histogram (R-13)."""
        return self.rhythm_hist / np.maximum(self.batch.n_notes, 1)[:, None]

    def bins_share(self, bins):
        """Fraction of notes whose rhythmic value lies in ``bins`` (0 without notes)."""
        return self.rhythm_fraction[:, bins].sum(axis=1)

    @cached_property
    def top_bins(self):
        """(first, second): jSymbolic's getIndexOfLargest / getIndexOfSecondLargest of R-13."""
        h = self.rhythm_fraction
        rows = np.arange(self.n)
        first = np.argmax(h, axis=1)
        rest = h.copy()
        rest[rows, first] = -np.inf
        second = np.where(first == 0, 0, np.argmax(rest, axis=1))  # jSymbolic starts its search at bin 0
        return first, second

    @cached_property
    def runs(self):
        """(row, length): flat arrays of runs of consecutive notes with the same rhythmic value."""
        b = self.batch
        starts = np.ones(len(b.row), bool)
        starts[1:] = ~b.same_row_next | (self.rhythm_bin[1:] != self.rhythm_bin[:-1])
        first = np.flatnonzero(starts)
        return b.row[first], np.diff(np.append(first, len(b.row))).astype(np.float64)

    @cached_property
    def offsets(self):
        """ndarray (n_notes,), float64: |duration - quantised value| in quarter notes."""
        return np.abs(self.duration_q - RHYTHMIC_VALUES[self.rhythm_bin])

    @cached_property
    def rests(self):
        """(row, length): flat arrays of silent spans inside the music, in quarter notes (>= 0.1)."""
        b = self.batch
        gap_start = np.zeros_like(b.start)
        gap_start[1:] = b.end[:-1]
        gap_start[b.first[b.n_notes > 0]] = 0  # before a window's first note, silence starts at 0
        length = NoteBatch.quarters(b.start - gap_start)
        keep = length >= _MIN_REST_QUARTERS
        return b.row[keep], length[keep]

    @cached_property
    def music_q(self):
        """ndarray (n_windows,), float64: duration of the music (to the end of the last note) in quarters."""
        return NoteBatch.quarters(self.batch.piece_end)

    def moments(self, series):
        """Moments of a per-window series, computed on first use.

        ``seconds``: note durations (s); ``attacks``: time between onsets (s); ``rhythm``: quantised
        rhythmic values, ``runs``: run lengths, ``offsets``: quantisation offsets and ``rests``: rest
        lengths (quarter notes).
        """
        if series not in self._moments:
            b = self.batch
            values, rows = {
                "seconds": lambda: (self.duration_s, b.row),
                "attacks": lambda: self.attack_gap_s[::-1],
                "rhythm": lambda: (RHYTHMIC_VALUES[self.rhythm_bin], b.row),
                "runs": lambda: self.runs[::-1],
                "offsets": lambda: (self.offsets, b.row),
                "rests": lambda: self.rests[::-1],
            }[series]()
            self._moments[series] = Moments(values, rows, self.n)
        return self._moments[series]


def _zero_if_empty(view, values):
    return np.where(view.empty, 0.0, values)


def _density_variability(v):
    """R-12: sample deviation of notes per quarter over 8-quarter windows of the music (0 below 2)."""
    b = v.batch
    win_steps = _DENSITY_WINDOW_QUARTERS * 4
    n_win = -(-b.piece_end // win_steps)
    offsets = np.concatenate([[0], np.cumsum(n_win)])
    counts = np.bincount(offsets[b.row] + b.start // win_steps, minlength=offsets[-1]).astype(np.float64)
    win_row = np.repeat(np.arange(v.n), n_win)
    win_index = np.arange(offsets[-1]) - offsets[win_row]
    length_q = NoteBatch.quarters(np.minimum(win_steps, b.piece_end[win_row] - win_index * win_steps))
    return Moments(counts / length_q, win_row, v.n).std


def _relative_prevalence(v):
    first, second = v.top_bins
    h = v.rhythm_fraction
    rows = np.arange(v.n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(v.empty, 0.0, h[rows, second] / h[rows, first])


def _rhythm_range(v):
    lo, hi = occupied_bins(v.rhythm_hist)
    return (hi - lo).astype(np.float64)


def _moment(series, stat, min_notes=0):
    """Feature: a Moments statistic of a series; NaN below ``min_notes`` notes (where music21 raises)."""
    return lambda v: np.where(v.batch.n_notes < min_notes, np.nan, getattr(v.moments(series), stat))


def _rest_fraction(v):
    total = group_sum(v.rests[1], v.rests[0], v.n)
    return np.where(v.music_q > 0, total / np.where(v.music_q > 0, v.music_q, 1.0), 0.0)


def _per_quarter(v):
    return np.where(v.music_q > 0, v.batch.n_notes / np.where(v.music_q > 0, v.music_q, 1.0), 0.0)


def _note_density(v):
    end_s = NoteBatch.quarters(v.batch.piece_end) * v.seconds_per_quarter
    return np.where(v.empty, 0.0, v.batch.n_notes / np.where(v.empty, 1.0, end_s))


def _seconds_extreme(reduce):
    return lambda v: v.nan_below(reduce(v.duration_s, v.batch.row, v.n, empty=0.0), 1)


def _staccato(v):
    return v.nan_below(Moments((v.duration_s < 0.10).astype(np.float64), v.batch.row, v.n).mean, 1)


def _longest_rest(v):
    return group_max(v.rests[1], v.rests[0], v.n, empty=0.0)


def _zeros(v):
    return np.zeros(v.n)


RHYTHM_FEATURES = {
    # music21 (jSymbolic 1 numbering; seconds at the window's tempo)
    "R15": _note_density,
    "R17": _moment("seconds", "mean", 1),
    "R18": _moment("seconds", "pstd", 1),
    "R19": _seconds_extreme(group_max),
    "R20": _seconds_extreme(group_min),
    "R21": _staccato,
    "R22": _moment("attacks", "mean", 2),
    "R23": _moment("attacks", "pstd", 2),
    "R24": _moment("attacks", "mean", 2),
    "R25": _moment("attacks", "pstd", 2),
    "R30": lambda v: v.qpm.astype(np.float64),
    "R32": _zeros,
    "R33": _zeros,
    "R34": _zeros,
    "R35": _zeros,
    "R36": lambda v: v.nan_below(NoteBatch.quarters(v.batch.piece_end) * v.seconds_per_quarter, 1),
    # jSymbolic 2.2 (quarter notes, tempo-free)
    "R-9": lambda v: v.batch.n_notes.astype(np.float64),
    "R-10": _per_quarter,
    "R-11": _per_quarter,
    "R-12": _density_variability,
    "R-14": _rhythm_range,
    "R-15": lambda v: (v.rhythm_hist > 0).sum(axis=1).astype(np.float64),
    "R-16": lambda v: (v.rhythm_fraction >= 0.15).sum(axis=1).astype(np.float64),
    "R-17": lambda v: v.bins_share([0, 1]),
    "R-18": lambda v: v.bins_share([0, 1, 2]),
    "R-19": lambda v: v.bins_share([2, 3, 4, 5, 6]),
    "R-20": lambda v: v.bins_share([6, 7, 8, 9, 10, 11]),
    "R-21": lambda v: v.bins_share([9, 10, 11]),
    "R-22": lambda v: v.bins_share(_DOTTED),
    "R-23": lambda v: _zero_if_empty(v, RHYTHMIC_VALUES[occupied_bins(v.rhythm_hist)[0]]),
    "R-24": lambda v: _zero_if_empty(v, RHYTHMIC_VALUES[occupied_bins(v.rhythm_hist)[1]]),
    "R-25": _moment("rhythm", "mean"),
    "R-26": lambda v: _zero_if_empty(v, RHYTHMIC_VALUES[v.top_bins[0]]),
    "R-27": lambda v: v.rhythm_fraction.max(axis=1),
    "R-28": _relative_prevalence,
    "R-29": lambda v: np.abs(v.top_bins[0] - v.top_bins[1]).astype(np.float64),
    "R-30": _moment("rhythm", "std"),
    "R-31": _moment("rhythm", "skewness"),
    "R-32": _moment("rhythm", "kurtosis"),
    "R-34": _moment("runs", "mean"),
    "R-35": _moment("runs", "median"),
    "R-36": _moment("runs", "std"),
    "R-38": _moment("offsets", "mean"),
    "R-39": _moment("offsets", "median"),
    "R-40": _moment("offsets", "std"),
    "R-41": _rest_fraction,
    "R-42": _rest_fraction,
    "R-43": _rest_fraction,
    "R-44": _longest_rest,
    "R-45": _longest_rest,
    "R-46": _moment("rests", "mean"),
    "R-47": _moment("rests", "mean"),
    "R-48": _moment("rests", "median"),
    "R-49": _moment("rests", "median"),
    "R-50": _moment("rests", "std"),
    "R-51": _moment("rests", "std"),
    "R-52": _zeros,
}
