"""Magenta's melody vocabulary and conversions between event arrays, note lists and MIDI.

Symbols used in every docstring of this package:

- ``T``: steps in a window, 16 a bar (``T = 32`` for 2 bars, ``256`` for 16 bars). A step is a sixteenth note.
- An *event array* is ``ndarray of shape (T,) or (n_windows, T), dtype=int8`` over Magenta's 90 classes
  (``note_seq.MelodyOneHotEncoding(21, 109)``): ``0`` = hold (NO_EVENT: keep sounding or keep silent),
  ``1`` = note-off, ``2..89`` = note-on of MIDI pitch ``event + 19`` (21 = A0 -> 2, 60 = C4 -> 41, 108 = C8 -> 89).
- A *note list* is ``ndarray of shape (n_notes, 3), dtype=int32`` with columns ``start`` and ``end`` in steps
  (end exclusive) and ``pitch`` as a MIDI number.
- Tempo is in quarter notes per minute (qpm).
"""

import numpy as np

from ..errors import InvalidParameterError

__all__ = [
    "N_CLASSES",
    "HOLD",
    "NOTE_OFF",
    "MIN_PITCH",
    "MAX_PITCH",
    "STEPS_PER_BAR",
    "STEPS_PER_QUARTER",
    "DEFAULT_QPM",
    "pitch_to_event",
    "event_to_pitch",
    "events_to_notes",
    "notes_to_events",
    "events_to_midi",
    "validate_events",
]

N_CLASSES = 90
HOLD = 0
NOTE_OFF = 1
MIN_PITCH = 21
MAX_PITCH = 108
STEPS_PER_QUARTER = 4
STEPS_PER_BAR = 16
DEFAULT_QPM = 120.0
_PITCH_OFFSET = MIN_PITCH - 2  # event = pitch - 19


def pitch_to_event(pitch):
    """MIDI pitch (21..108, int array or scalar) -> event class (2..89, same shape)."""
    pitch = np.asarray(pitch)
    if np.any((pitch < MIN_PITCH) | (pitch > MAX_PITCH)):
        raise InvalidParameterError(
            f"pitch must lie in {MIN_PITCH}..{MAX_PITCH}; got {pitch[(pitch < MIN_PITCH) | (pitch > MAX_PITCH)].ravel()[:5]}"
        )
    return (pitch - _PITCH_OFFSET).astype(np.int8)


def event_to_pitch(event):
    """Event class (2..89, int array or scalar) -> MIDI pitch (21..108); holds and note-offs give -1."""
    event = np.asarray(event).astype(np.int16)
    return np.where(event >= 2, event + _PITCH_OFFSET, -1)


def validate_events(events, name="events"):
    """Check an event array (int, values 0..89, last axis a whole number of bars); return it as int8."""
    arr = np.asarray(events)
    if arr.ndim not in (1, 2) or arr.shape[-1] == 0 or arr.shape[-1] % STEPS_PER_BAR:
        raise InvalidParameterError(
            f"{name} must have shape (T,) or (n, T) with T a positive multiple of 16; got {arr.shape}"
        )
    if not np.issubdtype(arr.dtype, np.integer):
        raise InvalidParameterError(f"{name} must hold integers; got dtype {arr.dtype}")
    if arr.size and (arr.min() < 0 or arr.max() >= N_CLASSES):
        raise InvalidParameterError(f"{name} values must lie in 0..{N_CLASSES - 1}; got {arr.min()}..{arr.max()}")
    return arr.astype(np.int8, copy=False)


def events_to_notes(events):
    """Event array of shape (T,) -> note list of shape (n_notes, 3), int32 [start, end, pitch], steps.

    A hold continues the sounding note (or the silence), a note-off ends it, a note-on ends the previous
    note and starts a new one; the last note sounds to the end of the window, as in Magenta's
    ``Melody.to_sequence``.
    """
    ev = validate_events(events).ravel()
    onsets = np.flatnonzero(ev >= 2)
    if onsets.size == 0:
        return np.zeros((0, 3), np.int32)
    # A note ends at the first note-off or note-on after its onset, or at the window's end.
    stops = np.flatnonzero(ev >= 1)
    nxt = np.searchsorted(stops, onsets, side="right")
    ends = np.where(nxt < stops.size, stops[np.minimum(nxt, stops.size - 1)], ev.size)
    return np.stack([onsets, ends, ev[onsets].astype(np.int32) + _PITCH_OFFSET], axis=1).astype(np.int32)


def notes_to_events(notes, n_steps):
    """Monophonic note list (n_notes, 3) [start, end, pitch] in steps -> event array (n_steps,), int8.

    Notes are written in order of onset; a note-off is written at a note's end unless the next note
    starts there or the end lies at or past ``n_steps``. Inverse of :func:`events_to_notes` on event
    arrays whose every note-off directly ends a sounding note (as Magenta's ``Melody`` stores them).
    """
    notes = np.asarray(notes, dtype=np.int64).reshape(-1, 3)
    notes = notes[np.argsort(notes[:, 0], kind="stable")]
    ev = np.zeros(n_steps, np.int8)
    for start, end, pitch in notes:
        if not 0 <= start < n_steps or end <= start:
            raise InvalidParameterError(f"note ({start}, {end}, {pitch}) lies outside 0..{n_steps} steps or is empty")
        ev[start] = pitch_to_event(pitch)
        ev[start + 1 : min(end, n_steps)] = HOLD
        if end < n_steps:
            ev[end] = NOTE_OFF
    # A later onset overwrites the previous note-off; restore onsets that a note-off overwrote.
    ev[notes[:, 0]] = pitch_to_event(notes[:, 2])
    return ev


def events_to_midi(events, qpm=DEFAULT_QPM, program=0, velocity=80, ticks_per_quarter=480):
    """Event array (T,) -> Standard MIDI File bytes (one track, 4/4, ``qpm`` quarter notes per minute)."""
    import symusic

    notes = events_to_notes(events)
    score = symusic.Score(ticks_per_quarter)
    score.tempos.append(symusic.Tempo(0, float(qpm)))
    score.time_signatures.append(symusic.TimeSignature(0, 4, 4))
    track = symusic.Track("melody", program, False)
    tps = ticks_per_quarter // STEPS_PER_QUARTER
    for start, end, pitch in notes:
        track.notes.append(symusic.Note(int(start) * tps, int(end - start) * tps, int(pitch), int(velocity)))
    score.tracks.append(track)
    return bytes(score.dumps_midi())
