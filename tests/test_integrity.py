"""Nothing untrustworthy becomes output: damaged models, tables of the wrong kind, locked run directories.

Every case runs the command line on real files and checks the exact one-line message and exit status.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import save_file

from musicneurons.cli import main
from musicneurons.contracts import Latents, Windows
from musicneurons.melody import random_windows
from musicneurons.model import MusicVAE, get_config, load_model, save_model
from musicneurons.model.integrity import MAX_PARAMETERS
from musicneurons.model.musicvae import SHIPPED_DIR
from musicneurons.rundir import folder_key, sha256_file
from midi_helpers import midi_bytes, quarters

FIXTURES = Path(__file__).parent / "fixtures" / "magenta"

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def cli(args):
    """Run ``musicneurons ARGS`` in this process -> exit status."""
    try:
        return main([str(a) for a in args])
    except SystemExit as exc:  # argparse
        return exc.code


def stderr_lines(capsys):
    return capsys.readouterr().err.strip().splitlines()


@pytest.fixture
def files(tmp_path):
    """A melody table of 6 random 2-bar windows and a tiny saved model (config.json + weights.safetensors)."""
    events, qpm = random_windows(6, bars=2, seed=0)
    Windows(events, pd.DataFrame({"tempo": qpm})).save(tmp_path / "m.parquet")
    torch.manual_seed(0)
    config = get_config("mn-mel_2bar").replace(name="tiny", z_size=4, enc_sizes=(8,), dec_sizes=(8,))
    save_model(MusicVAE(config), tmp_path / "tiny")
    return tmp_path


def encode(tmp_path, model, out="l.parquet"):
    return cli(["encode", tmp_path / "m.parquet", "--model", model, "--out", tmp_path / out, "--quiet"])


def damaged_copy(tmp_path, name):
    folder = Path(shutil.copytree(tmp_path / "tiny", tmp_path / name))
    return folder, folder / "weights.safetensors"


def test_a_saved_model_records_the_sha256_of_its_weights(files):
    config = json.loads((files / "tiny" / "config.json").read_text())
    assert config["weights_sha256"] == sha256_file(files / "tiny" / "weights.safetensors")
    for name in ("mn-mel_2bar", "mn-hierdec-mel_16bar"):  # the shipped models carry it too, and match it
        shipped = json.loads((SHIPPED_DIR / name / "config.json").read_text())
        assert shipped["weights_sha256"] == sha256_file(SHIPPED_DIR / name / "weights.safetensors")


def test_a_truncated_weights_file_stops_encode_with_one_line(files, capsys):
    folder, weights = damaged_copy(files, "trunc")
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    assert encode(files, folder) == 1
    assert stderr_lines(capsys) == [
        f"musicneurons encode: error: {weights}: not readable safetensors weights (Error while deserializing "
        "header: incomplete metadata, file not fully covered)"
    ]
    assert not (files / "l.parquet").exists() and not (files / "l.parquet.parts").exists()


def test_a_weights_file_that_is_not_safetensors_stops_encode(files, capsys):
    folder, weights = damaged_copy(files, "junk")
    weights.write_bytes(b"this is not a safetensors file " * 100)
    assert encode(files, folder) == 1
    assert stderr_lines(capsys) == [
        f"musicneurons encode: error: {weights}: not readable safetensors weights (Error while deserializing "
        "header: header too large)"
    ]
    assert not (files / "l.parquet").exists()


def test_a_bit_flip_in_the_weights_fails_the_sha256_check(files, capsys):
    folder, weights = damaged_copy(files, "flip")
    data = bytearray(weights.read_bytes())
    data[-100] ^= 0x01  # one bit of one float: a finite, plausible weight, only the checksum can tell
    weights.write_bytes(bytes(data))
    assert encode(files, folder) == 1
    assert stderr_lines(capsys) == [
        f"musicneurons encode: error: {weights}: fails its SHA-256 check: the file is not the one config.json "
        "was written with (damaged or replaced)"
    ]


def test_a_folder_without_the_hash_loads_and_non_finite_weights_are_refused(files, capsys):
    folder, weights = damaged_copy(files, "legacy")
    config = json.loads((folder / "config.json").read_text())
    del config["weights_sha256"]  # as musicneurons wrote folders before it recorded the hash
    (folder / "config.json").write_text(json.dumps(config))
    assert encode(files, folder) == 0
    assert np.isfinite(Latents.load(files / "l.parquet").mu).all()
    state = load_model(folder).state_dict()
    state["encoder.mu.bias"][1] = float("nan")
    save_file({k: v.contiguous() for k, v in state.items()}, str(weights))
    assert encode(files, folder, "l2.parquet") == 1
    assert stderr_lines(capsys)[-1] == (
        f"musicneurons encode: error: {weights}: weight 'encoder.mu.bias' holds 1 non-finite values (NaN or infinity)"
    )
    assert not (files / "l2.parquet").exists()


def test_weights_of_another_shape_are_named(files, capsys):
    folder, weights = damaged_copy(files, "shape")
    config = json.loads((folder / "config.json").read_text())
    config["z_size"] = 5
    (folder / "config.json").write_text(json.dumps(config))
    assert encode(files, folder) == 1
    assert stderr_lines(capsys) == [
        f"musicneurons encode: error: {weights}: weight 'encoder.mu.weight' has shape [4, 16]; config 'tiny' "
        "needs [5, 16]"
    ]


@pytest.mark.parametrize("command", ["encode", "run"])
def test_a_missing_weights_file_is_one_line(files, capsys, command, monkeypatch):
    monkeypatch.setenv("MUSICNEURONS_CACHE", str(files / "cache"))
    folder, weights = damaged_copy(files, "noweights")
    weights.unlink()
    if command == "encode":
        assert encode(files, folder) == 1
    else:
        assert cli(["run", "--model", folder, "--bars", "2", "--out", files / "run", "--quiet"]) == 1
    assert stderr_lines(capsys) == [
        f"musicneurons {command}: error: {weights}: missing; a saved-model folder holds config.json and "
        "weights.safetensors"
    ]
    assert not (files / "l.parquet").exists() and not (files / "cache").exists()


def test_a_huge_config_is_refused_before_anything_is_allocated(files, capsys):
    folder, _ = damaged_copy(files, "huge")
    config = json.loads((folder / "config.json").read_text())
    config.update(enc_sizes=[1_000_000], dec_sizes=[1_000_000])
    (folder / "config.json").write_text(json.dumps(config))
    started = time.perf_counter()
    assert encode(files, folder) == 1
    assert time.perf_counter() - started < 10
    assert stderr_lines(capsys) == [
        f"musicneurons encode: error: {folder / 'config.json'}: configuration 'tiny' asks for 12,001,236,000,098 "
        f"parameters (44,708.1 GiB as float32); the limit is {MAX_PARAMETERS:,}"
    ]


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"z_size": "4"}, "ModelConfig key 'z_size' must be an integer; got '4'."),
        ({"enc_sizes": [8.5]}, "ModelConfig key 'enc_sizes' must be a list of integers; got [8.5]."),
        ({"max_beta": None}, "ModelConfig key 'max_beta' must be a finite number; got None."),
    ],
)
def test_a_mistyped_config_value_is_named(files, capsys, change, reason):
    folder, _ = damaged_copy(files, "typed")
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, **change}))
    assert encode(files, folder) == 1
    assert stderr_lines(capsys) == [
        f"musicneurons encode: error: {folder / 'config.json'}: not a usable model configuration ({reason})"
    ]


@pytest.fixture
def js_copy(tmp_path):
    return Path(shutil.copytree(FIXTURES / "mel_2bar_small_js", tmp_path / "js"))


def test_a_deeply_nested_manifest_is_one_line(js_copy, capsys):
    manifest = js_copy / "weights_manifest.json"
    manifest.write_text("[" * 100_000 + "]" * 100_000)
    assert cli(["import-magenta", js_copy, "--out", js_copy.parent / "imported"]) == 1
    assert stderr_lines(capsys) == [
        f"musicneurons import-magenta: error: {manifest}: malformed magenta.js manifest: JSON nested too deeply "
        "to be read"
    ]
    assert not (js_copy.parent / "imported").exists()


def test_a_manifest_symlinked_outside_its_folder_is_refused(js_copy, capsys):
    manifest = js_copy / "weights_manifest.json"
    outside = js_copy.parent / "elsewhere.json"
    manifest.rename(outside)
    manifest.symlink_to(outside)
    assert cli(["import-magenta", js_copy, "--out", js_copy.parent / "imported"]) == 1
    assert stderr_lines(capsys) == [
        f"musicneurons import-magenta: error: {manifest}: the manifest: 'weights_manifest.json' leads outside "
        f"the model folder {js_copy}"
    ]


def test_a_non_finite_magenta_weight_is_named(tmp_path, capsys):
    folder = Path(shutil.copytree(FIXTURES / "mel_2bar_small_js", tmp_path / "js"))
    manifest = json.loads((folder / "weights_manifest.json").read_text())
    first = manifest[0]["weights"][0]
    assert first.get("dtype", "float32") == "float32" and "quantization" not in first
    shard = folder / manifest[0]["paths"][0]
    data = bytearray(shard.read_bytes())
    data[0:4] = np.array([np.inf], np.float32).tobytes()
    shard.write_bytes(bytes(data))
    assert cli(["import-magenta", folder, "--out", tmp_path / "imported"]) == 1
    assert stderr_lines(capsys) == [
        f"musicneurons import-magenta: error: {folder / 'weights_manifest.json'}: weight {first['name']!r} holds "
        "1 non-finite values (NaN or infinity)"
    ]


def analyse(tmp_path, real_latents, real_features, random_latents, out):
    return cli(["analyse", real_latents, real_features, random_latents, "--out", out])


def test_analyse_refuses_an_out_file_before_the_analysis(files, capsys):
    (files / "afile.txt").write_text("mine")
    latents = Latents(np.zeros((6, 4)), np.ones((6, 4)))
    latents.save(files / "l.parquet")
    assert analyse(files, files / "l.parquet", files / "m.parquet", files / "l.parquet", files / "afile.txt") == 1
    assert stderr_lines(capsys) == [
        f"musicneurons analyse: error: --out {files / 'afile.txt'}: is a file, not a folder"
    ]
    assert (files / "afile.txt").read_text() == "mine"


def test_analyse_refuses_a_melody_table_as_features(files, capsys):
    Latents(np.zeros((6, 4)), np.ones((6, 4))).save(files / "l.parquet")
    assert analyse(files, files / "l.parquet", files / "m.parquet", files / "l.parquet", files / "an") == 1
    assert stderr_lines(capsys) == [
        f"musicneurons analyse: error: {files / 'm.parquet'}: a windows table where a features table is needed"
    ]


def test_a_table_of_another_kind_is_refused_by_encode(files, capsys):
    Latents(np.zeros((6, 4)), np.ones((6, 4))).save(files / "l.parquet")
    assert cli(["encode", files / "l.parquet", "--model", files / "tiny", "--out", files / "x.parquet"]) == 1
    assert stderr_lines(capsys) == [
        f"musicneurons encode: error: {files / 'l.parquet'}: a latents table where a windows table is needed"
    ]


def test_a_bit_flip_in_a_table_with_a_marker_is_refused(files, capsys):
    assert encode(files, files / "tiny") == 0
    table = files / "l.parquet"
    data = bytearray(table.read_bytes())
    data[len(data) // 3] ^= 0x01
    table.write_bytes(bytes(data))
    capsys.readouterr()
    assert analyse(files, table, files / "m.parquet", table, files / "an") == 1
    assert stderr_lines(capsys) == [
        f"musicneurons analyse: error: {table}: l.parquet fails its checksum against l.parquet.done.json "
        "(damaged or changed after it was written)"
    ]


def test_encode_into_a_locked_run_directory_is_refused(files, capsys):
    run = files / "run"
    (run / "bars2").mkdir(parents=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time\nfrom musicneurons.rundir import RunDirectory\n"
            f"with RunDirectory({str(run)!r}).lock():\n    print('held', flush=True); time.sleep(600)",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")},
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        assert encode(files, files / "tiny", "run/bars2/latents.parquet") == 1
        line = stderr_lines(capsys)
        assert line == [
            f"musicneurons encode: error: {run} is in use by another musicneurons run (pid {holder.pid} on "
            f"{json.loads((run / '.lock').read_text())['host']} since "
            f"{json.loads((run / '.lock').read_text())['started']}); wait for it to finish or choose another --out"
        ]
        assert sorted(p.name for p in (run / "bars2").iterdir()) == []
    finally:
        holder.kill()
        holder.wait()
    assert encode(files, files / "tiny", "run/bars2/latents.parquet") == 0  # the run stopped: free again
    assert not any(run.glob(".lock")) or (run / ".lock").read_text() == ""


def test_a_touch_keeps_the_folder_key_and_a_same_size_edit_changes_it(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for i in range(3):
        (data / f"t{i}.mid").write_bytes(bytes(range(i, i + 40)))
    hashes = tmp_path / "hashes.json"
    key = folder_key(data, (".mid",), hashes=hashes)
    for p in data.iterdir():
        os.utime(p)
    assert folder_key(data, (".mid",), hashes=hashes) == key  # touched: nothing to recompute
    edited = data / "t1.mid"
    stat = edited.stat()
    edited.write_bytes(bytes(range(2, 42)))  # same size
    os.utime(edited, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # mtime restored
    assert edited.stat().st_size == stat.st_size and edited.stat().st_mtime_ns == stat.st_mtime_ns
    assert folder_key(data, (".mid",), hashes=hashes) != key
    assert folder_key(data, (".mid",)) == folder_key(data, (".mid",), hashes=hashes)  # the cache only saves time


def test_a_file_name_with_an_escape_sequence_is_printed_escaped(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MUSICNEURONS_CACHE", str(tmp_path / "cache"))
    data = tmp_path / "data"
    data.mkdir()
    (data / "tune.mid").write_bytes(midi_bytes([{"notes": quarters([60, 62, 64, 65, 67, 69, 71, 72] * 3)}]))
    (data / "evil\x1b[2J.mid").write_bytes(b"MThd not really")
    assert cli(["melodies", data, "--out", tmp_path / "m.parquet", "--quiet", "--workers", "1"]) == 0
    err = capsys.readouterr().err
    assert "\x1b" not in err and "(e.g. evil\\x1b[2J.mid)" in err
    missing = tmp_path / "gone\x1b]0;owned\x07.parquet"
    assert cli(["encode", missing, "--model", "mn-mel_2bar", "--out", tmp_path / "l.parquet"]) == 1
    assert stderr_lines(capsys) == [
        f"musicneurons encode: error: {tmp_path}/gone\\x1b]0;owned\\x07.parquet: not a readable Parquet table (no such file)"
    ]


def test_tables_carry_their_kind_and_schema(files):
    from musicneurons.tables import load_metadata

    assert encode(files, files / "tiny") == 0
    assert {k: load_metadata(files / "l.parquet")[k] for k in ("kind", "schema")} == {"kind": "latents", "schema": 1}
    assert {k: load_metadata(files / "m.parquet")[k] for k in ("kind", "schema")} == {"kind": "windows", "schema": 1}


def test_a_model_that_overflows_to_non_finite_latents_stops_encode(files, capsys):
    model = load_model(files / "tiny")
    with torch.no_grad():  # finite weights whose sums overflow float32: mu where the encoding sums > 0, sigma < 0
        for layer, sign in ((model.encoder.mu, 1.0), (model.encoder.sigma, -1.0)):
            layer.weight.fill_(sign * 3.4e38)
            layer.bias.fill_(3.4e38)
    save_model(model, files / "overflow")
    assert encode(files, files / "overflow") == 1
    assert stderr_lines(capsys) == [
        "musicneurons encode: error: model 'tiny' gives non-finite latents (NaN or infinity) for 6 of 6 windows; "
        "its weights are damaged or it diverged in training"
    ]
    assert not (files / "l.parquet").exists()
