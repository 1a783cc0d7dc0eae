"""Intervention curves: features of decoded windows as a function of the swept value.

Symbols: ``d`` directions, ``a`` anchors, ``g`` grid values, ``b`` features. Inputs are a traversal
table (:func:`~musicneurons.interventions.traverse.traverse`, ordered by direction, anchor, value) and
the features of its decoded windows, one row per traversal row.

The **monotonicity** of a (direction, feature) pair is Spearman's rho between the swept value and the
feature over one anchor's sweep, averaged over the anchors. An anchor whose feature does not change
along the sweep counts as 0 (the direction does not move it there); an anchor with fewer than 3
swept values where the feature is defined (NaN, e.g. a pitch feature of a silent window) is left out.
+1 means the feature rises with the value at every anchor, -1 that it falls, 0 that it does not follow.
It is the interventional counterpart of the correlational phik: same neurons, same features.
"""

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InvalidParameterError

__all__ = [
    "attribute_comparison",
    "decoded_features",
    "intervention_curves",
    "monotonicity",
    "intervention_matrix",
    "direction_changes",
    "neuron_summaries",
    "strongest_pairs",
    "plot_intervention_matrices",
    "plot_intervention_curves",
]


def decoded_features(traversal, features=None):
    """The catalogued features of every decoded window of a traversal, at its anchor's tempo.

    Parameters
    ----------
    traversal : DataFrame
        From :func:`~musicneurons.interventions.traverse.traverse` (``events``, ``qpm``).
    features : list of str, optional
        Feature ids (default every catalogued feature).

    Returns
    -------
    DataFrame of shape (len(traversal), b), dtype=float64
        One column per feature id, rows aligned with ``traversal``.
    """
    from ..features import compute_features

    if len(traversal) == 0:
        return pd.DataFrame(columns=features or [])
    events = np.stack(traversal["events"].to_numpy()).astype(np.int8)
    return compute_features(events, traversal["qpm"].to_numpy(dtype=np.float64), features=features)


def _cube(traversal, features):
    """Traversal rows -> (labels (d,), values (g,), cube (d, a, g, b) float64); checks the row layout."""
    labels = list(dict.fromkeys(traversal["direction"]))
    n_dir, n_anchor = len(labels), traversal["anchor"].nunique()
    n_step = traversal["step"].nunique()
    if len(traversal) != n_dir * n_anchor * n_step or len(features) != len(traversal):
        raise InvalidParameterError(
            f"A traversal needs every anchor at every grid value of every direction, and one feature row per "
            f"traversal row. Got {len(traversal)} rows for {n_dir} directions x {n_anchor} anchors x {n_step} "
            f"values, and {len(features)} feature rows."
        )
    order = np.lexsort(
        (
            traversal["step"].to_numpy(),
            traversal["anchor"].to_numpy(),
            traversal["direction"].map({lab: i for i, lab in enumerate(labels)}).to_numpy(),
        )
    )
    values = traversal["value"].to_numpy(dtype=np.float64)[order].reshape(n_dir, n_anchor, n_step)[0, 0]
    cube = features.to_numpy(dtype=np.float64)[order].reshape(n_dir, n_anchor, n_step, features.shape[1])
    return labels, values, cube


def intervention_curves(traversal, features):
    """The mean feature over anchors at each swept value, per direction and feature.

    Parameters
    ----------
    traversal : DataFrame
    features : DataFrame of shape (len(traversal), b)
        :func:`decoded_features` of the traversal.

    Returns
    -------
    DataFrame of d * b * g rows
        ``direction``, ``feature``, ``step``, ``value``, ``mean`` and ``sd`` (over the anchors where the
        feature is defined, NaN where none is), ``n`` (those anchors).
    """
    labels, values, cube = _cube(traversal, features)
    present = ~np.isnan(cube)
    n = present.sum(axis=1)  # (d, g, b)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nansum(cube, axis=1) / n
        sd = np.sqrt(np.nansum((cube - mean[:, None]) ** 2, axis=1) / n)
    d_idx, g_idx, b_idx = np.meshgrid(
        np.arange(len(labels)), np.arange(values.size), np.arange(cube.shape[3]), indexing="ij"
    )
    table = pd.DataFrame(
        {
            "direction": np.array(labels, dtype=object)[d_idx.ravel()],
            "feature": np.array(features.columns, dtype=object)[b_idx.ravel()],
            "step": g_idx.ravel(),
            "value": values[g_idx.ravel()],
            "mean": mean.ravel(),
            "sd": sd.ravel(),
            "n": n.ravel(),
        }
    )
    return table.sort_values(
        ["direction", "feature", "step"], key=_label_order(labels, features.columns), kind="stable", ignore_index=True
    )


