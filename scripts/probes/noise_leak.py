"""Is a model's noise block noise, or a small code spread over many neurons? PCA of the noise neurons' mu.

For each model, on the embedded corpus's held-out 2-bar or 16-bar pieces: the noise neurons (above the largest jump
in sorted mean sigma), the share of their mu's variance in the first principal directions, and the token accuracy
lost when the noise block is replaced by only its first r directions ("keep") or loses them ("drop"), against
zeroing it whole. A leak of a few directions smeared over hundreds of neurons costs nothing to keep and all of the
zeroing cost to drop. Run:

    python scripts/probes/noise_leak.py mn-mel_2bar [RUN/checkpoint ...] [--ranks 1,3,10,30]
"""

import argparse
import numpy as np

from musicneurons.model.alignment import noise_principal_axes
from musicneurons.model.train import run_or_model
from musicneurons.model.training_data import corpus_split


def leak_row(model, events, ranks):
    """Figures of one model on held-out windows (n, T) int8: dict of the spectrum and the keep/drop costs."""
    mu, sigma = model.encode(events)
    noise, centre, singular, axes = noise_principal_axes(mu, sigma)
    block = mu[:, noise] - centre
    explained = np.cumsum(singular**2) / (singular**2).sum()

    def cost(noise_values):
        z = mu.copy()
        z[:, noise] = noise_values
        return accuracy - float((model.decode(z) == events).mean())

    accuracy = float((model.decode(mu) == events).mean())
    row = {"music": mu.shape[1] - len(noise), "noise var": float((singular**2).sum() / len(mu)), "accuracy": accuracy}
    row["zero"] = cost(0.0)
    for r in ranks:
        top = (block @ axes[:r].T) @ axes[:r]
        row[f"explained {r}"] = float(explained[r - 1])
        row[f"keep {r}"], row[f"drop {r}"] = cost(top + centre), cost(mu[:, noise] - top)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+")
    parser.add_argument("--ranks", default="1,3,10,30")
    args = parser.parse_args()
    ranks = [int(r) for r in args.ranks.split(",")]
    heldout = {}
    for spec in args.models:
        model = run_or_model(spec)[0]
        bars = model.config.bars
        heldout.setdefault(bars, corpus_split(bars)[1])
        row = leak_row(model, heldout[bars], ranks)
        print(spec, " | ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()))


if __name__ == "__main__":
    main()
