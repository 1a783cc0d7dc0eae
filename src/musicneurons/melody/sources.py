"""Readers of foreign files into :class:`NoteSequence`: MIDI as Magenta reads it, scores through music21.

``read_midi`` (:mod:`musicneurons.melody.midi`) follows pretty_midi's rules, in seconds. ``read_score`` parses MusicXML, ABC,
kern and anything else music21 reads; it strips ties, drops grace notes and chord symbols, and shifts a
pickup (anacrusis) so that bar lines fall on multiples of the bar length, which a MIDI export would not do.
Off-grid notes (triplets, quintuplets) are kept at their exact times and later rounded to the sixteenth
grid by Magenta's rule, onset and release each to the nearest step with halves rounding up.
"""

from pathlib import Path

from ..errors import ScoreFileError
from .midi import read_midi
from .notesequence import NoteSequence

__all__ = ["read_midi", "read_score", "score_to_notesequence", "MIDI_SUFFIXES", "SCORE_SUFFIXES"]

MIDI_SUFFIXES = (".mid", ".midi", ".kar")
SCORE_SUFFIXES = (".xml", ".musicxml", ".mxl", ".abc", ".krn")


def _pickup_shift(part):
    """Quarter notes to add to offsets so that bars align: the first measure's ``paddingLeft``."""
    from music21 import stream

    first = part.getElementsByClass(stream.Measure).first()
    return float(first.paddingLeft) if first is not None else 0.0


def _part_instruments(score, parts):
    """Instrument index of each part: the staves of one instrument (a piano's two PartStaffs) share one."""
    from music21 import layout, stream

    first_staff = {}
    if isinstance(score, stream.Score):
        for group in score.spannerBundle.getByClass(layout.StaffGroup):
            staves = [p for p in group.getSpannedElements() if isinstance(p, stream.PartStaff)]
            for staff in staves:
                first_staff.setdefault(id(staff), id(staves[0]))
    index = {}
    return [index.setdefault(first_staff.get(id(p), id(p)), len(index)) for p in parts]


def score_to_notesequence(score):
    """A music21 Score (or Part) -> NoteSequence, one instrument per part, pickup shifted, grace notes dropped.

    The staves of one instrument (PartStaffs of one StaffGroup, as music21 reads a MusicXML piano part)
    form one instrument, as one MIDI track would.
    """
    from music21 import harmony, meter, stream, tempo

    parts = list(score.parts) if isinstance(score, stream.Score) and score.parts else [score]
    rows, time_sigs, tempos, names = [], set(), set(), {}
    for inst, part in zip(_part_instruments(score, parts), parts):
        shift = _pickup_shift(part)
        part.stripTies(inPlace=True)  # in place: a copy would cost more than the parse
        flat = part.flatten()
        instrument = part.getInstrument(returnDefault=True)
        program = instrument.midiProgram or 0
        names.setdefault(inst, part.partName or instrument.instrumentName or "")
        for el in flat.notes:
            if isinstance(el, harmony.Harmony) or el.duration.isGrace or not hasattr(el, "pitches"):
                continue
            start = float(el.offset) + shift
            end = start + float(el.quarterLength)
            velocity = el.volume.velocity if el.volume.velocity is not None else 80
            rows.extend((start, end, p.midi, velocity, program, inst, False) for p in el.pitches)
        for ts in flat.getElementsByClass(meter.TimeSignature):
            time_sigs.add((float(ts.offset) + shift if ts.offset else 0.0, ts.numerator, ts.denominator))
        for mm in flat.getElementsByClass(tempo.MetronomeMark):
            if mm.number is not None:
                tempos.add((float(mm.offset) + shift if mm.offset else 0.0, float(mm.getQuarterBPM())))
    return NoteSequence.from_notes(rows, time_sigs, tempos, names)


def read_score(path, number=None):
    """Parse a MusicXML, ABC or kern file with music21 -> list of (tune key, NoteSequence).

    A file holding several tunes (an ABC book parsed as an Opus) gives one entry per tune, keyed by its
    ABC ``X:`` number; ``number`` reads a single tune of such a file. Raises ScoreFileError naming the file.
    """
    from music21 import converter, stream

    try:
        # forceSource: music21 would otherwise write a pickle of every file to its scratch folder.
        parsed = converter.parse(str(path), number=number, forceSource=True)
    except Exception as exc:  # music21 raises many unrelated types on bad input
        raise ScoreFileError(path, f"music21 could not parse it ({type(exc).__name__}: {exc})") from None
    scores = list(parsed.scores) if isinstance(parsed, stream.Opus) else [parsed]
    out = []
    for i, score in enumerate(scores):
        num = score.metadata.number if score.metadata is not None and score.metadata.number else None
        out.append(
            (str(num if num is not None else (number if number is not None else i)), score_to_notesequence(score))
        )
    return out


def is_midi(path):
    """True when ``path`` has a MIDI suffix."""
    return Path(path).suffix.lower() in MIDI_SUFFIXES
