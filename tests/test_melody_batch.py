"""Batch extraction: folders of good and bad files, the errors table, resuming, the CLI and the corpus."""

import numpy as np
import pytest

from midi_helpers import midi_bytes, quarters
from musicneurons.cli import main
from musicneurons.errors import NoMelodiesError
from musicneurons.melody import load_melodies, read_melodies
from musicneurons.melody.collect import assemble, collect_windows
from musicneurons.melody.corpus import read_corpus_tune
from musicneurons.melody.files import file_items, read_item
from musicneurons.melody.tables import errors_path

SCALE = [60, 62, 64, 65, 67, 69, 71, 72]


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MUSICNEURONS_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "midi"
    (root / "sub").mkdir(parents=True)
    good = midi_bytes([{"notes": quarters(SCALE)}])
    (root / "a_good.mid").write_bytes(good)
    (root / "sub" / "b_good.mid").write_bytes(midi_bytes([{"notes": quarters(SCALE[::-1] * 2)}]))
    (root / "c_empty.mid").write_bytes(b"")
    (root / "d_corrupt.mid").write_bytes(b"MThd garbage that is no midi file")
    (root / "e_truncated.mid").write_bytes(good[: len(good) // 2])
    (root / "f_waltz.mid").write_bytes(midi_bytes([{"notes": quarters(SCALE * 2)}], time_signatures=((0, 3, 4),)))
    (root / "g_drums.mid").write_bytes(midi_bytes([{"notes": quarters([36, 38] * 8), "drum": True}]))
    (root / "notes.txt").write_text("not music")
    return root


def test_folder_with_bad_files_records_each_reason(folder):
    windows, errors = read_melodies(folder, bars=2, workers=1, progress=False)
    assert sorted(windows.file.unique()) == ["a_good.mid", "sub/b_good.mid"]
    reasons = dict(zip(errors.file, errors.reason))
    assert reasons["c_empty.mid"] == "empty file (0 bytes)"
    assert reasons["d_corrupt.mid"].startswith("unreadable MIDI")
    assert reasons["e_truncated.mid"].startswith("unreadable MIDI")
    assert reasons["f_waltz.mid"] == "no section with 16 steps per bar (time signatures: 3/4)"
    assert reasons["g_drums.mid"] == "drums only: no pitched notes"
    assert len(errors) == 5 and set(errors.bars) == {2}
    assert windows.window.tolist() == list(range(len(windows[windows.file == "a_good.mid"]))) + \
        list(range(len(windows[windows.file == "sub/b_good.mid"])))


def _interrupting_reader(item):
    if item["file"] == "e_truncated.mid":
        raise KeyboardInterrupt
    return read_item(item)


def test_interrupted_run_resumes_without_redoing_chunks(folder, tmp_path):
    items = file_items(folder)
    work = tmp_path / "work"
    with pytest.raises(KeyboardInterrupt):
        collect_windows(items, _interrupting_reader, work, chunk_size=2, workers=1, progress=False)
    done_before = {p.name: p.stat().st_mtime_ns for p in work.glob("chunk-*.json")}
    assert len(done_before) == 1  # chunk 0 (items 0-1) finished; chunk 1 holds the interrupting item 3
    stems = collect_windows(items, read_item, work, chunk_size=2, workers=1, progress=False)
    assert {p.name: p.stat().st_mtime_ns for p in work.glob("chunk-*.json") if p.name in done_before} == done_before
    resumed, resumed_err = assemble(stems, 2)
    fresh, fresh_err = assemble(collect_windows(items, read_item, tmp_path / "fresh", chunk_size=2, workers=1,
                                                progress=False), 2)
    assert resumed.drop(columns="events").equals(fresh.drop(columns="events"))
    assert np.array_equal(np.stack(resumed.events), np.stack(fresh.events))
    assert resumed_err.equals(fresh_err)


def test_two_worker_processes_give_the_same_tables(folder, tmp_path):
    items = file_items(folder)
    runs = [assemble(collect_windows(items, read_item, tmp_path / f"w{n}", chunk_size=2, workers=n,
                                     progress=False), 2) for n in (1, 2)]
    (one, err_one), (two, err_two) = runs
    assert one.drop(columns="events").equals(two.drop(columns="events")) and err_one.equals(err_two)
    assert np.array_equal(np.stack(one.events), np.stack(two.events))


def test_cli_melodies_writes_table_and_errors(folder, tmp_path, capsys):
    out = tmp_path / "m.parquet"
    assert main(["melodies", str(folder), "--bars", "2", "--out", str(out), "--quiet", "--workers", "1"]) == 0
    table, meta = load_melodies(out)
    assert meta["bars"] == 2 and len(table) > 0 and table.events.iloc[0].dtype == np.int8
    errs, _ = load_melodies(errors_path(out))
    assert len(errs) == 5
    assert "5 files/tunes gave no window" in capsys.readouterr().err


def test_source_with_nothing_usable_fails_clearly(tmp_path, capsys):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.mid").write_bytes(b"")
    with pytest.raises(NoMelodiesError, match="no usable melody window .*empty file"):
        read_melodies(bad, progress=False, workers=1)
    assert main(["melodies", str(bad), "--out", str(tmp_path / "o.parquet"), "--quiet"]) == 1
    assert "no usable melody window" in capsys.readouterr().err
    assert main(["melodies", str(tmp_path / "missing"), "--out", str(tmp_path / "o.parquet")]) == 1


def test_random_command(tmp_path):
    out = tmp_path / "r.parquet"
    assert main(["random", "--n", "100", "--bars", "16", "--seed", "3", "--out", str(out)]) == 0
    table, meta = load_melodies(out)
    assert len(table) == 100 and table.events.iloc[0].shape == (256,) and meta["seed"] == 3


def test_abc_tune_with_pickup_gives_bar_aligned_windows():
    # Essen altdeu10 X:101, 4/4: a one-quarter pickup G4, then bar 1 = G4 (half) D5 F5.
    (_, ns), = read_corpus_tune({"file": "essenFolksong/altdeu10.abc", "tune": "101", "number": "101"})
    from musicneurons.melody import extract_windows
    res = extract_windows(ns, 2, "all")
    first = res.events[[m["first_bar"] for m in res.meta].index(0)]
    np.testing.assert_array_equal(first[12:32], [48, 0, 0, 0, 48, 0, 0, 0, 0, 0, 0, 0, 55, 0, 0, 0, 58, 0, 0, 0])
    assert (first[:12] == 0).all()


def test_corpus_slice_through_the_cli(tmp_path):
    out = tmp_path / "c.parquet"
    assert main(["melodies", "--bars", "2", "--max-tunes", "6", "--out", str(out), "--quiet", "--workers", "1"]) == 0
    table, meta = load_melodies(out)
    assert meta["source"] == "music21-folk" and 6 <= len(table) <= 30
    assert table.groupby(["file", "tune"]).size().max() <= 5
