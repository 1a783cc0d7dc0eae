"""Symbolic music features (jSymbolic pitch, melody and rhythm) of event windows.

``compute_features(events, qpm)`` computes every catalogued feature in numpy: music21's 50 scalar
P/R/M features, equal to music21's own values, and jSymbolic 2.2 features music21 lacks.
``catalogue()`` describes each one. ``music21_features`` runs music21 itself (the slow reference).
"""

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

if TYPE_CHECKING:
    from .catalogue import MUSIC21_IDS, catalogue, feature_ids
    from .compute import compute_features, nan_reasons
    from .music21_reference import compare_with_music21, music21_features, window_to_stream

__all__ = [
    "compute_features",
    "nan_reasons",
    "catalogue",
    "feature_ids",
    "MUSIC21_IDS",
    "music21_features",
    "compare_with_music21",
    "window_to_stream",
]

lazy_exports(__name__, __file__)
