"""Run one model under several data schedules and compare them (chapter 9, *Replace, accumulate,
inject*).

:func:`compare_schedules` runs :func:`collapselab.run_loop` once per schedule, with the same
model, truth, batch size n, horizon T and number of chains, and returns a :class:`Comparison`.
Its summaries express every schedule's error relative to the *one-generation error*
epsilon_n = E[error of model 1]: model 1 is fitted to n real points under every schedule
({prf:ref}`prop-01-reductions`), so epsilon_n is the error of a single fit to real data, the
yardstick against which the cost of recursion is measured.  Next to the error, each summary
reports the real data the schedule consumes (:meth:`collapselab.schedules.Schedule.real_data_used`)
and the size of the last training set.  Nothing here knows which model it runs: the error is
any metric ``f(params, truth) -> (R,)``, as for :func:`~collapselab.run_loop`.

Each schedule's chains get their own seed, derived from ``seed`` and the schedule's *name*, so a
schedule's run is the same whichever other schedules are compared with it.

The module also holds three model-free results of chapter 9:

* :func:`inject_profile` -- {prf:ref}`prop-09-regeneration`: under inject(k) with fresh real
  data the chain restarts at every injection, so its expected error is the replace curve
  restarted every k generations;
* :func:`linear_model_error` and :func:`target_cost` -- the *linear error model* of
  {prf:ref}`thm-09-noise-bias` and {prf:ref}`thm-09-price` (exact for the known-variance
  Gaussian mean): noise is averaged away by accumulation, a systematic bias is not; and the
  real data needed per generation to keep the error below a target;
* :func:`pareto_front` -- the schedules no other schedule beats on both error and real data.

Checked in ``tests/test_compare.py``.
"""
from __future__ import annotations

import math
import numbers
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ._validate import check_array, check_bool, check_count, check_int, check_model, check_real
from .loop import Trajectory, run_loop
from .schedules import Schedule

__all__ = ["ScheduleSummary", "Comparison", "compare_schedules", "schedule_seed",
           "inject_profile", "linear_model_error", "target_cost",
           "pareto_front", "training_set_size"]

SUMMARY_FIELDS = ("final", "peak", "average", "real_data_used", "real_share", "train_size")
"""Columns of :meth:`Comparison.table` by default (see :class:`ScheduleSummary`)."""
COLUMN_HEADERS = {
    "final": "final error / ε",
    "peak": "peak error / ε",
    "average": "mean error / ε",
    "final_se": "s.e. of final",
    "real_data_used": "real points used",
    "real_per_generation": "real points per generation",
    "real_share": "real share",
    "train_size": "last training set",
}
"""Reader-facing headers of :meth:`Comparison.table` (errors are in units of epsilon_n)."""


