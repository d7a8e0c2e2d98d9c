"""Monitoring collapse when the truth is unknown (chapter 12).

Everything here works from *samples*: the outputs of each generation's model and a held-out set
of real data, never the true parameters.  All functions are vectorised over a leading axis of
R chains, validate their inputs and take a ``rng`` where they are random.

Two-sample divergences and tests
    :func:`median_heuristic`, :func:`mmd2` (unbiased MMD^2, Gaussian kernel;
    {prf:ref}`prop-12-unbiased`, closed form {prf:ref}`prop-12-gauss-mmd` in
    :mod:`collapselab.theory.monitoring`), :func:`mmd_test` (permutation test, valid level
    {prf:ref}`thm-12-permutation`), :func:`ks_statistic`, :func:`ks_test`.
Tails
    :func:`tail_coverage` (continuous data), :func:`category_counts`,
    :func:`rare_category_coverage` (integer labels).
Contraction and early warning
    :func:`contraction_estimate` (online least squares of d_t on d_(t-1)),
    :func:`early_warning`, :func:`alarm_statistic`, :func:`calibrate_threshold`
    ({prf:ref}`thm-12-calibration`), :func:`kappa_warning`, :func:`summarize_alarms`.
Samples of a recorded trajectory
    :func:`params_at`, :func:`samples_per_generation`, :func:`monitor`, :func:`monitor_mmd`.

Layout conventions: samples are shaped (R, n) for one-dimensional data or (R, n, d); a
divergence *sequence* is shaped (T + 1, R) like the metrics of a
:class:`~collapselab.loop.Trajectory` (generation on axis 0).  Alarm generations are integers,
with -1 meaning "no alarm".  Checked in ``tests/test_monitoring.py``.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._validate import as_rng, check_array, check_fraction, check_int, check_model, check_real, check_size

_MEMORY = 1 << 23  # float64 entries per chunk of chains (64 MB)

# ---------------------------------------------------------------------------------------------
# input handling
# ---------------------------------------------------------------------------------------------


def _as_batch(name: str, a) -> np.ndarray:
    """A sample batch (R, n) or (R, n, d) as a float array (R, n, d)."""
    a = check_array(name, a, ndim=(2, 3))
    if a.ndim == 2:
        a = a[..., None]
    if a.shape[0] < 1:
        raise ValueError(f"{name} must hold at least one chain, got shape {a.shape}")
    if a.shape[1] < 2:
        raise ValueError(f"{name} must hold at least 2 samples per chain, got {a.shape[1]}")
    if a.shape[2] < 1:
        raise ValueError(f"{name} must have at least one dimension per point, got shape {a.shape}")
    return a


def _pair(x, y):
    x, y = _as_batch("x", x), _as_batch("y", y)
    if x.shape[2] != y.shape[2]:
        raise ValueError(f"x and y must have the same dimension, got {x.shape[2]} and {y.shape[2]}")
    rx, ry = x.shape[0], y.shape[0]
    if rx != ry and 1 not in (rx, ry):
        raise ValueError(f"x and y must hold the same number of chains (or one of them 1), "
                         f"got {rx} and {ry}")
    return x, y, max(rx, ry)


def _rows(a: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Chains lo:hi of a batch that may hold a single chain shared by all."""
    if a.shape[0] == 1:
        return np.broadcast_to(a, (hi - lo,) + a.shape[1:])
    return a[lo:hi]


def _bandwidth(bandwidth, R: int):
    if bandwidth is None:
        return None
    h = check_array("bandwidth", bandwidth, ndim=(0, 1))
    if h.size and np.any(h <= 0):
        raise ValueError("bandwidth must be > 0")
    if h.ndim == 1 and h.shape[0] not in (1, R):
        raise ValueError(f"bandwidth must be a scalar or have shape ({R},), got {h.shape}")
    return np.broadcast_to(h.reshape(-1) if h.ndim else h, (R,)).astype(float)


