"""Piano-roll pictures of event arrays (paper Fig 2)."""

import numpy as np

from .events import STEPS_PER_BAR, events_to_notes, validate_events

__all__ = ["plot_piano_roll"]


def plot_piano_roll(events, ax=None, title=None, *, span=None, pitch_range=None):
    """Draw one melody as a piano roll: time in steps (sixteenth notes) across, pitch by note name up.

    Parameters
    ----------
    events : ndarray of shape (T,), int
        One event window (Magenta's vocabulary).
    ax : matplotlib Axes, optional
        Drawn into; a new figure is made when omitted.
    title : str, optional
    span : (int, int), optional
        The steps shown, from and to (default: the whole window).
    pitch_range : (int, int), optional
        Lowest and highest MIDI pitch on the axis (default: the melody's, 2 semitones of margin).

    Returns
    -------
    fig : matplotlib.figure.Figure
    ax : Axes
    """
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    from ..report.labels import note_name

    events = validate_events(events).ravel()
    start, stop = span or (0, events.size)
    if ax is None:
        from ..report.figures import new_figure

        fig, ax = new_figure(figsize=(max(4.0, (stop - start) / 5), 3.0))
    notes = events_to_notes(events)
    for begin, end, pitch in notes:
        ax.broken_barh(
            [(begin, end - begin)], (pitch - 0.4, 0.8), facecolors="tab:blue", edgecolors="black", linewidth=0.5
        )
    low, high = pitch_range or ((notes[:, 2].min(), notes[:, 2].max()) if len(notes) else (60, 72))
    ax.set_ylim(low - 2, high + 2)
    ax.set_xlim(start, stop)
    for bar in range(start - start % STEPS_PER_BAR, stop + 1, STEPS_PER_BAR):
        ax.axvline(bar, color="grey", linewidth=0.6, linestyle=":")
    ax.set_xticks(np.arange(start, stop + 1, 4 if stop - start <= 64 else STEPS_PER_BAR))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: note_name(value)))
    ax.set_xlabel("step (sixteenth notes)")
    ax.set_ylabel("pitch")
    if title is not None:
        ax.set_title(title)
    return ax.figure, ax
