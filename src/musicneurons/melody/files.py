"""Melody windows of the user's own files: a MIDI, MusicXML, ABC or kern file, or a folder of them.

Folders are searched recursively. Results are cached per chunk of files under the cache root (see
:func:`musicneurons.melody.corpus.cache_dir`), keyed by each file's path, size and modification time, so
an interrupted run resumes where it stopped and an unchanged folder is read back in seconds.
"""

import hashlib
from pathlib import Path

from ..errors import MelodyError, MidiFileError
from .collect import assemble, collect_windows, require_windows
from .corpus import cache_dir
from .sources import MIDI_SUFFIXES, SCORE_SUFFIXES, is_midi, read_midi, read_score

__all__ = ["file_items", "read_item", "read_melodies"]


def file_items(source):
    """Items for :func:`collect_windows`: every MIDI or score file at ``source`` (a file or a folder)."""
    root = Path(source)
    if not root.exists():
        raise MelodyError(root, "no such file or folder")
    suffixes = MIDI_SUFFIXES + SCORE_SUFFIXES
    paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.suffix.lower() in suffixes and p.is_file())
    base = root.parent if root.is_file() else root
    items = []
    for p in paths:
        stat = p.stat()
        items.append({"file": str(p.relative_to(base)), "path": str(p.resolve()), "size": stat.st_size,
                      "mtime": stat.st_mtime_ns})
    return items


def read_item(item):
    """Reader of one file item: list of (tune key, NoteSequence); MelodyError subclasses for bad files."""
    if item["size"] == 0:
        raise MelodyError(item["file"], "empty file (0 bytes)")
    if is_midi(item["path"]):
        try:
            return [("", read_midi(item["path"], name=item["file"]))]
        except MidiFileError as exc:
            raise MidiFileError(item["file"], exc.reason) from None
    return read_score(item["path"])


def read_melodies(source, bars=2, mode="analysis", seed=0, workers=None, progress=True):
    """Windows of a file or folder, one row per window, plus the errors table.

    Parameters
    ----------
    source : str or Path
        A MIDI (.mid, .midi, .kar), MusicXML (.xml, .musicxml, .mxl), ABC or kern file, or a folder
        searched recursively for them.
    bars : {2, 16}
    mode : {'analysis', 'training', 'all'}
    seed : int

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
    items = file_items(source)
    key = hashlib.sha1(str(Path(source).resolve()).encode()).hexdigest()[:16]
    stems = collect_windows(items, read_item, cache_dir() / "files" / key, workers=workers, progress=progress,
                            desc="reading files")
    windows, errors = assemble(stems, bars, mode, seed, source=str(source))
    require_windows(windows, errors, str(source))
    return windows, errors
