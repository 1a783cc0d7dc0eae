"""The study of ../shared/paper.md as resumable stages over a run directory.

For each window length (2 and 16 bars) the run directory ``OUT/bars{2,16}/`` receives, in order:

============================  ==========================================================================
``melodies.parquet``          real windows (embedded corpus or ``data``), at most 5 a tune or file
``random.parquet``            the same number of random note sequences (paper §5.1)
``latents_real.parquet``      mu and sigma of every real window (``latents_random.parquet`` likewise)
``features_real.parquet``     jSymbolic features of every real window (``features_random.parquet``)
``analysis/``                 the paper's tables (CSV), figures (PNG + SVG) and ``summary.json``
``example/``                  Figs 2-3: "Twinkle, twinkle, little star" in latent space
============================  ==========================================================================

then ``OUT/summary.json`` and the self-contained ``OUT/index.html``. Every file is written under a
temporary name and renamed when complete, and carries a key of the settings and inputs it was made
from: a rerun skips each stage whose output has the current key, and encoding resumes chunk by chunk,
so a run stopped at any moment finishes with the same results as an uninterrupted one.
"""

import hashlib
import json
import platform
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from .errors import InvalidParameterError
from .tables import PARTIAL_SUFFIX, array_column, load_metadata, load_table, save_table

__all__ = ["run_study", "StudyRun", "BarsResult", "default_model"]

