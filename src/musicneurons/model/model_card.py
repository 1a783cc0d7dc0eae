"""MODEL_CARD.md of a trained MusicVAE: data, configuration, training run and held-out metrics."""

from pathlib import Path

from .musicvae import magenta_parameter_count
from .schedules import beta, learning_rate, sampling_probability

__all__ = ["write_model_card", "CARD_FILE"]

CARD_FILE = "MODEL_CARD.md"


def _architecture(config):
    decoder = (f"hierarchical: conductor {len(config.conductor_sizes)}x{config.conductor_sizes[0]} "
               f"({config.bars} bars), core decoder {len(config.dec_sizes)}x{config.dec_sizes[0]} per bar"
               if config.hierarchical else f"flat categorical {len(config.dec_sizes)}x{config.dec_sizes[0]}")
    return (f"bidirectional LSTM encoder {len(config.enc_sizes)}x{config.enc_sizes[0]} per direction, "
            f"z = {config.z_size}, decoder {decoder}")


def write_model_card(directory, model, metrics, command):
    """Write ``directory/MODEL_CARD.md`` from the model's config and the metrics of :func:`train`.

    Parameters
    ----------
    directory : str or Path
    model : MusicVAE
    metrics : dict
        The contents of metrics.json (held-out metrics, steps, wall time, sigma profile).
    command : str
        The command that reproduces the run.
    """
    c, m, step = model.config, metrics, metrics["steps"]
    profile = m["mean_sigma_sorted"]
    lines = [
        f"# {c.name}", "",
        f"A MusicVAE trained by musicneurons on {m['n_train_windows']:,} unique {c.bars}-bar windows of the embedded "
        f"music21 folk corpus (every unique window, 4/4 and 2/2 tunes; ±{c.transpose_range} semitone random "
        "transposition of each training window, as Magenta's augmenter). Held out: 10% of the tunes, chosen "
        f"by seed; the {m['n_windows']:,} held-out windows never occur in a training tune.", "",
        "## Architecture", "",
        f"{_architecture(c)}; {magenta_parameter_count(model):,} parameters. Magenta's maths and parameter "
        "layout (LSTMBlockCell, forget bias 1 folded into `bias_ih`), so the weights load into "
        "`musicneurons.model.MusicVAE` and map 1:1 onto Magenta's variable names.", "",
        "## Training", "",
        f"- {step:,} steps of {c.batch_size} windows, {m['wall_s'] / 60:.0f} min wall time on 2 shared CPU cores "
        f"(1 torch thread), bfloat16 autocast: {m['bf16']}, seed {m['seed']}.",
        f"- Magenta's loss: summed cross-entropy + beta * max(KL - {c.free_bits:g} bits, 0); beta = "
        f"{c.max_beta:g} * (1 - {c.beta_rate:g}^step), {beta(c, step):.3f} at the end.",
        f"- Scheduled sampling: {c.sampling_schedule} (rate {c.sampling_rate:g}); sampling probability "
        f"{sampling_probability(c, step):.3f} at the end.",
        f"- Adam, learning rate {c.learning_rate:g} decaying by {c.decay_rate:g} a step to {c.min_learning_rate:g} "
        f"({learning_rate(c, step):.2e} at the end); global-norm clip {c.grad_clip:g}.",
        f"- Reproduce: `{command}`", "",
        "## Held-out reconstruction (decoded from mu, float32)", "",
        "| metric | value |", "|---|---|",
        f"| token accuracy, teacher-forced | {m['tf_accuracy']:.4f} |",
        f"| token accuracy, argmax decoding | {m['argmax_accuracy']:.4f} |",
        f"| accuracy on non-hold steps, argmax decoding | {m['nonhold_accuracy']:.4f} |",
        f"| windows reconstructed exactly | {m['exact_share']:.4f} |",
        f"| always-hold baseline (token accuracy) | {m['hold_baseline']:.4f} |", "",
        "## Latent space", "",
        f"Mean posterior sigma per neuron over the held-out windows: {m['neurons_mean_sigma_below_0.5']} of "
        f"{c.z_size} neurons below 0.5, {m['neurons_mean_sigma_above_0.9']} above 0.9. The ten smallest: "
        f"{', '.join(f'{s:.3f}' for s in profile[:10])}; median {profile[len(profile) // 2]:.3f}.", "",
        "Files: `config.json`, `weights.safetensors`, `train_log.csv`, `loss_curve.png`, `metrics.json`.",
    ]
    Path(directory, CARD_FILE).write_text("\n".join(lines) + "\n")
