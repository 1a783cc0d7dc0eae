"""Stopping a command: Ctrl-C (SIGINT) and SIGTERM both end it through KeyboardInterrupt.

So the same cleanup runs for both (worker processes stopped, temporary files removed, finished chunks and
tables kept for the rerun), and the command line then says which signal stopped it and exits with the
shell's status for that signal, 128 + its number: **130** for SIGINT, **143** for SIGTERM. SIGKILL cannot
be caught; what it leaves is cleaned up by the next run.
"""

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["Terminated", "sigterm_as_interrupt", "exit_status", "stop_message"]


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would raise KeyboardInterrupt."""


def _raise_terminated(signum, frame):
    raise Terminated


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` instead of ending the process at once.

    Python handles signals in the main thread only; elsewhere the block changes nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if old is None else old)


def exit_status(exc: KeyboardInterrupt) -> int:
    """The command's exit status after ``exc``: 143 (128 + SIGTERM) for Terminated, else 130 (128 + SIGINT)."""
    return 128 + (signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT)


def stop_message(exc: KeyboardInterrupt) -> str:
    """``'terminated (SIGTERM)'`` or ``'interrupted (SIGINT)'``."""
    return "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted (SIGINT)"
