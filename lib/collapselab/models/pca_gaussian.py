"""Class-conditional probabilistic PCA: the capstone's generative model of images (chapter 14).

Each of K classes (the ten digits) has a probabilistic-PCA Gaussian in d dimensions (the 64
pixels): a mean, k principal directions with their variances, and one isotropic variance for the
remaining d - k directions (Tipping and Bishop 1999).  The classes are mixed with their fitted
frequencies.  ``classes=1`` is plain PPCA.  Every array carries the replicate axis R first, so
one call fits or samples many chains at once.

Statistics and fit
    A training set enters only through each class's count, mean and scatter matrix
    (:class:`PCAStats`), which are additive: :meth:`PCAGaussian.combine` pools two sets with
    Chan et al.'s exact update, so the accumulate schedule costs O(1) per generation.  The fit is
    the maximum-likelihood estimator of Tipping and Bishop: with S_c = scatter_c / count_c and
    its eigenvalues l_1 >= ... >= l_d, keep the top k eigenvectors U_c and eigenvalues
    Lambda_c = diag(l_1..l_k), and set the noise variance sigma_c^2 = (l_(k+1) + ... + l_d) / (d - k).
    The model covariance is C_c = U_c Lambda_c U_c^T + sigma_c^2 (I - U_c U_c^T) = W W^T + sigma_c^2 I
    with W = U_c (Lambda_c - sigma_c^2 I)^(1/2).  The fit keeps the trace: tr C_c = tr S_c, which is
    why the total variance obeys the Gaussian recursion of chapter 2 exactly
    ({prf:ref}`prop-14-trace`), while the residual variance shrinks at least as fast as the trace
    ({prf:ref}`prop-14-noise`).
Samplers
    ``sample_stats(exact=False)`` draws the points (class counts ~ Multinomial(n, weights), then
    x = mu_c + W z + sigma_c eps with z ~ N(0, I_k), eps ~ N(0, I_d)) and keeps their statistics;
    ``exact=True`` draws each class's mean ~ N(mu_c, C_c / m) and scatter ~ Wishart(m - 1, C_c)
    directly (m the class count).  Both agree in distribution (``tests/test_capstone.py``).
Classes that vanish
    A class with no point in a training set gets weight 0 (its mean and variances are zeros and
    are never used).  Under replace that is absorbing, as in the Wright--Fisher chain of chapter 3;
    real data (mix, inject) can bring it back.

Checked in ``tests/test_capstone.py``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import (as_rng, check_array, check_bool, check_int, check_pca, check_pca_stats,
                         check_size)
from .gaussian import NormalParams

_LOG_2PI = float(np.log(2.0 * np.pi))
WEIGHT_ATOL = 1e-8
"""Tolerance on |sum of weights - 1| for parameters given by hand."""


@dataclass(frozen=True)
class PCAGaussianParams:
    """Parameters of R class-conditional PPCA models with K classes, d dimensions, k components.

    weights (R, K), means (R, K, d), directions (R, K, d, k) with orthonormal columns,
    variances (R, K, k) (the variances along the directions, decreasing), noise_var (R, K).
    A class with weight 0 is *extinct*: never sampled."""

    weights: np.ndarray
    means: np.ndarray
    directions: np.ndarray
    variances: np.ndarray
    noise_var: np.ndarray

    @property
    def replicates(self) -> int:
        return self.weights.shape[0]

    @property
    def classes(self) -> int:
        return self.weights.shape[1]

    @property
    def dim(self) -> int:
        return self.means.shape[2]

    @property
    def components(self) -> int:
        return self.directions.shape[3]

    @property
    def alive(self) -> np.ndarray:
        """Boolean (R, K): classes with positive weight."""
        return self.weights > 0

    @property
    def class_covs(self) -> np.ndarray:
        """C_c = U Lambda U^T + sigma^2 (I - U U^T), shape (R, K, d, d)."""
        U, lam, s2 = self.directions, self.variances, self.noise_var
        low = (U * (lam - s2[..., None])[..., None, :]) @ np.swapaxes(U, -1, -2)
        return low + s2[..., None, None] * np.eye(self.dim)

    @property
    def class_traces(self) -> np.ndarray:
        """tr C_c, shape (R, K)."""
        return self.variances.sum(axis=-1) + (self.dim - self.components) * self.noise_var

    @property
    def mean(self) -> np.ndarray:
        """Mean of the mixture, (R, d)."""
        return np.einsum("rc,rcd->rd", self.weights, self.means)

    @property
    def cov(self) -> np.ndarray:
        """Covariance of the mixture (within-class plus between-class), (R, d, d)."""
        dev = self.means - self.mean[:, None, :]
        within = np.einsum("rc,rcij->rij", self.weights, self.class_covs)
        return within + np.einsum("rc,rci,rcj->rij", self.weights, dev, dev)

    @property
    def total_variance(self) -> np.ndarray:
        """tr of the mixture covariance, (R,), without forming it."""
        dev = self.means - self.mean[:, None, :]
        return np.einsum("rc,rc->r", self.weights, self.class_traces + np.sum(dev**2, axis=-1))

    def select(self, chains) -> "PCAGaussianParams":
        """The parameters of a subset of chains (an index, a slice or an index array)."""
        idx = np.arange(self.replicates)[chains]
        idx = np.atleast_1d(idx)
        return PCAGaussianParams(self.weights[idx], self.means[idx], self.directions[idx],
                                 self.variances[idx], self.noise_var[idx])


@dataclass(frozen=True)
class PCAStats:
    """Sufficient statistics of R training sets: per class count (R, K) (integers), mean
    (R, K, d) and scatter (R, K, d, d) (sum of outer products of deviations from the mean)."""

    counts: np.ndarray
    means: np.ndarray
    scatters: np.ndarray

    @property
    def count(self) -> np.ndarray:
        """Points per chain, (R,)."""
        return self.counts.sum(axis=1)

    def pooled(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(count (R,), mean (R, d), scatter (R, d, d)) of all classes together."""
        N = self.count
        safe = np.maximum(N, 1)[:, None]
        mean = np.einsum("rc,rcd->rd", self.counts, self.means) / safe
        dev = self.means - mean[:, None, :]
        scatter = self.scatters.sum(axis=1) + np.einsum("rc,rci,rcj->rij", self.counts, dev, dev)
        return N, mean, scatter


