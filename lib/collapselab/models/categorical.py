"""The refitted categorical model: a vocabulary that learns its frequencies from its own samples
(chapter 3, *Tail loss in categorical models*).

Parameters of R chains are probability vectors, an array shaped (R, K); the statistics of a
training set are its count vectors (R, K).  Counts are additive, so the accumulate schedule pools
them by addition, and the maximum-likelihood fit is the vector of empirical frequencies
(optionally smoothed, add-lambda).  Two samplers give the counts of n new samples:

* the exact path draws the multinomial count vector directly (``Generator.multinomial`` with one
  row of probabilities per chain);
* the sample path draws n category indices per chain by inverse-CDF sampling (one
  ``searchsorted`` over the cumulative sums of all chains, offset chain by chain) and counts them.

Under ``replace`` each category's count is a Wright--Fisher chain ({prf:ref}`thm-03-wright-fisher`)
and a category whose count reaches zero never returns ({prf:ref}`thm-03-absorption`); both
samplers keep that exact, for every chain.  The metrics at the end of this module (total
variation, KL, surviving categories, tail mass) have the signature ``f(params, truth) -> (R,)``
that :func:`collapselab.run_loop` expects.  Checked in ``tests/test_categorical.py``.
"""
from __future__ import annotations

import numpy as np
from scipy.special import rel_entr

from .._validate import (as_rng, check_array, check_bool, check_fraction, check_int, check_probs,
                         check_real, check_size, check_work)

_CHUNK = 1 << 22  # uniforms drawn at once by the sample path
_SUM_TOL = 1e-8   # tolerance on float64 probability vectors summing to one (see check_probs)


def zipf_probs(K: int, s: float = 1.1) -> np.ndarray:
    """Zipf law on K categories: p_k proportional to k^(-s), k = 1..K (rank 1 most frequent).

    Chapter 3, {prf:ref}`def-03-zipf`.  ``s = 0`` gives the uniform law.
    """
    K = check_int("K", K, minimum=2)
    s = check_real("s", s, minimum=0.0)
    check_size(f"K={K} categories", K)
    w = np.arange(1, K + 1, dtype=float) ** (-s)
    return w / w.sum()


def _check_probs(name: str, probs, K: int | None = None, ndim=(1, 2)) -> np.ndarray:
    """A finite, non-negative array of probability vectors along the last axis, summing to one
    (tolerance 1e-8 for float64, suited to the dtype otherwise: float32 vectors are accepted and
    renormalised in float64)."""
    return check_probs(name, probs, K, ndim=ndim)


