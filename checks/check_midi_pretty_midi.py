"""Cross-check of ``musicneurons.melody.read_midi`` against pretty_midi (what Magenta reads MIDI with).

Not a test (pretty_midi is no dependency): ``pip install pretty_midi`` then
``python checks/check_midi_pretty_midi.py [--files N] [--mutations M]``.

Writes random multi-track files with mido (overlapping same-pitch notes, notes of zero length, program
changes inside notes, tempos and time signatures on track 0 and on other tracks, random resolutions and
running status), plus seeded byte mutations of them, and compares per file: whether both accept it, and
on accepted files every note (start and end seconds bit for bit, pitch, velocity, program, drum flag,
instrument index), the tempo changes and the time signatures. Also times both readers.
"""

import argparse
import io
import sys
import time
import warnings
from pathlib import Path

import mido
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from midi_helpers import mutate  # noqa: E402 - the seeded mutations of the fuzz test


def random_file(rng):
    """Bytes of a random type-1 MIDI file with the cases where readers disagree."""
    mid = mido.MidiFile(type=1, ticks_per_beat=int(rng.choice([1, 96, 220, 480, 960, 1000])))
    for t in range(int(rng.integers(1, 4))):
        events = []
        if t == 0 or rng.random() < 0.3:  # meta events, sometimes outside track 0
            for _ in range(int(rng.integers(0, 4))):
                tick = int(rng.integers(0, 4000))
                events.append((tick, mido.MetaMessage("set_tempo", tempo=int(rng.integers(200000, 1500000)))))
            for _ in range(int(rng.integers(0, 3))):
                events.append(
                    (
                        int(rng.integers(0, 4000)),
                        mido.MetaMessage(
                            "time_signature", numerator=int(rng.integers(1, 8)), denominator=int(rng.choice([2, 4, 8]))
                        ),
                    )
                )
        for _ in range(int(rng.integers(0, 60))):
            ch = int(rng.choice([0, 1, 9]))
            start = int(rng.integers(0, 4000))
            end = start + int(rng.choice([0, 0, 1, 120, 480, 1000]))
            pitch = int(rng.choice([60, 62, 64])) if rng.random() < 0.7 else int(rng.integers(0, 128))
            events.append((start, mido.Message("note_on", note=pitch, velocity=int(rng.integers(1, 128)), channel=ch)))
            off = (
                mido.Message("note_off", note=pitch, channel=ch)
                if rng.random() < 0.5
                else mido.Message("note_on", note=pitch, velocity=0, channel=ch)
            )
            events.append((end, off))
            if rng.random() < 0.2:
                events.append(
                    (
                        int(rng.integers(start, end + 1)),
                        mido.Message("program_change", program=int(rng.integers(0, 128)), channel=ch),
                    )
                )
        track = mido.MidiTrack()
        now = 0
        for tick, msg in sorted(events, key=lambda e: e[0]):  # stable: file order within a tick
            track.append(msg.copy(time=tick - now))
            now = tick
        mid.tracks.append(track)
    buf = io.BytesIO()
    mid.save(file=buf)
    return buf.getvalue()


def pretty_notes(data):
    """pretty_midi's view of a file, or the exception type it raises."""
    import pretty_midi

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            pm = pretty_midi.PrettyMIDI(io.BytesIO(data))
        except Exception as exc:  # noqa: BLE001 - any refusal counts
            return type(exc).__name__
    notes = [
        (n.start, n.end, n.pitch, n.velocity, i.program, i.is_drum, k)
        for k, i in enumerate(pm.instruments)
        for n in i.notes
    ]
    times, qpms = pm.get_tempo_changes()
    tss = [(ts.time, ts.numerator, ts.denominator) for ts in pm.time_signature_changes]
    if any(d > 2**31 - 1 for _, _, d in tss):
        return "MIDIConversionError"  # note_seq refuses denominators over int32
    return notes, list(zip(times.tolist(), qpms.tolist())), tss


def our_notes(data):
    from musicneurons.errors import MidiFileError
    from musicneurons.melody import read_midi

    try:
        ns = read_midi(data)
    except MidiFileError as exc:
        return exc.reason
    notes = list(
        zip(
            ns.start.tolist(),
            ns.end.tolist(),
            ns.pitch.tolist(),
            ns.velocity.tolist(),
            ns.program.tolist(),
            ns.is_drum.tolist(),
            ns.instrument.tolist(),
        )
    )
    return notes, ns.tempos, [tuple(t) for t in ns.time_signatures]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=300)
    ap.add_argument("--mutations", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    files = [random_file(rng) for _ in range(args.files)]
    files += [mutate(files[int(rng.integers(args.files))], rng) for _ in range(args.mutations)]
    t = time.perf_counter()
    ours = [our_notes(f) for f in files]
    t_ours = time.perf_counter() - t
    t = time.perf_counter()
    theirs = [pretty_notes(f) for f in files]
    t_pm = time.perf_counter() - t
    both_ok = same = refused_both = 0
    for k, (a, b) in enumerate(zip(ours, theirs)):
        if isinstance(a, str) and isinstance(b, str):
            refused_both += 1
            continue
        if isinstance(a, str) or isinstance(b, str):
            print(
                f"file {k}: ours {a if isinstance(a, str) else 'accepted'}; "
                f"pretty_midi {b if isinstance(b, str) else 'accepted'}"
            )
            continue
        both_ok += 1
        a_notes = sorted(a[0])
        b_notes = sorted(b[0])
        if a_notes == b_notes and a[1] == b[1] and a[2] == b[2]:
            same += 1
        else:
            print(
                f"file {k}: notes equal {a_notes == b_notes} ({len(a_notes)} vs {len(b_notes)}), "
                f"tempos equal {a[1] == b[1]}, time signatures equal {a[2] == b[2]}"
            )
    print(
        f"{len(files)} files ({args.files} written, {args.mutations} mutated): both refuse {refused_both}, "
        f"both accept {both_ok}, identical on {same} of those; "
        f"ours {len(files) / t_ours:.0f} files/s, pretty_midi {len(files) / t_pm:.0f} files/s"
    )
    return 0 if same == both_ok and both_ok + refused_both == len(files) else 1


if __name__ == "__main__":
    sys.exit(main())
