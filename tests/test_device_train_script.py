"""scripts/training/device_train.sh, run here as a dry run (MN_DEVICE=cpu): it trains, packs the state, and the parts resume."""

import json
import os
import subprocess
import tarfile
from pathlib import Path

import numpy as np
from safetensors import safe_open

from musicneurons.model.training_data import save_training_windows

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "training" / "device_train.sh"
HELDOUT = Path(__file__).parent / "fixtures" / "heldout" / "heldout_2bar.npy"  # real corpus windows
SMALL = ["--set", "z_size=8", "--set", "enc_sizes=16", "--set", "dec_sizes=16,16", "--eval-windows", "8"]


def _script(cwd, *args):
    """Run the script in ``cwd`` with OUT=cwd/out on the CPU; returns the finished process."""
    env = {**os.environ, "OUT": str(cwd / "out"), "MN_DEVICE": "cpu"}
    return subprocess.run(["bash", str(SCRIPT), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def _step(checkpoint):
    """The training step recorded in a checkpoint folder."""
    with safe_open(str(checkpoint / "model.safetensors"), "pt") as fh:
        return json.loads(fh.metadata()["state"])["step"]


def test_the_device_script_brings_back_a_state_in_parts_that_resumes(tmp_path):
    events = np.load(HELDOUT).astype(np.int8)
    save_training_windows(tmp_path / "w.npz", events[:48], events[48:64], "corpus windows of the held-out fixture")
    device = tmp_path / "device"
    device.mkdir()
    done = _script(device, "run", "mn-mel_2bar", str(tmp_path / "w.npz"), "5", *SMALL, "--steps", "3")
    assert done.returncode == 0, done.stderr
    assert [p.name for p in (device / "out" / "run").iterdir()] == ["state.tar.part-aa"] and "1 parts" in done.stdout
    # Back here: the parts unpack into runs/run/checkpoint, and the same options resume it from step 3.
    here = tmp_path / "here"
    (here / "runs" / "run").mkdir(parents=True)
    with tarfile.open(device / "out" / "run" / "state.tar.part-aa") as tar:
        tar.extractall(here / "runs" / "run", filter="data")
    checkpoint = here / "runs" / "run" / "checkpoint"
    assert sorted(p.name for p in checkpoint.iterdir()) == [
        "adam_exp_avg.safetensors", "adam_exp_avg_sq.safetensors", "adam_step.safetensors", "model.safetensors"
    ]  # fmt: skip
    assert _step(checkpoint) == 3
    done = _script(here, "run", "mn-mel_2bar", str(tmp_path / "w.npz"), "5", *SMALL, "--steps", "5")
    assert done.returncode == 0, done.stderr
    assert _step(checkpoint) == 5
    sessions = json.loads((here / "runs" / "run" / "metrics.json").read_text())["sessions"]
    assert [s["steps"] for s in sessions] == [[0, 3], [3, 5]]


def test_the_device_script_refuses_a_state_too_large_to_bring_back_before_training(tmp_path):
    done = _script(tmp_path, "big", "mn-mel_2bar", "missing.npz", "5", "--set", "dec_sizes=1024,1024")
    assert done.returncode == 1
    assert "error: 18,496,602 parameters make a 212 MiB state; the device tool brings back 64 MiB" in done.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "runs").exists()
