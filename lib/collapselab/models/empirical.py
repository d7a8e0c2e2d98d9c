"""The empirical distribution as a generative model (chapter 7, {prf:ref}`def-07-empirical`).

Fitting is taking the empirical measure (1/N) sum_i delta_{x_i} of the training pool; sampling
is resampling the pool uniformly with replacement.  It is the zero-bandwidth limit of the KDE
and one of the two nonparametric estimators of Wang, Niu & Li's experiments
{cite}`contamination2026survive`.

Every point a chain ever trains on is a copy of some real point, so the model needs no
numerics at all: the parameters are the pool itself (a read-only view), a fit costs O(1), a
sample of k points O(k), and under the accumulate schedules the pool grows in place
(:mod:`collapselab._pool`), so a generation costs O(n) whatever the pool size.  The W1 distance
to the truth is exact (:func:`collapselab.wasserstein.w1_empirical`).

The truth (model 0) is any Gaussian mixture :class:`~collapselab.models.kde.KDEParams` (for
example :func:`~collapselab.models.kde.gaussian_mixture`); sampling it draws real data.
Checked in ``tests/test_crt_nonparametric.py``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import _pool
from .._validate import check_array, check_bool, check_int, check_kde, check_size
from .kde import KDEParams, sample_mixture


@dataclass(frozen=True)
class EmpiricalParams:
    """R empirical measures: ``atoms`` (R, N), each row one chain's pool (equal weights 1/N)."""

    atoms: np.ndarray

    @property
    def replicates(self) -> int:
        return self.atoms.shape[0]

    @property
    def size(self) -> int:
        return self.atoms.shape[1]

    @property
    def mean(self) -> np.ndarray:
        return self.atoms.mean(axis=1)

    @property
    def var(self) -> np.ndarray:
        """Variance of each chain's empirical measure (ddof 0), shape (R,)."""
        return self.atoms.var(axis=1)


@dataclass(frozen=True)
class PoolStats:
    """A training pool (R, N) of data points; ``combine`` appends in amortised O(n)."""

    data: np.ndarray
    _buf: object = field(default=None, repr=False, compare=False)

    @property
    def count(self) -> int:
        return self.data.shape[1]


def combine_pools(a: PoolStats, b: PoolStats) -> PoolStats:
    """The union of two pools (a's points first), appending in place when a owns spare room."""
    _check_pool(a, "a")
    _check_pool(b, "b")
    view, buf = _pool.append(a.data, a._buf, b.data)
    return type(a)(view, buf)


class Empirical:
    """The empirical-distribution model: refit = the empirical measure of the pool, sample =
    resample it uniformly with replacement ({prf:ref}`def-07-empirical`).

    ``sample_stats(exact=True)`` is the same path as ``exact=False``: resampling already costs
    O(n) and is exact.  Use it with the accumulate schedules (the contaminated recursive
    training of {prf:ref}`def-07-crt`); under ``replace`` it is the Wright--Fisher chain of
    chapter 3 on continuous atoms.
    """

    name = "empirical"

    def __repr__(self):
        return "Empirical()"

    def broadcast(self, params, replicates: int):
        replicates = check_int("replicates", replicates, minimum=1)
        if isinstance(params, KDEParams):
            check_kde("params", params)
            if params.replicates == replicates:
                return params
            if params.replicates != 1:
                raise ValueError(f"cannot broadcast parameters of {params.replicates} chains "
                                 f"to {replicates} replicates")
            shape = (replicates, params.components)
            w = None if params.weights is None else np.broadcast_to(params.weights, shape)
            return KDEParams(np.broadcast_to(params.centres, shape),
                             np.broadcast_to(params.widths, shape), w)
        params = _check_empirical(params)
        if params.replicates == replicates:
            return params
        if params.replicates != 1:
            raise ValueError(f"params holds {params.replicates} chains: cannot broadcast them "
                             f"to {replicates} replicates")
        return EmpiricalParams(np.broadcast_to(params.atoms, (replicates, params.size)))

    def record(self, params) -> dict[str, np.ndarray]:
        """mean and var (R,) of each chain's distribution (the truth's for model 0)."""
        if isinstance(params, KDEParams):
            check_kde("params", params)
        else:
            params = _check_empirical(params)
        return {"mean": np.asarray(params.mean, dtype=float), "var": np.asarray(params.var, dtype=float)}

    def params(self, data) -> EmpiricalParams:
        """The empirical measure of data shaped (R, N)."""
        return self.fit(self.stats(data))

    def stats(self, data) -> PoolStats:
        data = check_array("data", data, ndim=2)
        if data.shape[1] < 1:
            raise ValueError("data must hold at least one point per chain")
        return PoolStats(data)

    def combine(self, a: PoolStats, b: PoolStats) -> PoolStats:
        return combine_pools(a, b)

    def fit(self, stats: PoolStats) -> EmpiricalParams:
        """The empirical measure of the pool (a read-only view: no copy)."""
        stats = _check_pool(stats, "stats")
        atoms = stats.data.view()
        atoms.flags.writeable = False
        return EmpiricalParams(atoms)

    def sample(self, params, n: int, rng) -> np.ndarray:
        """n points per chain, shape (R, n): resampled from the pool (or drawn from the truth)."""
        n = check_int("n", n, minimum=1)
        if not isinstance(rng, np.random.Generator):
            raise ValueError("rng must be a numpy Generator")
        if isinstance(params, KDEParams):
            return sample_mixture(params, n, rng)
        params = _check_empirical(params)
        R, N = params.atoms.shape
        check_size(f"sampling n={n} points for {R} chains", 2.0 * R * n)
        idx = rng.integers(0, N, size=(R, n))
        return np.take_along_axis(params.atoms, idx, axis=1)

    def sample_stats(self, params, n: int, rng, exact: bool = False) -> PoolStats:
        check_bool("exact", exact)
        return PoolStats(self.sample(params, n, rng))


def _check_empirical(params) -> EmpiricalParams:
    if not isinstance(params, EmpiricalParams):
        raise ValueError(f"params must be EmpiricalParams or KDEParams, got {type(params).__name__}")
    atoms = check_array("params.atoms", params.atoms, ndim=2)
    if atoms.shape[0] < 1 or atoms.shape[1] < 1:
        raise ValueError(f"params.atoms must hold at least one atom per chain, got shape {atoms.shape}")
    return params


def _check_pool(stats, name: str) -> PoolStats:
    if not isinstance(stats, PoolStats):
        raise ValueError(f"{name} must be PoolStats, got {type(stats).__name__}")
    data = check_array(f"{name}.data", stats.data, ndim=2)
    if data.shape[0] < 1 or data.shape[1] < 1:
        raise ValueError(f"{name}.data must hold at least one point per chain, got shape {data.shape}")
    return stats
