"""One melody in latent space (paper Figs 2-3): its sigma, mu and a posterior sample, and decodings.

The model is any object with ``encode(events) -> (mu, sigma)`` (ndarrays of shape (n, z)) and
``decode(z, temperature=None) -> events`` (int8, shape (n, T); argmax when ``temperature`` is None),
such as ``musicneurons.model.load_model(...)``.
"""

from dataclasses import dataclass

import numpy as np

from ..errors import InvalidParameterError
from ..melody.events import STEPS_PER_BAR, STEPS_PER_QUARTER, notes_to_events, validate_events

__all__ = ["TWINKLE", "twinkle_events", "LatentExample", "encode_example", "plot_example_latents", "plot_example_rolls"]

# "Twinkle, twinkle, little star" in C major, 12 bars of 4/4: (MIDI pitch, length in quarter notes).
# The tune is A B B A: A is C C G G | A A G- | F F E E | D D C-, B is G G F F | E E D-.
# fmt: off
_TWINKLE_A = ((60, 1), (60, 1), (67, 1), (67, 1), (69, 1), (69, 1), (67, 2),
              (65, 1), (65, 1), (64, 1), (64, 1), (62, 1), (62, 1), (60, 2))
_TWINKLE_B = ((67, 1), (67, 1), (65, 1), (65, 1), (64, 1), (64, 1), (62, 2))
# fmt: on
TWINKLE = _TWINKLE_A + _TWINKLE_B + _TWINKLE_B + _TWINKLE_A


def twinkle_events(bars=2):
    """The first ``bars`` bars of "Twinkle, twinkle, little star" as an event array.

    Quarter notes, the half notes held, no rests; the 12-bar tune repeats from its start to fill
    longer windows (16 bars = the tune and its first 4 bars again). Two bars are C4 C4 G4 G4 | A4 A4 G4-.

    Parameters
    ----------
    bars : int
        Window length in bars (2 or 16 for MusicVAE's models).

    Returns
    -------
    ndarray of shape (16 * bars,), dtype=int8
    """
    if int(bars) != bars or bars < 1:
        raise InvalidParameterError(f"The 'bars' parameter of twinkle_events must be a positive integer. Got {bars!r}.")
    n_steps = int(bars) * STEPS_PER_BAR
    notes, start = [], 0
    while start < n_steps:
        for pitch, quarters in TWINKLE:
            if start >= n_steps:
                break
            end = start + quarters * STEPS_PER_QUARTER
            notes.append((start, end, pitch))
            start = end
    return notes_to_events(np.array(notes), n_steps)


@dataclass(frozen=True)
class LatentExample:
    """One melody's encoding in the order by its own sigma, with decodings.

    Attributes
    ----------
    events : ndarray of shape (T,), dtype=int8
    order : ndarray of shape (z,), dtype=int64
        Neurons by increasing sigma of this melody (or the order given).
    sigma, mu, sample : ndarray of shape (z,), dtype=float64
        In latent order (index = neuron); ``sample = mu + sigma * eps``.
    decoded_mu, decoded_sample : ndarray of shape (T,), dtype=int8
        Argmax decodings of mu and of the sample.
    """

    events: np.ndarray
    order: np.ndarray
    sigma: np.ndarray
    mu: np.ndarray
    sample: np.ndarray
    decoded_mu: np.ndarray
    decoded_sample: np.ndarray

    @property
    def reconstructs(self):
        """Whether decoding mu gives the melody back, step for step (bool)."""
        return bool(np.array_equal(self.decoded_mu, self.events))

    @property
    def step_accuracy(self):
        """Share of steps where the decoding of mu equals the melody (float in [0, 1])."""
        return float((self.decoded_mu == self.events).mean())


