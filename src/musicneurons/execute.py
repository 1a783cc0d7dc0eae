"""The execution layer under the stages: one chunk function mapped over chunks, locally or on a Dask cluster.

A stage splits its work into small, picklable *chunk specs* (a batch of files, a row range of a windows
table) and a module-level *chunk function* that reads its inputs by path, writes its own output files
atomically (a melody cache chunk, a :class:`~musicneurons.rundir.ChunkStore` part) and returns only a
small status record. :meth:`Executor.map_chunks` runs that function over the specs and yields
``(spec, result)`` as each one finishes, or ``(spec, ChunkFailure)`` for a chunk that failed on every
try; the stage records the failure and finishes the rest. A :class:`~musicneurons.errors.MusicNeuronsError`
raised by a chunk (a damaged model file, an unreadable table) is the run's problem, not the chunk's: it
is raised. Two executors run the same functions:

- :class:`LocalExecutor` (the default): in this process, or in a pool of worker processes that die with
  their parent and ignore Ctrl-C; a worker that dies breaks the pool, and the chunks it held are rerun
  one at a time, each in a fresh process of its own, before the pool carries on.
- :class:`DaskExecutor`: a ``distributed.Client`` of a :class:`distributed.LocalCluster` or of a running
  scheduler (one started by dask-jobqueue, for instance). Dask reruns the chunk of a worker lost
  mid-chunk on another worker (up to its ``distributed.scheduler.allowed-failures``) and retries a chunk
  that raised ``retries`` times. Dask is imported only when this executor is made
  (``pip install 'musicneurons[cluster]'``).

Because every output is written atomically under a name fixed by the chunk (never appended), a chunk
run twice (a retry, a lost worker's chunk rerun elsewhere) leaves one copy of its rows.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from .errors import InvalidParameterError, MusicNeuronsError

__all__ = ["ChunkFailure", "Executor", "LocalExecutor", "DaskExecutor", "make_executor", "RETRIES", "WORKER_DIED"]

RETRIES = 2  # extra tries of a chunk whose function raised
WORKER_DIED = "the worker process died while running it (out of memory or a crash)"
CLUSTER_EXTRA = "pip install 'musicneurons[cluster]'"


@dataclass(frozen=True)
class ChunkFailure:
    """A chunk that failed on every try.

    Attributes
    ----------
    reason : str
        What went wrong, in words (the exception's type and message, or that the worker died).
    attempts : int
        How many times it was run.
    """

    reason: str
    attempts: int


def failure_reason(exc: BaseException) -> str:
    """The words of a :class:`ChunkFailure` for an exception raised by a chunk function."""
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class Executor:
    """Runs a chunk function over chunk specs; see the module docstring. Use it as a context manager."""

    name = "executor"

    def map_chunks(self, fn: Callable[[Any], Any], specs: Sequence[Any]) -> Iterator[tuple[Any, Any]]:
        """Run ``fn(spec)`` for every spec -> ``(spec, result or ChunkFailure)``, in completion order.

        ``fn`` must be picklable (a module-level function, a ``functools.partial`` of one, or an instance
        of a module-level class); so must every spec.
        """
        raise NotImplementedError

    def inline(self) -> bool:
        """True when chunks run in this process (so they may use this process's objects)."""
        return False

    def describe(self) -> str:
        """One line saying where the chunks run (for the summary and notices)."""
        return self.name

    def vectorised(self) -> Executor:
        """The executor for chunks that keep every core of their process busy themselves (torch, numpy).

        A cluster runs them as it runs any chunk (one thread a worker); locally they run in this process.
        """
        return self

    def run_on_workers(self, fn: Callable[..., Any], *args: Any) -> dict:
        """``fn(*args)`` once in every worker process -> {worker: result}; here for a local executor."""
        return {"local": fn(*args)}

    def close(self) -> None:
        """Release what the executor started (a cluster, a client)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LocalExecutor(Executor):
    """Chunks in this process (``workers=1``) or in a pool of ``workers`` processes.

    Parameters
    ----------
    workers : int, optional
        Worker processes; default the CPU count, at most 4. With 1 worker, or a single chunk, the
        chunks run in this process.
    retries : int
        Extra tries of a chunk whose function raised an exception.
    """

    name = "local"

    def __init__(self, workers: int | None = None, retries: int = RETRIES) -> None:
        self.workers = workers or min(os.cpu_count() or 1, 4)
        self.retries = retries

    def inline(self) -> bool:
        return self.workers <= 1

    def describe(self) -> str:
        return "this process" if self.inline() else f"a local pool of {self.workers} processes"

    def vectorised(self) -> LocalExecutor:
        return self if self.inline() else LocalExecutor(1, self.retries)

    def map_chunks(self, fn, specs):
        specs = list(specs)
        if self.workers <= 1 or len(specs) <= 1:
            for spec in specs:
                yield spec, self._run_inline(fn, spec)
            return
        yield from self._pooled(fn, specs)

    def _run_inline(self, fn, spec):
        attempts = self.retries + 1
        for _ in range(attempts):
            try:
                return fn(spec)
            except MusicNeuronsError:
                raise
            except Exception as exc:  # noqa: BLE001 - a chunk's failure is recorded, the others go on
                reason = failure_reason(exc)
        return ChunkFailure(reason, attempts)

    def _pooled(self, fn, specs):
        """Specs through a pool, at most two a worker in flight; a broken pool's chunks are isolated."""
        queue = deque(enumerate(specs))
        tries = dict.fromkeys(range(len(specs)), 0)
        while queue:
            pool = _start_pool(self.workers)
            lost: list[tuple[int, Any]] = []
            try:
                running: dict = {}
                while (queue or running) and not lost:
                    while queue and len(running) < 2 * self.workers:
                        i, spec = queue.popleft()
                        running[pool.submit(fn, spec)] = (i, spec)
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in done:
                        i, spec = running.pop(future)
                        tries[i] += 1
                        try:
                            result = future.result()
                        except BrokenProcessPool:
                            lost.append((i, spec))
                            continue
                        except MusicNeuronsError:
                            raise
                        except Exception as exc:  # noqa: BLE001 - retried, then recorded
                            if tries[i] <= self.retries:
                                queue.append((i, spec))
                                continue
                            result = ChunkFailure(failure_reason(exc), tries[i])
                        yield spec, result
                lost += running.values()
            finally:
                _stop(pool)
            for i, spec in lost:  # one of these killed its worker: each alone, in a fresh process
                yield spec, _isolated(fn, spec, tries[i] + 1)


def _start_pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(workers, initializer=_worker_init, initargs=(os.getpid(),))


def _isolated(fn, spec, attempt):
    """``fn(spec)`` in a one-worker pool of its own -> the result, or ChunkFailure when it dies or raises."""
    pool = _start_pool(1)
    try:
        return pool.submit(fn, spec).result()
    except BrokenProcessPool:
        return ChunkFailure(WORKER_DIED, attempt)
    except MusicNeuronsError:
        raise
    except Exception as exc:  # noqa: BLE001 - recorded
        return ChunkFailure(failure_reason(exc), attempt)
    finally:
        _stop(pool)


def _stop(pool):
    """Shut a pool down now: cancel what has not started and kill the workers."""
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        if proc.is_alive():
            proc.kill()
    for proc in processes:
        proc.join()


def _die_with_parent(parent):
    """In a worker: exit when ``parent`` dies (PR_SET_PDEATHSIG on Linux, and a polling watchdog)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=watch, daemon=True).start()


def _worker_init(parent):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the parent handles it
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent(parent)


class DaskExecutor(Executor):
    """Chunks on a Dask cluster: a new :class:`distributed.LocalCluster` or a running scheduler.

    Parameters
    ----------
    address : str or distributed.Client
        ``'local'`` starts a LocalCluster of ``workers`` single-threaded worker processes (closed with
        the executor); ``'tcp://host:8786'`` (or a scheduler file's address) connects to a running
        scheduler, whose workers must see the same files under the same paths; a Client is used as is.
    workers : int, optional
        Size of the LocalCluster (default: the CPU count, at most 4); not allowed with an address.
    retries : int
        Extra tries of a chunk whose function raised (a lost worker's chunk is rerun by the scheduler).
    **cluster_options
        Passed to LocalCluster (e.g. ``memory_limit='2GiB'``).

    Raises
    ------
    InvalidParameterError
        When Dask is not installed (naming the extra to install), or ``workers`` comes with an address.
    """

    name = "dask"

    def __init__(self, address: Any = "local", workers: int | None = None, retries: int = RETRIES, **cluster_options):
        try:
            import distributed
        except ImportError:
            raise InvalidParameterError(
                f"--cluster needs Dask, which is not installed: {CLUSTER_EXTRA} (or pip install 'dask[distributed]')"
            ) from None
        self.retries = retries
        self.cluster = None
        if isinstance(address, distributed.Client):
            self.client, self._owns_client = address, False
        elif address == "local":
            options = {"threads_per_worker": 1, "processes": True, "dashboard_address": None, **cluster_options}
            self.cluster = distributed.LocalCluster(n_workers=workers or min(os.cpu_count() or 1, 4), **options)
            self.client, self._owns_client = distributed.Client(self.cluster), True
        else:
            if workers is not None:
                raise InvalidParameterError(
                    f"--workers {workers}: sizes a LocalCluster (--cluster local); the scheduler at {address} "
                    "has the workers its cluster started"
                )
            try:
                self.client, self._owns_client = distributed.Client(address, timeout="30s"), True
            except (OSError, TimeoutError) as exc:
                raise InvalidParameterError(
                    f"--cluster {address}: cannot reach a Dask scheduler there ({exc})"
                ) from None

    def describe(self) -> str:
        workers = self.client.scheduler_info(n_workers=-1).get("workers", {})
        where = "a LocalCluster" if self.cluster is not None else f"the scheduler at {self.client.scheduler.address}"
        return f"Dask: {where} with {len(workers)} workers"

    def map_chunks(self, fn, specs):
        from distributed import as_completed

        futures = {self.client.submit(fn, spec, retries=self.retries, pure=False): spec for spec in specs}
        try:
            for future in as_completed(list(futures)):
                spec = futures.pop(future)
                if future.status == "finished":
                    result = future.result()
                elif isinstance(future.exception(), MusicNeuronsError):
                    raise future.exception()
                else:
                    result = ChunkFailure(self._reason(future.exception()), self.retries + 1)
                future.release()
                yield spec, result
        finally:
            if futures:  # interrupted: nothing of this map may go on running
                self.client.cancel(list(futures))

    @staticmethod
    def _reason(exc: BaseException) -> str:
        from distributed.scheduler import KilledWorker

        if isinstance(exc, KilledWorker):
            return f"{WORKER_DIED}, on every worker that ran it"
        return failure_reason(exc)

    def run_on_workers(self, fn: Callable[..., Any], *args: Any) -> dict:
        """``fn(*args)`` once on every worker -> {worker address: result}; the first exception is raised."""
        return self.client.run(fn, *args)

    def close(self) -> None:
        if self._owns_client:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_executor(cluster: str | Executor | None = None, workers: int | None = None) -> Executor:
    """The executor of ``musicneurons run --cluster CLUSTER --workers N``.

    Parameters
    ----------
    cluster : {None, 'local'}, str or Executor
        None: the local process pool (``workers`` processes for extraction); ``'local'``: a Dask
        LocalCluster of ``workers``; an address: a running Dask scheduler; an Executor: itself.
    workers : int, optional
    """
    if isinstance(cluster, Executor):
        return cluster
    if cluster is None:
        return LocalExecutor(workers)
    return DaskExecutor(cluster, workers)


def chunk_ranges(n: int, chunk: int) -> list[tuple[int, int, int]]:
    """(index, start, stop) of the chunks of ``chunk`` rows that cover ``n`` rows, in order."""
    return [(i, lo, min(lo + chunk, n)) for i, lo in enumerate(range(0, n, chunk))]


def fill_store(
    executor: Executor,
    fn: Callable[[Any], Any],
    parts: Sequence[Any],
    store: Any,
    progress: bool = False,
    desc: str = "",
) -> list[dict]:
    """Run ``fn`` over the parts whose chunk ``store`` does not hold yet (each part has ``index``, ``start``,
    ``stop``; ``fn`` writes chunk ``index`` into the store itself).

    Returns
    -------
    list of dict
        The chunks that failed on every try: ``chunk``, ``first_row``, ``rows``, ``reason``, in chunk order.
    """
    from .progress import progress_bar

    todo = [p for p in parts if not store.has(p.index)]
    failed = []
    with progress_bar(
        progress=progress, total=len(parts), initial=len(parts) - len(todo), desc=desc, unit="chunk"
    ) as bar:
        for part, result in executor.map_chunks(fn, todo):
            if isinstance(result, ChunkFailure):
                failed.append(
                    {
                        "chunk": part.index,
                        "first_row": part.start,
                        "rows": part.stop - part.start,
                        "reason": result.reason,
                    }
                )
            bar.update()
    return sorted(failed, key=lambda f: f["chunk"])


def read_chunks(
    store: Any, ranges: Sequence[tuple[int, int, int]], failed: list[dict], empty: Callable[[int], dict]
) -> list[dict]:
    """The arrays of every chunk of ``ranges`` from ``store``, in order; ``empty(rows)`` stands in for a failed one.

    A chunk that did not fail but cannot be read back is added to ``failed`` (in place).
    """
    gaps = {f["chunk"] for f in failed}
    blocks = []
    for i, lo, hi in ranges:
        arrays = None if i in gaps else store.get(i)
        if arrays is None:
            if i not in gaps:
                failed.append({"chunk": i, "first_row": lo, "rows": hi - lo, "reason": "its chunk file was unreadable"})
            arrays = empty(hi - lo)
        blocks.append(arrays)
    failed.sort(key=lambda f: f["chunk"])
    return blocks


def rows_without(n: int, failed: Sequence[dict]) -> Any:
    """Positions of the ``n`` rows outside the ``failed`` chunks (ndarray of int64), or None when none failed."""
    import numpy as np

    if not failed:
        return None
    keep = np.ones(n, bool)
    for f in failed:
        keep[f["first_row"] : f["first_row"] + f["rows"]] = False
    return np.flatnonzero(keep)
