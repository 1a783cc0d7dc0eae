"""Melody windows exactly as Magenta's ``OneHotMelodyConverter`` extracts them (MusicVAE's input).

The steps follow ``magenta.models.music_vae.data`` and ``note_seq`` (see ../shared/reference/musicvae.md
§2.3), re-implemented from their documented behaviour:

1. split the piece at every real time-signature or tempo change (notes crossing a split are cut there);
2. per section: drop notes outside the kept programs (2-bar: 0..31) or pitches 21..108, quantize at
   4 steps a quarter with Magenta's rounding (``int(x + 0.5)`` on float64 seconds for MIDI; a note of
   zero steps gets one), and skip sections whose bar is not 16 steps (only 4/4, 2/2, 8/8 ... pass);
3. per instrument, melodies as ``Melody.from_quantized_sequence`` builds them: highest note wins on a
   shared onset, a later onset cuts the sounding note, a silence of one bar ends the melody, the melody is
   padded to a bar line the way ``Melody.set_length`` does (ending a sustained note there), and cut at
   1,600 steps (``max_bars=100``); built in one pass over the notes, and materialised only up to the cut;
4. windows of ``bars`` bars with a hop of one bar, each rebuilt as a ``Melody`` (note-offs before the
   first note-on become holds), de-duplicated per section in the iteration order of the Python ``set``
   Magenta builds: ``set(tuple(zip(window)))``, whose members are tuples of 1-tuples ``((e0,), (e1,) ...)``;
5. at most 5 windows per section and again per piece: the first 5 (``mode='analysis'``), 5 drawn with a
   seeded generator (``mode='training'``), or all (``mode='all'``).

Internally a melody is a list of Magenta event values (-2 = NO_EVENT, -1 = NOTE_OFF, 0..127 = pitch);
windows come out in this package's 90-class vocabulary (see :mod:`musicneurons.melody.events`).
"""

import bisect
from dataclasses import dataclass

import numpy as np

from ..errors import check_choice
from .events import MAX_PITCH, MIN_PITCH, STEPS_PER_BAR, STEPS_PER_QUARTER, DEFAULT_QPM

__all__ = [
    "extract_windows",
    "unique_windows",
    "sample_windows",
    "to_classes",
    "ExtractionResult",
    "MODES",
    "MAX_WINDOWS",
    "MEL_PROGRAMS",
    "programs_for_bars",
]

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
    """Magenta's ``split_note_sequence_on_time_changes``: list of (start, end, qpm, (num, den)) in ``ns.unit``."""
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


def _section_quarters(sections, unit):
    """Start of each section in quarter notes from the start of the piece (float64 list)."""
    out, at = [], 0.0
    for start, end, qpm, _ in sections:
        out.append(start if unit == "quarters" else at)
        at += (end - start) * qpm / 60.0
    return out


def _quantize(times, section_start, qpm, unit):
    """Section times -> steps (int64) with Magenta's ``int(x + 0.5)`` rounding.

    Seconds are quantized as note_seq does, ``int((t - start) * (4 * qpm / 60) + 0.5)`` in float64, so a
    note on a half step rounds the way Magenta rounds it. Quarters (scores) are exact fractions of the beat;
    there the tiny epsilon keeps exact halves rounding up despite binary fractions of a quarter.
    """
    times = np.asarray(times, np.float64) - section_start
    if unit == "seconds":
        return np.trunc(times * (STEPS_PER_QUARTER * qpm / 60.0) + 0.5).astype(np.int64)
    return np.floor(times * STEPS_PER_QUARTER + 0.5 + 1e-9).astype(np.int64)


def _melody_notes(q_start, q_end, pitch, playable, first, search, gap_steps=STEPS_PER_BAR):
    """``Melody.from_quantized_sequence`` from note ``first`` on, for one instrument, in one pass.

    Notes are sorted by (start step, -pitch). ``playable`` is False for drums and velocity 0 (skipped).
    Returns (melody start step, list of (start, end, pitch) relative to it, index after the last note
    added), or None when no note can be added. A note on an onset already taken is skipped (the highest
    pitch stays); a note starting a gap of ``gap_steps`` after the last note's end ends the melody.
    """
    mel_start = q_start[first] - (q_start[first] - search) % STEPS_PER_BAR
    added = []
    last_on = last_off = None
    last = first
    for j in range(first, len(q_start)):
        if not playable[j]:
            continue
        on = q_start[j] - mel_start
        if added:
            if on == last_on:
                continue
            if on - last_off >= gap_steps:
                break
        last_on, last_off, last = on, q_end[j] - mel_start, j
        added.append((on, last_off, pitch[j]))
    return (mel_start, added, last + 1) if added else None


