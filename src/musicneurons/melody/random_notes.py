"""Random note sequences, the control of the paper's §5.1 (footnote 6), for 2 and 16 bars.

Per window of ``T = 16 * bars`` sixteenth steps:

- the number of onsets is uniform on the integers ``2..T`` (2..32 for 2 bars, as the paper draws it);
- the first onset is at step 0, the others at distinct steps drawn uniformly without replacement from
  ``1..T-1``;
- each pitch is uniform on the MIDI numbers 30..100, independently;
- each note is held until the next onset and the last one to the end of the window (no note-off), so
  exactly one note sounds at any time;
- the duration of every two bars is a uniform integer number of seconds 1..8, kept as the window's tempo
  ``qpm = 8 quarters * 60 / seconds`` (60..480 qpm).

The 16-bar variant generalises the paper's rule by scaling the onset count to the window (uniform on
2..256) and keeping the same tempo distribution (each pair of bars lasts 1..8 s).
"""

import numpy as np

from ..errors import check_choice
from .events import STEPS_PER_BAR, pitch_to_event

__all__ = ["random_windows", "RANDOM_PITCH_RANGE", "RANDOM_SECONDS_RANGE"]

RANDOM_PITCH_RANGE = (30, 100)
RANDOM_SECONDS_RANGE = (1, 8)
_QUARTERS_PER_TWO_BARS = 8


def random_windows(n, bars=2, seed=0):
    """Draw ``n`` random note sequences.

    Parameters
    ----------
    n : int
        Number of windows.
    bars : {2, 16}
    seed : int
        Seed of ``numpy.random.default_rng``; the same seed gives the same windows.

    Returns
    -------
    events : ndarray of shape (n, 16 * bars), dtype=int8
        Note-ons (2..89) and holds (0) only.
    qpm : ndarray of shape (n,), dtype=float64
        Tempo in quarter notes per minute.
    """
    check_choice("bars", bars, (2, 16), "random_windows")
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"The 'n' parameter of random_windows must be a non-negative integer. Got {n!r}.")
    steps = STEPS_PER_BAR * bars
    rng = np.random.default_rng(seed)
    counts = rng.integers(2, steps + 1, size=n)
    # Rank random keys over steps 1..T-1; the (count - 1) lowest ranks are the other onsets.
    ranks = np.argsort(np.argsort(rng.random((n, steps - 1)), axis=1), axis=1)
    onsets = np.zeros((n, steps), bool)
    onsets[:, 0] = True
    onsets[:, 1:] = ranks < (counts - 1)[:, None]
    pitches = rng.integers(RANDOM_PITCH_RANGE[0], RANDOM_PITCH_RANGE[1] + 1, size=(n, steps))
    events = np.where(onsets, pitch_to_event(pitches), 0).astype(np.int8)
    seconds = rng.integers(RANDOM_SECONDS_RANGE[0], RANDOM_SECONDS_RANGE[1] + 1, size=n)
    return events, _QUARTERS_PER_TWO_BARS * 60.0 / seconds
