"""Neuron statistics over a set of encodings: the order by mean sigma and the music/noise split.

Symbols: ``n`` windows, ``z`` latent neurons. A *music neuron* is one the encoder uses for real windows; a
*noise neuron* sits in the pile at the prior N(0, 1) whatever the input (paper §3).

The group analysed downstream comes from one of three rules (``NeuronSplit.rule``):

- ``"split"`` (the default when the data show one): the used neurons that
  :func:`~musicneurons.analysis.split.detect_split` separates from the pile at the prior; they are the music
  neurons, ordered by mean sigma;
- ``"no split"`` (the default when they do not): the first neurons by mean sigma, those below
  ``FALLBACK_SIGMA`` = 0.5 (a posterior on average at most half as wide as the prior), so that the tables
  still compute; they are labelled as such and never called music neurons;
- ``"threshold"``: mean sigma below a ``sigma_threshold`` given by hand.

Beside it the **active-unit rule** (Burda et al. 2016) is reported: the variance of mu across windows above 0.01.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InvalidParameterError
from .inputs import check_latents
from .split import NeuronProfile, SplitDetection, count_band, detect_split, neuron_profile

__all__ = [
    "NeuronSplit",
    "order_by_sigma",
    "split_neurons",
    "neuron_statistics",
    "plot_neuron_boxplots",
    "FALLBACK_SIGMA",
    "ACTIVE_THRESHOLD",
]

FALLBACK_SIGMA = 0.5
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
    """The order of the neurons, the group analysed downstream and the detected music/noise split.

    Attributes
    ----------
    order : ndarray of shape (z,), dtype=int64
        Neuron indices by increasing mean sigma.
    music : ndarray of shape (z,), dtype=bool
        The analysed group (music neurons when ``rule == "split"``), indexed by neuron.
    active : ndarray of shape (z,), dtype=bool
        Active units (variance of mu above ``active_threshold``), indexed by neuron.
    sigma_threshold : float or None
        The cut on mean sigma that gives ``music`` under the rules "no split" and "threshold"; None under "split".
    active_threshold : float
    profile : NeuronProfile
        Mean sigma, activity and KL of each neuron.
    detection : SplitDetection
        The split rule's answer on the profile.
    rule : {"split", "no split", "threshold"}
        Which rule chose ``music`` (module docstring).
    """

    order: np.ndarray
    music: np.ndarray
    active: np.ndarray
    sigma_threshold: float | None
    active_threshold: float
    profile: NeuronProfile
    detection: SplitDetection
    rule: str

    @property
    def is_split(self):
        """Whether the group is a detected set of music neurons (bool)."""
        return self.rule == "split"

    @property
    def group_label(self):
        """What to call the analysed group in tables and reports (str)."""
        k = int(self.music.sum())
        if self.rule == "split":
            return "music neurons"
        if self.rule == "no split":
            return f"first {k} neurons by mean sigma (no split)"
        return f"neurons with mean sigma < {self.sigma_threshold:g} (threshold set by hand)"

    @property
    def other_label(self):
        """What to call the other neurons (str)."""
        return "noise neurons" if self.is_split else "other neurons"

    @property
    def music_neurons(self):
        """The analysed group in the order by mean sigma (ndarray of int64)."""
        return self.order[self.music[self.order]]

    @property
    def noise_neurons(self):
        """The other neurons in the order by mean sigma (ndarray of int64)."""
        return self.order[~self.music[self.order]]

    def summary(self):
        """The split, the count's band, the group and the active-unit rule, as a JSON-able dict."""
        k = int(self.music.sum())
        return {
            "neurons": int(self.music.size),
            "split_found": self.is_split,
            "split": self.detection.summary(),
            "count_band": count_band(self.profile, self.detection),
            "group_rule": self.rule,
            "group": self.group_label,
            "group_size": k,
            "music_neurons": k if self.is_split else None,
            "sigma_threshold": self.sigma_threshold,
            "active_units": int(self.active.sum()),
            "both_rules": int((self.music & self.active).sum()),
            "agreement": float((self.music == self.active).mean()),
            "active_threshold": self.active_threshold,
        }


