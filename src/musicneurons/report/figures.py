"""Figure helpers shared by every plot of the package: a fresh figure and a PNG + SVG writer.

Figures are ``matplotlib.figure.Figure`` objects made without pyplot, so no global state, no
backend switch and nothing to close; they render with the Agg canvas and display in notebooks.
matplotlib is imported only when a figure is made.
"""

from pathlib import Path

__all__ = ["new_figure", "save_figure"]


def new_figure(nrows=1, ncols=1, figsize=(8.0, 4.5), **subplot_kw):
    """A new figure with a grid of axes.

    Parameters
    ----------
    nrows, ncols : int
        Grid of axes.
    figsize : tuple of float
        Width and height in inches.
    **subplot_kw
        Passed to ``Figure.subplots`` (e.g. ``sharex=True``).

    Returns
    -------
    fig : matplotlib.figure.Figure
    ax : Axes or ndarray of Axes
        One Axes for a 1 x 1 grid, else an array of shape (nrows, ncols) squeezed.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.subplots(nrows, ncols, **subplot_kw)
    return fig, ax


def save_figure(fig, stem):
    """Write ``fig`` as ``stem.png`` (150 dpi) and ``stem.svg``; create the folder if needed.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    stem : str or Path
        Path without suffix.

    Returns
    -------
    list of Path
        The PNG and the SVG path.
    """
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_name(stem.name + ".png"), stem.with_name(stem.name + ".svg")]
    fig.savefig(paths[0], dpi=150)
    fig.savefig(paths[1])
    return paths
