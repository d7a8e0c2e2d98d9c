"""Pictures of the recursive training loop (chapter 1, {prf:ref}`def-01-loop` and
{prf:ref}`def-01-schedules`).

:func:`draw_loop` draws the first generations of one data schedule as boxes and arrows: model 0
(the truth) on the left; for each generation t the training set D_t, drawn as a bar whose
segments say where its points come from (real data, or samples of model s); and model t, fitted
to D_t.  The bar heights are proportional to the number of points, so the accumulate schedule's
growing pool is visible.  :func:`draw_schedules` puts several schedules side by side.

The compositions are computed from :meth:`collapselab.schedules.Schedule.batch_sizes`, the
method :func:`collapselab.loop.run_loop` uses, so the picture cannot drift from the loop.
Checked in tests/test_schedules_and_loop.py.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch, Rectangle

from ._validate import check_bool, check_count, check_int, check_real, check_work
from .plotting import PALETTE
from .schedules import Schedule, accumulate, all_real, inject, mix, replace

REAL_COLOR = PALETTE[0]
SYNTH_COLOR = PALETTE[1]
MODEL_FACE = "#F2F2F2"
TRUTH_FACE = "#DCEBF5"

SPACING = 2.8  # distance between two model boxes, in data units

#: The schedules a name stands for in :func:`draw_loop` (mix and inject need a parameter).
NAMED = {
    "replace": replace,
    "accumulate": accumulate,
    "mix": lambda: mix(0.5),
    "inject": lambda: inject(2),
    "all_real": all_real,
    "all-real": all_real,
}


def _as_schedule(schedule) -> Schedule:
    if isinstance(schedule, Schedule):
        return schedule
    if isinstance(schedule, str) and schedule in NAMED:
        return NAMED[schedule]()
    raise ValueError(f"schedule must be a Schedule or one of {sorted(NAMED)}, got {schedule!r}")


def compositions(schedule, generations: int, n: int = 100) -> list[list[tuple[int, int]]]:
    """Where the training set of each generation t = 1..T comes from.

    Returns, for every generation, a list of ``(origin, count)`` segments in the order they
    entered the pool: origin 0 is real data (samples of model 0, the truth, are real data) and
    origin s >= 1 means samples of model s.  Under accumulate the list of generation t extends
    that of generation t - 1.
    """
    schedule = _as_schedule(schedule)
    generations = check_count("generations", generations, minimum=1)
    n = check_int("n", n, minimum=1)
    check_work(f"generations={generations} (the composition lists grow like T^2 under accumulate)",
               float(generations) ** 2)
    out, pool = [], []
    for t in range(1, generations + 1):
        n_real, n_synth = schedule.batch_sizes(t, n)
        batch = []
        if n_real:
            batch.append((0, n_real))
        if n_synth:
            batch.append((t - 1, n_synth))
        # merge neighbouring segments of the same origin (generation 1: real + model 0 = real)
        merged = []
        for origin, count in batch:
            if merged and merged[-1][0] == origin:
                merged[-1] = (origin, merged[-1][1] + count)
            else:
                merged.append((origin, count))
        pool = pool + merged if schedule.accumulate else merged
        out.append(list(pool))
    return out


def _box(ax, x, y, w, h, text, face, fontsize):
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.08",
                                facecolor=face, edgecolor="#444444", lw=1.0, zorder=2))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=3)


def _arrow(ax, start, end, *, style="-|>", color="#444444", ls="-", rad=0.0, lw=1.0):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=9, color=color, lw=lw,
                                 linestyle=ls, connectionstyle=f"arc3,rad={rad}", zorder=1,
                                 shrinkA=1, shrinkB=1))


def draw_loop(ax, schedule="replace", *, generations: int = 3, n: int = 100, title: bool = True,
              legend: bool = False, fontsize: float = 7.5):
    """Draw the recursive training loop under ``schedule`` on the matplotlib axes ``ax``.

    Parameters
    ----------
    ax : matplotlib Axes to draw on (its axis lines are switched off).
    schedule : a :class:`~collapselab.schedules.Schedule`, or one of ``"replace"``,
        ``"accumulate"``, ``"mix"`` (alpha = 0.5), ``"inject"`` (every 2) and ``"all_real"``.
    generations : generations drawn, 1 to 8.
    n : the batch size used to compute each segment's share (only proportions are drawn).
    title : write the schedule's name (and whether real data are fresh or fixed) above the panel.
    legend : add a legend for the colours of real and synthetic data.
    fontsize : size of the labels.

    Returns the axes.  Chapter 1, {numref}`fig-01-loop`.
    """
    if not isinstance(ax, Axes):
        raise ValueError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
    schedule = _as_schedule(schedule)
    G = check_int("generations", generations, minimum=1, maximum=8)
    n = check_int("n", n, minimum=1)
    fontsize = check_real("fontsize", fontsize, minimum=0.0, strict_min=True, maximum=200.0)
    title = check_bool("title", title)
    legend = check_bool("legend", legend)
    comps = compositions(schedule, G, n)

    unit, base, real_y, xlim, ylim = _layout(schedule, G, n, comps)
    box_w, box_h, bar_w = 1.0, 0.62, 0.45
    sp = SPACING

    # real data band across the top
    if not _uses_real(schedule, G, n):
        label = "real data ~ P  (unused: only model 0's samples are real)"
    else:
        label = "real data ~ P" + ("" if schedule.fresh_real else "  (one fixed sample, reused)")
    ax.add_patch(Rectangle((-0.5, real_y - 0.15), sp * G + 1, 0.3, facecolor=REAL_COLOR, alpha=0.25,
                           edgecolor=REAL_COLOR, lw=0.8, zorder=1))
    ax.text(sp * G / 2, real_y, label, ha="center", va="center", fontsize=fontsize, zorder=3)

    # model boxes: model t at x = sp t, training set D_t half-way between models t - 1 and t
    model_y = base + box_h / 2
    _box(ax, 0, model_y, box_w, box_h, "model 0\n(truth)", TRUTH_FACE, fontsize)
    for t in range(1, G + 1):
        _box(ax, sp * t, model_y, box_w, box_h, rf"model {t}" "\n" rf"$\theta_{t}$", MODEL_FACE, fontsize)

    for t, comp in enumerate(comps, start=1):
        x = sp * (t - 0.5)
        y = base
        for origin, count in comp:
            h = unit * count / n
            face = REAL_COLOR if origin == 0 else SYNTH_COLOR
            ax.add_patch(Rectangle((x - bar_w / 2, y), bar_w, h, facecolor=face, edgecolor="white",
                                   lw=0.8, zorder=2))
            if h >= 0.17:
                ax.text(x, y + h / 2, "real" if origin == 0 else rf"$\theta_{origin}$", ha="center",
                        va="center", fontsize=fontsize - 1.5, color="white", zorder=3)
            y += h
        ax.text(x, base - 0.12, f"$D_{t}$", ha="center", va="top", fontsize=fontsize)
        n_real, n_synth = schedule.batch_sizes(t, n)
        # samples of model t-1 feed D_t (model 0's samples are real data)
        if n_synth:
            _arrow(ax, (sp * (t - 1) + box_w / 2, model_y), (x - bar_w / 2, model_y),
                   color=REAL_COLOR if t == 1 else SYNTH_COLOR, lw=1.3)
        # fresh (or fixed) real data feed D_t from the band
        if n_real:
            share = "n" if n_real == n else f"{n_real / n:g}n"
            _arrow(ax, (x, real_y - 0.15), (x, y + 0.02), color=REAL_COLOR, lw=1.3)
            ax.text(x + 0.08, (real_y - 0.15 + y) / 2, share, ha="left", va="center",
                    fontsize=fontsize - 1, color=REAL_COLOR)
        # under accumulate, the pool of generation t - 1 is kept
        if schedule.accumulate and t > 1:
            _arrow(ax, (x - sp + 0.1, base - 0.02), (x - 0.1, base - 0.02), color="#777777",
                   ls="--", rad=0.35, lw=0.9)
        # fit model t to D_t
        _arrow(ax, (x + bar_w / 2, model_y), (sp * t - box_w / 2, model_y), lw=1.3)
        if t == 1:
            gap = (sp - box_w - bar_w) / 4
            if n_synth:
                ax.text(x - bar_w / 2 - gap, model_y - 0.05, "sample", ha="center", va="top",
                        fontsize=fontsize - 1.5, color="#444444")
            ax.text(x + bar_w / 2 + gap, model_y - 0.05, "fit", ha="center", va="top",
                    fontsize=fontsize - 1.5, color="#444444")

    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        real = "fresh real data" if schedule.fresh_real else "fixed real data"
        ax.set_title(f"{schedule.name}  ({real})" if _uses_real(schedule, G, n) else schedule.name,
                     fontsize=fontsize + 1.5)
    if legend:
        ax.legend(handles=legend_handles(), loc="lower center", fontsize=fontsize,
                  ncol=2, bbox_to_anchor=(0.5, -0.05))
    return ax


def _layout(schedule: Schedule, G: int, n: int, comps=None):
    """Bar height of n points, bar baseline, height of the real-data band, x and y limits."""
    comps = compositions(schedule, G, n) if comps is None else comps
    max_units = max(sum(c for _, c in comp) for comp in comps) / n
    unit = min(0.55, 1.9 / max_units)          # bar height of n points
    base = -0.3                                 # bars grow upwards from here
    real_y = base + unit * max_units + 0.55     # the real-data band
    xlim = (-0.6, SPACING * G + 0.6)
    ylim = (base - (0.75 if schedule.accumulate else 0.4), real_y + 0.25)
    return unit, base, real_y, xlim, ylim


def _aspect(schedule: Schedule, G: int, n: int) -> float:
    *_, xlim, ylim = _layout(schedule, G, n)
    return (ylim[1] - ylim[0]) / (xlim[1] - xlim[0])


def _uses_real(schedule: Schedule, generations: int, n: int) -> bool:
    return any(schedule.batch_sizes(t, n)[0] for t in range(1, generations + 1))


def legend_handles():
    """Legend entries for the colours used by :func:`draw_loop`."""
    return [Patch(facecolor=REAL_COLOR, label="real data (incl. samples of model 0)"),
            Patch(facecolor=SYNTH_COLOR, label=r"samples of model $s$ ($\theta_s$)")]


def draw_schedules(schedules=None, *, generations: int = 3, ncols: int = 2, n: int = 100,
                   figsize=None, fontsize: float = 7.5):
    """A figure with one :func:`draw_loop` panel per schedule.

    ``schedules`` defaults to replace, accumulate, mix(0.5) and inject(2).  Returns the figure.
    Chapter 1, {numref}`fig-01-loop`.
    """
    if schedules is None:
        schedules = [replace(), accumulate(), mix(0.5), inject(2)]
    if isinstance(schedules, (str, Schedule)):
        schedules = [schedules]
    schedules = [_as_schedule(s) for s in schedules]
    if not schedules:
        raise ValueError("schedules must hold at least one schedule")
    G = check_int("generations", generations, minimum=1, maximum=8)
    ncols = check_int("ncols", ncols, minimum=1)
    ncols = min(ncols, len(schedules))
    nrows = -(-len(schedules) // ncols)
    fontsize = check_real("fontsize", fontsize, minimum=0.0, strict_min=True, maximum=200.0)
    # inches per panel: the drawing scales with the number of generations and the font size,
    # so that labels fit their boxes whatever both are
    panel_w = 1.55 * (G + 0.4) * fontsize / 7.5
    # each row as tall as its tallest panel (the panels keep an equal aspect ratio)
    ratios = [_aspect(sched, G, n) for sched in schedules] + [0.0] * (nrows * ncols - len(schedules))
    heights = [max(ratios[r * ncols:(r + 1) * ncols]) * panel_w + 0.3 for r in range(nrows)]
    if figsize is None:
        figsize = (panel_w * ncols, sum(heights) + 0.4)
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    for ax, sched in zip(axes.flat, schedules):
        draw_loop(ax, sched, generations=G, n=n, fontsize=fontsize)
    for ax in list(axes.flat)[len(schedules):]:
        ax.axis("off")
    fig.legend(handles=legend_handles(), loc="lower center", ncol=2, fontsize=fontsize + 0.5)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig
