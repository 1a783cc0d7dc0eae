"""Cost of the data folder's content key (``musicneurons.rundir.folder_key``) on a folder of 10,000 files.

Writes ``--files`` files of random bytes (1 to 30 kB, as MIDI files are) into a temporary folder, then times
the key computed: with every file hashed (no hash cache), with a cold cache, a warm cache, after a ``touch``
of every file, and after a same-size edit of one file whose modification time is restored; it checks that
the touch keeps the key and the edit changes it. Run:

    nice -n 5 python benchmarks/bench_folder_key.py [--files 10000]
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from musicneurons.rundir import folder_key


def timed(label, root, **kwargs):
    """The key of ``root``'s ``.mid`` files, after printing how long it took."""
    start = time.perf_counter()
    key = folder_key(root, (".mid",), **kwargs)
    print(f"| {label} | {time.perf_counter() - start:.2f} s |")
    return key


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        root, hashes = Path(tmp) / "data", Path(tmp) / "hashes.json"
        for i in range(args.files):
            folder = root / f"d{i // 500}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"t{i}.mid").write_bytes(rng.bytes(int(rng.integers(1_000, 30_000))))
        size = sum(p.stat().st_size for p in root.rglob("*.mid"))
        print(f"{args.files:,} files, {size / 1e6:.0f} MB; load average {os.getloadavg()[0]:.1f}\n")
        print("| key | time |\n|---|---|")
        timed("every file hashed (no cache)", root)
        cold = timed("cold cache", root, hashes=hashes)
        warm = timed("warm cache", root, hashes=hashes)
        for path in root.rglob("*.mid"):
            os.utime(path)
        touched = timed("after a touch of every file", root, hashes=hashes)
        edited = root / "d0" / "t0.mid"
        stat = edited.stat()
        data = bytearray(edited.read_bytes())
        data[10] ^= 1
        edited.write_bytes(bytes(data))
        os.utime(edited, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        changed = timed("after a same-size edit, mtime restored", root, hashes=hashes)
    assert cold == warm == touched != changed
    print("\nthe touch keeps the key; the same-size edit changes it")


if __name__ == "__main__":
    main()
