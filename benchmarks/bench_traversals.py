"""What the traversal stage costs inside the default study, and what audio adds to the report's size.

Runs ``musicneurons run`` (both lengths, embedded corpus, shipped models) as a child process in a fresh
run directory with traversals on, reads the stage times of ``timings.json`` and compares the traversal
stages against the rest of the same run (the reference is measured in the same run). Then reruns it
with the traversal audio off (only the traversal stages and the report are redone) for the size of the
report and the explorer pages without audio.

    python benchmarks/bench_traversals.py --out /tmp/travstudy

The corpus cache should exist first (``musicneurons melodies --out /tmp/x.parquet``), as for
bench_study.py.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path


def _run(out, extra):
    cmd = [sys.executable, "-m", "musicneurons", "run", "--out", str(out), "--quiet", *extra]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=os.environ.copy(), stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def _sizes(out):
    pages = {"index.html": out / "index.html"}
    pages.update({str(p.relative_to(out)): p for p in sorted(out.glob("bars*/traversals/explorer.html"))})
    return {name: round(p.stat().st_size / 1e6, 2) for name, p in pages.items()}


def _stage_times(out):
    timings = json.loads((out / "timings.json").read_text())
    trav = {k: v for k, v in timings.items() if "traversals" in k}
    rest = sum(v for k, v in timings.items() if k not in trav)
    return trav, rest


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="/tmp/bench-traversals")
    args = parser.parse_args()
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    wall = _run(out, ["--traversals"])
    trav, rest = _stage_times(out)
    with_audio = _sizes(out)
    _run(out, ["--traversals", "--traversal-audio-seconds", "0"])
    without_audio = _sizes(out)
    result = {
        "wall_s": round(wall, 1),
        "traversal_stages_s": trav,
        "other_stages_s": round(rest, 1),
        "traversal_share_of_the_rest": round(sum(trav.values()) / rest, 3),
        "sizes_mb_with_audio": with_audio,
        "sizes_mb_without_audio": without_audio,
        "load_average": os.getloadavg(),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
