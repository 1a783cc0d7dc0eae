"""Batch extraction over many files or tunes: cached per item, parallel, resumable, every failure recorded.

Every item (a MIDI file, a score file, a corpus tune) is read once and yields every unique window for
both 2 and 16 bars, in Magenta's order. Results are cached in a work directory as *chunks*: a Parquet file
holding the results of a batch of items plus a JSON manifest written last, naming the items (by a key of
their identity: path, size, modification time, tune) and the SHA-256 of the Parquet file. So:

- a rerun reuses every item found in a chunk and extracts the others alone (adding a file extracts that
  file; an interrupted run resumes), in new chunks;
- a chunk whose checksum fails (truncated, bit-flipped) is deleted with a notice and its items redone;
- chunks none of whose items are still wanted are removed (``complete=True``: the item list is the whole
  source), as are chunks whose every item was replaced by a changed version, and leftovers of dead runs;
- one item's failure, whatever the exception, becomes an error row with its reason, as does an item
  running past the time limit (enforced where the chunk runs in a process's main thread: the local
  executor, not Dask's worker threads);
- chunks run on an executor (:mod:`musicneurons.execute`): a local pool whose workers die with their
  parent and ignore Ctrl-C, or a Dask cluster; the parent handles Ctrl-C and SIGTERM alike
  (:mod:`musicneurons.interrupts`) by stopping them and leaving only finished chunks; a chunk that fails on
  every try (its worker died) is split into its items, each tried again, and an item that fails again is
  recorded as an error row with that reason.

The at-most-5 sampling is applied per piece while the chunks are read back in item order
(:func:`iter_assembled`), so one cache serves every mode and seed and memory stays flat.
"""

import functools
import hashlib
import io
import json
import os
import signal
import threading
import time
import uuid
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..contracts import PROVENANCE
from ..execute import ChunkFailure, LocalExecutor
from ..errors import MelodyError, NoMelodiesError, check_choice
from ..interrupts import sigterm_as_interrupt
from .events import STEPS_PER_BAR
from .extract import MODES, sample_windows, to_classes, unique_windows

__all__ = [
    "collect_windows",
    "assemble",
    "iter_assembled",
    "require_windows",
    "Collected",
    "printable",
    "BARS",
    "WINDOW_COLUMNS",
    "ERROR_COLUMNS",
    "TIME_LIMIT",
]

BARS = (2, 16)
CACHE_VERSION = 3
TIME_LIMIT = 120.0  # seconds per item
WINDOW_COLUMNS = PROVENANCE  # one list of window provenance columns, owned by the data contract
ERROR_COLUMNS = ["source", "file", "tune", "bars", "reason"]
_ORPHAN_AGE = 600.0  # seconds after which a chunk without a manifest counts as a dead run's leftover
_CHUNK_SCHEMA = pa.schema(
    [
        ("item", pa.int32()),
        ("tune", pa.string()),
        ("bars", pa.int8()),
        ("section", pa.int32()),
        ("instrument", pa.int32()),
        ("program", pa.int16()),
        ("tempo", pa.float64()),
        ("first_bar", pa.int64()),
        ("track", pa.string()),
        ("reason", pa.string()),
        ("events", pa.list_(pa.int8())),
    ]
)


def printable(text):
    """A str safe to store as UTF-8: undecodable bytes of a file name (surrogate escapes) become ``\\xNN``."""
    return str(text).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def item_key(item):
    """Identity of an item in the cache: a hash of its JSON (path, size, modification time, tune...)."""
    blob = json.dumps([CACHE_VERSION, item], sort_keys=True, default=str)  # ASCII: surrogates are escaped
    return hashlib.sha1(blob.encode()).hexdigest()[:20]


class Collected(list):
    """What :func:`collect_windows` returns and :func:`assemble` reads: one (item, chunk, index) per item.

    A list, in item order, of (item dict, chunk Parquet file, the item's index in that chunk); lists
    from several calls concatenate (``+``) into one source. ``notices`` says what was repaired (bad chunks
    redone, stale chunks removed).
    """

    def __init__(self, entries=(), notices=()):
        super().__init__(entries)
        self.notices = list(notices)


class _ItemTimeout(Exception):
    """Raised by the alarm when one item runs past the time limit."""


