"""Model references: locate, describe, load and save models, resolved once.

A model is given as a shipped name (``mn-mel_2bar``), the name of one of Magenta's released checkpoints
once fetched into the cache (``cat-mel_2bar_big``, :mod:`musicneurons.model.fetch`), a folder written by
:func:`save_model` (``config.json`` + ``weights.safetensors``), a TensorFlow V2 Magenta checkpoint (prefix,
``.index`` file or folder), a magenta.js folder (``weights_manifest.json`` + shards) or a ``.tar``/``.tar.gz``
archive of a checkpoint (unpacked safely into the cache once, :mod:`musicneurons.model.archive`). :func:`resolve_model` turns
any of them into a :class:`ModelRef` (where it is, what kind, its configuration, its model card) once;
everything else (the study, the ``encode`` command, the report) works from that reference.
"""

from __future__ import annotations

import glob
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open

from ..errors import InvalidParameterError, ModelFileError
from ..rundir import sha256_file
from .archive import is_archive
from .config import ModelConfig
from .fetch import MAGENTA_RELEASES, archive_checkpoint, fetch_magenta, imported_model_path, imported_models
from .integrity import WEIGHTS_HASH_KEY, check_finite, check_sha256_text, parameter_shapes, read_json_file
from .magenta import infer_config, is_magenta_checkpoint, load_magenta_checkpoint, open_magenta_checkpoint
from .musicvae import CONFIG_FILE, SHIPPED_DIR, WEIGHTS_FILE, MusicVAE, save_model
from .tf_checkpoint import checkpoint_prefix

__all__ = [
    "ModelRef",
    "resolve_model",
    "default_model",
    "models_by_bars",
    "load_model",
    "load_config",
    "read_folder_config",
    "save_model",
    "shipped_models",
    "import_magenta",
    "MODEL_CARD",
]

MODEL_CARD = "MODEL_CARD.md"
KINDS = ("shipped", "imported", "folder", "magenta")


def shipped_models() -> list[str]:
    """Names of the models installed with the package (folders of ``model/shipped``)."""
    return sorted(p.name for p in SHIPPED_DIR.glob("*") if (p / WEIGHTS_FILE).is_file())


@dataclass(frozen=True)
class ModelRef:
    """A located model: what was asked for, where it is, its configuration and card.

    Attributes
    ----------
    spec : str
        The name or path as given.
    kind : {'shipped', 'imported', 'folder', 'magenta'}
        A shipped model, one of Magenta's released models imported into the cache, a saved-model folder, or a
        Magenta checkpoint (TensorFlow or magenta.js).
    path : Path
        The folder (shipped, imported, folder, magenta.js), the checkpoint path as given (TensorFlow), or the
        checkpoint unpacked from an archive.
    config : ModelConfig
        Read without loading the weights.
    card : str or None
        The folder's ``MODEL_CARD.md``, when it has one.
    weights_sha256 : str or None
        The SHA-256 of ``weights.safetensors`` that the folder's ``config.json`` records (checked on load);
        None for a folder written before musicneurons recorded it, and for a Magenta checkpoint.
    """

    spec: str
    kind: str
    path: Path
    config: ModelConfig
    card: str | None = None
    weights_sha256: str | None = None
    _key: list = field(default_factory=list, init=False, repr=False, compare=False)

    @property
    def bars(self) -> int:
        """Bars per window of the model."""
        return self.config.bars

    def load(self, device: str | torch.device = "cpu") -> MusicVAE:
        """The model, in eval mode, on ``device``."""
        if self.kind == "magenta":
            return load_magenta_checkpoint(self.path).to(device)
        return _load_folder(self.path, self.config, self.weights_sha256).to(device)

    def files(self) -> list[Path]:
        """The files the model is made of (configuration and weights), in a fixed order."""
        if self.kind != "magenta":
            return [self.path / CONFIG_FILE, self.path / WEIGHTS_FILE]
        return [Path(p) for p in open_magenta_checkpoint(self.path).files()]

    def key(self) -> str:
        """Content key of the model: its configuration and the SHA-256 of every file (computed once)."""
        if not self._key:
            digest = hashlib.sha256(json.dumps(self.config.to_dict(), sort_keys=True).encode())
            for path in self.files():
                with open(path, "rb") as fh:
                    while block := fh.read(1 << 20):
                        digest.update(block)
            self._key.append(digest.hexdigest()[:16])
        return self._key[0]

    def description(self) -> str:
        """The model card, else the configuration as JSON."""
        return self.card if self.card is not None else json.dumps(self.config.to_dict(), indent=2)


