"""One plotting style for the whole book: colour-blind-safe palette, fan charts of many chains."""
from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

from ._validate import check_array, check_bool, check_fraction, check_int, check_real

# Okabe & Ito's colour-blind-safe palette
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
SCHEDULE_COLORS = {"replace": PALETTE[1], "accumulate": PALETTE[2], "all-real": PALETTE[0]}


# Figures are designed for the online book's content column (about 620-670 px wide at a 1280 px
# window): at FIGURE_DPI a figure FIGURE_MAX_WIDTH inches wide is FIGURE_MAX_WIDTH * FIGURE_DPI
# = 612 px, so it displays at its natural size, and an 8-point label is 8 * 90 / 72 = 10 px on
# screen.  Chapters keep figsize widths <= FIGURE_MAX_WIDTH and font sizes >= 8 points
# (tests/test_book_structure.py checks both).
FIGURE_DPI = 90
FIGURE_MAX_WIDTH = 6.8
MIN_FONT_SIZE = 8


def use_book_style() -> None:
    """Apply the book's matplotlib style (called by every chapter's set-up cell)."""
    mpl.rcParams.update({
        "figure.figsize": (FIGURE_MAX_WIDTH, 3.6),
        "figure.dpi": FIGURE_DPI,
        "savefig.dpi": FIGURE_DPI,
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


def prose_number(x, digits: int = 2) -> str:
    """``x`` rounded to ``digits`` significant digits in plain decimal notation, for prose.

    Glue the result as a string where a format spec would print scientific notation
    (``f"{4.97e6:.3g}"`` is ``'4.97e+06'``): ``prose_number(4.97e6, 3)`` is ``'4,970,000'``,
    ``prose_number(8.99e-05, 3)`` is ``'0.0000899'``.  Thousands are separated by commas."""
    from ._validate import check_int
    digits = check_int("digits", digits, minimum=1)
    try:
        x = float(x)
    except (TypeError, ValueError):
        raise ValueError(f"x must be a real number, got {x!r}") from None
    if not np.isfinite(x):
        raise ValueError(f"x must be finite, got {x!r}")
    if x == 0:
        return "0"
    for _ in range(2):  # rounding can carry into the next power of ten (9.96 -> 10)
        e = int(np.floor(np.log10(abs(x))))
        x = round(x, digits - 1 - e)
    decimals = max(0, digits - 1 - e)
    return f"{x:,.{decimals}f}"
