"""The music/noise split from the data (or its absence), its count band, and the per-neuron KL.

The planted profiles come from :func:`musicneurons.analysis.planted_latents` (documented there): each neuron's
activity A and mean sigma s are tied by the variance law A = 1 - s^2, mu ~ N(0, A) per window and sigma
jittered per window, so the answer (which neurons are used) is known before the rule runs.
"""

import numpy as np
import pytest

from musicneurons.analysis import planted_latents, planted_study, split_neurons
from musicneurons.analysis import split as sp
from musicneurons.analysis.kl import kl_table, neuron_kl
from musicneurons.analysis.split import (
    NeuronProfile,
    activity_counts,
    ashman_d,
    count_band,
    detect_split,
    neuron_profile,
    resampled_splits,
    split_conditions,
    window_overlap,
    window_split,
)
from musicneurons.errors import InvalidParameterError


@pytest.mark.parametrize("profile", ["graded", "sharp"])
@pytest.mark.parametrize("k", [20, 45, 80, 120])
def test_a_pile_under_k_used_neurons_gives_k(profile, k):
    mu, sigma, used = planted_latents(profile, k=k, n=1500, seed=k)
    detection = detect_split(neuron_profile(mu, sigma), random_state=0)
    assert detection.found and abs(detection.count - k) <= 0.1 * k
    np.testing.assert_array_equal(detection.used, used)  # on these profiles the rule is exact
    assert detection.reason.startswith(f"{k} of 512 neurons are used; the other {512 - k} sit in a pile")


@pytest.mark.parametrize(
    ("profile", "reason"),
    [
        ("ramp", "every neuron is used: no pile at the prior (only "),
        ("all_used", "every neuron is used: no pile at the prior (only 0 of 512 neurons"),
        ("all_prior", "no neuron leaves the prior: no activity (var of mu) above 0.01"),
    ],
)
def test_profiles_without_a_pile_under_used_neurons_give_no_split(profile, reason):
    mu, sigma, _ = planted_latents(profile, n=1500, seed=3)
    detection = detect_split(neuron_profile(mu, sigma))
    assert not detection.found and detection.reason.startswith(reason)
    assert detection.summary()["found"] is False and detection.summary()["count"] == detection.count


@pytest.mark.parametrize("k", [1, 5, 8, 20])
def test_the_planted_study_splits_at_its_music_neurons(k):
    study = planted_study(n_real=400, n_random=10, z=64, n_music=k, n_features=3, seed=k)
    split = split_neurons(study.real_mu, study.real_sigma)
    assert split.rule == "split" and split.is_split and split.detection.count == k
    np.testing.assert_array_equal(split.music_neurons, study.music_order)  # ordered by mean sigma
    assert split.group_label == "music neurons" and split.other_label == "noise neurons"
    summary = split.summary()
    assert summary["music_neurons"] == summary["group_size"] == k and summary["split_found"] is True
    assert summary["sigma_threshold"] is None and summary["count_band"]["count"] == k


def test_a_smooth_ramp_falls_back_to_the_first_neurons_by_sigma():
    study = planted_study(n_real=400, n_random=10, z=64, n_music=8, n_features=3, seed=0, sigma_profile="smooth")
    split = split_neurons(study.real_mu, study.real_sigma)
    assert not split.detection.found and split.rule == "no split" and not split.is_split
    below = int((study.real_sigma.mean(axis=0) < 0.5).sum())
    assert split.music.sum() == below > 0  # the fallback: the first neurons by mean sigma, below 0.5
    assert split.group_label == f"first {below} neurons by mean sigma (no split)"
    assert split.other_label == "other neurons" and split.sigma_threshold == 0.5
    assert split.summary()["music_neurons"] is None and split.summary()["group_size"] == below
    by_hand = split_neurons(study.real_mu, study.real_sigma, sigma_threshold=0.3)
    assert by_hand.rule == "threshold" and by_hand.music.sum() == (study.real_sigma.mean(axis=0) < 0.3).sum()
    with pytest.raises(InvalidParameterError, match="sigma_threshold"):
        split_neurons(study.real_mu, study.real_sigma, sigma_threshold=0.0)