def _safe_div(a, b):
    """a / b with 0 where b == 0 (b broadcast against a)."""
    b = np.asarray(b, dtype=float)
    return np.where(b > 0, a / np.where(b > 0, b, 1.0), 0.0)


def _block_stats(x, mask, m):
    """Mean (R, d) and scatter (R, d, d) of the rows of x (R, M, d) where mask (R, M) holds,
    m (R,) of them per chain (0 allowed: zeros)."""
    w = mask[..., None]
    mean = _safe_div((x * w).sum(axis=1), m[:, None])
    dev = (x - mean[:, None, :]) * w
    return mean, np.swapaxes(dev, 1, 2) @ dev


def _sqrt_cov(params: PCAGaussianParams) -> np.ndarray:
    """A symmetric square root L of each C_c: U diag(sqrt(lam) - sigma) U^T + sigma I, (R, K, d, d)."""
    s = np.sqrt(params.noise_var)
    U = params.directions
    low = (U * (np.sqrt(params.variances) - s[..., None])[..., None, :]) @ np.swapaxes(U, -1, -2)
    return low + s[..., None, None] * np.eye(params.dim)


def wishart_identity(df, dim: int, rng) -> np.ndarray:
    """Batched Wishart(df, I_dim) draws for an integer array ``df`` of degrees of freedom
    (any shape; df = 0 gives the zero matrix).  Bartlett's decomposition where df >= dim, a sum
    of df outer products of standard normal vectors (a singular Wishart) where 0 < df < dim.
    Returns an array of shape df.shape + (dim, dim).  Used by the exact sampler of
    :class:`PCAGaussian` (chapter 14)."""
    df = np.asarray(df)
    if df.dtype.kind not in "iu" or np.any(df < 0):
        raise ValueError("df must be an array of non-negative integers")
    dim = check_int("dim", dim, minimum=1)
    rng = as_rng(rng, "rng")
    check_size(f"{df.size} Wishart draws of dimension {dim}", 2.0 * df.size * dim * dim)
    shape = df.shape
    flat = df.reshape(-1)
    out = np.zeros((flat.size, dim, dim))
    big = np.flatnonzero(flat >= dim)
    if big.size:
        A = np.zeros((big.size, dim, dim))
        dfs = flat[big][:, None] - np.arange(dim)[None, :]
        A[:, np.arange(dim), np.arange(dim)] = np.sqrt(rng.chisquare(dfs))
        il = np.tril_indices(dim, -1)
        A[:, il[0], il[1]] = rng.standard_normal((big.size, il[0].size))
        out[big] = A @ np.swapaxes(A, -1, -2)
    small = np.flatnonzero((flat > 0) & (flat < dim))
    if small.size:
        top = int(flat[small].max())
        z = rng.standard_normal((small.size, top, dim))
        z *= (np.arange(top)[None, :] < flat[small][:, None])[..., None]
        out[small] = np.swapaxes(z, -1, -2) @ z
    return out.reshape(shape + (dim, dim))


