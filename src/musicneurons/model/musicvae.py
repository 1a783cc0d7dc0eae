"""MusicVAE in PyTorch, with Magenta's maths and parameter layout (reference/musicvae.md §3, §4).

Symbols: ``n`` windows, ``T`` steps a window (32 or 256), ``z`` latent size, ``90`` event classes
(see :mod:`musicneurons.melody.events`). Event arrays are ``int8``; one-hot inputs are float.

LSTM layout: PyTorch gate order i, f, g, o. Magenta's LSTMBlockCell adds a forget bias of 1.0 inside
the cell; here that 1.0 lives in the f block of ``bias_ih`` and ``bias_hh`` is zero and frozen, so the
trainable parameters are exactly Magenta's (one bias per cell).
"""

import json
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import nn

from ..errors import InvalidParameterError, ModelFileError
from ..melody.events import validate_events
from .config import ModelConfig

# ModelFileError lives in musicneurons.errors; it is named here too for the modules that import it from here.
__all__ = [
    "MusicVAE",
    "Encoder",
    "HierarchicalEncoder",
    "CategoricalDecoder",
    "HierarchicalDecoder",
    "save_model",
    "magenta_parameter_count",
    "SHIPPED_DIR",
    "CONFIG_FILE",
    "WEIGHTS_FILE",
    "ModelFileError",
]

SHIPPED_DIR = Path(__file__).parent / "shipped"
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.safetensors"


def _init_lstm(lstm):
    """Magenta's LSTMBlockCell init: glorot-uniform kernel [in+H, 4H], bias 0 plus forget bias 1."""
    hidden = lstm.hidden_size
    for name, param in lstm.named_parameters():
        if name.startswith("weight_ih"):
            n_in = param.shape[1]
            limit = math.sqrt(6.0 / (n_in + hidden + 4 * hidden))
            nn.init.uniform_(param, -limit, limit)
            nn.init.uniform_(getattr(lstm, name.replace("weight_ih", "weight_hh")), -limit, limit)
        elif name.startswith("bias_ih"):
            nn.init.zeros_(param)
            nn.init.ones_(param[hidden : 2 * hidden])
        elif name.startswith("bias_hh"):
            nn.init.zeros_(param)
            param.requires_grad_(False)


def _init_dense(linear, std=None):
    """Magenta's dense init: N(0, std) kernel when ``std`` is given, else glorot-uniform; zero bias."""
    if std is None:
        nn.init.xavier_uniform_(linear.weight)
    else:
        nn.init.normal_(linear.weight, 0.0, std)
    nn.init.zeros_(linear.bias)


def _split_state(flat, layers, hidden):
    """tanh-dense output (n, 2*L*H) split as [c0, h0, c1, h1, ...] -> (h, c), each (L, n, H)."""
    state = flat.view(flat.shape[0], layers, 2, hidden).permute(2, 1, 0, 3)
    return state[1].contiguous(), state[0].contiguous()


def _lstm_layers(rnn):
    """Per layer of a unidirectional ``nn.LSTM``: (weight_ih (4H, in), weight_hh (4H, H), bias (4H,) = b_ih + b_hh)."""
    return [
        (
            getattr(rnn, f"weight_ih_l{k}"),
            getattr(rnn, f"weight_hh_l{k}"),
            getattr(rnn, f"bias_ih_l{k}") + getattr(rnn, f"bias_hh_l{k}"),
        )
        for k in range(rnn.num_layers)
    ]


def _lstm_step(layers, x0, h, c):
    """One step of ``nn.LSTM``'s maths; layer 0's input already projected ``x0`` (n, 4H); h, c lists of (n, H).

    Gates are summed and the cell state kept in float32 (under bfloat16 autocast only the matmuls run in bf16).
    Updates ``h`` and ``c`` in place and returns the top layer's h (n, H).
    """
    for k, (w_ih, w_hh, bias) in enumerate(layers):
        x = x0 if k == 0 else F.linear(h[k - 1], w_ih, bias)
        i, f, g, o = (x.float() + F.linear(h[k], w_hh).float()).chunk(4, dim=-1)
        c[k] = torch.sigmoid(f) * c[k] + torch.sigmoid(i) * torch.tanh(g)
        h[k] = torch.sigmoid(o) * torch.tanh(c[k])
    return h[-1]


def _bidirectional_lstm(n_in, sizes):
    """Magenta's stacked bi-LSTM (``sizes`` units per direction of each layer), initialised as LSTMBlockCell."""
    rnn = nn.LSTM(n_in, sizes[0], num_layers=len(sizes), bidirectional=True, batch_first=True)
    _init_lstm(rnn)
    return rnn


