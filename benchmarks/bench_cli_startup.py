"""Start-up time of the command-line program: ``python -m musicneurons --help`` in a fresh interpreter.

For each source tree given (default: this checkout's ``src``), the best of ``--repeat`` wall times of
``python -m musicneurons ARGS`` with ``PYTHONPATH`` set to that tree, against the reference measured in the
same run: the bare interpreter (``python -c pass``). Also which heavy libraries the command imported
(from ``python -X importtime``). Run, e.g. before against after a change:

    git archive main src | tar -x -C /tmp/before
    nice -n 10 python benchmarks/bench_cli_startup.py --src /tmp/before/src --src src [--args "melodies --help"]
"""

import argparse
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

HEAVY = ["torch", "scipy", "pandas", "pyarrow", "music21", "matplotlib", "numpy"]


def best_wall_time(command, env, repeat):
    """The smallest wall time in seconds of ``repeat`` runs of ``command`` (each must exit 0)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return min(times)


def imported_heavy(command, env):
    """The libraries of HEAVY that ``command`` imports, read from ``-X importtime``'s report on stderr."""
    report = subprocess.run(
        command[:1] + ["-X", "importtime"] + command[1:],
        env=env,
        check=True,
        text=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    ).stderr
    modules = {line.rsplit("|", 1)[-1].strip() for line in report.splitlines() if line.startswith("import time:")}
    return [name for name in HEAVY if name in modules]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", action="append", help="a source tree to put on PYTHONPATH (repeatable)")
    parser.add_argument("--args", default="--help", help="the command's arguments (default --help)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    trees = args.src or [str(Path(__file__).resolve().parents[1] / "src")]
    bare = best_wall_time([sys.executable, "-c", "pass"], dict(os.environ), args.repeat)
    print(f"python -c pass: {bare * 1000:.0f} ms (best of {args.repeat}); load average {os.getloadavg()[0]:.1f}")
    command = [sys.executable, "-m", "musicneurons", *shlex.split(args.args)]
    for tree in trees:
        env = dict(os.environ, PYTHONPATH=str(Path(tree).resolve()))
        seconds = best_wall_time(command, env, args.repeat)
        heavy = ", ".join(imported_heavy(command, env)) or "none"
        print(
            f"{tree}: musicneurons {args.args}: {seconds * 1000:.0f} ms = {seconds / bare:.1f}x bare python; "
            f"imports {heavy}"
        )


if __name__ == "__main__":
    main()
