"""The study of ../shared/paper.md as stages over a run directory (see :mod:`musicneurons.rundir`).

For each window length (2 and 16 bars) the run directory ``OUT/bars{2,16}/`` receives, in order:

===========================  ========================================  ==================================
output                       content                                   key made from
===========================  ========================================  ==================================
``melodies.parquet``         real windows (:class:`Windows`), at most  the data folder's files (path,
                             5 a tune or file; ``melodies.errors``     size, mtime) or the corpus slice,
                             lists the items that gave none            ``n``, ``seed``, the version
``random.parquet``           as many random note sequences (§5.1)      real windows' key, ``seed``
``latents_{real,random}``    mu and sigma (:class:`Latents`)           windows' key, the model's files
``features_{real,random}``   jSymbolic features (:class:`Features`)    windows' key, the version
``analysis/``                the paper's tables (CSV), figures and     latents' and features' keys
                             ``summary.json``
``example/``                 Figs 2-3: "Twinkle, twinkle, little       the model's files, ``seed``
                             star" in latent space
===========================  ========================================  ==================================

then ``OUT/summary.json`` and the self-contained ``OUT/index.html``. Each output has a completion
marker ``NAME.done.json`` (key, rows, checksums); a rerun reuses exactly the outputs whose key is
current and whose files verify, recomputes the rest (a one-line notice for a damaged one), and
encoding resumes chunk by chunk. ``OUT/.lock`` keeps a second run out while one is running.

Each stage is a chunk function (:func:`~musicneurons.encoding.encode_chunk`,
:func:`~musicneurons.features.commands.features_of`, :func:`~musicneurons.analysis.analyse_study`...)
plus a run-directory entry. A stage of another module is named in :data:`EXTRA_STAGES` as
``"module:function"``; after the core stages it is called as ``function(study, result)`` with the
:class:`BarsStudy` (``study.entry(name, key)`` for its outputs, ``study.model``, ``study.ref.key()``)
and the :class:`BarsResult` (arrays, ``keys`` of the upstream stages); it adds what it found to
``result.summary``, ``result.figures`` and ``result.extra[name]``.
"""

from __future__ import annotations

import importlib
import platform
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import __version__
from .contracts import KEY_NUMBERS, Features, Latents, Windows, key_numbers
from .encoding import ENCODE_CHUNK, ModelLoader, encode_windows, latents_key
from .errors import InvalidParameterError, OutputError, StageError, check_positive_int
from .execute import Executor, LocalExecutor, make_executor, rows_without
from .rundir import RunDirectory, content_key, file_key, folder_key, notice, read_json, write_json
from .tables import save_table

__all__ = ["run_study", "StudyRun", "BarsResult", "BarsStudy", "EXTRA_STAGES"]

EXAMPLE_TITLE = '"Twinkle, twinkle, little star"'
# Stages added by other modules, run in order after the core stages: "package.module:function".
EXTRA_STAGES: list[str] = [
    "musicneurons.melody.failures:study_stage",
    "musicneurons.interventions.study_stage:study_traversals",
]
DATA_HASHES = "data_hashes.json"  # each --data file's SHA-256 with the stat it was computed at (folder_key)
RUN_FILES = ("summary.json", "timings.json", "index.html", ".lock", "errors.parquet", DATA_HASHES)
TABLES = {"real": "melodies.parquet", "random": "random.parquet"}  # the windows each latents/features stage reads


