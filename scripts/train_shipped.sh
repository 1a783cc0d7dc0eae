#!/usr/bin/env bash
# The training runs of the two shipped models, exactly as run (CPU; bfloat16 autocast where the
# CPU has it, float32 with a notice where it does not: steps before 2 Dec 2026's second session ran in float32). Each command resumes
# from runs/<name>/checkpoint/ when started again, so the runs continue across sessions; the last state is
# committed under training/<name>/ (copy it to runs/<name>/ first). Pilot runs and their figures: the model cards.
set -euo pipefail
cd "$(dirname "$0")/.."
common=(--steps 1000000 --threads 1 --bf16 --eval-every 1000 --checkpoint-secs 120 --no-progress)
case "${1:-}" in
  2bar)  # the shipped mn-mel_2bar, as run on 3 Dec 2026 (the registered config; 92 minutes on 2 Intel Xeon cores)
    musicneurons train --config mn-mel_2bar --out runs/mn-mel_2bar-v2 --steps 14000 --align-at 10000 --threads 2 \
      --bf16 --eval-every 1000 --checkpoint-secs 120 --no-progress --max-minutes "${2:-600}" ;;
  16bar)  # the recipe since step 11,028 (3 Dec 2026): fully free-running, constant learning rate 5e-4. Steps 0-6,867
    # were teacher-forced and 6,867-11,028 free-running at Magenta's decaying rate (the checkpoint's phases).
    musicneurons train --config mn-hierdec-mel_16bar --out runs/mn-hierdec-mel_16bar "${common[@]}" --eval-windows 500 \
      --max-minutes "${2:-900}" --set dec_sizes=256 --set max_beta=0.2 --set beta_rate=0.9998 --set free_bits=48 \
      --set sampling_schedule=constant --set sampling_rate=1 --set batch_size=32 --set transpose_range=5 \
      --set learning_rate=5e-4 --set decay_rate=1 ;;
  *) echo "usage: scripts/train_shipped.sh 2bar|16bar [MAX_TOTAL_MINUTES]" >&2; exit 2 ;;
esac
