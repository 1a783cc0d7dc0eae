"""The encoding stage's torch threads: the cores no other process keeps busy, the same latents on any count."""

import multiprocessing
import os
import sys
import time

import numpy as np
import pytest
import torch

from musicneurons.encoding import EncodePart, _torch_threads, encode_part, encoding_threads
from musicneurons.melody.corpus import shipped_folk_windows
from musicneurons.model import resolve_model
from musicneurons.rundir import Entry

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads Linux's /proc")


def _spin(stop):
    while not stop.is_set():
        sum(range(10_000))


@linux_only
def test_busy_cores_leave_one_thread(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    cores = len(os.sched_getaffinity(0))
    assert 1 <= encoding_threads() <= cores
    stop = multiprocessing.Event()
    spinners = [multiprocessing.Process(target=_spin, args=(stop,), daemon=True) for _ in range(cores)]
    for p in spinners:
        p.start()
    try:
        time.sleep(0.5)
        assert encoding_threads() == 1  # every core has another runnable task
    finally:
        stop.set()
        for p in spinners:
            p.join()


def test_omp_num_threads_is_the_users_choice(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert encoding_threads() is None
    before = torch.get_num_threads()
    with _torch_threads(None):
        assert torch.get_num_threads() == before


def test_a_chunk_restores_the_thread_count_and_latents_do_not_depend_on_it(tmp_path):
    model = resolve_model("mn-mel_2bar").load("cpu")
    events = np.stack(shipped_folk_windows(2)[0]["events"].iloc[:300])
    latents = {}
    for threads in (1, 2):
        with _torch_threads(threads):
            latents[threads] = model.encode(events)
    for got, expected in zip(latents[1], latents[2]):
        np.testing.assert_array_equal(got, expected)  # the content-keyed latents are the same on any count
    before = torch.get_num_threads()
    store = Entry(tmp_path / "latents.parquet", "key").chunks()
    assert encode_part(EncodePart(0, 0, 300, events, lambda: model, "cpu", store)) == 300
    assert torch.get_num_threads() == before
