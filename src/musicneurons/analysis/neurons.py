"""Neuron statistics over a set of encodings: the order by mean sigma and the music/noise split.

Symbols: ``n`` windows, ``z`` latent neurons. A *music neuron* is one the encoder pins down for
real windows; a *noise neuron* echoes the prior N(0, 1) whatever the input (paper §3).

Two rules are reported side by side:

- **sigma rule** (the paper's, our default): mean posterior sigma below ``sigma_threshold`` = 0.5,
  i.e. the posterior is on average at most half as wide as the prior. The music neurons are then a
  prefix of the order by mean sigma.
- **active-unit rule** (Burda et al. 2016): the variance of mu across windows above 0.01.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InvalidParameterError
from .inputs import check_latents

__all__ = ["NeuronSplit", "order_by_sigma", "split_neurons", "neuron_statistics", "plot_neuron_boxplots",
           "SIGMA_THRESHOLD", "ACTIVE_THRESHOLD"]

SIGMA_THRESHOLD = 0.5
ACTIVE_THRESHOLD = 0.01


def order_by_sigma(sigma):
    """Neuron indices by increasing mean sigma (the paper's "specificity" order; stable on ties).

    Parameters
    ----------
    sigma : ndarray of shape (n, z)

    Returns
    -------
    order : ndarray of shape (z,), dtype=int64
        ``order[0]`` is the most specific neuron.
    """
    return np.argsort(np.asarray(sigma, dtype=np.float64).mean(axis=0), kind="stable").astype(np.int64)


@dataclass(frozen=True)
class NeuronSplit:
    """The order of the neurons and their split into music and noise neurons.

    Attributes
    ----------
    order : ndarray of shape (z,), dtype=int64
        Neuron indices by increasing mean sigma.
    music : ndarray of shape (z,), dtype=bool
        Music neurons by the sigma rule, indexed by neuron.
    active : ndarray of shape (z,), dtype=bool
        Active units (variance of mu above ``active_threshold``), indexed by neuron.
    sigma_threshold, active_threshold : float
    """

    order: np.ndarray
    music: np.ndarray
    active: np.ndarray
    sigma_threshold: float
    active_threshold: float

    @property
    def music_neurons(self):
        """Music neurons in the order by mean sigma (ndarray of int64)."""
        return self.order[self.music[self.order]]

    @property
    def noise_neurons(self):
        """Noise neurons in the order by mean sigma (ndarray of int64)."""
        return self.order[~self.music[self.order]]

    def summary(self):
        """Counts of both rules and their agreement, as a dict of Python numbers."""
        return {"neurons": int(self.music.size), "music_by_sigma": int(self.music.sum()),
                "active_units": int(self.active.sum()),
                "both_rules": int((self.music & self.active).sum()),
                "agreement": float((self.music == self.active).mean()),
                "sigma_threshold": self.sigma_threshold, "active_threshold": self.active_threshold}


def split_neurons(mu, sigma, sigma_threshold=SIGMA_THRESHOLD, active_threshold=ACTIVE_THRESHOLD):
    """Order the neurons by mean sigma and split them into music and noise neurons by both rules.

    Parameters
    ----------
    mu, sigma : ndarray of shape (n, z)
        Encodings of real windows.
    sigma_threshold : float
        A neuron with mean sigma strictly below it is a music neuron.
    active_threshold : float
        A neuron whose mu has variance (ddof=0) strictly above it is an active unit.

    Returns
    -------
    NeuronSplit
    """
    mu, sigma = check_latents(mu, sigma, "split_neurons")
    if not sigma_threshold > 0:
        raise InvalidParameterError(f"The 'sigma_threshold' parameter of split_neurons must be > 0. Got {sigma_threshold!r}.")
    return NeuronSplit(order=order_by_sigma(sigma), music=sigma.mean(axis=0) < sigma_threshold,
                       active=mu.var(axis=0) > active_threshold, sigma_threshold=float(sigma_threshold),
                       active_threshold=float(active_threshold))


def neuron_statistics(mu, sigma, split=None):
    """Per-neuron mean and spread of sigma and mu, one row per neuron in the order by mean sigma.

    Parameters
    ----------
    mu, sigma : ndarray of shape (n, z)
    split : NeuronSplit, optional
        Computed with default thresholds when omitted.

    Returns
    -------
    DataFrame of z rows
        ``rank`` (0 = most specific), ``neuron`` (index in the latent vector), ``sigma_mean``,
        ``sigma_std``, ``sigma_q25``, ``sigma_median``, ``sigma_q75``, ``mu_mean``, ``mu_std``, ``mu_var``,
        ``mu_q25``, ``mu_median``, ``mu_q75``, ``music`` (sigma rule), ``active`` (active-unit rule).
    """
    mu, sigma = check_latents(mu, sigma, "neuron_statistics")
    split = split or split_neurons(mu, sigma)
    order = split.order
    table = {"rank": np.arange(order.size), "neuron": order}
    for name, values in (("sigma", sigma[:, order]), ("mu", mu[:, order])):
        q25, q50, q75 = np.quantile(values, [0.25, 0.5, 0.75], axis=0)
        table.update({f"{name}_mean": values.mean(axis=0), f"{name}_std": values.std(axis=0),
                      f"{name}_q25": q25, f"{name}_median": q50, f"{name}_q75": q75})
    table["mu_var"] = mu[:, order].var(axis=0)
    table["music"] = split.music[order]
    table["active"] = split.active[order]
    return pd.DataFrame(table)


def _box_stats(values):
    """matplotlib ``bxp`` statistics per column of (n, k) values: box at the quartiles, whiskers at 1%/99%."""
    q = np.quantile(values, [0.01, 0.25, 0.5, 0.75, 0.99], axis=0)
    return [{"whislo": lo, "q1": q1, "med": med, "q3": q3, "whishi": hi, "fliers": []} for lo, q1, med, q3, hi in q.T]


def plot_neuron_boxplots(mu, sigma, split=None, n_neurons=100, title="Spread of sigma and mu per neuron"):
    """Paper Fig 4: box plots of sigma (top) and mu (bottom) of the first neurons in order.

    Boxes span the quartiles, whiskers the 1st to 99th percentiles; a dashed red line marks the end
    of the music neurons.

    Parameters
    ----------
    mu, sigma : ndarray of shape (n, z)
    split : NeuronSplit, optional
    n_neurons : int
        Neurons shown, from the most specific.
    title : str

    Returns
    -------
    fig : matplotlib.figure.Figure
    ax : ndarray of 2 Axes
    """
    from ..report.figures import new_figure

    mu, sigma = check_latents(mu, sigma, "plot_neuron_boxplots")
    split = split or split_neurons(mu, sigma)
    shown = split.order[:n_neurons]
    fig, ax = new_figure(2, 1, figsize=(12, 6), sharex=True)
    for axis, values, label in ((ax[0], sigma, "sigma"), (ax[1], mu, "mu")):
        axis.bxp(_box_stats(values[:, shown]), positions=np.arange(1, shown.size + 1), showfliers=False,
                 widths=0.6, boxprops={"linewidth": 0.6}, whiskerprops={"linewidth": 0.6},
                 medianprops={"color": "tab:orange", "linewidth": 0.8}, capprops={"linewidth": 0.6})
        axis.set_ylabel(label)
        axis.axvline(split.music[shown].sum() + 0.5, color="red", linestyle="--", linewidth=1)
    ax[0].axhline(split.sigma_threshold, color="grey", linestyle=":", linewidth=0.8)
    ticks = np.arange(0, shown.size, 10)
    ax[1].set_xticks(ticks + 1, [str(t + 1) for t in ticks])
    ax[1].set_xlabel("neuron rank by mean sigma")
    ax[0].set_title(title)
    return fig, ax
