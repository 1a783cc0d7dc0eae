"""Traversals, intervention curves, audio and the explorer page, on a planted decoder and real corpus windows."""

import json

import numpy as np
import pandas as pd
import pytest
from offline_page import offline_page

from musicneurons.analysis.inputs import select_features
from musicneurons.features import catalogue, compute_features
from musicneurons.interventions import (
    ENABLE_AUDIO,
    NeuronChoice,
    audio_plan,
    audio_status,
    choose_anchors,
    choose_neurons,
    decoded_features,
    direction_changes,
    intervention_curves,
    monotonicity,
    neuron_directions,
    run_traversals,
    sweep_latents,
    traverse,
    value_grid,
    window_seconds,
)
from musicneurons.interventions.stage import NO_SPLIT_LABEL
from musicneurons.melody import corpus_melodies, pitch_to_event
from musicneurons.tables import array_column

Z = 8
PLANTED = 2  # the coordinate the planted decoder listens to


class PlantedDecoder:
    """Decoder stand-in: 8 quarter notes (one each 4 steps) at MIDI pitch 60 + round(4 z[PLANTED]).

    On the default grid (-3..3 in steps of 0.5) the pitch is 48, 50, ..., 72: strictly rising with the
    value, whatever the other coordinates are.
    """

    def __init__(self, steps=32):
        self.steps = steps
        self.calls = 0

    def __call__(self, z):
        self.calls += 1
        pitch = np.clip(60 + np.round(4 * np.asarray(z)[:, PLANTED]), 21, 108).astype(np.int64)
        events = np.zeros((len(z), self.steps), np.int8)
        events[:, ::4] = pitch_to_event(pitch)[:, None]
        return events


def test_value_grid_and_sweep_latents_set_the_projection():
    grid = value_grid()
    np.testing.assert_array_equal(grid, np.arange(-6, 7) / 2)
    rng = np.random.default_rng(0)
    mu = rng.standard_normal((3, Z))
    (axis,) = neuron_directions([5], Z)
    z = sweep_latents(mu, axis.vector, grid)
    assert z.shape == (3, 13, Z) and z.dtype == np.float32
    np.testing.assert_array_equal(z[:, :, 5], np.broadcast_to(grid.astype(np.float32), (3, 13)))
    np.testing.assert_array_equal(
        np.delete(z, 5, axis=2), np.repeat(np.delete(mu, 5, axis=1)[:, None], 13, 1).astype(np.float32)
    )
    u = rng.standard_normal(Z)
    u /= np.linalg.norm(u)
    z = sweep_latents(mu, u, grid).astype(np.float64)
    np.testing.assert_allclose(z @ u, np.broadcast_to(grid, (3, 13)), atol=1e-5)
    orth = z - (z @ u)[..., None] * u
    np.testing.assert_allclose(orth, np.repeat((mu - (mu @ u)[:, None] * u)[:, None], 13, 1), atol=1e-5)
    with pytest.raises(ValueError, match="steps"):
        value_grid(-1, 1, 1)


def test_anchors_are_seeded_and_spread_over_the_rows():
    a = choose_anchors(1000, 16, seed=3)
    np.testing.assert_array_equal(a, choose_anchors(1000, 16, seed=3))
    assert not np.array_equal(a, choose_anchors(1000, 16, seed=4))
    edges = np.linspace(0, 1000, 17).round()
    assert all(lo <= x < hi for x, lo, hi in zip(a, edges[:-1], edges[1:]))
    np.testing.assert_array_equal(choose_anchors(5, 16), np.arange(5))


def test_choose_neurons_labels_the_split():
    rng = np.random.default_rng(1)
    sigma = np.concatenate([rng.uniform(0.05, 0.1, (50, 3)), rng.uniform(0.9, 1.0, (50, 5))], axis=1)
    sigma[:, 6] = 1.5
    order = np.argsort(sigma.mean(axis=0), kind="stable")
    found = choose_neurons(sigma, k=8, music=order[:3])
    assert found.neurons == order[:3].tolist() and found.label == "music neurons" and found.control == 6
    none = choose_neurons(sigma, k=4, music=None)
    assert none.neurons == order[:4].tolist() and none.label == NO_SPLIT_LABEL
    assert "not called music neurons" in none.label
    asked = choose_neurons(sigma, neurons=[6, 0])
    assert asked.neurons == [6, 0] and asked.control is None


