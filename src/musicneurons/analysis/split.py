"""Music neurons and the pile at the prior: which neurons the encoder uses, how many, and how sure that is.

Symbols: ``n`` windows, ``z`` neurons. Per neuron ``j`` (:func:`neuron_profile`):

- mean sigma ``s_j``, the mean posterior sd over the windows (the paper's order, "specificity");
- activity ``A_j = Var_w(mu_wj)`` (Burda, Grosse and Salakhutdinov 2016; ddof 0);
- KL ``K_j``, the mean over windows of ``KL(N(mu, sigma^2) || N(0, 1))`` in nats.

A trained VAE leaves most neurons in a *pile* at the prior (mean sigma near 1, activity orders of magnitude
below the used neurons) under a graded tail of used neurons. Because ``E[sigma^2] + A ~ 1`` for a neuron at a
stationary point, activities from 0.001 to 0.1 all sit between mean sigma 0.9995 and 0.949: the edge of the pile
is a band 0.05 wide on the sigma axis but two decades wide on log activity. The rule therefore works on
``a = log10 A`` and ``b = log10 K`` (both floored at ``1e-12``).

The rule (:func:`detect_split`):

1. Gaussian mixtures of 1 to ``MAX_COMPONENTS`` = 4 components (a pile, a shoulder of near-prior neurons, a
   graded tail, a core; full covariances, seeded) are fitted to the points ``(a_j, b_j)``; the number of
   components is the one of least BIC. One component, or a BIC gain over one component below
   ``MIN_DELTA_BIC`` = 10 ("very strong" evidence on Kass and Raftery's scale), means the neurons form one group.
2. The components are ordered by their mean ``a``; between each pair of neighbours Ashman's
   ``D = sqrt(2) |m1 - m2| / sqrt(s1^2 + s2^2)`` is taken on ``a`` and on ``b`` and the smaller one kept. The
   boundary is the pair that separates most; the neurons assigned to the components above it are the *used*
   neurons, the rest the pile (a shoulder of near-prior neurons that separates from the pile less clearly than
   the used neurons separate from it stays in the pile).
3. A split exists when (i) the pile sits at the prior: its median mean sigma is at least ``PILE_SIGMA`` = 0.9,
   its median activity at most ``PILE_ACTIVITY`` = 0.01 (Burda's threshold) and it holds at least
   ``MIN_PILE_SHARE`` = 25 % of the neurons; (ii) the used neurons separate from the pile on both axes: Ashman's
   D between the two groups' values is at least ``MIN_SEPARATION`` = 2 on ``a`` and on ``b`` (the convention
   of Ashman, Bird and Zepf 1994), and the used neurons' median activity is at least ``MIN_DECADES`` = 1
   decade above the pile's; (iii) the count is neither 0 nor ``z``.

Otherwise there is no split, and :attr:`SplitDetection.reason` says why in words: no neuron leaves the prior
(no activity above ``PILE_ACTIVITY``), there is no pile at the prior (every neuron is used), or used and unused
do not separate. The music neurons are the used neurons when a split exists, ordered by mean sigma as the paper
orders them. The thresholds are calibrated on the planted profiles of :mod:`.synthetic` and tested on both
sides of each boundary (``tests/test_analysis_split.py``).

Beside the count (:func:`count_band`): the paper's reading (mean sigma below ``PAPER_SIGMA`` = 0.9), the active
units at ``A`` above 0.1, 0.01 and 0.001, the widest window of activity thresholds over which the count moves
by at most 20 %, and the fewest neurons that hold 95 % and 99 % of the KL.
"""

import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..errors import InvalidParameterError

__all__ = [
    "ACTIVE_THRESHOLDS",
    "MAX_COMPONENTS",
    "MIN_DECADES",
    "MIN_DELTA_BIC",
    "MIN_PILE_SHARE",
    "MIN_SEPARATION",
    "PAPER_SIGMA",
    "PILE_ACTIVITY",
    "PILE_SIGMA",
    "NeuronProfile",
    "SplitDetection",
    "activity_counts",
    "ashman_d",
    "count_band",
    "detect_split",
    "neuron_profile",
    "plot_split_counts",
    "resampled_splits",
    "split_conditions",
    "window_overlap",
    "window_split",
]

