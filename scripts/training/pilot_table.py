"""Collect finished training runs into a pilot table (pilots.csv) for a model card.

Each run folder holds config.json and metrics.json as written by ``musicneurons train``; a row gives the
settings that differ from the base configuration and the run's held-out acceptance figures. Run:

    python scripts/training/pilot_table.py --base mn-mel_2bar runs/pilot2-* --out src/musicneurons/model/shipped/mn-mel_2bar/pilots.csv
"""

import argparse
import csv
import json
from pathlib import Path

from musicneurons.model.config import get_config
from musicneurons.model.io import read_folder_config
from musicneurons.model.model_card import PILOT_FIELDS


def pilot_row(folder, base):
    """One pilot-table row (dict of str) for a finished run folder, settings relative to config ``base``."""
    config = read_folder_config(folder)[0].to_dict()
    metrics = json.loads((folder / "metrics.json").read_text())
    acc, ref = metrics["acceptance"], base.to_dict()
    settings = "; ".join(f"{k}={v}" for k, v in config.items() if k != "name" and v != ref[k]) or "base"
    for phase in metrics.get("phases", []):  # a warm start (the run continued another run's state) or an alignment
        if "alignment" in phase:
            settings += f" (latent aligned after step {phase['step']:,})"
        else:
            settings += f" (from step {phase['step']:,} of {Path(phase['from']).name})"
    fmt = {
        "argmax_accuracy": 4,
        "hold_baseline": 4,
        "kl_total": 1,
        "jump": 3,
        "noise_median_var_mu": 5,
        "ablation_cost": 4,
    }
    row = {
        "run": folder.name,
        "settings": settings,
        "steps": str(metrics["steps"]),
        "windows_seen": f"{metrics['steps'] * config['batch_size']:,}",
    }
    row.update({k: f"{acc[k]:.{fmt[k]}f}" if k in fmt else str(acc[k]) for k in PILOT_FIELDS if k in acc})
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--base", required=True, help="configuration the settings are relative to")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    rows = [pilot_row(folder, get_config(args.base)) for folder in args.runs if (folder / "metrics.json").is_file()]
    with open(args.out, "w", newline="") as fh:
        writer = csv.DictWriter(fh, PILOT_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    for row in rows:
        print(" | ".join(row[f] for f in PILOT_FIELDS))


if __name__ == "__main__":
    main()
