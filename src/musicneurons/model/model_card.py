"""MODEL_CARD.md of a trained MusicVAE, rendered from its folder: data, recipe, pilots, training, acceptance.

Everything in the card comes from files in the model folder, so it can be rendered again at any time
(``python -m musicneurons.model.model_card DIR``): ``config.json``, ``metrics.json`` (written by
:func:`musicneurons.model.train.train`: held-out metrics, acceptance figures, steps, wall time, hardware,
data description and the reproducing command) and, if present, ``pilots.csv`` (the pilot runs that chose the
recipe, one row each).
"""

import csv
import json
import sys
from pathlib import Path

from .io import read_folder_config
from .metrics import ACCEPTANCE
from .schedules import beta, learning_rate, sampling_probability

__all__ = ["write_model_card", "CARD_FILE", "PILOTS_FILE", "PILOT_FIELDS"]

CARD_FILE = "MODEL_CARD.md"
PILOTS_FILE = "pilots.csv"
PILOT_FIELDS = [
    "run",
    "settings",
    "steps",
    "windows_seen",
    "argmax_accuracy",
    "hold_baseline",
    "kl_total",
    "n_sigma_below_0.9",
    "n_music",
    "jump",
    "noise_median_var_mu",
    "ablation_cost",
]


def _architecture(config):
    decoder = (
        f"hierarchical: conductor {len(config.conductor_sizes)}x{config.conductor_sizes[0]} "
        f"({config.bars} bars), core decoder {len(config.dec_sizes)}x{config.dec_sizes[0]} per bar"
        if config.hierarchical
        else f"flat categorical {len(config.dec_sizes)}x{config.dec_sizes[0]}"
    )
    levels = config.enc_level_lengths
    encoder = (
        f"hierarchical bidirectional LSTM encoder (a bi-LSTM over segments of {levels[0]} steps, then over "
        + ", then over ".join(f"{n} embeddings" for n in levels[1:])
        + f"), {len(config.enc_sizes)}x{config.enc_sizes[0]} per direction at each level"
        if levels
        else f"bidirectional LSTM encoder {len(config.enc_sizes)}x{config.enc_sizes[0]} per direction"
    )
    return f"{encoder}, z = {config.z_size}, decoder {decoder}"


def _recipe(c, m):
    step = m["steps"]
    sampling = (
        "teacher forcing (no scheduled sampling)"
        + (
            f", input dropout {c.input_dropout:g} (each previous-token input zeroed with that probability)"
            if c.input_dropout
            else ""
        )
        if c.sampling_schedule == "constant" and c.sampling_rate == 0
        else f"scheduled sampling {c.sampling_schedule} (rate {c.sampling_rate:g}), probability "
        f"{sampling_probability(c, step):.3f} at the end"
    )
    return [
        f"- Loss: summed cross-entropy + beta * max(KL - {c.free_bits:g} bits, 0); beta = {c.max_beta:g} * "
        f"(1 - {c.beta_rate:g}^step), {beta(c, step):.3f} at the end.",
        f"- Decoder inputs: {sampling}.",
        f"- Adam, learning rate {c.learning_rate:g} decaying by {c.decay_rate:g} a step to {c.min_learning_rate:g} "
        f"({learning_rate(c, step):.2e} at the end); global-norm clip {c.grad_clip:g}; batch {c.batch_size}; "
        f"±{c.transpose_range} semitone random transposition of each training window.",
        *_sessions(c, m),
        *(_phase_line(p, m.get("phases", [])) for p in m.get("phases", [])),
        _reproduce(m),
    ]


def _sessions(c, m):
    """The card's lines on the training time, the machines and, when recorded, each session's command."""
    step = m["steps"]
    head = f"- {step:,} steps ({step * c.batch_size:,} windows), {m['wall_s'] / 60:.0f} min wall time"
    if "sessions" not in m:  # metrics written before sessions were recorded: the last call's machine only
        return [
            f"{head} on {m.get('hardware', 'an unrecorded machine')}; bfloat16 autocast: {m['bf16']}; seed {m['seed']}."
        ]
    lines = [f"{head} in {len(m['sessions'])} session(s); seed {m['seed']}:"]
    for s in m["sessions"]:
        about = (
            f"{s['hardware']}, bfloat16 autocast {s['bf16']}: `{s['command']}`"
            if s["command"] is not None
            else "machine and command not recorded (trained before the checkpoint recorded its sessions)"
        )
        lines.append(f"  - steps {s['steps'][0]:,}-{s['steps'][1]:,}, {s['minutes']:.0f} min: {about}")
    return lines


