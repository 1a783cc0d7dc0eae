"""Interventions: move one latent direction, keep the rest, and measure, see and hear what the decoder does.

The correlational analysis asks which neurons vary with a feature of the input; this package asks what a
neuron *does*: sweep it over a grid in prior units from real anchor windows, decode, and compute the
features of the decoded windows.

Functions
---------
traverse             decode anchors along directions (neuron axes, attribute vectors) over a value grid
monotonicity         mean Spearman over anchors between the swept value and each decoded feature
intervention_curves  the mean decoded feature at each swept value
neuron_summaries     per neuron: the feature it moves most against the one it correlates with most
run_traversals       the whole stage: tables, MIDI, figures, audio and ``explorer.html`` in one folder
render_windows       event windows -> Ogg/Vorbis audio through FluidSynth
"""

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

if TYPE_CHECKING:
    from .audio import ENABLE_AUDIO, audio_status, find_soundfont, render_windows, window_seconds
    from .curves import (
        attribute_comparison,
        decoded_features,
        direction_changes,
        intervention_curves,
        intervention_matrix,
        monotonicity,
        neuron_summaries,
        plot_intervention_curves,
        plot_intervention_matrices,
        strongest_pairs,
    )
    from .explorer import write_explorer
    from .stage import NeuronChoice, TraversalResults, audio_plan, choose_neurons, run_traversals
    from .traverse import (
        Direction,
        attribute_directions,
        choose_anchors,
        neuron_directions,
        sweep_latents,
        traverse,
        value_grid,
    )

__all__ = [
    "ENABLE_AUDIO",
    "audio_status",
    "find_soundfont",
    "render_windows",
    "window_seconds",
    "attribute_comparison",
    "decoded_features",
    "direction_changes",
    "intervention_curves",
    "intervention_matrix",
    "monotonicity",
    "neuron_summaries",
    "plot_intervention_curves",
    "plot_intervention_matrices",
    "strongest_pairs",
    "write_explorer",
    "NeuronChoice",
    "TraversalResults",
    "audio_plan",
    "choose_neurons",
    "run_traversals",
    "Direction",
    "attribute_directions",
    "choose_anchors",
    "neuron_directions",
    "sweep_latents",
    "traverse",
    "value_grid",
]

lazy_exports(__name__, __file__)
