"""The self-contained HTML report of a study run: figures embedded as data URIs, no network needed.

Everything that comes from input files or settings (file names, titles, track names, paths, model
cards) goes through ``html.escape`` or ``DataFrame.to_html(escape=True)``, so markup in a MIDI track name
shows as text and cannot run.
"""

import base64
import importlib
import os
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd

from ..analysis.correlation import FIG7_NEURONS
from ..rundir import write_text
from .claims_section import STYLE as CLAIMS_STYLE
from .claims_section import claims_section, contrast_note, decoder_section, noise_section, split_section
from .finding import FINDING_STYLE, finding_section
from .glossary import PAPER_URL, citation_section, column_meaning, glossary_section
from .labels import feature_name, neuron_label
from .markdown import markdown_html

__all__ = ["write_report", "CAPTIONS", "figure_order", "EXTRA_SECTIONS"]

# Sections added by other modules to each window length's part, after the figures: "package.module:function",
# each called as function(result) with the BarsResult and returning HTML (everything from input escaped).
EXTRA_SECTIONS: list[str] = [
    "musicneurons.melody.failures:report_section",
    "musicneurons.interventions.study_stage:traversal_report",
]

# Captions by figure stem; {group}, {other}, {group_count}, {fig7} and {category} follow each length's summary.
CAPTIONS = {
    "fig2_example_rolls": "Fig. 2: the example melody, then the argmax decoding of its mu and of one posterior "
    "sample; pitch by note name against 16th-note steps, bar lines dotted.",
    "fig3_example_latents": "Fig. 3: the example's sigma, mu and one posterior sample, neurons by increasing sigma.",
    "split_counts": "Neurons whose activity (the variance of mu over the windows) lies above a threshold, against "
    "the threshold on a log scale: the pile at the prior is shaded grey, {group_count}, and the green band is "
    "where the count stays within 20 %.",
    "decoder_curve": "How many neurons does the decoder need? Token accuracy when only the first k neurons (by mean "
    "sigma, and by activity) keep their mu and the rest are set to 0; the green band lies within 0.01 of the "
    "full latent.",
    "fig4_neuron_boxplots": "Fig. 4: sigma and mu per neuron over the real windows, neurons by rank (increasing "
    "mean sigma); the {group} are shaded red.",
    "neuron_kl": "Mean KL(N(mu, sigma^2) || N(0, 1)) per neuron, neurons by rank: what each neuron costs.",
    "fig5_pearson_mu": "Fig. 5: Pearson correlation of mu between the first 100 neurons by rank (increasing mean "
    "sigma); each tick gives the rank and, below it, the neuron's index.",
    "fig6_feature_phik": "Fig. 6: phik among the features (constants and duplicates dropped), by id and name, "
    "grouped by category.",
    "fig7_neuron_feature_phik": "Fig. 7: phik between {fig7} (columns, by rank) and the features (rows, id and name, "
    "in pitch, rhythm and melody panels). Each cell above the noise floor prints phik with Spearman's sign; cells "
    "at or below the floor are grey. Every value is in the correlations table.",
    "scatter": "Figs. 8-9: mu of the neuron with the strongest correlations against its strongest {category} "
    "features, with local-regression (LOESS) curves.",
    "attribute_vectors": "Attribute vectors (top minus bottom quartile of a feature) against the best single neuron.",
    "fig10_real_random_histograms": "Fig. 10: mu of the neurons ranked #1 to #4 by mean sigma, real music against "
    "random notes.",
    "fig11_activation_counts": "Fig. 11: per window, how many of the {group} and of the {other} have |mu| > 0.1, "
    "real music against random notes.",
    "fig11_activation_counts_relative": "Fig. 11 with a threshold relative to each neuron's spread: neurons whose mu "
    "lies more than 2 standard deviations (over the real windows) from its real mean.",
}
_ORDER = [
    "fig2_example_rolls",
    "fig3_example_latents",
    "split_counts",
    "decoder_curve",
    "fig4_neuron_boxplots",
    "neuron_kl",
    "fig5_pearson_mu",
    "fig6_feature_phik",
    "fig7_neuron_feature_phik",
    "scatter",
    "attribute_vectors",
    "fig10_real_random_histograms",
    "fig11_activation_counts",
    "fig11_activation_counts_relative",
]

