"""Magenta-exact extraction on MIDI bytes written here, expected windows worked out by hand.

Notation of expected windows: one token per sixteenth step; ``.`` = hold (0), ``x`` = note-off (1), a number
= note-on event class (MIDI pitch - 19: C4 = 41, D4 = 43, E4 = 45, F4 = 46, G4 = 48, A4 = 50).
"""

import numpy as np
import pytest

from midi_helpers import midi_bytes, quarters, spaced_notes
from musicneurons.melody.extract import unique_windows
from musicneurons.errors import InvalidParameterError, MidiFileError
from musicneurons.melody import extract_windows, read_midi
from musicneurons.melody.events import pitch_to_event


def steps(text):
    """'41 . . x' -> int8 array [41, 0, 0, 1]."""
    return np.array([0 if t == "." else 1 if t == "x" else int(t) for t in text.split()], np.int8)


def windows_of(tracks, bars=2, mode="analysis", **kw):
    return extract_windows(read_midi(midi_bytes(tracks, **kw)), bars, mode)


TWINKLE = [60, 60, 67, 67, 69, 69]


def test_twinkle_first_two_bars():
    notes = quarters(TWINKLE) + [(6, 8, 67)]
    res = windows_of([{"notes": notes}])
    expected = steps("41 . . . 41 . . . 48 . . . 48 . . .  50 . . . 50 . . . 48 . . . . . . .")
    assert res.events.shape == (1, 32)
    np.testing.assert_array_equal(res.events[0], expected)
    assert res.meta[0]["first_bar"] == 0 and res.meta[0]["tempo"] == 120.0


def test_staccato_melody_ending_mid_bar_keeps_its_note_off():
    notes = quarters(TWINKLE, gate=0.5) + [(6, 7.5, 67)]
    res = windows_of([{"notes": notes}])
    expected = steps("41 . x . 41 . x . 48 . x . 48 . x .  50 . x . 50 . x . 48 . . . . . x .")
    np.testing.assert_array_equal(res.events[0], expected)


def test_melody_ending_on_bar_line_loses_final_note_off():
    # The last note ends exactly at the end of bar 2: Magenta strips the final NOTE_OFF and pads nothing.
    res = windows_of([{"notes": [(0, 4, 60), (4, 8, 62)]}])
    np.testing.assert_array_equal(res.events[0], steps(" ".join(["41"] + ["."] * 15 + ["43"] + ["."] * 15)))


def test_two_notes_on_one_onset_keep_the_highest():
    notes = [(0, 1, 60), (0, 1, 64), (1, 2, 62)] + quarters([60] * 6, start=2)
    res = windows_of([{"notes": notes}])
    np.testing.assert_array_equal(res.events[0][:8], steps("45 . . . 43 . . ."))


def test_full_bar_rest_splits_the_melody():
    first = quarters([60, 62, 64, 65, 67, 65, 64, 62])  # bars 0-1, ends on the bar line (step 32)
    second = quarters([72, 71, 69, 67, 65, 64, 62, 60], start=12)  # bars 3-4: silence of 16 steps
    res = windows_of([{"notes": first + second}], mode="all")
    # Two separate 2-bar melodies: no window spans the silent bar.
    assert sorted(m["first_bar"] for m in res.meta) == [0, 3]
    assert (res.events == 0).all(axis=1).sum() == 0


def test_rest_shorter_than_a_bar_does_not_split():
    first = quarters([60, 62, 64, 65, 67, 65, 64, 62])
    second = quarters([72, 71, 69, 67, 65, 64, 62, 60], start=11.75)  # 15 steps of silence
    res = windows_of([{"notes": first + second}], mode="all")
    assert sorted(m["first_bar"] for m in res.meta) == [0, 1, 2, 3]


def test_window_starting_with_note_off_starts_with_hold():
    # C4 over bar 0 (note-off at step 16), D4 at step 20, E4 held to the end of bar 2.
    res = windows_of([{"notes": [(0, 4, 60), (5, 6, 62), (6, 12, 64)]}], mode="all")
    by_bar = {m["first_bar"]: e for m, e in zip(res.meta, res.events)}
    np.testing.assert_array_equal(by_bar[1], steps(". . . . 43 . . . 45 " + ". " * 23))
    np.testing.assert_array_equal(by_bar[0], steps("41 " + ". " * 15 + "x . . . 43 . . . 45 . . . . . . ."))


