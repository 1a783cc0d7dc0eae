"""Training MusicVAE as Magenta trains it (reference/musicvae.md §3.3-3.7), resumable, on CPU or GPU.

Per step: summed cross-entropy over the window plus ``beta * max(KL - free_bits * ln 2, 0)``, averaged
over the batch; inverse-sigmoid scheduled sampling; Adam with an exponentially decaying learning rate;
global-norm clipping, and all gradients zeroed when the norm reaches ``grad_norm_clip_to_zero``
(Adam still steps, as TF's ``apply_gradients`` does).

Every random draw of step ``s`` comes from generators seeded by ``(seed, s)``, so a run resumed from a
checkpoint continues exactly as the uninterrupted run would.
"""

import csv
import functools
import json
import math
import os
import platform
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from ..errors import InvalidParameterError, ModelFileError
from .alignment import ALIGN_WINDOWS, align_to_noise_axes
from .config import ModelConfig
from .metrics import acceptance_metrics, reconstruction_metrics
from .model_card import write_model_card
from .musicvae import MusicVAE, magenta_parameter_count, save_model
from .schedules import beta, learning_rate, sampling_probability
from .training_data import transpose_batch

__all__ = [
    "train",
    "loss_terms",
    "train_step",
    "adam_optimizer",
    "batch_indices",
    "bf16_supported",
    "checkpoint_model",
    "CHECKPOINT_DIR",
    "LOG_FILE",
    "FIGURE_FILE",
    "METRICS_FILE",
]

CHECKPOINT_DIR = "checkpoint"
# Config fields that fix the weights' shapes and meaning: a warm start may change every other field.
ARCHITECTURE_FIELDS = (
    "bars",
    "z_size",
    "enc_sizes",
    "dec_sizes",
    "hierarchical",
    "conductor_sizes",
    "bar_steps",
    "n_classes",
)
LEGACY_CHECKPOINT = "checkpoint.pt"
LOG_FILE = "train_log.csv"
FIGURE_FILE = "loss_curve.png"
METRICS_FILE = "metrics.json"
EVAL_FIELDS = [
    "n_music",
    "split_found",
    "n_sigma_below_0.9",
    "noise_median_var_mu",
    "ablation_cost",
    "kl_total",
]
LOG_FIELDS = [
    "step",
    "wall_s",
    "loss",
    "recon",
    "kl",
    "beta",
    "lr",
    "sampling_p",
    "grad_norm",
    "train_accuracy",
    "tf_accuracy",
    "argmax_accuracy",
    "nonhold_accuracy",
    "exact_share",
    "hold_baseline",
    "mean_sigma",
    *EVAL_FIELDS,
]


