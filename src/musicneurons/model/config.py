"""Named MusicVAE configurations: Magenta's three melody models and the models shipped here.

A :class:`ModelConfig` fixes the architecture (layer sizes, latent size, bars) and Magenta's training
hyper-parameters (reference/musicvae.md §1). The registry :data:`CONFIGS` maps a name to its config.
"""

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidParameterError, check_choice

__all__ = ["ModelConfig", "CONFIGS", "get_config"]

SAMPLING_SCHEDULES = ("constant", "inverse_sigmoid", "exponential")


@dataclass(frozen=True)
class ModelConfig:
    """Architecture and training hyper-parameters of one MusicVAE.

    Parameters
    ----------
    name : str
        Registry name, e.g. ``"cat-mel_2bar_big"``.
    bars : int
        Bars in a window, 2 or 16; a window has ``bars * bar_steps`` steps.
    z_size : int
        Latent size.
    enc_sizes : tuple of int
        Units per direction of each bidirectional encoder layer (all equal).
    enc_level_lengths : tuple of int
        Segment lengths of Magenta's HierarchicalLstmEncoder, lowest level first: ``(16, 16)`` runs the
        bi-LSTM over each bar's 16 steps, then another over the 16 bar embeddings (Magenta's hier-mel_16bar).
        Their product is the window's steps. Empty (the default) for the flat bi-LSTM over the whole window.
    dec_sizes : tuple of int
        Units of each decoder LSTM layer (the core decoder when hierarchical; all equal).
    hierarchical : bool
        True for a conductor plus a per-bar core decoder (Magenta's HierarchicalLstmDecoder).
    conductor_sizes : tuple of int
        Units of each conductor layer; empty when flat.
    bar_steps : int
        Steps a bar (16 sixteenth notes).
    n_classes : int
        Size of the event vocabulary (90).
    free_bits : float
        KL free bits; ``free_bits * ln 2`` nats are subtracted from each window's total KL.
    max_beta, beta_rate : float
        KL weight ``beta(step) = (1 - beta_rate ** step) * max_beta``.
    sampling_schedule : str
        ``"constant"``, ``"inverse_sigmoid"`` or ``"exponential"`` scheduled sampling.
    sampling_rate : float
        Rate of the sampling schedule (``k`` of the inverse sigmoid).
    input_dropout : float
        Word dropout (Bowman et al. 2016), a training option Magenta does not have: each teacher-forced
        previous-token input is replaced by the zero vector (the decoder's first input) with this probability,
        so the decoder must take more from z. Needs teacher forcing (no scheduled sampling); 0 leaves Magenta's loss.
    learning_rate, decay_rate, min_learning_rate : float
        ``lr(step) = (learning_rate - min_learning_rate) * decay_rate ** step + min_learning_rate``.
    grad_clip : float
        Global-norm clip of the gradients.
    grad_norm_clip_to_zero : float
        A global norm at or above this zeroes every gradient of the step.
    batch_size : int
        Windows per training step.
    transpose_range : int
        Training augmentation: each window is transposed by a uniform integer in
        ``[-transpose_range, transpose_range]`` semitones, clamped to keep its pitches in 21..108.
    """

    name: str
    bars: int
    z_size: int
    enc_sizes: tuple
    dec_sizes: tuple
    enc_level_lengths: tuple = ()
    hierarchical: bool = False
    conductor_sizes: tuple = ()
    bar_steps: int = 16
    n_classes: int = 90
    free_bits: float = 0.0
    max_beta: float = 1.0
    beta_rate: float = 0.0
    sampling_schedule: str = "constant"
    sampling_rate: float = 0.0
    input_dropout: float = 0.0
    learning_rate: float = 1e-3
    decay_rate: float = 0.9999
    min_learning_rate: float = 1e-5
    grad_clip: float = 1.0
    grad_norm_clip_to_zero: float = 1e4
    batch_size: int = 512
    transpose_range: int = 5

    def __post_init__(self):
        for field in ("enc_sizes", "dec_sizes", "conductor_sizes", "enc_level_lengths"):
            object.__setattr__(self, field, tuple(int(s) for s in getattr(self, field)))
        where = f"ModelConfig {self.name!r}"
        check_choice("bars", self.bars, (2, 16), where)
        check_choice("sampling_schedule", self.sampling_schedule, SAMPLING_SCHEDULES, where)
        for field in ("enc_sizes", "dec_sizes") + (("conductor_sizes",) if self.hierarchical else ()):
            sizes = getattr(self, field)
            if not sizes or len(set(sizes)) != 1 or sizes[0] < 1:
                raise InvalidParameterError(
                    f"The {field!r} of {where} must be a non-empty tuple of equal positive sizes; got {sizes}."
                )
        if not self.hierarchical and self.conductor_sizes:
            raise InvalidParameterError(
                f"{where} is flat, so 'conductor_sizes' must be empty; got {self.conductor_sizes}."
            )
        if self.enc_level_lengths and (
            min(self.enc_level_lengths) < 1 or math.prod(self.enc_level_lengths) != self.n_steps
        ):
            raise InvalidParameterError(
                f"The 'enc_level_lengths' of {where} must be positive and multiply to the window's "
                f"{self.n_steps} steps; got {self.enc_level_lengths}."
            )
        if not 0.0 <= self.input_dropout <= 1.0:
            raise InvalidParameterError(f"'input_dropout' of {where} must lie in [0, 1]; got {self.input_dropout}.")
        if self.input_dropout > 0 and not (self.sampling_schedule == "constant" and self.sampling_rate == 0):
            raise InvalidParameterError(
                f"'input_dropout' of {where} drops teacher-forced inputs, so it needs teacher forcing "
                "(sampling_schedule 'constant', sampling_rate 0)."
            )
        if self.z_size < 1 or self.batch_size < 1:
            raise InvalidParameterError(f"'z_size' and 'batch_size' of {where} must be positive.")

    @property
    def n_steps(self):
        """Steps in a window: ``bars * bar_steps`` (32 or 256)."""
        return self.bars * self.bar_steps

    def to_dict(self):
        """The config as a JSON-ready dict (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, data):
        """Inverse of :meth:`to_dict`; InvalidParameterError for unknown or missing keys and values of another type.

        A value must have its field's type: an integer (not a bool) for an int field, a finite number for a
        float field, a list of integers for a tuple field, true/false for a bool field, a string for a
        str field.
        """
        if not isinstance(data, dict):
            raise InvalidParameterError(f"A ModelConfig is a JSON object of settings; got {type(data).__name__}.")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(fields))
        if unknown:
            raise InvalidParameterError(f"Unknown ModelConfig keys {unknown}; known keys are {sorted(fields)}.")
        missing = sorted(n for n, f in fields.items() if n not in data and f.default is dataclasses.MISSING)
        if missing:
            raise InvalidParameterError(f"ModelConfig keys {missing} are missing.")
        for key, value in data.items():
            if not _has_type(value, fields[key].type):
                raise InvalidParameterError(
                    f"ModelConfig key {key!r} must be {_TYPE_WORDS[fields[key].type]}; got {value!r:.80}."
                )
        return cls(**data)

    def replace(self, **changes):
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


_TYPE_WORDS = {
    str: "a string",
    int: "an integer",
    float: "a finite number",
    bool: "true or false",
    tuple: "a list of integers",
}


def _has_type(value, kind):
    """True when a JSON value fits a ModelConfig field of type ``kind`` (bools are not numbers)."""
    if kind is bool or kind is str:
        return isinstance(value, kind)
    if isinstance(value, bool):
        return False
    if kind is int:
        return isinstance(value, int)
    if kind is float:
        return isinstance(value, (int, float)) and math.isfinite(value)
    return isinstance(value, (list, tuple)) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)


_MAGENTA_2BAR: dict[str, Any] = dict(
    bars=2,
    max_beta=0.5,
    beta_rate=0.99999,
    sampling_schedule="inverse_sigmoid",
    sampling_rate=1000.0,
    transpose_range=5,
)

# Magenta's 16-bar melody models share the hierarchical decoder and the KL settings; their encoders differ.
_MAGENTA_16BAR: dict[str, Any] = dict(
    bars=16,
    z_size=512,
    dec_sizes=(1024, 1024),
    hierarchical=True,
    conductor_sizes=(1024, 1024),
    free_bits=256.0,
    max_beta=0.2,
    transpose_range=0,
)

CONFIGS = {
    c.name: c
    for c in [
        ModelConfig(
            "cat-mel_2bar_small",
            z_size=256,
            enc_sizes=(512,),
            dec_sizes=(256, 256),
            **{**_MAGENTA_2BAR, "max_beta": 0.2},
        ),
        ModelConfig("cat-mel_2bar_big", z_size=512, enc_sizes=(2048,), dec_sizes=(2048, 2048, 2048), **_MAGENTA_2BAR),
        ModelConfig("hierdec-mel_16bar", enc_sizes=(2048, 2048), **_MAGENTA_16BAR),
        ModelConfig("hier-mel_16bar", enc_sizes=(1024,), enc_level_lengths=(16, 16), **_MAGENTA_16BAR),
        # The models shipped with the package, trained on 2 shared CPU cores (see shipped/*/MODEL_CARD.md); the
        # 2-bar model's beta ramps 20x faster than Magenta's to reach its end value within a short run.
        ModelConfig(
            "mn-mel_2bar",
            bars=2,
            z_size=512,
            enc_sizes=(256,),
            dec_sizes=(256, 256),
            max_beta=0.2,
            beta_rate=0.9998,
            sampling_schedule="inverse_sigmoid",
            sampling_rate=1000.0,
            batch_size=64,
        ),
        # The 16-bar model's recipe as it now trains (scripts/training/train_shipped.sh 16bar; its card lists the phases).
        ModelConfig(
            "mn-hierdec-mel_16bar",
            bars=16,
            z_size=512,
            enc_sizes=(256,),
            dec_sizes=(256,),
            hierarchical=True,
            conductor_sizes=(256, 256),
            free_bits=48.0,
            max_beta=0.2,
            beta_rate=0.9998,
            sampling_rate=1.0,
            learning_rate=5e-4,
            decay_rate=1.0,
            batch_size=32,
        ),
    ]
}


def get_config(name):
    """The registered :class:`ModelConfig` called ``name``."""
    return CONFIGS[check_choice("config", name, CONFIGS, "get_config")]


def with_overrides(config, pairs):
    """``config`` with ``KEY=VALUE`` overrides parsed by the type of each field (tuples as comma lists)."""
    current = config.to_dict()
    changes = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or key not in current:
            raise InvalidParameterError(f"--set {pair!r}: expected KEY=VALUE with KEY one of {sorted(current)}.")
        kind = type(current[key])
        try:
            if kind is list:
                changes[key] = tuple(int(v) for v in value.split(",") if v)
            elif kind is bool:
                changes[key] = {"true": True, "false": False}[value.lower()]
            else:
                changes[key] = kind(value)
        except (KeyError, ValueError) as exc:
            raise InvalidParameterError(f"--set {pair!r}: {value!r} is not a valid {kind.__name__}.") from exc
    return config.replace(**changes)
