"""A batch of event windows as one flat, row-sorted note list: the input of every vectorised feature.

Features are per-window reductions over notes, intervals or rests. Keeping all notes of a batch in
flat arrays (sorted by window, then onset) lets each reduction be one ``np.bincount`` or
``ufunc.reduceat`` over the batch instead of a Python loop over windows.
"""

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..errors import InvalidParameterError
from ..melody.events import DEFAULT_QPM, STEPS_PER_QUARTER, event_to_pitch, validate_events

__all__ = [
    "NoteBatch",
    "Moments",
    "tempo_array",
    "group_sum",
    "group_count",
    "group_max",
    "group_min",
    "group_mean",
    "occupied_bins",
]


@dataclass(frozen=True)
class NoteBatch:
    """Notes of ``n_windows`` windows of ``T`` steps, flattened in (window, onset) order.

    Attributes
    ----------
    row : ndarray of shape (n_notes,), dtype=int64
        Window index of each note.
    start, end : ndarray of shape (n_notes,), dtype=int64
        Onset and end in steps (sixteenths), end exclusive; the last note of a window sounds to its end.
    pitch : ndarray of shape (n_notes,), dtype=int64
        MIDI pitch.
    n_windows, n_steps : int
        Batch size and window length T in steps.
    """

    row: np.ndarray
    start: np.ndarray
    end: np.ndarray
    pitch: np.ndarray
    n_windows: int
    n_steps: int

    @classmethod
    def from_events(cls, events):
        """Event windows (n_windows, T) int8 -> NoteBatch (notes end at the next note-off or note-on)."""
        ev = validate_events(events)
        ev = ev.reshape(-1, ev.shape[-1])
        n, t = ev.shape
        flat = ev.ravel()
        onsets = np.flatnonzero(flat >= 2)
        stops = np.flatnonzero(flat >= 1)
        # The next stop after an onset, if it lies in the same window, ends the note; else the window end.
        nxt = np.searchsorted(stops, onsets, side="right")
        nxt_pos = np.append(stops, np.iinfo(np.int64).max)[nxt]
        row = onsets // t
        window_end = (row + 1) * t
        end = np.minimum(nxt_pos, window_end)
        return cls(
            row=row,
            start=onsets - row * t,
            end=end - row * t,
            pitch=event_to_pitch(flat[onsets]).astype(np.int64),
            n_windows=n,
            n_steps=t,
        )

    @cached_property
    def n_notes(self):
        """ndarray of shape (n_windows,), int64: notes per window."""
        return group_count(self.row, self.n_windows)

    @cached_property
    def first(self):
        """ndarray of shape (n_windows,), int64: flat index of each window's first note (n_notes total if none)."""
        return np.searchsorted(self.row, np.arange(self.n_windows))

    @cached_property
    def duration(self):
        """ndarray of shape (n_notes,), int64: note durations in steps."""
        return self.end - self.start

    def of_note(self, values, last, empty=0):
        """``values`` (n_notes,) at each window's first or last note: ndarray (n_windows,), ``empty`` if none."""
        if len(values) == 0:
            return np.full(self.n_windows, empty, dtype=np.result_type(values, type(empty)))
        idx = np.clip(self.first + (self.n_notes - 1 if last else 0), 0, len(values) - 1)
        return np.where(self.n_notes > 0, values[idx], empty)

    @cached_property
    def piece_end(self):
        """ndarray of shape (n_windows,), int64: end of each window's last note in steps (0 if none)."""
        return self.of_note(self.end, last=True)

    @cached_property
    def by_pitch(self):
        """ndarray of shape (n_notes,), int64: note order by window, then pitch, then onset."""
        return np.argsort(self.row * 128 + self.pitch, kind="stable")

    @cached_property
    def same_row_next(self):
        """ndarray of shape (n_notes - 1,), bool: note i and note i+1 lie in the same window."""
        return self.row[1:] == self.row[:-1]

    @cached_property
    def interval_row(self):
        """ndarray of shape (n_intervals,), int64: window of each melodic interval (consecutive notes)."""
        return self.row[1:][self.same_row_next]

    @cached_property
    def interval(self):
        """ndarray of shape (n_intervals,), int64: signed melodic intervals in semitones, next minus previous."""
        return np.diff(self.pitch)[self.same_row_next]

    @cached_property
    def n_intervals(self):
        """ndarray of shape (n_windows,), int64: melodic intervals per window."""
        return np.maximum(self.n_notes - 1, 0)

    def histogram(self, values, width, rows=None):
        """Per-window histogram of non-negative int ``values`` -> ndarray (n_windows, width), int64."""
        rows = self.row if rows is None else rows
        return np.bincount(rows * width + values, minlength=self.n_windows * width).reshape(self.n_windows, width)

    @staticmethod
    def quarters(steps):
        """Steps (sixteenths) -> quarter notes, float64."""
        return np.asarray(steps, dtype=np.float64) / STEPS_PER_QUARTER


def tempo_array(qpm, n):
    """Tempo argument (None, scalar or (n,) array, qpm) -> ndarray of shape (n,), float64; 120 where missing."""
    if qpm is None:
        return np.full(n, DEFAULT_QPM)
    tempo = np.array(
        np.broadcast_to(np.asarray(qpm, dtype=np.float64), (n,)) if np.ndim(qpm) == 0 else qpm, dtype=np.float64
    )
    if tempo.shape != (n,):
        raise InvalidParameterError(f"qpm must be a scalar or have shape ({n},); got shape {tempo.shape}")
    tempo[np.isnan(tempo)] = DEFAULT_QPM
    if np.any(tempo <= 0):
        raise InvalidParameterError(f"qpm must be positive; got {tempo[tempo <= 0][:5]}")
    return tempo


