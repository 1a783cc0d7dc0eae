"""Encoding windows into latents, chunk by chunk, resumable: the study's latent stage and the ``encode`` command.

:func:`encode_chunk` encodes one block of windows with one model; :func:`encode_part` is the stage's chunk
function (:mod:`musicneurons.execute`): it reads its rows of a windows table by path, encodes them and
writes them into the entry's :class:`~musicneurons.rundir.ChunkStore` itself, in this process, a local
worker or a Dask worker alike. :func:`encode_windows` maps it over the chunks of a run-directory entry and
joins the finished chunks, so an interrupted encoding resumes at the missing chunks and gives exactly the
result of an uninterrupted one.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .contracts import Latents, Windows
from .errors import ModelFileError, printable
from .execute import Executor, LocalExecutor, chunk_ranges, fill_store, read_chunks
from .rundir import ChunkStore, Entry, check_marker, content_key, file_key
from .tables import row_count

if TYPE_CHECKING:
    from .model import ModelRef, MusicVAE

__all__ = [
    "ENCODE_CHUNK",
    "encode_chunk",
    "free_threads",
    "encode_part",
    "EncodePart",
    "ModelLoader",
    "encode_windows",
    "latents_key",
    "encode_file",
    "encoding_threads",
]

ENCODE_CHUNK = 2048
_LOAD_READINGS = 5  # readings of the runnable tasks, 2 ms apart, whose median counts


def _running_tasks() -> int | None:
    """Runnable tasks of other processes now: Linux's ``/proc/loadavg`` less this process's running threads."""
    try:
        with open("/proc/loadavg") as f:
            running = int(f.read().split()[3].split("/")[0])
        own = 0
        for task in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{task}/stat") as f:
                    own += f.read().rpartition(")")[2].split()[0] == "R"
            except OSError:  # the thread ended meanwhile
                continue
    except (OSError, ValueError, IndexError):
        return None
    return max(running - own, 0)


def encoding_threads() -> int | None:
    """Torch threads for encoding here and now: this process's cores that no other process keeps busy.

    The LSTM encoder's steps are small matrix products, so its threads meet at a barrier every step, and
    a thread that shares its core with other work holds up all the others: on a busy 2-core machine 2
    threads encoded 1.5 to 4 times slower than 1 (BENCHMARKS.md). The count is the cores this process may use (its
    CPU affinity) less the runnable tasks of other processes (the median of a few readings of Linux's
    ``/proc/loadavg``, this process's own threads left out), at least 1.

    Returns
    -------
    int or None
        None where the choice is the user's (``$OMP_NUM_THREADS`` is set) or cannot be made (no ``/proc``):
        torch's own setting then stands.
    """
    if "OMP_NUM_THREADS" in os.environ:
        return None
    readings: list[int] = []
    for k in range(_LOAD_READINGS):
        if k:
            time.sleep(0.002)
        running = _running_tasks()
        if running is None:
            return None
        readings.append(running)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, cores - sorted(readings)[len(readings) // 2])


@contextmanager
def _torch_threads(threads: int | None) -> Iterator[None]:
    """Run the block with ``threads`` torch threads (None: unchanged), then restore the previous count."""
    import torch

    before = torch.get_num_threads()
    if threads is not None and threads != before:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


@contextmanager
def free_threads(device: str = "cpu") -> Iterator[None]:
    """Run the block on the torch threads :func:`encoding_threads` finds free (on a CPU; unchanged on a GPU).

    For any work made of a recurrent network's small steps: encoding, and the decoding of the noise test and
    the decoder's proof.
    """
    with _torch_threads(encoding_threads() if str(device).startswith("cpu") else None):
        yield


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
        mu and sigma, ndarray of shape (n, z), dtype=float32, every value finite.

    Raises
    ------
    ModelFileError
        When the model gives a non-finite mu or sigma (its weights overflow): the model's fault, so the
        stage stops rather than writing the rows.
    """
    mu, sigma = model.encode(events, device=device)
    bad = int((~np.isfinite(mu).all(axis=1) | ~np.isfinite(sigma).all(axis=1)).sum())
    if bad:
        raise ModelFileError(
            f"model {model.config.name!r} gives non-finite latents (NaN or infinity) for {bad} of {len(mu)} "
            "windows; its weights are damaged or it diverged in training"
        )
    return Latents(mu, sigma)


def latents_key(windows_key: str, model: ModelRef) -> str:
    """Content key of the latents of the windows with key ``windows_key`` under ``model``."""
    return content_key("latents", windows_key, model.key())


class ModelLoader:
    """A picklable handle of a model that loads it once per process (the study's encoding chunks use it).

    Parameters
    ----------
    ref : ModelRef
    device : str
        Torch device where the model is loaded (a worker's CPU or GPU).
    """

    def __init__(self, ref: ModelRef, device: str = "cpu") -> None:
        self.ref, self.device = ref, device

    def __call__(self) -> MusicVAE:
        key = (str(self.ref.path), self.ref.key(), self.device)
        if key not in _LOADED:
            _LOADED.clear()  # one model a process: a full-size MusicVAE takes half a gigabyte
            _LOADED[key] = self.ref.load(self.device)
        return _LOADED[key]


_LOADED: dict[tuple, MusicVAE] = {}


@dataclass(frozen=True)
class EncodePart:
    """One chunk of an encoding: rows ``start:stop`` of the windows, into chunk ``index`` of ``store``.

    Attributes
    ----------
    windows : Path or ndarray of shape (stop - start, T), dtype=int8
        A windows table, whose rows ``start:stop`` the chunk reads itself, or those rows.
    model : callable
        Returns the MusicVAE (a :class:`ModelLoader` where the chunk runs in another process).
    """

    index: int
    start: int
    stop: int
    windows: Path | np.ndarray
    model: Callable[[], MusicVAE]
    device: str
    store: ChunkStore


def encode_part(part: EncodePart) -> int:
    """Chunk function of the encoding stage: encode one chunk's windows into its store -> rows written.

    The chunk runs on the torch threads that :func:`encoding_threads` finds free where it runs (this
    process, a local worker or a cluster's worker).
    """
    events = part.windows
    if isinstance(events, Path):
        events = Windows.load(events, (part.start, part.stop), ["events"]).events
    model = part.model()
    with free_threads(part.device):
        latents = encode_chunk(model, events, part.device)
    part.store.put(part.index, mu=latents.mu, sigma=latents.sigma)
    return len(latents)


def encode_windows(
    entry: Entry,
    events: np.ndarray | Path,
    model: Callable[[], MusicVAE],
    z: int,
    device: str = "cpu",
    chunk: int = ENCODE_CHUNK,
    progress: bool = True,
    desc: str = "encoding",
    metadata: dict | None = None,
    executor: Executor | None = None,
) -> Latents:
    """Encode windows into the latent table of ``entry``, reusing the chunks already in its store.

    Parameters
    ----------
    entry : Entry
        Where the latent table goes (its key says which windows and which model).
    events : ndarray of shape (n, T), dtype=int8, or Path
        The windows, or a windows table that each chunk reads its rows of (needed on a cluster).
    model : callable
        Returns the MusicVAE; called where a chunk is encoded (a :class:`ModelLoader` on a cluster).
    z : int
        Latent size (width of an empty result, and of the NaN rows of a failed chunk).
    device : str
    chunk : int
        Windows per chunk (and per saved part).
    progress : bool
        A tqdm bar over the chunks.
    desc : str
        The bar's label.
    metadata : dict, optional
        Stored with the table.
    executor : Executor, optional
        Where the chunks run (:mod:`musicneurons.execute`); default this process.

    Returns
    -------
    Latents
        Rows of a chunk that failed on every try are NaN; the entry's marker lists those chunks
        (:meth:`Entry.failed`), keeps the other chunks, and a rerun retries the failed ones.
    """
    entry.invalidate()
    store = entry.chunks()
    n = row_count(events) if isinstance(events, Path) else len(events)
    ranges = chunk_ranges(n, chunk)
    parts = [
        EncodePart(i, lo, hi, events if isinstance(events, Path) else events[lo:hi], model, device, store)
        for i, lo, hi in ranges
    ]
    failed = fill_store(executor or LocalExecutor(1), encode_part, parts, store, progress, desc)
    blocks = read_chunks(
        store, ranges, failed, lambda rows: {k: np.full((rows, z), np.nan, np.float32) for k in ("mu", "sigma")}
    )
    result = Latents.concat([Latents(b["mu"], b["sigma"]) for b in blocks], z)
    result.save(entry.path, {"key": entry.key, "stage": "latents", **(metadata or {})})
    entry.complete(len(result), failed=failed)
    if not failed:
        store.clear()
    return result


def _check_melody_table(path: str | Path, bars: int) -> None:
    """InvalidParameterError naming the command that extracts windows when ``path`` is music, not a melody table."""
    from .errors import InvalidParameterError
    from .melody.sources import MIDI_SUFFIXES, SCORE_SUFFIXES

    path = Path(path)
    what = (
        "a folder" if path.is_dir() else "a music file" if path.suffix.lower() in MIDI_SUFFIXES + SCORE_SUFFIXES else ""
    )
    if what:
        raise InvalidParameterError(
            f"{path}: {what}, not a melody table; extract its windows first with "
            f"`musicneurons melodies {path} --bars {bars} --out {path.stem}.parquet`, then encode {path.stem}.parquet"
        )


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
    _check_melody_table(melodies, ref.bars)
    windows = Windows.load(check_marker(melodies))
    if windows.events.shape[1] != 16 * ref.bars:
        raise InvalidParameterError(
            f"{melodies}: windows of {windows.events.shape[1] // 16} bars; model {ref.spec!r} is a {ref.bars}-bar model"
        )
    entry = Entry(Path(out), latents_key(file_key(melodies), ref))
    if entry.verified():
        return Latents.load(entry.path)
    loaded = ref.load(device)  # whole or not at all, before any chunk: a damaged model stops the command here
    return encode_windows(
        entry,
        windows.events,
        lambda: loaded,
        ref.config.z_size,
        device=device,
        chunk=chunk,
        progress=progress,
        desc=f"encoding {printable(Path(melodies).name)}",
        metadata={"model": ref.spec},
    )
