"""Kernel density estimation as a generative model (chapter 5, {prf:ref}`def-05-kde`).

A one-dimensional Gaussian KDE with bandwidth h fitted to m points x_1..x_m is the mixture
(1/m) sum_i N(x_i, h^2).  Sampling from it picks a centre uniformly at random and adds h Z,
Z ~ N(0, 1).  The same parameter object, :class:`KDEParams` (centres, per-centre widths and
weights for R chains), also holds the *truth*: a Gaussian mixture with fine structure such as
Marron and Wand's claw (:func:`claw`).  So one sampler serves model 0 and every fitted model.

A KDE has no finite sufficient statistics: the "statistics" of a batch
(:class:`KDEStats`) are the data themselves, shaped (R, m), and :meth:`GaussianKDE.combine`
concatenates them, so the accumulate schedule works with a pool that grows by n points per
generation.  There is no cheaper exact sampler: ``sample_stats(..., exact=True)`` draws the
same points as ``exact=False``.

Distances between mixtures are vectorised over chains: :func:`ise` / :func:`l2_distance`
(closed form, {prf:ref}`thm-05-mise`), :func:`tv_distance` (on a grid) and :func:`variance`.
Checked in ``tests/test_kde.py``.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtr

from .. import _pool
from .._validate import (check_array, check_bool, check_count, check_int, check_kde, check_real,
                         check_size, check_work)

_BLOCK = 1 << 21  # floats per temporary block in pairwise sums
_SQRT2PI = np.sqrt(2.0 * np.pi)

#: bandwidth rules h = a * scale * m^(-1/5) (Silverman 1986), recomputed every generation
RULES = {"normal": 1.06, "silverman": 0.9}


# ------------------------------------------------------------------------------------------
# parameters
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KDEParams:
    """Parameters of R one-dimensional Gaussian mixtures with m components each: the truths
    and the fitted KDEs of chapter 5.

    ``centres`` (R, m), ``widths`` (R, m) standard deviations (often a read-only broadcast
    view), ``weights`` (R, m) with rows summing to one, or ``None`` for equal weights 1/m —
    which is what a fitted KDE has (its widths all equal the bandwidth h).  Build one with
    :func:`gaussian_mixture`, :func:`claw` or :meth:`GaussianKDE.fit`.
    """

    centres: np.ndarray
    widths: np.ndarray
    weights: np.ndarray | None = None

    @property
    def replicates(self) -> int:
        return self.centres.shape[0]

    @property
    def components(self) -> int:
        return self.centres.shape[1]

    @property
    def equal_weights(self) -> bool:
        return self.weights is None

    def weight_array(self) -> np.ndarray:
        """Weights as an (R, m) array (a broadcast view for equal weights)."""
        if self.weights is None:
            return np.broadcast_to(1.0 / self.components, self.centres.shape)
        return self.weights

    @property
    def mean(self) -> np.ndarray:
        """Mean of each chain's mixture, shape (R,)."""
        if self.weights is None:
            return self.centres.mean(axis=1)
        return np.einsum("rm,rm->r", self.weights, self.centres)

    @property
    def var(self) -> np.ndarray:
        """Variance of each chain's mixture, shape (R,): spread of the centres plus mean width^2.

        For a KDE: the sample variance of the centres (ddof 0) plus h^2."""
        w = self.weight_array()
        dev = self.centres - self.mean[:, None]
        return np.einsum("rm,rm->r", w, dev * dev) + np.einsum("rm,rm->r", w, self.widths ** 2)

    @property
    def bandwidth(self) -> np.ndarray:
        """Root-mean-square width sqrt(sum_i w_i s_i^2), shape (R,); h for a KDE."""
        if _row_constant(self.widths):
            return np.array(self.widths[:, 0], dtype=float)
        return np.sqrt(np.einsum("rm,rm->r", self.weight_array(), self.widths ** 2))

    def chain(self, r: int) -> "KDEParams":
        """The parameters of chain r alone (R = 1)."""
        r = check_int("r", r, minimum=0, maximum=self.replicates - 1)
        w = None if self.weights is None else self.weights[r:r + 1]
        return KDEParams(self.centres[r:r + 1], self.widths[r:r + 1], w)