MAX_COMPONENTS = 4
MIN_DELTA_BIC = 10.0
MIN_SEPARATION = 2.0
MIN_DECADES = 1.0
PILE_SIGMA = 0.9
PILE_ACTIVITY = 0.01
MIN_PILE_SHARE = 0.25
PAPER_SIGMA = 0.9
ACTIVE_THRESHOLDS = (0.1, 0.01, 0.001)
PLATEAU_MOVE = 0.2  # the count band: thresholds over which the count moves by at most this share
WINDOW_QUANTILE = 0.005  # the pile's sigma band starts at this quantile of the pile's per-window sigma
WINDOW_MUSIC_SHARE = 0.5  # a window shows the split: at least this share of the music neurons below the band...
WINDOW_PILE_SHARE = 0.05  # ...and at most this share of the pile below it
_FLOOR = 1e-12
_SD_FLOOR = 0.01  # decades: the resolution of a group's spread in Ashman's D

RULE = (
    f"neurons on log10 activity (var of mu) and log10 KL; Gaussian mixtures of 1-{MAX_COMPONENTS} components by "
    f"BIC (gain over one component >= {MIN_DELTA_BIC:g}); the boundary where neighbouring components separate most "
    f"(Ashman's D); a split when the pile below it has median mean sigma >= {PILE_SIGMA:g}, median activity <= "
    f"{PILE_ACTIVITY:g} and >= {MIN_PILE_SHARE:.0%} of the neurons, and the used neurons above it separate from it "
    f"with D >= {MIN_SEPARATION:g} on both axes and >= {MIN_DECADES:g} decade of activity"
)


@dataclass(frozen=True)
class NeuronProfile:
    """Per-neuron statistics over a set of windows: the inputs of the split rule.

    Attributes
    ----------
    mean_sigma : ndarray of shape (z,), dtype=float64
        Mean posterior sd.
    activity : ndarray of shape (z,), dtype=float64
        Variance of mu over the windows (ddof 0), >= 0.
    kl : ndarray of shape (z,), dtype=float64
        Mean KL from the prior N(0, 1), nats, >= 0.
    """

    mean_sigma: np.ndarray
    activity: np.ndarray
    kl: np.ndarray

    @property
    def size(self):
        """Neurons (int)."""
        return int(self.mean_sigma.size)


def neuron_profile(mu, sigma):
    """Mean sigma, activity and KL of each neuron over the windows.

    Parameters
    ----------
    mu, sigma : ndarray of shape (n, z), float
        Posterior means and sds (sigma > 0), n >= 2.

    Returns
    -------
    NeuronProfile
    """
    from .kl import neuron_kl

    mu = np.asarray(mu, dtype=np.float64)
    sigma = np.asarray(sigma, dtype=np.float64)
    return NeuronProfile(sigma.mean(axis=0), mu.var(axis=0), neuron_kl(mu, sigma))


