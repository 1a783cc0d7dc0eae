"""How sure the findings are: a seeded bootstrap over windows of the count, the decoder's k and each verdict.

Symbols: ``n`` windows, ``z`` neurons, ``B`` resamples (``N_BOOT`` = 200 by default), ``m`` decoded windows.
Each resample draws ``n`` windows with replacement (seeded). Intervals are the 2.5th and 97.5th percentiles.

- **The count**: the neurons' profile (mean sigma, activity, KL) is recomputed on each resample from weighted
  sums (one matrix product per chunk of windows, no copy of the windows) and the split rule is applied again
  (:func:`~musicneurons.analysis.split.resampled_splits`).
- **The decoder's k**: the decoded windows' per-window accuracies are resampled and the fewest k re-read
  (:meth:`~musicneurons.analysis.ablation.DecoderCurve.fewest_k`).
- **Verdicts**: the numbers a claim's rule reads that come from windows (the share of windows that show the
  split, the Jaccard overlaps, the Pearson correlations among music neurons, the activation-count medians and
  the ratio of the two lengths' counts) are recomputed on each resample with the split held fixed, and each
  claim is judged again. A verdict that at least ``MIN_READING_SHARE`` = 5 % of the resamples reach is a
  *reading*; a claim with more than one reading is **unstable** and both readings are reported. The parts read
  from phik and the held-out attribute vectors (claim (d), and (f)'s categories) are computed once.

**Sample-size honesty** (:func:`sample_verdict`): the sample is too small for verdicts when it has fewer than
``CELL_WINDOWS`` = 5 windows per cell of phik's bins x bins table (Cochran's rule for chi-square; 500 windows at
10 bins), when a split found on the full sample is found on fewer than ``MIN_FOUND_SHARE`` = 90 % of the
resamples, or when the count's interval reaches beyond ``MAX_COUNT_SPREAD`` = 20 % of the count on either side.
"""

import numpy as np

from .kl import window_kl
from .split import NeuronProfile

__all__ = [
    "CELL_WINDOWS",
    "MAX_COUNT_SPREAD",
    "MIN_FOUND_SHARE",
    "MIN_READING_SHARE",
    "N_BOOT",
    "interval",
    "readings",
    "resample_indices",
    "resample_weights",
    "resampled_means",
    "resampled_medians",
    "resampled_profiles",
    "sample_verdict",
]

N_BOOT = 200
CELL_WINDOWS = 5
MAX_COUNT_SPREAD = 0.2
MIN_FOUND_SHARE = 0.9
MIN_READING_SHARE = 0.05
_CHUNK = 4096  # windows per matrix product: bounds the temporaries to B x chunk and chunk x z


def resample_indices(n, *, n_boot=N_BOOT, random_state=0):
    """Seeded bootstrap resamples of ``n`` windows.

    Returns
    -------
    ndarray of shape (n_boot, n), dtype=int32
        Row b: the windows of resample b (drawn with replacement).
    """
    return np.random.default_rng(random_state).integers(0, n, size=(n_boot, n), dtype=np.int32)


def resample_weights(indices, n):
    """How often each window is drawn in each resample.

    Parameters
    ----------
    indices : ndarray of shape (B, n), int
        From :func:`resample_indices`.
    n : int

    Returns
    -------
    ndarray of shape (B, n), dtype=float32
    """
    out = np.zeros((len(indices), n), dtype=np.float32)
    for b, row in enumerate(indices):
        out[b] = np.bincount(row, minlength=n)
    return out


def resampled_means(values, weights, *, transform=None):
    """Mean of each column of ``values`` (or of ``transform(values)``) on each resample.

    Parameters
    ----------
    values : ndarray of shape (n,) or (n, k), float or bool
    weights : ndarray of shape (B, n), float32
        From :func:`resample_weights`.
    transform : callable, optional
        Applied to each chunk of rows (ndarray of shape (rows, k), float64) before averaging, so that a wide
        derived table (e.g. products of pairs of columns) is never held whole.

    Returns
    -------
    ndarray of shape (B,) or (B, k'), dtype=float64
        k' columns of ``transform``'s output (k without one).
    """
    values = np.asarray(values, dtype=np.float64)
    flat = values.reshape(len(values), -1)
    total = None
    for lo in range(0, len(flat), _CHUNK):
        block = flat[lo : lo + _CHUNK]
        block = block if transform is None else transform(block)
        part = weights[:, lo : lo + _CHUNK] @ block.astype(np.float32)
        total = part.astype(np.float64) if total is None else total + part
    out = total / len(values)
    return out[:, 0] if values.ndim == 1 and transform is None else out


