"""Imported Magenta checkpoints reproduce TensorFlow's own outputs (fixtures: scripts/fixtures/make_magenta_fixtures.py)."""

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from musicneurons.cli import main
from musicneurons.errors import CheckpointError
from musicneurons.model import CONFIGS, ModelConfig, MusicVAE, import_magenta, load_model, magenta_parameter_count
from musicneurons.model.magenta import (
    is_magenta_checkpoint,
    load_magenta_checkpoint,
    magenta_shapes,
    open_magenta_checkpoint,
)
from musicneurons.model.tf_checkpoint import TFCheckpoint

FIXTURES = Path(__file__).parent / "fixtures" / "magenta"
TF_FIXTURES = ["cat-mel_2bar_small", "cat-mel_2bar_big", "hierdec-mel_16bar", "hier-mel_16bar"]
JS_FIXTURES = ["mel_2bar_small_js", "mel_2bar_small_js_q1", "hierdec_js_q2"]
TOL = 1e-5


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def assert_reproduces_tensorflow(model, folder):
    """mu, sigma and teacher-forced logits within 1e-5 of TensorFlow's (reference.npz)."""
    ref = np.load(folder / "reference.npz")
    mu, sigma = model.encode(ref["events"])
    np.testing.assert_allclose(mu, ref["mu"], rtol=0, atol=TOL)
    np.testing.assert_allclose(sigma, ref["sigma"], rtol=0, atol=TOL)
    np.testing.assert_allclose(model.decoder_logits(ref["z"], ref["events"]), ref["logits"], rtol=0, atol=TOL)


@pytest.mark.parametrize("name", TF_FIXTURES + JS_FIXTURES)
def test_imported_model_reproduces_tensorflow_outputs(name):
    assert_reproduces_tensorflow(load_magenta_checkpoint(FIXTURES / name), FIXTURES / name)


@pytest.mark.parametrize(
    "name, bars, enc, dec, conductor",
    [
        ("cat-mel_2bar_small", 2, (16,), (12, 12), ()),
        ("cat-mel_2bar_big", 2, (16,), (12, 12, 12), ()),
        ("hierdec-mel_16bar", 16, (16, 16), (12, 12), (12, 12)),
        ("hierdec_js_q2", 16, (16, 16), (12, 12), (12, 12)),
    ],
)
def test_config_is_inferred_from_shapes(name, bars, enc, dec, conductor):
    model = load_magenta_checkpoint(FIXTURES / name)
    config = model.config
    assert config.enc_level_lengths == ()
    assert (config.bars, config.z_size, config.enc_sizes, config.dec_sizes, config.conductor_sizes) == (
        bars,
        8,
        enc,
        dec,
        conductor,
    )
    assert config.hierarchical == bool(conductor)
    # A scaled-down layout is not Magenta's registered one, so its name must not claim to be.
    assert config.name == (f"{name}-imported" if name in CONFIGS else name)


def test_a_hierarchical_encoder_is_read_level_by_level():
    """hier-mel_16bar's HierarchicalLstmEncoder: one bi-LSTM a bar, one over the bar embeddings, then mu and sigma."""
    model = load_magenta_checkpoint(FIXTURES / "hier-mel_16bar")
    config = model.config
    assert (config.name, config.bars, config.enc_sizes, config.enc_level_lengths) == (
        "hier-mel_16bar-imported",  # scaled down, so not the registered layout
        16,
        (16,),
        (16, 16),
    )
    assert (config.dec_sizes, config.conductor_sizes) == ((12, 12), (12, 12))
    ckpt = TFCheckpoint(FIXTURES / "hier-mel_16bar")
    top = "encoder/hierarchical_level_1/cell_0/bidirectional_rnn/bw/multi_rnn_cell/cell_0/lstm_cell/kernel"
    assert ckpt.shapes()[top] == (32 + 16, 64)  # the bar embeddings (fw and bw h, 2 x 16) and h
    assert CONFIGS["hier-mel_16bar"].enc_level_lengths == (16, 16)
    assert magenta_parameter_count(MusicVAE(CONFIGS["hier-mel_16bar"])) == 72_547_418


def test_a_hierarchical_encoder_of_other_than_two_levels_is_refused(tmp_path):
    """Level lengths cannot be read from weights; two levels are bars and their steps, three are refused by name."""
    config = ModelConfig("three", bars=16, z_size=4, enc_sizes=(3,), enc_level_lengths=(4, 4, 16), dec_sizes=(2,),
                         hierarchical=True, conductor_sizes=(2,))  # fmt: skip
    weights = [{"name": n, "shape": list(s), "dtype": "float32"} for n, s in magenta_shapes(config).items()]
    (tmp_path / "weights_manifest.json").write_text(json.dumps([{"paths": ["shard"], "weights": weights}]))
    with open(tmp_path / "shard", "wb") as fh:
        fh.truncate(4 * sum(int(np.prod(w["shape"])) for w in weights))
    with pytest.raises(CheckpointError, match="a hierarchical encoder of 3 levels"):
        load_magenta_checkpoint(tmp_path)


