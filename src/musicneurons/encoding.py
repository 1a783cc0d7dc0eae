"""Encoding windows into latents, chunk by chunk, resumable: the study's latent stage and the ``encode`` command.

:func:`encode_chunk` is the chunk function (one model, one block of windows -> one :class:`Latents`);
:func:`encode_windows` maps it over the chunks of a run-directory entry, keeping each finished chunk
in the entry's :class:`~musicneurons.rundir.ChunkStore`, so an interrupted encoding resumes at the first
missing chunk and gives exactly the result of an uninterrupted one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .contracts import Latents, Windows
from .rundir import Entry, content_key, file_key

if TYPE_CHECKING:
    from .model import ModelRef, MusicVAE

__all__ = ["ENCODE_CHUNK", "encode_chunk", "encode_windows", "latents_key", "encode_file"]

ENCODE_CHUNK = 2048


def encode_chunk(model: MusicVAE, events: np.ndarray, device: str = "cpu") -> Latents:
    """Encode one block of windows.

    Parameters
    ----------
    model : MusicVAE
    events : ndarray of shape (n, T), dtype=int8
        T = 16 * model.config.bars.
    device : str

    Returns
    -------
    Latents
        mu and sigma, ndarray of shape (n, z), dtype=float32.
    """
    mu, sigma = model.encode(events, device=device)
    return Latents(mu, sigma)


def latents_key(windows_key: str, model: ModelRef) -> str:
    """Content key of the latents of the windows with key ``windows_key`` under ``model``."""
    return content_key("latents", windows_key, model.key())


def encode_windows(
    entry: Entry,
    events: np.ndarray,
    model: Callable[[], MusicVAE],
    z: int,
    device: str = "cpu",
    chunk: int = ENCODE_CHUNK,
    progress: bool = True,
    desc: str = "encoding",
    metadata: dict | None = None,
) -> Latents:
    """Encode ``events`` into the latent table of ``entry``, reusing the chunks already in its store.

    Parameters
    ----------
    entry : Entry
        Where the latent table goes (its key says which windows and which model).
    events : ndarray of shape (n, T), dtype=int8
    model : callable
        Returns the MusicVAE; called only when a chunk has to be encoded.
    z : int
        Latent size (width of an empty result).
    device : str
    chunk : int
        Windows per chunk (and per saved part).
    progress : bool
        A tqdm bar over the chunks.
    desc : str
        The bar's label.
    metadata : dict, optional
        Stored with the table.

    Returns
    -------
    Latents
    """
    from tqdm.auto import tqdm

    entry.invalidate()
    store = entry.chunks()
    starts = range(0, len(events), chunk)
    parts = []
    for index, start in enumerate(tqdm(starts, desc=desc, unit="chunk", disable=not progress)):
        arrays = store.get(index)
        if arrays is None:
            latents = encode_chunk(model(), events[start : start + chunk], device)
            store.put(index, mu=latents.mu, sigma=latents.sigma)
        else:
            latents = Latents(arrays["mu"], arrays["sigma"])
        parts.append(latents)
    result = Latents.concat(parts, z)
    result.save(entry.path, {"key": entry.key, "stage": "latents", **(metadata or {})})
    entry.complete(len(result))
    store.clear()
    return result


def encode_file(
    melodies: str | Path,
    model: str | Path | ModelRef,
    out: str | Path,
    device: str = "cpu",
    chunk: int = ENCODE_CHUNK,
    progress: bool = True,
) -> Latents:
    """Encode every window of a melody table with a model and write the latent table (the ``encode`` command).

    Parameters
    ----------
    melodies : str or Path
        A windows table (``melodies.parquet`` of a run directory, or the ``melodies`` command's output).
    model : str, Path or ModelRef
        Shipped name, saved-model folder or Magenta checkpoint; its window length must match the table's.
    out : str or Path
        The latent table (Parquet): ``row``, ``mu``, ``sigma``. Finished chunks are kept beside it in
        ``OUT.parts/`` until it is complete, so a rerun resumes; a rerun after completion reuses it.
    device : str
    chunk : int
    progress : bool

    Returns
    -------
    Latents
    """
    from .errors import InvalidParameterError, check_positive_int
    from .model import resolve_model

    check_positive_int("chunk", chunk, "encode_file", allow_none=False)
    ref = resolve_model(model)
    windows = Windows.load(melodies)
    if windows.events.shape[1] != 16 * ref.bars:
        raise InvalidParameterError(
            f"{melodies}: windows of {windows.events.shape[1] // 16} bars; model {ref.spec!r} is a {ref.bars}-bar model"
        )
    loaded: list[MusicVAE] = []

    def get_model() -> MusicVAE:
        if not loaded:
            loaded.append(ref.load(device))
        return loaded[0]

    entry = Entry(Path(out), latents_key(file_key(melodies), ref))
    if entry.verified():
        return Latents.load(entry.path)
    return encode_windows(
        entry,
        windows.events,
        get_model,
        ref.config.z_size,
        device=device,
        chunk=chunk,
        progress=progress,
        desc=f"encoding {Path(melodies).name}",
        metadata={"model": ref.spec},
    )