def resampled_medians(values, indices):
    """Median of ``values`` (n,) on each resample of ``indices`` (B, n) -> (B,) float64."""
    return np.median(np.asarray(values, dtype=np.float64)[indices], axis=1)


def resampled_profiles(mu, sigma, weights):
    """The neurons' profile on each resample, from weighted sums over chunks of windows.

    Parameters
    ----------
    mu, sigma : ndarray of shape (n, z), float
    weights : ndarray of shape (B, n), float32
        From :func:`resample_weights`.

    Returns
    -------
    list of NeuronProfile
        One per resample. Activity is computed around the full sample's mean of mu (in float64 sums), so that
        the pile's small variances keep their precision.
    """
    mu = np.asarray(mu, dtype=np.float64)
    sigma = np.asarray(sigma, dtype=np.float64)
    n, z = mu.shape
    centre = mu.mean(axis=0)
    sums = np.zeros((4, len(weights), z))
    for lo in range(0, n, _CHUNK):
        m, s = mu[lo : lo + _CHUNK] - centre, sigma[lo : lo + _CHUNK]
        kl = window_kl(m + centre, s)
        w = weights[:, lo : lo + _CHUNK]
        for i, block in enumerate((m, m * m, s, kl)):
            sums[i] += w @ block.astype(np.float32)
    mean_mu, mean_sq, mean_sigma, kl = sums / n
    activity = np.maximum(mean_sq - mean_mu**2, 0.0)
    return [NeuronProfile(mean_sigma[b], activity[b], np.maximum(kl[b], 0.0)) for b in range(len(weights))]


def interval(values):
    """The 2.5th and 97.5th percentiles of resampled values (list of 2 floats; NaN values left out)."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return [None, None]
    return [float(v) for v in np.percentile(values, [2.5, 97.5])]


def readings(verdicts):
    """The verdicts reached by at least ``MIN_READING_SHARE`` of the resamples, most frequent first.

    Parameters
    ----------
    verdicts : sequence of str
        One per resample.

    Returns
    -------
    dict of str to float
        Verdict -> share of the resamples.
    """
    values, counts = np.unique(np.asarray(verdicts, dtype=object).astype(str), return_counts=True)
    shares = counts / counts.sum()
    order = np.argsort(-shares, kind="stable")
    return {str(values[i]): round(float(shares[i]), 4) for i in order if shares[i] >= MIN_READING_SHARE}


def sample_verdict(*, n_windows, bins, found, count, resampled_found, resampled_counts):
    """Is the sample large enough for verdicts? (module docstring).

    Parameters
    ----------
    n_windows : int
    bins : int
        phik's bins per variable.
    found : bool
        Whether the full sample shows a split.
    count : int or None
        The full sample's count (None without a split).
    resampled_found : ndarray of shape (B,), bool
    resampled_counts : ndarray of shape (B,), int
        Each resample's count (of those with a split).

    Returns
    -------
    dict
        ``too_small`` (bool), ``reason`` (a sentence, or None), ``min_windows``, ``found_share``,
        ``count_interval`` ([low, high] over the resamples with a split, or [None, None]).
    """
    resampled_found = np.asarray(resampled_found, dtype=bool)
    counts = np.asarray(resampled_counts, dtype=np.float64)[resampled_found]
    low_high = interval(counts)
    found_share = float(resampled_found.mean()) if resampled_found.size else 0.0
    min_windows = CELL_WINDOWS * bins * bins
    reason = None
    if n_windows < min_windows:
        reason = (
            f"{n_windows} windows are fewer than the {min_windows} that phik's {bins} x {bins} tables need "
            f"({CELL_WINDOWS} windows a cell)"
        )
    elif found and found_share < MIN_FOUND_SHARE:
        reason = f"the split is found on only {found_share:.0%} of the resamples (at least {MIN_FOUND_SHARE:.0%})"
    elif not found and found_share >= 1 - MIN_FOUND_SHARE:
        reason = f"no split on the whole sample, but {found_share:.0%} of the resamples find one"
    elif found and (low_high[0] < (1 - MAX_COUNT_SPREAD) * count or low_high[1] > (1 + MAX_COUNT_SPREAD) * count):
        reason = (
            f"the count's interval {low_high[0]:g}-{low_high[1]:g} reaches beyond {MAX_COUNT_SPREAD:.0%} of "
            f"{count} on a side"
        )
    return {
        "too_small": reason is not None,
        "reason": reason,
        "min_windows": int(min_windows),
        "found_share": round(found_share, 4),
        "count_interval": low_high,
    }
