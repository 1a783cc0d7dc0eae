"""The phik cross matrix against phik's own functions, and the contingency machinery it rests on."""

import warnings

import numpy as np
import pandas as pd
import pytest

from musicneurons.analysis.contingency import contingency_tables, mutual_information, quantile_codes
from musicneurons.analysis.phik_cross import phik_cross_matrix, phik_from_table, phik_noise_floor, phik_significance


@pytest.fixture(scope="module")
def real_features():
    """Features of 600 real windows: 300 random note sequences and up to 300 folk-corpus windows."""
    from musicneurons.features import compute_features
    from musicneurons.melody import corpus_melodies, random_windows
    from musicneurons.tables import array_column

    events, qpm = random_windows(300, seed=3)
    corpus = corpus_melodies(max_tunes=60, progress=False).head(300)
    events = np.vstack([events, array_column(corpus, "events").astype(np.int8)])
    qpm = np.r_[qpm, corpus["tempo"].to_numpy(dtype=float)]
    return compute_features(events, qpm)


def _phik_reference(df, rows, cols):
    import phik  # noqa: F401  (registers the DataFrame accessor)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = df[rows + cols].phik_matrix(interval_cols=rows + cols, bins=10, quantile=True, njobs=1, verbose=False)
    return full.loc[rows, cols].to_numpy()


def test_cross_matrix_equals_phik_matrix_on_real_features(real_features):
    rows = ["P12", "P10", "R-10", "M2", "R17"]  # continuous and discrete
    cols = ["P8", "M3", "M8", "R23", "M19", "P-24", "R-16"]  # M8 is NaN where no interval is an arpeggio one
    df = real_features[rows + cols]
    assert df["M8"].isna().sum() > 10  # NaN rows are dropped per pair
    mine = phik_cross_matrix(df[rows].to_numpy(), df[cols].to_numpy())
    np.testing.assert_allclose(mine, _phik_reference(df, rows, cols), atol=1e-6, rtol=0)


def test_cross_matrix_equals_phik_matrix_on_latent_like_columns():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(4000, 3))
    y = np.c_[
        np.tanh(2 * x[:, 0]) + 0.3 * rng.normal(size=4000),
        x[:, 1] ** 2,
        rng.integers(0, 2, 4000),
        rng.exponential(size=4000),
    ]
    y[rng.random(4000) < 0.1, 3] = np.nan
    df = pd.DataFrame(np.c_[x, y], columns=["a", "b", "c", "f1", "f2", "f3", "f4"])
    mine = phik_cross_matrix(x, y)
    np.testing.assert_allclose(mine, _phik_reference(df, ["a", "b", "c"], ["f1", "f2", "f3", "f4"]), atol=1e-6, rtol=0)
    assert mine[0, 0] > 0.8 and mine[1, 1] > 0.8  # monotone and non-monotone dependences are seen


def test_phik_from_table_equals_phik_on_small_tables():
    from phik.phik import phik_from_hist2d

    for table in ([[30, 10], [12, 40]], [[5, 0, 7], [1, 9, 2]], [[50, 0], [0, 50]], [[25, 25], [25, 25]]):
        table = np.array(table, dtype=float)
        assert phik_from_table(table) == pytest.approx(phik_from_hist2d(table), abs=1e-6)
    assert np.isnan(phik_from_table(np.array([[3, 4]])))


def test_contingency_tables_count_every_pair():
    rng = np.random.default_rng(0)
    x = rng.integers(-1, 4, size=(500, 3))
    y = rng.integers(-1, 4, size=(500, 2))
    tables = contingency_tables(x, y, 4, chunk=128)
    for i in range(3):
        for j in range(2):
            both = (x[:, i] >= 0) & (y[:, j] >= 0)
            expected = np.zeros((4, 4), int)
            np.add.at(expected, (x[both, i], y[both, j]), 1)
            np.testing.assert_array_equal(tables[i, j], expected)


def test_quantile_codes_follow_phik_binning():
    from phik.binning import bin_data

    values = np.array([3.0, 1.0, np.nan, 2.0, 2.0, 5.0, 4.0, 1.0, 8.0, 9.0, 0.5])
    codes = quantile_codes(values[:, None], bins=4)[:, 0]
    theirs = bin_data(pd.DataFrame({"v": values}), cols=["v"], bins=4, quantile=True)["v"]
    expected = [-1 if pd.isna(v) else int(v) - 1 for v in theirs]
    assert codes.tolist() == expected