MAX_CONFIG_BYTES = 1 << 20  # a config.json has about 600 bytes


def read_folder_config(directory: str | Path) -> tuple[ModelConfig, str | None]:
    """The configuration of a saved-model folder and the weights' SHA-256 its ``config.json`` records.

    Parameters
    ----------
    directory : str or Path
        A folder written by :func:`save_model`.

    Returns
    -------
    config : ModelConfig
        Checked to build a model of at most :data:`~musicneurons.model.integrity.MAX_PARAMETERS` parameters.
    weights_sha256 : str or None
        64 hex digits; None when the file records none (a folder written before it was recorded).

    Raises
    ------
    ModelFileError
        Naming ``config.json`` and the problem: missing, larger than 1 MiB, not JSON, an unknown or
        mistyped key, a malformed digest, or sizes beyond the limit (refused before anything is allocated).
    """
    path = Path(directory) / CONFIG_FILE

    def error(reason: str) -> ModelFileError:
        return ModelFileError(f"{path}: {reason}")

    data = read_json_file(path, error=error, max_bytes=MAX_CONFIG_BYTES)
    if not isinstance(data, dict):
        raise error(f"not a model configuration: a JSON object is expected, not {type(data).__name__}")
    data = dict(data)
    digest = data.pop(WEIGHTS_HASH_KEY, None)
    if digest is not None:
        check_sha256_text(digest, error=error)
    try:
        config = ModelConfig.from_dict(data)
    except InvalidParameterError as exc:
        raise error(f"not a usable model configuration ({exc})") from None
    parameter_shapes(config, error=error)
    return config, digest


def _folder_ref(spec: str, kind: str, folder: Path) -> ModelRef:
    """The ModelRef of a saved-model folder: its configuration read and checked, its weights file present."""
    config, digest = read_folder_config(folder)
    _require_weights(folder)
    return ModelRef(spec, kind, folder, config, _card(folder), digest)


def _require_weights(folder: Path) -> Path:
    """``folder/weights.safetensors``; ModelFileError naming it when it is not a file."""
    weights = folder / WEIGHTS_FILE
    if not weights.is_file():
        raise ModelFileError(f"{weights}: missing; a saved-model folder holds {CONFIG_FILE} and {WEIGHTS_FILE}")
    return weights


def _load_folder(directory: Path, config: ModelConfig, digest: str | None) -> MusicVAE:
    """The MusicVAE of a saved-model folder, after checking its weights file whole.

    Checked in this order, before any weight is used: the file is safetensors whose header is complete and
    covers the file; it holds exactly the tensors of ``config`` with their shapes, in a float dtype; its
    SHA-256 is ``digest`` (when given); every value is finite.
    """
    expected = parameter_shapes(config, error=lambda reason: ModelFileError(f"{directory / CONFIG_FILE}: {reason}"))
    weights = _require_weights(directory)

    def error(reason: str) -> ModelFileError:
        return ModelFileError(f"{weights}: {reason}")

    try:
        with safe_open(str(weights), framework="pt") as fh:
            _check_header(fh, expected, config, error)
            if digest is not None and sha256_file(weights) != digest:
                raise error(
                    f"fails its SHA-256 check: the file is not the one {CONFIG_FILE} was written with "
                    "(damaged or replaced)"
                )
            tensors = {name: fh.get_tensor(name) for name in expected}
    except (SafetensorError, OSError) as exc:
        raise error(f"not readable safetensors weights ({exc})") from None
    for name, tensor in tensors.items():
        check_finite(name, tensor, error=error)
    model = MusicVAE(config)
    model.load_state_dict({k: v.float() for k, v in tensors.items()})
    return model.eval()


_FLOAT_DTYPES = ("F16", "BF16", "F32", "F64")