class PCAGaussian:
    """Class-conditional probabilistic PCA, refitted by maximum likelihood (chapter 14,
    {prf:ref}`def-14-ppca`; {prf:ref}`prop-14-trace`).

    Parameters
    ----------
    components : int
        k >= 0, principal directions kept per class (k < d is checked at fit time).
    classes : int
        K >= 1.  With K = 1 labels are optional and the model is plain PPCA.
    """

    name = "pca-gaussian"

    def __init__(self, components: int, classes: int = 1):
        self.components = check_int("components", components, minimum=0)
        self.classes = check_int("classes", classes, minimum=1)

    def __repr__(self):
        return f"PCAGaussian(components={self.components}, classes={self.classes})"

    # parameters -----------------------------------------------------------------------------
    def params(self, weights, means, directions, variances, noise_var,
               replicates: int = 1) -> PCAGaussianParams:
        """Validated parameters for R chains, from one parameter set (weights (K,), means (K, d),
        directions (K, d, k) with orthonormal columns, variances (K, k), noise_var (K,)),
        repeated ``replicates`` times, or from R sets (the same arrays with a leading R axis)."""
        replicates = check_int("replicates", replicates, minimum=1)
        K, k = self.classes, self.components
        w = check_array("weights", weights, ndim=(1, 2), nonnegative=True)
        one = w.ndim == 1
        extra = 0 if one else 1
        mu = check_array(f"means (with weights of shape {w.shape})", means, ndim=2 + extra)
        U = check_array("directions", directions, ndim=3 + extra)
        lam = check_array("variances", variances, ndim=2 + extra, nonnegative=True)
        s2 = check_array("noise_var", noise_var, ndim=1 + extra, nonnegative=True)
        if one:
            w, mu, U, lam, s2 = w[None], mu[None], U[None], lam[None], s2[None]
        R, d = w.shape[0], mu.shape[-1]
        if w.shape != (R, K):
            raise ValueError(f"weights must have {K} entries per chain (classes={K}), got shape {w.shape}")
        if np.any(np.abs(w.sum(axis=1) - 1.0) > WEIGHT_ATOL):
            raise ValueError("weights must sum to 1 in every chain")
        if mu.shape != (R, K, d):
            raise ValueError(f"means must have shape (K, d) = ({K}, d), got {mu.shape}")
        if k >= d:
            raise ValueError(f"components must be < d = {d}, got {k}")
        if U.shape != (R, K, d, k):
            raise ValueError(f"directions must have shape ({K}, {d}, {k}), got {U.shape}")
        if not np.allclose(np.swapaxes(U, -1, -2) @ U, np.eye(k), atol=1e-6):
            raise ValueError("directions must have orthonormal columns")
        if lam.shape != (R, K, k):
            raise ValueError(f"variances must have shape ({K}, {k}), got {lam.shape}")
        if s2.shape != (R, K):
            raise ValueError(f"noise_var must have shape ({K},), got {s2.shape}")
        if np.any(lam < s2[..., None] - 1e-12):
            raise ValueError("variances must be >= noise_var (the kept directions carry the most "
                             "variance)")
        p = PCAGaussianParams(w.astype(float), mu.astype(float), U.astype(float),
                              lam.astype(float), s2.astype(float))
        if R == 1:
            check_size(f"replicates={replicates} chains of {K} classes in dimension {d}",
                       float(replicates) * K * (d * (k + 1) + k + 2))
            return self.broadcast(p, replicates)
        if replicates not in (1, R):
            raise ValueError(f"parameters hold {R} chains but replicates={replicates}")
        return p

    def _check(self, params, name="params") -> PCAGaussianParams:
        check_pca(name, params)
        if params.classes != self.classes or params.components != self.components:
            raise ValueError(f"params have {params.classes} classes and {params.components} "
                             f"components; the model has classes={self.classes}, "
                             f"components={self.components}")
        return params

    def broadcast(self, params: PCAGaussianParams, replicates: int) -> PCAGaussianParams:
        replicates = check_int("replicates", replicates, minimum=1)
        params = self._check(params)
        if params.replicates == replicates:
            return params
        if params.replicates != 1:
            raise ValueError(f"cannot broadcast parameters of {params.replicates} chains "
                             f"to {replicates} replicates")
        rep = lambda a: np.repeat(a, replicates, axis=0)  # noqa: E731
        return PCAGaussianParams(rep(params.weights), rep(params.means), rep(params.directions),
                                 rep(params.variances), rep(params.noise_var))

    def record(self, params: PCAGaussianParams) -> dict[str, np.ndarray]:
        """Every field, so that :func:`collapselab.monitoring.params_at` can rebuild the model."""
        params = self._check(params)
        return {"weights": params.weights, "means": params.means,
                "directions": params.directions, "variances": params.variances,
                "noise_var": params.noise_var}

    # statistics -----------------------------------------------------------------------------
    def _labels(self, labels, shape) -> np.ndarray:
        if labels is None:
            if self.classes != 1:
                raise ValueError(f"labels are required with classes={self.classes}")
            return np.zeros(shape, dtype=np.int64)
        lab = np.asarray(labels)
        if lab.shape != shape:
            raise ValueError(f"labels must have shape {shape} (one per point), got {lab.shape}")
        if lab.dtype.kind == "f":
            if not np.all(np.isfinite(lab)) or np.any(lab != np.round(lab)):
                raise ValueError("labels must be integers")
            lab = lab.astype(np.int64)
        if lab.dtype.kind not in "iu":
            raise ValueError(f"labels must be integers, got dtype {lab.dtype}")
        if lab.size and (lab.min() < 0 or lab.max() >= self.classes):
            raise ValueError(f"labels must lie in 0..{self.classes - 1}")
        return lab

    def stats(self, data, labels=None) -> PCAStats:
        """Statistics of data shaped (R, n, d) with integer class labels (R, n)."""
        x = check_array("data", data, ndim=3)
        R, n, d = x.shape
        if R < 1 or n < 1 or d < 1:
            raise ValueError(f"data must hold at least one point of dimension >= 1, got {x.shape}")
        lab = self._labels(labels, (R, n))
        K = self.classes
        counts = (lab[..., None] == np.arange(K)).sum(axis=1)          # (R, K)
        # group each chain's points by class, then treat every class as a padded block
        order = np.argsort(lab, axis=1, kind="stable")
        xs = np.take_along_axis(x, order[..., None], axis=1)
        offset = np.cumsum(counts, axis=1) - counts
        means = np.zeros((R, K, d))
        scatters = np.zeros((R, K, d, d))
        for c in range(K):   # a loop over classes, each a batched matrix product
            M = int(counts[:, c].max())
            if M == 0:
                continue
            idx = np.minimum(offset[:, c, None] + np.arange(M), n - 1)
            block = np.take_along_axis(xs, idx[..., None], axis=1)        # (R, M, d)
            mask = np.arange(M)[None, :] < counts[:, c, None]
            means[:, c], scatters[:, c] = _block_stats(block, mask, counts[:, c])
        return PCAStats(counts.astype(np.int64), means, scatters)

    def combine(self, a: PCAStats, b: PCAStats) -> PCAStats:
        check_pca_stats("a", a, classes=self.classes)
        check_pca_stats("b", b, classes=self.classes)
        """Statistics of the union of two training sets (Chan et al.'s update, per class)."""
        if a.means.shape != b.means.shape:
            raise ValueError(f"cannot combine statistics of shapes {a.means.shape} and {b.means.shape}")
        n = a.counts + b.counts
        delta = b.means - a.means
        mean = a.means + delta * _safe_div(b.counts, n)[..., None]
        cross = _safe_div(a.counts * b.counts, n)
        scatter = a.scatters + b.scatters + np.einsum("rci,rcj->rcij", delta, delta) * cross[..., None, None]
        return PCAStats(n, mean, scatter)

    def fit(self, stats: PCAStats) -> PCAGaussianParams:
        check_pca_stats("stats", stats, classes=self.classes)
        """Tipping and Bishop's maximum-likelihood PPCA for every class, and class frequencies."""
        counts = np.asarray(stats.counts)
        N = counts.sum(axis=1)
        if np.any(N < 1):
            raise ValueError("every chain needs at least one point to fit")
        d, k = stats.means.shape[-1], self.components
        if k >= d:
            raise ValueError(f"components must be < d = {d}, got {k}")
        cov = _safe_div(stats.scatters, counts[..., None, None])
        lam, vec = np.linalg.eigh(cov)                       # ascending
        lam = np.clip(lam[..., ::-1], 0.0, None)
        vec = vec[..., ::-1]
        trace = np.trace(cov, axis1=-2, axis2=-1)
        top = lam[..., :k]
        noise = np.clip((trace - top.sum(axis=-1)) / (d - k), 0.0, None)
        top = np.maximum(top, noise[..., None])              # round-off only
        return PCAGaussianParams(counts / N[:, None], stats.means.copy(),
                                 np.ascontiguousarray(vec[..., :k]), top, noise)

    def fit_data(self, data, labels=None) -> PCAGaussianParams:
        """Fit one model to one data set (n, d) with labels (n,): parameters of one chain."""
        x = check_array("data", data, ndim=2)
        lab = None if labels is None else np.asarray(labels)[None]
        return self.fit(self.stats(x[None], lab))

    # sampling -------------------------------------------------------------------------------
    def sample_counts(self, params: PCAGaussianParams, n: int, rng) -> np.ndarray:
        """Class counts of n samples per chain, Multinomial(n, weights): (R, K) integers."""
        params = self._check(params)
        n = check_int("n", n, minimum=1)
        rng = as_rng(rng, "rng")
        w = params.weights / params.weights.sum(axis=1, keepdims=True)
        return rng.multinomial(n, w)

    def _class_draws(self, params, counts, rng):
        """For each class c: points x (R, M, d), M = max count, and the mask of real rows."""
        R, K, d, k = params.replicates, params.classes, params.dim, params.components
        spread = np.clip(params.variances - params.noise_var[..., None], 0.0, None)
        factor = params.directions * np.sqrt(spread)[:, :, None, :]
        sd = np.sqrt(params.noise_var)
        for c in range(K):
            M = int(counts[:, c].max())
            if M == 0:
                continue
            z = rng.standard_normal((R, M, k))
            eps = rng.standard_normal((R, M, d))
            x = (params.means[:, c, None, :] + z @ np.swapaxes(factor[:, c], 1, 2)
                 + sd[:, c, None, None] * eps)
            mask = np.arange(M)[None, :] < counts[:, c, None]
            yield c, x, mask

    def sample_labelled(self, params: PCAGaussianParams, n: int, rng):
        """n labelled samples per chain: points (R, n, d) and labels (R, n), grouped by class."""
        params = self._check(params)
        rng = as_rng(rng, "rng")
        n = check_int("n", n, minimum=1)
        check_size(f"sampling n={n} points of dimension {params.dim} for {params.replicates} chains",
                   3.0 * params.replicates * n * (params.dim + 1))
        counts = self.sample_counts(params, n, rng)
        R, d = params.replicates, params.dim
        x = np.empty((R, n, d))
        y = np.empty((R, n), dtype=np.int64)
        offset = np.cumsum(counts, axis=1) - counts
        for c, xc, mask in self._class_draws(params, counts, rng):
            r, j = np.nonzero(mask)
            pos = offset[r, c] + j
            x[r, pos] = xc[r, j]
            y[r, pos] = c
        return x, y

    def sample(self, params: PCAGaussianParams, n: int, rng) -> np.ndarray:
        """n samples per chain, (R, n, d), in random order (labels dropped)."""
        rng = as_rng(rng, "rng")
        x, _ = self.sample_labelled(params, n, rng)
        order = np.argsort(rng.random(x.shape[:2]), axis=1)
        return np.take_along_axis(x, order[..., None], axis=1)

    def sample_per_class(self, params: PCAGaussianParams, per_class: int, rng) -> np.ndarray:
        """``per_class`` samples of every class in every chain, (R, K, per_class, d), whatever
        the weights (extinct classes too): for showing what each class model draws."""
        params = self._check(params)
        per_class = check_int("per_class", per_class, minimum=1)
        rng = as_rng(rng, "rng")
        check_size(f"per_class={per_class} points for {params.replicates} chains of {params.classes} classes",
                   3.0 * params.replicates * params.classes * per_class * (params.dim + 1))
        counts = np.full((params.replicates, params.classes), per_class)
        return np.stack([x for _, x, _ in self._class_draws(params, counts, rng)], axis=1)

    def sample_stats(self, params: PCAGaussianParams, n: int, rng, exact: bool = False) -> PCAStats:
        """Statistics of n samples per chain: drawn through the points (exact=False) or from
        their sampling distribution per class (exact=True; mean ~ N(mu_c, C_c / m), scatter ~
        Wishart(m - 1, C_c))."""
        params = self._check(params)
        rng = as_rng(rng, "rng")
        n = check_int("n", n, minimum=1)
        exact = check_bool("exact", exact)
        if not exact:
            check_size(f"the sample path with n={n} (use exact=True for large n)",
                       3.0 * params.replicates * n * (params.dim + 1))
        counts = self.sample_counts(params, n, rng)
        R, K, d = params.replicates, params.classes, params.dim
        if exact:
            L = _sqrt_cov(params)
            safe = np.maximum(counts, 1)
            zbar = rng.standard_normal((R, K, d)) / np.sqrt(safe)[..., None]
            W = wishart_identity(np.maximum(counts - 1, 0), d, rng)
            means = np.where(counts[..., None] > 0,
                             params.means + np.einsum("rcij,rcj->rci", L, zbar), 0.0)
            scatters = L @ W @ np.swapaxes(L, -1, -2)
            return PCAStats(counts, means, scatters)
        means = np.zeros((R, K, d))
        scatters = np.zeros((R, K, d, d))
        for c, x, mask in self._class_draws(params, counts, rng):
            means[:, c], scatters[:, c] = _block_stats(x, mask, counts[:, c])
        return PCAStats(counts, means, scatters)

    # densities and summaries ----------------------------------------------------------------
    def class_log_det(self, params: PCAGaussianParams) -> np.ndarray:
        """log det C_c = sum log lam + (d - k) log sigma^2, (R, K); -inf for a singular class."""
        params = self._check(params)
        with np.errstate(divide="ignore"):
            return (np.log(params.variances).sum(axis=-1)
                    + (params.dim - params.components) * np.log(params.noise_var))

    def log_likelihood(self, params: PCAGaussianParams, x, labels=None) -> np.ndarray:
        """Log density of points x ((m, d), shared by all chains, or (R, m, d)) under each
        chain's model: the mixture over classes, or class ``labels`` ((m,) or (R, m)) if given.
        Returns (R, m).  A class whose noise variance is 0 is degenerate (no density): it
        contributes density 0, so -inf where every live class is degenerate.
        Uses the PPCA inverse C^-1 = (I - U U^T)/sigma^2 + U Lambda^-1 U^T."""
        params = self._check(params)
        x = check_array("x", x, ndim=(2, 3))
        R, d = params.replicates, params.dim
        if x.shape[-1] != d:
            raise ValueError(f"x must have {d} columns, got shape {x.shape}")
        if x.ndim == 3 and x.shape[0] not in (1, R):
            raise ValueError(f"x holds {x.shape[0]} chains, the parameters {R}")
        xb = x if x.ndim == 3 else x[None]
        mu = params.means[:, :, None, :]                                     # (R, K, 1, d)
        proj = xb[:, None] @ params.directions - mu @ params.directions      # (R, K, m, k)
        sq = (np.sum(xb**2, axis=-1)[:, None, :]                             # |x - mu|^2, (R, K, m)
              - 2.0 * (mu @ np.swapaxes(xb, -1, -2)[:, None])[:, :, 0, :]
              + np.sum(params.means**2, axis=-1)[..., None])
        ok = params.noise_var > 0                                            # (R, K)
        s2 = np.where(ok, params.noise_var, 1.0)[..., None]
        lam = np.where(ok[..., None], params.variances, 1.0)[:, :, None, :]
        psq = np.sum(proj**2, axis=-1)
        quad = np.maximum(sq - psq, 0.0) / s2 + np.sum(proj**2 / lam, axis=-1)
        logdet = np.where(ok, self.class_log_det(params), 0.0)[..., None]
        logp = np.where(ok[..., None], -0.5 * (d * _LOG_2PI + logdet + quad), -np.inf)
        with np.errstate(divide="ignore"):
            if labels is not None:
                lab = np.asarray(labels)
                lab = self._labels(lab if lab.ndim == 2 else np.broadcast_to(lab, (R,) + lab.shape),
                                   (R, xb.shape[1]))
                return np.take_along_axis(logp, lab[:, None, :], axis=1)[:, 0]
            logw = np.log(params.weights)[..., None]
            a = logw + logp
            top = a.max(axis=1, keepdims=True)
            safe_top = np.where(np.isfinite(top), top, 0.0)
            out = safe_top[:, 0] + np.log(np.exp(a - safe_top).sum(axis=1))
        return np.where(np.isfinite(top[:, 0]), out, -np.inf)

    def as_normal(self, params: PCAGaussianParams) -> NormalParams:
        """The Gaussian with the mixture's mean and covariance (exactly the model when K = 1),
        as :class:`~collapselab.models.gaussian.NormalParams`, so that
        :func:`collapselab.metrics.w2` and :func:`collapselab.metrics.kl_gaussian` apply."""
        params = self._check(params)
        return NormalParams(params.mean, params.cov)

