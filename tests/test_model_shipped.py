"""The models shipped with the package: they load, match their registered configs, and reconstruct melodies."""

import json
from pathlib import Path

import numpy as np
import pytest

from musicneurons.model import CONFIGS, load_model, shipped_models
from musicneurons.model.musicvae import SHIPPED_DIR, WEIGHTS_FILE

SHIPPED = ["mn-mel_2bar", "mn-hierdec-mel_16bar"]


def test_both_models_are_shipped_small_and_documented():
    assert shipped_models() == sorted(SHIPPED)
    for name in SHIPPED:
        folder = SHIPPED_DIR / name
        assert (folder / WEIGHTS_FILE).stat().st_size < 25 * 2**20
        assert all((folder / f).is_file() for f in ("MODEL_CARD.md", "train_log.csv", "loss_curve.png"))


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_model_matches_its_config_and_card(name):
    model = load_model(name)
    assert model.config == CONFIGS[name]
    metrics = json.loads((SHIPPED_DIR / name / "metrics.json").read_text())
    assert f"{metrics['argmax_accuracy']:.4f}" in (SHIPPED_DIR / name / "MODEL_CARD.md").read_text()


def test_shipped_cards_are_rendered_from_their_metrics_and_say_what_a_study_finds(tmp_path):
    import shutil

    from musicneurons.model.model_card import write_model_card

    said = 'reports the split as not found and the findings that rest on it as "cannot tell"'
    for name in SHIPPED:
        folder = tmp_path / name
        folder.mkdir()
        for f in ("config.json", "metrics.json", "pilots.csv"):
            if (SHIPPED_DIR / name / f).is_file():
                shutil.copy(SHIPPED_DIR / name / f, folder / f)
        write_model_card(folder)
        card = (folder / "MODEL_CARD.md").read_text()
        assert card == (SHIPPED_DIR / name / "MODEL_CARD.md").read_text() and said in card


def test_shipped_2bar_model_reconstructs_corpus_windows():
    from musicneurons.melody import corpus_melodies
    from musicneurons.tables import array_column

    events = array_column(corpus_melodies(bars=2, max_tunes=20, progress=False), "events").astype(np.int8)
    model = load_model("mn-mel_2bar")
    accuracy = (model.reconstruct(events) == events).mean()
    hold_baseline = (events == 0).mean()
    assert accuracy > 0.85 and accuracy > hold_baseline + 0.2


HELDOUT = Path(__file__).parent / "fixtures" / "heldout"  # written by scripts/make_heldout_fixture.py
# The shipped models do not yet reach the acceptance figures (issue 10: their retraining with a recipe whose KL
# binds runs across sessions, see training/ and the model cards). Strict: the day a shipped model passes, this
# test fails until the mark is removed, so the figures are then enforced.
NOT_YET = pytest.mark.xfail(strict=True, reason="shipped models not yet trained to the acceptance figures (issue 10)")


@pytest.fixture(scope="module")
def acceptance():
    """Acceptance figures of each shipped model on its fixed held-out sample (400 2-bar, 60 16-bar windows)."""
    from musicneurons.model.metrics import acceptance_metrics

    sizes = {2: 400, 16: 60}
    out = {}
    for name in SHIPPED:
        model = load_model(name)
        out[name] = acceptance_metrics(
            model, np.load(HELDOUT / f"heldout_{model.config.bars}bar.npy")[: sizes[model.config.bars]]
        )
    return out


def test_acceptance_figures_are_those_of_the_shipped_models(acceptance):
    """The figures measured for the models shipped today (see the cards): what they pass and what they fail."""
    two, sixteen = acceptance["mn-mel_2bar"], acceptance["mn-hierdec-mel_16bar"]
    # 2 bars: accurate, and the neurons as wide as the prior are noise (tiny var(mu), free to zero) ...
    assert two["argmax_accuracy"] > 0.94 and two["n_sigma_below_0.9"] == 39
    assert two["noise_median_var_mu"] < 0.002 and two["wide_ablation_cost"] < 0.005
    # ... but a band of partly used neurons (mean sigma 0.43 .. 0.9) sits above the largest jump: no clear split
    assert two["n_music"] == 16 and two["jump"] < 0.15 and 0.4 < two["min_noise_sigma"] < 0.5
    assert two["ablation_cost"] > 0.09 and not two["passes"]["clear_split"]
    # 16 bars: z is read (0.05 above the always-hold baseline, short of the 0.15 margin); 31 neurons below the
    # largest jump, then 9 partly used ones (mean sigma 0.58 .. 0.9): no clear split; the wider neurons are noise
    assert 0.04 < sixteen["argmax_accuracy"] - sixteen["hold_baseline"] < 0.15
    assert sixteen["n_music"] == 31 and sixteen["n_sigma_below_0.9"] == 40 and 0.5 < sixteen["min_noise_sigma"] < 0.6
    assert sixteen["noise_median_var_mu"] < 0.001 and sixteen["ablation_cost"] < 0.005
    assert sixteen["passes"] == {
        "accuracy": False,
        "margin_over_hold": False,
        "clear_split": False,
        "noise_var_mu": True,
        "noise_ablation": True,
    }
    assert sixteen["n_music"] > two["n_music"]  # more music neurons at 16 bars, as in the paper (77 against 37)


@pytest.mark.parametrize("name", [pytest.param(n, marks=NOT_YET) for n in SHIPPED])
def test_shipped_model_meets_the_acceptance_figures_on_held_out_pieces(name, acceptance):
    figures = acceptance[name]
    assert figures["passes"] == dict.fromkeys(figures["passes"], True), figures
    if name == "mn-hierdec-mel_16bar":
        assert figures["n_music"] > acceptance["mn-mel_2bar"]["n_music"]
