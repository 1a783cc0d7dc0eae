"""Import Magenta's MusicVAE checkpoints (TensorFlow V2 or magenta.js) into :class:`MusicVAE`.

The variable names are Magenta's (reference/musicvae.md section 4); the PyTorch layout is
:mod:`musicneurons.model.musicvae`. Dense kernels ``[in, out]`` become ``Linear.weight = kernel.T``. An
LSTMBlockCell kernel ``[in + H, 4H]`` with gate blocks i, j, f, o becomes ``weight_ih = K[:in].T`` and
``weight_hh = K[in:].T`` with the blocks reordered to PyTorch's i, f, g(=j), o; the bias goes to
``bias_ih`` with Magenta's constant forget bias of 1.0 added to its f block, and ``bias_hh`` is zero.
Adam slots, ``beta*_power`` and ``global_step`` are ignored; any other variable the layout has no place
for is an error, so an unsupported architecture is never half-imported.

The configuration comes from the shapes: encoder, decoder and conductor layer sizes, ``z_size`` and the
vocabulary. The window length cannot be read from weights; ``bars`` is taken, in this order, from the
argument, the magenta.js ``config.json`` (``numSteps / 16``), a ``<N>bar`` in the checkpoint's name, or
else 16 for a hierarchical decoder and 2 for a flat one. A layout equal to one of Magenta's registered
configurations takes that configuration (name and training hyper-parameters).
"""

import os
import re

import numpy as np
import torch

from ..errors import CheckpointError, InvalidParameterError
from .config import CONFIGS, ModelConfig
from .integrity import check_finite, parameter_shapes, read_json_file
from .musicvae import MusicVAE
from .tf_checkpoint import TFCheckpoint, path_inside
from .tfjs import MANIFEST, TFJSCheckpoint

__all__ = [
    "open_magenta_checkpoint",
    "is_magenta_checkpoint",
    "infer_config",
    "parameter_map",
    "magenta_shapes",
    "check_variables",
    "load_magenta_checkpoint",
]

FORGET_BIAS = 1.0
MAGENTA_CONFIGS = ("cat-mel_2bar_small", "cat-mel_2bar_big", "hierdec-mel_16bar", "hier-mel_16bar")
IGNORED = re.compile(r"(/Adam(_\d+)?$|^beta\d_power$|^global_step$)")
_ENC = "encoder/cell_{}/bidirectional_rnn/{}/multi_rnn_cell/cell_0/lstm_cell/"
_LEVEL = "encoder/hierarchical_level_{}/"  # HierarchicalLstmEncoder: level i's bi-LSTM, cells named as in _ENC
_FLAT = "{}decoder/multi_rnn_cell/cell_{{}}/lstm_cell/"
_CONDUCTOR = "decoder/hierarchical_level_0/"


def open_magenta_checkpoint(path):
    """Open a TensorFlow V2 or magenta.js checkpoint.

    Parameters
    ----------
    path : str or os.PathLike
        A magenta.js directory (holding ``weights_manifest.json``) or manifest file, or anything
        :func:`~musicneurons.model.tf_checkpoint.checkpoint_prefix` accepts.

    Returns
    -------
    TFCheckpoint or TFJSCheckpoint
        The opened reader (``shapes()``, ``read(name)``, ``names()``).
    """
    path = os.fspath(path)
    if os.path.basename(path) == MANIFEST or os.path.isfile(os.path.join(path, MANIFEST)):
        return TFJSCheckpoint(path)
    return TFCheckpoint(path)


