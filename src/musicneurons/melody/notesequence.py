"""A piece of music as Magenta sees it before quantization: notes, time signatures and tempos.

Times are float64, in one of two units. MIDI files give seconds, computed exactly as pretty_midi computes
them, because Magenta quantizes seconds (``int(seconds * steps_per_second + 0.5)``) and that rounding
differs from exact quarter arithmetic on some half steps. Scores (music21) give quarter notes, exact
fractions of the beat; inside one section of constant tempo, seconds times ``qpm / 60`` are quarters.
"""

from dataclasses import dataclass, field

import numpy as np

__all__ = ["NoteSequence"]


@dataclass
class NoteSequence:
    """Notes of one piece, one entry per note.

    Attributes
    ----------
    start, end : ndarray of shape (n_notes,), dtype=float64
        Onset and release from the start of the piece, in ``unit``.
    pitch : ndarray of shape (n_notes,), dtype=int16
        MIDI pitch number 0..127.
    velocity : ndarray of shape (n_notes,), dtype=int16
        MIDI velocity; 0 means the note is ignored, as Magenta does.
    program : ndarray of shape (n_notes,), dtype=int16
        General MIDI program 0..127 of the note's instrument.
    instrument : ndarray of shape (n_notes,), dtype=int32
        Index of the track (MIDI) or part (score) the note belongs to; one melody search per instrument.
    is_drum : ndarray of shape (n_notes,), dtype=bool
        True for notes on the drum channel.
    time_signatures : list of (float, int, int)
        (time in ``unit``, numerator, denominator), sorted by time.
    tempos : list of (float, float)
        (time in ``unit``, qpm), sorted by time.
    track_names : dict of int to str
        Name of each instrument index, where the file gives one.
    unit : {'quarters', 'seconds'}
        Unit of every time above.
    """

    start: np.ndarray
    end: np.ndarray
    pitch: np.ndarray
    velocity: np.ndarray
    program: np.ndarray
    instrument: np.ndarray
    is_drum: np.ndarray
    time_signatures: list = field(default_factory=list)
    tempos: list = field(default_factory=list)
    track_names: dict = field(default_factory=dict)
    unit: str = "quarters"

    @classmethod
    def from_notes(cls, notes, time_signatures=(), tempos=(), track_names=None):
        """Build from an iterable of (start, end, pitch, velocity, program, instrument, is_drum) tuples."""
        rows = list(notes)
        cols = list(zip(*rows)) if rows else [[]] * 7
        dtypes = [np.float64, np.float64, np.int16, np.int16, np.int16, np.int32, bool]
        arrays = [np.asarray(c, dtype=d) for c, d in zip(cols, dtypes)]
        return cls(
            *arrays, time_signatures=sorted(time_signatures), tempos=sorted(tempos), track_names=dict(track_names or {})
        )

    def __len__(self):
        return len(self.start)

    @property
    def total_time(self):
        """End of the last note, in quarters (0.0 when empty)."""
        return float(self.end.max()) if len(self) else 0.0
