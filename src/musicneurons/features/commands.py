"""The ``features`` command and the study's feature stage: one column per feature for every window."""

from dataclasses import dataclass
from typing import Any

__all__ = [
    "register",
    "write_features",
    "features_of",
    "feature_table",
    "features_part",
    "FeaturePart",
    "FEATURE_CHUNK",
]

FEATURE_CHUNK = 20000  # windows per chunk of the study's feature stage

_EXAMPLE = """example:
  musicneurons features melodies_2bar.parquet --out features_2bar.parquet
  musicneurons features melodies_2bar.parquet --out features_m21.parquet --engine music21"""


def register(sub):
    """Add the ``features`` command to the ``musicneurons`` subparsers."""
    import argparse

    p = sub.add_parser(
        "features",
        help="jSymbolic pitch, melody and rhythm features of a melody table",
        description="Compute one column per scalar feature (see the catalogue) for every window of "
        "a melody table (Parquet with an 'events' column and optionally 'tempo' in "
        "qpm). NaN values carry their reason in the 'nan_reasons' column.",
        epilog=_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("melodies", help="melody table (Parquet) with an 'events' fixed-size list column")
    p.add_argument("--out", required=True, help="output feature table (Parquet)")
    p.add_argument(
        "--engine",
        choices=["numpy", "music21"],
        default="numpy",
        help="numpy: all catalogued features, fast (default); music21: music21's 50 features "
        "through music21 itself (slow reference)",
    )
    p.add_argument("--chunk", type=int, default=20000, help="windows per chunk (default 20000)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=_features)


def _features(args):
    write_features(args.melodies, args.out, engine=args.engine, chunk=args.chunk, progress=not args.quiet)
    print(f"wrote {args.out}")
    return 0


def features_of(events, tempo=None, engine="numpy", chunk=20000, progress=True):
    """Features of event windows, computed chunk by chunk: the study's feature stage and the command's.

    Parameters
    ----------
    events : ndarray of shape (n, T), dtype=int8
    tempo : ndarray of shape (n,), dtype=float64, optional
        Quarter notes a minute; 120 where missing.
    engine : {'numpy', 'music21'}
        ``numpy``: every catalogued feature; ``music21``: music21's 50 features computed by music21.
    chunk : int
        Windows per chunk.
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    Features
    """
    from ..progress import progress_bar

    from ..contracts import Features
    from ..errors import check_choice, check_positive_int
    from .compute import compute_features, nan_reasons
    from .music21_reference import music21_features

    check_choice("engine", engine, {"numpy", "music21"}, "features_of")
    check_positive_int("chunk", chunk, "features_of", allow_none=False)
    parts = []
    with progress_bar(progress=progress, total=len(events), unit="window", desc=f"features ({engine})") as bar:
        for lo in range(0, len(events), chunk):
            ev, q = events[lo : lo + chunk], None if tempo is None else tempo[lo : lo + chunk]
            if engine == "numpy":
                values = compute_features(ev, q)
                reasons = nan_reasons(values)
                bar.update(len(ev))
            else:
                values, reasons = music21_features(ev, q, progress=bar.update)
            parts.append(Features(values, _row_reasons(reasons, len(ev))))
    return Features.concat(parts)


@dataclass(frozen=True)
class FeaturePart:
    """One chunk of the feature stage: rows ``start:stop`` of ``windows`` into chunk ``index`` of ``store``.

    ``windows`` is a windows table (the chunk reads its own rows) or those rows as a :class:`Windows`.
    """

    index: int
    start: int
    stop: int
    windows: Any
    store: Any


def features_part(part):
    """Chunk function of the feature stage (:mod:`musicneurons.execute`): one chunk's features into its store.

    Stores ``values`` (ndarray of shape (rows, b), dtype=float64), ``columns`` (the b feature ids) and
    ``nan_reasons`` (ndarray of shape (rows,), str); returns the rows written.
    """
    import numpy as np

    from ..contracts import Windows

    windows = (
        part.windows
        if isinstance(part.windows, Windows)
        else Windows.load(part.windows, (part.start, part.stop), ["events", "tempo"])
    )
    feats = features_of(windows.events, windows.tempo, progress=False)
    part.store.put(
        part.index,
        values=feats.values.to_numpy(np.float64),
        columns=np.array(feats.values.columns, dtype=str),
        nan_reasons=feats.nan_reasons.astype(str),
    )
    return len(feats)


def feature_table(entry, windows, executor=None, chunk=FEATURE_CHUNK, progress=False, desc="features", metadata=None):
    """The study's feature stage: features of ``windows`` chunk by chunk into the table of ``entry``.

    Parameters
    ----------
    entry : Entry
    windows : Path or Windows
        A windows table, each chunk reading its own rows (needed on a cluster), or the windows.
    executor : Executor, optional
        Where the chunks run; default this process.
    chunk : int
    progress : bool
    desc : str
    metadata : dict, optional

    Returns
    -------
    Features
        The rows of a chunk that failed on every try are NaN, their ``nan_reasons`` say so; the entry's
        marker lists those chunks and a rerun retries them.
    """
    from pathlib import Path

    import numpy as np
    import pandas as pd

    from ..contracts import Features
    from ..execute import LocalExecutor, chunk_ranges, fill_store, read_chunks
    from ..tables import row_count
    from .catalogue import feature_ids

    entry.invalidate()
    store = entry.chunks()
    by_path = isinstance(windows, Path)
    ranges = chunk_ranges(row_count(windows) if by_path else len(windows), chunk)
    parts = [
        FeaturePart(i, lo, hi, windows if by_path else windows.take(np.arange(lo, hi)), store) for i, lo, hi in ranges
    ]
    failed = fill_store(executor or LocalExecutor(1), features_part, parts, store, progress, desc)
    ids = feature_ids()

    def empty(rows):
        reason = np.full(rows, "every feature: its chunk failed (see errors.parquet)")
        return {"values": np.full((rows, len(ids)), np.nan), "columns": np.array(ids), "nan_reasons": reason}

    blocks = read_chunks(store, ranges, failed, empty)
    feats = Features.concat(
        [
            Features(pd.DataFrame(b["values"], columns=list(b["columns"])), b["nan_reasons"].astype(object))
            for b in blocks
        ]
    )
    if not blocks:
        feats = Features(pd.DataFrame(columns=ids, dtype=np.float64), np.zeros(0, dtype=object))
    feats.save(entry.path, {"key": entry.key, "stage": "features", **(metadata or {})})
    entry.complete(len(feats), failed=failed)
    if not failed:
        store.clear()
    return feats


def _row_reasons(reasons, n):
    """Long (row, feature, reason) table -> one ``'ID: reason; ...'`` string per row (``''`` if none)."""
    import numpy as np

    out = np.full(n, "", dtype=object)
    if len(reasons):
        text = reasons["feature"] + ": " + reasons["reason"]
        joined = text.groupby(reasons["row"]).agg("; ".join)
        out[joined.index.to_numpy()] = joined.to_numpy()
    return out


def write_features(melodies, out, engine="numpy", chunk=20000, progress=True):
    """Compute the features of every window of a melody table and save them as a feature table.

    Parameters
    ----------
    melodies : str or Path
        Parquet melody table with ``events`` (fixed-size list of int8) and optionally ``tempo`` (qpm).
    out : str or Path
        Output feature table (:class:`~musicneurons.contracts.Features`): ``row`` (position in
        ``melodies``), one float64 column per feature id and ``nan_reasons``.
    engine, chunk, progress
        As in :func:`features_of`.

    Returns
    -------
    Path
        ``out``.
    """
    from ..contracts import Windows
    from ..rundir import check_marker

    windows = Windows.load(check_marker(melodies))
    features = features_of(windows.events, windows.tempo, engine=engine, chunk=chunk, progress=progress)
    features.save(out, {"stage": "features", "engine": engine, "source": str(melodies), "n_windows": len(windows)})
    return out
