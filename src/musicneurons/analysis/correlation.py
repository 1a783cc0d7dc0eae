"""Correlations between neurons and features: Pearson (paper Fig 5), phik (Figs 6-7) and Spearman's sign.

Symbols: ``n`` windows, ``a`` neurons (or row variables), ``b`` features. The phik values and their tests of
independence come from :mod:`.phik_cross` (a cross matrix only, quantile or phik's equal-width bins);
Spearman's rho gives the direction phik lacks.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .contingency import bin_codes, contingency_tables
from .phik_cross import independence_pvalues, noise_floor_of_codes, phik_of_tables, phik_significance

__all__ = [
    "pearson_matrix",
    "pearson_cross",
    "spearman_cross",
    "spearman_pvalues",
    "CrossCorrelation",
    "correlate",
    "FDR",
    "FIG7_NEURONS",
    "plot_matrix",
    "plot_cross_correlation",
]

FDR = 0.05  # false discovery rate of the Benjamini-Hochberg control of the neuron x feature cells


def _pearson_columns(a, b):
    """Pearson correlation of every column of a (m, p) with every column of b (m, q), no NaN; NaN for constants."""
    a = a - a.mean(axis=0)
    b = b - b.mean(axis=0)
    norm_a, norm_b = np.sqrt((a**2).sum(axis=0)), np.sqrt((b**2).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (a.T @ b) / np.outer(norm_a, norm_b)
    out[norm_a == 0, :] = np.nan
    out[:, norm_b == 0] = np.nan
    return np.clip(out, -1.0, 1.0)


def pearson_matrix(values):
    """Pearson correlation between the columns of ``values`` (paper Fig 5 on the ordered mu).

    Parameters
    ----------
    values : ndarray of shape (n, a), float, no NaN

    Returns
    -------
    ndarray of shape (a, a), dtype=float64
        NaN in the rows and columns of constant columns; 1 on the diagonal otherwise.
    """
    values = np.asarray(values, dtype=np.float64)
    return _pearson_columns(values, values)


def _nan_patterns(y):
    """Groups of the columns of y (n, b) that share their NaN rows: list of (rows mask (n,), column indices)."""
    present = ~np.isnan(y)
    groups = {}
    for j in range(y.shape[1]):
        groups.setdefault(present[:, j].tobytes(), []).append(j)
    return [(present[:, cols[0]], np.array(cols)) for cols in groups.values()]


def _cross(x, y, transform):
    """Pearson of transform(x) with transform(y) per NaN pattern of y's columns (rows dropped per pattern)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(len(x), -1)
    out = np.full((x.shape[1], y.shape[1]), np.nan)
    for rows, cols in _nan_patterns(y):
        if rows.sum() >= 3:
            out[:, cols] = _pearson_columns(transform(x[rows]), transform(y[rows][:, cols]))
    return out


_CROSS_DOC = """{what} of every column of ``x`` with every column of ``y``, NaN rows of ``y`` dropped per pair.

    Columns of ``y`` that share the same rows of NaN are computed together, so the cost is one pass
    over ``x`` per distinct NaN pattern of ``y``.{extra}

    Parameters
    ----------
    x : ndarray of shape (n, a), float, no NaN
    y : ndarray of shape (n, b), float, NaN allowed

    Returns
    -------
    ndarray of shape (a, b), dtype=float64
        NaN where a column is constant over the rows kept.
    """


def pearson_cross(x, y):
    return _cross(x, y, lambda values: values)


def spearman_cross(x, y):
    return _cross(x, y, lambda values: stats.rankdata(values, axis=0))


pearson_cross.__doc__ = _CROSS_DOC.format(what="Pearson's r", extra="")
spearman_cross.__doc__ = _CROSS_DOC.format(what="Spearman's rho", extra=" Ties get average ranks.")


def spearman_pvalues(rho, n_rows):
    """Two-sided p-values of Spearman's rho by the t approximation (as ``scipy.stats.spearmanr``).

    Parameters
    ----------
    rho : ndarray of shape (a, b)
    n_rows : int or ndarray of shape (b,)
        Rows behind each value.

    Returns
    -------
    ndarray of shape (a, b), dtype=float64
    """
    dof = np.asarray(n_rows, dtype=np.float64) - 2
    with np.errstate(divide="ignore", invalid="ignore"):
        t = rho * np.sqrt(dof / ((1.0 - rho) * (1.0 + rho)))
    return 2 * stats.t.sf(np.abs(t), dof)


