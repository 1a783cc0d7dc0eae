"""Regenerate src/musicneurons/data/folk_corpus_index.json: the music21 folk tunes in 4/4 or 2/2.

Run by hand after a music21 upgrade (about 25 s): ``python scripts/make_corpus_index.py``. The selection
reads music21's corpus metadata bundle: single-part tunes of the folk collections whose every time
signature is 4/4 or 2/2 (16 sixteenths a bar).
"""

import json
from pathlib import Path

import music21
from music21 import corpus

from musicneurons.melody.corpus import FOLK_COLLECTIONS

METERS = {"4/4", "2/2"}


def main():
    tunes = []
    for entry in corpus.corpora.CoreCorpus().metadataBundle:
        path = str(entry.sourcePath)
        md = entry.metadata
        if md is None or path.split("/")[0] not in FOLK_COLLECTIONS:
            continue
        if md.numberOfParts == 1 and md.timeSignatures and set(md.timeSignatures) <= METERS:
            tunes.append([path, entry.number])
    tunes.sort(key=lambda t: (t[0], t[1] or 0))
    out = Path(__file__).resolve().parents[1] / "src/musicneurons/data/folk_corpus_index.json"
    out.write_text(json.dumps({"music21": music21.__version__, "collections": FOLK_COLLECTIONS,
                               "meters": sorted(METERS), "tunes": tunes}, indent=0))
    print(f"{len(tunes)} tunes -> {out}")


if __name__ == "__main__":
    main()
