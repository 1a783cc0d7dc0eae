"""Why files or tunes gave no window: counts by reason, with the first few files of each.

A reason's *kind* is its text before any parenthesised detail, so "unreadable MIDI (truncated ...)" and
"unreadable MIDI (data byte over 127 ...)" count together while each error row keeps its full reason.
"""

from collections import Counter

from ..errors import printable

__all__ = ["FailureTally", "reason_kind", "study_stage", "report_section"]


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
        return [printable(f"{indent}{n:6d}  {kind}  (e.g. {', '.join(first)})") for kind, n, first in self.rows()]


def study_stage(study, result):
    """Study hook (``pipeline.EXTRA_STAGES``): the no-window counts of the real source into the summary.

    Adds ``result.summary['no_window']``: ``{'count': n, 'by_reason': [{'reason', 'count', 'first'}]}``,
    and the :class:`FailureTally` as ``result.extra['no_window']``.
    """
    tally = FailureTally().add(result.errors) if result.errors is not None else FailureTally()
    result.summary["no_window"] = {
        "count": tally.total,
        "by_reason": [{"reason": kind, "count": n, "first": first} for kind, n, first in tally.rows()],
    }
    result.extra["no_window"] = tally


def report_section(result):
    """Report hook (``report.html.EXTRA_SECTIONS``): HTML of the files or tunes that gave no window."""
    from html import escape

    info = result.summary.get("no_window") or {"count": 0, "by_reason": []}
    head = f"<h3>Files and tunes without a {result.bars}-bar window</h3>"
    if not info["count"]:
        return f"<section class='no-window'>{head}<p>Every file or tune of the source gave windows.</p></section>"
    rows = "".join(
        f"<tr><td>{escape(r['reason'])}</td><td>{r['count']}</td><td>{escape(', '.join(r['first']))}</td></tr>"
        for r in info["by_reason"]
    )
    return (
        f"<section class='no-window'>{head}<p>{info['count']} files or tunes of the source gave no "
        f"{result.bars}-bar window; the reasons, with the first files of each (all of them in "
        f"<code>melodies.errors.parquet</code>):</p><table><tr><th>reason</th><th>files</th>"
        f"<th>first files</th></tr>{rows}</table></section>"
    )
