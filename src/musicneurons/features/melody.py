"""Melody features (M): music21's M2-M19 and jSymbolic 2.2's M-13, M-16, M-17, M-19 to M-21 and M-25.

Melodic intervals are the pitch differences of consecutive notes of a window, across rests (music21's
``findConsecutiveNotes(skipRests=True, skipGaps=True, noNone=True)``). Every function takes a
:class:`MelodyView` and returns ``ndarray of shape (n_windows,), dtype=float64``; music21's features are
NaN exactly where music21 raises.
"""

from functools import cached_property

import numpy as np

from .notes import group_count, group_mean, group_sum

__all__ = ["MelodyView", "MELODY_FEATURES"]

_N_INTERVALS = 128
_ARPEGGIO = [0, 3, 4, 7, 10, 11, 12, 15, 16]
_MUSIC21_OCTAVES = [12, 24, 48, 60, 72, 84, 96, 108, 120]  # music21 omits 36
_MAX_NOTES_BEFORE_REPEAT = 16  # jSymbolic M-25


class MelodyView:
    """Interval histograms and arcs of a NoteBatch, computed once and shared by the melody features."""

    def __init__(self, batch):
        self.batch = batch
        self.n = batch.n_windows

    @cached_property
    def hist(self):
        """ndarray (n_windows, 128), int64: count of each absolute melodic interval in semitones."""
        return self.batch.histogram(self.size, _N_INTERVALS, rows=self.batch.interval_row)

    @cached_property
    def total(self):
        """ndarray (n_windows,), float64: melodic intervals per window."""
        return self.batch.n_intervals.astype(np.float64)

    @cached_property
    def size(self):
        """ndarray (n_intervals,), int64: absolute melodic intervals in semitones."""
        return np.abs(self.batch.interval)

    def share(self, bins, nan_if_none=True):
        """Fraction of intervals whose size is in ``bins``; NaN (music21) or 0 (jSymbolic) without intervals."""
        wanted = np.zeros(_N_INTERVALS, bool)
        wanted[bins] = True
        count = group_count(self.batch.interval_row[wanted[self.size]], self.n)
        return np.where(self.total == 0, np.nan if nan_if_none else 0.0, count / np.maximum(self.total, 1))

    @cached_property
    def top(self):
        """(first, second): the most common interval size and, after zeroing it, the next (``list.index``)."""
        h = self.hist.copy()
        rows = np.arange(self.n)
        first = np.argmax(h, axis=1)
        top_count = h[rows, first].astype(np.float64)
        h[rows, first] = 0
        second = np.argmax(h, axis=1)
        return first, second, top_count, h[rows, second].astype(np.float64)

    @cached_property
    def moves(self):
        """Non-unison intervals: (row, signed interval, starts a new direction) as flat arrays."""
        b = self.batch
        keep = b.interval != 0
        row, iv = b.interval_row[keep], b.interval[keep]
        sign = np.sign(iv)
        new_arc = np.ones(len(iv), bool)
        new_arc[1:] = (row[1:] != row[:-1]) | (sign[1:] != sign[:-1])
        return row, iv, new_arc

    @cached_property
    def direction_changes(self):
        """ndarray (n_windows,), int64: changes of melodic direction (unisons ignored)."""
        row, _, new_arc = self.moves
        first_of_row = np.ones(len(row), bool)
        first_of_row[1:] = row[1:] != row[:-1]
        return group_count(row[new_arc & ~first_of_row], self.n)


def _m4(v):
    first, second, _, _ = v.top
    return np.abs(first - second).astype(np.float64)


def _m6(v):
    _, _, c1, c2 = v.top
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(v.total == 0, np.nan, (c2 / v.total) / (c1 / v.total))


def _m7(v):
    with np.errstate(invalid="ignore", divide="ignore"):
        common = (v.hist / v.total[:, None] >= 0.09).sum(axis=1)
    return np.where(v.total == 0, np.nan, common.astype(np.float64))


def _m8(v):
    frac = v.share(_ARPEGGIO, nan_if_none=False)
    # music21 returns 0 without intervals but raises when none of them is in the arpeggio set.
    return np.where((v.total > 0) & (frac == 0), np.nan, frac)


