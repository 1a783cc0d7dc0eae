"""The feature catalogue: every scalar feature's id, name, category, meaning and origin.

Ids are music21's for the features music21 implements (``'P1'``, ``'M10'``, ``'R15'``; jSymbolic 1
numbering, upper-cased) and jSymbolic 2.2 codes (with a dash: ``'P-24'``, ``'R-41'``) for the ones only
jSymbolic 2.2 defines. The analysis drops features by rule from the ``constant``, ``duplicate_of`` and
``scaled_duplicate_of`` columns; :func:`catalogue` documents each of them.

The table itself is ``catalogue.csv`` beside this module, one row per feature: per category, music21's
features first, then those only jSymbolic 2.2 defines. music21's rhythm features are in seconds at the
window's tempo (jSymbolic 2.2's RT group); jSymbolic 2.2's own rhythm features are in quarter notes.
"""

import csv
from pathlib import Path

import pandas as pd

__all__ = ["catalogue", "feature_ids", "MUSIC21_IDS"]

_CSV = Path(__file__).with_name("catalogue.csv")
_BOOL = {"True": True, "False": False}


def _read_rows(path):
    """The catalogue's column names and its rows as tuples in file order, ``constant`` (``True``/``False``) as a bool."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        rows = [tuple(_BOOL[row[c]] if c == "constant" else row[c] for c in reader.fieldnames) for row in reader]
    return list(reader.fieldnames), rows


_COLUMNS, _ROWS = _read_rows(_CSV)

#: Ids of the 50 features music21 implements, in catalogue order.
MUSIC21_IDS = [row[0] for row in _ROWS if row[4]]


def catalogue():
    """The feature catalogue, one row per scalar feature.

    Returns
    -------
    DataFrame
        Columns: ``id`` (column name in feature tables), ``name``, ``category`` (``pitch``, ``melody``
        or ``rhythm``), ``meaning`` (one line), ``music21_id`` (music21's own id, ``''`` if music21
        lacks it), ``jsymbolic_code`` (the jSymbolic 2.2 code), ``constant`` (bool: the same value for
        every one-voice 4/4 window at one tempo), ``duplicate_of`` (id of a feature it always equals
        for one-voice windows, ``''`` if none), ``scaled_duplicate_of`` (id of a feature it is a fixed
        multiple of at one tempo), ``nan_when`` (when the value is NaN, i.e. when music21 raises).
    """
    return pd.DataFrame(_ROWS, columns=_COLUMNS)


def feature_ids(category=None):
    """Feature ids in catalogue order, optionally of one category (``'pitch'``, ``'melody'``, ``'rhythm'``)."""
    return [row[0] for row in _ROWS if category is None or row[2] == category]
