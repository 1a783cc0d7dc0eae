"""Write the fixed held-out samples the shipped-model acceptance test uses (tests/fixtures/heldout/).

A seeded sample of the held-out windows of the embedded corpus, split by piece exactly as the shipped models
were trained (:func:`musicneurons.model.training_data.corpus_split`), so the test needs no corpus parsing. Run:

    python scripts/make_heldout_fixture.py [--n2 600] [--n16 120]
"""

import argparse
from pathlib import Path

import numpy as np

from musicneurons.model.training_data import corpus_split

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "heldout"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n2", type=int, default=600)
    parser.add_argument("--n16", type=int, default=120)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    for bars, n in ((2, args.n2), (16, args.n16)):
        heldout = corpus_split(bars)[1]
        pick = np.sort(np.random.default_rng(bars).choice(len(heldout), min(n, len(heldout)), replace=False))
        np.save(OUT / f"heldout_{bars}bar.npy", heldout[pick])
        print(f"{OUT / f'heldout_{bars}bar.npy'}: {len(pick)} of {len(heldout)} held-out {bars}-bar windows")


if __name__ == "__main__":
    main()
