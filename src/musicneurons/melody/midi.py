"""Standard MIDI Files read the way Magenta reads them: mido's parsing rules and pretty_midi's note rules.

Magenta turns a MIDI file into a NoteSequence with ``note_seq.midi_io.midi_to_note_sequence``, which parses
it with pretty_midi (on top of mido). This module re-implements those rules over its own small parser of
the file's bytes (see ../shared/reference/musicvae.md §2.2b):

- a file mido or pretty_midi refuses is refused here with the reason: a bad header or chunk, a data byte
  over 127, an undefined status byte, running status without a status, a malformed meta event (a short
  tempo or time signature, an invalid key signature), a track that overruns its chunk, a largest tick
  over pretty_midi's 10^7, a tempo of 0, a time-signature numerator of 0 or a denominator that does not
  fit Magenta's int32 (byte over 30), ticks per quarter 0 or negative (SMPTE timing);
- tempos and time signatures come from track 0 only; a tempo at tick 0 replaces the default 120 qpm, a
  later one is kept when it changes the tick scale;
- a note-off (or a note-on of velocity 0) closes every open note of its channel and pitch that started
  at an earlier tick; notes opened at its own tick stay open if an earlier one was closed, and are
  dropped otherwise;
- a note belongs to the instrument (program, channel, track) in force at its note-off; instruments are
  numbered in the order their first note closes, and channel 10 (index 9) is drums;
- ticks become seconds in float64 exactly as pretty_midi's tick-to-time table computes them.
"""

import numpy as np

from ..errors import MidiFileError
from .notesequence import NoteSequence

__all__ = ["read_midi", "MAX_TICK"]

MAX_TICK = 10_000_000  # pretty_midi refuses files whose largest tick + 1 exceeds this
_MAX_MESSAGE_LENGTH = 1_000_000  # mido's limit on one sysex or meta event
_MAX_DENOMINATOR_BYTE = 30  # 2 ** 31 does not fit the int32 of Magenta's TimeSignature
# Data bytes after a system status byte mido knows (None: undefined, refused).
_DATA_LENGTH: list[int | None] = [None] * 256
for _status, _n in {0xF1: 1, 0xF2: 2, 0xF3: 1, 0xF6: 0, 0xF8: 0, 0xFA: 0, 0xFB: 0, 0xFC: 0, 0xFE: 0}.items():
    _DATA_LENGTH[_status] = _n
# Meta types mido knows; it builds any other without its delta time, so that delta is lost (as in Magenta).
_KNOWN_META = frozenset(
    (0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x09, 0x20, 0x21, 0x2F, 0x51, 0x54, 0x58, 0x59, 0x7F)
)
# Shortest data mido decodes without an IndexError, per meta type.
_META_MIN_LENGTH = {0x20: 1, 0x51: 3, 0x54: 5, 0x58: 4, 0x59: 2}


class _Refused(Exception):
    """The file breaks a rule of mido or pretty_midi; the message is the reason."""


def _read_vlq(data, pos):
    """A variable-length quantity at ``pos`` -> (value, next position)."""
    value = 0
    while True:
        byte = data[pos]
        pos += 1
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, pos


def _check_meta(kind, body):
    """Refuse a meta event mido cannot decode (too short, invalid SMPTE rate or key signature)."""
    if len(body) < _META_MIN_LENGTH.get(kind, 0) or (kind == 0x00 and len(body) == 1):
        raise _Refused(f"malformed meta event 0x{kind:02x} ({len(body)} data bytes)")
    if kind == 0x54 and body[0] >> 5 > 3:
        raise _Refused("malformed SMPTE offset (frame rate code over 3)")
    if kind == 0x59:
        key = body[0] - 256 if body[0] > 127 else body[0]
        if not -7 <= key <= 7 or body[1] > 1:
            raise _Refused(f"invalid key signature ({key} sharps, mode {body[1]})")


