"""Melody windows of the user's own files: a MIDI, MusicXML, ABC or kern file, or a folder of them.

Folders are searched recursively. Results are cached per chunk of files under the cache root (see
:func:`musicneurons.melody.corpus.cache_dir`), keyed by each file's path, size and modification time, so
an interrupted run resumes where it stopped and an unchanged folder is read back in seconds.
"""

import hashlib
import os
import stat
from pathlib import Path

from ..errors import MelodyError, MidiFileError, NoMelodiesError
from .collect import assemble, collect_windows, iter_assembled, printable, require_windows
from .corpus import cache_dir
from .sources import MIDI_SUFFIXES, SCORE_SUFFIXES, is_midi, read_midi, read_score

__all__ = ["file_items", "read_item", "read_melodies", "write_file_melodies", "MAX_FILE_BYTES"]


MAX_FILE_BYTES = 64 * 2**20  # larger "MIDI" files are refused unread (Lakh's largest is a few MB)


def _kind(path):
    """What a path that is not a regular file is, in words (a directory, a FIFO, a link loop...)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return "a broken symbolic link or a symbolic-link loop" if os.path.islink(path) else "unreadable"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    return "a socket or device" if stat.S_ISSOCK(mode) or stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a file"


def _walk(root, suffixes):
    """Paths under ``root`` (recursive, not following links to folders) whose suffix is in ``suffixes``."""
    found = []
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in dirs + names:
            if os.path.splitext(name)[1].lower() in suffixes:
                found.append(Path(folder) / name)
    return sorted(found)


def file_items(source):
    """Items for :func:`collect_windows`: every MIDI or score file at ``source`` (a file or a folder).

    Each item holds ``file`` (the path relative to the source; names that are not UTF-8 keep their bytes
    as surrogate escapes), ``path``, ``size`` and ``mtime``; a path with a music suffix that is not a
    regular file (a directory named ``x.mid``, a FIFO, a broken link) gets a ``skip`` reason instead.
    """
    root = Path(source)
    if not root.exists():
        raise MelodyError(root, "no such file or folder")
    suffixes = MIDI_SUFFIXES + SCORE_SUFFIXES
    paths = [root] if not root.is_dir() else _walk(root, suffixes)
    base = root.parent if not root.is_dir() else root
    items = []
    for p in paths:
        item = {"file": str(p.relative_to(base)), "path": str(p.absolute())}
        st = os.stat(p) if os.path.isfile(p) else None
        if st is None:
            item["skip"] = f"skipped: {_kind(p)}, not a regular file"
        else:
            item.update(size=st.st_size, mtime=st.st_mtime_ns)
        items.append(item)
    return items


def read_item(item):
    """Reader of one file item: list of (tune key, NoteSequence); MelodyError subclasses for bad files."""
    if "skip" in item:
        raise MelodyError(item["file"], item["skip"])
    if item["size"] == 0:
        raise MelodyError(item["file"], "empty file (0 bytes)")
    if item["size"] > MAX_FILE_BYTES:
        raise MelodyError(
            item["file"], f"file too large ({item['size'] / 2**20:.0f} MB; the limit is {MAX_FILE_BYTES // 2**20} MB)"
        )
    if not os.path.isfile(item["path"]):  # replaced since it was listed
        raise MelodyError(item["file"], f"skipped: {_kind(item['path'])}, not a regular file")
    if is_midi(item["path"]):
        try:
            return [("", read_midi(item["path"], name=item["file"]))]
        except MidiFileError as exc:
            raise MidiFileError(item["file"], exc.reason) from None
    return read_score(item["path"])


def _collect(source, workers, progress, executor=None):
    items = file_items(source)
    key = hashlib.sha1(os.fsencode(Path(source).absolute())).hexdigest()[:16]
    return collect_windows(
        items,
        read_item,
        cache_dir() / "files" / key,
        workers=workers,
        progress=progress,
        desc="reading files",
        complete=True,
        executor=executor,
    )


def read_melodies(source, bars=2, mode="analysis", seed=0, workers=None, progress=True, executor=None):
    """Windows of a file or folder, one row per window, plus the errors table.

    Parameters
    ----------
    source : str or Path
        A MIDI (.mid, .midi, .kar), MusicXML (.xml, .musicxml, .mxl), ABC or kern file, or a folder
        searched recursively for them.
    bars : {2, 16}
    mode : {'analysis', 'training', 'all'}
    seed : int
    workers : int, optional
        Processes of the local pool (default: CPU count, at most 4).
    progress : bool
    executor : Executor, optional
        Where the files are read (:mod:`musicneurons.execute`; default the local pool).

    Returns
    -------
    windows : DataFrame
        Melody table (``events``: int8 arrays of length 16 * bars).
    errors : DataFrame
        One row per file (or tune) that gave no window, with the reason.

    Raises
    ------
    NoMelodiesError
        When nothing usable came out of the whole source.
    """
    windows, errors = assemble(
        _collect(source, workers, progress, executor), bars, mode, seed, source=printable(source)
    )
    require_windows(windows, errors, str(source))
    return windows, errors


def write_file_melodies(source, out, bars=2, mode="analysis", seed=0, workers=None, progress=True, metadata=None):
    """Like :func:`read_melodies`, but streamed into the melody table ``out`` (and its errors table).

    Memory stays flat whatever the number of files. Returns (n_windows, n_pieces, FailureTally); raises
    NoMelodiesError, leaving no table, when nothing usable came out.
    """
    from .tables import errors_path, write_melodies

    collected = _collect(source, workers, progress)
    name = printable(source)
    n_windows, n_pieces, failures = write_melodies(out, iter_assembled(collected, bars, mode, seed, name), metadata)
    if not n_windows:
        for path in (Path(out), errors_path(out)):
            path.unlink(missing_ok=True)
        detail = "; ".join(f"{kind} ({n} items)" for kind, n, _ in failures.rows()[:3]) or "no readable file found"
        raise NoMelodiesError(f"{name}: no usable melody window ({detail})")
    return n_windows, n_pieces, failures
