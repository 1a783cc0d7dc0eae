"""Held-out metrics of a MusicVAE: reconstruction, the latent neurons' profile and the acceptance figures.

The acceptance figures are those the shipped models are held to (printed in each model card): argmax-from-mu
token accuracy against the always-hold baseline, a music/noise split by the study's own rule
(:func:`musicneurons.analysis.split.detect_split`: a pile at the prior under the used neurons), and noise
neurons (the pile) that are noise (tiny spread of mu, and zeroing their mu costs almost no accuracy).
"""

import numpy as np

from ..analysis.ablation import AS_IS, ablation_accuracies
from ..melody.events import HOLD

__all__ = [
    "reconstruction_metrics",
    "sigma_profile",
    "sigma_jump",
    "acceptance_metrics",
    "ACCEPTANCE",
]

#: Thresholds of the acceptance figures: the largest median var(mu) of the noise neurons and the largest accuracy
#: cost of zeroing their mu, the smallest margin of token accuracy over the always-hold baseline, and the
#: smallest accuracy per window length. The split itself is the study's rule (it must find one).
ACCEPTANCE = {
    "max_noise_var_mu": 0.005,
    "max_ablation_cost": 0.01,
    "min_margin_over_hold": 0.15,
    "min_accuracy": {2: 0.90, 16: 0.80},
}


def reconstruction_metrics(model, events, batch_size=512):
    """Reconstruction quality on windows, all decoded from mu.

    Parameters
    ----------
    model : MusicVAE
    events : ndarray of shape (n, T), dtype=int8
        Held-out windows.
    batch_size : int

    Returns
    -------
    dict of float
        ``tf_accuracy``: teacher-forced argmax token accuracy; ``argmax_accuracy``: token accuracy of
        the free-running argmax decode; ``nonhold_accuracy``: the same on steps whose target is not a
        hold; ``exact_share``: share of windows decoded exactly; ``hold_baseline``: accuracy of always
        predicting a hold; ``mean_sigma``: mean posterior sigma; ``n_windows``.
    """
    mu, sigma = model.encode(events, batch_size=batch_size)
    decoded = model.decode(mu, batch_size=batch_size)
    tf_hits = np.concatenate(
        [
            model.decoder_logits(mu[s : s + batch_size], events[s : s + batch_size]).argmax(-1)
            == events[s : s + batch_size]
            for s in range(0, len(events), batch_size)
        ]
    )
    hits = decoded == events
    nonhold = events != HOLD
    return {
        "tf_accuracy": float(tf_hits.mean()),
        "argmax_accuracy": float(hits.mean()),
        "nonhold_accuracy": float(hits[nonhold].mean()),
        "exact_share": float(hits.all(axis=1).mean()),
        "hold_baseline": float((~nonhold).mean()),
        "mean_sigma": float(sigma.mean()),
        "n_windows": int(len(events)),
    }


def sigma_profile(model, events, batch_size=512):
    """Mean posterior sigma of each latent neuron over ``events`` (n, T), sorted ascending -> (z,) float32."""
    _, sigma = model.encode(events, batch_size=batch_size)
    return np.sort(sigma.mean(axis=0))


def sigma_jump(mean_sigma):
    """The largest jump in sorted mean sigma: (neurons below it, jump size); (0, 0.0) for fewer than 2 neurons.

    Training's latent alignment (:mod:`.alignment`) takes the neurons above it as the noise block to rotate; the
    study and the acceptance figures use :func:`musicneurons.analysis.split.detect_split` instead.

    Parameters
    ----------
    mean_sigma : ndarray of shape (z,)
        Mean posterior sigma per neuron, in any order.
    """
    s = np.sort(np.asarray(mean_sigma, np.float64))
    if len(s) < 2:
        return 0, 0.0
    gaps = np.diff(s)
    k = int(np.argmax(gaps))
    return k + 1, float(gaps[k])


def acceptance_metrics(model, events, batch_size=512):
    """The acceptance figures of a model on held-out windows, each with its verdict.

    The music neurons are those the study's split rule finds on these windows
    (:func:`musicneurons.analysis.neurons.split_neurons`); the noise neurons are the pile at the prior. Without a
    split the split figure fails, and the noise figures read the neurons below the rule's clearest boundary.

    Parameters
    ----------
    model : MusicVAE
    events : ndarray of shape (n, T), dtype=int8
        Held-out windows.

    Returns
    -------
    dict
        ``argmax_accuracy``, ``hold_baseline``, ``exact_share``, ``kl_total`` (nats a window), ``split_found``,
        ``split_reason``, ``n_music`` (music neurons, 0 without a split), ``n_sigma_below_0.9``,
        ``noise_median_var_mu``, ``noise_ablation_accuracy`` / ``music_ablation_accuracy`` (music neurons' mu
        zeroed instead), ``ablation_cost``, ``kl_share_music`` and ``passes``: one bool per criterion.
    """
    from ..analysis.neurons import split_neurons

    mu, sigma = model.encode(events, batch_size=batch_size)
    split = split_neurons(mu, sigma)
    detection, profile = split.detection, split.profile
    used = detection.used
    music, noise = np.flatnonzero(used), np.flatnonzero(~used)
    table = ablation_accuracies(
        lambda z: model.decode(z, batch_size=batch_size), mu, events, {"noise": noise, "music": music}
    ).set_index("condition")
    acc, exact = float(table.loc[AS_IS, "token_accuracy"]), float(table.loc[AS_IS, "exact_share"])
    noise_acc, music_acc = float(table.loc["noise", "token_accuracy"]), float(table.loc["music", "token_accuracy"])
    baseline = float((events == HOLD).mean())
    kl = profile.kl
    out = {
        "n_windows": int(len(events)),
        "argmax_accuracy": acc,
        "hold_baseline": baseline,
        "exact_share": exact,
        "kl_total": float(kl.sum()),
        "kl_share_music": float(kl[music].sum() / max(kl.sum(), 1e-12)),
        "split_found": bool(detection.found),
        "split_reason": detection.reason,
        "n_music": detection.count if detection.found else 0,
        "n_sigma_below_0.9": int((profile.mean_sigma < 0.9).sum()),
        "noise_median_var_mu": float(np.median(profile.activity[noise])) if len(noise) else 0.0,
        "noise_ablation_accuracy": noise_acc,
        "music_ablation_accuracy": music_acc,
        "ablation_cost": acc - noise_acc,
    }
    a = ACCEPTANCE
    out["passes"] = {
        "accuracy": acc >= a["min_accuracy"][model.config.bars],
        "margin_over_hold": acc >= baseline + a["min_margin_over_hold"],
        "split": bool(detection.found),
        "noise_var_mu": out["noise_median_var_mu"] <= a["max_noise_var_mu"],
        "noise_ablation": out["ablation_cost"] <= a["max_ablation_cost"],
    }
    return out
