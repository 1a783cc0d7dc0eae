"""The paper's findings, claim by claim: its figure, ours, and a verdict from a rule written beside it.

Each rule is a function of plain numbers (the *evidence* :func:`~musicneurons.analysis.study.analyse_study`
gathers, see :func:`judge_claims`) returning one of :data:`VERDICTS`. Claims about music neurons presuppose
that the model has them: without a music/noise split (:mod:`.split`) their verdict is "cannot tell", and the
numbers shown are those of the first neurons by mean sigma, labelled so.

Each verdict is judged again on bootstrap resamples of the windows (:mod:`.bootstrap`): a claim whose
resamples reach more than one verdict is "unstable", with its readings; when the sample is too small for
verdicts (:func:`~musicneurons.analysis.bootstrap.sample_verdict`) every verdict is "cannot tell" and says why.

=====  =======================================================================================================
claim  rule
=====  =======================================================================================================
(a)    one window has no activity, so each window is read against the pile's sigma band (below its 0.5th
       percentile over all windows): a window shows the split when at least half the music neurons and at
       most 5 % of the pile lie below the band. holds: a corpus split and at least 90 % of windows show it;
       partly: a corpus split and at least 50 %; does not hold: fewer, or no corpus split
(b)    (cannot tell without a split) median Jaccard overlap of two windows' k most specific neurons
       (k = music neurons): holds >= 0.8, partly >= 0.5, does not hold below
(c)    (cannot tell without a split and >= 2 music neurons) |Pearson| of mu between music neurons: holds
       when the 95th percentile is <= 0.3, partly when the median is, does not hold otherwise
(d)    (cannot tell without a split, >= 2 music neurons and a cell above the noise floor) three parts:
       the strongest categories of music neurons 1 and 2 are pitch and rhythm (either order: the paper's
       text and Fig. 7 disagree); non-linear: phik exceeds |Spearman| by >= 0.05 on each one's strongest
       pair; better than attribute vectors: the single neuron wins on held-out windows for at least half
       the pitch and rhythm features. holds: all three; partly: one or two; does not hold: none
(e)    (cannot tell without a split and noise neurons) medians of Fig. 11's counts (|mu| > 0.1): about as
       many music neurons (|random - real| <= 10 % of the music neurons) and many more noise neurons
       (random >= 2 x real and by >= 5 % of the noise neurons). holds: both; partly: one; does not hold:
       neither
(f)    (cannot tell unless both lengths are studied and split) three parts: 16-bar / 2-bar music neurons
       in [1.5, 2.5]; 16-bar music neurons 1-2 strongest in pitch and 3-4 in rhythm; a melody candidate
       beyond the first four. holds: all three; partly: one or two; does not hold: none
=====  =======================================================================================================
"""

import re

import numpy as np

__all__ = [
    "FAILS",
    "HOLDS",
    "PARTLY",
    "RULES",
    "UNKNOWN",
    "UNSTABLE",
    "VERDICTS",
    "claim_a",
    "claim_b",
    "claim_c",
    "claim_d",
    "claim_e",
    "claim_f",
    "finish_claims",
    "judge_claims",
    "model_caveats",
    "top_categories",
]

HOLDS, PARTLY, FAILS, UNKNOWN, UNSTABLE = "holds", "partly", "does not hold", "cannot tell", "unstable"
VERDICTS = (HOLDS, PARTLY, FAILS, UNKNOWN, UNSTABLE)
# The rules as written in the table above, one line each: the report shows them beside the verdicts.
RULES = {
    m.group(1): " ".join(m.group(2).split())
    for m in re.finditer(r"^\((\w)\)\s+(.*(?:\n {7}\S.*)*)", __doc__, re.MULTILINE)
}
_NO_SPLIT = "no music/noise split: the numbers are those of the first {k} neurons by mean sigma"


def _claim(letter, title, paper, ours, verdict, numbers):
    return {
        "claim": letter,
        "title": title,
        "paper": paper,
        "ours": ours,
        "verdict": verdict,
        "rule": RULES[letter],
        "numbers": numbers,
    }


def _parts_verdict(parts):
    """holds when every part holds, does not hold when none does, partly otherwise."""
    return HOLDS if all(parts) else FAILS if not any(parts) else PARTLY