# ------------------------------------------------------------------------------------------
# seeds and costs
# ------------------------------------------------------------------------------------------
def schedule_seed(seed, name: str) -> np.random.SeedSequence:
    """The seed of one schedule's run: a child of ``seed`` keyed by a CRC-32 of ``name``.

    ``seed`` is an int >= 0, a ``SeedSequence`` or ``None`` (fresh entropy).  The same (seed,
    name) always gives the same stream, independently of the other schedules compared."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    key = zlib.crc32(name.encode("utf-8"))
    if isinstance(seed, np.random.SeedSequence):
        return np.random.SeedSequence(seed.entropy, spawn_key=tuple(seed.spawn_key) + (key,))
    if seed is None:
        return np.random.SeedSequence(spawn_key=(key,))
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, a SeedSequence or None, got {seed!r}")
    return np.random.SeedSequence(int(seed), spawn_key=(key,))


def training_set_size(schedule: Schedule, generations: int, n: int) -> int:
    """Points in the training set of model T: n T under accumulation, n otherwise (0 for T = 0)
    ({prf:ref}`prop-01-reductions`)."""
    if not isinstance(schedule, Schedule):
        raise ValueError(f"schedule must be a Schedule, got {schedule!r}")
    generations = check_count("generations", generations, minimum=0)
    n = check_int("n", n, minimum=1)
    if generations == 0:
        return 0
    return n * generations if schedule.accumulate else n


# ------------------------------------------------------------------------------------------
# the comparison
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScheduleSummary:
    """One schedule's summary.  Errors are means over chains divided by epsilon_n.

    Attributes
    ----------
    name : the schedule's name.
    final : mean error of model T / epsilon_n.
    peak : the largest mean error over generations 1..T / epsilon_n.
    average : the mean error averaged over generations 1..T / epsilon_n (what a model deployed
        at a random generation costs on average).
    final_se : Monte-Carlo standard error of ``final`` (epsilon_n treated as known).
    real_data_used : real points one chain consumes over generations 1..T
        (:meth:`~collapselab.schedules.Schedule.real_data_used`).
    real_per_generation : ``real_data_used / T``.
    real_share : ``real_data_used / (n T)``: the share of the all-real schedule's real data.
    train_size : points in the training set of model T (:func:`training_set_size`).
    """

    name: str
    final: float
    peak: float
    average: float
    final_se: float
    real_data_used: int
    real_per_generation: float
    real_share: float
    train_size: int

    def as_dict(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in self.__dataclass_fields__}


@dataclass
class Comparison:
    """What :func:`compare_schedules` returns: one :class:`~collapselab.loop.Trajectory` per
    schedule and the one-generation error epsilon_n.

    ``errors(name)`` is the error metric, shape (T + 1, R) (row 0 is the truth);
    ``mean``/``se``/``relative`` are its mean over chains, the Monte-Carlo standard error of
    that mean and the mean divided by epsilon_n, each of shape (T + 1,).
    """

    n: int
    generations: int
    replicates: int
    metric_name: str
    epsilon: float
    epsilon_se: float
    epsilon_estimated: bool
    schedules: dict[str, Schedule]
    trajectories: dict[str, Trajectory] = field(repr=False)

    @property
    def names(self) -> list[str]:
        return list(self.schedules)

    @property
    def t(self) -> np.ndarray:
        """Generations 0..T."""
        return np.arange(self.generations + 1)

    def _name(self, name: str) -> str:
        if name not in self.schedules:
            raise ValueError(f"name must be one of {self.names}, got {name!r}")
        return name

    def errors(self, name: str) -> np.ndarray:
        return self.trajectories[self._name(name)].metrics[self.metric_name]

    def metric(self, name: str, key: str) -> np.ndarray:
        """Any metric or record of one schedule's run, shape (T + 1, R, ...)."""
        return self.trajectories[self._name(name)][key]

    def mean(self, name: str) -> np.ndarray:
        return self.errors(name).mean(axis=1)

    def se(self, name: str) -> np.ndarray:
        return self.errors(name).std(axis=1, ddof=1) / np.sqrt(self.replicates)

    def relative(self, name: str) -> np.ndarray:
        """Mean error / epsilon_n over generations 0..T."""
        return self.mean(name) / self.epsilon

    def summary(self, name: str) -> ScheduleSummary:
        sched = self.schedules[self._name(name)]
        rel = self.relative(name)[1:]
        used = sched.real_data_used(self.generations, self.n)
        return ScheduleSummary(
            name=name, final=float(rel[-1]), peak=float(rel.max()), average=float(rel.mean()),
            final_se=float(self.se(name)[-1] / self.epsilon), real_data_used=int(used),
            real_per_generation=float(used / self.generations),
            real_share=float(used / (self.n * self.generations)),
            train_size=training_set_size(sched, self.generations, self.n))

    def summaries(self) -> dict[str, ScheduleSummary]:
        return {name: self.summary(name) for name in self.schedules}

    def _among(self, among) -> list[str]:
        if among is None:
            return self.names
        if isinstance(among, str):
            among = [among]
        names = [self._name(name) for name in among]
        if not names:
            raise ValueError("among must name at least one schedule")
        return names

    def cheapest(self, target: float, by: str = "peak", among=None) -> str | None:
        """The schedule using the least real data whose summary ``by`` ("final", "peak" or
        "average") is at most ``target`` (in units of epsilon_n); ties go to the smaller
        training set, then to the order of the schedules.  ``among`` restricts the choice to
        some schedule names (e.g. those with a fixed-size training set).  ``None`` if none
        qualifies."""
        target = check_real("target", target, minimum=0.0)
        by = _check_error_field(by)
        order = {name: i for i, name in enumerate(self.schedules)}
        sums = [self.summary(name) for name in self._among(among)]
        ok = [s for s in sums if getattr(s, by) <= target]
        if not ok:
            return None
        return min(ok, key=lambda s: (s.real_data_used, s.train_size, order[s.name])).name

    def pareto(self, by: str = "peak", among=None) -> list[str]:
        """Names of the schedules (of ``among``, default all) on the Pareto front of
        (real data used, ``by`` error), by increasing real data."""
        by = _check_error_field(by)
        sums = [self.summary(name) for name in self._among(among)]
        keep = pareto_front([s.real_data_used for s in sums], [getattr(s, by) for s in sums])
        return [sums[i].name for i in keep]

    def table(self, columns: Sequence[str] = SUMMARY_FIELDS, digits: int = 3) -> str:
        """A Markdown table of the summaries, one row per schedule, headed for readers
        (:data:`COLUMN_HEADERS`)."""
        columns = list(columns)
        allowed = set(ScheduleSummary.__dataclass_fields__) - {"name"}
        for c in columns:
            if c not in allowed:
                raise ValueError(f"columns must be among {sorted(allowed)}, got {c!r}")
        digits = check_int("digits", digits, minimum=1)
        head = "| schedule | " + " | ".join(COLUMN_HEADERS.get(c, c) for c in columns) + " |"
        rule = "|---|" + "---|" * len(columns)
        rows = [head, rule]
        for s in self.summaries().values():
            cells = [_fmt(getattr(s, c), digits) for c in columns]
            rows.append(f"| {s.name} | " + " | ".join(cells) + " |")
        return "\n".join(rows)


