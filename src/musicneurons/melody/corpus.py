"""The embedded data: melody windows of the music21 corpus, folk tunes and the parts of composed scores.

Two named selections (``collections=``):

- ``"folk"`` (the default): Essen (``essenFolksong``), O'Neill's 1850, Ryan's Mammoth, Aird's Airs,
  ``miscFolk`` and the two Nottingham tunes music21 ships; about 3,600 single-line tunes in 4/4 or 2/2.
- ``"all"``: the folk tunes plus every part of the composed scores with a 4/4 or 2/2 section (Bach's
  chorales, Monteverdi's madrigals, Josquin's voice parts, the 4/4 and 2/2 movements of Beethoven's,
  Mozart's, Haydn's and Schumann's quartets, ...).

A list of collection names (music21's corpus folders) selects those collections only; ``"palestrina"``
(1,203 pieces in 4/2, read at halved note values so that a bar has 16 sixteenths) is reachable only so. Each part of a
score is one instrument, so Magenta's extraction gives one melody per part (highest note on a shared
onset); every part is read as program 0, because music21's guess of a General MIDI program from a part's
name (violin 40, cello 42, ...) would make the 2-bar program filter (0..31, written for Lakh MIDI) drop the
string parts. The piece list ships with the package (``data/corpus_index.json``, made by
``scripts/fixtures/make_corpus_index.py``); the scores are read from the installed music21 and parsed once into a
cache outside the repository (``$MUSICNEURONS_CACHE`` or ``~/.cache/musicneurons``). The Essen
collection is licensed for non-commercial use only.

The default request (the folk selection, ``mode="analysis"``, every tune) needs no parsing: its 2- and
16-bar windows and error rows ship with the package (``data/folk_*bar.parquet``, made by
``scripts/fixtures/make_folk_windows.py``), extracted with the music21 release they name; they are used while the
installed music21 is that release, and equal what the extraction gives (``tests/test_corpus.py``).
"""

import dataclasses
import itertools
import json
import os
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InvalidParameterError, check_choice
from .collect import TIME_LIMIT, assemble, collect_windows, require_windows
from .notesequence import NoteSequence
from .sources import read_score

__all__ = [
    "FOLK_COLLECTIONS",
    "ART_COLLECTIONS",
    "EXTRA_COLLECTIONS",
    "KNOWN_COLLECTIONS",
    "SELECTIONS",
    "NOTE_VALUE_SCALE",
    "VOICES_AS_TUNES",
    "CORPUS_SOURCE",
    "corpus_tunes",
    "corpus_melodies",
    "corpus_source",
    "scale_note_values",
    "join_voices",
    "cache_dir",
    "shipped_folk_windows",
    "shipped_folk_path",
]

FOLK_COLLECTIONS = ["essenFolksong", "oneills1850", "ryansMammoth", "airdsAirs", "miscFolk", "nottingham-dataset"]
ART_COLLECTIONS = [
    "bach",
    "monteverdi",
    "josquin",
    "trecento",
    "beethoven",
    "mozart",
    "haydn",
    "schumann_robert",
    "beach",
    "corelli",
    "cpebach",
    "handel",
    "leadSheet",
    "liliuokalani",
    "lusitano",
    "schoenberg",
    "weber",
    "webern",
]
# Indexed and readable (collections=[..., "palestrina"]) but in no named selection: at halved values its
# 1,203 pieces would give about 2.4 times the windows of everything else together (README).
EXTRA_COLLECTIONS = ["palestrina"]
SELECTIONS = {"folk": FOLK_COLLECTIONS, "all": FOLK_COLLECTIONS + ART_COLLECTIONS}
KNOWN_COLLECTIONS = FOLK_COLLECTIONS + ART_COLLECTIONS + EXTRA_COLLECTIONS
NOTE_VALUE_SCALE = {"palestrina": 0.5}  # 4/2 read as 4/4: a breve bar becomes a semibreve bar
VOICES_AS_TUNES = {"josquin"}  # ABC files holding one piece, each voice written as its own X: tune
CORPUS_SOURCE = "music21-folk"


def cache_dir():
    """Root of musicneurons' caches: ``$MUSICNEURONS_CACHE`` or ``~/.cache/musicneurons``."""
    return Path(os.environ.get("MUSICNEURONS_CACHE", Path.home() / ".cache" / "musicneurons"))


