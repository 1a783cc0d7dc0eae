"""The traversal stage: choose neurons and anchors, traverse, measure, render audio, write an explorer.

One call, :func:`run_traversals`, turns a model's ``decode`` and the encoded real windows into a folder::

    traversals.parquet     one row per (direction, anchor, value) with the decoded events
    anchors.parquet        the anchors: their row, tempo, source, input events and the decoding of their mu
    decoded_features.parquet   the features of every decoded window (rows as traversals.parquet)
    curves.csv, monotonicity.csv, changes.csv, summaries.csv, attributes.csv
    intervention_matrix.csv, phik_matrix.csv   the traversed neurons x the analysis's features, same order
    intervention_matrices.png/.svg, intervention_curves.png/.svg
    midi/<direction>/a<anchor>_v<value>.mid    every decoded window
    audio/<clip>.ogg, audio.csv                the rendered windows (when FluidSynth and a SoundFont are there)
    explorer.html          the self-contained explorer page
    traversal.json         what was done (neurons and their label, grid, anchors, audio coverage)

:class:`TraversalResults` reads the folder back for the report.
"""

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InvalidParameterError
from .curves import (
    attribute_comparison,
    decoded_features,
    direction_changes,
    intervention_curves,
    intervention_matrix,
    monotonicity,
    neuron_summaries,
    plot_intervention_curves,
    plot_intervention_matrices,
    strongest_pairs,
)
from .defaults import DEFAULT_ANCHORS, DEFAULT_AUDIO_SECONDS, DEFAULT_K
from .traverse import attribute_directions, choose_anchors, neuron_directions, traverse, value_grid

__all__ = [
    "NeuronChoice",
    "music_neurons",
    "choose_neurons",
    "audio_plan",
    "run_traversals",
    "TraversalResults",
    "DEFAULT_K",
    "DEFAULT_ANCHORS",
    "DEFAULT_AUDIO_SECONDS",
    "MUSIC_LABEL",
    "NO_SPLIT_LABEL",
]

MUSIC_LABEL = "music neurons"
NO_SPLIT_LABEL = "first neurons by mean sigma (no music/noise split: not called music neurons)"
REQUESTED_LABEL = "requested neurons"
_STRIDES = (1, 2, 3, 4, 6, 12)


@dataclass(frozen=True)
class NeuronChoice:
    """Which neurons a traversal sweeps, what to call them, and a noise neuron as control.

    Attributes
    ----------
    neurons : list of int
        In the order by mean sigma (or as requested).
    label : str
        :data:`MUSIC_LABEL`, :data:`NO_SPLIT_LABEL` or ``'requested neurons'``.
    control : int or None
        The neuron of largest mean sigma (the most prior-like), swept as a reference for "no effect".
    """

    neurons: list
    label: str
    control: object = None


def music_neurons(mu, sigma):
    """Music neurons by the analysis's split rule, in the order by mean sigma, or None when there is no split.

    Parameters
    ----------
    mu, sigma : ndarray of shape (n, z)
        Encodings of the real windows.

    Returns
    -------
    ndarray of shape (k,), dtype=int64, or None
    """
    from ..analysis.neurons import split_neurons

    split = split_neurons(mu, sigma)
    return split.music_neurons if split.is_split else None