def _row_constant(widths: np.ndarray) -> bool:
    """True when every row of ``widths`` holds a single value (cheap for broadcast views)."""
    if widths.shape[1] <= 1 or widths.strides[1] == 0:
        return True
    return bool(np.all(widths == widths[:, :1]))


def gaussian_mixture(centres, widths, weights=None, replicates: int = 1) -> KDEParams:
    """Gaussian-mixture parameters for R chains.

    Parameters
    ----------
    centres : (m,) or (R, m) component means.
    widths : scalar, (m,) or (R, m) component standard deviations, all > 0.
    weights : None (equal weights) or (m,) / (R, m) non-negative weights summing to one per chain.
    replicates : R, used when every argument is given for one chain.
    """
    replicates = check_int("replicates", replicates, minimum=1)
    centres = check_array("centres", centres, ndim=(1, 2))
    if centres.ndim == 1:
        centres = centres[None, :]
    if centres.shape[1] < 1:
        raise ValueError("centres must hold at least one component")
    R = centres.shape[0] if centres.shape[0] != 1 else replicates
    if centres.shape[0] != 1 and replicates not in (1, R):
        raise ValueError(f"centres has {centres.shape[0]} rows but replicates={replicates}")
    check_size(f"replicates={R} chains of {centres.shape[1]} components", float(R) * centres.shape[1])
    shape = (R, centres.shape[1])
    widths = check_array("widths", widths, ndim=(0, 1, 2), positive=True)
    try:
        widths = np.broadcast_to(widths, shape)
    except ValueError:
        raise ValueError(f"widths of shape {widths.shape} do not match centres {shape}") from None
    centres = np.broadcast_to(centres, shape)
    if weights is not None:
        weights = check_array("weights", weights, ndim=(1, 2), nonnegative=True)
        try:
            weights = np.broadcast_to(weights, shape)
        except ValueError:
            raise ValueError(f"weights of shape {weights.shape} do not match centres {shape}") from None
        if not np.allclose(weights.sum(axis=1), 1.0, rtol=0, atol=1e-9):
            raise ValueError("weights must sum to one for every chain")
    return KDEParams(centres, widths, weights)


def claw(replicates: int = 1) -> KDEParams:
    """Marron and Wand's (1992) claw density: 1/2 N(0, 1) + sum_{l=0}^{4} 1/10 N(l/2 - 1, 0.1^2).

    Mean 0, variance 0.755.  Its five narrow "claws" are the fine structure that a recursively
    refitted KDE washes out (chapter 5)."""
    centres = np.array([0.0, -1.0, -0.5, 0.0, 0.5, 1.0])
    widths = np.array([1.0, 0.1, 0.1, 0.1, 0.1, 0.1])
    weights = np.array([0.5, 0.1, 0.1, 0.1, 0.1, 0.1])
    return gaussian_mixture(centres, widths, weights, replicates=replicates)


def convolve(params: KDEParams, tau2) -> KDEParams:
    """The mixture convolved with N(0, tau2): every width s becomes sqrt(s^2 + tau2).

    ``tau2`` is a scalar or an array of shape (R,).  With tau2 = t h^2 this is the population
    limit of generation t ({prf:ref}`thm-05-mean-density`)."""
    _check_params(params)
    tau2 = check_array("tau2", tau2, ndim=(0, 1), nonnegative=True)
    if tau2.ndim == 1:
        if tau2.shape[0] != params.replicates:
            raise ValueError(f"tau2 must be a scalar or have shape ({params.replicates},)")
        tau2 = tau2[:, None]
    widths = np.sqrt(params.widths ** 2 + tau2)
    return KDEParams(params.centres, widths, params.weights)


def _check_params(params, name: str = "params") -> KDEParams:
    """Every entry that receives mixture parameters checks them (finite centres, positive
    finite widths, weights on the simplex, one shape (R, m)): see :func:`check_kde`."""
    return check_kde(name, params)