def batch_indices(n, batch_size, step, seed):
    """Rows (batch_size,) int64 of step ``step``: consecutive slices of a per-epoch permutation of ``n``."""
    start = step * batch_size
    epochs = range(start // n, (start + batch_size - 1) // n + 1)
    order = np.concatenate([np.random.default_rng([seed, e]).permutation(n) for e in epochs])
    offset = start - epochs[0] * n
    return order[offset : offset + batch_size]


@functools.cache
def bf16_supported(device_type="cpu"):
    """Whether an LSTM trains under bfloat16 autocast here (AVX2-only CPUs fail in oneDNN); probed once."""
    try:
        lstm = torch.nn.LSTM(4, 4, batch_first=True).to(device_type)
        with torch.autocast(device_type, dtype=torch.bfloat16):
            out, _ = lstm(torch.zeros(1, 2, 4, device=device_type))
        out.float().sum().backward()
        return True
    except RuntimeError:
        return False


def _kl(mu, sigma):
    """KL(N(mu, sigma^2) || N(0, 1)) summed over dims: (n, z) -> (n,)."""
    return 0.5 * (sigma.square() + mu.square() - 1.0 - 2.0 * torch.log(sigma)).sum(-1)


def loss_terms(model, events, step, generator, bf16=False):
    """Magenta's loss on one batch.

    Parameters
    ----------
    model : MusicVAE
    events : Tensor (n, T) int64
        Target windows.
    step : int
        Global step (sets beta and the sampling probability).
    generator : torch.Generator
        Source of the posterior noise, the scheduled-sampling draws and the input-dropout draws.
    bf16 : bool
        Run the network under bfloat16 autocast (CPU) ; the loss itself is float32.

    Returns
    -------
    loss : Tensor () float32
    stats : dict of float
        recon (summed CE, batch mean), kl (batch mean), beta, sampling_p, train_accuracy.
    """
    cfg = model.config
    p = sampling_probability(cfg, step)
    with torch.autocast(model.device.type, dtype=torch.bfloat16, enabled=bf16):
        onehot = model.one_hot(events)
        mu, sigma = model.encoder(onehot)
        mu, sigma = mu.float(), sigma.float()
        eps = torch.randn(mu.shape, generator=generator, device=mu.device)
        z = mu + sigma * eps
        # Scheduled sampling's Bernoulli draws do not depend on the model, so they are drawn up front:
        # windows that never take a sample are teacher-forced in one pass, the others run step by step.
        use_sample = torch.rand(events.shape, generator=generator, device=mu.device) < p if p > 0 else None
        sampled = use_sample.any(1) if p > 0 else torch.zeros(len(events), dtype=torch.bool, device=mu.device)
        order = torch.cat([torch.nonzero(~sampled)[:, 0], torch.nonzero(sampled)[:, 0]])
        # Input dropout needs teacher forcing (ModelConfig refuses it with scheduled sampling): no window is sampled.
        drop = (
            torch.rand(events.shape, generator=generator, device=mu.device) < cfg.input_dropout
            if cfg.input_dropout
            else None
        )
        tf = ~sampled
        parts = [model.teacher_forced_logits(z[tf], onehot[tf], None if drop is None else drop[tf])] if tf.any() else []
        if sampled.any():
            pick = _scheduled_pick(events[sampled], use_sample[sampled], generator)
            parts.append(model.unroll(z[sampled], pick)[0])
    logits, events = torch.cat(parts).float(), events[order]
    recon = F.cross_entropy(logits.transpose(1, 2), events, reduction="none").sum(1)
    kl = _kl(mu, sigma)
    kl_cost = torch.clamp(kl - cfg.free_bits * math.log(2.0), min=0.0)
    b = beta(cfg, step)
    loss = recon.mean() + b * kl_cost.mean()
    accuracy = (logits.argmax(-1) == events).float().mean()
    return loss, {
        "recon": recon.mean().item(),
        "kl": kl.mean().item(),
        "beta": b,
        "sampling_p": p,
        "train_accuracy": accuracy.item(),
    }


def _scheduled_pick(targets, use_sample, generator):
    """Next-input rule of scheduled sampling: the model's sample where ``use_sample`` (n, T) is set, else the truth."""

    def pick(step, logits):
        sampled = torch.multinomial(torch.softmax(logits.detach().float(), -1), 1, generator=generator)[:, 0]
        return torch.where(use_sample[:, step], sampled, targets[:, step])

    return pick


def train_step(model, optimizer, events, step, seed, bf16=False):
    """One optimisation step on a batch (n, T) int64; returns the stats of :func:`loss_terms` plus lr, grad_norm."""
    cfg = model.config
    generator = torch.Generator(device=model.device).manual_seed(seed * 1_000_003 + step)
    lr = learning_rate(cfg, step)
    for group in optimizer.param_groups:
        group["lr"] = lr
    optimizer.zero_grad(set_to_none=False)
    loss, stats = loss_terms(model, events, step, generator, bf16)
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads])).item()
    scale = 0.0 if not norm < cfg.grad_norm_clip_to_zero else cfg.grad_clip / max(norm, cfg.grad_clip)
    if scale != 1.0:
        torch._foreach_mul_(grads, scale)
    optimizer.step()
    return {"loss": loss.item(), **stats, "lr": lr, "grad_norm": norm}


