"""MusicVAE training: Magenta's schedules, loss, clipping, data handling, determinism, resume, overfitting."""

import json
import math
import os
import shutil

import numpy as np
import pandas as pd
import pytest
import torch

from musicneurons.model import ModelConfig, MusicVAE, get_config, load_model
from musicneurons.model.schedules import beta, learning_rate, sampling_probability
from musicneurons.model.train import batch_indices, loss_terms, train, train_step
from musicneurons.model.training_data import held_out_pieces, split_by_piece, transpose_batch


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_schedules_follow_magenta():
    small, hier = get_config("cat-mel_2bar_small"), get_config("hierdec-mel_16bar")
    assert beta(hier, 0) == 0.0 and beta(hier, 1) == pytest.approx(0.2)
    assert beta(small, 100_000) == pytest.approx(0.2 * (1 - 0.99999**100_000))
    assert sampling_probability(small, 0) == pytest.approx(1 - 1000 / 1001)
    assert sampling_probability(small, round(1000 * math.log(1000))) == pytest.approx(0.5, abs=1e-3)
    assert sampling_probability(small, 10**7) == 1.0 and sampling_probability(hier, 5000) == 0.0
    assert learning_rate(small, 0) == pytest.approx(1e-3)
    assert learning_rate(small, 10_000) == pytest.approx((1e-3 - 1e-5) * 0.9999**10_000 + 1e-5)


def test_transpose_batch_stays_in_range_and_moves_only_note_ons():
    events = np.zeros((400, 32), np.int8)
    events[:, 0], events[:, 5], events[:, 9] = 87, 1, 4  # pitch 106, note-off, pitch 23
    out = transpose_batch(events, 5, np.random.default_rng(0))
    shift = out[:, 0].astype(int) - 87
    assert set(shift) == {-2, -1, 0, 1, 2}  # clamped: 87 + 2 = 89 (C8 - 0) and 4 - 2 = 2 (A0)
    np.testing.assert_array_equal(out[:, 9].astype(int) - 4, shift)
    np.testing.assert_array_equal(out[:, [1, 5]], events[:, [1, 5]])
    np.testing.assert_array_equal(transpose_batch(events, 0, np.random.default_rng(0)), events)


def test_split_by_piece_keeps_pieces_whole_and_held_out_windows_unseen():
    events = np.arange(40, dtype=np.int8).repeat(32).reshape(40, 32) % 90
    events[39] = events[0]  # a window shared by two pieces
    pieces = np.repeat([f"t{i}" for i in range(10)], 4)
    train_ev, held = split_by_piece(events, pieces, holdout=0.3, seed=0)
    is_held = held_out_pieces(pieces, 0.3, seed=0)
    assert 0 < is_held.sum() < 40 and all(is_held[pieces == p].all() or not is_held[pieces == p].any() for p in pieces)
    assert {r.tobytes() for r in train_ev} == {r.tobytes() for r in events[~is_held]}
    assert {r.tobytes() for r in held} == {r.tobytes() for r in events[is_held]} - {r.tobytes() for r in train_ev}
    assert not {r.tobytes() for r in train_ev} & {r.tobytes() for r in held}
    assert len({r.tobytes() for r in train_ev}) == len(train_ev)


def test_held_out_pieces_are_stable_when_the_corpus_grows():
    names = np.array([f"essen/tune{i}" for i in range(2000)])
    small = held_out_pieces(names, 0.1, seed=0)
    grown = held_out_pieces(np.concatenate([names, [f"bach/chorale{i}" for i in range(500)]]), 0.1, seed=0)
    np.testing.assert_array_equal(grown[:2000], small)
    assert 0.08 < small.mean() < 0.12 and not np.array_equal(small, held_out_pieces(names, 0.1, seed=1))


def test_batch_indices_cover_each_epoch_once():
    rows = np.concatenate([batch_indices(10, 4, step, seed=7) for step in range(5)])
    assert sorted(rows[:10]) == list(range(10)) and sorted(rows[10:20]) == list(range(10))
    np.testing.assert_array_equal(batch_indices(10, 4, 3, seed=7), rows[12:16])