def _check_stats(stats, name: str = "stats") -> "KDEStats":
    if not isinstance(stats, KDEStats):
        raise ValueError(f"{name} must be KDEStats, got {type(stats).__name__}")
    check_array(f"{name}.data", stats.data, ndim=2)
    return stats


# ------------------------------------------------------------------------------------------
# sampling
# ------------------------------------------------------------------------------------------
def sample_mixture(params: KDEParams, n: int, rng, return_index: bool = False):
    """n draws per chain, shape (R, n): pick a component (uniformly for equal weights, by
    inverse CDF otherwise), then add its width times N(0, 1).  Fully vectorised.

    With ``return_index`` also return the chosen component of every draw, shape (R, n): for a
    KDE, the *parent* centre of each new point (the genealogy of {prf:ref}`thm-05-founders`).
    """
    _check_params(params)
    n = check_int("n", n, minimum=1)
    return_index = check_bool("return_index", return_index)
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy Generator")
    R, m = params.centres.shape
    check_size(f"sampling n={n} points for {R} chains", (3.0 if return_index else 2.0) * R * n)
    if params.weights is None:
        idx = rng.integers(0, m, size=(R, n))
    else:
        cw = np.cumsum(params.weights, axis=1)
        cw /= cw[:, -1:]
        rows = np.arange(R, dtype=float)[:, None]
        u = rng.random((R, n))
        flat = (cw + rows).ravel()
        idx = np.searchsorted(flat, (u + rows).ravel(), side="right").reshape(R, n)
        idx -= (np.arange(R) * m)[:, None]
        np.clip(idx, 0, m - 1, out=idx)
    rows = np.arange(R)[:, None]
    z = rng.standard_normal((R, n))
    if _row_constant(params.widths):
        x = params.centres[rows, idx] + params.widths[:, :1] * z
    else:
        x = params.centres[rows, idx] + params.widths[rows, idx] * z
    return (x, idx) if return_index else x


# ------------------------------------------------------------------------------------------
# the model
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KDEStats:
    """The 'statistics' of a KDE: the data themselves, shape (R, m).  Under the accumulate
    schedules :meth:`GaussianKDE.combine` appends into spare room of the pool's buffer
    (amortised O(n) per generation, :mod:`collapselab._pool`)."""

    data: np.ndarray
    _buf: object = field(default=None, repr=False, compare=False)

    @property
    def count(self) -> int:
        return self.data.shape[1]


class PowerBandwidth:
    """The bandwidth schedule h_t = h0 t^(-p/2) as a function of the pool size N.

    Under an accumulate schedule generation t's pool holds ``first`` points plus one ``batch``
    per later generation, N_t = first + (t - 1) batch, so t = 1 + (N - first) / batch.  With
    ``first = batch`` (the default: the book's generation 1 trains on a full batch) that is
    t = N / batch; Wang, Niu & Li's code trains its first iteration on m1 real points only,
    which is ``first = m1``.  Used as ``GaussianKDE(bandwidth=PowerBandwidth(0.5, 0.5, n))``.

    Why h ~ t^(-p/2): smoothing the truth with a Gaussian of width h moves it by O(h^2) in W1
    (the heat equation, {prf:ref}`prop-07-kde-w1`), so this schedule makes the smoothing bias
    decay like t^(-p), the rate p of the estimator.
    """

    def __init__(self, h0: float, p: float, batch: int, first: int | None = None):
        self.h0 = check_real("h0", h0, minimum=0.0, strict_min=True)
        self.p = check_real("p", p, minimum=0.0)
        self.batch = check_int("batch", batch, minimum=1)
        self.first = self.batch if first is None else check_int("first", first, minimum=1)

    def generation(self, N) -> np.ndarray:
        """t for a pool of N points (a float; 1 for N <= first)."""
        N = check_array("N", N, nonnegative=True)
        return np.maximum(1.0, 1.0 + (N - self.first) / self.batch)

    def __call__(self, N) -> float:
        return float(self.h0 * self.generation(N) ** (-self.p / 2.0))

    def __repr__(self):
        return f"PowerBandwidth(h0={self.h0:g}, p={self.p:g}, batch={self.batch}, first={self.first})"


