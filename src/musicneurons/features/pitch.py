"""Pitch features (P): music21's P1-P16 and P22, and jSymbolic 2.2's P-7, P-15 and P-24 to P-37.

Every function takes a :class:`PitchView` of a :class:`~musicneurons.features.notes.NoteBatch` and
returns ``ndarray of shape (n_windows,), dtype=float64``. music21's features are NaN exactly where
music21 raises (a window without notes); the jSymbolic 2.2 features use jSymbolic's own defaults
(0 without notes, 0 for a deviation of fewer than 2 notes, and so on).
"""

from functools import cached_property

import numpy as np

from .notes import Moments, occupied_bins

__all__ = ["PitchView", "PITCH_FEATURES"]

_N_PITCHES = 128


class PitchView:
    """Pitch histograms and ranks of a NoteBatch, computed once and shared by the pitch features."""

    def __init__(self, batch):
        self.batch = batch
        self.n = batch.n_windows

    @cached_property
    def hist(self):
        """ndarray (n_windows, 128), int64: note count of each MIDI pitch."""
        return self.batch.histogram(self.batch.pitch, _N_PITCHES)

    @cached_property
    def pc_hist(self):
        """ndarray (n_windows, 12), int64: note count of each pitch class (C = 0)."""
        return self.batch.histogram(self.batch.pitch % 12, 12)

    @cached_property
    def total(self):
        """ndarray (n_windows,), float64: notes per window."""
        return self.batch.n_notes.astype(np.float64)

    @cached_property
    def empty(self):
        """ndarray (n_windows,), bool: windows without notes."""
        return self.batch.n_notes == 0

    @cached_property
    def ranked_pitches(self):
        """(first, second): ndarray (n_windows,) each: the two most common pitches, -1 where missing.

        Ties go to the pitch heard first, as in music21, whose ``Counter.most_common`` keeps insertion
        order among equal counts.
        """
        b = self.batch
        key = (b.row * _N_PITCHES + b.pitch)[b.by_pitch]
        is_first = np.ones(len(key), bool)
        is_first[1:] = key[1:] != key[:-1]
        uniq, first_idx = key[is_first], b.by_pitch[is_first]
        # Score: count first, then earlier first occurrence (smaller flat index) wins.
        score = np.full(self.n * _N_PITCHES, -1.0)
        score[uniq] = self.hist.ravel()[uniq] * (len(b.pitch) + 1.0) - first_idx
        score = score.reshape(self.n, _N_PITCHES)
        rows = np.arange(self.n)
        first = np.argmax(score, axis=1)
        valid1 = score[rows, first] >= 0
        score[rows, first] = -1.0
        second = np.argmax(score, axis=1)
        valid2 = score[rows, second] >= 0
        return np.where(valid1, first, -1), np.where(valid2, second, -1)

    @cached_property
    def top_pc(self):
        """(first, second): ndarray (n_windows,) each: music21's ``list.index(max)`` pitch classes."""
        h = self.pc_hist.copy()
        rows = np.arange(self.n)
        first = np.argmax(h, axis=1)
        h[rows, first] = 0
        return first, np.argmax(h, axis=1)

    def nan_if_empty(self, values):
        """``values`` as float64 with NaN where a window has no notes (where music21 raises)."""
        return np.where(self.empty, np.nan, values)

    def share(self, mask_pitches):
        """Fraction of notes whose pitch lies in the boolean (128,) mask; NaN without notes."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.nan_if_empty(self.hist[:, mask_pitches].sum(axis=1) / self.total)

    @cached_property
    def moments(self):
        """Moments of the MIDI pitches, the pitch classes and the fifths-folded pitch classes, by name."""
        b = self.batch
        pc = b.pitch % 12
        series = {"pitch": b.pitch, "pitch class": pc, "folded": (7 * pc) % 12}
        return {name: Moments(values, b.row, self.n) for name, values in series.items()}


def _ratio(num, den):
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / den


def _top2_counts(hist):
    top = np.sort(np.partition(hist, -2, axis=1)[:, -2:], axis=1)
    return top[:, 1].astype(np.float64), top[:, 0].astype(np.float64)


def _p3(v):
    c1, c2 = _top2_counts(v.hist)
    return np.where(c2 > 0, _ratio(c2, c1), 0.0)


def _p4(v):
    c1, c2 = _top2_counts(v.pc_hist)
    return v.nan_if_empty(_ratio(c2, c1))


def _p5(v):
    first, second = v.ranked_pitches
    return np.where(second >= 0, np.abs(second - first), 0).astype(np.float64)


def _p11(v):
    return np.maximum(v.ranked_pitches[0], 0).astype(np.float64)


def _register(lo, hi):
    mask = np.zeros(_N_PITCHES, bool)
    mask[lo : hi + 1] = True
    return lambda v: v.share(mask)


def _pitch_range(v):
    lo, hi = occupied_bins(v.hist)
    return v.nan_if_empty((hi - lo).astype(np.float64))


def _moment(series, stat):
    return lambda v: getattr(v.moments[series], stat)


PITCH_FEATURES = {
    # music21 (jSymbolic 1 numbering)
    "P1": lambda v: v.nan_if_empty(_ratio(v.hist.max(axis=1), v.total)),
    "P2": lambda v: v.nan_if_empty(_ratio(v.pc_hist.max(axis=1), v.total)),
    "P3": _p3,
    "P4": _p4,
    "P5": _p5,
    "P6": lambda v: np.abs(v.top_pc[0] - v.top_pc[1]).astype(np.float64),
    "P7": lambda v: (_ratio(v.hist, v.total[:, None]) >= 0.09).sum(axis=1).astype(np.float64),
    "P8": lambda v: (v.hist > 0).sum(axis=1).astype(np.float64),
    "P9": lambda v: (v.pc_hist > 0).sum(axis=1).astype(np.float64),
    "P10": _pitch_range,
    "P11": _p11,
    "P12": lambda v: v.nan_if_empty(v.moments["pitch"].mean),
    "P13": _register(0, 54),
    "P14": _register(55, 72),
    "P15": _register(73, 127),
    "P16": lambda v: v.top_pc[0].astype(np.float64),
    "P22": lambda v: np.zeros(v.n),
    # jSymbolic 2.2
    "P-7": lambda v: (_ratio(v.pc_hist, v.total[:, None]) >= 0.2).sum(axis=1).astype(np.float64),
    "P-15": _moment("pitch class", "mean"),
    "P-24": _moment("pitch", "std"),
    "P-25": _moment("pitch class", "std"),
    "P-26": _moment("folded", "std"),
    "P-27": _moment("pitch", "skewness"),
    "P-28": _moment("pitch class", "skewness"),
    "P-29": _moment("folded", "skewness"),
    "P-30": _moment("pitch", "kurtosis"),
    "P-31": _moment("pitch class", "kurtosis"),
    "P-32": _moment("folded", "kurtosis"),
    "P-34": lambda v: v.batch.of_note(v.batch.pitch, last=False).astype(np.float64),
    "P-35": lambda v: (v.batch.of_note(v.batch.pitch, last=False) % 12).astype(np.float64),
    "P-36": lambda v: v.batch.of_note(v.batch.pitch, last=True).astype(np.float64),
    "P-37": lambda v: (v.batch.of_note(v.batch.pitch, last=True) % 12).astype(np.float64),
}