ENCODE_CHUNK = 2048
EXAMPLE_TITLE = '"Twinkle, twinkle, little star"'


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
        The analysis summary (``analysis/summary.json``) plus the example's reconstruction.
    figures : dict of str to Path
        PNG of each figure by name, in report order.
    """

    bars: int
    model: str
    directory: Path
    summary: dict
    figures: dict = field(default_factory=dict)

    def table(self, name):
        """An analysis table by name (e.g. ``'correlations'``, ``'neurons'``) as a DataFrame."""
        return pd.read_csv(self.directory / "analysis" / f"{name}.csv")

    def load(self, stage):
        """A stage table (``'melodies'``, ``'latents_real'``, ``'features_random'``...) -> (df, metadata)."""
        return load_table(self.directory / f"{stage}.parquet")


@dataclass
class StudyRun:
    """The result of :func:`run_study`: one :class:`BarsResult` per window length, and the report."""

    directory: Path
    results: dict
    summary: dict
    report: Path


def _key(*parts):
    """Short content key of JSON-able parts (settings, upstream keys)."""
    return hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _fresh(path, key):
    """True when ``path`` exists complete and was made with ``key``."""
    return Path(path).is_file() and load_metadata(path).get("key") == key


def default_model(bars):
    """Name of the shipped model for ``bars`` bars."""
    from .model import load_config, shipped_models

    for name in shipped_models():
        if load_config(name).bars == bars:
            return name
    raise InvalidParameterError(f"no shipped model for {bars} bars; give one with --model")


def _model_key(spec, model):
    """Key of a model: its name or path, its config and a hash of all its weights."""
    digest = hashlib.sha1()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().numpy().tobytes())
    return _key(str(spec), model.config.to_dict(), digest.hexdigest())


class _Stages:
    """The stages of one window length, sharing the run directory, the model and a timing log."""

    def __init__(self, directory, bars, model_spec, data, n, max_tunes, seed, device, progress, timings):
        self.dir = Path(directory) / f"bars{bars}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.bars, self.model_spec, self.data, self.n, self.max_tunes = bars, model_spec, data, n, max_tunes
        self.seed, self.device, self.progress, self.timings = seed, device, progress, timings
        self._model = None
        self._model_key = None

    @property
    def model_key(self):
        """:func:`_model_key` of this length's model, hashed once."""
        if self._model_key is None:
            self._model_key = _model_key(self.model_spec, self.model)
        return self._model_key

    @property
    def model(self):
        if self._model is None:
            from .model import load_model

            self._model = load_model(self.model_spec, device=self.device)
            if self._model.config.bars != self.bars:
                raise InvalidParameterError(
                    f"model {self.model_spec!r} is a {self._model.config.bars}-bar model; this stage needs {self.bars} bars")
        return self._model

    def _timed(self, name, fn):
        start = time.perf_counter()
        out = fn()
        self.timings[f"bars{self.bars}/{name}"] = round(time.perf_counter() - start, 3)
        return out

    def melodies(self):
        """Real windows -> (events (n, T) int8, table key)."""
        from .melody import corpus_melodies, read_melodies, save_melodies

        path = self.dir / "melodies.parquet"
        key = _key("melodies", self.bars, str(self.data), self.n, self.max_tunes, self.seed, __version__)
        if not _fresh(path, key):
            def make():
                if self.data is None:
                    windows, errors = corpus_melodies(self.bars, max_tunes=self.max_tunes, progress=self.progress,
                                                      with_errors=True)
                else:
                    windows, errors = read_melodies(self.data, self.bars, progress=self.progress)
                if self.n is not None and self.n < len(windows):
                    keep = np.sort(np.random.default_rng(self.seed).choice(len(windows), self.n, replace=False))
                    windows = windows.iloc[keep].reset_index(drop=True)
                save_melodies(path, windows, errors, {"key": key, "stage": "melodies", "bars": self.bars})
            self._timed("melodies", make)
        table, _ = load_table(path)
        return array_column(table, "events").astype(np.int8), table, key

    def random(self, n_real, real_key):
        """Random windows, as many as the real ones -> (events, table, key)."""
        from .melody import random_melodies, save_melodies

        path = self.dir / "random.parquet"
        key = _key("random", self.bars, n_real, self.seed, real_key)
        if not _fresh(path, key):
            self._timed("random", lambda: save_melodies(path, random_melodies(n_real, self.bars, self.seed),
                                                        metadata={"key": key, "stage": "random"}))
        table, _ = load_table(path)
        return array_column(table, "events").astype(np.int8), table, key

    def latents(self, name, events, upstream):
        """mu, sigma (n, z) float32 of ``events``, encoded in chunks that survive an interruption."""
        from tqdm.auto import tqdm

        path = self.dir / f"latents_{name}.parquet"
        key = _key("latents", upstream, self.model_key)
        if not _fresh(path, key):
            parts = self.dir / f"latents_{name}.parts" / key
            parts.mkdir(parents=True, exist_ok=True)
            starts = range(0, len(events), ENCODE_CHUNK)
            bar = tqdm(starts, desc=f"encoding {name} ({self.bars} bars)", unit="chunk", disable=not self.progress)

            def make():
                for start in bar:
                    part = parts / f"part-{start // ENCODE_CHUNK:06d}.npz"
                    if not part.exists():
                        mu, sigma = self.model.encode(events[start:start + ENCODE_CHUNK], device=self.device)
                        tmp = part.with_name(part.stem + PARTIAL_SUFFIX + ".npz")
                        np.savez(tmp, mu=mu, sigma=sigma)
                        tmp.replace(part)
                chunks = [np.load(parts / f"part-{s // ENCODE_CHUNK:06d}.npz") for s in starts]
                mu = np.concatenate([c["mu"] for c in chunks]) if chunks else np.zeros((0, self.model.config.z_size))
                sigma = np.concatenate([c["sigma"] for c in chunks]) if chunks else mu
                save_table(path, pd.DataFrame({"row": np.arange(len(events))}),
                           {"mu": mu.astype(np.float32), "sigma": sigma.astype(np.float32)},
                           {"key": key, "stage": "latents", "model": str(self.model_spec)})
                shutil.rmtree(parts.parent)
            self._timed(f"latents_{name}", make)
        table, _ = load_table(path)
        return array_column(table, "mu"), array_column(table, "sigma"), key

    def features(self, name, events, tempo, upstream):
        """jSymbolic features of ``events`` (DataFrame, one column per feature id)."""
        from .features import compute_features

        path = self.dir / f"features_{name}.parquet"
        key = _key("features", upstream, __version__)
        if not _fresh(path, key):
            self._timed(f"features_{name}", lambda: save_table(
                path, compute_features(events, tempo), metadata={"key": key, "stage": "features"}))
        return load_table(path)[0], key

    def analysis(self, real, random, upstream):
        """Every analysis of the paper; skipped when ``analysis/summary.json`` has the current key."""
        from .analysis import analyse_study
        from .features import catalogue

        out = self.dir / "analysis"
        key = _key("analysis", upstream, __version__)
        marker = out / "done.json"
        if not (marker.is_file() and json.loads(marker.read_text()).get("key") == key):
            if out.exists():
                shutil.rmtree(out)
            self._timed("analysis", lambda: analyse_study(*real, *random, catalogue(), out_dir=out,
                                                         label=f"{self.bars}-bar", random_state=self.seed))
            marker.write_text(json.dumps({"key": key}))
        return json.loads((out / "summary.json").read_text())

    def example(self):
        """Figs 2-3 for the default example melody; returns its summary dict."""
        from .analysis.example import encode_example, plot_example_latents, plot_example_rolls
        from .report.figures import save_figure

        out = self.dir / "example"
        key = _key("example", self.model_key, self.seed)
        marker = out / "example.json"
        if not (marker.is_file() and json.loads(marker.read_text()).get("key") == key):
            def make():
                ex = encode_example(self.model, bars=self.bars, seed=self.seed)
                save_figure(plot_example_rolls(ex, f"{EXAMPLE_TITLE}: melody, decoded mu, decoded sample "
                                                   f"({self.bars}-bar)")[0], out / "fig2_example_rolls")
                save_figure(plot_example_latents(ex, title=f"{EXAMPLE_TITLE} in latent space ({self.bars}-bar)")[0],
                            out / "fig3_example_latents")
                info = {"key": key, "reconstructs": ex.reconstructs, "step_accuracy": round(ex.step_accuracy, 4),
                        "neurons_sigma_below_1": int((ex.sigma < 1).sum())}
                marker.write_text(json.dumps(info))
            self._timed("example", make)
        return {k: v for k, v in json.loads(marker.read_text()).items() if k != "key"}

    def run(self):
        """All stages in order -> BarsResult, with a progress bar over the stages."""
        from tqdm.auto import tqdm

        bar = tqdm(total=8, desc=f"{self.bars}-bar study", unit="stage", disable=not self.progress)

        def step(name, fn, *args):
            bar.set_postfix_str(name)
            out = fn(*args)
            bar.update()
            return out

        events, table, real_key = step("melodies", self.melodies)
        random_events, random_table, random_key = step("random", self.random, len(events), real_key)
        mu, sigma, lat_key = step("latents real", self.latents, "real", events, real_key)
        rmu, rsigma, rlat_key = step("latents random", self.latents, "random", random_events, random_key)
        feats, feat_key = step("features real", self.features, "real", events, table["tempo"].to_numpy(), real_key)
        rfeats, rfeat_key = step("features random", self.features, "random", random_events,
                                 random_table["tempo"].to_numpy(), random_key)
        summary = step("analysis", self.analysis, (mu, sigma, feats), (rmu, rsigma, rfeats),
                       (lat_key, rlat_key, feat_key, rfeat_key))
        summary["example"] = step("example", self.example)
        bar.close()
        summary["strongest_features"] = _strongest_features(self.dir / "analysis")
        figures = {p.stem: p for p in sorted((self.dir / "example").glob("*.png"))}
        figures.update({p.stem: p for p in sorted((self.dir / "analysis").glob("*.png"))})
        return BarsResult(self.bars, str(self.model_spec), self.dir, summary, figures)


