"""Attribute vectors the MusicVAE way against the best single neuron (paper §4).

For a feature, the attribute vector is the mean mu of the windows in the feature's top quartile
minus that of its bottom quartile (Roberts et al. 2018). The paper claims that the projection of mu on
such a vector correlates less with the feature than the best single neuron does; this module measures
both with ``|Spearman rho|``. Both are chosen on one half of the windows (the vector fitted, the neuron
picked) and scored on the other, held-out half, so neither wins by fitting noise; ``holdout=None``
scores in-sample. Symbols: ``n`` windows, ``z`` neurons, ``b`` features.
"""

import textwrap

import numpy as np
import pandas as pd

from .correlation import spearman_cross

__all__ = ["attribute_vectors", "compare_attribute_vectors", "plot_attribute_comparison"]


def attribute_vectors(mu, features, quantile=0.25):
    """One attribute vector per feature.

    Parameters
    ----------
    mu : ndarray of shape (n, z), float
    features : DataFrame of shape (n, b)
        NaN rows are left out of that feature's quartiles.
    quantile : float
        Share of windows in each extreme group (0.25: quartiles).

    Returns
    -------
    vectors : ndarray of shape (b, z), dtype=float64
        ``mean(mu | feature >= q(1 - quantile)) - mean(mu | feature <= q(quantile))``; a row of NaN where
        the two groups coincide (a feature with too few distinct values).
    """
    mu = np.asarray(mu, dtype=np.float64)
    out = np.full((features.shape[1], mu.shape[1]), np.nan)
    for j, fid in enumerate(features.columns):
        f = features[fid].to_numpy(dtype=np.float64)
        ok = ~np.isnan(f)
        low, high = np.quantile(f[ok], [quantile, 1 - quantile])
        top, bottom = ok & (f >= high), ok & (f <= low)
        if low < high:
            out[j] = mu[top].mean(axis=0) - mu[bottom].mean(axis=0)
    return out


def compare_attribute_vectors(mu, features, candidates=None, quantile=0.25, holdout=0.5, random_state=0):
    """How strongly each feature's attribute vector and its best single neuron follow the feature.

    Parameters
    ----------
    mu : ndarray of shape (n, z), float
        Every neuron: the vectors live in the whole latent space, as MusicVAE's.
    features : DataFrame of shape (n, b)
    candidates : sequence of int, optional
        Neurons among which the best single one is sought (e.g. the music neurons; noise neurons
        carry no feature); default all.
    quantile : float
    holdout : float or None
        Share of the windows (a seeded random subset) held out for scoring; the vector is fitted and the
        best neuron picked on the rest. None fits and scores on every window.
    random_state : int
        Seed of the held-out subset.

    Returns
    -------
    DataFrame of b rows
        ``feature_id``; ``vector_rho`` (|Spearman| of the projection ``mu @ v`` with the feature, held out);
        ``best_neuron`` (picked on the fitting windows) and ``neuron_rho`` (its held-out |Spearman|);
        ``neuron_wins`` (``neuron_rho > vector_rho``); ``cosine`` between the vector and that neuron's axis;
        ``fit_windows``, ``test_windows``.
    """
    mu = np.asarray(mu, dtype=np.float64)
    candidates = np.arange(mu.shape[1]) if candidates is None else np.asarray(candidates, dtype=np.int64)
    if holdout is None:
        fit = test = np.arange(len(mu))
    else:
        shuffled = np.random.default_rng(random_state).permutation(len(mu))
        n_test = min(max(int(round(holdout * len(mu))), 1), len(mu) - 1)
        test, fit = np.sort(shuffled[:n_test]), np.sort(shuffled[n_test:])
    values = features.to_numpy(dtype=np.float64)
    vectors = attribute_vectors(mu[fit], features.iloc[fit], quantile)
    columns = np.arange(values.shape[1])
    projections = mu[test] @ np.nan_to_num(vectors).T
    vector_rho = np.array([abs(spearman_cross(projections[:, [j]], values[test][:, [j]])[0, 0]) for j in columns])
    best = np.argmax(np.nan_to_num(np.abs(spearman_cross(mu[fit][:, candidates], values[fit])), nan=-1.0), axis=0)
    neuron_rho = np.abs(spearman_cross(mu[test][:, candidates[best]], values[test]))[columns, columns]
    norms = np.linalg.norm(np.nan_to_num(vectors), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cosine = np.abs(vectors[columns, candidates[best]]) / norms
    table = pd.DataFrame(
        {
            "feature_id": list(features.columns),
            "vector_rho": vector_rho,
            "best_neuron": candidates[best],
            "neuron_rho": neuron_rho,
            "cosine": cosine,
        }
    )
    table["neuron_wins"] = table["neuron_rho"] > table["vector_rho"]
    return table.assign(fit_windows=len(fit), test_windows=len(test))


def plot_attribute_comparison(table, title="Attribute vectors against the best single neuron"):
    """Each feature as a point: |Spearman| of its best neuron (x) against that of its attribute vector (y).

    Points below the diagonal are features that a single neuron follows better than the vector.

    Parameters
    ----------
    table : DataFrame
        From :func:`compare_attribute_vectors`.
    title : str

    Returns
    -------
    fig : matplotlib.figure.Figure
    ax : Axes
    """
    from ..report.figures import new_figure

    fig, ax = new_figure(figsize=(7.0, 6.0))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=0.8)
    ax.scatter(table["neuron_rho"], table["vector_rho"], s=14)
    for _, row in table.iterrows():
        ax.annotate(
            str(row["feature_id"]),
            (row["neuron_rho"], row["vector_rho"]),
            fontsize=6,
            xytext=(2, 2),
            textcoords="offset points",
        )
    ax.set(
        xlim=(0, 1),
        ylim=(0, 1),
        xlabel="|Spearman| of the best single neuron",
        ylabel="|Spearman| of the attribute vector",
    )
    ax.set_title(textwrap.fill(title, 60))
    return fig, ax