def ashman_d(x, y):
    """Ashman's D between two groups of values: ``sqrt(2) |mean x - mean y| / sqrt(sd_x^2 + sd_y^2)``.

    Parameters
    ----------
    x, y : ndarray of shape (m,) and (k,), float, m, k >= 1
        Each group's sd (ddof 0) is floored at 0.01 so that a group of one value has a finite D.

    Returns
    -------
    float
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    spread = np.sqrt(max(x.var(), _SD_FLOOR**2) + max(y.var(), _SD_FLOOR**2))
    return float(np.sqrt(2.0) * abs(x.mean() - y.mean()) / spread)


@dataclass(frozen=True)
class SplitDetection:
    """What the split rule of the module docstring found.

    Attributes
    ----------
    found : bool
        Whether the neurons split into music neurons and a pile at the prior.
    used : ndarray of shape (z,), dtype=bool
        The neurons above the boundary (the music neurons when ``found``); all False without a boundary.
    reason : str
        One sentence: what was found, or why there is no split.
    components : int
        Mixture components chosen by BIC.
    delta_bic : float
        BIC of one component minus that of the chosen mixture (> 0: the mixture is better).
    separation_activity, separation_kl : float
        Ashman's D between the used neurons and the pile on log10 activity and log10 KL (NaN without a boundary).
    pile_share, pile_sigma, pile_activity, used_activity : float
        The pile's share of the neurons, its median mean sigma and median activity; the used neurons' median
        activity (NaN where a group is empty).
    mixture : sklearn.mixture.GaussianMixture or None
        The fitted mixture the boundary came from (None for one group); :func:`resampled_splits` starts from it.
    """

    found: bool
    used: np.ndarray
    reason: str
    components: int
    delta_bic: float
    separation_activity: float
    separation_kl: float
    pile_share: float
    pile_sigma: float
    pile_activity: float
    used_activity: float
    mixture: object = field(default=None, repr=False, compare=False)

    @property
    def count(self):
        """Neurons above the boundary (int)."""
        return int(self.used.sum())

    @property
    def rule(self):
        """The rule in words (str)."""
        return RULE

    def summary(self):
        """JSON-able dict of the detection (NaN as None)."""

        def num(x):
            return None if x is None or not np.isfinite(x) else round(float(x), 6)

        return {
            "found": bool(self.found),
            "count": self.count,
            "reason": self.reason,
            "components": int(self.components),
            "delta_bic": num(self.delta_bic),
            "separation_activity": num(self.separation_activity),
            "separation_kl": num(self.separation_kl),
            "pile_share": num(self.pile_share),
            "pile_sigma": num(self.pile_sigma),
            "pile_activity": num(self.pile_activity),
            "used_activity": num(self.used_activity),
            "rule": RULE,
        }


def _points(profile):
    """(z, 2) float64: log10 activity and log10 KL, floored."""
    return np.column_stack([np.log10(np.maximum(profile.activity, _FLOOR)), np.log10(np.maximum(profile.kl, _FLOOR))])


def _mixtures(points, random_state):
    """The least-BIC Gaussian mixture of 1..MAX_COMPONENTS components and its BIC gain over one component."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture
    from threadpoolctl import threadpool_limits

    fits, bics = [], []
    # (z, 2) points: BLAS threads only spin against each other on 2 x 2 solves
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        for k in range(1, min(MAX_COMPONENTS, len(points) - 1) + 1):
            fit = GaussianMixture(
                k, n_init=3, init_params="k-means++", reg_covar=1e-4, tol=1e-6, max_iter=1000, random_state=random_state
            ).fit(points)
            fits.append(fit)
            bics.append(fit.bic(points))
    best = int(np.argmin(bics))
    return fits[best], float(bics[0] - bics[best])


def _no_split_reason(profile):
    """Why a profile without a separated boundary has no split, in words."""
    z = profile.size
    prior_like = (profile.mean_sigma >= PILE_SIGMA) & (profile.activity <= PILE_ACTIVITY)
    if not (profile.activity > PILE_ACTIVITY).any():
        return f"no neuron leaves the prior: no activity (var of mu) above {PILE_ACTIVITY:g}"
    if prior_like.mean() < MIN_PILE_SHARE:
        return (
            f"every neuron is used: no pile at the prior (only {int(prior_like.sum())} of {z} neurons have mean "
            f"sigma >= {PILE_SIGMA:g} and activity <= {PILE_ACTIVITY:g}; a pile needs {MIN_PILE_SHARE:.0%})"
        )
    return "used and unused neurons do not separate on log activity and log KL"


def split_conditions(*, delta_bic, pile_share, pile_sigma, pile_activity, separation_activity, separation_kl, decades):
    """The conditions of the rule (module docstring) that fail, in the rule's order (empty: a split).

    Parameters
    ----------
    delta_bic : float
        BIC gain of the chosen mixture over one component.
    pile_share, pile_sigma, pile_activity : float
        The pile's share of the neurons, median mean sigma and median activity.
    separation_activity, separation_kl : float
        Ashman's D between the used neurons and the pile on log10 activity and log10 KL.
    decades : float
        log10 of the used neurons' median activity over the pile's.

    Returns
    -------
    list of str
    """
    checks = (
        (f"one group by BIC (gain {delta_bic:.1f} < {MIN_DELTA_BIC:g})", delta_bic >= MIN_DELTA_BIC),
        (f"pile holds {pile_share:.0%} of the neurons (< {MIN_PILE_SHARE:.0%})", pile_share >= MIN_PILE_SHARE),
        (f"pile's median mean sigma {pile_sigma:.3f} (< {PILE_SIGMA:g})", pile_sigma >= PILE_SIGMA),
        (f"pile's median activity {pile_activity:.2g} (> {PILE_ACTIVITY:g})", pile_activity <= PILE_ACTIVITY),
        (
            f"Ashman's D {separation_activity:.1f} on log activity (< {MIN_SEPARATION:g})",
            separation_activity >= MIN_SEPARATION,
        ),
        (f"Ashman's D {separation_kl:.1f} on log KL (< {MIN_SEPARATION:g})", separation_kl >= MIN_SEPARATION),
        (f"{decades:.1f} decades of activity apart (< {MIN_DECADES:g})", decades >= MIN_DECADES),
    )
    return [text for text, holds in checks if not holds]