_PASSING = {
    "delta_bic": 10.0,
    "pile_share": 0.25,
    "pile_sigma": 0.9,
    "pile_activity": 0.01,
    "separation_activity": 2.0,
    "separation_kl": 2.0,
    "decades": 1.0,
}


def test_every_condition_holds_at_its_threshold():
    assert split_conditions(**_PASSING) == []


@pytest.mark.parametrize(
    ("name", "failing", "text"),
    [
        ("delta_bic", 9.999, "one group by BIC (gain 10.0 < 10)"),
        ("pile_share", 0.2499, "pile holds 25% of the neurons (< 25%)"),
        ("pile_sigma", 0.8999, "pile's median mean sigma 0.900 (< 0.9)"),
        ("pile_activity", 0.01001, "pile's median activity 0.01 (> 0.01)"),
        ("separation_activity", 1.999, "Ashman's D 2.0 on log activity (< 2)"),
        ("separation_kl", 1.999, "Ashman's D 2.0 on log KL (< 2)"),
        ("decades", 0.999, "1.0 decades of activity apart (< 1)"),
    ],
)
def test_each_condition_fails_just_past_its_threshold(name, failing, text):
    assert split_conditions(**{**_PASSING, name: failing}) == [text]


def _profile(activity, mean_sigma=None, kl=None):
    activity = np.asarray(activity, dtype=np.float64)
    mean_sigma = np.sqrt(1 - activity) if mean_sigma is None else np.asarray(mean_sigma, dtype=np.float64)
    kl = activity / 2 if kl is None else np.asarray(kl, dtype=np.float64)
    return NeuronProfile(mean_sigma, activity, kl)


def test_no_split_reasons_at_their_thresholds():
    # 25 of 100 neurons prior-like (sigma >= 0.9, activity <= 0.01): a pile could exist -> "do not separate"
    activity = np.r_[np.full(75, 0.5), np.full(25, 0.01)]
    assert "do not separate" in sp._no_split_reason(_profile(activity, np.r_[np.full(75, 0.5), np.full(25, 0.9)]))
    # 24 of 100: every neuron is used
    activity = np.r_[np.full(76, 0.5), np.full(24, 0.01)]
    reason = sp._no_split_reason(_profile(activity, np.r_[np.full(76, 0.5), np.full(24, 0.9)]))
    assert reason.startswith("every neuron is used: no pile at the prior (only 24 of 100 neurons")
    # one prior-like neuron more with sigma just under 0.9 or activity just over 0.01 is not prior-like
    sigma = np.r_[np.full(75, 0.5), np.full(24, 0.9), 0.8999]
    assert sp._no_split_reason(_profile(np.r_[np.full(75, 0.5), np.full(25, 0.01)], sigma)).startswith("every")
    activity = np.r_[np.full(75, 0.5), np.full(24, 0.01), 0.01001]
    assert sp._no_split_reason(_profile(activity, np.r_[np.full(75, 0.5), np.full(25, 0.9)])).startswith("every")
    # no activity above 0.01 anywhere: nothing leaves the prior; one neuron just above it does
    assert sp._no_split_reason(_profile(np.full(10, 0.01))).startswith("no neuron leaves the prior")
    assert not sp._no_split_reason(_profile(np.r_[np.full(9, 0.01), 0.0101])).startswith("no neuron leaves")


def test_ashman_d_by_hand():
    # means 0 and 3, sds 1 and 1: sqrt(2) * 3 / sqrt(2) = 3
    assert ashman_d([-1.0, 1.0], [2.0, 4.0]) == pytest.approx(3.0)
    # a single value has its spread floored at 0.01
    assert ashman_d([0.0], [1.0]) == pytest.approx(np.sqrt(2) * 1 / np.sqrt(2 * 0.01**2))