def split_neurons(mu, sigma, sigma_threshold=None, active_threshold=ACTIVE_THRESHOLD, *, random_state=0):
    """Order the neurons by mean sigma, detect the music/noise split and choose the group to analyse.

    Parameters
    ----------
    mu, sigma : ndarray of shape (n, z)
        Encodings of real windows.
    sigma_threshold : float, optional
        By hand: the group is the neurons with mean sigma strictly below it. Default: the detected split,
        else the fallback (module docstring).
    active_threshold : float
        A neuron whose mu has variance (ddof=0) strictly above it is an active unit.
    random_state : int
        Seed of the split rule's mixtures.

    Returns
    -------
    NeuronSplit
    """
    mu, sigma = check_latents(mu, sigma, "split_neurons")
    if sigma_threshold is not None and not sigma_threshold > 0:
        raise InvalidParameterError(
            f"The 'sigma_threshold' parameter of split_neurons must be > 0 or None. Got {sigma_threshold!r}."
        )
    if mu.shape[1] < 3:
        raise InvalidParameterError(f"split_neurons needs a latent space of at least 3 neurons. Got {mu.shape[1]}.")
    profile = neuron_profile(mu, sigma)
    order = order_by_sigma(sigma)
    detection = detect_split(profile, random_state=random_state)
    if sigma_threshold is not None:
        rule, music = "threshold", profile.mean_sigma < sigma_threshold
    elif detection.found:
        rule, music = "split", detection.used.copy()
    else:
        rule, sigma_threshold = "no split", FALLBACK_SIGMA
        music = profile.mean_sigma < sigma_threshold
    return NeuronSplit(
        order=order,
        music=music,
        active=profile.activity > active_threshold,
        sigma_threshold=None if sigma_threshold is None else float(sigma_threshold),
        active_threshold=float(active_threshold),
        profile=profile,
        detection=detection,
        rule=rule,
    )


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
        ``sigma_std``, ``sigma_q25``, ``sigma_median``, ``sigma_q75``, ``mu_mean``, ``mu_std``,
        ``mu_q25``, ``mu_median``, ``mu_q75``, ``activity`` (variance of mu), ``kl`` (mean KL from the prior,
        nats), ``music`` (the analysed group: music neurons when a split was
        found), ``active`` (active-unit rule).
    """
    mu, sigma = check_latents(mu, sigma, "neuron_statistics")
    split = split or split_neurons(mu, sigma)
    order = split.order
    table = {"rank": np.arange(order.size), "neuron": order}
    for name, values in (("sigma", sigma[:, order]), ("mu", mu[:, order])):
        q25, q50, q75 = np.quantile(values, [0.25, 0.5, 0.75], axis=0)
        table.update(
            {
                f"{name}_mean": values.mean(axis=0),
                f"{name}_std": values.std(axis=0),
                f"{name}_q25": q25,
                f"{name}_median": q50,
                f"{name}_q75": q75,
            }
        )
    table["activity"] = split.profile.activity[order]
    table["kl"] = split.profile.kl[order]
    table["music"] = split.music[order]
    table["active"] = split.active[order]
    return pd.DataFrame(table)


def _box_stats(values):
    """matplotlib ``bxp`` statistics per column of (n, k) values: box at the quartiles, whiskers at 1%/99%."""
    q = np.quantile(values, [0.01, 0.25, 0.5, 0.75, 0.99], axis=0)
    return [{"whislo": lo, "q1": q1, "med": med, "q3": q3, "whishi": hi, "fliers": []} for lo, q1, med, q3, hi in q.T]


def plot_neuron_boxplots(mu, sigma, split=None, n_neurons=100, title="Spread of sigma and mu per neuron"):
    """Paper Fig 4: box plots of sigma (top) and mu (bottom) of the first neurons in order.

    Boxes span the quartiles, whiskers the 1st to 99th percentiles; the analysed group's neurons (the music
    neurons when a split was found) are shaded red.

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
        axis.bxp(
            _box_stats(values[:, shown]),
            positions=np.arange(1, shown.size + 1),
            showfliers=False,
            widths=0.6,
            boxprops={"linewidth": 0.6},
            whiskerprops={"linewidth": 0.6},
            medianprops={"color": "tab:orange", "linewidth": 0.8},
            capprops={"linewidth": 0.6},
        )
        axis.set_ylabel(label)
        for position in np.flatnonzero(split.music[shown]) + 1:
            axis.axvspan(position - 0.5, position + 0.5, color="tab:red", alpha=0.12, linewidth=0)
    if split.sigma_threshold is not None:
        ax[0].axhline(split.sigma_threshold, color="grey", linestyle=":", linewidth=0.8)
    ticks = np.arange(0, shown.size, 10)
    ax[1].set_xticks(ticks + 1, [str(t + 1) for t in ticks])
    ax[1].set_xlabel("neuron rank by mean sigma")
    ax[0].set_title(title)
    return fig, ax