def _tiny(**changes):
    base = dict(name="tiny", bars=2, z_size=8, enc_sizes=(16,), dec_sizes=(16,), batch_size=8, transpose_range=0)
    return ModelConfig(**{**base, **changes})


def test_loss_is_summed_cross_entropy_plus_beta_times_free_bits_kl():
    torch.manual_seed(0)
    model = MusicVAE(_tiny(free_bits=4.0, max_beta=0.5, beta_rate=0.9))
    events = torch.randint(0, 90, (3, 32), generator=torch.Generator().manual_seed(0))
    loss, stats = loss_terms(model, events, 10, torch.Generator().manual_seed(1))
    mu, sigma = model.encoder(model.one_hot(events))
    z = mu + sigma * torch.randn(mu.shape, generator=torch.Generator().manual_seed(1))
    logits = model.teacher_forced_logits(z, model.one_hot(events))
    recon = torch.nn.functional.cross_entropy(logits.reshape(-1, 90), events.reshape(-1), reduction="sum") / 3
    kl = torch.distributions.kl_divergence(
        torch.distributions.Normal(mu, sigma), torch.distributions.Normal(0.0, 1.0)
    ).sum(-1)
    b = 0.5 * (1 - 0.9**10)
    expected = recon + b * torch.clamp(kl - 4.0 * math.log(2), min=0).mean()
    torch.testing.assert_close(loss, expected)
    assert stats["kl"] == pytest.approx(kl.mean().item(), rel=1e-5) and stats["beta"] == pytest.approx(b)


def test_input_dropout_zeroes_teacher_forced_inputs_and_needs_teacher_forcing():
    from musicneurons.errors import InvalidParameterError
    from musicneurons.melody import corpus_melodies
    from musicneurons.tables import array_column

    with pytest.raises(InvalidParameterError, match="'input_dropout' of ModelConfig 'tiny' drops teacher-forced"):
        _tiny(input_dropout=0.5, sampling_schedule="constant", sampling_rate=0.5)
    with pytest.raises(InvalidParameterError, match=r"must lie in \[0, 1\]; got 1.5"):
        _tiny(input_dropout=1.5)
    events = torch.as_tensor(array_column(corpus_melodies(bars=2, max_tunes=3, progress=False), "events")[:4]).long()
    torch.manual_seed(0)
    model = MusicVAE(_tiny(input_dropout=1.0))
    onehot, z = model.one_hot(events), torch.randn(4, 8)
    # Dropping step t's input changes the logits from step t on, never before; dropping none is plain teacher forcing.
    drop = torch.zeros(events.shape, dtype=torch.bool)
    drop[:, 10] = True
    plain, dropped = model.teacher_forced_logits(z, onehot), model.teacher_forced_logits(z, onehot, drop)
    torch.testing.assert_close(model.teacher_forced_logits(z, onehot, torch.zeros_like(drop)), plain)
    assert torch.equal(dropped[:, :10], plain[:, :10]) and (dropped[:, 10] - plain[:, 10]).abs().min() > 0
    # With probability 1 every input is the zero vector: the loss is that of a decoder fed zeros.
    loss, _ = loss_terms(model, events, 0, torch.Generator().manual_seed(1))
    mu, sigma = model.encoder(onehot)
    z = mu + sigma * torch.randn(mu.shape, generator=torch.Generator().manual_seed(1))
    logits = model.decoder.teacher_forced(z, torch.zeros_like(onehot))
    recon = torch.nn.functional.cross_entropy(logits.reshape(-1, 90), events.reshape(-1), reduction="sum") / 4
    torch.testing.assert_close(loss, recon)  # beta(0) = 0


