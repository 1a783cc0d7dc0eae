"""Per-neuron KL divergence of the posterior from the prior: how much each neuron costs the VAE.

For one window and neuron, ``KL(N(mu, sigma^2) || N(0, 1)) = (mu^2 + sigma^2 - 1) / 2 - log(sigma)`` nats.
A noise neuron that echoes the prior costs nothing; the total over neurons is the KL term of the VAE's
loss for that window (Magenta's ``kl_div`` before free bits). Symbols: ``n`` windows, ``z`` neurons.
"""

import numpy as np
import pandas as pd

from .inputs import check_latents

__all__ = ["kl_table", "neuron_kl", "plot_neuron_kl", "window_kl"]

_CHUNK = 8192  # windows per step: bounds the float64 temporaries to chunk x z


def window_kl(mu, sigma):
    """KL(N(mu, sigma^2) || N(0, 1)) of each window and neuron, elementwise (nats; arrays of one shape, float)."""
    return 0.5 * (mu * mu + sigma * sigma - 1.0) - np.log(sigma)


def neuron_kl(mu, sigma):
    """Mean over windows of each neuron's KL from the prior N(0, 1).

    Parameters
    ----------
    mu, sigma : ndarray of shape (n, z), float
        Posterior means and standard deviations (sigma > 0).

    Returns
    -------
    ndarray of shape (z,), dtype=float64
        Nats, >= 0; their sum is the mean KL of a window.
    """
    mu, sigma = check_latents(mu, sigma, "neuron_kl")
    total = np.zeros(mu.shape[1])
    for lo in range(0, len(mu), _CHUNK):
        total += window_kl(mu[lo : lo + _CHUNK], sigma[lo : lo + _CHUNK]).sum(axis=0)
    return total / len(mu)


def kl_table(kl, order, group):
    """Per-neuron KL in the order by mean sigma, with each neuron's share of the total.

    Parameters
    ----------
    kl : ndarray of shape (z,), float
        From :func:`neuron_kl`.
    order : ndarray of shape (z,), int
        Neuron indices by increasing mean sigma.
    group : ndarray of shape (z,), dtype=bool
        The analysed group (music neurons when a split was found), indexed by neuron.

    Returns
    -------
    DataFrame of z rows
        ``rank``, ``neuron``, ``kl`` (nats), ``share`` (of the total), ``cumulative_share``, ``group``.
    """
    kl = np.asarray(kl, dtype=np.float64)
    order = np.asarray(order, dtype=np.int64)
    total = kl.sum()
    share = kl[order] / total if total > 0 else np.zeros(order.size)
    return pd.DataFrame(
        {
            "rank": np.arange(order.size),
            "neuron": order,
            "kl": kl[order],
            "share": share,
            "cumulative_share": np.cumsum(share),
            "group": np.asarray(group, dtype=bool)[order],
        }
    )


def plot_neuron_kl(table, group_label="music neurons", title="KL from the prior per neuron"):
    """Bars of each neuron's mean KL in the order by mean sigma, the group in another colour.

    Parameters
    ----------
    table : DataFrame
        From :func:`kl_table`.
    group_label : str
        Legend of the group's bars.
    title : str

    Returns
    -------
    fig : matplotlib.figure.Figure
    ax : Axes
    """
    from ..report.figures import new_figure

    fig, ax = new_figure(figsize=(10.0, 3.8))
    ranks = table["rank"].to_numpy() + 1
    group = table["group"].to_numpy(dtype=bool)
    ax.bar(ranks[group], table["kl"][group], width=1.0, color="tab:red", label=group_label)
    ax.bar(ranks[~group], table["kl"][~group], width=1.0, color="tab:grey", label="other neurons")
    total = float(table["kl"].sum())
    share = float(table["kl"][group].sum()) / total if total > 0 else 0.0
    ax.set(xlim=(0.5, len(table) + 0.5), xlabel="neuron rank by mean sigma", ylabel="mean KL (nats)", title=title)
    ax.legend(fontsize=8, title=f"total {total:.2f} nats a window, {share:.1%} in the {group_label}", title_fontsize=8)
    return fig, ax
