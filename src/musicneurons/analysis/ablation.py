"""The decoder ablation: how much reconstruction is lost when a set of neurons' mu is set to 0.

The model enters only through a ``decode`` callable, ``decode(z) -> events`` with ``z`` of shape
(m, z_size) float32 and events of shape (m, T) int (argmax decoding, e.g. ``MusicVAE.decode``), so the
same function serves the study, the acceptance rule of the shipped models and any other model. Setting a
neuron's mu to 0 puts it at the prior's mean: a neuron the decoder does not use costs nothing.
Symbols: ``m`` windows, ``z`` neurons, ``T`` steps.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InvalidParameterError

__all__ = [
    "ABLATION_TOKENS",
    "AS_IS",
    "DECODER_TOKENS",
    "DECODER_TOLERANCES",
    "MUSIC_ZEROED",
    "NOISE_ZEROED",
    "DecoderCurve",
    "ablation_accuracies",
    "ablation_windows",
    "decoded_windows",
    "decoder_curve",
    "keep_grid",
    "model_ablation",
    "noise_ablation",
    "plot_decoder_curve",
]

AS_IS = "mu as is"
NOISE_ZEROED = "noise mu set to 0"
MUSIC_ZEROED = "music mu set to 0"
ABLATION_TOKENS = 16384  # decoded steps per condition in the study: 512 2-bar or 64 16-bar windows
DECODER_TOKENS = 8192  # decoded steps per point of the decoder's proof: 256 2-bar or 32 16-bar of those windows
DECODER_TOLERANCES = (0.01, 0.005)  # the decoder's k: fewest neurons kept within this much of the full latent
_GRID_RATIO = 2.0  # the decoder curve's coarse grid of k: about this ratio between neighbours


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


def ablation_windows(n, *, max_windows=None, random_state=0):
    """The windows the decoder tests decode: sorted indices (int64) of a seeded random subset of at most
    ``max_windows`` of ``n`` windows (all when None)."""
    if max_windows is None or max_windows >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(random_state).choice(n, max_windows, replace=False))


def decoded_windows(n, steps, *, random_state=0):
    """The study's decoded windows of ``n`` windows of ``steps`` steps each.

    Returns
    -------
    ablation : ndarray of int64
        The noise test's seeded windows, at most :data:`ABLATION_TOKENS` steps (:func:`ablation_windows`).
    proof : ndarray of int64
        A seeded subset of those, at most :data:`DECODER_TOKENS` steps, for the decoder's proof.
    """
    ablation = ablation_windows(n, max_windows=ABLATION_TOKENS // steps, random_state=random_state)
    keep = ablation_windows(len(ablation), max_windows=DECODER_TOKENS // steps, random_state=random_state)
    return ablation, ablation[keep]


def noise_ablation(decode, mu, events, split):
    """The noise test's ablation: decode as is, with the noise neurons' and with the music neurons' mu at 0.

    Parameters
    ----------
    decode : callable
        ``decode(z) -> events``, as in :func:`ablation_accuracies`.
    mu : ndarray of shape (n, z), float
    events : ndarray of shape (n, T), int
    split : NeuronSplit
        The study's split (:func:`~musicneurons.analysis.neurons.split_neurons`; without a split the "music" set
        is the analysed group and "noise" the others).

    Returns
    -------
    DataFrame
        :func:`ablation_accuracies` with the conditions :data:`AS_IS`, :data:`NOISE_ZEROED`, :data:`MUSIC_ZEROED`.
    """
    return ablation_accuracies(
        decode, mu, events, {NOISE_ZEROED: split.noise_neurons, MUSIC_ZEROED: split.music_neurons}
    )


def keep_grid(z):
    """The coarse grid of neurons kept: 1, 2, 4, ... doubling, and z (ndarray of int64, ascending)."""
    grid = {1, z}
    k = 1.0
    while k < z:
        grid.add(int(round(k)))
        k = max(k * _GRID_RATIO, k + 1)
    return np.array(sorted(g for g in grid if 1 <= g <= z), dtype=np.int64)


@dataclass
class DecoderCurve:
    """Token accuracy when only the first k neurons of an order keep their mu (the rest set to 0).

    Attributes
    ----------
    orders : dict of str to ndarray of shape (z,), int64
        Each order of the neurons (e.g. ``"mean sigma"``, ``"activity"``), first kept first.
    window_accuracy : dict of str to dict of int to ndarray of shape (m,), float64
        Per order and k: each decoded window's share of steps decoded right.
    full : ndarray of shape (m,), float64
        The same with every neuron kept (mu as is).
    """

    orders: dict
    window_accuracy: dict
    full: np.ndarray

    def table(self):
        """DataFrame: ``order``, ``k``, ``token_accuracy``, ``accuracy_drop`` (full minus it), ascending k."""
        full = float(self.full.mean())
        rows = [
            {"order": name, "k": k, "token_accuracy": float(acc.mean()), "accuracy_drop": full - float(acc.mean())}
            for name, per_k in self.window_accuracy.items()
            for k, acc in sorted(per_k.items())
        ]
        return pd.DataFrame(rows)

    def fewest_k(self, order, tolerance, windows=None):
        """Fewest kept neurons (of the evaluated k) whose accuracy is within ``tolerance`` of the full latent.

        Parameters
        ----------
        order : str
        tolerance : float
        windows : ndarray of int, optional
            Indices of the decoded windows to average over (a bootstrap resample); all by default.

        Returns
        -------
        int
        """
        pick = slice(None) if windows is None else windows
        full = self.full[pick].mean()
        for k, acc in sorted(self.window_accuracy[order].items()):
            if acc[pick].mean() >= full - tolerance - 1e-12:
                return int(k)
        return int(self.orders[order].size)


def _window_accuracy(decode, mu, events, kept_sets):
    """Per kept set, (m,) float64: each window's share of steps decoded right with only those neurons' mu.

    The sets are decoded in one call of ``decode`` on the stacked (len(kept_sets) * m, z) latents.
    """
    m = len(mu)
    z = np.zeros((len(kept_sets) * m, mu.shape[1]), dtype=mu.dtype)
    for i, kept in enumerate(kept_sets):
        z[i * m : (i + 1) * m, kept] = mu[:, kept]
    decoded = np.asarray(decode(z))
    if decoded.shape != (len(z), events.shape[1]):
        raise InvalidParameterError(f"decode returned shape {decoded.shape}; the windows have {events.shape}.")
    hits = (decoded.reshape(len(kept_sets), m, -1) == events).mean(axis=2)
    return list(hits)


def decoder_curve(decode, mu, events, orders, *, refine="mean sigma", tolerances=DECODER_TOLERANCES):
    """How many neurons does the decoder need? Accuracy keeping the first k of each order, k from 1 to z.

    Each order is decoded on :func:`keep_grid`; for the order ``refine`` the grid is refined by bisection
    around each tolerance until the fewest k within it of the full latent is exact.

    Parameters
    ----------
    decode : callable
        ``decode(z) -> events`` as in :func:`ablation_accuracies`.
    mu : ndarray of shape (m, z), float
    events : ndarray of shape (m, T), int
    orders : dict of str to ndarray of shape (z,), int
        Name -> neuron indices, first kept first.
    refine : str or None
        The order whose fewest k are made exact.
    tolerances : sequence of float

    Returns
    -------
    DecoderCurve
    """
    mu = np.asarray(mu, dtype=np.float32)
    events = np.asarray(events)
    z = mu.shape[1]
    curve = DecoderCurve({n: np.asarray(o, dtype=np.int64) for n, o in orders.items()}, {}, None)
    grid = keep_grid(z)[:-1]
    names = list(curve.orders)
    sets = [np.arange(z)] + [curve.orders[n][:k] for n in names for k in grid]
    accuracies = _window_accuracy(decode, mu, events, sets)
    curve.full = accuracies[0]
    for i, name in enumerate(names):
        curve.window_accuracy[name] = {z: curve.full, **dict(zip(grid.tolist(), accuracies[1 + i * len(grid) :]))}
    if refine is None:
        return curve
    per_k, order = curve.window_accuracy[refine], curve.orders[refine]
    for tolerance in tolerances:
        while True:
            hi = curve.fewest_k(refine, tolerance)
            lo = max((k for k in per_k if k < hi), default=hi)
            if hi - lo <= 1:
                break
            mid = (lo + hi) // 2
            per_k[mid] = _window_accuracy(decode, mu, events, [order[:mid]])[0]
    return curve


def plot_decoder_curve(table, marks, title="How many neurons does the decoder need?"):
    """Token accuracy against the neurons kept (log scale), one line per order, the full latent dashed.

    Parameters
    ----------
    table : DataFrame
        :meth:`DecoderCurve.table` (``order``, ``k``, ``token_accuracy``; its largest k is the full latent).
    marks : dict of str to int
        Labelled vertical lines (e.g. ``{"music neurons": 35}``).
    title : str

    Returns
    -------
    fig : matplotlib.figure.Figure
    ax : Axes
    """
    from ..report.figures import new_figure

    fig, ax = new_figure(figsize=(7.0, 4.0))
    for name, rows in table.groupby("order", sort=False):
        ax.plot(rows["k"], rows["token_accuracy"], marker=".", label=f"first k by {name}")
    full = float(table.loc[table["k"] == table["k"].max(), "token_accuracy"].iloc[0])
    ax.axhline(full, color="black", linestyle="--", linewidth=0.8, label=f"every neuron: {full:.3f}")
    ax.axhspan(full - max(DECODER_TOLERANCES), full, color="tab:green", alpha=0.12, label="within 0.01 of it")
    for (label, k), color in zip(marks.items(), ("tab:red", "tab:purple", "tab:brown")):
        ax.axvline(k, color=color, linestyle=":", label=f"{label}: {k}")
    ax.set_xscale("log")
    ax.set(xlabel="neurons kept (the rest set to mu = 0)", ylabel="token accuracy (argmax)", title=title)
    ax.legend(fontsize=8, loc="lower right")
    return fig, ax


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
    events = np.asarray(events)[ablation_windows(len(events), max_windows=max_windows, random_state=random_state)]
    mu, _ = model.encode(events)
    return ablation_accuracies(model.decode, mu, events, neuron_sets)