# metrics for run_loop: f(params, truth) -> (R,) ------------------------------------------------

def total_variance(params: PCAGaussianParams, truth=None) -> np.ndarray:
    """tr Sigma_t, the total variance of each chain's model ({prf:ref}`prop-14-trace`)."""
    check_pca("params", params)
    return params.total_variance


def mean_shift_squared(params: PCAGaussianParams, truth: PCAGaussianParams) -> np.ndarray:
    """|mean_t - mean_0|^2, the squared drift of the model's mean ({prf:ref}`prop-14-trace`)."""
    check_pca("params", params)
    check_pca("truth", truth)
    if params.dim != truth.dim or truth.replicates not in (1, params.replicates):
        raise ValueError(f"params ({params.replicates} chains, d={params.dim}) and truth ({truth.replicates} chains, "
                         f"d={truth.dim}) do not match")
    return np.sum((params.mean - truth.mean) ** 2, axis=-1)


def heterozygosity(params: PCAGaussianParams, truth=None) -> np.ndarray:
    """1 - sum_c w_c^2: the chance that two draws fall in different classes (chapter 3)."""
    check_pca("params", params)
    return 1.0 - np.sum(params.weights**2, axis=1)


def surviving_classes(params: PCAGaussianParams, truth=None) -> np.ndarray:
    """Number of classes with positive weight, as floats (R,)."""
    check_pca("params", params)
    return params.alive.sum(axis=1).astype(float)


