"""The ``analyse`` command: every analysis of the paper on encoded and featured tables."""

__all__ = ["register"]


def register(sub):
    """Add the ``analyse`` subcommand to an argparse subparsers object."""
    p = sub.add_parser(
        "analyse",
        help="every analysis of the paper on latent and feature tables (tables, figures, summary)",
        description="Neuron order and music/noise split, correlations (Pearson, phik, Spearman), scatter plots, "
        "attribute vectors, real against random, melody-neuron candidates and disentanglement scores.",
        epilog="example: musicneurons analyse run/latents_real.parquet run/features_real.parquet "
        "run/latents_random.parquet --random-features run/features_random.parquet --out run/analysis",
    )
    p.add_argument("real_latents", help="table (Parquet) with 'mu' and 'sigma' array columns of real windows")
    p.add_argument("real_features", help="feature table (Parquet) of the same windows, one column per feature id")
    p.add_argument("random_latents", help="table (Parquet) with 'mu' and 'sigma' of random windows")
    p.add_argument("--random-features", help="feature table of the random windows (adds random_correlations)")
    p.add_argument("--out", required=True, help="output folder: CSV tables, summary.json, PNG + SVG figures")
    p.add_argument("--label", default="2-bar", help="model label in figure titles (default 2-bar)")
    p.add_argument(
        "--sigma-threshold",
        type=float,
        default=None,
        help="analyse the neurons with mean sigma below it (default: the split detected in the data)",
    )
    p.add_argument(
        "--binning",
        choices=("quantile", "uniform"),
        default="quantile",
        help="phik's bins: quantile (default) or phik's own default equal-width bins",
    )
    p.add_argument("--significance", action="store_true", help="add phik's asymptotic significance Z")
    p.add_argument("--seed", type=int, default=0, help="seed of the noise floor and the cross-validation folds")
    p.set_defaults(handler=_run)


def _run(args):
    import json

    from ..contracts import Features, Latents
    from ..features import catalogue
    from ..rundir import check_marker, check_writable_folder
    from .study import analyse_study, split_line

    check_writable_folder(args.out, "--out")  # before the analysis, not after it
    for table in (args.real_latents, args.real_features, args.random_latents, args.random_features):
        if table is not None:
            check_marker(table)
    real, random = Latents.load(args.real_latents), Latents.load(args.random_latents)
    real_mu, real_sigma, random_mu, random_sigma = real.mu, real.sigma, random.mu, random.sigma
    real_features = Features.load(args.real_features).values
    random_features = Features.load(args.random_features).values if args.random_features else None
    known = catalogue()
    if not set(real_features.columns) <= set(known["id"]):
        print("features outside the catalogue: categories taken from the first letter of each id (P, R, M)")
        known = None
    results = analyse_study(
        real_mu,
        real_sigma,
        real_features,
        random_mu,
        random_sigma,
        random_features,
        known,
        out_dir=args.out,
        sigma_threshold=args.sigma_threshold,
        significance=args.significance,
        label=args.label,
        random_state=args.seed,
        binning=args.binning,
    )
    s = results.summary
    print(f"split: {split_line(s)}")
    print(
        f"analysed: {s['group_size']} {s['group']}; {s['active_units']} active units; features kept "
        f"{s['features_kept']}, dropped {s['features_dropped']}"
    )
    print("claims: " + ", ".join(f"({c['claim']}) {c['verdict']}" for c in s["claims"]["claims"]))
    print(f"contrast AUC: {json.dumps(s['contrast_auc'])}")
    print(f"wrote {len(results.tables())} tables and {len(results.figures)} figures to {args.out}")
    return 0