def encode_example(model, events=None, bars=2, order=None, seed=0):
    """Encode one melody, draw one posterior sample and decode mu and the sample.

    Parameters
    ----------
    model : object
        With ``encode`` and ``decode`` as described in the module docstring.
    events : ndarray of shape (T,), int, optional
        Default: :func:`twinkle_events` of ``bars`` bars.
    bars : int
        Window length of the default melody (the model's: 2 or 16).
    order : ndarray of shape (z,), int, optional
        Neuron order to show (e.g. ``NeuronSplit.order`` of a corpus); default this melody's sigma order.
    seed : int
        Seed of the posterior sample.

    Returns
    -------
    LatentExample
    """
    events = validate_events(twinkle_events(bars) if events is None else events).ravel()
    mu, sigma = (np.asarray(a, dtype=np.float64).reshape(-1) for a in model.encode(events[None]))
    sample = mu + sigma * np.random.default_rng(seed).standard_normal(mu.size)
    decoded = np.asarray(model.decode(np.stack([mu, sample]).astype(np.float32), temperature=None), dtype=np.int8)
    order = np.argsort(sigma, kind="stable") if order is None else np.asarray(order, dtype=np.int64)
    return LatentExample(
        events=events, order=order, sigma=sigma, mu=mu, sample=sample, decoded_mu=decoded[0], decoded_sample=decoded[1]
    )


def plot_example_latents(example, n_neurons=100, title="One melody in latent space"):
    """Paper Fig 3: sigma (top), mu (middle) and one posterior sample (bottom) of the first neurons in order.

    Parameters
    ----------
    example : LatentExample
    n_neurons : int
    title : str

    Returns
    -------
    fig : matplotlib.figure.Figure
    ax : ndarray of 3 Axes
    """
    from ..report.figures import new_figure

    shown = example.order[:n_neurons]
    fig, ax = new_figure(3, 1, figsize=(10, 6.5), sharex=True)
    ranks = np.arange(1, shown.size + 1)
    for axis, values, label in (
        (ax[0], example.sigma, "sigma"),
        (ax[1], example.mu, "mu"),
        (ax[2], example.sample, "sample"),
    ):
        axis.bar(ranks, values[shown], width=0.8)
        axis.axhline(0, color="black", linewidth=0.5)
        axis.set_ylabel(label)
    ax[2].set_xlabel("neuron rank by sigma")
    ax[0].set_title(title)
    return fig, ax


ROLL_ROW_BARS = 4  # bars per row of a piano roll in Fig 2: a 16-bar melody takes four rows


def plot_example_rolls(example, title="Melody, decoded mu and decoded sample"):
    """Paper Fig 2: piano rolls of the melody, of the decoding of mu and of the decoded sample.

    A window longer than :data:`ROLL_ROW_BARS` bars is laid out in rows of that many bars, so a 16-bar
    melody keeps the scale of a 2-bar one; every row of the three rolls shares one pitch axis.

    Parameters
    ----------
    example : LatentExample
    title : str

    Returns
    -------
    fig : matplotlib.figure.Figure
    ax : ndarray of Axes
        One per row, the melody's rows first.
    """
    from ..melody.events import events_to_notes
    from ..melody.plot import plot_piano_roll
    from ..report.figures import new_figure

    steps = example.events.size
    row = min(steps, ROLL_ROW_BARS * STEPS_PER_BAR)
    spans = [(start, min(start + row, steps)) for start in range(0, steps, row)]
    rolls = [example.events, example.decoded_mu, example.decoded_sample]
    pitches = np.concatenate([events_to_notes(r)[:, 2] for r in rolls])
    pitch_range = (int(pitches.min()), int(pitches.max())) if pitches.size else (60, 72)
    fig, ax = new_figure(3 * len(spans), 1, figsize=(9.5, 1.6 * 3 * len(spans) + 0.6), squeeze=False)
    ax = ax[:, 0]
    verdict = "gives the melody back" if example.reconstructs else f"{example.step_accuracy:.0%} of steps right"
    names = ["melody", f"decoded mu ({verdict})", "decoded posterior sample"]
    for k, (events, name) in enumerate(zip(rolls, names)):
        for j, span in enumerate(spans):
            bars = f", bars {span[0] // STEPS_PER_BAR + 1}-{span[1] // STEPS_PER_BAR}" if len(spans) > 1 else ""
            axis = ax[k * len(spans) + j]
            plot_piano_roll(events, ax=axis, title=f"{name}{bars}", span=span, pitch_range=pitch_range)
            axis.title.set_fontsize(9)
            axis.set_xlabel("")
    ax[-1].set_xlabel("step (sixteenth notes)")
    fig.suptitle(title)
    return fig, ax
