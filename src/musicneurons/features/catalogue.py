"""The feature catalogue: every scalar feature's id, name, category, meaning and origin.

Ids are music21's for the features music21 implements (``'P1'``, ``'M10'``, ``'R15'``; jSymbolic 1
numbering, upper-cased) and jSymbolic 2.2 codes (with a dash: ``'P-24'``, ``'R-41'``) for the ones only
jSymbolic 2.2 defines. The analysis drops features by rule from the ``constant``, ``duplicate_of`` and
``scaled_duplicate_of`` columns; :func:`catalogue` documents each of them.
"""

import pandas as pd

__all__ = ["catalogue", "feature_ids", "MUSIC21_IDS"]

_NO_NOTES = "window has no notes"
_LT2 = "window has fewer than 2 notes"

# id, name, category, meaning, music21 id, jSymbolic 2.2 code, constant, duplicate_of, scaled_duplicate_of, nan_when
_ROWS = [
    # ---- music21: pitch
    ("P1", "Most Common Pitch Prevalence", "pitch", "fraction of notes on the most common MIDI pitch", "P1", "P-18", False, "", "", _NO_NOTES),
    ("P2", "Most Common Pitch Class Prevalence", "pitch", "fraction of notes on the most common pitch class", "P2", "P-19", False, "", "", _NO_NOTES),
    ("P3", "Relative Strength of Top Pitches", "pitch", "count of 2nd most common pitch / count of the most common (0 if one pitch)", "P3", "P-20", False, "", "", ""),
    ("P4", "Relative Strength of Top Pitch Classes", "pitch", "count of 2nd most common pitch class / count of the most common", "P4", "P-21", False, "", "", _NO_NOTES),
    ("P5", "Interval Between Strongest Pitches", "pitch", "semitones between the two most common pitches (ties: first heard)", "P5", "P-22", False, "", "", ""),
    ("P6", "Interval Between Strongest Pitch Classes", "pitch", "|difference| of the two most common pitch classes (ties: lowest class)", "P6", "P-23", False, "", "", ""),
    ("P7", "Number of Common Pitches", "pitch", "pitches holding at least 9% of the notes", "P7", "P-6", False, "", "", ""),
    ("P8", "Pitch Variety", "pitch", "distinct MIDI pitches", "P8", "P-4", False, "", "", ""),
    ("P9", "Pitch Class Variety", "pitch", "distinct pitch classes", "P9", "P-5", False, "", "", ""),
    ("P10", "Range", "pitch", "highest minus lowest MIDI pitch (semitones)", "P10", "P-8", False, "", "", _NO_NOTES),
    ("P11", "Most Common Pitch", "pitch", "MIDI pitch of the most common pitch (ties: first heard; 0 without notes)", "P11", "P-16", False, "", "", ""),
    ("P12", "Primary Register", "pitch", "mean MIDI pitch of the notes", "P12", "P-14", False, "", "", _NO_NOTES),
    ("P13", "Importance of Bass Register", "pitch", "fraction of notes at MIDI pitch 0-54", "P13", "P-9", False, "", "", _NO_NOTES),
    ("P14", "Importance of Middle Register", "pitch", "fraction of notes at MIDI pitch 55-72", "P14", "P-10", False, "", "", _NO_NOTES),
    ("P15", "Importance of High Register", "pitch", "fraction of notes at MIDI pitch 73-127", "P15", "P-11", False, "", "", _NO_NOTES),
    ("P16", "Most Common Pitch Class", "pitch", "most common pitch class, C = 0 (ties: lowest class)", "P16", "P-17", False, "", "", ""),
    ("P22", "Quality", "pitch", "0 major / 1 minor from Key objects; always 0 for event windows (no Key)", "P22", "P-33", True, "", "", ""),
    # ---- jSymbolic 2.2 only: pitch
    ("P-7", "Number of Common Pitch Classes", "pitch", "pitch classes holding at least 20% of the notes", "", "P-7", False, "", "", ""),
    ("P-15", "Mean Pitch Class", "pitch", "mean pitch class of the notes, C = 0 (0 without notes)", "", "P-15", False, "", "", ""),
    ("P-24", "Pitch Variability", "pitch", "standard deviation (n-1) of the notes' MIDI pitches", "", "P-24", False, "", "", ""),
    ("P-25", "Pitch Class Variability", "pitch", "standard deviation (n-1) of the notes' pitch classes", "", "P-25", False, "", "", ""),
    ("P-26", "Pitch Class Variability After Folding", "pitch", "standard deviation (n-1) of 7*pitch class mod 12 (circle of fifths)", "", "P-26", False, "", "", ""),
    ("P-27", "Pitch Skewness", "pitch", "3 (mean - median) / sd of the MIDI pitches (0 below 3 notes)", "", "P-27", False, "", "", ""),
    ("P-28", "Pitch Class Skewness", "pitch", "3 (mean - median) / sd of the pitch classes", "", "P-28", False, "", "", ""),
    ("P-29", "Pitch Class Skewness After Folding", "pitch", "3 (mean - median) / sd of the fifths-folded pitch classes", "", "P-29", False, "", "", ""),
    ("P-30", "Pitch Kurtosis", "pitch", "jSymbolic's sample kurtosis of the MIDI pitches (0 below 4 notes)", "", "P-30", False, "", "", ""),
    ("P-31", "Pitch Class Kurtosis", "pitch", "jSymbolic's sample kurtosis of the pitch classes", "", "P-31", False, "", "", ""),
    ("P-32", "Pitch Class Kurtosis After Folding", "pitch", "jSymbolic's sample kurtosis of the fifths-folded pitch classes", "", "P-32", False, "", "", ""),
    ("P-34", "First Pitch", "pitch", "MIDI pitch of the first note (0 without notes)", "", "P-34", False, "", "", ""),
    ("P-35", "First Pitch Class", "pitch", "pitch class of the first note (0 without notes)", "", "P-35", False, "", "", ""),
    ("P-36", "Last Pitch", "pitch", "MIDI pitch of the last note (0 without notes)", "", "P-36", False, "", "", ""),
    ("P-37", "Last Pitch Class", "pitch", "pitch class of the last note (0 without notes)", "", "P-37", False, "", "", ""),
    # ---- music21: melody
    ("M2", "Average Melodic Interval", "melody", "mean absolute melodic interval (semitones)", "M2", "M-3", False, "", "", _LT2),
    ("M3", "Most Common Melodic Interval", "melody", "most common absolute interval (ties: smallest; 0 without intervals)", "M3", "M-2", False, "", "", ""),
    ("M4", "Distance Between Most Common Melodic Intervals", "melody", "|most common - 2nd most common interval| (music21's list.index rule)", "M4", "M-5", False, "", "", ""),
    ("M5", "Most Common Melodic Interval Prevalence", "melody", "fraction of intervals equal to the most common one", "M5", "M-6", False, "", "", _LT2),
    ("M6", "Relative Strength of Most Common Intervals", "melody", "count of 2nd most common interval / count of the most common", "M6", "M-7", False, "", "", _LT2),
    ("M7", "Number of Common Melodic Intervals", "melody", "interval sizes holding at least 9% of the intervals", "M7", "M-4", False, "", "", _LT2),
    ("M8", "Amount of Arpeggiation", "melody", "fraction of intervals in {0,3,4,7,10,11,12,15,16} (0 without intervals)", "M8", "M-8", False, "", "",
     "no interval lies in the arpeggio set (music21 raises; jSymbolic gives 0)"),
    ("M9", "Repeated Notes", "melody", "fraction of unison intervals (0 without intervals)", "M9", "M-9", False, "", "", ""),
    ("M10", "Chromatic Motion", "melody", "fraction of 1-semitone intervals", "m10", "M-10", False, "", "", _LT2),
    ("M11", "Stepwise Motion", "melody", "fraction of 1- or 2-semitone intervals", "M11", "M-11", False, "", "", _LT2),
    ("M12", "Melodic Thirds", "melody", "fraction of 3- or 4-semitone intervals", "M12", "M-12", False, "", "", _LT2),
    ("M13", "Melodic Fifths", "melody", "fraction of 7-semitone intervals", "M13", "M-15", False, "", "", _LT2),
    ("M14", "Melodic Tritones", "melody", "fraction of 6-semitone intervals", "M14", "M-14", False, "", "", _LT2),
    ("M15", "Melodic Octaves", "melody", "fraction of intervals of 12, 24, 48, ..., 120 semitones (music21 omits 36)", "M15", "M-18", False, "", "", _LT2),
    ("M17", "Direction of Motion", "melody", "rising / (rising + falling) intervals", "m17", "M-22", False, "", "", "no rising or falling interval"),
    ("M18", "Duration of Melodic Arcs", "melody", "non-unison intervals / changes of direction (0 without a change)", "M18", "M-23", False, "", "", ""),
    ("M19", "Size of Melodic Arcs", "melody", "summed span of completed arcs / changes of direction (0 without a change)", "M19", "M-24", False, "", "", ""),
    # ---- jSymbolic 2.2 only: melody
    ("M-13", "Melodic Perfect Fourths", "melody", "fraction of 5-semitone intervals (0 without intervals)", "", "M-13", False, "", "", ""),
    ("M-16", "Melodic Sixths", "melody", "fraction of 8- or 9-semitone intervals", "", "M-16", False, "", "", ""),
    ("M-17", "Melodic Sevenths", "melody", "fraction of 10- or 11-semitone intervals", "", "M-17", False, "", "", ""),
    ("M-19", "Melodic Large Intervals", "melody", "fraction of intervals larger than an octave (13+ semitones)", "", "M-19", False, "", "", ""),
    ("M-20", "Minor Major Melodic Third Ratio", "melody", "minor thirds / major thirds (0 unless both occur)", "", "M-20", False, "", "", ""),
    ("M-21", "Melodic Embellishments", "melody", "fraction of notes whose neighbours both last at least 3 times as long", "", "M-21", False, "", "", ""),
    ("M-25", "Melodic Pitch Variety", "melody", "mean number of notes until a pitch recurs (recurrences within 16 notes; 0 if none)", "", "M-25", False, "", "", ""),
    # ---- music21: rhythm (seconds at the window's tempo; jSymbolic 2.2 RT group)
    ("R15", "Note Density", "rhythm", "notes per second up to the end of the last note (0 without notes)", "R15", "RT-5", False, "", "R-10", ""),
    ("R17", "Average Note Duration", "rhythm", "mean note duration (s)", "R17", "RT-13", False, "", "", _NO_NOTES),
    ("R18", "Variability of Note Duration", "rhythm", "population standard deviation of note durations (s)", "R18", "RT-14", False, "", "", _NO_NOTES),
    ("R19", "Maximum Note Duration", "rhythm", "longest note (s)", "R19", "RT-12", False, "", "", _NO_NOTES),
    ("R20", "Minimum Note Duration", "rhythm", "shortest note (s)", "R20", "RT-11", False, "", "", _NO_NOTES),
    ("R21", "Staccato Incidence", "rhythm", "fraction of notes shorter than 0.1 s (always 0 on a sixteenth grid at 150 qpm or slower)", "R21", "RT-15", False, "", "", _NO_NOTES),
    ("R22", "Average Time Between Attacks", "rhythm", "mean time between consecutive onsets (s)", "R22", "RT-7", False, "", "", _LT2),
    ("R23", "Variability of Time Between Attacks", "rhythm", "population standard deviation of the time between onsets (s)", "R23", "RT-9", False, "", "", _LT2),
    ("R24", "Average Time Between Attacks For Each Voice", "rhythm", "R22 averaged over voices; equals R22 for one voice", "R24", "RT-8", False, "R22", "", _LT2),
    ("R25", "Average Variability of Time Between Attacks For Each Voice", "rhythm", "R23 averaged over voices; equals R23 for one voice", "R25", "RT-10", False, "R23", "", _LT2),
    ("R30", "Initial Tempo", "rhythm", "tempo in quarter notes per minute", "R30", "RT-1", True, "", "", ""),
    ("R32", "Compound Or Simple Meter", "rhythm", "1 for a compound time signature; 0 in 4/4", "R32", "R-3", True, "", "", ""),
    ("R33", "Triple Meter", "rhythm", "1 when the time signature numerator is 3; 0 in 4/4", "R33", "R-6", True, "", "", ""),
    ("R34", "Quintuple Meter", "rhythm", "1 when the time signature numerator is 5; 0 in 4/4", "R34", "R-4", True, "", "", ""),
    ("R35", "Changes of Meter", "rhythm", "1 when the time signature changes; 0 for one window", "R35", "R-8", True, "", "", ""),
    ("R36", "Duration", "rhythm", "time to the end of the last note (s)", "R36", "RT-4", False, "", "", _NO_NOTES),
    # ---- jSymbolic 2.2 only: rhythm (quarter notes, tempo-free)
    ("R-9", "Total Number of Notes", "rhythm", "notes in the window", "", "R-9", False, "", "", ""),
    ("R-10", "Note Density per Quarter Note", "rhythm", "notes per quarter note up to the end of the last note (0 without notes)", "", "R-10", False, "", "", ""),
    ("R-11", "Note Density per Quarter Note per Voice", "rhythm", "R-10 divided by the number of voices; equals R-10 for one voice", "", "R-11", False, "R-10", "", ""),
    ("R-12", "Note Density per Quarter Note Variability", "rhythm", "sd (n-1) of notes per quarter over 8-quarter spans of the music, the last one shorter (0 below 2 spans)", "", "R-12", False, "", "", ""),
    ("R-14", "Range of Rhythmic Values", "rhythm", "bins between the shortest and longest quantised rhythmic value", "", "R-14", False, "", "", ""),
    ("R-15", "Number of Different Rhythmic Values Present", "rhythm", "distinct quantised rhythmic values", "", "R-15", False, "", "", ""),
    ("R-16", "Number of Common Rhythmic Values Present", "rhythm", "rhythmic values holding at least 15% of the notes", "", "R-16", False, "", "", ""),
    ("R-17", "Prevalence of Very Short Rhythmic Values", "rhythm", "fraction of notes shorter than an eighth", "", "R-17", False, "", "", ""),
    ("R-18", "Prevalence of Short Rhythmic Values", "rhythm", "fraction of notes shorter than a dotted eighth", "", "R-18", False, "", "", ""),
    ("R-19", "Prevalence of Medium Rhythmic Values", "rhythm", "fraction of notes from an eighth to a half note", "", "R-19", False, "", "", ""),
    ("R-20", "Prevalence of Long Rhythmic Values", "rhythm", "fraction of notes longer than a dotted quarter", "", "R-20", False, "", "", ""),
    ("R-21", "Prevalence of Very Long Rhythmic Values", "rhythm", "fraction of notes longer than a whole note", "", "R-21", False, "", "", ""),
    ("R-22", "Prevalence of Dotted Notes", "rhythm", "fraction of dotted rhythmic values", "", "R-22", False, "", "", ""),
    ("R-23", "Shortest Rhythmic Value", "rhythm", "shortest quantised rhythmic value (quarter notes)", "", "R-23", False, "", "", ""),
    ("R-24", "Longest Rhythmic Value", "rhythm", "longest quantised rhythmic value (quarter notes)", "", "R-24", False, "", "", ""),
    ("R-25", "Mean Rhythmic Value", "rhythm", "mean quantised rhythmic value (quarter notes)", "", "R-25", False, "", "", ""),
    ("R-26", "Most Common Rhythmic Value", "rhythm", "most common quantised rhythmic value (quarter notes; ties: shortest)", "", "R-26", False, "", "", ""),
    ("R-27", "Prevalence of Most Common Rhythmic Value", "rhythm", "fraction of notes with the most common rhythmic value", "", "R-27", False, "", "", ""),
    ("R-28", "Relative Prevalence of Most Common Rhythmic Values", "rhythm", "2nd most common rhythmic value's share / the most common's", "", "R-28", False, "", "", ""),
    ("R-29", "Difference Between Most Common Rhythmic Values", "rhythm", "bins between the two most common rhythmic values (jSymbolic's rule)", "", "R-29", False, "", "", ""),
    ("R-30", "Rhythmic Value Variability", "rhythm", "sd (n-1) of the quantised rhythmic values", "", "R-30", False, "", "", ""),
    ("R-31", "Rhythmic Value Skewness", "rhythm", "3 (mean - median) / sd of the quantised rhythmic values", "", "R-31", False, "", "", ""),
    ("R-32", "Rhythmic Value Kurtosis", "rhythm", "jSymbolic's sample kurtosis of the quantised rhythmic values", "", "R-32", False, "", "", ""),
    ("R-34", "Mean Rhythmic Value Run Length", "rhythm", "mean length of runs of consecutive notes with one rhythmic value", "", "R-34", False, "", "", ""),
    ("R-35", "Median Rhythmic Value Run Length", "rhythm", "median (upper) run length", "", "R-35", False, "", "", ""),
    ("R-36", "Variability in Rhythmic Value Run Lengths", "rhythm", "sd (n-1) of the run lengths", "", "R-36", False, "", "", ""),
    ("R-38", "Mean Rhythmic Value Offset", "rhythm", "mean |duration - quantised value| (quarter notes)", "", "R-38", False, "", "", ""),
    ("R-39", "Median Rhythmic Value Offset", "rhythm", "median (upper) quantisation offset (quarter notes)", "", "R-39", False, "", "", ""),
    ("R-40", "Variability of Rhythmic Value Offsets", "rhythm", "sd (n-1) of the quantisation offsets", "", "R-40", False, "", "", ""),
    ("R-41", "Complete Rests Fraction", "rhythm", "silent fraction of the music (to the end of the last note)", "", "R-41", False, "", "", ""),
    ("R-42", "Partial Rests Fraction", "rhythm", "silent fraction of some voice; equals R-41 for one voice", "", "R-42", False, "R-41", "", ""),
    ("R-43", "Average Rest Fraction Across Voices", "rhythm", "silent fraction per voice, averaged; equals R-41 for one voice", "", "R-43", False, "R-41", "", ""),
    ("R-44", "Longest Complete Rest", "rhythm", "longest rest (quarter notes; 0 without rests)", "", "R-44", False, "", "", ""),
    ("R-45", "Longest Partial Rest", "rhythm", "longest rest of some voice; equals R-44 for one voice", "", "R-45", False, "R-44", "", ""),
    ("R-46", "Mean Complete Rest Duration", "rhythm", "mean rest (quarter notes; 0 without rests)", "", "R-46", False, "", "", ""),
    ("R-47", "Mean Partial Rest Duration", "rhythm", "mean rest per voice; equals R-46 for one voice", "", "R-47", False, "R-46", "", ""),
    ("R-48", "Median Complete Rest Duration", "rhythm", "median (upper) rest (quarter notes; 0 without rests)", "", "R-48", False, "", "", ""),
    ("R-49", "Median Partial Rest Duration", "rhythm", "median rest per voice; equals R-48 for one voice", "", "R-49", False, "R-48", "", ""),
    ("R-50", "Variability of Complete Rest Durations", "rhythm", "sd (n-1) of the rests (quarter notes)", "", "R-50", False, "", "", ""),
    ("R-51", "Variability of Partial Rest Durations", "rhythm", "sd (n-1) of the rests per voice; equals R-50 for one voice", "", "R-51", False, "R-50", "", ""),
    ("R-52", "Variability Across Voices of Combined Rests", "rhythm", "sd of total rest across voices; 0 for one voice", "", "R-52", True, "", "", ""),
]

