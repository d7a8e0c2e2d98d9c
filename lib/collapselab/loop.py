"""The one recursive-training loop (chapter 1, {prf:ref}`def-01-loop`).

Model 0 is the truth.  For t = 1, ..., T, generation t's new batch holds ``n_real`` real
points and ``n_synth`` samples of model t-1 (sizes from the :class:`~collapselab.schedules.Schedule`);
under accumulate the batch joins all earlier ones.  Model t is fitted to the result (or, under
accumulate-subsample, to a random subsample of it).  Every array carries a leading replicate
axis, so one call runs many independent chains.

Where the real data come from and how fitted models generate are two parameters of the loop,
``real`` (a real source) and ``synthetic`` (a synthetic sampler): see :mod:`collapselab.sources`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

from ._validate import as_rng, check_bool, check_count, check_int
from .models.base import combine_optional
from .schedules import Schedule, replace


@dataclass
class Trajectory:
    """What :func:`run_loop` returns.

    ``records[name]`` and ``metrics[name]`` have shape (T + 1, R, ...): index 0 is the truth.
    ``final`` holds the last fitted parameters; ``real`` and ``synthetic`` the run's real
    source and synthetic sampler (None: the model's own sampler).
    """

    model: Any
    schedule: Schedule
    n: int
    generations: np.ndarray
    records: dict[str, np.ndarray] = field(default_factory=dict)
    metrics: dict[str, np.ndarray] = field(default_factory=dict)
    final: Any = None
    real: Any = None
    synthetic: Any = None

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


_MAX_SIZE = 10**9          # points per chain in one batch / generations: beyond this is a typo


def _subsample(pool, k, rng):
    """k points of each chain's pool, a uniform random k-subset drawn without replacement,
    independently per chain.  A subsample that is a large share of the pool sorts random keys
    (O(N) per chain); a small one uses Floyd's algorithm, vectorised over chains (O(k^2) per
    chain, independent of the pool size N)."""
    from .sources import _take_points, points_size
    N = points_size(pool)
    if k >= N:
        return pool
    R = (pool[0] if isinstance(pool, tuple) else pool).shape[0]
    if 4 * k > N:
        idx = np.argpartition(rng.random((R, N)), k - 1, axis=1)[:, :k]
    else:
        idx = np.empty((R, k), dtype=np.int64)
        for i, j in enumerate(range(N - k, N)):
            draw = rng.integers(0, j + 1, size=R)
            seen = (idx[:, :i] == draw[:, None]).any(axis=1)
            idx[:, i] = np.where(seen, j, draw)
    return _take_points(pool, np.sort(idx, axis=1))


class _Pool:
    """The accumulated points of a point-based schedule, in a buffer sized once for the run
    (arrays (R, capacity, ...), or tuples of them)."""

    def __init__(self, capacity: int):
        self.capacity, self.size, self.buf = capacity, 0, None

    def add(self, batch):
        fields = batch if isinstance(batch, tuple) else (batch,)
        m = fields[0].shape[1]
        if self.buf is None:
            self.buf = tuple(np.empty((f.shape[0], self.capacity) + f.shape[2:], dtype=f.dtype)
                             for f in fields)
        if any(not np.can_cast(f.dtype, b.dtype) for b, f in zip(self.buf, fields)):
            old, self.buf = self.buf, tuple(
                np.empty(b.shape, dtype=np.result_type(b.dtype, f.dtype)) for b, f in zip(self.buf, fields))
            for b, o in zip(self.buf, old):
                b[:, :self.size] = o[:, :self.size]
        for b, f in zip(self.buf, fields):
            b[:, self.size:self.size + m] = f
        self.size += m

    def view(self):
        out = tuple(b[:, :self.size] for b in self.buf)
        return out if len(out) > 1 else out[0]


def run_loop(model, truth, *, n: int, generations: int, replicates: int = 1,
             schedule: Schedule | None = None, real=None, synthetic=None, exact: bool = False,
             seed=None, metrics: Mapping[str, Callable[[Any, Any], np.ndarray]] | None = None,
             record: bool = True, record_every: int = 1, progress: bool = False) -> Trajectory:
    """Run ``replicates`` independent chains of recursive training for ``generations`` steps.

    Generation t's batch holds ``n_real`` real points from the real source and ``n_synth``
    points from model t-1 (sizes from the schedule).  Model 0 is the truth: its samples (the
    synthetic share of generation 1) are drawn with the model's own sampler from ``truth``;
    every later model generates through the synthetic sampler.  See :mod:`collapselab.sources`.

    Parameters
    ----------
    model : a batch model (see :mod:`collapselab.models.base`).
    truth : parameters of the true distribution (model 0), for one chain or for R chains.
    n : new points per generation (the batch size); >= 1, and large enough to fit the model.
    generations : T >= 0.
    replicates : R >= 1 independent chains, simulated together.
    schedule : a :class:`~collapselab.schedules.Schedule`; default :func:`~collapselab.schedules.replace`.
    real : where real data come from: a :class:`~collapselab.sources.RealSource` or a callable
        ``real(t, m, rng) -> stats``; default :class:`~collapselab.sources.Truth`.  A schedule
        with ``fresh_real=False`` reuses one sample of it (:class:`~collapselab.sources.FixedSample`).
    synthetic : how fitted models generate: a :class:`~collapselab.sources.Sampler` or a callable
        ``synthetic(params, m, rng) -> stats``; default the model's ``synthetic`` attribute if
        it has one, else its own sampler (:class:`~collapselab.sources.OwnSampler`).
    exact : draw sufficient statistics directly (cost independent of n) where the model, source
        and sampler can (their ``exact_stats``).  Point-based schedules (subsample) ignore it.
    seed : int, SeedSequence or Generator.
    metrics : ``{name: f(params, truth) -> (R,)}`` evaluated at every recorded generation (at
        generation 0 ``params`` is the truth itself, the same object as ``truth``).
    record : keep the parameters given by ``model.record`` at every recorded generation.
    record_every : record generations 0, k, 2k, ... and always the last one.
    progress : show a tqdm progress bar over generations.
    """
    from .sources import FixedSample, LoopContext, Truth, bind_real, bind_synthetic

    n = check_int("n", n, minimum=1, maximum=_MAX_SIZE)
    generations = check_count("generations", generations, minimum=0, maximum=_MAX_SIZE)
    replicates = check_int("replicates", replicates, minimum=1, maximum=_MAX_SIZE)
    record_every = check_int("record_every", record_every, minimum=1)
    exact = check_bool("exact", exact)
    record = check_bool("record", record)
    progress = check_bool("progress", progress)
    if isinstance(seed, (bool, np.bool_)):
        raise ValueError(f"seed must be an int, a SeedSequence or a numpy Generator, got {seed!r}")
    if truth is None:
        raise ValueError("truth must be the parameters of model 0 (the true distribution), got None")
    # the methods a statistics-based run calls (a point-based schedule also needs sample/stats,
    # checked below); a model need not implement the whole BatchModel interface
    for method in ("fit", "combine", "broadcast", "record", "sample_stats"):
        if not callable(getattr(model, method, None)):
            raise ValueError(f"model must be a batch model with a {method}() method, got {model!r}")
    schedule = replace() if schedule is None else schedule
    if not isinstance(schedule, Schedule):
        raise ValueError(f"schedule must be a Schedule, got {schedule!r}")
    if metrics is not None and not isinstance(metrics, Mapping):
        raise ValueError(f"metrics must be a mapping {{name: f(params, truth)}}, got {metrics!r}")
    metrics = dict(metrics or {})
    for name, f in metrics.items():
        if not callable(f):
            raise ValueError(f"metrics: metric {name!r} must be callable f(params, truth) -> (R,), got {f!r}")
    if real is not None and not callable(real) and not hasattr(real, "bind"):
        raise ValueError(f"real must be a RealSource or a callable real(t, m, rng) -> stats, "
                         f"got {real!r}")
    rng = as_rng(seed)
    try:
        truth = model.broadcast(truth, replicates)
    except ValueError as exc:
        raise ValueError(f"truth: {exc}") from exc

    ctx = LoopContext(model=model, truth=truth, replicates=replicates, n=n,
                      generations=generations, schedule=schedule, exact=exact)
    source = Truth() if real is None else real
    if not schedule.fresh_real and not isinstance(source, FixedSample):
        source = FixedSample(source)
    draw_synth = bind_synthetic(synthetic, ctx)
    points_mode = bool(schedule.subsample)
    if points_mode and not callable(getattr(model, "sample", None)):
        raise ValueError(f"schedule {schedule.name} fits on points: model must have sample()")

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
    if points_mode:
        pool = _Pool(sum(sum(schedule.batch_sizes(t, n)) for t in range(1, generations + 1)))
    draw_real = bind_real(source, ctx, rng)
    if points_mode and draw_real.points is None:
        raise ValueError(f"schedule {schedule.name} fits on points: real must be a RealSource "
                         "that draws points, not a plain statistics callable")
    if points_mode and draw_synth.points is None:
        raise ValueError(f"schedule {schedule.name} fits on points: synthetic must be a Sampler "
                         "that draws points, not a plain statistics callable")

    def synth(t, m):
        if t == 1 and not draw_synth.applies_to_model0:   # model 0 is the truth: real data
            return model.sample(truth, m, rng) if points_mode else \
                model.sample_stats(truth, m, rng, exact=exact)
        return draw_synth.points(params, m, rng) if points_mode else draw_synth.stats(params, m, rng)

    steps = range(1, generations + 1)
    if progress:
        from tqdm import tqdm
        steps = tqdm(steps, desc=f"{schedule.name}, n={n}", leave=False)
    for t in steps:
        n_real, n_synth = schedule.batch_sizes(t, n)
        parts = []
        if n_real:
            parts.append(draw_real.points(t, n_real, rng) if points_mode
                         else draw_real.stats(t, n_real, rng))
        if n_synth:
            parts.append(synth(t, n_synth))
        if points_mode:
            for part in parts:
                pool.add(part)
            k = schedule.fit_size(pool.size, n)
            params = model.fit(model.stats(_subsample(pool.view(), k, rng)))
        else:
            batch = parts[0] if len(parts) == 1 else combine_optional(model, parts[0], parts[1])
            pool = combine_optional(model, pool, batch) if schedule.accumulate else batch
            params = model.fit(pool)
        if t in kept_set:
            keep(params)

    return Trajectory(model=model, schedule=schedule, n=n, generations=np.array(kept),
                      records={k: np.stack(v) for k, v in records.items()},
                      metrics={k: np.stack(v) for k, v in values.items()}, final=params,
                      real=source, synthetic=synthetic if synthetic is not None
                      else getattr(model, "synthetic", None))
