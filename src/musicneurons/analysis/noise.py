"""The noise test: are the noise neurons noise (mu ~ 0, sigma ~ 1, unused by the decoder)? Paper §3.

Arrays in, a verdict out: the decoder's part comes in as the table of
:func:`~musicneurons.analysis.ablation.ablation_accuracies` (the study decodes with the model and passes it).
Rule (:data:`RULE`, with ``{max_drop}``): "noise neurons are unused" only when setting their mu to 0 costs at most
``MAX_DROP`` = 0.01 token accuracy and the control, setting the music neurons' mu to 0, costs more (when the
control costs as little, the decoder barely uses the latent code at all and the ablation cannot show anything
about the noise neurons); a larger cost says the decoder uses them; without an ablation, without a music/noise
split (the noise neurons are the detected pile at the prior, :mod:`.split`), or without noise neurons, the test
cannot tell.
Symbols: ``n`` windows, ``z`` neurons.
"""

import numpy as np

from .ablation import AS_IS, MUSIC_ZEROED, NOISE_ZEROED
from .inputs import check_latents

__all__ = ["MAX_DROP", "RULE", "noise_statistics", "noise_test"]

MAX_DROP = 0.01
RULE = (
    "noise neurons are unused when setting their mu to 0 costs at most {max_drop} token accuracy while setting "
    "the music neurons' mu to 0 costs more; used when it costs more; cannot tell without a decoder ablation, "
    "without a split, or when zeroing the music neurons costs at most {max_drop} too"
)


def noise_statistics(mu, sigma, noise):
    """How far the noise neurons are from the prior N(0, 1) on the real windows.

    Parameters
    ----------
    mu, sigma : ndarray of shape (n, z), float
    noise : ndarray of shape (z,), dtype=bool
        The noise neurons.

    Returns
    -------
    dict
        ``neurons``; ``mean_abs_mu`` (mean |mu| over windows and noise neurons, 0 for the prior's mean);
        ``var_mu`` (the noise neurons' variance of mu across windows, averaged; 0 when mu never moves);
        ``max_var_mu``; ``mean_sigma`` (1 for the prior); NaN values without noise neurons.
    """
    mu, sigma = check_latents(mu, sigma, "noise_statistics")
    noise = np.asarray(noise, dtype=bool)
    if not noise.any():
        return {"neurons": 0, "mean_abs_mu": np.nan, "var_mu": np.nan, "max_var_mu": np.nan, "mean_sigma": np.nan}
    var = mu[:, noise].var(axis=0)
    return {
        "neurons": int(noise.sum()),
        "mean_abs_mu": float(np.abs(mu[:, noise]).mean()),
        "var_mu": float(var.mean()),
        "max_var_mu": float(var.max()),
        "mean_sigma": float(sigma[:, noise].mean()),
    }


def noise_test(statistics, ablation=None, max_drop=MAX_DROP, split_found=True):
    """The verdict of the noise test from the noise statistics and the decoder ablation.

    Parameters
    ----------
    statistics : dict
        From :func:`noise_statistics`.
    ablation : DataFrame, optional
        From :func:`~musicneurons.analysis.ablation.ablation_accuracies`, with the conditions
        :data:`NOISE_ZEROED` and (optionally) :data:`MUSIC_ZEROED` beside :data:`AS_IS`.
    max_drop : float
    split_found : bool
        Whether the analysis found a music/noise split; without one the other neurons are not noise neurons
        and the test cannot tell (their statistics are still reported).

    Returns
    -------
    dict
        ``statistics``; ``ablation`` (list of row dicts, or None); ``noise_drop`` and ``music_drop`` (token
        accuracy lost, or None); ``verdict`` (``"noise neurons are unused"``, ``"noise neurons are used by
        the decoder"`` or ``"cannot tell"``); ``note`` (why, in one sentence); ``rule``.
    """
    drops = {}
    if ablation is not None:
        drops = dict(zip(ablation["condition"], ablation["accuracy_drop"].astype(float)))
    noise_drop, music_drop = drops.get(NOISE_ZEROED), drops.get(MUSIC_ZEROED)
    if not statistics.get("neurons"):
        verdict, note = "cannot tell", "There are no noise neurons to test."
    elif not split_found:
        verdict = "cannot tell"
        note = (
            "The model shows no music/noise split (no pile at the prior), so there are no noise neurons to test; "
            "the numbers below are those of the neurons outside the analysed group."
        )
    elif noise_drop is None:
        verdict, note = "cannot tell", "No decoder ablation was run (the study needs the model's decoder)."
    elif noise_drop <= max_drop and music_drop is not None and music_drop <= max_drop:
        verdict = "cannot tell"
        note = (
            f"Setting the noise neurons' mu to 0 costs {noise_drop:.4f} token accuracy, but setting the music "
            f"neurons' mu to 0 costs only {music_drop:.4f} too: the decoder barely uses the latent code at all, "
            "so the ablation cannot show whether the noise neurons are used."
        )
    elif noise_drop <= max_drop:
        verdict = "noise neurons are unused"
        note = f"Setting the noise neurons' mu to 0 costs {noise_drop:.4f} token accuracy (at most {max_drop})."
    else:
        verdict = "noise neurons are used by the decoder"
        note = f"Setting the noise neurons' mu to 0 costs {noise_drop:.4f} token accuracy (more than {max_drop})."
    as_is = None if ablation is None else ablation.loc[ablation["condition"] == AS_IS]
    return {
        "statistics": statistics,
        "ablation": None if ablation is None else ablation.to_dict("records"),
        "as_is_accuracy": None if as_is is None or as_is.empty else float(as_is["token_accuracy"].iloc[0]),
        "noise_drop": noise_drop,
        "music_drop": music_drop,
        "verdict": verdict,
        "note": note,
        "rule": RULE.format(max_drop=max_drop),
        "max_drop": max_drop,
    }