@dataclass(frozen=True)
class CrossCorrelation:
    """phik and Spearman between neurons and features, with each cell's test of independence.

    A cell is *above the noise floor* when its phik exceeds the floor **and** its independence test
    survives the Benjamini-Hochberg control of the false discovery rate ``fdr`` over all ``tests`` cells
    with a p-value (the floor bounds the effect size, the control the chance of a false flag).

    Attributes
    ----------
    phik : DataFrame of shape (a, b)
        Index: neuron indices (in the order given); columns: feature ids; values in [0, 1].
    spearman : DataFrame of shape (a, b)
        Spearman's rho, same labels.
    p_value : DataFrame of shape (a, b)
        Asymptotic p-value of independence of the binned pair (phik's significance test).
    noise_floor : float
        phik reached by independent pairs (the 0.99 quantile over shuffled pairs), NaN if not computed.
    significance : DataFrame of shape (a, b) or None
        Z score of phik's asymptotic chi2 test, when asked for.
    fdr : float
    binning : str
        ``"quantile"`` or ``"uniform"`` (phik's default), with ``bins`` bins.
    bins : int
    """

    phik: pd.DataFrame
    spearman: pd.DataFrame
    p_value: pd.DataFrame
    noise_floor: float
    significance: pd.DataFrame = None
    fdr: float = FDR
    binning: str = "quantile"
    bins: int = 10

    @property
    def tests(self):
        """Number of cells with a p-value: the m of the Benjamini-Hochberg control (int)."""
        return int(np.isfinite(self.p_value.to_numpy()).sum())

    def q_values(self):
        """Benjamini-Hochberg adjusted p-values over the ``tests`` cells (DataFrame (a, b), NaN elsewhere)."""
        p = self.p_value.to_numpy()
        q = np.full(p.shape, np.nan)
        ok = np.isfinite(p)
        if ok.any():
            q[ok] = stats.false_discovery_control(p[ok], method="bh")
        return pd.DataFrame(q, index=self.p_value.index, columns=self.p_value.columns)

    def table(self):
        """Long form: one row per (neuron, feature_id) with ``phik``, ``spearman``, ``sign``, ``p_value``,
        ``q_value`` (Benjamini-Hochberg), ``above_noise`` and, when computed, ``significance_z``; sorted by
        decreasing phik."""
        long = self.phik.stack(future_stack=True).rename("phik").to_frame()
        long["spearman"] = self.spearman.stack(future_stack=True)
        long["sign"] = np.sign(long["spearman"]).fillna(0).astype(int)
        long["p_value"] = self.p_value.stack(future_stack=True)
        long["q_value"] = self.q_values().stack(future_stack=True)
        long["above_noise"] = (long["phik"] > self.noise_floor) & (long["q_value"] <= self.fdr)
        if self.significance is not None:
            long["significance_z"] = self.significance.stack(future_stack=True)
        long.index.names = ["neuron", "feature_id"]
        return long.reset_index().sort_values(
            ["phik", "neuron"], ascending=[False, True], kind="stable", ignore_index=True
        )

    def summary(self):
        """The statistics behind the flags, as a JSON-able dict."""
        q = self.q_values().to_numpy()
        above = (self.phik.to_numpy() > self.noise_floor) & (q <= self.fdr)
        return {
            "noise_floor": float(self.noise_floor),
            "tests": self.tests,
            "fdr": self.fdr,
            "method": "Benjamini-Hochberg over every neuron x feature cell with a p-value",
            "significant": int((q <= self.fdr).sum()),
            "above_noise": int(above.sum()),
            "phik_binning": self.binning,
            "phik_bins": int(self.bins),
        }


