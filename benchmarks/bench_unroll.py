"""Free-running decoder speed: the hand-written LSTM step of ``CategoricalDecoder.unroll`` against nn.LSTM per step.

Everything that decodes step by step goes through ``unroll``: ``decode`` (the study's reconstructions, ablations
and traversals) and scheduled-sampling training. The reference is the same maths with ``nn.LSTM`` called one
step at a time (the implementation before 2 Dec 2026). Both run alternately in the same process, on the same
weights and inputs; the script checks that their logits agree and prints windows per second and the ratio.

    python benchmarks/bench_unroll.py [--threads 1] [--repeats 5] [--bf16]
"""

import argparse
import dataclasses
import time

import torch
import torch.nn.functional as F

from musicneurons.model import load_model
from musicneurons.model.musicvae import CategoricalDecoder
from musicneurons.model.train import adam_optimizer, bf16_supported, train_step

FAST = CategoricalDecoder.unroll


def reference_unroll(self, cond, first, n_steps, pick, offset=0):
    """``CategoricalDecoder.unroll`` with nn.LSTM called on one step at a time (same contract)."""
    state, step_input = self.start_state(cond), first
    all_logits, tokens = [], []
    for step in range(n_steps):
        out, state = self.rnn(torch.cat([step_input, cond], dim=-1).unsqueeze(1), state)
        logits = self.output_projection(out[:, 0])
        token = pick(offset + step, logits)
        step_input = F.one_hot(token, self.n_classes).to(logits.dtype)
        all_logits.append(logits)
        tokens.append(token)
    return torch.stack(all_logits, 1), torch.stack(tokens, 1)


def timed(fn, repeats):
    """Median seconds of ``repeats`` calls of ``fn`` after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def measure(name, repeats, bf16, batch):
    """Windows per second of decode and of a sampling training step, fast and reference, for shipped model ``name``."""
    torch.manual_seed(0)
    model = load_model(name)  # the shipped weights: an untrained model's near-tied logits make argmax flip on rounding
    model.config = config = dataclasses.replace(model.config, sampling_schedule="constant", sampling_rate=1.0)
    optimizer = adam_optimizer(model)
    z = torch.randn(batch, config.z_size).numpy()
    events = torch.randint(0, config.n_classes, (batch, config.n_steps))
    unrolls = {"reference": reference_unroll, "hand-written step": FAST}
    decoded = {}
    for label, unroll in unrolls.items():  # before any training step changes the weights
        CategoricalDecoder.unroll = unroll
        decoded[label] = model.eval().decode(z)
    rows = {}
    for label, unroll in unrolls.items():
        CategoricalDecoder.unroll = unroll
        rows[label] = {
            "decode": batch / timed(lambda: model.eval().decode(z), repeats),
            "train": batch / timed(lambda: train_step(model.train(), optimizer, events, 1, 0, bf16), repeats),
        }
    CategoricalDecoder.unroll = FAST
    same = (decoded["reference"] == decoded["hand-written step"]).mean()
    for task in ("decode", "train"):
        ref, fast = rows["reference"][task], rows["hand-written step"][task]
        print(f"{name:24s} {task:6s} reference {ref:8.1f} windows/s, hand-written {fast:8.1f}, ratio {fast / ref:.2f}")
    print(f"{name:24s} argmax decodes identical on {same:.4f} of the tokens")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--bf16", action="store_true", help="bfloat16 autocast in the training step")
    parser.add_argument("--models", default="mn-mel_2bar,mn-hierdec-mel_16bar")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for name in args.models.split(","):
        measure(name, args.repeats, args.bf16 and bf16_supported(), args.batch)


if __name__ == "__main__":
    main()
