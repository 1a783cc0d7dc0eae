"""The ``analyse`` command on tables written as the pipeline writes them."""

import json

import numpy as np
import pandas as pd

from musicneurons.analysis import planted_study
from musicneurons.cli import main
from musicneurons.tables import save_table


def test_analyse_command_writes_tables_and_figures(tmp_path, capsys):
    study = planted_study(n_real=600, n_random=600, z=24, n_music=4, n_features=6, seed=2)
    for name, mu, sigma in (("real", study.real_mu, study.real_sigma), ("random", study.random_mu, study.random_sigma)):
        save_table(
            tmp_path / f"latents_{name}.parquet", pd.DataFrame({"row": np.arange(600)}), {"mu": mu, "sigma": sigma}
        )
    save_table(tmp_path / "features_real.parquet", study.real_features.assign(row=np.arange(600), nan_reasons=""))
    out = tmp_path / "analysis"
    code = main(
        [
            "analyse",
            str(tmp_path / "latents_real.parquet"),
            str(tmp_path / "features_real.parquet"),
            str(tmp_path / "latents_random.parquet"),
            "--out",
            str(out),
            "--label",
            "cli",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "split: 4 music neurons (bootstrap interval 4-4); the paper's reading (mean sigma < 0.9) 4, " in printed
    assert "analysed: 4 music neurons; 4 active units; features kept 6, dropped 2" in printed
    assert "claims: (a) holds, (b) holds, (c) holds" in printed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["label"] == "cli" and summary["features_kept"] == 6
    neurons = pd.read_csv(out / "neurons.csv")
    assert neurons["neuron"].tolist()[:4] == study.music_order.tolist()
    assert (out / "fig7_neuron_feature_phik.svg").stat().st_size > 0


def test_analyse_command_rejects_a_table_without_latents(tmp_path, capsys):
    save_table(tmp_path / "bad.parquet", pd.DataFrame({"row": [0, 1]}))
    code = main(
        [
            "analyse",
            str(tmp_path / "bad.parquet"),
            str(tmp_path / "bad.parquet"),
            str(tmp_path / "bad.parquet"),
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert code == 1
    assert "bad.parquet: a latent table needs the array columns 'mu', 'sigma'" in capsys.readouterr().err
