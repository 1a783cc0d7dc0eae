#!/usr/bin/env bash
# The training runs of the two shipped models, exactly as run (CPU; bfloat16 autocast where the CPU has it, float32
# with a notice where it does not: steps before 2 Dec 2026's second session ran in float32). Each command resumes
# from runs/<name>/checkpoint/ when started again, so the runs continue across sessions; their last states are in
# the history under training/<name>/checkpoint (training/README.md says how to restore one; copy it to runs/ first).
# Pilot runs and their figures: the model cards and training/JOURNAL.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
common=(--steps 1000000 --threads 1 --bf16 --eval-every 1000 --checkpoint-secs 120 --no-progress)
case "${1:-}" in
  2bar)  # the shipped mn-mel_2bar, as run on 3 Dec 2026 (the registered config; 92 minutes on 2 Intel Xeon cores)
    musicneurons train --config mn-mel_2bar --out runs/mn-mel_2bar-v2 --steps 14000 --align-at 10000 --threads 2 \
      --bf16 --eval-every 1000 --checkpoint-secs 120 --no-progress --max-minutes "${2:-600}" ;;
  16bar)  # the shipped mn-hierdec-mel_16bar, as run on 4 Dec 2026: mn-mel_2bar's encoder at step 0 (the hierarchical
    # model's own encoder starts cold), teacher-forced under the registered KL to step 6,082, fully free-running since
    # (the registered recipe), the noise block aligned after step 12,930 (the checkpoint's phases). It resumes the
    # state restored from the history (training/README.md); a fresh start would skip the teacher-forced phase.
    musicneurons train --config mn-hierdec-mel_16bar --out runs/mn-hierdec-mel_16bar --encoder-from mn-mel_2bar \
      "${common[@]}" --eval-windows 500 --max-minutes "${2:-900}" ;;
  *) echo "usage: scripts/training/train_shipped.sh 2bar|16bar [MAX_TOTAL_MINUTES]" >&2; exit 2 ;;
esac
