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
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ._validate import check_int


@dataclass
class SweepResult:
    """Grid axes, the list of points (row-major over ``axes``) and each point's returned dict."""

    axes: dict[str, list]
    points: list[dict]
    values: list[dict]
    fixed: dict = None

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(v) for v in self.axes.values())

    def array(self, key: str) -> np.ndarray:
        """Stack ``values[i][key]`` into an array shaped ``shape + value.shape``."""
        try:
            arr = np.stack([np.asarray(v[key]) for v in self.values])
        except KeyError:
            raise KeyError(f"{key!r} not among the returned keys {sorted(self.values[0])}") from None
        return arr.reshape(self.shape + arr.shape[1:])

    def records(self) -> list[dict]:
        """One flat dict per point: its parameters and its scalar results."""
        return [{**p, **(self.fixed or {}), **{k: v for k, v in val.items() if np.ndim(v) == 0}}
                for p, val in zip(self.points, self.values)]


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


def _call(func, params, seed):
    out = func(**params, seed=seed)
    if not isinstance(out, Mapping):
        raise ValueError(f"the sweep function must return a dict, got {type(out).__name__}")
    return dict(out)


def run_sweep(func: Callable[..., Mapping[str, Any]], axes: Mapping[str, Sequence], *, seed=0,
              executor: Any = "processes", max_workers: int | None = None,
              progress: bool = True, fixed: Mapping[str, Any] | None = None) -> SweepResult:
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
    progress : show a tqdm progress bar.
    fixed : keyword arguments passed unchanged to every call.
    """
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

    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(calls), desc="sweep", leave=False)

    values: list[dict] = []
    own_pool = None
    try:
        if executor == "serial":
            for params, s in calls:
                values.append(_call(func, params, s))
                if bar is not None:
                    bar.update()
        else:
            if executor == "processes":
                workers = max_workers or os.cpu_count() or 1
                own_pool = executor = cf.ProcessPoolExecutor(max_workers=check_int("max_workers", workers, minimum=1))
            elif not hasattr(executor, "submit"):
                raise ValueError("executor must be 'processes', 'serial' or an object with a submit() method")
            futures = [executor.submit(_call, func, params, s) for params, s in calls]
            for fut in futures:
                values.append(fut.result())
                if bar is not None:
                    bar.update()
    finally:
        if bar is not None:
            bar.close()
        if own_pool is not None:
            own_pool.shutdown()
    return SweepResult(axes={k: list(v) for k, v in axes.items()}, points=points, values=values,
                       fixed=fixed)
