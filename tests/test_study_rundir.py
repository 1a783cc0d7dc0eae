"""The study over its run directory: content keys of the data folder, damaged outputs healed, one run at a time."""

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from midi_helpers import midi_bytes, quarters
from test_study import tiny_model

from musicneurons.cli import main
from musicneurons.contracts import Features, Latents, Windows
from musicneurons.errors import RunLockedError
from musicneurons.pipeline import run_study
from musicneurons.rundir import RunDirectory, read_json, write_json

TABLES = ["melodies", "melodies.errors", "random", "latents_real", "latents_random", "features_real", "features_random"]
ANALYSIS = ["neurons", "correlations", "contrast", "attributes", "activation"]


def write_songs(folder, first, count):
    """``count`` two-bar-plus MIDI files ``song{first}.mid`` ... with distinct melodies."""
    folder.mkdir(exist_ok=True)
    for i in range(first, first + count):
        notes = quarters([60 + (i * 5 + k) % 12 + (k % 3) for k in range(16)])
        (folder / f"song{i:03d}.mid").write_bytes(midi_bytes([{"notes": notes, "name": f"melody {i}"}]))


@pytest.fixture(scope="module")
def env(tmp_path_factory, one_torch_thread):
    root = tmp_path_factory.mktemp("study_rundir")
    patch = pytest.MonkeyPatch()
    patch.setenv("MUSICNEURONS_CACHE", str(root / "cache"))
    yield root, str(tiny_model(root / "tiny2", 2))
    patch.undo()


def _final_tables(run_dir):
    d = run_dir / "bars2"
    out = {
        "windows": Windows.load(d / "melodies.parquet"),
        "latents": Latents.load(d / "latents_real.parquet"),
        "features": Features.load(d / "features_real.parquet"),
    }
    out.update({name: pd.read_csv(d / "analysis" / f"{name}.csv") for name in ANALYSIS})
    return out


def _assert_same(a, b):
    np.testing.assert_array_equal(a["windows"].events, b["windows"].events)
    pd.testing.assert_frame_equal(a["windows"].meta, b["windows"].meta)
    np.testing.assert_array_equal(a["latents"].mu, b["latents"].mu)
    pd.testing.assert_frame_equal(a["features"].values, b["features"].values)
    for name in ANALYSIS:
        pd.testing.assert_frame_equal(a[name], b[name])


def extra_stage(study, result):
    """An added stage: one output through the run directory, keyed on the real latents."""
    entry = study.entry("extra.json", result.keys["latents_real"])

    def make(path):
        write_json(path, {"mean_mu": float(result.latents.mu.mean())})
        return 1

    entry.ensure(make)
    result.extra["extra"] = read_json(entry.path)
    result.summary["extra_windows"] = len(result.windows)


def extra_section(result):
    return f"<h3>Extra section</h3><p>{result.extra['extra']['mean_mu']:.6f}</p>"


def test_a_file_added_to_the_data_folder_is_in_the_rerun(env, monkeypatch):
    root, model = env
    monkeypatch.setattr("musicneurons.pipeline.EXTRA_STAGES", ["test_study_rundir:extra_stage"])
    monkeypatch.setattr("musicneurons.report.html.EXTRA_SECTIONS", ["test_study_rundir:extra_section"])
    data = root / "growing"
    write_songs(data, 0, 8)
    first = run_study(root / "grow", model=model, data=data, progress=False)
    files = set(first.results[2].windows.meta["file"])
    assert files == {f"song{i:03d}.mid" for i in range(8)}
    mean_mu = float(first.results[2].latents.mu.mean())
    assert first.results[2].extra["extra"] == {"mean_mu": mean_mu}
    assert first.summary["per_bars"]["2-bar"]["extra_windows"] == len(first.results[2].windows)
    assert f"<h3>Extra section</h3><p>{mean_mu:.6f}</p>" in first.report.read_text()
    write_songs(data, 8, 5)
    again = run_study(root / "grow", model=model, data=data, progress=False)
    assert set(again.results[2].windows.meta["file"]) == {f"song{i:03d}.mid" for i in range(13)}
    assert set(Windows.load(root / "grow" / "bars2" / "melodies.parquet").meta["file"]) == set(
        again.results[2].windows.meta["file"]
    )
    n = again.summary["per_bars"]["2-bar"]["windows_real"]
    assert n == len(again.results[2].windows) > first.summary["per_bars"]["2-bar"]["windows_real"]
    assert len(Latents.load(root / "grow" / "bars2" / "latents_real.parquet")) == n