def is_magenta_checkpoint(path):
    """True if ``path`` looks like a Magenta checkpoint: a magenta.js folder or manifest, a TensorFlow
    ``.index``/``.data-*`` file or prefix, or a folder holding ``.index`` files (nothing is opened).

    Parameters
    ----------
    path : str or os.PathLike
        Candidate path.

    Returns
    -------
    bool
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        return os.path.isfile(os.path.join(path, MANIFEST)) or any(n.endswith(".index") for n in os.listdir(path))
    return (
        os.path.basename(path) == MANIFEST
        or os.path.isfile(path + ".index")
        or bool(re.search(r"\.(index|data-\d{5}-of-\d{5})$", path))
        and os.path.isfile(path)
    )


def _stack_sizes(shapes, pattern):
    """Units of each layer ``pattern.format(k) + 'bias'`` present for k = 0, 1, ... (bias is [4H])."""
    sizes = []
    while pattern.format(len(sizes)) + "bias" in shapes:
        sizes.append(shapes[pattern.format(len(sizes)) + "bias"][0] // 4)
    return tuple(sizes)


def _require(shapes, name, where):
    """The shape of ``name``; CheckpointError naming it if the checkpoint lacks it."""
    if name not in shapes:
        raise CheckpointError(
            where,
            f"missing variable {name!r}: not a MusicVAE melody checkpoint of a "
            f"supported layout (cat-mel_2bar_*, hierdec-mel_16bar and their magenta.js kin)",
        )
    return shapes[name]


def _bars_hint(reader, hierarchical):
    """Bars per window from magenta.js ``config.json``, else the checkpoint's name, else the decoder type."""
    if isinstance(reader, TFJSCheckpoint):
        folder = os.path.dirname(reader.manifest)
        if os.path.isfile(os.path.join(folder, "config.json")):
            config = path_inside(folder, "config.json", reader.manifest, "the magenta.js config.json")
            data = read_json_file(config, error=lambda reason: CheckpointError(config, reason))
            converter = data.get("dataConverter") if isinstance(data, dict) else None
            args = converter.get("args") if isinstance(converter, dict) else None
            steps = args.get("numSteps") if isinstance(args, dict) else None
            if steps is not None:
                if isinstance(steps, bool) or not isinstance(steps, int) or steps < 16:
                    raise CheckpointError(
                        config, f"dataConverter.args.numSteps must be an integer >= 16; got {steps!r:.80}"
                    )
                return steps // 16
    match = re.search(r"(\d+)bar", _source_name(reader))
    if match:
        return int(match.group(1))
    return 16 if hierarchical else 2


def _source_name(reader):
    """The checkpoint's name: the TF prefix's file name up to its first dot, or the folder's name for a
    magenta.js checkpoint or a TF prefix called ``model`` (Magenta's training folders)."""
    stem = os.path.basename(_location(reader)).split(".")[0]
    if isinstance(reader, TFJSCheckpoint) or stem == "model":
        return os.path.basename(os.path.dirname(os.path.abspath(_location(reader))))
    return stem


def infer_config(reader, bars=None, name=None):
    """The :class:`ModelConfig` of an opened Magenta checkpoint, from its variables' shapes.

    Parameters
    ----------
    reader : TFCheckpoint or TFJSCheckpoint
        An opened checkpoint.
    bars : int, optional
        Bars per window (2 or 16); see the module docstring for the default.
    name : str, optional
        Name of the config when the layout matches none of Magenta's; default the checkpoint's name.

    Returns
    -------
    ModelConfig
        One of Magenta's registered configs if the layout equals it, else a new config with default
        training hyper-parameters.

    Raises
    ------
    CheckpointError
        If a variable the layout needs is missing, the vocabulary is not 90 classes, or the layout has more
        parameters than :data:`~musicneurons.model.integrity.MAX_PARAMETERS` (refused before any allocation).
    """
    shapes, where = reader.shapes(), _location(reader)
    z_size = _require(shapes, "encoder/mu/bias", where)[0]
    hierarchical = _CONDUCTOR + "initial_state/kernel" in shapes
    core = "core_decoder/" if hierarchical else ""
    levels = _encoder_levels(shapes)
    stacks = [_encoder_cell(0 if levels else None, "{}", "fw"), _FLAT.format(core)]
    stacks += [_CONDUCTOR + "cell_{}/lstm_cell/"] if hierarchical else []
    for pattern in stacks:
        _require(shapes, pattern.format(0) + "bias", where)
    enc, dec, *conductor = [_stack_sizes(shapes, pattern) for pattern in stacks]
    classes = _require(shapes, f"{core}decoder/output_projection/bias", where)[0]
    if classes != 90:
        raise CheckpointError(
            where,
            f"the decoder has {classes} output classes; only 90-class melody models (pitches 21..108) are supported",
        )
    bars = bars or _bars_hint(reader, hierarchical)
    if levels not in (0, 2):
        raise CheckpointError(where, f"unsupported layout: a hierarchical encoder of {levels} levels (2 are read)")
    arch = dict(
        bars=bars,
        z_size=z_size,
        enc_sizes=enc,
        enc_level_lengths=(16, bars) if levels else (),
        dec_sizes=dec,
        hierarchical=hierarchical,
        conductor_sizes=conductor[0] if conductor else (),
    )
    for known in MAGENTA_CONFIGS:
        if all(getattr(CONFIGS[known], key) == value for key, value in arch.items()):
            return CONFIGS[known]
    name = name or _source_name(reader)
    try:
        config = ModelConfig(name=f"{name}-imported" if name in CONFIGS else name, **arch)
    except InvalidParameterError as exc:
        raise CheckpointError(where, f"unsupported layout: {exc}") from exc
    parameter_shapes(config, error=lambda reason: CheckpointError(where, reason))  # the size limit
    return config


