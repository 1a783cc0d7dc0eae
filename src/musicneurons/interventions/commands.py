"""The ``traverse`` command: sweep neurons of a model from anchor windows, measure, hear and explore."""

__all__ = ["register", "parse_grid", "parse_neurons", "read_windows"]

_EXAMPLE = """examples:
  musicneurons traverse mn-mel_2bar corpus-2bar.parquet --out trav
  musicneurons traverse mn-mel_2bar tune.mid --neurons 166,445 --anchors 4 --out trav
  musicneurons traverse cat-mel_2bar_big ~/midi --k 4 --grid -2,2,9 --soundfont ~/GeneralUser.sf2 --out trav

Writes OUT/traversals.parquet (neuron, anchor, value, decoded events), OUT/midi/, the intervention tables and
figures, OUT/audio/ (with FluidSynth and a SoundFont) and OUT/explorer.html."""


def register(sub):
    """Add ``traverse`` to the ``musicneurons`` subparsers."""
    import argparse

    from ..preflight import positive_int
    from .defaults import DEFAULT_ANCHORS, DEFAULT_AUDIO_SECONDS, DEFAULT_K

    p = sub.add_parser(
        "traverse",
        help="move one neuron at a time, decode, measure and hear what changes",
        description="Encode the windows, pick the first K music neurons (or --neurons) and a seeded set "
        "of anchor windows, decode each anchor with one neuron swept over a grid in prior "
        "units (every other neuron at the anchor's mu), and measure the features of the "
        "decoded windows against the swept value.",
        epilog=_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("model", help="shipped model name, saved model folder or Magenta checkpoint")
    p.add_argument(
        "melodies",
        help="melody table (Parquet with 'events', optional 'tempo'), or a MIDI / MusicXML / ABC / kern file or folder",
    )
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--k", type=positive_int, default=DEFAULT_K, help=f"first K music neurons (default {DEFAULT_K})")
    p.add_argument("--neurons", default=None, help="comma-separated neuron indices to sweep instead (e.g. 166,445)")
    p.add_argument(
        "--anchors", type=positive_int, default=DEFAULT_ANCHORS, help=f"anchor windows (default {DEFAULT_ANCHORS})"
    )
    p.add_argument(
        "--grid",
        default="-3,3,13",
        help="LOW,HIGH,STEPS of the swept value in prior sd (default -3,3,13)",
    )
    p.add_argument(
        "--no-attributes",
        action="store_true",
        help="do not sweep the attribute vectors of the features the neurons correlate with most",
    )
    p.add_argument("--soundfont", default=None, help="General MIDI SoundFont (.sf2) for audio (default: Debian's)")
    p.add_argument(
        "--audio-seconds",
        type=float,
        default=DEFAULT_AUDIO_SECONDS,
        help=f"audio budget in seconds of windows (default {DEFAULT_AUDIO_SECONDS:g}; 0: no audio)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the anchors (default 0)")
    p.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(handler=_traverse)


def parse_grid(text):
    """``'LOW,HIGH,STEPS'`` -> the value grid (ndarray of shape (STEPS,), float64).

    Raises
    ------
    InvalidParameterError
        Naming ``--grid`` unless LOW < HIGH are finite numbers and STEPS an integer >= 2.
    """
    from ..errors import InvalidParameterError
    from .traverse import value_grid

    try:
        low, high, steps = text.split(",")
        return value_grid(float(low), float(high), int(steps))
    except ValueError:  # InvalidParameterError included
        raise InvalidParameterError(
            f"--grid {text}: must be LOW,HIGH,STEPS with finite LOW < HIGH and an integer STEPS >= 2 (e.g. -3,3,13)"
        ) from None


def parse_neurons(text, z_size):
    """``'166,445'`` -> [166, 445]: distinct neuron indices of a latent of ``z_size`` neurons.

    Raises
    ------
    InvalidParameterError
        Naming ``--neurons`` for a value that is not a comma list of integers, an index outside
        ``0..z_size - 1`` or a repeated one; checked before any window is encoded.
    """
    from ..errors import InvalidParameterError

    try:
        neurons = [int(v) for v in text.split(",")]
    except ValueError:
        raise InvalidParameterError(
            f"--neurons {text}: must be a comma list of neuron indices (e.g. 166,445)"
        ) from None
    outside = [i for i in neurons if not 0 <= i < z_size]
    if outside:
        raise InvalidParameterError(
            f"--neurons {text}: neuron {outside[0]} is outside the model's latent of {z_size} neurons (0..{z_size - 1})"
        )
    if len(set(neurons)) != len(neurons):
        raise InvalidParameterError(f"--neurons {text}: a neuron is named twice")
    return neurons


def read_windows(source, bars, progress=True):
    """Windows to traverse from a melody table or from music files.

    Returns
    -------
    events : ndarray of shape (n, 16 * bars), dtype=int8
    qpm : ndarray of shape (n,), dtype=float64
        The table's ``tempo`` (120 where it has none).
    sources : DataFrame of n rows
        The table's columns other than ``events``.
    """
    from pathlib import Path

    import numpy as np

    from ..errors import InvalidParameterError
    from ..melody import read_melodies
    from ..tables import array_column, load_table

    path = Path(source)
    if path.suffix.lower() == ".parquet":
        try:
            table, _ = load_table(path)
        except (OSError, ValueError) as exc:
            raise InvalidParameterError(f"{path}: not a readable melody table ({exc}).") from exc
        if "events" not in table:
            raise InvalidParameterError(
                f"{path}: a melody table needs an 'events' column; found {list(table.columns)}."
            )
    else:
        table, _ = read_melodies(path, bars, progress=progress)
    events = array_column(table, "events").astype(np.int8)
    if events.ndim != 2 or events.shape[1] != 16 * bars:
        raise InvalidParameterError(
            f"{path}: windows of {events.shape[-1] if events.ndim == 2 else 0} steps; the "
            f"model needs {16 * bars} ({bars} bars)."
        )
    qpm = table["tempo"].to_numpy(dtype=np.float64) if "tempo" in table else np.full(len(events), 120.0)
    return events, np.where(np.isfinite(qpm) & (qpm > 0), qpm, 120.0), table.drop(columns="events")


def _traverse(args):
    from ..features import compute_features
    from ..model import resolve_model
    from ..preflight import check_device
    from .audio import find_soundfont
    from .stage import choose_neurons, music_neurons, run_traversals

    ref = resolve_model(args.model)
    neurons = parse_neurons(args.neurons, ref.config.z_size) if args.neurons else None
    grid = parse_grid(args.grid)
    check_device(args.device)
    if args.soundfont is not None:
        find_soundfont(args.soundfont)
    model = ref.load(args.device)
    events, qpm, sources = read_windows(args.melodies, model.config.bars, progress=not args.quiet)
    mu, sigma = model.encode(events)
    choice = choose_neurons(sigma, args.k, neurons=neurons, music=music_neurons(mu, sigma))
    results = run_traversals(
        model.decode,
        events,
        qpm,
        mu,
        compute_features(events, qpm),
        choice,
        args.out,
        grid=grid,
        n_anchors=args.anchors,
        attributes=not args.no_attributes,
        seed=args.seed,
        audio_seconds=args.audio_seconds,
        soundfont=args.soundfont,
        sources=sources,
        title=str(args.model),
        progress=not args.quiet,
    )
    print(
        f"{len(events)} windows encoded; swept the {choice.label}: {', '.join(map(str, choice.neurons))}"
        + (f" (control: neuron {choice.control})" if choice.control is not None else "")
    )
    for line in results.summaries["line"]:
        print(f"  {line}")
    audio = results.info["audio"]
    print(audio["off_reason"] or f"audio: {audio['clips']} clips for anchors {audio['anchors']}")
    print(f"explorer: {results.directory / 'explorer.html'}")
    return 0
