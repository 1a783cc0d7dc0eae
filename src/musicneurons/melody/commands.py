"""Commands of the melody stage: ``melodies`` and ``random``."""

import sys

from .. import __version__
from ..preflight import positive_int

__all__ = ["register"]


def register(sub):
    """Add the melody commands to the ``musicneurons`` subparsers."""
    p = sub.add_parser(
        "melodies",
        help="extract MusicVAE input windows from MIDI/MusicXML/ABC files or the embedded corpus",
        description="Extract melody windows exactly as MusicVAE's data converter does. "
        "Example: musicneurons melodies ~/lmd --bars 2 --out lmd-2bar.parquet",
    )
    p.add_argument("source", nargs="?", help="file or folder (recursive); default: the embedded music21 folk corpus")
    p.add_argument("--bars", type=int, choices=(2, 16), default=2, help="window length in bars (default 2)")
    p.add_argument("--out", required=True, help="output Parquet file; errors go to NAME.errors.parquet")
    p.add_argument(
        "--mode",
        choices=("analysis", "training", "all"),
        default="analysis",
        help="at most 5 windows a file: the first ones (analysis), seeded random ones (training), or all",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the training-mode choice")
    p.add_argument(
        "--max-tunes", type=positive_int, default=None, help="corpus only: an evenly spread slice of the tunes"
    )
    p.add_argument(
        "--workers", type=positive_int, default=None, help="worker processes (default: CPU count, at most 4)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=run_melodies)

    r = sub.add_parser(
        "random",
        help="the paper's random note sequences (control)",
        description="Random note sequences as in the paper's §5.1. "
        "Example: musicneurons random --n 50000 --bars 2 --seed 0 --out random.parquet",
    )
    r.add_argument("--n", type=positive_int, required=True, help="number of windows")
    r.add_argument("--bars", type=int, choices=(2, 16), default=2)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--out", required=True, help="output Parquet file")
    r.set_defaults(handler=run_random)


def run_melodies(args):
    """Handler of ``musicneurons melodies``."""
    from ..preflight import check_cache, check_output_file
    from .corpus import CORPUS_SOURCE, corpus_melodies
    from .failures import FailureTally
    from .files import write_file_melodies
    from .tables import errors_path, save_melodies

    check_output_file(args.out)
    check_cache()
    source = CORPUS_SOURCE if args.source is None else args.source
    meta = {
        "stage": "melodies",
        "source": str(source),
        "bars": args.bars,
        "mode": args.mode,
        "seed": args.seed,
        "version": __version__,
    }
    if args.source is None:
        windows, errors = corpus_melodies(
            args.bars,
            args.mode,
            args.seed,
            max_tunes=args.max_tunes,
            workers=args.workers,
            progress=not args.quiet,
            with_errors=True,
        )
        save_melodies(args.out, windows, errors, meta)
        n_windows, n_items, failures = (
            len(windows),
            windows.groupby(["file", "tune"]).ngroups,
            FailureTally().add(errors),
        )
    else:
        n_windows, n_items, failures = write_file_melodies(
            args.source, args.out, args.bars, args.mode, args.seed, args.workers, not args.quiet, meta
        )
    print(f"{n_windows} windows of {args.bars} bars from {n_items} tunes/files -> {args.out}")
    if failures.total:
        print(f"{failures.total} files/tunes gave no window (reasons in {errors_path(args.out)}):", file=sys.stderr)
        print("\n".join(failures.lines()), file=sys.stderr)
    return 0


def run_random(args):
    """Handler of ``musicneurons random``."""
    from ..preflight import check_output_file
    from .tables import random_melodies, save_melodies

    check_output_file(args.out)
    table = random_melodies(args.n, args.bars, args.seed)
    save_melodies(
        args.out,
        table,
        metadata={"stage": "random", "n": args.n, "bars": args.bars, "seed": args.seed, "version": __version__},
    )
    print(f"{args.n} random windows of {args.bars} bars (seed {args.seed}) -> {args.out}")
    return 0
