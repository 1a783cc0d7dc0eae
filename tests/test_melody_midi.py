"""MIDI read by pretty_midi's rules (what Magenta reads with), on MIDI bytes written here byte by byte.

Expected notes are worked out by hand from pretty_midi's rules (../shared/reference/musicvae.md §2.2b).
At 480 ticks a quarter and the default 120 qpm, a tick is 1/960 s, so tick 480 = 0.5 s.
"""

import math

import numpy as np
import pytest

from midi_helpers import off, on, program_event, smf, tempo_event, time_signature_event, track, track_at, vlq
from musicneurons.errors import MidiFileError
from musicneurons.melody import NoteSequence, extract_windows, read_midi
from musicneurons.melody.extract import unique_windows
from test_melody_extract import steps

CONDUCTOR = track((0, tempo_event(500000)))  # 120 qpm


def notes_of(ns):
    """(start s, end s, pitch, program, instrument) of every note, in the reader's order."""
    return list(zip(ns.start.tolist(), ns.end.tolist(), ns.pitch.tolist(), ns.program.tolist(), ns.instrument.tolist()))


def scale_track(*extra, pitches=(60, 62, 64, 65, 67, 69, 71, 72), channel=0):
    """A track of quarter notes (480 ticks each) preceded by ``extra`` events at tick 0."""
    events = [(0, e) for e in extra]
    for p in pitches:
        events += [(0, on(p, channel=channel)), (480, off(p, channel=channel))]
    return track(*events)


def test_time_signatures_and_tempos_come_from_track_0_only():
    # A 3/4 and a 60 qpm on the melody track (track 1): pretty_midi ignores both.
    ns = read_midi(smf(CONDUCTOR, scale_track(time_signature_event(3, 2), tempo_event(1000000))))
    assert ns.time_signatures == [] and ns.tempos == [(0.0, 120.0)]
    assert ns.start.tolist() == [0.5 * k for k in range(8)]
    assert extract_windows(ns, 2).events.shape == (1, 32)
    # The same 3/4 on track 0 governs the piece: no 16-step bar, no window.
    ns = read_midi(smf(track((0, time_signature_event(3, 2))), scale_track()))
    assert ns.time_signatures == [(0.0, 3, 4)]
    assert extract_windows(ns, 2).reason == "no section with 16 steps per bar (time signatures: 3/4)"


def test_a_note_off_closes_every_earlier_open_note_of_its_pitch():
    # on 60 @0, on 60 @960, off 60 @1920: one note-off ends both notes.
    ns = read_midi(smf(CONDUCTOR, track((0, on(60)), (960, on(60)), (960, off(60)))))
    assert notes_of(ns) == [(0.0, 2.0, 60, 0, 0), (1.0, 2.0, 60, 0, 0)]


def test_notes_opened_at_the_note_off_tick_stay_open_only_beside_a_closed_one():
    # on 60 @0, on 60 @960, off 60 @960 (same tick), off 60 @1920: the off at 960 ends the first note and
    # leaves the one opened at 960 open, which the off at 1920 ends.
    ns = read_midi(smf(CONDUCTOR, track((0, on(60)), (960, on(60)), (0, off(60)), (960, off(60)))))
    assert notes_of(ns) == [(0.0, 1.0, 60, 0, 0), (1.0, 2.0, 60, 0, 0)]
    # A note whose only note-off falls on its own tick is dropped (nothing earlier was closed).
    ns = read_midi(smf(CONDUCTOR, track((0, on(62)), (0, off(62)), (0, on(64)), (480, [0x90, 64, 0]))))
    assert notes_of(ns) == [(0.0, 0.5, 64, 0, 0)]


