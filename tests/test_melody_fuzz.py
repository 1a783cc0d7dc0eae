"""Seeded mutation fuzzing of real MIDI files: the batch always completes and accounts for every file."""

from pathlib import Path

import numpy as np
import pytest

from midi_helpers import midi_bytes, mutate, quarters
from musicneurons.melody import events_to_midi, read_melodies
from musicneurons.melody.files import file_items

N_MUTATIONS = 320


@pytest.fixture(scope="module")
def seeds():
    """Real MIDI files from three writers: music21 (an Essen tune), symusic and mido (two tracks)."""
    from music21 import common, converter
    from music21.midi.translate import streamToMidiFile

    score = converter.parse(Path(common.getCorpusFilePath()) / "essenFolksong/altdeu10.abc", number=101)
    ev = np.zeros(32, np.int8)
    ev[::4] = np.arange(41, 49)
    return [
        streamToMidiFile(score).writestr(),
        events_to_midi(ev, qpm=90),
        midi_bytes(
            [{"notes": quarters([60, 62, 64, 65] * 4)}, {"notes": quarters([48, 55] * 8), "program": 33}],
            tempos=((0, 100.0), (8, 140.0)),
        ),
    ]


def test_mutated_files_each_give_windows_or_an_error_row(seeds, tmp_path, monkeypatch):
    monkeypatch.setenv("MUSICNEURONS_CACHE", str(tmp_path / "cache"))
    rng = np.random.default_rng(11)
    root = tmp_path / "fuzz"
    root.mkdir()
    for k in range(N_MUTATIONS):
        (root / f"{k:03d}.mid").write_bytes(mutate(seeds[k % len(seeds)], rng))
    names = {it["file"] for it in file_items(root)}
    assert len(names) == N_MUTATIONS
    found = {}
    for bars in (2, 16):
        windows, errors = read_melodies(root, bars, workers=1, progress=False)
        with_windows, with_errors = set(windows.file), set(errors.file)
        assert with_windows | with_errors == names and not with_windows & with_errors
        assert errors.reason.str.len().min() > 0
        found[bars] = len(with_windows), errors.reason.str.startswith("unreadable MIDI").sum()
    # The mutations reach both outcomes: readable files with windows and refused files.
    assert found[2][0] > 30 and found[2][1] > 50
