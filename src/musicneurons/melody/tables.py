"""Melody tables: one row per window, saved as Parquet with ``events`` as a fixed-size int8 list column."""

from pathlib import Path

import numpy as np
import pandas as pd

from ..tables import TableWriter, array_column, kind_metadata, load_table, save_table
from .collect import WINDOW_COLUMNS
from .failures import FailureTally
from .random_notes import random_windows

__all__ = ["save_melodies", "load_melodies", "random_melodies", "errors_path", "write_melodies"]


def errors_path(path):
    """Where the errors table of the melody table at ``path`` lives: ``NAME.errors.parquet``."""
    path = Path(path)
    return path.with_name(path.name.removesuffix(".parquet") + ".errors.parquet")


def save_melodies(path, windows, errors=None, metadata=None):
    """Write a melody table (and its errors table beside it) atomically; returns the path."""
    events = array_column(windows, "events").astype(np.int8) if len(windows) else np.zeros((0, 32), np.int8)
    save_table(path, windows.drop(columns="events"), {"events": events}, kind_metadata("windows", metadata))
    if errors is not None:
        save_table(errors_path(path), errors, metadata=metadata)
    return Path(path)


def write_melodies(path, batches, metadata=None):
    """Stream the batches of :func:`~musicneurons.melody.collect.iter_assembled` into a melody table.

    The windows go to ``path`` and the errors to ``NAME.errors.parquet`` beside it, one row group per
    batch, each written under a temporary name and renamed when complete (an interrupted write leaves the
    old table, if any, untouched). Memory stays that of one batch.

    Returns
    -------
    n_windows : int
    n_pieces : int
        Files or tunes with at least one window.
    failures : FailureTally
        Why the others gave none.
    """
    n_windows = n_pieces = 0
    failures = FailureTally()
    with (
        TableWriter(path, kind_metadata("windows", metadata)) as windows,
        TableWriter(errors_path(path), metadata) as errors_table,
    ):
        for scalars, events, errors in batches:
            windows.write(scalars, {"events": events})
            errors_table.write(errors)
            n_windows += len(scalars)
            n_pieces += int((scalars["window"] == 0).sum())
            failures.add(errors)
    return n_windows, n_pieces, failures


def load_melodies(path):
    """Read a melody table -> (DataFrame with per-row ``events`` arrays, metadata dict)."""
    return load_table(path)


def random_melodies(n, bars=2, seed=0):
    """The paper's random sequences as a melody table (``source='random'``, tempo in qpm)."""
    events, qpm = random_windows(n, bars, seed)
    df = pd.DataFrame(
        {
            "source": "random",
            "file": "",
            "tune": "",
            "track": "",
            "program": 0,
            "instrument": 0,
            "section": 0,
            "first_bar": 0,
            "tempo": qpm,
            "transposition": 0,
            "window": np.arange(n),
            "bars": bars,
        },
        columns=WINDOW_COLUMNS,
    )
    df["events"] = list(events)
    return df
