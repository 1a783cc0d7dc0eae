"""Melody windows exactly as Magenta's ``OneHotMelodyConverter`` extracts them (MusicVAE's input).

The steps follow ``magenta.models.music_vae.data`` and ``note_seq`` (see ../shared/reference/musicvae.md
§2.3), re-implemented from their documented behaviour:

1. split the piece at every real time-signature or tempo change (notes crossing a split are cut there);
2. per section: drop notes outside the kept programs (2-bar: 0..31) or pitches 21..108, quantize at
   4 steps a quarter with Magenta's rounding (``int(x + 0.5)``; a note of zero steps gets one), and skip
   sections whose bar is not 16 steps (only 4/4, 2/2, 8/8 ... pass);
3. per instrument, melodies as ``Melody.from_quantized_sequence`` builds them: highest note wins on a
   shared onset, a later onset cuts the sounding note, a silence of one bar ends the melody, the melody is
   padded to a bar line the way ``Melody.set_length`` does (ending a sustained note there);
4. windows of ``bars`` bars with a hop of one bar, each rebuilt as a ``Melody`` (note-offs before the
   first note-on become holds), de-duplicated per section in Python ``set`` order;
5. at most 5 windows per section and again per piece: the first 5 (``mode='analysis'``), 5 drawn with a
   seeded generator (``mode='training'``), or all (``mode='all'``).

Internally a melody is a list of Magenta event values (-2 = NO_EVENT, -1 = NOTE_OFF, 0..127 = pitch);
windows come out in this package's 90-class vocabulary (see :mod:`musicneurons.melody.events`).
"""

from dataclasses import dataclass

import numpy as np

from ..errors import check_choice
from .events import MAX_PITCH, MIN_PITCH, STEPS_PER_BAR, STEPS_PER_QUARTER, DEFAULT_QPM

__all__ = ["extract_windows", "unique_windows", "sample_windows", "to_classes", "ExtractionResult", "MODES", "MAX_WINDOWS", "MEL_PROGRAMS",
           "programs_for_bars"]

_NO_EVENT, _NOTE_OFF = -2, -1
MAX_WINDOWS = 5
MAX_MELODY_STEPS = 1600
MEL_PROGRAMS = range(0, 32)
MODES = ("analysis", "training", "all")


def programs_for_bars(bars):
    """Programs Magenta's configuration keeps: 0..31 for 2-bar models, every program for 16 bars."""
    return MEL_PROGRAMS if bars == 2 else None


@dataclass
class ExtractionResult:
    """Windows of one piece and where each came from.

    Attributes
    ----------
    events : ndarray of shape (n_windows, 16 * bars), dtype=int8
        The windows in the 90-class vocabulary.
    meta : list of dict
        Per window: ``section``, ``instrument``, ``program``, ``first_bar`` (bar index in the piece,
        counted from 0), ``tempo`` (qpm of its section).
    reason : str or None
        Why no window came out, when ``events`` is empty.
    """

    events: np.ndarray
    meta: list
    reason: str = None


def _split_on_time_changes(ns):
    """Magenta's ``split_note_sequence_on_time_changes``: list of (start_q, end_q, qpm, (num, den))."""
    total = ns.total_time
    changes = [(t, "ts", (n, d)) for t, n, d in ns.time_signatures] + [(t, "tempo", q) for t, q in ns.tempos]
    changes = sorted((c for c in changes if c[0] < total), key=lambda c: c[0])
    state = {"ts": (4, 4), "tempo": DEFAULT_QPM}
    splits = [(0.0, dict(state))]
    for time, kind, value in changes:
        if value == state[kind]:
            continue
        state[kind] = value
        if time > splits[-1][0]:
            splits.append((time, dict(state)))
        else:  # a change at the section's own start time: it governs that section
            splits[-1] = (splits[-1][0], dict(state))
    bounds = [s for s, _ in splits[1:]] + [total]
    return [(s, e, st["tempo"], st["ts"]) for (s, st), e in zip(splits, bounds)]


def _quantize(times_q):
    """Quarter-note times (float64, section-relative) -> steps with Magenta's ``int(x + 0.5)`` rounding."""
    # The tiny epsilon keeps exact halves rounding up despite binary fractions of a quarter.
    return np.floor(np.asarray(times_q) * STEPS_PER_QUARTER + 0.5 + 1e-9).astype(np.int64)


