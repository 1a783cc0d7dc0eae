"""Read magenta.js (TensorFlow.js) checkpoints: ``weights_manifest.json`` plus its binary shards.

The manifest is a list of weight groups, ``[{"paths": [shard, ...], "weights": [{"name", "shape",
"dtype", "quantization"?}, ...]}, ...]``. A group's shards, concatenated in ``paths`` order, hold its
weights one after another in manifest order, row-major little-endian. A quantised weight stores
``uint8`` (magenta.js ``_q1``) or ``uint16`` (``_q2``) codes ``q`` that stand for ``q * scale + min``;
``float16`` quantisation stores half floats.
"""

import os
from dataclasses import dataclass

import numpy as np

from ..errors import CheckpointError
from .integrity import read_json_file
from .tf_checkpoint import CheckpointReader, path_inside

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
    scale: float | None = None
    minimum: float | None = None

    @property
    def size(self):
        """Number of stored bytes."""
        return int(np.prod(self.shape, dtype=np.int64)) * self.stored.itemsize


def _manifest_path(path):
    """``path`` itself if it is a manifest file, else ``path/weights_manifest.json``; checked to lie in its folder.

    A manifest that is a symlink to a file outside its folder is refused, as a shard would be.
    """
    path = os.fspath(path)
    manifest = os.path.join(path, MANIFEST) if os.path.isdir(path) else path
    if not os.path.isfile(manifest):
        raise CheckpointError(path, f"no magenta.js {MANIFEST} found")
    path_inside(os.path.dirname(os.path.abspath(manifest)), os.path.basename(manifest), manifest, "the manifest")
    return manifest


def _field(spec, key, kind, manifest, where, default=None):
    """``spec[key]`` checked to be of ``kind``; CheckpointError naming the manifest field otherwise."""
    value = spec.get(key, default)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise CheckpointError(manifest, f"{where}.{key}: expected {getattr(kind, '__name__', kind)}, got {value!r}")
    return value


def _shape(spec, manifest, where):
    shape = _field(spec, "shape", list, manifest, where, [])
    if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise CheckpointError(manifest, f"{where}.shape: {shape!r} must be a list of non-negative integers")
    return tuple(shape)


def _number(quant, key, manifest, where):
    value = quant.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise CheckpointError(manifest, f"{where}.quantization.{key}: expected a finite number, got {value!r}")
    return float(value)


def _weight(spec, group, offset, manifest, where):
    """Build a :class:`TFJSWeight` from one manifest weight spec, every field checked."""
    if not isinstance(spec, dict):
        raise CheckpointError(manifest, f"{where}: expected an object, got {spec!r}")
    name = _field(spec, "name", str, manifest, where)
    where = f"{where} ({name!r})"
    dtype = _field(spec, "dtype", str, manifest, where, "float32")
    if dtype not in _DTYPES:
        raise CheckpointError(f"{manifest}:{name}", f"unsupported dtype {dtype!r}; supported: {sorted(_DTYPES)}")
    shape = _shape(spec, manifest, where)
    quant = spec.get("quantization")
    if quant is None:
        return TFJSWeight(name, shape, np.dtype(_DTYPES[dtype]), np.dtype(_DTYPES[dtype]), group, offset)
    if not isinstance(quant, dict) or quant.get("dtype") not in _QUANTIZED:
        got = quant.get("dtype") if isinstance(quant, dict) else quant
        raise CheckpointError(
            f"{manifest}:{name}", f"unsupported quantization dtype {got!r}; supported: {sorted(_QUANTIZED)}"
        )
    if dtype != "float32":
        raise CheckpointError(manifest, f"{where}.quantization: only float32 weights are quantised, not {dtype}")
    stored = np.dtype(_QUANTIZED[quant["dtype"]])
    if stored == np.float16:
        return TFJSWeight(name, shape, np.dtype(np.float32), stored, group, offset)
    return TFJSWeight(
        name,
        shape,
        np.dtype(np.float32),
        stored,
        group,
        offset,
        _number(quant, "scale", manifest, where),
        _number(quant, "min", manifest, where),
    )


def _groups(manifest):
    """The manifest's weight groups, checked to be a list of ``{"paths": [...], "weights": [...]}``."""
    groups = read_json_file(
        manifest, error=lambda reason: CheckpointError(manifest, f"malformed magenta.js manifest: {reason}")
    )
    if not isinstance(groups, list):
        raise CheckpointError(
            manifest, f"malformed magenta.js manifest: expected a list of weight groups, got {type(groups).__name__}"
        )
    for gi, group in enumerate(groups):
        if not isinstance(group, dict):
            raise CheckpointError(manifest, f"[{gi}]: expected a weight group object, got {group!r}")
        _field(group, "paths", list, manifest, f"[{gi}]")
        _field(group, "weights", list, manifest, f"[{gi}]")
    return groups


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
        Naming the manifest and the field: the manifest is missing, malformed (or nested too deeply), or a
        symlink that leads outside its folder; a shard path is absolute or
        leads outside the folder (symlinks resolved); a name is missing or repeated; a shape is not a list
        of non-negative integers; a dtype or quantisation is unsupported or its scale/min not a finite
        number; or the shards are missing or do not hold exactly the bytes the weights need.
    """

    def __init__(self, path):
        self.manifest = _manifest_path(path)
        groups = _groups(self.manifest)
        folder = os.path.dirname(self.manifest)
        self._paths = [
            [path_inside(folder, name, self.manifest, f"[{gi}].paths[{pi}]") for pi, name in enumerate(g["paths"])]
            for gi, g in enumerate(groups)
        ]
        self.entries = {}
        for gi, group in enumerate(groups):
            offset = 0
            for wi, spec in enumerate(group["weights"]):
                weight = _weight(spec, gi, offset, self.manifest, f"[{gi}].weights[{wi}]")
                if weight.name in self.entries:
                    raise CheckpointError(self.manifest, f"[{gi}].weights[{wi}].name: {weight.name!r} is named twice")
                self.entries[weight.name] = weight
                offset += weight.size
            self._check_shards(gi, offset)
        self._groups = {}

    def files(self):
        """The manifest, then every shard of every weight group in order."""
        return [self.manifest] + [path for group in self._paths for path in group]

    def _check_shards(self, group, needed):
        """Raise CheckpointError if the shards of ``group`` are missing or hold fewer than ``needed`` bytes."""
        for path in self._paths[group]:
            if not os.path.isfile(path):
                raise CheckpointError(path, "a magenta.js weight shard named in the manifest is missing")
        have = sum(os.path.getsize(p) for p in self._paths[group])
        if have < needed:
            raise CheckpointError(
                self._paths[group][-1] if self._paths[group] else self.manifest,
                f"truncated shards: weight group {group} needs {needed} bytes, its shards hold {have}",
            )
        if have > needed:
            raise CheckpointError(
                self.manifest,
                f"[{group}].paths: the shards hold {have} bytes, the weights of "
                f"the group {needed}; the manifest does not describe them",
            )

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
        raw = self._group_bytes(weight.group)[weight.offset : weight.offset + weight.size]
        values = raw.view(weight.stored).reshape(weight.shape)
        if weight.scale is None:
            return values.astype(weight.dtype)
        return (values * weight.scale + weight.minimum).astype(np.float32)
