"""Real music against random note sequences in latent space (paper §5, Figs 10-11, and beyond).

Symbols: ``n_real``, ``n_random`` windows; ``z`` neurons. Both sets are encoded by the same model; the
music/noise split comes from the real windows.
"""

import numpy as np
import pandas as pd

from .inputs import check_latents

__all__ = [
    "ACTIVATION_THRESHOLD",
    "RELATIVE_THRESHOLD",
    "activation_counts",
    "relative_activation_counts",
    "contrast_auc",
    "plot_neuron_histograms",
    "plot_activation_counts",
    "CONTRAST_NOTE",
]

ACTIVATION_THRESHOLD = 0.1
RELATIVE_THRESHOLD = 2.0
CONTRAST_NOTE = (
    "Uniform random notes (paper §5.1) are far from any music the model was trained on, so a high "
    "AUC is expected of any encoder that sees its input: it checks the pipeline, it is not a finding "
    "of the paper."
)


def activation_counts(mu, music, threshold=ACTIVATION_THRESHOLD, center=0.0):
    """Per window, the number of music and of noise neurons with ``|mu - center| > threshold`` (paper §5.3).

    Parameters
    ----------
    mu : ndarray of shape (n, z)
    music : ndarray of shape (z,), dtype=bool
        Music neurons (``NeuronSplit.music``).
    threshold : float or ndarray of shape (z,)
        The paper's absolute 0.1, or one threshold per neuron.
    center : float or ndarray of shape (z,)
        0 for the paper's count.

    Returns
    -------
    DataFrame of n rows
        Integer columns ``music_active`` and ``noise_active``.
    """
    excited = np.abs(np.asarray(mu) - center) > threshold
    return pd.DataFrame({"music_active": excited[:, music].sum(axis=1), "noise_active": excited[:, ~music].sum(axis=1)})


def relative_activation_counts(mu, reference_mu, music, k=RELATIVE_THRESHOLD):
    """Fig 11's counts with a threshold relative to each neuron's spread on the real windows.

    A neuron counts as excited in a window when its mu lies more than ``k`` standard deviations (over
    ``reference_mu``) from its mean there: about 5 % of a Gaussian neuron's real windows for ``k = 2``,
    whatever the neuron's scale, where the absolute 0.1 counts every window of a wide neuron and none of a
    narrow one.

    Parameters
    ----------
    mu : ndarray of shape (n, z)
        Windows to count (real or random).
    reference_mu : ndarray of shape (n_real, z)
        The real windows that set each neuron's mean and spread.
    music : ndarray of shape (z,), dtype=bool
    k : float

    Returns
    -------
    DataFrame of n rows
        Integer columns ``music_active`` and ``noise_active``.
    """
    reference_mu = np.asarray(reference_mu, dtype=np.float64)
    return activation_counts(mu, music, k * reference_mu.std(axis=0), reference_mu.mean(axis=0))


def _inputs(mu, music, threshold):
    """The three inputs scored by :func:`contrast_auc`, each (n, k) float64."""
    return {
        "activation counts": activation_counts(mu, music, threshold).to_numpy(dtype=np.float64),
        "mu of music neurons": mu[:, music],
        "mu of all neurons": mu,
    }


