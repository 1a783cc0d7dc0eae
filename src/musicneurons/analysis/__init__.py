"""The latent analysis of the paper: which neurons carry music, what they mean, and real against random.

Every analysis is a function from plain arrays and tables (``mu``, ``sigma`` of shape (n, z); a features
DataFrame with one column per feature id; a catalogue with ``id`` and ``category``) to a tidy table,
with a figure function beside it that returns ``(fig, ax)``. :func:`analyse_study` runs them all: it finds
the music/noise split from the data (or says there is none), tests that the noise neurons are noise, and
judges the paper's claims one by one, each with a bootstrap reading of how sure it is. The model enters
only through results passed in (the decoder ablation of :func:`noise_ablation` and the decoder's proof of
:func:`decoder_curve`).
"""

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

if TYPE_CHECKING:
    from .ablation import DecoderCurve, ablation_accuracies, decoder_curve, model_ablation, noise_ablation
    from .attributes import attribute_vectors, compare_attribute_vectors, plot_attribute_comparison
    from .claims import judge_claims, model_caveats
    from .contrast import (
        activation_counts,
        contrast_auc,
        plot_activation_counts,
        plot_neuron_histograms,
        relative_activation_counts,
    )
    from .correlation import (
        CrossCorrelation,
        correlate,
        pearson_matrix,
        plot_cross_correlation,
        plot_matrix,
        spearman_cross,
    )
    from .disentanglement import disentanglement_scores, mutual_information_matrix
    from .example import LatentExample, encode_example, plot_example_latents, plot_example_rolls, twinkle_events
    from .inputs import select_features
    from .kl import kl_table, neuron_kl, plot_neuron_kl
    from .neurons import NeuronSplit, neuron_statistics, order_by_sigma, plot_neuron_boxplots, split_neurons
    from .noise import noise_statistics, noise_test
    from .phik_cross import (
        independence_pvalues,
        phik_cross_matrix,
        phik_from_table,
        phik_noise_floor,
        phik_significance,
    )
    from .scatter import loess_curve, plot_scatter, scatter_selection
    from .split import (
        NeuronProfile,
        SplitDetection,
        activity_counts,
        count_band,
        detect_split,
        neuron_profile,
        plot_split_counts,
        window_overlap,
        window_split,
    )
    from .study import StudyResults, analyse_study, melody_candidates
    from .synthetic import PlantedStudy, planted_latents, planted_study

__all__ = [
    "DecoderCurve",
    "ablation_accuracies",
    "decoder_curve",
    "model_ablation",
    "noise_ablation",
    "attribute_vectors",
    "compare_attribute_vectors",
    "plot_attribute_comparison",
    "judge_claims",
    "model_caveats",
    "activation_counts",
    "relative_activation_counts",
    "contrast_auc",
    "plot_activation_counts",
    "plot_neuron_histograms",
    "CrossCorrelation",
    "correlate",
    "pearson_matrix",
    "plot_cross_correlation",
    "plot_matrix",
    "spearman_cross",
    "disentanglement_scores",
    "mutual_information_matrix",
    "LatentExample",
    "encode_example",
    "plot_example_latents",
    "plot_example_rolls",
    "twinkle_events",
    "select_features",
    "kl_table",
    "neuron_kl",
    "plot_neuron_kl",
    "NeuronSplit",
    "neuron_statistics",
    "order_by_sigma",
    "plot_neuron_boxplots",
    "split_neurons",
    "noise_statistics",
    "noise_test",
    "independence_pvalues",
    "phik_cross_matrix",
    "phik_from_table",
    "phik_noise_floor",
    "phik_significance",
    "loess_curve",
    "plot_scatter",
    "scatter_selection",
    "NeuronProfile",
    "SplitDetection",
    "activity_counts",
    "count_band",
    "detect_split",
    "neuron_profile",
    "plot_split_counts",
    "window_overlap",
    "window_split",
    "StudyResults",
    "analyse_study",
    "melody_candidates",
    "PlantedStudy",
    "planted_latents",
    "planted_study",
]

lazy_exports(__name__, __file__)
