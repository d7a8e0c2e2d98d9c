"""Linear regression in the loop (chapter 4, {prf:ref}`def-04-regression-loop`).

The true distribution (model 0) draws covariates x ~ N(0, Sigma) and labels
y = x^T w* + N(0, sigma^2).  Model t >= 1 is a least-squares fit (optionally ridge) to a training
set whose labels were produced by model t-1: y = x^T w_{t-1} + N(0, sigma_{t-1}^2), with fresh
covariates drawn from N(0, Sigma) every generation, or one fixed design matrix re-used in every
generation ({cite}`gerstgrasser2024collapse`'s setting).

Sufficient statistics are (X^T X, X^T y, y^T y, count): they add over training sets, so the
accumulate schedule pools them exactly at O(d^2) cost per chain.  Two samplers give the
statistics of n new labelled points:

* the data path draws X and y (cost O(n d^2) per chain);
* the exact path ({prf:ref}`prop-04-exact-stats`) draws X^T X ~ Wishart(n, Sigma) through the
  Bartlett decomposition X = Q M^T (M = L A lower triangular, L L^T = Sigma), then
  X^T eps = M u with u ~ N(0, sigma^2 I_d), and eps^T eps = |u|^2 + sigma^2 chi^2_{n-d},
  at a cost independent of n.

Both are checked to agree in distribution in ``tests/test_regression.py``; the risk formulas of
{prf:ref}`thm-04-replace` and {prf:ref}`thm-04-accumulate` are in
:mod:`collapselab.theory.regression`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import (as_rng, check_array, check_bool, check_int, check_real, check_regression,
                         check_regression_stats, check_size, check_work)

__all__ = ["LinearRegression", "RegressionParams", "RegressionStats", "excess_risk", "coef_norm"]

_CHUNK = 1 << 22  # floats of standard normals drawn at once by the data path


@dataclass(frozen=True)
class RegressionParams:
    """Parameters of R linear models: coefficients ``coef`` (R, d) and label-noise variance
    ``noise_var`` (R,)."""

    coef: np.ndarray
    noise_var: np.ndarray

    @property
    def dim(self) -> int:
        return self.coef.shape[1]

    @property
    def replicates(self) -> int:
        return self.coef.shape[0]


@dataclass(frozen=True)
class RegressionStats:
    """Sufficient statistics of R equally sized labelled training sets.

    ``xtx`` (R, d, d) = X^T X, ``xty`` (R, d) = X^T y, ``yty`` (R,) = y^T y, ``count`` = n.
    All four add over disjoint training sets (see :meth:`LinearRegression.combine`).
    """

    count: int
    xtx: np.ndarray
    xty: np.ndarray
    yty: np.ndarray


def _as_cov(cov, dim: int) -> np.ndarray:
    if cov is None:
        return np.eye(dim)
    cov = check_array("cov", cov, ndim=(0, 2))
    if cov.ndim == 0:
        if cov <= 0:
            raise ValueError(f"cov must be positive, got {float(cov)}")
        return float(cov) * np.eye(dim)
    if cov.shape != (dim, dim):
        raise ValueError(f"cov must have shape ({dim}, {dim}) to match dim, got {cov.shape}")
    if not np.allclose(cov, cov.T):
        raise ValueError("cov must be symmetric")
    if np.linalg.eigvalsh(cov).min() <= 0:
        raise ValueError("cov must be positive definite")
    return cov.astype(float).copy()


class LinearRegression:
    """The refitted linear regression of chapter 4.

    Parameters
    ----------
    dim : int
        Number of features d >= 1.
    noise_var : float
        sigma^2 >= 0, the label-noise variance with which every *fitted* model generates its
        labels when ``estimate_noise`` is False (the setting of {cite}`dohmatob2024model`:
        synthetic labels carry the same noise level as real ones).  The truth's own noise
        variance is part of its parameters (:meth:`params`).
    cov : None, float or (d, d) array
        Covariance Sigma of the covariates x ~ N(0, Sigma); identity by default.
    ridge : float
        lambda >= 0.  The fit solves (X^T X + lambda n I) w = X^T y, with n the number of points
        in the training set, i.e. the penalty is lambda per point (as in
        {cite}`dohmatob2024model`'s (X^T X / n + lambda I)^{-1} X^T y / n).  0 is ordinary least
        squares and needs n >= d.
    estimate_noise : bool
        False (default): fitted models keep the known ``noise_var``.  True: each fitted model
        estimates sigma^2 by RSS / (n - d) and generates the next labels with it (needs n > d).
    fixed_design : None, (n0, d) or (R, n0, d) array
        If given, every sample uses these covariates (one shared design or one per chain)
        instead of fresh ones; ``n`` must then equal n0.  The design must have full column rank.
    """

    name = "linear-regression"

    def __init__(self, dim: int, noise_var: float = 1.0, cov=None, ridge: float = 0.0,
                 estimate_noise: bool = False, fixed_design=None):
        self.dim = check_int("dim", dim, minimum=1)
        check_size(f"dim={self.dim} (a {self.dim} x {self.dim} covariance)", float(self.dim) ** 2)
        self.noise_var = check_real("noise_var", noise_var, minimum=0.0)
        self.cov = _as_cov(cov, self.dim)
        self.chol = np.linalg.cholesky(self.cov)
        self.ridge = check_real("ridge", ridge, minimum=0.0)
        if not isinstance(estimate_noise, (bool, np.bool_)):
            raise ValueError(f"estimate_noise must be True or False, got {estimate_noise!r}")
        self.estimate_noise = bool(estimate_noise)
        self.fixed_design = None
        self._design_gram = None
        self._design_chol = None
        if fixed_design is not None:
            design = check_array("fixed_design", fixed_design, ndim=(2, 3))
            if design.ndim == 2:
                design = design[None]
            if design.shape[-1] != self.dim:
                raise ValueError(f"fixed_design must have {self.dim} columns (dim), "
                                 f"got shape {design.shape}")
            if design.shape[1] < self.dim:
                raise ValueError(f"fixed_design needs at least dim = {self.dim} rows for full "
                                 f"column rank, got {design.shape[1]}")
            gram = np.einsum("rni,rnj->rij", design, design)
            try:
                chol = np.linalg.cholesky(gram)
            except np.linalg.LinAlgError:
                raise ValueError("fixed_design must have full column rank") from None
            self.fixed_design = design
            self._design_gram = gram
            self._design_chol = chol

    def __repr__(self):
        extra = "" if self.fixed_design is None else f", fixed_design={self.fixed_design.shape}"
        return (f"LinearRegression(dim={self.dim}, noise_var={self.noise_var:g}, "
                f"ridge={self.ridge:g}, estimate_noise={self.estimate_noise}{extra})")

    # parameters -----------------------------------------------------------------------------
    def params(self, coef, noise_var=None, replicates: int = 1) -> RegressionParams:
        """Parameters for R chains from ``coef`` of shape (d,) or (R, d) and a scalar or (R,)
        ``noise_var`` (default: the model's ``noise_var``)."""
        replicates = check_int("replicates", replicates, minimum=1)
        check_size(f"replicates={replicates} chains of dimension {self.dim}", float(replicates) * (self.dim + 1))
        coef = check_array("coef", coef, ndim=(1, 2))
        if coef.shape[-1] != self.dim:
            raise ValueError(f"coef must have {self.dim} entries (dim), got shape {coef.shape}")
        if coef.ndim == 2 and coef.shape[0] not in (1, replicates):
            raise ValueError(f"coef has {coef.shape[0]} rows but replicates = {replicates}")
        noise_var = self.noise_var if noise_var is None else noise_var
        noise_var = check_array("noise_var", noise_var, ndim=(0, 1), nonnegative=True)
        if noise_var.ndim == 1 and noise_var.shape[0] not in (1, replicates):
            raise ValueError(f"noise_var has {noise_var.shape[0]} entries but "
                             f"replicates = {replicates}")
        coef = np.broadcast_to(coef, (replicates, self.dim)).astype(float).copy()
        noise_var = np.broadcast_to(noise_var, (replicates,)).astype(float).copy()
        return RegressionParams(coef, noise_var)

    def broadcast(self, params: RegressionParams, replicates: int) -> RegressionParams:
        replicates = check_int("replicates", replicates, minimum=1)
        self._check_params(params)
        if params.replicates == replicates:
            return params
        if params.replicates != 1:
            raise ValueError(f"cannot broadcast parameters of {params.replicates} chains "
                             f"to {replicates} replicates")
        return self.params(params.coef[0], params.noise_var[0], replicates)

    def record(self, params: RegressionParams) -> dict[str, np.ndarray]:
        self._check_params(params)
        return {"coef": params.coef, "noise_var": params.noise_var}

    def _check_params(self, params, name="params"):
        check_regression(name, params, dim=self.dim)

    # statistics -----------------------------------------------------------------------------
    def stats(self, data) -> RegressionStats:
        """Statistics of data ``(X, y)`` with X of shape (R, n, d) and y of shape (R, n)."""
        if not isinstance(data, (tuple, list)) or len(data) != 2:
            raise ValueError("data must be a pair (X, y) with X (R, n, d) and y (R, n)")
        X = check_array("X", data[0], ndim=3)
        y = check_array("y", data[1], ndim=2)
        if X.shape[2] != self.dim:
            raise ValueError(f"X must have {self.dim} columns (dim), got shape {X.shape}")
        if y.shape != X.shape[:2]:
            raise ValueError(f"y must have shape {X.shape[:2]} to match X, got {y.shape}")
        if X.shape[1] < 1:
            raise ValueError("data must hold at least one point per chain")
        return RegressionStats(X.shape[1], np.einsum("rni,rnj->rij", X, X),
                               np.einsum("rni,rn->ri", X, y), np.einsum("rn,rn->r", y, y))

    def combine(self, a: RegressionStats, b: RegressionStats) -> RegressionStats:
        """Statistics of the union of two training sets: every field adds."""
        check_regression_stats("a", a)
        check_regression_stats("b", b)
        if a.xtx.shape != b.xtx.shape:
            raise ValueError(f"cannot combine statistics of shapes {a.xtx.shape} and {b.xtx.shape}")
        check_regression_stats("a", a, dim=self.dim)
        return RegressionStats(a.count + b.count, a.xtx + b.xtx, a.xty + b.xty, a.yty + b.yty)

    def fit(self, stats: RegressionStats) -> RegressionParams:
        """Least squares (ridge if ``ridge > 0``) from the normal equations, batched over chains."""
        check_regression_stats("stats", stats, dim=self.dim)
        n, d = stats.count, self.dim
        if self.ridge == 0.0 and n < d:
            raise ValueError(f"ordinary least squares needs n >= dim = {d} points, got n = {n}; "
                             f"use ridge > 0 for n < dim")
        if self.estimate_noise and n <= d:
            raise ValueError(f"estimate_noise needs n > dim = {d} points (RSS / (n - d)), "
                             f"got n = {n}")
        a = stats.xtx
        if self.ridge > 0.0:
            a = a + (self.ridge * n) * np.eye(d)
        try:
            coef = np.linalg.solve(a, stats.xty[..., None])[..., 0]
        except np.linalg.LinAlgError:
            raise ValueError("the normal equations are singular (X^T X not invertible); "
                             "use more points or ridge > 0") from None
        if not np.all(np.isfinite(coef)):
            raise ValueError("the fit produced non-finite coefficients (ill-conditioned X^T X)")
        if self.estimate_noise:
            rss = (stats.yty - 2 * np.einsum("ri,ri->r", coef, stats.xty)
                   + np.einsum("ri,rij,rj->r", coef, stats.xtx, coef))
            noise_var = np.maximum(rss, 0.0) / (n - d)
        else:
            noise_var = np.full(coef.shape[0], self.noise_var)
        return RegressionParams(coef, noise_var)

    # sampling -------------------------------------------------------------------------------
    def _design(self, R: int, n: int):
        """(gram, chol) of the fixed design broadcast to R chains."""
        if self.fixed_design.shape[1] != n:
            raise ValueError(f"n must equal the {self.fixed_design.shape[1]} rows of "
                             f"fixed_design, got n = {n}")
        if self.fixed_design.shape[0] not in (1, R):
            raise ValueError(f"fixed_design holds {self.fixed_design.shape[0]} designs but the "
                             f"parameters have {R} chains")
        return (np.broadcast_to(self._design_gram, (R, self.dim, self.dim)),
                np.broadcast_to(self._design_chol, (R, self.dim, self.dim)))

    def sample(self, params: RegressionParams, n: int, rng) -> tuple[np.ndarray, np.ndarray]:
        """n labelled points per chain: a pair (X (R, n, d), y (R, n)).

        Covariates are fresh N(0, Sigma) draws (or the fixed design); labels
        y = X coef + N(0, noise_var)."""
        self._check_params(params)
        n = check_int("n", n, minimum=1)
        rng = as_rng(rng, "rng")
        check_size(f"sampling n={n} points of dimension {self.dim} for {params.replicates} chains",
                   2.0 * params.replicates * n * (self.dim + 1))
        if self.fixed_design is not None:
            self._design(params.replicates, n)
        return self._sample_chains(params, n, rng, 0)

    def _sample_chains(self, params: RegressionParams, n: int, rng, lo: int):
        """Data of the chains lo, lo + 1, ... (their parameters in ``params``)."""
        R, d = params.coef.shape
        if self.fixed_design is not None:
            design = self.fixed_design
            if design.shape[0] > 1:
                design = design[lo:lo + R]
            X = np.broadcast_to(design, (R, n, d)).copy()
        else:
            X = rng.standard_normal((R, n, d)) @ self.chol.T
        y = np.einsum("rni,ri->rn", X, params.coef)
        y += np.sqrt(params.noise_var)[:, None] * rng.standard_normal((R, n))
        return X, y

    def sample_stats(self, params: RegressionParams, n: int, rng,
                     exact: bool = False) -> RegressionStats:
        """Statistics of n new labelled points per chain.

        ``exact=True`` draws them from their joint law ({prf:ref}`prop-04-exact-stats`) at a cost
        independent of n (fresh covariates need n >= d for the Bartlett form; below that the
        data path is used).  ``exact=False`` draws the data and reduces it."""
        self._check_params(params)
        n = check_int("n", n, minimum=1)
        rng = as_rng(rng, "rng")
        exact = check_bool("exact", exact)
        R, d = params.coef.shape
        if not exact or (self.fixed_design is None and n < d):
            what = f"the data path with n={n}, d={d} and {R} chains (use exact=True for large n)"
            check_size(what, 2.0 * min(R, max(1, _CHUNK // (n * (d + 1)))) * n * (d + 1))
            check_work(what, 2.0 * R * n * (d + 1) ** 2)
        if self.fixed_design is not None:
            gram, chol = self._design(R, n)
        if exact and (self.fixed_design is not None or n >= d):
            if self.fixed_design is not None:
                xtx, M = gram.copy(), chol
            else:
                A = np.zeros((R, d, d))
                idx = np.arange(d)
                A[:, idx, idx] = np.sqrt(rng.chisquare(n - idx, (R, d)))
                il = np.tril_indices(d, -1)
                A[:, il[0], il[1]] = rng.standard_normal((R, len(il[0])))
                M = self.chol @ A                       # X = Q M^T with Q^T Q = I_d
                xtx = M @ np.swapaxes(M, -1, -2)
            s = np.sqrt(params.noise_var)
            u = rng.standard_normal((R, d))             # Q^T eps / sigma
            rest = rng.chisquare(n - d, R) if n > d else np.zeros(R)  # |(I - QQ^T) eps|^2 / sigma^2
            xte = s[:, None] * np.einsum("rij,rj->ri", M, u)
            xtx_w = np.einsum("rij,rj->ri", xtx, params.coef)
            xty = xtx_w + xte
            yty = (np.einsum("ri,ri->r", params.coef, xtx_w)
                   + 2 * np.einsum("ri,ri->r", params.coef, xte)
                   + params.noise_var * (np.einsum("ri,ri->r", u, u) + rest))
            return RegressionStats(n, xtx, xty, yty)
        # data path, in chunks of chains so that memory stays bounded
        step = max(1, _CHUNK // (n * (d + 1)))
        xtx = np.empty((R, d, d))
        xty = np.empty((R, d))
        yty = np.empty(R)
        for lo in range(0, R, step):
            hi = min(R, lo + step)
            part = RegressionParams(params.coef[lo:hi], params.noise_var[lo:hi])
            st = self.stats(self._sample_chains(part, n, rng, lo))
            xtx[lo:hi], xty[lo:hi], yty[lo:hi] = st.xtx, st.xty, st.yty
        return RegressionStats(n, xtx, xty, yty)

    # metrics --------------------------------------------------------------------------------
    def excess_risk(self, params: RegressionParams, truth: RegressionParams) -> np.ndarray:
        """Excess test risk |w - w*|^2_Sigma = E_x[(x^T w - x^T w*)^2] per chain, shape (R,)."""
        return excess_risk(params, truth, self.cov)

    def coef_norm(self, params: RegressionParams, truth=None) -> np.ndarray:
        """Euclidean norm |w| of each chain's coefficients, shape (R,)."""
        return coef_norm(params, truth)

    def metrics(self) -> dict:
        """``{"excess_risk": ..., "coef_norm": ...}`` ready for :func:`collapselab.run_loop`."""
        return {"excess_risk": self.excess_risk, "coef_norm": self.coef_norm}


def excess_risk(params: RegressionParams, truth: RegressionParams, cov=None) -> np.ndarray:
    """|w - w*|^2_Sigma per chain (chapter 4, {prf:ref}`def-04-regression-loop`): the test
    error of the fitted model minus the Bayes error sigma^2.  ``cov`` defaults to the identity."""
    check_regression("params", params)
    check_regression("truth", truth)
    R = params.coef.shape[0]
    if params.coef.shape[1] != truth.coef.shape[1] or truth.coef.shape[0] not in (1, R):
        raise ValueError(f"excess_risk: params {params.coef.shape} and truth {truth.coef.shape} "
                         f"do not match")
    diff = params.coef - truth.coef
    if cov is None:
        return np.einsum("ri,ri->r", diff, diff)
    cov = _as_cov(cov, diff.shape[1])
    return np.einsum("ri,ij,rj->r", diff, cov, diff)


def coef_norm(params: RegressionParams, truth=None) -> np.ndarray:
    """Euclidean norm of each chain's coefficient vector (``truth`` is ignored; the signature
    fits :func:`collapselab.run_loop`'s metrics)."""
    check_regression("params", params)
    return np.sqrt(np.einsum("ri,ri->r", params.coef, params.coef))