_COLUMNS = ["id", "name", "category", "meaning", "music21_id", "jsymbolic_code", "constant", "duplicate_of",
            "scaled_duplicate_of", "nan_when"]

#: Ids of the 50 features music21 implements, in catalogue order.
MUSIC21_IDS = [row[0] for row in _ROWS if row[4]]


def catalogue():
    """The feature catalogue, one row per scalar feature.

    Returns
    -------
    DataFrame
        Columns: ``id`` (column name in feature tables), ``name``, ``category`` (``pitch``, ``melody``
        or ``rhythm``), ``meaning`` (one line), ``music21_id`` (music21's own id, ``''`` if music21
        lacks it), ``jsymbolic_code`` (the jSymbolic 2.2 code), ``constant`` (bool: the same value for
        every one-voice 4/4 window at one tempo), ``duplicate_of`` (id of a feature it always equals
        for one-voice windows, ``''`` if none), ``scaled_duplicate_of`` (id of a feature it is a fixed
        multiple of at one tempo), ``nan_when`` (when the value is NaN, i.e. when music21 raises).
    """
    return pd.DataFrame(_ROWS, columns=_COLUMNS)


def feature_ids(category=None):
    """Feature ids in catalogue order, optionally of one category (``'pitch'``, ``'melody'``, ``'rhythm'``)."""
    return [row[0] for row in _ROWS if category is None or row[2] == category]
