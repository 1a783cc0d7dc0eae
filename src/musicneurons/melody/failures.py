"""Why files or tunes gave no window: counts by reason, with the first few files of each.

A reason's *kind* is its text before any parenthesised detail, so "unreadable MIDI (truncated ...)" and
"unreadable MIDI (data byte over 127 ...)" count together while each error row keeps its full reason.
"""

from collections import Counter

__all__ = ["FailureTally", "reason_kind"]


def reason_kind(reason):
    """The reason without its parenthesised detail: ``'unreadable MIDI (truncated)'`` -> ``'unreadable MIDI'``."""
    return str(reason).split(" (")[0].strip()


class FailureTally:
    """Counts of items that gave no window, by reason kind, with the first ``keep`` items of each.

    Fed with error tables (``file``, ``tune``, ``reason`` columns) batch by batch, so a source of any size
    is summarised in constant memory.
    """

    def __init__(self, keep=3):
        self.keep = keep
        self.counts = Counter()
        self.examples = {}

    def add(self, errors):
        """Count the rows of an errors DataFrame; returns self."""
        for file, tune, reason in zip(errors["file"], errors["tune"], errors["reason"]):
            kind = reason_kind(reason)
            self.counts[kind] += 1
            shown = self.examples.setdefault(kind, [])
            if len(shown) < self.keep:
                shown.append(f"{file} [{tune}]" if tune else str(file))
        return self

    @property
    def total(self):
        return sum(self.counts.values())

    def rows(self):
        """List of (reason kind, count, first items) by decreasing count."""
        return [(kind, n, self.examples[kind]) for kind, n in self.counts.most_common()]

    def lines(self, indent="  "):
        """The summary as text lines: ``count  reason  (e.g. a.mid, b.mid)``."""
        return [f"{indent}{n:6d}  {kind}  (e.g. {', '.join(first)})" for kind, n, first in self.rows()]