def _final_h(rnn, sequence):
    """Last layer's final forward and backward h of a bi-LSTM over (n, T, in) -> (n, 2H)."""
    _, (h_n, _) = rnn(sequence)
    return torch.cat([h_n[-2], h_n[-1]], dim=-1)


class _PosteriorEncoder(nn.Module):
    """An encoding (n, 2H) of the one-hot windows -> mu (linear) and sigma (softplus), as Magenta's MusicVAE."""

    def _posterior_layers(self, width, z_size):
        """The mu and sigma dense layers on an encoding of ``width``, with Magenta's N(0, 0.001) init."""
        self.mu = nn.Linear(width, z_size)
        self.sigma = nn.Linear(width, z_size)
        _init_dense(self.mu, 0.001)
        _init_dense(self.sigma, 0.001)

    def encoding(self, onehot):
        """One-hot windows (n, T, 90) float -> the encoding (n, 2H) that mu and sigma read."""
        raise NotImplementedError

    def forward(self, onehot):
        """One-hot windows (n, T, 90) float -> (mu, sigma), each (n, z) float; sigma = softplus."""
        encoding = self.encoding(onehot)
        return self.mu(encoding), F.softplus(self.sigma(encoding))


class Encoder(_PosteriorEncoder):
    """Bidirectional LSTM encoder: the last layer's final forward and backward h -> mu, sigma.

    Parameters
    ----------
    n_classes : int
        Input one-hot width (90).
    sizes : tuple of int
        Units per direction of each layer (all equal).
    z_size : int
        Latent size.
    """

    def __init__(self, n_classes, sizes, z_size):
        super().__init__()
        self.rnn = _bidirectional_lstm(n_classes, sizes)
        self._posterior_layers(2 * sizes[0], z_size)

    def encoding(self, onehot):
        """One-hot windows (n, T, 90) float -> the last layer's final forward and backward h (n, 2H)."""
        return _final_h(self.rnn, onehot)