class _TrackReader:
    """Parse the tracks of one file, collecting notes with pretty_midi's pairing rules.

    Notes are appended in the order they close (pretty_midi's order within an instrument) as parallel
    lists of ticks, pitch, velocity and instrument index.
    """

    def __init__(self):
        self.start, self.end, self.pitch, self.velocity, self.instrument = [], [], [], [], []
        self.instruments = {}  # (program, channel, track) -> index, in order of creation
        self.names = {}  # instrument index -> track name at its creation
        self.tempos, self.time_signatures = [], []  # track 0 only: (tick, tempo us) / (tick, num, den)
        self.max_tick = 0

    def track(self, data, pos, end, index):
        """Parse the track chunk ``data[pos:end]``; ``index`` is its number in the file."""
        if pos == end:
            raise _Refused(f"track {index} holds no event")
        tick, status, name = 0, None, ""
        programs = [0] * 16
        open_notes = {}  # channel << 7 | pitch -> [(start tick, velocity), ...]
        while pos < end:
            byte = data[pos]
            if byte < 0x80:
                delta = byte
                pos += 1
            else:
                delta, pos = _read_vlq(data, pos)
            tick += delta
            byte = data[pos]
            pos += 1
            if 0x80 <= byte < 0xF0 or (byte < 0x80 and status is not None and status < 0xF0):
                if byte >= 0x80:
                    status = byte
                else:
                    pos -= 1  # running status: this byte is the first data byte
                kind = status & 0xF0
                d1 = data[pos]
                if kind == 0xC0 or kind == 0xD0:
                    d2 = 0
                    pos += 1
                else:
                    d2 = data[pos + 1]
                    pos += 2
                if d1 > 127 or d2 > 127:
                    raise _Refused(f"data byte over 127 in track {index}")
                if kind == 0x90 and d2:
                    key = (status & 0x0F) << 7 | d1
                    opened = open_notes.get(key)
                    if opened is None:
                        open_notes[key] = [(tick, d2)]
                    else:
                        opened.append((tick, d2))
                elif kind == 0x80 or kind == 0x90:
                    channel = status & 0x0F
                    self._close(open_notes, channel, d1, tick, programs[channel], index, name)
                elif kind == 0xC0:
                    programs[status & 0x0F] = d1
            elif byte == 0xFF:
                kind = data[pos]
                length, pos = _read_vlq(data, pos + 1)
                body = self._body(data, pos, length)
                pos += length
                _check_meta(kind, body)
                if kind not in _KNOWN_META:
                    tick -= delta
                elif kind == 0x03:
                    name = body.decode("latin-1")
                elif index == 0 and kind == 0x51:
                    self.tempos.append((tick, (body[0] << 16) | (body[1] << 8) | body[2]))
                elif index == 0 and kind == 0x58:
                    self.time_signatures.append((tick, body[0], body[1]))
            else:
                pos, status = self._system(data, pos, byte, status, index)
        if pos != end:
            raise _Refused(f"track {index} overruns its chunk length")
        self.max_tick = max(self.max_tick, tick)

    def _system(self, data, pos, byte, status, index):
        """A sysex or system message (status ``byte``, or running ``status`` when ``byte`` is data).

        Returns (next position, running status). Under running status mido drops the byte it peeked
        before a sysex, and refuses one after a system message without data.
        """
        if byte >= 0x80:
            status = byte
        elif status is None:
            raise _Refused(f"running status without a status byte in track {index}")
        if status in (0xF0, 0xF7):
            length, pos = _read_vlq(data, pos)
            body = self._body(data, pos, length)
            body = body[body[:1] == b"\xf0" : len(body) - (body[-1:] == b"\xf7")]
            if body and max(body) > 127:
                raise _Refused(f"sysex data byte over 127 in track {index}")
            return pos + length, status
        size = _DATA_LENGTH[status]
        if size is None:
            raise _Refused(f"undefined status byte 0x{status:02x} in track {index}")
        if byte < 0x80:
            if size == 0:
                raise _Refused(f"running status after system message 0x{status:02x} in track {index}")
            pos -= 1
        if pos + size > len(data):
            raise IndexError
        if size and max(data[pos : pos + size]) > 127:
            raise _Refused(f"data byte over 127 in track {index}")
        return pos + size, status

    @staticmethod
    def _body(data, pos, length):
        if length > _MAX_MESSAGE_LENGTH:
            raise _Refused(f"message length {length} exceeds mido's maximum of {_MAX_MESSAGE_LENGTH}")
        if pos + length > len(data):
            raise IndexError
        return data[pos : pos + length]

    def _close(self, open_notes, channel, pitch, tick, program, track, name):
        """pretty_midi's note-off: close every open same-pitch note started before ``tick``."""
        opened = open_notes.pop(channel << 7 | pitch, None)
        if opened is None:
            return
        if len(opened) == 1:
            closed = opened if opened[0][0] != tick else ()
        else:
            keep = [n for n in opened if n[0] == tick]
            closed = [n for n in opened if n[0] != tick]
            if closed and keep:
                open_notes[channel << 7 | pitch] = keep
        if not closed:
            return  # only notes opened at this very tick: pretty_midi drops them
        key = (program, channel, track)
        inst = self.instruments.get(key)
        if inst is None:
            inst = self.instruments[key] = len(self.instruments)
            self.names[inst] = name
        for start, velocity in closed:
            self.start.append(start)
            self.end.append(tick)
            self.pitch.append(pitch)
            self.velocity.append(velocity)
            self.instrument.append(inst)


