"""Traversals: decode an anchor window with one latent direction swept over a grid, the rest held at mu.

Symbols: ``a`` anchors, ``g`` grid values, ``d`` directions, ``z`` latent size, ``T`` steps a window.

A *direction* is a unit vector ``u`` of the latent space: a neuron's axis ``e_i``, or a feature's
attribute vector divided by its norm. Sweeping ``u`` to the value ``v`` sets the projection of the
anchor's mu on ``u`` to ``v`` and keeps every orthogonal component::

    z = mu + (v - mu . u) u

so for a neuron's axis neuron ``i`` takes the value ``v`` and every other neuron stays at the anchor's mu.
The prior is N(0, I), so along any unit direction it is N(0, 1): values are in units of the prior's
standard deviation (the default grid -3..3 in 13 steps spans the prior's 99.7% interval).

The model enters only through ``decode``, a callable from latents ``(m, z) float32`` to event windows
``(m, T) int8`` (e.g. ``MusicVAE.decode``, which takes the argmax at every step).
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InvalidParameterError

__all__ = [
    "Direction",
    "value_grid",
    "choose_anchors",
    "neuron_directions",
    "attribute_directions",
    "sweep_latents",
    "traverse",
    "TRAVERSAL_COLUMNS",
]

TRAVERSAL_COLUMNS = ["direction", "kind", "neuron", "feature_id", "anchor", "row", "step", "value", "qpm"]


@dataclass(frozen=True)
class Direction:
    """One latent direction to sweep.

    Attributes
    ----------
    label : str
        Unique name in tables and plots: ``'n12'`` for neuron 12, ``'attr:P12'`` for P12's attribute vector.
    kind : str
        ``'neuron'`` or ``'attribute'``.
    neuron : int
        The neuron for ``kind == 'neuron'``, else -1.
    feature_id : str
        The feature of an attribute vector, else ``''``.
    vector : ndarray of shape (z,), dtype=float64
        Unit vector.
    """

    label: str
    kind: str
    neuron: int
    feature_id: str
    vector: np.ndarray


def value_grid(low=-3.0, high=3.0, steps=13):
    """The swept values: ``steps`` evenly spaced numbers from ``low`` to ``high``, ends included.

    Returns
    -------
    ndarray of shape (steps,), dtype=float64
        In units of the prior's standard deviation.
    """
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise InvalidParameterError(f"The grid must have finite low < high. Got low={low!r}, high={high!r}.")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 2:
        raise InvalidParameterError(f"The 'steps' parameter of value_grid must be an integer >= 2. Got {steps!r}.")
    return np.linspace(float(low), float(high), int(steps))


def choose_anchors(n_windows, n_anchors=16, seed=0):
    """A fixed, seeded set of anchor rows spread over the data: one random row in each of equal blocks.

    The rows ``0..n_windows-1`` are cut into ``n_anchors`` contiguous blocks of (almost) equal size and
    one row is drawn uniformly in each, so the anchors come from across the whole table (melody tables
    are ordered by file and tune) and the same ``seed`` gives the same rows.

    Parameters
    ----------
    n_windows : int
    n_anchors : int
        At most ``n_windows`` anchors are returned.
    seed : int

    Returns
    -------
    ndarray of shape (min(n_anchors, n_windows),), dtype=int64
        Increasing row indices.
    """
    if isinstance(n_anchors, bool) or not isinstance(n_anchors, (int, np.integer)) or n_anchors < 1:
        raise InvalidParameterError(f"The 'n_anchors' parameter must be a positive integer. Got {n_anchors!r}.")
    if n_windows < 1:
        raise InvalidParameterError("There are no windows to choose anchors from.")
    count = min(int(n_anchors), int(n_windows))
    edges = np.linspace(0, n_windows, count + 1).round().astype(np.int64)
    rng = np.random.default_rng(seed)
    return np.array([rng.integers(lo, hi) for lo, hi in zip(edges[:-1], edges[1:])], dtype=np.int64)


def neuron_directions(neurons, z_size):
    """The axes of the given neurons as directions (labels ``'n<index>'``).

    Parameters
    ----------
    neurons : sequence of int
        Indices in ``0..z_size-1``, without repeats.
    z_size : int

    Returns
    -------
    list of Direction
    """
    neurons = [int(i) for i in neurons]
    bad = [i for i in neurons if not 0 <= i < z_size]
    if bad:
        raise InvalidParameterError(f"Neurons must lie in 0..{z_size - 1}. Got {bad}.")
    if len(set(neurons)) != len(neurons):
        raise InvalidParameterError(f"Neurons must not repeat. Got {neurons}.")
    out = []
    for i in neurons:
        axis = np.zeros(z_size)
        axis[i] = 1.0
        out.append(Direction(f"n{i}", "neuron", i, "", axis))
    return out


def attribute_directions(vectors):
    """Attribute vectors as unit directions (labels ``'attr:<feature id>'``); zero or NaN vectors are left out.

    Parameters
    ----------
    vectors : dict of str to ndarray of shape (z,)
        Feature id -> attribute vector (e.g. rows of
        :func:`~musicneurons.analysis.attributes.attribute_vectors`).

    Returns
    -------
    list of Direction
    """
    out = []
    for fid, vec in vectors.items():
        vec = np.asarray(vec, dtype=np.float64)
        norm = np.linalg.norm(vec)
        if np.isfinite(norm) and norm > 0:
            out.append(Direction(f"attr:{fid}", "attribute", -1, str(fid), vec / norm))
    return out


def sweep_latents(mu, vector, grid):
    """Latents of every anchor with its projection on ``vector`` set to each grid value.

    Parameters
    ----------
    mu : ndarray of shape (a, z), float
        The anchors' posterior means.
    vector : ndarray of shape (z,), float
        Unit direction.
    grid : ndarray of shape (g,), float

    Returns
    -------
    ndarray of shape (a, g, z), dtype=float32
        ``mu[k] + (grid[j] - mu[k] . vector) * vector``.
    """
    mu = np.asarray(mu, dtype=np.float64)
    vector = np.asarray(vector, dtype=np.float64)
    grid = np.asarray(grid, dtype=np.float64)
    shift = grid[None, :] - (mu @ vector)[:, None]
    return (mu[:, None, :] + shift[:, :, None] * vector[None, None, :]).astype(np.float32)


def traverse(decode, mu, directions, grid, anchor_rows=None, qpm=None, progress=False):
    """Decode every anchor along every direction at every grid value.

    Parameters
    ----------
    decode : callable
        ``decode(z) -> events`` with ``z`` of shape (m, z) float32 and events of shape (m, T) int8.
    mu : ndarray of shape (a, z), float
        The anchors' posterior means.
    directions : list of Direction
    grid : ndarray of shape (g,), float
    anchor_rows : ndarray of shape (a,), int, optional
        Row of each anchor in its melody table (default 0..a-1), copied to the ``row`` column.
    qpm : ndarray of shape (a,), float, optional
        Tempo of each anchor (default 120), copied to every decoded window of it.
    progress : bool
        A progress bar over the chunks decoded.

    Returns
    -------
    DataFrame of d * a * g rows
        :data:`TRAVERSAL_COLUMNS` (``direction`` label, ``kind``, ``neuron``, ``feature_id``, ``anchor``
        0..a-1, ``row``, ``step`` 0..g-1, ``value`` in prior units, ``qpm``) and ``events``, one
        ndarray of shape (T,), dtype=int8 per row; ordered by direction, anchor, then value.
    """
    mu = np.asarray(mu, dtype=np.float64)
    grid = np.asarray(grid, dtype=np.float64)
    n_anchors = len(mu)
    rows = np.arange(n_anchors) if anchor_rows is None else np.asarray(anchor_rows, dtype=np.int64)
    tempo = np.full(n_anchors, 120.0) if qpm is None else np.asarray(qpm, dtype=np.float64)
    if len(rows) != n_anchors or len(tempo) != n_anchors:
        raise InvalidParameterError(f"anchor_rows and qpm need one value per anchor ({n_anchors}).")
    if not directions:
        return pd.DataFrame(columns=TRAVERSAL_COLUMNS + ["events"])
    z = np.concatenate([sweep_latents(mu, d.vector, grid).reshape(-1, mu.shape[1]) for d in directions])
    events = _decode_chunks(decode, z, progress)
    per = n_anchors * grid.size
    d_idx, rest = np.divmod(np.arange(len(z)), per)
    anchor, step = np.divmod(rest, grid.size)
    meta = pd.DataFrame(
        [
            {"direction": d.label, "kind": d.kind, "neuron": int(d.neuron), "feature_id": d.feature_id}
            for d in directions
        ]
    )
    table = (
        meta.iloc[d_idx]
        .reset_index(drop=True)
        .assign(anchor=anchor, row=rows[anchor], step=step, value=grid[step], qpm=tempo[anchor])
    )
    table["events"] = list(events)
    return table


def _decode_chunks(decode, z, progress, chunk=1024):
    """``decode`` over ``z`` (m, z) in chunks, with a progress bar; checks the output shape."""
    from ..progress import progress_bar

    parts = []
    for start in progress_bar(range(0, len(z), chunk), progress=progress, desc="traversals", unit="chunk"):
        block = z[start : start + chunk]
        events = np.asarray(decode(block), dtype=np.int8)
        if events.ndim != 2 or len(events) != len(block):
            raise InvalidParameterError(
                f"decode must return (m, T) events for m = {len(block)} latents; got shape {events.shape}."
            )
        parts.append(events)
    return np.concatenate(parts)
