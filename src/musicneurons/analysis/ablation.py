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

__all__ = [
    "ABLATION_TOKENS",
    "AS_IS",
    "MUSIC_ZEROED",
    "NOISE_ZEROED",
    "ablation_accuracies",
    "model_ablation",
    "noise_ablation",
]

AS_IS = "mu as is"
NOISE_ZEROED = "noise mu set to 0"
MUSIC_ZEROED = "music mu set to 0"
ABLATION_TOKENS = 16384  # decoded steps per condition in the study: 512 2-bar or 64 16-bar windows


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
        raise InvalidParameterError(
            f"ablation_accuracies needs mu (m, z) and events (m, T) with the same m >= 1. "
            f"Got {mu.shape} and {events.shape}."
        )
    rows = []
    for name, neurons in {AS_IS: [], **neuron_sets}.items():
        neurons = np.asarray(neurons, dtype=np.int64)
        z = mu.copy()
        z[:, neurons] = 0.0
        decoded = np.asarray(decode(z))
        if decoded.shape != events.shape:
            raise InvalidParameterError(f"decode returned shape {decoded.shape}; the windows have {events.shape}.")
        hits = decoded == events
        rows.append(
            {
                "condition": name,
                "neurons_zeroed": int(neurons.size),
                "token_accuracy": float(hits.mean()),
                "exact_share": float(hits.all(axis=1).mean()),
                "windows": len(events),
            }
        )
    table = pd.DataFrame(rows)
    table.insert(4, "accuracy_drop", table["token_accuracy"].iloc[0] - table["token_accuracy"])
    return table


def _subset(n, max_windows, random_state):
    """Sorted indices of a seeded random subset of at most ``max_windows`` of ``n`` windows (all when None)."""
    if max_windows is None or max_windows >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(random_state).choice(n, max_windows, replace=False))


def noise_ablation(decode, mu, sigma, events, max_windows=None, random_state=0, sigma_threshold=None):
    """The noise test's ablation: decode as is, with the noise neurons' and with the music neurons' mu at 0.

    The neurons are split as :func:`~musicneurons.analysis.study.analyse_study` splits them
    (:func:`~musicneurons.analysis.neurons.split_neurons` on ``mu`` and ``sigma``; without a clear split the
    "music" set is the first neurons by mean sigma and "noise" the others).

    Parameters
    ----------
    decode : callable
        ``decode(z) -> events``, as in :func:`ablation_accuracies`.
    mu, sigma : ndarray of shape (n, z), float
        Encodings of the windows (all of them: they set the split).
    events : ndarray of shape (n, T), int
    max_windows : int, optional
        Decode a seeded random subset of at most this many windows.
    random_state : int
    sigma_threshold : float, optional
        As in :func:`~musicneurons.analysis.neurons.split_neurons`.

    Returns
    -------
    DataFrame
        :func:`ablation_accuracies` with the conditions :data:`AS_IS`, :data:`NOISE_ZEROED`, :data:`MUSIC_ZEROED`.
    """
    from .neurons import split_neurons

    split = split_neurons(mu, sigma, sigma_threshold)
    keep = _subset(len(events), max_windows, random_state)
    return ablation_accuracies(
        decode,
        np.asarray(mu)[keep],
        np.asarray(events)[keep],
        {NOISE_ZEROED: split.noise_neurons, MUSIC_ZEROED: split.music_neurons},
    )


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
    events = np.asarray(events)[_subset(len(events), max_windows, random_state)]
    mu, _ = model.encode(events)
    return ablation_accuracies(model.decode, mu, events, neuron_sets)