def _set_length(events, steps):
    """``Melody.set_length`` (from the right): pad with NO_EVENT, ending a sustained note; or truncate."""
    old = len(events)
    if steps <= old:
        del events[steps:]
        return
    events.extend([_NO_EVENT] * (steps - old))
    for i in range(old - 1, -1, -1):
        if events[i] == _NOTE_OFF:
            break
        if events[i] != _NO_EVENT:
            events[old] = _NOTE_OFF
            break


def _add_note(events, pitch, start, end):
    """``Melody._add_note``: pitch at ``start``, holds, NOTE_OFF at ``end`` (steps from melody start)."""
    _set_length(events, end + 1)
    events[start] = pitch
    events[end] = _NOTE_OFF
    events[start + 1:end] = [_NO_EVENT] * (end - start - 1)


def _last_on_off(events):
    """Index of the last note-on and of the first note-off after it (``len(events)`` if none)."""
    last_off = len(events)
    for i in range(len(events) - 1, -1, -1):
        if events[i] == _NOTE_OFF:
            last_off = i
        if events[i] >= 0:
            return i, last_off
    raise ValueError("no note-on in melody")


def _melody_at(notes, search_start, gap_bars=1):
    """``Melody.from_quantized_sequence`` for one instrument: (events list, start step) or (None, 0).

    ``notes`` is a list of (start_step, end_step, pitch, velocity, is_drum) already sorted by
    (start, -pitch).
    """
    notes = [n for n in notes if n[0] >= search_start]
    if not notes:
        return None, 0
    first = notes[0][0]
    mel_start = first - (first - search_start) % STEPS_PER_BAR
    events = []
    for start, end, pitch, velocity, is_drum in notes:
        if is_drum or not velocity:
            continue
        s, e = start - mel_start, end - mel_start
        if events:
            last_on, last_off = _last_on_off(events)
            if s == last_on:  # shared onset: the first (highest) note stays
                continue
            if s - last_off >= gap_bars * STEPS_PER_BAR:
                break
        _add_note(events, pitch, s, e)
    if not events:
        return None, 0
    if events[-1] == _NOTE_OFF:
        del events[-1]
    _set_length(events, len(events) + (-len(events) % STEPS_PER_BAR))
    return events, mel_start


def _melodies(q_start, q_end, pitch, velocity, instrument, is_drum, program):
    """Magenta's ``extract_melodies`` (min 1 bar, gap 1 bar, truncate 1600, pad end, drop drums).

    Returns a list of (events list, start step, instrument, program of the first note).
    """
    out = []
    for inst in set(instrument.tolist()):  # Python set order, as Magenta iterates instruments
        idx = np.flatnonzero(instrument == inst)
        idx = idx[np.lexsort((-pitch[idx], q_start[idx]))]
        notes = [(int(q_start[i]), int(q_end[i]), int(pitch[i]), int(velocity[i]), bool(is_drum[i])) for i in idx]
        search = 0
        while True:
            events, mel_start = _melody_at(notes, search)
            if events is None:
                break
            end_step = mel_start + len(events)
            search = end_step + (-end_step) % STEPS_PER_BAR
            if len(events) < STEPS_PER_BAR:
                continue
            if len(events) > MAX_MELODY_STEPS:
                _set_length(events, MAX_MELODY_STEPS - MAX_MELODY_STEPS % STEPS_PER_BAR)
            first_prog = int(program[idx[np.searchsorted(q_start[idx], mel_start)]]) if len(idx) else 0
            out.append((events, mel_start, int(inst), first_prog))
    return out


def _window_events(window):
    """A raw slice rebuilt as a ``Melody``: NOTE_OFFs before the first note-on become NO_EVENT (tuple)."""
    window = list(window)
    for i, e in enumerate(window):
        if e >= 0:
            break
        window[i] = _NO_EVENT
    return tuple(window)


def _sample(items, mode, rng):
    """Magenta's ``maybe_sample_items``: at most 5, the first ones or a seeded random choice."""
    if mode == "all" or len(items) <= MAX_WINDOWS:
        return items
    if mode == "training":
        return [items[i] for i in sorted(rng.choice(len(items), MAX_WINDOWS, replace=False))]
    return items[:MAX_WINDOWS]


