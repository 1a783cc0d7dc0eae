"""Torch threads of the encoding stage: the count :func:`musicneurons.encoding.encoding_threads` picks against fixed counts.

Run: ``python benchmarks/bench_encode_threads.py [--bars 2] [--windows 16384] [--busy 0 1]``.

The shipped model of the length encodes the folk corpus's windows (the study's real windows) in chunks of
``ENCODE_CHUNK``, as the study does. Every chunk is encoded once under each policy, in rotating order, so the
policies meet the same load: 1 thread, one a core (torch's default), and ``auto`` (the stage's choice, made
per chunk). Each ``--busy K`` scenario runs K extra processes that keep a core busy each (pure Python loops),
standing for the other work of a shared machine. Prints windows/s per policy and the ratio of ``auto`` to
each fixed count, with the CPU model and the load average.
"""

import argparse
import multiprocessing
import os
import time

import numpy as np


def spin(stop):
    """Keep one core busy until ``stop`` is set."""
    while not stop.is_set():
        sum(range(10_000))


def cpu_model():
    with open("/proc/cpuinfo") as f:
        return next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "unknown CPU")


def run(model, events, chunk, busy):
    import torch

    from musicneurons.encoding import _torch_threads, encoding_threads

    cores = len(os.sched_getaffinity(0))
    policies = {"1 thread": lambda: 1, f"{cores} threads": lambda: cores, "auto": encoding_threads}
    seconds = dict.fromkeys(policies, 0.0)
    picked = []
    stop = multiprocessing.Event()
    spinners = [multiprocessing.Process(target=spin, args=(stop,), daemon=True) for _ in range(busy)]
    for p in spinners:
        p.start()
    time.sleep(1.0 if busy else 0.0)
    try:
        names = list(policies)
        for k, lo in enumerate(range(0, len(events), chunk)):
            block = events[lo : lo + chunk]
            for name in names[k % 3 :] + names[: k % 3]:
                threads = policies[name]()
                if name == "auto":
                    picked.append(threads if threads is not None else torch.get_num_threads())
                with _torch_threads(threads):
                    start = time.perf_counter()
                    model.encode(block)
                    seconds[name] += time.perf_counter() - start
    finally:
        stop.set()
        for p in spinners:
            p.join()
    return {name: len(events) / s for name, s in seconds.items()}, picked


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bars", type=int, default=2, choices=(2, 16))
    ap.add_argument("--windows", type=int, default=16384)
    ap.add_argument("--busy", type=int, nargs="+", default=[0, 1], help="extra busy processes, one scenario each")
    args = ap.parse_args()
    from musicneurons.encoding import ENCODE_CHUNK
    from musicneurons.melody.corpus import shipped_folk_windows
    from musicneurons.model import resolve_model

    name = {2: "mn-mel_2bar", 16: "mn-hierdec-mel_16bar"}[args.bars]
    model = resolve_model(name).load("cpu")
    frame, _ = shipped_folk_windows(args.bars)
    events = np.stack(frame["events"])
    events = np.resize(events, (args.windows, events.shape[1]))  # the corpus repeated up to --windows
    model.encode(events[:64])  # warm-up
    print(f"{cpu_model()}, {os.cpu_count()} cores; {name}, {len(events)} windows in chunks of {ENCODE_CHUNK}")
    for busy in args.busy:
        load = os.getloadavg()[0]
        rates, picked = run(model, events, ENCODE_CHUNK, busy)
        counts = ", ".join(f"{t} threads x{picked.count(t)}" for t in sorted(set(picked)))
        print(f"busy processes {busy} (load average {load:.2f} -> {os.getloadavg()[0]:.2f}); auto picked {counts}")
        for policy, rate in rates.items():
            ratio = "" if policy == "auto" else f"; auto / this = {rates['auto'] / rate:.2f}"
            print(f"  {policy:>10}: {rate:7.0f} windows/s{ratio}")


if __name__ == "__main__":
    main()
