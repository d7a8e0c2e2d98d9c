"""Data schedules: how each generation's training set is assembled (chapter 1, {prf:ref}`def-01-schedules`).

Convention used throughout the book: model 0 *is* the true distribution, and model t >= 1 is
fitted to a training set built from fresh real data and samples of earlier models.  Sampling from
model 0 is sampling real data, so generation 1 always trains on real data only.

Each generation adds a *batch* of ``n`` points: ``n_real`` drawn from the truth and ``n_synth``
drawn from model t-1.  Under ``accumulate`` the batch joins everything seen so far; otherwise it
replaces it.  With ``fresh_real=False`` the real part is one fixed data set reused every
generation (the setting of Bertrand et al. 2024).  With ``subsample`` (accumulate-subsample,
Kazdan et al. 2024) the pool keeps every point, but each model is fitted to a random subsample
of ``subsample_size`` points of the pool (default: the batch size n), drawn without replacement
independently for every chain and generation.

A schedule holds only sizes and memory.  *Where* the real data come from (the truth, a fixed
sample, a biased or drifting source) and *how* a fitted model generates (its own sampler,
tempered, curated, biased) are the ``real`` and ``synthetic`` arguments of
:func:`collapselab.run_loop` (:mod:`collapselab.sources`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import check_bool, check_count, check_fraction, check_int


@dataclass(frozen=True)
class Schedule:
    """A data schedule.  Build one with :func:`replace`, :func:`accumulate`, :func:`mix`,
    :func:`inject` or :func:`all_real` rather than by hand.

    Attributes
    ----------
    real_fraction : float
        alpha, the share of each generation's new batch that is fresh real data.
    accumulate : bool
        Keep all earlier batches in the training set (Gerstgrasser et al. 2024).
    inject_every : int or None
        If k, every generation t with t % k == 0 trains on an all-real batch.
    fresh_real : bool
        Draw new real data each generation (True) or reuse one fixed real sample (False; the
        loop wraps its real source in :class:`~collapselab.sources.FixedSample`).
    subsample : bool
        Fit each model to a random subsample of the (accumulated) pool; needs ``accumulate``.
    subsample_size : int or None
        The subsample's size k (None: the batch size n).  A pool of at most k points is used
        whole, so generation 1 (a pool of n points) fits exactly as under accumulate.
    """

    name: str
    real_fraction: float = 0.0
    accumulate: bool = False
    inject_every: int | None = None
    fresh_real: bool = True
    subsample: bool = False
    subsample_size: int | None = None

    def __post_init__(self):
        check_fraction("real_fraction", self.real_fraction)
        if self.inject_every is not None:
            check_int("inject_every", self.inject_every, minimum=1)
        for name in ("accumulate", "fresh_real", "subsample"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if self.subsample and not self.accumulate:
            raise ValueError("subsample needs accumulate=True (it subsamples the accumulated pool)")
        if self.subsample_size is not None:
            if not self.subsample:
                raise ValueError("subsample_size is only used with subsample=True")
            check_int("subsample_size", self.subsample_size, minimum=1)

    def fit_size(self, pool: int, n: int) -> int:
        """How many points of a pool of ``pool`` points the model is fitted to (batch size n)."""
        pool = check_int("pool", pool, minimum=1)
        if not self.subsample:
            return pool
        k = n if self.subsample_size is None else self.subsample_size
        return min(pool, k)

    def batch_sizes(self, t: int, n: int) -> tuple[int, int]:
        """(n_real, n_synth) for generation t >= 1 with batch size n."""
        t = check_int("t", t, minimum=1)
        n = check_int("n", n, minimum=1)
        if self.inject_every is not None and t % self.inject_every == 0:
            return n, 0
        n_real = int(round(self.real_fraction * n))
        return n_real, n - n_real

    def real_data_used(self, generations: int, n: int) -> int:
        """Real points one chain consumes over generations 1..T.  Generation 1's synthetic
        part comes from model 0 (the truth), so it counts as real; a fixed real set
        (``fresh_real=False``) is counted once."""
        generations = check_count("generations", generations, minimum=0)
        if generations == 0:
            return 0
        sizes = [self.batch_sizes(t, n) for t in range(1, generations + 1)]
        real = [r for r, _ in sizes]
        return (sum(real) if self.fresh_real else max(real)) + sizes[0][1]


def replace() -> Schedule:
    """Each model trains only on n samples of the previous model (alpha = 0)."""
    return Schedule("replace")


def accumulate() -> Schedule:
    """Each generation adds n samples of the previous model to everything seen so far."""
    return Schedule("accumulate", accumulate=True)


def mix(alpha: float, fresh_real: bool = True) -> Schedule:
    """A share alpha of each generation's n points is real, the rest from the previous model.
    ``mix(0)`` is :func:`replace`; ``mix(1)`` is :func:`all_real`."""
    alpha = check_fraction("alpha", alpha)
    fresh_real = check_bool("fresh_real", fresh_real)
    return Schedule(f"mix(alpha={alpha:g})", real_fraction=alpha, fresh_real=fresh_real)


def inject(every: int, alpha: float = 0.0, fresh_real: bool = True) -> Schedule:
    """Replace (or mix with alpha), but every ``every`` generations train on all-real data."""
    every = check_int("every", every, minimum=1)
    alpha = check_fraction("alpha", alpha)
    fresh_real = check_bool("fresh_real", fresh_real)
    return Schedule(f"inject(every={every})", real_fraction=alpha, inject_every=every,
                    fresh_real=fresh_real)


def all_real() -> Schedule:
    """No contamination: every generation trains on n fresh real points."""
    return Schedule("all-real", real_fraction=1.0)


def accumulate_mix(alpha: float, fresh_real: bool = True) -> Schedule:
    """Accumulate, with a share alpha of each new batch real."""
    alpha = check_fraction("alpha", alpha)
    fresh_real = check_bool("fresh_real", fresh_real)
    return Schedule(f"accumulate-mix(alpha={alpha:g})", real_fraction=alpha, accumulate=True,
                    fresh_real=fresh_real)


def accumulate_subsample(size: int | None = None, alpha: float = 0.0,
                         fresh_real: bool = True) -> Schedule:
    """Accumulate-subsample: every generation adds a batch of n points (a share alpha real, the
    rest from the previous model) to a pool that keeps everything, and the next model is fitted
    to a fixed-size subset of the pool: here a uniform random subsample of ``size`` points
    (default: n), drawn without replacement for each chain.  The training set keeps a constant
    size while the pool grows: the compromise workflow of Kazdan et al. 2024 (what their
    abstract, versions 2 and 4, says: data accumulate, but each generation trains on a
    fixed-size subset, a fixed compute budget).  ``size`` >= the pool reduces to :func:`accumulate_mix` (:func:`accumulate` for
    alpha = 0); generation 1 always fits its whole batch.  The loop runs this schedule on points
    (``model.sample``), not on sufficient statistics.  Checked in
    ``tests/test_schedules_and_loop.py`` against :func:`collapselab.theory.subsample.gaussian_moments`."""
    alpha = check_fraction("alpha", alpha)
    if size is not None:
        size = check_int("size", size, minimum=1)
    label = "" if size is None else f"size={size}"
    if alpha:
        label = f"{label}, alpha={alpha:g}" if label else f"alpha={alpha:g}"
    return Schedule(f"accumulate-subsample({label})", real_fraction=alpha, accumulate=True,
                    fresh_real=fresh_real, subsample=True, subsample_size=size)


SCHEDULES = {"replace": replace, "accumulate": accumulate, "mix": mix, "inject": inject,
             "all_real": all_real, "accumulate_mix": accumulate_mix,
             "accumulate_subsample": accumulate_subsample}


def get(name: str, **kwargs) -> Schedule:
    """A schedule by name, e.g. ``get("mix", alpha=0.3)``."""
    if isinstance(name, Schedule):
        return name
    try:
        return SCHEDULES[name](**kwargs)
    except KeyError:
        raise ValueError(f"name: schedule must be one of {sorted(SCHEDULES)}, got {name!r}") from None
