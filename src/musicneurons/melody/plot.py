"""Piano-roll pictures of event arrays (paper Fig 2)."""

import numpy as np

from .events import STEPS_PER_BAR, events_to_notes, validate_events

__all__ = ["plot_piano_roll"]


def plot_piano_roll(events, ax=None, title=None):
    """Draw one melody as a piano roll: time in steps (sixteenth notes) across, MIDI pitch up.

    Parameters
    ----------
    events : ndarray of shape (T,), int
        One event window (Magenta's vocabulary).
    ax : matplotlib Axes, optional
        Drawn into; a new figure is made when omitted.
    title : str, optional

    Returns
    -------
    fig : matplotlib.figure.Figure
    ax : Axes
    """
    events = validate_events(events).ravel()
    if ax is None:
        from ..report.figures import new_figure

        fig, ax = new_figure(figsize=(max(4.0, events.size / 5), 3.0))
    notes = events_to_notes(events)
    for start, end, pitch in notes:
        ax.broken_barh(
            [(start, end - start)], (pitch - 0.4, 0.8), facecolors="tab:blue", edgecolors="black", linewidth=0.5
        )
    low, high = (notes[:, 2].min(), notes[:, 2].max()) if len(notes) else (60, 72)
    ax.set_ylim(low - 2, high + 2)
    ax.set_xlim(0, events.size)
    for bar in range(0, events.size + 1, STEPS_PER_BAR):
        ax.axvline(bar, color="grey", linewidth=0.6)
    ax.set_xticks(np.arange(0, events.size + 1, 4 if events.size <= 64 else STEPS_PER_BAR))
    ax.set_xlabel("step (sixteenth notes)")
    ax.set_ylabel("MIDI pitch")
    if title is not None:
        ax.set_title(title)
    return ax.figure, ax
