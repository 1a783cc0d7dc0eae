"""Lakh-scale run of ``musicneurons melodies``: files/s, peak memory, and the projection for 176,581 files.

Run: ``nice -n 10 python benchmarks/bench_melody_lakh.py [--files 100000] [--small 10000] [--workers 2]``.

Writes a synthetic folder of small MIDI files (a conductor track and one melody track of 24 quarter
notes with a few rests, seeded random pitches; a twentieth of the files corrupt, so errors are part of
the run), then runs the command-line program on it twice, cold, with a fresh cache: once on the first
``--small`` files and once on all of them. Peak memory is the largest sum, over the command and its
worker processes, of their proportional resident memory (PSS: shared pages counted once), sampled every
0.2 s from /proc. Two sizes give the memory's growth
per file, from which the Lakh MIDI Dataset's 176,581 files are projected.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from midi_helpers import off, on, smf, tempo_event, track  # noqa: E402

LAKH_FILES = 176_581


def write_folder(root, n, seed=0):
    """``n`` small MIDI files in 100 subfolders; every 20th one truncated (an error row)."""
    rng = np.random.default_rng(seed)
    conductor = track((0, tempo_event(500000)))
    for k in range(n):
        events, rest = [], 0
        for p in rng.integers(48, 84, 24).tolist():
            events += [(rest, on(p)), (480, off(p))]
            rest = 240 if rng.random() < 0.1 else 0
        data = smf(conductor, track(*events))
        folder = root / f"{k % 100:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{k:06d}.mid").write_bytes(data[: len(data) // 2] if k % 20 == 19 else data)


def tree_pss(pid):
    """Proportional resident bytes of ``pid`` and its descendants (/proc smaps_rollup ``Pss``): pages the
    forked workers share with the command count once, as they occupy memory once."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    tree, grew = {pid}, True
    while grew:
        new = {p for p, pp in parents.items() if pp in tree} - tree
        grew, tree = bool(new), tree | new
    total = 0
    for p in tree:
        try:
            rollup = Path(f"/proc/{p}/smaps_rollup").read_text().splitlines()
        except OSError:
            continue
        total += next((int(line.split()[1]) * 1024 for line in rollup if line.startswith("Pss:")), 0)
    return total


def run(root, out, cache, workers):
    """Run the command on ``root``; returns (seconds, peak RSS bytes, stdout, stderr)."""
    env = {**os.environ, "MUSICNEURONS_CACHE": str(cache)}
    cmd = [
        sys.executable,
        "-m",
        "musicneurons",
        "melodies",
        str(root),
        "--out",
        str(out),
        "--quiet",
        "--workers",
        str(workers),
    ]
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_pss(proc.pid))
        time.sleep(0.2)
    stdout, stderr = proc.communicate()
    if proc.returncode:
        raise SystemExit(f"command failed ({proc.returncode}): {stderr[-2000:]}")
    return time.perf_counter() - t, peak, stdout, stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=100_000)
    ap.add_argument("--small", type=int, default=10_000)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="mn-lakh-"))
    try:
        t = time.perf_counter()
        write_folder(tmp / "midi", args.files)
        print(f"wrote {args.files} files in {time.perf_counter() - t:.0f} s")
        small = tmp / "small"
        small.mkdir()
        for k in range(args.small):
            sub = small / f"{k % 100:02d}"
            sub.mkdir(exist_ok=True)
            os.link(tmp / "midi" / f"{k % 100:02d}" / f"{k:06d}.mid", sub / f"{k:06d}.mid")
        results = {}
        for name, root, n in (("small", small, args.small), ("full", tmp / "midi", args.files)):
            seconds, peak, stdout, stderr = run(root, tmp / f"{name}.parquet", tmp / f"cache-{name}", args.workers)
            results[name] = (n, seconds, peak)
            print(
                f"{n} files: {seconds:.0f} s = {n / seconds:.0f} files/s, peak PSS {peak / 2**20:.0f} MiB; "
                f"{stdout.strip()} | {stderr.strip().splitlines()[1] if stderr.strip() else ''}"
            )
        (n0, s0, p0), (n1, s1, p1) = results["small"], results["full"]
        per_file = max(p1 - p0, 0) / (n1 - n0)
        rate = (n1 - n0) / (s1 - s0)  # start-up (imports) cancels out
        lakh = p1 + per_file * (LAKH_FILES - n1)
        print(
            f"marginal rate {rate:.0f} files/s; memory growth {per_file / 1024:.2f} KiB a file; projected for "
            f"Lakh's {LAKH_FILES} files: peak PSS {lakh / 2**20:.0f} MiB (target < 1024), "
            f"{LAKH_FILES / rate / 60:.0f} min (Lakh files are larger than these)"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