def _section_windows(ns, start, end, qpm, bars, programs, section):
    """Deduplicated windows of one section as (event tuple, meta dict) in Python set order."""
    sel = (ns.start >= start) & (ns.start < end) & (ns.pitch >= MIN_PITCH) & (ns.pitch <= MAX_PITCH)
    if programs is not None:
        sel &= np.isin(ns.program, list(programs))
    q_start = _quantize(ns.start[sel] - start)
    q_end = _quantize(np.minimum(ns.end[sel], end) - start)
    q_end = np.where(q_end == q_start, q_end + 1, q_end)
    melodies = _melodies(q_start, q_end, ns.pitch[sel], ns.velocity[sel], ns.instrument[sel],
                         ns.is_drum[sel], ns.program[sel])
    slice_steps = STEPS_PER_BAR * bars
    first_meta = {}
    keys = []
    bar0 = int(round(start / 4))
    for events, mel_start, inst, prog in melodies:
        for i in range(slice_steps, len(events) + 1, STEPS_PER_BAR):
            key = _window_events(events[i - slice_steps:i])
            keys.append(key)
            first_meta.setdefault(key, {
                "section": section, "instrument": inst, "program": prog, "tempo": float(qpm),
                "first_bar": bar0 + (mel_start + i - slice_steps) // STEPS_PER_BAR})
    return [(k, first_meta[k]) for k in set(keys)]


def to_classes(windows):
    """Event tuples in Magenta values -> ndarray (n, T) int8 in the 90-class vocabulary."""
    arr = np.asarray(windows, dtype=np.int16).reshape(len(windows), -1)
    return np.where(arr < 0, arr + 2, arr - (MIN_PITCH - 2)).astype(np.int8)


def _no_window_reason(ns, sections, bars, programs):
    """Why a piece gave no window, in words."""
    if len(ns) == 0:
        return "empty: the file holds no notes"
    if ns.is_drum.all():
        return "drums only: no pitched notes"
    meters = sorted({f"{n}/{d}" for _, _, _, (n, d) in sections})
    if all(STEPS_PER_QUARTER * 4 / d * n != STEPS_PER_BAR for _, _, _, (n, d) in sections):
        return f"no section with 16 steps per bar (time signatures: {', '.join(meters)})"
    kept = "pitches 21..108" + (", programs 0..31" if programs is not None else "")
    return f"no monophonic line of at least {bars} bars ({kept}, gaps under one bar)"


def unique_windows(ns, bars=2):
    """Every unique window of each section, in Magenta's order, before the at-most-5 sampling.

    Returns
    -------
    sections : list of list of (tuple, dict)
        Per kept section, (window in Magenta event values, meta) pairs in Python ``set`` order.
    reason : str or None
        Why no window came out at all.
    """
    check_choice("bars", bars, (2, 16), "unique_windows")
    programs = programs_for_bars(bars)
    sections = _split_on_time_changes(ns)
    found = [_section_windows(ns, start, end, qpm, bars, programs, k)
             for k, (start, end, qpm, ts) in enumerate(sections)
             if STEPS_PER_QUARTER * 4 / ts[1] * ts[0] == STEPS_PER_BAR]
    found = [f for f in found if f]
    return found, (None if found else _no_window_reason(ns, sections, bars, programs))


def sample_windows(sections, mode="analysis", seed=0):
    """Apply Magenta's at-most-5 rule per section and again per piece; list of (tuple, meta)."""
    check_choice("mode", mode, MODES, "sample_windows")
    rng = np.random.default_rng(seed)
    picked = []
    for windows in sections:
        picked.extend(_sample(windows, mode, rng))
    return _sample(picked, mode, rng)


def extract_windows(ns, bars=2, mode="analysis", seed=0):
    """Windows of ``bars`` bars from a piece, as MusicVAE's data converter makes them.

    Parameters
    ----------
    ns : NoteSequence
        The piece, times in quarter notes.
    bars : {2, 16}
        Window length; 2 keeps programs 0..31 (``cat-mel_2bar_*``), 16 keeps every non-drum program
        (``hierdec-mel_16bar``).
    mode : {'analysis', 'training', 'all'}
        At most 5 windows per section and per piece, the first ones (Magenta's eval/infer behaviour) or a
        random choice seeded by ``seed`` (training); ``'all'`` keeps every unique window.
    seed : int
        Seed of the training-mode choice.

    Returns
    -------
    ExtractionResult
    """
    sections, reason = unique_windows(ns, bars)
    picked = sample_windows(sections, mode, seed)
    if not picked:
        return ExtractionResult(np.zeros((0, STEPS_PER_BAR * bars), np.int8), [], reason)
    return ExtractionResult(to_classes([k for k, _ in picked]), [m for _, m in picked])
