"""Time and peak memory of importing a full-size Magenta checkpoint, against references measured in the same run.

The checkpoint (random weights, real shapes, Adam slots included) is written by TensorFlow with::

    python scripts/fixtures/make_magenta_fixtures.py /tmp/magenta_big --full-size cat-mel_2bar_big

then::

    python benchmarks/bench_magenta_import.py /tmp/magenta_big

Each measurement runs in a fresh Python process that reports its own wall time and peak resident memory
(``ru_maxrss``, which includes the mapped pages of the data file it touched):

* ``import``: ``import_magenta(checkpoint, out)``: read and check the index, crc32c-check and convert every
  model variable, write ``config.json`` + ``weights.safetensors`` (targets: < 30 s, < 2 GB);
* ``load imported``: ``load_model(out)`` of that output (the native format; reference);
* ``read bytes``: ``numpy.fromfile`` of each model variable's bytes, Adam slots skipped (reference: the
  cost of reading every byte the import needs once, with no check or conversion).

The data file is in the page cache after it was written, so these are warm-cache figures.
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS, TARGET_MB = 30.0, 2048.0


def _child(task, checkpoint, out):
    """Run one measurement in this process; print {"seconds", "peak_mb"} as JSON."""
    start = time.perf_counter()
    if task == "import":
        from musicneurons.model import import_magenta

        import_magenta(checkpoint, out)
    elif task == "load":
        from musicneurons.model import load_model

        load_model(out)
    else:
        import numpy as np

        from musicneurons.model.magenta import IGNORED
        from musicneurons.model.tf_checkpoint import TFCheckpoint

        ckpt = TFCheckpoint(checkpoint)
        for entry in ckpt.entries.values():
            if not IGNORED.search(entry.name):
                path = f"{ckpt.prefix}.data-{entry.shard:05d}-of-{ckpt.num_shards:05d}"
                np.fromfile(path, dtype=np.uint8, count=entry.size, offset=entry.offset)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def measure(task, checkpoint, out):
    """Run ``task`` in a fresh interpreter; returns its {"seconds", "peak_mb"}."""
    done = subprocess.run(
        [sys.executable, __file__, "--child", task, str(checkpoint), str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", help="full-size Magenta checkpoint (prefix or folder)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("out", nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return _child(args.child, args.checkpoint, args.out)
    with tempfile.TemporaryDirectory() as tmp:
        results = {task: measure(task, args.checkpoint, Path(tmp) / "imported") for task in ("import", "load", "read")}
    imp, load, read = results["import"], results["load"], results["read"]
    print(
        f"import:        {imp['seconds']:6.2f} s  peak {imp['peak_mb']:7.0f} MB "
        f"(targets < {TARGET_SECONDS:.0f} s, < {TARGET_MB:.0f} MB: "
        f"{'PASS' if imp['seconds'] < TARGET_SECONDS and imp['peak_mb'] < TARGET_MB else 'FAIL'})"
    )
    print(f"load imported: {load['seconds']:6.2f} s  peak {load['peak_mb']:7.0f} MB")
    print(f"read bytes:    {read['seconds']:6.2f} s  peak {read['peak_mb']:7.0f} MB")
    print(
        f"ratios: import/load-imported time {imp['seconds'] / load['seconds']:.2f}, "
        f"memory {imp['peak_mb'] / load['peak_mb']:.2f}; import/read-bytes time "
        f"{imp['seconds'] / read['seconds']:.2f}, memory {imp['peak_mb'] / read['peak_mb']:.2f}"
    )


if __name__ == "__main__":
    main()