def occupied_bins(hist):
    """Lowest and highest non-empty bin of each histogram row: two ndarrays (n_rows,), int64 (0 if empty)."""
    present = hist > 0
    lo = np.argmax(present, axis=1)
    hi = present.shape[1] - 1 - np.argmax(present[:, ::-1], axis=1)
    return lo, np.where(present.any(axis=1), hi, 0)


def group_count(rows, n):
    """Items per group: ndarray (n,), int64."""
    return np.bincount(rows, minlength=n)


def group_sum(values, rows, n):
    """Sum of float ``values`` per group: ndarray (n,), float64 (0 for empty groups)."""
    return np.bincount(rows, weights=values, minlength=n)


def group_mean(values, rows, n, empty=np.nan):
    """Mean per group: ndarray (n,), float64; ``empty`` where a group has no items."""
    count = group_count(rows, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, group_sum(values, rows, n) / np.maximum(count, 1), empty)


def _group_reduce(ufunc, values, rows, n, empty):
    """``ufunc.reduceat`` per group of sorted ``rows``, ``empty`` where a group has no items: ndarray (n,)."""
    out = np.full(n, empty, dtype=np.result_type(values, type(empty)))
    count = group_count(rows, n)
    present = count > 0
    starts = np.cumsum(count) - count
    if len(values):
        out[present] = ufunc.reduceat(values, starts[present])
    return out


def group_max(values, rows, n, empty):
    """Maximum per group (``empty`` where a group has no items): ndarray (n,); ``rows`` must be sorted."""
    return _group_reduce(np.maximum, values, rows, n, empty)


def group_min(values, rows, n, empty):
    """Minimum per group (``empty`` where a group has no items): ndarray (n,); ``rows`` must be sorted."""
    return _group_reduce(np.minimum, values, rows, n, empty)


class Moments:
    """jSymbolic's summary statistics of float values grouped by sorted window rows, computed once.

    Parameters
    ----------
    values : ndarray of shape (n_items,), float64
    rows : ndarray of shape (n_items,), int64, sorted
        Window of each value.
    n : int
        Number of windows.
    """

    def __init__(self, values, rows, n):
        self.values = np.asarray(values, dtype=np.float64)
        self.rows = rows
        self.n = n

    @cached_property
    def count(self):
        """ndarray (n,), int64: items per window."""
        return group_count(self.rows, self.n)

    @cached_property
    def mean(self):
        """ndarray (n,), float64: mean per window (0 for an empty window, as jSymbolic's getAverage)."""
        return group_mean(self.values, self.rows, self.n, empty=0.0)

    @cached_property
    def sum_sq(self):
        """ndarray (n,), float64: summed squared deviations from the window mean."""
        return group_sum((self.values - self.mean[self.rows]) ** 2, self.rows, self.n)

    @cached_property
    def std(self):
        """jSymbolic's standard deviation (divisor n-1; 0 below 2 items): ndarray (n,)."""
        return np.where(self.count >= 2, np.sqrt(self.sum_sq / np.maximum(self.count - 1, 1)), 0.0)

    @cached_property
    def pstd(self):
        """Population standard deviation (Python's ``statistics.pstdev``; 0 for an empty window)."""
        return np.sqrt(self.sum_sq / np.maximum(self.count, 1))

    @cached_property
    def median(self):
        """jSymbolic's median: the sorted value at index count // 2 (0 for an empty window)."""
        width = int(self.count.max(initial=0))
        if width == 0:
            return np.zeros(self.n)
        first = np.searchsorted(self.rows, np.arange(self.n))
        padded = np.full((self.n, width), np.inf)
        padded[self.rows, np.arange(len(self.rows)) - first[self.rows]] = self.values
        padded.sort(axis=1)
        return np.where(self.count > 0, padded[np.arange(self.n), self.count // 2], 0.0)

    @cached_property
    def skewness(self):
        """jSymbolic's skewness, Pearson's second coefficient 3 (mean - median) / std (0 below 3 items or std 0)."""
        ok = (self.count >= 3) & (self.std > 0)
        return np.where(ok, 3.0 * (self.mean - self.median) / np.where(ok, self.std, 1.0), 0.0)

    @cached_property
    def kurtosis(self):
        """jSymbolic's "sample excess kurtosis", exactly as jSymbolic 2 computes it.

        ``n(n+1)/((n-1)(n-2)(n-3)) * sum((x-mean)^4) / s^4 + 3(n-1)^2/((n-2)(n-3))`` with ``s`` the n-1
        standard deviation; 0 below 4 items or when ``s`` is 0. Note the ``+``: the textbook estimator
        subtracts the last term; jSymbolic's ``MathAndStatsMethods.getSampleExcessKurtosis`` adds it.
        """
        sq = (self.values - self.mean[self.rows]) ** 2
        m4 = group_sum(sq * sq, self.rows, self.n)
        ok = (self.count >= 4) & (self.std > 0)
        c = np.where(ok, self.count, 4).astype(np.float64)
        coef = c * (c + 1) / ((c - 1) * (c - 2) * (c - 3))
        second = 3 * (c - 1) ** 2 / ((c - 2) * (c - 3))
        return np.where(ok, coef * m4 / np.where(ok, self.std, 1.0) ** 4 + second, 0.0)
