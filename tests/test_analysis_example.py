"""One melody in latent space: the default Twinkle window, its encoding, decodings and figures."""

import numpy as np
import pytest

from musicneurons.analysis import encode_example, plot_example_latents, plot_example_rolls, twinkle_events
from musicneurons.melody.events import events_to_notes
from musicneurons.report.figures import save_figure


class StandIn:
    """A linear stand-in model: mu is a fixed projection of the one-hot events, sigma is fixed."""

    def __init__(self, steps=32, z=20):
        rng = np.random.default_rng(0)
        self.weights = rng.normal(size=(steps * 90, z)) / 30
        self.back = np.linalg.pinv(self.weights)
        self.sigma = np.linspace(1.0, 0.05, z)  # neuron z-1 is the most specific
        self.steps = steps

    def encode(self, events):
        onehot = np.eye(90)[np.asarray(events, dtype=int)].reshape(len(events), -1)
        return (onehot @ self.weights).astype(np.float32), np.tile(self.sigma, (len(events), 1)).astype(np.float32)

    def decode(self, z, temperature=None):
        logits = (np.asarray(z, dtype=float) @ self.back).reshape(len(z), self.steps, 90)
        return logits.argmax(axis=2).astype(np.int8)


def test_twinkle_first_two_bars():
    notes = events_to_notes(twinkle_events(2))
    assert notes.tolist() == [
        [0, 4, 60],
        [4, 8, 60],
        [8, 12, 67],
        [12, 16, 67],
        [16, 20, 69],
        [20, 24, 69],
        [24, 32, 67],
    ]


def test_twinkle_sixteen_bars_repeats_the_tune():
    notes = events_to_notes(twinkle_events(16))
    assert len(notes) == 42 + 14  # 12 bars of the tune, then its first 4 bars again
    np.testing.assert_array_equal(notes[42:] - [192, 192, 0], notes[:14])  # bar 13 starts at step 192
    assert notes[-1].tolist() == [248, 256, 60]


def test_encode_example_with_a_stand_in_model():
    model = StandIn()
    example = encode_example(model, seed=4)
    mu, sigma = model.encode(twinkle_events(2)[None])
    np.testing.assert_allclose(example.mu, mu[0], rtol=1e-6)
    np.testing.assert_array_equal(example.order, np.arange(19, -1, -1))
    eps = np.random.default_rng(4).standard_normal(20)
    np.testing.assert_allclose(example.sample, example.mu + example.sigma * eps)
    np.testing.assert_array_equal(example.decoded_mu, model.decode(mu)[0])
    assert example.reconstructs == bool(np.array_equal(example.decoded_mu, twinkle_events(2)))
    assert example.step_accuracy == pytest.approx(float((example.decoded_mu == twinkle_events(2)).mean()))


def test_encode_example_with_a_real_musicvae():
    import torch

    from musicneurons.model import ModelConfig, MusicVAE

    torch.manual_seed(0)
    model = MusicVAE(ModelConfig(name="tiny", bars=2, z_size=16, enc_sizes=(32,), dec_sizes=(32,)))
    example = encode_example(model, seed=0)
    assert example.mu.shape == example.sigma.shape == example.sample.shape == (16,)
    assert (example.sigma > 0).all()
    assert example.decoded_mu.dtype == np.int8 and example.decoded_mu.shape == (32,)
    np.testing.assert_array_equal(example.decoded_mu, model.decode(example.mu[None].astype(np.float32))[0])


def test_example_figures(tmp_path):
    example = encode_example(StandIn(), seed=0)
    fig, ax = plot_example_latents(example, n_neurons=20, title="Twinkle in latent space")
    assert [a.get_ylabel() for a in ax] == ["sigma", "mu", "sample"]
    assert ax[0].get_title() == "Twinkle in latent space" and ax[2].get_xlabel() == "neuron rank by sigma"
    assert len(ax[0].patches) == 20
    png, svg = save_figure(fig, tmp_path / "fig3")
    assert png.read_bytes()[:4] == b"\x89PNG" and b"Twinkle in latent space" in svg.read_bytes()
    fig, ax = plot_example_rolls(example, title="Twinkle rolls")
    assert fig._suptitle.get_text() == "Twinkle rolls"
    assert ax[0].get_title() == "melody" and ax[2].get_title() == "decoded posterior sample"
    assert ax[1].get_title().startswith("decoded mu (")
    png, svg = save_figure(fig, tmp_path / "fig2")
    assert png.stat().st_size > 5000 and b"Twinkle rolls" in svg.read_bytes()
