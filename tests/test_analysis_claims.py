"""The paper claim by claim: each rule's verdicts at its edges, and exact verdicts on planted studies."""

from musicneurons.analysis import analyse_study, planted_study
from musicneurons.analysis.claims import (
    FAILS,
    HOLDS,
    PARTLY,
    RULES,
    UNKNOWN,
    claim_a,
    claim_b,
    claim_c,
    claim_d,
    claim_e,
    claim_f,
    finish_claims,
    model_caveats,
)


def overlap(median):
    return {"k": 10, "pairwise_median": median, "pairwise_q10": median / 2, "to_group_median": median, "pairs": 100}


def test_claim_a_rule():
    assert claim_a(True, 37, 512, 0.9, 37.0)["verdict"] == HOLDS
    assert claim_a(True, 37, 512, 0.89, 37.0)["verdict"] == PARTLY
    assert claim_a(False, 60, 512, 0.5, 3.0)["verdict"] == PARTLY
    assert claim_a(False, 60, 512, 0.49, None)["verdict"] == FAILS
    assert claim_a(True, 37, 512, 0.95, 36.0)["ours"] == (
        "mean sigma splits at 37 of 512 neurons; 95% of windows split on their own (median 36 neurons below)"
    )


def test_claim_b_rule():
    assert [claim_b(True, overlap(m))["verdict"] for m in (0.8, 0.79, 0.5, 0.49)] == [HOLDS, PARTLY, PARTLY, FAILS]
    no_split = claim_b(False, overlap(0.9))
    assert no_split["verdict"] == UNKNOWN and no_split["ours"].startswith("no clear music/noise split")
    assert claim_b(True, None)["verdict"] == UNKNOWN


def test_claim_c_rule():
    assert claim_c(True, 37, 0.05, 0.3)["verdict"] == HOLDS
    assert claim_c(True, 37, 0.3, 0.31)["verdict"] == PARTLY
    assert claim_c(True, 37, 0.31, 0.6)["verdict"] == FAILS
    assert claim_c(True, 1, None, None)["verdict"] == UNKNOWN
    assert claim_c(False, 37, 0.05, 0.1)["verdict"] == UNKNOWN


def test_claim_d_rule():
    good = {
        "categories": ["rhythm", "pitch"],
        "nonlinear_gaps": [0.1, 0.05],
        "neuron_win_share": 0.5,
        "compared_features": 8,
    }
    assert claim_d(True, **good)["verdict"] == HOLDS
    assert claim_d(True, **{**good, "categories": ["pitch", "pitch"]})["verdict"] == PARTLY
    assert claim_d(True, **{**good, "nonlinear_gaps": [0.1, 0.04], "neuron_win_share": 0.4})["verdict"] == PARTLY
    assert claim_d(True, ["melody", "pitch"], [0.0, 0.0], 0.1, 8)["verdict"] == FAILS
    assert claim_d(True, ["pitch", None], [0.2, None], 1.0, 8)["verdict"] == UNKNOWN
    assert claim_d(False, **good)["verdict"] == UNKNOWN


def test_claim_e_rule():
    medians = {"music_real": 34, "music_random": 35, "noise_real": 40, "noise_random": 150}
    assert claim_e(True, 37, 475, medians)["verdict"] == HOLDS
    assert claim_e(True, 37, 475, {**medians, "music_random": 30})["verdict"] == PARTLY  # 4 > 3.7 apart
    assert claim_e(True, 37, 475, {**medians, "noise_random": 79})["verdict"] == PARTLY  # < 2 x 40
    assert claim_e(True, 37, 475, {**medians, "noise_real": 0, "noise_random": 23})["verdict"] == PARTLY  # < 5 %
    assert claim_e(True, 37, 475, {**medians, "music_random": 10, "noise_random": 41})["verdict"] == FAILS
    assert claim_e(True, 37, 0, medians)["verdict"] == UNKNOWN


