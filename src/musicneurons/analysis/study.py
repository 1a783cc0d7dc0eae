"""The whole analysis of the paper on one model, as one call: tidy tables, and figures on request.

Symbols: ``n_real``, ``n_random`` windows, ``z`` neurons, ``b`` features.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .attributes import compare_attribute_vectors, plot_attribute_comparison
from .contrast import activation_counts, contrast_auc, plot_activation_counts, plot_neuron_histograms
from .correlation import correlate, pearson_matrix, plot_cross_correlation, plot_matrix
from .disentanglement import disentanglement_scores
from .inputs import check_features, check_latents, feature_categories, select_features
from .neurons import SIGMA_THRESHOLD, neuron_statistics, plot_neuron_boxplots, split_neurons
from .phik_cross import phik_cross_matrix
from .scatter import plot_scatter, scatter_selection

__all__ = ["StudyResults", "analyse_study", "melody_candidates"]

N_SHOWN = 100  # neurons in the box plots and the Pearson matrix (paper Figs 4-5)


@dataclass
class StudyResults:
    """Everything :func:`analyse_study` found. Each table is a DataFrame; ``summary`` a JSON-able dict.

    Attributes
    ----------
    summary : dict
        Counts of the split, noise floor, contrast AUCs and disentanglement means.
    neurons : DataFrame
        :func:`~musicneurons.analysis.neurons.neuron_statistics`, one row per neuron in order.
    pearson : DataFrame
        Pearson correlation of mu between the first 100 neurons in order (labels: neuron indices).
    features_dropped : DataFrame
        ``feature_id``, ``reason``.
    feature_phik : DataFrame
        phik among the kept features.
    correlations : DataFrame
        Long table music neuron x feature: ``neuron``, ``feature_id``, ``phik``, ``spearman``, ``sign``,
        ``above_noise``, (``significance_z``), ``category`` and ``rank`` (the neuron's place in the order by
        mean sigma, 0 = most specific).
    random_correlations : DataFrame or None
        The same on the random windows.
    attributes : DataFrame
        :func:`~musicneurons.analysis.attributes.compare_attribute_vectors`.
    activation : DataFrame
        Per window: ``set`` (real or random), ``music_active``, ``noise_active``.
    contrast : DataFrame
        Cross-validated ROC AUC of real against random per input.
    melody_candidates : DataFrame
        Music neurons whose strongest feature is a melody feature.
    disentanglement : DataFrame
        Per-feature scores on the deduplicated features.
    figures : dict of str to list of Path
        Written figure files by name (empty without ``out_dir``).
    """

    summary: dict
    neurons: pd.DataFrame
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
    figures: dict = field(default_factory=dict)

    def tables(self):
        """The tables by name (dict of str to DataFrame), the ``None`` ones left out."""
        names = ["neurons", "pearson", "features_dropped", "feature_phik", "correlations", "random_correlations",
                 "attributes", "activation", "contrast", "melody_candidates", "disentanglement"]
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}

    def save(self, out_dir):
        """Write every table as ``<name>.csv`` and the summary as ``summary.json`` under ``out_dir``."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, table in self.tables().items():
            table.to_csv(out_dir / f"{name}.csv", index=name in ("pearson", "feature_phik"))
        (out_dir / "summary.json").write_text(json.dumps(self.summary, indent=2))
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
    figures = {
        "fig4_neuron_boxplots": plot_neuron_boxplots(real_mu, real_sigma, split, N_SHOWN,
                                                     title=f"Spread of sigma and mu per neuron ({label})")[0],
        "fig5_pearson_mu": plot_matrix(results.pearson.to_numpy(), [str(i) for i in shown], [str(i) for i in shown],
                                       f"Pearson correlation of mu, first {shown.size} neurons ({label})",
                                       xlabel="neuron", ylabel="neuron (order by mean sigma)")[0],
        "fig6_feature_phik": plot_matrix(results.feature_phik.to_numpy(), list(kept.columns), list(kept.columns),
                                         f"phik among features ({label})", vmin=0, vmax=1, cmap="viridis",
                                         colorbar_label="phik", xlabel="feature", ylabel="feature")[0],
        "fig7_neuron_feature_phik": plot_cross_correlation(corr, f"phik between music neurons and features ({label})")[0],
        "attribute_vectors": plot_attribute_comparison(results.attributes,
                                                       f"Attribute vectors against the best single neuron ({label})")[0],
        "fig10_real_random_histograms": plot_neuron_histograms(real_mu, random_mu, split.order[:4],
                                                               f"mu of the first neurons: real and random ({label})")[0],
        "fig11_activation_counts": plot_activation_counts(
            results.activation[results.activation["set"] == "real"], results.activation[results.activation["set"] == "random"],
            int(split.music.sum()), int((~split.music).sum()), f"Neurons with |mu| > 0.1: real and random ({label})")[0],
    }
    if not results.correlations["phik"].dropna().empty:
        neuron, chosen = scatter_selection(results.correlations, categories)
        for category, fids in chosen.items():
            figures[f"scatter_neuron{neuron}_{category}"] = plot_scatter(
                real_mu[:, neuron], kept, fids, f"neuron {neuron}",
                f"Neuron {neuron} against {category} features ({label})")[0]
    return {name: save_figure(fig, out_dir / name) for name, fig in figures.items()}


