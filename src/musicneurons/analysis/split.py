"""Where the music neurons end: the music/noise boundary in the neurons' mean sigma, or "no clear split".

Symbols: ``n`` windows, ``z`` neurons. The rule (:func:`detect_split`), on a sorted profile
``s[0] <= ... <= s[z-1]`` (the neurons' mean sigma over the windows, or one window's sigma):

1. the gaps are ``g[k] = s[k] - s[k-1]`` for ``k = 1 .. z-1``; a cut at ``k`` puts ``k`` neurons below it;
2. the candidate boundary is the largest gap ``g[k*]`` whose lower end is at most ``1 - MIN_GAP`` (a music
   neuron's posterior is narrower than the prior N(0, 1); without such a gap the largest gap is reported);
3. its **strength** is ``g[k*]`` divided by the largest other gap, the two gaps next to it left out (so one
   neuron sitting inside the gap does not hide it); infinite when no other gap is left;
4. a split is found when the strength is at least ``MIN_STRENGTH`` = 2 (no gap away from it comes within
   half of it) **and** the gap is at least ``MIN_GAP`` = 0.1 in sigma (the music side's posterior is at
   least a tenth of the prior's width narrower than the next neuron's).

Smoothly spread sigma has no such gap: the largest spacing of ``z`` values drawn from a smooth density sits
where the density is low, beside other large spacings, so its strength stays near 1 (for 512 values drawn
uniformly, strength >= 2 happens in under 1 % of draws; ``tests/test_analysis_split.py`` measures it). A
clean split of ``k`` neurons well below the rest has a gap many times any other and is found at ``k``.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InvalidParameterError

__all__ = [
    "MIN_GAP",
    "MIN_STRENGTH",
    "SplitDetection",
    "counts_vs_cut",
    "detect_split",
    "gap_rule",
    "plot_split_counts",
    "window_overlap",
]

MIN_STRENGTH = 2.0
MIN_GAP = 0.1
RULE = (
    "largest gap g between consecutive sorted mean sigmas starting at most 1 - {min_gap}; split when "
    "g >= {min_gap} and g >= {min_strength} x the largest other gap (its two neighbours left out)"
)


def gap_rule(profiles, min_strength=MIN_STRENGTH, min_gap=MIN_GAP):
    """The gap rule of the module docstring on each row of ``profiles``, vectorised.

    Parameters
    ----------
    profiles : ndarray of shape (m, z), float, z >= 2
        Each row sorted ascending (mean sigma of the neurons, or one window's sigma).
    min_strength, min_gap : float

    Returns
    -------
    below : ndarray of shape (m,), dtype=int64
        Neurons below the largest gap (1 .. z-1).
    gap : ndarray of shape (m,), dtype=float64
        The largest gap.
    strength : ndarray of shape (m,), dtype=float64
        The gap over the largest gap not next to it (inf when there is none, or it is 0).
    found : ndarray of shape (m,), dtype=bool
    """
    profiles = np.asarray(profiles, dtype=np.float64)
    gaps = np.diff(profiles, axis=1)
    rows = np.arange(len(gaps))
    candidate = profiles[:, :-1] <= 1.0 - min_gap
    k = np.where(candidate.any(axis=1), np.where(candidate, gaps, -np.inf).argmax(axis=1), gaps.argmax(axis=1))
    gap = gaps[rows, k]
    others = gaps.copy()
    for shift in (-1, 0, 1):
        others[rows, np.clip(k + shift, 0, gaps.shape[1] - 1)] = -np.inf
    other = others.max(axis=1) if gaps.shape[1] else np.full(len(gaps), -np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        strength = np.where(other > 0, gap / np.where(other > 0, other, 1.0), np.inf)
    found = (strength >= min_strength) & (gap >= min_gap) & candidate[rows, k]
    return (k + 1).astype(np.int64), gap, strength, found


@dataclass(frozen=True)
class SplitDetection:
    """The boundary the gap rule found in the sorted mean sigma of the neurons.

    Attributes
    ----------
    found : bool
        Whether the profile has a clear split.
    below : int
        Neurons below the largest gap (the music neurons when ``found``).
    lower, upper : float
        Mean sigma on each side of the gap (``upper - lower`` is the gap).
    strength : float
        The gap over the largest other gap (see the module docstring).
    min_strength, min_gap : float
        The rule's thresholds.
    """

    found: bool
    below: int
    lower: float
    upper: float
    strength: float
    min_strength: float = MIN_STRENGTH
    min_gap: float = MIN_GAP

    @property
    def gap(self):
        """Width of the largest gap, in sigma (float)."""
        return self.upper - self.lower

    @property
    def cut(self):
        """Middle of the largest gap (float): a threshold on mean sigma that reproduces the split."""
        return (self.lower + self.upper) / 2

    @property
    def rule(self):
        """The rule in words (str)."""
        return RULE.format(min_gap=self.min_gap, min_strength=self.min_strength)

    def summary(self):
        """JSON-able dict of the detection (strength as None when infinite)."""
        return {
            "found": bool(self.found),
            "below_gap": int(self.below),
            "gap": round(self.gap, 6),
            "cut": round(self.cut, 6),
            "gap_from": round(self.lower, 6),
            "gap_to": round(self.upper, 6),
            "strength": round(self.strength, 4) if np.isfinite(self.strength) else None,
            "min_strength": self.min_strength,
            "min_gap": self.min_gap,
            "rule": self.rule,
        }


def detect_split(mean_sigma, min_strength=MIN_STRENGTH, min_gap=MIN_GAP):
    """Find the music/noise boundary in the neurons' mean sigma by the gap rule, or say there is none.

    Parameters
    ----------
    mean_sigma : ndarray of shape (z,), float
        Mean posterior sigma of each neuron over the real windows (any order), z >= 2.
    min_strength, min_gap : float
        Thresholds of the rule (module docstring).

    Returns
    -------
    SplitDetection
    """
    mean_sigma = np.asarray(mean_sigma, dtype=np.float64)
    if mean_sigma.ndim != 1 or mean_sigma.size < 2 or not np.isfinite(mean_sigma).all():
        raise InvalidParameterError(
            f"The 'mean_sigma' parameter of detect_split must be a finite 1-d array of at least 2 neurons. "
            f"Got shape {mean_sigma.shape}."
        )
    if not (min_strength > 0 and min_gap >= 0):
        raise InvalidParameterError(
            f"detect_split needs min_strength > 0 and min_gap >= 0. Got {min_strength!r}, {min_gap!r}."
        )
    s = np.sort(mean_sigma)
    below, _gap, strength, found = gap_rule(s[None], min_strength, min_gap)
    k = int(below[0])
    return SplitDetection(
        found=bool(found[0]),
        below=k,
        lower=float(s[k - 1]),
        upper=float(s[k]),
        strength=float(strength[0]),
        min_strength=float(min_strength),
        min_gap=float(min_gap),
    )


def counts_vs_cut(mean_sigma, cuts=None):
    """How many neurons lie below each cut on mean sigma: a plateau marks a split, a ramp its absence.

    Parameters
    ----------
    mean_sigma : ndarray of shape (z,), float
    cuts : ndarray of shape (c,), float, optional
        Default 0, 0.01, ..., 1.

    Returns
    -------
    DataFrame of c rows
        ``cut``, ``neurons_below`` (mean sigma strictly below the cut).
    """
    cuts = np.round(np.linspace(0.0, 1.0, 101), 2) if cuts is None else np.asarray(cuts, dtype=np.float64)
    s = np.sort(np.asarray(mean_sigma, dtype=np.float64))
    return pd.DataFrame({"cut": cuts, "neurons_below": np.searchsorted(s, cuts, side="left")})


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
        ``to_group_median`` (Jaccard of each window's set with ``group``, median over windows); ``pairs``.
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
    }


def plot_split_counts(mean_sigma, detection, title="Neurons below a cut on mean sigma"):
    """Count of neurons with mean sigma below the cut against the cut (0..1), the detected gap shaded.

    Parameters
    ----------
    mean_sigma : ndarray of shape (z,), float
    detection : SplitDetection
    title : str

    Returns
    -------
    fig : matplotlib.figure.Figure
    ax : Axes
    """
    from ..report.figures import new_figure

    s = np.sort(np.asarray(mean_sigma, dtype=np.float64))
    cuts = np.linspace(0.0, 1.0, 1001)
    fig, ax = new_figure(figsize=(7.0, 4.0))
    ax.step(cuts, np.searchsorted(s, cuts, side="left"), where="post", color="tab:blue")
    label = (
        f"split: {detection.below} below, gap {detection.gap:.3f}, strength {detection.strength:.1f}"
        if detection.found
        else f"no clear split (largest gap {detection.gap:.3f}, strength {detection.strength:.1f})"
    )
    ax.axvspan(
        detection.lower, detection.upper, color="tab:green" if detection.found else "tab:grey", alpha=0.25, label=label
    )
    ax.set(
        xlim=(0, 1),
        ylim=(0, s.size),
        xlabel="cut on mean sigma",
        ylabel="neurons with mean sigma below the cut",
        title=title,
    )
    ax.legend(loc="upper left", fontsize=8)
    return fig, ax