_STYLE = (
    """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.7em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}
figure{margin:1.5em 0}figure img{max-width:100%;border:1px solid #eee}figcaption{color:#555;font-size:.92em}
table{border-collapse:collapse;font-size:.88em;margin:.8em 0}th,td{border:1px solid #ddd;padding:.25em .55em;
text-align:right}th{background:#f5f5f5}td:first-child,th:first-child{text-align:left}
pre{background:#f7f7f7;padding:.8em;overflow-x:auto;font-size:.85em;white-space:pre-wrap}
.key{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:.6em}
.key div{background:#f4f7fb;padding:.6em;border-radius:6px}.key b{display:block;font-size:1.4em}
table.text td,td.t{text-align:left}.card{border-left:3px solid #ddd;padding-left:1em;overflow-x:auto}.card table td{text-align:left}
dl.glossary dt{font-weight:600;margin-top:.5em}dl.glossary dd{margin-left:1.5em}
"""
    + CLAIMS_STYLE
    + FINDING_STYLE
)


def figure_order(names):
    """Figure names (stems) sorted in the paper's order; scatter plots at their place."""

    def rank(name):
        base = "scatter" if name.startswith("scatter_") else name
        return (_ORDER.index(base) if base in _ORDER else len(_ORDER), name)

    return sorted(names, key=rank)


def _caption(name, summary):
    """The caption of figure ``name`` for one length's summary: the group named as the split found it."""
    k = summary.get("group_size", 0)
    if summary["split"]["found"]:
        group, other = "music neurons", "noise neurons"
        group_count = "the music neurons' count is the dashed line"
    else:
        group, other = f"first {k} neurons by mean sigma (no split: not called music neurons)", "other neurons"
        group_count = "no split was found, so no count is marked"
    fig7 = group if k <= FIG7_NEURONS else f"the first {FIG7_NEURONS} of the {group}"
    category = name.rsplit("_", 1)[-1] if name.startswith("scatter_") else ""
    template = CAPTIONS["scatter" if category else name] if (category or name in CAPTIONS) else name.replace("_", " ")
    return template.format(group=group, other=other, group_count=group_count, fig7=fig7, category=category)


def _img(path):
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{escape(Path(path).stem)}">'


def _cell(column, value, ranks):
    """One table cell as text: one number format, booleans as yes/no, neurons by rank and index."""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if column == "best_neuron" and value in ranks:
        return neuron_label(ranks[value], value)
    if isinstance(value, (float, np.floating)):
        return "" if np.isnan(value) else f"{value:.3g}"
    return str(value)


def _shown(df, ranks):
    """The table as people read it: ranks from 1, a ``rank`` beside each ``neuron``, a ``name`` beside each id."""
    df = df.copy()
    if "rank" in df:
        df["rank"] = df["rank"] + 1
    elif "neuron" in df and ranks:
        df.insert(0, "rank", df["neuron"].map(lambda n: ranks[n] + 1))
    if "rank" in df and "neuron" in df:
        df = df[["rank", "neuron", *(c for c in df.columns if c not in ("rank", "neuron"))]]
    if "feature_id" in df:
        df.insert(df.columns.get_loc("feature_id") + 1, "name", df["feature_id"].map(feature_name))
    return df


_TEXT = ' class="t"'  # a text cell, left-aligned


def _table(df, *, link=None, ranks=None, max_rows=20, order=""):
    """An HTML table of the first ``max_rows`` rows, each column's meaning as a tooltip, the full file linked.

    Parameters
    ----------
    df : DataFrame or None
    link : str, optional
        Relative address of the whole table (a CSV or Parquet file beside the report).
    ranks : dict of int to int, optional
        Each neuron's rank (from 0), to show neurons as "#r (nI)" and give tables a ``rank`` column.
    max_rows : int
    order : str
        How the rows are ordered, said under the table when it is cut (e.g. "by decreasing phik").
    """
    ranks = ranks or {}
    if df is None or len(df) == 0:
        return "<p><em>none</em></p>"
    shown = _shown(df.head(max_rows), ranks)
    head = "".join(f'<th title="{escape(column_meaning(c))}">{escape(str(c))}</th>' for c in shown.columns)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{_TEXT if isinstance(v, str) else ''}>{escape(_cell(c, v, ranks))}</td>"
            for c, v in zip(shown.columns, row)
        )
        + "</tr>"
        for row in shown.itertuples(index=False)
    )
    note = f"Showing {len(shown):,} of {len(df):,} rows{' ' + order if order else ''}." if len(df) > len(shown) else ""
    if link:
        note += f' Whole table: <a href="{escape(link)}">{escape(Path(link).name)}</a>.'
    foot = f'<p class="rule">{note.strip()}</p>' if note else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{foot}"


def _key_numbers(summary):
    from ..contracts import key_numbers

    items = key_numbers(summary)
    items.append(("example reconstructed from mu", (summary.get("example") or {}).get("reconstructs")))
    cells = "".join(f"<div>{escape(label)}<b>{escape(_fmt(value))}</b></div>" for label, value in items)
    return f'<div class="key">{cells}</div>'


def _fmt(value):
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3g}"
    if value is None:
        return "n/a"
    return str(value)


