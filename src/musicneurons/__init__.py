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