def _encoder_levels(shapes):
    """Levels of a HierarchicalLstmEncoder in the checkpoint (0 for the flat BidirectionalLstmEncoder)."""
    levels = 0
    while _encoder_cell(levels, 0, "fw") + "bias" in shapes:
        levels += 1
    return levels


def _encoder_cell(level, layer, direction):
    """Magenta's scope of one encoder cell: flat when ``level`` is None, else in that hierarchical level."""
    scope = _ENC.format(layer, direction)
    return scope if level is None else _LEVEL.format(level) + scope[len("encoder/") :]


def _location(reader):
    """The path that names an opened checkpoint in messages: the TF prefix or the magenta.js manifest."""
    return reader.prefix if isinstance(reader, TFCheckpoint) else reader.manifest


def _lstm_pairs(torch_prefix, suffix, magenta_prefix):
    """(torch name, magenta name, kind) of one LSTM layer: the kernel feeds both weights, the bias both biases."""
    return [
        (f"{torch_prefix}.weight_ih{suffix}", magenta_prefix + "kernel", "lstm_ih"),
        (f"{torch_prefix}.weight_hh{suffix}", magenta_prefix + "kernel", "lstm_hh"),
        (f"{torch_prefix}.bias_ih{suffix}", magenta_prefix + "bias", "lstm_bias"),
        (f"{torch_prefix}.bias_hh{suffix}", magenta_prefix + "bias", "zero"),
    ]


def _dense_pairs(torch_prefix, magenta_prefix):
    """(torch name, magenta name, kind) of one dense layer."""
    return [
        (f"{torch_prefix}.weight", magenta_prefix + "/kernel", "dense"),
        (f"{torch_prefix}.bias", magenta_prefix + "/bias", "copy"),
    ]


def _decoder_pairs(torch_prefix, scope, layers):
    """Pairs of a CategoricalLstmDecoder built in Magenta's variable scope ``scope``."""
    pairs = _dense_pairs(f"{torch_prefix}.initial_state", scope + "decoder/z_to_initial_state")
    for k in range(layers):
        pairs += _lstm_pairs(f"{torch_prefix}.rnn", f"_l{k}", _FLAT.format(scope).format(k))
    return pairs + _dense_pairs(f"{torch_prefix}.output_projection", scope + "decoder/output_projection")