class GaussianKDE:
    """The recursively refitted 1-D Gaussian KDE of chapter 5 ({prf:ref}`def-05-kde`).

    Parameters
    ----------
    bandwidth : float > 0, or ``"normal"`` / ``"silverman"``.
        A number is a fixed bandwidth h, the same for every generation (the setting of
        {prf:ref}`thm-05-variance` and {prf:ref}`thm-05-mise`).  A rule is *recomputed every
        generation* from that generation's training set of m points, with ŝ the sample standard
        deviation (ddof = 1):
        ``"normal"``: h = 1.06 ŝ m^(-1/5) (normal reference);
        ``"silverman"``: h = 0.9 min(ŝ, IQR/1.34) m^(-1/5) (Silverman's rule of thumb).
        Under replace the normal rule makes the expected variance grow geometrically
        ({prf:ref}`prop-05-rule`).
        A callable ``h(N)`` is a *bandwidth schedule*: called with the pool size N of each
        fit, it returns h > 0 (a number, or one per chain, shape (R,)).  Under the accumulate
        schedules the pool grows by one batch per generation, so a function of N is a
        function of t; :class:`PowerBandwidth` is the schedule h0 t^(-p/2) of Wang, Niu & Li's
        experiments (chapter 7).
    grid : optional 1-D array of points; if given, :meth:`record` also keeps every chain's
        density on it (key ``"density"``, shape (R, len(grid))) — for figures of densities
        across generations.  Costs O(R m len(grid)) per recorded generation: use few chains.

    ``fit`` returns :class:`KDEParams` whose centres are the training points (R, m), with
    equal weights and common width h.  ``sample`` picks a centre uniformly per draw and adds
    h N(0, 1).  ``sample_stats(exact=True)`` is the same path as ``exact=False`` (a KDE has no
    finite sufficient statistics, hence no cheaper exact sampler).
    """

    name = "gaussian-kde"

    def __init__(self, bandwidth=0.1, grid=None):
        if callable(bandwidth):
            self.bandwidth = bandwidth
        elif isinstance(bandwidth, str):
            if bandwidth not in RULES:
                raise ValueError(f"bandwidth must be a positive number or one of {sorted(RULES)}, "
                                 f"got {bandwidth!r}")
            self.bandwidth = bandwidth
        elif isinstance(bandwidth, numbers.Real) and not isinstance(bandwidth, bool):
            self.bandwidth = check_real("bandwidth", bandwidth, minimum=0.0, strict_min=True)
        else:
            raise ValueError(f"bandwidth must be a positive number, a callable h(N) or one of "
                             f"{sorted(RULES)}, got {bandwidth!r}")
        if grid is not None:
            grid = check_array("grid", grid, ndim=1)
            if grid.size < 2:
                raise ValueError("grid must hold at least two points")
        self.grid = grid

    def __repr__(self):
        return f"GaussianKDE(bandwidth={self.bandwidth!r})"


    @property
    def rule(self) -> str | None:
        """The name of a bandwidth rule, or None (fixed number or schedule)."""
        return self.bandwidth if isinstance(self.bandwidth, str) else None

    # parameters -----------------------------------------------------------------------------
    def params(self, data) -> KDEParams:
        """The KDE fitted to data shaped (R, m) (shorthand for ``fit(stats(data))``)."""
        return self.fit(self.stats(data))

    def bandwidth_for(self, data: np.ndarray) -> np.ndarray:
        """The bandwidth h of each chain for training data shaped (R, m), shape (R,)."""
        return self._bandwidth(check_array("data", data, ndim=2))

    def _bandwidth(self, data: np.ndarray) -> np.ndarray:
        """bandwidth_for without re-validating data (KDEStats are validated when made): a fixed
        h or a schedule then costs O(R), not O(R m), per fit."""
        R, m = data.shape
        if callable(self.bandwidth):
            h = np.asarray(self.bandwidth(m), dtype=float)
            if h.shape not in ((), (R,)) or not np.all(np.isfinite(h)) or np.any(h <= 0):
                raise ValueError(f"the bandwidth schedule {self.bandwidth!r} must return a positive "
                                 f"number or {R} positive numbers for a pool of {m}, got {h!r}")
            return np.broadcast_to(h, (R,)).astype(float)
        if self.rule is None:
            return np.full(R, self.bandwidth)
        if m < 2:
            raise ValueError("a bandwidth rule needs at least 2 points per chain")
        scale = data.std(axis=1, ddof=1)
        if self.rule == "silverman":
            q75, q25 = np.quantile(data, [0.75, 0.25], axis=1)
            iqr = (q75 - q25) / 1.34
            scale = np.where(iqr > 0, np.minimum(scale, iqr), scale)
        h = RULES[self.rule] * scale * m ** (-0.2)
        if np.any(h <= 0):
            raise ValueError(f"the {self.rule!r} bandwidth rule gave h = 0 (all points of a chain "
                             "are equal); use a fixed bandwidth")
        return h

    def broadcast(self, params: KDEParams, replicates: int) -> KDEParams:
        _check_params(params)
        replicates = check_int("replicates", replicates, minimum=1)
        if params.replicates == replicates:
            return params
        if params.replicates != 1:
            raise ValueError(f"cannot broadcast parameters of {params.replicates} chains "
                             f"to {replicates} replicates")
        shape = (replicates, params.components)
        w = None if params.weights is None else np.broadcast_to(params.weights, shape)
        return KDEParams(np.broadcast_to(params.centres, shape),
                             np.broadcast_to(params.widths, shape), w)

    def record(self, params: KDEParams) -> dict[str, np.ndarray]:
        """mean, var (the model's variance) and bandwidth (h; RMS width for the truth), all (R,);
        plus ``density`` on the grid if the model has one."""
        _check_params(params)
        out = {"mean": params.mean, "var": params.var, "bandwidth": params.bandwidth}
        if self.grid is not None:
            out["density"] = pdf(params, self.grid)
        return out

    # statistics -----------------------------------------------------------------------------
    def stats(self, data) -> KDEStats:
        """The data themselves, shaped (R, n); finite values, n >= 1."""
        data = check_array("data", data, ndim=2)
        if data.shape[1] < 1:
            raise ValueError("data must hold at least one sample per chain")
        return KDEStats(data)

    def combine(self, a: KDEStats, b: KDEStats) -> KDEStats:
        """The union of two training sets: the data concatenated along the sample axis."""
        _check_stats(a, "a")
        _check_stats(b, "b")
        if a.data.shape[0] != b.data.shape[0]:
            raise ValueError(f"cannot combine statistics of {a.data.shape[0]} and "
                             f"{b.data.shape[0]} chains")
        view, buf = _pool.append(a.data, a._buf, b.data)
        return KDEStats(view, buf)

    def fit(self, stats: KDEStats) -> KDEParams:
        """Centres = the m training points, equal weights 1/m, common width h (fixed or by rule)."""
        _check_stats(stats)
        R, m = stats.data.shape
        if m < 2:
            raise ValueError(f"need at least 2 points per chain to fit a KDE, got n = {m}")
        h = self._bandwidth(stats.data)
        return KDEParams(stats.data, np.broadcast_to(h[:, None], (R, m)), None)

    # sampling -------------------------------------------------------------------------------
    def sample(self, params: KDEParams, n: int, rng) -> np.ndarray:
        """n samples per chain, shape (R, n) (see :func:`sample_mixture`)."""
        return sample_mixture(params, n, rng)

    def sample_indexed(self, params: KDEParams, n: int, rng):
        """(samples, parent index) — both (R, n); the index names the centre each draw came from."""
        return sample_mixture(params, n, rng, return_index=True)

    def sample_stats(self, params: KDEParams, n: int, rng, exact: bool = False) -> KDEStats:
        """Statistics of n new samples = the samples.  ``exact`` is accepted for the loop's
        interface and changes nothing: there is no cheaper exact path for a KDE."""
        check_bool("exact", exact)
        return KDEStats(sample_mixture(params, n, rng))


