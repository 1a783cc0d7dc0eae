"""Benchmarks of the melody stage (issue 2). Run: ``python benchmarks/bench_melody.py [--midi-files N]``.

1. Cold extraction of the whole embedded corpus (2- and 16-bar windows, one parse) in a fresh cache,
   against the reference measured in the same run: music21 parsing alone of a sample of tunes in one
   process, scaled to the whole corpus and divided by the worker count (the parse-bound floor).
2. The cached rerun of both window lengths, and the default request answered from the windows that ship
   with the package (no parsing), against that cold extraction in the same run.
3. MIDI throughput on a folder of MIDI files written from the corpus (each tune's unique 16-bar windows),
   against mido (the pure-Python reference parser) reading the same files in the same run; projected
   time for the 176,581 files of the Lakh MIDI Dataset at the measured files per second. Also the parse
   alone: ``read_midi`` (pretty_midi's rules) against mido and symusic on the same bytes.
4. Files of 20,000 notes: separated by two-bar rests (20,000 one-bar melodies) and by eighth rests (one
   melody of 120,000 steps, cut at 1,600), read and extracted for both window lengths.
"""

import argparse
import io
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--midi-files", type=int, default=1500)
    ap.add_argument("--sample", type=int, default=60, help="tunes parsed for the music21 reference")
    ap.add_argument("--corpus-only", action="store_true", help="parts 1 and 2 only")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="mn-bench-"))
    os.environ["MUSICNEURONS_CACHE"] = str(tmp / "cache")
    from music21 import common, converter

    from musicneurons.melody import corpus_melodies, events_to_midi, read_melodies
    from musicneurons.melody.corpus import corpus_tunes

    workers = min(os.cpu_count() or 1, 4)
    tunes = corpus_tunes()
    sample = corpus_tunes(args.sample)
    _, ref = timed(
        lambda: [
            converter.parse(Path(common.getCorpusFilePath()) / t["file"], number=t["number"], forceSource=True)
            for t in sample
        ]
    )
    ref_total = ref / len(sample) * len(tunes) / workers
    w2, cold = timed(lambda: corpus_melodies(2, progress=False, shipped=False))
    w16, cold16 = timed(lambda: corpus_melodies(16, progress=False, shipped=False))
    (_, _), warm = timed(
        lambda: (corpus_melodies(2, progress=False, shipped=False), corpus_melodies(16, progress=False, shipped=False))
    )
    all2 = corpus_melodies(2, mode="all", progress=False)
    all16 = corpus_melodies(16, mode="all", progress=False)
    uniq = lambda t: len({e.tobytes() for e in t.events})
    print(
        f"corpus: {len(tunes)} tunes, {w2.groupby(['file', 'tune']).ngroups} with 2-bar windows, "
        f"{len(w2)} 2-bar / {len(w16)} 16-bar windows (at most 5 a tune); "
        f"{uniq(all2)} unique 2-bar, {uniq(all16)} unique 16-bar windows over all tunes"
    )
    print(
        f"cold extraction (parse + both lengths): {cold + cold16:.1f} s with {workers} workers; "
        f"music21 parse-only floor {ref_total:.1f} s ({ref / len(sample) * 1000:.0f} ms/tune, 1 process); "
        f"ratio {(cold + cold16) / ref_total:.2f}"
    )
    print(f"cached rerun of both lengths: {warm:.2f} s")
    (s2, s16), shipped = timed(lambda: (corpus_melodies(2, progress=False), corpus_melodies(16, progress=False)))
    same = all(
        a.drop(columns="events").equals(b.drop(columns="events"))
        and np.array_equal(np.stack(a.events), np.stack(b.events))
        for a, b in ((s2, w2), (s16, w16))
    )
    print(
        f"shipped windows of both lengths (the default request, no parsing): {shipped:.2f} s; "
        f"cold extraction / shipped = {(cold + cold16) / shipped:.0f}x; same windows as the extraction: {same}"
    )
    if args.corpus_only:
        return

    midi_dir = tmp / "midi"
    midi_dir.mkdir()
    for i, (ev, qpm) in enumerate(zip(all16.events[: args.midi_files], all16.tempo[: args.midi_files])):
        (midi_dir / f"{i:05d}.mid").write_bytes(events_to_midi(ev, qpm))
    files = sorted(midi_dir.glob("*.mid"))
    os.environ["MUSICNEURONS_CACHE"] = str(tmp / "cache-midi")
    (_, _), ours = timed(lambda: read_melodies(midi_dir, 2, progress=False))
    import mido

    _, ref_mido = timed(lambda: [mido.MidiFile(f) for f in files])
    rate = len(files) / ours
    print(
        f"MIDI: {len(files)} files in {ours:.2f} s = {rate:.0f} files/s (both lengths, {workers} workers); "
        f"mido parse only, 1 process: {len(files) / ref_mido:.0f} files/s; ratio ours/mido time "
        f"{ours / ref_mido:.2f}; projected Lakh (176,581 files) at this rate: {176581 / rate / 60:.1f} min "
        f"(these files hold ~{np.mean([len(mido.MidiFile(f).tracks[0]) for f in files[:50]]) / 2:.0f} notes; "
        f"Lakh files hold far more, so treat this as a lower bound)"
    )
    import symusic

    from musicneurons.melody import read_midi

    data = [f.read_bytes() for f in files]
    parse = {
        name: timed(lambda fn=fn: [fn(b) for b in data])[1]
        for name, fn in (
            ("read_midi", read_midi),
            ("mido", lambda b: mido.MidiFile(file=io.BytesIO(b))),
            ("symusic", symusic.Score.from_midi),
        )
    }
    print("parse only, 1 process, ms a file: " + ", ".join(f"{k} {v / len(data) * 1000:.2f}" for k, v in parse.items()))
    shutil.rmtree(tmp)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from midi_helpers import spaced_notes

    from musicneurons.melody.extract import unique_windows

    pitches = np.random.default_rng(0).integers(21, 109, 20_000).tolist()
    for label, rest in (("two-bar rests", 32), ("eighth rests", 2)):
        data = spaced_notes(20_000, 4, rest, pitches=pitches)
        _, sec = timed(lambda data=data: [unique_windows(read_midi(data), b) for b in (2, 16)])
        print(f"20,000 notes separated by {label}: read and both window lengths in {sec:.2f} s")


if __name__ == "__main__":
    sys.exit(main())