def test_global_norm_clipping_and_zeroing():
    events = torch.randint(0, 90, (4, 32), generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    model = MusicVAE(_tiny(grad_clip=0.5))
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1.0)
    stats = train_step(model, opt, events, 0, seed=0)
    assert stats["grad_norm"] > 0.5
    norm = torch.linalg.vector_norm(torch.cat([p.grad.ravel() for p in model.parameters() if p.requires_grad]))
    assert norm.item() == pytest.approx(0.5, rel=1e-5)

    torch.manual_seed(0)
    model = MusicVAE(_tiny(grad_norm_clip_to_zero=1e-3))
    before = [p.detach().clone() for p in model.parameters()]
    train_step(model, torch.optim.SGD(model.parameters(), lr=1.0), events, 0, seed=0)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_same_seed_same_run_and_resume_is_exact(tmp_path):
    rng = np.random.default_rng(0)
    events = rng.integers(0, 90, (40, 32)).astype(np.int8)
    config = _tiny(sampling_schedule="inverse_sigmoid", sampling_rate=2.0, transpose_range=5)
    kwargs = dict(eval_every=4, log_every=2, progress=False, eval_windows=8)
    train(config, tmp_path / "a", events[:32], events[32:], steps=6, **kwargs)
    train(config, tmp_path / "b", events[:32], events[32:], steps=6, **kwargs)
    train(config, tmp_path / "c", events[:32], events[32:], steps=3, **kwargs)  # interrupted ...
    train(config, tmp_path / "c", events[:32], events[32:], steps=6, **kwargs)  # ... and resumed
    a, b, c = (load_model(tmp_path / x).state_dict() for x in "abc")
    assert all(torch.equal(a[k], b[k]) and torch.equal(a[k], c[k]) for k in a)
    logs = [pd.read_csv(tmp_path / x / "train_log.csv").drop(columns="wall_s") for x in "abc"]
    pd.testing.assert_frame_equal(logs[0], logs[1])
    pd.testing.assert_frame_equal(logs[0], logs[2])
    assert list(logs[0]["step"]) == [2, 4, 6] and logs[0]["argmax_accuracy"].notna().tolist() == [False, True, False]
    assert (tmp_path / "a" / "loss_curve.png").is_file()


def test_a_warm_start_continues_the_run_under_new_training_settings(tmp_path):
    from musicneurons.errors import InvalidParameterError

    events = np.random.default_rng(0).integers(0, 90, (40, 32)).astype(np.int8)
    config = _tiny(max_beta=0.5, beta_rate=0.9, sampling_schedule="inverse_sigmoid", sampling_rate=2.0)
    kwargs = dict(eval_every=4, log_every=1, progress=False, eval_windows=8)
    train(config, tmp_path / "whole", events[:32], events[32:], steps=6, **kwargs)
    train(config, tmp_path / "first", events[:32], events[32:], steps=3, **kwargs)
    # The same settings from the first run's state: the uninterrupted run, step for step.
    train(config, tmp_path / "same", events[:32], events[32:], steps=6, warm_start=tmp_path / "first", **kwargs)
    whole, same = (load_model(tmp_path / x).state_dict() for x in ("whole", "same"))
    assert all(torch.equal(whole[k], same[k]) for k in whole)
    # New KL settings: the step count and the log go on, the new beta applies from step 4, the change is recorded.
    changed = config.replace(max_beta=0.25, free_bits=2.0)
    train(changed, tmp_path / "new", events[:32], events[32:], steps=6, warm_start=tmp_path / "first", **kwargs)
    log = pd.read_csv(tmp_path / "new" / "train_log.csv")
    assert list(log["step"]) == [1, 2, 3, 4, 5, 6]
    assert log["beta"].tolist()[:3] == pytest.approx([beta(config, s) for s in (0, 1, 2)])
    assert log["beta"].tolist()[3:] == pytest.approx([beta(changed, s) for s in (3, 4, 5)])
    phases = json.loads((tmp_path / "new" / "metrics.json").read_text())["phases"]
    assert phases == [
        {"step": 3, "from": str(tmp_path / "first"), "changes": {"free_bits": [0.0, 2.0], "max_beta": [0.5, 0.25]}}
    ]
    card = (tmp_path / "new" / "MODEL_CARD.md").read_text()
    assert "- From step 3 (a warm start from" in card and "free_bits 0.0 -> 2.0, max_beta 0.5 -> 0.25" in card
    # Its own command only continued another run, so the card does not offer it as the way to retrain the model.
    assert "- Last command (it continued the warm start above" in card and "- Reproduce:" not in card
    assert "Retraining it takes each phase above in turn" in card
    # Resuming the warm-started run is a plain resume; an architecture change is refused by name.
    train(changed, tmp_path / "new", events[:32], events[32:], steps=7, warm_start=tmp_path / "first", **kwargs)
    assert json.loads((tmp_path / "new" / "metrics.json").read_text())["phases"] == phases
    with pytest.raises(InvalidParameterError, match=r"differs in \['dec_sizes'\] \(dec_sizes \[16\] -> \[24\]\)"):
        train(_tiny(dec_sizes=(24,)), tmp_path / "wide", events[:32], events[32:], 6, warm_start=tmp_path / "first")


