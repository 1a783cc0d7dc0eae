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
from safetensors.torch import load_file

from ..errors import InvalidParameterError, ModelFileError
from .archive import is_archive
from .config import ModelConfig
from .fetch import MAGENTA_RELEASES, archive_checkpoint, fetch_magenta, imported_model_path, imported_models
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
    """

    spec: str
    kind: str
    path: Path
    config: ModelConfig
    card: str | None = None
    _key: list = field(default_factory=list, init=False, repr=False, compare=False)

    @property
    def bars(self) -> int:
        """Bars per window of the model."""
        return self.config.bars

    def load(self, device: str | torch.device = "cpu") -> MusicVAE:
        """The model, in eval mode, on ``device``."""
        if self.kind == "magenta":
            return load_magenta_checkpoint(self.path).to(device)
        return _load_folder(self.path, self.config).to(device)

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


def _read_config(directory: Path) -> ModelConfig:
    """The ModelConfig of a saved-model directory (its config.json)."""
    try:
        return ModelConfig.from_dict(json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError) as exc:
        raise ModelFileError(f"{directory / CONFIG_FILE}: not a readable model configuration ({exc}).") from exc


def _load_folder(directory: Path, config: ModelConfig) -> MusicVAE:
    """The MusicVAE of a saved-model folder (weights checked against ``config``)."""
    try:
        tensors = load_file(str(directory / WEIGHTS_FILE))
    except (OSError, ValueError, TypeError) as exc:
        raise ModelFileError(f"{directory / WEIGHTS_FILE}: not readable safetensors weights ({exc}).") from exc
    model = MusicVAE(config)
    try:
        model.load_state_dict({k: v.float() for k, v in tensors.items()})
    except RuntimeError as exc:
        raise ModelFileError(
            f"{directory / WEIGHTS_FILE}: weights do not match config {config.name!r} ({exc})."
        ) from exc
    return model.eval()


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
        When ``spec`` is none of these, or names a released model not fetched (and ``download`` is False);
        CheckpointError for a damaged checkpoint, ArchiveError for an archive that cannot be unpacked safely.
    """
    if isinstance(spec, ModelRef):
        return spec
    path = Path(spec)
    if str(spec) in shipped_models():
        folder = SHIPPED_DIR / str(spec)
        return ModelRef(str(spec), "shipped", folder, _read_config(folder), _card(folder))
    if is_archive(path):
        path = archive_checkpoint(path)
    if is_magenta_checkpoint(path):  # before config.json: magenta.js folders have one of their own
        card = _card(path) if path.is_dir() else None
        return ModelRef(str(spec), "magenta", path, infer_config(open_magenta_checkpoint(path)), card)
    if (path / CONFIG_FILE).is_file():
        return ModelRef(str(spec), "folder", path, _read_config(path), _card(path))
    if _looks_like_tf_prefix(path):
        checkpoint_prefix(path)  # raises CheckpointError naming the missing .index file
    if str(spec) in MAGENTA_RELEASES:
        if download:
            fetch_magenta(str(spec))
        if str(spec) in imported_models():
            folder = imported_model_path(str(spec))
            return ModelRef(str(spec), "imported", folder, _read_config(folder), _card(folder))
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