def correlate(
    x, features, neurons=None, bins=10, significance=False, noise_pairs=200, random_state=0, binning="quantile", fdr=FDR
):
    """phik (cross matrix only), its test of independence, and Spearman between latent neurons and features.

    Parameters
    ----------
    x : ndarray of shape (n, a), float
        mu of the neurons analysed (e.g. the music neurons, in order).
    features : DataFrame of shape (n, b)
        One float column per feature id, NaN allowed; constant columns give NaN (drop them first with
        :func:`~musicneurons.analysis.inputs.select_features`).
    neurons : sequence of int, optional
        Labels of the columns of ``x`` (default 0..a-1).
    bins : int
        Bins per variable for phik.
    significance : bool
        Also compute phik's asymptotic significance Z (about 1 ms a pair).
    noise_pairs : int
        Shuffled pairs behind the noise floor (0 skips it; NaN then, as with no neuron or feature).
    random_state : int
    binning : {"quantile", "uniform"}
        Quantile bins (the default) or phik's own default equal-width bins.
    fdr : float
        False discovery rate of the Benjamini-Hochberg control.

    Returns
    -------
    CrossCorrelation
    """
    x = np.asarray(x, dtype=np.float64)
    y = features.to_numpy(dtype=np.float64)
    labels = dict(
        index=pd.Index(np.arange(x.shape[1]) if neurons is None else list(neurons), name="neuron"),
        columns=pd.Index(features.columns, name="feature_id"),
    )
    cx, cy = bin_codes(x, bins, binning), bin_codes(y, bins, binning)  # once, for the floor and the tables
    floor = (
        noise_floor_of_codes(cx, cy, bins, n_pairs=noise_pairs, random_state=random_state)
        if noise_pairs and x.shape[1] and y.shape[1]
        else np.nan
    )
    tables = contingency_tables(cx, cy, bins)
    return CrossCorrelation(
        phik=pd.DataFrame(phik_of_tables(tables), **labels),
        spearman=pd.DataFrame(spearman_cross(x, y), **labels),
        p_value=pd.DataFrame(independence_pvalues(tables), **labels),
        noise_floor=floor,
        significance=pd.DataFrame(phik_significance(x, y, bins, binning), **labels) if significance else None,
        fdr=float(fdr),
        binning=binning,
        bins=int(bins),
    )


def plot_matrix(
    matrix,
    row_labels,
    col_labels,
    title,
    ax=None,
    vmin=-1.0,
    vmax=1.0,
    cmap="RdBu_r",
    colorbar_label="correlation",
    signs=None,
    floor=None,
    xlabel="",
    ylabel="",
    *,
    max_ticks=40,
    fontsize=6.0,
    figsize=None,
):
    """A correlation matrix as a heat map, optionally with a +/- sign in each cell above a floor.

    Parameters
    ----------
    matrix : ndarray of shape (a, b)
    row_labels, col_labels : sequence of str
        Tick labels (thinned to at most ``max_ticks`` ticks per axis).
    title : str
    ax : Axes, optional
    vmin, vmax : float
    cmap : str
    colorbar_label : str
    signs : ndarray of shape (a, b), optional
        Spearman's rho; its sign is written in the cells whose value exceeds ``floor`` (matrices of
        at most 10,000 cells).
    floor : float, optional
        Values at or below it are shown in grey as noise.
    xlabel, ylabel : str
    max_ticks : int or (int, int)
        Most tick labels per axis (rows, columns when a pair); every label when there are no more.
    fontsize : float
        Size of the tick labels, in points.
    figsize : tuple of float, optional
        Width and height in inches of a new figure; default grows with the matrix.

    Returns
    -------
    fig : matplotlib.figure.Figure
    ax : Axes
    """
    from ..report.figures import new_figure

    if ax is None:
        size = figsize or (max(6.0, 0.12 * len(col_labels) + 3), max(5.0, 0.12 * len(row_labels) + 2))
        fig, ax = new_figure(figsize=size)
    fig = ax.figure
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    if matrix.size == 0:
        ax.text(0.5, 0.5, "nothing to show: no rows or no columns", ha="center", va="center", transform=ax.transAxes)
        return fig, ax
    shown = np.ma.masked_where(np.isnan(matrix) | ((matrix <= floor) if floor is not None else False), matrix)
    cm = __import__("matplotlib").colormaps[cmap].with_extremes(bad="#dddddd")
    image = ax.imshow(shown, vmin=vmin, vmax=vmax, cmap=cm, aspect="auto", interpolation="nearest")
    label = colorbar_label if floor is None else f"{colorbar_label} (grey: at or below noise floor {floor:.3f})"
    fig.colorbar(image, ax=ax, label=label, shrink=0.8)
    most = max_ticks if isinstance(max_ticks, tuple) else (max_ticks, max_ticks)
    for axis_ticks, labels, limit in ((ax.set_yticks, row_labels, most[0]), (ax.set_xticks, col_labels, most[1])):
        step = max(1, int(np.ceil(len(labels) / limit)))
        idx = np.arange(0, len(labels), step)
        axis_ticks(idx, [str(labels[i]) for i in idx], fontsize=fontsize)
    ax.tick_params(axis="x", labelrotation=90)
    if signs is not None and matrix.size <= 10000:
        for i, j in zip(*np.nonzero(~np.ma.getmaskarray(shown))):
            ax.text(j, i, "+" if signs[i, j] > 0 else "\u2212", ha="center", va="center", fontsize=5)
    return fig, ax