def test_planted_decoder_moves_mean_pitch_on_its_coordinate_only():
    rng = np.random.default_rng(0)
    mu = rng.standard_normal((5, Z))
    grid = value_grid()
    decode = PlantedDecoder()
    trav = traverse(decode, mu, neuron_directions([PLANTED, 0, 7], Z), grid, qpm=np.full(5, 100.0))
    assert len(trav) == 3 * 5 * 13 and decode.calls == 1
    assert list(trav["direction"].unique()) == ["n2", "n0", "n7"]
    feats = decoded_features(trav, ["P12", "P10", "R15", "M2"])
    curves = intervention_curves(trav, feats)
    planted = curves[(curves["direction"] == "n2") & (curves["feature"] == "P12")]
    np.testing.assert_array_equal(planted["mean"], 60 + 4 * grid)  # mean pitch 48, 50, ..., 72 exactly
    np.testing.assert_array_equal(planted["sd"], 0.0)
    assert (planted["n"] == 5).all()
    mono = monotonicity(trav, feats).set_index(["direction", "feature"])["monotonicity"]
    assert mono[("n2", "P12")] == pytest.approx(1.0, abs=1e-12)
    assert mono[("n2", "M2")] == 0.0  # every interval stays 2 semitones
    for other in ("n0", "n7"):
        assert (mono.loc[other] == 0.0).all()  # flat: nothing changes
        flat = curves[(curves["direction"] == other) & (curves["feature"] == "P12")]["mean"].to_numpy()
        assert np.ptp(flat) == 0.0
    changes = direction_changes(trav).set_index("direction")
    assert changes.loc["n2", "changed"] == 1.0 and changes.loc["n2", "distinct"] == 13.0
    assert changes.loc["n0", "changed"] == 0.0 and changes.loc["n7", "distinct"] == 1.0


def _hand_traversal(values):
    """A traversal of one direction, 2 anchors and len(values) grid values (events unused by monotonicity)."""
    g = len(values)
    return pd.DataFrame(
        {
            "direction": "n0",
            "kind": "neuron",
            "neuron": 0,
            "feature_id": "",
            "anchor": np.repeat([0, 1], g),
            "row": np.repeat([0, 1], g),
            "step": np.tile(np.arange(g), 2),
            "value": np.tile(values, 2),
            "qpm": 120.0,
            "events": [np.zeros(32, np.int8)] * (2 * g),
        }
    )


def test_monotonicity_rules_for_ties_constants_and_nan():
    values = np.linspace(-2, 2, 5)
    trav = _hand_traversal(values)
    feats = pd.DataFrame(
        {
            "up_down": [1, 2, 3, 4, 5, 5, 4, 3, 2, 1],  # +1 at anchor 0, -1 at anchor 1: mean 0
            "constant_then_up": [7, 7, 7, 7, 7, 1, 2, 2, 3, 4],  # 0 (does not move) and rho of a tied rise
            "sparse": [np.nan, 1, np.nan, 2, np.nan, 3, 2, 1, 0, -1],  # anchor 0: 2 defined values, left out
        },
        dtype=float,
    )
    m = monotonicity(trav, feats, scale={"up_down": 2.0}).set_index("feature")
    assert m.loc["up_down", "monotonicity"] == 0.0 and m.loc["up_down", "sd"] == pytest.approx(1.0, abs=1e-12)
    tied = pd.Series([1, 2, 2, 3, 4]).rank().corr(pd.Series(values))
    assert m.loc["constant_then_up", "monotonicity"] == pytest.approx(tied / 2, abs=1e-12)
    assert m.loc["constant_then_up", "moved"] == 0.5 and m.loc["constant_then_up", "anchors"] == 2
    assert m.loc["sparse", "monotonicity"] == pytest.approx(-1.0, abs=1e-12) and m.loc["sparse", "anchors"] == 1
    assert m.loc["up_down", "range"] == 4.0 and m.loc["up_down", "range_scaled"] == 2.0


