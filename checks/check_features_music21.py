"""Check: the numpy features equal music21's on real corpus windows (2 and 16 bars) and random sequences.

For every music21-implemented feature: largest |numpy - music21| over all windows (must be <= 1e-9)
and the number of windows where exactly one of them is NaN (must be 0). music21 runs with one shared
DataInstance a window. Exits 1 on any mismatch.

    python checks/check_features_music21.py                      # 2-bar corpus from 500 tunes, 16-bar
                                                                     # from all tunes, 1,000 random
    python checks/check_features_music21.py --tunes2 100 --tunes16 200 --random 200   # quick
"""

import argparse
import sys
import time


def _sets(args):
    from musicneurons.melody import corpus_melodies, random_windows
    from musicneurons.tables import array_column

    for bars, tunes in [(2, args.tunes2), (16, args.tunes16)]:
        df = corpus_melodies(bars=bars, max_tunes=tunes or None, progress=False)
        yield f"corpus {bars}-bar", array_column(df, "events"), df["tempo"].to_numpy()
    for bars, n in [(2, args.random), (16, args.random16)]:
        events, qpm = random_windows(n, bars=bars, seed=args.seed)
        yield f"random {bars}-bar", events, qpm


def main(argv=None):
    from tqdm import tqdm

    from musicneurons.features import compare_with_music21

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tunes2", type=int, default=500, help="corpus tunes for 2-bar windows (0 = all)")
    parser.add_argument("--tunes16", type=int, default=0, help="corpus tunes for 16-bar windows (0 = all)")
    parser.add_argument("--random", type=int, default=1000, help="random 2-bar sequences")
    parser.add_argument("--random16", type=int, default=200, help="random 16-bar sequences")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    ok = True
    print("| windows | n | NaN cells (music21) | NaN mismatches | max abs diff | worst feature | music21 s |")
    print("|---|---|---|---|---|---|---|")
    for name, events, qpm in _sets(args):
        t0 = time.perf_counter()
        with tqdm(total=len(events), desc=name, file=sys.stderr, leave=False) as bar:
            report = compare_with_music21(events, qpm, progress=bar.update)
        seconds = time.perf_counter() - t0
        worst = report["max_abs_diff"].idxmax()
        mismatches = int(report["nan_mismatch"].sum())
        ok &= mismatches == 0 and report["max_abs_diff"].max() <= 1e-9
        print(
            f"| {name} | {len(events)} | {int(report['nan_music21'].sum())} | {mismatches} | "
            f"{report['max_abs_diff'].max():.3g} | {worst} | {seconds:.0f} |",
            flush=True,
        )
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