def adam_optimizer(model):
    """Adam with TF's defaults (beta1 0.9, beta2 0.999, eps 1e-8) over the trainable parameters."""
    params = [p for p in model.parameters() if p.requires_grad]
    return torch.optim.Adam(params, lr=model.config.learning_rate, betas=(0.9, 0.999), eps=1e-8)


def _save_checkpoint(out, model, optimizer, step, wall_s, log, phases=(), sessions=()):
    """Atomically replace the training state in ``out/checkpoint/`` (safetensors files, the rest as JSON metadata).

    ``model.safetensors`` holds the weights and, as the JSON metadata entry ``state``, the config, step, wall
    time, Adam's parameter groups, the log rows, the recipe changes of a warm start (``phases``) and the
    sessions that trained the run (``sessions``: steps, minutes, hardware, bf16, command of each);
    ``adam_<slot>.safetensors`` hold Adam's state per slot, so
    that every file stays under 16 MB for a small model (commit- and transfer-friendly). The new state is
    written to ``checkpoint.tmp/`` and swapped in by renames; a crash in between leaves ``checkpoint.old/``,
    which :func:`_resume` falls back to. No pickle: resuming a planted file can never run code.
    """
    opt = optimizer.state_dict()
    state = {
        "config": model.config.to_dict(),
        "step": step,
        "wall_s": wall_s,
        "log": log,
        "param_groups": opt["param_groups"],
        "phases": list(phases),
        "sessions": list(sessions),
    }
    files = {"model": {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}}
    for index, slots in opt["state"].items():
        for slot, value in slots.items():
            files.setdefault(f"adam_{slot}", {})[str(index)] = torch.as_tensor(value).detach().cpu().contiguous()
    tmp, final, old = (out / (CHECKPOINT_DIR + suffix) for suffix in (".tmp", "", ".old"))
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    for name, tensors in files.items():
        meta = {"format": "musicneurons-training-state", "step": str(step)}
        if name == "model":
            meta["state"] = json.dumps(state)
        save_file(tensors, str(tmp / f"{name}.safetensors"), metadata=meta)
    if final.is_dir():
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
    os.replace(tmp, final)
    shutil.rmtree(old, ignore_errors=True)
    _write_log(out / LOG_FILE, log)


def _write_log(path, log):
    """The log as CSV: LOG_FIELDS, then any column that rows of an older version carry (kept, not dropped)."""
    older = sorted({k for row in log for k in row} - set(LOG_FIELDS))
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, LOG_FIELDS + older, restval="")
        writer.writeheader()
        writer.writerows(log)


