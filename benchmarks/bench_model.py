"""Encode and training throughput of MusicVAE models against the bound set by this machine's matmul rate.

For each model and precision (float32, bfloat16 autocast) the script measures windows per second for
``encode`` (encoder forward, no grad) and for one training step (teacher-forced forward + backward +
Adam). The bound is ``matmul FLOP/s / (2 * multiply-adds per window)``, with the multiply-adds counted
from the layer shapes (a training step counted as 3 forward passes) and the matmul rate measured on a
2048-square product in the same run and precision. Run:

    python benchmarks/bench_model.py [--threads 2] [--models mn-mel_2bar,mn-hierdec-mel_16bar,cat-mel_2bar_big]
"""

import argparse
import time

import torch

from musicneurons.model import MusicVAE, get_config
from musicneurons.model.train import adam_optimizer, train_step


def matmul_flops(dtype, size=2048, seconds=2.0):
    """Measured FLOP/s of a size-square matrix product in ``dtype``."""
    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    torch.mm(a, b)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        torch.mm(a, b)
        count += 1
    return 2 * size**3 * count / (time.perf_counter() - start)


def lstm_macs(steps, in_size, hidden, layers, directions=1):
    """Multiply-adds of an LSTM stack over ``steps``: 4H(in + H) a step, a layer and a direction."""
    total, width = 0, in_size
    for _ in range(layers):
        total += directions * steps * 4 * hidden * (width + hidden)
        width = hidden * directions
    return total


def model_macs(config):
    """(encode, full forward) multiply-adds per window, from the layer shapes."""
    c, T = config, config.n_steps
    enc = lstm_macs(T, c.n_classes, c.enc_sizes[0], len(c.enc_sizes), 2) + 2 * 2 * c.enc_sizes[0] * c.z_size
    if c.hierarchical:
        hc, hd = c.conductor_sizes[0], c.dec_sizes[0]
        dec = (
            c.z_size * 2 * len(c.conductor_sizes) * hc
            + lstm_macs(c.bars, 1, hc, len(c.conductor_sizes))
            + c.bars * hc * 2 * len(c.dec_sizes) * hd
            + lstm_macs(T, c.n_classes + hc, hd, len(c.dec_sizes))
            + T * hd * c.n_classes
        )
    else:
        hd = c.dec_sizes[0]
        dec = (
            c.z_size * 2 * len(c.dec_sizes) * hd
            + lstm_macs(T, c.n_classes + c.z_size, hd, len(c.dec_sizes))
            + T * hd * c.n_classes
        )
    return enc, enc + dec


def rate(fn, windows, seconds):
    """Windows per second of ``fn`` (one warm-up call, then repeated for ``seconds``)."""
    fn()
    count, start = 0, time.perf_counter()
    while count < 2 or time.perf_counter() - start < seconds:
        fn()
        count += 1
    return windows * count / (time.perf_counter() - start)


def bench(name, batch, seconds):
    """Rows of (model, precision, task, windows/s, bound, fraction) for one configuration."""
    config = get_config(name).replace(batch_size=batch, sampling_schedule="constant", sampling_rate=0.0)
    torch.manual_seed(0)
    model = MusicVAE(config)
    optimizer = adam_optimizer(model)
    events = torch.randint(0, config.n_classes, (batch, config.n_steps), generator=torch.Generator().manual_seed(0))
    enc_macs, fwd_macs = model_macs(config)
    rows = []
    for label, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        flops = matmul_flops(dtype)

        def encode():
            with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype == torch.bfloat16):
                model.encoder(model.one_hot(events))

        def step():
            train_step(model, optimizer, events, 1, 0, bf16=dtype == torch.bfloat16)

        for task, fn, macs in (("encode", encode, enc_macs), ("train", step, 3 * fwd_macs)):
            measured, bound = rate(fn, batch, seconds), flops / (2 * macs)
            rows.append((name, label, task, batch, measured, bound, measured / bound, flops / 1e9))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--models", default="mn-mel_2bar,mn-hierdec-mel_16bar,cat-mel_2bar_big")
    parser.add_argument("--seconds", type=float, default=3.0, help="timing window per measurement")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    batches = {"mn-mel_2bar": 64, "mn-hierdec-mel_16bar": 32, "cat-mel_2bar_big": 32}
    print("| model | precision | task | batch | windows/s | bound windows/s | fraction of bound | matmul GFLOP/s |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.models.split(","):
        for row in bench(name, batches.get(name, 32), args.seconds):
            print("| {} | {} | {} | {} | {:.1f} | {:.1f} | {:.3f} | {:.0f} |".format(*row), flush=True)


if __name__ == "__main__":
    main()
