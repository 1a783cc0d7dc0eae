"""The study on a Dask LocalCluster of 2 workers (loopback): the local run's tables, a worker killed in the middle of
encoding, a chunk that always fails; the default path without Dask."""

import functools
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

distributed = pytest.importorskip("distributed")  # the [cluster] extra, part of [test]

import cloudpickle  # noqa: E402  (installed with distributed)
from test_study import tiny_model  # noqa: E402  (the planted tiny model the study tests share)
from test_study_rundir import _assert_same, _final_tables, write_songs  # noqa: E402

from musicneurons.cli import main  # noqa: E402
from musicneurons.contracts import Latents  # noqa: E402
from musicneurons.encoding import ModelLoader, encode_windows  # noqa: E402
from musicneurons.errors import InvalidParameterError  # noqa: E402
from musicneurons.execute import DaskExecutor, Executor  # noqa: E402
from musicneurons.melody.collect import assemble, collect_windows  # noqa: E402
from musicneurons.melody.files import file_items, read_item  # noqa: E402
from musicneurons.model import resolve_model  # noqa: E402
from musicneurons.pipeline import run_study  # noqa: E402
from musicneurons.rundir import Entry  # noqa: E402

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import this test module
pytestmark = pytest.mark.usefixtures("one_torch_thread")

