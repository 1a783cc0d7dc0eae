"""The run directory: every stage's path, content key and completion marker, verified on reuse, and a lock.

A stage output (a table, a JSON file or a folder) is complete when its **marker** ``NAME.done.json``
beside it records the stage's content key, the output's row count and the size and SHA-256 of every
file. A rerun reuses the output only when the key is the current one and every file still matches;
anything else is recomputed, with a one-line notice when an output was there but failed verification
(truncated, emptied, edited). Every file is written atomically (a temporary name, fsync, rename), and
a marker is written last, so a kill at any moment leaves either a complete output or none.

Keys are built from content: :func:`content_key` of settings and upstream keys, :func:`folder_key`
of a data folder (every file's relative path, size and SHA-256, hashed again only when its size or
times change), :func:`file_key` of a single input file. A change of input therefore recomputes exactly
what depends on it, and a ``touch`` recomputes nothing.

A run directory is used by one process at a time: :meth:`RunDirectory.lock` takes ``OUT/.lock``
(an advisory ``flock`` held for the run, released by the kernel when the process dies, so a lock file
left by a killed run is taken over with a notice) and refuses a second run at once.

Typical use, one stage::

    run = RunDirectory("study")
    with run.lock():
        entry = run.entry("bars2/latents_real.parquet", key)
        if not entry.verified():
            write_latents(entry.path)          # any atomic writer
            entry.complete(rows=n)
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sys
import time
import uuid
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from .errors import OutputError, RunLockedError, TableError, printable

__all__ = [
    "RunDirectory",
    "Entry",
    "ChunkStore",
    "content_key",
    "folder_key",
    "file_key",
    "sha256_file",
    "write_json",
    "write_text",
    "read_json",
    "atomic_path",
    "notice",
    "check_writable_folder",
    "check_marker",
    "enclosing_run",
    "output_lock",
    "PARTIAL_SUFFIX",
    "MARKER_SUFFIX",
]

PARTIAL_SUFFIX = ".partial"
MARKER_SUFFIX = ".done.json"
LOCK_NAME = ".lock"
_HASH_BLOCK = 1 << 20


def notice(message: str) -> None:
    """Print a one-line notice to stderr (e.g. ``recomputing bars2/latents_real.parquet: ...``), control characters escaped."""
    print(f"musicneurons: {printable(message)}", file=sys.stderr, flush=True)


def content_key(*parts: Any) -> str:
    """Short content key (16 hex digits) of JSON-able parts: settings, upstream keys, versions."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha1(blob).hexdigest()[:16]


def folder_key(root: str | Path, suffixes: tuple[str, ...] | None = None, *, hashes: str | Path | None = None) -> str:
    """Content key of a data folder (or a single file): every file's relative path, size and SHA-256.

    Parameters
    ----------
    root : str or Path
        A folder, searched recursively, or one file.
    suffixes : tuple of str, optional
        Only files whose lower-cased suffix is one of these count (e.g. the readable music formats);
        default every file.
    hashes : str or Path, optional
        A JSON file that remembers each file's SHA-256 with the size, modification time, change time and
        inode it was computed at; a file is hashed again only when one of them differs. Default: every
        file is hashed.

    Returns
    -------
    str
        16 hex digits; adding, removing, renaming or editing a counted file changes it (an edit that keeps
        the size and restores the modification time too: the change time still moves), a ``touch`` does not.
    """
    root = Path(root)
    paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    base = root.parent if root.is_file() else root
    known = read_json(hashes) if hashes is not None else None
    known = known if isinstance(known, dict) else {}
    seen, rows = {}, []
    for p in paths:
        if suffixes is not None and p.suffix.lower() not in suffixes:
            continue
        stat = p.stat()
        name = str(p.resolve())
        state = [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]
        record = known.get(name)
        digest = record[1] if isinstance(record, list) and len(record) == 2 and record[0] == state else sha256_file(p)
        seen[name] = [state, digest]
        rows.append((p.relative_to(base).as_posix(), stat.st_size, digest))
    if hashes is not None and seen != known:
        write_json(hashes, seen)
    return content_key("folder", rows)


