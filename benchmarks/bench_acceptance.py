"""Acceptance figures of MusicVAE models on held-out windows (the figures each shipped model card prints).

For each model: argmax-from-mu token accuracy against the always-hold baseline, the music/noise split by the
study's rule, the noise neurons' median var(mu), and the accuracy cost of zeroing their mu (see
:func:`musicneurons.model.metrics.acceptance_metrics`). By default on the embedded corpus's held-out pieces
(the split the shipped models were trained with); ``--melodies`` takes any melodies table instead, e.g.
windows from outside the corpus made by ``musicneurons melodies DIR --mode all``. A model is a shipped name, a
saved model folder or a training run (its checkpoint, e.g. ``runs/pilot``). Run:

    python benchmarks/bench_acceptance.py [--models mn-mel_2bar,mn-hierdec-mel_16bar,runs/RUN] [--melodies FILE] [--json OUT]
"""

import argparse
import json
import time

import numpy as np

from musicneurons.model.metrics import acceptance_metrics
from musicneurons.model.train import run_or_model
from musicneurons.model.training_data import corpus_split

FIELDS = [
    "argmax_accuracy",
    "hold_baseline",
    "split_found",
    "n_music",
    "noise_median_var_mu",
    "ablation_cost",
    "kl_total",
    "n_sigma_below_0.9",
]


def heldout_windows(bars, melodies=None):
    """Held-out windows (n, 16 * bars) int8: the corpus split's, or every window of a melodies table."""
    if melodies is None:
        return corpus_split(bars)[1]
    from musicneurons.melody.tables import load_melodies
    from musicneurons.tables import array_column

    return np.unique(array_column(load_melodies(melodies), "events").astype(np.int8), axis=0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models",
        default="mn-mel_2bar,mn-hierdec-mel_16bar",
        help="comma-separated shipped names, saved model folders or training runs",
    )
    parser.add_argument("--melodies", help="a melodies table to evaluate on instead of the corpus's held-out pieces")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    results = {}
    for name in args.models.split(","):
        model, steps = run_or_model(name)
        events = heldout_windows(model.config.bars, args.melodies)
        start = time.perf_counter()
        acc = acceptance_metrics(model, events)
        acc["seconds"] = round(time.perf_counter() - start, 1)
        acc["steps"] = steps
        results[name] = acc
        print(
            f"{name}{'' if steps is None else f' (step {steps:,})'}: {len(events)} windows, "
            + ", ".join(f"{k} {acc[k]:.4g}" for k in FIELDS)
            + f"; passes {acc['passes']} ({acc['seconds']} s)"
        )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()
