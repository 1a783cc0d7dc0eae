"""Every analysis recovers the structure planted in synthetic encodings and features."""

import numpy as np
import pandas as pd
import pytest

from musicneurons.analysis import (
    analyse_study,
    melody_candidates,
    planted_study,
    scatter_selection,
    select_features,
    split_neurons,
)
from musicneurons.errors import InvalidParameterError


@pytest.fixture(scope="module")
def study():
    return planted_study(n_real=3000, n_random=3000, z=64, n_music=8, n_features=15, seed=0)


@pytest.fixture(scope="module")
def results(study):
    return analyse_study(
        study.real_mu,
        study.real_sigma,
        study.real_features,
        study.random_mu,
        study.random_sigma,
        study.random_features,
        study.catalogue,
    )


def test_split_and_order_are_exact(study, results):
    split = split_neurons(study.real_mu, study.real_sigma)
    np.testing.assert_array_equal(split.music_neurons, study.music_order)
    np.testing.assert_array_equal(split.order[:8], study.music_order)
    np.testing.assert_array_equal(split.active, split.music)
    assert results.summary["music_neurons"] == 8 and results.summary["active_units"] == 8
    assert results.summary["split"]["found"] and results.summary["split"]["count"] == 8
    assert results.summary["agreement"] == 1.0
    ranks = results.correlations.groupby("neuron")["rank"].first()
    assert ranks.sort_values().index.tolist() == study.music_order.tolist() and ranks.max() == 7


def test_neuron_statistics_are_the_column_statistics(study, results):
    table = results.neurons
    assert table["neuron"].tolist()[:8] == study.music_order.tolist()
    first = study.music_order[0]
    assert table.loc[0, "sigma_mean"] == pytest.approx(study.real_sigma[:, first].astype(float).mean())
    assert table.loc[0, "activity"] == pytest.approx(study.real_mu[:, first].astype(float).var())
    assert table["sigma_mean"].is_monotonic_increasing
    assert table["music"].tolist() == [True] * 8 + [False] * 56


def test_strongest_pairs_are_the_planted_ones(study, results):
    table = results.correlations
    strongest = table.sort_values("phik", ascending=False).drop_duplicates("feature_id").set_index("feature_id")
    planted = study.planted.set_index("feature_id")
    assert strongest.loc[planted.index, "neuron"].tolist() == planted["neuron"].tolist()
    assert (strongest.loc[planted.index, "phik"] > 0.5).all()
    assert set(table.loc[table["above_noise"], "feature_id"]) >= set(planted.index)


def test_spearman_sign_and_non_monotone_dependence(study, results):
    table = results.correlations.set_index(["neuron", "feature_id"])
    for row in study.planted.itertuples():
        pair = table.loc[(row.neuron, row.feature_id)]
        if row.kind == "square":
            assert abs(pair["spearman"]) < 0.1 and pair["phik"] > 0.5
        else:
            assert pair["sign"] == (-1 if row.kind == "exp" else 1)


def test_scatter_selection_picks_the_planted_features(study, results):
    categories = dict(zip(study.catalogue["id"], study.catalogue["category"]))
    neuron, chosen = scatter_selection(results.correlations, categories, n_features=4)
    assert neuron == results.correlations["neuron"].iloc[0]
    mine = study.planted[study.planted["neuron"] == neuron]
    for category, fids in chosen.items():
        expected = set(mine.loc[mine["category"] == category, "feature_id"])
        assert set(fids[: len(expected)]) == expected


def test_feature_selection_drops_constant_and_duplicate(study, results):
    dropped = dict(zip(results.features_dropped["feature_id"], results.features_dropped["reason"]))
    assert dropped == {"R30": "constant or all NaN", "R24": "duplicate of R2"}
    catalogue = study.catalogue.assign(
        constant=study.catalogue["id"] == "P1", duplicate_of=np.where(study.catalogue["id"] == "R24", "R2", "")
    )
    kept, dropped = select_features(study.real_features, catalogue)
    assert dict(zip(dropped["feature_id"], dropped["reason"])) == {
        "P1": "constant in the catalogue",
        "R24": "duplicate of R2 in the catalogue",
        "R30": "constant or all NaN",
    }
    assert "P1" not in kept


