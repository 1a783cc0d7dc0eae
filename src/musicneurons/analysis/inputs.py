"""Checks of the analysis inputs and the choice of features by rule.

Symbols: ``n`` windows, ``z`` latent neurons, ``b`` features.
"""

import numpy as np
import pandas as pd

from ..errors import InvalidParameterError

__all__ = ["check_latents", "check_features", "select_features", "feature_categories"]

_CATEGORIES = ("pitch", "rhythm", "melody")


def check_latents(mu, sigma=None, where="the analysis"):
    """Validate encodings and return them as float64 arrays.

    Parameters
    ----------
    mu : array-like of shape (n, z)
        Posterior means.
    sigma : array-like of shape (n, z), optional
        Posterior standard deviations, positive.
    where : str
        The calling function, for the error message.

    Returns
    -------
    mu : ndarray of shape (n, z), dtype=float64
    sigma : ndarray of shape (n, z), dtype=float64, or None
    """
    mu = np.asarray(mu, dtype=np.float64)
    if mu.ndim != 2 or mu.shape[0] < 2 or mu.shape[1] < 1:
        raise InvalidParameterError(
            f"The 'mu' parameter of {where} must have shape (n_windows >= 2, z). Got {mu.shape}."
        )
    if not np.isfinite(mu).all():
        raise InvalidParameterError(f"The 'mu' parameter of {where} must be finite. Got NaN or inf.")
    if sigma is None:
        return mu, None
    sigma = np.asarray(sigma, dtype=np.float64)
    if sigma.shape != mu.shape:
        raise InvalidParameterError(
            f"The 'sigma' parameter of {where} must have the shape of mu {mu.shape}. Got {sigma.shape}."
        )
    if not (np.isfinite(sigma).all() and (sigma > 0).all()):
        raise InvalidParameterError(f"The 'sigma' parameter of {where} must be finite and positive.")
    return mu, sigma


def check_features(features, n_rows, catalogue=None, where="the analysis"):
    """Validate a features table (one float column per feature id) against ``n_rows`` windows.

    Parameters
    ----------
    features : DataFrame of shape (n, b)
        Numeric columns named by feature id; NaN allowed.
    n_rows : int
        Windows expected.
    catalogue : DataFrame, optional
        Columns ``id`` and ``category`` (pitch, rhythm or melody).
    where : str

    Returns
    -------
    DataFrame of shape (n, b), float64 columns
        Infinite values become NaN (missing).
    """
    if not isinstance(features, pd.DataFrame):
        raise InvalidParameterError(
            f"The 'features' parameter of {where} must be a pandas DataFrame. Got {type(features).__name__}."
        )
    if len(features) != n_rows:
        raise InvalidParameterError(
            f"The 'features' parameter of {where} must have one row per window ({n_rows}). Got {len(features)}."
        )
    try:
        features = features.astype(np.float64).replace([np.inf, -np.inf], np.nan)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"The 'features' parameter of {where} must hold numbers only: {exc}") from exc
    if catalogue is not None:
        if not {"id", "category"} <= set(catalogue.columns):
            raise InvalidParameterError(
                f"The 'catalogue' parameter of {where} must have columns 'id' and 'category'. Got {list(catalogue.columns)}."
            )
        missing = sorted(set(features.columns) - set(catalogue["id"]))
        if missing:
            raise InvalidParameterError(f"The 'catalogue' parameter of {where} lacks the feature ids {missing[:5]}.")
    return features.reset_index(drop=True)


def _flagged(catalogue, present):
    """Feature ids that the catalogue marks as constant, or as a (scaled) duplicate of a present feature.

    A boolean ``constant`` column flags constants; ``duplicate_of`` and ``scaled_duplicate_of``
    (feature ids, empty when none) flag duplicates, dropped only while their twin is in ``present``.
    """
    if catalogue is None:
        return {}
    out = {}
    if "constant" in catalogue.columns:
        for fid in catalogue.loc[catalogue["constant"].fillna(False).astype(bool), "id"]:
            out[fid] = "constant in the catalogue"
    for column in ("duplicate_of", "scaled_duplicate_of"):
        if column in catalogue.columns:
            for fid, twin in zip(catalogue["id"], catalogue[column]):
                if isinstance(twin, str) and twin in present and fid not in out:
                    out[fid] = f"{column.replace('_', ' ')} {twin} in the catalogue"
    return out


def select_features(features, catalogue=None, max_abs_spearman=None):
    """Keep the informative features: drop all-NaN, constant and duplicate columns by rule.

    Rules, in order: a feature flagged constant or duplicate in the catalogue is dropped; a
    feature with fewer than two distinct non-NaN values is constant; a feature equal (NaN in the
    same rows) to an earlier kept one is a duplicate; with ``max_abs_spearman`` set, a feature whose
    rank correlation with an earlier kept one reaches it in absolute value is a near duplicate.
    "Earlier" is the column order of ``features``.

    Parameters
    ----------
    features : DataFrame of shape (n, b)
    catalogue : DataFrame, optional
        With ``id`` and ``category``; optional ``constant`` (bool), ``duplicate_of`` and
        ``scaled_duplicate_of`` (feature ids) columns.
    max_abs_spearman : float, optional
        Threshold of the near-duplicate rule (e.g. 0.95); None keeps near duplicates.

    Returns
    -------
    kept : DataFrame of shape (n, b_kept)
    dropped : DataFrame
        Columns ``feature_id`` and ``reason``.
    """
    reasons = {fid: why for fid, why in _flagged(catalogue, set(features.columns)).items() if fid in features}
    kept = []
    for fid in features.columns:
        if fid in reasons:
            continue
        col = features[fid]
        if col.nunique(dropna=True) < 2:
            reasons[fid] = "constant or all NaN"
            continue
        twin = next((k for k in kept if col.equals(features[k])), None)
        if twin is not None:
            reasons[fid] = f"duplicate of {twin}"
            continue
        kept.append(fid)
    if max_abs_spearman is not None and len(kept) > 1:
        ranks = features[kept].rank().corr().abs().to_numpy()
        keep_mask = np.ones(len(kept), bool)
        for j in range(len(kept)):
            twins = np.flatnonzero(keep_mask[:j] & (ranks[:j, j] >= max_abs_spearman))
            if twins.size:
                keep_mask[j] = False
                reasons[kept[j]] = f"|Spearman| {ranks[twins[0], j]:.3f} with {kept[twins[0]]}"
        kept = [k for k, m in zip(kept, keep_mask) if m]
    dropped = pd.DataFrame({"feature_id": list(reasons), "reason": list(reasons.values())}, dtype=object)
    return features[kept], dropped


def feature_categories(feature_ids, catalogue=None):
    """Category (pitch, rhythm, melody) of each feature id: from the catalogue, else from the id's first letter."""
    if catalogue is not None:
        lookup = dict(zip(catalogue["id"], catalogue["category"]))
        return [lookup.get(fid, "other") for fid in feature_ids]
    first = {"P": "pitch", "R": "rhythm", "M": "melody"}
    return [first.get(str(fid)[:1].upper(), "other") for fid in feature_ids]
