"""Binning of columns (quantile or equal-width) and the contingency tables of every (row column, column column) pair.

Shared by the phik cross matrix and the mutual-information based disentanglement scores. Symbols:

- ``n``: rows (windows); ``a``, ``b``: columns of the two sides (neurons, features);
- ``k``: the number of bins of one side, at most ``bins``.

Binning follows phik's ``bin_data`` exactly, in its two modes (:data:`BINNINGS`):

- ``"quantile"`` (``quantile=True``, this package's default): edges are the ``np.quantile`` of the non-NaN
  values at ``linspace(0, 1, bins + 1)``;
- ``"uniform"`` (``quantile=False``, phik's own default): ``bins`` equal-width bins from the minimum to the
  maximum of the non-NaN values.

The minimum is lowered by ``max(1e-14 |minimum|, tiny)`` first; a value ``v`` goes to the bin ``i`` with
``edges[i-1] < v <= edges[i]``; repeated edges leave empty bins, which are dropped per pair; NaN gets
code -1 and its row is left out of that pair only.
"""

import sys

import numpy as np

from ..errors import InvalidParameterError

__all__ = ["BINNINGS", "bin_codes", "quantile_codes", "contingency_tables", "occupied", "mutual_information", "entropy"]

BINNINGS = ("quantile", "uniform")
_COLUMN_BLOCK = 64  # columns binned together (memory: two copies of n x 64 float64)


def bin_codes(values, bins=10, binning="quantile"):
    """Bin every column of ``values`` on its own edges, as phik's ``bin_data``.

    Parameters
    ----------
    values : ndarray of shape (n, a), float
        One column per variable; NaN marks a missing value.
    bins : int
        Number of bins per column (at least 2).
    binning : {"quantile", "uniform"}
        Quantile bins (phik's ``quantile=True``) or equal-width bins (phik's default).

    Returns
    -------
    codes : ndarray of shape (n, a), dtype=int16
        Bin index 0..bins-1 of each value, -1 for NaN.
    """
    if int(bins) != bins or bins < 2:
        raise InvalidParameterError(f"The 'bins' parameter of bin_codes must be an integer >= 2. Got {bins!r} instead.")
    if binning not in BINNINGS:
        raise InvalidParameterError(f"The 'binning' parameter of bin_codes must be one of {BINNINGS}. Got {binning!r}.")
    values = np.asarray(values, dtype=np.float64)
    codes = np.full(values.shape, -1, dtype=np.int16)
    levels = np.linspace(0, 1, int(bins) + 1)
    nan = np.isnan(values)
    gaps = nan.any(axis=0)
    complete = np.flatnonzero(~gaps) if len(values) else np.zeros(0, np.int64)
    for lo in range(0, len(complete), _COLUMN_BLOCK):  # the columns without NaN, a block at a time
        block = complete[lo : lo + _COLUMN_BLOCK]
        present = values[:, block]
        codes[:, block] = _codes_below(present, _edges(present, levels, binning))
    for j in np.flatnonzero(gaps):
        ok = ~nan[:, j]
        if ok.any():
            present = values[ok, j][:, None]
            codes[ok, j] = _codes_below(present, _edges(present, levels, binning))[:, 0]
    return codes


def _edges(present, levels, binning):
    """Bin edges (len(levels), c) of each column of ``present`` (m, c) float64, m >= 1, no NaN (phik's)."""
    if binning == "quantile":  # on sorted rows: the same order statistics, found faster
        edges = np.quantile(np.sort(np.ascontiguousarray(present.T), axis=1), levels, axis=1)
        edges[0] -= np.maximum(1e-14 * np.abs(edges[0]), sys.float_info.min)
        return edges
    low = present.min(axis=0)  # phik lowers the minimum before spacing the edges
    return np.linspace(low - np.maximum(1e-14 * np.abs(low), sys.float_info.min), present.max(axis=0), len(levels))


def _codes_below(present, edges):
    """Bin of each value: ``i`` with ``edges[i] < v <= edges[i + 1]``, as ``searchsorted(edges, v) - 1``.

    ``present`` (m, c) lies in ``(edges[0], edges[-1]]`` of its column; returns int16 (m, c).
    """
    codes = np.zeros(present.shape, dtype=np.int16)
    for edge in edges[1:-1]:
        codes += present > edge
    return codes


def quantile_codes(values, bins=10):
    """:func:`bin_codes` with quantile bins: ndarray (n, a) float -> codes (n, a) int16, -1 for NaN."""
    return bin_codes(values, bins, "quantile")