def test_mutual_information_equals_sklearn():
    from sklearn.metrics import mutual_info_score

    rng = np.random.default_rng(1)
    x = rng.integers(0, 5, 1000)
    y = (x + rng.integers(0, 3, 1000)) % 5
    table = contingency_tables(x[:, None], y[:, None], 5)[0]
    assert mutual_information(table)[0] == pytest.approx(mutual_info_score(x, y), abs=1e-12)


def test_noise_floor_bounds_independent_pairs():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(5000, 4)), rng.normal(size=(5000, 4))
    floor = phik_noise_floor(x, y, n_pairs=40, quantile=1.0, random_state=0)
    assert 0.0 < floor < 0.15
    assert np.median(phik_cross_matrix(x, y)) < floor


def test_significance_equals_phik_asymptotic():
    from phik.significance import significance_from_hist2d

    rng = np.random.default_rng(3)
    x = rng.normal(size=(3000, 1))
    y = x + rng.normal(size=(3000, 1)) * 3
    z = phik_significance(x, y)[0, 0]
    table = contingency_tables(quantile_codes(x), quantile_codes(y), 10)[0, 0].astype(float)
    assert z == pytest.approx(significance_from_hist2d(table, significance_method="asymptotic")[1])
    assert z > 5


def _phik_default(df, rows, cols):
    """phik.phik_matrix with phik's own default binning (10 equal-width bins)."""
    import phik  # noqa: F401

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = df[rows + cols].phik_matrix(interval_cols=rows + cols, njobs=1, verbose=False)
    return full.loc[rows, cols].to_numpy()


def test_uniform_binning_equals_phik_default(real_features):
    from phik.binning import bin_data

    from musicneurons.analysis.contingency import bin_codes

    values = np.array([3.0, 1.0, np.nan, 2.0, 2.0, 5.0, 4.0, 1.0, 8.0, 9.0, 0.5])
    theirs = bin_data(pd.DataFrame({"v": values}), cols=["v"], bins=4)["v"]
    assert bin_codes(values[:, None], 4, "uniform")[:, 0].tolist() == [-1 if pd.isna(v) else int(v) - 1 for v in theirs]
    rows, cols = ["P12", "R-10", "M2"], ["P8", "M3", "M8", "R23"]
    df = real_features[rows + cols]
    mine = phik_cross_matrix(df[rows].to_numpy(), df[cols].to_numpy(), binning="uniform")
    np.testing.assert_allclose(mine, _phik_default(df, rows, cols), atol=1e-6, rtol=0)
    assert np.nanmax(np.abs(mine - phik_cross_matrix(df[rows].to_numpy(), df[cols].to_numpy()))) > 0.01


def test_independence_pvalues_equal_phik_asymptotic_significance():
    from phik.significance import significance_from_hist2d

    from musicneurons.analysis.contingency import occupied
    from musicneurons.analysis.phik_cross import cross_tables, independence_pvalues

    rng = np.random.default_rng(4)
    x = rng.normal(size=(2000, 2))
    y = np.c_[x[:, 0] + 4 * rng.normal(size=2000), rng.integers(0, 2, 2000), rng.integers(0, 3, 2000)]
    tables = cross_tables(x, y)
    p = independence_pvalues(tables)
    for i, j in np.ndindex(*p.shape):
        ref = significance_from_hist2d(occupied(tables[i, j]).astype(float), significance_method="asymptotic")[0]
        assert p[i, j] == pytest.approx(ref, rel=1e-9, abs=1e-300)
    two_by_two = np.zeros((1, 10, 10))
    two_by_two[0, :2, :2] = [[30, 10], [12, 40]]  # Yates' correction, as scipy's chi2_contingency
    ref = significance_from_hist2d(np.array([[30.0, 10], [12, 40]]), significance_method="asymptotic")[0]
    assert independence_pvalues(two_by_two)[0] == pytest.approx(ref, rel=1e-9)
    assert np.isnan(independence_pvalues(np.ones((1, 3, 1))))[0]