def _reproduce(m):
    """The card's line on retraining the model: the one command that does, or what to run instead."""
    sessions = m.get("sessions", [])
    if _warm_started(m):
        return (
            "- Last command (it continued the warm start above; alone it does not retrain the model): "
            f"`{m.get('command', '')}`"
        )
    if any(s["command"] is None for s in sessions):
        return "- Reproduce: not recorded in full (some steps above predate the checkpoint's session records)."
    if len(sessions) > 1:
        return "- Reproduce: the sessions' commands above, in order (each resumes where the one before stopped)."
    return f"- Reproduce: `{sessions[0]['command'] if sessions else m.get('command', '')}`"


def _warm_started(m):
    """Whether the run continued another run's checkpoint, so that its own command does not retrain it."""
    return any("from" in p for p in m.get("phases", []))


def _phase_line(p, phases):
    """The card's line for one ``phases`` entry: a warm start (settings old -> new), an alignment or a borrowed part."""
    for part, what in (("encoder", "bi-LSTM, mu and sigma layers"), ("decoder", "every decoder layer")):
        if f"{part}_from" in p:
            about = [p["source_config"]] if p["source_config"] != p[f"{part}_from"] else []
            about += [f"after {p['source_steps']:,} steps"] if p.get("source_steps") is not None else []
            other = "decoder" if part == "encoder" else "encoder"
            fresh = not any(f"{other}_from" in q for q in phases)
            return (
                f"- Step 0: the {part} ({what}) taken from `{p[f'{part}_from']}`"
                + (f" ({', '.join(about)})" if about else "")
                + (f"; the {other} started from its initial weights." if fresh else ".")
            )
    if "alignment" in p:
        return f"- After step {p['step']:,}: latent alignment, {p['alignment']} (`musicneurons.model.alignment`)."
    return (
        f"- From step {p['step']:,} (a warm start from `{p['from']}`): "
        + (", ".join(f"{k} {old} -> {new}" for k, (old, new) in p["changes"].items()) or "no setting changed")
        + "; the settings above are the last phase's."
    )


def _acceptance(c, acc):
    a, p = ACCEPTANCE, acc["passes"]
    mark = {True: "pass", False: "**fail**"}
    split = (
        f"{acc['n_music']} music neurons above a pile of {c.z_size - acc['n_music']} at the prior"
        if acc["split_found"]
        else f"none: {acc['split_reason']}"
    )
    return [
        "| figure | value | target | verdict |",
        "|---|---|---|---|",
        f"| token accuracy, argmax decoding from mu | {acc['argmax_accuracy']:.4f} | >= {a['min_accuracy'][c.bars]} "
        f"| {mark[p['accuracy']]} |",
        f"| margin over the always-hold baseline ({acc['hold_baseline']:.4f}) | "
        f"{acc['argmax_accuracy'] - acc['hold_baseline']:+.4f} | >= {a['min_margin_over_hold']} "
        f"| {mark[p['margin_over_hold']]} |",
        f"| music/noise split (the study's rule, `musicneurons.analysis.split`) | {split} | a split | "
        f"{mark[p['split']]} |",
        f"| noise neurons' median var(mu) | {acc['noise_median_var_mu']:.5f} | <= {a['max_noise_var_mu']} "
        f"| {mark[p['noise_var_mu']]} |",
        f"| accuracy cost of zeroing the noise neurons' mu | {acc['ablation_cost']:+.4f} | <= {a['max_ablation_cost']} "
        f"| {mark[p['noise_ablation']]} |",
        "",
        f"Also: {acc['n_sigma_below_0.9']} neurons with mean sigma < 0.9; KL {acc['kl_total']:.1f} nats a window, "
        f"{100 * acc['kl_share_music']:.1f}% of it in the music neurons; zeroing the music neurons' mu instead "
        f"leaves token accuracy {acc['music_ablation_accuracy']:.4f}; {100 * acc['exact_share']:.1f}% of the "
        f"{acc['n_windows']:,} held-out windows decode exactly.",
    ]


