"""Exact values of the building blocks: correlations, LOESS, attribute vectors, counts, split, scores."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from musicneurons.analysis import (
    activation_counts,
    attribute_vectors,
    disentanglement_scores,
    loess_curve,
    split_neurons,
)
from musicneurons.analysis.correlation import pearson_cross, spearman_cross, spearman_pvalues


@pytest.fixture(scope="module")
def xy():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(400, 3))
    y = np.c_[x[:, 0] ** 3, np.round(x[:, 1]), rng.normal(size=400), x[:, 2]]
    y[:30, 1] = np.nan
    y[200:260, 2] = np.nan
    y[:30, 3] = np.nan  # same NaN rows as column 1: one shared ranking
    return x, y


def test_spearman_and_pearson_equal_scipy_with_nan(xy):
    x, y = xy
    rho, r = spearman_cross(x, y), pearson_cross(x, y)
    for i in range(3):
        for j in range(4):
            ok = ~np.isnan(y[:, j])
            assert rho[i, j] == pytest.approx(stats.spearmanr(x[ok, i], y[ok, j])[0], abs=1e-12)
            assert r[i, j] == pytest.approx(stats.pearsonr(x[ok, i], y[ok, j])[0], abs=1e-12)


def test_spearman_pvalues_equal_scipy(xy):
    x, y = xy
    ok = ~np.isnan(y[:, 1])
    rho, p = stats.spearmanr(x[ok, 1], y[ok, 1])
    assert spearman_pvalues(np.array([[rho]]), ok.sum())[0, 0] == pytest.approx(p, rel=1e-9)


def test_loess_reproduces_a_line():
    x = np.linspace(-3, 3, 500)
    xs, ys = loess_curve(x, 2 * x + 1, frac=0.2)
    np.testing.assert_allclose(ys, 2 * xs + 1, atol=1e-9)
    assert xs.size == 500


def test_attribute_vector_by_hand():
    mu = np.array([[1, 0], [3, 0], [0, 1], [0, 1], [0, 2], [0, 3], [5, 4], [7, 6]], dtype=float)
    feature = pd.DataFrame({"f": np.arange(1.0, 9.0)})  # quartiles: <= 2.75 -> rows 0, 1; >= 6.25 -> rows 6, 7
    np.testing.assert_allclose(attribute_vectors(mu, feature), [[(5 + 7) / 2 - (1 + 3) / 2, (4 + 6) / 2 - 0]])


def test_activation_counts_by_hand():
    mu = np.array([[0.2, -0.05, 0.11, -0.3], [0.0, 0.1, -0.1, 0.5]])
    music = np.array([True, True, False, False])
    counts = activation_counts(mu, music)
    assert counts.to_dict("list") == {"music_active": [1, 0], "noise_active": [2, 1]}


def test_split_thresholds_are_strict():
    sigma = np.tile([0.2, 0.5, 0.9, 0.49], (4, 1))
    mu = np.array([[1.0, 0, 0, 0.05], [-1, 0, 0, -0.05], [1, 0.2, 0, 0.05], [-1, -0.2, 0, -0.05]])
    split = split_neurons(mu, sigma, sigma_threshold=0.5)
    assert split.order.tolist() == [0, 3, 1, 2] and split.rule == "threshold"
    assert split.group_label == "neurons with mean sigma < 0.5 (threshold set by hand)"
    assert split.music.tolist() == [True, False, False, True]
    assert split.active.tolist() == [True, True, False, False]  # variances 1, 0.02, 0, 0.0025
    assert split.summary()["agreement"] == 0.5


def test_mig_of_a_perfect_code_is_one():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 2))
    features = pd.DataFrame({"a": x[:, 0], "b": x[:, 1]})
    per_feature, summary = disentanglement_scores(x, features)
    np.testing.assert_allclose(per_feature["interpretability"], 1.0)
    assert per_feature["best_neuron"].tolist() == [0, 1]
    assert summary["mig"] > 0.95 and summary["modularity"] > 0.99 and summary["sap"] > 0.99


def test_public_names_are_exported_with_docstrings():
    import musicneurons.analysis as analysis

    assert len(set(analysis.__all__)) == len(analysis.__all__)
    for name in analysis.__all__:
        assert getattr(analysis, name).__doc__, name


def test_contrast_auc_on_few_windows():
    from musicneurons.analysis import contrast_auc

    rng = np.random.default_rng(0)
    real, rand = rng.normal(0, 0.01, (3, 4)), rng.normal(0, 1.0, (3, 4))
    music = np.array([True, False, False, False])
    table = contrast_auc(real, rand, music)
    assert table["input"].tolist() == ["activation counts", "mu of music neurons", "mu of all neurons"]
    assert table["windows"].tolist() == [6, 6, 6]
    assert contrast_auc(real[:2], rand, music)["windows"].tolist() == [5, 5, 5]  # two folds


def test_infinite_features_count_as_missing():
    from musicneurons.analysis.inputs import check_features

    checked = check_features(pd.DataFrame({"P1": [1.0, np.inf, -np.inf, 2.0]}), 4)
    assert checked["P1"].isna().tolist() == [False, True, True, False]


def test_relative_activation_counts_by_hand():
    from musicneurons.analysis.contrast import relative_activation_counts

    reference = np.array([[0.0, 10.0], [2.0, 10.2], [1.0, 9.8], [1.0, 10.0]])  # means 1, 10; sd 0.707, 0.141
    mu = np.array([[2.5, 10.0], [1.0, 10.5], [-1.0, 9.0]])
    counts = relative_activation_counts(mu, reference, np.array([True, False]))
    assert counts.to_dict("list") == {"music_active": [1, 0, 1], "noise_active": [0, 1, 1]}


def test_attribute_vectors_are_scored_on_the_held_out_half():
    from musicneurons.analysis import compare_attribute_vectors

    rng = np.random.default_rng(2)
    mu = rng.normal(size=(400, 3))
    features = pd.DataFrame({"f": mu[:, 1] + 0.5 * rng.normal(size=400)})
    table = compare_attribute_vectors(mu, features, holdout=0.5, random_state=3)
    assert table[["fit_windows", "test_windows", "best_neuron"]].iloc[0].tolist() == [200, 200, 1]
    test = np.sort(np.random.default_rng(3).permutation(400)[:200])
    assert table["neuron_rho"].iloc[0] == pytest.approx(abs(stats.spearmanr(mu[test, 1], features["f"][test])[0]))
    in_sample = compare_attribute_vectors(mu, features, holdout=None)
    assert in_sample["test_windows"].iloc[0] == 400
    assert in_sample["neuron_rho"].iloc[0] == pytest.approx(abs(stats.spearmanr(mu[:, 1], features["f"])[0]))