def test_each_training_session_is_recorded_with_its_machine_and_command(tmp_path):
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    events = np.random.default_rng(0).integers(0, 90, (40, 32)).astype(np.int8)
    kwargs = dict(eval_every=100, progress=False, eval_windows=8)
    train(_tiny(), tmp_path / "run", events[:32], events[32:], steps=3, command="first", **kwargs)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    (only,) = metrics["sessions"]
    assert only["steps"] == [0, 3] and only["command"] == "first" and only["bf16"] is False
    assert only["hardware"].endswith(f"({os.cpu_count()} cores, {torch.get_num_threads()} torch threads)")
    assert "- Reproduce: `first`" in (tmp_path / "run" / "MODEL_CARD.md").read_text()
    # A resume adds a session; a call that trains no step (the run is done) adds none and keeps the card's commands.
    train(_tiny(), tmp_path / "run", events[:32], events[32:], steps=5, command="second", **kwargs)
    train(_tiny(), tmp_path / "run", events[:32], events[32:], steps=5, command="finish only", **kwargs)
    sessions = json.loads((tmp_path / "run" / "metrics.json").read_text())["sessions"]
    assert [(s["steps"], s["command"]) for s in sessions] == [([0, 3], "first"), ([3, 5], "second")]
    card = (tmp_path / "run" / "MODEL_CARD.md").read_text()
    assert "5 steps (40 windows)" in card and "in 2 session(s); seed 0:" in card
    assert "  - steps 0-3, 0 min: " in card and ": `first`" in card and ": `second`" in card
    assert "finish only" not in card and "- Reproduce: the sessions' commands above, in order" in card
    # A checkpoint written before sessions were recorded stands for its steps as one unrecorded session.
    path = tmp_path / "run" / "checkpoint" / "model.safetensors"
    with safe_open(str(path), "pt") as fh:
        meta = fh.metadata()
    state = json.loads(meta["state"])
    del state["sessions"]
    save_file(load_file(str(path)), str(path), metadata={**meta, "state": json.dumps(state)})
    train(_tiny(), tmp_path / "run", events[:32], events[32:], steps=6, command="third", **kwargs)
    sessions = json.loads((tmp_path / "run" / "metrics.json").read_text())["sessions"]
    assert [(s["steps"], s["command"], s["hardware"]) for s in sessions[:1]] == [([0, 5], None, None)]
    assert sessions[1]["steps"] == [5, 6] and sessions[1]["command"] == "third"
    card = (tmp_path / "run" / "MODEL_CARD.md").read_text()
    assert "  - steps 0-5, 0 min: machine and command not recorded" in card
    assert "- Reproduce: not recorded in full" in card


