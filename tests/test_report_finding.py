"""The report's first lines (the finding), its names for features, neurons and pitches, and the model card's HTML."""

from musicneurons.report.finding import finding_lines, finding_section
from musicneurons.report.glossary import citation_section, glossary_section
from musicneurons.report.labels import feature_label, name_feature_ids, neuron_label, note_name
from musicneurons.report.markdown import markdown_html


def _summary(found):
    """A length's summary as the study writes it: 16 neurons, 6 claims, a decoder's proof."""
    claims = [
        {"claim": c, "title": f"title {c}", "verdict": v} for c, v in zip("abcdef", ["holds"] * 2 + ["cannot tell"] * 4)
    ]
    return {
        "neurons": 16,
        "group": "music neurons" if found else "first 4 neurons by mean sigma (no split)",
        "split": {"found": found, "count": 4 if found else 0, "reason": "the pile is <not> at the prior"},
        "count_interval": [3.0, 5.0] if found else None,
        "noise_test": {
            "verdict": "noise neurons are unused",
            "statistics": {"neurons": 12, "mean_sigma": 0.99871, "var_mu": 2.37e-05},
        },
        "decoder": {
            "fewest_k": {"0.01": 5, "0.005": 6},
            "full_accuracy": 0.8123,
            **(
                {
                    "agrees": True,
                    "reading": "the split's 4 music neurons (interval 3-5) and the decoder's band 5-6 agree",
                }
                if found
                else {}
            ),
        },
        "strongest_features": [
            {"rank": 0, "neuron": 263, "feature_id": "P12", "phik": 0.714},
            {"rank": 2, "neuron": 7, "feature_id": "R-10", "phik": 0.5},
        ],
        "claims": {"caveats": ["The model is under-trained."], "claims": claims},
        "sample": {"too_small": False, "min_windows": 500},
    }


def test_the_finding_of_a_split():
    assert finding_lines(_summary(True)) == [
        ("split", "4 music neurons of 16 (bootstrap interval 3-5); the other 12 sit at the prior."),
        (
            "noise neurons",
            "Noise neurons are unused. The 12 noise neurons have mean sigma 0.999 (prior 1) and variance of mu 2.4e-05 across windows.",
        ),
        (
            "decoder",
            "The first 5 neurons by mean sigma keep token accuracy within 0.01 of the full latent's (0.812); agrees with the split: the split's 4 music neurons (interval 3-5) and the decoder's band 5-6 agree.",
        ),
        (
            "strongest",
            "#1 (n263): P12 Primary Register (phik 0.71); #3 (n7): R-10 Note Density per Quarter Note (phik 0.50)",
        ),
        (
            "the paper's claims",
            "2 holds, 4 cannot tell (of 6 claims: (a) holds, (b) holds, (c) cannot tell, (d) cannot tell, (e) cannot tell, (f) cannot tell).",
        ),
        (
            "read with",
            "The model is under-trained. The verdicts describe this model and sample; they do not test the paper.",
        ),
        (
            "next",
            "Compare with Magenta's own checkpoints: `musicneurons fetch-magenta cat-mel_2bar_big`; `musicneurons fetch-magenta hierdec-mel_16bar`; `musicneurons run --model cat-mel_2bar_big --model hierdec-mel_16bar --out study-magenta`; listen to what the strongest neurons do: `musicneurons run --traversals`.",
        ),
    ]


def test_the_finding_without_a_split_says_why_and_escapes():
    summary = _summary(False)
    summary["sample"] = {"too_small": True, "min_windows": 500, "reason": "200 windows are fewer than 500"}
    summary["claims"]["caveats"] = []
    lines = dict(finding_lines(summary))
    assert lines["split"] == (
        "No split: the pile is <not> at the prior. The tables analyse the first 4 neurons by mean sigma (no split) "
        "instead; they are not called music neurons."
    )
    assert (
        lines["decoder"]
        == "The first 5 neurons by mean sigma keep token accuracy within 0.01 of the full latent's (0.812)."
    )
    assert lines["read with"] == (
        "The sample is too small for verdicts: 200 windows are fewer than 500. The verdicts describe this model and "
        "sample; they do not test the paper."
    )
    assert lines["next"].startswith(
        "Run on at least 500 windows (a larger `--n` or `--max-tunes`, or your own `--data`); compare"
    )
    html = finding_section(summary, "finding2")
    assert html.startswith('<section class="finding" id="finding2"><h3>What this model shows</h3><dl><dt>split</dt>')
    assert "<dd>No split: the pile is &lt;not&gt; at the prior." in html
    assert "a larger <code>--n</code> or <code>--max-tunes</code>" in html
    assert '<dt>read with</dt><dd class="qualifier">The sample is too small' in html


def test_features_neurons_and_pitches_by_name():
    assert feature_label("P12") == "P12 Primary Register"
    assert feature_label("R18") == "R18 Variability of Note Duration"
    assert feature_label("R-18") == "R-18 Prevalence of Short Rhythmic Values"
    assert feature_label("X9") == "X9"
    assert name_feature_ids("R18 and R-18, P-24; P24 X1 XP12") == (
        "R18 (Variability of Note Duration) and R-18 (Prevalence of Short Rhythmic Values), P-24 (Pitch Variability); "
        "P24 X1 XP12"
    )
    assert neuron_label(0, 263) == "#1 (n263)" and neuron_label(36, 5) == "#37 (n5)"
    assert [note_name(p) for p in (21, 60, 61.6, 69, 127)] == ["A0", "C4", "D4", "A4", "G9"]


def test_a_model_card_as_html():
    card = (
        "# mn-mel_2bar\n\nA model <script>alert(1)</script> with `code`.\n\n## Known limits\n\n"
        "- **Not yet** there: retrain\n  with more steps.\n- Small.\n\n"
        "| figure | value |\n|---|---|\n| accuracy | **fail** |\n"
    )
    assert markdown_html(card, heading_offset=4) == (
        "<h4>mn-mel_2bar</h4>\n"
        "<p>A model &lt;script&gt;alert(1)&lt;/script&gt; with <code>code</code>.</p>\n"
        "<h5>Known limits</h5>\n"
        "<ul><li><b>Not yet</b> there: retrain with more steps.</li><li>Small.</li></ul>\n"
        "<table><thead><tr><th>figure</th><th>value</th></tr></thead>"
        "<tbody><tr><td>accuracy</td><td><b>fail</b></td></tr></tbody></table>"
    )


def test_glossary_and_citation():
    glossary = glossary_section()
    assert glossary.startswith('<h2 id="glossary">Glossary</h2>')
    for term in ("phik", "noise floor", "active units", "KL", "activity", "verdicts"):
        assert f"<dt>{term}</dt>" in glossary
    assert (
        "<tr><td><code>neuron_wins</code></td><td>the single neuron follows the feature better than the vector"
        in glossary
    )
    cite = citation_section()
    assert '<a href="https://arxiv.org/abs/2308.00015">https://arxiv.org/abs/2308.00015</a>' in cite
    assert "title   = {Exploring how a generative AI interprets music}" in cite