SONGS = 12  # MIDI files of 16 quarter notes (4 bars): 3 two-bar windows each (hop of one bar)
WINDOWS = 3 * SONGS
CHUNKS = {"musicneurons.pipeline.ENCODE_CHUNK": 8, "musicneurons.features.commands.FEATURE_CHUNK": 16}
# The local reference run: the CLI's default path in a fresh interpreter, with the test's chunk sizes; it prints
# which of Dask's modules it imported.
LOCAL_RUN = (
    "import sys, musicneurons.pipeline as p, musicneurons.features.commands as f; "
    "p.ENCODE_CHUNK, f.FEATURE_CHUNK = {encode}, {features}; from musicneurons.cli import main; "
    "rc = main(sys.argv[1:]); print(rc, [m for m in ('dask', 'distributed') if m in sys.modules])"
)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("cluster")
    write_songs(root / "songs", 0, SONGS)
    model = str(tiny_model(root / "tiny2", 2))
    code = LOCAL_RUN.format(encode=8, features=16)
    args = ["run", "--model", model, "--data", str(root / "songs"), "--out", str(root / "local"), "--quiet"]
    env = {**os.environ, "MUSICNEURONS_CACHE": str(root / "cache-local"), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return root, model, proc.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def cluster():
    with DaskExecutor("local", workers=2, memory_limit="1GiB") as executor:
        yield executor


class Planted:
    """A chunk function with a planted fault in encoding chunk 1 (of the real windows, in a study)."""

    def __init__(self, fn, fault, marker):
        self.fn, self.fault, self.marker = fn, fault, marker

    def __call__(self, spec):
        if (
            getattr(self.fn, "__name__", "") == "encode_part"
            and spec.index == 1
            and "latents_random" not in str(spec.store.directory)
        ):
            if self.fault == "kill" and not os.path.exists(self.marker):
                open(self.marker, "w").close()
                os._exit(1)  # the worker process dies in the middle of its chunk
            if self.fault == "fail":
                raise RuntimeError("planted failure of encoding chunk 1")
        return self.fn(spec)


class Faulty(Executor):
    """A Dask executor whose chunk functions carry a :class:`Planted` fault."""

    def __init__(self, inner, fault, marker=""):
        self.inner, self.fault, self.marker = inner, fault, str(marker)

    def map_chunks(self, fn, specs):
        return self.inner.map_chunks(Planted(fn, self.fault, self.marker), specs)

    def run_on_workers(self, fn, *args):
        return self.inner.run_on_workers(fn, *args)


def _workers(executor):
    return set(executor.client.scheduler_info(n_workers=-1)["workers"])


def _summary(run_dir):
    return json.loads((run_dir / "summary.json").read_text())["per_bars"]


def test_the_default_path_does_not_import_dask(env):
    assert env[2] == "0 []"


@pytest.fixture(scope="module")
def killed_run(env, cluster):
    """The study on the cluster, the worker that runs encoding chunk 1 killed in the middle of it."""
    root, model, _ = env
    patch = pytest.MonkeyPatch()
    for name, value in CHUNKS.items():
        patch.setattr(name, value)
    patch.setenv("MUSICNEURONS_CACHE", str(root / "cache-dask"))  # a fresh cache: extraction runs on the workers
    before, marker = _workers(cluster), root / "killed-once"
    run = run_study(
        root / "dask", model=model, data=root / "songs", cluster=Faulty(cluster, "kill", marker), progress=False
    )
    yield run, before, marker
    patch.undo()


def test_a_cluster_run_with_a_worker_killed_mid_encoding_gives_the_tables_of_the_local_run(env, cluster, killed_run):
    root = env[0]
    run, before, marker = killed_run
    assert marker.exists() and _workers(cluster) != before  # the worker died; the nanny started another
    assert list((root / "cache-dask").rglob("chunk-*.parquet"))  # the workers wrote the melody chunks
    _assert_same(_final_tables(root / "dask"), _final_tables(root / "local"))
    assert _summary(root / "dask") == _summary(root / "local")
    assert len(run.results[2].windows) == WINDOWS and not (root / "dask" / "errors.parquet").exists()


def test_an_encoding_chunk_that_always_fails_is_recorded_and_retried_by_a_rerun(env, cluster, killed_run, tmp_path):
    root, model, _ = env
    ref = resolve_model(model)
    melodies = root / "dask" / "bars2" / "melodies.parquet"
    entry = Entry(tmp_path / "latents.parquet", "k")
    encode = functools.partial(encode_windows, entry, melodies, ModelLoader(ref), 16, chunk=8, progress=False)
    latents = encode(executor=Faulty(cluster, "fail"))
    failed = [{"chunk": 1, "first_row": 8, "rows": 8, "reason": "RuntimeError: planted failure of encoding chunk 1"}]
    assert entry.failed() == failed and not entry.verified() and entry.result_key() != entry.key
    reference = Latents.load(root / "local" / "bars2" / "latents_real.parquet")
    assert np.isnan(latents.mu[8:16]).all() and np.isnan(latents.sigma[8:16]).all()
    np.testing.assert_array_equal(np.delete(latents.mu, np.s_[8:16], 0), np.delete(reference.mu, np.s_[8:16], 0))
    assert sorted(p.name for p in entry.chunks().directory.iterdir()) == [f"part-{i:06d}.npz" for i in (0, 2, 3, 4)]
    again = encode(executor=cluster)  # the rerun encodes chunk 1 alone
    np.testing.assert_array_equal(again.mu, reference.mu)
    np.testing.assert_array_equal(again.sigma, reference.sigma)
    assert entry.verified() and entry.result_key() == entry.key and not entry.chunks().directory.exists()


def test_the_study_leaves_a_failed_chunk_out_of_the_analysis_and_records_it(env, cluster, killed_run, tmp_path):
    root, model, _ = env
    out = tmp_path / "failing"
    shutil.copytree(root / "dask", out)
    (out / "bars2" / "latents_real.parquet.done.json").unlink()  # to be encoded again, with a chunk that fails
    with pytest.MonkeyPatch.context() as patch:
        for name, value in CHUNKS.items():
            patch.setattr(name, value)
        run = run_study(out, model=model, data=root / "songs", cluster=Faulty(cluster, "fail"), progress=False)
    errors = pd.read_parquet(out / "errors.parquet")
    assert errors.to_dict("records") == [
        {
            "stage": "bars2/latents_real",
            "chunk": 1,
            "first_row": 8,
            "rows": 8,
            "reason": "RuntimeError: planted failure of encoding chunk 1",
        }
    ]
    per = run.summary["per_bars"]["2-bar"]
    assert per["windows_real"] == WINDOWS - 8 and per["windows_random"] == WINDOWS  # chunk 1 left out
    assert per["failed_chunks"] == errors.to_dict("records")
    assert len(run.results[2].windows) == len(run.results[2].latents.mu) == WINDOWS - 8
    assert not np.isnan(run.results[2].latents.mu).any()


class FailOn:
    """A melody batch function that raises for every batch holding song003.mid (also when it is alone)."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, batch):
        if any(item["file"] == "song003.mid" for _, item in batch):
            raise OSError("planted: the shared folder went away")
        return self.fn(batch)


class FailingMelodies(Faulty):
    def map_chunks(self, fn, specs):
        return self.inner.map_chunks(FailOn(fn), specs)


def test_a_melody_chunk_that_always_fails_gives_error_rows_for_its_files(env, cluster, tmp_path):
    items = file_items(env[0] / "songs")
    executor = FailingMelodies(cluster, "")
    windows, errors = assemble(
        collect_windows(items, read_item, tmp_path / "w", 4, executor=executor, progress=False), 2
    )
    local, _ = assemble(collect_windows(items, read_item, tmp_path / "l", 4, workers=1, progress=False), 2)
    reason = "failed on every try: OSError: planted: the shared folder went away"
    assert errors[["file", "reason"]].values.tolist() == [["song003.mid", reason]]
    kept = local[local["file"] != "song003.mid"].reset_index(drop=True)
    pd.testing.assert_frame_equal(windows.drop(columns="events"), kept.drop(columns="events"))
    np.testing.assert_array_equal(np.stack(windows["events"]), np.stack(kept["events"]))


def test_without_dask_the_cluster_option_names_the_extra(env, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(InvalidParameterError, match=r"pip install 'musicneurons\[cluster\]'"):
        DaskExecutor("local")
    out = env[0] / "nodask"
    assert (
        main(["run", "--cluster", "local", "--model", env[1], "--data", str(env[0] / "songs"), "--out", str(out)]) == 1
    )
    assert (
        "--cluster needs Dask, which is not installed: pip install 'musicneurons[cluster]'" in capsys.readouterr().err
    )


def test_workers_with_a_scheduler_address_is_refused(env, capsys):
    assert (
        main(["run", "--cluster", "tcp://127.0.0.1:1", "--workers", "2", "--model", env[1], "--out", str(env[0] / "x")])
        == 1
    )
    assert "--workers 2: sizes a LocalCluster (--cluster local)" in capsys.readouterr().err