# Same-tick note-on/note-off cases on one track (480 ticks a quarter, 120 qpm: tick 480 = 0.5 s), as
# (absolute tick, event) in file order, and the notes (start s, end s, pitch, velocity) that pretty_midi
# 0.2.11 (mido 1.3.3) printed for these very bytes; the rule: a note-off (or velocity-0 note-on) closes
# every open note of its channel and pitch opened at an earlier tick; notes opened at its own tick stay open
# when it closed an earlier one, and are dropped (with no later note-off to end them) when it closed none.
SAME_TICK_CASES = {
    "zero-length note: on and off at one tick": (
        [(0, on(60)), (0, off(60)), (480, on(62)), (960, off(62))],
        [(0.5, 1.0, 62, 100)],
    ),
    "zero-length note by a velocity-0 note-on": (
        [(0, on(60)), (0, on(60, 0)), (480, on(62)), (960, off(62))],
        [(0.5, 1.0, 62, 100)],
    ),
    "a later note-off does not revive a dropped zero-length note": (
        [(0, on(60)), (0, off(60)), (480, off(60)), (480, on(62)), (960, off(62))],
        [(0.5, 1.0, 62, 100)],
    ),
    "repeated pitch, note-off then note-on at one tick": (
        [(0, on(60)), (480, off(60)), (480, on(60)), (960, off(60))],
        [(0.0, 0.5, 60, 100), (0.5, 1.0, 60, 100)],
    ),
    "repeated pitch, note-on then note-off at one tick": (
        [(0, on(60)), (480, on(60, 90)), (480, off(60)), (960, off(60))],
        [(0.0, 0.5, 60, 100), (0.5, 1.0, 60, 90)],
    ),
    "on, off, on at one tick after an open note: both new notes stay open": (
        [(0, on(60)), (480, on(60, 70)), (480, off(60)), (480, on(60, 60)), (960, off(60))],
        [(0.0, 0.5, 60, 100), (0.5, 1.0, 60, 70), (0.5, 1.0, 60, 60)],
    ),
    "off, on, off at one tick after an open note: the new note is dropped": (
        [(0, on(60)), (480, off(60)), (480, on(60, 70)), (480, off(60)), (960, off(60))],
        [(0.0, 0.5, 60, 100)],
    ),
    "second note-on of a sounding pitch: one note-off ends both": (
        [(0, on(60, 100)), (240, on(60, 50)), (480, off(60))],
        [(0.0, 0.5, 60, 100), (0.25, 0.5, 60, 50)],
    ),
    "second note-on, then two note-offs: the second is spurious": (
        [(0, on(60, 100)), (240, on(60, 50)), (480, off(60)), (720, off(60))],
        [(0.0, 0.5, 60, 100), (0.25, 0.5, 60, 50)],
    ),
    "second note-on closed by a velocity-0 note-on": (
        [(0, on(60, 100)), (240, on(60, 50)), (480, on(60, 0))],
        [(0.0, 0.5, 60, 100), (0.25, 0.5, 60, 50)],
    ),
    "two note-ons at one tick, one note-off later: two notes": (
        [(0, on(60, 100)), (0, on(60, 50)), (480, off(60))],
        [(0.0, 0.5, 60, 100), (0.0, 0.5, 60, 50)],
    ),
    "two note-ons and a note-off at one tick: both dropped": (
        [(0, on(60, 100)), (0, on(60, 50)), (0, off(60)), (480, off(60))],
        [],
    ),
    "three note-ons at two ticks, a note-off at the second": (
        [(0, on(60, 100)), (240, on(60, 90)), (240, on(60, 80)), (240, off(60)), (720, off(60))],
        [(0.0, 0.25, 60, 100), (0.25, 0.75, 60, 90), (0.25, 0.75, 60, 80)],
    ),
    "zero-length note, then a note-on at that tick closed later": (
        [(0, on(60)), (0, off(60)), (0, on(60, 70)), (480, off(60))],
        [(0.0, 0.5, 60, 70)],
    ),
    "a note-off before any note-on at its tick is spurious": (
        [(0, off(60)), (0, on(60)), (480, off(60))],
        [(0.0, 0.5, 60, 100)],
    ),
    "a note never closed is dropped": ([(0, on(60)), (480, off(60)), (480, on(60))], [(0.0, 0.5, 60, 100)]),
    "a zero-length note on channel 2 leaves channel 1's sounding note": (
        [(0, on(60)), (240, on(60, 70, channel=1)), (240, off(60, channel=1)), (480, off(60))],
        [(0.0, 0.5, 60, 100)],
    ),
}


@pytest.mark.parametrize("events, expected", SAME_TICK_CASES.values(), ids=SAME_TICK_CASES.keys())
def test_same_tick_note_ons_and_offs_give_pretty_midis_notes(events, expected):
    ns = read_midi(smf(track_at(*events), fmt=0))
    assert list(zip(ns.start.tolist(), ns.end.tolist(), ns.pitch.tolist(), ns.velocity.tolist())) == expected


