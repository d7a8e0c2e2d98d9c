"""Gaussian models, 1-D and d-dimensional (chapter 2, {prf:ref}`thm-02-mle-variance` and after).

Fitting uses the sufficient statistics (count, mean, scatter); pooling two training sets uses
Chan et al.'s exact update, so the accumulate schedule costs O(1) per generation.  Two samplers
give the statistics of n new samples:

* the sample path draws all n standard normals per chain (cost O(n)); the samples are never
  shifted and scaled, since the fit is affine-equivariant, only their mean and scatter are kept;
* the exact path draws the statistics from their sampling distribution — mean ~ Normal(mu, S/n),
  scatter ~ Wishart(n - 1, S) (sigma^2 chi^2_{n-1} in 1-D) — at a cost independent of n.

``tests/test_theory_gaussian.py`` shows that both agree in distribution ({prf:ref}`prop-02-samplers`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import (as_rng, check_array, check_bool, check_int, check_normal1d, check_normal_mv,
                         check_size, check_stats1d, check_stats_mv, check_work, psd_factor)

_CHUNK = 1 << 22  # standard normals drawn at once by the sample path


@dataclass(frozen=True)
class Normal1DParams:
    """Parameters of R one-dimensional normal models: mean (R,), var (R,)."""

    mean: np.ndarray
    var: np.ndarray

    @property
    def std(self) -> np.ndarray:
        return np.sqrt(self.var)


@dataclass(frozen=True)
class GaussStats1D:
    """Sufficient statistics of R equally sized 1-D training sets."""

    count: int
    mean: np.ndarray
    m2: np.ndarray  # sum of squared deviations from the mean


class Gaussian1D:
    """The refitted 1-D normal of chapter 2.

    Parameters
    ----------
    ddof : int
        0 for the maximum-likelihood variance (divide by n; {prf:ref}`thm-02-mle-variance`),
        1 for the unbiased variance (divide by n - 1; {prf:ref}`thm-02-martingale`).
    """

    name = "gaussian-1d"

    def __init__(self, ddof: int = 0):
        self.ddof = check_int("ddof", ddof, minimum=0, maximum=1)

    def __repr__(self):
        return f"Gaussian1D(ddof={self.ddof})"

    # parameters -----------------------------------------------------------------------------
    def params(self, mean=0.0, var=1.0, replicates: int | None = None) -> Normal1DParams:
        """Parameters for R chains from scalars or arrays of shape (R,); R is inferred from the
        arrays when ``replicates`` is not given."""
        mean = check_array("mean", mean, ndim=(0, 1))
        var = check_array("var", var, ndim=(0, 1), nonnegative=True)
        if replicates is None:
            replicates = max(mean.size if mean.ndim else 1, var.size if var.ndim else 1)
        replicates = check_int("replicates", replicates, minimum=1)
        check_size(f"replicates={replicates}", 2.0 * replicates)
        try:
            np.broadcast_shapes(mean.shape, var.shape, (replicates,))
        except ValueError:
            raise ValueError(f"mean {mean.shape} and var {var.shape} do not match "
                             f"replicates={replicates}") from None
        mean = np.broadcast_to(mean, (replicates,)).astype(float).copy()
        var = np.broadcast_to(var, (replicates,)).astype(float).copy()
        return Normal1DParams(mean, var)

    def broadcast(self, params: Normal1DParams, replicates: int) -> Normal1DParams:
        replicates = check_int("replicates", replicates, minimum=1)
        check_normal1d("params", params)
        if params.mean.shape[0] == replicates:
            return params
        if params.mean.shape[0] != 1:
            raise ValueError(f"cannot broadcast parameters of {params.mean.shape[0]} chains "
                             f"to {replicates} replicates")
        return self.params(params.mean[0], params.var[0], replicates)

    def record(self, params: Normal1DParams) -> dict[str, np.ndarray]:
        check_normal1d("params", params)
        return {"mean": params.mean, "var": params.var}

    # statistics -----------------------------------------------------------------------------
    def stats(self, data) -> GaussStats1D:
        """Statistics of data shaped (R, n)."""
        data = check_array("data", data, ndim=2)
        if data.shape[1] < 1:
            raise ValueError("data must hold at least one sample per chain")
        mean = data.mean(axis=1)
        m2 = ((data - mean[:, None]) ** 2).sum(axis=1)
        return GaussStats1D(data.shape[1], mean, m2)

    def combine(self, a: GaussStats1D, b: GaussStats1D) -> GaussStats1D:
        check_stats1d("a", a)
        check_stats1d("b", b)
        if a.mean.shape != b.mean.shape:
            raise ValueError(f"a and b must hold the same chains, got {a.mean.shape[0]} and {b.mean.shape[0]}")
        n = a.count + b.count
        delta = b.mean - a.mean
        mean = a.mean + delta * (b.count / n)
        m2 = a.m2 + b.m2 + delta**2 * (a.count * b.count / n)
        return GaussStats1D(n, mean, m2)

    def fit(self, stats: GaussStats1D) -> Normal1DParams:
        check_stats1d("stats", stats)
        if stats.count - self.ddof < 1:
            raise ValueError(f"need more than {self.ddof} point(s) to fit the variance "
                             f"(ddof={self.ddof}), got {stats.count}")
        return Normal1DParams(stats.mean.copy(), stats.m2 / (stats.count - self.ddof))

    # sampling -------------------------------------------------------------------------------
    def sample(self, params: Normal1DParams, n: int, rng) -> np.ndarray:
        check_normal1d("params", params)
        n = check_int("n", n, minimum=1)
        rng = as_rng(rng, "rng")
        check_size(f"sampling n={n} points for {params.mean.shape[0]} chains", params.mean.shape[0] * n)
        z = rng.standard_normal((params.mean.shape[0], n))
        return params.mean[:, None] + params.std[:, None] * z

    def sample_stats(self, params: Normal1DParams, n: int, rng, exact: bool = False) -> GaussStats1D:
        check_normal1d("params", params)
        n = check_int("n", n, minimum=1)
        rng = as_rng(rng, "rng")
        exact = check_bool("exact", exact)
        R = params.mean.shape[0]
        if not exact:
            check_size(f"the sample path with n={n} (use exact=True for large n)", min(n, n * R, max(n, _CHUNK)))
            check_work(f"the sample path with n={n} and {R} chains (use exact=True for large n)", 4.0 * n * R)
        if exact:
            zbar = rng.standard_normal(R) / np.sqrt(n)
            m2z = rng.chisquare(n - 1, R) if n > 1 else np.zeros(R)
        else:
            zbar = np.empty(R)
            m2z = np.empty(R)
            step = max(1, _CHUNK // n)
            for lo in range(0, R, step):
                z = rng.standard_normal((min(step, R - lo), n))
                s = z.sum(axis=1)
                zbar[lo:lo + len(z)] = s / n
                m2z[lo:lo + len(z)] = np.einsum("ij,ij->i", z, z) - s * s / n
            np.maximum(m2z, 0.0, out=m2z)
        return GaussStats1D(n, params.mean + params.std * zbar, params.var * m2z)


@dataclass(frozen=True)
class NormalParams:
    """Parameters of R d-dimensional normal models: mean (R, d), cov (R, d, d)."""

    mean: np.ndarray
    cov: np.ndarray

    @property
    def dim(self) -> int:
        return self.mean.shape[1]


@dataclass(frozen=True)
class GaussStatsMV:
    count: int
    mean: np.ndarray     # (R, d)
    scatter: np.ndarray  # (R, d, d), sum of outer products of deviations


def _cholesky(cov: np.ndarray) -> np.ndarray:
    """Batched lower Cholesky factor; falls back to a symmetric square root for singular cov,
    and refuses a cov that is not positive semi-definite (up to rounding)."""
    return psd_factor("params.cov", cov)


class GaussianMV:
    """The refitted d-dimensional normal (chapter 2); ``ddof`` as in :class:`Gaussian1D`."""

    name = "gaussian-mv"

    def __init__(self, ddof: int = 0):
        self.ddof = check_int("ddof", ddof, minimum=0, maximum=1)

    def __repr__(self):
        return f"GaussianMV(ddof={self.ddof})"

    def params(self, mean, cov, replicates: int | None = None) -> NormalParams:
        """Parameters for R chains: mean (d,) or (R, d), cov (d, d) or (R, d, d); R is inferred
        from the arrays when ``replicates`` is not given."""
        mean = check_array("mean", mean, ndim=(1, 2))
        cov = check_array("cov", cov, ndim=(2, 3))
        if replicates is None:
            replicates = max(mean.shape[0] if mean.ndim == 2 else 1, cov.shape[0] if cov.ndim == 3 else 1)
        replicates = check_int("replicates", replicates, minimum=1)
        d = mean.shape[-1]
        check_size(f"replicates={replicates} chains of dimension {d}", replicates * (d + d * d))
        if cov.shape[-2:] != (d, d):
            raise ValueError(f"cov must have shape ({d}, {d}) to match mean, got {cov.shape}")
        if not np.allclose(cov, np.swapaxes(cov, -1, -2)):
            raise ValueError("cov must be symmetric")
        if np.any(np.linalg.eigvalsh(cov) < -1e-12):
            raise ValueError("cov must be positive semi-definite")
        mean = np.broadcast_to(mean, (replicates, d)).astype(float).copy()
        cov = np.broadcast_to(cov, (replicates, d, d)).astype(float).copy()
        return NormalParams(mean, cov)

    def broadcast(self, params: NormalParams, replicates: int) -> NormalParams:
        replicates = check_int("replicates", replicates, minimum=1)
        check_normal_mv("params", params)
        if params.mean.shape[0] == replicates:
            return params
        if params.mean.shape[0] != 1:
            raise ValueError(f"cannot broadcast parameters of {params.mean.shape[0]} chains "
                             f"to {replicates} replicates")
        return self.params(params.mean[0], params.cov[0], replicates)

    def record(self, params: NormalParams) -> dict[str, np.ndarray]:
        check_normal_mv("params", params, psd=False)
        return {"mean": params.mean, "cov": params.cov}

    def stats(self, data) -> GaussStatsMV:
        data = check_array("data", data, ndim=3)
        if data.shape[1] < 1:
            raise ValueError("data must hold at least one sample per chain")
        mean = data.mean(axis=1)
        dev = data - mean[:, None, :]
        return GaussStatsMV(data.shape[1], mean, np.einsum("rni,rnj->rij", dev, dev))

    def combine(self, a: GaussStatsMV, b: GaussStatsMV) -> GaussStatsMV:
        check_stats_mv("a", a, psd=False)
        check_stats_mv("b", b, psd=False)
        if a.mean.shape != b.mean.shape:
            raise ValueError(f"a and b must hold the same chains and dimension, got {a.mean.shape} and {b.mean.shape}")
        n = a.count + b.count
        delta = b.mean - a.mean
        mean = a.mean + delta * (b.count / n)
        scatter = a.scatter + b.scatter + np.einsum("ri,rj->rij", delta, delta) * (a.count * b.count / n)
        return GaussStatsMV(n, mean, scatter)

    def fit(self, stats: GaussStatsMV) -> NormalParams:
        check_stats_mv("stats", stats, psd=False)     # the sampler that uses the fit checks PSD
        if stats.count - self.ddof < 1:
            raise ValueError(f"need more than {self.ddof} point(s) to fit the covariance "
                             f"(ddof={self.ddof}), got {stats.count}")
        return NormalParams(stats.mean.copy(), stats.scatter / (stats.count - self.ddof))

    def sample(self, params: NormalParams, n: int, rng) -> np.ndarray:
        check_normal_mv("params", params, psd=False)   # _cholesky below checks the PSD part
        n = check_int("n", n, minimum=1)
        rng = as_rng(rng, "rng")
        R, d = params.mean.shape
        check_size(f"sampling n={n} points of dimension {d} for {R} chains", 2.0 * R * n * d)
        z = rng.standard_normal((R, n, d))
        L = _cholesky(params.cov)
        return params.mean[:, None, :] + np.einsum("rij,rnj->rni", L, z)

    def sample_stats(self, params: NormalParams, n: int, rng, exact: bool = False) -> GaussStatsMV:
        check_normal_mv("params", params, psd=False)   # _cholesky below checks the PSD part
        n = check_int("n", n, minimum=1)
        rng = as_rng(rng, "rng")
        exact = check_bool("exact", exact)
        R, d = params.mean.shape
        if not exact or n - 1 < d:
            check_size(f"the sample path with n={n}, d={d} and {R} chains (use exact=True for large n)",
                       2.0 * R * n * d)
        L = _cholesky(params.cov)
        if exact:
            zbar = rng.standard_normal((R, d)) / np.sqrt(n)
            # Bartlett decomposition of a Wishart(n - 1, I) matrix: W = A A^T
            A = np.zeros((R, d, d))
            if n > 1:
                dfs = (n - 1) - np.arange(d)
                if np.any(dfs <= 0):
                    # fewer than d + 1 points: build the scatter from n - 1 normal vectors
                    z = rng.standard_normal((R, n - 1, d))
                    W = np.einsum("rni,rnj->rij", z, z)
                else:
                    A[:, np.arange(d), np.arange(d)] = np.sqrt(rng.chisquare(dfs, (R, d)))
                    il = np.tril_indices(d, -1)
                    A[:, il[0], il[1]] = rng.standard_normal((R, len(il[0])))
                    W = A @ np.swapaxes(A, -1, -2)
            else:
                W = A
        else:
            z = rng.standard_normal((R, n, d))
            zbar = z.mean(axis=1)
            dev = z - zbar[:, None, :]
            W = np.einsum("rni,rnj->rij", dev, dev)
        mean = params.mean + np.einsum("rij,rj->ri", L, zbar)
        scatter = L @ W @ np.swapaxes(L, -1, -2)
        return GaussStatsMV(n, mean, scatter)
