"""Benchmark: vectorised features against music21 on the same windows, and 50,000 2-bar windows.

* numpy: ``compute_features`` on all windows (all catalogued features, and music21's 50 alone);
  best of ``--repeat`` runs.
* music21: its 50 scalar extractors with one shared DataInstance a window (plus building the
  stream), on the first ``--sample`` of the same windows; the per-window time is scaled to all.
* ratio = music21 time / numpy time for the same windows and the same 50 features.

    python benchmarks/bench_features.py                  # 50,000 2-bar and 5,000 16-bar random windows,
                                                         # 2-bar corpus windows of 500 tunes
    python benchmarks/bench_features.py --n2 5000 --n16 500 --sample 100   # quick
"""

import argparse
import os
import time


def _best(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def _bench(label, events, qpm, sample, repeat):
    from musicneurons.features import MUSIC21_IDS, compute_features, music21_features

    n = len(events)
    all_s = _best(lambda: compute_features(events, qpm), repeat)
    m21_ids_s = _best(lambda: compute_features(events, qpm, features=MUSIC21_IDS), repeat)
    t0 = time.perf_counter()
    music21_features(events[:sample], qpm[:sample])
    per_window = (time.perf_counter() - t0) / sample
    small_s = _best(lambda: compute_features(events[:sample], qpm[:sample], features=MUSIC21_IDS), repeat)
    print(
        f"| {label} | {n} | {all_s:.2f} | {m21_ids_s:.2f} | {per_window * 1e3:.2f} | "
        f"{per_window * n / m21_ids_s:.0f}x | {per_window * sample / small_s:.0f}x ({sample} windows) |",
        flush=True,
    )


def main(argv=None):
    from musicneurons.melody import random_windows

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n2", type=int, default=50000, help="random 2-bar windows")
    parser.add_argument("--n16", type=int, default=5000, help="random 16-bar windows")
    parser.add_argument("--sample", type=int, default=500, help="windows music21 computes")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--corpus-tunes", type=int, default=500, help="corpus tunes for 2-bar windows (0: skip)")
    args = parser.parse_args(argv)
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(
        "| windows | n | numpy all features (s) | numpy music21's 50 (s) | music21 ms/window | "
        "ratio, all windows | ratio, music21's sample |"
    )
    print("|---|---|---|---|---|---|---|")
    for bars, n in [(2, args.n2), (16, args.n16)]:
        events, qpm = random_windows(n, bars=bars, seed=0)
        _bench(f"random {bars}-bar", events, qpm, min(args.sample, n), args.repeat)
    if args.corpus_tunes:
        from musicneurons.melody import corpus_melodies
        from musicneurons.tables import array_column

        df = corpus_melodies(bars=2, max_tunes=args.corpus_tunes, progress=False)
        events = array_column(df, "events")
        _bench("corpus 2-bar", events, df["tempo"].to_numpy(), min(args.sample, len(events)), args.repeat)


if __name__ == "__main__":
    main()