def _resume(out, model, optimizer, warm_start=None):
    """Load ``out/checkpoint/`` (or ``checkpoint.old/``) into model and optimizer.

    Returns (step, wall_s, log, phases, sessions). Without a checkpoint in ``out``, ``warm_start`` (another run's
    directory) is loaded instead: the same architecture is required, the training settings may differ, and the
    change is appended to ``phases`` as ``{"step": step, "changes": {field: [old, new]}}``; its sessions carry on.
    """
    if (out / LEGACY_CHECKPOINT).exists():
        print(
            f"note: {out / LEGACY_CHECKPOINT} is a pickle from an older version and is never loaded (pickle can "
            "run code).",
            file=sys.stderr,
        )
    folder = _checkpoint_folder(out)
    warm = folder is None and warm_start is not None
    if warm:
        folder = _checkpoint_folder(Path(warm_start))
        if folder is None:
            raise ModelFileError(f"--warm-start {warm_start}: no training checkpoint there (no checkpoint/ folder).")
    if folder is None:
        return 0, 0.0, [], [], []
    state = _read_state(folder)
    phases = list(state.get("phases", []))
    sessions = state["sessions"] if "sessions" in state else _unrecorded(int(state["step"]), float(state["wall_s"]))
    if warm:
        phases.append({"step": int(state["step"]), "from": str(warm_start), **_recipe_change(state, model)})
    elif state["config"] != model.config.to_dict():
        differ = sorted(k for k, v in model.config.to_dict().items() if state["config"][k] != v)
        raise InvalidParameterError(
            f"{folder} was written for config {state['config']['name']!r} with other settings ({', '.join(differ)}); "
            f"use a new --out directory (with --warm-start {out} to continue under new training settings) or the "
            "same config."
        )
    try:
        model.load_state_dict(load_file(str(folder / "model.safetensors")))
        slots = {}
        for path in sorted(folder.glob("adam_*.safetensors")):
            with safe_open(str(path), "pt") as fh:
                if fh.metadata().get("step") != str(state["step"]):
                    raise ValueError(f"{path.name} belongs to another step")
            for index, value in load_file(str(path)).items():
                slots.setdefault(int(index), {})[path.stem[len("adam_") :]] = value
        optimizer.load_state_dict({"state": slots, "param_groups": state["param_groups"]})
    except (OSError, KeyError, ValueError, TypeError, RuntimeError, SafetensorError) as exc:
        raise _unreadable(folder, exc) from exc
    return int(state["step"]), float(state["wall_s"]), list(state["log"]), phases, sessions


def _unrecorded(step, wall_s):
    """The sessions of a checkpoint written before they were recorded (7 Dec 2026): one unknown, if it trained."""
    if step == 0:
        return []
    return [{"steps": [0, step], "minutes": round(wall_s / 60, 1), "hardware": None, "bf16": None, "command": None}]


def _with_session(sessions, first_step, step, minutes, about):
    """``sessions`` plus this one (``about``: hardware, bf16, command) when it trained at least one step."""
    if step == first_step:
        return list(sessions)
    return [*sessions, {"steps": [first_step, step], "minutes": round(minutes, 1), **about}]


def _read_state(folder):
    """The JSON ``state`` of ``folder/model.safetensors`` (config, step, wall_s, log, param_groups, phases).

    The config is read back through :class:`ModelConfig`, so a file written before a field existed has its default.
    """
    try:
        with safe_open(str(folder / "model.safetensors"), "pt") as fh:
            state = json.loads(fh.metadata()["state"])
        missing = [k for k in ("config", "step", "wall_s", "log", "param_groups") if k not in state]
        if missing:
            raise KeyError(f"the state lacks {missing}")
        return {**state, "config": ModelConfig.from_dict(state["config"]).to_dict()}
    except (OSError, KeyError, ValueError, TypeError, SafetensorError) as exc:
        raise _unreadable(folder, exc) from exc


def checkpoint_model(run):
    """The model of a run's training checkpoint (``run/`` or ``run/checkpoint/``), in eval mode on the CPU."""
    run = Path(run)
    folder = _state_folder(run)
    if folder is None:
        raise ModelFileError(f"{run}: no training checkpoint there (no checkpoint/ folder).")
    return _checkpoint_model_and_step(folder)[0]


def run_or_model(spec):
    """(model, training steps or None) for a run's checkpoint (``RUN`` or ``RUN/checkpoint``), else :func:`load_model`'s name or folder."""
    from .io import load_model

    folder = _state_folder(Path(spec))
    return _checkpoint_model_and_step(folder) if folder is not None else (load_model(spec), None)


def _state_folder(run):
    """``run`` itself when it holds ``model.safetensors``, else :func:`_checkpoint_folder`'s answer."""
    return run if (run / "model.safetensors").is_file() else _checkpoint_folder(run)


def _checkpoint_model_and_step(folder):
    """(model in eval mode on the CPU, step) of a checkpoint folder, its state read once."""
    state = _read_state(folder)
    model = MusicVAE(ModelConfig.from_dict(state["config"]))
    try:
        model.load_state_dict(load_file(str(folder / "model.safetensors")))
    except (OSError, RuntimeError, SafetensorError) as exc:
        raise _unreadable(folder, exc) from exc
    return model.eval(), int(state["step"])


