"""Melody tables: one row per window, saved as Parquet with ``events`` as a fixed-size int8 list column."""

from pathlib import Path

import numpy as np
import pandas as pd

from ..tables import array_column, load_table, save_table
from .collect import WINDOW_COLUMNS
from .random_notes import random_windows

__all__ = ["save_melodies", "load_melodies", "random_melodies", "errors_path"]


def errors_path(path):
    """Where the errors table of the melody table at ``path`` lives: ``NAME.errors.parquet``."""
    path = Path(path)
    return path.with_name(path.name.removesuffix(".parquet") + ".errors.parquet")


def save_melodies(path, windows, errors=None, metadata=None):
    """Write a melody table (and its errors table beside it) atomically; returns the path."""
    events = array_column(windows, "events").astype(np.int8) if len(windows) else np.zeros((0, 32), np.int8)
    save_table(path, windows.drop(columns="events"), {"events": events}, metadata)
    if errors is not None:
        save_table(errors_path(path), errors, metadata=metadata)
    return Path(path)


def load_melodies(path):
    """Read a melody table -> (DataFrame with per-row ``events`` arrays, metadata dict)."""
    return load_table(path)


def random_melodies(n, bars=2, seed=0):
    """The paper's random sequences as a melody table (``source='random'``, tempo in qpm)."""
    events, qpm = random_windows(n, bars, seed)
    df = pd.DataFrame({"source": "random", "file": "", "tune": "", "track": "", "program": 0, "instrument": 0,
                       "section": 0, "first_bar": 0, "tempo": qpm, "transposition": 0, "window": np.arange(n),
                       "bars": bars}, columns=WINDOW_COLUMNS)
    df["events"] = list(events)
    return df