def claim_a(split_found, group_size, neurons, window_share, window_median):
    """(a) Each window's sigma splits into a few specific neurons and many at the prior (Fig. 3-4).

    Parameters
    ----------
    split_found : bool
        Whether the corpus shows a music/noise split.
    group_size, neurons : int
        Music neurons (or the neurons analysed without a split), and all neurons.
    window_share : float or None
        Share of windows that show the split against the pile's sigma band (None without a split).
    window_median : float or None
        Median neurons below the band in those windows.
    """
    if split_found and window_share >= 0.9:
        verdict = HOLDS
    elif split_found and window_share >= 0.5:
        verdict = PARTLY
    else:
        verdict = FAILS
    if split_found:
        ours = f"{group_size} of {neurons} neurons are music neurons; {window_share:.0%} of windows show the split"
        if window_median is not None:
            ours += f" (median {window_median:g} neurons below the pile's sigma band)"
    else:
        ours = "the neurons show no music/noise split"
    return _claim(
        "a",
        "Per-window sigma split",
        '37 of 512 neurons have sigma < 1 for "Twinkle"; every track shows the same split (Figs. 3-4)',
        ours,
        verdict,
        {
            "split_found": bool(split_found),
            "group_size": int(group_size),
            "neurons": int(neurons),
            "window_share": None if window_share is None else float(window_share),
            "window_median": window_median,
        },
    )


def claim_b(split_found, overlap):
    """(b) The same neurons are the specific ones in every window (Fig. 4).

    Parameters
    ----------
    split_found : bool
    overlap : dict or None
        :func:`~musicneurons.analysis.split.window_overlap` of the analysed group.
    """
    paper = "the same 37 neurons are the narrow ones for every track (Fig. 4)"
    if overlap is None:
        return _claim("b", "The same neurons across windows", paper, "no neurons to compare", UNKNOWN, {})
    median = overlap["pairwise_median"]
    ours = (
        f"median Jaccard overlap of two windows' {overlap['k']} most specific neurons {median:.2f} "
        f"(10th percentile {overlap['pairwise_q10']:.2f}); with the corpus set {overlap['to_group_median']:.2f}"
    )
    if not split_found:
        verdict, ours = UNKNOWN, f"{_NO_SPLIT.format(k=overlap['k'])}; {ours}"
    else:
        verdict = HOLDS if median >= 0.8 else PARTLY if median >= 0.5 else FAILS
    return _claim("b", "The same neurons across windows", paper, ours, verdict, dict(overlap))


def claim_c(split_found, group_size, abs_median, abs_q95):
    """(c) The music neurons' mu are nearly uncorrelated (Fig. 5).

    Parameters
    ----------
    split_found : bool
    group_size : int
    abs_median, abs_q95 : float or None
        Median and 95th percentile of |Pearson r| of mu over the pairs of analysed neurons.
    """
    paper = "the 37 music neurons are quite uncorrelated (Fig. 5)"
    if group_size < 2 or abs_median is None:
        return _claim("c", "Music neurons uncorrelated", paper, "fewer than two neurons to correlate", UNKNOWN, {})
    ours = f"|Pearson r| between the {group_size} neurons' mu: median {abs_median:.3f}, 95th percentile {abs_q95:.3f}"
    if not split_found:
        verdict, ours = UNKNOWN, f"{_NO_SPLIT.format(k=group_size)}; {ours}"
    else:
        verdict = HOLDS if abs_q95 <= 0.3 else PARTLY if abs_median <= 0.3 else FAILS
    return _claim(
        "c",
        "Music neurons uncorrelated",
        paper,
        ours,
        verdict,
        {"abs_median": abs_median, "abs_q95": abs_q95, "group_size": int(group_size)},
    )