def _one_hot(codes, n_bins):
    """Codes (m, a) -> float32 one-hot (m, a * n_bins); a code outside 0..n_bins-1 gives an all-zero block."""
    m, a = codes.shape
    return (codes[:, :, None] == np.arange(n_bins, dtype=codes.dtype)).reshape(m, a * n_bins).astype(np.float32)


def _column_counts(codes, n_bins):
    """Rows of each code 0..n_bins-1 in each column of codes (n, a), -1 for missing -> ndarray (a, n_bins) int64."""
    offsets = codes.astype(np.int64) + n_bins * np.arange(codes.shape[1])
    return np.bincount(offsets[codes >= 0], minlength=codes.shape[1] * n_bins).reshape(-1, n_bins)


def contingency_tables(codes_x, codes_y, n_bins, chunk=4096):
    """Contingency tables of every column of ``codes_x`` against every column of ``codes_y``.

    All tables come from one matrix product of one-hot encodings per chunk of rows, so the cost is
    one BLAS call rather than one ``bincount`` per pair. A row counts in a pair only where both
    codes are present. A side with no missing code leaves its last bin out of the product: those
    counts are the other side's column counts less the other bins (a fifth fewer multiply-adds when
    neither side misses a code, as for latent means against complete features).

    Parameters
    ----------
    codes_x : ndarray of shape (n, a), int
        Bin codes 0..n_bins-1, -1 for missing.
    codes_y : ndarray of shape (n, b), int
        Bin codes 0..n_bins-1, -1 for missing.
    n_bins : int
        Upper bound of the codes plus one.
    chunk : int
        Rows per matrix product (bounds memory to ``chunk * (a + b) * n_bins`` float32; counts
        within a chunk stay exact in float32 below 2**24).

    Returns
    -------
    tables : ndarray of shape (a, b, n_bins, n_bins), dtype=int64
        ``tables[i, j, u, v]`` counts the rows with ``codes_x[:, i] == u`` and ``codes_y[:, j] == v``.
    """
    codes_x, codes_y = np.asarray(codes_x), np.asarray(codes_y)
    a, b = codes_x.shape[1], codes_y.shape[1]
    full_x, full_y = bool((codes_x >= 0).all()), bool((codes_y >= 0).all())
    kx, ky = n_bins - full_x, n_bins - full_y  # bins in the product
    total = np.zeros((a * kx, b * ky), dtype=np.int64)
    for lo in range(0, codes_x.shape[0], chunk):
        hx = _one_hot(codes_x[lo : lo + chunk], kx)
        hy = _one_hot(codes_y[lo : lo + chunk], ky)
        total += np.rint(hx.T @ hy).astype(np.int64)
    tables = np.zeros((a, b, n_bins, n_bins), dtype=np.int64)
    tables[:, :, :kx, :ky] = total.reshape(a, kx, b, ky).transpose(0, 2, 1, 3)
    if full_y:  # every row of x_i's bin u has some y_j: the last y bin holds the rest
        tables[:, :, :kx, -1] = _column_counts(codes_x, n_bins)[:, None, :kx] - tables[:, :, :kx, :-1].sum(axis=-1)
    if full_x:  # likewise the last x bin, for every y bin (the last one included)
        tables[:, :, -1, :] = _column_counts(codes_y, n_bins)[None] - tables[:, :, :-1, :].sum(axis=-2)
    return tables


def occupied(table):
    """The table ``(kx, ky)`` without its empty rows and columns (as phik's crosstab of occupied bins)."""
    return table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]


def entropy(counts):
    """Shannon entropy in nats of the distribution given by ``counts`` (ndarray of shape (..., k)), last axis."""
    counts = np.asarray(counts, dtype=np.float64)
    p = counts / counts.sum(axis=-1, keepdims=True)
    return -np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0), axis=-1)


def mutual_information(tables):
    """Mutual information in nats of each contingency table.

    Parameters
    ----------
    tables : ndarray of shape (m, kx, ky), int
        Joint counts.

    Returns
    -------
    mi : ndarray of shape (m,), dtype=float64
        ``H(x) + H(y) - H(x, y)`` of the empirical distributions (the plug-in estimate, as
        ``sklearn.metrics.mutual_info_score``).
    """
    tables = np.asarray(tables)
    m = tables.shape[0]
    return entropy(tables.sum(axis=2)) + entropy(tables.sum(axis=1)) - entropy(tables.reshape(m, -1))
