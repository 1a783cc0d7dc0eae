"""The report's claims, split and noise-test sections from an analysis summary: order, content, escaping."""

from musicneurons.analysis import analyse_study, planted_study
from musicneurons.report.claims_section import claims_section, decoder_section, noise_section, split_section


def test_sections_from_a_planted_summary():
    study = planted_study(n_real=600, n_random=600, z=32, n_music=4, n_features=6, seed=3)
    summary = analyse_study(
        study.real_mu,
        study.real_sigma,
        study.real_features,
        study.random_mu,
        study.random_sigma,
        None,
        study.catalogue,
        caveats=["<b>under-trained</b>"],
    ).summary
    html = claims_section(summary, "claims2")
    assert html.startswith('<section class="claims" id="claims2"><h3>The paper, claim by claim</h3>')
    assert html.index("&lt;b&gt;under-trained&lt;/b&gt;") < html.index("<table")  # caveats first, escaped
    for claim in summary["claims"]["claims"]:
        assert f'<td class="verdict">{claim["verdict"]}</td>' in html
    assert html.count("<tr class=") == 6
    assert "judged again on 200 bootstrap resamples" in html
    split = split_section(summary)
    assert "Split found: 4 music neurons (bootstrap interval 4-4). 4 of 32 neurons are used; the other 28 sit" in split
    assert "the paper&#x27;s (mean sigma below 0.9) 4; active units 4 above 0.1, 4 above 0.01" in split
    assert "Rule: neurons on log10 activity (var of mu) and log10 KL" in split
    assert decoder_section(summary) == ""  # no decoder passed in
    noise = noise_section(summary)
    assert "<b>cannot tell</b>: No decoder ablation was run" in noise and "Over the 28 noise neurons" in noise


def test_a_small_sample_and_the_decoder_in_the_sections():
    summary = {
        "claims": {"caveats": [], "claims": [], "sample": {"too_small": True, "reason": "40 windows <are> few"}},
        "decoder": {
            "windows": 64,
            "full_accuracy": 0.9,
            "fewest_k": {"0.01": 30, "0.005": 38},
            "fewest_k_interval": {"0.01": [28, 33], "0.005": [35, 40]},
            "fewest_k_by_activity": {"0.01": 31},
            "reading": "the split's 38 music neurons (interval 36-39) and the decoder's band 28-40 agree",
            "rule": "r",
        },
    }
    assert "The sample is too small for verdicts: 40 windows &lt;are&gt; few." in claims_section(summary, "c")
    html = decoder_section(summary)
    assert "within 0.01 of the full latent (0.900): 30 neurons (interval 28-33)" in html
    assert "By activity instead: 31 within 0.01." in html
    assert "<b>The split&#x27;s 38 music neurons (interval 36-39) and the decoder&#x27;s band 28-40 agree.</b>" in html