def choose_neurons(sigma, k=DEFAULT_K, neurons=None, music=None, control=True):
    """The first ``k`` music neurons, or the requested ones.

    Parameters
    ----------
    sigma : ndarray of shape (n, z)
        Posterior sigma of the real windows.
    k : int
    neurons : sequence of int, optional
        Sweep exactly these (labelled ``'requested neurons'``).
    music : sequence of int or None
        Music neurons found by the split, in the order by mean sigma (:func:`music_neurons`); None when the
        split found none: the first ``k`` by mean sigma are then taken and labelled so.
    control : bool
        Add the neuron of largest mean sigma as a control (unless it is already swept).

    Returns
    -------
    NeuronChoice
    """
    from ..analysis.neurons import order_by_sigma

    order = order_by_sigma(sigma)
    if neurons is not None:
        chosen, label = [int(i) for i in neurons], REQUESTED_LABEL
    elif music is None:
        chosen, label = order[:k].tolist(), NO_SPLIT_LABEL
    elif len(music) > 0:
        chosen, label = [int(i) for i in music[:k]], MUSIC_LABEL
    else:
        raise InvalidParameterError("The split found no music neuron; name the neurons to sweep (--neurons).")
    last = int(order[-1])
    return NeuronChoice(chosen, label, last if control and last not in chosen else None)


def audio_plan(traversal, n_steps, budget_seconds):
    """Which traversal rows get audio: the neuron sweeps of the first anchors, within a budget of seconds.

    The budget counts every row as if no two decoded windows were equal (identical windows are rendered
    once, so the real audio is often shorter). The full grid is preferred: as many anchors as fit, in
    order; when not even one anchor fits, every 2nd, 3rd, 4th, 6th or 12th grid value is kept (the ends
    always) until one does.

    Parameters
    ----------
    traversal : DataFrame
        From :func:`~musicneurons.interventions.traverse.traverse`.
    n_steps : int
        Steps of a window (T).
    budget_seconds : float
        0 renders nothing.

    Returns
    -------
    rows : ndarray of shape (len(traversal),), dtype=bool
    coverage : dict
        ``anchors`` (list of anchor ids), ``steps`` (grid indices), ``seconds`` (the budget's count).
    """
    from .audio import window_seconds

    neuron_rows = (traversal["kind"] == "neuron").to_numpy()
    n_dirs = traversal.loc[neuron_rows, "direction"].nunique()
    per_anchor = traversal[neuron_rows].groupby("anchor", sort=True)["qpm"].first()
    grid_size = traversal["step"].nunique()
    for stride in _STRIDES:
        steps = np.unique(np.r_[np.arange(0, grid_size, stride), grid_size - 1])
        cost = np.cumsum(n_dirs * steps.size * window_seconds(n_steps, per_anchor.to_numpy()))
        fits = per_anchor.index[cost <= budget_seconds].tolist()
        if fits:
            rows = neuron_rows & traversal["anchor"].isin(fits).to_numpy() & traversal["step"].isin(steps).to_numpy()
            return rows, {
                "anchors": [int(a) for a in fits],
                "steps": steps.tolist(),
                "seconds": round(float(cost[len(fits) - 1]), 1),
            }
    return np.zeros(len(traversal), bool), {"anchors": [], "steps": [], "seconds": 0.0}


def _midi_name(row):
    direction = str(row.direction).replace(":", "_").replace("/", "_")
    return f"{direction}/a{row.anchor:02d}_v{row.value:+.2f}.mid"


def _write_midi(out, traversal):
    """Every decoded window as a MIDI file at its anchor's tempo; returns the relative paths."""
    from ..melody.events import events_to_midi

    names = []
    for row in traversal.itertuples(index=False):
        name = _midi_name(row)
        path = out / "midi" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(events_to_midi(row.events, qpm=row.qpm))
        names.append(f"midi/{name}")
    return names


def _render_audio(out, traversal, rows, soundfont, progress):
    """Render the distinct windows of ``traversal[rows]`` once each -> audio.csv table (row -> clip file)."""
    from .audio import render_windows

    chosen = traversal[rows]
    keys = [
        hashlib.sha1(ev.tobytes() + np.float64(q).tobytes()).hexdigest()[:16]
        for ev, q in zip(chosen["events"], chosen["qpm"])
    ]
    first = pd.Series(range(len(keys)), index=keys)
    first = first[~first.index.duplicated()]
    unique = chosen.iloc[first.to_numpy()]
    clips = (
        render_windows(np.stack(unique["events"].to_numpy()), unique["qpm"].to_numpy(), soundfont, progress=progress)
        if len(unique)
        else []
    )
    (out / "audio").mkdir(exist_ok=True)
    for key, data in zip(first.index, clips):
        (out / "audio" / f"{key}.ogg").write_bytes(data)
    table = chosen[["direction", "anchor", "step"]].assign(clip=[f"audio/{k}.ogg" for k in keys])
    table.to_csv(out / "audio.csv", index=False)
    return table


