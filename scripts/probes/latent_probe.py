"""How much of a window does mu hold, whatever the decoder makes of it? A linear probe from mu to every token.

For each model: mu of the embedded corpus's training windows, a ridge regression (closed form, float64) from
mu and a constant to the one-hot token at every step, then the probe's argmax accuracy on the held-out windows
next to the decoder's (argmax decoding from mu), over all tokens and over the pitch tokens alone (note-ons,
classes 2..89), and both by bar (which bars of a window z holds). A probe far above the decoder means the
decoder does not read what the encoder wrote; a probe no better than the decoder means the code itself is poor
(the encoder, or a decoder that never asked for more).
Run:

    python scripts/probes/latent_probe.py RUN [RUN ...] [--ridge 1.0]
"""

import argparse

import numpy as np
from musicneurons.melody.events import N_CLASSES, NOTE_OFF
from musicneurons.model.train import run_or_model
from musicneurons.model.training_data import corpus_split


def ridge_probe(mu_train, events_train, mu_test, ridge):
    """Argmax tokens (m, T) int64 of a ridge fit from mu (n, z) plus a constant to one-hot events (n, T)."""
    n, steps = events_train.shape
    x = np.c_[mu_train, np.ones(n)].astype(np.float64)
    target = np.zeros((n, steps * N_CLASSES), np.float32)
    target[np.arange(n)[:, None], np.arange(steps) * N_CLASSES + events_train] = 1.0
    weights = np.linalg.solve(x.T @ x + ridge * np.eye(x.shape[1]), x.T @ target)
    return (np.c_[mu_test, np.ones(len(mu_test))] @ weights).reshape(len(mu_test), steps, N_CLASSES).argmax(-1)


FIRST_PITCH_CLASS = NOTE_OFF + 1  # classes 2..89 are note-ons (MIDI pitch = class - 2 + MIN_PITCH)


def accuracies(tokens, events):
    """(all tokens, pitch tokens) accuracy of tokens (m, T) against events (m, T)."""
    hit, pitch = tokens == events, events >= FIRST_PITCH_CLASS
    return float(hit.mean()), float(hit[pitch].mean())


def bar_accuracies(tokens, events, bar_steps=16):
    """Token accuracy of each bar: tokens and events (m, T) -> (T // bar_steps,) float64."""
    return (tokens == events).reshape(len(events), -1, bar_steps).mean(axis=(0, 2))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="shipped names, model folders or training runs")
    parser.add_argument("--ridge", type=float, default=1.0)
    args = parser.parse_args()
    for spec in args.models:
        model = run_or_model(spec)[0]  # a shipped name, a model folder or a training run
        train, heldout = corpus_split(model.config.bars)
        mu_train, mu_test = model.encode(train)[0], model.encode(heldout)[0]
        probe_tokens, decoded = ridge_probe(mu_train, train, mu_test, args.ridge), model.decode(mu_test)
        probe, decoder = accuracies(probe_tokens, heldout), accuracies(decoded, heldout)
        print(
            f"{spec}: {len(heldout):,} held-out windows; decoder {decoder[0]:.4f} (pitch tokens {decoder[1]:.4f}), "
            f"linear probe {probe[0]:.4f} (pitch tokens {probe[1]:.4f})"
        )
        for name, tokens in (("decoder", decoded), ("probe", probe_tokens)):
            print(f"  {name} by bar: " + " ".join(f"{a:.3f}" for a in bar_accuracies(tokens, heldout)))


if __name__ == "__main__":
    main()