def parameter_map(config):
    """Every PyTorch parameter of ``MusicVAE(config)`` with the Magenta variable it comes from.

    Parameters
    ----------
    config : ModelConfig
        The model's configuration.

    Returns
    -------
    list of (str, str, str)
        ``(torch state_dict key, Magenta variable name, kind)``; kind is ``dense`` (transpose),
        ``copy``, ``lstm_ih``/``lstm_hh`` (rows of the kernel, transposed, gates reordered),
        ``lstm_bias`` (gates reordered, forget bias folded in) or ``zero`` (``bias_hh``).
    """
    pairs = []
    for level, torch_prefix in _encoder_rnns(config):
        for layer in range(len(config.enc_sizes)):
            for direction, suffix in (("fw", f"_l{layer}"), ("bw", f"_l{layer}_reverse")):
                pairs += _lstm_pairs(torch_prefix, suffix, _encoder_cell(level, layer, direction))
    pairs += _dense_pairs("encoder.mu", "encoder/mu") + _dense_pairs("encoder.sigma", "encoder/sigma")
    if not config.hierarchical:
        return pairs + _decoder_pairs("decoder", "", len(config.dec_sizes))
    pairs += _dense_pairs("decoder.conductor_initial_state", _CONDUCTOR + "initial_state")
    for k in range(len(config.conductor_sizes)):
        pairs += _lstm_pairs("decoder.conductor", f"_l{k}", f"{_CONDUCTOR}cell_{k}/lstm_cell/")
    return pairs + _decoder_pairs("decoder.core", "core_decoder/", len(config.dec_sizes))


def _encoder_rnns(config):
    """(Magenta level or None, torch prefix) of each bi-LSTM of the encoder: one, or one a hierarchical level."""
    if not config.enc_level_lengths:
        return [(None, "encoder.rnn")]
    return [(level, f"encoder.levels.{level}") for level in range(len(config.enc_level_lengths))]


def _gates_to_torch(rows):
    """Reorder the 4H leading axis from TF's i, j, f, o blocks to PyTorch's i, f, g(=j), o."""
    i, j, f, o = np.split(rows, 4, axis=0)
    return np.concatenate([i, f, j, o], axis=0)


