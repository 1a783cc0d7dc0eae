"""Measure saved models' acceptance figures again on their held-out windows and render their cards anew.

The figures go into each folder's ``metrics.json`` (``acceptance``), measured by
:func:`musicneurons.model.metrics.acceptance_metrics` on the embedded corpus's held-out pieces (the split the
shipped models were trained with); then ``MODEL_CARD.md`` is rendered from the folder. Run after a change to a
figure's rule:

    python scripts/training/refresh_acceptance.py src/musicneurons/model/shipped/mn-mel_2bar [FOLDER ...]
"""

import json
import sys
from pathlib import Path

from musicneurons.model import load_model
from musicneurons.model.metrics import acceptance_metrics
from musicneurons.model.model_card import write_model_card
from musicneurons.model.training_data import corpus_split


def main():
    for folder in map(Path, sys.argv[1:]):
        model = load_model(folder)
        metrics_file = folder / "metrics.json"
        metrics = json.loads(metrics_file.read_text())
        metrics["acceptance"] = acceptance_metrics(model, corpus_split(model.config.bars)[1])
        metrics_file.write_text(json.dumps(metrics, indent=2) + "\n")
        write_model_card(folder)
        print(f"{folder}: {metrics['acceptance']['passes']}")


if __name__ == "__main__":
    main()