def test_training_state_is_ignored_and_every_model_variable_is_used():
    ckpt = TFCheckpoint(FIXTURES / "cat-mel_2bar_small")
    assert int(ckpt.read("global_step")) == 7
    assert ckpt.read("beta1_power") == np.float32(0.9**7)
    adam = [n for n in ckpt.names() if "/Adam" in n]
    model_vars = [
        n for n in ckpt.names() if "/Adam" not in n and n not in ("global_step", "beta1_power", "beta2_power")
    ]
    assert len(adam) == 2 * len(model_vars) == 32
    model = load_magenta_checkpoint(FIXTURES / "cat-mel_2bar_small")
    assert magenta_parameter_count(model) == sum(ckpt.read(n).size for n in model_vars)


def test_lstm_gates_are_reordered_and_forget_bias_folded():
    ckpt = TFCheckpoint(FIXTURES / "cat-mel_2bar_small")
    model = load_magenta_checkpoint(FIXTURES / "cat-mel_2bar_small")
    prefix = "decoder/multi_rnn_cell/cell_1/lstm_cell/"
    kernel, bias = ckpt.read(prefix + "kernel"), ckpt.read(prefix + "bias")  # [12 + 12, 48], [48]
    i, j, f, o = np.split(bias, 4)
    rnn = model.decoder.rnn
    np.testing.assert_array_equal(rnn.bias_ih_l1.detach().numpy(), np.concatenate([i, f + np.float32(1.0), j, o]))
    np.testing.assert_array_equal(rnn.bias_hh_l1.detach().numpy(), np.zeros(48, np.float32))
    ki, kj, kf, ko = np.split(kernel, 4, axis=1)
    np.testing.assert_array_equal(rnn.weight_ih_l1.detach().numpy(), np.concatenate([ki, kf, kj, ko], 1)[:12].T)
    np.testing.assert_array_equal(rnn.weight_hh_l1.detach().numpy(), np.concatenate([ki, kf, kj, ko], 1)[12:].T)
    np.testing.assert_array_equal(model.encoder.mu.weight.detach().numpy(), ckpt.read("encoder/mu/kernel").T)


def test_unquantised_magenta_js_holds_the_tensorflow_weights():
    tf_ckpt, js_ckpt = (
        TFCheckpoint(FIXTURES / "cat-mel_2bar_small"),
        open_magenta_checkpoint(FIXTURES / "mel_2bar_small_js"),
    )
    assert set(js_ckpt.names()) == set(magenta_shapes(load_magenta_checkpoint(FIXTURES / "mel_2bar_small_js").config))
    for name in js_ckpt.names():
        np.testing.assert_array_equal(js_ckpt.read(name), tf_ckpt.read(name))


@pytest.mark.parametrize(
    "name, source, levels",
    [("mel_2bar_small_js_q1", "cat-mel_2bar_small", 255), ("hierdec_js_q2", "hierdec-mel_16bar", 65535)],
)
def test_quantised_weights_are_within_half_a_step_of_the_originals(name, source, levels):
    js_ckpt, tf_ckpt = open_magenta_checkpoint(FIXTURES / name), TFCheckpoint(FIXTURES / source)
    for weight in js_ckpt.entries.values():
        original, restored = tf_ckpt.read(weight.name), js_ckpt.read(weight.name)
        step = (original.max() - original.min()) / levels
        assert restored.dtype == np.float32 and restored.shape == original.shape
        assert np.abs(restored - original).max() <= step / 2 + 1e-6
        assert restored.min() == pytest.approx(float(original.min()), abs=1e-6)


@pytest.mark.parametrize(
    "config, total, count",
    [
        ("cat-mel_2bar_small", 4_423_770, 16),
        ("cat-mel_2bar_big", 134_571_098, 18),
        ("hierdec-mel_16bar", 176_061_530, 26),
    ],
)
def test_magenta_shapes_match_the_released_checkpoints(config, total, count):
    shapes = magenta_shapes(CONFIGS[config])
    assert len(shapes) == count
    assert sum(int(np.prod(s)) for s in shapes.values()) == total