def _m9(v):
    return np.where(v.total == 0, 0.0, v.share([0]))


def _m17(v):
    b = v.batch
    rising = group_count(b.interval_row[b.interval > 0], v.n)
    falling = group_count(b.interval_row[b.interval < 0], v.n)
    moving = rising + falling
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(moving == 0, np.nan, rising / moving)


def _m18(v):
    row, _, _ = v.moves
    changes = v.direction_changes
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(changes == 0, 0.0, group_count(row, v.n) / changes)


def _m19(v):
    """Mean span of completed arcs: every arc but each window's last, over the direction changes."""
    row, iv, new_arc = v.moves
    arc_id = np.cumsum(new_arc) - 1
    arc_span = np.bincount(arc_id, weights=np.abs(iv).astype(np.float64)) if len(iv) else np.zeros(0)
    arc_row = row[new_arc]
    last_arc_of_row = np.ones(len(arc_row), bool)
    last_arc_of_row[:-1] = arc_row[1:] != arc_row[:-1]
    completed = group_sum(arc_span[~last_arc_of_row], arc_row[~last_arc_of_row], v.n)
    changes = v.direction_changes
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(changes == 0, 0.0, completed / changes)


def _minor_major_thirds(v):
    minor, major = v.hist[:, 3].astype(np.float64), v.hist[:, 4].astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((minor > 0) & (major > 0), minor / np.maximum(major, 1), 0.0)


def _embellishments(v):
    """M-21: fraction of notes whose two neighbours each last at least 3 times as long."""
    b = v.batch
    dur = b.duration
    mid = np.zeros(len(dur), bool)
    if len(dur) >= 3:
        same = b.same_row_next
        mid[1:-1] = same[:-1] & same[1:] & (dur[:-2] >= 3 * dur[1:-1]) & (dur[2:] >= 3 * dur[1:-1])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(b.n_notes == 0, 0.0, group_count(b.row[mid], v.n) / np.maximum(b.n_notes, 1))


def _melodic_pitch_variety(v):
    """M-25: mean number of notes until a note's pitch recurs, over notes that recur within 16 notes."""
    b = v.batch
    idx = np.arange(len(b.pitch))
    order = b.by_pitch
    key = (b.row * 128 + b.pitch)[order]
    recur = key[1:] == key[:-1]
    gap = idx[order][1:] - idx[order][:-1]
    ok = recur & (gap <= _MAX_NOTES_BEFORE_REPEAT)
    rows = b.row[order][:-1][ok]
    return group_mean(gap[ok].astype(np.float64), rows, v.n, empty=0.0)


MELODY_FEATURES = {
    # music21 (jSymbolic 1 numbering)
    "M2": lambda v: group_mean(v.size.astype(np.float64), v.batch.interval_row, v.n),
    "M3": lambda v: v.top[0].astype(np.float64),
    "M4": _m4,
    "M5": lambda v: np.where(v.total == 0, np.nan, v.top[2] / np.maximum(v.total, 1)),
    "M6": _m6,
    "M7": _m7,
    "M8": _m8,
    "M9": _m9,
    "M10": lambda v: v.share([1]),
    "M11": lambda v: v.share([1, 2]),
    "M12": lambda v: v.share([3, 4]),
    "M13": lambda v: v.share([7]),
    "M14": lambda v: v.share([6]),
    "M15": lambda v: v.share(_MUSIC21_OCTAVES),
    "M17": _m17,
    "M18": _m18,
    "M19": _m19,
    # jSymbolic 2.2
    "M-13": lambda v: v.share([5], nan_if_none=False),
    "M-16": lambda v: v.share([8, 9], nan_if_none=False),
    "M-17": lambda v: v.share([10, 11], nan_if_none=False),
    "M-19": lambda v: v.share(list(range(13, _N_INTERVALS)), nan_if_none=False),
    "M-20": _minor_major_thirds,
    "M-21": _embellishments,
    "M-25": _melodic_pitch_variety,
}
