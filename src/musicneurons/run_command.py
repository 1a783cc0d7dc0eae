"""The ``musicneurons run`` command: the whole study in one command, resumable."""

import argparse
from pathlib import Path

from .errors import printable
from .preflight import positive_int
from .report.finding import finding_lines
from .report.labels import neuron_label

__all__ = ["register", "closing_table"]


def register(sub):
    """Add ``run`` to the ``musicneurons`` subparsers."""
    p = sub.add_parser(
        "run",
        help="run the whole study (melodies, random, latents, features, analysis, report)",
        description="Run the paper's study end to end and write a run directory with an HTML report. "
        "Stopping and rerunning the same command resumes it. "
        "Example: musicneurons run --out study   |   musicneurons run --model cat-mel_2bar_big/ --data ~/lmd",
    )
    p.add_argument(
        "--model",
        action="append",
        default=None,
        help="shipped model name, saved model folder or Magenta checkpoint (repeat for 2 and 16 bars); "
        "default: the shipped 2- and 16-bar models",
    )
    p.add_argument(
        "--data", default=None, help="folder of MIDI, MusicXML, ABC or kern files (default: embedded corpus)"
    )
    p.add_argument(
        "--bars",
        type=int,
        choices=(2, 16),
        action="append",
        default=None,
        help="window length to study (repeatable; default both)",
    )
    p.add_argument(
        "--n", type=positive_int, default=None, help="at most N real windows per length (and as many random)"
    )
    p.add_argument(
        "--max-tunes", type=positive_int, default=None, help="embedded corpus only: an evenly spread slice of tunes"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--binning",
        choices=("quantile", "uniform"),
        default="quantile",
        help="phik's bins: quantile (default) or phik's own default equal-width bins; recorded in summary.json",
    )
    p.add_argument("--out", default="musicneurons-study", help="run directory (default ./musicneurons-study)")
    p.add_argument(
        "--device", default="cpu", help="torch device for encoding, e.g. cpu or cuda (on a cluster: the workers')"
    )
    p.add_argument(
        "--cluster",
        default=None,
        metavar="local|ADDRESS",
        help="run extraction, encoding and features on Dask: 'local' starts a LocalCluster, an address "
        "(tcp://host:8786) connects to a running scheduler; needs pip install 'musicneurons[cluster]'",
    )
    p.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        help="processes of the local pool, or of the LocalCluster with --cluster local (default: CPU count, at most 4)",
    )
    p.add_argument(
        "--traversals",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="also sweep the first music neurons, decode, measure and render audio (default off)",
    )
    p.add_argument("--soundfont", default=None, help="General MIDI SoundFont for the traversals' audio")
    p.add_argument(
        "--traversal-audio-seconds",
        type=float,
        default=None,
        help="audio budget of the traversals per length in seconds (0: no audio)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(handler=run)


def run(args):
    """Handler of ``musicneurons run``: runs :func:`musicneurons.pipeline.run_study` and prints a summary."""
    from .pipeline import run_study

    result = run_study(
        args.out,
        model=args.model,
        data=args.data,
        bars=tuple(args.bars or (2, 16)),
        n=args.n,
        max_tunes=args.max_tunes,
        seed=args.seed,
        binning=args.binning,
        device=args.device,
        progress=not args.quiet,
        traversals=args.traversals,
        soundfont=args.soundfont,
        traversal_audio_seconds=args.traversal_audio_seconds,
        cluster=args.cluster,
        workers=args.workers,
    )
    print(closing_table(result.summary))
    print(no_window_lines(result.summary))
    print(failed_chunk_lines(result.summary))
    print(f"\nreport: {Path(result.report).resolve()}")
    return 0


def no_window_lines(summary):
    """Per window length: how many files or tunes gave no window, by reason, with the first files."""
    lines = []
    for name, per in summary["per_bars"].items():
        info = per.get("no_window") or {}
        if info.get("count"):
            lines.append(f"\n{name}: {info['count']} files/tunes gave no window:")
            lines += [
                printable(f"  {r['count']:6d}  {r['reason']}  (e.g. {', '.join(r['first'])})")
                for r in info["by_reason"]
            ]
    return "\n".join(lines)


def failed_chunk_lines(summary):
    """The chunks that failed on every try (their rows are left out of the analysis; a rerun retries them)."""
    failed = [f for per in summary["per_bars"].values() for f in per.get("failed_chunks", [])]
    if not failed:
        return ""
    lines = [f"\n{len(failed)} chunks failed on every try (OUT/errors.parquet; rerun the command to retry them):"]
    return "\n".join(
        lines + [printable(f"  {f['stage']} chunk {f['chunk']} ({f['rows']} rows): {f['reason']}") for f in failed]
    )


def closing_table(summary):
    """The terminal summary: one column per window length, one row per key number."""
    per = summary["per_bars"]
    from .contracts import key_numbers

    cols = list(per)
    columns = [
        [("model", per[c].get("model")), *key_numbers(per[c]), ("items without a window", per[c].get("errors"))]
        for c in cols
    ]
    lines = [f"{'':34s}" + "".join(f"{c:>24s}" for c in cols)]
    for cells in zip(*columns):
        lines.append(f"{cells[0][0]:34s}" + "".join(f"{_short(value):>24s}" for _, value in cells))
    lines.append(
        f"{'strongest (1st neuron)':34s}"
        + "".join(f"{_short(_first(per[c].get('strongest_features'))):>24s}" for c in cols)
    )
    auc = [per[c].get("contrast_auc") or {} for c in cols]
    for name in sorted(set().union(*auc)):
        lines.append(f"{'AUC ' + name:34s}" + "".join(f"{_short(a.get(name)):>24s}" for a in auc))
    lines.append(f"{'total time (s)':34s}{summary['timings_s']['total']:>24.1f}")
    for name, s in per.items():
        lines += ["", f"{name}:", *(printable(f"  {topic}: {text}") for topic, text in finding_lines(s))]
    return "\n".join(lines + _claim_legend(per))


def _claim_legend(per):
    """The paper's claims by letter (the titles of the first length that has them), as lines."""
    claims = next(((s.get("claims") or {}).get("claims") for s in per.values() if s.get("claims")), None)
    if not claims:
        return []
    return ["", "claims: " + "; ".join(f"({c['claim']}) {c['title']}" for c in claims)]


def _first(strongest):
    if not strongest:
        return "-"
    s = strongest[0]
    return f"{neuron_label(s['rank'], s['neuron'])}: {s['feature_id']} {s['phik']:.2f}"


def _short(value):
    text = f"{value:.3f}" if isinstance(value, float) else str(value)
    return text if len(text) <= 23 else "…" + text[-22:]