def _parse(data):
    """Parse MIDI bytes -> (_TrackReader, ticks per quarter); raises _Refused or IndexError."""
    if data[:4] != b"MThd":
        raise _Refused("no MThd header: not a MIDI file")
    size = int.from_bytes(data[4:8], "big")
    if len(data) < 8 or len(data[8 : 8 + size]) < 6:
        raise IndexError
    n_tracks = int.from_bytes(data[10:12], "big", signed=True)
    resolution = int.from_bytes(data[12:14], "big", signed=True)
    reader = _TrackReader()
    pos = min(8 + size, len(data))
    for index in range(n_tracks):
        if pos + 8 > len(data):
            raise IndexError
        if data[pos : pos + 4] != b"MTrk":
            raise _Refused(f"no MTrk header at the start of track {index}")
        length = int.from_bytes(data[pos + 4 : pos + 8], "big")
        reader.track(data, pos + 8, pos + 8 + length, index)
        pos += 8 + length
    if n_tracks <= 0:
        raise _Refused("the file holds no track")
    if reader.max_tick + 1 > MAX_TICK:
        raise _Refused(f"largest tick {reader.max_tick + 1} exceeds pretty_midi's 10^7 (likely corrupt)")
    if resolution <= 0:
        raise _Refused(f"ticks per quarter note is {resolution} (SMPTE or invalid timing)")
    return reader, resolution


def _tick_scales(tempos, resolution):
    """pretty_midi's ``_tick_scales``: list of (tick, seconds per tick) from track 0's tempo events."""
    scales = [(0, 60.0 / (120.0 * resolution))]
    for tick, tempo in tempos:
        if tempo == 0:
            raise _Refused(f"tempo of 0 microseconds per quarter at tick {tick}")
        if tick == 0:
            scales = [(0, 60.0 / (6e7 / tempo * resolution))]
        else:
            scale = 60.0 / ((6e7 / tempo) * resolution)
            if scale != scales[-1][1]:
                scales.append((tick, scale))
    return scales


def _tick_to_time(ticks, scales):
    """Ticks (int64 array) -> seconds (float64) with pretty_midi's piecewise-linear tick table."""
    starts = np.array([t for t, _ in scales], np.int64)
    rates = np.array([s for _, s in scales])
    base = np.zeros(len(scales))
    for i in range(1, len(scales)):  # the time of each interval's first tick, as pretty_midi accumulates it
        base[i] = base[i - 1] + rates[i - 1] * (starts[i] - starts[i - 1])
    j = np.searchsorted(starts, ticks, side="right") - 1
    return base[j] + rates[j] * (ticks - starts[j])


def read_midi(path_or_bytes, name=None):
    """Read a Standard MIDI File (path or bytes) into a NoteSequence in seconds, as Magenta does.

    Parameters
    ----------
    path_or_bytes : str, Path or bytes
    name : str, optional
        How errors name the file (default: the path, or ``<bytes>``).

    Returns
    -------
    NoteSequence
        Times in seconds (``unit='seconds'``); tempos and time signatures of track 0.

    Raises
    ------
    MidiFileError
        Naming the file and the rule it breaks.
    """
    is_bytes = isinstance(path_or_bytes, (bytes, bytearray, memoryview))
    name = str(name or ("<bytes>" if is_bytes else path_or_bytes))
    try:
        data = bytes(path_or_bytes) if is_bytes else open(path_or_bytes, "rb").read()
    except OSError as exc:
        raise MidiFileError(name, f"cannot read the file ({exc.strerror or exc})") from None
    try:
        reader, resolution = _parse(data)
        scales = _tick_scales(reader.tempos, resolution)
        for tick, numerator, denominator in reader.time_signatures:
            if numerator == 0 or denominator > _MAX_DENOMINATOR_BYTE:
                raise _Refused(f"invalid time signature {numerator}/2**{denominator} at tick {tick}")
    except IndexError:
        raise MidiFileError(name, "unreadable MIDI (truncated: the data ends inside a chunk or event)") from None
    except _Refused as exc:
        raise MidiFileError(name, f"unreadable MIDI ({exc})") from None
    start = _tick_to_time(np.asarray(reader.start, np.int64), scales)
    end = _tick_to_time(np.asarray(reader.end, np.int64), scales)
    inst = np.asarray(reader.instrument, np.int32)
    by_index = sorted(reader.instruments.items(), key=lambda kv: kv[1])
    programs = np.array([p for (p, _, _), _ in by_index] or [0], np.int16)
    drums = np.array([c == 9 for (_, c, _), _ in by_index] or [False])
    ts_ticks = np.asarray([t for t, _, _ in reader.time_signatures], np.int64)
    tempo_ticks = np.asarray([t for t, _ in scales], np.int64)
    return NoteSequence(
        start=start,
        end=end,
        pitch=np.asarray(reader.pitch, np.int16),
        velocity=np.asarray(reader.velocity, np.int16),
        program=programs[inst],
        instrument=inst,
        is_drum=drums[inst],
        time_signatures=[
            (float(t), n, 2**d) for t, (_, n, d) in zip(_tick_to_time(ts_ticks, scales), reader.time_signatures)
        ],
        tempos=[(float(t), 60.0 / (s * resolution)) for t, (_, s) in zip(_tick_to_time(tempo_ticks, scales), scales)],
        track_names=reader.names,
        unit="seconds",
    )
