"""The run directory: markers verified on reuse, damaged outputs recomputed with a notice, content keys, the lock."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from musicneurons.contracts import Latents
from musicneurons.errors import OutputError, RunLockedError
from musicneurons.rundir import Entry, RunDirectory, folder_key, write_json


def _latents(n=50, z=8, seed=0):
    rng = np.random.default_rng(seed)
    return Latents(rng.normal(size=(n, z)), rng.uniform(0.1, 1, size=(n, z)))


def _made(entry, latents):
    """Make ``entry`` from ``latents`` if it does not verify; returns True when it was (re)made."""

    def make(path):
        latents.save(path)
        return len(latents)

    return entry.ensure(make)


def test_a_complete_output_is_reused_and_a_changed_key_recomputes(tmp_path):
    run = RunDirectory(tmp_path / "run")
    latents = _latents()
    entry = run.entry("bars2/latents_real.parquet", "key-1")
    assert _made(entry, latents) is True
    record = json.loads(entry.marker.read_text())
    assert record["key"] == "key-1" and record["rows"] == 50 and list(record["files"]) == ["latents_real.parquet"]
    assert record["files"]["latents_real.parquet"][0] == entry.path.stat().st_size
    assert _made(run.entry("bars2/latents_real.parquet", "key-1"), latents) is False
    assert _made(run.entry("bars2/latents_real.parquet", "key-2"), latents) is True


@pytest.mark.parametrize("damage", ["truncate", "empty", "flip", "delete"])
def test_a_damaged_output_is_recomputed_with_a_one_line_notice(tmp_path, capsys, damage):
    run = RunDirectory(tmp_path)
    latents = _latents()
    entry = run.entry("latents.parquet", "k")
    _made(entry, latents)
    data = entry.path.read_bytes()
    if damage == "truncate":
        entry.path.write_bytes(data[: len(data) // 2])
    elif damage == "empty":
        entry.path.write_bytes(b"")
    elif damage == "flip":
        entry.path.write_bytes(data[:100] + bytes([data[100] ^ 1]) + data[101:])
    else:
        entry.path.unlink()
    capsys.readouterr()
    assert _made(entry, latents) is True
    err = capsys.readouterr().err.strip().splitlines()
    expected = {
        "truncate": f"has {len(data) // 2} bytes, {len(data)} when written",
        "empty": f"has 0 bytes, {len(data)}",
        "flip": "latents.parquet fails its checksum",
        "delete": "latents.parquet is missing",
    }[damage]
    assert len(err) == 1 and err[0].startswith("musicneurons: recomputing latents.parquet: ") and expected in err[0]
    np.testing.assert_array_equal(Latents.load(entry.path).mu, latents.mu)


def test_an_emptied_marker_is_recomputed_with_a_notice(tmp_path, capsys):
    entry = RunDirectory(tmp_path).entry("latents.parquet", "k")
    _made(entry, _latents())
    entry.marker.write_text("")
    assert _made(entry, _latents()) is True
    assert "recomputing latents.parquet: its completion marker is unreadable" in capsys.readouterr().err


def test_a_folder_output_verifies_every_file(tmp_path, capsys):
    entry = RunDirectory(tmp_path).entry("bars2/analysis", "k")

    def make(path):
        path.mkdir()
        (path / "summary.json").write_text('{"a": 1}')
        (path / "neurons.csv").write_text("neuron\n0\n1\n")
        return 2

    assert entry.ensure(make) is True and entry.record()["rows"] == 2
    assert sorted(entry.record()["files"]) == ["neurons.csv", "summary.json"]
    (entry.path / "summary.json").write_text("")
    assert entry.verified() is False
    assert "recomputing bars2/analysis: summary.json has 0 bytes, 8 when written" in capsys.readouterr().err


def test_chunks_resume_and_a_corrupt_chunk_is_redone(tmp_path, capsys):
    store = Entry(tmp_path / "latents.parquet", "k").chunks()
    store.put(0, mu=np.ones((2, 3), np.float32))
    store.put(1, mu=np.zeros((2, 3), np.float32))
    np.testing.assert_array_equal(store.get(0)["mu"], np.ones((2, 3)))
    path = store.directory / "part-000001.npz"
    path.write_bytes(path.read_bytes()[:40])
    assert store.get(1) is None and store.get(2) is None
    assert (
        capsys.readouterr().err == f"musicneurons: recomputing chunk 1 of {tmp_path / 'latents.parquet'}: BadZipFile\n"
    )
    store.clear()
    assert not (tmp_path / "latents.parquet.parts").exists()


def test_folder_key_follows_every_file(tmp_path):
    (tmp_path / "a.mid").write_bytes(b"MThd")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.mid").write_bytes(b"MThd")
    (tmp_path / "notes.txt").write_text("not music")
    key = folder_key(tmp_path, (".mid",))
    assert folder_key(tmp_path, (".mid",)) == key
    (tmp_path / "notes.txt").write_text("still not music, longer")
    assert folder_key(tmp_path, (".mid",)) == key  # not a counted file
    (tmp_path / "c.mid").write_bytes(b"MThd")
    added = folder_key(tmp_path, (".mid",))
    assert added != key
    (tmp_path / "sub" / "b.mid").write_bytes(b"MThd" + b"\0")  # resized
    assert folder_key(tmp_path, (".mid",)) not in (key, added)
    os.utime(tmp_path / "a.mid", ns=(1, 1))  # touched
    assert len({key, added, folder_key(tmp_path, (".mid",))}) == 3


def test_json_is_written_atomically(tmp_path):
    path = write_json(tmp_path / "x.json", {"n": np.int64(3), "f": np.float32(0.5)})
    assert json.loads(path.read_text()) == {"n": 3, "f": 0.5}
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


def test_a_second_holder_of_the_lock_is_refused_at_once(tmp_path):
    run = RunDirectory(tmp_path)
    with run.lock():
        with pytest.raises(
            RunLockedError, match=rf"{tmp_path} is in use by another musicneurons run \(pid {os.getpid()}"
        ):
            with RunDirectory(tmp_path).lock():
                pass
    with run.lock():  # released: free again
        pass


def test_the_lock_of_a_killed_run_is_taken_over(tmp_path, capsys):
    script = textwrap.dedent(f"""
        import os
        from musicneurons.rundir import RunDirectory
        with RunDirectory({str(tmp_path)!r}).lock():
            os.kill(os.getpid(), 9)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], env=os.environ)
    assert proc.wait() == -9
    assert json.loads((tmp_path / ".lock").read_text())["pid"] == proc.pid  # left behind by the killed run
    with RunDirectory(tmp_path).lock():
        assert json.loads((tmp_path / ".lock").read_text())["pid"] == os.getpid()
    assert "taking over the lock of" in capsys.readouterr().err


@pytest.mark.parametrize("case", ["file", "readonly"])
def test_an_unusable_folder_is_refused(tmp_path, case):
    if case == "file":
        (tmp_path / "f").write_text("")
        with pytest.raises(OutputError, match=r"--out .*/f: is a file, not a folder"):
            RunDirectory(tmp_path / "f")
    else:
        with pytest.raises(OutputError, match=r"--out /proc/musicneurons-test: cannot write there"):
            RunDirectory("/proc/musicneurons-test")
