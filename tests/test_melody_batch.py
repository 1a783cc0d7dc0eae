"""Batch extraction: folders of good and bad files, the errors table, resuming, the CLI and the corpus."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

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
    assert windows.window.tolist() == list(range(len(windows[windows.file == "a_good.mid"]))) + list(
        range(len(windows[windows.file == "sub/b_good.mid"]))
    )


def _interrupting_reader(item):
    if item["file"] == "e_truncated.mid":
        raise KeyboardInterrupt
    return read_item(item)


def test_interrupted_run_resumes_without_redoing_chunks(folder, tmp_path):
    items = file_items(folder)
    work = tmp_path / "work"
    with pytest.raises(KeyboardInterrupt):
        collect_windows(items, _interrupting_reader, work, chunk_size=2, workers=1, progress=False)
    done_before = {p.name: p.stat().st_mtime_ns for p in work.rglob("chunk-*.json")}
    assert len(done_before) == 1  # chunk 0 (items 0-1) finished; chunk 1 holds the interrupting item 3
    stems = collect_windows(items, read_item, work, chunk_size=2, workers=1, progress=False)
    assert {p.name: p.stat().st_mtime_ns for p in work.rglob("chunk-*.json") if p.name in done_before} == done_before
    resumed, resumed_err = assemble(stems, 2)
    fresh, fresh_err = assemble(
        collect_windows(items, read_item, tmp_path / "fresh", chunk_size=2, workers=1, progress=False), 2
    )
    assert resumed.drop(columns="events").equals(fresh.drop(columns="events"))
    assert np.array_equal(np.stack(resumed.events), np.stack(fresh.events))
    assert resumed_err.equals(fresh_err)


def test_two_worker_processes_give_the_same_tables(folder, tmp_path):
    items = file_items(folder)
    runs = [
        assemble(collect_windows(items, read_item, tmp_path / f"w{n}", chunk_size=2, workers=n, progress=False), 2)
        for n in (1, 2)
    ]
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
    ((_, ns),) = read_corpus_tune({"file": "essenFolksong/altdeu10.abc", "tune": "101", "number": "101"})
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


CALLS = []


def _counting_reader(item):
    CALLS.append(item["file"])
    return read_item(item)


def _failing_reader(item):
    if item["file"] == "a_good.mid":
        raise KeyError("no such key")
    if item["file"] == "sub/b_good.mid":
        time.sleep(30)  # interrupted by the time limit long before
    return read_item(item)


def test_any_exception_and_the_time_limit_become_error_rows(folder, tmp_path):
    items = file_items(folder)
    collected = collect_windows(items, _failing_reader, tmp_path / "w", workers=1, progress=False, time_limit=0.5)
    windows, errors = assemble(collected, 2)
    reasons = dict(zip(errors.file, errors.reason))
    assert reasons["a_good.mid"] == "failed with KeyError: 'no such key'"
    assert reasons["sub/b_good.mid"] == "time limit: reading and extracting took longer than 0.5 s"
    assert len(errors) == 7 and len(windows) == 0


def test_odd_names_and_things_that_are_not_files(tmp_path):
    root = tmp_path / "odd"
    root.mkdir()
    song = midi_bytes([{"notes": quarters(SCALE)}])
    latin1 = os.fsdecode(b"caf\xe9.mid")  # not UTF-8: a surrogate escape in the str
    (root / latin1).write_bytes(song)
    (root / "dir.mid").mkdir()
    os.mkfifo(root / "pipe.mid")
    (root / "loop.mid").symlink_to(root / "loop.mid")
    (root / "gone.mid").symlink_to(root / "missing.mid")
    (root / "link.mid").symlink_to(root / latin1)
    windows, errors = read_melodies(root, workers=1, progress=False)
    assert sorted(windows.file.unique()) == ["caf\\xe9.mid", "link.mid"]
    assert dict(zip(errors.file, errors.reason)) == {
        "dir.mid": "skipped: a directory, not a regular file",
        "gone.mid": "skipped: a broken symbolic link or a symbolic-link loop, not a regular file",
        "loop.mid": "skipped: a broken symbolic link or a symbolic-link loop, not a regular file",
        "pipe.mid": "skipped: a FIFO (named pipe), not a regular file",
    }
    out = tmp_path / "odd.parquet"
    assert main(["melodies", str(root), "--out", str(out), "--quiet", "--workers", "1"]) == 0
    assert load_melodies(out)[0].file.tolist()[0] == "caf\\xe9.mid"


def test_adding_a_file_extracts_it_alone_and_stale_chunks_go(folder, tmp_path):
    work = tmp_path / "w"
    CALLS.clear()
    first = collect_windows(
        file_items(folder), _counting_reader, work, chunk_size=3, workers=1, progress=False, complete=True
    )
    assert len(CALLS) == 7 and len(list(work.rglob("chunk-*.json"))) == 3
    (folder / "a_new.mid").write_bytes(midi_bytes([{"notes": quarters(SCALE[::2] * 2)}]))
    CALLS.clear()
    second = collect_windows(
        file_items(folder), _counting_reader, work, chunk_size=3, workers=1, progress=False, complete=True
    )
    assert CALLS == ["a_new.mid"]
    fresh = collect_windows(file_items(folder), read_item, tmp_path / "fresh", workers=1, progress=False)
    assert_same_tables(assemble(second, 2), assemble(fresh, 2))
    # Remove the files of the first chunk (items 0-2): its chunk goes, the others stay.
    for name in ("a_good.mid", "c_empty.mid", "d_corrupt.mid"):
        (folder / name).unlink()
    CALLS.clear()
    third = collect_windows(
        file_items(folder), _counting_reader, work, chunk_size=3, workers=1, progress=False, complete=True
    )
    assert CALLS == [] and len(list(work.rglob("chunk-*.json"))) == 3
    assert "removed stale cache chunk" in third.notices[0]
    assert len(first) == 7 and len(third) == 5


def assert_same_tables(a, b):
    (wa, ea), (wb, eb) = a, b
    assert wa.drop(columns="events").equals(wb.drop(columns="events")) and ea.equals(eb)
    assert np.array_equal(np.stack(wa.events), np.stack(wb.events))


def test_a_bit_flipped_cache_chunk_is_detected_and_redone(folder, tmp_path, capsys):
    work = tmp_path / "w"
    items = file_items(folder)
    before = assemble(collect_windows(items, read_item, work, chunk_size=4, workers=1, progress=False), 2)
    chunk = sorted(work.rglob("chunk-*.parquet"))[0]
    data = bytearray(chunk.read_bytes())
    data[len(data) // 2] ^= 0x10
    chunk.write_bytes(bytes(data))
    n_items = len(json.loads(chunk.with_suffix(".json").read_text())["items"])
    CALLS.clear()
    again = collect_windows(items, _counting_reader, work, chunk_size=4, workers=1, progress=False)
    assert len(CALLS) == n_items and "failed its checksum" in again.notices[0]
    assert "failed its checksum" in capsys.readouterr().err
    assert_same_tables(assemble(again, 2), before)


def _children(pid):
    """PIDs of the live processes whose parent is ``pid`` (from /proc)."""
    out = []
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(stat_file.parent.name))
    return out


def _alive(pid):
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


HELD_CLI = Path(__file__).with_name("held_cli.py")
N_LONG_FILES = 40  # chunks of 32 items: chunk 0 (files 0-31) and chunk 1 (32-39), one per worker


def _default_sigint():
    """In the child before exec: SIGINT back to the default disposition, so Python installs its handler."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class HeldRun:
    """``musicneurons melodies`` on long melodies in a subprocess whose last file waits for a gate.

    :meth:`wait_for_a_chunk` returns once the first chunk is committed (its manifest written), with the
    run's two workers alive; the second chunk cannot finish before :meth:`release`, so the run is still
    going whenever the test acts, however loaded the machine.
    """

    def __init__(self, tmp_path):
        self.tmp_path = tmp_path
        root = tmp_path / "many"
        root.mkdir()
        rng = np.random.default_rng(0)
        for k in range(N_LONG_FILES):
            notes = quarters(rng.integers(55, 80, 120).tolist())
            (root / f"{k:04d}.mid").write_bytes(midi_bytes([{"notes": notes}]))
        self.cache, self.gate, self.out = tmp_path / "cache", tmp_path / "gate", tmp_path / "m.parquet"
        self.args = ["melodies", str(root), "--out", str(self.out), "--workers", "2", "--quiet"]
        self.env = {
            **os.environ,
            "MUSICNEURONS_CACHE": str(self.cache),
            "HELD_CLI_GATE": str(self.gate),
            "HELD_CLI_FILE": f"{N_LONG_FILES - 1:04d}.mid",
            "PYTHONPATH": os.pathsep.join([str(HELD_CLI.parent), os.environ.get("PYTHONPATH", "")]),
        }
        self.proc = subprocess.Popen(
            [sys.executable, str(HELD_CLI), *self.args],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group, as a command started at a terminal
            # and SIGINT at its default, as at a terminal: a test runner started in the background (`cmd &`)
            # passes SIG_IGN for SIGINT down to its children, and Python then keeps ignoring Ctrl-C
            preexec_fn=_default_sigint,
        )

    def chunks(self):
        """{committed chunk manifest: its mtime in ns}."""
        return {p: p.stat().st_mtime_ns for p in self.cache.rglob("chunk-*.json")}

    def wait_for_a_chunk(self):
        """Wait until a chunk is committed and both workers run; returns the workers' pids."""
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and self.proc.poll() is None:
            workers = _children(self.proc.pid)
            if len(workers) >= 2 and self.chunks():
                return workers
            time.sleep(0.05)
        stderr = self.proc.communicate()[1] if self.proc.poll() is not None else "(still running)"
        pytest.fail(f"no chunk committed with two workers alive (exit status {self.proc.poll()}): {stderr}")

    def release(self):
        self.gate.touch()

    def assert_rerun_equals_a_fresh_run(self):
        """Rerun the plain command (nothing held): exit 0, the tables equal those of a run in a fresh cache."""
        rerun = subprocess.run([sys.executable, "-m", "musicneurons", *self.args], env=self.env, capture_output=True)
        assert rerun.returncode == 0, rerun.stderr
        assert not list(self.tmp_path.rglob("*.partial"))
        fresh = self.tmp_path / "fresh.parquet"
        os.environ["MUSICNEURONS_CACHE"] = str(self.tmp_path / "cache-fresh")  # restored by the autouse fixture
        assert main(self.args[:3] + [str(fresh)] + self.args[4:]) == 0
        (a, _), (b, _) = load_melodies(self.out), load_melodies(fresh)
        assert len(a) == 5 * N_LONG_FILES and a.drop(columns="events").equals(b.drop(columns="events"))
        assert np.array_equal(np.stack(a.events), np.stack(b.events))
        assert load_melodies(errors_path(self.out))[0].equals(load_melodies(errors_path(fresh))[0])


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads worker processes from /proc")
def test_sigkill_of_the_command_leaves_no_worker_and_a_rerun_gives_identical_tables(tmp_path):
    run = HeldRun(tmp_path)
    workers = run.wait_for_a_chunk()
    run.proc.send_signal(signal.SIGKILL)
    run.proc.wait()
    deadline = time.monotonic() + 30  # the workers notice their parent's death (PR_SET_PDEATHSIG, a watchdog)
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.1)
    assert not [w for w in workers if _alive(w)]
    assert not run.out.exists() and not errors_path(run.out).exists()
    run.assert_rerun_equals_a_fresh_run()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads worker processes from /proc")