def _unreadable(folder, exc):
    return ModelFileError(
        f"{folder}: not a readable training checkpoint ({type(exc).__name__}: {exc}); move it away to start afresh."
    )


def _checkpoint_folder(run):
    """``run/checkpoint/``, else ``run/checkpoint.old/`` (a crash mid-swap), else None."""
    return next((f for f in (run / CHECKPOINT_DIR, run / (CHECKPOINT_DIR + ".old")) if f.is_dir()), None)


def _recipe_change(state, model):
    """``{"changes": {field: [old, new]}}`` between a checkpoint's config and ``model``'s; the architecture must match."""
    old, new = state["config"], model.config.to_dict()
    moved = sorted(k for k in ARCHITECTURE_FIELDS if old[k] != new[k])
    if moved:
        raise InvalidParameterError(
            f"--warm-start: the checkpoint's architecture differs in {moved} "
            f"({', '.join(f'{k} {old[k]} -> {new[k]}' for k in moved)}); only training settings may change."
        )
    return {"changes": {k: [old[k], v] for k, v in new.items() if old[k] != v}}


#: The config fields that fix each part's shape, which a borrowed part must share.
_PART_SHAPE = {
    "encoder": ("n_classes", "enc_sizes", "enc_level_lengths", "z_size"),
    "decoder": ("n_classes", "z_size", "bars", "bar_steps", "hierarchical", "conductor_sizes", "dec_sizes"),
}


def _load_part(model, source, part):
    """Copy ``model.<part>`` ("encoder" or "decoder") from the run or model ``source``; returns the ``phases`` entry.

    The part's shape must match (``_PART_SHAPE``); the other part may differ (e.g. a flat warm-up model's encoder
    handed to a hierarchical model, which then reads an informative z from its first step).
    """
    other, steps = run_or_model(source)
    mine, theirs = model.config, other.config
    moved = [k for k in _PART_SHAPE[part] if getattr(mine, k) != getattr(theirs, k)]
    if moved:
        raise InvalidParameterError(
            f"--{part}-from {source}: its {part} differs in {moved} "
            f"({', '.join(f'{k} {getattr(theirs, k)} here {getattr(mine, k)}' for k in moved)})."
        )
    getattr(model, part).load_state_dict(getattr(other, part).state_dict())
    return {"step": 0, f"{part}_from": str(source), "source_config": theirs.name, "source_steps": steps}


