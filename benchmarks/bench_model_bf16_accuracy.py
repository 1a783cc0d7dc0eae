"""Does bfloat16 hold accuracy? Held-out reconstruction of a trained model in float32 and under bf16 autocast.

Also reports the largest difference in mu between the two precisions. Run:

    python benchmarks/bench_model_bf16_accuracy.py --model mn-mel_2bar [--threads 2]
"""

import argparse
import contextlib
import json

import numpy as np
import torch

from musicneurons.model import load_model
from musicneurons.model.metrics import reconstruction_metrics
from musicneurons.model.training_data import corpus_split


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="mn-mel_2bar")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--windows", type=int, default=2000, help="held-out windows to evaluate")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = load_model(args.model)
    _, heldout = corpus_split(model.config.bars)
    heldout = heldout[: args.windows]
    results = {}
    for label, context in (("fp32", contextlib.nullcontext()), ("bf16", torch.autocast("cpu", dtype=torch.bfloat16))):
        with context:
            results[label] = reconstruction_metrics(model, heldout)
            results[label]["mu"] = model.encode(heldout)[0]
    gap = float(np.abs(results["fp32"].pop("mu") - results["bf16"].pop("mu")).max())
    print(json.dumps({"model": args.model, **results, "max_abs_mu_difference": gap}, indent=2))


if __name__ == "__main__":
    main()
