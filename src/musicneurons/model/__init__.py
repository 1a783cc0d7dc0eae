"""MusicVAE in PyTorch: named configurations, the model, saving and loading, and training."""

from .config import CONFIGS, ModelConfig, get_config
from .musicvae import (CategoricalDecoder, Encoder, HierarchicalDecoder, ModelFileError, MusicVAE, load_config,
                       load_model, magenta_parameter_count, save_model, shipped_models)

__all__ = ["CONFIGS", "ModelConfig", "get_config", "MusicVAE", "Encoder", "CategoricalDecoder",
           "HierarchicalDecoder", "ModelFileError", "load_config", "load_model", "save_model", "shipped_models",
           "magenta_parameter_count"]
