"""The report's sections on what the analysis can tell: the paper claim by claim, the split, the noise test.

Each function takes one window length's analysis summary (``StudyResults.summary`` as written to
``summary.json``) and returns an HTML fragment; every text from the summary goes through ``html.escape``.
The claims section comes first in each length's part of the report, its caveats (what the model's own
card says about its training) before the verdicts.
"""

from html import escape

from .labels import name_feature_ids

__all__ = ["STYLE", "claims_section", "contrast_note", "decoder_section", "noise_section", "split_section"]

STYLE = """
.claims td{text-align:left;vertical-align:top}.claims td.verdict{font-weight:600;white-space:nowrap}
.v-holds{background:#e3f4e1}.v-partly{background:#fff4d6}.v-does-not-hold{background:#fbe0de}
.v-cannot-tell{background:#eceff3}.v-unstable{background:#f3e6fa}.caveat{background:#fff4d6;border-left:4px solid #e0a800;padding:.5em .8em}
.rule{color:#555;font-size:.85em}
"""


def _verdict_class(verdict):
    return "v-" + verdict.replace(" ", "-")


def _num(value, digits=4):
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def claims_section(summary, anchor):
    """The paper claim by claim: caveats first, then one row per claim (paper, ours, verdict, rule).

    Feature ids in this model's findings carry their names (:func:`~musicneurons.report.labels.name_feature_ids`).

    Parameters
    ----------
    summary : dict
        One length's analysis summary, with ``claims`` = ``{"caveats": [...], "claims": [...]}``.
    anchor : str
        The section's HTML id.

    Returns
    -------
    str
    """
    claims = summary.get("claims") or {"caveats": [], "claims": []}
    parts = [f'<section class="claims" id="{escape(anchor)}"><h3>The paper, claim by claim</h3>']
    parts += [f'<p class="caveat">{escape(text)}</p>' for text in claims["caveats"]]
    sample = claims.get("sample")
    if sample and sample["too_small"]:
        parts.append(f'<p class="caveat">The sample is too small for verdicts: {escape(sample["reason"])}.</p>')
    elif sample:
        parts.append(
            f'<p class="rule">Each verdict is judged again on {sample["resamples"]} bootstrap resamples of the '
            'windows; "unstable" names the verdicts that at least 5 % of them reach.</p>'
        )
    rows = "".join(
        f'<tr class="{_verdict_class(c["verdict"])}"><td>({escape(c["claim"])}) {escape(c["title"])}</td>'
        f'<td>{escape(c["paper"])}</td><td>{escape(name_feature_ids(c["ours"]))}</td><td class="verdict">{escape(c["verdict"])}</td>'
        f'<td class="rule">{escape(c["rule"])}</td></tr>'
        for c in claims["claims"]
    )
    parts.append(
        '<table class="claims"><thead><tr><th>claim</th><th>the paper</th><th>this model</th>'
        f"<th>verdict</th><th>rule</th></tr></thead><tbody>{rows}</tbody></table></section>"
    )
    return "\n".join(parts)


def split_section(summary):
    """The music/noise split: found or not, the count with its interval and band, by which rule; the KL."""
    split = summary["split"]
    band = summary.get("count_band") or {}
    if split["found"]:
        low, high = summary.get("count_interval") or [None, None]
        interval = f" (bootstrap interval {low:g}-{high:g})" if low is not None else ""
        head = f"Split found: {split['count']} music neurons{interval}. {split['reason']}."
    else:
        head = (
            f"No split: {split['reason']}. The tables below are computed on the {summary['group']}; none of them "
            "are music neurons."
        )
    readings = ""
    if band:
        active = ", ".join(f"{n} above {t}" for t, n in band["active_units"].items())
        plateau = band.get("plateau")
        readings = (
            f"Other readings of the same neurons: the paper's (mean sigma below {band['paper_sigma']:g}) "
            f"{band['paper_reading']}; active units {active}; {band['kl_95']} and {band['kl_99']} neurons hold 95 % "
            "and 99 % of the KL"
        )
        if plateau:
            readings += (
                f"; the count stays within 20 % ({plateau['count_low']}-{plateau['count_high']}) for activity "
                f"thresholds from {plateau['from_activity']:.2g} to {plateau['to_activity']:.2g}"
            )
        readings += "."
    kl = summary.get("kl") or {}
    share = kl.get("group_share")
    kl_text = (
        f"Total KL from the prior {kl['total']:.2f} nats a window, {share:.1%} of it in the {summary['group']}."
        if kl.get("total") is not None and share is not None
        else ""
    )
    return (
        f"<h3>Music and noise neurons</h3><p>{escape(head)}</p><p>{escape(readings)} {escape(kl_text)}</p>"
        f'<p class="rule">Rule: {escape(split["rule"])}.</p>'
    )


