"""Checks every model load makes before a model is used, so that a model loads whole or not at all.

A damaged model must never become NaN latents. The loaders (:mod:`musicneurons.model.io` for saved-model
folders, :mod:`musicneurons.model.magenta` for TensorFlow and magenta.js checkpoints) call these checks:

- :func:`read_json_file`: a JSON file (``config.json``, ``weights_manifest.json``) of at most a stated
  size, valid UTF-8 JSON, not nested deeper than Python's parser goes;
- :func:`parameter_shapes`: the shape of every parameter a configuration asks for, computed on torch's
  ``meta`` device (nothing is allocated), refused above :data:`MAX_PARAMETERS`;
- :func:`check_finite`: every weight holds finite numbers only;
- :data:`WEIGHTS_HASH_KEY`: the key of ``config.json`` under which :func:`~musicneurons.model.save_model`
  records the SHA-256 of ``weights.safetensors``; a load compares it with the file's.

Each check takes ``error``, a callable that turns a reason into the exception to raise, so a saved-model
folder's problem is a :class:`~musicneurons.errors.ModelFileError` and a checkpoint's a
:class:`~musicneurons.errors.CheckpointError`, both naming the file.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..errors import MusicNeuronsError

if TYPE_CHECKING:
    from .config import ModelConfig

__all__ = [
    "MAX_PARAMETERS",
    "MAX_LAYERS",
    "MAX_JSON_BYTES",
    "WEIGHTS_HASH_KEY",
    "read_json_file",
    "parameter_shapes",
    "check_finite",
    "check_sha256_text",
]

MAX_PARAMETERS = 1 << 29  # 536,870,912: 2 GiB of float32, three times Magenta's largest melody model (176 M)
MAX_LAYERS = 64  # layers of all LSTM stacks together; Magenta's models have at most 7
MAX_JSON_BYTES = 64 << 20  # a magenta.js manifest of the largest model is about 100 kB
WEIGHTS_HASH_KEY = "weights_sha256"

Error = Callable[[str], MusicNeuronsError]


def read_json_file(path: str | Path, *, error: Error, max_bytes: int = MAX_JSON_BYTES) -> Any:
    """The JSON value of a model's file, read only when it is at most ``max_bytes`` long.

    Parameters
    ----------
    path : str or Path
        The file.
    error : callable
        ``error(reason)`` returns the exception raised for a problem (it names the file).
    max_bytes : int
        Larger files are refused before they are read.

    Returns
    -------
    object
        The decoded JSON value (dict, list, str, number, bool or None).

    Raises
    ------
    MusicNeuronsError
        ``error(reason)``: the file is missing, unreadable, too large, not UTF-8, not JSON, or nested so
        deeply that the parser gives up.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise error(f"{size:,} bytes, more than the {max_bytes:,} a model's JSON file may have")
        text = path.read_bytes().decode("utf-8")
        return json.loads(text)
    except FileNotFoundError:
        raise error("the file is missing") from None
    except OSError as exc:
        raise error(f"cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise error(f"not UTF-8 text (byte {exc.start})") from None
    except RecursionError:
        raise error("JSON nested too deeply to be read") from None
    except ValueError as exc:
        raise error(f"not valid JSON ({exc})") from None


def parameter_shapes(config: ModelConfig, *, error: Error) -> dict[str, tuple[int, ...]]:
    """The shape of every tensor of ``MusicVAE(config)``'s state dict, nothing allocated.

    Parameters
    ----------
    config : ModelConfig
    error : callable
        ``error(reason)`` returns the exception raised for a configuration that is too large or unbuildable.

    Returns
    -------
    dict of str to tuple of int
        State-dict key to shape, in the model's order; the total of their products is at most
        :data:`MAX_PARAMETERS`.

    Raises
    ------
    MusicNeuronsError
        ``error(reason)``: more than :data:`MAX_LAYERS` layers, more than :data:`MAX_PARAMETERS`
        parameters, or sizes torch cannot build a model of.
    """
    from .musicvae import MusicVAE

    layers = len(config.enc_sizes) * max(len(config.enc_level_lengths), 1)
    layers += len(config.dec_sizes) + len(config.conductor_sizes)
    if layers > MAX_LAYERS:
        raise error(f"configuration {config.name!r} has {layers} LSTM layers; the limit is {MAX_LAYERS}")
    try:
        with torch.device("meta"):
            state = MusicVAE(config).state_dict()
    except (RuntimeError, ValueError, TypeError, OverflowError) as exc:
        raise error(f"configuration {config.name!r} does not build a MusicVAE ({exc})") from None
    shapes = {name: tuple(tensor.shape) for name, tensor in state.items()}
    count = sum(math.prod(shape) for shape in shapes.values())
    if count > MAX_PARAMETERS:
        raise error(
            f"configuration {config.name!r} asks for {count:,} parameters ({4 * count / 2**30:,.1f} GiB as "
            f"float32); the limit is {MAX_PARAMETERS:,}"
        )
    return shapes


def check_finite(name: str, value: np.ndarray | torch.Tensor, *, error: Error) -> None:
    """Raise ``error(reason)`` unless every number of weight ``name`` is finite.

    Parameters
    ----------
    name : str
        The weight's name, for the message.
    value : ndarray or Tensor of any shape, floating dtype
    error : callable
    """
    bad = int((~torch.isfinite(value)).sum()) if isinstance(value, torch.Tensor) else int((~np.isfinite(value)).sum())
    if bad:
        raise error(f"weight {name!r} holds {bad:,} non-finite values (NaN or infinity)")


def check_sha256_text(value: object, *, error: Error) -> str:
    """``value`` if it is a SHA-256 digest written as 64 lower-case hex digits, else ``error(reason)``."""
    if not isinstance(value, str) or not re.fullmatch(r"[0-9a-f]{64}", value):
        raise error(f"{WEIGHTS_HASH_KEY} must be 64 lower-case hex digits; got {value!r:.80}")
    return value