def _on_alarm(signum, frame):
    raise _ItemTimeout


def _with_time_limit(fn, limit):
    """Run ``fn()`` under a wall-clock limit (an alarm; only in a process's main thread, else unlimited)."""
    if not limit or threading.current_thread() is not threading.main_thread():
        return fn()
    old = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        return fn()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _reason(exc, limit):
    """The error row's reason for an exception raised while reading or extracting one item."""
    if isinstance(exc, MelodyError):
        return exc.reason
    if isinstance(exc, _ItemTimeout):
        return f"time limit: reading and extracting took longer than {limit:g} s"
    if isinstance(exc, MemoryError):
        return "out of memory while reading or extracting it"
    return f"failed with {type(exc).__name__}: {exc}"


def _item_rows(item_index, pieces, rows):
    """Append the rows of one item's pieces (both window lengths) to ``rows`` (dict of column lists)."""
    if not pieces:
        raise MelodyError("", "the file holds no tune")
    for tune, ns in pieces:
        for bars in BARS:
            sections, reason = unique_windows(ns, bars)
            if reason:
                _append(rows, item_index, tune, bars, reason=reason)
            for windows in sections:
                classes = to_classes([w for w, _ in windows])
                for row, (_, meta) in zip(classes, windows):
                    _append(
                        rows,
                        item_index,
                        tune,
                        bars,
                        events=row,
                        track=ns.track_names.get(meta["instrument"], ""),
                        **meta,
                    )


_NO_EVENTS = np.zeros(0, np.int8)


def _append(
    rows,
    item,
    tune,
    bars,
    section=0,
    instrument=0,
    program=0,
    tempo=0.0,
    first_bar=0,
    track="",
    reason=None,
    events=_NO_EVENTS,
):
    for name, value in (
        ("item", item),
        ("tune", printable(tune)),
        ("bars", bars),
        ("section", section),
        ("instrument", instrument),
        ("program", program),
        ("tempo", tempo),
        ("first_bar", first_bar),
        ("track", printable(track)),
        ("reason", None if reason is None else printable(reason)),
        ("events", events),
    ):
        rows[name].append(value)


def _read_into(reader, item, index, rows):
    _item_rows(index, reader(item), rows)


def _extract_items(reader, items, time_limit):
    """Read and extract ``items`` -> dict of column lists; a failing item becomes an error row per length."""
    rows = {name: [] for name in _CHUNK_SCHEMA.names}
    for k, item in enumerate(items):
        mark = len(rows["item"])
        try:
            _with_time_limit(functools.partial(_read_into, reader, item, k, rows), time_limit)
        except Exception as exc:  # noqa: BLE001 - one item's failure, whatever it is, must not end the batch
            for col in rows.values():
                del col[mark:]
            for bars in BARS:
                _append(rows, k, item.get("tune", ""), bars, reason=_reason(exc, time_limit))
    return rows


