"""Melody tables: one row per window, saved as Parquet with ``events`` as a fixed-size int8 list column."""

import json
import os
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from .. import __version__
from ..tables import _META_KEY, _to_arrow, array_column, load_table, save_table
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
    save_table(path, windows.drop(columns="events"), {"events": events}, metadata)
    if errors is not None:
        save_table(errors_path(path), errors, metadata=metadata)
    return Path(path)


class _RowGroupWriter:
    """One of our tables written row group by row group under a temporary name, renamed when closed."""

    def __init__(self, path, metadata):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.partial")
        self.meta = json.dumps({"version": __version__, **(metadata or {})}).encode()
        self.writer = self.empty = None

    def write(self, df, arrays=None):
        """Append ``df`` (and its array columns) as a row group; empty frames only set the schema."""
        if not len(df):
            self.empty = self.empty or (df, arrays)
            return
        table = _to_arrow(df, arrays or {})
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), _META_KEY: self.meta})
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.tmp, table.schema)
        self.writer.write_table(table.cast(self.writer.schema))

    def close(self):
        if self.writer is None:
            self.empty, (df, arrays) = None, self.empty
            table = _to_arrow(df, arrays or {})
            self.writer = pq.ParquetWriter(
                self.tmp, table.replace_schema_metadata({**(table.schema.metadata or {}), _META_KEY: self.meta}).schema
            )
        self.writer.close()
        os.replace(self.tmp, self.path)

    def abort(self):
        if self.writer is not None:
            self.writer.close()
        self.tmp.unlink(missing_ok=True)


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
    tables = _RowGroupWriter(path, metadata), _RowGroupWriter(errors_path(path), metadata)
    n_windows = n_pieces = 0
    failures = FailureTally()
    try:
        for scalars, events, errors in batches:
            tables[0].write(scalars, {"events": events})
            tables[1].write(errors)
            n_windows += len(scalars)
            n_pieces += int((scalars["window"] == 0).sum())
            failures.add(errors)
        for table in tables:
            table.close()
    except BaseException:
        for table in tables:
            table.abort()
        raise
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
