"""Batch extraction over many files or tunes: chunked, parallel, resumable, bad items recorded.

Every item (a MIDI file, a score file, a corpus tune) is read once and yields every unique window for
both 2 and 16 bars, in Magenta's order, saved per chunk of items in a work directory. Finished chunks are
never redone, a chunk file appears only when complete (written under a temporary name, then renamed), and
the at-most-5 sampling is applied when the chunks are assembled, so one cache serves every mode and seed.
"""

import hashlib
import json
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import MelodyError, NoMelodiesError, check_choice
from ..tables import load_table, save_table
from .events import STEPS_PER_BAR
from .extract import MODES, sample_windows, to_classes, unique_windows

__all__ = ["collect_windows", "assemble", "require_windows", "BARS", "WINDOW_COLUMNS", "ERROR_COLUMNS"]

BARS = (2, 16)
CACHE_VERSION = 2
WINDOW_COLUMNS = ["source", "file", "tune", "track", "program", "instrument", "section", "first_bar", "tempo",
                  "transposition", "window", "bars"]
ERROR_COLUMNS = ["source", "file", "tune", "bars", "reason"]


def _item_rows(item, pieces, bars):
    """Windows of every piece of one item for one window length: (window rows, error rows)."""
    rows, errors = [], []
    for tune, ns in pieces:
        sections, reason = unique_windows(ns, bars)
        if reason:
            errors.append({"file": item["file"], "tune": tune, "bars": bars, "reason": reason})
            continue
        for order, windows in enumerate(sections):
            for key, meta in windows:
                rows.append({"file": item["file"], "tune": tune, "key": key,
                             "track": ns.track_names.get(meta["instrument"], ""), **meta})
    return rows, errors


def _process_chunk(reader, items):
    """Read and extract one chunk of items -> {bars: (rows, errors)}; a failing item becomes an error row."""
    out = {b: ([], []) for b in BARS}
    for item in items:
        try:
            pieces = reader(item)
        except MelodyError as exc:
            for b in BARS:
                out[b][1].append({"file": item["file"], "tune": item.get("tune", ""), "bars": b, "reason": exc.reason})
            continue
        for b in BARS:
            rows, errors = _item_rows(item, pieces, b)
            out[b][0].extend(rows)
            out[b][1].extend(errors)
    return out


def _chunk_key(items):
    """Content hash of a chunk's item list (paths, sizes, times, tune numbers) for its file name."""
    blob = json.dumps([CACHE_VERSION, items], sort_keys=True, default=str).encode()
    return hashlib.sha1(blob).hexdigest()[:16]


def _save_chunk(path, result):
    """Write one finished chunk: a windows table per window length plus one errors table (atomic)."""
    for b, (rows, errors) in result.items():
        df = pd.DataFrame(rows, columns=["file", "tune", "track", "key", "section", "instrument", "program",
                                         "tempo", "first_bar"])
        events = to_classes([r["key"] for r in rows]) if rows else np.zeros((0, STEPS_PER_BAR * b), np.int8)
        save_table(path.with_name(f"{path.name}.bars{b}.parquet"), df.drop(columns="key"), {"events": events})
        save_table(path.with_name(f"{path.name}.bars{b}.errors.parquet"),
                   pd.DataFrame(errors, columns=["file", "tune", "bars", "reason"]))
    path.with_name(path.name + ".done").touch()


