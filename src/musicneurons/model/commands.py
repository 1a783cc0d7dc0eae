"""The ``train`` command: train a named MusicVAE configuration on the embedded corpus, resumably."""

__all__ = ["register"]


def register(sub):
    """Add the ``train`` command to the ``musicneurons`` subparsers."""
    p = sub.add_parser(
        "train",
        help="train a MusicVAE on the embedded corpus (resumes from --out)",
        description="Train a named MusicVAE configuration on every unique window of the embedded "
        "music21 corpus (held-out split by tune). Run the same command again to resume.",
    )
    p.add_argument("--config", required=True, help="configuration name, e.g. mn-mel_2bar")
    p.add_argument("--out", required=True, help="run directory (checkpoints, log, figure, final model)")
    p.add_argument("--steps", type=int, default=200000, help="total training steps (default 200000, as Magenta)")
    p.add_argument("--batch-size", type=int, help="override the config's batch size")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config field, e.g. --set max_beta=1.0 --set dec_sizes=128,128 (repeatable); "
        "the overridden config keeps the name unless --set name=... is given",
    )
    p.add_argument(
        "--warm-start",
        metavar="RUN_DIR",
        help="when --out holds no checkpoint, continue from another run's checkpoint (same architecture, step "
        "count and log carried on) under this command's training settings; the model card records the change",
    )
    p.add_argument(
        "--encoder-from",
        metavar="RUN_OR_MODEL",
        help="a fresh run starts with the encoder of this run, saved model or shipped name (same encoder shape, any "
        "decoder: e.g. a flat 16-bar warm-up handed to a hierarchical model); the model card records it",
    )
    p.add_argument(
        "--decoder-from",
        metavar="RUN_OR_MODEL",
        help="a fresh run starts with the decoder of this run, saved model or shipped name (same decoder shape and "
        "latent size, any encoder: e.g. a new encoder trained against a decoder that already reads z)",
    )
    p.add_argument(
        "--max-minutes",
        type=float,
        help="stop after this much total wall time, the time carried from a resumed or warm-started run included",
    )
    p.add_argument(
        "--align-at",
        type=_step_list,
        default=(),
        metavar="STEP[,STEP...]",
        help="after these steps, turn the noise neurons onto the principal directions of their mu (decoding from mu "
        "is unchanged; Adam restarts); see musicneurons.model.alignment",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--bf16", action="store_true", help="bfloat16 autocast (faster on CPUs with bf16 units)")
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--device", default="cpu")
    p.add_argument("--holdout", type=float, default=0.1, help="share of tunes held out (default 0.1)")
    p.add_argument("--max-tunes", type=int, help="use only the first N corpus tunes (quick runs)")
    p.add_argument(
        "--windows",
        help="train on the windows of this .npz (arrays 'train' and 'heldout', int8, and a "
        "'data' description) instead of the corpus, e.g. one written by "
        "scripts/training/export_training_windows.py (no corpus parsing: fit for a bare GPU machine)",
    )
    p.add_argument("--eval-windows", type=int, default=2000, help="held-out windows of each periodic evaluation")
    p.add_argument("--eval-every", type=int, default=1000, help="steps between held-out evaluations")
    p.add_argument("--checkpoint-secs", type=float, default=60.0, help="seconds between checkpoints")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(handler=_train)


def _train(args):
    import sys

    import torch

    from .config import get_config, with_overrides
    from .train import train
    from .training_data import corpus_split, load_training_windows

    config = with_overrides(get_config(args.config), args.set)
    if args.batch_size:
        config = config.replace(batch_size=args.batch_size)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.windows:
        train_events, heldout, data = load_training_windows(args.windows, config.bars)
    else:
        train_events, heldout = corpus_split(config.bars, args.holdout, args.seed, args.max_tunes)
        data = "the music21 corpus's folk tunes"
    print(f"{config.name}: {len(train_events)} training and {len(heldout)} held-out windows of {config.bars} bars")
    model = train(
        config,
        args.out,
        train_events,
        heldout,
        args.steps,
        seed=args.seed,
        bf16=args.bf16,
        device=args.device,
        checkpoint_secs=args.checkpoint_secs,
        eval_every=args.eval_every,
        max_minutes=args.max_minutes,
        progress=not args.no_progress,
        eval_windows=args.eval_windows,
        command="musicneurons " + " ".join(sys.argv[1:]),
        data=data,
        warm_start=args.warm_start,
        align_at=args.align_at,
        encoder_from=args.encoder_from,
        decoder_from=args.decoder_from,
    )
    print(f"saved {model.config.name} to {args.out}")
    return 0


def _step_list(text):
    """``"10000,12000"`` -> (10000, 12000): positive step numbers."""
    import argparse

    try:
        steps = tuple(int(v) for v in text.split(",") if v)
    except ValueError:
        steps = ()
    if not steps or min(steps) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma list of positive step numbers")
    return steps