def test_a_note_takes_the_program_in_force_at_its_note_off():
    # Program 0 at the note-on, 40 from tick 480, note-off at 960: the note is program 40, so the 2-bar
    # configuration (programs 0..31) drops it and the 16-bar one keeps it.
    melody = [(0, program_event(0)), (0, on(60)), (480, program_event(40)), (480, off(60))]
    ns = read_midi(smf(CONDUCTOR, track(*melody)))
    assert notes_of(ns) == [(0.0, 1.0, 60, 40, 0)]


def test_instruments_are_program_channel_track_in_the_order_their_first_note_closes():
    # Track 1: channel 1 opens first but channel 0 closes first; channel 9 (drums) last; track 2 again.
    t1 = track(
        (0, on(70, channel=1)),
        (0, on(60)),
        (480, off(60)),
        (480, off(70, channel=1)),
        (0, on(36, channel=9)),
        (240, off(36, channel=9)),
    )
    ns = read_midi(smf(CONDUCTOR, t1, track((0, on(50)), (480, off(50)))))
    assert notes_of(ns) == [(0.0, 0.5, 60, 0, 0), (0.0, 1.0, 70, 0, 1), (1.0, 1.25, 36, 0, 2), (0.0, 0.5, 50, 0, 3)]
    assert ns.is_drum.tolist() == [False, False, True, False]


def test_quantization_in_float64_seconds_rounds_some_half_steps_down():
    # 666,667 us a quarter (89.99995 qpm). C4 ends at tick 420 = 3.5 steps: note_seq computes
    # int(420 * (60 / (6e7 / 666667 * 480)) * (4 * qpm / 60) + 0.5) = int(3.4999999... + 0.5) = 3, where
    # exact arithmetic would round the half up to step 4 (and D4's onset there would hide the note-off).
    melody = track(
        (0, on(60)),
        (420, off(60)),
        (60, on(62)),
        (480, off(62)),
        (0, on(64)),
        (960, off(64)),
        (0, on(65)),
        (1920, off(65)),
    )
    ns = read_midi(smf(track((0, tempo_event(666667))), melody))
    seconds_per_tick = 60.0 / ((6e7 / 666667) * 480)
    qpm = 60.0 / (seconds_per_tick * 480)
    assert ns.tempos == [(0.0, qpm)] and ns.end[0] == 420 * seconds_per_tick
    assert int(ns.end[0] * (4 * qpm / 60.0) + 0.5) == 3
    res = extract_windows(ns, 2)
    np.testing.assert_array_equal(res.events[0], steps("41 . . x 43 . . . 45 . . . . . . . 46" + " ." * 15))


def test_unknown_meta_event_loses_its_delta_as_in_mido():
    # mido builds meta type 0x60 (unknown) without its delta time, so the 480 ticks before it vanish.
    ns = read_midi(smf(CONDUCTOR, track((480, [0xFF, 0x60, 0]), (0, on(60)), (480, off(60)))))
    assert notes_of(ns) == [(0.0, 0.5, 60, 0, 0)]


def test_running_status_and_sysex_are_read():
    # Running status: note-on status once, then data pairs (a velocity-0 note-on ends the note).
    data = track((0, [0xF0, 3, 0x7E, 0x01, 0xF7]), (0, on(60)), (480, [60, 0]), (0, [62, 90]), (480, [62, 0]))
    ns = read_midi(smf(CONDUCTOR, data))
    assert notes_of(ns) == [(0.0, 0.5, 60, 0, 0), (0.5, 1.0, 62, 0, 0)]
    assert ns.velocity.tolist() == [100, 90]


def header_44_byte_file():
    """One note of 0x0FFFFFFF ticks at 1 tick a quarter: 44 bytes."""
    data = smf(track((0, tempo_event(500000)), (0, on(60)), (0x0FFFFFFF, off(60))), tpq=1, fmt=0)
    assert len(data) == 44
    return data


