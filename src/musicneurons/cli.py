"""The ``musicneurons`` command-line program: one subcommand per stage, plus ``run`` for the whole study.

Each subsystem keeps its own commands in a ``commands`` module with ``register(subparsers)``; this file
only assembles them, so adding a stage never edits another stage's code. Command modules import their
heavy dependencies inside the handlers and the subpackages import their names on first use
(:mod:`musicneurons.lazy`), so ``musicneurons --help`` imports neither torch, scipy, pandas nor numpy.
"""

import argparse
import contextlib
import importlib
import sys

from . import __version__
from .errors import MusicNeuronsError, printable
from .interrupts import exit_status, sigterm_as_interrupt, stop_message

__all__ = ["main", "build_parser"]

COMMAND_MODULES = [
    "musicneurons.run_command",
    "musicneurons.melody.commands",
    "musicneurons.model.commands",
    "musicneurons.encode_command",
    "musicneurons.features.commands",
    "musicneurons.model.import_commands",
    "musicneurons.analysis.commands",
    "musicneurons.interventions.commands",
]


def build_parser():
    """The argparse parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="musicneurons",
        description="Open the latent space of music VAEs: which latent neurons carry music, and what they mean.",
    )
    parser.add_argument("--version", action="version", version=f"musicneurons {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv=None):
    """Entry point: parse ``argv`` and run the chosen command; returns the exit status.

    0 on success, 1 for a :class:`~musicneurons.errors.MusicNeuronsError` (one line naming the problem),
    2 for a mistake in the options (argparse), 130 after Ctrl-C (SIGINT) and 143 after SIGTERM
    (:mod:`musicneurons.interrupts`; rerunning the same command resumes). A command whose ``--out`` lies in
    a run directory holds that directory's lock while it runs (:func:`musicneurons.rundir.output_lock`).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        with sigterm_as_interrupt(), _output_lock(args):
            return args.handler(args) or 0
    except MusicNeuronsError as exc:
        print(f"musicneurons {args.command}: error: {printable(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        print(
            f"\nmusicneurons {args.command}: {stop_message(exc)}; run the same command again to resume.",
            file=sys.stderr,
        )
        return exit_status(exc)


def _output_lock(args):
    """The lock of the run directory the command's ``--out`` lies in (``run`` takes its own lock itself)."""
    out = getattr(args, "out", None)
    if out is None or args.command == "run":
        return contextlib.nullcontext()
    from .rundir import output_lock  # imports numpy: not at the top, which --help imports

    return output_lock(out)


if __name__ == "__main__":
    sys.exit(main())
