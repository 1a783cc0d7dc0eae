"""Yield of the embedded corpus per collection: pieces, melodies, unique 2- and 16-bar windows, errors, time.

``nice -n 10 python scripts/probes/corpus_yield.py --workers 2`` parses every collection of the corpus
index (the ``"all"`` selection and Palestrina) once into the corpus cache (so a later
``corpus_melodies(collections="all")`` reads it back) and prints a Markdown table for the README.
``parse s`` is the wall time of reading a collection's 2-bar
windows: the parse on a first run, near zero from the cache. A melody is a part (or tune) that gave at
least one 2-bar window. Totals de-duplicate windows across collections. The last three columns describe
the 2-bar windows: note onsets a window, the median inter-onset interval and the share of melodic steps of
at most 2 semitones.
"""

import argparse
import json
import time

import numpy as np
import pandas as pd

from musicneurons.errors import NoMelodiesError
from musicneurons.melody.corpus import ART_COLLECTIONS, FOLK_COLLECTIONS, corpus_melodies, corpus_tunes
from musicneurons.tables import array_column

PARSE_ERROR = "music21 could not parse"
# The scores first (the new data), Palestrina, the longest of them, last among them; then the folk tunes.
ORDER = ART_COLLECTIONS + ["palestrina"] + FOLK_COLLECTIONS


def windows_of(collection, bars, workers, max_tunes=None):
    """(windows, errors) of one collection for ``bars``; empty windows when it gave none."""
    try:
        return corpus_melodies(
            bars,
            "all",
            max_tunes=max_tunes,
            collections=[collection],
            workers=workers,
            progress=False,
            with_errors=True,
        )
    except NoMelodiesError:
        return pd.DataFrame(columns=["file", "tune", "instrument", "events"]), None


def unique_rows(frames):
    """Number of distinct windows over a list of window tables."""
    arrays = [array_column(f, "events") for f in frames if len(f)]
    return len(np.unique(np.vstack(arrays), axis=0)) if arrays else 0


def character(windows):
    """What the 2-bar windows sound like: notes a window, median inter-onset interval, stepwise motion."""
    if not len(windows):
        return {"notes/window": 0.0, "median IOI (16ths)": 0.0, "steps <= 2 st (%)": 0.0}
    events = array_column(windows, "events").astype(np.int16)
    notes, iois, steps = [], [], []
    for row in events:
        onsets = np.flatnonzero(row >= 2)
        notes.append(len(onsets))
        iois.append(np.diff(onsets))
        steps.append(np.abs(np.diff(row[onsets])) <= 2)
    return {
        "notes/window": round(float(np.mean(notes)), 1),
        "median IOI (16ths)": float(np.median(np.concatenate(iois))),
        "steps <= 2 st (%)": round(100 * float(np.mean(np.concatenate(steps))), 1),
    }


def markdown(table):
    """A DataFrame as a Markdown table (no extra dependency)."""
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += [
        "| " + " | ".join(f"{v:,}" if isinstance(v, (int, np.integer)) else str(v) for v in row) + " |"
        for row in table.itertuples(index=False)
    ]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--collections", nargs="*", default=ORDER)
    ap.add_argument("--max-tunes", type=int, help="an evenly spread sample of this many pieces a collection")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    args = ap.parse_args()
    rows, tables = [], {}
    for c in args.collections:
        t0 = time.perf_counter()
        w2, e2 = windows_of(c, 2, args.workers, args.max_tunes)
        seconds = time.perf_counter() - t0
        w16, _ = windows_of(c, 16, args.workers, args.max_tunes)
        tables[c] = (w2, w16)
        errors = e2 if e2 is not None else pd.DataFrame(columns=["reason"])
        parse_errors = int(errors["reason"].str.startswith(PARSE_ERROR).sum())
        rows.append(
            {
                "collection": c,
                "pieces": len(corpus_tunes(args.max_tunes, collections=[c])),
                "melodies": len(w2.drop_duplicates(["file", "tune", "instrument"])),
                "uniq 2-bar": unique_rows([w2]),
                "uniq 16-bar": unique_rows([w16]),
                "parse errors": parse_errors,
                "no 2-bar window": len(errors) - parse_errors,
                "parse s": round(seconds, 1),
                **character(w2),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    groups = {
        "folk": [c for c in args.collections if c in FOLK_COLLECTIONS],
        "scores": [c for c in args.collections if c not in FOLK_COLLECTIONS],
        "all but palestrina": [c for c in args.collections if c != "palestrina"],
        "all": list(args.collections),
    }
    seen = []
    for name, members in groups.items():
        if not members or members in seen:
            continue
        seen.append(members)
        sub = [r for r in rows if r["collection"] in members]
        total = {k: sum(r[k] for r in sub) for k in ("pieces", "melodies", "parse errors", "no 2-bar window")}
        rows.append(
            {
                "collection": f"**{name}**",
                **total,
                "uniq 2-bar": unique_rows([tables[c][0] for c in members]),
                "uniq 16-bar": unique_rows([tables[c][1] for c in members]),
                "parse s": round(sum(r["parse s"] for r in sub), 1),
                **character(pd.concat([tables[c][0] for c in members], ignore_index=True)),
            }
        )
    table = pd.DataFrame(rows)
    print(markdown(table))
    if args.json:
        table.to_json(args.json, orient="records", indent=1)


if __name__ == "__main__":
    main()
