"""How the report names things a person reads: features by id and name, neurons by rank and index, pitches.

One convention everywhere: a feature is ``"P12 Primary Register"`` (its catalogue id, then its name); a
neuron is ``"#1 (n263)"``: its rank in the order by increasing mean sigma, counted from 1 as the paper
counts, then its index in the latent vector. Pitches are note names (``"C4"`` = MIDI 60).
"""

import re
from functools import cache

__all__ = ["feature_name", "feature_label", "name_feature_ids", "neuron_label", "note_name"]

_NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
# A catalogue id: P, R or M, an optional dash (jSymbolic 2.2 codes), a number; not inside a longer word.
_FEATURE_ID = re.compile(r"(?<![\w-])([PRM]-?\d+)(?![\w-])")


@cache
def _names():
    from ..features.catalogue import catalogue

    table = catalogue()
    return dict(zip(table["id"], table["name"]))


def feature_name(feature_id):
    """The catalogue's name of a feature id (``"P12"`` -> ``"Primary Register"``), ``""`` if not catalogued."""
    return _names().get(str(feature_id), "")


def feature_label(feature_id):
    """A feature as a person reads it: ``"P12 Primary Register"``; the id alone when it is not catalogued."""
    name = feature_name(feature_id)
    return f"{feature_id} {name}" if name else str(feature_id)


def name_feature_ids(text):
    """``text`` with each catalogued feature id followed by its name in parentheses.

    ``"strongest: R-10, P12"`` -> ``"strongest: R-10 (Note Density per Quarter Note), P12 (Primary Register)"``.
    Ids of other shapes and uncatalogued ids are left as they are; ``P-24`` and ``P24`` are different ids.

    Parameters
    ----------
    text : str

    Returns
    -------
    str
    """

    def named(match):
        name = feature_name(match.group(1))
        return f"{match.group(1)} ({name})" if name else match.group(1)

    return _FEATURE_ID.sub(named, text)


def neuron_label(rank, index):
    """A neuron as a person reads it: ``neuron_label(0, 263)`` -> ``"#1 (n263)"``.

    Parameters
    ----------
    rank : int
        Place in the order by increasing mean sigma, counted from 0 as in the tables on disk.
    index : int
        Index in the latent vector.

    Returns
    -------
    str
        The rank counted from 1, then the index.
    """
    return f"#{int(rank) + 1} (n{int(index)})"


def note_name(pitch):
    """A MIDI pitch as a note name with its octave (60 -> ``"C4"``); a fractional pitch rounds to the nearest."""
    pitch = int(round(float(pitch)))
    return f"{_NOTE_NAMES[pitch % 12]}{pitch // 12 - 1}"
