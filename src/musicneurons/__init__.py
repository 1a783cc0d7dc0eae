"""musicneurons: open the latent space of music VAEs and show which neurons carry music.

Subpackages
-----------
melody    Magenta's melody vocabulary, Magenta-exact window extraction, sources, random sequences.
model     MusicVAE in PyTorch, training, shipped models, Magenta checkpoint import.
features  jSymbolic pitch, rhythm and melody features, vectorised.
analysis  neuron statistics, correlations, attribute vectors, real vs random.
report    figures and the HTML report.
"""

from typing import TYPE_CHECKING

from .lazy import lazy_exports

__version__ = "0.1.0"

__all__ = ["run_study", "load_model", "__version__"]

if TYPE_CHECKING:
    from .model import load_model
    from .pipeline import run_study

lazy_exports(__name__, __file__)
