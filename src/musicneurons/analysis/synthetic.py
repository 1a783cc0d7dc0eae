"""Synthetic encodings and features with planted structure, to check and demonstrate the analyses.

A :class:`PlantedStudy` knows its answers: which neurons are music neurons and in which order, and
which feature depends on which neuron and how. :func:`planted_latents` makes latent tables of the shapes
the split rule must tell apart (:data:`PROFILES`). Symbols: ``n`` windows, ``z`` neurons, ``b`` features.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["PlantedStudy", "planted_study", "planted_latents", "KINDS", "PROFILES"]

# How a planted feature depends on its neuron's mu m (plus Gaussian noise of 0.2 unless stated).
KINDS = {
    "linear": lambda m: m,
    "tanh": lambda m: np.tanh(2 * m),
    "square": lambda m: m**2,  # non-monotone: phik sees it, Spearman does not
    "exp": lambda m: np.exp(-m),  # monotone decreasing
    "rounded": lambda m: np.round(2 * m),  # few distinct values
}
_CATEGORY = {"P": "pitch", "R": "rhythm", "M": "melody"}


@dataclass(frozen=True)
class PlantedStudy:
    """Real and random encodings with features, and the planted truth.

    Attributes
    ----------
    real_mu, real_sigma : ndarray of shape (n_real, z), dtype=float32
    random_mu, random_sigma : ndarray of shape (n_random, z), dtype=float32
    real_features, random_features : DataFrame of shape (n, b)
        Planted features, then a constant column ``R30`` and a duplicate ``R24`` of the first rhythm
        feature; 5 % NaN in every third planted feature.
    catalogue : DataFrame
        ``id``, ``category``.
    music_order : ndarray of shape (n_music,), dtype=int64
        The music neurons from the most to the least specific.
    planted : DataFrame
        ``feature_id``, ``neuron``, ``kind``, ``category`` of each planted feature.
    """

    real_mu: np.ndarray
    real_sigma: np.ndarray
    real_features: pd.DataFrame
    random_mu: np.ndarray
    random_sigma: np.ndarray
    random_features: pd.DataFrame
    catalogue: pd.DataFrame
    music_order: np.ndarray
    planted: pd.DataFrame


def _mean_sigma(z, music_order, profile):
    """Mean sigma per neuron (z,): a clean split, or one smooth ramp without a gap ("smooth")."""
    if profile == "smooth":  # like an under-trained model: 0.26 .. 0.87, evenly spread, music neurons first
        mean_sigma = np.empty(z)
        rest = np.setdiff1d(np.arange(z), music_order)
        mean_sigma[np.r_[music_order, rest]] = np.linspace(0.26, 0.87, z)
        return mean_sigma
    mean_sigma = np.linspace(0.95, 0.999, z)  # noise neurons: distinct means close to 1
    mean_sigma[music_order] = np.linspace(0.05, 0.4, music_order.size)
    return mean_sigma


def _encodings(rng, n, z, music_order, spread, profile="split", noise_spread=0.03):
    """mu, sigma (n, z) float32: music neurons carry N(0, spread^2) mu, noise neurons N(0, noise_spread^2)."""
    n_music = music_order.size
    sigma = _mean_sigma(z, music_order, profile) * rng.uniform(0.98, 1.02, (n, z))
    mu = rng.normal(0.0, noise_spread, (n, z))  # 0.03: variance 0.0009 < 0.01, not an active unit
    mu[:, music_order] = rng.normal(0.0, spread, (n, n_music))
    return mu.astype(np.float32), sigma.astype(np.float32)


def _features(rng, mu, planted):
    """Planted features of mu plus a constant and a duplicate column (float64, NaN in every third)."""
    columns = {}
    for i, row in enumerate(planted.itertuples()):
        values = KINDS[row.kind](mu[:, row.neuron].astype(np.float64))
        if row.kind != "rounded":
            values = values + rng.normal(0.0, 0.2, len(values))
        if i % 3 == 2:
            values[rng.random(len(values)) < 0.05] = np.nan
        columns[row.feature_id] = values
    columns["R30"] = np.full(len(mu), 120.0)
    first_rhythm = planted.loc[planted["category"] == "rhythm", "feature_id"].iloc[0]
    columns["R24"] = columns[first_rhythm].copy()
    return pd.DataFrame(columns)


def planted_study(
    n_real=2000, n_random=2000, z=64, n_music=8, n_features=15, seed=0, sigma_profile="split", noise_spread=0.03
):
    """Make a study with known music neurons and known feature dependences.

    The music neurons sit at random indices with mean sigma rising from 0.05 to 0.4 in
    ``music_order``; noise neurons have mean sigma in [0.95, 0.999] and mu of standard deviation
    ``noise_spread`` (0.03: variance 0.0009). With ``sigma_profile="smooth"`` the mean sigma of all
    neurons instead rises evenly from 0.26 to 0.87 (the music neurons first): no split. Feature
    ``k`` depends on music neuron ``k mod n_music`` with kind ``KINDS[k mod 5]`` and category P, R, M in
    turn. Random windows have a wider spread of the music neurons and |mu| up to 0.3 on noise neurons.

    Parameters
    ----------
    n_real, n_random : int
        Windows of each set.
    z : int
        Latent size.
    n_music : int
        Music neurons.
    n_features : int
        Planted features (two more columns are added: a constant and a duplicate).
    seed : int
    sigma_profile : {"split", "smooth"}
    noise_spread : float
        Standard deviation of the noise neurons' mu on the real windows (a noise block that carries signal
        when large).

    Returns
    -------
    PlantedStudy
    """
    rng = np.random.default_rng(seed)
    music_order = rng.permutation(z)[:n_music].astype(np.int64)
    kinds = list(KINDS)
    letters = "PRM"
    planted = pd.DataFrame(
        {
            "feature_id": [f"{letters[k % 3]}{k + 1}" for k in range(n_features)],
            "neuron": [int(music_order[k % n_music]) for k in range(n_features)],
            "kind": [kinds[k % len(kinds)] for k in range(n_features)],
            "category": [_CATEGORY[letters[k % 3]] for k in range(n_features)],
        }
    )
    real_mu, real_sigma = _encodings(rng, n_real, z, music_order, 1.0, sigma_profile, noise_spread)
    random_mu, random_sigma = _encodings(rng, n_random, z, music_order, 1.5, sigma_profile)
    noise = np.setdiff1d(np.arange(z), music_order)
    random_mu[:, noise] = rng.normal(0.0, 0.15, (n_random, noise.size)).astype(np.float32)
    real_features = _features(rng, real_mu, planted)
    catalogue = pd.DataFrame(
        {"id": list(real_features.columns), "category": [_CATEGORY[c[0]] for c in real_features.columns]}
    )
    return PlantedStudy(
        real_mu=real_mu,
        real_sigma=real_sigma,
        real_features=real_features,
        random_mu=random_mu,
        random_sigma=random_sigma,
        random_features=_features(rng, random_mu, planted),
        catalogue=catalogue,
        music_order=music_order,
        planted=planted,
    )


#: The latent profiles of :func:`planted_latents` and what the split rule must answer on each.
PROFILES = {
    "graded": "a pile at the prior under a graded tail of k used neurons: k music neurons",
    "sharp": "a pile at the prior under k neurons well below it: k music neurons",
    "ramp": "mean sigma rising evenly from 0.05 to 0.999 over every neuron, no pile: no split",
    "all_used": "every neuron used, mean sigma spread geometrically from 0.05 to 0.95: no split",
    "all_prior": "every neuron in the pile at the prior: no split",
}


def planted_latents(profile, *, k=40, z=512, n=2000, pile_activity=1e-3, jitter=0.05, seed=0):
    """Encodings of ``n`` windows with a planted latent profile (:data:`PROFILES`); the used neurons first.

    Each neuron j has a mean sigma ``s_j`` and an activity ``A_j``, tied by the variance law
    ``A_j = 1 - s_j^2``: ``mu`` is drawn N(0, A_j) per window and ``sigma = s_j * exp(N(0, jitter^2))`` per
    window (the per-window jitter). Used neurons: ``"graded"`` spreads their mean sigma geometrically from 0.05
    to 0.95 (activity 0.9975 down to 0.0975), ``"sharp"`` evenly from 0.05 to 0.3. The pile: activity
    ``pile_activity * 10^N(0, 0.2^2)`` per neuron (a tight pile on the log scale), mean sigma from the law.

    Parameters
    ----------
    profile : {"graded", "sharp", "ramp", "all_used", "all_prior"}
    k : int
        Used neurons of ``"graded"`` and ``"sharp"`` (1 <= k < z).
    z, n : int
    pile_activity : float
        Median activity of the pile.
    jitter : float
        Per-window spread of log sigma.
    seed : int

    Returns
    -------
    mu, sigma : ndarray of shape (n, z), dtype=float64
    used : ndarray of shape (z,), dtype=bool
        The planted used neurons (the first k for "graded" and "sharp", all for "all_used" and "ramp").
    """
    rng = np.random.default_rng(seed)
    pile = pile_activity * 10.0 ** rng.normal(0.0, 0.2, z)
    used = np.zeros(z, dtype=bool)
    if profile in ("graded", "sharp"):
        activity = pile.copy()
        low = 0.95 if profile == "graded" else 0.3
        s = 0.05 * (low / 0.05) ** (np.arange(k) / max(k - 1, 1)) if profile == "graded" else np.linspace(0.05, low, k)
        activity[:k], used[:k] = 1.0 - s**2, True
    elif profile == "ramp":
        activity, used[:] = 1.0 - np.linspace(0.05, 0.999, z) ** 2, True
    elif profile == "all_used":
        activity, used[:] = 1.0 - (0.05 * 19.0 ** (np.arange(z) / (z - 1))) ** 2, True
    elif profile == "all_prior":
        activity = pile
    else:
        raise ValueError(f"unknown profile {profile!r}: one of {', '.join(PROFILES)}")
    mean_sigma = np.sqrt(1.0 - activity)
    mu = rng.normal(0.0, 1.0, (n, z)) * np.sqrt(activity)
    sigma = mean_sigma * np.exp(rng.normal(0.0, jitter, (n, z)))
    return mu, sigma, used