def _check_error_field(by: str) -> str:
    if by not in ("final", "peak", "average"):
        raise ValueError(f"by must be 'final', 'peak' or 'average', got {by!r}")
    return by


def _fmt(value, digits: int) -> str:
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return f"{float(value):.{digits}g}"


def compare_schedules(model, truth, schedules, *, n: int, generations: int,
                      replicates: int = 200, metric: Callable[[Any, Any], np.ndarray],
                      metric_name: str = "error", epsilon: float | None = None,
                      metrics: Mapping[str, Callable] | None = None, exact: bool = False,
                      seed=None, record: bool = False, progress: bool = False) -> Comparison:
    """Run ``model`` under each schedule and summarise (chapter 9, {prf:ref}`thm-09-price`).

    Parameters
    ----------
    model, truth : a batch model and the true parameters, as for :func:`collapselab.run_loop`.
    schedules : a sequence of :class:`~collapselab.schedules.Schedule` (their names must be
        distinct) or a mapping ``{name: Schedule}``.
    n, generations, replicates : batch size, horizon T >= 1 and chains R >= 2 of every run.
    metric : the error, ``f(params, truth) -> (R,)`` with finite values; evaluated at every
        generation.
    metric_name : the key under which the error is stored in each trajectory.
    epsilon : the one-generation error epsilon_n if known in closed form (> 0).  By default it
        is estimated by the mean error of model 1 pooled over all schedules' chains (model 1
        is fitted to n real points under every schedule, {prf:ref}`prop-01-reductions`).
    metrics : further metrics to evaluate at every generation (no summaries).
    exact, record, progress : passed to :func:`collapselab.run_loop`.
    seed : int >= 0, ``SeedSequence`` or None; each schedule runs with
        :func:`schedule_seed` (seed, its name).

    Returns
    -------
    :class:`Comparison`
    """
    check_model("model", model)
    n = check_int("n", n, minimum=1)
    generations = check_count("generations", generations, minimum=1)
    replicates = check_int("replicates", replicates, minimum=2)
    exact = check_bool("exact", exact)
    record = check_bool("record", record)
    progress = check_bool("progress", progress)
    if not callable(metric):
        raise ValueError(f"metric must be a callable f(params, truth) -> (R,), got {metric!r}")
    if not isinstance(metric_name, str) or not metric_name:
        raise ValueError(f"metric_name must be a non-empty string, got {metric_name!r}")
    extra = dict(metrics or {})
    if metric_name in extra:
        raise ValueError(f"metrics must not contain the error's own name {metric_name!r}")
    for key, f in extra.items():
        if not callable(f):
            raise ValueError(f"metrics[{key!r}] must be callable")
    if epsilon is not None:
        epsilon = check_real("epsilon", epsilon, minimum=0.0, strict_min=True)
    named = _named_schedules(schedules)
    try:
        model.broadcast(truth, replicates)
    except ValueError as exc:
        raise ValueError(f"truth is not a valid parameter set for {model!r}: {exc}") from None
    if seed is not None and not isinstance(seed, np.random.SeedSequence):
        schedule_seed(seed, "check")  # validates seed

    trajectories = {}
    for name, sched in named.items():
        traj = run_loop(model, truth, n=n, generations=generations, replicates=replicates,
                        schedule=sched, exact=exact, seed=schedule_seed(seed, name),
                        metrics={metric_name: metric, **extra}, record=record,
                        progress=progress)
        values = traj.metrics[metric_name]
        if not np.all(np.isfinite(values)):
            raise ValueError(f"metric {metric_name!r} returned non-finite values under "
                             f"schedule {name!r}; the error must be finite")
        trajectories[name] = traj

    first = np.concatenate([t.metrics[metric_name][1] for t in trajectories.values()])
    eps_hat = float(first.mean())
    eps_se = float(first.std(ddof=1) / np.sqrt(first.size))
    estimated = epsilon is None
    if estimated:
        if not eps_hat > 0:
            raise ValueError("the one-generation error epsilon_n is zero: relative errors are "
                             "undefined (choose a metric that is positive after one fit)")
        epsilon = eps_hat
    return Comparison(n=n, generations=generations, replicates=replicates,
                      metric_name=metric_name, epsilon=float(epsilon),
                      epsilon_se=eps_se if estimated else 0.0, epsilon_estimated=estimated,
                      schedules=named, trajectories=trajectories)


