"""Benchmarks of the latent analysis (issue 6). Run: ``python benchmarks/bench_analysis.py [--rows 50000]``.

1. The phik cross matrix of 512 neurons by 80 features on 50,000 rows, against the reference
   measured in the same run: phik's own ``phik_matrix`` (njobs=1, quantile bins) on a subset of
   8 neurons and 10 features, scaled per cross pair to the 512 x 80 pairs (phik has no cross mode,
   so the full 592-column matrix it would compute has 175,528 pairs; the scaled figure is the
   lower bound of computing the cross pairs alone). The values of the subset are compared too.
   Beside it, the same matrix by the previous implementation (:func:`previous_phik_cross_matrix`: binning one
   column at a time, every bin in the one-hot product, one ``brentq`` call a pair), timed in the same run,
   with the time of each stage of the current one and the largest difference between the two.
2. ``analyse_study`` on 50,000 real and 50,000 random encodings (z = 512) with 80 features, without
   and with figures (PNG + SVG of every figure).

Inputs: the features are those of real windows (random note sequences of paper §5.1 through
``musicneurons.features.compute_features``; the first 80 informative feature ids of the catalogue).
The encodings are planted (``planted_study``, 37 music neurons) with each music neuron made a noisy
monotone function of one real feature, so that the dependence structure is realistic.
"""

import argparse
import tempfile
import time
import warnings

import numpy as np


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def inputs(rows, z, n_features, n_music=37):
    """Planted encodings (real, random) and real features (n, n_features) with a catalogue."""
    from scipy.stats import norm, rankdata

    from musicneurons.analysis import planted_study
    from musicneurons.features import catalogue, compute_features
    from musicneurons.melody import random_windows

    cat = catalogue()
    ids = cat.loc[~cat["constant"] & (cat["duplicate_of"] == "") & (cat["scaled_duplicate_of"] == ""), "id"].tolist()
    events, qpm = random_windows(2 * rows, seed=11)
    real_features = compute_features(events[:rows], qpm[:rows], features=ids[:n_features])
    random_features = compute_features(events[rows:], qpm[rows:], features=ids[:n_features])
    study = planted_study(n_real=rows, n_random=rows, z=z, n_music=n_music, n_features=3, seed=0)
    rng = np.random.default_rng(0)
    for k, neuron in enumerate(study.music_order):
        values = real_features.iloc[:, 2 * k].to_numpy()
        ok = ~np.isnan(values)
        scores = np.zeros(rows)
        scores[ok] = norm.ppf(rankdata(values[ok]) / (ok.sum() + 1))
        study.real_mu[:, neuron] = (scores + 0.5 * rng.normal(size=rows)).astype(np.float32)
    return study, real_features, random_features, cat


