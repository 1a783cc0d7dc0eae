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
    for j in range(values.shape[1]):
        col = values[:, j]
        ok = ~np.isnan(col)
        if not ok.any():
            continue
        present = col[ok]
        if binning == "quantile":
            edges = np.quantile(present, levels)
            edges[0] -= max(1e-14 * abs(edges[0]), sys.float_info.min)
        else:  # phik lowers the minimum before spacing the edges
            low = present.min()
            edges = np.linspace(low - max(1e-14 * abs(low), sys.float_info.min), present.max(), int(bins) + 1)
        codes[ok, j] = np.searchsorted(edges, present, side="left") - 1
    return codes


def quantile_codes(values, bins=10):
    """:func:`bin_codes` with quantile bins: ndarray (n, a) float -> codes (n, a) int16, -1 for NaN."""
    return bin_codes(values, bins, "quantile")


def _one_hot(codes, n_bins):
    """Codes (m, a) -> float32 one-hot (m, a * n_bins); a missing code (-1) gives an all-zero block."""
    m, a = codes.shape
    out = np.zeros((m, a * n_bins), dtype=np.float32)
    rows, cols = np.nonzero(codes >= 0)
    out[rows, cols * n_bins + codes[rows, cols]] = 1.0
    return out


def contingency_tables(codes_x, codes_y, n_bins, chunk=4096):
    """Contingency tables of every column of ``codes_x`` against every column of ``codes_y``.

    All tables come from one matrix product of one-hot encodings per chunk of rows, so the cost is
    one BLAS call rather than one ``bincount`` per pair. A row counts in a pair only where both
    codes are present.

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
    total = np.zeros((a * n_bins, b * n_bins), dtype=np.int64)
    for lo in range(0, codes_x.shape[0], chunk):
        hx = _one_hot(codes_x[lo : lo + chunk], n_bins)
        hy = _one_hot(codes_y[lo : lo + chunk], n_bins)
        total += np.rint(hx.T @ hy).astype(np.int64)
    return total.reshape(a, n_bins, b, n_bins).transpose(0, 2, 1, 3)


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
