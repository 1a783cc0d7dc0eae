"""Progress off a terminal: no bar redraws, one plain line per stage."""

from musicneurons.progress import progress_bar, stage_line


def test_off_a_terminal_bars_are_silent_and_stages_one_line_each(capsys):
    with progress_bar(range(500), progress=True, desc="features") as bar:
        total = sum(1 for _ in bar)
    stage_line("2-bar study: melodies done (4.5 s)", progress=True)
    stage_line("not asked for", progress=False)
    assert total == 500
    assert capsys.readouterr().err == "2-bar study: melodies done (4.5 s)\n"
