"""MusicVAE in PyTorch: named configurations, the model, model references (locate, load, save, fetch), training."""

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

if TYPE_CHECKING:
    from ..errors import ModelFileError
    from .config import CONFIGS, ModelConfig, get_config
    from .fetch import MAGENTA_RELEASES, MagentaRelease, fetch_magenta
    from .io import (
        ModelRef,
        default_model,
        import_magenta,
        load_config,
        load_model,
        models_by_bars,
        resolve_model,
        save_model,
        shipped_models,
    )
    from .musicvae import CategoricalDecoder, Encoder, HierarchicalDecoder, MusicVAE, magenta_parameter_count

__all__ = [
    "CONFIGS",
    "ModelConfig",
    "get_config",
    "MusicVAE",
    "Encoder",
    "CategoricalDecoder",
    "HierarchicalDecoder",
    "ModelFileError",
    "ModelRef",
    "resolve_model",
    "default_model",
    "models_by_bars",
    "load_config",
    "load_model",
    "save_model",
    "shipped_models",
    "import_magenta",
    "fetch_magenta",
    "MAGENTA_RELEASES",
    "MagentaRelease",
    "magenta_parameter_count",
]

lazy_exports(__name__, __file__)