def test_the_clearest_boundary_is_where_neighbours_separate_most_on_both_axes():
    means = np.array([[-3.0, -3.0], [-2.5, -1.0], [0.0, 0.0]])
    variances = np.full((3, 2), 0.25)
    # pairs: (0,1) D = sqrt2*[.5, 2]/sqrt(.5) = [1, 4] -> 1; (1,2) D = [5, 2] -> 2: the second pair
    assert sp._clearest_boundary(means, variances) == 1
    means[1, 1] = -2.9  # now (0,1) has D [1, 0.2] and (1,2) [5, 5.8]: still the second
    assert sp._clearest_boundary(means, variances) == 1
    means[1] = [-0.5, -0.5]  # (0,1): [5, 5] -> 5; (1,2): [1, 1] -> 1
    assert sp._clearest_boundary(means, variances) == 0


def test_activity_counts_and_the_count_band_by_hand():
    activity = np.r_[np.full(8, 1.0), np.full(2, 0.05), np.full(90, 0.001)]
    table = activity_counts(activity, thresholds=np.array([1e-4, 0.001, 0.01, 0.1, 1.0]))
    assert table["neurons_above"].tolist() == [100, 10, 10, 8, 0]
    mean_sigma = np.r_[np.full(8, 0.3), np.full(2, 0.95), np.full(90, 0.9995)]
    kl = np.r_[np.full(8, 1.0), np.full(2, 0.01), np.full(90, 0.0001)]
    profile = NeuronProfile(mean_sigma, activity, kl)
    band = count_band(profile, detect_split(profile))
    assert band["paper_reading"] == 8 and band["active_units"] == {"0.1": 8, "0.01": 10, "0.001": 10}
    # KL: 8 of 8.029 in the first 8 (99.64 %); 95 % needs 8, 99 % needs 8
    assert band["kl_95"] == 8 and band["kl_99"] == 8
    # the widest window over which the count moves by at most 20 % (read where 1..50 neurons are above): 10
    # above from 10^-3 to 10^-1.35 (1.65 decades); 10 -> 8 moves by 25 %, so the 8 (1.25 decades) is another
    assert band["plateau"] == {
        "from_activity": pytest.approx(1e-3),
        "to_activity": pytest.approx(10**-1.35),
        "decades": 1.65,
        "count_low": 10,
        "count_high": 10,
    }


def test_the_plateau_keeps_to_twenty_percent():
    # 12 above up to 0.5 (4.7 decades from 10^-6), then 10 up to 2.0: 12 -> 10 is exactly 20 %, so one window
    activity = np.r_[np.full(10, 2.0), np.full(2, 0.5), np.full(88, 1e-7)]
    plateau = sp._plateau(activity_counts(activity), 100)
    assert (plateau["count_high"], plateau["count_low"]) == (12, 10)
    assert plateau["from_activity"] == pytest.approx(1e-6) and plateau["to_activity"] == pytest.approx(10**0.3)
    # 13 -> 10 moves by 30 %: the window stops at 13
    activity = np.r_[np.full(10, 2.0), np.full(3, 0.5), np.full(87, 1e-7)]
    plateau = sp._plateau(activity_counts(activity), 100)
    assert (plateau["count_high"], plateau["count_low"]) == (13, 13)
    assert plateau["to_activity"] == pytest.approx(10**-0.35)
    # counts over half the neurons are never read, and none at all gives no plateau
    assert sp._plateau(activity_counts(np.full(10, 0.5)), 10) is None