def test_benjamini_hochberg_flags_and_the_number_of_tests():
    from scipy.stats import false_discovery_control

    from musicneurons.analysis.correlation import correlate

    rng = np.random.default_rng(6)
    x = rng.normal(size=(3000, 4))
    features = pd.DataFrame(
        {
            "P1": x[:, 0] + rng.normal(size=3000),
            "R1": rng.normal(size=3000),
            "M1": rng.normal(size=3000),
            "P2": np.tanh(x[:, 1]) + 0.3 * rng.normal(size=3000),
        }
    )
    corr = correlate(x, features, noise_pairs=100)
    table = corr.table().set_index(["neuron", "feature_id"])
    assert corr.tests == 16
    np.testing.assert_allclose(
        table["q_value"].sort_index(),
        pd.Series(false_discovery_control(table["p_value"], method="bh"), index=table.index).sort_index(),
    )
    assert set(table.index[table["above_noise"]]) == {(0, "P1"), (1, "P2")}
    summary = corr.summary()
    assert summary["tests"] == 16 and summary["above_noise"] == 2 and summary["phik_binning"] == "quantile"


def test_phik_of_tables_equals_phik_from_table_per_table():
    from musicneurons.analysis.phik_cross import phik_of_tables

    rng = np.random.default_rng(5)
    n = 2000
    x = np.c_[rng.normal(size=(n, 3)), rng.integers(0, 2, n), rng.integers(0, 3, n)]
    y = np.c_[x[:, 0] + rng.normal(size=n), x[:, 3], rng.integers(0, 2, n), np.tanh(x[:, 1]), rng.exponential(size=n)]
    y[rng.random(n) < 0.3, 4] = np.nan
    tables = contingency_tables(quantile_codes(x), quantile_codes(y), 10)
    tables[0, 0] = 0
    tables[0, 0, :2, :2] = [[30, 10], [12, 40]]  # 2 x 2: Yates' correction
    tables[0, 1] = 0
    tables[0, 1, 3, :4] = [5, 6, 7, 8]  # one occupied row: NaN
    one_by_one = np.array([[phik_from_table(t) for t in row] for row in tables])
    mine = phik_of_tables(tables)
    assert np.isnan(mine[0, 1]) and mine[3, 1] == 1.0  # a binary column against itself
    np.testing.assert_array_equal(np.isnan(mine), np.isnan(one_by_one))
    np.testing.assert_allclose(mine, one_by_one, rtol=0, atol=1e-12)


@pytest.mark.parametrize("missing", ["none", "x", "y", "both"])
def test_contingency_tables_with_complete_sides(missing):
    rng = np.random.default_rng(8)
    x = rng.integers(0, 5, size=(700, 3))
    y = rng.integers(0, 5, size=(700, 4))
    y[:, 3] = 2  # one code only
    if missing in ("x", "both"):
        x[rng.random(700) < 0.1, 1] = -1
    if missing in ("y", "both"):
        y[rng.random(700) < 0.2, 0] = -1
    tables = contingency_tables(x, y, 5, chunk=200)
    for i in range(3):
        for j in range(4):
            both = (x[:, i] >= 0) & (y[:, j] >= 0)
            expected = np.zeros((5, 5), int)
            np.add.at(expected, (x[both, i], y[both, j]), 1)
            np.testing.assert_array_equal(tables[i, j], expected)


@pytest.mark.parametrize("binning", ["quantile", "uniform"])
def test_bin_codes_follow_phik_binning_on_many_columns(binning):
    from phik.binning import bin_data

    from musicneurons.analysis.contingency import bin_codes

    rng = np.random.default_rng(9)
    values = np.c_[
        rng.normal(size=(300, 70)), rng.integers(0, 4, 300), np.full(300, 7.0), np.round(rng.exponential(size=300), 1)
    ]
    values[rng.random(300) < 0.1, 71] = np.nan
    frame = pd.DataFrame(values, columns=[f"c{k}" for k in range(values.shape[1])])
    theirs = bin_data(frame, cols=list(frame.columns), bins=10, quantile=binning == "quantile")
    expected = np.where(theirs.isna(), -1, theirs.fillna(0).astype(int) - 1)
    np.testing.assert_array_equal(bin_codes(values, 10, binning), expected)
