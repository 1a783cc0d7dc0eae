"""The ``musicneurons`` command with one input file held back until a gate file exists.

``python tests/held_cli.py ARGS...`` runs ``musicneurons ARGS...`` unchanged, except that the worker that
reaches the file named by ``$HELD_CLI_FILE`` waits, before reading it, until ``$HELD_CLI_GATE`` exists
(exempt from the per-item time limit while it waits).
A test can so wait for a condition ("a chunk is committed") and then signal a run that cannot have
finished in between, however loaded the machine: no sleeps, no race. The reader lives in this module (not
in ``__main__``) so that worker processes unpickle it whatever their start method.
"""

import os
import signal
import sys
import time
from pathlib import Path

from musicneurons.melody import files

READ_ITEM = files.read_item


def held_read_item(item):
    """``musicneurons.melody.files.read_item``, waiting first on the gate for the held file."""
    gate = Path(os.environ["HELD_CLI_GATE"])
    if item["file"] == os.environ["HELD_CLI_FILE"]:
        signal.setitimer(signal.ITIMER_REAL, 0)  # the time limit's alarm: a held file may wait for minutes
        while not gate.exists():
            time.sleep(0.02)
    return READ_ITEM(item)


if __name__ == "__main__":
    import held_cli  # this file as a module of its own name, so the reader pickles as held_cli.held_read_item
    from musicneurons.cli import main

    files.read_item = held_cli.held_read_item
    sys.exit(main(sys.argv[1:]))
