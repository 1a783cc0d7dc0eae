"""Read magenta.js (TensorFlow.js) checkpoints: ``weights_manifest.json`` plus its binary shards.

The manifest is a list of weight groups, ``[{"paths": [shard, ...], "weights": [{"name", "shape",
"dtype", "quantization"?}, ...]}, ...]``. A group's shards, concatenated in ``paths`` order, hold its
weights one after another in manifest order, row-major little-endian. A quantised weight stores
``uint8`` (magenta.js ``_q1``) or ``uint16`` (``_q2``) codes ``q`` that stand for ``q * scale + min``;
``float16`` quantisation stores half floats.
"""

import json
import os
from dataclasses import dataclass

import numpy as np

from .tf_checkpoint import CheckpointError, CheckpointReader

__all__ = ["MANIFEST", "TFJSCheckpoint", "TFJSWeight"]

MANIFEST = "weights_manifest.json"
_DTYPES = {"float32": np.float32, "int32": np.int32, "bool": np.bool_}
_QUANTIZED = {"uint8": np.uint8, "uint16": np.uint16, "float16": np.float16}


@dataclass(frozen=True)
class TFJSWeight:
    """One manifest entry and where its bytes lie.

    Attributes
    ----------
    name : str
        The variable's name.
    shape : tuple of int
        Its shape.
    dtype : numpy.dtype
        The dtype of the value returned by :meth:`TFJSCheckpoint.read`.
    stored : numpy.dtype
        The dtype of the stored bytes (the quantised one for quantised weights).
    group : int
        Index of the weight group (its shards are concatenated).
    offset : int
        Byte offset in the concatenated group.
    scale, minimum : float or None
        The affine dequantisation of ``uint8``/``uint16`` codes, None otherwise.
    """

    name: str
    shape: tuple
    dtype: np.dtype
    stored: np.dtype
    group: int
    offset: int
    scale: float = None
    minimum: float = None

    @property
    def size(self):
        """Number of stored bytes."""
        return int(np.prod(self.shape, dtype=np.int64)) * self.stored.itemsize


def _manifest_path(path):
    """``path`` itself if it is a manifest file, else ``path/weights_manifest.json``."""
    path = os.fspath(path)
    manifest = os.path.join(path, MANIFEST) if os.path.isdir(path) else path
    if not os.path.isfile(manifest):
        raise CheckpointError(path, f"no magenta.js {MANIFEST} found")
    return manifest


def _weight(spec, group, offset, manifest):
    """Build a :class:`TFJSWeight` from one manifest weight spec."""
    name = spec.get("name")
    dtype = spec.get("dtype", "float32")
    if dtype not in _DTYPES:
        raise CheckpointError(f"{manifest}:{name}", f"unsupported dtype {dtype!r}; supported: {sorted(_DTYPES)}")
    shape = tuple(int(d) for d in spec.get("shape", ()))
    quant = spec.get("quantization")
    if quant is None:
        return TFJSWeight(name, shape, np.dtype(_DTYPES[dtype]), np.dtype(_DTYPES[dtype]), group, offset)
    if quant.get("dtype") not in _QUANTIZED:
        raise CheckpointError(f"{manifest}:{name}", f"unsupported quantization dtype {quant.get('dtype')!r}; "
                                                    f"supported: {sorted(_QUANTIZED)}")
    stored = np.dtype(_QUANTIZED[quant["dtype"]])
    if stored == np.float16:
        return TFJSWeight(name, shape, np.dtype(np.float32), stored, group, offset)
    return TFJSWeight(name, shape, np.dtype(np.float32), stored, group, offset,
                      float(quant["scale"]), float(quant["min"]))


class TFJSCheckpoint(CheckpointReader):
    """A magenta.js checkpoint opened for reading.

    Parameters
    ----------
    path : str or os.PathLike
        The checkpoint directory, or its ``weights_manifest.json``.

    Attributes
    ----------
    manifest : str
        Path of the manifest.
    entries : dict of str to TFJSWeight
        Every weight by name, in manifest order; ``names()`` and ``shapes()`` list them.

    Raises
    ------
    CheckpointError
        If the manifest is missing or malformed, names an unsupported dtype or quantisation, or a shard is
        missing or shorter than the weights it must hold.
    """

    def __init__(self, path):
        self.manifest = _manifest_path(path)
        try:
            with open(self.manifest, encoding="utf-8") as fh:
                groups = json.load(fh)
            self._paths = [[os.path.join(os.path.dirname(self.manifest), p) for p in g["paths"]] for g in groups]
            specs = [(gi, g["weights"]) for gi, g in enumerate(groups)]
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise CheckpointError(self.manifest, f"malformed magenta.js manifest: {exc!r}") from exc
        self.entries = {}
        for group, weights in specs:
            offset = 0
            for spec in weights:
                weight = _weight(spec, group, offset, self.manifest)
                self.entries[weight.name] = weight
                offset += weight.size
            self._check_shards(group, offset)
        self._groups = {}

    def _check_shards(self, group, needed):
        """Raise CheckpointError if the shards of ``group`` are missing or hold fewer than ``needed`` bytes."""
        for path in self._paths[group]:
            if not os.path.isfile(path):
                raise CheckpointError(path, "a magenta.js weight shard named in the manifest is missing")
        have = sum(os.path.getsize(p) for p in self._paths[group])
        if have < needed:
            raise CheckpointError(self._paths[group][-1], f"truncated shards: weight group {group} needs "
                                                          f"{needed} bytes, its shards hold {have}")

    def _group_bytes(self, group):
        """The concatenated shards of ``group`` as a uint8 array (read once, then cached)."""
        if group not in self._groups:
            self._groups[group] = np.concatenate([np.fromfile(p, dtype=np.uint8) for p in self._paths[group]])
        return self._groups[group]

    def read(self, name):
        """One weight's value, dequantised.

        Parameters
        ----------
        name : str
            The weight's name.

        Returns
        -------
        numpy.ndarray
            The weight, of its shape; float32 for float and quantised weights (``q * scale + min`` computed
            in float64, as JavaScript does, then rounded to float32), int32 or bool otherwise.
        """
        weight = self.entries.get(name)
        if weight is None:
            raise CheckpointError(self.manifest, f"the checkpoint has no weight {name!r}")
        raw = self._group_bytes(weight.group)[weight.offset:weight.offset + weight.size]
        values = raw.view(weight.stored).reshape(weight.shape)
        if weight.scale is None:
            return values.astype(weight.dtype)
        return (values * weight.scale + weight.minimum).astype(np.float32)
