"""Latent alignment: the rotation turns the noise neurons' code onto single axes and leaves decoding from mu as it was."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from musicneurons.model import load_model
from musicneurons.model.alignment import noise_rotation, rotate_latent
from musicneurons.model.metrics import sigma_jump

HELDOUT = (
    Path(__file__).parent / "fixtures" / "heldout"
)  # real corpus windows, written by scripts/fixtures/make_heldout_fixture.py


@pytest.mark.parametrize(("name", "n"), [("mn-mel_2bar", 300), ("mn-hierdec-mel_16bar", 12)])
def test_rotation_aligns_the_noise_code_and_leaves_decoding_from_mu_unchanged(name, n, one_torch_thread):
    model = load_model(name)
    events = np.load(HELDOUT / f"heldout_{model.config.bars}bar.npy")[:n]
    mu, sigma = model.encode(events)
    rotation = noise_rotation(mu, sigma)
    n_music, _ = sigma_jump(sigma.mean(axis=0))
    music = np.argsort(sigma.mean(axis=0), kind="stable")[:n_music]
    noise = np.setdiff1d(np.arange(mu.shape[1]), music)
    np.testing.assert_allclose(rotation @ rotation.T, np.eye(len(rotation)), atol=1e-10)
    np.testing.assert_array_equal(rotation[music], np.eye(len(rotation))[music])

    before = model.decode(mu)
    rotate_latent(model, rotation)
    mu_rotated, sigma_rotated = model.encode(events)
    np.testing.assert_allclose(mu_rotated, mu @ rotation.T, atol=2e-5)
    np.testing.assert_array_equal(sigma_rotated, sigma)  # sigma stays per axis: training must follow
    np.testing.assert_array_equal(model.decode(mu_rotated), before)
    # the noise block's spread is kept, and now falls on its first neurons in the order of the principal directions
    var_before, var_after = mu[:, noise].var(axis=0), mu_rotated[:, noise].var(axis=0)
    np.testing.assert_allclose(var_after.sum(), var_before.sum(), rtol=1e-4)
    assert np.all(np.diff(var_after[: n - 1]) <= 1e-6) and var_after[n - 1 :].max() < 1e-8
    assert var_after[0] > 10 * np.median(var_before)


def test_a_rotation_that_is_not_orthogonal_is_refused():
    model = load_model("mn-mel_2bar")
    with pytest.raises(ValueError, match=r"orthogonal \(512, 512\)"):
        rotate_latent(model, 2 * np.eye(512))
    with pytest.raises(ValueError, match="orthogonal"):
        rotate_latent(model, np.eye(16))


def _corpus_windows():
    from musicneurons.melody import corpus_melodies
    from musicneurons.tables import array_column

    events = array_column(corpus_melodies(bars=2, max_tunes=20, progress=False), "events").astype(np.int8)
    return np.unique(events, axis=0)


def test_training_aligns_after_the_named_step_records_it_and_resumes_without_aligning_again(tmp_path):
    from musicneurons.model import ModelConfig
    from musicneurons.errors import ModelFileError
    from musicneurons.model.train import checkpoint_model, train

    events = _corpus_windows()
    fit, held = events[:80], events[80:]
    config = ModelConfig(
        name="tiny", bars=2, z_size=16, enc_sizes=(16,), dec_sizes=(16,), batch_size=8, transpose_range=0
    )
    run = dict(progress=False, eval_every=1000, eval_windows=20)
    plain = train(config, tmp_path / "plain", fit, held, 6, **run)
    aligned = train(config, tmp_path / "aligned", fit, held, 6, align_at=(6,), **run)
    rotation = noise_rotation(*plain.encode(fit))  # the alignment sample: every window when there are < 8,000
    assert not np.allclose(rotation, np.eye(16))
    mu_plain = plain.encode(held)[0]
    np.testing.assert_allclose(aligned.encode(held)[0], mu_plain @ rotation.T, atol=1e-5)
    np.testing.assert_array_equal(aligned.decode(aligned.encode(held)[0]), plain.decode(mu_plain))
    phases = json.loads((tmp_path / "aligned" / "metrics.json").read_text())["phases"]
    assert phases == [
        {
            "step": 6,
            "alignment": "noise block rotated onto its principal directions (80 training windows), "
            "Adam's state restarted",
        }
    ]
    assert (
        "- After step 6: latent alignment, noise block rotated" in (tmp_path / "aligned" / "MODEL_CARD.md").read_text()
    )

    # aligned after step 3 and trained on: the same whether the run stops at step 3 and resumes or not
    straight = train(config, tmp_path / "straight", fit, held, 6, align_at=(3,), **run)
    train(config, tmp_path / "resumed", fit, held, 3, align_at=(3,), **run)
    resumed = train(config, tmp_path / "resumed", fit, held, 6, align_at=(3,), **run)
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)
    assert len(json.loads((tmp_path / "resumed" / "metrics.json").read_text())["phases"]) == 1
    for a, b in zip(checkpoint_model(tmp_path / "straight").state_dict().values(), straight.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    with pytest.raises(ModelFileError, match="plain/checkpoint.*no training checkpoint"):
        checkpoint_model(tmp_path / "plain" / "checkpoint" / "checkpoint")
    adam_steps = load_file(str(tmp_path / "straight" / "checkpoint" / "adam_step.safetensors")).values()
    assert {float(s) for s in adam_steps} == {3.0}  # Adam restarted after step 3: three steps since
