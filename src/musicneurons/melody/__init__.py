"""Melodies: Magenta's vocabulary, Magenta-exact window extraction, sources and random sequences.

Functions
---------
corpus_melodies    windows of the embedded music21 folk corpus (cached)
read_melodies      windows of a MIDI / MusicXML / ABC / kern file or folder (cached, resumable)
random_windows     the paper's random note sequences (§5.1)
extract_windows    windows of one NoteSequence, as Magenta's OneHotMelodyConverter makes them
read_midi, read_score   foreign files -> NoteSequence (MIDI by pretty_midi's rules, as Magenta reads it)
events_to_notes, notes_to_events, events_to_midi   conversions of event arrays
plot_piano_roll    a piano roll of one window (returns fig, ax)
"""

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

if TYPE_CHECKING:
    from .corpus import corpus_melodies, corpus_tunes
    from .events import (
        HOLD,
        MAX_PITCH,
        MIN_PITCH,
        N_CLASSES,
        NOTE_OFF,
        STEPS_PER_BAR,
        event_to_pitch,
        events_to_midi,
        events_to_notes,
        notes_to_events,
        pitch_to_event,
    )
    from .extract import extract_windows
    from .files import read_melodies
    from .notesequence import NoteSequence
    from .plot import plot_piano_roll
    from .random_notes import random_windows
    from .sources import read_midi, read_score
    from .tables import load_melodies, random_melodies, save_melodies

__all__ = [
    "corpus_melodies",
    "corpus_tunes",
    "read_melodies",
    "random_windows",
    "random_melodies",
    "load_melodies",
    "save_melodies",
    "plot_piano_roll",
    "extract_windows",
    "NoteSequence",
    "read_midi",
    "read_score",
    "events_to_notes",
    "notes_to_events",
    "events_to_midi",
    "pitch_to_event",
    "event_to_pitch",
    "HOLD",
    "NOTE_OFF",
    "MIN_PITCH",
    "MAX_PITCH",
    "N_CLASSES",
    "STEPS_PER_BAR",
]

lazy_exports(__name__, __file__)
