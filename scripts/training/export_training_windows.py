"""Write the training and held-out windows of the embedded corpus to an .npz for ``musicneurons train --windows``.

The held-out pieces are drawn by :func:`musicneurons.model.training_data.held_out_pieces` (a seeded hash of each
piece's name, so a grown corpus keeps every piece on its side). The .npz trains anywhere torch runs, with no
corpus parsing (e.g. on a bare GPU machine). Run:

    python scripts/training/export_training_windows.py --bars 2 --collections all --out runs/windows-all-2bar.npz
"""

import argparse

import numpy as np

from musicneurons.melody import corpus_melodies
from musicneurons.model.training_data import save_training_windows, split_by_piece
from musicneurons.tables import array_column


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, choices=(2, 16), required=True)
    parser.add_argument("--collections", default="folk", help="corpus selection: folk, all, or a comma list")
    parser.add_argument("--holdout", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    selection = args.collections if args.collections in ("folk", "all") else args.collections.split(",")
    df = corpus_melodies(bars=args.bars, mode="all", collections=selection)
    pieces = (df["file"].astype(str) + "#" + df["tune"].astype(str)).to_numpy()
    train, heldout = split_by_piece(array_column(df, "events").astype(np.int8), pieces, args.holdout, args.seed)
    n_pieces = len(np.unique(pieces))
    data = (
        f"the music21 corpus ({args.collections!r} selection: {n_pieces:,} pieces; {args.holdout:.0%} of the pieces "
        f"held out by seeded hash, seed {args.seed})"
    )
    save_training_windows(args.out, train, heldout, data)
    print(f"{args.out}: {len(train):,} training and {len(heldout):,} held-out {args.bars}-bar windows; {data}")


if __name__ == "__main__":
    main()
