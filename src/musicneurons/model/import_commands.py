"""The ``import-magenta`` command: convert a Magenta MusicVAE checkpoint to musicneurons' model format."""

__all__ = ["register"]


def register(sub):
    """Add the ``import-magenta`` command to the ``musicneurons`` subparsers."""
    p = sub.add_parser(
        "import-magenta",
        help="convert a Magenta MusicVAE checkpoint (TensorFlow or magenta.js)",
        description="Read a Magenta MusicVAE checkpoint without TensorFlow: a TensorFlow V2 "
        "checkpoint (its prefix, .index file, or folder) or a magenta.js folder "
        "(weights_manifest.json + shards, quantised or not). Writes config.json and "
        "weights.safetensors to --out, which `--model DIR` then accepts.",
    )
    p.add_argument("checkpoint", help="checkpoint prefix, .index file, or folder")
    p.add_argument("--out", required=True, help="directory to write the imported model to")
    p.add_argument(
        "--bars",
        type=int,
        choices=(2, 16),
        help="bars per window (default: magenta.js config.json, else the '<N>bar' in the "
        "checkpoint's name, else 16 for a hierarchical decoder and 2 for a flat one)",
    )
    p.add_argument("--name", help="config name when the layout is none of Magenta's (default: the checkpoint's)")
    p.set_defaults(handler=_import_magenta)


def _import_magenta(args):
    from .io import import_magenta
    from .musicvae import magenta_parameter_count

    model, out = import_magenta(args.checkpoint, args.out, bars=args.bars, name=args.name)
    config = model.config
    layout = f"conductor {list(config.conductor_sizes)}, " if config.hierarchical else ""
    print(
        f"imported {config.name}: {config.bars} bars, z {config.z_size}, encoder {list(config.enc_sizes)}, "
        f"{layout}decoder {list(config.dec_sizes)}, {magenta_parameter_count(model):,} parameters -> {out}"
    )
    return 0