def explained_share(params: PCAGaussianParams, truth=None) -> np.ndarray:
    """Share of each class's variance carried by its k directions, averaged over the live classes
    with their weights: sum_c w_c (sum_j lam_cj) / tr C_c, (R,).  Near 1: the model has become
    low-rank."""
    check_pca("params", params)
    tr = params.class_traces
    share = _safe_div(params.variances.sum(axis=-1), tr)
    return np.sum(params.weights * share, axis=1)


def noise_variance(params: PCAGaussianParams, truth=None) -> np.ndarray:
    """The isotropic residual variance sigma_c^2 averaged over classes with their weights, (R,)."""
    check_pca("params", params)
    return np.sum(params.weights * params.noise_var, axis=1)


def w2_moments(params: PCAGaussianParams, truth: PCAGaussianParams) -> np.ndarray:
    """W2 between the Gaussians with the moments of model t and of model 0 (exactly the
    W2 between the models when K = 1), via :func:`collapselab.metrics.w2`."""
    check_pca("params", params)
    check_pca("truth", truth)
    if params.dim != truth.dim or truth.replicates not in (1, params.replicates):
        raise ValueError(f"params ({params.replicates} chains, d={params.dim}) and truth ({truth.replicates} chains, "
                         f"d={truth.dim}) do not match")
    from ..metrics import w2
    return w2(NormalParams(params.mean, params.cov), NormalParams(truth.mean, truth.cov))


def recorded_params(trajectory, index: int) -> PCAGaussianParams:
    """The parameters of recorded generation ``trajectory.generations[index]`` of a
    :func:`collapselab.run_loop` run of :class:`PCAGaussian` (which records every field)."""
    from ..loop import Trajectory
    if not isinstance(trajectory, Trajectory):
        raise ValueError(f"trajectory must be a Trajectory (from run_loop), got {type(trajectory).__name__}")
    keys = ("weights", "means", "directions", "variances", "noise_var")
    missing = [k for k in keys if k not in trajectory.records]
    if missing:
        raise ValueError(f"trajectory must be run with record=True on a PCAGaussian; "
                         f"missing records {missing}")
    G = len(trajectory.generations)
    index = check_int("index", index, minimum=-G, maximum=G - 1)
    return PCAGaussianParams(*(trajectory.records[k][index] for k in keys))