# (title, table name, order of its rows, sort column): the analysis tables shown, strongest rows first.
_TABLES = [
    ("Strongest neuron-feature correlations (phik)", "correlations", "by decreasing phik", "phik"),
    ("Melody-neuron candidates", "melody_candidates", "by decreasing phik", "phik"),
    ("Real against random: ROC AUC", "contrast", "", None),
    ("Attribute vectors against single neurons", "attributes", "by decreasing neuron_rho", "neuron_rho"),
    ("Disentanglement scores per feature", "disentanglement", "by decreasing interpretability", "interpretability"),
    ("Features left out", "features_dropped", "", None),
]


def _bars_section(res, root):
    """The section of one window length, from its :class:`~musicneurons.pipeline.BarsResult` (no file read)."""
    s, analysis = res.summary, res.analysis
    here = Path(os.path.relpath(res.directory, root)).as_posix()
    ranks = dict(zip(analysis.neurons["neuron"], analysis.neurons["rank"])) if "rank" in analysis.neurons else {}
    parts = [
        f'<h2 id="bars{res.bars}">{res.bars}-bar model: {escape(str(res.model))}</h2>',
        finding_section(s, f"finding{res.bars}"),
        claims_section(s, f"claims{res.bars}"),
        _key_numbers(s),
        split_section(s),
        decoder_section(s),
        noise_section(s),
    ]
    for name in figure_order(res.figures):
        caption = _caption(name, s)
        parts.append(f"<figure>{_img(res.figures[name])}<figcaption>{escape(caption)}</figcaption></figure>")
    for spec in EXTRA_SECTIONS:
        module, name = spec.split(":")
        parts.append(getattr(importlib.import_module(module), name)(res))
    strongest = pd.DataFrame(s.get("strongest_features") or [])
    parts += [f"<h3>Strongest feature of the {escape(s.get('group', 'music neurons'))}</h3>", _table(strongest)]
    for title, name, order, column in _TABLES:
        table = getattr(analysis, name)
        if table is not None and column in table:
            table = table.sort_values(column, ascending=False, kind="stable")
        note = contrast_note(s) if name == "contrast" else ""
        link = f"{here}/analysis/{name}.csv"
        parts += [f"<h3>{escape(title)}</h3>", note, _table(table, link=link, ranks=ranks, order=order)]
    meta = res.windows.meta
    sample = meta[[c for c in ("file", "tune", "track", "program", "first_bar", "tempo") if c in meta]]
    parts += [
        "<h3>A sample of the real windows</h3>",
        _table(sample, link=f"{here}/melodies.parquet", max_rows=10, order="in corpus order"),
    ]
    card = res.model_card  # a model without a card shows its configuration (JSON) instead
    shown = f"<pre>{escape(card)}</pre>" if card.lstrip().startswith("{") else markdown_html(card, heading_offset=4)
    parts += ['<h3>Model card</h3><div class="card">', shown, "</div>"]
    return "\n".join(parts)


def _settings_table(title, values):
    """A settings, versions or timings dict as a two-column table (nested dicts as "key: value" lists)."""

    def text(value):
        if isinstance(value, dict):
            return "; ".join(f"{k}: {text(v)}" for k, v in value.items())
        if isinstance(value, (list, tuple)):
            return ", ".join(text(v) for v in value)
        return _fmt(value)

    rows = "".join(f"<tr><td>{escape(str(k))}</td><td>{escape(text(v))}</td></tr>" for k, v in values.items())
    return f'<h3>{escape(title)}</h3><table class="text"><tbody>{rows}</tbody></table>'


def write_report(directory, results, summary):
    """Write ``directory/index.html`` for a study (see :func:`musicneurons.pipeline.run_study`); returns its path."""
    directory = Path(directory)
    toc = " · ".join(f'<a href="#bars{b}">{b} bars</a>' for b in results)
    body = [
        "<h1>musicneurons study</h1><p>Which latent neurons of a music VAE carry music, and what they mean, after "
        f'<a href="{PAPER_URL}">Barenboim, Del Debbio, Hirn and Sanz (2024)</a>. Sections: {toc} · '
        '<a href="#settings">settings</a> · <a href="#glossary">glossary</a> · <a href="#cite">cite</a></p>'
    ]
    body += [_bars_section(res, directory) for res in results.values()]
    body += [
        '<h2 id="settings">Settings, versions and timings</h2>',
        _settings_table("Settings", summary["settings"]),
        _settings_table("Versions", summary["versions"]),
        _settings_table("Timings (seconds)", summary["timings_s"]),
        glossary_section(),
        citation_section(),
    ]
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>musicneurons study</title><style>{_STYLE}</style></head><body>" + "\n".join(body) + "</body></html>"
    )
    return write_text(directory / "index.html", page)
