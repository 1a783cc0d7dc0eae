"""The whole analysis of the paper on one model, as one call: tidy tables, and figures on request.

Symbols: ``n_real``, ``n_random`` windows, ``z`` neurons, ``b`` features.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .ablation import DECODER_TOLERANCES, plot_decoder_curve
from .attributes import compare_attribute_vectors, plot_attribute_comparison
from .bootstrap import (
    N_BOOT,
    interval,
    resample_indices,
    resample_weights,
    resampled_means,
    resampled_medians,
    resampled_profiles,
    sample_verdict,
)
from .claims import judge_claims, top_categories
from .contrast import (
    CONTRAST_NOTE,
    activation_counts,
    contrast_auc,
    plot_activation_counts,
    plot_neuron_histograms,
    relative_activation_counts,
)
from .correlation import correlate, pearson_matrix, plot_cross_correlation, plot_matrix
from .disentanglement import disentanglement_scores
from .inputs import check_features, check_latents, feature_categories, select_features
from .kl import kl_table, plot_neuron_kl
from .neurons import neuron_statistics, plot_neuron_boxplots, split_neurons
from .noise import noise_statistics, noise_test
from .phik_cross import phik_cross_matrix
from .scatter import plot_scatter, scatter_selection
from .split import activity_counts, plot_split_counts, resampled_splits, window_overlap, window_split

__all__ = ["StudyResults", "analyse_study", "melody_candidates", "split_line"]

N_SHOWN = 100  # neurons in the box plots and the Pearson matrix (paper Figs 4-5)


@dataclass
class StudyResults:
    """Everything :func:`analyse_study` found. Each table is a DataFrame; ``summary`` a JSON-able dict.

    Without a clear music/noise split the "music neurons" of every table are the first neurons by mean
    sigma (``summary["group"]`` says which), and the claims that need music neurons cannot tell.

    Attributes
    ----------
    summary : dict
        The split (``split``, ``group``, ``group_size``, ``music_neurons``), the correlation tests
        (``correlation_tests``: noise floor, Benjamini-Hochberg tests, phik binning), ``kl``, ``noise_test``,
        ``claims`` (the paper claim by claim), activation medians, contrast AUCs and disentanglement means.
    neurons : DataFrame
        :func:`~musicneurons.analysis.neurons.neuron_statistics`, one row per neuron in order, with ``kl``.
    split_counts : DataFrame
        :func:`~musicneurons.analysis.split.activity_counts`: neurons above each threshold on activity.
    kl : DataFrame
        :func:`~musicneurons.analysis.kl.kl_table`: per-neuron KL from the prior in the order by mean sigma.
    pearson : DataFrame
        Pearson correlation of mu between the first 100 neurons in order (labels: neuron indices).
    features_dropped : DataFrame
        ``feature_id``, ``reason``.
    feature_phik : DataFrame
        phik among the kept features.
    correlations : DataFrame
        Long table analysed neuron x feature: ``neuron``, ``feature_id``, ``phik``, ``spearman``, ``sign``,
        ``p_value``, ``q_value`` (Benjamini-Hochberg), ``above_noise``, (``significance_z``), ``category`` and
        ``rank`` (the neuron's place in the order by mean sigma, 0 = most specific).
    random_correlations : DataFrame or None
        The same on the random windows.
    attributes : DataFrame
        :func:`~musicneurons.analysis.attributes.compare_attribute_vectors` on a held-out half.
    activation : DataFrame
        Per window: ``set`` (real or random), ``music_active``, ``noise_active`` (|mu| > 0.1) and
        ``music_active_relative``, ``noise_active_relative`` (more than 2 real standard deviations from the
        neuron's real mean).
    contrast : DataFrame
        Cross-validated ROC AUC of real against random per input (a check, not a finding: see
        ``summary["contrast_note"]``).
    melody_candidates : DataFrame
        Analysed neurons whose strongest feature is a melody feature.
    disentanglement : DataFrame
        Per-feature scores on the deduplicated features.
    ablation : DataFrame or None
        The decoder ablation passed in (:func:`~musicneurons.analysis.ablation.ablation_accuracies`).
    decoder : DataFrame or None
        The decoder's proof passed in (:meth:`~musicneurons.analysis.ablation.DecoderCurve.table`): accuracy
        keeping the first k neurons of each order.
    figures : dict of str to list of Path
        Written figure files by name (empty without ``out_dir``).
    """

    summary: dict
    neurons: pd.DataFrame
    split_counts: pd.DataFrame
    kl: pd.DataFrame
    pearson: pd.DataFrame
    features_dropped: pd.DataFrame
    feature_phik: pd.DataFrame
    correlations: pd.DataFrame
    random_correlations: pd.DataFrame
    attributes: pd.DataFrame
    activation: pd.DataFrame
    contrast: pd.DataFrame
    melody_candidates: pd.DataFrame
    disentanglement: pd.DataFrame
    ablation: pd.DataFrame = None
    decoder: pd.DataFrame = None
    figures: dict = field(default_factory=dict)

    def tables(self):
        """The tables by name (dict of str to DataFrame), the ``None`` ones left out."""
        names = [
            "neurons",
            "split_counts",
            "kl",
            "pearson",
            "features_dropped",
            "feature_phik",
            "correlations",
            "random_correlations",
            "attributes",
            "activation",
            "contrast",
            "melody_candidates",
            "disentanglement",
            "ablation",
            "decoder",
        ]
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}

    def save(self, out_dir):
        """Write every table as ``<name>.csv`` and the summary as ``summary.json`` under ``out_dir``."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, table in self.tables().items():
            table.to_csv(out_dir / f"{name}.csv", index=name in ("pearson", "feature_phik"))
        (out_dir / "summary.json").write_text(json.dumps(self.summary, indent=2, default=_json_value))
        return out_dir

    @classmethod
    def load(cls, out_dir):
        """Read back what :meth:`save` and :func:`analyse_study` wrote under ``out_dir`` (figures by name)."""
        out_dir = Path(out_dir)
        tables = {}
        for name in cls.__dataclass_fields__:
            path = out_dir / f"{name}.csv"
            if name in ("summary", "figures"):
                continue
            if not path.is_file():
                tables[name] = None
            elif path.stat().st_size <= 1:
                tables[name] = pd.DataFrame()
            else:
                tables[name] = pd.read_csv(path, index_col=0 if name in ("pearson", "feature_phik") else None)
        figures = {p.stem: [p, p.with_suffix(".svg")] for p in sorted(out_dir.glob("*.png"))}
        return cls(summary=json.loads((out_dir / "summary.json").read_text()), figures=figures, **tables)


def _json_value(value):
    """numpy scalars as Python numbers for ``json.dumps``."""
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    raise TypeError(f"not JSON-able: {type(value).__name__}")


def split_line(summary):
    """The split of one analysis summary in one line of plain words (str)."""
    split = summary["split"]
    if not split["found"]:
        return f"none: {split['reason']}"
    low, high = summary.get("count_interval") or [None, None]
    band = summary["count_band"]
    line = f"{split['count']} music neurons"
    if low is not None:
        line += f" (bootstrap interval {low:g}-{high:g})"
    line += (
        f"; the paper's reading (mean sigma < {band['paper_sigma']:g}) {band['paper_reading']}, active units at "
        + " / ".join(f"{k}: {v}" for k, v in band["active_units"].items())
    )
    sample = summary.get("sample")
    if sample and sample["too_small"]:
        line += f"; the sample is too small for verdicts ({sample['reason']})"
    return line


def melody_candidates(correlations, categories):
    """Music neurons whose strongest feature (above the noise floor) is a melody feature (paper §6).

    Parameters
    ----------
    correlations : DataFrame
        Long table of :meth:`CrossCorrelation.table` (sorted by decreasing phik).
    categories : dict of str to str
        Category of each feature id.

    Returns
    -------
    DataFrame
        ``neuron``, ``rank`` (when ``correlations`` has it), ``feature_id``, ``phik``, and ``best_other``
        (the highest phik of that neuron with a pitch or rhythm feature), one row per candidate in
        decreasing phik.
    """
    top = correlations.dropna(subset=["phik"]).drop_duplicates("neuron")
    top = top[top["above_noise"] & (top["feature_id"].map(categories) == "melody")]
    other = correlations[correlations["feature_id"].map(categories).isin(["pitch", "rhythm"])]
    best_other = other.groupby("neuron")["phik"].max()
    out = top[[c for c in ("neuron", "rank", "feature_id", "phik") if c in top]].reset_index(drop=True)
    out["best_other"] = out["neuron"].map(best_other).to_numpy()
    return out


def _figures(out_dir, label, real_mu, real_sigma, random_mu, split, results, corr, kept, categories):
    """Draw and save every figure; returns {name: [png, svg]}."""
    from ..report.figures import save_figure
    from ..report.labels import feature_label, neuron_label

    out_dir = Path(out_dir)
    shown = split.order[:N_SHOWN]
    group, kinds = split.group_label, ("music", "noise") if split.is_split else ("first", "other")
    real = results.activation[results.activation["set"] == "real"]
    rand = results.activation[results.activation["set"] == "random"]
    n_group, n_other = int(split.music.sum()), int((~split.music).sum())
    ranks = {int(n): r for r, n in enumerate(split.order)}
    figures = {
        "split_counts": plot_split_counts(
            split.profile, split.detection, title=f"Neurons above a threshold on activity ({label})"
        )[0],
        "fig4_neuron_boxplots": plot_neuron_boxplots(
            real_mu, real_sigma, split, N_SHOWN, title=f"Spread of sigma and mu per neuron ({label})"
        )[0],
        "neuron_kl": plot_neuron_kl(results.kl, group, title=f"KL from the prior per neuron ({label})")[0],
        "fig5_pearson_mu": plot_matrix(
            results.pearson.to_numpy(),
            [neuron_label(r, i) for r, i in enumerate(shown)],
            [f"#{r + 1}\nn{i}" for r, i in enumerate(shown)],
            f"Pearson correlation of mu, first {shown.size} neurons by rank ({label})",
            xlabel="neuron: #rank by increasing mean sigma, n + index below",
            ylabel="neuron: #rank by increasing mean sigma (n + index)",
            max_ticks=20,
            fontsize=7,
            figsize=(9.5, 8.5),
        )[0],
        "fig6_feature_phik": plot_matrix(
            results.feature_phik.to_numpy(),
            [feature_label(f) for f in kept.columns],
            list(kept.columns),
            f"phik among features ({label})",
            vmin=0,
            vmax=1,
            cmap="viridis",
            colorbar_label="phik",
            xlabel="feature (in the rows' order)",
            ylabel="feature",
            max_ticks=(len(kept.columns), 48),
            fontsize=5.5,
            figsize=(9.5, 0.13 * len(kept.columns) + 2.5),
        )[0],
        "fig7_neuron_feature_phik": plot_cross_correlation(
            corr, f"phik between {group} and features ({label})", ranks=ranks, categories=categories
        )[0],
        "attribute_vectors": plot_attribute_comparison(
            results.attributes, f"Attribute vectors against the best single neuron, held out ({label})"
        )[0],
        "fig10_real_random_histograms": plot_neuron_histograms(
            real_mu, random_mu, split.order[:4], f"mu of the first neurons: real and random ({label})"
        )[0],
        "fig11_activation_counts": plot_activation_counts(
            real, rand, n_group, n_other, f"Neurons with |mu| > 0.1: real and random ({label})", kinds=kinds
        )[0],
        "fig11_activation_counts_relative": plot_activation_counts(
            real.assign(music_active=real["music_active_relative"], noise_active=real["noise_active_relative"]),
            rand.assign(music_active=rand["music_active_relative"], noise_active=rand["noise_active_relative"]),
            n_group,
            n_other,
            f"Neurons beyond 2 real standard deviations: real and random ({label})",
            rule="|mu - real mean| > 2 sd",
            kinds=kinds,
        )[0],
    }
    if results.decoder is not None:
        marks = {"music neurons": int(split.music.sum())} if split.is_split else {}
        marks.update({f"within {t}": k for t, k in results.summary["decoder"]["fewest_k"].items()})
        figures["decoder_curve"] = plot_decoder_curve(
            results.decoder, marks, title=f"How many neurons does the decoder need? ({label})"
        )[0]
    if not results.correlations["phik"].dropna().empty:
        neuron, chosen = scatter_selection(results.correlations, categories)
        for category, fids in chosen.items():
            figures[f"scatter_neuron{neuron}_{category}"] = plot_scatter(
                real_mu[:, neuron],
                kept,
                fids,
                neuron_label(ranks[neuron], neuron),
                f"{neuron_label(ranks[neuron], neuron)} against {category} features ({label})",
            )[0]
    return {name: save_figure(fig, out_dir / name) for name, fig in figures.items()}


def _activation(real_mu, random_mu, music):
    """Fig 11's counts per window, absolute and relative, for both sets."""

    def counts(mu, name):
        absolute = activation_counts(mu, music)
        relative = relative_activation_counts(mu, real_mu, music).add_suffix("_relative")
        return pd.concat([absolute, relative], axis=1).assign(set=name)

    return pd.concat([counts(real_mu, "real"), counts(random_mu, "random")], ignore_index=True)


def _count_medians(activation):
    """Median counts per window: ``{music,noise}_{real,random}`` and the ``_relative`` ones, as floats."""
    med = activation.groupby("set").median(numeric_only=True)
    return {
        f"{column.replace('_active', '')}_{name}": float(med.loc[name, column])
        for column in med.columns
        for name in med.index
    }


def _evidence(real_sigma, real_mu, split, correlations, attributes, activation, candidates, categories, random_state):
    """The numbers behind the claims (:func:`~musicneurons.analysis.claims.judge_claims`) and their per-window
    ingredients (for the bootstrap): ``(evidence, windows)``."""
    music = split.music_neurons
    shows = window_split(real_sigma, split.detection) if split.is_split else None
    r = np.abs(pearson_matrix(real_mu[:, music])[np.triu_indices(music.size, 1)]) if music.size >= 2 else None
    top, gaps = top_categories(correlations) if len(correlations) else ([], [])
    compared = attributes[attributes["feature_id"].map(categories).isin(["pitch", "rhythm"])]
    overlap = window_overlap(real_sigma, split.music, random_state=random_state) if music.size else None
    evidence = {
        "split_found": split.is_split,
        "group_size": int(music.size),
        "music": [int(i) for i in music],
        "neurons": int(split.music.size),
        "n_noise": int((~split.music).sum()),
        "window_share": None if shows is None else float(shows["shows_split"].mean()),
        "window_median": None if shows is None else float(shows.loc[shows["shows_split"], "below_band"].median()),
        "band_from": None if shows is None else shows.attrs["band_from"],
        "overlap": None if overlap is None else {k: v for k, v in overlap.items() if k != "pairwise"},
        "pearson_abs_median": None if r is None else float(np.nanmedian(r)),
        "pearson_abs_q95": None if r is None else float(np.nanquantile(r, 0.95)),
        "categories": top,
        "nonlinear_gaps": gaps,
        "neuron_win_share": float(compared["neuron_wins"].mean()) if len(compared) else None,
        "compared_features": len(compared),
        "count_medians": _count_medians(activation),
        "melody_ranks": [int(x) for x in candidates.get("rank", [])],
    }
    windows = {"shows": shows, "pairwise": None if overlap is None else overlap["pairwise"]}
    return evidence, windows


def _pair_correlations(values, weights, *, max_pairs=1000, random_state=0):
    """|Pearson r| of pairs of columns of ``values`` (n, k) on each resample -> (B, pairs) float64.

    All pairs when there are at most ``max_pairs``, else a seeded sample of that many; ``weights`` (B, n) from
    :func:`~musicneurons.analysis.bootstrap.resample_weights`.
    """
    i, j = np.triu_indices(values.shape[1], 1)
    if i.size > max_pairs:
        pick = np.sort(np.random.default_rng(random_state).choice(i.size, max_pairs, replace=False))
        i, j = i[pick], j[pick]
    centred = values - values.mean(axis=0)
    first = resampled_means(centred, weights)  # (B, k)
    second = resampled_means(centred, weights, transform=lambda c: c[:, i] * c[:, j])  # (B, pairs)
    squares = resampled_means(centred, weights, transform=np.square)
    var = np.maximum(squares - first**2, 1e-300)
    cov = second - first[:, i] * first[:, j]
    return np.abs(cov / np.sqrt(var[:, i] * var[:, j]))


def _resampled_evidence(evidence, windows, real_mu, split, activation, resamples, random_state):
    """Per resample, the evidence numbers that come from windows (list of B dicts), the split held fixed.

    ``resamples``: ``(indices, weights, random_indices)`` of the real windows and the random windows' indices.
    """
    indices, weights, random_indices = resamples
    n_boot = len(indices)
    out = [{} for _ in range(n_boot)]
    if windows["shows"] is not None:
        for o, share in zip(out, resampled_means(windows["shows"]["shows_split"].to_numpy(), weights)):
            o["window_share"] = float(share)
    if windows["pairwise"] is not None:
        pairs = windows["pairwise"]
        pick = np.random.default_rng(random_state + 1).integers(0, len(pairs), size=(n_boot, len(pairs)))
        for o, median in zip(out, np.median(pairs[pick], axis=1)):
            o["overlap"] = {**evidence["overlap"], "pairwise_median": float(median)}
    music = split.music_neurons
    if music.size >= 2:
        r = _pair_correlations(real_mu[:, music], weights, random_state=random_state)
        for o, median, q95 in zip(out, np.median(r, axis=1), np.quantile(r, 0.95, axis=1)):
            o["pearson_abs_median"], o["pearson_abs_q95"] = float(median), float(q95)
    medians = {}
    for name, rows in (("real", indices), ("random", random_indices)):
        part = activation[activation["set"] == name]
        for column in ("music_active", "noise_active"):
            medians[f"{column.replace('_active', '')}_{name}"] = resampled_medians(part[column].to_numpy(), rows)
    for b, o in enumerate(out):
        o["count_medians"] = {**evidence["count_medians"], **{k: float(v[b]) for k, v in medians.items()}}
    return out


def _decoder_summary(curve, split, count_interval, random_state, n_boot):
    """The decoder's proof: fewest k by mean sigma and by activity, bootstrap intervals, agreement with the count."""
    m = len(curve.full)
    rows = resample_indices(m, n_boot=n_boot, random_state=random_state + 2)
    fewest, intervals, by_activity = {}, {}, {}
    for t in DECODER_TOLERANCES:
        fewest[f"{t:g}"] = curve.fewest_k("mean sigma", t)
        intervals[f"{t:g}"] = interval([curve.fewest_k("mean sigma", t, r) for r in rows])
        if "activity" in curve.orders:
            by_activity[f"{t:g}"] = curve.fewest_k("activity", t)
    low, high = intervals[f"{max(DECODER_TOLERANCES):g}"][0], intervals[f"{min(DECODER_TOLERANCES):g}"][1]
    out = {
        "windows": m,
        "full_accuracy": float(curve.full.mean()),
        "fewest_k": fewest,
        "fewest_k_interval": intervals,
        "fewest_k_by_activity": by_activity,
        "band": [low, high],
        "rule": (
            f"the decoder's band runs from the low end of the fewest k within {max(DECODER_TOLERANCES):g} to the "
            f"high end of the fewest k within {min(DECODER_TOLERANCES):g} of the full latent (first k by mean "
            "sigma kept, the rest mu = 0; 2.5-97.5 % over resampled decoded windows); the split's count agrees "
            "when its interval meets the band"
        ),
    }
    if split.is_split:
        count_low, count_high = count_interval
        agree = count_high >= low and count_low <= high
        out["count_interval"] = list(count_interval)
        out["agrees"] = bool(agree)
        out["reading"] = (
            f"the split's {int(split.music.sum())} music neurons (interval {count_low:g}-{count_high:g}) and the "
            f"decoder's band {low:g}-{high:g} agree"
            if agree
            else f"the split counts {int(split.music.sum())} music neurons (interval {count_low:g}-{count_high:g}), "
            f"{'more' if count_low > high else 'fewer'} than the decoder's band {low:g}-{high:g}"
        )
    return out


def _bootstrap_split(real_mu, real_sigma, split, weights, bins):
    """The split rule on each resample (``weights`` (B, n)): ``(summary, counts, found)``, the summary from
    :func:`~musicneurons.analysis.bootstrap.sample_verdict` with the resamples' counts and found shares."""
    profiles = resampled_profiles(real_mu, real_sigma, weights)
    resampled = resampled_splits(split.detection, profiles)
    found = np.array([d.found for d in resampled], dtype=bool)
    counts = np.array([d.count for d in resampled], dtype=np.int64)
    detection = split.detection
    sample = sample_verdict(
        n_windows=len(real_mu),
        bins=bins,
        found=detection.found,
        count=detection.count if detection.found else None,
        resampled_found=found,
        resampled_counts=counts,
    )
    return {**sample, "resamples": len(weights)}, counts, found


def analyse_study(
    real_mu,
    real_sigma,
    real_features,
    random_mu,
    random_sigma,
    random_features,
    catalogue,
    out_dir=None,
    sigma_threshold=None,
    bins=10,
    significance=False,
    label="2-bar",
    random_state=0,
    binning="quantile",
    ablation=None,
    caveats=(),
    *,
    split=None,
    decoder=None,
    n_boot=N_BOOT,
):
    """Run every analysis of the paper (Figs 4-12), judge its claims, and the extra analyses on one model.

    Parameters
    ----------
    real_mu, real_sigma : ndarray of shape (n_real, z)
        Encodings of real windows.
    real_features : DataFrame of shape (n_real, b)
        One float column per feature id, NaN allowed.
    random_mu, random_sigma : ndarray of shape (n_random, z)
        Encodings of random note sequences (paper §5.1).
    random_features : DataFrame of shape (n_random, b) or None
        Features of the random windows (for ``random_correlations``); None skips them.
    catalogue : DataFrame or None
        ``id`` and ``category`` (pitch, rhythm, melody), optional ``constant``/``duplicate`` flags;
        None takes the category from the first letter of the id (P, R, M).
    out_dir : str or Path, optional
        When given, tables (CSV, ``summary.json``) and figures (PNG + SVG) are written there.
    sigma_threshold : float, optional
        By hand: analyse the neurons with mean sigma below it. Default: the detected split, else the first
        neurons by mean sigma (:func:`~musicneurons.analysis.neurons.split_neurons`).
    bins : int
        Bins of phik.
    significance : bool
        Add phik's asymptotic significance Z to the correlations.
    label : str
        Model label in figure titles (e.g. "2-bar", "16-bar").
    random_state : int
    binning : {"quantile", "uniform"}
        phik's bins: quantile bins, or phik's own default equal-width bins; recorded in the summary.
    ablation : DataFrame, optional
        The decoder ablation of the model on real windows
        (:func:`~musicneurons.analysis.ablation.noise_ablation`); without it the noise test cannot tell.
    caveats : sequence of str
        What the model card says about the training (:func:`~musicneurons.analysis.claims.model_caveats`),
        put before the claims.
    split : NeuronSplit, optional
        The split of these real windows when the caller has it already (it must come from ``real_mu``,
        ``real_sigma``, ``sigma_threshold`` and ``random_state``).
    decoder : DecoderCurve, optional
        The decoder's proof (:func:`~musicneurons.analysis.ablation.decoder_curve` with the orders
        ``"mean sigma"`` and ``"activity"``); without it the study reports no decoder's k.
    n_boot : int
        Bootstrap resamples of the windows (:mod:`~musicneurons.analysis.bootstrap`); 0 for none, which also
        skips the sample-size check.

    Returns
    -------
    StudyResults
    """
    real_mu, real_sigma = check_latents(real_mu, real_sigma, "analyse_study (real)")
    random_mu, random_sigma = check_latents(random_mu, random_sigma, "analyse_study (random)")
    real_features = check_features(real_features, len(real_mu), catalogue, "analyse_study")
    split = split or split_neurons(real_mu, real_sigma, sigma_threshold, random_state=random_state)
    music = split.music_neurons
    kept, dropped = select_features(real_features, catalogue)
    categories = dict(zip(kept.columns, feature_categories(kept.columns, catalogue)))
    shown = split.order[:N_SHOWN]
    corr = correlate(
        real_mu[:, music],
        kept,
        neurons=music,
        bins=bins,
        significance=significance,
        random_state=random_state,
        binning=binning,
    )
    table = corr.table()
    correlations = table.assign(
        category=table["feature_id"].map(categories),
        rank=table["neuron"].map(dict(zip(split.order.tolist(), range(split.order.size)))),
    )
    random_table = None
    if random_features is not None:
        random_features = check_features(random_features, len(random_mu), catalogue, "analyse_study")
        random_table = (
            correlate(
                random_mu[:, music],
                random_features[kept.columns],
                neurons=music,
                bins=bins,
                noise_pairs=0,
                binning=binning,
            )
            .table()
            .drop(columns="above_noise")
        )
    activation = _activation(real_mu, random_mu, split.music)
    deduplicated, _ = select_features(kept, max_abs_spearman=0.95)
    per_feature, scores = (
        disentanglement_scores(real_mu[:, music], deduplicated, neurons=music)
        if music.size and deduplicated.shape[1] >= 2
        else (pd.DataFrame(), {})
    )
    contrast = contrast_auc(real_mu, random_mu, split.music, random_state=random_state)
    kl = kl_table(split.profile.kl, split.order, split.music)
    attributes = compare_attribute_vectors(
        real_mu, kept, candidates=music if music.size else None, random_state=random_state
    )
    candidates = melody_candidates(correlations, categories)
    evidence, windows = _evidence(
        real_sigma, real_mu, split, correlations, attributes, activation, candidates, categories, random_state
    )
    resampled, sample = [], None
    count_interval = [split.detection.count] * 2
    if n_boot:
        indices = resample_indices(len(real_mu), n_boot=n_boot, random_state=random_state)
        weights = resample_weights(indices, len(real_mu))
        random_indices = resample_indices(len(random_mu), n_boot=n_boot, random_state=random_state + 3)
        sample, counts, found = _bootstrap_split(real_mu, real_sigma, split, weights, bins)
        count_interval = sample["count_interval"]
        evidence["bootstrap"] = {"counts": counts.tolist(), "found": found.tolist()}
        resampled = _resampled_evidence(
            evidence, windows, real_mu, split, activation, (indices, weights, random_indices), random_state
        )
    noise = noise_test(noise_statistics(real_mu, real_sigma, ~split.music), ablation, split_found=split.is_split)
    total_kl = float(kl["kl"].sum())
    summary = {
        "label": label,
        "windows_real": len(real_mu),
        "windows_random": len(random_mu),
        **split.summary(),
        "count_interval": count_interval if split.is_split else None,
        "sample": sample,
        "features_kept": int(kept.shape[1]),
        "features_dropped": len(dropped),
        "noise_floor": corr.noise_floor,
        "correlation_tests": corr.summary(),
        "kl": {
            "total": total_kl,
            "group_share": float(kl.loc[kl["group"], "kl"].sum()) / total_kl if total_kl > 0 else None,
            "unit": "nats per window (sum over neurons)",
        },
        "noise_test": noise,
        "decoder": None if decoder is None else _decoder_summary(decoder, split, count_interval, random_state, n_boot),
        "claims": {
            "caveats": list(caveats),
            "claims": judge_claims(evidence, resampled, sample),
            "evidence": evidence,
            "sample": sample,
        },
        "activation_medians": evidence["count_medians"],
        "contrast_auc": dict(zip(contrast["input"], contrast["auc_mean"].round(4))),
        "contrast_note": CONTRAST_NOTE,
        "disentanglement": scores,
    }
    results = StudyResults(
        summary=summary,
        neurons=neuron_statistics(real_mu, real_sigma, split),
        split_counts=activity_counts(split.profile.activity),
        kl=kl,
        pearson=pd.DataFrame(pearson_matrix(real_mu[:, shown]), index=shown, columns=shown),
        features_dropped=dropped,
        feature_phik=pd.DataFrame(
            phik_cross_matrix(kept.to_numpy(), kept.to_numpy(), bins, binning), index=kept.columns, columns=kept.columns
        ),
        correlations=correlations,
        random_correlations=random_table,
        attributes=attributes,
        activation=activation,
        contrast=contrast,
        melody_candidates=candidates,
        disentanglement=per_feature,
        ablation=ablation,
        decoder=None if decoder is None else decoder.table(),
    )
    if out_dir is not None:
        results.figures = _figures(
            out_dir, label, real_mu, real_sigma, random_mu, split, results, corr, kept, categories
        )
        results.save(out_dir)
    return results
