"""Is the band of partly used neurons a rotated code, like the noise block's leak, or a spread of precisions?

For each model, on the embedded corpus's held-out windows: the first ``--neurons`` neurons by mean sigma, their
signal covariance ``C = cov(mu)`` and mean posterior variance ``N = diag(mean sigma^2)``. Per neuron, the
sigma a unit-variance aggregate posterior would have is ``sqrt(1 / (1 + C_ii / N_ii))``; per direction, the same
with the generalized eigenvalues of ``C v = lambda N v`` (the directions of best signal to noise). If the band
were a few strong directions rotated across many neurons (as the noise block's leak is:
``scripts/probes/noise_leak.py``), the directions' profile would show a gap that the neurons' profile lacks; if the
two profiles agree, the neurons already are the code's axes and no rotation opens a split. Run:

    python scripts/probes/band_directions.py mn-mel_2bar [RUN ...] [--neurons 60]
"""

import argparse

import numpy as np
import scipy.linalg

from musicneurons.model import load_model
from musicneurons.model.metrics import sigma_jump
from musicneurons.model.training_data import corpus_split


def profiles(mu, sigma, k):
    """Sorted equivalent sigma (k,) of the first k neurons by mean sigma and of their k best directions."""
    mu, var = np.asarray(mu, np.float64), np.asarray(sigma, np.float64) ** 2
    first = np.argsort(var.mean(axis=0), kind="stable")[:k]
    signal, noise = np.cov(mu[:, first].T), np.diag(var[:, first].mean(axis=0))
    per_neuron = np.sort(np.sqrt(1.0 / (1.0 + np.diag(signal) / np.diag(noise))))
    per_direction = np.sort(
        np.sqrt(1.0 / (1.0 + np.clip(scipy.linalg.eigh(signal, noise, eigvals_only=True), 0, None)))
    )
    return per_neuron, per_direction


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+")
    parser.add_argument("--neurons", type=int, default=60)
    args = parser.parse_args()
    heldout = {}
    for spec in args.models:
        model = load_model(spec)
        bars = model.config.bars
        heldout.setdefault(bars, corpus_split(bars)[1])
        neurons, directions = profiles(*model.encode(heldout[bars]), args.neurons)
        for name, profile in (("neurons", neurons), ("directions", directions)):
            below, jump = sigma_jump(profile)
            print(
                f"{spec} {name}: below 0.9 {int((profile < 0.9).sum())}, largest jump {jump:.3f} after {below}, "
                f"max |neurons - directions| {np.abs(neurons - directions).max():.3f}"
            )


if __name__ == "__main__":
    main()