def contrast_auc(real_mu, random_mu, music, threshold=ACTIVATION_THRESHOLD, folds=5, max_windows=10000, random_state=0):
    """How well a logistic regression tells real from random windows, by cross-validated ROC AUC.

    Three inputs are scored: the two activation counts (paper Fig 11), the mu of the music neurons,
    and the mu of all neurons. Each class is subsampled to ``max_windows`` windows, and the folds are
    stratified and shuffled with ``random_state``.

    Parameters
    ----------
    real_mu : ndarray of shape (n_real, z)
    random_mu : ndarray of shape (n_random, z)
    music : ndarray of shape (z,), dtype=bool
    threshold : float
    folds : int
        At most this many folds; fewer when a class has fewer windows (each has at least 2).
    max_windows : int
    random_state : int

    Returns
    -------
    DataFrame of up to 3 rows
        ``input``, ``n_inputs``, ``auc_mean``, ``auc_std`` (over the folds), ``windows``; an input
        without columns (no music neuron) is left out.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(random_state)
    real_mu, _ = check_latents(real_mu, where="contrast_auc")
    random_mu, _ = check_latents(random_mu, where="contrast_auc")
    real_mu = real_mu[rng.permutation(len(real_mu))[:max_windows]]
    random_mu = random_mu[rng.permutation(len(random_mu))[:max_windows]]
    labels = np.r_[np.ones(len(real_mu)), np.zeros(len(random_mu))]
    real, rand = _inputs(real_mu, music, threshold), _inputs(random_mu, music, threshold)
    cv = StratifiedKFold(min(folds, len(real_mu), len(random_mu)), shuffle=True, random_state=random_state)
    rows = []
    for name in real:
        data = np.vstack([real[name], rand[name]])
        if data.shape[1] == 0:  # no music neuron
            continue
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
        scores = cross_val_score(model, data, labels, cv=cv, scoring="roc_auc")
        rows.append(
            {
                "input": name,
                "n_inputs": data.shape[1],
                "auc_mean": scores.mean(),
                "auc_std": scores.std(),
                "windows": len(labels),
            }
        )
    return pd.DataFrame(rows)


def plot_neuron_histograms(real_mu, random_mu, neurons, title="mu of the first neurons: real and random"):
    """Paper Fig 10: histograms of mu of some neurons for real and for random windows.

    Parameters
    ----------
    real_mu : ndarray of shape (n_real, z)
    random_mu : ndarray of shape (n_random, z)
    neurons : sequence of int
        Neuron indices, one panel each (the first four in the order by mean sigma in the paper).
    title : str

    Returns
    -------
    fig : matplotlib.figure.Figure
    ax : ndarray of Axes, one per neuron
    """
    from ..report.figures import new_figure

    fig, ax = new_figure(1, len(neurons), figsize=(3.2 * len(neurons), 3.2), squeeze=False)
    ax = ax[0]
    for rank, (axis, neuron) in enumerate(zip(ax, neurons)):
        both = np.r_[real_mu[:, neuron], random_mu[:, neuron]]
        edges = np.linspace(both.min(), both.max(), 61)
        axis.hist(real_mu[:, neuron], bins=edges, density=True, alpha=0.6, label="real")
        axis.hist(random_mu[:, neuron], bins=edges, density=True, alpha=0.6, label="random")
        axis.set_xlabel(f"mu of #{rank + 1} (n{neuron})")
    ax[0].set_ylabel("density")
    ax[0].legend()
    fig.suptitle(title)
    return fig, ax


def plot_activation_counts(
    real_counts,
    random_counts,
    n_music,
    n_noise,
    title="Neurons with |mu| > 0.1: real and random",
    rule="|mu| > 0.1",
    kinds=("music", "noise"),
):
    """Paper Fig 11: histograms of the activation counts among music (left) and noise (right) neurons.

    Parameters
    ----------
    real_counts, random_counts : DataFrame
        From :func:`activation_counts`.
    n_music, n_noise : int
        Neurons of each kind (the x range).
    title : str
    rule : str
        The excitation rule, in the x labels.
    kinds : tuple of 2 str
        Names of the two neuron sets in the x labels (e.g. ``("first", "other")`` without a split).

    Returns
    -------
    fig : matplotlib.figure.Figure
    ax : ndarray of 2 Axes
    """
    from ..report.figures import new_figure

    fig, ax = new_figure(1, 2, figsize=(10, 3.6))
    for axis, column, total, kind in (
        (ax[0], "music_active", n_music, kinds[0]),
        (ax[1], "noise_active", n_noise, kinds[1]),
    ):
        edges = np.arange(total + 2) - 0.5
        axis.hist(real_counts[column], bins=edges, alpha=0.6, label="real", density=True)
        axis.hist(random_counts[column], bins=edges, alpha=0.6, label="random", density=True)
        axis.set_xlabel(f"{kind} neurons with {rule} (of {total})")
    ax[0].set_ylabel("share of windows")
    ax[0].legend()
    fig.suptitle(title)
    return fig, ax