def founder_counts(model: GaussianKDE, truth: KDEParams, n: int, generations: int,
                   replicates: int, rng):
    """Simulate the genealogy of {prf:ref}`thm-05-founders` under replace.

    Generation 1 fits ``model`` to n real points per chain (the *founders*); every later
    generation fits n draws of the previous KDE, tracking which founder each new centre descends
    from.  Returns ``(counts, last)``: counts (T, R), the number of distinct founders with
    descendants among model t's centres for t = 1..T, and the fitted parameters of model T."""
    if not isinstance(model, GaussianKDE):
        raise ValueError(f"model must be a GaussianKDE, got {type(model).__name__}")
    n = check_int("n", n, minimum=2)
    generations = check_count("generations", generations, minimum=1)
    replicates = check_int("replicates", replicates, minimum=1)
    _check_params(truth, "truth")
    check_size(f"n={n} points for replicates={replicates} chains", 4.0 * n * replicates)
    check_size(f"generations={generations} x replicates={replicates} founder counts",
               float(generations) * replicates)
    check_work(f"generations={generations} of n={n} points for replicates={replicates} chains",
               float(generations) * n * replicates * (10.0 + np.log2(n)))
    x = model.sample(model.broadcast(truth, replicates), n, rng)   # the founders
    label = np.broadcast_to(np.arange(n), (replicates, n))          # founder of every centre
    params, counts = model.params(x), [np.full(replicates, n)]
    for _ in range(2, generations + 1):
        x, parent = model.sample_indexed(params, n, rng)
        label = np.take_along_axis(label, parent, axis=1)
        params = model.params(x)
        s = np.sort(label, axis=1)
        counts.append(1 + (np.diff(s, axis=1) > 0).sum(axis=1))
    return np.vstack(counts), params


