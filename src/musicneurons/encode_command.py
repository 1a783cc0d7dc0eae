"""The ``encode`` command: mu and sigma of every window of a melody table, chunked and resumable."""

from .preflight import positive_int

__all__ = ["register"]


def register(sub):
    """Add ``encode`` to the ``musicneurons`` subparsers."""
    p = sub.add_parser(
        "encode",
        help="encode the windows of a melody table with a model (mu, sigma per window)",
        description="Encode every window of a melody table (the melodies command's output, or a run "
        "directory's melodies.parquet) with a model and write a latent table (row, mu, sigma) that "
        "the analyse command reads. Finished chunks are kept in OUT.parts/ until the table is "
        "complete: rerunning the same command resumes an interrupted encoding.",
        epilog="example: musicneurons encode melodies_2bar.parquet --model mn-mel_2bar --out latents_2bar.parquet",
    )
    p.add_argument("melodies", help="melody table (Parquet) with an 'events' column")
    p.add_argument("--model", required=True, help="shipped model name, saved model folder or Magenta checkpoint")
    p.add_argument("--out", required=True, help="output latent table (Parquet)")
    p.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda")
    p.add_argument("--chunk", type=positive_int, default=2048, help="windows per chunk (default 2048)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=run)


def run(args):
    """Handler of ``musicneurons encode``."""
    from .encoding import encode_file
    from .preflight import check_device, check_output_file

    check_device(args.device)
    check_output_file(args.out)
    latents = encode_file(
        args.melodies, args.model, args.out, device=args.device, chunk=args.chunk, progress=not args.quiet
    )
    print(f"wrote {args.out}: {len(latents)} windows, z = {latents.mu.shape[1]}")
    return 0