def _check_header(fh, expected: dict[str, tuple[int, ...]], config: ModelConfig, error) -> None:
    """Raise ``error(reason)`` unless an opened safetensors file holds exactly ``expected`` in float dtypes."""
    names = set(fh.keys())
    missing, extra = sorted(set(expected) - names), sorted(names - set(expected))
    if missing or extra:
        listed = "; ".join(
            f"{what} {items[:3]}{' ...' if len(items) > 3 else ''}"
            for what, items in (("lacks", missing), ("has unexpected", extra))
            if items
        )
        raise error(f"the weights do not match config {config.name!r}: {listed}")
    for name, shape in expected.items():
        tensor = fh.get_slice(name)
        found = tuple(tensor.get_shape())
        if found != shape:
            raise error(f"weight {name!r} has shape {list(found)}; config {config.name!r} needs {list(shape)}")
        if tensor.get_dtype() not in _FLOAT_DTYPES:
            raise error(
                f"weight {name!r} is {tensor.get_dtype()}; a model weight is a float ({', '.join(_FLOAT_DTYPES)})"
            )


def _card(folder: Path) -> str | None:
    card = folder / MODEL_CARD
    return card.read_text(encoding="utf-8") if card.is_file() else None


def resolve_model(spec: str | Path | ModelRef, *, download: bool = False) -> ModelRef:
    """Locate a model and read its configuration (not its weights).

    Parameters
    ----------
    spec : str, Path or ModelRef
        A name from :func:`shipped_models`, the name of one of Magenta's released checkpoints
        (:data:`~musicneurons.model.fetch.MAGENTA_RELEASES`) once fetched, a folder written by
        :func:`save_model`, a Magenta checkpoint (TensorFlow prefix, ``.index`` file or folder; magenta.js
        folder), or a ``.tar``/``.tar.gz`` archive of one. A path that exists is taken before a released
        model's name. A ModelRef is returned as is.
    download : bool, keyword-only
        Fetch a released model that is not in the cache yet (:func:`~musicneurons.model.fetch.fetch_magenta`).

    Returns
    -------
    ModelRef

    Raises
    ------
    ModelFileError
        When ``spec`` is none of these, names a released model not fetched (and ``download`` is False), or
        is a folder whose configuration is unusable or too large, or that lacks its weights file;
        CheckpointError for a damaged checkpoint, ArchiveError for an archive that cannot be unpacked safely.
    """
    if isinstance(spec, ModelRef):
        return spec
    path = Path(spec)
    if str(spec) in shipped_models():
        return _folder_ref(str(spec), "shipped", SHIPPED_DIR / str(spec))
    if is_archive(path):
        path = archive_checkpoint(path)
    if is_magenta_checkpoint(path):  # before config.json: magenta.js folders have one of their own
        card = _card(path) if path.is_dir() else None
        return ModelRef(str(spec), "magenta", path, infer_config(open_magenta_checkpoint(path)), card)
    if (path / CONFIG_FILE).is_file():
        return _folder_ref(str(spec), "folder", path)
    if _looks_like_tf_prefix(path):
        checkpoint_prefix(path)  # raises CheckpointError naming the missing .index file
    if str(spec) in MAGENTA_RELEASES:
        if download:
            fetch_magenta(str(spec))
        if str(spec) in imported_models():
            folder = imported_model_path(str(spec))
            return _folder_ref(str(spec), "imported", folder)
        raise ModelFileError(
            f"{spec}: Magenta's released model is not fetched yet; fetch it once with "
            f"`musicneurons fetch-magenta {spec}` ({MAGENTA_RELEASES[str(spec)].megabytes:g} MB), "
            f"or call load_model({str(spec)!r}, download=True)"
        )
    raise ModelFileError(
        f"{spec}: no such model or file. Models by name: {', '.join(shipped_models()) or 'none'} (shipped); "
        f"{', '.join(MAGENTA_RELEASES)} (Magenta's, fetched with `musicneurons fetch-magenta NAME`). "
        f"A path must be a folder with {CONFIG_FILE} and {WEIGHTS_FILE}, a Magenta checkpoint or a .tar of one."
    )


def _looks_like_tf_prefix(path: Path) -> bool:
    """True for a TensorFlow checkpoint name: ``*.ckpt``, ``*.index``, a data file, or data files beside it."""
    name = path.name
    return (
        name.endswith((".ckpt", ".index"))
        or re.search(r"\.data-\d{5}-of-\d{5}$", name) is not None
        or any(path.parent.glob(glob.escape(name) + ".data-*"))
    )


