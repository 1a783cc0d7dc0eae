"""The decoder ablation: how much reconstruction is lost when a set of neurons' mu is set to 0.

The model enters only through a ``decode`` callable, ``decode(z) -> events`` with ``z`` of shape
(m, z_size) float32 and events of shape (m, T) int (argmax decoding, e.g. ``MusicVAE.decode``), so the
same function serves the study, the acceptance rule of the shipped models and any other model. Setting a
neuron's mu to 0 puts it at the prior's mean: a neuron the decoder does not use costs nothing.
Symbols: ``m`` windows, ``z`` neurons, ``T`` steps.
"""

import numpy as np
import pandas as pd

from ..errors import InvalidParameterError

__all__ = ["AS_IS", "ablation_accuracies", "model_ablation"]

AS_IS = "mu as is"


def ablation_accuracies(decode, mu, events, neuron_sets):
    """Token accuracy and exact windows decoding mu as is and with each set of neurons' mu set to 0.

    Parameters
    ----------
    decode : callable
        ``decode(z)`` with z of shape (m, z) float32 -> events of shape (m, T), int.
    mu : ndarray of shape (m, z), float
        Posterior means of the windows.
    events : ndarray of shape (m, T), int
        The windows themselves (the targets).
    neuron_sets : dict of str to sequence of int
        Condition name (e.g. ``"noise mu set to 0"``) -> neuron indices whose mu is zeroed.

    Returns
    -------
    DataFrame of 1 + len(neuron_sets) rows
        ``condition`` (first :data:`AS_IS`), ``neurons_zeroed``, ``token_accuracy`` (share of steps decoded
        right), ``exact_share`` (share of windows decoded exactly), ``accuracy_drop`` (as-is accuracy minus
        this one), ``windows``.
    """
    mu = np.asarray(mu, dtype=np.float32)
    events = np.asarray(events)
    if mu.ndim != 2 or events.ndim != 2 or len(mu) != len(events) or len(mu) == 0:
        raise InvalidParameterError(f"ablation_accuracies needs mu (m, z) and events (m, T) with the same m >= 1. "
                                    f"Got {mu.shape} and {events.shape}.")
    rows = []
    for name, neurons in {AS_IS: [], **neuron_sets}.items():
        neurons = np.asarray(neurons, dtype=np.int64)
        z = mu.copy()
        z[:, neurons] = 0.0
        decoded = np.asarray(decode(z))
        if decoded.shape != events.shape:
            raise InvalidParameterError(f"decode returned shape {decoded.shape}; the windows have {events.shape}.")
        hits = decoded == events
        rows.append({"condition": name, "neurons_zeroed": int(neurons.size), "token_accuracy": float(hits.mean()),
                     "exact_share": float(hits.all(axis=1).mean()), "windows": int(len(events))})
    table = pd.DataFrame(rows)
    table.insert(4, "accuracy_drop", table["token_accuracy"].iloc[0] - table["token_accuracy"])
    return table


def model_ablation(model, events, neuron_sets, max_windows=None, random_state=0):
    """:func:`ablation_accuracies` of a model on windows: encode them, then decode mu by argmax.

    Parameters
    ----------
    model : object
        With ``encode(events) -> (mu, sigma)`` and ``decode(z) -> events`` (a ``MusicVAE``).
    events : ndarray of shape (n, T), int
    neuron_sets : dict of str to sequence of int
    max_windows : int, optional
        A seeded random subset of at most this many windows (all by default).
    random_state : int

    Returns
    -------
    DataFrame
        As :func:`ablation_accuracies`.
    """
    events = np.asarray(events)
    if max_windows is not None and max_windows < len(events):
        keep = np.sort(np.random.default_rng(random_state).choice(len(events), max_windows, replace=False))
        events = events[keep]
    mu, _ = model.encode(events)
    return ablation_accuracies(model.decode, mu, events, neuron_sets)
