#!/usr/bin/env bash
# Continue a shipped model's training on a lent GPU (the `device` tool) for at most MINUTES, then hand back the
# resumable state. Untested on a device so far (no GPU was lent when it was written); it uses only documented
# parts of the train command, which resumes exactly from checkpoint/ on any machine.
#
# Here, once per data change:
#   python scripts/export_training_windows.py --bars 2 --collections all --out runs/windows-2bar.npz
#   mkdir -p .whl && python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 -d .whl \
#       music21 symusic google-crc32c chardet jsonpickle more-itertools webcolors
# On the device (carry runs/windows-2bar.npz, runs/mn-mel_2bar and .whl; timeout_s 600):
#   bash scripts/device_train.sh mn-mel_2bar runs/windows-2bar.npz 8 [--set KEY=VALUE ...]
# Back here: copy the files under files_at/mn-mel_2bar/ into runs/mn-mel_2bar/checkpoint/ (train_log.csv into
# runs/mn-mel_2bar/), then train again here or on the next lease; the same command resumes.
set -euo pipefail
config=$1 windows=$2 minutes=$3
shift 3
python3 -m pip install -q --no-deps .whl/*.whl
python3 -m pip install -q --no-deps --no-build-isolation -e .
start=$(date +%s)
python3 -m musicneurons train --config "$config" --windows "$windows" --out "runs/$config" --device cuda \
    --steps 10000000 --max-minutes "$(python3 - "$config" "$minutes" <<'PY'
import json, sys, pathlib
from safetensors import safe_open
path = pathlib.Path("runs", sys.argv[1], "checkpoint", "model.safetensors")
done = 0.0
if path.is_file():
    with safe_open(str(path), "pt") as fh:
        done = json.loads(fh.metadata()["state"])["wall_s"] / 60
print(done + float(sys.argv[2]))
PY
)" --checkpoint-secs 60 --no-progress "$@"
mkdir -p "$OUT/$config"
cp "runs/$config"/checkpoint/*.safetensors "runs/$config/train_log.csv" "$OUT/$config/"
echo "trained for $(( $(date +%s) - start )) s; state in \$OUT/$config"