def _judge(profile, points, used, components, delta_bic):
    """The split's conditions (module docstring, step 3) on the used neurons above the boundary."""
    z = profile.size
    pile = ~used
    if not used.any() or not pile.any():
        reason = "the clearest boundary leaves every neuron on one side"
        return SplitDetection(False, used, reason, components, delta_bic, *[np.nan] * 6)
    numbers = {
        "delta_bic": delta_bic,
        "pile_share": float(pile.mean()),
        "pile_sigma": float(np.median(profile.mean_sigma[pile])),
        "pile_activity": float(np.median(profile.activity[pile])),
        "separation_activity": ashman_d(points[used, 0], points[pile, 0]),
        "separation_kl": ashman_d(points[used, 1], points[pile, 1]),
    }
    used_activity = float(np.median(profile.activity[used]))
    decades = np.log10(max(used_activity, _FLOOR)) - np.log10(max(numbers["pile_activity"], _FLOOR))
    failed = split_conditions(**numbers, decades=float(decades))
    detection = (
        components,
        delta_bic,
        numbers["separation_activity"],
        numbers["separation_kl"],
        numbers["pile_share"],
        numbers["pile_sigma"],
        numbers["pile_activity"],
        used_activity,
    )
    if not failed:
        reason = (
            f"{int(used.sum())} of {z} neurons are used; the other {int(pile.sum())} sit in a pile at the prior "
            f"(median mean sigma {numbers['pile_sigma']:.3f}, median activity {numbers['pile_activity']:.2g}); "
            f"Ashman's D {numbers['separation_activity']:.1f} on log activity, {numbers['separation_kl']:.1f} on "
            "log KL"
        )
        return SplitDetection(True, used, reason, *detection)
    reason = _no_split_reason(profile)
    if "do not separate" in reason:
        reason = f"used and unused neurons do not separate: {'; '.join(failed)}"
    return SplitDetection(False, used, reason, *detection)


def _one_group(profile, components, delta_bic):
    """The detection of a profile whose mixture is one group."""
    reason = _no_split_reason(profile)
    if "do not separate" in reason:
        reason += f": one group by BIC (gain {delta_bic:.1f} < {MIN_DELTA_BIC:g})"
    return SplitDetection(False, np.zeros(profile.size, dtype=bool), reason, components, delta_bic, *[np.nan] * 6)


def _check_profile(profile):
    z = profile.size
    arrays = (profile.mean_sigma, profile.activity, profile.kl)
    if z < 3 or any(np.ndim(a) != 1 or np.size(a) != z or not np.isfinite(a).all() for a in arrays):
        raise InvalidParameterError(
            f"detect_split needs a profile of at least 3 neurons with finite mean sigma, activity and KL. Got {z}."
        )


def detect_split(profile, *, random_state=0):
    """Find the music neurons and the pile at the prior by the rule of the module docstring, or say there is none.

    Parameters
    ----------
    profile : NeuronProfile
        Of the real windows (:func:`neuron_profile`), z >= 3.
    random_state : int
        Seed of the mixtures' initialisation.

    Returns
    -------
    SplitDetection
    """
    _check_profile(profile)
    points = _points(profile)
    fit, delta_bic = _mixtures(points, random_state)
    if fit.n_components == 1 or delta_bic < MIN_DELTA_BIC:
        return _one_group(profile, fit.n_components, delta_bic)
    order = np.argsort(fit.means_[:, 0])
    variances = np.array([np.diag(c) for c in fit.covariances_])
    cut = _clearest_boundary(fit.means_[order], variances[order])
    detection = _judge(profile, points, np.isin(fit.predict(points), order[cut + 1 :]), fit.n_components, delta_bic)
    return replace(detection, mixture=fit)


def _clearest_boundary(means, variances):
    """Index i of the neighbouring components (i, i + 1), ordered by mean log activity, that separate most.

    ``means``, ``variances``: (K, 2) of each component on (a, b); Ashman's D of each pair on each axis, the
    smaller of the two kept.
    """
    d = np.sqrt(2.0) * np.abs(np.diff(means, axis=0)) / np.sqrt(variances[:-1] + variances[1:])
    return int(np.argmax(d.min(axis=1)))


