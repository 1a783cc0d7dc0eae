"""The data contract between stages: windows, latents and features, typed and read without per-row objects.

Symbols: ``n`` windows, ``T`` steps a window (16 a bar), ``z`` latent neurons, ``b`` features.

=============  ==========================================================================================
container      table on disk (Parquet, written atomically, settings in the schema metadata)
=============  ==========================================================================================
``Windows``    provenance columns (:data:`PROVENANCE`) + ``events`` (fixed-size list of int8, width T)
``Latents``    ``row`` + ``mu`` and ``sigma`` (fixed-size lists of float32, width z)
``Features``   ``row`` + one float64 column per feature id + ``nan_reasons`` (``'ID: reason; ...'``)
=============  ==========================================================================================

Array columns load straight into ``ndarray of shape (n, w)`` (Arrow fixed-size lists); nothing makes
one Python object per row. The same numbers keep one name everywhere: :data:`KEY_NUMBERS` lists the
study's key numbers under the names the analysis gives them, with the label the report and the
terminal show.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import InvalidParameterError, TableError
from .tables import check_kind, kind_metadata, read_rows, read_table, save_table

__all__ = ["Windows", "Latents", "Features", "PROVENANCE", "KEY_NUMBERS", "key_numbers"]

PROVENANCE = [
    "source",
    "file",
    "tune",
    "track",
    "program",
    "instrument",
    "section",
    "first_bar",
    "tempo",
    "transposition",
    "window",
    "bars",
]

# (name in the analysis summary, label in the report and the terminal), in display order.
KEY_NUMBERS = [
    ("windows_real", "real windows"),
    ("windows_random", "random windows"),
    ("music_neurons", "music neurons (detected split)"),
    ("decoder_k", "neurons the decoder needs (within 0.01)"),
    ("group_size", "neurons analysed"),
    ("active_units", "active units (var mu > 0.01)"),
    ("agreement", "agreement with the active-unit rule"),
    ("noise_floor", "phik noise floor"),
]


def key_numbers(summary: dict) -> list[tuple[str, Any]]:
    """(label, value) of each of :data:`KEY_NUMBERS` in one length's summary; no split reads "none: no split".

    The music neurons carry their bootstrap interval ("38 (34-39)"), the decoder's k its own.
    """
    decoder = summary.get("decoder") or {}
    numbers = {
        **summary,
        "decoder_k": _with_interval(
            decoder.get("fewest_k", {}).get("0.01"), decoder.get("fewest_k_interval", {}).get("0.01")
        ),
    }
    if summary.get("split_found") is False:
        numbers["music_neurons"] = "none: no split"
    elif summary.get("music_neurons") is not None:
        numbers["music_neurons"] = _with_interval(summary["music_neurons"], summary.get("count_interval"))
    return [(label, numbers.get(name)) for name, label in KEY_NUMBERS]


def _with_interval(value: Any, interval: Any) -> Any:
    """``value`` as "v (low-high)" when an interval is known, else as it is."""
    if value is None or not interval or interval[0] is None:
        return value
    return f"{value} ({interval[0]:g}-{interval[1]:g})"


def _require(table: Path, columns: dict[str, np.ndarray], names: tuple[str, ...], what: str) -> None:
    """Raise TableError naming ``table`` unless every array column of ``names`` is there."""
    missing = [n for n in names if n not in columns]
    if missing:
        raise TableError(
            table,
            f"a {what} table needs the array columns {', '.join(map(repr, names))}; "
            f"it lacks {', '.join(map(repr, missing))}",
        )


@dataclass(frozen=True)
class Windows:
    """Melody windows and where each came from.

    Attributes
    ----------
    events : ndarray of shape (n, T), dtype=int8
        Magenta's melody classes (0 = hold, 1 = note-off, 2..89 = MIDI pitches 21..108), 16 steps a bar.
    meta : DataFrame of n rows
        Provenance: the :data:`PROVENANCE` columns present (``tempo`` in quarter notes a minute).
    """

    events: np.ndarray
    meta: pd.DataFrame

    def __post_init__(self) -> None:
        events = np.ascontiguousarray(self.events, dtype=np.int8)
        if events.ndim != 2 or len(events) != len(self.meta):
            raise InvalidParameterError(
                f"Windows: events must have shape (n, T) with n = {len(self.meta)} rows of meta. Got {events.shape}."
            )
        object.__setattr__(self, "events", events)
        object.__setattr__(self, "meta", self.meta.reset_index(drop=True))

    def __len__(self) -> int:
        return len(self.events)

    @property
    def tempo(self) -> np.ndarray | None:
        """ndarray of shape (n,), dtype=float64, quarter notes a minute; None when unknown."""
        return self.meta["tempo"].to_numpy(np.float64) if "tempo" in self.meta else None

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Windows:
        """From a melody DataFrame with one ``events`` array per row (the melody readers' output)."""
        values = list(frame["events"]) if "events" in frame else []
        events = np.stack(values).astype(np.int8) if values else np.zeros((0, 0), np.int8)
        return cls(events, frame.drop(columns="events", errors="ignore"))

    def take(self, rows: np.ndarray) -> Windows:
        """The windows at positions ``rows`` (ndarray of int), in that order."""
        return Windows(self.events[rows], self.meta.iloc[rows])

    def save(self, path: str | Path, metadata: dict[str, Any] | None = None) -> Path:
        """Write the windows table (kind ``windows``) atomically; returns its path."""
        return save_table(path, self.meta, {"events": self.events}, kind_metadata("windows", metadata))

    @classmethod
    def load(cls, path: str | Path, rows: tuple[int, int] | None = None, columns: list[str] | None = None) -> Windows:
        """Read a windows table, or its rows ``start:stop``; TableError for a table of another kind.

        ``columns`` reads only those columns (``events`` among them), e.g. ``['events', 'tempo']``.
        """
        scalars, arrays, meta = read_table(path, columns) if rows is None else read_rows(path, *rows, columns)
        check_kind(path, meta, "windows")
        _require(Path(path), arrays, ("events",), "melody")
        return cls(arrays["events"], scalars)


@dataclass(frozen=True)
class Latents:
    """Posterior means and standard deviations of encoded windows.

    Attributes
    ----------
    mu, sigma : ndarray of shape (n, z), dtype=float32
        Row i encodes window i of the windows table it came from.
    """

    mu: np.ndarray
    sigma: np.ndarray

    def __post_init__(self) -> None:
        mu = np.ascontiguousarray(self.mu, dtype=np.float32)
        sigma = np.ascontiguousarray(self.sigma, dtype=np.float32)
        if mu.ndim != 2 or mu.shape != sigma.shape:
            raise InvalidParameterError(
                f"Latents: mu and sigma must have one shape (n, z). Got {mu.shape} and {sigma.shape}."
            )
        object.__setattr__(self, "mu", mu)
        object.__setattr__(self, "sigma", sigma)

    def __len__(self) -> int:
        return len(self.mu)

    @classmethod
    def concat(cls, parts: list[Latents], z: int) -> Latents:
        """Join chunks in order; ``z`` gives the width of an empty result."""
        if not parts:
            return cls(np.zeros((0, z), np.float32), np.zeros((0, z), np.float32))
        return cls(np.concatenate([p.mu for p in parts]), np.concatenate([p.sigma for p in parts]))

    def save(self, path: str | Path, metadata: dict[str, Any] | None = None) -> Path:
        """Write the latent table (kind ``latents``) atomically; returns its path."""
        rows = pd.DataFrame({"row": np.arange(len(self), dtype=np.int64)})
        return save_table(path, rows, {"mu": self.mu, "sigma": self.sigma}, kind_metadata("latents", metadata))

    @classmethod
    def load(cls, path: str | Path) -> Latents:
        """Read a latent table (``mu`` and ``sigma`` array columns); TableError for a table of another kind."""
        _, arrays, meta = read_table(path)
        check_kind(path, meta, "latents")
        _require(Path(path), arrays, ("mu", "sigma"), "latent")
        return cls(arrays["mu"], arrays["sigma"])


@dataclass(frozen=True)
class Features:
    """Scalar features of windows: one float column per feature id, and why each NaN is NaN.

    Attributes
    ----------
    values : DataFrame of shape (n, b), dtype=float64
        Columns named by feature id (see :func:`musicneurons.features.catalogue`).
    nan_reasons : ndarray of shape (n,), dtype=object
        ``'ID: reason; ...'`` for the row's NaN values, ``''`` when none.
    """

    values: pd.DataFrame
    nan_reasons: np.ndarray

    def __post_init__(self) -> None:
        values = self.values.reset_index(drop=True)
        reasons = np.asarray(self.nan_reasons, dtype=object)
        if reasons.shape != (len(values),):
            raise InvalidParameterError(f"Features: nan_reasons must have shape ({len(values)},). Got {reasons.shape}.")
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "nan_reasons", reasons)

    def __len__(self) -> int:
        return len(self.values)

    @classmethod
    def concat(cls, parts: list[Features]) -> Features:
        """Join chunks in order."""
        if not parts:
            return cls(pd.DataFrame(), np.zeros(0, dtype=object))
        return cls(
            pd.concat([p.values for p in parts], ignore_index=True), np.concatenate([p.nan_reasons for p in parts])
        )

    def save(self, path: str | Path, metadata: dict[str, Any] | None = None) -> Path:
        """Write the feature table (``row``, the features, ``nan_reasons``) atomically; returns its path."""
        table = self.values.copy()
        table.insert(0, "row", np.arange(len(table), dtype=np.int64))
        table["nan_reasons"] = self.nan_reasons.astype(str)
        return save_table(path, table, metadata=kind_metadata("features", metadata))

    @classmethod
    def load(cls, path: str | Path) -> Features:
        """Read a feature table: every numeric column but ``row`` is a feature.

        Raises
        ------
        TableError
            For a table of another kind, or one with array columns (a melody or latent table).
        """
        scalars, arrays, meta = read_table(path)
        check_kind(path, meta, "features")
        if arrays:
            raise TableError(
                path,
                f"not a feature table: it has the array columns {', '.join(map(repr, arrays))} "
                f"of a {'melody' if 'events' in arrays else 'latent'} table",
            )
        reasons = (
            scalars["nan_reasons"].to_numpy(object)
            if "nan_reasons" in scalars
            else np.full(len(scalars), "", dtype=object)
        )
        numeric = [c for c in scalars.select_dtypes("number").columns if c != "row"]
        return cls(scalars[numeric].astype(np.float64), reasons)
