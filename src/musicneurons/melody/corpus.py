"""The embedded default data: folk tunes of the music21 corpus, in 4/4 or 2/2, as melody windows.

Collections: Essen (``essenFolksong``), O'Neill's 1850, Ryan's Mammoth, Aird's Airs, ``miscFolk`` and the
two Nottingham tunes music21 ships; about 3,600 single-line tunes. The tune list ships with the package
(``data/folk_corpus_index.json``, made by ``scripts/make_corpus_index.py``); the tunes themselves are read
from the installed music21 and parsed once into a cache outside the repository
(``$MUSICNEURONS_CACHE`` or ``~/.cache/musicneurons``). The Essen collection is licensed for
non-commercial use only.
"""

import json
import os
from importlib import resources
from pathlib import Path

from .collect import assemble, collect_windows, require_windows
from .sources import read_score

__all__ = ["FOLK_COLLECTIONS", "corpus_tunes", "corpus_melodies", "cache_dir", "CORPUS_SOURCE"]

FOLK_COLLECTIONS = ["essenFolksong", "oneills1850", "ryansMammoth", "airdsAirs", "miscFolk", "nottingham-dataset"]
CORPUS_SOURCE = "music21-folk"


def cache_dir():
    """Root of musicneurons' caches: ``$MUSICNEURONS_CACHE`` or ``~/.cache/musicneurons``."""
    return Path(os.environ.get("MUSICNEURONS_CACHE", Path.home() / ".cache" / "musicneurons"))


def corpus_tunes(max_tunes=None, collections=None):
    """The selected corpus tunes as items for :func:`collect_windows`: dicts with ``file``, ``tune``, ``number``.

    ``max_tunes`` takes an evenly spread subset (every k-th tune), so a small slice still spans every
    collection.
    """
    index = json.loads(resources.files("musicneurons.data").joinpath("folk_corpus_index.json").read_text())
    tunes = [t for t in index["tunes"] if collections is None or t[0].split("/")[0] in collections]
    if max_tunes is not None and max_tunes < len(tunes):
        step = len(tunes) / max_tunes
        tunes = [tunes[int(i * step)] for i in range(max_tunes)]
    return [{"file": f, "tune": str(n if n is not None else ""), "number": n} for f, n in tunes]


def read_corpus_tune(item):
    """Reader of one corpus tune: list with one (tune key, NoteSequence)."""
    from music21 import common

    path = Path(common.getCorpusFilePath()) / item["file"]
    return [(item["tune"], ns) for _, ns in read_score(path, number=item["number"])]


def corpus_melodies(bars=2, mode="analysis", seed=0, max_tunes=None, collections=None, workers=None,
                    progress=True, with_errors=False):
    """Melody windows of the embedded folk corpus (see :func:`musicneurons.melody.collect.assemble`).

    Parameters
    ----------
    bars : {2, 16}
    mode : {'analysis', 'training', 'all'}
        At most 5 windows a tune (the first ones, or seeded random), or every unique window.
    max_tunes : int, optional
        An evenly spread slice of the tune list, for quick runs and tests.

    Returns
    -------
    DataFrame, or (DataFrame, DataFrame) with ``with_errors``
        One row per window; ``events`` holds int8 arrays of length 16 * bars.
    """
    import music21

    items = corpus_tunes(max_tunes, collections)
    work = cache_dir() / f"corpus-m21-{music21.__version__}"
    stems = collect_windows(items, read_corpus_tune, work, chunk_size=16, workers=workers, progress=progress,
                            desc="parsing corpus")
    windows, errors = assemble(stems, bars, mode, seed, source=CORPUS_SOURCE)
    require_windows(windows, errors, CORPUS_SOURCE)
    return (windows, errors) if with_errors else windows