def test_a_hierarchical_run_can_start_from_a_flat_runs_encoder(tmp_path):
    from musicneurons.errors import InvalidParameterError

    events = np.random.default_rng(0).integers(0, 90, (40, 32)).astype(np.int8)
    kwargs = dict(eval_every=100, progress=False, eval_windows=8)
    train(_tiny(), tmp_path / "flat", events[:32], events[32:], steps=4, **kwargs)
    hier = _tiny(hierarchical=True, conductor_sizes=(12,))
    # Zero steps: the saved hierarchical model holds exactly the flat run's trained encoder, and its own decoder.
    model = train(hier, tmp_path / "hier", events[:32], events[32:], steps=0, encoder_from=tmp_path / "flat", **kwargs)
    flat = load_model(tmp_path / "flat")
    assert all(torch.equal(v, model.encoder.state_dict()[k]) for k, v in flat.encoder.state_dict().items())
    assert not torch.equal(flat.encoder.mu.weight, MusicVAE(hier).encoder.mu.weight)
    phases = json.loads((tmp_path / "hier" / "metrics.json").read_text())["phases"]
    assert phases == [{"step": 0, "encoder_from": str(tmp_path / "flat"), "source_config": "tiny", "source_steps": 4}]
    assert "- Step 0: the encoder (bi-LSTM, mu and sigma layers) taken from" in (
        (tmp_path / "hier" / "MODEL_CARD.md").read_text()
    )
    # A resume keeps its own encoder (the source is not read again); a saved model folder is a source too.
    train(hier, tmp_path / "hier", events[:32], events[32:], steps=2, encoder_from=tmp_path / "missing", **kwargs)
    saved = tmp_path / "saved"
    saved.mkdir()
    for name in ("config.json", "weights.safetensors"):
        shutil.copy(tmp_path / "flat" / name, saved / name)
    again = train(hier, tmp_path / "from-folder", events[:32], events[32:], steps=0, encoder_from=saved, **kwargs)
    assert torch.equal(again.encoder.mu.weight, flat.encoder.mu.weight)
    with pytest.raises(
        InvalidParameterError, match=r"encoder differs in \['enc_sizes'\] \(enc_sizes \(16,\) here \(8,\)\)"
    ):
        train(_tiny(enc_sizes=(8,)), tmp_path / "narrow", events[:32], events[32:], 1, encoder_from=tmp_path / "flat")
    with pytest.raises(InvalidParameterError, match="exclude each other"):
        train(
            hier,
            tmp_path / "both",
            events[:32],
            events[32:],
            1,
            warm_start=tmp_path / "flat",
            encoder_from=tmp_path / "flat",
        )


def test_a_new_encoder_can_be_trained_against_another_runs_decoder(tmp_path):
    from musicneurons.errors import InvalidParameterError

    events = np.random.default_rng(0).integers(0, 90, (40, 32)).astype(np.int8)
    kwargs = dict(eval_every=100, progress=False, eval_windows=8)
    train(_tiny(), tmp_path / "flat", events[:32], events[32:], steps=4, **kwargs)
    segmented = _tiny(enc_level_lengths=(4, 8))  # a hierarchical encoder: another encoder shape, the same decoder
    model = train(
        segmented, tmp_path / "seg", events[:32], events[32:], steps=0, decoder_from=tmp_path / "flat", **kwargs
    )
    flat = load_model(tmp_path / "flat")
    assert all(torch.equal(v, model.decoder.state_dict()[k]) for k, v in flat.decoder.state_dict().items())
    torch.manual_seed(0)  # train's seed: the encoder keeps the initial weights that seed gives
    assert torch.equal(model.encoder.mu.weight, MusicVAE(segmented).encoder.mu.weight)
    phases = json.loads((tmp_path / "seg" / "metrics.json").read_text())["phases"]
    assert phases == [{"step": 0, "decoder_from": str(tmp_path / "flat"), "source_config": "tiny", "source_steps": 4}]
    card = (tmp_path / "seg" / "MODEL_CARD.md").read_text()
    assert "- Step 0: the decoder (every decoder layer) taken from" in card
    assert "after 4 steps); the encoder started from its initial weights." in card
    # Both parts borrowed: each line names its source and neither claims the other part started fresh.
    both = train(_tiny(), tmp_path / "both", events[:32], events[32:], 0, encoder_from=tmp_path / "flat",
                 decoder_from=tmp_path / "flat", **kwargs)  # fmt: skip
    assert torch.equal(both.decoder.output_projection.weight, flat.decoder.output_projection.weight)
    card = (tmp_path / "both" / "MODEL_CARD.md").read_text()
    assert "initial weights" not in card and card.count("- Step 0: the ") == 2
    with pytest.raises(InvalidParameterError, match=r"decoder differs in \['dec_sizes'\]"):
        train(_tiny(dec_sizes=(8,)), tmp_path / "narrow", events[:32], events[32:], 1, decoder_from=tmp_path / "flat")
    with pytest.raises(InvalidParameterError, match="--warm-start and --decoder-from exclude each other"):
        train(_tiny(), tmp_path / "x", events[:32], events[32:], 1, warm_start=tmp_path / "flat",
              decoder_from=tmp_path / "flat")  # fmt: skip


