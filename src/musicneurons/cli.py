"""The ``musicneurons`` command-line program: one subcommand per stage, plus ``run`` for the whole study.

Each subsystem keeps its own commands in a ``commands`` module with ``register(subparsers)``; this file
only assembles them, so adding a stage never edits another stage's code. Command modules import their
heavy dependencies inside the handlers and the subpackages import their names on first use
(:mod:`musicneurons.lazy`), so ``musicneurons --help`` imports neither torch, scipy, pandas nor numpy.
"""

import argparse
import importlib
import sys

from . import __version__
from .errors import MusicNeuronsError

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
    """Entry point: parse ``argv`` and run the chosen command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return args.handler(args) or 0
    except MusicNeuronsError as exc:
        print(f"musicneurons {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\nmusicneurons {args.command}: interrupted; run the same command again to resume.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
