"""Typed exceptions of musicneurons: each names the parameter or the file and the reason."""

__all__ = ["MusicNeuronsError", "InvalidParameterError", "MelodyError", "MidiFileError",
           "ScoreFileError", "NoMelodiesError"]


class MusicNeuronsError(Exception):
    """Base class of every error this package raises on purpose."""


class InvalidParameterError(MusicNeuronsError, ValueError, TypeError):
    """A public function got a parameter outside its documented rule."""


class MelodyError(MusicNeuronsError, ValueError):
    """A melody source could not be turned into events; carries the path and the reason.

    Parameters
    ----------
    path : str
        The file (or corpus entry) that failed.
    reason : str
        What is wrong with it, in words a user can act on.
    """

    def __init__(self, path, reason):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class MidiFileError(MelodyError):
    """A MIDI file is unreadable, corrupt, truncated or empty."""


class ScoreFileError(MelodyError):
    """A MusicXML, ABC or kern file could not be parsed by music21."""


class NoMelodiesError(MusicNeuronsError):
    """A whole source yielded no usable melody window."""


def check_choice(name, value, choices, where):
    """Raise InvalidParameterError unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise InvalidParameterError(
            f"The {name!r} parameter of {where} must be one of {sorted(choices)}. Got {value!r} instead.")
    return value