def claim_d(split_found, categories, nonlinear_gaps, neuron_win_share, compared_features):
    """(d) The first two music neurons carry pitch and rhythm, non-linearly, better than attribute vectors.

    Parameters
    ----------
    split_found : bool
    categories : list of str or None
        Strongest category (above the noise floor) of the analysed neurons by rank; None where none.
    nonlinear_gaps : list of float or None
        phik minus |Spearman| on the strongest pair of each of the first two neurons.
    neuron_win_share : float or None
        Share of pitch and rhythm features whose best single neuron beats the attribute vector held out.
    compared_features : int
    """
    paper = (
        "neuron 1 carries pitch and neuron 2 rhythm (Fig. 7's caption has them the other way round), each "
        "non-linearly encoding many features; attribute vectors follow the features less than single neurons"
    )
    first = list(categories[:2])
    if len(first) < 2 or any(c is None for c in first):
        return _claim(
            "d",
            "Pitch and rhythm in the first two neurons",
            paper,
            "the first two neurons have no correlation above the noise floor",
            UNKNOWN,
            {"categories": first},
        )
    parts = [
        set(first) == {"pitch", "rhythm"},
        nonlinear_gaps is not None and all(g >= 0.05 for g in nonlinear_gaps),
        neuron_win_share is not None and neuron_win_share >= 0.5,
    ]
    gaps = ", ".join(f"{g:.2f}" for g in nonlinear_gaps or [])
    wins = (
        "no pitch or rhythm feature to compare"
        if neuron_win_share is None
        else f"a single neuron beats the attribute vector on held-out windows for {neuron_win_share:.0%} of "
        f"{compared_features} pitch and rhythm features"
    )
    ours = f"strongest categories of neurons 1 and 2: {first[0]}, {first[1]}; phik - |Spearman|: {gaps}; {wins}"
    verdict = _parts_verdict(parts)
    if not split_found:
        verdict, ours = UNKNOWN, f"{_NO_SPLIT.format(k='analysed')}; {ours}"
    return _claim(
        "d",
        "Pitch and rhythm in the first two neurons",
        paper,
        ours,
        verdict,
        {
            "categories": first,
            "nonlinear_gaps": nonlinear_gaps,
            "neuron_win_share": neuron_win_share,
            "compared_features": int(compared_features),
            "parts": parts,
        },
    )


def claim_e(split_found, n_music, n_noise, medians):
    """(e) Random notes excite about as many music neurons as real music but many more noise neurons (Fig. 11).

    Parameters
    ----------
    split_found : bool
    n_music, n_noise : int
    medians : dict
        Median count per window: ``music_real``, ``music_random``, ``noise_real``, ``noise_random`` (|mu| > 0.1).
    """
    paper = (
        "music neurons: real and random both peak at 34-35 of 37; noise neurons: real music excites fewer than "
        "100, random notes mostly more than 100 (Fig. 11)"
    )
    if n_music < 1 or n_noise < 1:
        return _claim("e", "Random notes excite the noise neurons", paper, "needs music and noise neurons", UNKNOWN, {})
    m_real, m_rand, n_real, n_rand = (medians[k] for k in ("music_real", "music_random", "noise_real", "noise_random"))
    parts = [abs(m_rand - m_real) <= 0.1 * n_music, n_rand >= 2 * n_real and n_rand - n_real >= 0.05 * n_noise]
    ours = (
        f"median neurons with |mu| > 0.1, real / random: {m_real:g} / {m_rand:g} of {n_music} music, "
        f"{n_real:g} / {n_rand:g} of {n_noise} noise"
    )
    verdict = _parts_verdict(parts)
    if not split_found:
        verdict, ours = UNKNOWN, f"{_NO_SPLIT.format(k=n_music)}; {ours}"
    return _claim(
        "e",
        "Random notes excite the noise neurons",
        paper,
        ours,
        verdict,
        {**{k: float(v) for k, v in medians.items()}, "n_music": int(n_music), "n_noise": int(n_noise), "parts": parts},
    )


def claim_f(two_bar=None, sixteen_bar=None):
    """(f) The 16-bar model needs about twice the music neurons; pitch in 1-2, rhythm in 3-4, melody lower down.

    Parameters
    ----------
    two_bar, sixteen_bar : dict or None
        Each length's evidence (:func:`judge_claims`'s ``evidence``): ``split_found``, ``group_size``,
        ``categories`` and ``melody_ranks`` (ranks of the melody candidates, 0 = most specific).
    """
    paper = (
        "the 16-bar model has 77 music neurons, about twice the 2-bar model's 37; neurons 1-2 carry pitch, "
        "3-4 rhythm; melody candidates lower down (23, 30, 43, 62, 68, 72) (Fig. 12)"
    )
    if two_bar is None or sixteen_bar is None:
        return _claim("f", "The 16-bar model", paper, "needs a 2-bar and a 16-bar model in the same study", UNKNOWN, {})
    if not (two_bar["split_found"] and sixteen_bar["split_found"]):
        missing = " and ".join(
            name for name, e in (("2-bar", two_bar), ("16-bar", sixteen_bar)) if not e["split_found"]
        )
        return _claim("f", "The 16-bar model", paper, f"no music/noise split in the {missing} model", UNKNOWN, {})
    ratio = sixteen_bar["group_size"] / two_bar["group_size"]
    cats = list(sixteen_bar["categories"][:4]) + [None] * (4 - len(sixteen_bar["categories"][:4]))
    lower = sorted(r for r in sixteen_bar["melody_ranks"] if r >= 4)
    parts = [1.5 <= ratio <= 2.5, cats[:2] == ["pitch", "pitch"] and cats[2:] == ["rhythm", "rhythm"], bool(lower)]
    ours = (
        f"{sixteen_bar['group_size']} music neurons against {two_bar['group_size']} ({ratio:.2f}x); strongest "
        f"categories of neurons 1-4: {', '.join(str(c) for c in cats)}; melody candidates beyond the first four: "
        f"{', '.join(str(r + 1) for r in lower) or 'none'}"
    )
    return _claim(
        "f",
        "The 16-bar model",
        paper,
        ours,
        _parts_verdict(parts),
        {"ratio": ratio, "categories": cats, "melody_ranks": [r + 1 for r in lower], "parts": parts},
    )


