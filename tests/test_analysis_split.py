"""The music/noise split from the data (or its absence), and the per-neuron KL."""

import numpy as np
import pytest

from musicneurons.analysis import planted_study, split_neurons
from musicneurons.analysis.kl import kl_table, neuron_kl
from musicneurons.analysis.split import counts_vs_cut, detect_split, gap_rule, window_overlap
from musicneurons.errors import InvalidParameterError


@pytest.mark.parametrize("k", [1, 5, 8, 20])
def test_a_clean_split_of_k_neurons_recovers_k(k):
    study = planted_study(n_real=400, n_random=10, z=64, n_music=k, n_features=3, seed=k)
    split = split_neurons(study.real_mu, study.real_sigma)
    assert split.rule == "gap" and split.is_split and split.detection.found
    assert split.detection.below == k
    np.testing.assert_array_equal(split.music_neurons, study.music_order)
    assert split.group_label == "music neurons" and split.other_label == "noise neurons"
    summary = split.summary()
    assert summary["music_neurons"] == summary["group_size"] == k and summary["split_found"] is True
    assert summary["split"]["gap_from"] < summary["split"]["cut"] < summary["split"]["gap_to"]


def test_smoothly_spread_sigma_reports_no_split():
    study = planted_study(n_real=400, n_random=10, z=64, n_music=8, n_features=3, seed=0, sigma_profile="smooth")
    split = split_neurons(study.real_mu, study.real_sigma)
    assert not split.detection.found and split.rule == "no split" and not split.is_split
    below = int((study.real_sigma.mean(axis=0) < 0.5).sum())
    assert split.music.sum() == below > 0  # the fallback: the first neurons by mean sigma, below 0.5
    assert split.group_label == f"first {below} neurons by mean sigma (no clear split)"
    assert split.other_label == "other neurons"
    assert split.summary()["music_neurons"] is None and split.summary()["group_size"] == below


def test_gap_rule_by_hand():
    det = detect_split(np.array([0.9, 0.1, 1.0, 0.15, 0.2, 0.95]))  # gaps .05 .05 .7 .05 .05
    assert (det.found, det.below, det.lower, det.upper) == (True, 3, 0.2, 0.9)
    assert det.strength == pytest.approx(0.7 / 0.05) and det.cut == pytest.approx(0.55)
    # one neuron inside the gap does not hide it: its two gaps are neighbours, left out of the comparison
    det = detect_split(np.array([0.1, 0.2, 0.55, 0.9, 1.0]))  # gaps .1 .35 .35 .1
    assert (det.found, det.below) == (True, 2) and det.strength == pytest.approx(3.5)
    # a gap of 0.05 is too narrow, however alone it is
    det = detect_split(np.array([0.50, 0.501, 0.502, 0.552, 0.553]))
    assert not det.found and det.below == 3
    # a gap starting above 1 - 0.1 is never the boundary (both sides would be noise-like), but it counts as
    # another gap: a neuron far above the rest weakens the split
    profile = np.r_[np.linspace(0.5, 0.6, 50), np.linspace(0.95, 0.99, 100)]
    det = detect_split(np.r_[profile, 1.1])
    assert (det.found, det.below) == (True, 50) and det.strength == pytest.approx(0.35 / 0.11)
    det = detect_split(np.r_[profile, 1.5])
    assert (det.found, det.below) == (False, 50) and det.strength == pytest.approx(0.35 / 0.51)


def test_gap_rule_rarely_splits_uniform_draws():
    """Under 1 % false splits on 512 uniform mean sigmas (the rule's stated false-split rate)."""
    profiles = np.sort(np.random.default_rng(0).uniform(0.0, 0.9, (2000, 512)), axis=1)
    _, _, strength, found = gap_rule(profiles, min_gap=0.0)
    assert (strength >= 2).mean() < 0.01 and np.array_equal(found, strength >= 2)


def test_counts_vs_cut_and_bad_input():
    table = counts_vs_cut(np.array([0.1, 0.5, 0.5, 0.9]), cuts=np.array([0.0, 0.5, 0.51, 1.0]))
    assert table["neurons_below"].tolist() == [0, 1, 3, 4]
    default = counts_vs_cut(np.array([0.1, 0.5, 0.5, 0.9]))
    assert len(default) == 101 and default["cut"].iloc[-1] == 1.0 and default["neurons_below"].iloc[-1] == 4
    with pytest.raises(InvalidParameterError, match="mean_sigma"):
        detect_split(np.array([0.5]))


def test_window_overlap_by_hand():
    sigma = np.array([[0.1, 0.2, 0.9, 0.95], [0.1, 0.9, 0.2, 0.95], [0.1, 0.2, 0.9, 0.95]])
    group = np.array([True, True, False, False])
    out = window_overlap(sigma, group, n_pairs=3000, random_state=0)
    assert out["k"] == 2 and out["to_group_median"] == 1.0
    # pairs (0,2) overlap fully, pairs with window 1 share one of three neurons: Jaccard 1/3
    assert out["pairwise_q10"] == pytest.approx(1 / 3) and out["pairwise_median"] == pytest.approx(1 / 3)


def test_per_neuron_kl_is_the_closed_form():
    mu = np.array([[0.0, 1.0, 0.5], [0.0, -1.0, 0.5]])
    sigma = np.array([[1.0, 0.5, 1.0], [1.0, 0.5, 2.0]])
    kl = neuron_kl(mu, sigma)
    expected_1 = 0.5 * (1 + 0.25 - 1) - np.log(0.5)
    expected_2 = np.mean([0.5 * 0.25, 0.5 * (0.25 + 4 - 1) - np.log(2)])
    np.testing.assert_allclose(kl, [0.0, expected_1, expected_2])
    table = kl_table(kl, np.array([1, 2, 0]), np.array([False, True, False]))
    assert table["neuron"].tolist() == [1, 2, 0] and table["group"].tolist() == [True, False, False]
    np.testing.assert_allclose(table["share"], kl[[1, 2, 0]] / kl.sum())
    assert table["cumulative_share"].iloc[-1] == pytest.approx(1.0)


def test_planted_kl_sits_in_the_music_neurons():
    study = planted_study(n_real=500, n_random=10, z=64, n_music=8, n_features=3, seed=0)
    kl = neuron_kl(study.real_mu, study.real_sigma)
    assert kl[study.music_order].sum() / kl.sum() > 0.99