def _damage(path, how):
    data = path.read_bytes()
    path.write_bytes(b"" if how == "empty" else data[: len(data) // 2])


def test_every_kind_of_damaged_output_is_recomputed_to_the_same_tables(env, capsys):
    root, model = env
    data = root / "songs"
    write_songs(data, 0, 10)
    out = root / "heal"
    run_study(out, model=model, data=data, progress=False)
    reference = _final_tables(out)
    d = out / "bars2"
    damaged = {f"bars2/{name}.parquet": d / f"{name}.parquet" for name in TABLES}
    damaged["bars2/analysis"] = d / "analysis" / "summary.json"
    damaged["bars2/example"] = d / "example" / "example.json"
    for i, path in enumerate(damaged.values()):
        _damage(path, "empty" if i % 2 else "truncate")
    _damage(d / "random.parquet.done.json", "empty")  # and a marker
    capsys.readouterr()
    again = run_study(out, model=model, data=data, progress=False)
    notices = capsys.readouterr().err.strip().splitlines()
    for name in damaged:
        assert any(line.startswith(f"musicneurons: recomputing {name}: ") for line in notices), (name, notices)
    _assert_same(_final_tables(out), reference)
    assert json.loads((d / "example" / "example.json").read_text()) == again.results[2].summary["example"]
    assert again.summary["per_bars"]["2-bar"]["music_neurons"] == 4


def test_a_rerun_with_phiks_own_binning_recomputes_only_the_analysis(env, capsys):
    root, model = env
    data, out = root / "binned", root / "binned_run"
    write_songs(data, 0, 6)
    first = run_study(out, model=model, data=data, progress=False)
    stages = {p: p.stat().st_mtime_ns for p in (out / "bars2").glob("*.parquet")}
    assert first.summary["per_bars"]["2-bar"]["correlation_tests"]["phik_binning"] == "quantile"
    capsys.readouterr()
    assert (
        main(["run", "--model", model, "--data", str(data), "--out", str(out), "--binning", "uniform", "--quiet"]) == 0
    )
    assert "music neurons (detected split)" in capsys.readouterr().out
    summary = read_json(out / "summary.json")
    assert summary["settings"]["binning"] == "uniform"
    assert summary["per_bars"]["2-bar"]["correlation_tests"]["phik_binning"] == "uniform"
    assert {p: p.stat().st_mtime_ns for p in (out / "bars2").glob("*.parquet")} == stages


def test_a_second_run_into_the_same_out_is_refused_at_once(env, capsys):
    root, model = env
    out = root / "locked"
    write_songs(root / "few", 0, 4)
    run = RunDirectory(out)
    with run.lock():
        with pytest.raises(RunLockedError, match="is in use by another musicneurons run"):
            run_study(out, model=model, data=root / "few", progress=False)
    # Another process holding the run directory, as a run in progress does, then killed.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import sys, time; from musicneurons.rundir import RunDirectory\n"
            f"with RunDirectory({str(out)!r}).lock():\n    print('held', flush=True); time.sleep(600)",
        ],
        env=os.environ,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline() == "held\n"
    cmd = ["run", "--model", model, "--data", str(root / "few"), "--out", str(out), "--quiet"]
    assert main(cmd) == 1
    assert (
        capsys.readouterr()
        .err.strip()
        .splitlines()[-1]
        .startswith(f"musicneurons run: error: {out} is in use by another musicneurons run (pid {holder.pid} on ")
    )
    assert holder.poll() is None and not (out / "bars2").exists()  # refused before any stage
    holder.kill()
    holder.wait()
    assert main(cmd) == 0
    assert "taking over the lock of" in capsys.readouterr().err
