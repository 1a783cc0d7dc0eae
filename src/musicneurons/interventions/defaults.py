"""Defaults of the traversal stage, in a module of their own so that the ``traverse`` command's options
can show them without importing the stage (and with it torch, scipy and pandas)."""

__all__ = ["DEFAULT_K", "DEFAULT_ANCHORS", "DEFAULT_AUDIO_SECONDS"]

DEFAULT_K = 8
"""Music neurons swept: the first K by the detected split."""
DEFAULT_ANCHORS = 16
"""Anchor windows each neuron is swept from (drawn with the seed)."""
DEFAULT_AUDIO_SECONDS = 1500.0
"""Audio budget in seconds of decoded windows."""