def _strongest_features(analysis_dir, n_neurons=5):
    """The strongest feature (highest phik) of each of the first ``n_neurons`` music neurons."""
    corr = pd.read_csv(analysis_dir / "correlations.csv")
    neurons = pd.read_csv(analysis_dir / "neurons.csv")
    music = neurons.loc[neurons["music"], "neuron"].tolist()[:n_neurons] if "music" in neurons else []
    out = []
    for neuron in music:
        rows = corr[corr["neuron"] == neuron].sort_values("phik", ascending=False)
        if len(rows):
            best = rows.iloc[0]
            out.append({"neuron": int(neuron), "feature_id": best["feature_id"], "phik": round(float(best["phik"]), 4),
                        "category": best.get("category", "")})
    return out


def run_study(out="musicneurons-study", model=None, data=None, bars=(2, 16), n=None, max_tunes=None, seed=0,
              device="cpu", progress=True):
    """Run the whole study and write its run directory and report.

    Parameters
    ----------
    out : str or Path
        Run directory; reused on a rerun (finished stages are skipped).
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

    Returns
    -------
    StudyRun
    """
    from .report.html import write_report

    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    models = _models_by_bars(model, bars)
    timings_path = directory / "timings.json"
    # Seconds each stage took when it last ran; a rerun that skips a stage keeps its earlier time.
    timings = json.loads(timings_path.read_text()) if timings_path.is_file() else {}
    started = time.perf_counter()
    results = {}
    for b, spec in models.items():
        results[b] = _Stages(directory, b, spec, data, n, max_tunes, seed, device, progress, timings).run()
    settings = {"out": str(directory), "models": {str(b): str(s) for b, s in models.items()},
                "data": str(data) if data is not None else "music21 folk corpus (embedded)", "n": n,
                "max_tunes": max_tunes, "seed": seed, "device": device}
    _write_json(timings_path, timings)
    summary = _study_summary(results, settings, timings, time.perf_counter() - started)
    _write_json(directory / "summary.json", summary)
    report = write_report(directory, results, summary)
    return StudyRun(directory, results, summary, report)