@dataclass
class BarsResult:
    """What the study found for one window length.

    Attributes
    ----------
    bars : int
    model : str
        The model's name or path as given.
    directory : Path
        ``OUT/bars{bars}``.
    summary : dict
        The analysis summary (names as in :data:`~musicneurons.contracts.KEY_NUMBERS`), plus
        ``example`` and ``strongest_features``.
    figures : dict of str to Path
        PNG of each figure by name.
    analysis : StudyResults
        Every table of the analysis.
    windows : Windows
        The real windows.
    errors : DataFrame
        The items of the data that gave no window, with the reason.
    model_card : str
        The model card (or configuration) of the model.
    latents, random_latents : Latents
        Encodings of the real and random windows.
    random_windows : Windows
    features, random_features : Features
    keys : dict of str to str
        Content key of each stage's output (``melodies``, ``random``, ``latents_real``, ...), for the
        keys of stages that depend on them.
    extra : dict
        What the :data:`EXTRA_STAGES` add, by stage name.
    """

    bars: int
    model: str
    directory: Path
    summary: dict
    figures: dict = field(default_factory=dict)
    analysis: Any = None
    windows: Windows | None = None
    errors: pd.DataFrame | None = None
    model_card: str = ""
    latents: Latents | None = None
    random_latents: Latents | None = None
    random_windows: Windows | None = None
    features: Features | None = None
    random_features: Features | None = None
    keys: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    @property
    def tables(self) -> list[str]:
        """The names of the analysis tables, for :meth:`table`."""
        return list(self.analysis.tables())

    def table(self, name: str) -> pd.DataFrame:
        """An analysis table by name (e.g. ``'correlations'``, ``'neurons'``) as a DataFrame.

        Raises
        ------
        KeyError
            Listing the table names, for a name that is none of them.
        """
        tables = self.analysis.tables()
        if name not in tables:
            raise KeyError(f"no analysis table {name!r}; the tables are {', '.join(tables)}")
        return tables[name]

    def _split(self) -> str:
        music = self.summary.get("music_neurons")
        return f"{music} music neurons" if self.summary.get("split_found") else "no music/noise split"

    def __repr__(self) -> str:
        return (
            f"<BarsResult {self.bars} bars, model {self.model!r}: {self.summary.get('windows_real', 0):,} real "
            f"windows, {self._split()}; .table(name) for {len(self.tables)} tables; {self.directory}>"
        )

    def _repr_html_(self) -> str:
        """The key numbers and the paper's claims with our verdicts, as HTML tables (Jupyter shows them)."""
        claims = (self.summary.get("claims") or {}).get("claims", [])
        return (
            f"<h4>{self.bars} bars, model {_escape(self.model)}: {_escape(self._split())}</h4>"
            + _html_table(("number", "value"), key_numbers(self.summary))
            + _html_table(
                ("claim", "paper", "ours", "verdict"),
                [(f"{c['claim']}. {c['title']}", c["paper"], c["ours"], c["verdict"]) for c in claims],
            )
        )

    def load(self, stage: str) -> tuple[pd.DataFrame, dict]:
        """A stage table (``'melodies'``, ``'latents_real'``, ``'features_random'``...) -> (df, metadata)."""
        from .tables import load_table

        return load_table(self.directory / f"{stage}.parquet")


@dataclass
class StudyRun:
    """The result of :func:`run_study`: one :class:`BarsResult` per window length, and the report."""

    directory: Path
    results: dict
    summary: dict
    report: Path

    def __repr__(self) -> str:
        lengths = "; ".join(f"{bars} bars: {result._split()}" for bars, result in self.results.items())
        return f"<StudyRun {lengths}; report {self.report}>"

    def _repr_html_(self) -> str:
        """Each length's key numbers and claims (:meth:`BarsResult._repr_html_`) under the report's path."""
        return f"<p>Report: <code>{_escape(self.report)}</code></p>" + "".join(
            result._repr_html_() for result in self.results.values()
        )


def _escape(value: Any) -> str:
    import html

    return html.escape(str(value))


