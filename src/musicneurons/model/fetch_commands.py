"""The ``fetch-magenta`` and ``models`` commands: Magenta's released checkpoints by name, and every model there is."""

__all__ = ["register"]


def register(sub):
    """Add ``fetch-magenta`` and ``models`` to the ``musicneurons`` subparsers."""
    from .fetch import BASE_URL, MAGENTA_RELEASES, URL_ENV

    p = sub.add_parser(
        "fetch-magenta",
        help="download one of Magenta's released MusicVAE checkpoints and import it once",
        description="Download one of Magenta's released MusicVAE checkpoints into the model cache "
        "($MUSICNEURONS_CACHE or ~/.cache/musicneurons), check it (the archive reads whole; every variable's name "
        "and shape matches the model's configuration; --sha256 when given), unpack it safely and import it, so "
        "that --model NAME loads it from then on. An interrupted download resumes where it stopped when the "
        f"command is run again. Addresses are under {BASE_URL} (${URL_ENV} names a mirror).",
        epilog="models: "
        + "; ".join(f"{r.name} ({r.megabytes:g} MB, {r.description})" for r in MAGENTA_RELEASES.values()),
    )
    p.add_argument("name", choices=list(MAGENTA_RELEASES), metavar="NAME", help="the release, e.g. cat-mel_2bar_big")
    p.add_argument("--sha256", help="the archive's expected SHA-256 (64 hex digits), checked before it is unpacked")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=_fetch)

    p = sub.add_parser(
        "models",
        help="list the shipped, imported and fetchable models",
        description="List every model --model accepts by name: the shipped ones, Magenta's released ones "
        "(imported into the cache, or not yet fetched), with their window length and status.",
    )
    p.set_defaults(handler=_models)


def _fetch(args):
    from .fetch import fetch_magenta
    from .io import resolve_model

    folder = fetch_magenta(args.name, sha256=args.sha256, progress=not args.quiet)
    config = resolve_model(args.name).config
    print(f"{args.name}: {config.bars} bars, z {config.z_size}, imported into {folder}; use it as --model {args.name}")
    return 0


def _models(args):
    from .fetch import MAGENTA_RELEASES, release_status
    from .io import resolve_model, shipped_models

    rows = [("NAME", "SOURCE", "BARS", "STATUS")]
    for name in shipped_models():
        rows.append((name, "shipped", str(resolve_model(name).bars), "ready"))
    for name, release in MAGENTA_RELEASES.items():
        status = release_status(name)
        if status == "imported":
            status = f"ready (imported: {resolve_model(name).path})"
        else:
            status += f"; musicneurons fetch-magenta {name} ({release.megabytes:g} MB)"
        rows.append((name, "magenta", str(release.bars), status))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3])
    return 0