def _write_bytes(path, data):
    """Write ``data`` to ``path`` atomically (a temporary name with this process's id, then a rename)."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.partial")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _process_chunk(reader, items, keys, work_dir, time_limit):
    """Worker task: extract ``items`` and write their chunk (Parquet, then its manifest); returns its name."""
    rows = _extract_items(reader, items, time_limit)
    events = rows.pop("events")
    offsets = np.concatenate([[0], np.cumsum([len(e) for e in events])]).astype(np.int32)
    values = np.concatenate(events) if events else np.zeros(0, np.int8)
    columns = {**rows, "events": pa.ListArray.from_arrays(pa.array(offsets), pa.array(values, pa.int8()))}
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pydict(columns, schema=_CHUNK_SCHEMA), buf)
    data = buf.getvalue()
    name = f"chunk-{hashlib.sha1(''.join(keys).encode()).hexdigest()[:16]}"
    _write_bytes(Path(work_dir) / f"{name}.parquet", data)
    manifest = {
        "version": CACHE_VERSION,
        "items": keys,
        "sha256": hashlib.sha256(data).hexdigest(),
        "names": [(it.get("file"), str(it.get("tune", ""))) for it in items],
    }
    _write_bytes(Path(work_dir) / f"{name}.json", json.dumps(manifest).encode())
    return name


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_dead_partials(folder):
    """Delete ``*.PID.xxxxxxxx.partial`` files in ``folder`` whose writing process is gone."""
    for path in Path(folder).glob("*.partial"):
        parts = path.name.split(".")
        pid = int(parts[-3]) if len(parts) >= 3 and parts[-3].isdigit() else None
        if pid is None or not _pid_alive(pid):
            path.unlink(missing_ok=True)


def _read_manifest(path):
    try:
        manifest = json.loads(path.read_text())
        return manifest if manifest.get("version") == CACHE_VERSION else None
    except (OSError, ValueError):
        return None


def _verified_chunk(name, manifest, work_dir):
    """True when the chunk's Parquet file exists and matches the manifest's SHA-256."""
    try:
        data = (work_dir / f"{name}.parquet").read_bytes()
    except OSError:
        return False
    return hashlib.sha256(data).hexdigest() == manifest.get("sha256")


def _index_cache(work_dir, items, keys, complete):
    """Map wanted item keys to verified chunks; delete bad, stale and orphan chunks. -> (chunks, notices)."""
    wanted = set(keys)
    current = {(it.get("file"), str(it.get("tune", ""))) for it in items}
    chunks, notices = {}, []
    manifests = {p.stem: _read_manifest(p) for p in sorted(work_dir.glob("chunk-*.json"))}
    for name, manifest in manifests.items():
        if manifest is None:
            _delete_chunk(work_dir, name)
            continue
        used = [k for k in manifest["items"] if k in wanted]
        if not used and (complete or not _still_wanted(manifest, current)):
            _delete_chunk(work_dir, name)
            notices.append(f"removed stale cache chunk {name} ({len(manifest['items'])} items no longer wanted)")
            continue
        if not used:
            continue
        if not _verified_chunk(name, manifest, work_dir):
            _delete_chunk(work_dir, name)
            notices.append(
                f"cache chunk {name} failed its checksum (truncated or corrupted): "
                f"its {len(manifest['items'])} items are extracted again"
            )
            continue
        path = work_dir / f"{name}.parquet"
        for i, k in enumerate(manifest["items"]):
            if k in wanted:
                chunks.setdefault(k, (path, i))
    now = time.time()
    for path in work_dir.glob("chunk-*.parquet"):
        if path.stem not in manifests and now - path.stat().st_mtime > _ORPHAN_AGE:
            path.unlink(missing_ok=True)
    return chunks, notices


def _still_wanted(manifest, current):
    """A chunk of an incomplete item list stays unless each of its items was replaced by a changed one."""
    return any(tuple(n) not in current for n in manifest.get("names", []))


def _delete_chunk(work_dir, name):
    for suffix in (".json", ".parquet"):
        (work_dir / f"{name}{suffix}").unlink(missing_ok=True)


def collect_windows(
    items,
    reader,
    work_dir,
    chunk_size=32,
    workers=None,
    progress=True,
    desc="extracting",
    time_limit=TIME_LIMIT,
    complete=False,
    executor=None,
):
    """Run ``reader`` over the items not yet cached in ``work_dir``, in chunks, in worker processes.

    Parameters
    ----------
    items : list of dict
        One per file or tune, with at least ``file`` (and ``tune`` for tunes); the JSON of the dict
        identifies the item in the cache, so include its size and modification time.
    reader : callable
        ``reader(item) -> list of (tune key, NoteSequence)``; raises MelodyError for a bad item (any other
        exception is recorded too). Must be a module-level function (it runs in worker processes).
    work_dir : Path
        Cache of finished chunks (in its subfolder ``v<CACHE_VERSION>``).
    chunk_size : int
        Items per new chunk.
    workers : int, optional
        Worker processes of the local pool (default: the CPU count, at most 4); 1 runs in this process.
    executor : Executor, optional
        Where the chunks run (:mod:`musicneurons.execute`); default ``LocalExecutor(workers)``. Every
        worker must see ``work_dir`` and the items' paths.
    time_limit : float or None
        Seconds one item may take before it is recorded as failed (None: no limit).
    complete : bool
        True when ``items`` is the whole source: chunks holding none of them are deleted.

    Returns
    -------
    Collected
        For :func:`assemble` / :func:`iter_assembled`.
    """
    from ..progress import progress_bar

    work_dir = Path(work_dir) / f"v{CACHE_VERSION}"  # another format version keeps its own files
    work_dir.mkdir(parents=True, exist_ok=True)
    remove_dead_partials(work_dir)
    keys = [item_key(it) for it in items]
    chunks, notices = _index_cache(work_dir, items, keys, complete)
    for message in notices:
        _notice(message)
    todo = [(k, it) for k, it in zip(keys, items) if k not in chunks]
    todo = list(OrderedDict(todo).items())  # one task per distinct item
    batches = [todo[i : i + chunk_size] for i in range(0, len(todo), chunk_size)]
    bar = progress_bar(progress=progress, total=len(items), initial=len(items) - len(todo), desc=desc, unit="item")
    executor = executor or LocalExecutor(workers)
    try:
        with sigterm_as_interrupt():
            for batch, name in _run(reader, batches, work_dir, executor, time_limit):
                for i, (k, _) in enumerate(batch):
                    chunks[k] = (work_dir / f"{name}.parquet", i)
                bar.update(len(batch))
    finally:
        bar.close()
        remove_dead_partials(work_dir)
    return Collected([(it, *chunks[k]) for it, k in zip(items, keys)], notices)


def _notice(message):
    from ..rundir import notice

    notice(message)


def _batch_task(reader, work_dir, time_limit, batch):
    """Chunk function of the execution layer: one batch of (key, item) -> the name of the chunk it wrote."""
    return _process_chunk(reader, [it for _, it in batch], [k for k, _ in batch], work_dir, time_limit)


def _run(reader, batches, work_dir, executor, time_limit):
    """Process ``batches`` of (key, item) on ``executor``; yields (batch, chunk name) as each chunk is written.

    A batch that fails on every try (its worker died, say) is split into its items, each run again; an item
    that fails then too is written as an error row with the failure's reason, so nothing is lost.
    """
    task = functools.partial(_batch_task, reader, work_dir, time_limit)
    failed = []
    for batch, name in executor.map_chunks(task, batches):
        if isinstance(name, ChunkFailure):
            failed += [[entry] for entry in batch] if len(batch) > 1 else [batch]
        else:
            yield batch, name
    for one, name in executor.map_chunks(task, failed) if failed else ():
        if isinstance(name, ChunkFailure):
            name = _batch_task(functools.partial(_failed_reader, name.reason), work_dir, None, one)
        yield one, name


def _failed_reader(reason, item):
    raise MelodyError(item.get("file", ""), f"failed on every try: {reason}")


class _ChunkCache:
    """The last few chunks read back, each as numpy columns grouped by item."""

    def __init__(self, size=4):
        self.size, self.loaded = size, OrderedDict()

    def rows(self, path, index):
        """Columns (dict of arrays) of the rows of item ``index`` of the chunk at ``path``."""
        if path not in self.loaded:
            self.loaded[path] = self._load(path)
            if len(self.loaded) > self.size:
                self.loaded.popitem(last=False)
        cols = self.loaded[path]
        lo, hi = np.searchsorted(cols["item"], [index, index + 1])
        return {name: col[lo:hi] for name, col in cols.items()}

    @staticmethod
    def _load(path):
        table = pq.read_table(path)
        cols = {
            name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names if name != "events"
        }
        events = table.column("events").combine_chunks()
        lengths = np.diff(events.offsets.to_numpy())
        cols["events"] = np.split(events.values.to_numpy(), np.cumsum(lengths)[:-1]) if len(events) else []
        cols["events"] = np.array(list(cols["events"]) + [None], dtype=object)[:-1]
        return cols


def iter_assembled(collected, bars, mode="analysis", seed=0, source="", batch_rows=20_000):
    """Read the chunks back in item order, applying Magenta's at-most-5 rule per piece as they come.

    Yields
    ------
    scalars : DataFrame
        ``WINDOW_COLUMNS`` of up to about ``batch_rows`` windows.
    events : ndarray of shape (n, 16 * bars), dtype=int8
        Their windows.
    errors : DataFrame
        ``ERROR_COLUMNS`` of the items of this batch that gave no window.
    """
    check_choice("bars", bars, BARS, "assemble")
    check_choice("mode", mode, MODES, "assemble")
    cache = _ChunkCache()
    parts, errors, n_rows, piece = [], [], 0, 0
    for item, path, index in collected:
        cols = cache.rows(path, index)
        mine = cols["bars"] == bars
        cols = {name: col[mine] for name, col in cols.items()}
        failed = np.array([r is not None for r in cols["reason"]], bool)
        name = printable(item["file"])
        errors.extend(
            {"file": name, "tune": t, "bars": bars, "reason": r}
            for t, r in zip(cols["tune"][failed], cols["reason"][failed])
        )
        ok = {n: c[~failed] for n, c in cols.items()}
        for lo, hi in _runs_of(ok["tune"]):
            picked = _sample_piece(ok["section"][lo:hi], mode, seed + piece) + lo
            piece += 1
            parts.append((name, {n: c[picked] for n, c in ok.items()}))
            n_rows += len(picked)
        if n_rows >= batch_rows:
            yield _batch(parts, errors, bars, source)
            parts, errors, n_rows = [], [], 0
    if parts or errors or not collected:
        yield _batch(parts, errors, bars, source)


def _runs_of(values):
    """(start, end) of the runs of equal consecutive values in a 1-D array."""
    if len(values) == 0:
        return []
    cuts = np.concatenate([[0], np.flatnonzero(values[1:] != values[:-1]) + 1, [len(values)]])
    return list(zip(cuts[:-1], cuts[1:]))


def _sample_piece(section, mode, seed):
    """Indices (into one piece's rows, grouped by section) kept by the at-most-5 rule."""
    groups = [[(i, None) for i in range(lo, hi)] for lo, hi in _runs_of(section)]
    return np.array([i for i, _ in sample_windows(groups, mode, seed)], np.int64)


def _batch(parts, errors, bars, source):
    """Assembled pieces -> (scalars DataFrame, events ndarray, errors DataFrame)."""
    width = STEPS_PER_BAR * bars
    n = [len(cols["tune"]) for _, cols in parts]
    cat = {
        name: np.concatenate([cols[name] for _, cols in parts]) if parts else np.zeros(0)
        for name in ("tune", "track", "program", "instrument", "section", "first_bar", "tempo")
    }
    events = (
        np.stack([e for _, cols in parts for e in cols["events"]]).astype(np.int8)
        if sum(n)
        else np.zeros((0, width), np.int8)
    )
    scalars = pd.DataFrame(
        {
            "source": source,
            "file": np.repeat([f for f, _ in parts], n).astype(object) if parts else [],
            "tune": cat["tune"].astype(object),
            "track": cat["track"].astype(object),
            "program": cat["program"].astype(np.int64),
            "instrument": cat["instrument"].astype(np.int64),
            "section": cat["section"].astype(np.int64),
            "first_bar": cat["first_bar"].astype(np.int64),
            "tempo": cat["tempo"].astype(np.float64),
            "transposition": 0,
            "window": np.concatenate([np.arange(k) for k in n]) if parts else np.zeros(0, np.int64),
            "bars": bars,
        },
        columns=WINDOW_COLUMNS,
    )
    return scalars, events, pd.DataFrame(errors, columns=ERROR_COLUMNS[1:]).assign(source=source)[ERROR_COLUMNS]


def assemble(collected, bars, mode="analysis", seed=0, source=""):
    """Join the cached results into one melody table and one errors table, applying the at-most-5 rule.

    Returns
    -------
    windows : DataFrame
        One row per window: the columns of ``WINDOW_COLUMNS`` plus ``events`` (per-row int8 arrays of
        length 16 * bars).
    errors : DataFrame
        One row per item (or tune) that gave no window: ``ERROR_COLUMNS``.
    """
    batches = list(iter_assembled(collected, bars, mode, seed, source))
    table = pd.concat([b[0] for b in batches], ignore_index=True)
    table["events"] = list(np.concatenate([b[1] for b in batches])) if len(table) else []
    errors = pd.concat([b[2] for b in batches], ignore_index=True)
    return table, errors


def require_windows(windows, errors, source):
    """Raise NoMelodiesError with the commonest reasons when a source gave no window at all."""
    if len(windows):
        return
    reasons = errors["reason"].value_counts().head(3) if len(errors) else pd.Series(dtype=int)
    detail = "; ".join(f"{r} ({c} items)" for r, c in reasons.items()) or "no readable file found"
    raise NoMelodiesError(f"{source}: no usable melody window ({detail})")