@pytest.mark.parametrize(
    "signum, status, stopped_by",
    [(signal.SIGINT, 130, "interrupted (SIGINT)"), (signal.SIGTERM, 143, "terminated (SIGTERM)")],
)
def test_sigint_and_sigterm_stop_the_command_with_a_message_and_a_rerun_resumes(tmp_path, signum, status, stopped_by):
    run = HeldRun(tmp_path)
    workers = run.wait_for_a_chunk()
    committed = run.chunks()
    if signum == signal.SIGINT:
        os.killpg(run.proc.pid, signal.SIGINT)  # Ctrl-C at a terminal: every process of the group gets it
    else:
        run.proc.send_signal(signal.SIGTERM)  # kill PID: the command's process only
    stderr = run.proc.communicate(timeout=300)[1]
    assert run.proc.returncode == status, stderr
    assert stderr.splitlines()[-1] == f"musicneurons melodies: {stopped_by}; run the same command again to resume."
    assert not [w for w in workers if _alive(w)]  # stopped and reaped before the command exited
    assert not run.out.exists() and not errors_path(run.out).exists()
    assert not list(tmp_path.rglob("*.partial"))
    assert run.chunks() == committed  # the finished chunk is kept as it was
    run.release()
    run.assert_rerun_equals_a_fresh_run()
    assert {p: t for p, t in run.chunks().items() if p in committed} == committed  # resumed, not redone