def test_audio_plan_keeps_the_budget():
    rng = np.random.default_rng(0)
    trav = traverse(
        PlantedDecoder(),
        rng.standard_normal((4, Z)),
        neuron_directions([PLANTED, 1], Z),
        value_grid(),
        qpm=np.array([120.0, 60.0, 120.0, 120.0]),
    )
    rows, cover = audio_plan(trav, 32, budget_seconds=2 * 13 * 4 + 2 * 13 * 8)  # anchors 0 (4 s) and 1 (8 s)
    assert cover["anchors"] == [0, 1] and cover["steps"] == list(range(13)) and rows.sum() == 2 * 2 * 13
    rows, cover = audio_plan(trav, 32, budget_seconds=2 * 5 * 4)  # one anchor, every 3rd value
    assert cover == {"anchors": [0], "steps": [0, 3, 6, 9, 12], "seconds": 40.0} and rows.sum() == 10
    rows, cover = audio_plan(trav, 32, budget_seconds=0)
    assert not rows.any() and cover["anchors"] == []


@pytest.fixture(scope="module")
def corpus():
    windows = corpus_melodies(2, max_tunes=24, progress=False)
    events = array_column(windows, "events").astype(np.int8)
    qpm = windows["tempo"].to_numpy(dtype=np.float64)
    mu = np.random.default_rng(0).standard_normal((len(events), Z))
    mu[:, PLANTED] += (compute_features(events, qpm)["P12"].fillna(60).to_numpy() - 65) / 5  # correlates with pitch
    return windows, events, qpm, mu, compute_features(events, qpm)


@pytest.fixture(scope="module")
def stage(corpus, tmp_path_factory):
    """The whole stage with the planted decoder, audio as this machine allows."""
    windows, events, qpm, mu, feats = corpus
    out = tmp_path_factory.mktemp("trav") / "planted"
    choice = NeuronChoice([PLANTED, 0, 5], "music neurons", control=7)
    seconds = window_seconds(32, qpm[choose_anchors(len(events), 4, 0)])
    budget = 4 * 13 * (seconds[0] + seconds[1]) + 1  # the 4 neuron sweeps of the first two anchors
    return run_traversals(
        PlantedDecoder(),
        events,
        qpm,
        mu,
        feats,
        choice,
        out,
        n_anchors=4,
        attributes=["P12"],
        audio_seconds=budget,
        sources=windows,
        title="planted",
    )


def test_stage_tables_matrices_and_summaries(stage, corpus):
    windows, events, qpm, mu, feats = corpus
    d = stage.directory
    assert stage.info["label"] == "music neurons" and stage.info["neurons"] == [2, 0, 5]
    assert list(stage.traversal["direction"].unique()) == ["n2", "n0", "n5", "n7", "attr:P12"]
    assert len(stage.traversal) == 5 * 4 * 13
    np.testing.assert_array_equal(stage.anchors["row"], choose_anchors(len(events), 4, 0))
    np.testing.assert_array_equal(stage.traversal["qpm"], np.repeat(qpm[stage.anchors["row"]], 13).tolist() * 5)
    kept, _ = select_features(feats, catalogue())
    assert list(stage.matrix.columns) == list(kept.columns) == list(stage.phik.columns)
    assert list(stage.matrix.index) == list(stage.phik.index) == ["n2", "n0", "n5", "n7"]
    assert stage.matrix.loc["n2", "P12"] == pytest.approx(1.0, abs=1e-12)
    assert (stage.matrix.loc[["n0", "n5", "n7"]].fillna(0) == 0).all().all()
    s = stage.summaries.set_index("neuron")
    assert s.loc[2, "monotonicity"] == pytest.approx(1.0, abs=1e-12) and s.loc[2, "changed"] == 1.0
    assert "changes no decoded window" in s.loc[0, "line"] and "changes no decoded window" in s.loc[7, "line"]
    assert s.loc[2, "correlates_most"] in kept.columns and s.loc[2, "phik"] > 0.3
    comparison = stage.attributes.set_index("feature_id")
    assert comparison.loc["P12", "best_neuron"] == "n2"
    assert comparison.loc["P12", "neuron_monotonicity"] == pytest.approx(1)
    for name in ("intervention_matrices", "intervention_curves"):
        assert (d / f"{name}.png").stat().st_size > 5000 and (d / f"{name}.svg").is_file()


def test_stage_midi_files_hold_the_decoded_windows(stage):
    import mido

    midi = sorted((stage.directory / "midi").rglob("*.mid"))
    assert len(midi) == len(stage.traversal)
    row = stage.traversal[(stage.traversal["direction"] == "n2") & (stage.traversal["step"] == 12)].iloc[1]
    path = stage.directory / "midi" / "n2" / f"a01_v{row['value']:+.2f}.mid"
    notes = [m.note for m in mido.MidiFile(path) if m.type == "note_on" and m.velocity > 0]
    assert notes == [72] * 8
    tempo = [m.tempo for m in mido.MidiFile(path) if m.type == "set_tempo"]
    assert tempo == [mido.bpm2tempo(row["qpm"])]