def _scale(kept):
    """Standard deviation of each kept feature over the real windows (divides the curves' range)."""
    return kept.std(axis=0, ddof=0)


def run_traversals(
    decode,
    events,
    qpm,
    mu,
    features,
    choice,
    out_dir,
    catalogue=None,
    grid=None,
    n_anchors=DEFAULT_ANCHORS,
    attributes=True,
    seed=0,
    audio_seconds=DEFAULT_AUDIO_SECONDS,
    soundfont=None,
    sources=None,
    title="",
    figures=True,
    progress=False,
):
    """Traverse the chosen neurons (and attribute vectors) from seeded anchors and write the stage folder.

    Parameters
    ----------
    decode : callable
        ``decode(z (m, z) float32) -> events (m, T) int8`` (argmax decoding).
    events : ndarray of shape (n, T), dtype=int8
        The real windows.
    qpm : ndarray of shape (n,), float
        Their tempo.
    mu : ndarray of shape (n, z), float
        Their posterior means.
    features : DataFrame of shape (n, b)
        Their features; the kept set and its order follow
        :func:`~musicneurons.analysis.inputs.select_features` with ``catalogue``, as in the analysis.
    choice : NeuronChoice
    out_dir : str or Path
    catalogue : DataFrame, optional
        The feature catalogue (default :func:`musicneurons.features.catalogue`).
    grid : ndarray of shape (g,), optional
        Default :func:`~musicneurons.interventions.traverse.value_grid` (-3..3, 13 values).
    n_anchors : int
    attributes : bool or list of str
        Also sweep attribute vectors: True for those of the features the swept neurons correlate with
        most, a list for those features, False for none.
    seed : int
        Seed of the anchors.
    audio_seconds : float
        Budget of :func:`audio_plan`; 0 for no audio.
    soundfont : str or Path, optional
        As :func:`~musicneurons.interventions.audio.find_soundfont`.
    sources : DataFrame of n rows, optional
        Where each window comes from (``file``, ``tune``, ``first_bar``...), copied to the anchors.
    title : str
        Heading of the explorer page.
    figures : bool
        Draw the two figures (PNG + SVG; most of the stage's time on a small traversal).
    progress : bool

    Returns
    -------
    TraversalResults
    """
    from ..analysis.attributes import attribute_vectors
    from ..analysis.correlation import correlate
    from ..analysis.inputs import feature_categories, select_features
    from ..features import catalogue as feature_catalogue
    from ..report.figures import save_figure
    from .audio import audio_status
    from .explorer import write_explorer

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    catalogue = feature_catalogue() if catalogue is None else catalogue
    grid = value_grid() if grid is None else np.asarray(grid, dtype=np.float64)
    events, mu = np.asarray(events, dtype=np.int8), np.asarray(mu, dtype=np.float64)
    qpm = np.asarray(qpm, dtype=np.float64)
    kept, _ = select_features(features.reset_index(drop=True), catalogue)
    feature_ids = list(kept.columns)
    categories = dict(zip(feature_ids, feature_categories(feature_ids, catalogue)))
    swept = choice.neurons + ([choice.control] if choice.control is not None else [])
    corr = correlate(mu[:, swept], kept, neurons=swept, noise_pairs=0)
    correlations = corr.table()
    anchors = choose_anchors(len(events), n_anchors, seed)

    wanted = (
        [f for f in attributes]
        if isinstance(attributes, (list, tuple))
        else list(
            dict.fromkeys(
                correlations[correlations["neuron"].isin(choice.neurons)]
                .dropna(subset=["phik"])
                .drop_duplicates("neuron")["feature_id"]
            )
        )
        if attributes
        else []
    )
    unknown = sorted(set(wanted) - set(feature_ids))
    if unknown:
        raise InvalidParameterError(f"attribute vectors: features {unknown} are not among the analysed features.")
    vectors = attribute_vectors(mu, kept[wanted]) if wanted else np.zeros((0, mu.shape[1]))
    directions = neuron_directions(swept, mu.shape[1]) + attribute_directions(dict(zip(wanted, vectors)))

    traversal = traverse(
        decode, mu[anchors], directions, grid, anchor_rows=anchors, qpm=qpm[anchors], progress=progress
    )
    anchor_table = _anchor_table(anchors, qpm, events, decode(mu[anchors].astype(np.float32)), sources)
    decoded = decoded_features(traversal, feature_ids)
    mono = monotonicity(traversal, decoded, scale=_scale(kept))
    curves = intervention_curves(traversal, decoded)
    changes = direction_changes(traversal)
    labels = [f"n{i}" for i in swept]
    matrix = intervention_matrix(mono, labels, feature_ids)
    phik = corr.phik.reindex(index=swept, columns=feature_ids)
    phik.index = labels
    summaries = neuron_summaries(mono, changes, correlations, categories, swept)
    attributes_table = attribute_comparison(mono, wanted, labels[: len(choice.neurons)])

    from ..tables import save_table

    save_table(
        out / "traversals.parquet",
        traversal.drop(columns="events"),
        {"events": np.stack(traversal["events"].to_numpy())},
        {"stage": "traversals", "grid": grid.tolist()},
    )
    save_table(
        out / "anchors.parquet",
        anchor_table.drop(columns=["events", "decoded"]),
        {
            "events": np.stack(anchor_table["events"].to_numpy()),
            "decoded": np.stack(anchor_table["decoded"].to_numpy()),
        },
        {"stage": "traversal anchors"},
    )
    save_table(out / "decoded_features.parquet", decoded, metadata={"stage": "decoded features"})
    for name, table in (
        ("curves", curves),
        ("monotonicity", mono),
        ("changes", changes),
        ("summaries", summaries),
        ("attributes", attributes_table),
    ):
        table.to_csv(out / f"{name}.csv", index=False)
    matrix.to_csv(out / "intervention_matrix.csv")
    phik.rename_axis(index="direction").to_csv(out / "phik_matrix.csv")
    _write_midi(out, traversal)

    names = dict(zip(catalogue["id"], catalogue["name"]))
    if figures:
        save_figure(
            plot_intervention_matrices(
                matrix,
                phik,
                f"{title}: correlation against intervention" if title else "Correlation against intervention",
            )[0],
            out / "intervention_matrices",
        )
        pairs = strongest_pairs(mono, labels[: len(choice.neurons)])
        save_figure(plot_intervention_curves(curves, pairs, names=names)[0], out / "intervention_curves")

    font, why = audio_status(soundfont) if audio_seconds > 0 else (None, "Audio was not asked for (--audio-seconds 0).")
    rows, coverage = audio_plan(traversal, events.shape[1], audio_seconds if font else 0)
    audio = _render_audio(out, traversal, rows, font, progress) if font and rows.any() else None
    info = {
        "label": choice.label,
        "neurons": choice.neurons,
        "control": choice.control,
        "grid": grid.tolist(),
        "anchors": anchors.tolist(),
        "seed": seed,
        "attributes": wanted,
        "steps": int(events.shape[1]),
        "audio": {
            "soundfont": str(font) if font else None,
            "off_reason": why if not font else "",
            "clips": int(audio["clip"].nunique()) if audio is not None else 0,
            **coverage,
        },
        "title": title,
    }
    (out / "traversal.json").write_text(json.dumps(info, indent=2))
    results = TraversalResults.load(out)
    write_explorer(out / "explorer.html", results, names)
    return results