def test_window_split_against_the_pile_band():
    # 3 music neurons, 97 pile neurons at sigma ~1; window 0 has all music neurons narrow, window 1 one of them
    sigma = np.full((2, 100), 1.0)
    sigma[:, 3:] = np.linspace(0.99, 1.01, 97)
    sigma[0, :3] = 0.2
    sigma[1, :3] = [0.2, 1.0, 1.0]
    detection = sp.SplitDetection(True, np.r_[np.ones(3, bool), np.zeros(97, bool)], "", 2, 50.0, *[1.0] * 6)
    table = window_split(sigma, detection)
    assert table["music_below"].tolist() == [3, 1]
    assert table["shows_split"].tolist() == [True, False]  # 1 of 3 is under half the music neurons
    assert table.attrs["band_from"] == pytest.approx(np.quantile(sigma[:, 3:], 0.005))
    with pytest.raises(InvalidParameterError, match="detected split"):
        window_split(sigma, sp.SplitDetection(False, np.zeros(100, bool), "", 1, 0.0, *[np.nan] * 6))


def test_window_split_thresholds_on_both_sides():
    # 4 music neurons (sigma 1.02 unless set) and 100 pile neurons, each window a permutation of 1.00 .. 1.01:
    # 1 % of the pile's values are 1.0, so the band (the pile's 0.5th percentile) starts at exactly 1.0
    n, pile = 400, 100
    rng = np.random.default_rng(0)
    sigma = np.c_[np.full((n, 4), 1.02), rng.permuted(np.tile(np.linspace(1.0, 1.01, pile), (n, 1)), axis=1)]
    used = np.r_[np.ones(4, bool), np.zeros(pile, bool)]
    detection = sp.SplitDetection(True, used, "", 2, 50.0, *[1.0] * 6)
    sigma[0, :2] = 0.1  # exactly half the music neurons below the band: shows the split
    sigma[1, :1] = 0.1  # a quarter: does not
    sigma[2, :4], sigma[2, 4:9] = 0.1, 0.5  # all music, 5 of 100 pile below (5 %): shows
    sigma[3, :4], sigma[3, 4:10] = 0.1, 0.5  # 6 of 100 pile below: does not
    table = window_split(sigma, detection)
    assert table.attrs["band_from"] == 1.0
    assert table["pile_below"].tolist()[:4] == [0, 0, 5, 6] and table["music_below"].tolist()[:4] == [2, 1, 4, 4]
    assert table["shows_split"].tolist()[:4] == [True, False, True, False] and table["shows_split"].sum() == 2


def test_resampling_the_whole_sample_gives_the_full_detection():
    mu, sigma, _ = planted_latents("graded", k=30, n=800, seed=5)
    full = neuron_profile(mu, sigma)
    again = resampled_splits(detect_split(full), [full, full])
    assert len(again) == 2 and all(d.found and d.count == 30 for d in again)
    mu, sigma, _ = planted_latents("ramp", n=800, seed=5)
    ramp = neuron_profile(mu, sigma)
    assert not any(d.found for d in resampled_splits(detect_split(ramp), [ramp]))


def test_bad_profiles_are_refused():
    with pytest.raises(InvalidParameterError, match="at least 3 neurons"):
        detect_split(_profile([0.5, 0.001]))
    with pytest.raises(InvalidParameterError, match="finite"):
        detect_split(_profile([0.5, np.nan, 0.001]))


def test_window_overlap_by_hand():
    sigma = np.array([[0.1, 0.2, 0.9, 0.95], [0.1, 0.9, 0.2, 0.95], [0.1, 0.2, 0.9, 0.95]])
    group = np.array([True, True, False, False])
    out = window_overlap(sigma, group, n_pairs=3000, random_state=0)
    assert out["k"] == 2 and out["to_group_median"] == 1.0
    # pairs (0,2) overlap fully, pairs with window 1 share one of three neurons: Jaccard 1/3
    assert out["pairwise_q10"] == pytest.approx(1 / 3) and out["pairwise_median"] == pytest.approx(1 / 3)
    assert out["pairwise"].shape == (3000,) and set(np.round(out["pairwise"], 6)) == {round(1 / 3, 6), 1.0}


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
    profile = neuron_profile(mu, sigma)
    np.testing.assert_allclose(profile.kl, kl)
    np.testing.assert_allclose(profile.activity, [0.0, 1.0, 0.0])
    np.testing.assert_allclose(profile.mean_sigma, [1.0, 0.5, 1.5])


