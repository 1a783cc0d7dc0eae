"""Piano rolls as small inline SVG, for rows of traversals in an HTML page (no matplotlib, no files).

Time runs across in steps (sixteenth notes), MIDI pitch up; bar lines every 16 steps. Several rolls of
one row share a pitch range, so a change of register shows as a vertical shift.
"""

from html import escape

import numpy as np

from ..melody.events import STEPS_PER_BAR, events_to_notes

__all__ = ["pitch_range", "roll_svg"]

_PAD = 2


def pitch_range(windows):
    """(low, high) MIDI pitch over the notes of several windows, padded by 2; (58, 74) without notes.

    Parameters
    ----------
    windows : iterable of ndarray of shape (T,), int
    """
    pitches = [events_to_notes(ev)[:, 2] for ev in windows]
    pitches = np.concatenate(pitches) if pitches else np.zeros(0)
    if pitches.size == 0:
        return 58, 74
    return int(pitches.min()) - _PAD, int(pitches.max()) + _PAD


def roll_svg(events, low, high, width=120, height=60, label=""):
    """One window as an ``<svg>`` element (a string), notes as rectangles.

    Parameters
    ----------
    events : ndarray of shape (T,), int
    low, high : int
        MIDI pitch range shown (e.g. from :func:`pitch_range`).
    width, height : int
        Size in CSS pixels.
    label : str
        Accessible name (``aria-label``) and tooltip; escaped.

    Returns
    -------
    str
    """
    events = np.asarray(events)
    steps = events.size
    span = max(high - low + 1, 1)
    bars = "".join(
        f'<line x1="{b}" y1="0" x2="{b}" y2="{span}" stroke="#bbb" stroke-width="0.3" '
        f'vector-effect="non-scaling-stroke"/>'
        for b in range(STEPS_PER_BAR, steps, STEPS_PER_BAR)
    )
    notes = "".join(
        f'<rect x="{s}" y="{high - p}" width="{e - s}" height="1" fill="#1f77b4" stroke="#0b3c61" '
        f'stroke-width="0.5" vector-effect="non-scaling-stroke"/>'
        for s, e, p in events_to_notes(events)
        if low <= p <= high
    )
    name = escape(label, quote=True)
    return (
        f'<svg class="roll" role="img" aria-label="{name}" width="{width}" height="{height}" '
        f'viewBox="0 0 {steps} {span}" preserveAspectRatio="none"><title>{name}</title>'
        f'<rect width="{steps}" height="{span}" fill="#fafafa"/>{bars}{notes}</svg>'
    )