def load_config(name_or_path: str | Path | ModelRef) -> ModelConfig:
    """The ModelConfig of anything :func:`load_model` accepts, without reading the weights."""
    return resolve_model(name_or_path).config


def load_model(
    name_or_path: str | Path | ModelRef, device: str | torch.device = "cpu", *, download: bool = False
) -> MusicVAE:
    """Load a model by name (shipped, or one of Magenta's released ones), a saved folder or a Magenta checkpoint.

    Parameters
    ----------
    name_or_path : str, Path or ModelRef
        A name from :func:`shipped_models` or :data:`~musicneurons.model.fetch.MAGENTA_RELEASES`, a directory
        holding config.json and weights.safetensors, a Magenta checkpoint (TensorFlow prefix, .index file or
        folder; magenta.js folder) imported by :func:`musicneurons.model.magenta.load_magenta_checkpoint`, or
        a .tar/.tar.gz archive of one (see :func:`resolve_model`).
    device : str or torch.device
        Where to put the model.
    download : bool, keyword-only
        Fetch one of Magenta's released models into the cache first if it is not there yet (once; later
        calls load it from the cache).

    Returns
    -------
    MusicVAE
        In eval mode.
    """
    return resolve_model(name_or_path, download=download).load(device)


def default_model(bars: int) -> ModelRef:
    """The shipped model for ``bars`` bars."""
    for name in shipped_models():
        ref = resolve_model(name)
        if ref.bars == bars:
            return ref
    raise InvalidParameterError(f"no shipped model for {bars} bars; give one with --model")


def models_by_bars(
    model: str | Path | ModelRef | Iterable | Mapping | None, bars: Iterable[int] = (2, 16)
) -> dict[int, ModelRef]:
    """{bars: ModelRef} from a model argument and the wanted window lengths.

    Parameters
    ----------
    model : str, Path, ModelRef, list of them, dict of int to them, or None
        None: the shipped model of each length. One model: its own length. Several: each at its own
        length, those not in ``bars`` left out. A dict maps bars to models (checked to match).
    bars : iterable of {2, 16}

    Returns
    -------
    dict of int to ModelRef
        In increasing bars.
    """
    bars = list(bars)
    for b in bars:
        if b not in (2, 16):
            raise InvalidParameterError(f"The 'bars' parameter must hold 2 and/or 16. Got {bars!r}.")
    if model is None:
        return {b: default_model(b) for b in sorted(set(bars))}
    if isinstance(model, Mapping):
        given = {int(b): resolve_model(m) for b, m in sorted(model.items())}
        for b, ref in given.items():
            if ref.bars != b:
                raise InvalidParameterError(f"model {ref.spec!r} is a {ref.bars}-bar model, given for {b} bars")
        return given
    if isinstance(model, (str, Path, ModelRef)):
        ref = resolve_model(model)
        return {ref.bars: ref}
    refs = [resolve_model(m) for m in model]
    chosen = {ref.bars: ref for ref in sorted(refs, key=lambda r: r.bars) if ref.bars in bars}
    if not chosen:
        raise InvalidParameterError(
            f"none of the models {[r.spec for r in refs]!r} is a {' or '.join(map(str, bars))}-bar model"
        )
    return chosen


def import_magenta(
    path: str | Path, out_dir: str | Path, bars: int | None = None, name: str | None = None
) -> tuple[MusicVAE, Path]:
    """Convert a Magenta checkpoint to musicneurons' format (``config.json`` + ``weights.safetensors``).

    Parameters
    ----------
    path : str or os.PathLike
        The Magenta checkpoint (see :func:`~musicneurons.model.magenta.open_magenta_checkpoint`), or a
        ``.tar``/``.tar.gz`` archive of one, unpacked safely into the cache.
    out_dir : str or os.PathLike
        Directory to write; :func:`load_model` reads it back.
    bars, name : optional
        As in :func:`~musicneurons.model.magenta.load_magenta_checkpoint`.

    Returns
    -------
    model : MusicVAE
        The imported model.
    out_dir : pathlib.Path
        The directory written.
    """
    model = load_magenta_checkpoint(archive_checkpoint(path) if is_archive(path) else path, bars=bars, name=name)
    return model, Path(save_model(model, out_dir))