def test_planted_kl_sits_in_the_music_neurons():
    study = planted_study(n_real=500, n_random=10, z=64, n_music=8, n_features=3, seed=0)
    kl = neuron_kl(study.real_mu, study.real_sigma)
    assert kl[study.music_order].sum() / kl.sum() > 0.99


def test_one_group_by_bic_is_no_split_and_says_so():
    rng = np.random.default_rng(0)
    activity = 10 ** rng.normal(-2.3, 0.25, 300)  # one log-normal cloud around the pile's edge
    detection = detect_split(_profile(activity))
    assert not detection.found and detection.count == 0 and detection.components == 1
    assert detection.reason == (
        "used and unused neurons do not separate on log activity and log KL: one group by BIC (gain 0.0 < 10)"
    )
    assert detection.summary() == {
        "found": False,
        "count": 0,
        "reason": detection.reason,
        "components": 1,
        "delta_bic": 0.0,
        "separation_activity": None,
        "separation_kl": None,
        "pile_share": None,
        "pile_sigma": None,
        "pile_activity": None,
        "used_activity": None,
        "rule": sp.RULE,
    }
    # a cloud of used neurons alone: every neuron is used, whatever BIC says
    used = detect_split(_profile(10 ** rng.normal(-0.3, 0.1, 300)))
    assert used.reason.startswith("every neuron is used: no pile at the prior (only 0 of 300 neurons")


def test_the_summary_of_a_split_rounds_its_numbers():
    mu, sigma, _ = planted_latents("sharp", k=10, z=100, n=800, seed=2)
    detection = detect_split(neuron_profile(mu, sigma))
    summary = detection.summary()
    assert summary["found"] is True and summary["count"] == 10 and summary["components"] == detection.components
    for key in ("delta_bic", "separation_activity", "separation_kl", "pile_share", "pile_sigma", "pile_activity"):
        assert summary[key] == round(getattr(detection, key), 6)
    assert summary["pile_share"] == 0.9 and summary["used_activity"] == round(detection.used_activity, 6)
    assert detection.rule == sp.RULE
    for words in ("1-4 components by BIC", ">= 10", "Ashman's D", ">= 0.9", "<= 0.01", ">= 25%", "D >= 2", "1 decade"):
        assert words in sp.RULE, words


def test_the_count_figure_draws_the_counts_the_pile_and_the_band():
    mu, sigma, _ = planted_latents("graded", k=30, z=200, n=800, seed=4)
    profile = neuron_profile(mu, sigma)
    detection = detect_split(profile)
    fig, ax = sp.plot_split_counts(profile, detection, title="counts")
    counts = activity_counts(profile.activity)
    step = ax.lines[0]
    np.testing.assert_array_equal(step.get_xdata(), counts["threshold"])
    np.testing.assert_array_equal(step.get_ydata(), counts["neurons_above"])
    assert ax.lines[1].get_ydata()[0] == 30  # the music neurons' count
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    band = count_band(profile, detection)["plateau"]
    assert legend == [
        "neurons above",
        "the pile (5-95 % of its activity)",
        "music neurons: 30",
        f"count within 20 %: {band['count_low']}-{band['count_high']}",
    ]
    pile = np.quantile(profile.activity[~detection.used], [0.05, 0.95])
    spans = [(patch.get_x(), patch.get_x() + patch.get_width()) for patch in ax.patches]
    assert np.allclose(spans[0], pile) and np.allclose(spans[1], [band["from_activity"], band["to_activity"]])
    assert ax.get_xscale() == "log" and ax.get_ylim() == (0, 200) and ax.get_title() == "counts"
    assert ax.get_xlabel() == "threshold on activity (variance of mu over windows)"
    assert ax.get_ylabel() == "neurons with activity above it"
    # without a split: no count line, and the legend says so
    mu, sigma, _ = planted_latents("ramp", z=200, n=800, seed=4)
    ramp = neuron_profile(mu, sigma)
    _, ax = sp.plot_split_counts(ramp, detect_split(ramp))
    assert len(ax.lines) == 1 and ax.get_legend().get_title().get_text() == "no split"