def _collection_names(collections):
    """A selection name or a list of collection names -> list of collection names (validated)."""
    if isinstance(collections, str):
        return SELECTIONS[check_choice("collections", collections, SELECTIONS, "corpus_melodies")]
    unknown = sorted(set(collections) - set(KNOWN_COLLECTIONS))
    if unknown:
        raise InvalidParameterError(f"Unknown corpus collections {unknown}; known: {KNOWN_COLLECTIONS}.")
    return list(collections)


def corpus_source(collections="folk"):
    """The ``source`` label of a selection's windows: ``music21-folk``, ``music21-all`` or ``music21-a+b``."""
    return "music21-" + (collections if isinstance(collections, str) else "+".join(collections))


def corpus_tunes(max_tunes=None, collections="folk"):
    """The selected corpus pieces as items for :func:`collect_windows`: dicts with ``file``, ``tune``, ``number``.

    Items of a collection read at other note values carry ``scale`` too. ``max_tunes`` takes an evenly
    spread subset (every k-th piece), so a small slice still spans every collection. Folk tunes come
    first, in the folk index's order, so the folk and whole selections share the folk cache.
    """
    names = set(_collection_names(collections))
    index = json.loads(resources.files("musicneurons.data").joinpath("corpus_index.json").read_text())
    tunes = [t for t in index["pieces"] if t[0].split("/")[0] in names]
    if max_tunes is not None and max_tunes < len(tunes):
        step = len(tunes) / max_tunes
        tunes = [tunes[int(i * step)] for i in range(max_tunes)]
    items = []
    for f, n in tunes:
        item = {"file": f, "tune": str(n if n is not None else ""), "number": n}
        scale = NOTE_VALUE_SCALE.get(f.split("/")[0], 1.0)
        if scale != 1.0:
            item["scale"] = scale
        items.append(item)
    return items


def scale_note_values(ns, scale):
    """A NoteSequence with every note value multiplied by ``scale`` (an editor's halving for 0.5).

    Onsets, releases and signature times are multiplied by ``scale``, time-signature denominators divided
    by it (4/2 at 0.5 becomes 4/4) and tempos multiplied by it, so the music lasts as long in seconds.
    """

    def denominator(den):
        new = den / scale
        if new != int(new):
            raise InvalidParameterError(f"scale {scale} turns a time signature's denominator {den} into {new}.")
        return int(new)

    return dataclasses.replace(
        ns,
        start=ns.start * scale,
        end=ns.end * scale,
        time_signatures=[(t * scale, n, denominator(d)) for t, n, d in ns.time_signatures],
        tempos=[(t * scale, q * scale) for t, q in ns.tempos],
    )


def join_voices(voices):
    """One NoteSequence of a piece whose voices come as separate NoteSequences; voice k is instrument k.

    Parameters
    ----------
    voices : list of NoteSequence
        Single-instrument sequences on one time line (the X: tunes of one Josquin ABC file).
    """

    def cat(name):
        return np.concatenate([getattr(v, name) for v in voices])

    instrument = np.concatenate([np.full(len(v), k, np.int32) for k, v in enumerate(voices)])
    return NoteSequence(
        start=cat("start"),
        end=cat("end"),
        pitch=cat("pitch"),
        velocity=cat("velocity"),
        program=cat("program"),
        instrument=instrument,
        is_drum=cat("is_drum"),
        time_signatures=sorted({ts for v in voices for ts in v.time_signatures}),
        tempos=sorted({t for v in voices for t in v.tempos}),
        track_names={k: v.track_names.get(0, "") for k, v in enumerate(voices)},
    )


def read_corpus_tune(item):
    """Reader of one corpus piece: list of (piece key, NoteSequence), one instrument per part, program 0."""
    from music21 import common

    path = Path(common.getCorpusFilePath()) / item["file"]
    pieces = [ns for _, ns in read_score(path, number=item["number"])]
    if item["file"].split("/")[0] in VOICES_AS_TUNES:
        pieces = [join_voices(pieces)]
    out = []
    for ns in pieces:
        if "scale" in item:
            ns = scale_note_values(ns, item["scale"])
        out.append((item["tune"], dataclasses.replace(ns, program=np.zeros_like(ns.program))))
    return out


