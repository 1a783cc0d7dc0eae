"""What the split rule, its bootstrap and the decoder's proof cost.

1. ``--baseline SRC``: ``analyse_study`` (tables only) on 50,000 real and 50,000 random planted encodings
   (z = 512, 80 features: the inputs of ``bench_analysis.py``), once with this checkout's code and once with
   the package under ``SRC`` (another checkout's ``src``, e.g. the code before the split on log activity), in
   turn, each in a fresh process, ``--runs`` times; prints the seconds of each and the ratio of the medians.
2. ``--study DIR``: runs the default study into ``DIR`` (``musicneurons run --out DIR``) unless it is there
   already; per window length, the decoder's proof as the study timed it (its ``decoder`` stage in
   ``DIR/summary.json``) and the bootstrap timed here (``analyse_study`` with 200 resamples against none, tables
   only, in turn), against the study's total time.

Run:

    python benchmarks/bench_split.py --baseline /path/to/old/src [--rows 50000] [--runs 2]
    python benchmarks/bench_split.py --study /tmp/study      # runs the default study there first
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def _analysis_once(rows):
    """Seconds of one ``analyse_study`` (tables only) on the planted inputs, in this process."""
    sys.path.insert(0, str(HERE))
    from bench_analysis import inputs

    from musicneurons.analysis import analyse_study

    study, real_features, random_features, cat = inputs(rows, 512, 80)
    start = time.perf_counter()
    analyse_study(
        study.real_mu, study.real_sigma, real_features, study.random_mu, study.random_sigma, random_features, cat
    )
    return time.perf_counter() - start


def compare(baseline, rows, runs):
    """Median seconds of the current and the baseline code, alternating fresh processes."""
    current = str(HERE.parent / "src")
    times = {"current": [], "baseline": []}
    for _ in range(runs):
        for name, src in (("current", current), ("baseline", baseline)):
            env = {**os.environ, "PYTHONPATH": src}
            out = subprocess.run(
                [sys.executable, __file__, "--one", str(rows)], env=env, capture_output=True, text=True, check=True
            )
            times[name].append(float(out.stdout.strip().splitlines()[-1]))
            print(f"{name}: {times[name][-1]:.1f} s", flush=True)
    medians = {k: float(np.median(v)) for k, v in times.items()}
    print(json.dumps({"seconds": times, "medians": medians, "ratio": medians["current"] / medians["baseline"]}))


def study_costs(directory):
    """The decoder's proof and the bootstrap of each length of a run directory, against the study's total."""
    from musicneurons.analysis import analyse_study, split_neurons
    from musicneurons.contracts import Features, Latents
    from musicneurons.features import catalogue

    directory = Path(directory)
    if not (directory / "summary.json").is_file():
        subprocess.run(["musicneurons", "run", "--out", str(directory), "--quiet"], check=True)
    summary = json.loads((directory / "summary.json").read_text())
    total = summary["timings_s"]["total"]
    out = {"study_total_s": total}
    for bars in (2, 16):
        d = directory / f"bars{bars}"
        real, random = Latents.load(d / "latents_real.parquet"), Latents.load(d / "latents_random.parquet")
        feats, rfeats = Features.load(d / "features_real.parquet"), Features.load(d / "features_random.parquet")
        split = split_neurons(real.mu, real.sigma)
        decoder_s = summary["timings_s"][f"bars{bars}/decoder"]
        seconds = {}
        for n_boot in (0, 200, 0, 200):
            start = time.perf_counter()
            args = (real.mu, real.sigma, feats.values, random.mu, random.sigma, rfeats.values, catalogue())
            analyse_study(*args, split=split, n_boot=n_boot)
            seconds.setdefault(n_boot, []).append(time.perf_counter() - start)
        bootstrap_s = float(np.median(seconds[200]) - np.median(seconds[0]))
        out[f"{bars}-bar"] = {
            "windows": len(real.mu),
            "decoder_s": decoder_s,
            "bootstrap_s": bootstrap_s,
            "analysis_without_bootstrap_s": float(np.median(seconds[0])),
        }
        print(f"{bars}-bar: {out[f'{bars}-bar']}", flush=True)
    spent = sum(out[k]["decoder_s"] + out[k]["bootstrap_s"] for k in ("2-bar", "16-bar") if k in out)
    out["share_of_study"] = spent / total
    print(json.dumps(out, indent=2))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="another checkout's src folder to compare analyse_study with")
    parser.add_argument("--study", help="a default study's run directory")
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(_analysis_once(args.one))
    elif args.baseline:
        compare(args.baseline, args.rows, args.runs)
    elif args.study:
        study_costs(args.study)
    else:
        parser.error("give --baseline SRC or --study DIR")


if __name__ == "__main__":
    main()
