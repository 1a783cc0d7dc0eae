"""The models shipped with the package: they load, match their registered configs, and reconstruct melodies."""

import json

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


def test_shipped_2bar_model_reconstructs_corpus_windows():
    from musicneurons.melody import corpus_melodies
    from musicneurons.tables import array_column
    events = array_column(corpus_melodies(bars=2, max_tunes=20, progress=False), "events").astype(np.int8)
    model = load_model("mn-mel_2bar")
    accuracy = (model.reconstruct(events) == events).mean()
    hold_baseline = (events == 0).mean()
    assert accuracy > 0.85 and accuracy > hold_baseline + 0.2
