"""The latent analysis of the paper: which neurons carry music, what they mean, and real against random.

Every analysis is a function from plain arrays and tables (``mu``, ``sigma`` of shape (n, z); a features
DataFrame with one column per feature id; a catalogue with ``id`` and ``category``) to a tidy table,
with a figure function beside it that returns ``(fig, ax)``. :func:`analyse_study` runs them all.
"""

from .attributes import attribute_vectors, compare_attribute_vectors, plot_attribute_comparison
from .contrast import activation_counts, contrast_auc, plot_activation_counts, plot_neuron_histograms
from .correlation import (CrossCorrelation, correlate, pearson_matrix, plot_cross_correlation, plot_matrix,
                          spearman_cross)
from .disentanglement import disentanglement_scores, mutual_information_matrix
from .example import LatentExample, encode_example, plot_example_latents, plot_example_rolls, twinkle_events
from .inputs import select_features
from .neurons import NeuronSplit, neuron_statistics, order_by_sigma, plot_neuron_boxplots, split_neurons
from .phik_cross import phik_cross_matrix, phik_from_table, phik_noise_floor, phik_significance
from .scatter import loess_curve, plot_scatter, scatter_selection
from .study import StudyResults, analyse_study, melody_candidates
from .synthetic import PlantedStudy, planted_study

__all__ = ["attribute_vectors", "compare_attribute_vectors", "plot_attribute_comparison",
           "activation_counts", "contrast_auc", "plot_activation_counts", "plot_neuron_histograms",
           "CrossCorrelation", "correlate", "pearson_matrix", "plot_cross_correlation", "plot_matrix",
           "spearman_cross", "disentanglement_scores", "mutual_information_matrix",
           "LatentExample", "encode_example", "plot_example_latents", "plot_example_rolls", "twinkle_events",
           "select_features", "NeuronSplit", "neuron_statistics", "order_by_sigma", "plot_neuron_boxplots",
           "split_neurons", "phik_cross_matrix", "phik_from_table", "phik_noise_floor", "phik_significance",
           "loess_curve", "plot_scatter", "scatter_selection", "StudyResults", "analyse_study",
           "melody_candidates", "PlantedStudy", "planted_study"]