def test_identical_windows_are_deduplicated():
    bar = quarters([60, 64, 67, 64])
    notes = [(s + 4 * k, e + 4 * k, p) for k in range(4) for s, e, p in bar]
    res = windows_of([{"notes": notes}], mode="all")
    assert res.events.shape == (1, 32)


def test_tempo_change_splits_sections_with_their_tempi():
    notes = quarters([60, 62, 64, 65, 67, 65, 64, 62] * 2)
    res = windows_of([{"notes": notes}], mode="all", tempos=((0, 120.0), (8, 90.0)))
    got = sorted((m["first_bar"], m["tempo"]) for m in res.meta)
    # MIDI stores 90 qpm as 666,667 microseconds a quarter: 89.99995 qpm, as pretty_midi reads it too.
    assert [b for b, _ in got] == [0, 2] and got[0][1] == 120.0 and got[1][1] == pytest.approx(90.0, rel=1e-6)


def test_three_four_section_is_dropped_and_reported():
    notes = quarters([60, 62, 64, 65, 67, 65, 64, 62] + [60, 62, 64] * 4)
    res = windows_of([{"notes": notes}], mode="all", time_signatures=((0, 4, 4), (8, 3, 4)))
    assert [m["first_bar"] for m in res.meta] == [0]
    only_34 = windows_of([{"notes": notes}], time_signatures=((0, 3, 4),))
    assert only_34.events.shape == (0, 32)
    assert only_34.reason == "no section with 16 steps per bar (time signatures: 3/4)"


def test_two_two_counts_as_sixteen_steps_per_bar():
    notes = quarters(TWINKLE) + [(6, 8, 67)]
    res = windows_of([{"notes": notes}], time_signatures=((0, 2, 2),))
    assert res.events.shape == (1, 32)


def test_pitches_outside_piano_range_are_dropped():
    notes = [(0, 1, 60), (1, 2, 110), (2, 3, 62), (3, 4, 20)] + quarters([60] * 4, start=4)
    res = windows_of([{"notes": notes}])
    np.testing.assert_array_equal(res.events[0][:16], steps("41 . . . x . . . 43 . . . x . . ."))


def magenta_first_five(raw_windows):
    """The first 5 of the set Magenta's ``_dedupe_and_sample`` builds: ``set(tuple(zip(window)))`` over raw
    melody events (pitch, -1 NOTE_OFF, -2 NO_EVENT), inserted in slice order; as 90-class rows."""
    chosen = list(set(tuple(zip(w)) for w in raw_windows))[:5]
    return [[e + 2 if e < 0 else e - 19 for (e,) in w] for w in chosen]


def test_more_than_five_windows_take_the_first_five_in_set_order():
    pitches = [60, 62, 64, 65, 67, 69, 71, 72]
    notes = [(4 * k, 4 * k + 4, p) for k, p in enumerate(pitches)]  # 8 whole-bar notes -> 7 windows
    # Magenta's melody: each pitch then 15 NO_EVENTs; the last note ends on the bar line, so no NOTE_OFF.
    raw = [e for p in pitches for e in [p] + [-2] * 15]
    raw_windows = [raw[i - 32 : i] for i in range(32, len(raw) + 1, 16)]
    expected = magenta_first_five(raw_windows)
    # Tuples of ints (the old, wrong key) iterate in another order here: the test tells the two apart.
    assert [list(w) for w in list(set(tuple(w) for w in raw_windows))[:5]] != [
        [e - 2 if e < 2 else e + 19 for e in w] for w in expected
    ]
    assert windows_of([{"notes": notes}], mode="all").events.shape == (7, 32)
    assert windows_of([{"notes": notes}]).events.tolist() == expected
    a = extract_windows(read_midi(midi_bytes([{"notes": notes}])), 2, "training", seed=3)
    b = extract_windows(read_midi(midi_bytes([{"notes": notes}])), 2, "training", seed=3)
    np.testing.assert_array_equal(a.events, b.events)
    assert a.events.shape == (5, 32)