def test_claim_f_rule():
    two = {"split_found": True, "group_size": 37, "categories": ["pitch", "rhythm"], "melody_ranks": []}
    sixteen = {
        "split_found": True,
        "group_size": 77,
        "categories": ["pitch", "pitch", "rhythm", "rhythm", "melody"],
        "melody_ranks": [22, 29],
    }
    out = claim_f(two, sixteen)
    assert out["verdict"] == HOLDS and out["numbers"]["melody_ranks"] == [23, 30]
    assert claim_f(two, {**sixteen, "group_size": 100})["verdict"] == PARTLY  # 2.7x
    worse = {**sixteen, "group_size": 37, "categories": ["rhythm"], "melody_ranks": [2]}
    assert claim_f(two, worse)["verdict"] == FAILS
    assert claim_f(two, {**sixteen, "split_found": False})["ours"] == "no clear music/noise split in the 16-bar model"
    assert claim_f(two, None)["verdict"] == UNKNOWN


def test_rules_are_written_beside_each_claim():
    assert sorted(RULES) == list("abcdef")
    assert claim_c(True, 37, 0.05, 0.3)["rule"] == RULES["c"] and "95th percentile is <= 0.3" in RULES["c"]


def test_model_caveats():
    card = "# m\n\n## Status: under-trained\n"
    metrics = {"argmax_accuracy": 0.6566, "hold_baseline": 0.6444}
    out = model_caveats(card, metrics)
    assert len(out) == 2 and "under-trained" in out[0] and "0.657" in out[1] and "0.644 + 0.1" in out[1]
    assert model_caveats("# m", {"argmax_accuracy": 0.912, "hold_baseline": 0.630}) == []
    assert model_caveats(None, None) == [
        ("This model has no model card with held-out metrics: how well it is trained is not known.")
    ]


def verdicts(study):
    results = analyse_study(
        study.real_mu, study.real_sigma, study.real_features, study.random_mu, study.random_sigma, None, study.catalogue
    )
    return [c["verdict"] for c in results.summary["claims"]["claims"]], results


def test_verdicts_on_a_planted_clean_split():
    found, results = verdicts(planted_study(n_real=1500, n_random=1500, z=64, n_music=8, n_features=15, seed=0))
    # (d): the two most specific planted neurons both carry a pitch feature most strongly, and the planted
    # dependences are near-linear (phik does not exceed |Spearman|), but single neurons beat the vectors
    assert found == [HOLDS, HOLDS, HOLDS, PARTLY, HOLDS, UNKNOWN]
    assert results.summary["claims"]["claims"][3]["numbers"]["parts"] == [False, False, True]


def test_verdicts_on_a_planted_study_without_a_split():
    found, results = verdicts(
        planted_study(n_real=1500, n_random=1500, z=64, n_music=8, n_features=15, seed=0, sigma_profile="smooth")
    )
    assert found == [FAILS, UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN]
    assert results.summary["group"].endswith("(no clear split)") and results.summary["music_neurons"] is None
    assert all(
        "music neurons" not in c["ours"] or c["ours"].startswith("no clear")
        for c in results.summary["claims"]["claims"]
    )


def test_finish_claims_adds_claim_f_and_the_example():
    def summary(size, categories, ranks):
        evidence = {"split_found": True, "group_size": size, "categories": categories, "melody_ranks": ranks}
        claims = [claim_a(True, size, 512, 0.95, float(size)), claim_f()]
        return {"neurons": 512, "claims": {"caveats": [], "claims": claims, "evidence": evidence}}

    summaries = {2: summary(37, ["pitch", "rhythm"], []), 16: summary(77, ["pitch", "pitch", "rhythm", "rhythm"], [22])}
    examples = {2: {"title": "Twinkle", "split": {"found": True, "below_gap": 36}}}
    finish_claims(summaries, examples)
    for bars in (2, 16):
        assert summaries[bars]["claims"]["claims"][1]["verdict"] == HOLDS
    a = summaries[2]["claims"]["claims"][0]
    assert a["ours"].endswith("; Twinkle: 36 of 512 neurons below its own gap") and a["numbers"]["example_below"] == 36
    alone = {2: summary(37, ["pitch", "rhythm"], [])}
    assert finish_claims(alone)[2]["claims"]["claims"][1]["verdict"] == UNKNOWN