class Categorical:
    """A categorical distribution on K categories, refitted by maximum likelihood (chapter 3).

    Parameters
    ----------
    n_categories : int
        K >= 2, the vocabulary size.
    smoothing : float
        lambda >= 0 of add-lambda (Laplace for lambda = 1) smoothing: the fit is
        (count + lambda) / (total + K lambda).  lambda = 0 (default) is the maximum-likelihood
        fit, under which a lost category never returns ({prf:ref}`thm-03-absorption`); any
        lambda > 0 breaks absorption (exercise {ref}`ex-03-3`).
    keep : {"surviving", "alive", "probs"}
        What :meth:`record` keeps at every recorded generation, besides the number of surviving
        categories (``"surviving"``, shape (R,), always kept): ``"alive"`` adds the boolean mask
        of categories with positive probability, shape (R, K); ``"probs"`` adds the probability
        vectors themselves, shape (R, K) of floats.  Over T generations these arrays are
        (T+1, R, K): use ``record_every`` of :func:`collapselab.run_loop` for large runs.

    Parameters of R chains are arrays (R, K); statistics are count vectors (R, K) of int64.
    """

    name = "categorical"

    def __init__(self, n_categories: int, smoothing: float = 0.0, keep: str = "surviving"):
        self.n_categories = check_int("n_categories", n_categories, minimum=2)
        self.smoothing = check_real("smoothing", smoothing, minimum=0.0)
        if keep not in ("surviving", "alive", "probs"):
            raise ValueError(f"keep must be 'surviving', 'alive' or 'probs', got {keep!r}")
        self.keep = keep

    def __repr__(self):
        return (f"Categorical(n_categories={self.n_categories}, smoothing={self.smoothing:g}, "
                f"keep={self.keep!r})")

    # parameters -----------------------------------------------------------------------------
    def params(self, probs, replicates: int = 1) -> np.ndarray:
        """Parameters of R chains from one probability vector (K,) or from R of them (R, K).

        Raises ValueError for NaN or infinite entries, negative entries, vectors that do not
        sum to one (within 1e-8), or the wrong number of categories.  Rows are renormalised so
        they sum to one to machine precision."""
        replicates = check_int("replicates", replicates, minimum=1)
        check_size(f"replicates={replicates} chains of {self.n_categories} categories",
                   float(replicates) * self.n_categories)
        probs = _check_probs("probs", probs, self.n_categories)
        if probs.ndim == 2 and probs.shape[0] not in (1, replicates):
            raise ValueError(f"probs holds {probs.shape[0]} chains but replicates={replicates}")
        probs = probs / probs.sum(axis=-1, keepdims=True)
        return np.broadcast_to(probs, (replicates, self.n_categories)).astype(float).copy()

    def zipf(self, s: float = 1.1, replicates: int = 1) -> np.ndarray:
        """The Zipf truth p_k proportional to k^(-s) for R chains ({prf:ref}`def-03-zipf`)."""
        return self.params(zipf_probs(self.n_categories, s), replicates)

    def broadcast(self, params, replicates: int) -> np.ndarray:
        replicates = check_int("replicates", replicates, minimum=1)
        params = _check_probs("params", params, self.n_categories)
        if params.ndim == 2 and params.shape[0] == replicates and params.shape[1] == self.n_categories:
            return params
        if params.ndim == 1 or (params.ndim == 2 and params.shape[0] == 1):
            return self.params(params.reshape(-1), replicates)
        raise ValueError(f"cannot broadcast parameters of shape {params.shape} to {replicates} replicates")

    def record(self, params) -> dict[str, np.ndarray]:
        params = self._checked(params)
        alive = params > 0
        out = {"surviving": np.count_nonzero(alive, axis=-1)}
        if self.keep == "alive":
            out["alive"] = alive
        elif self.keep == "probs":
            out["probs"] = params
        return out

    def _checked(self, params) -> np.ndarray:
        params = _check_probs("params", params, self.n_categories, ndim=2)
        return params

    # statistics -----------------------------------------------------------------------------
    def stats(self, data) -> np.ndarray:
        """Count vectors (R, K) of category indices shaped (R, n), each in 0..K-1."""
        data = np.asarray(data)
        if data.ndim != 2:
            raise ValueError(f"data must be category indices of shape (R, n), got shape {data.shape}")
        if data.shape[1] < 1:
            raise ValueError("data must hold at least one sample per chain")
        if not np.issubdtype(data.dtype, np.integer):
            if not np.issubdtype(data.dtype, np.floating) or not np.all(np.isfinite(data)) \
                    or not np.all(data == np.round(data)):
                raise ValueError("data must hold integer category indices")
            data = data.astype(np.int64)
        K = self.n_categories
        if data.size and (data.min() < 0 or data.max() >= K):
            raise ValueError(f"data must hold category indices in 0..{K - 1}")
        R = data.shape[0]
        flat = (data + (np.arange(R) * K)[:, None]).ravel()
        return np.bincount(flat, minlength=R * K).reshape(R, K).astype(np.int64)

    def combine(self, a, b) -> np.ndarray:
        """Pooled counts of two training sets: counts are additive."""
        a, b = self._counts("a", a), self._counts("b", b)
        if a.shape != b.shape:
            raise ValueError(f"cannot combine count arrays of shapes {a.shape} and {b.shape}")
        return a + b

    def _counts(self, name, stats) -> np.ndarray:
        """Count vectors (R, K): non-negative, finite, at least one chain."""
        counts = np.asarray(stats) if isinstance(stats, np.ndarray) else None
        if counts is not None and counts.dtype.kind in "iu" and counts.ndim == 2:   # the loop's own counts
            if counts.size and counts.min() < 0:
                raise ValueError(f"{name} (counts) must be non-negative")
        else:
            counts = check_array(f"{name} (counts)", stats, ndim=2, nonnegative=True)
        if counts.shape[0] < 1 or counts.shape[1] != self.n_categories:
            raise ValueError(f"{name} (counts) must have shape (R, {self.n_categories}) with R >= 1, "
                             f"got {counts.shape}")
        return counts

    def fit(self, stats) -> np.ndarray:
        """Maximum-likelihood (lambda = 0) or add-lambda frequencies from counts (R, K)."""
        counts = self._counts("stats", stats)
        total = counts.sum(axis=1, keepdims=True)
        lam = self.smoothing
        if lam == 0.0:
            if np.any(total <= 0):
                raise ValueError("stats (counts) must hold at least one observation per chain")
            return counts / total.astype(float)   # (int / int is a slow ufunc loop)
        return (counts + lam) / (total + lam * self.n_categories)

    # sampling -------------------------------------------------------------------------------
    def sample(self, params, n: int, rng) -> np.ndarray:
        """n category indices per chain, shape (R, n), by inverse-CDF sampling (vectorised)."""
        n = check_int("n", n, minimum=1)
        params = self._checked(params)
        rng = as_rng(rng, "rng")
        R, K = params.shape
        check_size(f"sampling n={n} indices for {R} chains", 2.0 * R * n)
        out = np.empty((R, n), dtype=np.int64)
        for lo, hi, idx in self._inverse_cdf(params, n, rng):
            out[lo:hi] = idx.reshape(hi - lo, n) - (np.arange(hi - lo) * K)[:, None]
        return out

    def _inverse_cdf(self, params, n, rng):
        """Yield (lo, hi, flat global indices) for chunks of chains.

        All chains' cumulative sums live in one sorted array, chain r shifted by 2r, so one
        ``searchsorted`` serves every chain.  A category with zero probability has the same
        cumulative value as its predecessor and is never returned (absorption stays exact).  A
        uniform that rounding pushes past a chain's last cumulative value is given to that
        chain's last category of positive probability."""
        R, K = params.shape
        step = max(1, _CHUNK // max(n, K))
        for lo in range(0, R, step):
            hi = min(R, lo + step)
            p = params[lo:hi]
            m = hi - lo
            offs = 2.0 * np.arange(m)
            cdf = np.cumsum(p, axis=1) + offs[:, None]
            u = rng.random((m, n)) + offs[:, None]
            idx = np.searchsorted(cdf.ravel(), u.ravel(), side="right")
            last_pos = K - 1 - np.argmax(p[:, ::-1] > 0, axis=1)  # last category with p > 0
            cap = np.repeat(np.arange(m) * K + last_pos, n)
            np.minimum(idx, cap, out=idx)
            yield lo, hi, idx

    def sample_stats(self, params, n: int, rng, exact: bool = False) -> np.ndarray:
        """Counts (R, K) of n new samples from each chain's model.

        ``exact=True`` draws the multinomial count vectors directly; ``exact=False`` draws the n
        uniforms of the inverse-CDF method (as sorted order statistics) and counts them.  Both have the same law
        (tests/test_categorical.py); neither can give a positive count to a category of zero
        probability."""
        n = check_int("n", n, minimum=1)
        params = self._checked(params)
        rng = as_rng(rng, "rng")
        exact = check_bool("exact", exact)
        R, K = params.shape
        if not exact:
            what = f"the sample path with n={n} for {R} chains (use exact=True for large n)"
            check_size(what, 3.0 * max(n + 1, K))
            check_work(what, 10.0 * R * (n + K))
        if exact:
            counts = rng.multinomial(n, params)
            # numpy gives the remainder of n to the last column; if rounding in its running
            # sums ever leaves a remainder there while that column has probability zero, hand
            # it to the chain's most likely category instead (probability ~1e-13, but keeps
            # absorption exact).
            bad = (counts[:, -1] > 0) & (params[:, -1] == 0)
            if np.any(bad):
                rows = np.flatnonzero(bad)
                top = np.argmax(params[rows], axis=1)
                counts[rows, top] += counts[rows, -1]
                counts[rows, -1] = 0
            return counts.astype(np.int64, copy=False)
        # The n uniforms of a chain, drawn already sorted (order statistics of n uniforms are
        # the normalised partial sums of n + 1 exponentials), are counted against the chain's
        # cumulative probabilities: count_k = #{u < cdf_k} - #{u < cdf_{k-1}}.  This is the
        # inverse-CDF draw of n indices followed by counting, in O(n + K) per chain.  Chains
        # are offset by 2r so one searchsorted (with sorted needles) serves them all.
        counts = np.empty((R, K), dtype=np.int64)
        step = max(1, _CHUNK // max(n, K))
        for lo in range(0, R, step):
            hi = min(R, lo + step)
            p, m = params[lo:hi], hi - lo
            s = np.cumsum(rng.standard_exponential((m, n + 1)), axis=1)
            offs = 2.0 * np.arange(m)[:, None]
            u = s[:, :n] / s[:, n:] + offs
            cdf = np.cumsum(p, axis=1) + offs
            below = np.searchsorted(u.ravel(), cdf.ravel(), side="left").reshape(m, K)
            below -= (np.arange(m) * n)[:, None]
            c = np.diff(below, axis=1, prepend=0)
            # uniforms that rounding leaves above a chain's last cumulative value go to its last
            # category of positive probability (a zero-probability category never gets a count)
            last_pos = K - 1 - np.argmax(p[:, ::-1] > 0, axis=1)
            c[np.arange(m), last_pos] += n - below[:, -1]
            counts[lo:hi] = c
        return counts


# metrics ----------------------------------------------------------------------------------------
def _pair(p, q):
    p = _check_probs("p", p)
    q = _check_probs("q", q)
    if p.shape[-1] != q.shape[-1]:
        raise ValueError(f"p and q must have the same number of categories, got {p.shape} and {q.shape}")
    return p, q


def total_variation(p, q) -> np.ndarray:
    """TV(p, q) = (1/2) sum_k |p_k - q_k|, along the last axis (chains broadcast).

    Chapter 3, {prf:ref}`thm-03-distances`."""
    p, q = _pair(p, q)
    return 0.5 * np.abs(p - q).sum(axis=-1)


def kl_divergence(p, q) -> np.ndarray:
    """KL(p || q) = sum_k p_k log(p_k / q_k) with 0 log 0 = 0, along the last axis.

    It is +inf as soon as q gives zero probability to a category that p does not: KL(truth ||
    model) is infinite once the model has lost any category of the truth
    ({prf:ref}`thm-03-distances`)."""
    p, q = _pair(p, q)
    return _kl_unchecked(p, q)


def surviving_categories(params, truth=None) -> np.ndarray:
    """Number of categories with positive probability in each chain's model (R,).

    With ``truth``, only categories in the truth's support are counted."""
    params = _check_probs("params", params)
    alive = params > 0
    if truth is not None:
        truth = _check_probs("truth", truth, params.shape[-1])
        alive = alive & (truth > 0)
    return np.count_nonzero(alive, axis=-1)


def tail_categories(truth, tail: float = 0.5) -> np.ndarray:
    """Indices of the truth's rarest ceil(tail K) categories (ties broken by index)."""
    truth = _check_probs("truth", truth, ndim=1)
    tail = check_fraction("tail", tail)
    if tail == 0:
        raise ValueError("tail must be > 0")
    K = truth.shape[0]
    m = int(np.ceil(tail * K))
    return np.sort(np.argsort(truth, kind="stable")[:m])


def tail_mass(params, truth, tail: float = 0.5) -> np.ndarray:
    """Mass each chain's model puts on the truth's rarest ceil(tail K) categories (R,).

    ``truth`` is one vector (K,) or R identical rows (R, K), as :func:`collapselab.run_loop`
    passes it.  Compare with the truth's own tail mass; chapter 3, {prf:ref}`thm-03-distances`."""
    params = _check_probs("params", params)
    truth = _check_probs("truth", truth, params.shape[-1])
    if truth.ndim == 2:
        if not np.array_equal(truth, np.broadcast_to(truth[0], truth.shape)):
            raise ValueError("tail_mass needs one truth shared by every chain")
        truth = truth[0]
    idx = tail_categories(truth, tail)
    if params.shape[-1] != truth.shape[0]:
        raise ValueError("params and truth must have the same number of categories")
    return params[..., idx].sum(axis=-1)


# metric functions with run_loop's signature f(params, truth) -> (R,): both arguments are
# validated as probability vectors (O(RK), the cost of the metric itself).
def _same_shape(params, truth):
    params = _check_probs("params", params, ndim=2)
    truth = _check_probs("truth", truth, ndim=2)
    if params.shape != truth.shape:
        raise ValueError(f"params and truth must both have shape (R, K), got {params.shape} and {truth.shape}")
    return params, truth


def _kl_unchecked(p, q):
    # rel_entr(x, y) = x log(x/y), 0 for x = 0, +inf for x > 0 = y: one pass in C
    return np.maximum(rel_entr(p, q).sum(axis=-1), 0.0)


def tv_to_truth(params, truth) -> np.ndarray:
    """Metric for :func:`collapselab.run_loop`: TV(model, truth)."""
    params, truth = _same_shape(params, truth)
    return 0.5 * np.abs(params - truth).sum(axis=-1)


def kl_truth_to_model(params, truth) -> np.ndarray:
    """Metric for :func:`collapselab.run_loop`: KL(truth || model); +inf once a category is lost."""
    params, truth = _same_shape(params, truth)
    return _kl_unchecked(truth, params)


def kl_model_to_truth(params, truth) -> np.ndarray:
    """Metric for :func:`collapselab.run_loop`: KL(model || truth), finite while the truth has full
    support (+inf where the model keeps a category the truth lacks)."""
    params, truth = _same_shape(params, truth)
    return _kl_unchecked(params, truth)


def surviving_metric(params, truth) -> np.ndarray:
    """Metric for :func:`collapselab.run_loop`: categories of the truth still alive in the model."""
    params, truth = _same_shape(params, truth)
    return np.count_nonzero((params > 0) & (truth > 0), axis=-1).astype(float)


def tail_mass_metric(tail: float = 0.5):
    """A metric for :func:`collapselab.run_loop`: model mass on the truth's rarest ``tail`` share
    of categories.  The tail indices are computed once per truth and cached."""
    tail = check_fraction("tail", tail)
    if tail == 0:
        raise ValueError("tail must be > 0")
    cache: dict = {}

    def metric(params, truth):
        params = _check_probs("params", params)
        truth = _check_probs("truth", truth, params.shape[-1])
        key = (truth.shape, truth.reshape(-1, truth.shape[-1])[0].tobytes())
        if key not in cache:
            row = truth.reshape(-1, truth.shape[-1])
            if not np.array_equal(row, np.broadcast_to(row[0], row.shape)):
                raise ValueError("tail_mass needs one truth shared by every chain")
            cache.clear()
            cache[key] = tail_categories(row[0], tail)
        return np.asarray(params)[..., cache[key]].sum(axis=-1)

    return metric


def standard_metrics(tail: float = 0.5) -> dict:
    """The chapter's metrics for :func:`collapselab.run_loop`: ``tv``, ``kl`` (truth || model),
    ``kl_reverse`` (model || truth), ``surviving`` and ``tail_mass``."""
    return {"tv": tv_to_truth, "kl": kl_truth_to_model, "kl_reverse": kl_model_to_truth,
            "surviving": surviving_metric, "tail_mass": tail_mass_metric(tail)}