# ------------------------------------------------------------------------------------------
# densities and distances (vectorised over chains)
# ------------------------------------------------------------------------------------------
def pdf(params: KDEParams, x) -> np.ndarray:
    """Density of every chain's mixture at points x (1-D), shape (R, len(x))."""
    _check_params(params)
    x = check_array("x", x, ndim=1)
    return _sum_components(params, x, cdf=False)


def cdf(params: KDEParams, x) -> np.ndarray:
    """Distribution function of every chain's mixture at points x (1-D), shape (R, len(x))."""
    _check_params(params)
    x = check_array("x", x, ndim=1)
    return _sum_components(params, x, cdf=True)


def _sum_components(params: KDEParams, x: np.ndarray, cdf: bool) -> np.ndarray:
    R, m = params.centres.shape
    G = x.shape[0]
    out = np.zeros((R, G))
    w = params.weight_array()
    step = max(1, _BLOCK // max(1, R * G))
    for lo in range(0, m, step):
        sl = slice(lo, min(m, lo + step))
        s = params.widths[:, sl, None]
        u = (x[None, None, :] - params.centres[:, sl, None]) / s
        if cdf:
            val = ndtr(u)
        else:
            val = np.exp(-0.5 * u * u) / (s * _SQRT2PI)
        out += np.einsum("rm,rmg->rg", w[:, sl], val)
    return out


def _pair(p: KDEParams, q: KDEParams) -> tuple[KDEParams, KDEParams]:
    _check_params(p, "p")
    _check_params(q, "q")
    Rp, Rq = p.replicates, q.replicates
    if Rp == Rq:
        return p, q
    if Rp == 1:
        return _repeat(p, Rq), q
    if Rq == 1:
        return p, _repeat(q, Rp)
    raise ValueError(f"p has {Rp} chains and q has {Rq}: they must match or one must be 1")


def _repeat(p: KDEParams, R: int) -> KDEParams:
    shape = (R, p.components)
    w = None if p.weights is None else np.broadcast_to(p.weights, shape)
    return KDEParams(np.broadcast_to(p.centres, shape), np.broadcast_to(p.widths, shape), w)


def overlap(p: KDEParams, q: KDEParams) -> np.ndarray:
    """Integral of f_p f_q for each chain, shape (R,): sum_ij w_i v_j phi(mu_i - nu_j; s_i^2 + r_j^2),
    where phi(.; v) is the N(0, v) density.  Exact; costs O(R m_p m_q)."""
    p, q = _pair(p, q)
    R, mp = p.centres.shape
    mq = q.centres.shape[1]
    wp, wq = p.weight_array(), q.weight_array()
    constant = _row_constant(p.widths) and _row_constant(q.widths)
    if constant:
        v = p.widths[:, 0] ** 2 + q.widths[:, 0] ** 2
        inv2v = (0.5 / v)[:, None, None]
        norm = (1.0 / np.sqrt(2 * np.pi * v))[:, None, None]
    out = np.zeros(R)
    step = max(1, _BLOCK // max(1, R * mq))
    for lo in range(0, mp, step):
        sl = slice(lo, min(mp, lo + step))
        d = p.centres[:, sl, None] - q.centres[:, None, :]
        if constant:
            val = np.exp(-(d * d) * inv2v) * norm
        else:
            v = p.widths[:, sl, None] ** 2 + q.widths[:, None, :] ** 2
            val = np.exp(-0.5 * d * d / v) / np.sqrt(2 * np.pi * v)
        out += np.einsum("ri,rij,rj->r", wp[:, sl], val, wq)
    return out


def ise(p: KDEParams, q: KDEParams) -> np.ndarray:
    """Integrated squared error  int (f_p - f_q)^2  for each chain, shape (R,), in closed form
    ({prf:ref}`thm-05-mise`).  O(R (m_p + m_q)^2): fine for a few hundred centres per chain."""
    p, q = _pair(p, q)
    out = overlap(p, p) + overlap(q, q) - 2 * overlap(p, q)
    return np.maximum(out, 0.0)


def l2_distance(p: KDEParams, q: KDEParams) -> np.ndarray:
    """L2 distance between densities, sqrt(:func:`ise`), shape (R,).  Usable directly as a
    :func:`~collapselab.loop.run_loop` metric: ``metrics={"l2": l2_distance}``."""
    return np.sqrt(ise(p, q))


def _grid_for(p: KDEParams, q: KDEParams, points: int | None) -> np.ndarray:
    lo = min(np.min(p.centres - 8 * p.widths), np.min(q.centres - 8 * q.widths))
    hi = max(np.max(p.centres + 8 * p.widths), np.max(q.centres + 8 * q.widths))
    if points is None:
        smallest = min(np.min(p.widths), np.min(q.widths))
        points = int(np.clip((hi - lo) / (smallest / 4), 512, 8192))
    return np.linspace(lo, hi, points)


def tv_distance(p: KDEParams, q: KDEParams, points: int | None = None, grid=None) -> np.ndarray:
    """Total-variation distance (1/2) int |f_p - f_q| for each chain, shape (R,), by the
    trapezoidal rule on a grid (default: spanning every component +- 8 widths, spacing a quarter
    of the smallest width, 512 to 8192 points).  Costs O(R (m_p + m_q) points)."""
    p, q = _pair(p, q)
    if grid is None:
        if points is not None:
            points = check_int("points", points, minimum=16)
        grid = _grid_for(p, q, points)
    else:
        grid = check_array("grid", grid, ndim=1)
        if grid.size < 2 or np.any(np.diff(grid) <= 0):
            raise ValueError("grid must be increasing with at least two points")
    diff = np.abs(pdf(p, grid) - pdf(q, grid))
    return 0.5 * np.trapezoid(diff, grid, axis=1)


def variance(params: KDEParams, truth=None) -> np.ndarray:
    """Variance of each chain's model, shape (R,) (signature of a run_loop metric)."""
    return _check_params(params).var
