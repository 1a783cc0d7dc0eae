"""The report's claims, split and noise-test sections from an analysis summary: order, content, escaping."""

from musicneurons.analysis import analyse_study, planted_study
from musicneurons.report.claims_section import claims_section, noise_section, split_section


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
    split = split_section(summary)
    assert "Split found: 4 music neurons below a gap in mean sigma" in split and "Rule: largest gap" in split
    noise = noise_section(summary)
    assert "<b>cannot tell</b>: No decoder ablation was run" in noise and "Over the 28 noise neurons" in noise