def _batched_em(points, means, covariances, weights, *, iterations=25):
    """EM of a 2-d Gaussian mixture on B point sets at once, started from one fit.

    Parameters
    ----------
    points : ndarray of shape (B, z, 2), float64
    means : ndarray of shape (K, 2); covariances : (K, 2, 2); weights : (K,)
        The starting mixture (the full sample's converged fit: a few iterations move it to each resample's).
    iterations : int

    Returns
    -------
    responsibilities : ndarray of shape (B, z, K)
    means : ndarray of shape (B, K, 2)
    variances : ndarray of shape (B, K, 2)
        The diagonal of each component's covariance.
    """
    x, y = points[..., 0][..., None], points[..., 1][..., None]  # (B, z, 1)
    mx, my = (np.broadcast_to(means[:, i], (len(points), len(weights))).copy() for i in (0, 1))  # (B, K)
    sxx, syy, sxy = (
        np.broadcast_to(covariances[:, i, j], (len(points), len(weights))).copy() for i, j in ((0, 0), (1, 1), (0, 1))
    )
    weight = np.broadcast_to(weights, (len(points), len(weights))).copy()
    for _ in range(iterations):
        dx, dy = x - mx[:, None], y - my[:, None]  # (B, z, K)
        det = sxx * syy - sxy**2
        maha = (dx * dx * syy[:, None] - 2 * dx * dy * sxy[:, None] + dy * dy * sxx[:, None]) / det[:, None]
        logp = (np.log(np.maximum(weight, 1e-300)) - 0.5 * np.log(det))[:, None] - 0.5 * maha
        resp = np.exp(logp - logp.max(axis=2, keepdims=True))
        resp /= resp.sum(axis=2, keepdims=True)
        nk = resp.sum(axis=1) + 1e-12  # (B, K)
        mx, my = (resp * x).sum(axis=1) / nk, (resp * y).sum(axis=1) / nk
        dx, dy = x - mx[:, None], y - my[:, None]
        sxx = (resp * dx * dx).sum(axis=1) / nk + 1e-4
        syy = (resp * dy * dy).sum(axis=1) / nk + 1e-4
        sxy = (resp * dx * dy).sum(axis=1) / nk
        weight = nk / points.shape[1]
    return resp, np.stack([mx, my], axis=-1), np.stack([sxx, syy], axis=-1)


def resampled_splits(detection, profiles):
    """The split rule on resampled profiles, the mixture refitted on each from the full sample's.

    The number of components is the one the full sample's BIC chose (a full sample of one group gives one group
    on every resample); each resample's mixture is refitted by EM from the full sample's fit, all resamples at
    once, and judged by the same conditions as :func:`detect_split`.

    Parameters
    ----------
    detection : SplitDetection
        :func:`detect_split` of the full sample.
    profiles : list of NeuronProfile
        The resamples' profiles.

    Returns
    -------
    list of SplitDetection
        One per resample.
    """
    fit, components, delta_bic = detection.mixture, detection.components, detection.delta_bic
    if fit is None:
        return [_one_group(p, components, delta_bic) for p in profiles]
    points = np.stack([_points(p) for p in profiles])
    resp, means, variances = _batched_em(points, fit.means_, fit.covariances_, fit.weights_)
    out = []
    for b, profile in enumerate(profiles):
        order = np.argsort(means[b, :, 0])
        cut = _clearest_boundary(means[b, order], variances[b, order])
        used = np.isin(resp[b].argmax(axis=1), order[cut + 1 :])
        out.append(_judge(profile, points[b], used, components, delta_bic))
    return out


def activity_counts(activity, thresholds=None):
    """How many neurons have activity above each threshold: a plateau marks a split, a ramp its absence.

    Parameters
    ----------
    activity : ndarray of shape (z,), float
        Variance of mu per neuron.
    thresholds : ndarray of shape (c,), float, optional
        Increasing. Default: 10^-6 .. 10^0.5 in steps of 0.05 decade.

    Returns
    -------
    DataFrame of c rows
        ``threshold``, ``log10_threshold``, ``neurons_above`` (activity strictly above the threshold).
    """
    if thresholds is None:
        thresholds = 10.0 ** np.round(np.arange(-6.0, 0.5001, 0.05), 2)
    thresholds = np.asarray(thresholds, dtype=np.float64)
    a = np.sort(np.asarray(activity, dtype=np.float64))
    return pd.DataFrame(
        {
            "threshold": thresholds,
            "log10_threshold": np.log10(thresholds),
            "neurons_above": a.size - np.searchsorted(a, thresholds, side="right"),
        }
    )


