#!/usr/bin/env bash
# Continue (or start) a training run on a lent GPU (the `device` tool) for MINUTES more, then hand back its
# resumable state. `musicneurons train` resumes exactly from runs/RUN/checkpoint/ on any machine, so a run started
# on a GPU continues on a CPU. Usage:
#   bash scripts/training/device_train.sh RUN CONFIG WINDOWS MINUTES [musicneurons train options: --set KEY=VALUE, ...]
# The state comes back as one tar of runs/RUN/checkpoint/ cut into parts of 15 MiB ($OUT/RUN/state.tar.part-aa,
# -ab, ...): the device tool brings back at most 8 files of 16 MiB, 64 MiB in all, so weights and Adam's two
# moments fit up to ~5.5 M parameters (the 16-bar model with a hierarchical encoder: 4.9 M, 56 MiB). A
# larger model is refused before training, from its parameter count.
#
# Here, once per data change (a .npz of windows, so the device parses no corpus):
#   python scripts/training/export_training_windows.py --bars 16 --collections folk --out runs/windows-16bar.npz
# On the device (carry runs/windows-16bar.npz; timeout_s 600, MINUTES <= 8), e.g. a wider core decoder under the
# hierarchical encoder of training/mn-hier-mel_16bar (the device has torch, numpy, pandas, safetensors, tqdm and
# matplotlib; training from a .npz imports nothing else):
#   bash scripts/training/device_train.sh p16-hier-dec384 mn-hierdec-mel_16bar runs/windows-16bar.npz 8 \
#       --set name=p16-hier-dec384 --set enc_level_lengths=16,16 --set dec_sizes=384 \
#       --encoder-from training/mn-hier-mel_16bar --eval-windows 500 --bf16
# A run's state cannot travel back out beside the working tree (64 MiB in all; training/README.md), so a device run
# starts from weights in the tree and continues here.
# Back here (FILES_AT is the reply's files_at):
#   mkdir -p runs/RUN && cat FILES_AT/RUN/state.tar.part-* | tar -x -C runs/RUN
# then the same `musicneurons train` options with --out runs/RUN (and --device cpu) resume it here. MN_DEVICE=cpu runs
# this script here (a dry run, with OUT set to a folder).
set -euo pipefail
run=$1 config=$2 windows=$3 minutes=$4
shift 4
out_dir="${OUT:?the device tool sets OUT}/$run"
src=$(cd "$(dirname "$0")/../../src" && pwd)
export PYTHONPATH="$src${PYTHONPATH:+:$PYTHONPATH}"  # the checkout's package, no install; runs/ is under the cwd
python3 - "$config" "$@" <<'PY'  # refuse before training a state the device tool cannot bring back
import sys
from musicneurons.model import MusicVAE
from musicneurons.model.config import get_config, with_overrides
args = sys.argv[2:]
config = with_overrides(get_config(sys.argv[1]), [v for k, v in zip(args, args[1:]) if k == "--set"])
n = sum(p.numel() for p in MusicVAE(config).parameters())
if 12 * n + 2**20 > 64 * 2**20:  # float32 weights and Adam's two moments, plus the log
    sys.exit(f"error: {n:,} parameters make a {12 * n / 2**20:.0f} MiB state; the device tool brings back 64 MiB")
PY
start=$(date +%s)
python3 -m musicneurons train --config "$config" --windows "$windows" --out "runs/$run" \
    --device "${MN_DEVICE:-cuda}" --steps 10000000 --max-minutes "$(python3 - "runs/$run" "$minutes" <<'PY'
import json, sys, pathlib
from safetensors import safe_open
path = pathlib.Path(sys.argv[1], "checkpoint", "model.safetensors")
done = 0.0
if path.is_file():
    with safe_open(str(path), "pt") as fh:
        done = json.loads(fh.metadata()["state"])["wall_s"] / 60
print(done + float(sys.argv[2]))
PY
)" --checkpoint-secs 60 --no-progress "$@"
mkdir -p "$out_dir"
tar -c -C "runs/$run" checkpoint | split -b 15M - "$out_dir/state.tar.part-"
parts=$(find "$out_dir" -name 'state.tar.part-*' | wc -l)
bytes=$(cat "$out_dir"/state.tar.part-* | wc -c)
if [ "$bytes" -gt $((64 * 1024 * 1024)) ]; then  # the check before training leaves 1 MiB for the log; a longer log
    echo "error: runs/$run/checkpoint is $bytes bytes; the device tool brings back 64 MiB at most" >&2
    rm -f "$out_dir"/state.tar.part-*
    exit 3
fi
echo "trained for $(($(date +%s) - start)) s; state in \$OUT/$run ($parts parts, $bytes bytes)"
