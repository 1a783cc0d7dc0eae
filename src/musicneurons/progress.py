"""Progress bars that read well in a terminal and in a log file.

In a terminal a tqdm bar redraws itself in place. Written to a file or a pipe, the same bar leaves one line
per redraw, carriage returns and all, hundreds per study; so off a terminal the bars stay silent, and the
study prints one plain line per stage instead (:func:`stage_line`).
"""

import sys

__all__ = ["progress_bar", "on_terminal", "stage_line"]


def on_terminal():
    """Whether standard error is a terminal (bool), where a bar can redraw in place."""
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


def progress_bar(iterable=None, *, progress, **kwargs):
    """A tqdm bar, shown only when ``progress`` is true and standard error is a terminal.

    Parameters
    ----------
    iterable : iterable, optional
        Wrapped as by ``tqdm(iterable)``.
    progress : bool
        Whether the caller asked for progress.
    **kwargs
        Passed to ``tqdm.auto.tqdm`` (``total``, ``desc``, ``unit``, ...).

    Returns
    -------
    tqdm.auto.tqdm
        Disabled (silent, still counting nothing) off a terminal or without ``progress``.
    """
    from tqdm.auto import tqdm

    return tqdm(iterable, disable=not (progress and on_terminal()), **kwargs)


def stage_line(text, *, progress):
    """Print ``text`` as one line on standard error, when ``progress`` is asked for and no bar shows it.

    Parameters
    ----------
    text : str
    progress : bool
    """
    if progress and not on_terminal():
        print(text, file=sys.stderr, flush=True)
