"""The whole analysis of the paper on one model, as one call: tidy tables, and figures on request.

Symbols: ``n_real``, ``n_random`` windows, ``z`` neurons, ``b`` features.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .attributes import compare_attribute_vectors, plot_attribute_comparison
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
from .kl import kl_table, neuron_kl, plot_neuron_kl
from .neurons import neuron_statistics, plot_neuron_boxplots, split_neurons
from .noise import noise_statistics, noise_test
from .phik_cross import phik_cross_matrix
from .scatter import plot_scatter, scatter_selection
from .split import counts_vs_cut, gap_rule, plot_split_counts, window_overlap

__all__ = ["StudyResults", "analyse_study", "melody_candidates"]

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
        :func:`~musicneurons.analysis.split.counts_vs_cut`: neurons below each cut on mean sigma, 0..1.
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

    out_dir = Path(out_dir)
    shown = split.order[:N_SHOWN]
    group, kinds = split.group_label, ("music", "noise") if split.is_split else ("first", "other")
    real = results.activation[results.activation["set"] == "real"]
    rand = results.activation[results.activation["set"] == "random"]
    n_group, n_other = int(split.music.sum()), int((~split.music).sum())
    figures = {
        "split_counts": plot_split_counts(
            real_sigma.mean(axis=0), split.detection, title=f"Neurons below a cut on mean sigma ({label})"
        )[0],
        "fig4_neuron_boxplots": plot_neuron_boxplots(
            real_mu, real_sigma, split, N_SHOWN, title=f"Spread of sigma and mu per neuron ({label})"
        )[0],
        "neuron_kl": plot_neuron_kl(results.kl, group, title=f"KL from the prior per neuron ({label})")[0],
        "fig5_pearson_mu": plot_matrix(
            results.pearson.to_numpy(),
            [str(i) for i in shown],
            [str(i) for i in shown],
            f"Pearson correlation of mu, first {shown.size} neurons ({label})",
            xlabel="neuron",
            ylabel="neuron (order by mean sigma)",
        )[0],
        "fig6_feature_phik": plot_matrix(
            results.feature_phik.to_numpy(),
            list(kept.columns),
            list(kept.columns),
            f"phik among features ({label})",
            vmin=0,
            vmax=1,
            cmap="viridis",
            colorbar_label="phik",
            xlabel="feature",
            ylabel="feature",
        )[0],
        "fig7_neuron_feature_phik": plot_cross_correlation(corr, f"phik between {group} and features ({label})")[0],
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
    if not results.correlations["phik"].dropna().empty:
        neuron, chosen = scatter_selection(results.correlations, categories)
        for category, fids in chosen.items():
            figures[f"scatter_neuron{neuron}_{category}"] = plot_scatter(
                real_mu[:, neuron],
                kept,
                fids,
                f"neuron {neuron}",
                f"Neuron {neuron} against {category} features ({label})",
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
    """The numbers behind the claims (:func:`~musicneurons.analysis.claims.judge_claims`)."""
    music = split.music_neurons
    below, _, _, found = gap_rule(np.sort(real_sigma, axis=1))
    r = np.abs(pearson_matrix(real_mu[:, music])[np.triu_indices(music.size, 1)]) if music.size >= 2 else None
    top, gaps = top_categories(correlations) if len(correlations) else ([], [])
    compared = attributes[attributes["feature_id"].map(categories).isin(["pitch", "rhythm"])]
    return {
        "split_found": split.is_split,
        "group_size": int(music.size),
        "neurons": int(split.music.size),
        "n_noise": int((~split.music).sum()),
        "window_share": float(found.mean()),
        "window_median": float(np.median(below[found])) if found.any() else None,
        "overlap": window_overlap(real_sigma, split.music, random_state=random_state) if music.size else None,
        "pearson_abs_median": None if r is None else float(np.nanmedian(r)),
        "pearson_abs_q95": None if r is None else float(np.nanquantile(r, 0.95)),
        "categories": top,
        "nonlinear_gaps": gaps,
        "neuron_win_share": float(compared["neuron_wins"].mean()) if len(compared) else None,
        "compared_features": len(compared),
        "count_medians": _count_medians(activation),
        "melody_ranks": [int(x) for x in candidates.get("rank", [])],
    }


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
        (:func:`~musicneurons.analysis.ablation.ablation_accuracies` with the conditions of
        :mod:`~musicneurons.analysis.noise`); without it the noise test cannot tell.
    caveats : sequence of str
        What the model card says about the training (:func:`~musicneurons.analysis.claims.model_caveats`),
        put before the claims.

    Returns
    -------
    StudyResults
    """
    real_mu, real_sigma = check_latents(real_mu, real_sigma, "analyse_study (real)")
    random_mu, random_sigma = check_latents(random_mu, random_sigma, "analyse_study (random)")
    real_features = check_features(real_features, len(real_mu), catalogue, "analyse_study")
    split = split_neurons(real_mu, real_sigma, sigma_threshold)
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
    kl = kl_table(neuron_kl(real_mu, real_sigma), split.order, split.music)
    attributes = compare_attribute_vectors(
        real_mu, kept, candidates=music if music.size else None, random_state=random_state
    )
    candidates = melody_candidates(correlations, categories)
    evidence = _evidence(
        real_sigma, real_mu, split, correlations, attributes, activation, candidates, categories, random_state
    )
    noise = noise_test(noise_statistics(real_mu, real_sigma, ~split.music), ablation, split_found=split.is_split)
    total_kl = float(kl["kl"].sum())
    results = StudyResults(
        summary={
            "label": label,
            "windows_real": len(real_mu),
            "windows_random": len(random_mu),
            **split.summary(),
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
            "claims": {"caveats": list(caveats), "claims": judge_claims(evidence), "evidence": evidence},
            "activation_medians": evidence["count_medians"],
            "contrast_auc": dict(zip(contrast["input"], contrast["auc_mean"].round(4))),
            "contrast_note": CONTRAST_NOTE,
            "disentanglement": scores,
        },
        neurons=neuron_statistics(real_mu, real_sigma, split).assign(kl=kl["kl"].to_numpy()),
        split_counts=counts_vs_cut(real_sigma.mean(axis=0)),
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
    )
    if out_dir is not None:
        results.figures = _figures(
            out_dir, label, real_mu, real_sigma, random_mu, split, results, corr, kept, categories
        )
        results.save(out_dir)
    return results