def test_the_batched_em_is_the_em_of_a_gaussian_mixture():
    """From the same start, the resamples' EM reaches the fit scikit-learn's EM reaches (one fixed point)."""
    from sklearn.mixture import GaussianMixture

    mu, sigma, _ = planted_latents("graded", k=40, z=300, n=600, seed=6)
    points = sp._points(neuron_profile(mu, sigma))
    fit, _ = sp._mixtures(points, 0)
    start = fit.means_ + np.array([0.3, -0.2])  # moved away from the fit
    ours, means, variances = sp._batched_em(points[None], start, fit.covariances_, fit.weights_, iterations=300)
    theirs = GaussianMixture(
        fit.n_components,
        means_init=start,
        precisions_init=np.linalg.inv(fit.covariances_),
        weights_init=fit.weights_,
        reg_covar=1e-4,
        tol=1e-10,
        max_iter=300,
    ).fit(points)
    np.testing.assert_allclose(means[0], theirs.means_, atol=1e-4)
    np.testing.assert_allclose(variances[0], [np.diag(c) for c in theirs.covariances_], atol=1e-4)
    np.testing.assert_array_equal(ours[0].argmax(axis=1), theirs.predict(points))
    np.testing.assert_allclose(ours[0].sum(axis=1), 1.0)


def test_window_overlap_reads_each_window_s_own_most_specific_neurons():
    rng = np.random.default_rng(3)
    sigma = rng.uniform(0.0, 1.0, (40, 50))
    group = np.zeros(50, dtype=bool)
    group[[2, 7, 11, 30]] = True
    out = window_overlap(sigma, group, n_pairs=500, random_state=5)
    sets = np.zeros_like(sigma, dtype=bool)
    np.put_along_axis(sets, np.argsort(sigma, axis=1)[:, :4], True, axis=1)  # each window's 4 smallest
    to_group = (sets & group).sum(axis=1) / (8 - (sets & group).sum(axis=1))
    assert out["to_group_median"] == pytest.approx(np.median(to_group)) and out["pairs"] == 500
    draws = np.random.default_rng(5)
    a = draws.integers(0, 40, 500)
    b = (a + draws.integers(1, 40, 500)) % 40
    shared = (sets[a] & sets[b]).sum(axis=1)
    np.testing.assert_allclose(out["pairwise"], shared / (8 - shared))
    assert out["pairwise_median"] == pytest.approx(np.median(shared / (8 - shared)))
    # the smallest inputs it takes: one neuron in the group, two windows (every pair is the two of them)
    two = np.array([[0.1, 0.5, 0.9], [0.5, 0.1, 0.9]])
    one = window_overlap(two, np.array([True, False, False]), n_pairs=10)
    assert one["k"] == 1 and one["pairwise"].tolist() == [0.0] * 10 and one["to_group_median"] == 0.5
    with pytest.raises(InvalidParameterError) as error:
        window_overlap(two[:1], np.array([True, False, False]))
    assert str(error.value) == "window_overlap needs a group of at least 1 neuron and 2 windows. Got 1 and 1."
    with pytest.raises(InvalidParameterError, match="Got 0 and 2"):
        window_overlap(two, np.zeros(3, dtype=bool))


def test_window_split_counts_per_window_and_needs_both_sides():
    sigma = np.array([[0.2, 0.3, 1.0, 1.0, 1.0], [0.2, 1.2, 1.0, 1.0, 0.5]])
    used = np.array([True, True, False, False, False])
    detection = sp.SplitDetection(True, used, "", 2, 50.0, *[1.0] * 6)
    table = window_split(sigma, detection)
    edge = np.quantile(sigma[:, ~used], 0.005)
    assert table["below_band"].tolist() == [int((row < edge).sum()) for row in sigma] == [2, 2]
    assert table.columns.tolist() == ["below_band", "music_below", "pile_below", "shows_split"]
    for used in (np.zeros(5, dtype=bool), np.ones(5, dtype=bool)):
        with pytest.raises(InvalidParameterError) as error:
            window_split(sigma, sp.SplitDetection(True, used, "", 2, 50.0, *[1.0] * 6))
        assert str(error.value) == "window_split needs a detected split (music neurons and a pile)."


