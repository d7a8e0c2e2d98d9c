"""One plotting style for the whole book: colour-blind-safe palette, fan charts of many chains."""
from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

from ._validate import check_array, check_bool, check_fraction, check_int, check_real

# Okabe & Ito's colour-blind-safe palette
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
SCHEDULE_COLORS = {"replace": PALETTE[1], "accumulate": PALETTE[2], "all-real": PALETTE[0]}


def use_book_style() -> None:
    """Apply the book's matplotlib style (called by every chapter's set-up cell)."""
    mpl.rcParams.update({
        "figure.figsize": (7.0, 3.8),
        "figure.dpi": 110,
        "savefig.dpi": 110,
        "figure.facecolor": "white",
        "axes.facecolor": "white",
        "axes.prop_cycle": mpl.cycler(color=PALETTE),
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "font.size": 10,
        "legend.frameon": False,
        "svg.hashsalt": "collapselab",  # deterministic SVG output
    })


def _values(values) -> np.ndarray:
    """Chains' values: numeric, infinities allowed (a KL to a collapsed model), never NaN."""
    if isinstance(values, (str, bytes)) or values is None:
        raise ValueError(f"values must be a numeric array, got {values!r}")
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"values must be numeric: {exc}") from None
    if np.isnan(arr).any():
        raise ValueError("values contains NaN values")
    return arr


def _check_ax(ax):
    from matplotlib.axes import Axes
    if not isinstance(ax, Axes):
        raise ValueError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")


def fan_chart(ax, x, values, *, color=None, label=None, quantiles=(0.05, 0.25, 0.5, 0.75, 0.95),
              log=False, alpha=0.18, show_mean=False):
    """Median line and nested quantile bands of ``values`` shaped (len(x), R).

    Bands are drawn from the outermost pair inwards; the median carries the label."""
    _check_ax(ax)
    x = check_array("x", x, ndim=1, nonempty=True)
    values = _values(values)
    if values.ndim != 2 or values.shape[0] != len(x) or values.shape[1] < 1:
        raise ValueError(f"values must have shape (len(x), R) = ({len(x)}, R), got {values.shape}")
    q = check_array("quantiles", quantiles, ndim=1, nonempty=True)
    if np.any((q < 0) | (q > 1)):
        raise ValueError("quantiles must lie in [0, 1]")
    q = sorted(q.tolist())
    alpha = check_fraction("alpha", alpha)
    log = check_bool("log", log)
    show_mean = check_bool("show_mean", show_mean)
    if len(q) % 2 != 1:
        raise ValueError("quantiles must be an odd number of levels with the median in the middle")
    qs = np.quantile(values, q, axis=1)
    color = color or PALETTE[0]
    mid = len(q) // 2
    for i in range(mid):
        ax.fill_between(x, qs[i], qs[-1 - i], color=color, alpha=alpha, lw=0)
    line, = ax.plot(x, qs[mid], color=color, lw=1.8, label=label)
    if show_mean:
        ax.plot(x, values.mean(axis=1), color=color, lw=1.2, ls="--")
    if log:
        ax.set_yscale("log")
    return line


def sample_paths(ax, x, values, k=20, color=None, alpha=0.35, lw=0.7):
    """Draw the first k chains as thin lines (values shaped (len(x), R))."""
    _check_ax(ax)
    x = check_array("x", x, ndim=1, nonempty=True)
    values = _values(values)
    if values.ndim != 2 or values.shape[0] != len(x):
        raise ValueError(f"values must have shape (len(x), R) = ({len(x)}, R), got {values.shape}")
    k = check_int("k", k, minimum=1)
    alpha = check_fraction("alpha", alpha)
    lw = check_real("lw", lw, minimum=0.0, maximum=100.0)
    ax.plot(x, values[:, :k], color=color or PALETTE[0], alpha=alpha, lw=lw)


def schedule_color(name: str) -> str:
    """A stable colour for a schedule name."""
    if not isinstance(name, str):
        raise ValueError(f"name must be a schedule name (a string), got {name!r}")
    key = name.split("(")[0]
    if key in SCHEDULE_COLORS:
        return SCHEDULE_COLORS[key]
    return PALETTE[3 + sum(map(ord, key)) % 4]  # deterministic, unlike hash()