def test_a_checkpoint_older_than_a_config_field_resumes_and_warm_starts_with_its_default(tmp_path):
    from musicneurons.errors import InvalidParameterError
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    events = np.random.default_rng(0).integers(0, 90, (40, 32)).astype(np.int8)
    kwargs = dict(eval_every=4, log_every=1, progress=False, eval_windows=8)
    train(_tiny(), tmp_path / "old", events[:32], events[32:], steps=2, **kwargs)
    path = tmp_path / "old" / "checkpoint" / "model.safetensors"
    with safe_open(str(path), "pt") as f:
        meta = f.metadata()
    state = json.loads(meta["state"])
    del state["config"]["input_dropout"]  # as written before 3 Dec 2026
    save_file(load_file(str(path)), str(path), metadata={**meta, "state": json.dumps(state)})
    train(
        _tiny(input_dropout=0.5), tmp_path / "new", events[:32], events[32:], 4, warm_start=tmp_path / "old", **kwargs
    )
    phases = json.loads((tmp_path / "new" / "metrics.json").read_text())["phases"]
    assert phases[0]["changes"] == {"input_dropout": [0.0, 0.5]}
    assert "input dropout 0.5 (each previous-token input zeroed" in (tmp_path / "new" / "MODEL_CARD.md").read_text()
    # A plain resume of the old file goes on; other settings are refused by name.
    train(_tiny(), tmp_path / "old", events[:32], events[32:], 3, **kwargs)
    assert json.loads((tmp_path / "old" / "metrics.json").read_text())["steps"] == 3
    with pytest.raises(InvalidParameterError, match=r"with other settings \(input_dropout, max_beta\)"):
        train(_tiny(max_beta=0.5, input_dropout=0.1), tmp_path / "old", events[:32], events[32:], 4, **kwargs)


def test_max_minutes_counts_the_whole_run_and_says_when_nothing_is_left(tmp_path, capsys):
    events = np.random.default_rng(0).integers(0, 90, (40, 32)).astype(np.int8)
    kwargs = dict(eval_every=4, log_every=1, progress=False, eval_windows=8)
    train(_tiny(), tmp_path / "first", events[:32], events[32:], steps=3, **kwargs)
    capsys.readouterr()
    # A warm start carries the first run's wall time, which already exceeds a budget of 1e-6 minutes.
    train(
        _tiny(),
        tmp_path / "next",
        events[:32],
        events[32:],
        6,
        warm_start=tmp_path / "first",
        max_minutes=1e-6,
        **kwargs,
    )
    err = capsys.readouterr().err
    assert (
        "already reaches --max-minutes 1e-06, which counts the whole run; no step trained (it stays at step 3)" in err
    )
    assert json.loads((tmp_path / "next" / "metrics.json").read_text())["steps"] == 3


def test_small_model_overfits_16_corpus_windows(tmp_path):
    from musicneurons.melody import corpus_melodies
    from musicneurons.tables import array_column

    events = np.unique(array_column(corpus_melodies(bars=2, max_tunes=20, progress=False), "events"), axis=0)[
        :16
    ].astype(np.int8)
    assert len(events) == 16
    config = _tiny(
        z_size=32, enc_sizes=(128,), dec_sizes=(128,), batch_size=16, learning_rate=1e-2, max_beta=0.0, decay_rate=1.0
    )
    # Full batch, teacher forcing, no KL: exact reconstruction arrives at 225-300 steps on Intel and AMD CPUs (their
    # float32 kernels round differently); 600 steps leave a margin of 2x on both, and the model stays exact after.
    model = train(config, tmp_path, events, events, steps=600, eval_every=1000, progress=False)
    np.testing.assert_array_equal(model.reconstruct(events), events)


