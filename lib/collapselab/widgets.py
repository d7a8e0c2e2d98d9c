"""Interactive explorers of the recursive loop (chapter 2 onwards).

:func:`loop_explorer` puts sliders for the batch size n and the number of generations, and
drop-downs for the schedule, the model variant (e.g. the variance estimator) and the plotted
quantity, in front of :func:`collapselab.run_loop`.  It works for *any* batch model and any
per-chain quantity: a record key of ``model.record`` (such as ``"var"``) or a metric
``f(params, truth) -> (R,)`` (such as :func:`collapselab.metrics.w2_to_truth`).

:func:`plot_loop` draws the same picture for fixed parameter values; chapters call it to pair
each explorer with a static figure, since moving a slider needs a live Python kernel (a local
Jupyter session), which a static HTML page does not have.

``ipywidgets`` is imported only when :func:`loop_explorer` is called, so the rest of the library
does not depend on it.  Used in chapter 2 (the explorer section); tested in
``tests/test_theory_gaussian.py``.
"""
from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ._validate import check_count, check_fraction, check_int
from .loop import Trajectory, run_loop
from .models.base import BatchModel
from .schedules import Schedule, accumulate, all_real, mix, replace

__all__ = ["plot_loop", "loop_explorer", "LoopExplorer", "default_schedules"]


def default_schedules() -> dict[str, Any]:
    """The schedules offered by default: replace, accumulate, mix(alpha) and all real.

    A value is either a :class:`~collapselab.schedules.Schedule` or a callable ``alpha ->
    Schedule`` (then the explorer's alpha slider applies to it)."""
    return {"replace": replace(), "accumulate": accumulate(), "mix(alpha)": mix,
            "all real": all_real()}


# --- validation helpers ------------------------------------------------------------------------
def _check_model(name: str, model) -> None:
    if not isinstance(model, BatchModel):
        raise ValueError(f"{name} must be a batch model (with stats, sample_stats, combine, fit, "
                         f"sample, broadcast and record), got {model!r}")


def _check_quantity(name: str, quantity) -> None:
    if not (isinstance(quantity, str) or callable(quantity)):
        raise ValueError(f"{name} must be a record key (str) or a metric f(params, truth) -> (R,), "
                         f"got {quantity!r}")


def _as_mapping(name: str, value, check) -> dict[str, Any]:
    """A single item becomes {label: item}; a mapping is checked item by item."""
    if isinstance(value, Mapping):
        if not value:
            raise ValueError(f"{name} must not be empty")
        out = {}
        for label, item in value.items():
            if not isinstance(label, str):
                raise ValueError(f"{name} labels must be strings, got {label!r}")
            check(f"{name}[{label!r}]", item)
            out[label] = item
        return out
    check(name, value)
    label = value if isinstance(value, str) else getattr(value, "__name__", None) or getattr(
        value, "name", None) or type(value).__name__
    return {str(label): value}


