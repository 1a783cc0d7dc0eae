"""Held-out reconstruction metrics of a MusicVAE and the mean-sigma profile of its latent neurons."""

import numpy as np

from ..melody.events import HOLD

__all__ = ["reconstruction_metrics", "sigma_profile"]


def reconstruction_metrics(model, events, batch_size=512):
    """Reconstruction quality on windows, all decoded from mu.

    Parameters
    ----------
    model : MusicVAE
    events : ndarray (n, T) int8
        Held-out windows.
    batch_size : int

    Returns
    -------
    dict of float
        ``tf_accuracy``: teacher-forced argmax token accuracy; ``argmax_accuracy``: token accuracy of
        the free-running argmax decode; ``nonhold_accuracy``: the same on steps whose target is not a
        hold; ``exact_share``: share of windows decoded exactly; ``hold_baseline``: accuracy of always
        predicting a hold; ``mean_sigma``: mean posterior sigma; ``n_windows``.
    """
    mu, sigma = model.encode(events, batch_size=batch_size)
    decoded = model.decode(mu, batch_size=batch_size)
    tf_hits = np.concatenate([
        model.decoder_logits(mu[s:s + batch_size], events[s:s + batch_size]).argmax(-1) == events[s:s + batch_size]
        for s in range(0, len(events), batch_size)])
    hits = decoded == events
    nonhold = events != HOLD
    return {"tf_accuracy": float(tf_hits.mean()), "argmax_accuracy": float(hits.mean()),
            "nonhold_accuracy": float(hits[nonhold].mean()), "exact_share": float(hits.all(axis=1).mean()),
            "hold_baseline": float((~nonhold).mean()), "mean_sigma": float(sigma.mean()),
            "n_windows": int(len(events))}


def sigma_profile(model, events, batch_size=512):
    """Mean posterior sigma of each latent neuron over ``events`` (n, T), sorted ascending -> (z,) float32."""
    _, sigma = model.encode(events, batch_size=batch_size)
    return np.sort(sigma.mean(axis=0))