def test_the_count_figure_s_style():
    from matplotlib.colors import to_rgba

    mu, sigma, _ = planted_latents("sharp", k=10, z=100, n=600, seed=8)
    profile = neuron_profile(mu, sigma)
    fig, ax = sp.plot_split_counts(profile, detect_split(profile))
    assert tuple(fig.get_size_inches()) == (7.0, 4.0)
    assert ax.lines[0].get_drawstyle() == "steps-post" and ax.lines[0].get_color() == "tab:blue"
    assert ax.lines[1].get_color() == "tab:red" and ax.lines[1].get_linestyle() == "--"
    pile, band = ax.patches
    assert pile.get_facecolor() == to_rgba("tab:grey", 0.25) and band.get_facecolor() == to_rgba("tab:green", 0.15)
    legend = ax.get_legend()
    assert legend._loc == 1 and {t.get_fontsize() for t in legend.get_texts()} == {8.0}
    # a profile of one group has no boundary: no pile to shade, only the count band
    rng = np.random.default_rng(0)
    flat = _profile(10 ** rng.normal(-2.3, 0.25, 300))
    _, ax = sp.plot_split_counts(flat, detect_split(flat))
    assert len(ax.patches) == 1 and ax.get_legend().get_title().get_fontsize() == 8.0


def test_the_judge_of_a_boundary_names_what_fails():
    # 10 used neurons above a pile of 90 spread over four decades: close on log activity (D < 2) though more
    # than a decade apart, far apart on log KL
    activity = np.r_[0.05 * np.linspace(0.5, 2.0, 10), 10 ** np.linspace(-4.5, -0.5, 90)]
    kl = np.r_[np.full(10, 1.0), np.full(90, 1e-4)]
    profile = _profile(activity, np.full(100, 0.999), kl)
    points = sp._points(profile)
    used = np.r_[np.ones(10, bool), np.zeros(90, bool)]
    detection = sp._judge(profile, points, used, 3, 80.0)
    d_a, d_b = ashman_d(points[:10, 0], points[10:, 0]), ashman_d(points[:10, 1], points[10:, 1])
    assert (detection.separation_activity, detection.separation_kl) == (d_a, d_b) and d_a < 2 < d_b
    assert not detection.found and (detection.components, detection.delta_bic) == (3, 80.0)
    assert detection.reason == f"used and unused neurons do not separate: Ashman's D {d_a:.1f} on log activity (< 2)"
    # a boundary with every neuron on one side is no split
    for side in (np.zeros(100, bool), np.ones(100, bool)):
        empty = sp._judge(profile, points, side, 3, 80.0)
        assert not empty.found and empty.reason == "the clearest boundary leaves every neuron on one side"
        assert (empty.components, empty.delta_bic) == (3, 80.0) and np.isnan(empty.separation_activity)
        assert empty.used is side and empty.count == int(side.sum())


def test_resamples_of_one_group_are_one_group():
    rng = np.random.default_rng(0)
    flat = _profile(10 ** rng.normal(-2.3, 0.25, 300))
    full = detect_split(flat)
    again = resampled_splits(full, [flat, flat])
    assert [d.reason for d in again] == [full.reason] * 2
    assert all((d.found, d.components, d.delta_bic, d.count) == (False, 1, full.delta_bic, 0) for d in again)
    mu, sigma, _ = planted_latents("graded", k=30, z=200, n=600, seed=9)
    profile = neuron_profile(mu, sigma)
    split = detect_split(profile)
    assert all(
        d.components == split.components and d.delta_bic == split.delta_bic
        for d in resampled_splits(split, [profile] * 2)
    )