def file_key(path: str | Path) -> str:
    """Content key of one input file: its SHA-256 (so a copy or a touch keeps the key)."""
    return content_key("file", sha256_file(Path(path)))


def sha256_file(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, as 64 hex digits (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is fsynced and renamed to ``path``.

    The temporary name is unique per writer, so two processes filling one cache never rename each
    other's file; on an exception it is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}{PARTIAL_SUFFIX}")
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; returns the path."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: str | Path, obj: Any) -> Path:
    """Write ``obj`` as indented JSON atomically (numpy scalars become Python numbers); returns the path."""
    return write_text(path, json.dumps(obj, indent=2, default=_json_default))


def read_json(path: str | Path) -> Any:
    """Read a JSON file; ``None`` when it is missing, empty or not valid JSON."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


class Entry:
    """One stage output of a run directory: its path, its key and its completion marker.

    Parameters
    ----------
    path : Path
        The output: a file (table, JSON) or a folder (figures and tables of one stage).
    key : str
        Content key of everything the output was made from.
    name : str
        How notices call it (its path relative to the run directory).
    """

    def __init__(self, path: Path, key: str, name: str | None = None) -> None:
        self.path = Path(path)
        self.key = key
        self.name = name or str(self.path)
        self.marker = self.path.with_name(self.path.name + MARKER_SUFFIX)

    def files(self) -> list[Path]:
        """The output's files: the file itself, or every file under the folder (markers excluded)."""
        if self.path.is_dir():
            return sorted(p for p in self.path.rglob("*") if p.is_file() and not p.name.endswith(PARTIAL_SUFFIX))
        return [self.path] if self.path.exists() else []

    def verified(self, announce: bool = True) -> bool:
        """True when the marker has the current key and every recorded file matches it.

        A marker with an older key means the inputs changed: silently recomputed. An output whose
        marker has the current key but whose files fail the check is announced with a one-line notice.
        """
        record = read_json(self.marker)
        if not isinstance(record, dict) or record.get("key") != self.key:
            if announce and self.path.exists() and record is None and self.marker.exists():
                notice(f"recomputing {self.name}: its completion marker is unreadable")
            return False
        if record.get("failed"):  # finished with failed chunks: a rerun retries them
            return False
        problem = self._problem(record)
        if problem and announce:
            notice(f"recomputing {self.name}: {problem}")
        return problem is None

    def _problem(self, record: dict) -> str | None:
        """Why the output fails its marker, or None."""
        recorded = record.get("files")
        if not isinstance(recorded, dict):
            return "its completion marker lists no files"
        base = self.path if record.get("folder") else self.path.parent
        for rel, (size, digest) in recorded.items():
            p = base / rel
            if not p.is_file():
                return f"{rel} is missing"
            if p.stat().st_size != size:
                return f"{rel} has {p.stat().st_size} bytes, {size} when written"
            if sha256_file(p) != digest:
                return f"{rel} fails its checksum"
        return None

    def complete(self, rows: int | None = None, **info: Any) -> dict:
        """Write the marker: key, row count, and the size and SHA-256 of every output file.

        Parameters
        ----------
        rows : int, optional
            Rows of the output (windows of a table); for the record and for readers.
        **info
            Small JSON-able facts about the output (kept in the marker, returned by :meth:`record`).

        Returns
        -------
        dict
            The marker's content.
        """
        folder = self.path.is_dir()
        base = self.path if folder else self.path.parent
        files = {p.relative_to(base).as_posix(): [p.stat().st_size, sha256_file(p)] for p in self.files()}
        if not files:
            raise OutputError(f"{self.name}: the stage wrote no output at {self.path}")
        record = {"key": self.key, "rows": rows, "folder": folder, "files": files, "written": time.time(), **info}
        write_json(self.marker, record)
        return record

    def failed(self) -> list[dict]:
        """The chunks of the output that failed on every try (``chunk``, ``first_row``, ``rows``, ``reason``)."""
        return list(self.record().get("failed") or [])

    def result_key(self) -> str:
        """The key downstream stages build on: :attr:`key`, changed while some of its chunks have failed."""
        failed = self.failed()
        return content_key(self.key, "failed", [f["chunk"] for f in failed]) if failed else self.key

    def record(self) -> dict:
        """The marker's content ({} when there is none)."""
        record = read_json(self.marker)
        return record if isinstance(record, dict) else {}

    def invalidate(self) -> None:
        """Remove the marker (the output will be recomputed)."""
        self.marker.unlink(missing_ok=True)

    def clear(self) -> None:
        """Remove the marker and the output (a folder with everything in it), before making it anew."""
        import shutil

        self.invalidate()
        if self.path.is_dir():
            shutil.rmtree(self.path)
        else:
            self.path.unlink(missing_ok=True)

    def ensure(self, make: Callable[[Path], int | None], **info: Any) -> bool:
        """Make the output unless it verifies: ``make(path) -> rows``, then :meth:`complete`.

        Returns
        -------
        bool
            True when the output was (re)made, False when reused.
        """
        if self.verified():
            return False
        self.clear()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        rows = make(self.path)
        self.complete(rows, **info)
        return True

    def chunks(self) -> ChunkStore:
        """The chunk store of this output (``NAME.parts/KEY/``), for stages that resume chunk by chunk."""
        return ChunkStore(self.path.with_name(self.path.name + ".parts") / self.key, self.name)


def check_marker(path: str | Path) -> Path:
    """Check an input table against the completion marker beside it, when it has one.

    A table that a run or a command wrote has ``NAME.done.json`` beside it with its size and SHA-256;
    one given by hand to a command is checked against it, so a damaged or edited table is refused rather
    than analysed. A table without a (readable) marker is not checked.

    Raises
    ------
    TableError
        Naming the table: its bytes differ from those its marker records.
    """
    entry = Entry(Path(path), "")
    record = read_json(entry.marker)
    if isinstance(record, dict) and entry.path.is_file():
        problem = entry._problem(record)
        if problem:
            raise TableError(path, f"{problem} against {entry.marker.name} (damaged or changed after it was written)")
    return entry.path


class ChunkStore:
    """Finished chunks of a chunked stage, one ``.npz`` file each, written atomically.

    A chunk that cannot be read back (truncated, corrupt: the zip format checks each member's CRC)
    counts as missing and is recomputed with a notice.

    Parameters
    ----------
    directory : Path
        ``NAME.parts/KEY``: chunks of other keys (older inputs) are never mixed in.
    name : str
        The stage's name, for notices.
    """

    def __init__(self, directory: Path, name: str) -> None:
        self.directory = Path(directory)
        self.name = name

    def _path(self, index: int) -> Path:
        return self.directory / f"part-{index:06d}.npz"

    def get(self, index: int) -> dict[str, np.ndarray] | None:
        """The arrays of chunk ``index``, or None when it is not (validly) there."""
        path = self._path(index)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                return {k: data[k] for k in data.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
            notice(f"recomputing chunk {index} of {self.name}: {type(exc).__name__}")
            path.unlink(missing_ok=True)
            return None

    def has(self, index: int) -> bool:
        """True when chunk ``index`` has been written (whether it reads back is :meth:`get`'s check)."""
        return self._path(index).is_file()

    def put(self, index: int, **arrays: np.ndarray) -> None:
        """Save chunk ``index`` atomically."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with atomic_path(self._path(index)) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds as allow_pickle

    def clear(self) -> None:
        """Remove every chunk of this output (all keys), once the output is complete."""
        import shutil

        shutil.rmtree(self.directory.parent, ignore_errors=True)


class RunDirectory:
    """A run directory: stage entries under one root, and the lock of the run.

    Parameters
    ----------
    root : str or Path
        The folder; created (with its parents) if missing.

    Raises
    ------
    OutputError
        When ``root`` is a file, cannot be created, or is not writable.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        check_writable_folder(self.root, "--out")

    def entry(self, relpath: str, key: str) -> Entry:
        """The :class:`Entry` of the output at ``root/relpath`` made with content ``key``."""
        return Entry(self.root / relpath, key, relpath)

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold ``root/.lock`` for the duration; a second holder is refused at once.

        Raises
        ------
        RunLockedError
            When another live process holds the lock.
        """
        import fcntl

        path = self.root / LOCK_NAME
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _lock_holder(fd)
                raise RunLockedError(
                    f"{self.root} is in use by another musicneurons run{holder}; wait for it to "
                    f"finish or choose another --out"
                ) from None
            previous = _lock_holder(fd)
            if previous:
                notice(f"taking over the lock of {self.root} left by a run that stopped{previous}")
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(
                fd,
                json.dumps(
                    {
                        "pid": os.getpid(),
                        "host": socket.gethostname(),
                        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    }
                ).encode(),
            )
            try:
                yield
            finally:
                os.ftruncate(fd, 0)
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def enclosing_run(path: str | Path) -> Path | None:
    """The run directory that ``path`` lies in (or is), or None.

    A run directory is the nearest folder at or above ``path`` with a ``.lock`` file that a run wrote: it
    holds ``bars2/``, ``bars16/`` or ``summary.json``, or the lock names a live or stopped run.
    """
    path = Path(path).resolve()
    for folder in (path, *path.parents):
        lock = folder / LOCK_NAME
        if lock.is_file() and (
            any((folder / name).exists() for name in ("bars2", "bars16", "summary.json")) or _names_a_run(lock)
        ):
            return folder
    return None


def _names_a_run(lock: Path) -> bool:
    """True when a lock file holds what :meth:`RunDirectory.lock` writes (a pid)."""
    try:
        info = json.loads(lock.read_text(encoding="utf-8")[:4096] or "null")
    except (OSError, ValueError):
        return False
    return isinstance(info, dict) and "pid" in info


@contextmanager
def output_lock(path: str | Path) -> Iterator[Path | None]:
    """Hold the lock of the run directory ``path`` lies in while a command writes there.

    Every command that writes a file or folder (``--out``) takes it, so nothing is written into a run
    directory while a run uses it; outside a run directory nothing is locked.

    Yields
    ------
    Path or None
        The run directory whose lock is held, or None.

    Raises
    ------
    RunLockedError
        When a live run (or another command) holds that lock.
    """
    root = enclosing_run(path)
    if root is None:
        yield None
        return
    with RunDirectory(root).lock():
        yield root


def _lock_holder(fd: int) -> str:
    """`` (pid N on HOST since T)`` from a lock file's content, or ``''``."""
    os.lseek(fd, 0, os.SEEK_SET)
    try:
        info = json.loads(os.read(fd, 4096).decode() or "null")
    except ValueError:
        return ""
    if not isinstance(info, dict):
        return ""
    return f" (pid {info.get('pid')} on {info.get('host')} since {info.get('started')})"


def check_writable_folder(folder: str | Path, option: str) -> Path:
    """Create ``folder`` if needed and check that files can be written in it.

    Parameters
    ----------
    folder : str or Path
    option : str
        The option or setting that named it, for the message (``--out``, ``MUSICNEURONS_CACHE``).

    Raises
    ------
    OutputError
        Naming ``option`` and the folder: it is a file, cannot be created, or is not writable.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{option} {folder}: is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test.{os.getpid()}{PARTIAL_SUFFIX}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise OutputError(f"{option} {folder}: cannot write there ({exc.strerror or exc})") from None
    return folder
