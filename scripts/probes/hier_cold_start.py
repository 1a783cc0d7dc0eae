"""Why the 16-bar hierarchical model learns so slowly: its encoder starts cold. Four small runs on 16 windows.

On the same 16 corpus windows of 16 bars (teacher forcing, no KL, full batch, a small model: z 64, encoder 1x128,
conductor 1x128, core decoder 1x128), argmax reconstruction from mu after each 100 steps of:

- ``hier``: the hierarchical model from its initial weights;
- ``flat``: the same encoder under a flat decoder (z appended to every step's input);
- ``flat->hier``: the hierarchical model whose encoder is taken from the ``flat`` run after --warm-up steps
  (``musicneurons train --encoder-from``);
- ``z table``: the hierarchical decoder alone, fed a learned z per window (no encoder, no noise): the decoder side
  can memorise the windows when z is informative from the start.

Run (about 4 minutes on one core):

    python scripts/probes/hier_cold_start.py [--steps 600] [--warm-up 300] [--seed 0]
"""

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F
from musicneurons.melody import corpus_melodies
from musicneurons.melody.events import HOLD
from musicneurons.model import ModelConfig, MusicVAE
from musicneurons.model.train import adam_optimizer, train_step
from musicneurons.tables import array_column

SMALL = dict(
    name="small",
    bars=16,
    z_size=64,
    enc_sizes=(128,),
    dec_sizes=(128,),
    batch_size=16,
    learning_rate=1e-2,
    max_beta=0.0,
    decay_rate=1.0,
    transpose_range=0,
)
HIER = dict(SMALL, hierarchical=True, conductor_sizes=(128,))


def run(model, events, steps, tag, started):
    """Train ``model`` full-batch on events (16, 256) int8 for ``steps``, printing the accuracies every 100 steps."""
    optimizer, batch = adam_optimizer(model), torch.from_numpy(events.astype(np.int64))
    for step in range(steps):
        model.train()
        stats = train_step(model, optimizer, batch, step, 0)
        if (step + 1) % 100 == 0:
            hits = model.reconstruct(events) == events
            print(
                f"{tag:>10} step {step + 1:4d} ({time.time() - started:4.0f} s): teacher-forced "
                f"{stats['train_accuracy']:.3f}, argmax from mu {hits.mean():.3f} (non-hold {hits[events != HOLD].mean():.3f})",
                flush=True,
            )


def run_table(model, events, steps, started):
    """Train the decoder of ``model`` with a learned z (16, z) per window instead of the encoder; print as :func:`run`."""
    table = torch.nn.Parameter(torch.randn(len(events), model.config.z_size))
    params = [p for p in model.decoder.parameters() if p.requires_grad] + [table]
    optimizer = torch.optim.Adam(params, lr=model.config.learning_rate)
    targets = torch.from_numpy(events.astype(np.int64))
    onehot = model.one_hot(targets)
    for step in range(steps):
        model.train()
        optimizer.zero_grad()
        logits = model.teacher_forced_logits(table, onehot)
        F.cross_entropy(logits.transpose(1, 2), targets, reduction="none").sum(1).mean().backward()
        torch.nn.utils.clip_grad_norm_(params, model.config.grad_clip)
        optimizer.step()
        if (step + 1) % 100 == 0:
            hits = model.decode(table.detach().numpy()) == events
            tf = (logits.argmax(-1) == targets).float().mean().item()
            print(
                f"{'z table':>10} step {step + 1:4d} ({time.time() - started:4.0f} s): teacher-forced {tf:.3f}, "
                f"argmax from z {hits.mean():.3f} (non-hold {hits[events != HOLD].mean():.3f})",
                flush=True,
            )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--warm-up", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0, help="seed of the initial weights")
    args = parser.parse_args()
    torch.set_num_threads(1)
    windows = array_column(corpus_melodies(bars=16, max_tunes=200, progress=False), "events")
    events = np.unique(windows, axis=0)[:16].astype(np.int8)
    print(f"16 windows of 16 bars, always-hold baseline {(events == HOLD).mean():.3f}; seed {args.seed}")
    started = time.time()
    torch.manual_seed(args.seed)
    run(MusicVAE(ModelConfig(**HIER)), events, args.steps, "hier", started)
    torch.manual_seed(args.seed)
    flat = MusicVAE(ModelConfig(**SMALL))
    run(flat, events, args.warm_up, "flat", started)
    torch.manual_seed(args.seed)
    hier = MusicVAE(ModelConfig(**HIER))
    hier.encoder.load_state_dict(flat.encoder.state_dict())
    run(hier, events, args.steps - args.warm_up, "flat->hier", started)
    torch.manual_seed(args.seed)
    run_table(MusicVAE(ModelConfig(**HIER)), events, args.steps, started)


if __name__ == "__main__":
    main()
