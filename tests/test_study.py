"""The one-command study: end to end on a corpus slice with tiny models, resume, escaping, the report."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import torch

from midi_helpers import midi_bytes, quarters
from offline_page import offline_page
from musicneurons.cli import main
from musicneurons.contracts import KEY_NUMBERS, Latents, Windows
from musicneurons.encoding import encode_windows
from musicneurons.model import MusicVAE, get_config, load_model, save_model
from musicneurons.pipeline import run_study
from musicneurons.report.finding import finding_lines
from musicneurons.report.labels import name_feature_ids
from musicneurons.rundir import Entry
from musicneurons.run_command import closing_table
from musicneurons.tables import array_column, load_table

MAX_TUNES = 40
STAGE_TABLES = ["melodies", "random", "latents_real", "latents_random", "features_real", "features_random"]


def tiny_model(directory, bars, seed=0):
    """A 16-unit MusicVAE with z = 16 whose first 4 neurons have sigma ~0.05 and the rest sit at the prior.

    The rest: sigma ~1 and mu nearly constant (a small spread of mu: activity orders of magnitude below the
    first 4), the pile at the prior the split rule looks for.
    """
    torch.manual_seed(seed)
    base = get_config("mn-mel_2bar" if bars == 2 else "mn-hierdec-mel_16bar")
    extra = {"conductor_sizes": (16, 16)} if bars == 16 else {}
    model = MusicVAE(base.replace(name=f"tiny-{bars}bar", z_size=16, enc_sizes=(16,), dec_sizes=(16, 16), **extra))
    with torch.no_grad():
        model.encoder.sigma.bias[:] = 0.5413  # softplus -> 1.0
        model.encoder.sigma.bias[:4] = -3.0  # softplus -> 0.049
        model.encoder.mu.weight[:4].mul_(300)
        model.encoder.mu.weight[4:].mul_(0.3)
        model.encoder.mu.bias[4:] = 0.0
    return save_model(model, directory)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("study")
    patch = pytest.MonkeyPatch()
    patch.setenv("MUSICNEURONS_CACHE", str(root / "cache"))  # subprocesses inherit it too
    yield root, {b: str(tiny_model(root / f"tiny{b}", b)) for b in (2, 16)}
    patch.undo()


@pytest.fixture(scope="module")
def study(env):
    root, models = env
    return run_study(root / "run", model=models, max_tunes=MAX_TUNES, progress=False)


def test_every_stage_and_the_summary(study):
    s = study.summary
    for b in (2, 16):
        d = study.directory / f"bars{b}"
        for name in STAGE_TABLES:
            assert (d / f"{name}.parquet").is_file(), name
        real, _ = load_table(d / "melodies.parquet")
        mu = array_column(load_table(d / "latents_real.parquet")[0], "mu")
        feats, _ = load_table(d / "features_real.parquet")
        assert len(real) == len(mu) == len(feats) == s["per_bars"][f"{b}-bar"]["windows_real"] > 0
        assert s["per_bars"][f"{b}-bar"]["windows_random"] == len(real)
        per = s["per_bars"][f"{b}-bar"]
        assert per["music_neurons"] == 4  # planted: neurons 0-3 have sigma 0.05
        assert per["split_found"] and per["split"]["count"] == 4 and per["group"] == "music neurons"
        assert per["count_interval"] == [4, 4] and per["decoder"]["fewest_k"].keys() == {"0.01", "0.005"}
        # a corpus slice of 40 tunes gives fewer windows than phik's tables need: no verdicts, and it says so
        assert per["sample"]["too_small"] and per["sample"]["reason"].endswith("(5 windows a cell)")
        assert {c["verdict"] for c in per["claims"]["claims"]} == {"cannot tell"}
        ablation = per["noise_test"]["ablation"]  # decoded by the model, 16,384 steps a condition at most
        assert [r["condition"] for r in ablation] == ["mu as is", "noise mu set to 0", "music mu set to 0"]
        assert [r["windows"] for r in ablation] == [min(len(real), 16384 // (16 * b))] * 3
        test = per["noise_test"]  # the verdict's rule has its own tests (test_analysis_noise); here: wired through
        assert [test["noise_drop"], test["music_drop"]] == [r["accuracy_drop"] for r in ablation[1:]]
        assert test["verdict"] in ("noise neurons are unused", "noise neurons are used by the decoder", "cannot tell")
        assert per["claims"]["caveats"] == [
            "This model has no model card with held-out metrics: how well it is trained is not known."
        ]
        assert [c["claim"] for c in per["claims"]["claims"]] == list("abcdef")
        assert per["example"]["title"] == '"Twinkle, twinkle, little star"' and len(per["example"]["sigma"]) == 16
        assert real.groupby(["file", "tune"]).size().max() <= 5
        for fig in (
            "fig2_example_rolls",
            "fig3_example_latents",
            "fig4_neuron_boxplots",
            "fig5_pearson_mu",
            "fig6_feature_phik",
            "fig7_neuron_feature_phik",
            "fig10_real_random_histograms",
            "fig11_activation_counts",
            "fig11_activation_counts_relative",
            "split_counts",
            "decoder_curve",
            "neuron_kl",
        ):
            assert fig in study.results[b].figures, fig
            assert study.results[b].figures[fig].stat().st_size > 1000
            assert study.results[b].figures[fig].with_suffix(".svg").is_file()
    assert {n["neuron"] for n in s["per_bars"]["2-bar"]["strongest_features"]} <= {0, 1, 2, 3}
    assert json.loads((study.directory / "summary.json").read_text())["per_bars"]["2-bar"]["music_neurons"] == 4
    f_two, f_sixteen = (s["per_bars"][k]["claims"]["claims"][5] for k in ("2-bar", "16-bar"))
    assert f_two == f_sixteen and "4 music neurons against 4 (1.00x)" in f_two["ours"]
    assert set(s["versions"]) >= {"musicneurons", "torch", "music21"} and s["timings_s"]["total"] > 0
    table = closing_table(s)
    assert "music neurons (detected split)" in table and "2-bar" in table and "16-bar" in table
    two = s["per_bars"]["2-bar"]
    lines = table.splitlines()
    start = lines.index("2-bar:")  # the finding of each length, the report's first lines, then the claims' legend
    assert lines[start + 1] == "  split: 4 music neurons of 16 (bootstrap interval 4-4); the other 12 sit at the prior."
    verdicts = ", ".join(f"({c['claim']}) {c['verdict']}" for c in two["claims"]["claims"])
    assert f"  the paper's claims: 6 cannot tell (of 6 claims: {verdicts})." in lines
    assert lines[-1] == "claims: " + "; ".join(f"({c['claim']}) {c['title']}" for c in two["claims"]["claims"])
    assert "  noise neurons: Cannot tell. The 12 noise neurons have mean sigma 1.000 (prior 1)" in table
    for b in (2, 16):
        assert study.results[b].analysis.neurons["music"].sum() == 4
        assert len(study.results[b].windows) == s["per_bars"][f"{b}-bar"]["windows_real"]


def test_results_read_well_in_a_notebook(study):
    two = study.results[2]
    n = two.summary["windows_real"]
    assert repr(two) == (
        f"<BarsResult 2 bars, model {two.model!r}: {n:,} real windows, 4 music neurons; "
        f".table(name) for {len(two.tables)} tables; {two.directory}>"
    )
    assert repr(study) == (
        f"<StudyRun 2 bars: 4 music neurons; 16 bars: {study.results[16]._split()}; report {study.report}>"
    )
    html = two._repr_html_()
    assert html.startswith(f"<h4>2 bars, model {two.model}: 4 music neurons</h4><table><tr><th>number</th>")
    assert f"<tr><td>real windows</td><td>{n}</td></tr>" in html
    verdicts = [c["verdict"] for c in two.summary["claims"]["claims"]]
    assert html.count("<tr>") == 2 + len(KEY_NUMBERS) + len(verdicts) and verdicts
    assert study._repr_html_().count("<h4>") == 2
    assert two.tables[:3] == ["neurons", "split_counts", "kl"] and two.table("neurons") is two.analysis.neurons
    with pytest.raises(KeyError) as exc:
        two.table("nosuch")
    assert exc.value.args[0] == f"no analysis table 'nosuch'; the tables are {', '.join(two.tables)}"


def test_rerun_is_cached_and_identical(study, env):
    root, models = env
    before = {p: p.stat().st_mtime_ns for p in study.directory.rglob("*.parquet")}
    again = run_study(root / "run", model=models, max_tunes=MAX_TUNES, progress=False)
    assert {p: p.stat().st_mtime_ns for p in study.directory.rglob("*.parquet")} == before
    assert again.summary["per_bars"] == study.summary["per_bars"]


class _Interrupted(KeyboardInterrupt):
    pass


class _FlakyModel:
    """Wraps a model; its second encode call raises, as a Ctrl-C in the middle of the stage would."""

    def __init__(self, model):
        self.model, self.calls = model, 0
        self.config = model.config

    def encode(self, events, **kw):
        self.calls += 1
        if self.calls == 2:
            raise _Interrupted
        return self.model.encode(events, **kw)


def test_encoding_resumes_chunk_by_chunk(study, env, tmp_path):
    root, models = env
    events = Windows.load(study.directory / "bars2" / "melodies.parquet").events[:200]
    flaky = _FlakyModel(load_model(models[2]))
    entry = Entry(tmp_path / "latents.parquet", "k")
    with pytest.raises(_Interrupted):
        encode_windows(entry, events, lambda: flaky, 16, chunk=64, progress=False)
    parts = list((tmp_path / "latents.parquet.parts").rglob("part-*.npz"))
    assert [p.name for p in parts] == ["part-000000.npz"] and not entry.path.exists()
    latents = encode_windows(entry, events, lambda: flaky, 16, chunk=64, progress=False)
    assert flaky.calls == 2 + 3  # the interrupted run encoded chunk 0; the rerun chunks 1-3 only
    ref_mu, ref_sigma = flaky.model.encode(events)
    np.testing.assert_array_equal(latents.mu, ref_mu)
    np.testing.assert_array_equal(latents.sigma, ref_sigma)
    assert not (tmp_path / "latents.parquet.parts").exists() and entry.verified()
    np.testing.assert_array_equal(Latents.load(entry.path).mu, ref_mu)


def test_encode_command_equals_the_pipelines_latents(study, env, tmp_path, capsys):
    root, models = env
    for b in (2, 16):
        melodies, out = study.directory / f"bars{b}" / "melodies.parquet", tmp_path / f"latents{b}.parquet"
        assert main(["encode", str(melodies), "--model", models[b], "--out", str(out), "--quiet"]) == 0
        n = len(Windows.load(melodies))
        assert capsys.readouterr().out == f"wrote {out}: {n} windows, z = 16\n"
        encoded, pipeline = Latents.load(out), Latents.load(study.directory / f"bars{b}" / "latents_real.parquet")
        np.testing.assert_array_equal(encoded.mu, pipeline.mu)
        np.testing.assert_array_equal(encoded.sigma, pipeline.sigma)
        assert encoded.mu.dtype == np.float32 and encoded.mu.shape == (n, 16)
    before = out.stat().st_mtime_ns
    assert main(["encode", str(melodies), "--model", models[16], "--out", str(out), "--quiet"]) == 0
    assert out.stat().st_mtime_ns == before  # complete and verified: reused
    assert (
        main(
            [
                "encode",
                str(study.directory / "bars2" / "melodies.parquet"),
                "--model",
                models[16],
                "--out",
                str(tmp_path / "x.parquet"),
            ]
        )
        == 1
    )
    assert (
        capsys.readouterr().err.strip().endswith("windows of 2 bars; model " + repr(models[16]) + " is a 16-bar model")
    )


def test_killed_run_resumes_to_the_same_results(study, env, tmp_path):
    root, models = env
    out = tmp_path / "killed"
    cmd = [
        sys.executable,
        "-m",
        "musicneurons",
        "run",
        "--model",
        models[2],
        "--max-tunes",
        str(MAX_TUNES),
        "--out",
        str(out),
        "--quiet",
    ]
    proc = subprocess.Popen(cmd, env={**os.environ}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 300
    while not (out / "bars2" / "analysis").exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # in the middle of the analysis stage
    assert proc.poll() is None, proc.stderr.read().decode()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (out / "bars2" / "analysis.done.json").exists() and not (out / "index.html").exists()
    assert subprocess.run(cmd, env={**os.environ}, capture_output=True).returncode == 0
    for name in STAGE_TABLES:
        resumed, _ = load_table(out / "bars2" / f"{name}.parquet")
        full, _ = load_table(study.directory / "bars2" / f"{name}.parquet")
        pd.testing.assert_frame_equal(
            resumed.drop(
                columns=[
                    c for c in resumed if resumed[c].dtype == object and isinstance(resumed[c].iloc[0], np.ndarray)
                ]
            ),
            full.drop(columns=[c for c in full if full[c].dtype == object and isinstance(full[c].iloc[0], np.ndarray)]),
        )
    for name in ("neurons", "correlations", "contrast", "attributes"):
        pd.testing.assert_frame_equal(
            pd.read_csv(out / "bars2" / "analysis" / f"{name}.csv"),
            pd.read_csv(study.directory / "bars2" / "analysis" / f"{name}.csv"),
        )


def test_markup_in_a_track_name_is_escaped(env, tmp_path):
    root, models = env
    data = tmp_path / "midi"
    data.mkdir()
    evil = '<script>alert("pwned")</script><img src=x onerror=alert(1)>'
    for i in range(6):
        notes = quarters([60 + (i + k) % 12 for k in range(16)])
        (data / f"song{i}.mid").write_bytes(midi_bytes([{"notes": notes, "name": evil}]))
    run = run_study(tmp_path / "run", model=models[2], data=data, progress=False)
    page = run.report.read_text()
    assert "<script" not in page and "onerror=alert" not in page.replace("onerror=alert(1)&gt;", "")
    assert "&lt;script&gt;alert(" in page and "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in page


def test_report_in_headless_chromium(study):
    with offline_page(
        study.report,
        ["--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    ) as (page, errors, requests):
        images = page.evaluate("Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)")
        text = page.inner_text("body")
        page.set_viewport_size({"width": 1280, "height": 800})
        first_screen = page.evaluate("""Array.from(document.querySelectorAll("section.finding")).map(f => {
            f.scrollIntoView(); const box = f.getBoundingClientRect();
            return {inside: box.height <= window.innerHeight, heading: f.previousElementSibling.id,
                    rows: Array.from(f.querySelectorAll("dt")).map(dt => [dt.innerText, dt.nextElementSibling.innerText])};
        })""")
        page.evaluate("window.scrollTo(0, 0)")
        top = page.evaluate("document.querySelector('section.finding').getBoundingClientRect().bottom")
        links = page.evaluate("Array.from(document.querySelectorAll('p.rule a')).map(a => a.getAttribute('href'))")
        claims = page.evaluate("""Array.from(document.querySelectorAll("h2[id^=bars]")).map(h => {
            const next = h.nextElementSibling.nextElementSibling;
            return {bars: h.id, first: next.tagName + " " + next.className,
                    caveats: Array.from(next.querySelectorAll("p.caveat")).map(p => p.innerText),
                    rows: Array.from(next.querySelectorAll("tbody tr")).map(
                        tr => Array.from(tr.cells).map(td => td.innerText))};
        })""")
    assert errors == [] and requests == []
    assert len(images) >= 16 and all(images)
    on_disk = json.loads((study.directory / "summary.json").read_text())
    assert [section["bars"] for section in claims] == ["bars2", "bars16"]
    assert top <= 800  # the 2-bar finding is inside the first screen at 1280 x 800, before any table
    for b, shown in zip((2, 16), first_screen):  # each finding fits one screen and says what summary.json says
        assert shown["inside"] and shown["heading"] == f"bars{b}"
        assert shown["rows"] == [[t, x.replace("`", "")] for t, x in finding_lines(on_disk["per_bars"][f"{b}-bar"])]
    assert "bars2/analysis/correlations.csv" in links and "bars16/analysis/attributes.csv" in links
    for b, section in zip((2, 16), claims):
        s = study.summary["per_bars"][f"{b}-bar"]
        assert f"real windows\n{s['windows_real']}" in text
        assert f"music neurons (detected split)\n{s['music_neurons']} (4-4)" in text
        judged = on_disk["per_bars"][f"{b}-bar"]["claims"]
        assert section["first"] == "SECTION claims"  # the claims come right after the finding
        too_small = f"The sample is too small for verdicts: {judged['sample']['reason']}."
        assert section["caveats"] == [*judged["caveats"], too_small] and len(judged["caveats"]) == 1
        assert section["rows"] == [
            [f"({c['claim']}) {c['title']}", c["paper"], name_feature_ids(c["ours"]), c["verdict"], c["rule"]]
            for c in judged["claims"]
        ]
    assert text.count("Split found: 4 music neurons (bootstrap interval 4-4). 4 of 16 neurons are used") == 2
