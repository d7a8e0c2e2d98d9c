"""Contaminated recursive training with nonparametric estimators: the experiment of Wang, Niu &
Li (chapter 7, {prf:ref}`def-07-crt`), run on the one loop (:func:`~collapselab.loop.run_loop`).

* :func:`crt_schedule` — ``accumulate_mix(alpha)`` in the book's convention (generation 1 trains
  on a full batch: model 0 is the truth) or the paper's (iteration 1 trains on its m real points
  only, as in the authors' public code);
* :func:`log_generations` and :func:`at_generations` — evaluate an expensive metric (W1) only at
  log-spaced generations, which is what a log-log fit needs;
* :func:`run_crt` — R chains of one setting, returning the W1 curves (generations x chains);
* :func:`biased_mixture` — the mixture (1 - b) P + b Q, the real source of the sampling-bias
  variant (see :func:`~collapselab.theory.crt.bias_carry`).

Checked in ``tests/test_crt_nonparametric.py``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import check_array, check_callable, check_count, check_fraction, check_int, check_real
from .loop import run_loop
from .models.kde import KDEParams, _check_params
from .schedules import Schedule, accumulate_mix
from .theory.contamination import real_points
from .theory.crt import _convention
from .wasserstein import w1_to_truth


@dataclass(frozen=True)
class _PaperCRT(Schedule):
    """accumulate_mix(alpha) whose first generation holds only its m real points."""

    def batch_sizes(self, t: int, n: int) -> tuple[int, int]:
        n_real, n_synth = super().batch_sizes(t, n)
        return (n_real, 0) if t == 1 else (n_real, n_synth)

    def real_data_used(self, generations: int, n: int) -> int:
        generations = check_int("generations", generations, minimum=0)
        return sum(self.batch_sizes(t, n)[0] for t in range(1, generations + 1))


def crt_schedule(alpha: float, convention: str = "book") -> Schedule:
    """Contaminated recursive training with real fraction alpha ({prf:ref}`def-07-crt`).

    ``"book"``: :func:`~collapselab.schedules.accumulate_mix` — generation 1's synthetic share is
    drawn from model 0, the truth, so it trains on a full batch of real data.  ``"paper"``: the
    first iteration trains on the round(alpha n) real points alone (Wang, Niu & Li's code)."""
    alpha = check_fraction("alpha", alpha)
    if alpha == 0.0:
        raise ValueError("contaminated recursive training needs alpha > 0")
    if _convention(convention) == "book":
        return accumulate_mix(alpha)
    return _PaperCRT(f"crt-paper(alpha={alpha:g})", real_fraction=alpha, accumulate=True)


def log_generations(generations: int, count: int = 16, start: int = 1) -> np.ndarray:
    """About ``count`` distinct integer generations from ``start`` to ``generations``, evenly
    spaced in log t (always including both ends)."""
    generations = check_int("generations", generations, minimum=1)
    count = check_count("count", count, minimum=2, per_item=3.0, work_per_item=10.0)
    start = check_int("start", start, minimum=1, maximum=generations)
    t = np.unique(np.round(np.geomspace(start, generations, count)).astype(int))
    return t


class at_generations:
    """A :func:`~collapselab.loop.run_loop` metric that evaluates ``f`` only at the given
    generations (NaN elsewhere), for a run with ``record_every=1``.

    The loop evaluates metrics at generations 0, 1, 2, ... in order; this wrapper counts the
    calls, so use a fresh one per run (:func:`run_crt` does)."""

    def __init__(self, f, generations):
        if not callable(f):
            raise ValueError(f"f must be callable f(params, truth) -> (R,), got {f!r}")
        g = np.asarray(generations)
        if g.ndim != 1 or g.size == 0 or not np.issubdtype(g.dtype, np.integer) or np.any(g < 0):
            raise ValueError("generations must be a non-empty 1-D array of non-negative integers")
        self.f, self.wanted, self.calls = f, set(int(x) for x in g), 0

    def __call__(self, params, truth):
        t, self.calls = self.calls, self.calls + 1
        if t in self.wanted:
            return self.f(params, truth)
        return np.full(params.replicates, np.nan)


@dataclass(frozen=True)
class CRTRun:
    """W1 curves of one setting: ``w1[i, r]`` at generation ``t[i]`` for chain r."""

    t: np.ndarray
    w1: np.ndarray
    alpha: float
    n: int
    convention: str

    @property
    def mean(self) -> np.ndarray:
        return self.w1.mean(axis=1)


def run_crt(model, truth, *, n: int, alpha: float, generations: int, replicates: int,
            at=None, convention: str = "book", seed=None, metric=w1_to_truth, **loop_kwargs) -> CRTRun:
    """R chains of contaminated recursive training of ``model`` (an
    :class:`~collapselab.models.empirical.Empirical` or :class:`~collapselab.models.kde.GaussianKDE`),
    returning W1 to the truth at generations ``at`` (default: 16 log-spaced).  Extra keyword
    arguments go to :func:`~collapselab.loop.run_loop` (e.g. ``real=`` a biased source)."""
    generations = check_int("generations", generations, minimum=1)
    check_callable("metric", metric)
    at = log_generations(generations) if at is None else np.asarray(at)
    if at.ndim != 1 or at.size == 0 or np.any(at < 1) or np.any(at > generations):
        raise ValueError(f"at must be generations in 1..{generations}")
    schedule = crt_schedule(alpha, convention)
    traj = run_loop(model, truth, n=n, generations=generations, replicates=replicates,
                    schedule=schedule, seed=seed, record=False,
                    metrics={"w1": at_generations(metric, at)}, **loop_kwargs)
    w1 = traj["w1"][at]
    return CRTRun(t=at.astype(int), w1=w1, alpha=float(alpha), n=int(n), convention=convention)


def biased_mixture(truth: KDEParams, contaminant: KDEParams, b: float) -> KDEParams:
    """The Gaussian mixture (1 - b) P + b Q (one chain each), b in [0, 1]: real data collected
    with a sampling bias toward Q.  Wang, Niu & Li's code adds one component N(3, 1) to its
    two-component truth with weight b_t = 0.2 (t + 5)^(-q)."""
    _check_params(truth, "truth")
    _check_params(contaminant, "contaminant")
    b = check_fraction("b", b)
    if truth.replicates != 1 or contaminant.replicates != 1:
        raise ValueError("biased_mixture takes one-chain truth and contaminant")
    centres = np.concatenate([truth.centres[0], contaminant.centres[0]])
    widths = np.concatenate([truth.widths[0], contaminant.widths[0]])
    weights = np.concatenate([(1 - b) * truth.weight_array()[0], b * contaminant.weight_array()[0]])
    return KDEParams(centres[None, :], widths[None, :], weights[None, :])
