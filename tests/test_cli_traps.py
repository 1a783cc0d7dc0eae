"""The command line's traps: options checked before work, negative values, the option as typed, "did you mean"."""

import pytest

from midi_helpers import midi_bytes, quarters
from musicneurons.cli import build_parser, check_spelling, main


def cli(args, capsys):
    """``musicneurons ARGS`` in this process -> (exit status, last line of stderr)."""
    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:  # argparse
        code = exc.code
    lines = capsys.readouterr().err.strip().splitlines()
    return code, lines[-1] if lines else ""


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MUSICNEURONS_CACHE", str(tmp_path / "cache"))
    return tmp_path


@pytest.mark.parametrize(
    "neurons, problem",
    [
        ("999", "neuron 999 is outside the model's latent of 512 neurons (0..511)"),
        ("3,-1", "neuron -1 is outside the model's latent of 512 neurons (0..511)"),
        ("3,3", "a neuron is named twice"),
        ("3,x", "must be a comma list of neuron indices (e.g. 166,445)"),
    ],
)
def test_traverse_checks_neurons_against_z_before_reading_any_window(work, capsys, neurons, problem):
    # missing.parquet does not exist: the neurons are refused before the windows are read or encoded.
    code, error = cli(["traverse", "mn-mel_2bar", "missing.parquet", "--neurons", neurons, "--out", "trav"], capsys)
    assert (code, error) == (1, f"musicneurons traverse: error: --neurons {neurons}: {problem}")
    assert not (work / "trav").exists()


@pytest.mark.parametrize("option", ["--anchors", "--k"])
def test_counts_name_the_option_as_typed(work, capsys, option):
    code, error = cli(["traverse", "mn-mel_2bar", "m.parquet", option, "0", "--out", "trav"], capsys)
    assert (code, error) == (2, f"musicneurons traverse: error: argument {option}: must be a positive integer, got 0")


def test_a_negative_grid_is_a_value_not_an_option():
    parser = build_parser()
    for argv in (["--grid", "-3,3,7"], ["--grid=-3,3,7"]):
        args = parser.parse_args(check_spelling(parser, ["traverse", "m", "w.parquet", "--out", "t", *argv]))
        assert args.grid == "-3,3,7"
    args = parser.parse_args(check_spelling(parser, ["traverse", "m", "w.parquet", "--grid", "-.5,.5,3", "--out", "t"]))
    assert (args.grid, args.out) == ("-.5,.5,3", "t")


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "--modle", "x"], "musicneurons run: error: unrecognized option '--modle'; did you mean '--model'?"),
        (
            ["run", "--bars=2", "--ot", "x"],
            "musicneurons run: error: unrecognized option '--ot'; did you mean '--out'?",
        ),
        (
            ["encode", "m.parquet", "--modle", "mn-mel_2bar", "--out", "l.parquet"],
            "musicneurons encode: error: unrecognized option '--modle'; did you mean '--model'?",
        ),
        (["trvaerse", "m", "w"], "musicneurons: error: unknown command 'trvaerse'; did you mean 'traverse'?"),
        (["fetch-magneta", "x"], "musicneurons: error: unknown command 'fetch-magneta'; did you mean 'fetch-magenta'?"),
    ],
)
def test_misspelt_options_and_commands_get_a_suggestion(work, capsys, args, message):
    assert cli(args, capsys) == (2, message)


def test_encode_on_music_says_to_extract_the_windows_first(work, capsys):
    (work / "tune.mid").write_bytes(midi_bytes([{"notes": quarters([60, 62, 64, 65] * 4)}]))
    code, error = cli(["encode", "tune.mid", "--model", "mn-hierdec-mel_16bar", "--out", "l.parquet"], capsys)
    assert (code, error) == (
        1,
        "musicneurons encode: error: tune.mid: a music file, not a melody table; extract its windows first with "
        "`musicneurons melodies tune.mid --bars 16 --out tune.parquet`, then encode tune.parquet",
    )
    (work / "tunes").mkdir()
    code, error = cli(["encode", "tunes", "--model", "mn-mel_2bar", "--out", "l.parquet"], capsys)
    assert (code, error) == (
        1,
        "musicneurons encode: error: tunes: a folder, not a melody table; extract its windows first with "
        "`musicneurons melodies tunes --bars 2 --out tunes.parquet`, then encode tunes.parquet",
    )
    assert sorted(p.name for p in work.iterdir()) == ["tune.mid", "tunes"]


def test_an_unknown_model_lists_the_names_in_words(work, capsys):
    code, error = cli(["encode", "m.parquet", "--model", "cat-mel_2bar_bgi", "--out", "l.parquet"], capsys)
    assert (code, error) == (
        1,
        "musicneurons encode: error: cat-mel_2bar_bgi: no such model or file. Models by name: mn-hierdec-mel_16bar, "
        "mn-mel_2bar (shipped); cat-mel_2bar_big, hierdec-mel_16bar, cat-mel_2bar_small, mel_2bar_small, "
        "mel_16bar_small_q2 (Magenta's, fetched with `musicneurons fetch-magenta NAME`). A path must be a folder "
        "with config.json and weights.safetensors, a Magenta checkpoint or a .tar of one.",
    )
    code, error = cli(["encode", "m.parquet", "--model", "cat-mel_2bar_big", "--out", "l.parquet"], capsys)
    assert (code, error) == (
        1,
        "musicneurons encode: error: cat-mel_2bar_big: Magenta's released model is not fetched yet; fetch it once "
        "with `musicneurons fetch-magenta cat-mel_2bar_big` (538 MB), or call "
        "load_model('cat-mel_2bar_big', download=True)",
    )
