"""Regenerate the folk windows that ship with the package: ``src/musicneurons/data/folk_{windows,errors}_*bar.parquet``.

Run by hand after a music21 upgrade or a change to the extraction (a few minutes on 2 cores)::

    python scripts/make_folk_windows.py

Every folk tune of ``data/corpus_index.json`` is parsed from the installed music21 (in a fresh cache, so
no earlier result is reused) and the study's default windows are extracted, as
``corpus_melodies(bars, with_errors=True, shipped=False)`` gives them: at most 5 a tune, 2 and 16 bars,
with their provenance columns and the error rows of the tunes that gave none. The windows table records
the music21 release it came from; :func:`musicneurons.melody.corpus.shipped_folk_windows` uses the tables
only while that release is installed. ``--check`` compares the extraction with the shipped tables instead
of writing them (exit status 1 when they differ).
"""

import argparse
import os
import sys
import tempfile

import music21
import pandas as pd

from musicneurons.contracts import Windows
from musicneurons.melody.corpus import CORPUS_SOURCE, corpus_melodies, shipped_folk_path
from musicneurons.tables import save_table


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the shipped tables, write nothing")
    parser.add_argument("--workers", type=int, default=None, help="parsing processes (default: the cores)")
    args = parser.parse_args(argv)
    same = True
    with tempfile.TemporaryDirectory() as cache:
        os.environ["MUSICNEURONS_CACHE"] = cache
        for bars in (2, 16):
            frame, errors = corpus_melodies(bars, with_errors=True, workers=args.workers, shipped=False)
            windows = Windows.from_frame(frame)
            path, errors_path = shipped_folk_path(bars, "windows"), shipped_folk_path(bars, "errors")
            print(f"{bars} bars: {len(windows)} windows, {len(errors)} error rows (music21 {music21.__version__})")
            if args.check:
                shipped = Windows.load(path)
                ok = (
                    shipped.events.shape == windows.events.shape
                    and (shipped.events == windows.events).all()
                    and shipped.meta.equals(_round_trip(windows).meta)
                    and pd.read_parquet(errors_path).equals(errors)
                )
                print(f"  {'same as' if ok else 'DIFFERENT from'} {path.name}")
                same &= ok
                continue
            meta = {"music21": music21.__version__, "source": CORPUS_SOURCE, "bars": bars}
            windows.save(path, meta)
            save_table(errors_path, errors, metadata=meta)
            print(f"  wrote {path} ({path.stat().st_size:,} bytes), {errors_path.name}")
    return 0 if same else 1


def _round_trip(windows):
    """``windows`` as a table read back (the dtypes of a loaded table)."""
    with tempfile.TemporaryDirectory() as folder:
        return Windows.load(windows.save(os.path.join(folder, "w.parquet")))


if __name__ == "__main__":
    sys.exit(main())
