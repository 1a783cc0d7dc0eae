"""``compute_features``: every catalogued feature of a batch of event windows, vectorised with numpy."""

import numpy as np
import pandas as pd

from ..errors import InvalidParameterError
from .catalogue import catalogue, feature_ids
from .melody import MELODY_FEATURES, MelodyView
from .notes import NoteBatch, tempo_array
from .pitch import PITCH_FEATURES, PitchView
from .rhythm import RHYTHM_FEATURES, RhythmView

__all__ = ["compute_features", "nan_reasons"]

_FAMILIES = [
    (PITCH_FEATURES, lambda batch, qpm: PitchView(batch)),
    (MELODY_FEATURES, lambda batch, qpm: MelodyView(batch)),
    (RHYTHM_FEATURES, RhythmView),
]


def compute_features(events, qpm=None, *, features=None):
    """Scalar pitch, melody and rhythm features of event windows.

    Parameters
    ----------
    events : ndarray of shape (n_windows, T) or (T,), dtype=int8
        Windows in Magenta's vocabulary, 16 steps a bar.
    qpm : float or ndarray of shape (n_windows,), optional
        Tempo in quarter notes per minute; 120 where missing or NaN. Only music21's rhythm features
        (R15-R36, in seconds) depend on it.
    features : list of str, optional
        Feature ids (see :func:`~musicneurons.features.catalogue.catalogue`); default all, in
        catalogue order.

    Returns
    -------
    DataFrame of shape (n_windows, n_features), dtype=float64
        One column per feature id. music21's features equal music21's values and are NaN exactly
        where music21 raises; :func:`nan_reasons` says why.
    """
    ev = np.asarray(events)
    ev = ev.reshape(1, -1) if ev.ndim == 1 else ev
    ids = feature_ids() if features is None else list(features)
    unknown = sorted(set(ids) - set(feature_ids()))
    if unknown:
        raise InvalidParameterError(f"features: unknown feature ids {unknown}; see catalogue()")
    batch = NoteBatch.from_events(ev)
    tempo = tempo_array(qpm, batch.n_windows)
    columns = {}
    for table, make_view in _FAMILIES:
        wanted = [fid for fid in ids if fid in table]
        if wanted:
            view = make_view(batch, tempo)
            columns.update({fid: np.asarray(table[fid](view), dtype=np.float64) for fid in wanted})
    return pd.DataFrame({fid: columns[fid] for fid in ids}, index=pd.RangeIndex(batch.n_windows))


def nan_reasons(values):
    """Why each NaN of a :func:`compute_features` table is NaN.

    Parameters
    ----------
    values : DataFrame of shape (n_windows, n_features)

    Returns
    -------
    DataFrame
        Columns ``row`` (int, position in ``values``), ``feature`` (id) and ``reason`` (the catalogue's
        ``nan_when``), one row per NaN cell, ordered by row then feature.
    """
    why = catalogue().set_index("id")["nan_when"]
    rows, cols = np.nonzero(values.isna().to_numpy())
    names = values.columns.to_numpy()[cols]
    return pd.DataFrame({"row": rows, "feature": names, "reason": why.reindex(names).fillna("").to_numpy()})