def _chunk(R: int, per_chain: int) -> int:
    return max(1, min(R, _MEMORY // max(per_chain, 1)))


def _sqdist(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """Pairwise squared distances per chain: a (c, n, d), b (c, m, d) -> (c, n, m); with b None,
    within a (zero diagonal)."""
    same = b is None
    b = a if same else b
    if a.shape[2] == 1:
        D = (a[:, :, None, 0] - b[:, None, :, 0]) ** 2
    else:
        D = (np.einsum("cnd,cnd->cn", a, a)[:, :, None] + np.einsum("cmd,cmd->cm", b, b)[:, None, :]
             - 2.0 * (a @ np.swapaxes(b, 1, 2)))
        np.maximum(D, 0.0, out=D)
        if same:
            idx = np.arange(a.shape[1])
            D[:, idx, idx] = 0.0
    return D


def _median_from_blocks(*blocks) -> np.ndarray:
    """Median pairwise distance from within-sample blocks (c, k, k) (upper triangles used) and
    cross blocks (c, k, l) (all entries used), marked by a flag: (D, within)."""
    parts = []
    for D, within in blocks:
        if within:
            iu = np.triu_indices(D.shape[1], 1)
            parts.append(D[:, iu[0], iu[1]])
        else:
            parts.append(D.reshape(D.shape[0], -1))
    return np.median(np.sqrt(np.concatenate(parts, axis=1)), axis=1)


def _check_median(h):
    if np.any(h <= 0):
        raise ValueError("bandwidth: the median heuristic is 0 for some chain (all its points "
                         "coincide); pass an explicit bandwidth")
    return h


def _kernel_mean(D: np.ndarray, h: np.ndarray, within: bool) -> np.ndarray:
    """Mean of exp(-D / (2 h^2)) over off-diagonal entries (within) or all entries (cross)."""
    K = np.exp(D * (-0.5 / h**2)[:, None, None])
    s = K.sum(axis=(1, 2))
    if within:
        k = D.shape[1]
        return (s - np.einsum("cii->c", K)) / (k * (k - 1))
    return s / (D.shape[1] * D.shape[2])


# ---------------------------------------------------------------------------------------------
# MMD
# ---------------------------------------------------------------------------------------------


def median_heuristic(x, y=None) -> np.ndarray:
    """Median pairwise Euclidean distance within each chain's sample (pooled with ``y`` if
    given): the kernel size used in the experiments of {cite}`gretton2012kernel`.  Shapes (R, n[, d]);
    returns (R,).  Raises if a chain's points all coincide (the median is 0)."""
    if y is None:
        xb = _as_batch("x", x)
        R, N = xb.shape[0], xb.shape[1]
        yb = None
    else:
        xb, yb, R = _pair(x, y)
        N = xb.shape[1] + yb.shape[1]
    out = np.empty(R)
    step = _chunk(R, 2 * N * N)
    for lo in range(0, R, step):
        hi = min(R, lo + step)
        xc = _rows(xb, lo, hi)
        blocks = [(_sqdist(xc), True)]
        if yb is not None:
            yc = _rows(yb, lo, hi)
            blocks += [(_sqdist(yc), True), (_sqdist(xc, yc), False)]
        out[lo:hi] = _median_from_blocks(*blocks)
    return _check_median(out)


def _pooled_kernel(xc, yc, h):
    """Pooled Gaussian kernel matrices and the bandwidths used (median heuristic if h is None)."""
    z = np.concatenate([xc, yc], axis=1)
    D = _sqdist(z)
    if h is None:
        h = _check_median(_median_from_blocks((D, True)))
    D *= (-0.5 / h**2)[:, None, None]
    np.exp(D, out=D)
    return D, h


def _mmd2_blocks(xc, yc, h, yy=None):
    """Unbiased MMD^2 for one chunk from the three kernel blocks (the y-y mean may be given)."""
    Dxx, Dxy = _sqdist(xc), _sqdist(xc, yc)
    Dyy = _sqdist(yc) if (yy is None or h is None) else None
    if h is None:
        h = _check_median(_median_from_blocks((Dxx, True), (Dyy, True), (Dxy, False)))
    if yy is None:
        yy = _kernel_mean(Dyy, h, True)
    return _kernel_mean(Dxx, h, True) + yy - 2.0 * _kernel_mean(Dxy, h, False)


def mmd2(x, y, bandwidth=None) -> np.ndarray:
    """Unbiased estimate of MMD^2 between the distributions of x and y, chain by chain.

    With the Gaussian kernel k(u, v) = exp(-|u - v|^2 / (2 h^2)),

        MMD^2_u = sum_{i != j} k(x_i, x_j) / (n(n-1)) + sum_{i != j} k(y_i, y_j) / (m(m-1))
                  - 2 sum_{i, j} k(x_i, y_j) / (n m)

    ({cite}`gretton2012kernel`, Lemma 6), an unbiased estimate of MMD^2 for a fixed bandwidth
    ({prf:ref}`prop-12-unbiased`); it can be negative.

    Parameters
    ----------
    x : (R, n) or (R, n, d) samples; y : (R, m) or (R, m, d).  Either may hold a single chain
        (shape (1, ...)) shared by all R.
    bandwidth : h > 0, a scalar or (R,); None uses the median heuristic on each chain's pooled
        sample (:func:`median_heuristic`).  For a sequence of generations compared with one
        held-out real set, fix h (e.g. the median heuristic of the real set) so that the
        statistic measures the same thing at every generation.

    Returns an array of shape (R,).  Chapter 12; checked in ``tests/test_monitoring.py``.
    """
    x, y, R = _pair(x, y)
    h_all = _bandwidth(bandwidth, R)
    n, m = x.shape[1], y.shape[1]
    N = n + m
    out = np.empty(R)
    step = _chunk(R, 2 * N * N + N * x.shape[2])
    for lo in range(0, R, step):
        hi = min(R, lo + step)
        out[lo:hi] = _mmd2_blocks(_rows(x, lo, hi), _rows(y, lo, hi),
                                  None if h_all is None else h_all[lo:hi])
    return out


@dataclass(frozen=True)
class TwoSampleResult:
    """Result of a two-sample test for R chains: ``statistic`` (R,), ``pvalue`` (R,) and, for
    the MMD test, the ``bandwidth`` (R,) used."""

    statistic: np.ndarray
    pvalue: np.ndarray
    bandwidth: np.ndarray | None = None


def _permutation_labels(rng, c: int, P: int, N: int, n: int) -> np.ndarray:
    """(c, P, N) 0/1 indicators of the x-sample under P uniform random permutations per chain
    (argsort of uniform keys)."""
    perm = np.argsort(rng.random((c, P, N)), axis=2)
    lab = np.zeros((c, P, N))
    np.put_along_axis(lab, perm[..., :n], 1.0, axis=2)
    return lab


def _pvalues(observed: np.ndarray, permuted: np.ndarray) -> np.ndarray:
    """(1 + #{permuted >= observed}) / (1 + P), counting near-ties (round-off) as >=."""
    scale = np.maximum(np.abs(observed), np.abs(permuted).max(axis=1))
    tol = 1e-10 * np.maximum(scale, 1e-300)
    count = np.sum(permuted >= (observed - tol)[:, None], axis=1)
    return (1.0 + count) / (1.0 + permuted.shape[1])


def mmd_test(x, y, permutations: int = 200, rng=None, bandwidth=None) -> TwoSampleResult:
    """Permutation two-sample test of "x and y have the same distribution", chain by chain.

    The statistic is :func:`mmd2`; its null distribution is approximated by recomputing it
    after ``permutations`` uniform random relabellings of each chain's pooled sample (argsort
    of random keys, vectorised over chains and permutations).  The p-value
    (1 + #{permuted >= observed}) / (1 + permutations) satisfies P(p <= u) <= u for every u
    when the pooled sample is exchangeable ({prf:ref}`thm-12-permutation`).  With
    ``bandwidth=None`` the median heuristic of the pooled sample is used; it is the same for
    every relabelling, so the test keeps its level.

    Returns a :class:`TwoSampleResult` (``statistic``, ``pvalue``, ``bandwidth``, each (R,)).
    Chapter 12; checked in ``tests/test_monitoring.py``.
    """
    x, y, R = _pair(x, y)
    P = check_int("permutations", permutations, minimum=1)
    rng = as_rng(rng, "rng")
    h_all = _bandwidth(bandwidth, R)
    n, m = x.shape[1], y.shape[1]
    N = n + m
    check_size(f"permutations={P} of {N} pooled points", 2.0 * N * N + 3.0 * P * N)
    stat, pval, hs = np.empty(R), np.empty(R), np.empty(R)
    step = _chunk(R, 2 * N * N + 3 * P * N)
    for lo in range(0, R, step):
        hi = min(R, lo + step)
        K, h = _pooled_kernel(_rows(x, lo, hi), _rows(y, lo, hi),
                              None if h_all is None else h_all[lo:hi])
        c = hi - lo
        lab = _permutation_labels(rng, c, P, N, n)
        lab = np.concatenate([np.r_[np.ones(n), np.zeros(m)][None, None, :].repeat(c, 0), lab],
                             axis=1)  # labelling 0 is the observed one
        diag = np.einsum("cii->ci", K)
        rows = K.sum(axis=2)
        total = rows.sum(axis=1)
        trace = diag.sum(axis=1)
        KL = K @ np.swapaxes(lab, 1, 2)                     # (c, N, P+1)
        sxx_full = np.einsum("cnp,cpn->cp", KL, lab)       # sum over i, j in x
        xdiag = np.einsum("cpn,cn->cp", lab, diag)
        sx_all = np.einsum("cpn,cn->cp", lab, rows)         # sum over i in x, all j
        sxx = sxx_full - xdiag
        sxy = sx_all - sxx_full
        syy = total[:, None] - 2.0 * sx_all + sxx_full - (trace[:, None] - xdiag)
        T = sxx / (n * (n - 1)) + syy / (m * (m - 1)) - 2.0 * sxy / (n * m)
        stat[lo:hi] = T[:, 0]
        pval[lo:hi] = _pvalues(T[:, 0], T[:, 1:])
        hs[lo:hi] = h
    return TwoSampleResult(stat, pval, hs)


# ---------------------------------------------------------------------------------------------
# Kolmogorov-Smirnov
# ---------------------------------------------------------------------------------------------


def _one_d(name, a):
    a = check_array(name, a, ndim=2)
    if a.shape[0] < 1 or a.shape[1] < 1:
        raise ValueError(f"{name} must hold at least one chain and one sample per chain, got shape {a.shape}")
    return a


def _ks_pair(x, y):
    x, y = _one_d("x", x), _one_d("y", y)
    rx, ry = x.shape[0], y.shape[0]
    if rx != ry and 1 not in (rx, ry):
        raise ValueError(f"x and y must hold the same number of chains (or one of them 1), "
                         f"got {rx} and {ry}")
    R = max(rx, ry)
    x = np.broadcast_to(x, (R, x.shape[1]))
    y = np.broadcast_to(y, (R, y.shape[1]))
    z = np.concatenate([x, y], axis=1)
    order = np.argsort(z, axis=1, kind="stable")
    zs = np.take_along_axis(z, order, axis=1)
    last = np.ones(zs.shape, dtype=bool)   # evaluate the ECDFs after the last of tied values
    last[:, :-1] = zs[:, 1:] != zs[:, :-1]
    return x.shape[1], y.shape[1], order, last


def _ks_from_labels(lab, n, m, order, last):
    """KS statistic for 0/1 x-indicators ``lab`` (..., N) in the original order."""
    w = np.where(lab > 0.5, 1.0 / n, -1.0 / m)
    ws = np.take_along_axis(w, np.broadcast_to(order, w.shape) if w.ndim == 2 else
                            np.broadcast_to(order[:, None, :], w.shape), axis=-1)
    cum = np.cumsum(ws, axis=-1)
    mask = last if w.ndim == 2 else last[:, None, :]
    return np.max(np.abs(cum) * mask, axis=-1)


def ks_statistic(x, y) -> np.ndarray:
    """Two-sample Kolmogorov-Smirnov statistic sup_u |F_x(u) - F_y(u)| for one-dimensional
    samples x (R, n) and y (R, m), chain by chain (ties handled exactly).  Returns (R,)."""
    n, m, order, last = _ks_pair(x, y)
    R = order.shape[0]
    lab = np.broadcast_to(np.r_[np.ones(n), np.zeros(m)], (R, n + m))
    return _ks_from_labels(lab, n, m, order, last)


def ks_test(x, y, permutations: int | None = None, rng=None) -> TwoSampleResult:
    """Two-sample KS test, chain by chain: a cheap one-dimensional alternative to
    :func:`mmd_test`.  With ``permutations=None`` the p-value is the usual approximation
    P(D_e > D) with D_e the one-sample KS statistic for e = round(n m / (n + m)) points (as
    scipy's ``ks_2samp(method="asymp")``); with an integer it is a permutation p-value as in
    :func:`mmd_test` (exact level, {prf:ref}`thm-12-permutation`)."""
    from scipy.stats import kstwo

    rng = as_rng(rng, "rng")
    n, m, order, last = _ks_pair(x, y)
    R = order.shape[0]
    lab0 = np.broadcast_to(np.r_[np.ones(n), np.zeros(m)], (R, n + m))
    stat = _ks_from_labels(lab0, n, m, order, last)
    if permutations is None:
        p = kstwo.sf(stat, max(int(round(n * m / (n + m))), 1))
        return TwoSampleResult(stat, np.clip(p, 0.0, 1.0))
    P = check_int("permutations", permutations, minimum=1)
    rng = as_rng(rng, "rng")
    N = n + m
    check_size(f"permutations={P} of {N} pooled points", 4.0 * P * N)
    pval = np.empty(R)
    step = _chunk(R, 4 * P * N)
    for lo in range(0, R, step):
        hi = min(R, lo + step)
        lab = _permutation_labels(rng, hi - lo, P, N, n)
        T = _ks_from_labels(lab, n, m, order[lo:hi], last[lo:hi])
        pval[lo:hi] = _pvalues(stat[lo:hi], T)
    return TwoSampleResult(stat, pval)


# ---------------------------------------------------------------------------------------------
# tails
# ---------------------------------------------------------------------------------------------


def tail_coverage(generated, real, level: float = 0.05, side: str = "both") -> np.ndarray:
    """How much of the real data's tail mass the generated samples reproduce, chain by chain.

    One-dimensional data (``generated`` (R, n), ``real`` (R, m) or (m,)): with q_lo and q_hi
    the ``level`` and 1 - ``level`` quantiles of the real sample (Weibull plotting positions, so
    that a sample of the real distribution has expected coverage exactly 1), the share of generated points
    below q_lo plus the share above q_hi, divided by its real value 2 * level (``side="both"``;
    ``"lower"``/``"upper"`` use one tail and divide by ``level``).  d-dimensional data
    ((R, n, d), real (R, m, d) or (m, d)): the tail is the outer ``level`` of the real sample's
    Mahalanobis radii about its own mean and covariance, each real point's radius computed
    leave-one-out (``side`` must be "both" or "upper").

    1 means the tails are preserved, 0 that no generated point reaches them (collapse), above 1
    that they are inflated.  A sample of the real distribution itself has expected coverage 1
    exactly in one dimension, and approximately (up to O(d/m)) in d dimensions.  Returns (R,).  Chapter 12.
    """
    level = check_real("level", level, minimum=0.0, strict_min=True)
    if level >= 0.5:
        raise ValueError(f"level must be < 0.5, got {level}")
    if side not in ("both", "lower", "upper"):
        raise ValueError(f"side must be 'both', 'lower' or 'upper', got {side!r}")
    g = check_array("generated", generated, ndim=(2, 3))
    r = check_array("real", real, ndim=(1, 2, 3))
    if r.ndim == g.ndim - 1:
        r = r[None]
    if r.ndim != g.ndim:
        raise ValueError(f"real must have shape (R, m{', d' if g.ndim == 3 else ''}) or "
                         f"(m{', d' if g.ndim == 3 else ''}) to match generated {g.shape}, got {r.shape}")
    if r.shape[0] not in (1, g.shape[0]):
        raise ValueError(f"real holds {r.shape[0]} chains but generated holds {g.shape[0]}")
    if g.shape[1] < 1 or r.shape[1] < 2:
        raise ValueError("generated needs >= 1 and real >= 2 samples per chain")
    if g.ndim == 3:
        if side == "lower":
            raise ValueError("side='lower' has no meaning for d-dimensional data (radial tails)")
        if r.shape[2] != g.shape[2]:
            raise ValueError(f"real and generated must have the same dimension, got "
                             f"{r.shape[2]} and {g.shape[2]}")
        d = g.shape[2]
        if r.shape[1] <= d + 1:
            raise ValueError(f"real needs more than d + 1 = {d + 1} samples per chain for a "
                             "leave-one-out covariance")
        mu = r.mean(axis=1, keepdims=True)
        dev = r - mu
        cov = np.einsum("rni,rnj->rij", dev, dev) / (r.shape[1] - 1)
        Lc = np.linalg.cholesky(cov + 1e-12 * np.eye(d))
        def radius2(a):  # squared Mahalanobis radius |L^-1 (a - mu)|^2
            w = np.linalg.solve(Lc, np.swapaxes(a - mu, 1, 2))
            return np.sum(w * w, axis=1)
        m = r.shape[1]
        # each real point's radius w.r.t. the mean and covariance of the *other* m - 1 points
        # (Sherman-Morrison), so that real and generated radii are both out of sample
        g_lev = radius2(r) / (m - 1)
        with np.errstate(divide="ignore"):
            rr = (m / (m - 1)) ** 2 * (m - 2) * g_lev / np.maximum(1 - m / (m - 1) * g_lev, 0.0)
        hi = np.quantile(rr, 1 - level, axis=1, method="weibull")
        return np.mean(radius2(g) > hi[:, None], axis=1) / level
    # the Weibull plotting position p (m + 1) makes E F(q_hat) = p exactly for continuous data
    lo_q = np.quantile(r, level, axis=1, method="weibull")[:, None]
    hi_q = np.quantile(r, 1 - level, axis=1, method="weibull")[:, None]
    lower = np.mean(g < lo_q, axis=1)
    upper = np.mean(g > hi_q, axis=1)
    if side == "lower":
        return lower / level
    if side == "upper":
        return upper / level
    return (lower + upper) / (2 * level)


def _labels(name, a, num_categories):
    arr = np.asarray(a)
    if arr.dtype.kind not in "iu":
        f = check_array(name, arr)
        if np.any(f != np.round(f)):
            raise ValueError(f"{name} must hold integer category labels")
        arr = f.astype(np.int64)
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must have shape (R, n) or (n,), got {arr.shape}")
    if arr.size and (arr.min() < 0 or arr.max() >= num_categories):
        raise ValueError(f"{name} must hold labels in 0..{num_categories - 1}")
    return arr.astype(np.int64)


def category_counts(labels, num_categories: int) -> np.ndarray:
    """Counts (R, K) of integer labels (R, n) in 0..K-1, chain by chain (one bincount)."""
    K = check_int("num_categories", num_categories, minimum=1)
    lab = _labels("labels", labels, K)
    R = lab.shape[0]
    check_size(f"num_categories={K} for {R} chains", float(R) * K)
    flat = (lab + K * np.arange(R)[:, None]).ravel()
    return np.bincount(flat, minlength=R * K).reshape(R, K)


def rare_category_coverage(generated, real, num_categories: int, threshold: float = 0.01) -> np.ndarray:
    """Share of the real data's *rare* categories that appear at least once in the generated
    sample, chain by chain.

    A category is rare in a chain if its relative frequency in the held-out real labels
    ``real`` ((R, m) or (m,)) is positive and at most ``threshold``.  ``generated`` holds integer
    labels (R, n).  Plain integer arrays, so any categorical model can be monitored.  Raises
    if some chain has no rare category (raise ``threshold``).  Returns (R,).  Chapter 12.
    """
    K = check_int("num_categories", num_categories, minimum=1)
    threshold = check_fraction("threshold", threshold)
    g = category_counts(_labels("generated", generated, K), K)
    r = category_counts(_labels("real", real, K), K)
    if r.shape[0] not in (1, g.shape[0]):
        raise ValueError(f"real holds {r.shape[0]} chains but generated holds {g.shape[0]}")
    freq = r / r.sum(axis=1, keepdims=True)
    rare = (freq > 0) & (freq <= threshold)
    rare = np.broadcast_to(rare, g.shape)
    n_rare = rare.sum(axis=1)
    if np.any(n_rare == 0):
        raise ValueError(f"threshold={threshold:g} leaves some chain with no rare category in "
                         "the real data; raise it")
    return np.sum(rare & (g > 0), axis=1) / n_rare


# ---------------------------------------------------------------------------------------------
# the contraction factor, online
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContractionEstimate:
    """Online least-squares fit of d_t = eps + kappa d_(t-1) + noise.

    ``kappa``, ``eps`` and ``se`` (the usual OLS standard error of kappa) have the shape of the
    input sequence, (T + 1, R) or (T + 1,); entry t uses only generations up to t.  Entries are
    NaN where the fit is not yet defined (too few generations observed, or a constant window)."""

    kappa: np.ndarray
    eps: np.ndarray
    se: np.ndarray
    window: int | None


def _fit_from_moments(k, mx, my, cxx, cxy, cyy):
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = cxx > 1e-300 * np.maximum(1.0, mx**2)
        kappa = np.where(ok, cxy / cxx, np.nan)
        eps = my - kappa * mx
        rss = np.maximum(cyy - kappa * cxy, 0.0)
        se = np.where(ok & (k > 2), np.sqrt(rss / np.maximum(k - 2, 1) / cxx), np.nan)
    return kappa, eps, se


def contraction_estimate(d, window: int | None = 10, min_points: int = 3) -> ContractionEstimate:
    """Estimate the contraction factor kappa of d_t ~ eps + kappa d_(t-1) from a chain's own
    monitored divergence sequence, online (estimate t uses generations 0..t only).

    ``d`` is (T + 1, R) (or (T + 1,)).  With ``window`` = w the fit at generation t uses the
    last w pairs (d_(s-1), d_s), s = t-w+1..t, and is defined from t = w on; with
    ``window=None`` it uses every pair so far (an expanding window, updated by Welford's
    recursions) and is defined from t = ``min_points`` on (NaN before).  Needs at least 3 pairs
    for a standard error.

    The intercept is eps and the slope kappa (chapter 8's contraction recursion).  Applied to a
    *squared* divergence such as MMD^2, whose expectation contracts by kappa^2 per generation,
    the slope estimates kappa^2; either way "slope >= 1" means the loop no longer contracts.
    Noise in the monitored divergence (the monitor's own sampling error) biases the slope
    towards 0 (errors in variables), so a small slope on a stable chain is expected.
    """
    arr = check_array("d", d, ndim=(1, 2), nonempty=True)
    min_points = check_int("min_points", min_points, minimum=3)
    one = arr.ndim == 1
    if one:
        arr = arr[:, None]
    T = arr.shape[0] - 1
    shape = arr.shape
    kappa, eps, se = (np.full(shape, np.nan) for _ in range(3))
    if window is not None:
        w = check_int("window", window, minimum=3)
        if T < w:
            raise ValueError(f"window={w} needs at least {w + 1} generations, got {T + 1}")
        x = sliding_window_view(arr[:-1], w, axis=0)   # (T - w + 1, R, w)
        y = sliding_window_view(arr[1:], w, axis=0)
        mx, my = x.mean(axis=2), y.mean(axis=2)
        xc, yc = x - mx[..., None], y - my[..., None]
        cxx, cxy, cyy = (xc * xc).sum(2), (xc * yc).sum(2), (yc * yc).sum(2)
        k_, e_, s_ = _fit_from_moments(w, mx, my, cxx, cxy, cyy)
        kappa[w:], eps[w:], se[w:] = k_, e_, s_
    else:
        min_points = check_int("min_points", min_points, minimum=3)
        if T < min_points:
            raise ValueError(f"d must hold at least {min_points + 1} generations, got {T + 1}")
        R = arr.shape[1]
        mx, my, cxx, cxy, cyy = (np.zeros(R) for _ in range(5))
        for t in range(1, T + 1):
            xt, yt = arr[t - 1], arr[t]
            dx = xt - mx
            mx = mx + dx / t
            dy = yt - my
            my = my + dy / t
            cxx = cxx + dx * (xt - mx)
            cxy = cxy + dx * (yt - my)
            cyy = cyy + dy * (yt - my)
            if t >= min_points:
                kappa[t], eps[t], se[t] = _fit_from_moments(t, mx, my, cxx, cxy, cyy)
        w = None
    if one:
        kappa, eps, se = kappa[:, 0], eps[:, 0], se[:, 0]
    return ContractionEstimate(kappa, eps, se, w)


# ---------------------------------------------------------------------------------------------
# early warning
# ---------------------------------------------------------------------------------------------


def _divergences(divergences, name: str = "divergences") -> np.ndarray:
    d = check_array(name, divergences, ndim=(1, 2), nonempty=True)
    return d[:, None] if d.ndim == 1 else d


def _first_run(exceed: np.ndarray, m: int) -> np.ndarray:
    """First generation (axis 0) ending a run of m True values, -1 if none; (R,)."""
    T1, R = exceed.shape
    run = np.zeros(R, dtype=np.int64)
    alarm = np.full(R, -1, dtype=np.int64)
    for t in range(T1):
        run = np.where(exceed[t], run + 1, 0)
        new = (run >= m) & (alarm < 0)
        alarm[new] = t
    return alarm


def early_warning(divergences, threshold, consecutive: int = 1, start: int = 1) -> np.ndarray:
    """The alarm rule of chapter 12: raise "unstable: inject fresh data" at the first
    generation t >= ``start`` + ``consecutive`` - 1 at which the monitored divergence has
    exceeded ``threshold`` for ``consecutive`` generations in a row (from ``start`` on).

    ``divergences`` (T + 1, R) or (T + 1,) (generation on axis 0, e.g. MMD^2 to a held-out real
    set); ``threshold`` a scalar or one value per generation (T + 1,).  Returns the alarm
    generation per chain, shape (R,), with -1 where no alarm is raised.  Choose the threshold
    with :func:`calibrate_threshold`.  The false-alarm probability under independence is
    :func:`collapselab.theory.monitoring.run_alarm_probability` ({prf:ref}`prop-12-run-alarm`).
    """
    d = _divergences(divergences)
    m = check_int("consecutive", consecutive, minimum=1)
    start = check_int("start", start, minimum=0)
    thr = check_array("threshold", threshold, ndim=(0, 1))
    if thr.ndim == 1:
        if thr.shape[0] != d.shape[0]:
            raise ValueError(f"threshold must be a scalar or have one value per generation "
                             f"({d.shape[0]}), got {thr.shape}")
        thr = thr[:, None]
    exceed = d > thr
    exceed[:start] = False
    return _first_run(exceed, m)


def alarm_statistic(divergences, consecutive: int = 1, start: int = 1) -> np.ndarray:
    """Per chain, the statistic S such that :func:`early_warning` with a scalar threshold c
    raises an alarm on the chain exactly when S > c:

        S = max over t of min(d_(t-m+1), ..., d_t),

    over runs of m = ``consecutive`` generations starting at ``start`` or later.  Returns (R,)."""
    d = _divergences(divergences)
    m = check_int("consecutive", consecutive, minimum=1)
    start = check_int("start", start, minimum=0)
    d = d[start:]
    if d.shape[0] < m:
        raise ValueError(f"consecutive={m} needs at least {m} monitored generations of "
                         f"divergences from start={start}, got {d.shape[0]}")
    runs = sliding_window_view(d, m, axis=0).min(axis=2)   # (T' - m + 1, R)
    return runs.max(axis=0)


def calibrate_threshold(stable_divergences, false_alarm: float = 0.05, consecutive: int = 1,
                        start: int = 1) -> float:
    """Threshold for :func:`early_warning` from R chains known to be stable (all real data, or
    mix with a large real fraction), so that a new stable chain raises a false alarm over the
    same horizon with probability at most ``false_alarm`` ({prf:ref}`thm-12-calibration`).

    It is the k-th smallest of the R per-chain :func:`alarm_statistic` values with
    k = ceil((1 - false_alarm)(R + 1)); needs R >= 1/false_alarm - 1 chains.  For continuous
    statistics the false-alarm probability is then between false_alarm - 1/(R+1) and
    false_alarm."""
    a = check_real("false_alarm", false_alarm, minimum=0.0, maximum=1.0, strict_min=True)
    S = alarm_statistic(_divergences(stable_divergences, "stable_divergences"), consecutive, start)
    R = S.shape[0]
    k = math.ceil((1 - a) * (R + 1) - 1e-12)
    if k > R:
        raise ValueError(f"false_alarm={a:g} needs at least {math.ceil(1 / a - 1)} stable chains "
                         f"to calibrate, got {R}")
    if k < 1:
        return float(-np.inf)
    return float(np.sort(S)[k - 1])


def kappa_warning(divergences, window: int = 10, z: float = 2.0, consecutive: int = 1,
                  start: int = 1) -> np.ndarray:
    """Alarm when the online contraction estimate exceeds 1 with some confidence: the first
    generation at which kappa_hat - z * se > 1 (:func:`contraction_estimate` with ``window``)
    for ``consecutive`` generations in a row.  Returns (R,) alarm generations, -1 for none."""
    z = check_real("z", z, minimum=0.0)
    m = check_int("consecutive", consecutive, minimum=1)
    start = check_int("start", start, minimum=0)
    d = _divergences(divergences)
    if d.shape[0] < 2:
        raise ValueError(f"divergences must hold at least two generations, got {d.shape[0]}")
    est = contraction_estimate(d, window=window)
    with np.errstate(invalid="ignore"):
        exceed = (est.kappa - z * est.se) > 1.0   # NaN compares False: no alarm before w
    exceed[:start] = False
    return _first_run(exceed, m)


def summarize_alarms(alarms, onset: int = 0) -> dict:
    """Plain-float summary of alarm generations (R,) (-1 = none): ``rate`` (share of chains
    alarmed), ``early`` (share alarmed before ``onset``), and among chains alarmed at or after
    ``onset`` the ``median_delay`` and ``mean_delay`` (alarm - onset; NaN if none)."""
    a = np.asarray(alarms)
    if a.ndim != 1 or a.dtype.kind not in "iu":
        raise ValueError("alarms must be a 1-D integer array of alarm generations (-1 = none)")
    onset = check_int("onset", onset, minimum=0)
    hit = a >= 0
    late = a >= onset
    delays = (a[late] - onset).astype(float)
    return {"rate": float(hit.mean()), "early": float(np.mean(hit & ~late)),
            "detected": float(late.mean()),
            "median_delay": float(np.median(delays)) if delays.size else float("nan"),
            "mean_delay": float(delays.mean()) if delays.size else float("nan")}


# ---------------------------------------------------------------------------------------------
# samples of a recorded trajectory
# ---------------------------------------------------------------------------------------------


def _check_trajectory(trajectory):
    from .loop import Trajectory
    if not isinstance(trajectory, Trajectory):
        raise ValueError(f"trajectory must be a Trajectory (from run_loop), got {type(trajectory).__name__}")
    gens = np.asarray(trajectory.generations)
    if gens.ndim != 1 or gens.size < 1 or gens.dtype.kind not in "iu" or np.any(gens < 0):
        raise ValueError("trajectory.generations must be a non-empty 1-D array of non-negative integers")


def params_at(model, trajectory, index: int):
    """Rebuild the parameters of recorded generation ``trajectory.generations[index]``.

    Works for models whose ``record`` returns the fields of their parameter class (read from
    ``trajectory.final``): :class:`~collapselab.models.gaussian.Gaussian1D` (mean, var),
    :class:`~collapselab.models.gaussian.GaussianMV` (mean, cov), the known-variance and
    tempered 1-D Gaussians, the Gaussian mixture (weights, means, vars), and models whose parameters are a
    plain array recorded as ``probs`` (the categorical model with ``keep="probs"``).  Other
    models (e.g. the KDE, whose record holds summaries only) raise a ValueError."""
    check_model("model", model)
    _check_trajectory(trajectory)
    if trajectory.final is None or not trajectory.records:
        raise ValueError("trajectory must be run with record=True")
    G = len(trajectory.generations)
    index = check_int("index", index, minimum=-G, maximum=G - 1)
    rec = {k: v[index] for k, v in trajectory.records.items()}
    final = trajectory.final
    if dataclasses.is_dataclass(final):
        kwargs = {}
        for f in dataclasses.fields(final):
            if f.name in rec:
                kwargs[f.name] = rec[f.name]
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ValueError(f"model {model!r} does not record the parameter field "
                                 f"{f.name!r}; cannot rebuild its parameters from the trajectory")
        return type(final)(**kwargs)
    if isinstance(final, np.ndarray) and "probs" in rec:
        return rec["probs"]
    raise ValueError(f"cannot rebuild parameters of {model!r} from its records "
                     f"{sorted(rec)}; record the parameters themselves")


def samples_per_generation(model, trajectory, n: int, rng=None, generations=None) -> np.ndarray:
    """n samples from every recorded generation's model, for every chain.

    Returns an array (G, R, n, ...) (G recorded generations, or the indices ``generations`` of
    ``trajectory.generations``), drawn as the loop draws them (through the run's synthetic
    sampler; the truth with ``model.sample``).  See :func:`params_at` for the models that work.
    For long runs prefer :func:`monitor`, which never holds all samples."""
    check_model("model", model)
    _check_trajectory(trajectory)
    n = check_int("n", n, minimum=1)
    rng = as_rng(rng, "rng")
    idx = range(len(trajectory.generations)) if generations is None else generations
    return np.stack([np.asarray(_generate(model, trajectory, i, n, rng)) for i in idx])


def _generate(model, trajectory, i, n, rng):
    """n samples of recorded generation i's model, through the run's synthetic sampler."""
    from .sources import sample_generation
    return sample_generation(model, params_at(model, trajectory, i), n, rng,
                             generation=int(trajectory.generations[i]),
                             synthetic=getattr(trajectory, "synthetic", None))


def monitor(model, trajectory, real, n: int, rng=None,
            statistic: Callable[..., np.ndarray] | None = None, **kwargs) -> np.ndarray:
    """Monitor a recorded trajectory from samples only: at every recorded generation draw n
    samples per chain from the model and compute ``statistic(generated, real, **kwargs)``
    (default :func:`mmd2`) against the held-out ``real`` data ((R, m, ...) or (1, m, ...)).
    Returns (G, R) with the generation on axis 0, like a trajectory's metrics."""
    check_model("model", model)
    _check_trajectory(trajectory)
    n = check_int("n", n, minimum=1)
    _as_batch("real", real)  # validated here; the statistic gets it as given
    rng = as_rng(rng, "rng")
    statistic = mmd2 if statistic is None else statistic
    out = []
    for i in range(len(trajectory.generations)):
        g = np.asarray(_generate(model, trajectory, i, n, rng))
        v = np.asarray(statistic(g, real, **kwargs), dtype=float)
        if v.shape != (g.shape[0],):
            raise ValueError(f"statistic must return shape ({g.shape[0]},), got {v.shape}")
        out.append(v)
    return np.stack(out)


def monitor_mmd(model, trajectory, real, n: int, rng=None, bandwidth=None) -> np.ndarray:
    """MMD^2 (:func:`mmd2`) between n samples of every recorded generation's model and the
    held-out ``real`` data ((R, m[, d]) or (1, m[, d])), for every chain: shape (G, R).

    The bandwidth is the same at every generation: ``bandwidth``, or by default the median
    heuristic of the real data alone (:func:`median_heuristic`), so the sequence tracks one
    fixed divergence.  The real-real kernel term is computed once.  Chapter 12."""
    check_model("model", model)
    _check_trajectory(trajectory)
    n = check_int("n", n, minimum=1)
    rng = as_rng(rng, "rng")
    y = _as_batch("real", real)
    R = trajectory.replicates
    if y.shape[0] not in (1, R):
        raise ValueError(f"real holds {y.shape[0]} chains but the trajectory has {R}")
    h = median_heuristic(y) if bandwidth is None else _bandwidth(bandwidth, y.shape[0])
    h = np.broadcast_to(h, (R,)).astype(float)
    m = y.shape[1]
    step = _chunk(R, 2 * (n * n + n * m + m * m))
    yy = np.empty(R)
    for lo in range(0, R, step):
        hi = min(R, lo + step)
        yy[lo:hi] = _kernel_mean(_sqdist(_rows(y, lo, hi)), h[lo:hi], True)
    out = np.empty((len(trajectory.generations), R))
    for i in range(len(trajectory.generations)):
        g = np.asarray(_generate(model, trajectory, i, n, rng))
        x = _as_batch("generated", g)
        if x.shape[0] != R or x.shape[2] != y.shape[2]:
            raise ValueError(f"samples of shape {g.shape} do not match real data {y.shape}")
        for lo in range(0, R, step):
            hi = min(R, lo + step)
            out[i, lo:hi] = _mmd2_blocks(x[lo:hi], _rows(y, lo, hi), h[lo:hi], yy[lo:hi])
    return out