def shipped_folk_path(bars, kind):
    """Path of a shipped folk table: ``kind`` ``'windows'`` or ``'errors'``, of ``bars`` bars (2 or 16)."""
    check_choice("bars", bars, (2, 16), "shipped_folk_path")
    check_choice("kind", kind, ("windows", "errors"), "shipped_folk_path")
    return Path(str(resources.files("musicneurons.data").joinpath(f"folk_{kind}_{bars}bar.parquet")))


def shipped_folk_windows(bars):
    """The folk selection's analysis windows as shipped with the package, or None where they do not apply.

    Parameters
    ----------
    bars : {2, 16}

    Returns
    -------
    (DataFrame, DataFrame) or None
        What ``corpus_melodies(bars, with_errors=True)`` extracts: the windows (``WINDOW_COLUMNS`` plus
        ``events``, int8 arrays of length 16 * bars) and the error rows (``ERROR_COLUMNS``). None when the
        installed music21 is not the release the tables were extracted with (or they are missing).
    """
    import music21

    from ..contracts import Windows
    from ..tables import load_metadata

    path, errors_path = shipped_folk_path(bars, "windows"), shipped_folk_path(bars, "errors")
    if not (path.is_file() and errors_path.is_file()):
        return None
    if load_metadata(path).get("music21") != music21.__version__:
        return None
    windows = Windows.load(path)
    frame = windows.meta.copy()
    frame["events"] = list(windows.events)
    return frame, pd.read_parquet(errors_path)


def corpus_melodies(
    bars=2,
    mode="analysis",
    seed=0,
    max_tunes=None,
    collections="folk",
    workers=None,
    progress=True,
    with_errors=False,
    executor=None,
    *,
    shipped=True,
):
    """Melody windows of the embedded corpus (see :func:`musicneurons.melody.collect.assemble`).

    Parameters
    ----------
    bars : {2, 16}
    mode : {'analysis', 'training', 'all'}
        At most 5 windows a piece (the first ones, or seeded random), or every unique window.
    max_tunes : int, optional
        An evenly spread slice of the piece list, for quick runs and tests.
    collections : {'folk', 'all'} or list of str
        A named selection or a list of music21 corpus collections (see :data:`SELECTIONS` and
        :data:`KNOWN_COLLECTIONS`).
    executor : Executor, optional
        Where the pieces are parsed (:mod:`musicneurons.execute`; default a local pool of ``workers``).
    shipped : bool, default True
        Answer the default request (folk selection, ``mode="analysis"``, every tune) from the windows that
        ship with the package (:func:`shipped_folk_windows`) instead of parsing; False always extracts.

    Returns
    -------
    DataFrame, or (DataFrame, DataFrame) with ``with_errors``
        One row per window; ``events`` holds int8 arrays of length 16 * bars; a piece is identified by
        ``file`` and ``tune``, its part by ``instrument`` and ``track`` (the part's name).
    """
    import music21

    default = isinstance(collections, str) and collections == "folk" and mode == "analysis" and max_tunes is None
    if shipped and default and bars in (2, 16):
        found = shipped_folk_windows(bars)
        if found is not None:
            return found if with_errors else found[0]
    items = corpus_tunes(max_tunes, collections)
    source = corpus_source(collections)
    work = cache_dir() / f"corpus-m21-{music21.__version__}"
    stems = []
    for name, group in itertools.groupby(items, key=lambda item: item["file"].split("/")[0]):
        # One cache folder per collection, so every selection that holds a collection reuses its chunks;
        # scores parse 10-1000 times slower than folk tunes, hence their smaller chunks, and no time limit:
        # a Beethoven quartet file takes 2 minutes to parse on an idle core and 8 on a busy one.
        stems += collect_windows(
            list(group),
            read_corpus_tune,
            work / name,
            chunk_size=16 if name in FOLK_COLLECTIONS else 4,
            workers=workers,
            progress=progress,
            desc=f"parsing {name}",
            time_limit=TIME_LIMIT if name in FOLK_COLLECTIONS else None,
            executor=executor,
        )
    windows, errors = assemble(stems, bars, mode, seed, source=source)
    require_windows(windows, errors, source)
    return (windows, errors) if with_errors else windows