def test_cli_summary_counts_reasons_with_the_first_files(folder, tmp_path, capsys):
    for k in range(4):
        (folder / f"z{k}_bad.mid").write_bytes(b"MThd" + bytes(k))
    assert main(["melodies", str(folder), "--out", str(tmp_path / "s.parquet"), "--quiet", "--workers", "1"]) == 0
    err = capsys.readouterr().err
    assert "9 files/tunes gave no window" in err
    assert "     6  unreadable MIDI  (e.g. d_corrupt.mid, e_truncated.mid, z0_bad.mid)" in err
    assert "     1  empty file  (e.g. c_empty.mid)" in err


def test_study_hooks_report_the_files_without_a_window(folder):
    from types import SimpleNamespace

    from musicneurons.melody.failures import report_section, study_stage
    from musicneurons.run_command import no_window_lines

    _, errors = read_melodies(folder, bars=2, workers=1, progress=False)
    result = SimpleNamespace(bars=2, errors=errors, summary={}, extra={})
    study_stage(None, result)
    info = result.summary["no_window"]
    assert (
        info["count"] == 5
        and {"reason": "unreadable MIDI", "count": 2, "first": ["d_corrupt.mid", "e_truncated.mid"]}
        in info["by_reason"]
    )
    html = report_section(result)
    assert (
        "5 files or tunes of the source gave no 2-bar window" in html
        and "<td>d_corrupt.mid, e_truncated.mid</td>" in html
    )
    text = no_window_lines({"per_bars": {"2-bar": result.summary}})
    assert (
        "2-bar: 5 files/tunes gave no window:" in text
        and "     2  unreadable MIDI  (e.g. d_corrupt.mid, e_truncated.mid)" in text
    )
