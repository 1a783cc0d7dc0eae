"""The ``musicneurons`` command-line program: one subcommand per stage, plus ``run`` for the whole study.

Each subsystem keeps its own commands in a ``commands`` module with ``register(subparsers)``; this file
only assembles them, so adding a stage never edits another stage's code. Command modules import their
heavy dependencies inside the handlers and the subpackages import their names on first use
(:mod:`musicneurons.lazy`), so ``musicneurons --help`` imports neither torch, scipy, pandas nor numpy.
"""

import argparse
import contextlib
import difflib
import importlib
import re
import sys

from . import __version__
from .errors import MusicNeuronsError, printable
from .interrupts import exit_status, sigterm_as_interrupt, stop_message

__all__ = ["main", "build_parser", "check_spelling"]

COMMAND_MODULES = [
    "musicneurons.run_command",
    "musicneurons.melody.commands",
    "musicneurons.model.commands",
    "musicneurons.encode_command",
    "musicneurons.features.commands",
    "musicneurons.model.import_commands",
    "musicneurons.model.fetch_commands",
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


_NEGATIVE = re.compile(r"-\.?\d")  # a value such as -3,3,7 or -.5, not an option


def _subparsers(parser):
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def _suggestion(word, choices):
    match = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean {match[0]!r}?" if match else ""


def check_spelling(parser, argv):
    """Check the command and option names of ``argv`` before argparse reads it; returns ``argv`` to parse.

    A misspelt command or option stops with argparse's usage line and one line naming it and the nearest
    valid name (``unrecognized option '--modle'; did you mean '--model'?``), exit status 2. An option that
    takes a value is joined to a value that starts with a minus sign (``--grid -3,3,7`` becomes
    ``--grid=-3,3,7``), which argparse would otherwise read as an unknown option.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        :func:`build_parser`'s parser.
    argv : list of str
        The command line after the program's name.

    Returns
    -------
    list of str
    """
    commands = _subparsers(parser).choices
    position = next((i for i, arg in enumerate(argv) if not arg.startswith("-")), None)
    if position is None:
        return argv
    if argv[position] not in commands:
        hint = _suggestion(argv[position], list(commands))
        if hint:
            parser.error(f"unknown command {argv[position]!r}{hint}")
        return argv
    command = commands[argv[position]]
    options = [o for a in command._actions for o in a.option_strings]
    takes_value = {o for a in command._actions if a.nargs is None for o in a.option_strings if o.startswith("--")}
    fixed = argv[: position + 1]
    rest = iter(argv[position + 1 :])
    for arg in rest:
        if arg == "--":
            fixed += [arg, *rest]
            break
        name = arg.split("=", 1)[0]
        if arg.startswith("-") and not _NEGATIVE.match(arg) and not any(o.startswith(name) for o in options):
            command.error(f"unrecognized option {name!r}{_suggestion(name, options)}")
        if arg in takes_value:
            value = next(rest, None)
            if value is not None and _NEGATIVE.match(value):
                arg = f"{arg}={value}"
            elif value is not None:
                fixed.append(arg)
                arg = value
        fixed.append(arg)
    return fixed


def main(argv=None):
    """Entry point: parse ``argv`` and run the chosen command; returns the exit status.

    0 on success, 1 for a :class:`~musicneurons.errors.MusicNeuronsError` (one line naming the problem),
    2 for a mistake in the options (argparse), 130 after Ctrl-C (SIGINT) and 143 after SIGTERM
    (:mod:`musicneurons.interrupts`; rerunning the same command resumes). A command whose ``--out`` lies in
    a run directory holds that directory's lock while it runs (:func:`musicneurons.rundir.output_lock`).
    """
    parser = build_parser()
    argv = check_spelling(parser, sys.argv[1:] if argv is None else list(argv))
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
