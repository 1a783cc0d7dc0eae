"""The noise test: noise statistics, the decoder ablation with decoder stand-ins and a real model, the verdict."""

import numpy as np
import pandas as pd
import pytest
import torch

from musicneurons.analysis import analyse_study, planted_study, split_neurons
from musicneurons.analysis.ablation import (
    AS_IS,
    MUSIC_ZEROED,
    NOISE_ZEROED,
    ablation_accuracies,
    ablation_windows,
    decoder_curve,
    keep_grid,
    model_ablation,
    noise_ablation,
)
from musicneurons.analysis.noise import noise_statistics, noise_test
from musicneurons.errors import InvalidParameterError


def sign_decoder(neurons):
    """A decoder stand-in: step t of the window is 2 + (z[neurons[t]] > 0), so it reads exactly ``neurons``."""
    neurons = np.asarray(neurons)

    def decode(z):
        return (2 + (np.asarray(z)[:, neurons] > 0)).astype(np.int8)

    return decode


def ablation_of(study, reads_noise):
    """Ablation table of a decoder reading the first 8 music neurons and, if asked, 8 noise neurons."""
    split = split_neurons(study.real_mu, study.real_sigma)
    music, noise = split.music_neurons, split.noise_neurons
    reads = np.r_[music[:8], noise[:8]] if reads_noise else np.r_[music[:8], music[:8]]
    decode = sign_decoder(reads)
    events = decode(study.real_mu)  # the windows the decoder reconstructs perfectly from mu
    return split, ablation_accuracies(decode, study.real_mu, events, {NOISE_ZEROED: noise, MUSIC_ZEROED: music})


@pytest.fixture(scope="module")
def clean():
    return planted_study(n_real=1000, n_random=200, z=64, n_music=8, n_features=6, seed=0)


@pytest.fixture(scope="module")
def leaky():
    """The noise block carries signal: its mu spreads with standard deviation 0.5."""
    return planted_study(n_real=1000, n_random=200, z=64, n_music=8, n_features=6, seed=0, noise_spread=0.5)


def test_ablation_accuracies_by_hand(clean):
    split, table = ablation_of(clean, reads_noise=False)
    assert table["condition"].tolist() == [AS_IS, NOISE_ZEROED, MUSIC_ZEROED]
    assert table["neurons_zeroed"].tolist() == [0, 56, 8] and table["windows"].tolist() == [1000] * 3
    music_positive = (clean.real_mu[:, split.music_neurons[:8]] > 0).mean()
    assert table["token_accuracy"].tolist() == [1.0, 1.0, pytest.approx(1 - music_positive)]
    assert table["accuracy_drop"].tolist() == [0.0, 0.0, pytest.approx(music_positive)]
    assert table["exact_share"].iloc[:2].tolist() == [1.0, 1.0]
    assert table["exact_share"].iloc[2] == ((clean.real_mu[:, split.music_neurons[:8]] <= 0).all(axis=1)).mean()


def test_a_noise_block_carrying_signal_fails_the_noise_test(leaky):
    split, table = ablation_of(leaky, reads_noise=True)
    noise_positive = (leaky.real_mu[:, split.noise_neurons[:8]] > 0).mean()
    stats = noise_statistics(leaky.real_mu, leaky.real_sigma, ~split.music)
    assert stats["neurons"] == 56 and stats["var_mu"] == pytest.approx(0.25, rel=0.1)
    out = noise_test(stats, table)
    assert out["noise_drop"] == pytest.approx(noise_positive / 2)  # half the steps read the noise block
    assert out["verdict"] == "noise neurons are used by the decoder"
    assert out["note"].startswith(f"Setting the noise neurons' mu to 0 costs {noise_positive / 2:.4f}")


def test_clean_noise_neurons_are_unused(clean):
    split, table = ablation_of(clean, reads_noise=False)
    stats = noise_statistics(clean.real_mu, clean.real_sigma, ~split.music)
    assert stats["var_mu"] == pytest.approx(0.0009, rel=0.1) and stats["mean_sigma"] == pytest.approx(0.975, abs=0.01)
    out = noise_test(stats, table)
    assert out["verdict"] == "noise neurons are unused" and out["noise_drop"] == 0.0
    assert out["as_is_accuracy"] == 1.0 and out["music_drop"] > 0.01 and "barely uses" not in out["note"]


def test_noise_test_rule_edges(clean):
    stats = {"neurons": 3}
    table = pd.DataFrame(
        {
            "condition": [AS_IS, NOISE_ZEROED, MUSIC_ZEROED],
            "accuracy_drop": [0.0, 0.01, 0.005],
            "token_accuracy": [0.9, 0.89, 0.895],
        }
    )
    out = noise_test(stats, table)  # the control costs at most 0.01 too: the latent is barely used
    assert out["verdict"] == "cannot tell" and "barely uses the latent code" in out["note"]
    assert noise_test(stats, table.assign(accuracy_drop=[0.0, 0.01, 0.0101]))["verdict"] == "noise neurons are unused"
    no_split = noise_test(stats, table.assign(accuracy_drop=[0.0, 0.0, 0.3]), split_found=False)
    assert no_split["verdict"] == "cannot tell" and no_split["note"].startswith("The model shows no music/noise")
    assert (
        noise_test(stats, table.assign(accuracy_drop=[0.0, 0.0101, 0.3]))["verdict"]
        == "noise neurons are used by the decoder"
    )
    assert noise_test(stats, None)["verdict"] == "cannot tell"
    assert noise_test({"neurons": 0}, table)["verdict"] == "cannot tell"
    assert noise_test(stats, table, max_drop=0.001)["rule"].startswith(
        "noise neurons are unused when setting their mu to 0 costs at most 0.001 token accuracy"
    )


