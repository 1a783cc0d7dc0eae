"""Benchmark of the one-command study (issue 7): ``python benchmarks/bench_study.py [--out DIR] [-- run options]``.

Runs ``musicneurons run`` in a fresh run directory with the corpus cache already built (run
``musicneurons melodies --out /tmp/x.parquet`` once before), then again on the finished directory, each
as a child process so that its peak memory (max RSS) is measured. Prints wall times, peak memory and the
per-stage timings of summary.json. The reference measured in the same run is the cached rerun itself.
"""

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(cmd):
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main():
    extra = sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else []
    out = Path(sys.argv[sys.argv.index("--out") + 1]) if "--out" in sys.argv else Path(tempfile.mkdtemp()) / "study"
    cmd = [sys.executable, "-m", "musicneurons", "run", "--out", str(out), "--quiet", *extra]
    cold, peak = run(cmd)
    warm, _ = run(cmd)
    timings = json.loads((out / "summary.json").read_text())["timings_s"]
    print(
        f"cold study: {cold:.1f} s ({cold / 60:.2f} min), peak RSS {peak:.0f} MB; cached rerun: {warm:.1f} s; "
        f"cold / rerun = {cold / warm:.1f}"
    )
    for stage, seconds in timings.items():
        print(f"  {stage:28s} {seconds:8.1f} s")


if __name__ == "__main__":
    main()
