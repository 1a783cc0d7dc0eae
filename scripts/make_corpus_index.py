"""Regenerate src/musicneurons/data/corpus_index.json: the music21 corpus pieces with a 16-step bar.

Run by hand after a music21 upgrade (about a minute): ``python scripts/make_corpus_index.py``. The selection
reads music21's corpus metadata bundle, no score is parsed:

- folk collections (:data:`~musicneurons.melody.corpus.FOLK_COLLECTIONS`): single-part tunes whose every
  time signature is 4/4 or 2/2 (the study's folk corpus, unchanged);
- every other collection (:data:`~musicneurons.melody.corpus.ART_COLLECTIONS`, ``EXTRA_COLLECTIONS``):
  scores with at least one time signature of 16 sixteenths a bar at the collection's note-value scale
  (4/4, 2/2; Palestrina's 4/2 at
  halved values). The extraction later keeps only those sections. Left out: Roman-numeral analyses
  (``.rntxt``: chords, not parts), music21's test files (``demos``, ``theoryExercises``), an ``_old``
  encoding kept beside its revision, and a kern file that duplicates a MusicXML file of the same name.
  Josquin's ABC files hold one piece each, a voice per X: tune: they are listed once, as whole files.
"""

import json
from fractions import Fraction
from pathlib import Path

import music21
from music21 import corpus

from musicneurons.melody.corpus import (
    ART_COLLECTIONS,
    EXTRA_COLLECTIONS,
    FOLK_COLLECTIONS,
    NOTE_VALUE_SCALE,
    VOICES_AS_TUNES,
)

FOLK_METERS = {"4/4", "2/2"}


def sixteen_steps(meter, scale):
    """True when ``meter`` ('n/d') has 16 sixteenths a bar once note values are multiplied by ``scale``."""
    num, den = (int(x) for x in meter.split("/"))
    return Fraction(16 * num, den) * Fraction(scale) == 16


def keep(path, md, collection, paths):
    """Whether one metadata-bundle entry belongs in the index."""
    if collection in FOLK_COLLECTIONS:
        return md.numberOfParts == 1 and bool(md.timeSignatures) and set(md.timeSignatures) <= FOLK_METERS
    stem, suffix = path.rsplit(".", 1)
    if suffix == "rntxt" or stem.endswith("_old") or (suffix == "krn" and (stem + ".mxl") in paths):
        return False
    scale = NOTE_VALUE_SCALE.get(collection, 1.0)
    return any(sixteen_steps(m, scale) for m in md.timeSignatures or ())


def main():
    entries = [(str(e.sourcePath), e.number, e.metadata) for e in corpus.corpora.CoreCorpus().metadataBundle]
    paths = {p for p, _, _ in entries}
    collections = FOLK_COLLECTIONS + ART_COLLECTIONS + EXTRA_COLLECTIONS
    pieces = [
        [path, number]
        for path, number, md in entries
        if md is not None and path.split("/")[0] in collections and keep(path, md, path.split("/")[0], paths)
    ]
    # A file whose X: tunes are the voices of one piece is one piece, read whole.
    whole = sorted({path for path, _ in pieces if path.split("/")[0] in VOICES_AS_TUNES})
    pieces = [p for p in pieces if p[0].split("/")[0] not in VOICES_AS_TUNES] + [[path, None] for path in whole]
    # Folk first, in the order the folk-only index had, so both selections share the folk cache chunks.
    pieces.sort(key=lambda t: (t[0].split("/")[0] not in FOLK_COLLECTIONS, t[0], t[1] or ""))
    out = Path(__file__).resolve().parents[1] / "src/musicneurons/data/corpus_index.json"
    out.write_text(
        json.dumps(
            {
                "music21": music21.__version__,
                "folk_collections": FOLK_COLLECTIONS,
                "art_collections": ART_COLLECTIONS + EXTRA_COLLECTIONS,
                "note_value_scale": NOTE_VALUE_SCALE,
                "pieces": pieces,
            },
            indent=0,
        )
    )
    counts = {c: sum(p.split("/")[0] == c for p, _ in pieces) for c in collections}
    print(f"{len(pieces)} pieces -> {out}\n{counts}")


if __name__ == "__main__":
    main()
