"""Is a model's noise block noise, or a small code spread over many neurons? PCA of the noise neurons' mu.

For each model, on the embedded corpus's held-out 2-bar or 16-bar pieces: the noise neurons (above the largest jump
in sorted mean sigma), the share of their mu's variance in the first principal directions, and the token accuracy
lost when the noise block is replaced by only its first r directions ("keep") or loses them ("drop"), against
zeroing it whole. A leak of a few directions smeared over hundreds of neurons costs nothing to keep and all of the
zeroing cost to drop. Run:

    python scripts/noise_leak.py mn-mel_2bar [RUN/checkpoint ...] [--ranks 1,3,10,30]
"""

import argparse
from pathlib import Path

import numpy as np

from musicneurons.model import load_model
from musicneurons.model.metrics import sigma_jump
from musicneurons.model.train import CHECKPOINT_DIR, checkpoint_model
from musicneurons.model.training_data import corpus_split


def load(spec):
    """A model by name or folder (:func:`load_model`), or a run's training checkpoint (``RUN/checkpoint``)."""
    folder = Path(spec)
    is_checkpoint = (folder / "model.safetensors").is_file() or (folder / CHECKPOINT_DIR).is_dir()
    return checkpoint_model(folder) if is_checkpoint else load_model(spec)


def leak_row(model, events, ranks):
    """Figures of one model on held-out windows (n, T) int8: dict of the spectrum and the keep/drop costs."""
    mu, sigma = model.encode(events)
    mean_sigma = sigma.mean(axis=0)
    n_music, _ = sigma_jump(mean_sigma)
    noise = np.argsort(mean_sigma, kind="stable")[n_music:]
    centre = mu[:, noise].mean(axis=0)
    block = mu[:, noise] - centre
    _, s, vt = np.linalg.svd(block, full_matrices=False)
    explained = np.cumsum(s**2) / (s**2).sum()

    def cost(noise_values):
        z = mu.copy()
        z[:, noise] = noise_values
        return accuracy - float((model.decode(z) == events).mean())

    accuracy = float((model.decode(mu) == events).mean())
    row = {"music": n_music, "noise var": float(block.var(axis=0).sum()), "accuracy": accuracy, "zero": cost(0.0)}
    for r in ranks:
        top = (block @ vt[:r].T) @ vt[:r]
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
        model = load(spec)
        bars = model.config.bars
        heldout.setdefault(bars, corpus_split(bars)[1])
        row = leak_row(model, heldout[bars], ranks)
        print(spec, " | ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()))


if __name__ == "__main__":
    main()