REFUSED = [
    (header_44_byte_file(), "largest tick 268435456 exceeds pretty_midi's 10^7"),
    (smf(track((0, time_signature_event(4, 255))), scale_track()), "invalid time signature 4/2**255"),
    (smf(track((0, time_signature_event(0, 2))), scale_track()), "invalid time signature 0/2**2"),
    (smf(track((0, tempo_event(0))), scale_track()), "tempo of 0 microseconds per quarter"),
    # Nine deltas of 0x0FFFFFFF: 2.4e9 ticks, past int32 (where other parsers wrap to negative times).
    (
        smf(CONDUCTOR, track(*[(0x0FFFFFFF, [0xB0, 7, 100])] * 9, (0, on(60)), (480, off(60)))),
        "largest tick 2415919576 exceeds",
    ),  # 9 * 0x0FFFFFFF + 480 + 1
    (smf(CONDUCTOR, scale_track(), tpq=0), "ticks per quarter note is 0"),
    (smf(CONDUCTOR, scale_track(), tpq=0xE728), "ticks per quarter note is -6360"),
    (smf(CONDUCTOR, track((0, [60, 100]))), "running status without a status byte"),
    (smf(CONDUCTOR, track((0, [0x90, 60, 200]))), "data byte over 127"),
    (smf(CONDUCTOR, track((0, [0xF4]))), "undefined status byte 0xf4"),
    (smf(CONDUCTOR, track((0, [0xFF, 0x51, 2, 7, 0xA1]))), "malformed meta event 0x51"),
    (smf(CONDUCTOR, track((0, [0xFF, 0x59, 2, 9, 0]))), "invalid key signature (9 sharps"),
    (smf(CONDUCTOR, b"MTrk" + (0).to_bytes(4, "big")), "track 1 holds no event"),
    (smf(CONDUCTOR, b"XFIH" + (4).to_bytes(4, "big") + b"\0\0\0\0"), "no MTrk header at the start of track 1"),
    (smf(CONDUCTOR, scale_track())[:-9], "truncated"),
    (b"RIFF" + bytes(40), "no MThd header"),
]


@pytest.mark.parametrize("data, reason", REFUSED, ids=[r.split(" ")[0] + str(k) for k, (_, r) in enumerate(REFUSED)])
def test_files_magenta_cannot_read_are_refused_with_their_reason(data, reason):
    with pytest.raises(MidiFileError, match="^song.mid: unreadable MIDI") as err:
        read_midi(data, name="song.mid")
    assert reason in err.value.reason


def test_a_track_overrunning_its_chunk_is_refused():
    good = smf(CONDUCTOR, scale_track())
    at = good.rindex(b"MTrk") + 4
    short = good[:at] + (int.from_bytes(good[at : at + 4], "big") - 2).to_bytes(4, "big") + good[at + 4 :]
    with pytest.raises(MidiFileError, match="track 1 overruns its chunk length"):
        read_midi(short)


@pytest.mark.parametrize(
    "tempos, reason",
    [
        ([(0.0, 0.0)], "impossible tempo (0.0 qpm)"),
        ([(0.0, math.inf)], "impossible tempo (inf qpm)"),
        ([(0.0, math.nan)], "impossible tempo (nan qpm)"),
    ],
)
def test_impossible_tempos_give_a_reason_instead_of_windows(tempos, reason):
    ns = NoteSequence.from_notes([(q, q + 1, 60 + q, 80, 0, 0, False) for q in range(8)], tempos=tempos)
    assert unique_windows(ns, 2) == ([], reason)


def test_impossible_note_times_give_a_reason():
    ns = NoteSequence.from_notes([(-1.0, 1.0, 60, 80, 0, 0, False), (1, 9, 62, 80, 0, 0, False)])
    assert unique_windows(ns, 2)[1] == "impossible note times (negative, or a note ending before it starts)"
    ns = NoteSequence.from_notes([(0, math.inf, 60, 80, 0, 0, False)])
    assert unique_windows(ns, 16)[1] == "impossible note times (not finite)"


def test_vlq_helper_matches_the_standard_examples():
    assert [vlq(n).hex() for n in (0, 0x40, 0x7F, 0x80, 0x2000, 0x3FFF, 0x0FFFFFFF)] == [
        "00",
        "40",
        "7f",
        "8100",
        "c000",
        "ff7f",
        "ffffff7f",
    ]