def top_categories(correlations, n=4):
    """Strongest category of each of the first ``n`` analysed neurons, from cells above the noise floor.

    Parameters
    ----------
    correlations : DataFrame
        Long table with ``neuron``, ``rank``, ``category``, ``phik``, ``spearman``, ``above_noise``.
    n : int

    Returns
    -------
    categories : list of str or None
        By rank (0 first); None for a neuron without a cell above the noise floor.
    nonlinear_gaps : list of float or None
        phik minus |Spearman| of each neuron's strongest pair (None where it has none).
    """
    above = correlations[correlations["above_noise"]].sort_values("phik", ascending=False, kind="stable")
    best = above.drop_duplicates("rank").set_index("rank")
    ranks = sorted(correlations["rank"].unique())[:n]
    categories = [best.loc[r, "category"] if r in best.index else None for r in ranks]
    gaps = [float(best.loc[r, "phik"] - abs(best.loc[r, "spearman"])) if r in best.index else None for r in ranks]
    return categories, gaps


def _judge_all(e):
    """Claims (a)-(e) on one evidence dict, and (f) as "cannot tell"."""
    return [
        claim_a(e["split_found"], e["group_size"], e["neurons"], e["window_share"], e["window_median"]),
        claim_b(e["split_found"], e["overlap"]),
        claim_c(e["split_found"], e["group_size"], e["pearson_abs_median"], e["pearson_abs_q95"]),
        claim_d(
            e["split_found"], e["categories"], e["nonlinear_gaps"][:2], e["neuron_win_share"], e["compared_features"]
        ),
        claim_e(e["split_found"], e["group_size"], e["n_noise"], e["count_medians"]),
        claim_f(),
    ]


def _settle(claim, verdicts, sample):
    """Attach the resamples' readings to a claim; mark it unstable, or cannot tell when the sample is too small.

    Parameters
    ----------
    claim : dict
        From a claim function (updated in place and returned).
    verdicts : sequence of str
        The claim's verdict on each resample (empty without a bootstrap).
    sample : dict or None
        :func:`~musicneurons.analysis.bootstrap.sample_verdict`.
    """
    from .bootstrap import readings

    claim["whole_sample"] = claim["verdict"]
    claim["resamples"] = len(verdicts)
    claim["readings"] = readings(verdicts) if len(verdicts) else None
    if sample and sample["too_small"]:
        claim["verdict"] = UNKNOWN
        claim["ours"] = f"the sample is too small for verdicts ({sample['reason']}); {claim['ours']}"
    elif claim["readings"] and len(claim["readings"]) > 1:
        claim["verdict"] = UNSTABLE
        both = " or ".join(f"{v} ({share:.0%})" for v, share in claim["readings"].items())
        claim["ours"] = f"{claim['ours']}; unstable over resamples of the windows: {both}"
    return claim


def judge_claims(evidence, resampled=(), sample=None):
    """Claims (a)-(e) of one window length, and (f) as "cannot tell" until the study adds the other length.

    Parameters
    ----------
    evidence : dict
        ``split_found``, ``group_size``, ``neurons``, ``window_share``, ``window_median``, ``overlap``,
        ``pearson_abs_median``, ``pearson_abs_q95``, ``categories``, ``nonlinear_gaps``, ``neuron_win_share``,
        ``compared_features``, ``n_noise``, ``count_medians``, ``melody_ranks``.
    resampled : sequence of dict
        Per bootstrap resample, the evidence numbers that change (:mod:`.bootstrap`); empty for none.
    sample : dict, optional
        :func:`~musicneurons.analysis.bootstrap.sample_verdict`: when ``too_small``, no verdict is given.

    Returns
    -------
    list of dict
        One per claim: ``claim``, ``title``, ``paper``, ``ours``, ``verdict``, ``rule``, ``numbers``,
        ``whole_sample`` (the verdict on all windows), ``resamples`` and ``readings`` (verdict -> share of
        the resamples, or None).
    """
    claims = _judge_all(evidence)
    per_resample = [[c["verdict"] for c in _judge_all({**evidence, **r})] for r in resampled]
    return [_settle(c, [v[i] for v in per_resample], sample) for i, c in enumerate(claims)]


