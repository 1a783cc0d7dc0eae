"""musicneurons: open the latent space of music VAEs and show which neurons carry music.

Subpackages
-----------
melody    Magenta's melody vocabulary, Magenta-exact window extraction, sources, random sequences.
model     MusicVAE in PyTorch, training, shipped models, Magenta checkpoint import.
features  jSymbolic pitch, rhythm and melody features, vectorised.
analysis  neuron statistics, correlations, attribute vectors, real vs random.
report    figures and the HTML report.
"""

__version__ = "0.1.0"

__all__ = ["run_study", "load_model", "__version__"]

_LAZY = {"run_study": "musicneurons.pipeline", "load_model": "musicneurons.model"}


def __getattr__(name):
    """``musicneurons.run_study`` and ``musicneurons.load_model``, imported on first use (torch is heavy)."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'musicneurons' has no attribute {name!r}")
