"""Write small Standard MIDI Files in tests, from readable note lists (times in quarter notes)."""

import io

import mido
import numpy as np

TPQ = 480


def midi_bytes(tracks, tempos=((0, 120.0),), time_signatures=((0, 4, 4),)):
    """MIDI bytes of type 1: a conductor track (tempos, meters) plus one track per entry of ``tracks``.

    ``tracks`` is a list of dicts: ``notes`` [(start_q, end_q, pitch), ...], optional ``program``,
    ``drum`` (channel 10) and ``name``.
    """
    mid = mido.MidiFile(type=1, ticks_per_beat=TPQ)
    meta = [(round(q * TPQ), mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(qpm))) for q, qpm in tempos]
    meta += [
        (round(q * TPQ), mido.MetaMessage("time_signature", numerator=n, denominator=d)) for q, n, d in time_signatures
    ]
    mid.tracks.append(_track(meta))
    for spec in tracks:
        channel = 9 if spec.get("drum") else 0
        events = [
            (0, mido.MetaMessage("track_name", name=spec.get("name", "melody"))),
            (0, mido.Message("program_change", program=spec.get("program", 0), channel=channel)),
        ]
        for start, end, pitch in spec["notes"]:
            events.append((round(start * TPQ), mido.Message("note_on", note=pitch, velocity=80, channel=channel)))
            events.append((round(end * TPQ), mido.Message("note_off", note=pitch, velocity=0, channel=channel)))
        mid.tracks.append(_track(events))
    buf = io.BytesIO()
    mid.save(file=buf)
    return buf.getvalue()


def _track(events):
    """Absolute-tick (tick, message) pairs -> a MidiTrack with delta times; note-offs sort first."""
    track = mido.MidiTrack()
    now = 0
    order = sorted(events, key=lambda e: (e[0], 0 if e[1].type == "note_off" else 1))
    for tick, msg in order:
        track.append(msg.copy(time=tick - now))
        now = tick
    return track


def quarters(pitches, start=0.0, length=1.0, gate=1.0):
    """Consecutive notes of ``length`` quarters from ``start``; each sounds for ``gate * length``."""
    return [(start + i * length, start + i * length + gate * length, p) for i, p in enumerate(pitches)]


def vlq(n):
    """MIDI variable-length quantity of ``n``."""
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def track(*events):
    """An MTrk chunk from (delta ticks, event bytes) pairs; an end-of-track event is appended."""
    data = b"".join(vlq(delta) + bytes(ev) for delta, ev in events) + b"\x00\xff\x2f\x00"
    return b"MTrk" + len(data).to_bytes(4, "big") + data


def track_at(*events):
    """An MTrk chunk from (absolute tick, event bytes) pairs, kept in the given order (ticks non-decreasing)."""
    ticks = [tick for tick, _ in events]
    return track(*((tick - before, ev) for before, (tick, ev) in zip([0, *ticks], events)))


def smf(*tracks, tpq=480, fmt=1):
    """Standard MIDI File bytes: a header (format ``fmt``, ``tpq`` ticks a quarter) and the given chunks."""
    return (
        b"MThd" + (6).to_bytes(4, "big") + bytes([0, fmt, 0, len(tracks)]) + tpq.to_bytes(2, "big") + b"".join(tracks)
    )


def on(pitch, velocity=100, channel=0):
    return [0x90 | channel, pitch, velocity]


def off(pitch, channel=0):
    return [0x80 | channel, pitch, 0]


def tempo_event(us_per_quarter):
    return [0xFF, 0x51, 3] + list(us_per_quarter.to_bytes(3, "big"))


def time_signature_event(numerator, denominator_byte):
    return [0xFF, 0x58, 4, numerator, denominator_byte, 24, 8]


def program_event(program, channel=0):
    return [0xC0 | channel, program]


def mutate(data, rng):
    """One seeded mutation of MIDI bytes: 1-3 bit flips, an insertion, a deletion or a chunk-length edit."""
    data = bytearray(data)
    kind = rng.integers(4)
    if kind == 0:
        for _ in range(int(rng.integers(1, 4))):
            i = int(rng.integers(len(data)))
            data[i] ^= 1 << int(rng.integers(8))
    elif kind == 1:
        i = int(rng.integers(len(data)))
        data[i:i] = bytes(rng.integers(0, 256, int(rng.integers(1, 5))).astype(np.uint8))
    elif kind == 2:
        i = int(rng.integers(len(data)))
        del data[i : i + int(rng.integers(1, 5))]
    else:
        at = [i for i in range(len(data) - 8) if data[i : i + 4] in (b"MTrk", b"MThd")]
        i = at[int(rng.integers(len(at)))] + 4
        length = int.from_bytes(data[i : i + 4], "big") + int(rng.integers(-6, 7))
        data[i : i + 4] = max(length, 0).to_bytes(4, "big")
    return bytes(data)


def spaced_notes(n, note_ticks, rest_ticks, tpq=4, pitches=(60, 62, 64, 65, 67, 69, 71)):
    """A one-track file of ``n`` notes of ``note_ticks`` each followed by ``rest_ticks`` of silence."""
    events = []
    for k in range(n):
        events += [
            (rest_ticks if k else 0, on(pitches[k % len(pitches)])),
            (note_ticks, off(pitches[k % len(pitches)])),
        ]
    return smf(track(*events), tpq=tpq, fmt=0)
