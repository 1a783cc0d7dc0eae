"""Typed exceptions of musicneurons: each names the parameter or the file and the reason."""

import numbers

__all__ = [
    "MusicNeuronsError",
    "InvalidParameterError",
    "FileProblemError",
    "MelodyError",
    "MidiFileError",
    "ScoreFileError",
    "NoMelodiesError",
    "CheckpointError",
    "ModelFileError",
    "ArchiveError",
    "DownloadError",
    "OutputError",
    "RunLockedError",
    "DeviceError",
    "StageError",
    "TableError",
    "check_choice",
    "check_positive_int",
    "printable",
]


class MusicNeuronsError(Exception):
    """Base class of every error this package raises on purpose."""


class InvalidParameterError(MusicNeuronsError, ValueError, TypeError):
    """A public function got a parameter outside its documented rule."""


class FileProblemError(MusicNeuronsError, ValueError):
    """A file that cannot be used; carries the path and the reason, shown as ``PATH: REASON``.

    Parameters
    ----------
    path : str
        The file (or corpus entry, or ``file:variable``) that failed.
    reason : str
        What is wrong with it, in words a user can act on.
    """

    def __init__(self, path, reason):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")

    def __reduce__(self):
        """Pickle as ``(path, reason)``, so the error crosses from a worker process whole."""
        return type(self), (self.path, self.reason)


class MelodyError(FileProblemError):
    """A melody source could not be turned into events; carries the path and the reason."""


class MidiFileError(MelodyError):
    """A MIDI file is unreadable, corrupt, truncated or empty."""


class ScoreFileError(MelodyError):
    """A MusicXML, ABC or kern file could not be parsed by music21."""


class NoMelodiesError(MusicNeuronsError):
    """A whole source yielded no usable melody window."""


class CheckpointError(FileProblemError):
    """A checkpoint file is missing, corrupt, truncated, or holds something this reader cannot use.

    Built as ``CheckpointError(path, reason)``: ``path`` is the file (or ``file:variable``) that failed;
    ``reason`` names the field (for a manifest, e.g. ``[0].weights[3].shape``) and what is wrong.
    """


class ModelFileError(MusicNeuronsError):
    """A model directory or name could not be loaded; the message names it and the reason."""


class ArchiveError(FileProblemError):
    """A checkpoint archive is unreadable, truncated, fails its checksum, or holds a member that must not be
    unpacked (a path outside the target folder, a link, a device, a size over the limits)."""


class DownloadError(MusicNeuronsError):
    """A download could not be made or finished (no answer, an HTTP error, a connection that broke off)."""


class OutputError(MusicNeuronsError):
    """An output folder or file cannot be written (a file where a folder belongs, read-only, not ours)."""


class TableError(FileProblemError):
    """A table file is missing, truncated or not the table it should be; names the file and the problem."""


class RunLockedError(MusicNeuronsError):
    """Another live run holds the run directory's lock."""


class DeviceError(MusicNeuronsError, ValueError):
    """The requested torch device is not available on this machine."""


class StageError(MusicNeuronsError):
    """A stage of the study cannot go on: every chunk of its input failed on every try."""


def check_choice(name, value, choices, where):
    """Raise InvalidParameterError unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise InvalidParameterError(
            f"The {name!r} parameter of {where} must be one of {sorted(choices)}. Got {value!r} instead."
        )
    return value


def check_positive_int(name, value, where, allow_none=True):
    """Raise InvalidParameterError unless ``value`` is an int (Python or numpy) >= 1 (or None when ``allow_none``)."""
    if value is None and allow_none:
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise InvalidParameterError(
            f"The {name!r} parameter of {where} must be a positive integer. Got {value!r} instead."
        )
    return int(value)


def printable(text):
    """``text`` with every control or other non-printable character escaped (``\\x1b``, ``\\n``, ``\\u2028``).

    File names and text read from input files pass through it before they reach the terminal, so a name
    holding an escape sequence is shown, never obeyed, and a one-line message stays one line.

    Parameters
    ----------
    text : str

    Returns
    -------
    str
    """
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in str(text))
