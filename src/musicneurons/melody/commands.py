"""Commands of the melody stage: ``melodies`` and ``random``."""


def register(sub):
    """Add the melody commands to the ``musicneurons`` subparsers."""