def test_the_study_takes_the_ablation_in(clean, leaky):
    # a decoder that reads 8 neurons of the pile at the prior: the detected pile is used
    split, table = ablation_of(clean, reads_noise=True)
    decode = sign_decoder(np.r_[split.music_neurons[:8], split.noise_neurons[:8]])
    pd.testing.assert_frame_equal(noise_ablation(decode, clean.real_mu, decode(clean.real_mu), split), table)
    rows = ablation_windows(1000, max_windows=100, random_state=0)
    assert rows.tolist() == sorted(np.random.default_rng(0).choice(1000, 100, replace=False).tolist())
    assert ablation_windows(50, max_windows=100).tolist() == list(range(50))
    results = analyse_study(
        clean.real_mu,
        clean.real_sigma,
        clean.real_features,
        clean.random_mu,
        clean.random_sigma,
        None,
        clean.catalogue,
        ablation=table,
        n_boot=0,
    )
    assert results.summary["noise_test"]["verdict"] == "noise neurons are used by the decoder"
    pd.testing.assert_frame_equal(results.ablation, table)
    assert results.summary["noise_test"]["ablation"][1]["condition"] == NOISE_ZEROED
    # a noise block whose mu spreads with sd 0.5 is no pile at the prior: no split, so no noise neurons to test
    split, table = ablation_of(leaky, reads_noise=True)
    assert not split.is_split and split.detection.reason.startswith("every neuron is used: no pile at the prior")
    stats = noise_statistics(leaky.real_mu, leaky.real_sigma, ~split.music)
    assert noise_test(stats, table, split_found=split.is_split)["verdict"] == "cannot tell"


def test_model_ablation_decodes_a_real_model():
    from musicneurons.melody import corpus_melodies
    from musicneurons.model import MusicVAE, get_config
    from musicneurons.tables import array_column

    torch.manual_seed(0)
    model = MusicVAE(get_config("mn-mel_2bar").replace(name="tiny", z_size=16, enc_sizes=(16,), dec_sizes=(16, 16)))
    events = array_column(corpus_melodies(max_tunes=10, progress=False), "events").astype(np.int8)[:40]
    sets = {NOISE_ZEROED: np.arange(4, 16), MUSIC_ZEROED: np.arange(4)}
    table = model_ablation(model, events, sets, max_windows=30, random_state=1)
    keep = np.sort(np.random.default_rng(1).choice(len(events), 30, replace=False))
    mu, _ = model.encode(events[keep])
    z = mu.copy()
    z[:, 4:] = 0
    assert table["windows"].tolist() == [30, 30, 30]
    assert table["token_accuracy"].iloc[0] == (model.decode(mu) == events[keep]).mean()
    assert table["token_accuracy"].iloc[1] == (model.decode(z) == events[keep]).mean()
    with pytest.raises(InvalidParameterError, match="decode returned shape"):
        ablation_accuracies(lambda z: np.zeros((len(z), 3)), mu, events[keep], {})


def test_the_decoder_curve_finds_the_fewest_neurons_the_decoder_needs():
    """A stand-in decoder reads 24 neurons, each at 1/24 of the steps: keeping k of them in order keeps k/24."""
    rng = np.random.default_rng(0)
    mu = rng.normal(0.0, 1.0, (300, 64))
    read = rng.permutation(64)[:24]  # the decoder's neurons, in the order "reads"
    order = np.r_[read, np.setdiff1d(np.arange(64), read)]
    decode = sign_decoder(read)
    events = decode(mu)
    calls = []
    curve = decoder_curve(
        lambda z: calls.append(len(z)) or decode(z),
        mu,
        events,
        {"reads": order, "index": np.arange(64)},
        refine="reads",
    )
    # the grid is decoded in one call: full latent + 6 grid points (1 .. 32) for each of the 2 orders
    assert keep_grid(64).tolist() == [1, 2, 4, 8, 16, 32, 64] and calls[0] == 300 * (1 + 2 * 6)
    full = curve.full.mean()
    assert full == 1.0
    # zeroed neurons decode as "not positive": a kept k < 24 keeps k/24 of the steps exact, and about half the
    # others (those whose mu is not positive anyway)
    within_01 = curve.fewest_k("reads", 0.01)
    within_005 = curve.fewest_k("reads", 0.005)
    assert within_01 == within_005 == 24  # bisection makes the crossing exact: 23 kept loses ~1/48 > 0.01
    table = curve.table()
    assert table.loc[(table["order"] == "reads") & (table["k"] == 23), "accuracy_drop"].iloc[0] > 0.01
    assert set(table["k"][table["order"] == "reads"]) >= {16, 20, 22, 23, 24, 32, 64}
    # resampled windows re-read the curve without decoding again
    assert curve.fewest_k("reads", 0.01, windows=np.arange(150)) == 24 and len(calls) == 1 + 4
    # the other order is read on the grid only: the first grid point that keeps every neuron the decoder reads
    assert curve.fewest_k("index", 0.01) == min(g for g in keep_grid(64) if g > read.max())
