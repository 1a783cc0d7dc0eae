"""The self-contained HTML report of a study run: figures embedded as data URIs, no network needed.

Everything that comes from input files or settings (file names, titles, track names, paths, model
cards) goes through ``html.escape`` or ``DataFrame.to_html(escape=True)``, so markup in a MIDI track name
shows as text and cannot run.
"""

import base64
import importlib
import json
from html import escape
from pathlib import Path

import pandas as pd

from ..rundir import write_text
from .claims_section import STYLE as CLAIMS_STYLE
from .claims_section import claims_section, contrast_note, decoder_section, noise_section, split_section

__all__ = ["write_report", "CAPTIONS", "figure_order", "EXTRA_SECTIONS"]

# Sections added by other modules to each window length's part, after the figures: "package.module:function",
# each called as function(result) with the BarsResult and returning HTML (everything from input escaped).
EXTRA_SECTIONS: list[str] = [
    "musicneurons.melody.failures:report_section",
    "musicneurons.interventions.study_stage:traversal_report",
]

CAPTIONS = {
    "fig2_example_rolls": "Fig. 2: the example melody, the argmax decoding of its mu and of one posterior sample.",
    "fig3_example_latents": "Fig. 3: the example's sigma, mu and one posterior sample, neurons by increasing sigma.",
    "split_counts": "Neurons whose activity (the variance of mu over the windows) lies above a threshold, against "
    "the threshold on a log scale: the pile at the prior is shaded grey, the music neurons' count is the dashed "
    "line, and the green band is where the count stays within 20 %.",
    "decoder_curve": "How many neurons does the decoder need? Token accuracy when only the first k neurons (by mean "
    "sigma, and by activity) keep their mu and the rest are set to 0; the green band lies within 0.01 of the "
    "full latent.",
    "fig4_neuron_boxplots": "Fig. 4: sigma and mu per neuron over the real windows, neurons by mean sigma; "
    "the analysed group's neurons (the music neurons when a split was found) are shaded red.",
    "neuron_kl": "Mean KL(N(mu, sigma^2) || N(0, 1)) per neuron, neurons by mean sigma: what each neuron costs.",
    "fig5_pearson_mu": "Fig. 5: Pearson correlation of mu between the first 100 neurons in order.",
    "fig6_feature_phik": "Fig. 6: phik among the jSymbolic features (constants and duplicates dropped).",
    "fig7_neuron_feature_phik": "Fig. 7: phik between music neurons and features (Spearman sign beside each value).",
    "scatter": "Figs. 8-9: mu of the neuron with the strongest correlations against its strongest {category} "
    "features, with local-regression (LOESS) curves.",
    "attribute_vectors": "Attribute vectors (top minus bottom quartile of a feature) against the best single neuron.",
    "fig10_real_random_histograms": "Fig. 10: mu of the first four music neurons, real music against random notes.",
    "fig11_activation_counts": "Fig. 11: neurons with |mu| > 0.1 among music and noise neurons, real against random.",
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
"""
    + CLAIMS_STYLE
)


def figure_order(names):
    """Figure names (stems) sorted in the paper's order; scatter plots at their place."""

    def rank(name):
        base = "scatter" if name.startswith("scatter_") else name
        return (_ORDER.index(base) if base in _ORDER else len(_ORDER), name)

    return sorted(names, key=rank)


def _caption(name):
    if name.startswith("scatter_"):
        category = name.rsplit("_", 1)[-1]
        return CAPTIONS["scatter"].format(category=category)
    return CAPTIONS.get(name, name.replace("_", " "))


def _img(path):
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{escape(Path(path).stem)}">'


def _table(df, max_rows=20):
    if df is None or len(df) == 0:
        return "<p><em>none</em></p>"
    return df.head(max_rows).to_html(index=False, escape=True, float_format=lambda v: f"{v:.4g}", border=0)


def _key_numbers(summary):
    from ..contracts import key_numbers

    items = key_numbers(summary)
    items.append(("example reconstructed from mu", (summary.get("example") or {}).get("reconstructs")))
    cells = "".join(f"<div>{escape(label)}<b>{escape(_fmt(value))}</b></div>" for label, value in items)
    return f'<div class="key">{cells}</div>'


def _fmt(value):
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _bars_section(res):
    """The section of one window length, from its :class:`~musicneurons.pipeline.BarsResult` (no file read)."""
    s, analysis = res.summary, res.analysis
    parts = [
        f'<h2 id="bars{res.bars}">{res.bars}-bar model: {escape(str(res.model))}</h2>',
        claims_section(s, f"claims{res.bars}"),
        _key_numbers(s),
        split_section(s),
        decoder_section(s),
        noise_section(s),
    ]
    for name in figure_order(res.figures):
        parts.append(f"<figure>{_img(res.figures[name])}<figcaption>{escape(_caption(name))}</figcaption></figure>")
    for spec in EXTRA_SECTIONS:
        module, name = spec.split(":")
        parts.append(getattr(importlib.import_module(module), name)(res))
    strongest = pd.DataFrame(s.get("strongest_features") or [])
    parts += [f"<h3>Strongest feature of the first {escape(s.get('group', 'music neurons'))}</h3>", _table(strongest)]
    corr = analysis.correlations
    cols = [c for c in ("neuron", "feature_id", "category", "phik", "sign", "spearman", "above_noise") if c in corr]
    parts += ["<h3>Strongest neuron-feature correlations (phik)</h3>", _table(corr[cols])]
    for title, name in (
        ("Melody-neuron candidates", "melody_candidates"),
        ("Real against random: ROC AUC", "contrast"),
        ("Attribute vectors against single neurons", "attributes"),
        ("Disentanglement scores per feature", "disentanglement"),
    ):
        note = contrast_note(s) if name == "contrast" else ""
        parts += [f"<h3>{escape(title)}</h3>", note, _table(getattr(analysis, name))]
    meta = res.windows.meta
    sample = meta[[c for c in ("file", "tune", "track", "program", "first_bar", "tempo") if c in meta]]
    parts += ["<h3>A sample of the real windows</h3>", _table(sample, 10)]
    parts += ["<h3>Model card</h3>", f"<pre>{escape(res.model_card)}</pre>"]
    return "\n".join(parts)


def write_report(directory, results, summary):
    """Write ``directory/index.html`` for a study (see :func:`musicneurons.pipeline.run_study`); returns its path."""
    directory = Path(directory)
    toc = " · ".join(f'<a href="#bars{b}">{b} bars</a>' for b in results)
    body = [
        f"<h1>musicneurons study</h1><p>Which latent neurons of a music VAE carry music, and what they mean "
        f'(after Barenboim, Del Debbio, Hirn and Sanz). Sections: {toc} · <a href="#settings">settings</a></p>'
    ]
    body += [_bars_section(res) for res in results.values()]
    body += [
        '<h2 id="settings">Settings, versions and timings</h2>',
        f"<pre>{escape(json.dumps({k: summary[k] for k in ('settings', 'versions', 'timings_s')}, indent=2))}</pre>",
    ]
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>musicneurons study</title><style>{_STYLE}</style></head><body>" + "\n".join(body) + "</body></html>"
    )
    return write_text(directory / "index.html", page)
