"""Every figure function writes a non-empty PNG and SVG with the expected title and axes."""

import html

import numpy as np
import pandas as pd
import pytest

from musicneurons.analysis import analyse_study, decoder_curve, planted_study, split_neurons
from musicneurons.melody.plot import plot_piano_roll
from musicneurons.report.figures import save_figure

EXPECTED = {  # figure stem -> (title fragment, y label of the first axes)
    "fig4_neuron_boxplots": ("Spread of sigma and mu per neuron (test)", "sigma"),
    "fig5_pearson_mu": (
        "Pearson correlation of mu, first 48 neurons by rank (test)",
        "neuron: #rank by increasing mean sigma (n + index)",
    ),
    "fig6_feature_phik": ("phik among features (test)", "feature"),
    "fig7_neuron_feature_phik": ("phik between music neurons and features (test)", "feature (id and name)"),
    "attribute_vectors": (
        "Attribute vectors against the best single neuron, held out",  # the title wraps: "(test)" on line 2
        "|Spearman| of the attribute vector",
    ),
    "fig10_real_random_histograms": ("mu of the first neurons: real and random (test)", "density"),
    "fig11_activation_counts": ("Neurons with |mu| > 0.1: real and random (test)", "share of windows"),
    "fig11_activation_counts_relative": (
        "Neurons beyond 2 real standard deviations: real and random (test)",
        "share of windows",
    ),
    "split_counts": ("Neurons above a threshold on activity (test)", "neurons with activity above it"),
    "decoder_curve": ("How many neurons does the decoder need? (test)", "token accuracy (argmax)"),
    "neuron_kl": ("KL from the prior per neuron (test)", "mean KL (nats)"),
}


def check_files(paths):
    assert [p.suffix for p in paths] == [".png", ".svg"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and paths[0].stat().st_size > 5000
    assert b"<svg" in paths[1].read_bytes()[:1000]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    study = planted_study(n_real=800, n_random=800, z=48, n_music=6, n_features=9, seed=1)
    out = tmp_path_factory.mktemp("study")
    split = split_neurons(study.real_mu, study.real_sigma)
    read = split.music_neurons  # a decoder stand-in that reads each music neuron's sign at one step

    def decode(z):
        return (2 + (np.asarray(z)[:, read] > 0)).astype(np.int8)

    orders = {"mean sigma": split.order, "activity": np.argsort(-split.profile.activity, kind="stable")}
    curve = decoder_curve(decode, study.real_mu[:200], decode(study.real_mu[:200]), orders)
    results = analyse_study(
        study.real_mu,
        study.real_sigma,
        study.real_features,
        study.random_mu,
        study.random_sigma,
        None,
        study.catalogue,
        out_dir=out,
        label="test",
        decoder=curve,
    )
    return out, results


def test_study_writes_every_figure_and_table(written):
    out, results = written
    assert set(EXPECTED) <= set(results.figures)
    scatter = [name for name in results.figures if name.startswith("scatter_neuron")]
    assert len(scatter) == 3  # one per category: pitch, rhythm, melody
    for paths in results.figures.values():
        check_files(paths)
    for name in results.tables():
        assert (out / f"{name}.csv").stat().st_size > 0
    assert '"music_neurons": 6' in (out / "summary.json").read_text()


@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_figure_titles_and_axes(written, stem):
    svg = (written[0] / f"{stem}.svg").read_text()
    title, ylabel = EXPECTED[stem]
    for text in (title, ylabel):  # matplotlib writes each text into the SVG as a comment
        assert f"<!-- {html.escape(text, quote=False)} -->" in svg


def test_scatter_figure_has_loess_curves(written):
    _, results = written
    name = next(n for n in results.figures if n.endswith("_pitch"))
    svg = results.figures[name][1].read_text()
    assert "against pitch features (test)" in svg
    assert svg.count('style="fill: none; stroke: #ff0000') >= 1  # the red LOESS line


def test_piano_roll_draws_each_note(tmp_path):
    from musicneurons.analysis import twinkle_events

    fig, ax = plot_piano_roll(twinkle_events(2), title="Twinkle")
    bars = [c for c in ax.collections]
    assert len(bars) == 7 and ax.get_title() == "Twinkle"
    assert ax.get_xlabel() == "step (sixteenth notes)" and ax.get_ylabel() == "pitch"
    assert ax.get_xlim() == (0.0, 32.0) and ax.get_ylim() == (58.0, 71.0)
    fig.canvas.draw()
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A3", "C4", "D#4", "F#4", "A4", "C5"]
    check_files(save_figure(fig, tmp_path / "roll"))


def test_study_without_music_neurons(tmp_path):
    """An untrained model: every neuron echoes the prior; the study still completes and says so."""
    rng = np.random.default_rng(0)
    mu, sigma = rng.normal(0, 0.05, (300, 16)), rng.uniform(0.97, 1.0, (300, 16))
    features = pd.DataFrame({"P1": rng.normal(size=300), "R2": rng.integers(0, 3, 300).astype(float)})
    results = analyse_study(mu, sigma, features, rng.normal(0, 0.3, (300, 16)), sigma, None, None, out_dir=tmp_path)
    assert results.summary["group_size"] == 0 and results.correlations.empty
    assert results.summary["music_neurons"] is None and not results.summary["split_found"]
    assert [c["verdict"] for c in results.summary["claims"]["claims"]][1:] == ["cannot tell"] * 5
    assert results.contrast["input"].tolist() == ["activation counts", "mu of all neurons"]
    assert np.isnan(results.summary["noise_floor"]) and results.disentanglement.empty
    assert (tmp_path / "fig7_neuron_feature_phik.png").stat().st_size > 0
