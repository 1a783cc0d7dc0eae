"""Disentanglement scores of music-VAE studies (reference features.md §5), music neurons against features.

Definitions follow AR-VAE's evaluation (Pati & Lerch 2020) with continuous attributes, except that the
mutual information is the plug-in estimate on quantile bins (as dMelodies' discretised MIG), which is
exact, deterministic and fast (one BLAS product for all pairs):

- **interpretability** (Adel et al. 2018): per feature, the neuron of highest MI; the score is the R^2
  of a linear fit of the feature on that neuron; the mean over features.
- **MIG** (Chen et al. 2018): mean over features of (top-1 minus top-2 MI over neurons) / H(feature).
- **SAP** (Kumar et al. 2018): per (neuron, feature) the R^2 of a linear fit; mean over features of the
  top-1 minus top-2 R^2.
- **modularity** (Ridgeway & Zemel 2018): per neuron, 1 - sum of the squared MI off its best feature
  over (best MI^2 * (features - 1)); 0 for a neuron without information; mean over neurons.
- **Spearman correlation score** (SCC): mean over features of the largest |Spearman rho| over neurons,
  with values of p > 0.05 set to 0.

Symbols: ``n`` windows, ``a`` neurons, ``b`` features. Deduplicate the features first (near-duplicates
inflate the top-2 terms): ``select_features(..., max_abs_spearman=0.95)``.
"""

import numpy as np
import pandas as pd

from ..errors import InvalidParameterError
from .contingency import contingency_tables, entropy, mutual_information, quantile_codes
from .correlation import pearson_cross, spearman_cross, spearman_pvalues

__all__ = ["mutual_information_matrix", "disentanglement_scores"]


def mutual_information_matrix(x, y, bins=20):
    """Plug-in mutual information (nats) between every column of ``x`` and of ``y`` on quantile bins.

    Parameters
    ----------
    x : ndarray of shape (n, a), float
    y : ndarray of shape (n, b), float, NaN allowed (rows dropped per pair)
    bins : int

    Returns
    -------
    mi : ndarray of shape (a, b), dtype=float64
    feature_entropy : ndarray of shape (b,), dtype=float64
        Entropy (nats) of each binned column of ``y`` over its non-NaN rows.
    """
    cx, cy = quantile_codes(x, bins), quantile_codes(y, bins)
    tables = contingency_tables(cx, cy, bins)
    a, b = tables.shape[:2]
    mi = mutual_information(tables.reshape(a * b, bins, bins)).reshape(a, b)
    h = np.array([entropy(np.bincount(c[c >= 0], minlength=bins)) for c in cy.T])
    return np.maximum(mi, 0.0), h


def _top_two_gap(scores):
    """Top-1 minus top-2 of each column of (a, b) scores (the top-1 when a == 1)."""
    ordered = np.sort(scores, axis=0)[::-1]
    return ordered[0] - (ordered[1] if len(ordered) > 1 else 0.0)


def _modularity(mi):
    """Modularity of each neuron from the (a, b) MI matrix."""
    squared = mi**2
    best = squared.max(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = 1.0 - (squared.sum(axis=1) - best) / (best * max(mi.shape[1] - 1, 1))
    return np.where(best > 0, score, 0.0)


def disentanglement_scores(x, features, neurons=None, bins=20, alpha=0.05):
    """Interpretability, MIG, SAP, modularity and SCC of neurons against features.

    Parameters
    ----------
    x : ndarray of shape (n, a), float
        mu of the neurons scored (the music neurons).
    features : DataFrame of shape (n, b)
        Deduplicated features, at least two.
    neurons : sequence of int, optional
        Labels of the columns of ``x``.
    bins : int
        Quantile bins for the mutual information.
    alpha : float
        Significance level of the SCC.

    Returns
    -------
    per_feature : DataFrame of b rows
        ``feature_id``, ``best_neuron`` (highest MI), ``interpretability`` (R^2 on it), ``mig``,
        ``sap``, ``scc``.
    summary : dict of str to float
        Mean ``interpretability``, ``mig``, ``sap``, ``scc`` over features, ``modularity`` over
        neurons, and the counts ``neurons`` and ``features``.
    """
    x = np.asarray(x, dtype=np.float64)
    if features.shape[1] < 2 or x.shape[1] < 1:
        raise InvalidParameterError(
            f"disentanglement_scores needs at least 1 neuron and 2 features. Got {x.shape[1]} and {features.shape[1]}."
        )
    labels = np.arange(x.shape[1]) if neurons is None else np.asarray(neurons)
    y = features.to_numpy(dtype=np.float64)
    mi, h = mutual_information_matrix(x, y, bins)
    r2 = np.nan_to_num(pearson_cross(x, y)) ** 2
    best = mi.argmax(axis=0)
    rho = spearman_cross(x, y)
    pvalues = spearman_pvalues(rho, (~np.isnan(y)).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        mig = np.where(h > 0, _top_two_gap(mi) / h, 0.0)
    per_feature = pd.DataFrame(
        {
            "feature_id": list(features.columns),
            "best_neuron": labels[best],
            "interpretability": r2[best, np.arange(y.shape[1])],
            "mig": mig,
            "sap": _top_two_gap(r2),
            "scc": np.where(pvalues <= alpha, np.abs(np.nan_to_num(rho)), 0.0).max(axis=0),
        }
    )
    summary = {name: float(per_feature[name].mean()) for name in ("interpretability", "mig", "sap", "scc")}
    summary.update(modularity=float(_modularity(mi).mean()), neurons=int(x.shape[1]), features=int(y.shape[1]))
    return per_feature, summary