def _anchor_table(anchors, qpm, events, decoded, sources):
    """The anchors: id, row, tempo, source columns, input events and the decoding of their mu."""
    table = pd.DataFrame({"anchor": np.arange(len(anchors)), "row": anchors, "qpm": qpm[anchors]})
    if sources is not None:
        keep = [c for c in ("file", "tune", "track", "first_bar") if c in sources]
        table = pd.concat([table, sources.iloc[anchors][keep].reset_index(drop=True)], axis=1)
    table["events"] = list(events[anchors])
    table["decoded"] = list(np.asarray(decoded, dtype=np.int8))
    return table


@dataclass
class TraversalResults:
    """A traversal stage folder read back (see the module docstring for the files).

    Attributes
    ----------
    directory : Path
    info : dict
        ``traversal.json``: ``label``, ``neurons``, ``control``, ``grid``, ``anchors``, ``audio`` (coverage,
        or why it is off).
    traversal : DataFrame
        With ``events`` arrays.
    anchors : DataFrame
        With ``events`` and ``decoded`` arrays.
    decoded : DataFrame
        Features of the decoded windows, rows as ``traversal``.
    monotonicity, curves, changes, summaries : DataFrame
    attributes : DataFrame
        :func:`~musicneurons.interventions.curves.attribute_comparison` of the swept attribute vectors.
    matrix, phik : DataFrame
        Traversed neurons (``n<i>``) x features, in the analysis's order.
    audio : DataFrame or None
        ``direction``, ``anchor``, ``step``, ``clip`` (path relative to ``directory``).
    figures : dict of str to Path
    """

    directory: Path
    info: dict
    traversal: pd.DataFrame
    anchors: pd.DataFrame
    decoded: pd.DataFrame
    monotonicity: pd.DataFrame
    curves: pd.DataFrame
    changes: pd.DataFrame
    summaries: pd.DataFrame
    attributes: pd.DataFrame
    matrix: pd.DataFrame
    phik: pd.DataFrame
    audio: object = None
    figures: dict = field(default_factory=dict)

    @classmethod
    def load(cls, directory):
        """Read a folder written by :func:`run_traversals`."""
        from ..tables import array_column, load_table

        d = Path(directory)
        traversal, _ = load_table(d / "traversals.parquet")
        anchors, _ = load_table(d / "anchors.parquet")
        for table, cols in ((traversal, ["events"]), (anchors, ["events", "decoded"])):
            for col in cols:
                table[col] = list(array_column(table, col).astype(np.int8))
        audio_path = d / "audio.csv"
        return cls(
            directory=d,
            info=json.loads((d / "traversal.json").read_text()),
            traversal=traversal,
            anchors=anchors,
            decoded=load_table(d / "decoded_features.parquet")[0],
            monotonicity=pd.read_csv(d / "monotonicity.csv"),
            curves=pd.read_csv(d / "curves.csv"),
            changes=pd.read_csv(d / "changes.csv"),
            attributes=pd.read_csv(d / "attributes.csv"),
            summaries=pd.read_csv(d / "summaries.csv"),
            matrix=pd.read_csv(d / "intervention_matrix.csv", index_col=0),
            phik=pd.read_csv(d / "phik_matrix.csv", index_col=0),
            audio=pd.read_csv(audio_path) if audio_path.is_file() else None,
            figures={p.stem: p for p in sorted(d.glob("intervention_*.png"))},
        )

    def clip(self, direction, anchor, step):
        """Path of the audio clip of one cell, or None."""
        if self.audio is None:
            return None
        hit = self.audio[
            (self.audio["direction"] == direction) & (self.audio["anchor"] == anchor) & (self.audio["step"] == step)
        ]
        return self.directory / hit["clip"].iloc[0] if len(hit) else None