FIG7_NEURONS = 30  # most neurons (columns) in Fig 7: each cell then has room for its value at a readable size
_PANELS = ("pitch", "rhythm", "melody")


def _cell_text(phik, rho):
    """A Fig 7 cell: phik with Spearman's sign, two decimals, no leading zero (``"+.52"``, ``"\u2212.07"``)."""
    sign = "+" if rho > 0 else "\u2212" if rho < 0 else "\u00b1"
    return sign + f"{phik:.2f}".lstrip("0")


def plot_cross_correlation(
    result, title="phik between music neurons and features", *, ranks=None, categories=None, max_neurons=FIG7_NEURONS
):
    """Paper Fig 7: phik of features (rows, in pitch, rhythm and melody panels) against neurons (columns, by rank).

    Every feature and every neuron is labelled; each cell above the noise floor prints phik with Spearman's
    sign (``+.52``), the cells at or below the floor are grey. The figure is 9.5 inches wide, so at a page
    width of about 1,100 pixels its labels read at about 11 pixels.

    Parameters
    ----------
    result : CrossCorrelation
        Its ``phik`` rows are the neurons in order by rank.
    title : str
    ranks : dict of int to int, optional
        Rank of each neuron (from 0) for the labels ``"#r (nI)"``; without it the labels are ``"nI"``.
    categories : dict of str to str, optional
        Category of each feature id; without it, the id's first letter (P, R, M).
    max_neurons : int
        The first neurons shown; the others are in ``result.table()``.

    Returns
    -------
    fig : matplotlib.figure.Figure
    ax : ndarray of Axes
        One panel per category that has features.
    """
    from ..report.figures import new_figure
    from ..report.labels import feature_label, neuron_label

    phik = result.phik.iloc[:max_neurons]
    rho = result.spearman.loc[phik.index, phik.columns]
    floor = result.noise_floor if np.isfinite(result.noise_floor) else None
    first_letter = {"P": "pitch", "R": "rhythm", "M": "melody"}
    category = {f: (categories or {}).get(f) or first_letter.get(str(f)[:1], "other") for f in phik.columns}
    panels = [c for c in (*_PANELS, "other") if any(v == c for v in category.values())]
    groups = [[f for f in phik.columns if category[f] == c] for c in panels]
    if not groups:
        fig, ax = new_figure(figsize=(6.0, 3.0))
        ax.set_title(title)
        ax.text(0.5, 0.5, "nothing to show: no features", ha="center", va="center", transform=ax.transAxes)
        return fig, np.array([ax])
    heights = [len(g) for g in groups]
    fig, ax = new_figure(
        len(groups),
        1,
        figsize=(9.5, 0.17 * sum(heights) + 0.4 * len(groups) + 1.6),
        gridspec_kw={"height_ratios": heights},
        squeeze=False,
    )
    ax = ax[:, 0]
    labels = [neuron_label(ranks[n], n) if ranks and n in ranks else f"n{n}" for n in phik.index]
    cm = __import__("matplotlib").colormaps["viridis"].with_extremes(bad="#dddddd")
    size = min(7.0, max(5.0, 6.0 * 72 / max(len(labels), 1) / 3.2))  # a value's 4 characters fill its cell
    for axis, name, features in zip(ax, panels, groups):
        values, signs = phik[features].to_numpy().T, rho[features].to_numpy().T
        masked = np.isnan(values) | ((values <= floor) if floor is not None else False)
        image = axis.imshow(
            np.ma.masked_where(masked, values), vmin=0, vmax=1, cmap=cm, aspect="auto", interpolation="nearest"
        )
        axis.set_yticks(np.arange(len(features)), [feature_label(f) for f in features], fontsize=7)
        axis.set_xticks(np.arange(len(labels)), labels if axis is ax[-1] else [], fontsize=7, rotation=90)
        axis.set_title(f"{name} features", loc="left", fontsize=9)
        for i, j in zip(*np.nonzero(~masked)):
            colour = "white" if values[i, j] < 0.55 else "black"
            axis.text(
                j, i, _cell_text(values[i, j], signs[i, j]), ha="center", va="center", fontsize=size, color=colour
            )
    ax[0].set_ylabel("feature (id and name)")
    ax[-1].set_xlabel("neuron: #rank by increasing mean sigma (n + index)")
    label = "phik" if floor is None else f"phik (grey: at or below the noise floor {floor:.3f})"
    fig.colorbar(image, ax=list(ax), label=label, shrink=0.5, aspect=40)
    fig.suptitle(title)
    return fig, ax