def test_first_five_per_section_then_per_piece():
    # Two tempo sections of 8 whole-bar notes each: 7 windows each, the first 5 of each section's set,
    # then the first 5 of the 10 (combine_converter_tensors): all five from section 0.
    pitches = [60, 62, 64, 65, 67, 69, 71, 72]
    notes = [(4 * k, 4 * k + 4, p) for k, p in enumerate(pitches + [p + 12 for p in pitches])]
    res = windows_of([{"notes": notes}], tempos=((0, 120.0), (32, 60.0)))
    raw = [e for p in pitches for e in [p] + [-2] * 15]
    expected = magenta_first_five([raw[i - 32 : i] for i in range(32, len(raw) + 1, 16)])
    assert res.events.tolist() == expected and {m["section"] for m in res.meta} == {0}
    every = windows_of([{"notes": notes}], mode="all", tempos=((0, 120.0), (32, 60.0)))
    assert sorted(m["first_bar"] for m in every.meta) == [0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14]


def test_drums_only_file_gives_reason():
    res = windows_of([{"notes": quarters([36, 38] * 8), "drum": True}])
    assert res.events.shape == (0, 32) and res.reason == "drums only: no pitched notes"


def test_two_bar_config_keeps_programs_0_to_31_only():
    notes = quarters(TWINKLE) + [(6, 8, 67)]
    bass = {"notes": notes, "program": 33}
    assert windows_of([bass]).events.shape == (0, 32)
    assert windows_of([bass], bars=16).reason.startswith("no monophonic line of at least 16 bars")


def test_sixteen_bar_window_and_instrument_per_track():
    melody = [(q, q + 1, 60 + (q % 5)) for q in range(64)]
    res = windows_of([{"notes": melody}, {"notes": melody, "program": 40, "name": "violin"}], bars=16, mode="all")
    assert res.events.shape == (1, 256)  # both tracks give the same window, deduplicated
    assert res.events[0][0] == pitch_to_event(60)


def test_round_trip_over_the_vocabulary():
    from musicneurons.melody import events_to_midi

    rng = np.random.default_rng(0)
    for lo in range(21, 109, 8):
        pitches = rng.integers(lo, min(lo + 8, 109), 8)
        ev = np.zeros(32, np.int8)
        ev[::4] = pitch_to_event(pitches)
        ev[2::8] = 1
        res = extract_windows(read_midi(events_to_midi(ev)), 2)
        np.testing.assert_array_equal(res.events[0], ev)


def test_bad_parameters_and_corrupt_bytes():
    with pytest.raises(InvalidParameterError, match="'bars' parameter of unique_windows must be one of"):
        extract_windows(read_midi(midi_bytes([{"notes": quarters(TWINKLE)}])), bars=4)
    good = midi_bytes([{"notes": quarters(TWINKLE)}])
    with pytest.raises(MidiFileError, match="song.mid: unreadable MIDI"):
        read_midi(good[: len(good) // 2], name="song.mid")
    with pytest.raises(MidiFileError, match="unreadable MIDI"):
        read_midi(b"not a midi file at all")


def test_twenty_thousand_notes_separated_by_rests():
    # At 4 ticks a quarter: quarter notes each followed by two bars of rest, so every note is a melody
    # of its own (1 bar): 20,000 melodies, none long enough for a 2-bar window. Linear-time search makes
    # this quick (benchmarks/bench_melody.py times it); the quadratic one took minutes.
    ns = read_midi(spaced_notes(20_000, 4, 32))
    assert len(ns) == 20_000 and ns.end[-1] == 19_999 * 4.5 + 0.5  # 36 ticks = 9 quarters = 4.5 s a note
    assert unique_windows(ns, 2) == (
        [],
        "no monophonic line of at least 2 bars (pitches 21..108, programs 0..31, gaps under one bar)",
    )
    # An eighth of rest between random pitches: one melody of 120,000 steps, cut at 1,600 (Magenta's
    # max_bars = 100) before it is built: 99 distinct windows start on bars 0..98.
    pitches = np.random.default_rng(0).integers(21, 109, 20_000).tolist()
    res = extract_windows(read_midi(spaced_notes(20_000, 4, 2, pitches=pitches)), 2, mode="all")
    assert sorted(m["first_bar"] for m in res.meta) == list(range(99))