def test_magenta_shapes_name_magentas_variables():
    shapes = magenta_shapes(CONFIGS["hierdec-mel_16bar"])
    assert shapes["encoder/cell_1/bidirectional_rnn/bw/multi_rnn_cell/cell_0/lstm_cell/kernel"] == (6144, 8192)
    assert shapes["decoder/hierarchical_level_0/cell_0/lstm_cell/kernel"] == (1025, 4096)
    assert shapes["core_decoder/decoder/z_to_initial_state/kernel"] == (1024, 4096)
    assert shapes["core_decoder/decoder/multi_rnn_cell/cell_0/lstm_cell/kernel"] == (2138, 4096)
    big = magenta_shapes(CONFIGS["cat-mel_2bar_big"])
    assert big["decoder/z_to_initial_state/kernel"] == (512, 12288)
    assert big["decoder/multi_rnn_cell/cell_0/lstm_cell/kernel"] == (2650, 8192)


def test_full_size_layout_takes_magentas_registered_config(tmp_path):
    """A magenta.js checkpoint with the real cat-mel_2bar_small shapes (sparse zero shards) is recognised."""
    config = CONFIGS["cat-mel_2bar_small"]
    shapes = magenta_shapes(config)
    weights = [{"name": n, "shape": list(s), "dtype": "float32"} for n, s in shapes.items()]
    (tmp_path / "weights_manifest.json").write_text(json.dumps([{"paths": ["shard"], "weights": weights}]))
    with open(tmp_path / "shard", "wb") as fh:
        fh.truncate(4 * sum(int(np.prod(s)) for s in shapes.values()))
    model = load_magenta_checkpoint(tmp_path)
    assert model.config == config
    assert magenta_parameter_count(model) == 4_423_770
    forget = model.decoder.rnn.bias_ih_l0[256:512]
    assert torch.equal(forget, torch.ones(256)) and not model.decoder.rnn.bias_ih_l0[:256].any()


def test_two_shard_checkpoint_reads_both_data_files():
    ckpt = TFCheckpoint(FIXTURES / "sharded")
    assert ckpt.num_shards == 2 and {e.shard for e in ckpt.entries.values()} == {0, 1}
    model = load_magenta_checkpoint(FIXTURES / "sharded", name="sharded")
    assert_reproduces_tensorflow(model, FIXTURES / "cat-mel_2bar_small")


def test_bars_override():
    assert load_magenta_checkpoint(FIXTURES / "cat-mel_2bar_small", bars=16, name="x").config.bars == 16


def test_import_writes_a_model_that_load_model_reads(tmp_path):
    model, out = import_magenta(FIXTURES / "hierdec-mel_16bar", tmp_path / "hier")
    assert sorted(os.listdir(out)) == ["config.json", "weights.safetensors"]
    assert_reproduces_tensorflow(load_model(out), FIXTURES / "hierdec-mel_16bar")


@pytest.mark.parametrize(
    "path",
    [
        "cat-mel_2bar_big",
        "cat-mel_2bar_big/model.ckpt",
        "cat-mel_2bar_big/model.ckpt.index",
        "cat-mel_2bar_big/model.ckpt.data-00000-of-00001",
        "mel_2bar_small_js",
        "mel_2bar_small_js/weights_manifest.json",
    ],
)
def test_load_model_accepts_every_form_of_checkpoint_path(path):
    assert is_magenta_checkpoint(FIXTURES / path)
    folder = FIXTURES / Path(path).parts[0]
    assert_reproduces_tensorflow(load_model(FIXTURES / path), folder)


def test_cli_import_magenta(tmp_path, capsys):
    assert main(["import-magenta", str(FIXTURES / "mel_2bar_small_js_q1"), "--out", str(tmp_path / "m")]) == 0
    assert "imported mel_2bar_small_js_q1: 2 bars, z 8, encoder [16], decoder [12, 12]" in capsys.readouterr().out
    assert_reproduces_tensorflow(load_model(tmp_path / "m"), FIXTURES / "mel_2bar_small_js_q1")


def test_cli_reports_a_broken_checkpoint_without_traceback(tmp_path, capsys):
    assert main(["import-magenta", str(FIXTURES / "broken" / "wrong_shape"), "--out", str(tmp_path / "m")]) == 1
    err = capsys.readouterr().err
    assert "encoder/sigma/kernel: wrong shape: expected [32, 8], found [32, 9]" in err
    assert "Traceback" not in err and not (tmp_path / "m").exists()


@pytest.mark.parametrize(
    "case, message",
    [
        ("missing_variable", "missing variable 'decoder/output_projection/bias'"),
        ("wrong_shape", "model.ckpt:encoder/sigma/kernel: wrong shape: expected [32, 8], found [32, 9]"),
        ("bfloat16", "model.ckpt:encoder/mu/kernel: unsupported dtype bfloat16"),
    ],
)
def test_broken_tensorflow_checkpoints_name_the_variable(case, message):
    with pytest.raises(CheckpointError, match="broken/" + case) as info:
        load_magenta_checkpoint(FIXTURES / "broken" / case)
    assert message in str(info.value)
