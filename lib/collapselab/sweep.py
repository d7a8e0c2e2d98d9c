"""Parameter sweeps (Part II, phase diagrams): a grid of settings, each run with its own seed.

Each grid point receives a child of one ``SeedSequence``, chosen by its position in the grid, so
results do not depend on where or in which order points run: serial, a local process pool (the
default) and a Dask or Ray cluster give identical numbers (``tests/test_sweep.py``).  No
scheduler is written here: work goes to ``concurrent.futures`` or to the executor you pass.
"""
from __future__ import annotations

import concurrent.futures as cf
import itertools
import os
import traceback as _tb
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ._validate import check_bool, check_callable, check_int, check_str


@dataclass
class PointFailure:
    """A grid point whose function raised: its index in ``points``, its coordinates, its seed
    (the ``SeedSequence`` it was given: ``entropy`` and ``spawn_key`` reproduce it) and the
    error (type, message, formatted traceback from the worker)."""

    index: int
    point: dict
    seed: np.random.SeedSequence
    error_type: str
    message: str
    traceback: str = ""

    def __str__(self) -> str:
        return (f"point {self.index} {self.point} (seed entropy={self.seed.entropy}, "
                f"spawn_key={self.seed.spawn_key}) failed: {self.error_type}: {self.message}")


@dataclass
class SweepResult:
    """Grid axes, the list of points (row-major over ``axes``) and each point's returned dict.

    ``values[i]`` is None for a point that failed or was cancelled; ``failures`` lists the
    points that raised (see :class:`PointFailure`) and ``cancelled`` the indices of the points
    never run because an earlier one failed."""

    axes: dict[str, list]
    points: list[dict]
    values: list[dict | None]
    fixed: dict = None
    failures: list[PointFailure] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(v) for v in self.axes.values())

    @property
    def complete(self) -> bool:
        """True when every point returned a result."""
        return all(v is not None for v in self.values)

    def array(self, key: str) -> np.ndarray:
        """Stack ``values[i][key]`` into an array shaped ``shape + value.shape``."""
        if not self.complete:
            missing = [i for i, v in enumerate(self.values) if v is None]
            raise ValueError(f"the sweep is incomplete: points {missing[:10]}"
                             f"{'...' if len(missing) > 10 else ''} have no result "
                             f"({len(self.failures)} failed, {len(self.cancelled)} cancelled); "
                             f"see .failures, or use .records() for the points that ran")
        try:
            arr = np.stack([np.asarray(v[key]) for v in self.values])
        except KeyError:
            raise KeyError(f"{key!r} not among the returned keys {sorted(self.values[0])}") from None
        return arr.reshape(self.shape + arr.shape[1:])

    def records(self) -> list[dict]:
        """One flat dict per point that returned: its parameters and its scalar results."""
        return [{**p, **(self.fixed or {}), **{k: v for k, v in val.items() if np.ndim(v) == 0}}
                for p, val in zip(self.points, self.values) if val is not None]


class SweepError(ValueError):
    """A grid point failed.  The message names the point's coordinates and seed; ``failures``
    lists every failed point and ``result`` holds the partial :class:`SweepResult` (the values
    of the points that finished, None elsewhere).  The worker's exception, when it could be
    sent back, is the ``__cause__``."""

    def __init__(self, message: str, failures: list[PointFailure], result: SweepResult):
        super().__init__(message)
        self.failures = failures
        self.result = result


def grid_points(axes: Mapping[str, Sequence]) -> list[dict]:
    """The Cartesian product of ``axes`` as a list of dicts, last axis fastest."""
    if not isinstance(axes, Mapping):
        raise ValueError(f"axes must be a mapping {{name: values}}, got {type(axes).__name__}")
    if not axes:
        raise ValueError("axes must name at least one parameter")
    for name, vals in axes.items():
        if len(list(vals)) == 0:
            raise ValueError(f"axis {name!r} has no values")
    names = list(axes)
    return [dict(zip(names, combo)) for combo in itertools.product(*[list(axes[k]) for k in names])]


@dataclass
class _Failed:
    """What a worker sends back when the point function raises (always picklable)."""

    error_type: str
    message: str
    traceback: str
    exception: Any = None


def _call(func, params, seed):
    """Run one point; never raises, so that every backend reports failures the same way."""
    try:
        out = func(**params, seed=seed)
        if not isinstance(out, Mapping):
            raise ValueError(f"the sweep function must return a dict, got {type(out).__name__}")
        return dict(out)
    except Exception as exc:  # noqa: BLE001 - reported with the point's coordinates
        try:
            import pickle
            pickle.dumps(exc)
            keep = exc
        except Exception:  # noqa: BLE001
            keep = None
        return _Failed(type(exc).__name__, str(exc), _tb.format_exc(), keep)


def _cancel(futures) -> None:
    for fut in futures:
        try:
            if not fut.done():
                fut.cancel()
        except Exception:  # noqa: BLE001 - best effort on foreign futures
            pass


def _submitter(executor) -> Callable:
    """``executor.submit``; for a ``dask.distributed.Client`` with ``pure=False``.  Dask keys a
    call by a hash of its function and arguments (``pure=True`` by default), so a sweep that
    repeats one whose pending work was just cancelled would be handed the old futures, still
    being cancelled, and fail with CancelledError.  Fresh keys make each sweep independent (the
    numbers do not change: every point's seed is an explicit argument)."""
    if type(executor).__module__.split(".")[0] == "distributed":
        return lambda *args: executor.submit(*args, pure=False)
    return executor.submit


