"""Ordinary mistakes on the command line: one line naming the option or file, exit status 1 or 2, before any work."""

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from musicneurons.cli import main
from musicneurons.contracts import Windows
from musicneurons.melody import random_windows
from musicneurons.model import MusicVAE, get_config, save_model


def cli(args):
    """Run ``musicneurons ARGS`` in this process -> (exit status, last line of stderr)."""
    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:  # argparse
        code = exc.code
    return code


def last_error(capsys):
    lines = capsys.readouterr().err.strip().splitlines()
    return lines[-1] if lines else ""


def unwritable(tmp_path):
    """A folder path nothing can be written in: read-only for a normal user; for root, one sysfs refuses."""
    if os.geteuid() != 0:
        folder = tmp_path / "readonly"
        folder.mkdir()
        folder.chmod(0o555)
        return folder
    return Path("/sys/kernel/musicneurons-test")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MUSICNEURONS_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "--n", "-1"], "musicneurons run: error: argument --n: must be a positive integer, got -1"),
        (["run", "--n", "0"], "musicneurons run: error: argument --n: must be a positive integer, got 0"),
        (["run", "--n", "many"], "musicneurons run: error: argument --n: must be a positive integer, got 'many'"),
        (
            ["run", "--max-tunes", "0"],
            "musicneurons run: error: argument --max-tunes: must be a positive integer, got 0",
        ),
        (
            ["random", "--n", "-1", "--out", "r.parquet"],
            "musicneurons random: error: argument --n: must be a positive integer, got -1",
        ),
        (
            ["melodies", "--workers", "0", "--out", "m.parquet"],
            "musicneurons melodies: error: argument --workers: must be a positive integer, got 0",
        ),
        (
            ["encode", "m.parquet", "--model", "mn-mel_2bar", "--out", "l.parquet", "--chunk", "0"],
            "musicneurons encode: error: argument --chunk: must be a positive integer, got 0",
        ),
    ],
)
def test_bad_counts_are_refused_by_the_parser(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli(args) == 2
    assert last_error(capsys) == message
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA: --device cuda is no mistake here")
def test_cuda_without_cuda_is_refused_before_the_melodies(capsys, tmp_path, cache):
    assert cli(["run", "--device", "cuda", "--out", tmp_path / "run"]) == 1
    assert last_error(capsys).startswith("musicneurons run: error: --device cuda: CUDA is not available here")
    assert not (tmp_path / "run").exists() and not cache.exists()


def test_out_tmp_is_refused_and_leaves_nothing(capsys, cache):
    before = set(os.listdir("/"))
    assert cli(["run", "--out", "/tmp"]) == 1
    assert last_error(capsys).startswith("musicneurons run: error: --out /tmp: holds other files (")
    assert set(os.listdir("/")) == before and not any(Path("/tmp").glob("bars*"))


def test_out_that_is_a_file(capsys, tmp_path, cache):
    (tmp_path / "f").write_text("x")
    assert cli(["run", "--out", tmp_path / "f", "--max-tunes", "2"]) == 1
    assert last_error(capsys) == f"musicneurons run: error: --out {tmp_path / 'f'}: is a file, not a folder"


def test_read_only_out_is_refused_before_any_work(capsys, tmp_path, cache):
    out = unwritable(tmp_path)
    assert cli(["run", "--out", out, "--max-tunes", "2"]) == 1
    assert last_error(capsys).startswith(f"musicneurons run: error: --out {out}: cannot write there (")
    assert not (cache / "corpus").exists()  # no extraction happened


@pytest.mark.parametrize("case", ["unwritable", "file", "empty"])
def test_a_bad_cache_folder_is_refused(case, capsys, tmp_path, monkeypatch):
    if case == "unwritable":
        value = str(unwritable(tmp_path))
        expected = f"the cache folder (MUSICNEURONS_CACHE) {value}: cannot write there ("
    elif case == "file":
        value = str(tmp_path / "cachefile")
        Path(value).write_text("")
        expected = f"the cache folder (MUSICNEURONS_CACHE) {value}: is a file, not a folder"
    else:
        value = ""
        expected = "MUSICNEURONS_CACHE is set but empty; unset it"
    monkeypatch.setenv("MUSICNEURONS_CACHE", value)
    monkeypatch.chdir(tmp_path)
    for args in (["run", "--out", tmp_path / "run", "--max-tunes", "2"], ["melodies", "--out", tmp_path / "m.parquet"]):
        assert cli(args) == 1
        assert last_error(capsys).startswith(f"musicneurons {args[0]}: error: {expected}")
    assert not (tmp_path / "run").exists() and not (tmp_path / "m.parquet").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == (["cachefile"] if case == "file" else [])


def test_a_model_with_a_missing_index_is_named(capsys, tmp_path, cache):
    (tmp_path / "ckpt").mkdir()
    (tmp_path / "ckpt" / "model.ckpt.data-00000-of-00001").write_bytes(b"\0" * 8)
    assert cli(["run", "--model", tmp_path / "ckpt" / "model.ckpt", "--out", tmp_path / "run"]) == 1
    assert last_error(capsys) == (
        f"musicneurons run: error: {tmp_path / 'ckpt' / 'model.ckpt'}: no TensorFlow checkpoint "
        f"index '{tmp_path / 'ckpt' / 'model.ckpt.index'}' exists"
    )


def test_events_out_of_range_are_an_error_not_a_traceback(capsys, tmp_path):
    events, qpm = random_windows(4, bars=2, seed=0)
    events[2, 5] = 95
    Windows(events, pd.DataFrame({"tempo": qpm})).save(tmp_path / "m.parquet")
    torch.manual_seed(0)
    base = get_config("mn-mel_2bar")
    model = save_model(MusicVAE(base.replace(name="tiny", z_size=4, enc_sizes=(8,), dec_sizes=(8,))), tmp_path / "tiny")
    assert cli(["encode", tmp_path / "m.parquet", "--model", model, "--out", tmp_path / "l.parquet", "--quiet"]) == 1
    assert last_error(capsys) == "musicneurons encode: error: events values must lie in 0..89; got 0..95"
    assert not (tmp_path / "l.parquet").exists()
    assert np.array_equal(Windows.load(tmp_path / "m.parquet").events, events)
