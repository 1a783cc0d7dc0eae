"""Every figure legible at the report's width: label sizes in pixels as shown, titles inside the canvas."""

import numpy as np
import pytest

from musicneurons.analysis import planted_study
from musicneurons.analysis.attributes import compare_attribute_vectors, plot_attribute_comparison
from musicneurons.analysis.correlation import correlate, pearson_matrix, plot_cross_correlation, plot_matrix
from musicneurons.analysis.example import LatentExample, plot_example_rolls
from musicneurons.melody.events import notes_to_events
from musicneurons.report.labels import feature_label

PAGE_PX = 1100  # the report's widest image, in CSS pixels
DPI = 150  # save_figure's PNG resolution


def shown_px(fig, points):
    """The height in page pixels of text of ``points`` in ``fig`` once its PNG is scaled to the page width."""
    scale = min(1.0, PAGE_PX / (fig.get_figwidth() * DPI))
    return points / 72 * DPI * scale


def inside_canvas(fig):
    """Whether everything drawn (titles included) lies inside the figure (matplotlib's tight bounding box)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    box = fig.get_tightbbox(canvas.get_renderer())
    return (
        box.x0 >= -0.01
        and box.y0 >= -0.01
        and box.x1 <= fig.get_figwidth() + 0.01
        and box.y1 <= fig.get_figheight() + 0.01
    )


@pytest.fixture(scope="module")
def planted():
    study = planted_study(n_real=600, n_random=600, z=32, n_music=4, n_features=6, seed=3)
    features = study.real_features.drop(
        columns=[c for c in study.real_features if study.real_features[c].nunique() < 2]
    )
    return study, features


def test_fig7_labels_every_feature_and_neuron_and_prints_values(planted):
    study, features = planted
    music = np.arange(4)
    corr = correlate(study.real_mu[:, music], features, neurons=music)
    ranks = {0: 0, 1: 1, 2: 3, 3: 2}
    fig, ax = plot_cross_correlation(corr, "phik between music neurons and features (2-bar)", ranks=ranks)
    assert [a.get_title(loc="left") for a in ax] == ["pitch features", "rhythm features", "melody features"]
    rows = [t.get_text() for a in ax for t in a.get_yticklabels()]
    assert sorted(rows) == sorted(feature_label(f) for f in features.columns)  # id and name, e.g. "P1 Most Common ..."
    assert [t.get_text() for t in ax[-1].get_xticklabels()] == ["#1 (n0)", "#2 (n1)", "#4 (n2)", "#3 (n3)"]
    for a in ax:
        assert all(shown_px(fig, t.get_fontsize()) >= 11 for t in a.get_yticklabels() + a.get_xticklabels())
    values = [t for a in ax for t in a.texts]
    above = corr.phik.to_numpy() > corr.noise_floor
    assert len(values) == above.sum() > 0
    assert all(shown_px(fig, t.get_fontsize()) >= 10 for t in values)
    expected = [
        ("+" if corr.spearman.loc[n, f] > 0 else "\u2212") + f"{corr.phik.loc[n, f]:.2f}".lstrip("0")
        for n in corr.phik.index
        for f in corr.phik.columns
        if corr.phik.loc[n, f] > corr.noise_floor
    ]
    assert sorted(t.get_text() for t in values) == sorted(expected)  # phik with Spearman's sign, e.g. "+.52"
    assert inside_canvas(fig)


def test_fig5_ticks_are_ranks_with_indices(planted):
    study, _ = planted
    order = np.argsort(study.real_sigma.mean(axis=0), kind="stable")
    fig, ax = plot_matrix(
        pearson_matrix(study.real_mu[:, order]),
        [f"#{r + 1} (n{i})" for r, i in enumerate(order)],
        [f"#{r + 1}\nn{i}" for r, i in enumerate(order)],
        "Pearson correlation of mu",
        ylabel="neuron: #rank by increasing mean sigma (n + index)",
        max_ticks=20,
        fontsize=7,
        figsize=(9.5, 8.5),
    )
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks[:2] == [f"#1 (n{order[0]})", f"#3 (n{order[2]})"] and len(ticks) == 16
    assert shown_px(fig, 7) >= 11 and inside_canvas(fig)


def test_attribute_figure_keeps_its_long_title_inside(planted):
    study, features = planted
    table = compare_attribute_vectors(study.real_mu, features, candidates=np.arange(4), random_state=0)
    fig, ax = plot_attribute_comparison(table, "Attribute vectors against the best single neuron, held out (16-bar)")
    assert ax.get_title() == "Attribute vectors against the best single neuron, held out\n(16-bar)"
    assert inside_canvas(fig)


def test_a_16_bar_melody_is_drawn_in_rows_of_four_bars_with_note_names():
    notes = np.array([[k * 8, k * 8 + 8, 60 + (k % 8)] for k in range(32)])
    events = notes_to_events(notes, 256)
    example = LatentExample(
        events=events,
        order=np.arange(4),
        sigma=np.ones(4),
        mu=np.zeros(4),
        sample=np.zeros(4),
        decoded_mu=events,
        decoded_sample=events,
    )
    fig, ax = plot_example_rolls(example, title="Twinkle (16-bar)")
    assert len(ax) == 12 and fig.get_figwidth() == 9.5
    assert [a.get_title() for a in ax[:4]] == [f"melody, bars {b}-{b + 3}" for b in (1, 5, 9, 13)]
    assert [a.get_xlim() for a in ax[:4]] == [(0, 64), (64, 128), (128, 192), (192, 256)]
    assert inside_canvas(fig)
    assert ax[0].get_ylim() == (58, 69)  # C4 to G4, two semitones of margin
    assert [t.get_text() for t in ax[0].get_yticklabels()] == ["A#3", "C4", "D4", "E4", "F#4", "G#4", "A#4"]
    assert shown_px(fig, ax[0].get_yticklabels()[0].get_fontsize()) >= 12
