"""The study's data stages on Dask: extraction, encoding and features on a LocalCluster of 1 and 2 workers.

Run: ``nice -n 10 python benchmarks/bench_cluster.py [--files 100000] [--workers 1,2] [--model mn-mel_2bar]``.

Writes the synthetic folder of ``benchmarks/bench_melody_lakh.py`` (small MIDI files, a twentieth of them
corrupt) and runs, for the local executor (the default study's: a pool of 2 processes for extraction,
encoding and features in this process; the reference) and for a Dask LocalCluster of each size in
``--workers`` (single-threaded worker processes):

1. extraction: every file read and cut into windows by the workers, chunks written to a fresh cache;
2. assembly (the client): the cached chunks joined into the 2-bar melody table (at most 5 windows a file);
3. encoding with the shipped 2-bar model, 2,048 windows a chunk, each worker reading its rows by path;
4. features, 20,000 windows a chunk.

Each configuration runs in a fresh process. Reported per stage: wall seconds, throughput, the load average at
its start and end; per configuration: the peak resident memory of the client (``ru_maxrss``) and of each worker
process (``ru_maxrss`` inside the worker, peak since it started; for the local pool, the largest of its finished
children). Then the scaling from the first to the last worker count, the encoding rate of cat-mel_2bar_big
against the shipped 2-bar model on one torch thread (a fresh process, the same windows, so the ratio is this
machine's in this run), and a projection for Lakh MIDI with cat-mel_2bar_big (see ``projection``).
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_melody_lakh import LAKH_FILES, write_folder  # noqa: E402

from musicneurons.contracts import Windows  # noqa: E402
from musicneurons.encoding import ModelLoader, encode_windows  # noqa: E402
from musicneurons.execute import DaskExecutor, LocalExecutor  # noqa: E402
from musicneurons.features.commands import feature_table  # noqa: E402
from musicneurons.melody.collect import assemble, collect_windows  # noqa: E402
from musicneurons.melody.files import file_items, read_item  # noqa: E402
from musicneurons.model import resolve_model  # noqa: E402
from musicneurons.rundir import Entry  # noqa: E402

LAKH_WINDOWS = 11_000_000  # about 11 M 2-bar windows (the figure)
RATIO_WINDOWS = 1024  # windows encoded by each model for the big/small rate ratio


def peak_rss_mib():
    """Peak resident memory of this process, MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _worker_peak():
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_peaks(executor):
    """Peak resident memory of each worker process (MiB), by worker."""
    if isinstance(executor, DaskExecutor):
        return sorted(round(v) for v in executor.run_on_workers(_worker_peak).values())
    return [round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)]


def timed(fn):
    load = os.getloadavg()[0]
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start, (load, os.getloadavg()[0])


def run_config(name, executor, folder, work, model):
    """The four stages on one executor -> dict of measurements."""
    items = file_items(folder)
    row = {"config": name, "where": executor.describe()}
    collected, row["extract_s"], row["extract_load"] = timed(
        lambda: collect_windows(items, read_item, work / "cache", executor=executor, progress=False)
    )
    (frame, errors), row["assemble_s"], row["assemble_load"] = timed(lambda: assemble(collected, 2))
    melodies = work / "melodies.parquet"
    Windows.from_frame(frame).save(melodies)
    n = len(frame)
    vectorised = executor.vectorised()
    source = melodies if not vectorised.inline() else Windows.load(melodies).events
    lat_entry = Entry(work / "latents.parquet", "bench")
    _, row["encode_s"], row["encode_load"] = timed(
        lambda: encode_windows(
            lat_entry, source, ModelLoader(model), model.config.z_size, progress=False, executor=vectorised
        )
    )
    feats_source = melodies if not vectorised.inline() else Windows.load(melodies)
    _, row["features_s"], row["features_load"] = timed(
        lambda: feature_table(Entry(work / "features.parquet", "bench"), feats_source, vectorised)
    )
    row.update(
        files=len(items),
        windows=n,
        error_files=int(errors["file"].nunique()),
        files_per_s=len(items) / row["extract_s"],
        assemble_windows_per_s=n / row["assemble_s"],
        encode_windows_per_s=n / row["encode_s"],
        features_windows_per_s=n / row["features_s"],
        client_peak_mib=round(peak_rss_mib()),
        worker_peak_mib=worker_peaks(executor),
    )
    return row


def encode_rates(model_name, windows=RATIO_WINDOWS, repeats=2):
    """Child process: encode windows/s on one torch thread (best of ``repeats``) of the shipped model and of
    cat-mel_2bar_big (Magenta's shapes, random weights: the cost does not depend on the values), float32,
    the encoding stage's batch of 512, on the same seeded random windows."""
    import torch

    from musicneurons.melody import random_windows
    from musicneurons.model import MusicVAE, get_config

    torch.set_num_threads(1)
    events = random_windows(windows, 2, seed=0)[0]  # the encoder's cost does not depend on the notes
    rates = {}
    for name, model in (("small", resolve_model(model_name).load()), ("big", MusicVAE(get_config("cat-mel_2bar_big")))):
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            model.encode(events)
            best = min(best, time.perf_counter() - start)
        rates[name] = windows / best
    return {
        "small_windows_per_s": rates["small"],
        "big_windows_per_s": rates["big"],
        "big_over_small": rates["big"] / rates["small"],
    }