def _needs_audio():
    font, why = audio_status()
    if font is None:
        pytest.skip(f"audio decoding check needs FluidSynth and a SoundFont: {why}")
    return font


def test_audio_clips_last_the_window_and_are_not_silent(corpus):
    from musicneurons.interventions.audio import decode_audio, render_windows, window_seconds

    font = _needs_audio()
    windows, events, qpm, _, _ = corpus
    half = np.zeros(32, np.int8)
    half[0], half[8], half[16] = 41, 45, 1  # two half notes, then 2 bars... of silence
    chosen = np.concatenate([events[:3], half[None]])
    tempi = np.array([qpm[0], 90.0, 150.0, 120.0])
    clips = render_windows(chosen, tempi, font)
    for data, q in zip(clips, tempi):
        samples, rate = decode_audio(data)
        assert data[:4] == b"OggS" and samples.ndim == 1
        assert abs(len(samples) / rate - window_seconds(32, q)) < 0.05
        assert np.sqrt(np.mean(samples**2)) > 0.01
    samples, rate = decode_audio(clips[-1])
    sounding, silent = samples[:rate], samples[-rate // 2 :]  # 0-1 s sounds; the last 0.5 s is 1.5 s after
    assert np.abs(silent).max() < 0.01 < np.abs(sounding).max()


def test_stage_audio_covers_the_planned_cells(stage):
    _needs_audio()
    audio = stage.info["audio"]
    assert audio["anchors"] == [0, 1] and audio["off_reason"] == ""
    assert set(stage.audio["direction"]) == {"n2", "n0", "n5", "n7"}
    # one clip per distinct (window, tempo): n2 changes the window at all 13 values, the others never
    rows = stage.traversal[stage.traversal["anchor"].isin([0, 1]) & (stage.traversal["kind"] == "neuron")]
    distinct = {(ev.tobytes(), q) for ev, q in zip(rows["events"], rows["qpm"])}
    assert audio["clips"] == stage.audio["clip"].nunique() == len(distinct) >= 13 + 1
    assert len(stage.audio) == len(rows) == 2 * 4 * 13
    assert stage.clip("n2", 0, 3) != stage.clip("n2", 0, 4) and stage.clip("n0", 1, 0) == stage.clip("n0", 1, 12)
    assert stage.clip("n2", 3, 0) is None and stage.clip("attr:P12", 0, 0) is None


def test_stage_without_a_soundfont_says_how_to_enable_audio(corpus, tmp_path, monkeypatch):
    monkeypatch.setattr("musicneurons.interventions.audio._SOUNDFONTS", ())
    monkeypatch.delenv("MUSICNEURONS_SOUNDFONT", raising=False)
    windows, events, qpm, mu, feats = corpus
    res = run_traversals(
        PlantedDecoder(),
        events,
        qpm,
        mu,
        feats,
        NeuronChoice([PLANTED], "music neurons"),
        tmp_path / "silent",
        n_anchors=2,
        attributes=False,
        figures=False,
    )
    assert res.audio is None and not (tmp_path / "silent" / "audio").exists()
    assert ENABLE_AUDIO in res.info["audio"]["off_reason"]
    assert "--soundfont PATH" in ENABLE_AUDIO and "apt-get install fluidsynth fluid-soundfont-gm" in ENABLE_AUDIO
    page = (tmp_path / "silent" / "explorer.html").read_text()
    payload = json.loads(page.split('<script type="application/json" id="data">')[1].split("</script>")[0])
    assert payload["audio"] == [] and ENABLE_AUDIO in payload["audioNote"]


def test_explorer_in_headless_chromium(stage):

    page_path = stage.directory / "explorer.html"
    html = page_path.read_text()
    assert "<link" not in html and ' src="http' not in html and "<img" not in html
    with offline_page(page_path, ["--autoplay-policy=no-user-gesture-required"]) as (page, errors, requests):
        state = (
            "() => ({w: document.querySelector('#roll svg').dataset.window, src: document.getElementById('audio')"
            ".getAttribute('src'), rects: document.querySelectorAll('#roll svg rect').length, "
            "value: document.getElementById('value-text').textContent, rows: document.querySelectorAll("
            "'#features tr').length, title: document.getElementById('roll-title').textContent})"
        )
        assert page.evaluate("document.getElementById('direction').selectedOptions[0].text").startswith("neuron 2")
        first = page.evaluate(state)
        page.focus("#value")
        page.keyboard.press("ArrowRight")  # keyboard moves the slider
        second = page.evaluate(state)
        page.keyboard.press("End")
        last = page.evaluate(state)
        page.select_option(
            "#direction",
            label=page.evaluate("Array.from(document.getElementById('direction').options).map(o => o.text)")[1],
        )
        other = page.evaluate(state)
        page.focus("#value")
        page.keyboard.press("Home")
        other_low = page.evaluate(state)
        duration = None
        if first["src"]:
            duration = page.evaluate("""async () => { const a = document.getElementById('audio');
                a.load(); await new Promise((ok, bad) => { a.onloadedmetadata = ok; a.onerror = bad; });
                return a.duration; }""")
    assert errors == [] and requests == []
    assert [s["value"][:5] for s in (first, second, last)] == ["+0.00", "+0.50", "+3.00"]
    assert first["w"] != second["w"] != last["w"] and first["rects"] > 8 and first["rows"] >= 1
    assert "at +0.50" in second["title"] and "8 notes" in second["title"]
    assert other["title"].startswith("neuron 0") and other["w"] == other_low["w"]  # n0 does not move the window
    if audio_status()[0] is None:
        pytest.skip("the audio-source part of the explorer check needs FluidSynth and a SoundFont")
    assert first["src"].startswith("data:audio/ogg;base64,") and second["src"] != first["src"] != last["src"]
    assert abs(duration - 32 * 15 / stage.anchors["qpm"].iloc[0]) < 0.05


def test_traverse_command_on_a_midi_file(tmp_path, capsys):
    import torch

    from midi_helpers import midi_bytes, quarters
    from musicneurons.cli import main
    from musicneurons.model import MusicVAE, get_config, save_model

    torch.manual_seed(0)
    model = MusicVAE(get_config("mn-mel_2bar").replace(name="tiny", z_size=16, enc_sizes=(16,), dec_sizes=(16, 16)))
    with torch.no_grad():
        model.encoder.sigma.bias[:] = 0.5413  # softplus -> sigma 1
        model.encoder.sigma.bias[:3] = -3.0  # three music neurons, sigma 0.05
        model.encoder.mu.weight[:3].mul_(300)
        model.encoder.mu.weight[3:].mul_(0.3)  # the rest: a pile at the prior (mu nearly constant)
        model.encoder.mu.bias[3:] = 0.0
    save_model(model, tmp_path / "tiny")
    (tmp_path / "tune.mid").write_bytes(midi_bytes([{"notes": quarters([60, 62, 64, 65, 67, 69, 71, 72] * 3)}]))
    out = tmp_path / "trav"
    assert (
        main(
            [
                "traverse",
                str(tmp_path / "tiny"),
                str(tmp_path / "tune.mid"),
                "--out",
                str(out),
                "--anchors",
                "2",
                "--grid",  # a negative grid as a separate word (argparse alone reads it as an option)
                "-2,2,5",
                "--audio-seconds",
                "0",
                "--no-attributes",
                "--quiet",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "swept the music neurons" in printed and "Audio was not asked for" in printed
    assert printed.count("neuron") >= 4
    trav = __import__("musicneurons.interventions", fromlist=["TraversalResults"]).TraversalResults.load(out)
    assert trav.info["neurons"] and len(trav.info["neurons"]) == 3 and trav.info["grid"] == [-2, -1, 0, 1, 2]
    assert len(trav.traversal) == (3 + 1) * 2 * 5 and (out / "explorer.html").is_file()
    args = ["traverse", str(tmp_path / "tiny"), str(tmp_path / "tune.mid"), "--out", str(out), "--grid"]
    rule = "must be LOW,HIGH,STEPS with finite LOW < HIGH and an integer STEPS >= 2 (e.g. -3,3,13)"
    for grid in ("3,1,5", "1:3", "-1,1,1", "-1,nan,5"):
        assert main([*args, grid]) == 1
        assert capsys.readouterr().err == f"musicneurons traverse: error: --grid {grid}: {rule}\n"