def _html_table(header: tuple[str, ...], rows: list) -> str:
    """A small HTML table, every cell escaped (names come from the user's files)."""
    head = "".join(f"<th>{_escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_escape(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


@dataclass
class Settings:
    """The study's inputs besides the model: data, sizes, seed, device, progress bars."""

    data: str | Path | None
    n: int | None
    max_tunes: int | None
    seed: int
    device: str
    progress: bool
    traversals: bool = False  # the traversal stage (musicneurons.interventions)
    soundfont: str | Path | None = None
    traversal_audio_seconds: float | None = None  # None: the stage's default
    binning: str = "quantile"  # phik's bins (musicneurons.analysis.correlation)
    executor: Executor = field(default_factory=LocalExecutor)  # where the chunks of every stage run

    @property
    def client_device(self) -> str:
        """Device of the model this process uses itself (example, traversals): a cluster's workers encode."""
        return self.device if isinstance(self.executor, LocalExecutor) else "cpu"


class BarsStudy:
    """The stages of one window length, sharing the run directory, the model and a timing log.

    Parameters
    ----------
    run : RunDirectory
    bars : {2, 16}
    model : ModelRef
    settings : Settings
    timings : dict of str to float
        Seconds of each stage when it last ran (updated in place).
    """

    def __init__(self, run: RunDirectory, bars: int, model, settings: Settings, timings: dict) -> None:
        self.run_dir, self.bars, self.ref, self.settings, self.timings = run, bars, model, settings, timings
        self.dir = run.root / f"bars{bars}"
        self._model = None
        self.failed: dict[str, list[dict]] = {}  # chunks of each chunked stage that failed on every try

    @property
    def model(self):
        """The MusicVAE, loaded on first use."""
        if self._model is None:
            self._model = ModelLoader(self.ref, self.settings.client_device)()
        return self._model

    def _windows_source(self, name: str, windows: Windows, executor: Executor):
        """What a chunk reads its windows from: the table by path, or the windows when it runs here."""
        return windows if executor.inline() else self.dir / TABLES[name]

    def entry(self, name: str, key: str):
        """The run-directory entry of output ``name`` (e.g. ``'latents_real.parquet'``) of this length."""
        return self.run_dir.entry(f"bars{self.bars}/{name}", key)

    def _timed(self, name: str, fn):
        start = time.perf_counter()
        out = fn()
        self.timings[f"bars{self.bars}/{name}"] = round(time.perf_counter() - start, 3)
        return out

    def _data_key(self) -> Any:
        data = self.settings.data
        if data is None:
            import music21

            index = Path(__file__).parent / "data"
            return [
                "corpus",
                self.settings.max_tunes,
                music21.__version__,
                [file_key(p) for p in sorted(index.glob("*.json"))],
            ]
        from .melody.sources import MIDI_SUFFIXES, SCORE_SUFFIXES

        hashes = self.run_dir.root / DATA_HASHES
        return ["files", str(Path(data).resolve()), folder_key(data, MIDI_SUFFIXES + SCORE_SUFFIXES, hashes=hashes)]

    def melodies(self) -> tuple[Windows, pd.DataFrame, str]:
        """Real windows -> (windows, errors table, key)."""
        s = self.settings
        key = content_key("melodies", self.bars, self._data_key(), s.n, s.seed, __version__)
        table, errors = self.entry("melodies.parquet", key), self.entry("melodies.errors.parquet", key)
        if not all([table.verified(), errors.verified()]):  # both checked: a notice for each damaged one

            def make():
                windows, errs = real_windows(self.bars, s.data, s.n, s.max_tunes, s.seed, s.progress, s.executor)
                meta = {"key": key, "stage": "melodies", "bars": self.bars}
                windows.save(table.path, meta)
                save_table(errors.path, errs, metadata=meta)
                table.complete(len(windows))
                errors.complete(len(errs))

            self._timed("melodies", make)
        return Windows.load(table.path), pd.read_parquet(errors.path), key

    def random(self, n_real: int, real_key: str) -> tuple[Windows, str]:
        """Random windows, as many as the real ones -> (windows, key)."""
        from .melody import random_melodies

        key = content_key("random", self.bars, n_real, self.settings.seed, real_key)
        entry = self.entry("random.parquet", key)
        self._timed_ensure(
            "random",
            entry,
            lambda path: Windows.from_frame(random_melodies(n_real, self.bars, self.settings.seed)).save(
                path, {"key": key, "stage": "random"}
            ),
            n_real,
        )
        return Windows.load(entry.path), key

    def _timed_ensure(self, name, entry, write, rows):
        """Make ``entry`` unless it verifies: ``write(path)``, timed as ``name``, then its marker with ``rows``."""

        def make(path):
            self._timed(name, lambda: write(path))
            return rows

        entry.ensure(make)

    def latents(self, name: str, windows: Windows, upstream: str) -> tuple[Latents, str]:
        """mu, sigma (n, z) float32 of the windows, encoded in chunks that survive an interruption."""
        key = latents_key(upstream, self.ref)
        entry = self.entry(f"latents_{name}.parquet", key)
        if not entry.verified():
            executor = self.settings.executor.vectorised()
            source = self._windows_source(name, windows, executor)
            self._timed(
                f"latents_{name}",
                lambda: encode_windows(
                    entry,
                    source.events if isinstance(source, Windows) else source,
                    ModelLoader(self.ref, self.settings.device),
                    self.ref.config.z_size,
                    self.settings.device,
                    ENCODE_CHUNK,
                    self.settings.progress,
                    f"encoding {name} ({self.bars} bars)",
                    {"model": self.ref.spec},
                    executor,
                ),
            )
        self.failed[f"latents_{name}"] = entry.failed()
        return Latents.load(entry.path), entry.result_key()

    def features(self, name: str, windows: Windows, upstream: str) -> tuple[Features, str]:
        """jSymbolic features of ``windows``, computed in chunks."""
        from .features.commands import FEATURE_CHUNK, feature_table

        key = content_key("features", upstream, __version__)
        entry = self.entry(f"features_{name}.parquet", key)
        if not entry.verified():
            executor = self.settings.executor.vectorised()
            source = self._windows_source(name, windows, executor)
            self._timed(f"features_{name}", lambda: feature_table(entry, source, executor, FEATURE_CHUNK))
        self.failed[f"features_{name}"] = entry.failed()
        return Features.load(entry.path), entry.result_key()

    def analysis(self, real: tuple, random: tuple, events: np.ndarray, upstream: tuple):
        """Every analysis of the paper, with the noise test's decoder ablation on the real ``events`` (n, T) int8
        -> StudyResults (computed, or read back when the folder verifies)."""
        from .analysis import analyse_study, model_caveats, noise_ablation, split_neurons
        from .analysis.ablation import ABLATION_TOKENS, DECODER_TOKENS, decoded_windows, decoder_curve
        from .encoding import free_threads
        from .analysis.study import StudyResults
        from .features import catalogue

        caveats = model_caveats(self.ref.card, self._held_out_metrics())
        key = content_key(
            "analysis", upstream, __version__, caveats, ABLATION_TOKENS, DECODER_TOKENS, self.settings.binning
        )
        entry = self.entry("analysis", key)
        if entry.verified():
            return StudyResults.load(entry.path)
        entry.clear()
        (mu, sigma, feats), (rmu, rsigma, rfeats) = real, random

        def make():
            seed = self.settings.seed
            split = split_neurons(mu, sigma, random_state=seed)
            decoded, proof = decoded_windows(len(events), events.shape[1], random_state=seed)
            orders = {"mean sigma": split.order, "activity": np.argsort(-split.profile.activity, kind="stable")}
            with free_threads(self.settings.client_device):
                ablation = noise_ablation(self.model.decode, mu[decoded], events[decoded], split)
                curve = self._timed(
                    "decoder", lambda: decoder_curve(self.model.decode, mu[proof], events[proof], orders)
                )
            return analyse_study(
                mu,
                sigma,
                feats.values,
                rmu,
                rsigma,
                rfeats.values,
                catalogue(),
                out_dir=entry.path,
                label=f"{self.bars}-bar",
                random_state=self.settings.seed,
                binning=self.settings.binning,
                ablation=ablation,
                caveats=caveats,
                split=split,
                decoder=curve,
            )

        results = self._timed("analysis", make)
        entry.complete(len(results.neurons))
        return results

    def _held_out_metrics(self) -> dict | None:
        """The model folder's ``metrics.json`` (held-out figures written by training), when it has one."""
        path = Path(self.ref.path) / "metrics.json"
        return read_json(path) if self.ref.kind != "magenta" and path.is_file() else None

    def example(self) -> tuple[dict, dict]:
        """Figs 2-3 for the example melody -> (its summary dict, {figure name: png path})."""
        entry = self.entry("example", content_key("example", self.ref.key(), self.settings.seed, "split"))
        if not entry.verified():
            entry.clear()
            self._timed("example", lambda: write_example(self.model, self.bars, self.settings.seed, entry.path))
            entry.complete(1)
        info = read_json(entry.path / "example.json")
        return info, {p.stem: p for p in sorted(entry.path.glob("*.png"))}

    def run(self) -> BarsResult:
        """All stages in order -> BarsResult, with a progress bar over the stages."""
        from .progress import progress_bar, stage_line

        progress = self.settings.progress
        bar = progress_bar(progress=progress, total=8, desc=f"{self.bars}-bar study", unit="stage")

        def step(name, fn, *args):
            bar.set_postfix_str(name)
            start = time.perf_counter()
            out = fn(*args)
            bar.update()
            stage_line(f"{self.bars}-bar study: {name} done ({time.perf_counter() - start:.1f} s)", progress=progress)
            return out

        windows, errors, real_key = step("melodies", self.melodies)
        random_windows, random_key = step("random", self.random, len(windows), real_key)
        lat, lat_key = step("latents real", self.latents, "real", windows, real_key)
        rlat, rlat_key = step("latents random", self.latents, "random", random_windows, random_key)
        feats, feat_key = step("features real", self.features, "real", windows, real_key)
        rfeats, rfeat_key = step("features random", self.features, "random", random_windows, random_key)
        windows, lat, feats = self._without_failed("real", windows, lat, feats)
        random_windows, rlat, rfeats = self._without_failed("random", random_windows, rlat, rfeats)
        results = step(
            "analysis",
            self.analysis,
            (lat.mu, lat.sigma, feats),
            (rlat.mu, rlat.sigma, rfeats),
            windows.events,
            (lat_key, rlat_key, feat_key, rfeat_key),
        )
        example, example_figures = step("example", self.example)
        bar.close()
        summary = {
            **results.summary,
            "example": example,
            "strongest_features": strongest_features(results.correlations, results.neurons),
        }
        if any(self.failed.values()):
            summary["failed_chunks"] = self.failed_chunks()
        figures = {**example_figures, **{name: paths[0] for name, paths in results.figures.items()}}
        keys = {
            "melodies": real_key,
            "random": random_key,
            "latents_real": lat_key,
            "latents_random": rlat_key,
            "features_real": feat_key,
            "features_random": rfeat_key,
        }
        result = BarsResult(
            self.bars,
            self.ref.spec,
            self.dir,
            summary,
            figures,
            results,
            windows,
            errors,
            self.ref.description(),
            lat,
            rlat,
            random_windows,
            feats,
            rfeats,
            keys,
        )
        for spec in EXTRA_STAGES:
            module, name = spec.split(":")
            getattr(importlib.import_module(module), name)(self, result)
        return result

    def _without_failed(self, name: str, windows: Windows, latents: Latents, features: Features) -> tuple:
        """The windows, latents and features without the rows of chunks that failed (those the analysis uses)."""
        failed = self.failed[f"latents_{name}"] + self.failed[f"features_{name}"]
        rows = rows_without(len(windows), failed)
        if rows is None:
            return windows, latents, features
        if not len(rows):
            raise StageError(f"bars{self.bars}: every chunk of the {name} windows failed ({failed[0]['reason']})")
        notice(
            f"bars{self.bars}: {len(windows) - len(rows)} of {len(windows)} {name} windows are left out of the "
            f"analysis: {len(failed)} chunks failed on every try (OUT/errors.parquet); a rerun retries them"
        )
        return (
            windows.take(rows),
            Latents(latents.mu[rows], latents.sigma[rows]),
            Features(features.values.iloc[rows], features.nan_reasons[rows]),
        )

    def failed_chunks(self) -> list[dict]:
        """Every chunk of this length's stages that failed on every try: ``stage``, ``chunk``, rows, ``reason``."""
        return [{"stage": f"bars{self.bars}/{stage}", **f} for stage, failed in self.failed.items() for f in failed]


def real_windows(
    bars: int, data, n: int | None, max_tunes: int | None, seed: int, progress: bool, executor: Executor | None = None
) -> tuple[Windows, pd.DataFrame]:
    """The study's real windows: the corpus (or ``data``), at most 5 a tune, then a seeded subset of ``n``.

    Returns
    -------
    windows : Windows
    errors : DataFrame
        One row per item that gave no window, with the reason.
    """
    from .melody import corpus_melodies, read_melodies

    if data is None:
        frame, errors = corpus_melodies(
            bars, max_tunes=max_tunes, progress=progress, with_errors=True, executor=executor
        )
    else:
        frame, errors = read_melodies(data, bars, progress=progress, executor=executor)
    windows = Windows.from_frame(frame)
    if n is not None and n < len(windows):
        windows = windows.take(np.sort(np.random.default_rng(seed).choice(len(windows), n, replace=False)))
    return windows, errors


def write_example(model, bars: int, seed: int, folder: Path) -> dict:
    """Figs 2-3 of the example melody and its ``example.json`` under ``folder``; returns the JSON's content."""
    from .analysis.example import encode_example, plot_example_latents, plot_example_rolls
    from .report.figures import save_figure

    ex = encode_example(model, bars=bars, seed=seed)
    save_figure(
        plot_example_rolls(ex, f"{EXAMPLE_TITLE}: melody, decoded mu, decoded sample ({bars}-bar)")[0],
        folder / "fig2_example_rolls",
    )
    save_figure(
        plot_example_latents(ex, title=f"{EXAMPLE_TITLE} in latent space ({bars}-bar)")[0],
        folder / "fig3_example_latents",
    )
    info = {
        "title": EXAMPLE_TITLE,
        "reconstructs": ex.reconstructs,
        "step_accuracy": round(ex.step_accuracy, 4),
        "neurons_sigma_below_1": int((ex.sigma < 1).sum()),
        "sigma": [round(float(v), 6) for v in np.ravel(ex.sigma)],
    }
    write_json(folder / "example.json", info)
    return info


def strongest_features(correlations: pd.DataFrame, neurons: pd.DataFrame, n_neurons: int = 5) -> list[dict]:
    """The strongest feature (highest phik) of each of the first ``n_neurons`` music neurons, with their rank
    (from 0, in the order by mean sigma)."""
    group = neurons[neurons["music"].astype(bool)].head(n_neurons) if "music" in neurons else neurons.head(0)
    out = []
    for neuron, rank in zip(group["neuron"], group["rank"]):
        rows = correlations[correlations["neuron"] == neuron].sort_values("phik", ascending=False)
        if len(rows):
            best = rows.iloc[0]
            out.append(
                {
                    "rank": int(rank),
                    "neuron": int(neuron),
                    "feature_id": best["feature_id"],
                    "phik": round(float(best["phik"]), 4),
                    "category": best.get("category", ""),
                }
            )
    return out


def check_run_directory(root: Path) -> None:
    """Refuse an ``--out`` folder that holds other things than a run directory (e.g. ``--out /tmp``)."""
    if not root.is_dir():
        return
    names = {p.name for p in root.iterdir()}
    if names and not (names & set(RUN_FILES) or any(n.startswith("bars") for n in names)):
        shown = ", ".join(sorted(names)[:3]) + (" ..." if len(names) > 3 else "")
        raise OutputError(
            f"--out {root}: holds other files ({shown}), not a musicneurons run directory; give a new or empty folder"
        )


def run_study(
    out: str | Path = "musicneurons-study",
    model=None,
    data: str | Path | None = None,
    bars=(2, 16),
    n: int | None = None,
    max_tunes: int | None = None,
    seed: int = 0,
    device: str = "cpu",
    progress: bool = True,
    traversals: bool = False,
    binning: str = "quantile",
    soundfont: str | Path | None = None,
    traversal_audio_seconds: float | None = None,
    cluster: str | Executor | None = None,
    workers: int | None = None,
) -> StudyRun:
    """Run the whole study and write its run directory and report.

    Parameters
    ----------
    out : str or Path
        Run directory; reused on a rerun (finished stages are skipped). Must be new, empty or a run
        directory; one run at a time uses it.
    model : str or Path, list of them, or dict of int to str, optional
        A shipped model name, a saved model directory or a Magenta checkpoint; its window length picks
        the bars. Several models: each runs at its own length, those not in ``bars`` left out. A dict
        maps bars to models. Default: the shipped 2- and 16-bar models.
    data : str or Path, optional
        A folder (or file) of MIDI, MusicXML, ABC or kern files; default the embedded folk corpus.
    bars : sequence of {2, 16}
        Window lengths to study (ignored for a single ``model``, whose own length is used).
    n : int, optional
        At most this many real windows per length (a seeded random subset); as many random ones.
    max_tunes : int, optional
        Embedded corpus only: an evenly spread slice of its tunes.
    seed : int
    device : str
        Torch device for encoding, e.g. ``'cpu'`` or ``'cuda'``.
    progress : bool
        Progress bars on stderr.
    traversals : bool
        Sweep the first music neurons, decode, measure and render audio (:mod:`musicneurons.interventions`);
        off by default until its cost is measured within a fifth of the study's (BENCHMARKS.md).
    soundfont : str or Path, optional
        General MIDI SoundFont for the traversals' audio (default: Debian's, when installed).
    traversal_audio_seconds : float, optional
        Audio budget of the traversals per length (0: no audio).
    binning : {"quantile", "uniform"}
        phik's bins: quantile bins, or phik's own default equal-width bins (recorded in the summary).
    cluster : {None, 'local'}, str or Executor
        Where the chunks of extraction, encoding and features run (:mod:`musicneurons.execute`): None,
        the local process pool (extraction; encoding and features in this process); ``'local'``, a Dask
        LocalCluster of ``workers``; a scheduler's address (``'tcp://host:8786'``), its cluster, whose
        workers must see ``out``, ``data`` and the cache folder under the same paths; or an Executor.
        ``device`` is then the workers' device, checked on them. Needs ``musicneurons[cluster]``.
    workers : int, optional
        Processes of the local pool, or of the LocalCluster (default: the CPU count, at most 4).

    Returns
    -------
    StudyRun

    Raises
    ------
    InvalidParameterError, DeviceError, OutputError, RunLockedError, ModelFileError
        Before any long work: a bad setting, a missing device, an unusable ``out`` or cache, another run
        in ``out``, a model that cannot be found.
    """
    from .analysis.claims import finish_claims
    from .model import models_by_bars
    from .preflight import check_cache, check_device
    from .report.html import write_report

    check_positive_int("n", n, "run_study")
    check_positive_int("max_tunes", max_tunes, "run_study")
    if binning not in ("quantile", "uniform"):
        raise InvalidParameterError(f"run_study: binning must be 'quantile' or 'uniform'; got {binning!r}")
    check_positive_int("workers", workers, "run_study")
    if data is not None and not Path(data).exists():
        raise InvalidParameterError(f"--data {data}: no such file or folder")
    if soundfont is not None and not Path(soundfont).is_file():
        raise InvalidParameterError(f"--soundfont {soundfont}: no such SoundFont file")
    if cluster is None:
        check_device(device)
    models = models_by_bars(model, bars)
    check_cache()
    check_run_directory(Path(out))
    run = RunDirectory(out)
    with run.lock(), _opened(make_executor(cluster, workers), cluster) as executor:
        if cluster is not None:
            executor.run_on_workers(check_device, device)  # the workers encode: their device counts
        timings_path = run.root / "timings.json"
        # Seconds each stage took when it last ran; a rerun that skips a stage keeps its earlier time.
        timings = read_json(timings_path) or {}
        started = time.perf_counter()
        settings = Settings(
            data,
            n,
            max_tunes,
            seed,
            device,
            progress,
            traversals,
            soundfont,
            traversal_audio_seconds,
            binning,
            executor,
        )
        results = {b: BarsStudy(run, b, ref, settings, timings).run() for b, ref in models.items()}
        finish_claims(
            {b: res.summary for b, res in results.items()}, {b: res.summary["example"] for b, res in results.items()}
        )
        described = {
            "out": str(run.root),
            "models": {str(b): ref.spec for b, ref in models.items()},
            "data": str(data) if data is not None else "music21 folk corpus (embedded)",
            "n": n,
            "max_tunes": max_tunes,
            "seed": seed,
            "device": device,
            "traversals": traversals,
            "soundfont": str(soundfont) if soundfont else None,
            "traversal_audio_seconds": traversal_audio_seconds,
            "binning": binning,
            "executor": executor.describe(),
        }
        write_errors_table(
            run.root / "errors.parquet", [f for r in results.values() for f in r.summary.get("failed_chunks", [])]
        )
        write_json(timings_path, timings)
        summary = study_summary(results, described, timings, time.perf_counter() - started)
        write_json(run.root / "summary.json", summary)
        report = write_report(run.root, results, summary)
    return StudyRun(run.root, results, summary, report)


@contextmanager
def _opened(executor: Executor, given) -> Iterator[Executor]:
    """``executor`` for the run; closed at its end unless the caller passed it in (``given``)."""
    try:
        yield executor
    finally:
        if executor is not given:
            executor.close()


ERROR_COLUMNS = ["stage", "chunk", "first_row", "rows", "reason"]


def write_errors_table(path: Path, failed: list[dict]) -> None:
    """``OUT/errors.parquet``: every chunk of the run's chunked stages that failed on every try (none: no file)."""
    if not failed:
        path.unlink(missing_ok=True)
        return
    save_table(
        path,
        pd.DataFrame(failed, columns=ERROR_COLUMNS).astype(
            {"chunk": np.int64, "first_row": np.int64, "rows": np.int64}
        ),
    )


def study_summary(results: dict, settings: dict, timings: dict, wall: float) -> dict:
    """summary.json: per length the model and the analysis summary, plus settings, versions and timings."""
    import music21
    import torch

    per_bars = {
        f"{b}-bar": {"model": res.model, **res.summary, "errors": len(res.errors)} for b, res in results.items()
    }
    return {
        "study": "musicneurons",
        "per_bars": per_bars,
        "key_numbers": dict(KEY_NUMBERS),
        "settings": settings,
        "versions": {
            "musicneurons": __version__,
            "python": platform.python_version(),
            "numpy": np.__version__,
            "torch": torch.__version__,
            "music21": music21.__version__,
            "pandas": pd.__version__,
        },
        "timings_s": {**timings, "total": round(wall, 3)},
        "timings_note": "seconds of each stage when it last ran; total = this invocation",
    }