def _models_by_bars(model, bars):
    """{bars: model spec} from the ``model`` and ``bars`` arguments of :func:`run_study`."""
    from .model import load_config

    for b in bars:
        if b not in (2, 16):
            raise InvalidParameterError(f"The 'bars' parameter of run_study must hold 2 and/or 16. Got {list(bars)!r}.")
    if model is None:
        return {b: default_model(b) for b in sorted(set(bars))}
    if isinstance(model, dict):
        return {int(b): m for b, m in sorted(model.items())}
    if isinstance(model, (str, Path)):
        return {load_config(model).bars: model}
    chosen = {b: m for b, m in sorted((load_config(m).bars, m) for m in model) if b in bars}
    if not chosen:
        raise InvalidParameterError(f"none of the models {list(model)!r} is a {' or '.join(map(str, bars))}-bar model")
    return chosen


def _study_summary(results, settings, timings, wall):
    """summary.json: per length the key numbers, plus settings, versions and timings."""
    import music21
    import torch

    per_bars = {}
    for b, res in results.items():
        s = res.summary
        per_bars[f"{b}-bar"] = {
            "model": res.model, "windows_real": s.get("windows_real"), "windows_random": s.get("windows_random"),
            "music_neurons": s.get("music_by_sigma"),
            "noise_neurons": s["neurons"] - s["music_by_sigma"] if "neurons" in s else None,
            "active_units": s.get("active_units"), "split_agreement": s.get("agreement"),
            "strongest_features": s.get("strongest_features"), "contrast_auc": s.get("contrast_auc"),
            "example": s.get("example"), "analysis": s}
    return {"study": "musicneurons", "per_bars": per_bars, "settings": settings,
            "versions": {"musicneurons": __version__, "python": platform.python_version(), "numpy": np.__version__,
                         "torch": torch.__version__, "music21": music21.__version__, "pandas": pd.__version__},
            "timings_s": {**timings, "total": round(wall, 3)},
            "timings_note": "seconds of each stage when it last ran; total = this invocation"}


def _write_json(path, obj):
    """Write JSON atomically."""
    tmp = Path(str(path) + PARTIAL_SUFFIX)
    tmp.write_text(json.dumps(obj, indent=2, default=_json_default))
    tmp.replace(path)


def _json_default(value):
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    return str(value)
