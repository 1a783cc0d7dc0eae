"""MusicVAE architecture: Magenta's shapes and counts, LSTMBlockCell maths, state layout, hierarchy, save/load."""

import numpy as np
import pytest
import torch

from musicneurons.errors import InvalidParameterError
from musicneurons.model import (
    CONFIGS,
    ModelConfig,
    ModelFileError,
    MusicVAE,
    get_config,
    load_model,
    magenta_parameter_count,
    save_model,
)


def _lstm(prefix, in_size, hidden, layers, bidirectional=False):
    """Expected torch shapes of an nn.LSTM from Magenta's per-cell kernels [in+H, 4H] and biases [4H]."""
    shapes = {}
    for layer in range(layers):
        width = in_size if layer == 0 else hidden * (2 if bidirectional else 1)
        for suffix in [""] + (["_reverse"] if bidirectional else []):
            shapes.update(
                {
                    f"{prefix}.weight_ih_l{layer}{suffix}": (4 * hidden, width),
                    f"{prefix}.weight_hh_l{layer}{suffix}": (4 * hidden, hidden),
                    f"{prefix}.bias_ih_l{layer}{suffix}": (4 * hidden,),
                    f"{prefix}.bias_hh_l{layer}{suffix}": (4 * hidden,),
                }
            )
    return shapes


