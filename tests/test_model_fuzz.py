"""Seeded fuzz over saved-model folders: no damaged model gives exit 0 with non-finite latents, or a traceback.

500 cases of byte flips and truncations of ``weights.safetensors`` (with and without the SHA-256 in
``config.json``, so the checks behind the checksum are reached too), byte flips of ``config.json`` and
mutations of its fields. Each case runs ``musicneurons encode`` in this process on 4 windows with a tiny
model: it must exit 0 with finite latents, or exit 1 with one line naming the problem.
"""

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import torch

from musicneurons.cli import main
from musicneurons.contracts import Latents, Windows
from musicneurons.melody import random_windows
from musicneurons.model import MusicVAE, get_config, save_model

CASES = 500
VALUES = [0, -1, 1, 2, 16, 90, 10**6, 10**12, 1.5, -0.0, 1e308, "x", "", None, True, [], [8], [0], [8, 8], {}, [10**9]]

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    events, qpm = random_windows(4, bars=2, seed=0)
    Windows(events, pd.DataFrame({"tempo": qpm})).save(root / "m.parquet")
    torch.manual_seed(0)
    config = get_config("mn-mel_2bar").replace(name="tiny", z_size=4, enc_sizes=(8,), dec_sizes=(8,))
    save_model(MusicVAE(config), root / "tiny")
    return root


def mutate(folder, rng):
    """Damage one model folder in place -> a word for the kind of damage."""
    weights, config = folder / "weights.safetensors", folder / "config.json"
    kind = rng.choice(["flip", "flip", "truncate", "config_field", "config_bytes"])
    if kind in ("flip", "truncate") and rng.random() < 0.5:  # a folder without the hash: the other checks decide
        settings = json.loads(config.read_text())
        del settings["weights_sha256"]
        config.write_text(json.dumps(settings))
    if kind == "flip":
        data = bytearray(weights.read_bytes())
        for _ in range(int(rng.integers(1, 4))):
            data[int(rng.integers(len(data)))] ^= 1 << int(rng.integers(8))
        weights.write_bytes(bytes(data))
    elif kind == "truncate":
        data = weights.read_bytes()
        weights.write_bytes(data[: int(rng.integers(len(data)))])
    elif kind == "config_field":
        settings = json.loads(config.read_text())
        key = str(rng.choice(sorted(settings) + ["unknown_key"]))
        settings[key] = VALUES[int(rng.integers(len(VALUES)))]
        config.write_text(json.dumps(settings))
    else:
        data = bytearray(config.read_bytes())
        data[int(rng.integers(len(data)))] = int(rng.integers(256))
        config.write_bytes(bytes(data))
    return kind


def test_damaged_model_folders_never_give_non_finite_latents_or_a_traceback(base, tmp_path, capsys):
    rng = np.random.default_rng(32)
    outcomes = {0: 0, 1: 0}
    for case in range(CASES):
        folder = tmp_path / f"model{case}"
        shutil.copytree(base / "tiny", folder)
        kind = mutate(folder, rng)
        out = tmp_path / f"l{case}.parquet"
        code = main(["encode", str(base / "m.parquet"), "--model", str(folder), "--out", str(out), "--quiet"])
        err = capsys.readouterr().err.strip().splitlines()
        assert code in (0, 1), (case, kind, err)
        outcomes[code] += 1
        if code == 0:
            latents = Latents.load(out)
            assert np.isfinite(latents.mu).all() and np.isfinite(latents.sigma).all(), (case, kind)
        else:
            assert len(err) == 1 and err[0].startswith("musicneurons encode: error: "), (case, kind, err)
            assert not out.exists(), (case, kind)
        shutil.rmtree(folder)
    assert outcomes[1] > CASES // 2  # most damage is caught; the rest are harmless (a learning rate, a name)