def _f_resampled(two_bar, sixteen_bar):
    """Claim (f)'s verdict on each pair of resamples of the two lengths (their counts re-detected)."""
    a, b = two_bar.get("bootstrap"), sixteen_bar.get("bootstrap")
    if not a or not b:
        return []
    return [
        claim_f({**two_bar, "split_found": fa, "group_size": ca}, {**sixteen_bar, "split_found": fb, "group_size": cb})[
            "verdict"
        ]
        for fa, ca, fb, cb in zip(a["found"], a["counts"], b["found"], b["counts"])
    ]


def finish_claims(summaries, examples=None):
    """Complete each length's claims with what needs the whole study: claim (f) and the example melody.

    Parameters
    ----------
    summaries : dict of int to dict
        Window length (2, 16) -> its analysis summary (``analyse_study(...).summary``, with
        ``claims["evidence"]`` and ``claims["sample"]``); updated in place.
    examples : dict of int to dict, optional
        Window length -> the example melody's ``sigma`` (list of z floats) and ``title``; claim (a) then says
        how many of its neurons lie below the pile's sigma band, and how many of those are music neurons.

    Returns
    -------
    dict of int to dict
        ``summaries``.
    """
    evidence = {bars: s["claims"]["evidence"] for bars, s in summaries.items()}
    samples = [s["claims"].get("sample") for s in summaries.values()]
    too_small = next((x for x in samples if x and x["too_small"]), None)
    f = claim_f(evidence.get(2), evidence.get(16))
    resampled = _f_resampled(evidence[2], evidence[16]) if {2, 16} <= set(evidence) else []
    f = _settle(f, resampled, too_small)
    for bars, summary in summaries.items():
        claims = summary["claims"]["claims"]
        claims[:] = [dict(f) if c["claim"] == "f" else c for c in claims]
        example, e = (examples or {}).get(bars), evidence[bars]
        if example and e.get("band_from") is not None:
            a = next(c for c in claims if c["claim"] == "a")
            sigma = np.asarray(example["sigma"], dtype=np.float64)
            below = sigma < e["band_from"]
            music = np.zeros(sigma.size, dtype=bool)
            music[e["music"]] = True
            a["ours"] += (
                f"; {example['title']}: {int(below.sum())} of {sigma.size} neurons below the pile's sigma band, "
                f"{int((below & music).sum())} of them music neurons"
            )
            a["numbers"]["example_below"] = int(below.sum())
            a["numbers"]["example_music_below"] = int((below & music).sum())
    return summaries


def model_caveats(card_text=None, metrics=None, margin=0.1):
    """Sentences that must come before the verdicts: what the model's own card says about its training.

    Parameters
    ----------
    card_text : str, optional
        The model card (MODEL_CARD.md).
    metrics : dict, optional
        Held-out metrics with ``argmax_accuracy`` and ``hold_baseline`` (metrics.json).
    margin : float
        Reconstruction below ``hold_baseline + margin`` is reported.

    Returns
    -------
    list of str
    """
    out = []
    if card_text and re.search(r"under-?trained", card_text, re.IGNORECASE):
        out.append(
            "The model's own card says it is under-trained: its latent space may not have settled into the "
            "structure the paper describes, and the verdicts below judge this model, not the paper."
        )
    if metrics and {"argmax_accuracy", "hold_baseline"} <= set(metrics):
        acc, base = float(metrics["argmax_accuracy"]), float(metrics["hold_baseline"])
        if acc < base + margin:
            out.append(
                f"Its held-out reconstruction (argmax token accuracy from mu {acc:.3f}) is below the "
                f"always-hold baseline {base:.3f} + {margin}: the decoder barely reconstructs music."
            )
    if not card_text and not metrics:
        out.append("This model has no model card with held-out metrics: how well it is trained is not known.")
    return out