class HierarchicalEncoder(_PosteriorEncoder):
    """Magenta's HierarchicalLstmEncoder: a bi-LSTM per segment, level after level, down to one embedding.

    With level lengths (16, 16) the first level encodes each bar's 16 steps into an embedding (its final forward
    and backward h) and the second encodes the 16 bar embeddings; every level has the layer sizes ``sizes``.

    Parameters
    ----------
    n_classes : int
        Input one-hot width (90).
    sizes : tuple of int
        Units per direction of each layer of every level.
    z_size : int
        Latent size.
    level_lengths : tuple of int
        Segment length of each level, lowest first; their product is the window's steps.
    """

    def __init__(self, n_classes, sizes, z_size, level_lengths):
        super().__init__()
        self.level_lengths = tuple(level_lengths)
        widths = [n_classes] + [2 * sizes[0]] * (len(self.level_lengths) - 1)
        self.levels = nn.ModuleList([_bidirectional_lstm(width, sizes) for width in widths])
        self._posterior_layers(2 * sizes[0], z_size)

    def encoding(self, onehot):
        """One-hot windows (n, T, 90) float -> the top level's embedding (n, 2H)."""
        sequence = onehot
        for rnn, length in zip(self.levels, self.level_lengths):
            n, steps, width = sequence.shape
            segments = sequence.reshape(n * (steps // length), length, width)
            sequence = _final_h(rnn, segments).view(n, steps // length, -1)
        return sequence[:, 0]


class CategoricalDecoder(nn.Module):
    """Magenta's CategoricalLstmDecoder: state from tanh(dense(cond)), cond appended to every step input.

    Parameters
    ----------
    cond_size : int
        Width of the conditioning vector (z for a flat model, the bar embedding for a core decoder).
    sizes : tuple of int
        Units of each LSTM layer (all equal).
    n_classes : int
        Output classes (90).
    """

    def __init__(self, cond_size, sizes, n_classes):
        super().__init__()
        self.layers, self.hidden, self.n_classes = len(sizes), sizes[0], n_classes
        self.initial_state = nn.Linear(cond_size, 2 * self.layers * self.hidden)
        self.rnn = nn.LSTM(n_classes + cond_size, self.hidden, num_layers=self.layers, batch_first=True)
        self.output_projection = nn.Linear(self.hidden, n_classes)
        _init_dense(self.initial_state, 0.001)
        _init_lstm(self.rnn)
        _init_dense(self.output_projection)

    def start_state(self, cond):
        """Conditioning (n, C) -> initial (h, c), each (L, n, H)."""
        return _split_state(torch.tanh(self.initial_state(cond)), self.layers, self.hidden)

    def teacher_forced(self, cond, inputs):
        """Logits (n, S, 90) for one-hot inputs (n, S, 90) (previous tokens) and conditioning (n, C)."""
        steps = inputs.shape[1]
        x = torch.cat([inputs, cond.unsqueeze(1).expand(-1, steps, -1)], dim=-1)
        out, _ = self.rnn(x, self.start_state(cond))
        return self.output_projection(out)

    def unroll(self, cond, first, n_steps, pick, offset=0):
        """Run ``n_steps`` steps, feeding back the token ``pick`` chooses from each step's logits.

        Parameters
        ----------
        cond : Tensor (n, C) float
            Conditioning vector, appended to every step input.
        first : Tensor (n, 90) float
            First input (zeros, or the previous bar's last token).
        n_steps : int
            Steps to run.
        pick : callable
            ``pick(step, logits) -> tokens`` with logits (n, 90) and tokens (n,) int64: the next input.
        offset : int
            Index of this unroll's first step in the window (passed on to ``pick``).

        Returns
        -------
        logits : Tensor (n, n_steps, 90) float
        tokens : Tensor (n, n_steps) int64
            The picked tokens.
        """
        # nn.LSTM called one step at a time costs a fixed ~2 ms (forward) and ~7 ms (backward) a layer on CPU;
        # the same maths as matmuls is several times faster. The conditioning's share of layer 0's input
        # projection is computed once for all steps.
        h0, c0 = self.start_state(cond)
        h, c = list(h0.unbind(0)), [s.float() for s in c0.unbind(0)]
        layers = _lstm_layers(self.rnn)
        w_token, w_cond = layers[0][0][:, : self.n_classes], layers[0][0][:, self.n_classes :]
        cond_part, step_input = F.linear(cond, w_cond, layers[0][2]), first
        all_logits, tokens = [], []
        for step in range(n_steps):
            logits = self.output_projection(_lstm_step(layers, F.linear(step_input, w_token) + cond_part, h, c))
            token = pick(offset + step, logits)
            step_input = F.one_hot(token, self.n_classes).to(logits.dtype)
            all_logits.append(logits)
            tokens.append(token)
        return torch.stack(all_logits, 1), torch.stack(tokens, 1)


class HierarchicalDecoder(nn.Module):
    """Magenta's HierarchicalLstmDecoder (level_lengths [bars, bar_steps], no autoregression).

    A conductor LSTM fed constant zeros of width 1 gives one embedding per bar (its top h); the core
    decoder restarts from each bar's embedding, and bar k's first input is bar k-1's last token.

    Parameters
    ----------
    z_size : int
        Latent size.
    conductor_sizes, core_sizes : tuple of int
        Units of the conductor and core decoder layers.
    n_classes, bars, bar_steps : int
        Output classes (90), bars a window, steps a bar.
    """

    def __init__(self, z_size, conductor_sizes, core_sizes, n_classes, bars, bar_steps):
        super().__init__()
        self.conductor_layers, self.conductor_hidden = len(conductor_sizes), conductor_sizes[0]
        self.bars, self.bar_steps = bars, bar_steps
        self.conductor_initial_state = nn.Linear(z_size, 2 * self.conductor_layers * self.conductor_hidden)
        self.conductor = nn.LSTM(1, self.conductor_hidden, num_layers=self.conductor_layers, batch_first=True)
        self.core = CategoricalDecoder(self.conductor_hidden, core_sizes, n_classes)
        _init_dense(self.conductor_initial_state, 0.001)
        _init_lstm(self.conductor)

    def bar_embeddings(self, z):
        """Latent (n, z) -> bar embeddings (n, bars, H_conductor)."""
        state = _split_state(torch.tanh(self.conductor_initial_state(z)), self.conductor_layers, self.conductor_hidden)
        out, _ = self.conductor(z.new_zeros(z.shape[0], self.bars, 1), state)
        return out

    def teacher_forced(self, z, inputs):
        """Logits (n, T, 90) for globally shifted one-hot inputs (n, T, 90); bars run as one batch."""
        n, classes = inputs.shape[0], inputs.shape[2]
        emb = self.bar_embeddings(z).reshape(n * self.bars, -1)
        logits = self.core.teacher_forced(emb, inputs.reshape(n * self.bars, self.bar_steps, classes))
        return logits.view(n, self.bars * self.bar_steps, -1)

    def unroll(self, z, first, n_steps, pick, offset=0):
        """As :meth:`CategoricalDecoder.unroll` over the whole window, bar after bar."""
        emb = self.bar_embeddings(z)
        all_logits, tokens, step_input = [], [], first
        for bar in range(self.bars):
            logits, bar_tokens = self.core.unroll(
                emb[:, bar], step_input, self.bar_steps, pick, offset + bar * self.bar_steps
            )
            step_input = F.one_hot(bar_tokens[:, -1], self.core.n_classes).to(logits.dtype)
            all_logits.append(logits)
            tokens.append(bar_tokens)
        return torch.cat(all_logits, 1), torch.cat(tokens, 1)


def _slerp(a, b, t):
    """Spherical interpolation of rows a, b (z,) at fractions t (m,) -> (m, z) float32."""
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    cos = np.dot(a64, b64) / (np.linalg.norm(a64) * np.linalg.norm(b64))
    omega = np.arccos(np.clip(cos, -1.0, 1.0))
    if omega < 1e-7:
        return ((1 - t)[:, None] * a64 + t[:, None] * b64).astype(np.float32)
    wa, wb = np.sin((1 - t) * omega) / np.sin(omega), np.sin(t * omega) / np.sin(omega)
    return (wa[:, None] * a64 + wb[:, None] * b64).astype(np.float32)


class MusicVAE(nn.Module):
    """Magenta's MusicVAE: a flat or hierarchical bi-LSTM encoder and a flat or hierarchical categorical decoder.

    Parameters
    ----------
    config : ModelConfig
        Architecture and training hyper-parameters.
    """

    def __init__(self, config):
        super().__init__()
        if not isinstance(config, ModelConfig):
            raise InvalidParameterError(f"MusicVAE needs a ModelConfig; got {type(config).__name__}.")
        self.config = config
        if config.enc_level_lengths:
            self.encoder = HierarchicalEncoder(
                config.n_classes, config.enc_sizes, config.z_size, config.enc_level_lengths
            )
        else:
            self.encoder = Encoder(config.n_classes, config.enc_sizes, config.z_size)
        if config.hierarchical:
            self.decoder = HierarchicalDecoder(
                config.z_size, config.conductor_sizes, config.dec_sizes, config.n_classes, config.bars, config.bar_steps
            )
        else:
            self.decoder = CategoricalDecoder(config.z_size, config.dec_sizes, config.n_classes)

    @property
    def device(self):
        """The device of the model's parameters."""
        return next(self.parameters()).device

    # ----- tensors in, tensors out (training) -----

    def one_hot(self, events):
        """Event tensor (n, T) int -> one-hot (n, T, 90) float32 on the model's device."""
        return F.one_hot(events.long().to(self.device), self.config.n_classes).float()

    def shifted_inputs(self, onehot):
        """Decoder inputs: the one-hot targets (n, T, 90) shifted right by one step, zeros first."""
        return F.pad(onehot[:, :-1], (0, 0, 1, 0))

    def teacher_forced_logits(self, z, onehot, drop=None):
        """Logits (n, T, 90) for latents (n, z) and one-hot targets (n, T, 90), teacher-forced; ``drop`` (n, T) bool zeroes those inputs."""
        inputs = self.shifted_inputs(onehot)
        return self.decoder.teacher_forced(z, inputs if drop is None else inputs.masked_fill(drop.unsqueeze(-1), 0.0))

    def unroll(self, z, pick):
        """Free-running logits (n, T, 90) and tokens (n, T) int64, with ``pick(step, logits) -> tokens``."""
        first = z.new_zeros(z.shape[0], self.config.n_classes)
        return self.decoder.unroll(z, first, self.config.n_steps, pick)

    # ----- numpy in, numpy out (analysis) -----

    def _check_events(self, events):
        arr = validate_events(events)
        arr = arr[None] if arr.ndim == 1 else arr
        if arr.shape[1] != self.config.n_steps:
            raise InvalidParameterError(
                f"events must have {self.config.n_steps} steps a window for model {self.config.name!r}; "
                f"got shape {arr.shape}."
            )
        return arr

    def _check_z(self, z):
        arr = np.asarray(z, dtype=np.float32)
        arr = arr[None] if arr.ndim == 1 else arr
        if arr.ndim != 2 or arr.shape[1] != self.config.z_size:
            raise InvalidParameterError(f"z must have shape (n, {self.config.z_size}); got {np.shape(z)}.")
        return arr

    @torch.no_grad()
    def encode(self, events, batch_size=512, device=None):
        """Encode windows to the posterior.

        Parameters
        ----------
        events : ndarray (n, T) or (T,) int
            Event windows of this model's length.
        batch_size : int
            Windows per forward pass.
        device : str or torch.device, optional
            Where to run; default the model's device.

        Returns
        -------
        mu, sigma : ndarray (n, z) float32
            Posterior mean and standard deviation.
        """
        arr = self._check_events(events)
        if device is not None:
            self.to(device)
        self.eval()
        mus, sigmas = [], []
        for start in range(0, len(arr), batch_size):
            mu, sigma = self.encoder(self.one_hot(torch.from_numpy(arr[start : start + batch_size])))
            mus.append(mu.float().cpu().numpy())
            sigmas.append(sigma.float().cpu().numpy())
        empty = np.zeros((0, self.config.z_size), np.float32)
        return (np.concatenate(mus) if mus else empty), (np.concatenate(sigmas) if sigmas else empty)

    @torch.no_grad()
    def decode(self, z, temperature=None, seed=None, batch_size=512):
        """Decode latents to events, step by step, as Magenta samples.

        Parameters
        ----------
        z : ndarray (n, z) or (z,) float
            Latent vectors.
        temperature : float or None
            None takes the argmax at every step (magenta.js's default); a float samples from
            ``softmax(logits / temperature)``.
        seed : int, optional
            Seed of the sampling generator (ignored for argmax).
        batch_size : int
            Latents per pass.

        Returns
        -------
        events : ndarray (n, T) int8
        """
        arr = self._check_z(z)
        if temperature is not None and not temperature > 0:
            raise InvalidParameterError(f"temperature must be None (argmax) or > 0; got {temperature!r}.")
        self.eval()
        generator = torch.Generator(device=self.device).manual_seed(0 if seed is None else int(seed))

        def pick(_step, logits):
            if temperature is None:
                return logits.argmax(-1)
            probs = torch.softmax(logits.float() / temperature, -1)
            return torch.multinomial(probs, 1, generator=generator)[:, 0]

        out = [
            self.unroll(torch.from_numpy(arr[s : s + batch_size]).to(self.device), pick)[1]
            for s in range(0, len(arr), batch_size)
        ]
        return torch.cat(out).cpu().numpy().astype(np.int8) if out else np.zeros((0, self.config.n_steps), np.int8)

    @torch.no_grad()
    def decoder_logits(self, z, events):
        """Teacher-forced logits (n, T, 90) float32 ndarray for latents (n, z) and target events (n, T)."""
        zt = torch.from_numpy(self._check_z(z)).to(self.device)
        onehot = self.one_hot(torch.from_numpy(self._check_events(events)))
        self.eval()
        return self.teacher_forced_logits(zt, onehot).float().cpu().numpy()

    def sample(self, n, temperature=1.0, seed=None):
        """``n`` windows (n, T) int8 decoded from z ~ N(0, I) drawn with ``seed``."""
        z = np.random.default_rng(seed).standard_normal((n, self.config.z_size)).astype(np.float32)
        return self.decode(z, temperature=temperature, seed=seed)

    def reconstruct(self, events, temperature=None, seed=None):
        """Encode windows (n, T) and decode their mu; argmax by default. Returns (n, T) int8."""
        mu, _ = self.encode(events)
        return self.decode(mu, temperature=temperature, seed=seed)

    def interpolate(self, a, b, n, temperature=None, seed=None):
        """Decode ``n`` points on the slerp between the mu of windows ``a`` and ``b`` (T,), ends included.

        Returns
        -------
        events : ndarray (n, T) int8
        """
        mu, _ = self.encode(np.stack([self._check_events(a)[0], self._check_events(b)[0]]))
        return self.decode(_slerp(mu[0], mu[1], np.linspace(0.0, 1.0, n)), temperature=temperature, seed=seed)


def magenta_parameter_count(model):
    """Trainable parameters, i.e. Magenta's count (torch's frozen ``bias_hh`` are excluded)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def save_model(model, directory, dtype=torch.float32):
    """Write ``weights.safetensors`` (tensors cast to ``dtype``), then ``config.json`` to ``directory``.

    ``config.json`` holds the configuration and, under ``weights_sha256``, the SHA-256 of the weights file,
    which every load checks (:mod:`musicneurons.model.integrity`).
    """
    from ..rundir import sha256_file
    from .integrity import WEIGHTS_HASH_KEY

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to("cpu", dtype).contiguous() for k, v in model.state_dict().items()}
    save_file(tensors, str(directory / WEIGHTS_FILE), metadata={"format": "musicneurons-musicvae"})
    config = {**model.config.to_dict(), WEIGHTS_HASH_KEY: sha256_file(directory / WEIGHTS_FILE)}
    (directory / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
    return directory
