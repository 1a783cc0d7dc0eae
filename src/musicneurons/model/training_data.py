"""Training windows for MusicVAE: the corpus split by piece, unique windows, and Magenta's transposition."""

import hashlib

import numpy as np

from ..errors import InvalidParameterError
from ..melody.events import N_CLASSES
from ..tables import array_column

__all__ = [
    "held_out_pieces",
    "split_by_piece",
    "unique_windows",
    "transpose_batch",
    "corpus_split",
    "save_training_windows",
    "load_training_windows",
]


def unique_windows(events):
    """Distinct rows of an event array (n, T) int8, in first-seen order -> (m, T) int8."""
    _, first = np.unique(events, axis=0, return_index=True)
    return events[np.sort(first)]


def _rows_in(rows, reference):
    """Boolean (n,) mask: which rows of ``rows`` (n, T) also occur in ``reference`` (m, T)."""
    seen = {r.tobytes() for r in reference}
    return np.fromiter((r.tobytes() in seen for r in rows), bool, len(rows))


def held_out_pieces(pieces, holdout=0.1, seed=0):
    """Which pieces (n,) are held out: those whose seeded hash falls below ``holdout`` -> (n,) bool.

    A piece's side depends only on its own name and the seed, so adding pieces to a corpus never moves
    another piece across the split (the held-out share is ``holdout`` in expectation).
    """
    if not 0.0 < holdout < 1.0:
        raise InvalidParameterError(f"holdout must lie in (0, 1); got {holdout!r}.")
    names, inverse = np.unique(np.asarray(pieces).astype(str), return_inverse=True)
    digest = [hashlib.blake2b(f"{seed}:{name}".encode(), digest_size=8).digest() for name in names]
    fraction = np.array([int.from_bytes(d, "big") for d in digest], np.float64) / 2.0**64
    return (fraction < holdout)[inverse]


def split_by_piece(events, pieces, holdout=0.1, seed=0):
    """Split windows into training and held-out sets by piece; both deduplicated.

    Parameters
    ----------
    events : ndarray of shape (n, T), dtype=int8
        Windows, one per row.
    pieces : array-like of shape (n,)
        The piece each window comes from (a tune, or a score with all its parts); all windows of a piece
        fall on the same side (see :func:`held_out_pieces`).
    holdout : float
        Expected share of pieces held out, in (0, 1).
    seed : int
        Seed of the piece hash.

    Returns
    -------
    train, heldout : ndarray of shape (n_train, T) and (n_heldout, T), dtype=int8
        Unique windows; a held-out window that also occurs in a training piece is dropped, so the
        held-out windows are unseen in training.
    """
    is_held = held_out_pieces(pieces, holdout, seed)
    train = unique_windows(events[~is_held])
    heldout = unique_windows(events[is_held])
    return train, heldout[~_rows_in(heldout, train)]


def corpus_split(bars, holdout=0.1, seed=0, max_tunes=None, collections="folk"):
    """The embedded corpus's ``bars``-bar windows split by piece (see :func:`split_by_piece`).

    ``collections`` is a selection of :func:`musicneurons.melody.corpus_melodies` (``"folk"``, ``"all"``
    or a list of music21 collections). A piece is one tune, or one score with all its parts, so every
    window of every part of a piece falls on the same side.
    """
    from ..melody import corpus_melodies

    df = corpus_melodies(bars=bars, mode="all", max_tunes=max_tunes, collections=collections)
    tunes = (df["file"].astype(str) + "#" + df["tune"].astype(str)).to_numpy()
    return split_by_piece(array_column(df, "events").astype(np.int8), tunes, holdout, seed)


def save_training_windows(path, train, heldout, data):
    """Write training and held-out windows (n, T) int8 and a one-line description of them to an .npz."""
    np.savez_compressed(
        path, train=np.asarray(train, np.int8), heldout=np.asarray(heldout, np.int8), data=np.array(str(data))
    )


def load_training_windows(path, bars):
    """Read an .npz of :func:`save_training_windows`; returns (train, heldout, description), checked for ``bars``."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            train, heldout, data = npz["train"], npz["heldout"], str(npz["data"])
    except (OSError, KeyError, ValueError) as exc:
        raise InvalidParameterError(
            f"{path}: not a training-windows .npz with 'train', 'heldout' and 'data' ({exc})."
        ) from exc
    for name, arr in (("train", train), ("heldout", heldout)):
        if arr.dtype != np.int8 or arr.ndim != 2 or arr.shape[1] != 16 * bars or len(arr) == 0:
            raise InvalidParameterError(
                f"{path}: '{name}' must be a non-empty int8 array of shape (n, {16 * bars}) "
                f"for a {bars}-bar model; got {arr.dtype} {arr.shape}."
            )
        if arr.min() < 0 or arr.max() >= N_CLASSES:
            raise InvalidParameterError(f"{path}: '{name}' holds events outside 0..{N_CLASSES - 1}.")
    return train, heldout, data


def transpose_batch(events, max_shift, rng):
    """Transpose each window by a uniform integer in [-max_shift, max_shift], clamped to stay in range.

    Like Magenta's NoteSequenceAugmenter: the shift range of a window is narrowed so that every
    note-on stays within MIDI 21..108 (events 2..89); holds and note-offs are unchanged.

    Parameters
    ----------
    events : ndarray (n, T) int8
    max_shift : int
        Largest shift in semitones (0 returns a copy).
    rng : numpy.random.Generator

    Returns
    -------
    ndarray (n, T) int8
    """
    notes = events >= 2
    high = np.where(notes, events, 2).max(axis=1).astype(np.int64)
    low = np.where(notes, events, N_CLASSES - 1).min(axis=1).astype(np.int64)
    lo = np.maximum(-max_shift, 2 - low)
    hi = np.minimum(max_shift, N_CLASSES - 1 - high)
    shift = lo + np.floor(rng.random(len(events)) * (hi - lo + 1)).astype(np.int64)
    return np.where(notes, events + shift[:, None], events).astype(np.int8)