def _pilots(directory):
    path = Path(directory, PILOTS_FILE)
    if not path.is_file():
        return []
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    lines = [
        "## Pilot runs",
        "",
        "Short runs that chose the recipe, all on the same data and held-out windows (figures at their last step).",
        "",
        "| " + " | ".join(PILOT_FIELDS) + " |",
        "|" + "---|" * len(PILOT_FIELDS),
    ]
    return lines + ["| " + " | ".join(r.get(f, "") for f in PILOT_FIELDS) + " |" for r in rows] + [""]


def _limits(c, m, acc):
    failed = [k for k, ok in acc["passes"].items() if not ok]
    lines = ["## Known limits", ""]
    if failed:
        lines.append(
            f"- **Not yet at the acceptance figures** ({', '.join(failed)}): the model is under-trained or "
            "its recipe does not fit; a study on it reports that its findings cannot be trusted as the "
            "paper's. "
            + (
                "Retraining it takes each phase above in turn"
                if _warm_started(m)
                else "Its reproduce line says how to retrain it"
            )
            + "; with more `--steps` in its run folder it trains on from the checkpoint."
        )
    lines += [
        f"- Trained on {m.get('data', 'the embedded corpus')}: folk and classical melodic lines, far less and "
        "narrower than the Lakh MIDI data Magenta's models saw; a study on other music should check the "
        "acceptance figures on its own held-out windows (`benchmarks/bench_acceptance.py`).",
        f"- Much smaller than Magenta's models ({_architecture(c)}); compare with Magenta's own checkpoints "
        "(`musicneurons import-magenta`) before generalising a finding.",
        "",
    ]
    return lines


def write_model_card(directory):
    """Render ``directory/MODEL_CARD.md`` from the folder's config.json, metrics.json and pilots.csv."""
    directory = Path(directory)
    c, _ = read_folder_config(directory)
    m = json.loads((directory / "metrics.json").read_text())
    acc = m["acceptance"]
    profile = m["mean_sigma_sorted"]
    lines = [
        f"# {c.name}",
        "",
        f"A MusicVAE trained by musicneurons on {m['n_train_windows']:,} unique {c.bars}-bar windows of "
        f"{m.get('data', 'the embedded corpus')}. The {m['n_windows']:,} held-out windows come from pieces never "
        "seen in training and never occur in a training piece.",
        "",
        "## Architecture",
        "",
        f"{_architecture(c)}; {m.get('parameters', 0):,} parameters. Magenta's maths and parameter layout "
        "(LSTMBlockCell, forget bias 1 folded into `bias_ih`), so the weights load into "
        "`musicneurons.model.MusicVAE` and map 1:1 onto Magenta's variable names.",
        "",
        "## Recipe and training",
        "",
        *_recipe(c, m),
        "",
        *_pilots(directory),
        "## Acceptance figures on the held-out windows (decoded from mu, float32)",
        "",
        *_acceptance(c, acc),
        "",
        "## Held-out reconstruction",
        "",
        "| metric | value |",
        "|---|---|",
        f"| token accuracy, teacher-forced | {m['tf_accuracy']:.4f} |",
        f"| token accuracy, argmax decoding | {m['argmax_accuracy']:.4f} |",
        f"| accuracy on non-hold steps, argmax decoding | {m['nonhold_accuracy']:.4f} |",
        f"| windows reconstructed exactly | {m['exact_share']:.4f} |",
        f"| always-hold baseline (token accuracy) | {m['hold_baseline']:.4f} |",
        "",
        "## Latent space",
        "",
        f"Mean posterior sigma per neuron over the held-out windows: {m['neurons_mean_sigma_below_0.5']} of "
        f"{c.z_size} neurons below 0.5, {m['neurons_mean_sigma_above_0.9']} above 0.9. The ten smallest: "
        f"{', '.join(f'{s:.3f}' for s in profile[:10])}; median {profile[len(profile) // 2]:.3f}.",
        "",
        *_limits(c, m, acc),
        "Files: `config.json`, `weights.safetensors`, `metrics.json`, `train_log.csv`, `loss_curve.png`"
        + (f", `{PILOTS_FILE}`." if (directory / PILOTS_FILE).is_file() else "."),
    ]
    (directory / CARD_FILE).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    for folder in sys.argv[1:]:
        write_model_card(folder)
