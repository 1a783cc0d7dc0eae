"""The traversal stage inside the one-command study: run directory entry, rerun, report section, sweep players."""

import pytest

from musicneurons.interventions import audio_status
from musicneurons.pipeline import run_study
from offline_page import offline_page
from test_study import tiny_model  # the planted 2-bar model the study tests share

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("travstudy")
    patch = pytest.MonkeyPatch()
    patch.setenv("MUSICNEURONS_CACHE", str(root / "cache"))
    run = run_study(
        root / "run", model=str(tiny_model(root / "tiny", 2)), max_tunes=30, progress=False, traversals=True
    )
    yield run
    patch.undo()


def test_traversal_stage_of_the_study(study):
    res = study.results[2]
    trav = res.extra["traversals"]
    assert trav.directory == study.directory / "bars2" / "traversals"
    assert trav.info["label"] == "music neurons" and len(trav.info["neurons"]) == 4
    order = res.analysis.neurons["neuron"].tolist()
    assert trav.info["neurons"] == order[:4] and trav.info["control"] == order[-1]
    assert list(trav.matrix.columns) == list(res.analysis.feature_phik.columns)  # the analysis's features
    strongest = res.analysis.correlations.drop_duplicates("neuron").set_index("neuron")["feature_id"]
    s = trav.summaries.set_index("neuron")
    for neuron in trav.info["neurons"]:
        assert s.loc[neuron, "correlates_most"] == strongest[neuron]
    assert study.summary["per_bars"]["2-bar"]["traversals"]["lines"] == trav.summaries["line"].tolist()
    assert (trav.directory / "explorer.html").is_file()
    assert study.summary["timings_s"]["bars2/traversals"] > 0
    assert study.summary["settings"]["traversals"] is True


def test_rerun_reuses_the_traversals(study):
    entry = study.directory / "bars2" / "traversals" / "traversals.parquet"
    before = entry.stat().st_mtime_ns
    again = run_study(study.directory, model=study.results[2].model, max_tunes=30, progress=False, traversals=True)
    assert entry.stat().st_mtime_ns == before
    assert again.results[2].extra["traversals"].summaries.equals(study.results[2].extra["traversals"].summaries)


def test_report_section_and_sweep_players_in_chromium(study):

    html = study.report.read_text()
    assert "Moving a neuron: traversals of the music neurons" in html
    assert 'href="bars2/traversals/explorer.html"' in html
    with offline_page(study.report) as (page, errors, requests):
        rolls = page.evaluate("document.querySelectorAll('#trav2 ~ .trav-row svg.roll').length")
        players = page.evaluate("document.querySelectorAll('audio[data-store=\"trav2-clips\"]').length")
        moved = None
        if players:
            moved = page.evaluate("""() => { const a = document.querySelector('audio[data-store="trav2-clips"]');
                const clips = JSON.parse(document.getElementById('trav2-clips').textContent);
                const order = JSON.parse(a.dataset.clips), first = a.getAttribute('src');
                a.dispatchEvent(new Event('ended'));
                return {first, next: a.getAttribute('src'), expected: [clips[order[0][1]], clips[order[1][1]]],
                        steps: order.length, playing: document.querySelectorAll('figure.playing').length}; }""")
    assert errors == [] and requests == []
    assert rolls == (4 + 1) * 13 * max(1, min(2, len(study.results[2].extra["traversals"].info["audio"]["anchors"])))
    if audio_status()[0] is None:
        assert players == 0 and "apt-get install fluidsynth fluid-soundfont-gm" in html
        pytest.skip("the sweep-player check needs FluidSynth and a SoundFont")
    assert players == (4 + 1) * 2
    assert moved["first"].startswith("data:audio/ogg;base64,") and moved["steps"] == 13
    assert [moved["first"], moved["next"]] == moved["expected"] and moved["playing"] == 1