def _label_order(labels, feature_ids):
    """A sort key keeping directions and features in their given order."""
    ranks = {
        "direction": {lab: i for i, lab in enumerate(labels)},
        "feature": {fid: i for i, fid in enumerate(feature_ids)},
    }
    return lambda col: col.map(ranks[col.name]) if col.name in ranks else col


def _sweep_spearman(values, sweep):
    """Spearman's rho of ``values`` (g,) with every column of ``sweep`` (m, g, b), by the rules of the module.

    Returns
    -------
    ndarray of shape (m, b), dtype=float64
        0 where the feature is constant over its defined values (at least 2 of them), NaN where fewer
        than 3 values are defined and it is not constant, else rho.
    """
    present = ~np.isnan(sweep)
    n_present = present.sum(axis=1)
    spread = np.where(present, sweep, -np.inf).max(axis=1) - np.where(present, sweep, np.inf).min(axis=1)
    constant = (n_present >= 2) & (spread == 0)
    rho = np.full(n_present.shape, np.nan)
    full = n_present == values.size
    ranked_values = stats.rankdata(values)
    if full.any():
        ranks = stats.rankdata(sweep, axis=1)  # NaN only where a column is incomplete
        x = ranked_values - ranked_values.mean()
        y = ranks - ranks.mean(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.einsum("g,mgb->mb", x, y) / (np.sqrt((x**2).sum()) * np.sqrt((y**2).sum(axis=1)))
        rho[full] = r[full]
    for m, b in zip(*np.nonzero(~full & ~constant & (n_present >= 3))):
        keep = present[m, :, b]
        rho[m, b] = stats.spearmanr(values[keep], sweep[m, keep, b]).statistic
    rho[constant] = 0.0
    return np.clip(rho, -1.0, 1.0)


def monotonicity(traversal, features, scale=None):
    """Monotonicity (mean Spearman over anchors) of every (direction, feature) pair.

    Parameters
    ----------
    traversal : DataFrame
    features : DataFrame of shape (len(traversal), b)
    scale : Series or dict of feature id to float, optional
        A typical spread of each feature (e.g. its standard deviation over the real windows); divides
        ``range`` into ``range_scaled``.

    Returns
    -------
    DataFrame of d * b rows
        ``direction``, ``feature``, ``monotonicity`` (NaN when no anchor counts), ``sd`` (of the per-anchor
        rho), ``anchors`` (anchors that count), ``moved`` (fraction of the anchors where the feature
        changes along the sweep), ``range`` (mean over anchors of max - min of the feature along the
        sweep) and ``range_scaled``; directions and features in their given order.
    """
    labels, values, cube = _cube(traversal, features)
    d, a, g, b = cube.shape
    rho = _sweep_spearman(values, cube.reshape(d * a, g, b)).reshape(d, a, b)
    counted = ~np.isnan(rho)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices give NaN by design
        mean = np.nanmean(rho, axis=1)
        sd = np.nanstd(rho, axis=1)
        spread = np.nanmax(cube, axis=2) - np.nanmin(cube, axis=2)  # (d, a, b)
        moved = np.where(counted, spread > 0, False).sum(axis=1) / counted.sum(axis=1)
        span = np.nanmean(spread, axis=1)
    scale_values = (
        np.array([float(dict(scale).get(fid, np.nan)) for fid in features.columns])
        if scale is not None
        else np.full(b, np.nan)
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = span / np.where(scale_values > 0, scale_values, np.nan)
    d_idx, b_idx = np.meshgrid(np.arange(d), np.arange(b), indexing="ij")
    return pd.DataFrame(
        {
            "direction": np.array(labels, dtype=object)[d_idx.ravel()],
            "feature": np.array(features.columns, dtype=object)[b_idx.ravel()],
            "monotonicity": mean.ravel(),
            "sd": sd.ravel(),
            "anchors": counted.sum(axis=1).ravel(),
            "moved": moved.ravel(),
            "range": span.ravel(),
            "range_scaled": scaled.ravel(),
        }
    )


def direction_changes(traversal):
    """How often a direction changes the decoded window at all.

    Returns
    -------
    DataFrame of d rows
        ``direction``, ``anchors`` and ``changed`` (fraction of the anchors whose decoded window is not the
        same at every grid value), ``distinct`` (mean number of distinct decoded windows per sweep).
    """
    rows = []
    for label, part in traversal.groupby("direction", sort=False):
        distinct = part.groupby("anchor")["events"].agg(lambda ev: len({e.tobytes() for e in ev}))
        rows.append(
            {
                "direction": label,
                "anchors": int(distinct.size),
                "changed": float((distinct > 1).mean()),
                "distinct": float(distinct.mean()),
            }
        )
    return pd.DataFrame(rows, columns=["direction", "anchors", "changed", "distinct"])


def intervention_matrix(mono, directions, feature_ids):
    """Monotonicity as a direction x feature matrix, in the given orders (e.g. those of the phik matrix).

    Parameters
    ----------
    mono : DataFrame
        From :func:`monotonicity`.
    directions : sequence of str
        Row labels in order.
    feature_ids : sequence of str
        Column labels in order; features the traversal lacks give NaN columns.

    Returns
    -------
    DataFrame of shape (len(directions), len(feature_ids))
    """
    wide = mono.pivot(index="direction", columns="feature", values="monotonicity")
    return wide.reindex(index=list(directions), columns=list(feature_ids)).rename_axis(
        index="direction", columns="feature_id"
    )


def _moves_most(mono, label):
    """The row of ``mono`` for the feature a direction moves most: largest |monotonicity|, then range_scaled."""
    rows = mono[(mono["direction"] == label) & mono["monotonicity"].notna()]
    if rows.empty:
        return None
    key = pd.DataFrame({"abs": rows["monotonicity"].abs().round(6), "range": rows["range_scaled"].fillna(0.0)})
    best = key.sort_values(["abs", "range"], ascending=False, kind="stable").index[0]
    return rows.loc[best]


def neuron_summaries(mono, changes, correlations, categories, neurons):
    """One summary per traversed neuron: the feature it moves most against the one it correlates with most.

    Parameters
    ----------
    mono : DataFrame
        From :func:`monotonicity`.
    changes : DataFrame
        From :func:`direction_changes`.
    correlations : DataFrame
        Long table with ``neuron``, ``feature_id``, ``phik`` (e.g. ``correlations.csv`` of the analysis).
    categories : dict of str to str
        Category (pitch, melody, rhythm) of each feature id.
    neurons : sequence of int
        The neurons to summarise, in order.

    Returns
    -------
    DataFrame, one row per neuron
        ``neuron``, ``changed`` (fraction of anchors whose decoding changes), ``moves_most``,
        ``monotonicity``, ``correlates_most``, ``phik``, ``agreement`` (``'same feature'``,
        ``'same category'``, ``'different'``, or ``'-'`` when either side is missing),
        ``monotonicity_of_correlated``, ``phik_of_moved`` and ``line`` (one sentence).
    """
    changed = dict(zip(changes["direction"], changes["changed"]))
    rows = []
    for neuron in neurons:
        label = f"n{neuron}"
        moved = _moves_most(mono, label) if changed.get(label, 0) > 0 else None
        corr = correlations[(correlations["neuron"] == neuron) & correlations["phik"].notna()]
        top = corr.loc[corr["phik"].idxmax()] if len(corr) else None
        row = {
            "neuron": int(neuron),
            "changed": changed.get(label, np.nan),
            "moves_most": moved["feature"] if moved is not None else "",
            "monotonicity": float(moved["monotonicity"]) if moved is not None else np.nan,
            "correlates_most": top["feature_id"] if top is not None else "",
            "phik": float(top["phik"]) if top is not None else np.nan,
        }
        row["agreement"] = _agreement(row["moves_most"], row["correlates_most"], categories)
        own = mono[(mono["direction"] == label) & (mono["feature"] == row["correlates_most"])]["monotonicity"]
        row["monotonicity_of_correlated"] = float(own.iloc[0]) if len(own) else np.nan
        other = corr[corr["feature_id"] == row["moves_most"]]["phik"]
        row["phik_of_moved"] = float(other.iloc[0]) if len(other) else np.nan
        row["line"] = _summary_line(row, categories)
        rows.append(row)
    return pd.DataFrame(
        rows,
        columns=[
            "neuron",
            "changed",
            "moves_most",
            "monotonicity",
            "correlates_most",
            "phik",
            "agreement",
            "monotonicity_of_correlated",
            "phik_of_moved",
            "line",
        ],
    )


def _agreement(moved, correlated, categories):
    if not moved or not correlated:
        return "-"
    if moved == correlated:
        return "same feature"
    if categories.get(moved) is not None and categories.get(moved) == categories.get(correlated):
        return "same category"
    return "different"


def _summary_line(row, categories):
    """The sentence of one neuron's summary."""
    neuron = f"neuron {row['neuron']}"
    if not row["moves_most"]:
        moved = (
            f"{neuron} changes no decoded window along the sweep"
            if row["changed"] == 0
            else f"{neuron}: no feature is defined along its sweeps"
        )
    else:
        moved = (
            f"{neuron} moves {row['moves_most']} ({categories.get(row['moves_most'], '?')}) most "
            f"(monotonicity {row['monotonicity']:+.2f}, decoding changes at {row['changed']:.0%} of the anchors)"
        )
    if not row["correlates_most"]:
        return moved + "; no correlation to compare with."
    corr = (
        f"it correlates most with {row['correlates_most']} ({categories.get(row['correlates_most'], '?')}, "
        f"phik {row['phik']:.2f})"
    )
    if row["agreement"] == "same feature":
        return f"{moved}; {corr}: the two agree."
    verdict = {"same category": "same category, different feature", "different": "they disagree"}.get(
        row["agreement"], "nothing to compare"
    )
    own = row["monotonicity_of_correlated"]
    tail = f", whose monotonicity is {own:+.2f}" if np.isfinite(own) else ""
    return f"{moved}; {corr}{tail}: {verdict}."


def attribute_comparison(mono, features, neuron_labels):
    """Each attribute vector against the best single neuron, on the vector's own feature (interventional).

    Parameters
    ----------
    mono : DataFrame
        From :func:`monotonicity`, with directions ``'attr:<feature id>'`` and neuron labels.
    features : sequence of str
        The features whose attribute vectors were swept.
    neuron_labels : sequence of str
        The neuron directions to compare with (e.g. ``['n166', 'n445']``).

    Returns
    -------
    DataFrame, one row per feature
        ``feature_id``, ``vector_monotonicity`` (of the feature along its attribute vector), ``best_neuron``
        (label of the neuron with the largest |monotonicity| on it), ``neuron_monotonicity``, ``neuron_wins``.
    """
    index = mono.set_index(["direction", "feature"])["monotonicity"]
    rows = []
    for fid in features:
        own = index.get((f"attr:{fid}", fid), np.nan)
        on = pd.Series({lab: index.get((lab, fid), np.nan) for lab in neuron_labels}, dtype=float).dropna()
        best = on.abs().idxmax() if len(on) else ""
        rows.append(
            {
                "feature_id": fid,
                "vector_monotonicity": own,
                "best_neuron": best,
                "neuron_monotonicity": on[best] if best else np.nan,
                "neuron_wins": bool(best) and abs(on[best]) > abs(own),
            }
        )
    return pd.DataFrame(
        rows, columns=["feature_id", "vector_monotonicity", "best_neuron", "neuron_monotonicity", "neuron_wins"]
    )


def strongest_pairs(mono, directions, n_pairs=12, per_direction=3):
    """The (direction, feature) pairs with the largest |monotonicity|, at most ``per_direction`` a direction.

    Returns
    -------
    list of (str, str)
        (direction label, feature id), strongest first.
    """
    rows = mono[mono["direction"].isin(list(directions)) & mono["monotonicity"].notna()]
    rows = rows.assign(strength=rows["monotonicity"].abs().round(6), r=rows["range_scaled"].fillna(0.0))
    rows = rows.sort_values(["strength", "r"], ascending=False, kind="stable")
    rows = rows.groupby("direction", sort=False).head(per_direction).head(n_pairs)
    return list(zip(rows["direction"], rows["feature"]))


def plot_intervention_matrices(mono_matrix, phik_matrix, title="Correlation against intervention"):
    """The phik matrix (left) beside the monotonicity matrix (right): same neurons, same features, same order.

    Parameters
    ----------
    mono_matrix : DataFrame of shape (k, b)
        :func:`intervention_matrix` of the traversed neurons.
    phik_matrix : DataFrame of shape (k, b)
        phik of the same neurons and features, in the same order.
    title : str

    Returns
    -------
    fig : matplotlib.figure.Figure
    ax : ndarray of 2 Axes
    """
    from ..analysis.correlation import plot_matrix
    from ..report.figures import new_figure

    if list(mono_matrix.columns) != list(phik_matrix.columns) or len(mono_matrix) != len(phik_matrix):
        raise InvalidParameterError("The two matrices must have the same rows and the same columns in the same order.")
    rows = [str(r) for r in mono_matrix.index]
    cols = list(mono_matrix.columns)
    fig, ax = new_figure(2, 1, figsize=(max(8.0, 0.13 * len(cols) + 3), 2 * max(2.6, 0.3 * len(rows) + 1.6)))
    plot_matrix(
        phik_matrix.to_numpy(dtype=float),
        rows,
        cols,
        "phik with the input's features (correlation)",
        ax=ax[0],
        vmin=0.0,
        vmax=1.0,
        cmap="viridis",
        colorbar_label="phik",
        ylabel="neuron",
    )
    plot_matrix(
        mono_matrix.to_numpy(dtype=float),
        rows,
        cols,
        "monotonicity of the decoded features along the sweep (intervention)",
        ax=ax[1],
        colorbar_label="mean Spearman over anchors",
        xlabel="feature",
        ylabel="neuron",
    )
    fig.suptitle(title)
    return fig, ax


def plot_intervention_curves(curves, pairs, title="Features of the decoded windows along the sweep", names=None):
    """Small multiples: the mean feature (± sd over anchors) against the swept value, one panel a pair.

    Parameters
    ----------
    curves : DataFrame
        From :func:`intervention_curves`.
    pairs : list of (str, str)
        (direction label, feature id), e.g. from :func:`strongest_pairs`.
    title : str
    names : dict of str to str, optional
        Feature id -> name for the panel titles.

    Returns
    -------
    fig : matplotlib.figure.Figure
    ax : ndarray of Axes
    """
    from ..report.figures import new_figure

    ncols = 4
    nrows = max(1, int(np.ceil(len(pairs) / ncols)))
    fig, ax = new_figure(nrows, ncols, figsize=(3.0 * ncols, 2.3 * nrows), squeeze=False)
    for axis in ax.ravel()[len(pairs) :]:
        axis.set_axis_off()
    for axis, (label, fid) in zip(ax.ravel(), pairs):
        c = curves[(curves["direction"] == label) & (curves["feature"] == fid)]
        axis.plot(c["value"], c["mean"], marker="o", markersize=2.5, color="tab:blue")
        axis.fill_between(
            c["value"], c["mean"] - c["sd"], c["mean"] + c["sd"], color="tab:blue", alpha=0.2, linewidth=0
        )
        name = (names or {}).get(fid, "")
        axis.set_title(f"{label}: {fid}" + (f"\n{name}" if name else ""), fontsize=7)
        axis.tick_params(labelsize=6)
        axis.set_xlabel("swept value (prior sd)", fontsize=6)
    if not pairs:
        ax[0, 0].set_axis_on()
        ax[0, 0].text(0.5, 0.5, "no pair to show", ha="center", va="center", transform=ax[0, 0].transAxes)
    fig.suptitle(title)
    return fig, ax