def plot_log(log, path):
    """Loss, reconstruction and KL per step, and held-out accuracies, as a two-panel PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = np.array([r["step"] for r in log])
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for key in ("loss", "recon", "kl"):
        ax1.plot(steps, [r[key] for r in log], label=key, lw=0.8)
    ax1.set(xlabel="step", ylabel="nats per window", yscale="log", title="training loss")
    ax1.legend()
    evals = [r for r in log if r.get("argmax_accuracy", "") != ""]
    for key in ("tf_accuracy", "argmax_accuracy", "nonhold_accuracy", "exact_share"):
        ax2.plot([r["step"] for r in evals], [r[key] for r in evals], marker=".", label=key)
    if evals:
        ax2.axhline(evals[-1]["hold_baseline"], color="grey", ls="--", label="always-hold baseline")
    ax2.set(xlabel="step", ylabel="share", ylim=(0, 1), title="held-out reconstruction from mu")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def train(
    config,
    out,
    train_events,
    heldout_events,
    steps,
    seed=0,
    bf16=False,
    device="cpu",
    checkpoint_secs=60.0,
    eval_every=1000,
    log_every=50,
    max_minutes=None,
    eval_windows=2000,
    progress=True,
    command="",
    data="the embedded corpus",
    warm_start=None,
    align_at=(),
    encoder_from=None,
    decoder_from=None,
):
    """Train (or resume training) a MusicVAE and write its outputs to ``out``.

    Parameters
    ----------
    config : ModelConfig
    out : str or Path
        Run directory: checkpoint/ (safetensors), train_log.csv, loss_curve.png, metrics.json, and at the end
        config.json + weights.safetensors. A checkpoint already there is resumed.
    train_events, heldout_events : ndarray (n, T) int8
        Training windows (transposed on the fly) and held-out windows.
    steps : int
        Total steps of the run (counting steps done before a resume).
    seed : int
        Seed of the initial weights, the data order, the transpositions and the noise.
    bf16 : bool
        bfloat16 autocast for the network (CPUs with bf16 units train about 2-3 times faster).
    device : str
    checkpoint_secs : float
        Seconds between checkpoints.
    eval_every, log_every : int
        Steps between held-out evaluations and between log rows.
    max_minutes : float, optional
        Stop (and finish normally) once the run's total wall time reaches this.
    eval_windows : int
        Held-out windows used by the periodic evaluations (the final one uses all).
    progress : bool
        Show a tqdm progress bar.
    command : str
        The command line that reproduces the run, for the model card.
    data : str
        What the training windows are, for the model card (e.g. "the music21 corpus's folk tunes").
    warm_start : str or Path, optional
        Another run's directory: when ``out`` holds no checkpoint yet, training continues from that run's
        state (weights, Adam, step, log) under ``config``'s training settings, a recipe change that the
        metrics and the model card record. The architecture must be the same.
    align_at : collection of int
        Steps after which the latent is aligned (:func:`musicneurons.model.alignment.align_to_noise_axes` on a
        sample of the training windows): the noise block is turned onto the principal directions of its mu, which
        leaves decoding from mu unchanged, and Adam's state restarts (its moments belong to the old axes). Each
        alignment is recorded in ``phases``.
    encoder_from : str or Path, optional
        A fresh run (no checkpoint in ``out``) starts with the encoder of this run or model (same encoder shape,
        any decoder), recorded in ``phases``; a resumed run ignores it (its checkpoint holds the encoder).
    decoder_from : str or Path, optional
        The same for the decoder (same decoder shape and latent size, any encoder).

    Returns
    -------
    MusicVAE
        The trained model, in eval mode.
    """
    from ..progress import progress_bar

    borrowed = {part: source for part, source in (("encoder", encoder_from), ("decoder", decoder_from)) if source}
    if warm_start is not None and borrowed:
        raise InvalidParameterError(
            f"--warm-start and --{next(iter(borrowed))}-from exclude each other: a warm start loads every weight."
        )
    if bf16 and not bf16_supported(torch.device(device).type):
        print(
            f"note: this {device} cannot run an LSTM in bfloat16 (no bf16 support in oneDNN); training in "
            "float32 instead.",
            file=sys.stderr,
        )
        bf16 = False
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    model = MusicVAE(config).to(device)
    optimizer = adam_optimizer(model)
    fresh = _checkpoint_folder(out) is None
    step, wall_s, log, phases, sessions = _resume(out, model, optimizer, warm_start)
    phases += [_load_part(model, source, part) for part, source in borrowed.items() if fresh]
    about = {"hardware": hardware(torch.device(device)), "bf16": bf16, "command": command}
    first_step, session_started = step, time.time()
    eval_subset = heldout_events[np.random.default_rng(seed).permutation(len(heldout_events))[:eval_windows]]
    rng_aug = lambda s: np.random.default_rng([seed, s, 1])  # noqa: E731
    started, last_ckpt = time.time() - wall_s, time.time()
    if max_minutes is not None and step < steps and wall_s >= 60 * max_minutes:
        print(
            f"note: {out}: the run's wall time so far ({wall_s / 60:.1f} min, carried from its checkpoint) already "
            f"reaches --max-minutes {max_minutes:g}, which counts the whole run; no step trained (it stays at step "
            f"{step:,}).",
            file=sys.stderr,
        )

    def session():
        """The run's sessions, this call's included: steps, minutes, hardware, bf16, command of each."""
        return _with_session(sessions, first_step, step, (time.time() - session_started) / 60, about)

    bar = progress_bar(progress=progress, total=steps, initial=step, desc=config.name, smoothing=0.05)
    while step < steps and (max_minutes is None or time.time() - started < 60 * max_minutes):
        model.train()
        idx = batch_indices(len(train_events), config.batch_size, step, seed)
        batch = transpose_batch(train_events[idx], config.transpose_range, rng_aug(step))
        stats = train_step(model, optimizer, torch.from_numpy(batch).long().to(device), step, seed, bf16)
        step += 1
        bar.update(1)
        if step in align_at:
            align_to_noise_axes(model, train_events, seed)
            optimizer = adam_optimizer(model)
            phases.append(
                {
                    "step": step,
                    "alignment": f"noise block rotated onto its principal directions "
                    f"({min(len(train_events), ALIGN_WINDOWS):,} training windows), Adam's state restarted",
                }
            )
        if step % log_every == 0 or step % eval_every == 0:
            row = {"step": step, "wall_s": round(time.time() - started, 1), **stats}
            if step % eval_every == 0:
                row.update(_eval_row(model, eval_subset))
            bar.set_postfix(
                loss=f"{stats['loss']:.1f}", acc=f"{stats['train_accuracy']:.3f}", p=f"{stats['sampling_p']:.2f}"
            )
            log.append(row)
        if time.time() - last_ckpt >= checkpoint_secs:
            _save_checkpoint(out, model, optimizer, step, time.time() - started, log, phases, session())
            last_ckpt = time.time()
    bar.close()
    _save_checkpoint(out, model, optimizer, step, time.time() - started, log, phases, session())
    _finish(
        out,
        model,
        heldout_events,
        step,
        time.time() - started,
        log,
        {
            "seed": seed,
            "bf16": bf16,
            "n_train_windows": len(train_events),
            "command": command,
            "data": data,
            "hardware": about["hardware"],
            "phases": phases,
            "sessions": session(),
        },
    )
    return model.eval()


def _eval_row(model, events):
    """Held-out figures of a periodic evaluation: reconstruction plus the acceptance figures (rounded)."""
    row = reconstruction_metrics(model, events)
    row.pop("n_windows")
    acc = acceptance_metrics(model, events)
    row.update({k: round(acc[k], 6) if isinstance(acc[k], float) else acc[k] for k in EVAL_FIELDS})
    return row


def hardware(device):
    """One line naming the machine a run uses: CPU model and torch threads, or the CUDA device."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    name = platform.processor() or platform.machine()
    try:
        name = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    return f"{name} ({os.cpu_count()} cores, {torch.get_num_threads()} torch threads)"


def _finish(out, model, heldout_events, step, wall_s, log, run):
    """Final held-out evaluation, metrics.json, loss-curve figure, the saved model and its card.

    ``run`` holds what the card states about the run: seed, bf16, n_train_windows, command, data, hardware (of
    this call), phases (the recipe changes of warm starts) and sessions (every call that trained steps).
    """
    metrics = reconstruction_metrics(model, heldout_events)
    _, sigma = model.encode(heldout_events)
    profile = np.sort(sigma.mean(axis=0))
    metrics.update(
        {
            "steps": step,
            "wall_s": round(wall_s, 1),
            **run,
            "parameters": magenta_parameter_count(model),
            "neurons_mean_sigma_below_0.5": int((profile < 0.5).sum()),
            "neurons_mean_sigma_above_0.9": int((profile > 0.9).sum()),
            "mean_sigma_sorted": [round(float(s), 4) for s in profile],
            "acceptance": acceptance_metrics(model, heldout_events),
        }
    )
    (out / METRICS_FILE).write_text(json.dumps(metrics, indent=2) + "\n")
    if log:
        plot_log(log, out / FIGURE_FILE)
    save_model(model, out)
    write_model_card(out)