def _melody_events(added, length):
    """Magenta's event list of a melody, cut to ``length`` steps: ndarray (length,) int16 of -2/-1/pitch.

    ``added`` holds the melody's (start, end, pitch) in order: each note sounds from its start until the
    next note's start, with a NOTE_OFF at its end when that comes first. The last note's NOTE_OFF stays
    only when it falls inside the last bar (Magenta strips it, then ``set_length`` puts it back while
    padding to the bar line).
    """
    arr = np.asarray(added, np.int64).reshape(-1, 3)
    on, off, pitch = arr[:, 0], arr[:, 1], arr[:, 2]
    nxt = np.append(on[1:], np.iinfo(np.int64).max)
    has_off = off < nxt
    has_off[-1] = off[-1] % STEPS_PER_BAR != 0
    events = np.full(length, _NO_EVENT, np.int16)
    offs = off[has_off]
    events[offs[offs < length]] = _NOTE_OFF
    keep = on < length
    events[on[keep]] = pitch[keep]
    return events


def _melodies(q_start, q_end, pitch, velocity, instrument, is_drum, program, start_time, min_steps):
    """Magenta's ``extract_melodies`` (min 1 bar, gap 1 bar, truncate 1600, pad end, drop drums).

    Linear in the notes; a melody is materialised only up to Magenta's 1,600-step truncation, and only
    when it holds at least ``min_steps`` (one window). Returns a list of (events ndarray int16, start
    step, instrument, program).
    """
    out = []
    order = np.arange(len(q_start))
    for inst in set(instrument.tolist()):  # Python set order, as Magenta iterates instruments
        idx = np.flatnonzero(instrument == inst)
        # Magenta sorts a section's notes by time (stably, from the file's order), then by (step, -pitch).
        idx = idx[np.lexsort((order[idx], start_time[idx], -pitch[idx], q_start[idx]))]
        qs, qe, pi = q_start[idx].tolist(), q_end[idx].tolist(), pitch[idx].tolist()
        playable = ((velocity[idx] > 0) & ~is_drum[idx]).tolist()
        prog = int(program[idx[0]])
        search, first = 0, 0
        while True:
            first = bisect.bisect_left(qs, search, first)
            found = _melody_notes(qs, qe, pi, playable, first, search) if first < len(qs) else None
            if found is None:
                break
            mel_start, added, first = found
            last_off = added[-1][1]
            length = last_off + (-last_off % STEPS_PER_BAR)
            end_step = mel_start + length
            search = end_step + (-end_step) % STEPS_PER_BAR
            if length < max(STEPS_PER_BAR, min_steps):
                continue
            length = min(length, MAX_MELODY_STEPS - MAX_MELODY_STEPS % STEPS_PER_BAR)
            out.append((_melody_events(added, length), mel_start, int(inst), prog))
    return out


def _slices(events, slice_steps):
    """Every window of a melody, each rebuilt as a ``Melody`` is: ndarray (n, slice_steps) int16.

    Windows start on every bar; NOTE_OFFs before a window's first note-on become NO_EVENT, as
    ``Melody._from_event_list`` makes them.
    """
    view = np.lib.stride_tricks.sliding_window_view(events, slice_steps)[::STEPS_PER_BAR]
    windows = view.copy()
    before_first_on = np.cumsum(windows >= 0, axis=1) == 0
    windows[before_first_on & (windows == _NOTE_OFF)] = _NO_EVENT
    return windows


def _sample(items, mode, rng):
    """Magenta's ``maybe_sample_items``: at most 5, the first ones or a seeded random choice."""
    if mode == "all" or len(items) <= MAX_WINDOWS:
        return items
    if mode == "training":
        return [items[i] for i in sorted(rng.choice(len(items), MAX_WINDOWS, replace=False))]
    return items[:MAX_WINDOWS]


