"""The one recursive-training loop (chapter 1, {prf:ref}`def-01-loop`).

Model 0 is the truth.  For t = 1, ..., T, generation t's new batch holds ``n_real`` fresh real
points and ``n_synth`` samples of model t-1 (sizes from the :class:`~collapselab.schedules.Schedule`);
under accumulate the batch joins all earlier ones.  Model t is fitted to the result.  Every
array carries a leading replicate axis, so one call runs many independent chains.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

from ._validate import as_rng, check_int
from .models.base import combine_optional
from .schedules import Schedule, replace


@dataclass
class Trajectory:
    """What :func:`run_loop` returns.

    ``records[name]`` and ``metrics[name]`` have shape (T + 1, R, ...): index 0 is the truth.
    ``final`` holds the last fitted parameters.
    """

    model: Any
    schedule: Schedule
    n: int
    generations: np.ndarray
    records: dict[str, np.ndarray] = field(default_factory=dict)
    metrics: dict[str, np.ndarray] = field(default_factory=dict)
    final: Any = None

    @property
    def replicates(self) -> int:
        first = next(iter(self.metrics.values()), None)
        if first is None:
            first = next(iter(self.records.values()))
        return first.shape[1]

    def __getitem__(self, key: str) -> np.ndarray:
        if key in self.metrics:
            return self.metrics[key]
        if key in self.records:
            return self.records[key]
        raise KeyError(f"{key!r} is neither a metric ({sorted(self.metrics)}) nor a record "
                       f"({sorted(self.records)})")


def _nested_real_sets(schedule, n, generations, real_stats, model, rng):
    """One fixed real sample, drawn once: the statistics of its first m points for every size m
    the schedule asks for (nested, so a smaller real batch is a subset of a larger one)."""
    sizes = sorted({schedule.batch_sizes(t, n)[0] for t in range(1, generations + 1)} - {0})
    sets, stats, have = {}, None, 0
    for m in sizes:
        stats = combine_optional(model, stats, real_stats(m - have, rng))
        sets[m], have = stats, m
    return sets


def run_loop(model, truth, *, n: int, generations: int, replicates: int = 1,
             schedule: Schedule | None = None, exact: bool = False, seed=None,
             metrics: Mapping[str, Callable[[Any, Any], np.ndarray]] | None = None,
             record: bool = True, record_every: int = 1, progress: bool = False,
             real_stats: Callable | None = None) -> Trajectory:
    """Run ``replicates`` independent chains of recursive training for ``generations`` steps.

    Parameters
    ----------
    model : a batch model (see :mod:`collapselab.models.base`).
    truth : parameters of the true distribution (model 0), for one chain or for R chains.
    n : new points per generation (the batch size); >= 1, and large enough to fit the model.
    generations : T >= 0.
    replicates : R >= 1 independent chains, simulated together.
    schedule : a :class:`~collapselab.schedules.Schedule`; default :func:`~collapselab.schedules.replace`.
    exact : draw sufficient statistics directly (cost independent of n) where the model can.
    seed : int, SeedSequence or Generator.
    metrics : ``{name: f(params, truth) -> (R,)}`` evaluated at every recorded generation.
    record : keep the parameters given by ``model.record`` at every recorded generation.
    record_every : record generations 0, k, 2k, ... and always the last one.
    progress : show a tqdm progress bar over generations.
    real_stats : optional ``f(n, rng) -> stats`` drawing real data (defaults to sampling the truth).
    """
    n = check_int("n", n, minimum=1)
    generations = check_int("generations", generations, minimum=0)
    replicates = check_int("replicates", replicates, minimum=1)
    record_every = check_int("record_every", record_every, minimum=1)
    schedule = replace() if schedule is None else schedule
    if not isinstance(schedule, Schedule):
        raise ValueError(f"schedule must be a Schedule, got {schedule!r}")
    rng = as_rng(seed)
    truth = model.broadcast(truth, replicates)
    metrics = dict(metrics or {})

    if real_stats is None:
        def real_stats(m, r):
            return model.sample_stats(truth, m, r, exact=exact)

    kept = [t for t in range(0, generations + 1, record_every)]
    if kept[-1] != generations:
        kept.append(generations)
    kept_set = set(kept)
    records: dict[str, list] = {}
    values: dict[str, list] = {name: [] for name in metrics}

    def keep(params):
        if record:
            for key, arr in model.record(params).items():
                records.setdefault(key, []).append(np.array(arr, copy=True))
        for name, f in metrics.items():
            v = np.asarray(f(params, truth), dtype=float)
            if v.shape != (replicates,):
                raise ValueError(f"metric {name!r} must return shape ({replicates},), got {v.shape}")
            values[name].append(v)

    keep(truth)
    params, pool = truth, None
    fixed_real = {} if schedule.fresh_real else _nested_real_sets(schedule, n, generations,
                                                                 real_stats, model, rng)
    steps = range(1, generations + 1)
    if progress:
        from tqdm import tqdm
        steps = tqdm(steps, desc=f"{schedule.name}, n={n}", leave=False)
    for t in steps:
        n_real, n_synth = schedule.batch_sizes(t, n)
        batch = None
        if n_real:
            if schedule.fresh_real:
                real = real_stats(n_real, rng)
            else:
                real = fixed_real[n_real]
            batch = real
        if n_synth:
            batch = combine_optional(model, batch, model.sample_stats(params, n_synth, rng, exact=exact))
        pool = combine_optional(model, pool, batch) if schedule.accumulate else batch
        params = model.fit(pool)
        if t in kept_set:
            keep(params)

    return Trajectory(model=model, schedule=schedule, n=n, generations=np.array(kept),
                      records={k: np.stack(v) for k, v in records.items()},
                      metrics={k: np.stack(v) for k, v in values.items()}, final=params)