def test_near_duplicates_are_dropped_by_rank_correlation():
    rng = np.random.default_rng(0)
    a = rng.normal(size=500)
    features = pd.DataFrame({"A": a, "B": np.exp(a), "C": rng.normal(size=500)})
    kept, dropped = select_features(features, max_abs_spearman=0.95)
    assert list(kept.columns) == ["A", "C"]
    assert dropped["reason"].iloc[0] == "|Spearman| 1.000 with A"


def test_attribute_vectors_point_along_the_planted_neuron(study, results):
    attributes = results.attributes.set_index("feature_id")
    for row in study.planted.itertuples():
        if row.kind in ("linear", "tanh", "exp", "rounded"):
            assert attributes.loc[row.feature_id, "best_neuron"] == row.neuron
            assert attributes.loc[row.feature_id, "cosine"] > 0.98
            assert (
                abs(attributes.loc[row.feature_id, "vector_rho"] - attributes.loc[row.feature_id, "neuron_rho"]) < 0.03
            )


def test_contrast_tells_random_from_real(results):
    auc = results.contrast.set_index("input")["auc_mean"]
    assert auc["activation counts"] > 0.99  # random windows excite the noise neurons
    counts = results.activation.groupby("set")["noise_active"].mean()
    assert counts["random"] > 20 * max(counts["real"], 0.1)
    assert results.activation.groupby("set")["music_active"].max().max() <= 8


def test_disentanglement_finds_the_planted_neuron(study, results):
    scores = results.disentanglement.set_index("feature_id")
    planted = study.planted.set_index("feature_id")
    assert scores.loc[planted.index, "best_neuron"].tolist() == planted["neuron"].tolist()
    linear = planted.index[planted["kind"] == "linear"]
    square = planted.index[planted["kind"] == "square"]
    assert (scores.loc[linear, "interpretability"] > 0.9).all()
    assert (scores.loc[square, "interpretability"] < 0.05).all()  # R^2 misses a non-monotone dependence
    assert (scores.loc[square, "scc"] < 0.1).all()
    summary = results.summary["disentanglement"]
    assert 0 < summary["mig"] < 1 and 0.8 < summary["modularity"] <= 1


def test_pearson_matrix_of_independent_music_neurons_is_near_identity(study, results):
    music = results.pearson.loc[study.music_order, study.music_order].to_numpy()
    np.testing.assert_allclose(np.diag(music), 1.0)
    assert np.abs(music - np.eye(8)).max() < 0.1


def test_melody_candidates_rule():
    correlations = pd.DataFrame(
        {
            "neuron": [3, 5, 3, 5, 7, 7],
            "feature_id": ["M1", "P1", "P1", "M1", "R1", "M1"],
            "phik": [0.9, 0.8, 0.7, 0.4, 0.04, 0.03],
            "above_noise": [True, True, True, True, False, False],
        }
    )
    categories = {"M1": "melody", "P1": "pitch", "R1": "rhythm"}
    out = melody_candidates(correlations, categories)
    assert out.to_dict("list") == {"neuron": [3], "feature_id": ["M1"], "phik": [0.9], "best_other": [0.7]}


def test_inputs_are_checked(study):
    with pytest.raises(InvalidParameterError, match="'mu'"):
        split_neurons(study.real_mu[0], study.real_sigma[0])
    with pytest.raises(InvalidParameterError, match="'sigma'"):
        split_neurons(study.real_mu, -study.real_sigma)
    with pytest.raises(InvalidParameterError, match="'features'"):
        analyse_study(
            study.real_mu,
            study.real_sigma,
            study.real_features.head(10),
            study.random_mu,
            study.random_sigma,
            None,
            study.catalogue,
        )
    with pytest.raises(InvalidParameterError, match="catalogue"):
        analyse_study(
            study.real_mu,
            study.real_sigma,
            study.real_features,
            study.random_mu,
            study.random_sigma,
            None,
            study.catalogue.rename(columns={"category": "kind"}),
        )