def _convert(kind, value):
    """PyTorch value of one parameter from its Magenta variable (float32 ndarray)."""
    in_size = value.shape[0] - value.shape[-1] // 4  # LSTM kernel rows [x; h], x first
    if kind == "dense":
        return value.T
    if kind == "lstm_ih":
        return _gates_to_torch(value[:in_size].T)
    if kind == "lstm_hh":
        return _gates_to_torch(value[in_size:].T)
    if kind == "lstm_bias":
        bias = _gates_to_torch(value).copy()
        bias[bias.shape[0] // 4 : bias.shape[0] // 2] += np.float32(FORGET_BIAS)
        return bias
    if kind == "zero":
        return np.zeros_like(value)
    return value


def magenta_shapes(config):
    """The Magenta variables a checkpoint of ``config`` must hold, with their shapes (reference section 4).

    Parameters
    ----------
    config : ModelConfig
        The model's configuration.

    Returns
    -------
    dict of str to tuple of int
        Variable name to shape, e.g. ``{"encoder/mu/kernel": (4096, 512), ...}`` for cat-mel_2bar_big:
        dense kernels ``[in, out]``, LSTM kernels ``[in + H, 4H]``, biases ``[out]`` or ``[4H]``.
    """
    shapes = {}

    def dense(prefix, n_in, n_out):
        shapes.update({prefix + "/kernel": (n_in, n_out), prefix + "/bias": (n_out,)})

    def lstm(prefix, n_in, hidden):
        shapes.update({prefix + "kernel": (n_in + hidden, 4 * hidden), prefix + "bias": (4 * hidden,)})

    def decoder(scope, cond_size):
        dense(scope + "decoder/z_to_initial_state", cond_size, 2 * sum(config.dec_sizes))
        for k, hidden in enumerate(config.dec_sizes):
            lstm(_FLAT.format(scope).format(k), config.n_classes + cond_size if k == 0 else hidden, hidden)
        dense(scope + "decoder/output_projection", config.dec_sizes[-1], config.n_classes)

    for level, _ in _encoder_rnns(config):
        n_in = config.n_classes if not level else 2 * config.enc_sizes[-1]
        for layer, hidden in enumerate(config.enc_sizes):
            for direction in ("fw", "bw"):
                lstm(_encoder_cell(level, layer, direction), n_in, hidden)
            n_in = 2 * hidden
    dense("encoder/mu", n_in, config.z_size)
    dense("encoder/sigma", n_in, config.z_size)
    if not config.hierarchical:
        decoder("", config.z_size)
        return shapes
    dense(_CONDUCTOR + "initial_state", config.z_size, 2 * sum(config.conductor_sizes))
    for k, hidden in enumerate(config.conductor_sizes):
        lstm(f"{_CONDUCTOR}cell_{k}/lstm_cell/", 1 if k == 0 else hidden, hidden)
    decoder("core_decoder/", config.conductor_sizes[-1])
    return shapes


def check_variables(reader, expected):
    """Check that a checkpoint holds exactly the variables of a layout, of their shapes (nothing is read).

    Parameters
    ----------
    reader : TFCheckpoint or TFJSCheckpoint
        An opened checkpoint.
    expected : dict of str to tuple of int
        The layout's variables and shapes (:func:`magenta_shapes`). Adam's slots, ``beta*_power`` and
        ``global_step`` may be there besides.

    Raises
    ------
    CheckpointError
        Naming the checkpoint (and the variable) of the first one missing, misshapen or with no place in the layout.
    """
    shapes, where = reader.shapes(), _location(reader)
    for name, shape in expected.items():
        found = tuple(_require(shapes, name, where))
        if found != shape:
            raise CheckpointError(f"{where}:{name}", f"wrong shape: expected {list(shape)}, found {list(found)}")
    extra = sorted(n for n in shapes if n not in expected and not IGNORED.search(n))
    if extra:
        raise CheckpointError(
            where,
            f"variables {extra[:5]}{' ...' if len(extra) > 5 else ''} have no place in "
            f"the inferred MusicVAE layout; the architecture is not supported",
        )


def _read_float(reader, name, where):
    """A model variable as float32; CheckpointError for a non-float dtype or a non-finite value."""
    value = reader.read(name)
    if not np.issubdtype(value.dtype, np.floating):
        raise CheckpointError(
            f"{where}:{name}", f"unsupported dtype {value.dtype.name} for a model weight; expected a float type"
        )
    value = value.astype(np.float32, copy=False)
    check_finite(name, value, error=lambda reason: CheckpointError(where, reason))
    return value


@torch.no_grad()
def load_magenta_checkpoint(path, bars=None, name=None):
    """Load a Magenta MusicVAE checkpoint (TensorFlow V2 or magenta.js) as a :class:`MusicVAE`.

    Parameters
    ----------
    path : str or os.PathLike
        See :func:`open_magenta_checkpoint`.
    bars : int, optional
        Bars per window (2 or 16); see the module docstring for the default.
    name : str, optional
        Name of an unregistered layout's config; default the checkpoint's name.

    Returns
    -------
    MusicVAE
        The model in eval mode, float32, on the CPU.

    Raises
    ------
    CheckpointError
        Missing or corrupt files, a missing variable, a wrong shape, an unsupported dtype or layout, a
        layout beyond the size limit, a NaN or infinite weight; the message names the file or the variable.

    Examples
    --------
    >>> model = load_magenta_checkpoint("cat-mel_2bar_big/cat-mel_2bar_big.ckpt")   # doctest: +SKIP
    >>> model.config.name                                                           # doctest: +SKIP
    'cat-mel_2bar_big'
    """
    reader = open_magenta_checkpoint(path)
    where = _location(reader)
    config = infer_config(reader, bars=bars, name=name)
    check_variables(reader, magenta_shapes(config))
    model = MusicVAE(config)
    params = model.state_dict()
    for key, var, kind in parameter_map(config):
        value = _convert(kind, _read_float(reader, var, where))
        params[key].copy_(torch.from_numpy(np.require(value, np.float32, ["C", "W"])))
    return model.eval()