def _check_range(name: str, value, minimum: int) -> tuple[int, int, int]:
    """An int v (slider over [minimum, max(4 v, minimum + 1)]) or a tuple (lo, hi) / (lo, hi, v)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        v = check_int(name, value, minimum=minimum)
        return minimum, max(4 * v, minimum + 1), v
    if not isinstance(value, (tuple, list)) or len(value) not in (2, 3):
        raise ValueError(f"{name} must be an int or a tuple (low, high) or (low, high, value), "
                         f"got {value!r}")
    lo = check_int(f"{name} (low)", value[0], minimum=minimum)
    hi = check_int(f"{name} (high)", value[1], minimum=lo)
    if hi == lo:
        raise ValueError(f"{name} must have high > low, got {value!r}")
    v = check_int(f"{name} (value)", value[2], minimum=lo, maximum=hi) if len(value) == 3 else lo
    return lo, hi, v


def _resolve_schedule(name: str, schedule, alpha: float) -> Schedule:
    if isinstance(schedule, Schedule):
        return schedule
    if callable(schedule):
        out = schedule(alpha)
        if not isinstance(out, Schedule):
            raise ValueError(f"{name} must return a Schedule when called with alpha, got {out!r}")
        return out
    raise ValueError(f"{name} must be a Schedule or a callable alpha -> Schedule, got {schedule!r}")


def _check_bool(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


# --- the static picture ------------------------------------------------------------------------
def _run(model, truth, quantity, *, n, generations, schedule, replicates, exact, seed):
    if callable(quantity):
        traj = run_loop(model, truth, n=n, generations=generations, replicates=replicates,
                        schedule=schedule, exact=exact, seed=seed, record=False,
                        metrics={"quantity": quantity})
        values = traj.metrics["quantity"]
    else:
        traj = run_loop(model, truth, n=n, generations=generations, replicates=replicates,
                        schedule=schedule, exact=exact, seed=seed)
        if quantity not in traj.records:
            raise ValueError(f"quantity {quantity!r} is not a record of {model!r}; records: "
                             f"{sorted(traj.records)} (or pass a metric f(params, truth))")
        values = traj.records[quantity]
        if values.ndim != 2:
            raise ValueError(f"quantity {quantity!r} has shape {values.shape[2:]} per chain; pass "
                             "a metric f(params, truth) -> (R,) that reduces it to one number")
    return traj, values


def plot_loop(ax, model, truth, quantity, *, n: int, generations: int, schedule=None,
              replicates: int = 2000, exact: bool = True, seed: int = 0, log: bool = False,
              theory=None, color=None, label=None, paths: int = 0, show_mean: bool = True,
              ylabel: str | None = None) -> tuple[Trajectory, np.ndarray]:
    """Run the loop and draw a fan chart of one per-chain quantity against the generation.

    Parameters
    ----------
    ax : a matplotlib Axes.
    model, truth : a batch model and the true parameters (model 0), as for :func:`run_loop`.
    quantity : a record key (``"var"``, ``"mean"`` ...) whose value is one number per chain, or
        a metric ``f(params, truth) -> (R,)``.
    n, generations, schedule, replicates, exact, seed : passed to :func:`run_loop`.
    log : logarithmic y axis (use it for variances).
    theory : optional array of length generations + 1 (e.g. a closed-form expectation), drawn
        as a dotted black line.
    color, label : colour and legend label of the median line.
    paths : also draw the first ``paths`` chains as thin lines.
    show_mean : draw the Monte-Carlo mean over chains as a dashed line.

    Returns the trajectory and the plotted values, shape (generations + 1, replicates).
    Chapter 2, {prf:ref}`thm-02-mle-variance`; the static companion of :func:`loop_explorer`.
    """
    from .plotting import PALETTE, fan_chart, sample_paths, schedule_color

    _check_model("model", model)
    _check_quantity("quantity", quantity)
    n = check_int("n", n, minimum=1)
    generations = check_count("generations", generations, minimum=1)
    replicates = check_int("replicates", replicates, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    exact = _check_bool("exact", exact)
    log = _check_bool("log", log)
    show_mean = _check_bool("show_mean", show_mean)
    paths = check_int("paths", paths, minimum=0)
    try:
        model.broadcast(truth, replicates)
    except ValueError as exc:
        raise ValueError(f"truth is not a valid parameter set for {model!r}: {exc}") from None
    schedule = replace() if schedule is None else _resolve_schedule("schedule", schedule, 0.0)
    traj, values = _run(model, truth, quantity, n=n, generations=generations, schedule=schedule,
                        replicates=replicates, exact=exact, seed=seed)
    x = traj.generations
    color = color or schedule_color(schedule.name)
    label = schedule.name if label is None else label
    if log:
        if np.any(values < 0):
            raise ValueError("log scale needs a non-negative quantity")
        # a chain whose value underflowed to 0 is drawn at the smallest positive float
        values_plot = np.clip(values, np.finfo(float).tiny, None)
    else:
        values_plot = values
    fan_chart(ax, x, values_plot, color=color, label=f"{label}: median, 50% and 90% bands",
              log=log)
    if paths:
        sample_paths(ax, x, values_plot, k=min(paths, values.shape[1]), color=color)
    if show_mean:
        ax.plot(x, values.mean(axis=1), color=color, ls="--", lw=1.2,
                label=f"{label}: mean of {values.shape[1]} chains")
    if theory is not None:
        curve = np.asarray(theory, dtype=float)
        if curve.shape != (generations + 1,):
            raise ValueError(f"theory must have shape ({generations + 1},), got {curve.shape}")
        ax.plot(np.arange(generations + 1), curve, color=PALETTE[7], ls=":", lw=1.8,
                label="theory (expectation)")
    ax.set_xlabel("generation t")
    if ylabel is None:
        ylabel = quantity if isinstance(quantity, str) else getattr(quantity, "__name__",
                                                                     "quantity")
    ax.set_ylabel(ylabel)
    ax.set_xlim(0, generations)
    return traj, values


# --- the interactive explorer ------------------------------------------------------------------
class LoopExplorer:
    """What :func:`loop_explorer` returns: the widget and handles for code and tests.

    Attributes
    ----------
    widget : the ipywidgets container (displayed when the explorer is the cell's value).
    controls : ``{name: widget}`` for ``model``, ``quantity``, ``schedule``, ``alpha``, ``n``,
        ``generations``, ``log`` and ``exact``.
    figure, trajectory, values : the last figure drawn, its trajectory and plotted values.
    """

    def __init__(self, widget, controls, output, draw):
        self.widget = widget
        self.controls = controls
        self.output = output
        self._draw = draw
        self.figure = None
        self.trajectory = None
        self.values = None
        self.draws = 0
        self._hold = False  # True while several controls change at once

    def settings(self) -> dict[str, Any]:
        """The current value of every control."""
        return {name: c.value for name, c in self.controls.items()}

    def set(self, **values) -> None:
        """Set several controls at once (e.g. ``set(n=50, schedule="accumulate")``), then redraw once."""
        unknown = sorted(set(values) - set(self.controls))
        if unknown:
            raise ValueError(f"unknown control(s) {unknown}; controls: {sorted(self.controls)}")
        self._hold = True
        try:
            for name, value in values.items():
                self.controls[name].value = value
        finally:
            self._hold = False
        self.redraw()

    def redraw(self) -> None:
        """Re-run the loop with the current settings and redraw the plot."""
        self._draw(self)
        self.draws += 1

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self):
        return f"LoopExplorer({self.settings()})"


def loop_explorer(models, truth, quantities, *, n=(2, 200, 20), generations=(1, 300, 50),
                  schedules: Mapping[str, Any] | None = None, alpha: float = 0.5,
                  replicates: int = 2000, exact: bool = True, seed: int = 0, log=False,
                  theory: Callable | None = None, model_label: str = "model",
                  figsize=(6.8, 3.6)) -> LoopExplorer:
    """An interactive explorer of the loop for any batch model and any per-chain quantity.

    Parameters
    ----------
    models : a batch model, or ``{label: model}`` to choose between variants (for the Gaussian
        of chapter 2: ``{"MLE (ddof=0)": Gaussian1D(0), "unbiased (ddof=1)": Gaussian1D(1)}``).
    truth : the true parameters (model 0), accepted by every model's ``broadcast``.
    quantities : a record key (e.g. ``"var"``), a metric ``f(params, truth) -> (R,)``, or
        ``{label: either}`` to choose between several.
    n, generations : slider ranges, each an int (the start value) or (low, high[, value]).
    schedules : ``{label: Schedule or callable alpha -> Schedule}``; default
        :func:`default_schedules`.  The alpha slider applies to the callables.
    alpha : start value of the alpha slider, in [0, 1].
    replicates : chains per run (R); exact : the exact sufficient-statistics sampler; seed : int.
    log : bool, or ``{quantity label: bool}``: start value of the log-scale check box.
    theory : optional ``theory(model_label, quantity_label, schedule, n, generations)`` returning
        an array of length generations + 1 to overlay, or None where no closed form is known.
    model_label : the name shown on the model drop-down (e.g. ``"estimator"``).

    Returns a :class:`LoopExplorer`; it displays as the widget.  Moving a slider re-runs the
    loop, which needs a live kernel (local Jupyter): a static HTML page shows no plot.
    Chapter 2 (explorer section); tested in ``tests/test_theory_gaussian.py``.
    """
    models = _as_mapping("models", models, _check_model)
    quantities = _as_mapping("quantities", quantities, _check_quantity)
    n_lo, n_hi, n_val = _check_range("n", n, minimum=1)
    g_lo, g_hi, g_val = _check_range("generations", generations, minimum=1)
    alpha = check_fraction("alpha", alpha)
    if schedules is None:
        schedules = default_schedules()
    if not isinstance(schedules, Mapping) or not schedules:
        raise ValueError("schedules must be a non-empty mapping {label: Schedule or callable}")
    schedules = dict(schedules)
    for label, sch in schedules.items():
        if not isinstance(label, str):
            raise ValueError(f"schedules labels must be strings, got {label!r}")
        _resolve_schedule(f"schedules[{label!r}]", sch, alpha)
    replicates = check_int("replicates", replicates, minimum=1, maximum=10**7)
    seed = check_int("seed", seed, minimum=0)
    exact = _check_bool("exact", exact)
    if isinstance(log, Mapping):
        log = {k: _check_bool(f"log[{k!r}]", v) for k, v in log.items()}
        unknown = set(log) - set(quantities)
        if unknown:
            raise ValueError(f"log has labels {sorted(unknown)} that are not quantities")
    else:
        log = {k: _check_bool("log", log) for k in quantities}
    if theory is not None and not callable(theory):
        raise ValueError(f"theory must be callable or None, got {theory!r}")
    if not isinstance(model_label, str) or not model_label:
        raise ValueError("model_label must be a non-empty string")
    for label, model in models.items():
        try:
            model.broadcast(truth, replicates)
        except (ValueError, AttributeError, TypeError, IndexError) as exc:
            raise ValueError(f"truth does not fit models[{label!r}]: {exc}") from None

    try:
        import ipywidgets as w
    except ImportError as exc:  # pragma: no cover - ipywidgets is in requirements.txt
        raise ImportError("loop_explorer needs ipywidgets (pip install ipywidgets)") from exc
    import matplotlib.pyplot as plt

    style = {"description_width": "initial"}
    controls = {
        "model": w.Dropdown(options=list(models), description=model_label, style=style),
        "quantity": w.Dropdown(options=list(quantities), description="quantity", style=style),
        "schedule": w.Dropdown(options=list(schedules), description="schedule", style=style),
        "alpha": w.FloatSlider(value=alpha, min=0.0, max=1.0, step=0.05, description="alpha",
                               continuous_update=False, style=style),
        "n": w.IntSlider(value=n_val, min=n_lo, max=n_hi, description="n per generation",
                         continuous_update=False, style=style),
        "generations": w.IntSlider(value=g_val, min=g_lo, max=g_hi, description="generations",
                                   continuous_update=False, style=style),
        "log": w.Checkbox(value=log[next(iter(quantities))], description="log scale"),
        "exact": w.Checkbox(value=exact, description="exact sampler"),
    }
    output = w.Output()

    def draw(ex: LoopExplorer) -> None:
        s = ex.settings()
        sched_spec = schedules[s["schedule"]]
        schedule = _resolve_schedule("schedule", sched_spec, s["alpha"])
        controls["alpha"].disabled = isinstance(sched_spec, Schedule)
        curve = None
        if theory is not None:
            curve = theory(s["model"], s["quantity"], schedule, s["n"], s["generations"])
        fig, ax = plt.subplots(figsize=figsize)
        try:
            ex.trajectory, ex.values = plot_loop(
                ax, models[s["model"]], truth, quantities[s["quantity"]], n=s["n"],
                generations=s["generations"], schedule=schedule, replicates=replicates,
                exact=s["exact"], seed=seed, log=s["log"], theory=curve, ylabel=s["quantity"])
            ax.set_title(f"{s['model']}, {schedule.name}, n = {s['n']}, {replicates} chains")
            ax.legend(fontsize=8)
        except ValueError as exc:  # e.g. n too small for the model: say so in the plot area
            ax.text(0.5, 0.5, f"cannot run: {exc}", ha="center", va="center", wrap=True,
                    transform=ax.transAxes)
        ex.figure = fig
        if _in_kernel():  # without a kernel (tests, scripts) there is nowhere to show it
            from IPython.display import display
            with output:
                output.clear_output(wait=True)
                display(fig)
        plt.close(fig)

    box = w.VBox([w.HBox([controls["model"], controls["quantity"], controls["schedule"]]),
                  w.HBox([controls["n"], controls["generations"], controls["alpha"]]),
                  w.HBox([controls["log"], controls["exact"]]), output])
    explorer = LoopExplorer(box, controls, output, draw)

    def on_change(change):
        if change["name"] != "value" or explorer._hold:
            return
        if change["owner"] is controls["quantity"]:
            explorer._hold = True
            controls["log"].value = log[change["new"]]
            explorer._hold = False
        explorer.redraw()

    for c in controls.values():
        c.observe(on_change, names="value")
    explorer.redraw()
    return explorer


def _in_kernel() -> bool:
    """True inside a Jupyter kernel (where an Output widget can show a figure)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return False
    return getattr(get_ipython(), "kernel", None) is not None