def _named_schedules(schedules) -> dict[str, Schedule]:
    if isinstance(schedules, Schedule):
        schedules = [schedules]
    if isinstance(schedules, Mapping):
        items = list(schedules.items())
    else:
        try:
            items = [(getattr(s, "name", None), s) for s in schedules]
        except TypeError:
            raise ValueError("schedules must be a sequence of Schedule or a mapping "
                             "{name: Schedule}") from None
    if not items:
        raise ValueError("schedules must hold at least one Schedule")
    named: dict[str, Schedule] = {}
    for name, sched in items:
        if not isinstance(sched, Schedule):
            raise ValueError(f"schedules must hold Schedule objects, got {sched!r}")
        if not isinstance(name, str) or not name:
            raise ValueError(f"schedules: every name must be a non-empty string, got {name!r}")
        if name in named:
            raise ValueError(f"schedules: duplicate name {name!r}; pass a mapping "
                             "{name: Schedule} to tell them apart")
        named[name] = sched
    return named


# ------------------------------------------------------------------------------------------
# model-free theory of chapter 9
# ------------------------------------------------------------------------------------------
def inject_profile(replace_curve, every: int) -> np.ndarray:
    """The expected error under inject(k) from the expected error under replace
    ({prf:ref}`prop-09-regeneration`).

    ``replace_curve[t]`` is E[error of model t] under replace, t = 0..T.  Under inject(k) with
    fresh real data (no accumulation, no mixing) model t has the law of replace model
    phi_k(t), where phi_k(t) = t for t < k and phi_k(t) = (t mod k) + 1 for t >= k: every
    injection refits to n fresh real points, exactly as generation 1 does.  Returns the curve
    E[error_t], t = 0..T, under inject(k)."""
    curve = check_array("replace_curve", replace_curve, ndim=1)
    if curve.size < 1:
        raise ValueError("replace_curve must hold at least the value at t = 0")
    every = check_int("every", every, minimum=1)
    t = np.arange(curve.size)
    phi = np.where(t < every, t, t % every + 1)
    return curve[phi]


def _tau(target):
    return check_real("target", target, minimum=1.0)


