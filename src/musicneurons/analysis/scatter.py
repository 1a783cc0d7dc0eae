"""A neuron's mu against features, with local regression curves (paper Figs 8-9).

The neuron and the features are picked from the strongest phik pairs, so the figures need no
hand-chosen indices. LOESS is statsmodels' ``lowess`` (local linear, tricube weights) with
``delta`` = 1 % of the x range, which at 50,000 points takes a tenth of a second instead of a minute
(reference features.md §4).
"""

import textwrap
import warnings

import numpy as np
import pandas as pd

from ..errors import InvalidParameterError

__all__ = ["loess_curve", "scatter_selection", "plot_scatter"]


def loess_curve(x, y, frac=0.3, iterations=1):
    """Local regression of ``y`` on ``x``.

    Parameters
    ----------
    x, y : ndarray of shape (n,), float
        NaN pairs are dropped.
    frac : float
        Fraction of the points in each local fit.
    iterations : int
        Robustifying iterations (0 = plain least squares).

    Returns
    -------
    x_sorted : ndarray of shape (m,), dtype=float64
        The distinct x values, increasing.
    y_fit : ndarray of shape (m,), dtype=float64
        The fitted curve there (NaN where a local fit is degenerate, e.g. all its points share one x).
    """
    from statsmodels.nonparametric.smoothers_lowess import lowess

    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    if x.size < 3:
        raise InvalidParameterError(f"loess_curve needs at least 3 points without NaN. Got {x.size}.")
    with warnings.catch_warnings():  # a local fit over one repeated x value divides by zero; its point is NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        fit = lowess(y, x, frac=frac, it=iterations, delta=0.01 * float(np.ptp(x)), return_sorted=True)
    xs, first = np.unique(fit[:, 0], return_index=True)
    return xs, fit[first, 1]


def scatter_selection(table, categories=None, n_features=4):
    """The neuron of the strongest pair and, per category, its most correlated features.

    Parameters
    ----------
    table : DataFrame
        Long correlation table (:meth:`CrossCorrelation.table`): ``neuron``, ``feature_id``, ``phik``.
    categories : dict of str to str, optional
        Category of each feature id; one group "all" when omitted.
    n_features : int
        Features per category.

    Returns
    -------
    neuron : int
        The neuron of the highest-phik pair (ties: the earlier row of ``table``).
    features : dict of str to list of str
        Category -> feature ids of that neuron by decreasing phik.
    """
    ranked = table.dropna(subset=["phik"]).sort_values("phik", ascending=False, kind="stable")
    if ranked.empty:
        raise InvalidParameterError("scatter_selection needs at least one finite phik value in 'table'.")
    neuron = int(ranked["neuron"].iloc[0])
    mine = ranked[ranked["neuron"] == neuron]
    group = mine["feature_id"].map(categories) if categories else pd.Series("all", index=mine.index)
    return neuron, {
        cat: list(rows["feature_id"].head(n_features)) for cat, rows in mine.groupby(group.to_numpy(), sort=True)
    }


def plot_scatter(mu_neuron, features, feature_ids, neuron_label, title=None, max_points=5000, random_state=0):
    """A neuron's mu against each feature, one panel each, with the LOESS curve in red.

    Parameters
    ----------
    mu_neuron : ndarray of shape (n,), float
    features : DataFrame of shape (n, b)
    feature_ids : sequence of str
        Panels, left to right.
    neuron_label : str
        E.g. ``"#1 (n2)"`` (rank, then index), used in the y label.
    title : str, optional
    max_points : int
        Points drawn per panel (a random subset; the curve uses all points).
    random_state : int

    Returns
    -------
    fig : matplotlib.figure.Figure
    ax : ndarray of Axes, one per feature
    """
    from ..report.figures import new_figure
    from ..report.labels import feature_label

    mu_neuron = np.asarray(mu_neuron, dtype=np.float64)
    fig, ax = new_figure(1, len(feature_ids), figsize=(3.2 * len(feature_ids), 3.4), sharey=True, squeeze=False)
    ax = ax[0]
    shown = np.random.default_rng(random_state).permutation(mu_neuron.size)[:max_points]
    for axis, fid in zip(ax, feature_ids):
        feature = features[fid].to_numpy(dtype=np.float64)
        axis.scatter(feature[shown], mu_neuron[shown], s=2, alpha=0.3, color="tab:blue", rasterized=True)
        if np.unique(feature[~np.isnan(feature)]).size >= 3:
            xs, ys = loess_curve(feature, mu_neuron)
            axis.plot(xs, ys, color="red", linewidth=1.5)
        axis.set_xlabel(textwrap.fill(feature_label(fid), 28))
    ax[0].set_ylabel(f"mu of {neuron_label}")
    fig.suptitle(title or f"{neuron_label} against features")
    return fig, ax
