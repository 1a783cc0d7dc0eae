"""The reference path: music21's own jSymbolic extractors on a stream built from an event window.

One window becomes one flat music21 ``Stream`` (4/4 time signature, a ``MetronomeMark`` at the window's
tempo, one ``Note`` per note of :func:`musicneurons.melody.events.events_to_notes` and one ``Rest`` per
silent gap, trailing silence included), and every music21-implemented scalar P/R/M extractor runs on
one shared ``DataInstance``, as reference/features.md §2 recommends. A feature that raises is NaN and
its exception is kept as the reason. This is slow (milliseconds a window) and exists to check the
vectorised path and for users who want music21's numbers from music21 itself.
"""

import numpy as np
import pandas as pd

from ..melody.events import DEFAULT_QPM, STEPS_PER_QUARTER, events_to_notes, validate_events
from .catalogue import MUSIC21_IDS
from .notes import tempo_array

__all__ = [
    "music21_extractors",
    "window_to_stream",
    "music21_window_features",
    "music21_features",
    "compare_with_music21",
]


def music21_extractors():
    """music21's 50 scalar pitch, rhythm and melody extractor classes, in music21's order.

    Returns
    -------
    dict of str to type
        Upper-cased music21 id (``'P1'``, ``'M10'``, ...) -> ``FeatureExtractor`` subclass. Ids ``m10``
        and ``m17`` are lower-case in music21 and upper-cased here.
    """
    from music21.features import jSymbolic

    out = {}
    for fe in jSymbolic.featureExtractors:
        inst = fe()
        if inst.dimensions == 1 and fe.id[0].upper() in "PRM":
            out[fe.id.upper()] = fe
    return out


def window_to_stream(events, qpm=DEFAULT_QPM):
    """Event window -> flat music21 Stream with a 4/4 time signature and a metronome mark.

    Parameters
    ----------
    events : ndarray of shape (T,), dtype=int8
        One window in Magenta's vocabulary.
    qpm : float
        Tempo in quarter notes per minute.

    Returns
    -------
    music21.stream.Stream
        Notes and rests in quarter-length units (a step is 1/4 quarter).
    """
    from music21 import meter, note, stream, tempo

    ev = validate_events(events).ravel()
    s = stream.Stream()
    s.insert(0, meter.TimeSignature("4/4"))
    s.insert(0, tempo.MetronomeMark(number=float(qpm)))
    cursor = 0
    for start, end, pitch in events_to_notes(ev):
        if start > cursor:
            s.insert(cursor / STEPS_PER_QUARTER, note.Rest(quarterLength=(start - cursor) / STEPS_PER_QUARTER))
        s.insert(start / STEPS_PER_QUARTER, note.Note(int(pitch), quarterLength=(end - start) / STEPS_PER_QUARTER))
        cursor = end
    if cursor < ev.size:
        s.insert(cursor / STEPS_PER_QUARTER, note.Rest(quarterLength=(ev.size - cursor) / STEPS_PER_QUARTER))
    return s


def music21_window_features(events, qpm=DEFAULT_QPM, extractors=None):
    """music21's scalar features of one window, with one shared ``DataInstance``.

    Parameters
    ----------
    events : ndarray of shape (T,), dtype=int8
    qpm : float
        Tempo in quarter notes per minute.
    extractors : dict of str to type, optional
        As returned by :func:`music21_extractors` (the default).

    Returns
    -------
    values : dict of str to float
        Feature id -> value; NaN where music21 raised.
    reasons : dict of str to str
        Feature id -> ``'ExceptionType: message'`` for each NaN value.
    """
    from music21.features.base import DataInstance

    extractors = music21_extractors() if extractors is None else extractors
    data = DataInstance(window_to_stream(events, qpm))
    values, reasons = {}, {}
    for fid, fe in extractors.items():
        try:
            values[fid] = float(fe(data).extract().vector[0])
        except Exception as exc:  # music21 raises several types (its own, ZeroDivision, Statistics)
            values[fid] = float("nan")
            reasons[fid] = f"{type(exc).__name__}: {exc}"
    return values, reasons


def music21_features(events, qpm=None, *, features=None, progress=None):
    """music21's scalar features of many windows, one row per window.

    Parameters
    ----------
    events : ndarray of shape (n_windows, T), dtype=int8
    qpm : float or ndarray of shape (n_windows,), optional
        Tempo in quarter notes per minute; 120 where missing or NaN.
    features : list of str, optional
        music21 feature ids to compute (default: all 50, in catalogue order).
    progress : callable, optional
        Called with the number of windows done after each window (e.g. ``tqdm.update``).

    Returns
    -------
    values : DataFrame of shape (n_windows, n_features), dtype=float64
    reasons : DataFrame with columns ``row`` (int), ``feature`` (str), ``reason`` (str)
        One row per NaN value, giving music21's exception.
    """
    ev = validate_events(events).reshape(-1, np.shape(events)[-1])
    tempo = tempo_array(qpm, len(ev))
    extractors = music21_extractors()
    extractors = {fid: extractors[fid] for fid in (MUSIC21_IDS if features is None else features)}
    rows, failures = [], []
    for i, (window, q) in enumerate(zip(ev, tempo)):
        values, reasons = music21_window_features(window, q, extractors)
        rows.append(values)
        failures.extend((i, fid, why) for fid, why in reasons.items())
        if progress is not None:
            progress(1)
    table = pd.DataFrame(rows, columns=list(extractors), dtype=np.float64)
    return table, pd.DataFrame(failures, columns=["row", "feature", "reason"])


def compare_with_music21(events, qpm=None, progress=None):
    """Compare :func:`~musicneurons.features.compute_features` with music21 on the same windows.

    Parameters
    ----------
    events : ndarray of shape (n_windows, T), dtype=int8
    qpm : float or ndarray of shape (n_windows,), optional
        Tempo in quarter notes per minute (120 where missing).
    progress : callable, optional
        Called with 1 after each window music21 has done.

    Returns
    -------
    DataFrame
        One row per music21 feature id: ``max_abs_diff`` (float64, over windows where both are
        numbers), ``nan_music21`` and ``nan_numpy`` (int, NaN counts) and ``nan_mismatch`` (int,
        windows where exactly one of them is NaN).
    """
    from .compute import compute_features

    ref, _ = music21_features(events, qpm, progress=progress)
    ours = compute_features(events, qpm, features=MUSIC21_IDS)
    a, b = ours.to_numpy(), ref.to_numpy()
    both = ~np.isnan(a) & ~np.isnan(b)
    diff = np.where(both, np.abs(a - b), 0.0).max(axis=0, initial=0.0)
    return pd.DataFrame(
        {
            "max_abs_diff": diff,
            "nan_music21": np.isnan(b).sum(axis=0),
            "nan_numpy": np.isnan(a).sum(axis=0),
            "nan_mismatch": (np.isnan(a) != np.isnan(b)).sum(axis=0),
        },
        index=MUSIC21_IDS,
    )
