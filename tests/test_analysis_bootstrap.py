"""The bootstrap over windows: resampled sums equal direct computation, readings and the sample-size rule."""

import numpy as np
import pytest

from musicneurons.analysis.bootstrap import (
    interval,
    readings,
    resample_indices,
    resample_weights,
    resampled_means,
    resampled_medians,
    resampled_profiles,
    sample_verdict,
)
from musicneurons.analysis.split import neuron_profile


def test_resamples_are_seeded_draws_with_replacement():
    a, b = resample_indices(50, n_boot=4, random_state=7), resample_indices(50, n_boot=4, random_state=7)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (4, 50) and a.dtype == np.int32 and a.min() >= 0 and a.max() < 50
    np.testing.assert_array_equal(resample_weights(a, 50)[2], np.bincount(a[2], minlength=50))


def test_resampled_statistics_equal_the_statistics_of_the_drawn_windows():
    rng = np.random.default_rng(0)
    mu, sigma = rng.normal(0.0, 0.7, (9000, 6)), rng.uniform(0.3, 1.0, (9000, 6))
    indices = resample_indices(9000, n_boot=3, random_state=1)
    weights = resample_weights(indices, 9000)
    np.testing.assert_allclose(resampled_means(mu, weights)[1], mu[indices[1]].mean(axis=0), atol=1e-6)
    np.testing.assert_allclose(
        resampled_means(mu, weights, transform=np.square)[2], (mu[indices[2]] ** 2).mean(axis=0), rtol=1e-6
    )
    shares = resampled_means(mu[:, 0] > 0, weights)
    assert shares.shape == (3,) and shares[0] == pytest.approx((mu[indices[0], 0] > 0).mean(), abs=1e-6)
    np.testing.assert_array_equal(resampled_medians(mu[:, 1], indices), np.median(mu[indices, 1], axis=1))
    for b, profile in enumerate(resampled_profiles(mu, sigma, weights)):
        direct = neuron_profile(mu[indices[b]], sigma[indices[b]])
        np.testing.assert_allclose(profile.activity, direct.activity, rtol=1e-5)
        np.testing.assert_allclose(profile.kl, direct.kl, rtol=1e-5)
        np.testing.assert_allclose(profile.mean_sigma, direct.mean_sigma, rtol=1e-6)


def test_interval_and_readings():
    assert interval(np.arange(201)) == [5.0, 195.0]
    assert interval([np.nan, 3.0, 3.0]) == [3.0, 3.0] and interval([np.nan]) == [None, None]
    # a verdict reached by exactly 5 % of the resamples is a reading; 4.5 % is not
    assert readings(["holds"] * 19 + ["partly"]) == {"holds": 0.95, "partly": 0.05}
    assert readings(["holds"] * 191 + ["partly"] * 9) == {"holds": 0.955}


def _sample(**options):
    base = {
        "n_windows": 500,
        "bins": 10,
        "found": True,
        "count": 40,
        "resampled_found": np.ones(20, bool),
        "resampled_counts": np.full(20, 40),
    }
    return sample_verdict(**{**base, **options})


def test_the_sample_is_large_enough_at_each_threshold():
    out = _sample()
    assert out == {
        "too_small": False,
        "reason": None,
        "min_windows": 500,
        "found_share": 1.0,
        "count_interval": [40.0, 40.0],
    }
    # the count's interval may reach 20 % either side of the count: 32 and 48 for 40
    assert not _sample(resampled_counts=np.r_[np.full(10, 32), np.full(10, 48)])["too_small"]
    # 9 resamples of 10 find the split (90 %)
    found = np.r_[np.ones(9, bool), False]
    assert not _sample(resampled_found=found, resampled_counts=np.full(10, 40))["too_small"]
    none = np.r_[np.zeros(19, bool), True]  # 5 % of the resamples find a split where the sample has none
    assert not _sample(found=False, count=None, resampled_found=none, resampled_counts=np.zeros(20))["too_small"]


def test_the_sample_is_too_small_just_past_each_threshold():
    assert _sample(n_windows=499)["reason"] == (
        "499 windows are fewer than the 500 that phik's 10 x 10 tables need (5 windows a cell)"
    )
    assert _sample(n_windows=179, bins=6)["min_windows"] == 180 and _sample(n_windows=179, bins=6)["too_small"]
    found = np.r_[np.ones(17, bool), np.zeros(2, bool)]  # 17 of 19: 89 %
    assert _sample(resampled_found=found, resampled_counts=np.full(19, 40))["reason"] == (
        "the split is found on only 89% of the resamples (at least 90%)"
    )
    none = np.r_[np.zeros(9, bool), True]  # 10 % find one
    out = _sample(found=False, count=None, resampled_found=none, resampled_counts=np.zeros(10))
    assert out["reason"] == "no split on the whole sample, but 10% of the resamples find one"
    low = _sample(resampled_counts=np.r_[np.full(10, 31), np.full(10, 40)])
    assert low["too_small"] and low["reason"] == "the count's interval 31-40 reaches beyond 20% of 40 on a side"
    high = _sample(resampled_counts=np.r_[np.full(10, 40), np.full(10, 49)])
    assert high["too_small"] and high["count_interval"] == [40.0, 49.0]
