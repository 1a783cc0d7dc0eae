"""The report's glossary: the terms defined once, the meaning of every table column, and how to cite.

:data:`TERMS` and :data:`COLUMNS` are plain dicts, so a notebook can print them; :func:`glossary_section`
and :func:`citation_section` render them as the report's last sections. Table headers carry the column's
meaning as a tooltip (:func:`column_meaning`).
"""

from html import escape

from .. import __version__

__all__ = ["TERMS", "COLUMNS", "PAPER", "PAPER_URL", "column_meaning", "glossary_section", "citation_section"]

PAPER = (
    "G. Barenboim, L. Del Debbio, J. Hirn and V. Sanz, Exploring how a generative AI interprets music, "
    "Neural Computing and Applications (2024), arXiv:2308.00015"
)
PAPER_URL = "https://arxiv.org/abs/2308.00015"

TERMS = {
    "mu, sigma": "the mean and standard deviation of the encoder's Gaussian posterior for one window, one value "
    "per neuron (latent dimension); the prior is mu = 0, sigma = 1.",
    "rank, #r (nI)": "a neuron's place in the order by increasing mean sigma over the real windows, counted from "
    "1 as the paper counts (#1 is the most specific neuron); nI is its index in the latent vector. Neuron "
    "indices can repeat across lengths: a model warm-started from another keeps its encoder's neurons.",
    "activity": "the variance of a neuron's mu across the real windows; a neuron the decoder can use varies.",
    "active units": "neurons whose activity lies above a threshold (0.01 by default; the split section gives the "
    "counts at 0.1, 0.01 and 0.001).",
    "KL": "KL(N(mu, sigma^2) || N(0, 1)) in nats, averaged over the windows: what a neuron costs the VAE's loss; "
    "a neuron at the prior costs 0.",
    "music and noise neurons": "the split rule looks for a pile of neurons at the prior (mean sigma near 1, "
    "almost no activity) well separated from the used neurons on log activity and log KL; the used ones are the "
    "music neurons, the pile the noise neurons. Without a clear split nothing is called music neurons and the "
    "tables analyse the first neurons by mean sigma.",
    "phik": "phi_K (Baak et al. 2020), a correlation coefficient from 0 to 1 that also catches non-linear "
    "dependence, computed on binned values; it has no sign, so Spearman's rho gives the direction.",
    "noise floor": "the phik that independent variables reach on this sample: the 99th percentile of phik over "
    "pairs whose rows were shuffled. A cell at or below it is noise (grey in Fig. 7).",
    "token accuracy": "the share of 16th-note steps that the decoder, decoding by argmax from mu, gets right.",
    "verdicts": "holds: this model shows what the paper claims; partly: some of it; does not hold: it shows "
    "otherwise; cannot tell: the evidence needed is missing (no split, too few windows, a decoder that ignores "
    "the latent code); unstable: bootstrap resamples of the windows disagree.",
}

COLUMNS = {
    "rank": "place by increasing mean sigma, from 1",
    "neuron": "index in the latent vector",
    "feature_id": "catalogue id (P pitch, R rhythm, M melody; with a dash: jSymbolic 2.2's code)",
    "name": "the feature's name in the catalogue",
    "category": "pitch, rhythm or melody",
    "phik": "phik between the neuron's mu and the feature",
    "sign": "sign of Spearman's rho (+1 or -1)",
    "spearman": "Spearman's rho between mu and the feature",
    "p_value": "test of independence of the binned table",
    "q_value": "Benjamini-Hochberg adjusted p-value over all neuron-feature cells",
    "above_noise": "phik above the noise floor",
    "significance_z": "phik's asymptotic significance in standard deviations",
    "best_other": "the neuron's highest phik with a pitch or rhythm feature",
    "vector_rho": "|Spearman| of the attribute vector (top minus bottom quartile) with the feature, held out",
    "best_neuron": "the single neuron that follows the feature best",
    "neuron_rho": "|Spearman| of that neuron with the feature, held out",
    "cosine": "|cosine| between the attribute vector and that neuron's axis",
    "neuron_wins": "the single neuron follows the feature better than the vector",
    "fit_windows": "windows the vector was built on",
    "test_windows": "held-out windows it was scored on",
    "interpretability": "R^2 of a linear fit of the feature on its most informative neuron",
    "mig": "mutual information gap: top-1 minus top-2 mutual information over neurons, over the feature's entropy",
    "sap": "separated attribute predictability: top-1 minus top-2 R^2 over neurons",
    "scc": "largest significant |Spearman| over neurons",
    "input": "what the classifier of real against random windows reads",
    "n_inputs": "number of input columns",
    "auc_mean": "cross-validated ROC AUC, mean over folds",
    "auc_std": "its standard deviation over folds",
    "windows": "windows used",
    "reason": "why the feature is left out",
    "file": "source file",
    "tune": "tune in the file",
    "track": "track name",
    "program": "General MIDI program",
    "first_bar": "first bar of the window",
    "tempo": "tempo, quarter notes a minute",
}


def column_meaning(column):
    """The meaning of a table column (str), ``""`` for a column the glossary does not know."""
    return COLUMNS.get(column, "")


def glossary_section():
    """The glossary as an HTML section (``id="glossary"``): terms, then table columns."""
    terms = "".join(f"<dt>{escape(t)}</dt><dd>{escape(d)}</dd>" for t, d in TERMS.items())
    columns = "".join(f"<tr><td><code>{escape(c)}</code></td><td>{escape(d)}</td></tr>" for c, d in COLUMNS.items())
    return (
        '<h2 id="glossary">Glossary</h2><dl class="glossary">'
        f'{terms}</dl><h3>Table columns</h3><table class="text"><thead><tr><th>column</th><th>meaning</th></tr>'
        f"</thead><tbody>{columns}</tbody></table>"
    )


def citation_section():
    """How to cite: the paper (linked) and this tool, as an HTML section (``id="cite"``)."""
    tool = f"musicneurons {__version__}: MusicVAE latent-space analysis, reproducing Barenboim et al. (2024)"
    bibtex = (
        "@article{barenboim2024exploring,\n"
        "  title   = {Exploring how a generative AI interprets music},\n"
        "  author  = {Barenboim, Gabriela and Del Debbio, Luigi and Hirn, Johannes and Sanz, Ver{\\'o}nica},\n"
        "  journal = {Neural Computing and Applications},\n"
        "  year    = {2024},\n"
        "  eprint  = {2308.00015},\n"
        "  archivePrefix = {arXiv}\n"
        "}"
    )
    return (
        '<h2 id="cite">Cite</h2>'
        f'<p>The study reproduced: {escape(PAPER)} (<a href="{PAPER_URL}">{PAPER_URL}</a>).</p>'
        f"<pre>{escape(bibtex)}</pre><p>This report: {escape(tool)}.</p>"
    )
