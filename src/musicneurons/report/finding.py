"""The finding first: what one window length's study found, in a few lines of plain words and numbers.

:func:`finding_lines` reads one length's analysis summary (as written to ``summary.json``) and returns the
lines a researcher reads first: the music/noise split, the noise neurons, the decoder's count, the strongest
neurons with the feature each carries, the verdicts on the paper's claims (with the caveats that qualify
them beside them) and what to do next. The report shows them at the top of each length's part
(:func:`finding_section`); the terminal prints the same lines after a study.
"""

import re
from html import escape

from .labels import feature_label, neuron_label

__all__ = ["VERDICTS", "finding_lines", "finding_section", "FINDING_STYLE"]

VERDICTS = ("holds", "partly", "does not hold", "cannot tell", "unstable")
MAGENTA_COMMANDS = (
    "musicneurons fetch-magenta cat-mel_2bar_big",
    "musicneurons fetch-magenta hierdec-mel_16bar",
    "musicneurons run --model cat-mel_2bar_big --model hierdec-mel_16bar --out study-magenta",
)
N_STRONGEST = 3
_QUALIFIER = ' class="qualifier"'

FINDING_STYLE = """
.finding{background:#f4f7fb;border:1px solid #d5deea;border-radius:6px;padding:.4em 1.1em;margin:1em 0}
.finding h3{margin:.5em 0 .3em}.finding dl{display:grid;grid-template-columns:9.5em 1fr;gap:.25em .8em;margin:.4em 0}
.finding dt{font-weight:600}.finding dd{margin:0}.finding code{background:#e8edf3;padding:0 .25em;border-radius:3px}
.finding .qualifier{color:#6b5200}
"""


def _split_line(summary):
    split = summary["split"]
    neurons = summary["neurons"]
    if split["found"]:
        low, high = summary.get("count_interval") or [split["count"], split["count"]]
        return (
            f"{split['count']} music neurons of {neurons} (bootstrap interval {low:g}-{high:g}); "
            f"the other {neurons - split['count']} sit at the prior."
        )
    return (
        f"no split: {split['reason']}. The tables analyse the {summary['group']} instead; they are not called "
        "music neurons."
    )


def _noise_line(summary):
    test = summary["noise_test"]
    stats = test["statistics"]
    kind = "noise neurons" if summary["split"]["found"] else "other neurons"
    return (
        f"{test['verdict']}. The {stats['neurons']} {kind} have mean sigma {stats['mean_sigma']:.3f} (prior 1) "
        f"and variance of mu {stats['var_mu']:.2g} across windows."
    )


def _decoder_line(summary):
    decoder = summary.get("decoder")
    if not decoder:
        return None
    tolerance = max(decoder["fewest_k"], key=float)
    k = decoder["fewest_k"][tolerance]
    first = "the first neuron" if k == 1 else f"the first {k} neurons"
    line = (
        f"{first} by mean sigma keep{'s' if k == 1 else ''} token accuracy within {tolerance} of the full latent's "
        f"({decoder['full_accuracy']:.3f})"
    )
    if "agrees" in decoder:
        line += f"; {'agrees' if decoder['agrees'] else 'does not agree'} with the split: {decoder['reading']}"
    return line + "."


def _strongest_line(summary):
    strongest = [s for s in summary.get("strongest_features") or [] if "rank" in s][:N_STRONGEST]
    if not strongest:
        return None
    return "; ".join(
        f"{neuron_label(s['rank'], s['neuron'])}: {feature_label(s['feature_id'])} (phik {s['phik']:.2f})"
        for s in strongest
    )


def _verdict_line(summary):
    claims = (summary.get("claims") or {}).get("claims") or []
    if not claims:
        return None
    counts = [(v, sum(c["verdict"] == v for c in claims)) for v in VERDICTS]
    line = (
        ", ".join(f"{n} {v}" for v, n in counts if n)
        + f" (of {len(claims)} claims: "
        + ", ".join(f"({c['claim']}) {c['verdict']}" for c in claims)
    )
    return line + ")."


def _qualifiers(summary):
    """What limits the verdicts: the model card's caveats and a too-small sample."""
    claims = summary.get("claims") or {}
    out = list(claims.get("caveats") or [])
    sample = summary.get("sample")
    if sample and sample["too_small"]:
        out.append(f"The sample is too small for verdicts: {sample['reason']}.")
    return out


def _next_steps(summary):
    steps = []
    sample = summary.get("sample")
    if sample and sample["too_small"]:
        steps.append(
            f"run on at least {sample['min_windows']} windows (a larger `--n` or `--max-tunes`, or your own `--data`)"
        )
    if (summary.get("claims") or {}).get("caveats") or not summary["split"]["found"]:
        steps.append("compare with Magenta's own checkpoints: " + "; ".join(f"`{c}`" for c in MAGENTA_COMMANDS))
    steps.append("listen to what the strongest neurons do: `musicneurons run --traversals`")
    return "; ".join(steps) + "."


def finding_lines(summary):
    """The finding of one window length as ``(topic, text)`` pairs, in reading order.

    Parameters
    ----------
    summary : dict
        One length's analysis summary (``summary.json``'s ``per_bars`` entry), with ``strongest_features``
        carrying each neuron's ``rank`` (counted from 0).

    Returns
    -------
    list of (str, str)
        Topics ``split``, ``noise neurons``, ``decoder``, ``strongest``, ``the paper's claims``, ``read with``
        (the caveats that qualify the verdicts) and ``next``; the ones without data left out. Commands are
        in backticks.
    """
    qualifiers = _qualifiers(summary)
    lines = [
        ("split", _split_line(summary)),
        ("noise neurons", _noise_line(summary)),
        ("decoder", _decoder_line(summary)),
        ("strongest", _strongest_line(summary)),
        ("the paper's claims", _verdict_line(summary)),
        (
            "read with",
            " ".join(qualifiers) + " The verdicts describe this model and sample; they do not test the paper."
            if qualifiers
            else None,
        ),
        ("next", _next_steps(summary)),
    ]
    return [(topic, text[0].upper() + text[1:]) for topic, text in lines if text]


def _with_code(text):
    """Escaped ``text`` with its backticked spans as ``<code>``."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(text))


def finding_section(summary, anchor):
    """The finding of one window length as an HTML section (every text from the summary escaped).

    Parameters
    ----------
    summary : dict
        As for :func:`finding_lines`.
    anchor : str
        The section's HTML id.

    Returns
    -------
    str
    """
    rows = "".join(
        f"<dt>{escape(topic)}</dt><dd{_QUALIFIER if topic == 'read with' else ''}>{_with_code(text)}</dd>"
        for topic, text in finding_lines(summary)
    )
    return f'<section class="finding" id="{escape(anchor)}"><h3>What this model shows</h3><dl>{rows}</dl></section>'