def decoder_section(summary):
    """The decoder's proof: how many neurons the decoder needs, and whether the split's count agrees."""
    decoder = summary.get("decoder")
    if not decoder:
        return ""
    fewest = "; ".join(
        f"within {t} of the full latent ({decoder['full_accuracy']:.3f}): {k} neurons (interval "
        f"{_num(decoder['fewest_k_interval'][t][0])}-{_num(decoder['fewest_k_interval'][t][1])})"
        for t, k in decoder["fewest_k"].items()
    )
    by_activity = ", ".join(f"{k} within {t}" for t, k in decoder.get("fewest_k_by_activity", {}).items())
    text = f"Keeping only the first k neurons by mean sigma (the rest at mu = 0), on {decoder['windows']} windows: {fewest}."
    if by_activity:
        text += f" By activity instead: {by_activity}."
    reading = decoder.get("reading")
    return (
        "<h3>How many neurons does the decoder need?</h3>"
        f"<p>{escape(text)}</p>"
        + (f"<p><b>{escape(reading[0].upper() + reading[1:])}.</b></p>" if reading else "")
        + f'<p class="rule">Rule: {escape(decoder["rule"])}.</p>'
    )


_NOISE_CLASS = {"noise neurons are unused": "v-holds", "noise neurons are used by the decoder": "v-does-not-hold"}


def noise_section(summary):
    """The noise test: the noise neurons against the prior, the decoder ablation and the verdict."""
    test = summary["noise_test"]
    stats = test["statistics"]
    kind = "noise neurons" if summary.get("split_found") else "other neurons"
    parts = [
        "<h3>The noise test</h3>",
        (
            f'<p class="{_NOISE_CLASS.get(test["verdict"], "v-cannot-tell")}"><b>{escape(test["verdict"])}</b>: '
            f"{escape(test['note'])}</p>"
        ),
        (
            f"<p>Over the {escape(_num(stats['neurons']))} {kind}: mean |mu| {escape(_num(stats['mean_abs_mu']))} "
            f"(prior 0), variance of mu across windows {escape(_num(stats['var_mu']))} (largest "
            f"{escape(_num(stats['max_var_mu']))}), mean sigma {escape(_num(stats['mean_sigma']))} (prior 1).</p>"
        ),
    ]
    if test.get("ablation"):
        rows = "".join(
            f"<tr><td>{escape(r['condition'])}</td><td>{r['neurons_zeroed']}</td>"
            f"<td>{r['token_accuracy']:.4f}</td><td>{r['accuracy_drop']:.4f}</td>"
            f"<td>{r['exact_share']:.4f}</td><td>{r['windows']}</td></tr>"
            for r in test["ablation"]
        )
        parts.append(
            "<table><thead><tr><th>decoding</th><th>neurons zeroed</th><th>token accuracy</th>"
            "<th>accuracy lost</th><th>windows exact</th><th>windows</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )
    parts.append(f'<p class="rule">Rule: {escape(test["rule"])}.</p>')
    return "\n".join(parts)


def contrast_note(summary):
    """What the real-vs-random ROC AUC is: a check expected to be high, not a finding of the paper."""
    note = summary.get("contrast_note")
    return f'<p class="rule">{escape(note)}</p>' if note else ""