def projection(rows, workers, rates):
    """Lakh MIDI with cat-mel_2bar_big on N single-threaded workers, from this run's per-worker rates.

    Assumptions: the per-worker rates of the largest LocalCluster measured here; linear scaling in workers
    (a shared filesystem and a scheduler that keep up: Lakh is ~5,500 extraction and ~5,400 encoding chunks);
    cat-mel_2bar_big encodes at ``rates["big_over_small"]`` times the shipped 2-bar model's rate (measured on
    one thread in this run by :func:`encode_rates`); Lakh files hold more notes than these synthetic ones, so
    the extraction figure is a lower bound on its time; the client's assembly runs at this run's rate.
    """
    dask_rows = [r for r in rows if r["config"].startswith("dask")]
    last = dask_rows[-1]
    n = workers[-1]
    per_worker_files = last["files_per_s"] / n
    per_worker_big = last["encode_windows_per_s"] / n * rates["big_over_small"]
    out = []
    for big_n in (16, 64, 256):
        out.append(
            {
                "workers": big_n,
                "extraction_h": LAKH_FILES / (per_worker_files * big_n) / 3600,
                "encoding_h": LAKH_WINDOWS / (per_worker_big * big_n) / 3600,
                "encoding_200k_sample_h": 200_000 / (per_worker_big * big_n) / 3600,
                "client_assembly_h": LAKH_WINDOWS / last["assemble_windows_per_s"] / 3600,
            }
        )
    return {"per_worker_files_per_s": per_worker_files, "per_worker_big_windows_per_s": per_worker_big, "rows": out}


def one_config(name, folder, work, model_name):
    """Child process: one configuration (``local``, ``dask N`` or ``rates``) -> its measurements as JSON on stdout."""
    if name == "rates":
        print("RESULT " + json.dumps(encode_rates(model_name)))
        return
    make = (
        (lambda: LocalExecutor(2)) if name == "local" else (lambda: DaskExecutor("local", workers=int(name.split()[1])))
    )
    with make() as executor:
        row = run_config(name, executor, Path(folder), Path(work), resolve_model(model_name))
    print("RESULT " + json.dumps(row))


def child(name, tmp, model):
    """Run one configuration in a fresh process (its own peak memory) -> its RESULT record."""
    work = tmp / name.replace(" ", "")
    cmd = [sys.executable, __file__, "--model", model, "--one", name, str(tmp / "midi"), str(work)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode or not lines:
        raise SystemExit(f"{name} failed: {proc.stderr[-3000:]}")
    row = json.loads(lines[0][len("RESULT ") :])
    print(json.dumps(row), flush=True)
    shutil.rmtree(work, ignore_errors=True)
    return row


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=100_000)
    ap.add_argument("--workers", default="1,2", help="LocalCluster sizes, comma-separated")
    ap.add_argument("--model", default="mn-mel_2bar")
    ap.add_argument("--json", default=None, help="write the measurements here")
    ap.add_argument("--one", nargs=3, metavar=("CONFIG", "FOLDER", "WORK"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        return one_config(*args.one, args.model)
    workers = [int(w) for w in args.workers.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="mn-cluster-"))
    try:
        start = time.perf_counter()
        write_folder(tmp / "midi", args.files)
        print(f"wrote {args.files} files in {time.perf_counter() - start:.0f} s, load {os.getloadavg()[0]:.1f}")
        rows = [child(name, tmp, args.model) for name in ["local"] + [f"dask {w}" for w in workers]]
        rates = child("rates", tmp, args.model)
        dask_rows = [r for r in rows if r["config"].startswith("dask")]
        scaling = {
            stage: dask_rows[0][f"{stage}_s"] / dask_rows[-1][f"{stage}_s"]
            for stage in ("extract", "assemble", "encode", "features")
        }
        print(f"time ratio, dask {workers[0]} -> {workers[-1]} workers: {json.dumps(scaling)}")
        print(f"encoding on one thread, cat-mel_2bar_big against {args.model}: {json.dumps(rates)}")
        proj = projection(rows, workers, rates)
        print("projection for Lakh MIDI (176,581 files, ~11 M windows), cat-mel_2bar_big:", json.dumps(proj))
        if args.json:
            result = {"rows": rows, "scaling": scaling, "encode_rates": rates, "projection": proj}
            Path(args.json).write_text(json.dumps(result, indent=2))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
