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

    said = "| music/noise split (the study's rule, `musicneurons.analysis.split`) | "
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


HELDOUT = Path(__file__).parent / "fixtures" / "heldout"  # written by scripts/fixtures/make_heldout_fixture.py
# The 16-bar model is under-trained: its accuracy (0.77 on this sample, 0.69 on every held-out window) is short
# of 0.80 and of the always-hold baseline + 0.15. Strict: the day it passes, this test fails until the mark is
# removed, so the figures are then enforced.
NOT_YET_16 = pytest.mark.xfail(
    strict=True, reason="mn-hierdec-mel_16bar fails 'accuracy' and 'margin_over_hold' (under-trained)"
)


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
    # 2 bars: accurate; 39 music neurons above a pile of 473 at the prior (tiny var(mu), free to zero), the
    # paper's structure (37 in the paper)
    assert two["argmax_accuracy"] > 0.94 and two["split_found"] and two["n_music"] == 39
    assert two["noise_median_var_mu"] < 0.002 and two["ablation_cost"] < 0.005 and two["kl_share_music"] > 0.97
    assert two["passes"] == dict.fromkeys(two["passes"], True)
    # 16 bars: z is read (0.05 above the always-hold baseline, short of the 0.15 margin); 32 music neurons above
    # a pile of 480 that costs nothing to zero
    assert 0.04 < sixteen["argmax_accuracy"] - sixteen["hold_baseline"] < 0.15
    assert sixteen["split_found"] and sixteen["n_music"] == 32 and sixteen["ablation_cost"] < 0.005
    assert sixteen["passes"] == {
        "accuracy": False,
        "margin_over_hold": False,
        "split": True,
        "noise_var_mu": True,
        "noise_ablation": True,
    }


@pytest.mark.parametrize("name", ["mn-mel_2bar", pytest.param("mn-hierdec-mel_16bar", marks=NOT_YET_16)])
def test_shipped_model_meets_the_acceptance_figures_on_held_out_pieces(name, acceptance):
    figures = acceptance[name]
    assert figures["passes"] == dict.fromkeys(figures["passes"], True), figures


def test_the_shipped_2bar_model_shows_the_papers_structure_on_held_out_pieces():
    """The whole study's reading on 600 held-out windows: a split, inside the decoder's band, noise unused, verdicts."""
    from musicneurons.analysis import analyse_study, decoder_curve, noise_ablation, split_neurons
    from musicneurons.analysis.ablation import decoded_windows
    from musicneurons.features import catalogue, compute_features
    from musicneurons.melody import random_windows

    model = load_model("mn-mel_2bar")
    events = np.load(HELDOUT / "heldout_2bar.npy")
    random_events, random_qpm = random_windows(len(events), bars=2, seed=0)
    mu, sigma = model.encode(events)
    random_mu, random_sigma = model.encode(random_events)
    split = split_neurons(mu, sigma)
    rows, proof = decoded_windows(len(events), events.shape[1])
    orders = {"mean sigma": split.order, "activity": np.argsort(-split.profile.activity, kind="stable")}
    results = analyse_study(
        mu,
        sigma,
        compute_features(events, np.full(len(events), 120.0)),
        random_mu,
        random_sigma,
        None,
        catalogue(),
        ablation=noise_ablation(model.decode, mu[rows], events[rows], split),
        split=split,
        decoder=decoder_curve(model.decode, mu[proof], events[proof], orders),
    )
    s = results.summary
    assert s["split_found"] and s["music_neurons"] == 38 and not s["sample"]["too_small"]
    low, high = s["decoder"]["band"]
    assert low <= s["music_neurons"] <= high and s["decoder"]["agrees"]
    assert s["noise_test"]["verdict"] == "noise neurons are unused"
    verdicts = [c["verdict"] for c in s["claims"]["claims"]]
    assert verdicts[:5] != ["cannot tell"] * 5 and verdicts[0] == "holds"