# Reference §4, written in torch layout: kernel [in+H, 4H] -> weight_ih [4H, in] and weight_hh [4H, H].
EXPECTED = {
    "cat-mel_2bar_small": (
        4_423_770,
        {
            **_lstm("encoder.rnn", 90, 512, 1, True),
            "encoder.mu.weight": (256, 1024),
            "encoder.mu.bias": (256,),
            "encoder.sigma.weight": (256, 1024),
            "encoder.sigma.bias": (256,),
            "decoder.initial_state.weight": (1024, 256),
            "decoder.initial_state.bias": (1024,),
            **_lstm("decoder.rnn", 90 + 256, 256, 2),
            "decoder.output_projection.weight": (90, 256),
            "decoder.output_projection.bias": (90,),
        },
    ),
    "cat-mel_2bar_big": (
        134_571_098,
        {
            **_lstm("encoder.rnn", 90, 2048, 1, True),
            "encoder.mu.weight": (512, 4096),
            "encoder.mu.bias": (512,),
            "encoder.sigma.weight": (512, 4096),
            "encoder.sigma.bias": (512,),
            "decoder.initial_state.weight": (12288, 512),
            "decoder.initial_state.bias": (12288,),
            **_lstm("decoder.rnn", 90 + 512, 2048, 3),
            "decoder.output_projection.weight": (90, 2048),
            "decoder.output_projection.bias": (90,),
        },
    ),
    "hierdec-mel_16bar": (
        176_061_530,
        {
            **_lstm("encoder.rnn", 90, 2048, 2, True),
            "encoder.mu.weight": (512, 4096),
            "encoder.mu.bias": (512,),
            "encoder.sigma.weight": (512, 4096),
            "encoder.sigma.bias": (512,),
            "decoder.conductor_initial_state.weight": (4096, 512),
            "decoder.conductor_initial_state.bias": (4096,),
            **_lstm("decoder.conductor", 1, 1024, 2),
            "decoder.core.initial_state.weight": (4096, 1024),
            "decoder.core.initial_state.bias": (4096,),
            **_lstm("decoder.core.rnn", 90 + 1024, 1024, 2),
            "decoder.core.output_projection.weight": (90, 1024),
            "decoder.core.output_projection.bias": (90,),
        },
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_magenta_configs_have_reference_shapes_and_counts(name):
    with torch.device("meta"):
        model = MusicVAE(get_config(name))
    total, shapes = EXPECTED[name]
    assert {k: tuple(v.shape) for k, v in model.state_dict().items()} == shapes
    assert magenta_parameter_count(model) == total


def _tiny(**changes):
    base = dict(name="tiny", bars=2, z_size=6, enc_sizes=(5,), dec_sizes=(4, 4), batch_size=4)
    return MusicVAE(ModelConfig(**{**base, **changes}))


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def test_lstm_matches_hand_computed_lstm_block_cell_step():
    rng = np.random.default_rng(3)
    n_in, hidden = 7, 3
    kernel = rng.normal(size=(n_in + hidden, 4 * hidden))  # Magenta's [x; h] x [i | j | f | o]
    bias = rng.normal(size=4 * hidden)
    x, h0, c0 = rng.normal(size=(2, n_in)), rng.normal(size=(2, hidden)), rng.normal(size=(2, hidden))
    i, j, f, o = np.split(np.concatenate([x, h0], 1) @ kernel + bias, 4, axis=1)
    c1 = np.tanh(j) * _sigmoid(i) + c0 * _sigmoid(f + 1.0)  # forget_bias = 1.0 inside the cell
    h1 = np.tanh(c1) * _sigmoid(o)

    lstm = torch.nn.LSTM(n_in, hidden, batch_first=True)
    order = np.concatenate(
        [
            np.arange(0, hidden),
            np.arange(2 * hidden, 3 * hidden),  # i, f, j, o
            np.arange(hidden, 2 * hidden),
            np.arange(3 * hidden, 4 * hidden),
        ]
    )
    folded = bias[order] + np.r_[np.zeros(hidden), np.ones(hidden), np.zeros(2 * hidden)]
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(torch.tensor(kernel[:n_in].T[order]))
        lstm.weight_hh_l0.copy_(torch.tensor(kernel[n_in:].T[order]))
        lstm.bias_ih_l0.copy_(torch.tensor(folded))
        lstm.bias_hh_l0.zero_()
    _, (h, c) = lstm(
        torch.tensor(x[:, None], dtype=torch.float32),
        (torch.tensor(h0[None], dtype=torch.float32), torch.tensor(c0[None], dtype=torch.float32)),
    )
    np.testing.assert_allclose(h[0].detach().numpy(), h1, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(c[0].detach().numpy(), c1, rtol=1e-5, atol=1e-6)


def test_native_init_puts_forget_bias_in_bias_ih_and_freezes_bias_hh():
    rnn = _tiny().decoder.rnn
    np.testing.assert_array_equal(rnn.bias_ih_l1.detach().numpy(), np.r_[np.zeros(4), np.ones(4), np.zeros(8)])
    assert not rnn.bias_hh_l1.requires_grad and not rnn.bias_hh_l1.any()


def test_initial_state_splits_as_c0_h0_c1_h1():
    decoder = _tiny().decoder
    with torch.no_grad():
        decoder.initial_state.weight.zero_()
        decoder.initial_state.bias.copy_(torch.atanh(torch.linspace(-0.8, 0.8, 16)))
    h, c = decoder.start_state(torch.zeros(1, 6))
    blocks = torch.linspace(-0.8, 0.8, 16).view(4, 4)  # [c0, h0, c1, h1]
    torch.testing.assert_close(c[:, 0], blocks[[0, 2]])
    torch.testing.assert_close(h[:, 0], blocks[[1, 3]])


def test_encoder_uses_last_layer_final_forward_and_backward_h():
    model = _tiny(enc_sizes=(5, 5))
    x = model.one_hot(torch.randint(0, 90, (3, 32), generator=torch.Generator().manual_seed(0)))
    out, _ = model.encoder.rnn(x)
    encoding = torch.cat([out[:, -1, :5], out[:, 0, 5:]], -1)  # fw at the last step, bw at the first
    mu, sigma = model.encoder(x)
    torch.testing.assert_close(mu, model.encoder.mu(encoding))
    torch.testing.assert_close(sigma, torch.nn.functional.softplus(model.encoder.sigma(encoding)))


def test_hierarchical_encoder_encodes_each_bar_then_the_bar_embeddings():
    """Magenta's HierarchicalLstmEncoder (16, 16): one bi-LSTM pass per bar, a second over the 16 bar embeddings."""
    torch.manual_seed(3)
    model = _tiny(bars=16, enc_sizes=(5, 5), enc_level_lengths=(16, 16), hierarchical=True, conductor_sizes=(3,))
    events = torch.randint(0, 90, (3, 256), generator=torch.Generator().manual_seed(0))
    x = model.one_hot(events)
    bar_level, top_level = model.encoder.levels

    def final_h(rnn, seq):  # fw output at the last step, bw output at the first, of the top layer
        out, _ = rnn(seq)
        return torch.cat([out[:, -1, :5], out[:, 0, 5:]], -1)

    with torch.no_grad():
        bars = torch.stack([final_h(bar_level, x[:, 16 * b : 16 * b + 16]) for b in range(16)], 1)  # (3, 16, 10)
        encoding = final_h(top_level, bars)
        mu, sigma = model.encoder(x)
        torch.testing.assert_close(mu, model.encoder.mu(encoding))
        torch.testing.assert_close(sigma, torch.nn.functional.softplus(model.encoder.sigma(encoding)))
        # Bar 6 reaches mu only through its own bar embedding: changing its tokens changes embedding 6 alone.
        changed = events.clone()
        changed[:, 96:112] = (changed[:, 96:112] + 7) % 90
        y = model.one_hot(changed)
        moved = [b for b in range(16) if not torch.equal(final_h(bar_level, y[:, 16 * b : 16 * b + 16]), bars[:, b])]
        assert moved == [6] and not torch.allclose(model.encoder(y)[0], mu)
    assert bar_level.input_size == 90 and top_level.input_size == 10 and top_level.num_layers == 2
    assert model.encoder.mu.in_features == 10


def test_hierarchical_encoder_config_is_checked_and_round_trips(tmp_path):
    with pytest.raises(InvalidParameterError, match=r"multiply to the window's 32 steps; got \(16, 16\)"):
        _tiny(enc_level_lengths=(16, 16))
    with pytest.raises(InvalidParameterError, match="enc_level_lengths"):
        _tiny(enc_level_lengths=(0, 32))
    torch.manual_seed(4)
    model = _tiny(enc_level_lengths=(4, 8)).eval()  # 2 bars: segments of 4 steps, then 8 segment embeddings
    save_model(model, tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert loaded.config.enc_level_lengths == (4, 8) and isinstance(loaded.encoder.levels, torch.nn.ModuleList)
    events = np.random.default_rng(1).integers(0, 90, (4, 32)).astype(np.int8)
    for a, b in zip(model.encode(events), loaded.encode(events)):
        np.testing.assert_array_equal(a, b)


def _hier():
    torch.manual_seed(0)
    model = _tiny(bars=16, hierarchical=True, conductor_sizes=(3, 3))
    with torch.no_grad():  # Magenta's N(0, 0.001) init makes every bar look alike; widen it
        for p in model.parameters():
            if p.requires_grad:
                p.normal_(0.0, 0.5)
    return model.eval()


def test_hierarchical_teacher_forcing_restarts_each_bar_from_its_embedding():
    model = _hier()
    events = torch.randint(0, 90, (2, 256), generator=torch.Generator().manual_seed(1))
    z = torch.randn(2, 6, generator=torch.Generator().manual_seed(2))
    onehot = model.one_hot(events)
    with torch.no_grad():
        logits = model.teacher_forced_logits(z, onehot)
        emb = model.decoder.bar_embeddings(z)
        inputs = model.shifted_inputs(onehot)
        for bar in (0, 1, 7, 15):
            steps = slice(16 * bar, 16 * bar + 16)
            fresh = model.decoder.core.teacher_forced(emb[:, bar], inputs[:, steps])
            torch.testing.assert_close(logits[:, steps], fresh)
        assert not inputs[:, 0].any() and torch.equal(inputs[:, 16 * 5], onehot[:, 16 * 5 - 1])
        # Changing bar 4 except its last token leaves bar 5 untouched; its last token changes bar 5.
        changed = events.clone()
        changed[:, 64:79] = (changed[:, 64:79] + 1) % 90
        torch.testing.assert_close(model.teacher_forced_logits(z, model.one_hot(changed))[:, 80:96], logits[:, 80:96])
        changed[:, 79] = (changed[:, 79] + 1) % 90
        assert not torch.allclose(model.teacher_forced_logits(z, model.one_hot(changed))[:, 80], logits[:, 80])


@pytest.mark.parametrize("temperature", [None, 1.0])
def test_hierarchical_sampling_feeds_each_bar_the_previous_bars_last_token(temperature):
    model = _hier()
    z = np.random.default_rng(4).normal(size=(3, 6)).astype(np.float32)
    events = model.decode(z, temperature=temperature, seed=5)
    logits = model.decoder_logits(z, events)  # teacher-forced on the decoded tokens
    if temperature is None:  # argmax decoding is a fixed point of teacher forcing on its own output
        np.testing.assert_array_equal(logits.argmax(-1), events)
    else:  # replaying the sampled tokens step by step gives the teacher-forced logits, bar joins included
        free, _ = model.unroll(torch.from_numpy(z), lambda step, lg: torch.from_numpy(events[:, step]).long())
        np.testing.assert_allclose(free.detach().numpy(), logits, rtol=1e-5, atol=1e-5)
    assert events.shape == (3, 256) and events.dtype == np.int8


def test_flat_free_running_step_matches_the_teacher_forced_lstm():
    """The unroll's hand-written LSTM step (two layers, z appended to every input) equals nn.LSTM's sequence pass."""
    torch.manual_seed(2)
    model = _tiny(z_size=7, dec_sizes=(6, 6))
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.normal_(0.0, 0.5)
    z = np.random.default_rng(6).normal(size=(4, 7)).astype(np.float32)
    events = model.eval().decode(z, temperature=1.0, seed=3)
    free, tokens = model.unroll(torch.from_numpy(z), lambda step, lg: torch.from_numpy(events[:, step]).long())
    np.testing.assert_allclose(free.detach().numpy(), model.decoder_logits(z, events), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(tokens.numpy(), events)
    assert len(np.unique(events)) > 10  # the replayed tokens are varied, not one repeated class


def test_save_load_gives_bit_identical_outputs(tmp_path):
    torch.manual_seed(1)
    model = _tiny().eval()
    events = np.random.default_rng(0).integers(0, 90, (5, 32)).astype(np.int8)
    save_model(model, tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert loaded.config == model.config
    for a, b in zip(model.encode(events), loaded.encode(events)):
        np.testing.assert_array_equal(a, b)
    mu = model.encode(events)[0]
    np.testing.assert_array_equal(model.decoder_logits(mu, events), loaded.decoder_logits(mu, events))
    np.testing.assert_array_equal(model.decode(mu, temperature=1.0, seed=3), loaded.decode(mu, temperature=1.0, seed=3))


def test_config_round_trip_and_validation():
    for config in CONFIGS.values():
        assert ModelConfig.from_dict(config.to_dict()) == config
    with pytest.raises(InvalidParameterError, match="enc_sizes"):
        ModelConfig("bad", bars=2, z_size=4, enc_sizes=(4, 8), dec_sizes=(4,))
    with pytest.raises(InvalidParameterError, match="bars"):
        ModelConfig("bad", bars=4, z_size=4, enc_sizes=(4,), dec_sizes=(4,))
    with pytest.raises(InvalidParameterError, match="Unknown ModelConfig keys"):
        ModelConfig.from_dict({**CONFIGS["cat-mel_2bar_small"].to_dict(), "dropout": 0.5})


def test_bad_inputs_raise_typed_errors(tmp_path):
    model = _tiny()
    with pytest.raises(InvalidParameterError, match="32 steps"):
        model.encode(np.zeros((2, 48), np.int8))
    with pytest.raises(InvalidParameterError, match=r"z must have shape \(n, 6\)"):
        model.decode(np.zeros((2, 5), np.float32))
    with pytest.raises(ModelFileError) as exc:
        load_model(tmp_path / "missing")
    assert str(exc.value) == (
        f"{tmp_path / 'missing'}: no such model or file. Models by name: mn-hierdec-mel_16bar, mn-mel_2bar "
        "(shipped); cat-mel_2bar_big, hierdec-mel_16bar, cat-mel_2bar_small, mel_2bar_small, mel_16bar_small_q2 "
        "(Magenta's, fetched with `musicneurons fetch-magenta NAME`). A path must be a folder with config.json "
        "and weights.safetensors, a Magenta checkpoint or a .tar of one."
    )


def test_interpolate_ends_decode_the_two_mus():
    torch.manual_seed(2)
    model = _tiny().eval()
    a, b = np.random.default_rng(1).integers(0, 90, (2, 32)).astype(np.int8)
    path = model.interpolate(a, b, 4)
    mu = model.encode(np.stack([a, b]))[0]
    np.testing.assert_array_equal(path[[0, -1]], model.decode(mu))