def _plateau(counts, z):
    """Widest window of thresholds (decades) over which the count moves by at most PLATEAU_MOVE.

    Only counts from 1 to half of the ``z`` neurons are read: below that the window would measure the pile.
    """
    logt = counts["log10_threshold"].to_numpy()
    c = counts["neurons_above"].to_numpy()  # non-increasing in the threshold
    starts = np.flatnonzero((c >= 1) & (c <= z / 2))
    if starts.size == 0:
        return None
    # the last threshold whose count is still >= c[i] / (1 + move): -c is non-decreasing
    ends = np.searchsorted(-c, -c[starts] / (1 + PLATEAU_MOVE), side="right") - 1
    widths = logt[ends] - logt[starts]
    best = int(np.argmax(widths))
    i, j = starts[best], ends[best]
    return {
        "from_activity": float(10 ** logt[i]),
        "to_activity": float(10 ** logt[j]),
        "decades": round(float(widths[best]), 4),
        "count_low": int(c[j]),
        "count_high": int(c[i]),
    }


def _kl_holders(kl, share):
    """Fewest neurons whose KL adds up to ``share`` of the total (0 when the total is 0)."""
    k = np.sort(np.asarray(kl, dtype=np.float64))[::-1]
    total = k.sum()
    if total <= 0:
        return 0
    return int(np.searchsorted(np.cumsum(k) / total, share - 1e-12) + 1)


def count_band(profile, detection):
    """The rule's count beside the other readings of the same profile.

    Parameters
    ----------
    profile : NeuronProfile
    detection : SplitDetection

    Returns
    -------
    dict
        ``count`` (the rule's, None without a split); ``paper_reading`` (mean sigma < ``PAPER_SIGMA``) and
        ``paper_sigma``; ``active_units`` ({"0.1": n, "0.01": n, "0.001": n}, activity strictly above);
        ``plateau`` (:func:`activity_counts`' widest window of thresholds over which the count moves by at most
        20 %, read where 1 to z/2 neurons are above: ``from_activity``, ``to_activity``, ``decades``,
        ``count_low``, ``count_high``; None when no threshold has such a count); ``kl_95`` and ``kl_99`` (fewest neurons holding that share of the KL).
    """
    return {
        "count": detection.count if detection.found else None,
        "paper_reading": int((profile.mean_sigma < PAPER_SIGMA).sum()),
        "paper_sigma": PAPER_SIGMA,
        "active_units": {f"{t:g}": int((profile.activity > t).sum()) for t in ACTIVE_THRESHOLDS},
        "plateau": _plateau(activity_counts(profile.activity), profile.size),
        "kl_95": _kl_holders(profile.kl, 0.95),
        "kl_99": _kl_holders(profile.kl, 0.99),
    }


def window_split(sigma, detection):
    """Does each window show the corpus split on its own sigma? (claim (a), one window has no activity).

    A window shows the split when at least ``WINDOW_MUSIC_SHARE`` of the music neurons have sigma below the
    pile's sigma band in that window and at most ``WINDOW_PILE_SHARE`` of the pile do. The band starts at the
    ``WINDOW_QUANTILE`` quantile of the pile's sigma over every window.

    Parameters
    ----------
    sigma : ndarray of shape (n, z), float
    detection : SplitDetection
        With ``found``.

    Returns
    -------
    DataFrame of n rows
        ``below_band`` (neurons with sigma below the band), ``music_below`` (music neurons among them),
        ``pile_below``, ``shows_split`` (bool); ``attrs["band_from"]`` holds the band's lower edge.
    """
    sigma = np.asarray(sigma, dtype=np.float64)
    used = np.asarray(detection.used, dtype=bool)
    if not detection.found or not used.any() or used.all():
        raise InvalidParameterError("window_split needs a detected split (music neurons and a pile).")
    edge = float(np.quantile(sigma[:, ~used], WINDOW_QUANTILE))
    below = sigma < edge
    music_below = below[:, used].sum(axis=1)
    pile_below = below[:, ~used].sum(axis=1)
    table = pd.DataFrame(
        {
            "below_band": below.sum(axis=1),
            "music_below": music_below,
            "pile_below": pile_below,
            "shows_split": (music_below >= WINDOW_MUSIC_SHARE * used.sum())
            & (pile_below <= WINDOW_PILE_SHARE * (~used).sum()),
        }
    )
    table.attrs["band_from"] = edge
    return table