def _section_windows(ns, section, bars, programs, index, bar0):
    """Deduplicated windows of one section as (window, meta dict), in the order of Magenta's set.

    Each window is an ndarray (16 * bars,) int16 of Magenta event values (-2, -1, pitch).
    """
    start, end, qpm, _ = section
    sel = (ns.start >= start) & (ns.start < end) & (ns.pitch >= MIN_PITCH) & (ns.pitch <= MAX_PITCH)
    if programs is not None:
        sel &= np.isin(ns.program, list(programs))
    q_start = _quantize(ns.start[sel], start, qpm, ns.unit)
    q_end = _quantize(np.minimum(ns.end[sel], end), start, qpm, ns.unit)
    q_end = np.where(q_end == q_start, q_end + 1, q_end)
    melodies = _melodies(
        q_start,
        q_end,
        ns.pitch[sel],
        ns.velocity[sel],
        ns.instrument[sel],
        ns.is_drum[sel],
        ns.program[sel],
        ns.start[sel],
        STEPS_PER_BAR * bars,
    )
    slice_steps = STEPS_PER_BAR * bars
    first = {}  # Magenta's set key -> (window, meta) of its first occurrence
    keys = []
    for events, mel_start, inst, prog in melodies:
        windows = _slices(events, slice_steps)
        for k, (row, key) in enumerate(zip(windows, map(tuple, map(zip, windows.tolist())))):
            keys.append(key)  # tuple(zip(window)): the tuple of 1-tuples _dedupe_and_sample hashes
            if key not in first:
                first[key] = (
                    row,
                    {
                        "section": index,
                        "instrument": inst,
                        "program": prog,
                        "tempo": float(qpm),
                        "first_bar": bar0 + mel_start // STEPS_PER_BAR + k,
                    },
                )
    return [first[k] for k in set(keys)]


def to_classes(windows):
    """Windows in Magenta values (a sequence of (T,) arrays or tuples) -> ndarray (n, T) int8, 90 classes."""
    arr = np.asarray(windows, dtype=np.int16).reshape(len(windows), -1)
    return np.where(arr < 0, arr + 2, arr - (MIN_PITCH - 2)).astype(np.int8)


def _impossible(ns):
    """Why the times or tempos of a piece cannot be quantized (negative, non-finite, reversed), or None."""
    if len(ns) and not (np.isfinite(ns.start).all() and np.isfinite(ns.end).all()):
        return "impossible note times (not finite)"
    if len(ns) and (ns.start.min() < 0 or (ns.end < ns.start).any()):
        return "impossible note times (negative, or a note ending before it starts)"
    bad = [q for _, q in ns.tempos if not (np.isfinite(q) and q > 0)]
    if bad:
        return f"impossible tempo ({bad[0]} qpm)"
    bad = [(n, d) for _, n, d in ns.time_signatures if n <= 0 or d <= 0]
    if bad:
        return f"impossible time signature {bad[0][0]}/{bad[0][1]}"
    return None


def _no_window_reason(ns, sections, bars, programs):
    """Why a piece gave no window, in words."""
    if len(ns) == 0:
        return "empty: the file holds no notes"
    if ns.is_drum.all():
        return "drums only: no pitched notes"
    meters = sorted({f"{n}/{d}" for _, _, _, (n, d) in sections})
    if not any(_sixteen_steps(ts) for _, _, _, ts in sections):
        return f"no section with 16 steps per bar (time signatures: {', '.join(meters)})"
    kept = "pitches 21..108" + (", programs 0..31" if programs is not None else "")
    return f"no monophonic line of at least {bars} bars ({kept}, gaps under one bar)"


def _sixteen_steps(time_signature):
    """Magenta's time-signature filter: ``steps_per_bar_in_quantized_sequence == 16``."""
    numerator, denominator = time_signature
    return STEPS_PER_QUARTER * (4.0 / denominator * numerator) == STEPS_PER_BAR


def unique_windows(ns, bars=2):
    """Every unique window of each section, in Magenta's order, before the at-most-5 sampling.

    Returns
    -------
    sections : list of list of (ndarray, dict)
        Per kept section, (window (16 * bars,) int16 in Magenta event values, meta) pairs in the order of
        Magenta's ``set``.
    reason : str or None
        Why no window came out at all.
    """
    check_choice("bars", bars, (2, 16), "unique_windows")
    reason = _impossible(ns)
    if reason:
        return [], reason
    programs = programs_for_bars(bars)
    sections = _split_on_time_changes(ns)
    bar_starts = _section_quarters(sections, ns.unit)
    found = [
        _section_windows(ns, section, bars, programs, k, int(round(q / 4)))
        for k, (section, q) in enumerate(zip(sections, bar_starts))
        if _sixteen_steps(section[3])
    ]
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
        The piece (times in seconds from MIDI, in quarter notes from scores).
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