def collect_windows(items, reader, work_dir, chunk_size=32, workers=None, progress=True, desc="extracting"):
    """Run ``reader`` over ``items`` in chunks, caching each finished chunk in ``work_dir``.

    Parameters
    ----------
    items : list of dict
        One per file or tune, with at least ``file``; the dict (JSON-serialisable) also identifies the
        item in the cache, so include its size and modification time.
    reader : callable
        ``reader(item) -> list of (tune key, NoteSequence)``; raises MelodyError for a bad item. Must be
        a module-level function (it runs in worker processes).
    work_dir : Path
        Cache of finished chunks; a rerun skips them.
    workers : int, optional
        Worker processes (default: the CPU count, at most 4); 1 runs in this process.

    Returns
    -------
    list of Path
        The chunk stems, in item order, for :func:`assemble`.
    """
    from tqdm.auto import tqdm

    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    chunks = [items[i:i + chunk_size] for i in range(0, len(items), chunk_size)]
    stems = [work_dir / f"chunk-{k:06d}-{_chunk_key(c)}" for k, c in enumerate(chunks)]
    todo = [(s, c) for s, c in zip(stems, chunks) if not s.with_name(s.name + ".done").exists()]
    workers = workers or min(os.cpu_count() or 1, 4)
    bar = tqdm(total=len(items), initial=len(items) - sum(len(c) for _, c in todo), desc=desc, unit="item",
               disable=not progress)
    if workers <= 1 or len(todo) <= 1:
        for stem, chunk in todo:
            _save_chunk(stem, _process_chunk(reader, chunk))
            bar.update(len(chunk))
    else:
        with ProcessPoolExecutor(workers) as pool:
            futures = {pool.submit(_process_chunk, reader, chunk): (stem, chunk) for stem, chunk in todo}
            try:
                for fut in as_completed(futures):
                    stem, chunk = futures[fut]
                    _save_chunk(stem, fut.result())
                    bar.update(len(chunk))
            except BaseException:
                for fut in futures:
                    fut.cancel()
                raise
    bar.close()
    return stems


def assemble(stems, bars, mode="analysis", seed=0, source=""):
    """Join chunk results into one melody table and one errors table, applying the at-most-5 rule.

    Returns
    -------
    windows : DataFrame
        One row per window: the columns of ``WINDOW_COLUMNS`` plus ``events`` (per-row int8 arrays of
        length 16 * bars).
    errors : DataFrame
        One row per item (or tune) that gave no window: ``ERROR_COLUMNS``.
    """
    check_choice("bars", bars, BARS, "assemble")
    check_choice("mode", mode, MODES, "assemble")
    frames, errors = [], []
    for stem in stems:
        df, _ = load_table(stem.with_name(f"{stem.name}.bars{bars}.parquet"))
        frames.append(df)
        errors.append(load_table(stem.with_name(f"{stem.name}.bars{bars}.errors.parquet"))[0])
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    errs = pd.concat(errors, ignore_index=True) if errors else pd.DataFrame(columns=ERROR_COLUMNS[1:])
    errs.insert(0, "source", source)
    if table.empty:
        return pd.DataFrame(columns=WINDOW_COLUMNS + ["events"]), errs
    table = _sample_table(table, mode, seed)
    table.insert(0, "source", source)
    table["transposition"] = 0
    table["bars"] = bars
    return table[WINDOW_COLUMNS + ["events"]].reset_index(drop=True), errs


def _runs(codes):
    """Start indices of the runs of equal consecutive values in ``codes`` (1-D), plus the end."""
    return np.concatenate([[0], np.flatnonzero(np.diff(codes)) + 1, [len(codes)]])


def _sample_table(table, mode, seed):
    """Per piece (file and tune), Magenta's at-most-5 per section then per piece; adds ``window``.

    Rows arrive grouped by piece and, within a piece, by section (the order chunks are written in).
    """
    piece = pd.factorize(table["file"] + "\0" + table["tune"].astype(str))[0]
    section = table["section"].to_numpy()
    bounds = _runs(piece)
    keep, window = [], []
    for n, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
        cuts = _runs(section[lo:hi]) + lo
        sections = [[(i, None) for i in range(a, b)] for a, b in zip(cuts[:-1], cuts[1:])]
        picked = [i for i, _ in sample_windows(sections, mode, seed + n)]
        keep.extend(picked)
        window.extend(range(len(picked)))
    out = table.iloc[keep].copy()
    out["window"] = window
    return out


def require_windows(windows, errors, source):
    """Raise NoMelodiesError with the commonest reasons when a source gave no window at all."""
    if len(windows):
        return
    reasons = errors["reason"].value_counts().head(3) if len(errors) else pd.Series(dtype=int)
    detail = "; ".join(f"{r} ({c} items)" for r, c in reasons.items()) or "no readable file found"
    raise NoMelodiesError(f"{source}: no usable melody window ({detail})")