def window_overlap(sigma, group, n_pairs=2000, random_state=0):
    """Are the same neurons the most specific in every window? Jaccard overlaps of per-window sets.

    Each window's set is its ``k = group.sum()`` neurons of smallest sigma.

    Parameters
    ----------
    sigma : ndarray of shape (n, z), float
        Posterior sigma of each window, n >= 2.
    group : ndarray of shape (z,), dtype=bool
        The corpus-level group (music neurons), k >= 1.
    n_pairs : int
        Random pairs of distinct windows for the pairwise overlap.
    random_state : int

    Returns
    -------
    dict
        ``k``; ``pairwise_median`` and ``pairwise_q10`` (Jaccard of two windows' sets over the pairs);
        ``to_group_median`` (Jaccard of each window's set with ``group``, median over windows); ``pairs``;
        ``pairwise`` (ndarray of shape (n_pairs,): each pair's Jaccard, for the bootstrap).
    """
    sigma = np.asarray(sigma, dtype=np.float64)
    group = np.asarray(group, dtype=bool)
    k = int(group.sum())
    if k < 1 or len(sigma) < 2:
        raise InvalidParameterError(
            f"window_overlap needs a group of at least 1 neuron and 2 windows. Got {k} and {len(sigma)}."
        )
    top = np.argpartition(sigma, k - 1, axis=1)[:, :k]
    sets = np.zeros(sigma.shape, dtype=bool)
    np.put_along_axis(sets, top, True, axis=1)
    rng = np.random.default_rng(random_state)
    a = rng.integers(0, len(sigma), n_pairs)
    b = (a + rng.integers(1, len(sigma), n_pairs)) % len(sigma)
    shared = (sets[a] & sets[b]).sum(axis=1)
    pairwise = shared / (2 * k - shared)
    to_group = (sets & group).sum(axis=1) / (2 * k - (sets & group).sum(axis=1))
    return {
        "k": k,
        "pairwise_median": float(np.median(pairwise)),
        "pairwise_q10": float(np.quantile(pairwise, 0.1)),
        "to_group_median": float(np.median(to_group)),
        "pairs": int(n_pairs),
        "pairwise": pairwise,
    }


def plot_split_counts(profile, detection, title="Neurons above a threshold on activity"):
    """The count of neurons with activity above a threshold against the threshold (log scale).

    The pile's activity range is shaded, the rule's count drawn as a line and the count band's plateau marked.

    Parameters
    ----------
    profile : NeuronProfile
    detection : SplitDetection
    title : str

    Returns
    -------
    fig : matplotlib.figure.Figure
    ax : Axes
    """
    from ..report.figures import new_figure

    counts = activity_counts(profile.activity)
    fig, ax = new_figure(figsize=(7.0, 4.0))
    ax.step(counts["threshold"], counts["neurons_above"], where="post", color="tab:blue", label="neurons above")
    pile = ~np.asarray(detection.used, dtype=bool)
    if detection.used.any() and pile.any():
        lo, hi = np.quantile(np.maximum(profile.activity[pile], _FLOOR), [0.05, 0.95])
        ax.axvspan(lo, hi, color="tab:grey", alpha=0.25, label="the pile (5-95 % of its activity)")
    if detection.found:
        ax.axhline(detection.count, color="tab:red", linestyle="--", label=f"music neurons: {detection.count}")
    band = _plateau(counts, profile.size)
    if band:
        ax.axvspan(
            band["from_activity"],
            band["to_activity"],
            color="tab:green",
            alpha=0.15,
            label=f"count within 20 %: {band['count_low']}-{band['count_high']}",
        )
    ax.set_xscale("log")
    ax.set(
        xlabel="threshold on activity (variance of mu over windows)",
        ylabel="neurons with activity above it",
        title=title,
        ylim=(0, profile.size),
    )
    ax.legend(loc="upper right", fontsize=8, title=None if detection.found else "no split", title_fontsize=8)
    return fig, ax