def bench_phik(study, features):
    import pandas as pd
    import phik  # noqa: F401

    from musicneurons.analysis import phik_cross_matrix, split_neurons

    x = study.real_mu.astype(np.float64)
    y = features.to_numpy()
    ours, t_ours = timed(lambda: phik_cross_matrix(x, y))
    music = split_neurons(study.real_mu, study.real_sigma).music_neurons
    rows, cols = [f"n{i}" for i in music[:8]], list(features.columns[:10])
    df = pd.concat([pd.DataFrame(x[:, music[:8]], columns=rows), features[cols]], axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref, t_ref = timed(
            lambda: df.phik_matrix(interval_cols=rows + cols, bins=10, quantile=True, njobs=1, verbose=False)
        )
    subset = ours[np.ix_(music[:8], np.arange(10))]
    n_pairs_ref = len(df.columns) * (len(df.columns) + 1) // 2
    per_pair = t_ref / n_pairs_ref
    return {
        "ours_s": t_ours,
        "pairs": x.shape[1] * y.shape[1],
        "ref_subset_s": t_ref,
        "ref_pairs": n_pairs_ref,
        "ref_per_pair_ms": 1e3 * per_pair,
        "ref_cross_scaled_s": per_pair * x.shape[1] * y.shape[1],
        "max_abs_diff": float(np.nanmax(np.abs(subset - ref.loc[rows, cols].to_numpy()))),
    }


def previous_phik_cross_matrix(x, y, bins=10):
    """The phik cross matrix as computed before issue 31, the reference of its speed-up (quantile bins).

    Each column binned on its own (``np.quantile``, ``np.searchsorted``), the one-hot product over every
    bin of both sides, then ``phik_from_table`` (one ``brentq`` call) per pair; ndarray (a, b) float64.
    """
    import sys

    from musicneurons.analysis.phik_cross import phik_from_table

    levels = np.linspace(0, 1, bins + 1)

    def codes(values):
        out = np.full(values.shape, -1, np.int16)
        for j in range(values.shape[1]):
            ok = ~np.isnan(values[:, j])
            if ok.any():
                edges = np.quantile(values[ok, j], levels)
                edges[0] -= max(1e-14 * abs(edges[0]), sys.float_info.min)
                out[ok, j] = np.searchsorted(edges, values[ok, j], side="left") - 1
        return out

    def one_hot(c):
        out = np.zeros((len(c), c.shape[1] * bins), np.float32)
        rows, cols = np.nonzero(c >= 0)
        out[rows, cols * bins + c[rows, cols]] = 1.0
        return out

    cx, cy = codes(x), codes(y)
    total = np.zeros((x.shape[1] * bins, y.shape[1] * bins), np.int64)
    for lo in range(0, len(x), 4096):
        total += np.rint(one_hot(cx[lo : lo + 4096]).T @ one_hot(cy[lo : lo + 4096])).astype(np.int64)
    tables = total.reshape(x.shape[1], bins, y.shape[1], bins).transpose(0, 2, 1, 3)
    return np.array([[phik_from_table(t) for t in row] for row in tables])


def bench_phik_previous(study, features):
    """The current phik cross matrix, stage by stage, against :func:`previous_phik_cross_matrix`, same run."""
    from musicneurons.analysis.contingency import bin_codes, contingency_tables
    from musicneurons.analysis.phik_cross import phik_of_tables

    x, y = study.real_mu.astype(np.float64), features.to_numpy()
    previous, t_previous = timed(lambda: previous_phik_cross_matrix(x, y))
    (cx, cy), t_bins = timed(lambda: (bin_codes(x), bin_codes(y)))
    tables, t_tables = timed(lambda: contingency_tables(cx, cy, 10))
    current, t_phik = timed(lambda: phik_of_tables(tables))
    assert np.array_equal(np.isnan(current), np.isnan(previous))
    total = t_bins + t_tables + t_phik
    return {
        "previous_s": t_previous,
        "current_s": total,
        "stages_s": {"binning": t_bins, "tables": t_tables, "phik": t_phik},
        "ratio": t_previous / total,
        "max_abs_diff": float(np.nanmax(np.abs(current - previous))),
    }


def bench_study(study, real_features, random_features, cat):
    from musicneurons.analysis import analyse_study

    def run(out_dir):
        return analyse_study(
            study.real_mu,
            study.real_sigma,
            real_features,
            study.random_mu,
            study.random_sigma,
            random_features,
            cat,
            out_dir=out_dir,
        )

    results, t_tables = timed(lambda: run(None))
    with tempfile.TemporaryDirectory() as tmp:
        _, t_figures = timed(lambda: run(tmp))
    return results, t_tables, t_figures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=50000)
    ap.add_argument("--z", type=int, default=512)
    ap.add_argument("--features", type=int, default=80)
    ap.add_argument("--phik-only", action="store_true", help="the phik cross matrix only, not analyse_study")
    args = ap.parse_args()
    (study, real_features, random_features, cat), t_inputs = timed(lambda: inputs(args.rows, args.z, args.features))
    print(
        f"inputs: {args.rows} + {args.rows} windows, z = {args.z}, {real_features.shape[1]} features "
        f"({t_inputs:.1f} s to make)"
    )
    p = bench_phik(study, real_features)
    print(
        f"phik cross matrix {args.z} x {real_features.shape[1]} ({p['pairs']} pairs): {p['ours_s']:.1f} s "
        f"(target <= 60 s)"
    )
    print(
        f"  phik.phik_matrix on 8 neurons + 10 features ({p['ref_pairs']} pairs): {p['ref_subset_s']:.1f} s = "
        f"{p['ref_per_pair_ms']:.1f} ms a pair -> {p['ref_cross_scaled_s']:.0f} s scaled to the cross pairs; "
        f"ratio {p['ref_cross_scaled_s'] / p['ours_s']:.0f}x; max |diff| on the subset {p['max_abs_diff']:.1e}"
    )
    q = bench_phik_previous(study, real_features)
    stages = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in q["stages_s"].items())
    print(
        f"  previous implementation, same run: {q['previous_s']:.2f} s; current {q['current_s']:.2f} s ({stages}); "
        f"ratio {q['ratio']:.2f}x; max |diff| {q['max_abs_diff']:.1e}"
    )
    if args.phik_only:
        return
    results, t_tables, t_figures = bench_study(study, real_features, random_features, cat)
    s = results.summary
    print(f"analyse_study, tables only: {t_tables:.1f} s; with every figure: {t_figures:.1f} s (target <= 180 s)")
    print(
        f"  music neurons {s['music_neurons']}, features kept {s['features_kept']}, noise floor "
        f"{s['noise_floor']:.3f}, AUC {s['contrast_auc']}"
    )


if __name__ == "__main__":
    main()