def run_sweep(func: Callable[..., Mapping[str, Any]], axes: Mapping[str, Sequence], *, seed=0,
              executor: Any = "processes", max_workers: int | None = None,
              progress: bool = True, fixed: Mapping[str, Any] | None = None,
              on_error: str = "raise") -> SweepResult:
    """Evaluate ``func(**point, **fixed, seed=SeedSequence)`` at every point of the grid ``axes``.

    Parameters
    ----------
    func : a module-level function (it must pickle) returning a dict of numbers or arrays.
    axes : ``{name: values}``; the grid is their Cartesian product.
    seed : int or SeedSequence; point i receives ``SeedSequence(seed).spawn(N)[i]``.
    executor : ``"processes"`` (a local process pool, default), ``"serial"``, or any object with
        a ``submit(fn, *args)`` method returning futures with ``.result()`` —
        ``concurrent.futures`` executors, a ``dask.distributed.Client``, Ray's
        ``ray.util.multiprocessing``-style pools wrapped by ``concurrent.futures``.
    max_workers : processes of the local pool (default: the machine's cores).
    progress : show a progress bar (``tqdm.auto``: a widget in notebooks, text elsewhere).
    fixed : keyword arguments passed unchanged to every call.
    on_error : what a failing point does.  ``"raise"`` (default): the pending points are
        cancelled (on every backend) and a :class:`SweepError` is raised naming the point's
        coordinates and seed; it carries the partial result (``.result``, with the values of the
        points that finished) and ``.failures``.  ``"collect"``: every point runs; the result
        lists the failed points in ``.failures`` and has None as their values.

    Results do not depend on the backend or on the order in which points finish.
    """
    check_callable("func", func)
    progress = check_bool("progress", progress)
    on_error = check_str("on_error", on_error, ("raise", "collect"))
    points = grid_points(axes)
    fixed = dict(fixed or {})
    overlap = set(fixed) & set(axes)
    if overlap:
        raise ValueError(f"parameters {sorted(overlap)} are both swept and fixed")
    if "seed" in axes or "seed" in fixed:
        raise ValueError("seed is set by run_sweep; do not sweep or fix it")
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(
        check_int("seed", seed, minimum=0))
    seeds = root.spawn(len(points))
    calls = [({**p, **fixed}, s) for p, s in zip(points, seeds)]
    if not (executor in ("serial", "processes") if isinstance(executor, str) else hasattr(executor, "submit")):
        raise ValueError("executor must be 'processes', 'serial' or an object with a submit() method")

    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(calls), desc="sweep", leave=False)

    values: list = [None] * len(calls)
    failures: list[PointFailure] = []
    cancelled: list[int] = []
    first_exc = None

    def record(i, out):
        nonlocal first_exc
        if isinstance(out, _Failed):
            failures.append(PointFailure(i, points[i], seeds[i], out.error_type, out.message,
                                         out.traceback))
            if first_exc is None:
                first_exc = out.exception
            return False
        values[i] = out
        if bar is not None:
            bar.update()
        return True

    own_pool = None
    try:
        if executor == "serial":
            for i, (params, s) in enumerate(calls):
                if not record(i, _call(func, params, s)) and on_error == "raise":
                    cancelled = list(range(i + 1, len(calls)))
                    break
        else:
            if executor == "processes":
                workers = max_workers or os.cpu_count() or 1
                own_pool = executor = cf.ProcessPoolExecutor(max_workers=check_int("max_workers", workers, minimum=1))
            submit = _submitter(executor)
            futures = [submit(_call, func, params, s) for params, s in calls]
            for i, fut in enumerate(futures):
                if not record(i, fut.result()) and on_error == "raise":
                    _cancel(futures[i + 1:])
                    # keep what already finished; the rest is cancelled
                    for j in range(i + 1, len(futures)):
                        f = futures[j]
                        try:
                            done = f.done() and not f.cancelled()
                        except Exception:  # noqa: BLE001
                            done = False
                        if done:
                            try:
                                out = f.result()
                            except Exception:  # noqa: BLE001
                                out = None
                            if isinstance(out, dict):
                                record(j, out)
                                continue
                            if isinstance(out, _Failed):
                                record(j, out)
                                continue
                        cancelled.append(j)
                    break
    finally:
        if bar is not None:
            bar.close()
        if own_pool is not None:
            own_pool.shutdown(wait=True, cancel_futures=True)
    result = SweepResult(axes={k: list(v) for k, v in axes.items()}, points=points, values=values,
                         fixed=fixed, failures=failures, cancelled=cancelled)
    if failures and on_error == "raise":
        first = failures[0]
        more = f" ({len(failures) - 1} more failed)" if len(failures) > 1 else ""
        msg = (f"{first}{more}; {sum(v is not None for v in values)} of {len(values)} points "
               f"finished (see .result), {len(cancelled)} cancelled")
        err = SweepError(msg, failures, result)
        if first_exc is not None:
            raise err from first_exc
        raise err
    return result