class _Planted:
    """Pickling this runs code on load: a planted checkpoint.pt must never be unpickled."""

    def __reduce__(self):
        return (exec, ("import pathlib; pathlib.Path(__import__('os').environ['PLANTED']).write_text('ran')",))


def test_training_state_is_safetensors_and_a_planted_pickle_is_never_loaded(tmp_path, monkeypatch, capsys):
    import pickle

    events = np.random.default_rng(0).integers(0, 90, (24, 32)).astype(np.int8)
    monkeypatch.setenv("PLANTED", str(tmp_path / "ran"))
    run = tmp_path / "run"
    run.mkdir()
    (run / "checkpoint.pt").write_bytes(pickle.dumps(_Planted()))
    train(_tiny(), run, events[:16], events[16:], steps=2, progress=False, eval_windows=8)
    assert not (tmp_path / "ran").exists() and "never loaded" in capsys.readouterr().err
    names = sorted(p.name for p in (run / "checkpoint").iterdir())
    assert names == [
        "adam_exp_avg.safetensors",
        "adam_exp_avg_sq.safetensors",
        "adam_step.safetensors",
        "model.safetensors",
    ]
    assert all(open(run / "checkpoint" / n, "rb").read(8) != b"\x80\x04\x95" for n in names)  # not pickles


def test_a_crash_between_checkpoint_renames_resumes_from_the_old_state(tmp_path):
    events = np.random.default_rng(0).integers(0, 90, (24, 32)).astype(np.int8)
    kwargs = dict(progress=False, eval_windows=8, log_every=1)
    train(_tiny(), tmp_path / "a", events[:16], events[16:], steps=4, **kwargs)
    train(_tiny(), tmp_path / "b", events[:16], events[16:], steps=2, **kwargs)
    (tmp_path / "b" / "checkpoint").rename(tmp_path / "b" / "checkpoint.old")  # as if killed mid-swap
    train(_tiny(), tmp_path / "b", events[:16], events[16:], steps=4, **kwargs)
    a, b = (load_model(tmp_path / x).state_dict() for x in "ab")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_a_damaged_checkpoint_is_a_clear_error(tmp_path):
    from musicneurons.model import ModelFileError

    events = np.random.default_rng(0).integers(0, 90, (24, 32)).astype(np.int8)
    train(_tiny(), tmp_path, events[:16], events[16:], steps=2, progress=False, eval_windows=8)
    path = tmp_path / "checkpoint" / "adam_exp_avg.safetensors"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ModelFileError, match="checkpoint: not a readable training checkpoint"):
        train(_tiny(), tmp_path, events[:16], events[16:], steps=4, progress=False)


def test_bf16_request_falls_back_to_float32_where_the_cpu_lacks_it(tmp_path, capsys):
    from musicneurons.model.train import bf16_supported

    events = np.random.default_rng(0).integers(0, 90, (24, 32)).astype(np.int8)
    train(_tiny(), tmp_path, events[:16], events[16:], steps=2, progress=False, eval_windows=8, bf16=True)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["bf16"] is bf16_supported("cpu")
    assert ("training in float32 instead" in capsys.readouterr().err) is (not bf16_supported("cpu"))


def test_training_windows_round_trip_and_bad_files_are_named(tmp_path):
    from musicneurons.errors import InvalidParameterError
    from musicneurons.model.training_data import load_training_windows, save_training_windows

    events = np.random.default_rng(0).integers(0, 90, (10, 32)).astype(np.int8)
    save_training_windows(tmp_path / "w.npz", events[:8], events[8:], "ten random windows")
    train_ev, held, data = load_training_windows(tmp_path / "w.npz", bars=2)
    np.testing.assert_array_equal(train_ev, events[:8])
    np.testing.assert_array_equal(held, events[8:])
    assert data == "ten random windows"
    with pytest.raises(InvalidParameterError, match=r"w.npz: 'train' must be .* shape \(n, 256\)"):
        load_training_windows(tmp_path / "w.npz", bars=16)
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(InvalidParameterError, match="bad.npz: not a training-windows .npz"):
        load_training_windows(tmp_path / "bad.npz", bars=2)