def linear_model_error(schedule: Schedule, n: int, generations: int):
    """The linear error model of {prf:ref}`thm-09-noise-bias`: ``(noise, drift)``, two arrays
    over t = 0..T.

    A scalar parameter theta_t is fitted to a batch statistic B_t with
    E[B_t | past] = a_t theta_0 + (1 - a_t) theta_{t-1} and Var(B_t | past) = epsilon, where
    a_t = n_real(t) / n is generation t's real share (``schedule.batch_sizes``); the fit adds a
    systematic bias b: theta_t = B_t + b, or the average of all batches so far plus b under
    accumulation.  With delta_t = theta_t - theta_0,

        E[delta_t] = b * drift[t],   Var(delta_t) = epsilon * noise[t],
        E[delta_t^2] = b^2 drift[t]^2 + epsilon noise[t].

    Without accumulation: drift_t = (1 - a_t) drift_{t-1} + 1, noise_t = (1 - a_t)^2 noise_{t-1} + 1;
    with accumulation: drift_t = drift_{t-1} + (1 - a_t drift_{t-1}) / t,
    noise_t = (1 - a_t / t)^2 noise_{t-1} + 1 / t^2.  Exact for the known-variance Gaussian mean
    (B_t the batch mean, epsilon = sigma^2 / n).  Needs fresh real data."""
    if not isinstance(schedule, Schedule):
        raise ValueError(f"schedule must be a Schedule, got {schedule!r}")
    if not schedule.fresh_real:
        raise ValueError("schedule must draw fresh real data (fresh_real=True): a fixed real "
                         "sample correlates the generations and the model does not hold")
    if getattr(schedule, "subsample", False):
        raise ValueError(f"schedule {schedule.name} subsamples its pool: these formulas do not hold")
    n = check_int("n", n, minimum=1)
    generations = check_count("generations", generations, minimum=0)
    drift = np.zeros(generations + 1)
    noise = np.zeros(generations + 1)
    for t in range(1, generations + 1):
        a = schedule.batch_sizes(t, n)[0] / n
        if schedule.accumulate:
            drift[t] = drift[t - 1] + (1.0 - a * drift[t - 1]) / t
            noise[t] = (1.0 - a / t) ** 2 * noise[t - 1] + 1.0 / t**2
        else:
            drift[t] = (1.0 - a) * drift[t - 1] + 1.0
            noise[t] = (1.0 - a) ** 2 * noise[t - 1] + 1.0
    return noise, drift


def target_cost(target: float, schedule: str, kind: str = "noise", by: str = "peak") -> float:
    """The least long-run real share per generation that keeps the error of the linear error
    model at most ``target`` times its one-generation value ({prf:ref}`thm-09-price`).

    ``kind="noise"`` (b = 0; error E delta_t^2 in units of epsilon):
    mix: a* = 1 - sqrt(1 - 1/target) for ``by`` "peak" and "average" alike (the mix error
    increases to epsilon / (a (2 - a)), its supremum and long-run average); inject: 1/k for the
    largest k with k <= target (peak) or (k + 1)/2 <= target (average).
    ``kind="bias"`` (epsilon = 0; error |E delta_t| in units of b):
    mix: 1/target (the drift increases to b/a); inject: as for noise.
    ``target`` >= 1: no schedule does better than one fit to real data."""
    tau = _tau(target)
    if by not in ("peak", "average"):
        raise ValueError(f"by must be 'peak' or 'average', got {by!r}")
    if kind not in ("noise", "bias"):
        raise ValueError(f"kind must be 'noise' or 'bias', got {kind!r}")
    if schedule == "mix":
        return float(1.0 - math.sqrt(1.0 - 1.0 / tau)) if kind == "noise" else 1.0 / tau
    if schedule == "inject":
        k = math.floor(tau + 1e-12) if by == "peak" else math.floor(2 * tau - 1 + 1e-12)
        return 1.0 / max(k, 1)
    raise ValueError(f"schedule must be 'mix' or 'inject', got {schedule!r}")


def pareto_front(costs, errors) -> list[int]:
    """Indices of the points not dominated by any other (no other point has cost <= and error
    <= with one of them strict), sorted by increasing cost.  Equal points are all kept."""
    c = check_array("costs", costs, ndim=1)
    e = check_array("errors", errors, ndim=1)
    if c.shape != e.shape:
        raise ValueError(f"costs and errors must have the same length, got {c.size} and {e.size}")
    keep = []
    for i in range(c.size):
        dominated = np.any((c <= c[i]) & (e <= e[i]) & ((c < c[i]) | (e < e[i])))
        if not dominated:
            keep.append(i)
    return sorted(keep, key=lambda i: (c[i], e[i], i))