def analyse_study(real_mu, real_sigma, real_features, random_mu, random_sigma, random_features, catalogue,
                  out_dir=None, sigma_threshold=SIGMA_THRESHOLD, bins=10, significance=False, label="2-bar",
                  random_state=0):
    """Run every analysis of the paper (Figs 4-12) and the extra ones on one model's encodings.

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
    sigma_threshold : float
        Music neurons have mean sigma below it.
    bins : int
        Quantile bins of phik.
    significance : bool
        Add phik's asymptotic significance Z to the correlations.
    label : str
        Model label in figure titles (e.g. "2-bar", "16-bar").
    random_state : int

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
    corr = correlate(real_mu[:, music], kept, neurons=music, bins=bins, significance=significance,
                     random_state=random_state)
    table = corr.table()
    correlations = table.assign(category=table["feature_id"].map(categories),
                                rank=table["neuron"].map(dict(zip(split.order.tolist(), range(split.order.size)))))
    random_table = None
    if random_features is not None:
        random_features = check_features(random_features, len(random_mu), catalogue, "analyse_study")
        random_table = correlate(random_mu[:, music], random_features[kept.columns], neurons=music, bins=bins,
                                 noise_pairs=0).table().drop(columns="above_noise")
    activation = pd.concat([activation_counts(real_mu, split.music).assign(set="real"),
                            activation_counts(random_mu, split.music).assign(set="random")], ignore_index=True)
    deduplicated, _ = select_features(kept, max_abs_spearman=0.95)
    per_feature, scores = (disentanglement_scores(real_mu[:, music], deduplicated, neurons=music)
                           if music.size and deduplicated.shape[1] >= 2 else (pd.DataFrame(), {}))
    contrast = contrast_auc(real_mu, random_mu, split.music, random_state=random_state)
    results = StudyResults(
        summary={"label": label, "windows_real": len(real_mu), "windows_random": len(random_mu),
                 **split.summary(), "features_kept": int(kept.shape[1]), "features_dropped": int(len(dropped)),
                 "noise_floor": corr.noise_floor,
                 "contrast_auc": dict(zip(contrast["input"], contrast["auc_mean"].round(4))),
                 "disentanglement": scores},
        neurons=neuron_statistics(real_mu, real_sigma, split),
        pearson=pd.DataFrame(pearson_matrix(real_mu[:, shown]), index=shown, columns=shown),
        features_dropped=dropped,
        feature_phik=pd.DataFrame(phik_cross_matrix(kept.to_numpy(), kept.to_numpy(), bins),
                                  index=kept.columns, columns=kept.columns),
        correlations=correlations,
        random_correlations=random_table,
        attributes=compare_attribute_vectors(real_mu, kept, candidates=music if music.size else None),
        activation=activation, contrast=contrast,
        melody_candidates=melody_candidates(correlations, categories),
        disentanglement=per_feature)
    if out_dir is not None:
        results.figures = _figures(out_dir, label, real_mu, real_sigma, random_mu, split, results, corr, kept,
                                   categories)
        results.save(out_dir)
    return results
