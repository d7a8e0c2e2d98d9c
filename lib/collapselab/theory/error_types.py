"""What kind of error is safe: biased samplers of a categorical model (chapter 11).

The samplers of :mod:`collapselab.models.sampling_bias` draw from a *distorted* version S(p) of
the fitted probabilities p:

* temperature ``tau``:   T_tau(p) = p^(1/tau) / Z         (tau < 1 sharpens, tau > 1 flattens);
* top-k:                 keep the k most probable categories, renormalise;
* top-p (nucleus):       keep the smallest set of most probable categories whose mass reaches
                         ``top_p``, renormalise.

This module holds the *population maps* (the n -> infinity limit of one generation, where the
refitted model equals the distribution it was trained on) and the closed forms and bounds of
chapter 11:

* :func:`temper` and :func:`iterate_temper`: T_tau o T_sigma = T_(tau sigma), so the replace
  trajectory is p_t = T_(tau^(t-1))(p*) ({prf:ref}`thm-11-temper`);
* :func:`entropy` of tempered laws is monotone in 1/tau; the fixed points of T_tau are the
  uniform laws on subsets ({prf:ref}`thm-11-temper`);
* :func:`truncate_top_k`, :func:`truncate_top_p`, :func:`nucleus_limit` ({prf:ref}`prop-11-truncation`);
* :func:`population_trajectory` under any schedule and :func:`mix_fixed_point` under
  ``mix(alpha)``, with the identity TV(p_bar, p*) = (1 - alpha) TV(S(p_bar), p*), the
  first-order formula :func:`first_order_tv` and the closed form :func:`top_k_mix_fixed_point`
  ({prf:ref}`thm-11-mix`);
* :func:`mix_stability_radius`, :func:`two_category_fixed_points` and
  :func:`uniform_critical_tau` (the pitchfork of {prf:ref}`thm-11-pitchfork`);
* :func:`loss_probability_bound` (finite samples, {prf:ref}`thm-11-finite`);
* :func:`gaussian_precision_recall`, an interval analogue of precision and recall for the
  tempered Gaussian of chapter 8, used to replay the experiments of Alemohammad et al. (2024).

Everything is checked in ``tests/test_error_types.py``.
"""
from __future__ import annotations

import numbers

import numpy as np
from scipy import optimize
from scipy.special import ndtr

from .._validate import check_array, check_count, check_fraction, check_int, check_real, check_size, simplex_tolerance

_SUM_TOL = 1e-8


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------
def _probs(name: str, p, ndim=None) -> np.ndarray:
    """Probability vectors along the last axis: finite, non-negative, summing to one (tolerance
    suited to the dtype: float32 vectors are accepted and renormalised in float64)."""
    src = getattr(p, "dtype", np.dtype(float))
    p = check_array(name, p, ndim=ndim)
    if p.ndim == 0 or p.shape[-1] < 1:
        raise ValueError(f"{name} must hold probability vectors along its last axis, got shape {p.shape}")
    if np.any(p < 0):
        raise ValueError(f"{name} must be non-negative")
    total = p.sum(axis=-1)
    tol = simplex_tolerance(src if np.issubdtype(np.dtype(src), np.floating) else float, p.shape[-1])
    if np.any(np.abs(total - 1.0) > tol):
        raise ValueError(f"{name} must sum to 1 along the last axis (tolerance {tol:.2g})")
    if np.dtype(src) != np.float64:
        p = p / p.sum(axis=-1, keepdims=True)
    return p


def check_tau(tau) -> float:
    """A temperature: a finite real number > 0."""
    return check_real("tau", tau, minimum=0.0, strict_min=True)


def check_top_k(top_k, K: int | None = None):
    """None (no truncation) or an integer 1 <= k <= K."""
    if top_k is None:
        return None
    return check_int("top_k", top_k, minimum=1, maximum=K)


def check_top_p(top_p):
    """None (no truncation) or a real number in (0, 1]."""
    if top_p is None:
        return None
    return check_real("top_p", top_p, minimum=0.0, maximum=1.0, strict_min=True)


def _tau_array(tau) -> np.ndarray:
    if isinstance(tau, numbers.Real) and not isinstance(tau, bool):
        return np.asarray(check_tau(tau))
    tau = check_array("tau", tau)
    if np.any(tau <= 0):
        raise ValueError("tau must be > 0")
    return tau


# --------------------------------------------------------------------------------------------
# the sampling maps
# --------------------------------------------------------------------------------------------
def _temper_beta(p: np.ndarray, beta) -> np.ndarray:
    """p^beta / Z along the last axis for beta in [0, inf] (broadcast against p[..., 0]).

    Computed in log space relative to each row's maximum, so neither beta -> inf (the uniform
    law on the argmax set) nor beta -> 0 (the uniform law on the support) overflows.  Zero
    entries stay exactly zero."""
    beta = np.asarray(beta, dtype=float)[..., None]
    pos = p > 0
    with np.errstate(divide="ignore"):
        logp = np.log(p)
    top = logp.max(axis=-1, keepdims=True)
    diff = logp - top
    with np.errstate(invalid="ignore", over="ignore"):
        z = np.where(diff == 0.0, 0.0, diff * beta)
    z = np.where(pos, z, -np.inf)
    w = np.exp(z)
    return w / w.sum(axis=-1, keepdims=True)


def temper(p, tau) -> np.ndarray:
    """T_tau(p) = p^(1/tau) / sum_k p_k^(1/tau), along the last axis.

    ``tau`` may be an array broadcasting against ``p[..., 0]``.  tau = 1 returns p unchanged
    (a copy).  Zero probabilities stay zero.  Chapter 11, {prf:ref}`def-11-samplers`."""
    p = _probs("p", p)
    tau = _tau_array(tau)
    if np.all(tau == 1.0):
        return p.copy()
    return _temper_beta(p, 1.0 / tau)


def iterate_temper(p, tau, steps: int) -> np.ndarray:
    """T_tau applied ``steps`` times: T_tau^s = T_(tau^s), in closed form ({prf:ref}`thm-11-temper`).

    Exact for any s, including the limits: for tau < 1 the result tends to the uniform law on
    the categories of maximal probability, for tau > 1 to the uniform law on the support."""
    p = _probs("p", p)
    tau = check_tau(tau)
    steps = check_int("steps", steps, minimum=0)
    if steps == 0 or tau == 1.0:
        return p.copy()
    with np.errstate(over="ignore", under="ignore"):
        beta = float(np.exp(-steps * np.log(tau)))     # tau^(-s), may be 0 or inf
    return _temper_beta(p, beta)


def _ranks(p: np.ndarray) -> np.ndarray:
    """Rank of each category in decreasing probability (0 = most probable); ties by index."""
    order = np.argsort(-p, axis=-1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.broadcast_to(np.arange(p.shape[-1]), p.shape), axis=-1)
    return ranks


def _renormalise(q: np.ndarray) -> np.ndarray:
    return q / q.sum(axis=-1, keepdims=True)


def truncate_top_k(p, k: int) -> np.ndarray:
    """Keep the k most probable categories (ties broken by index) and renormalise.

    If fewer than k categories have positive probability, all of them are kept.  k >= K
    returns p unchanged (a copy).  Chapter 11, {prf:ref}`def-11-samplers`."""
    p = _probs("p", p)
    k = check_int("top_k", k, minimum=1)
    if k >= p.shape[-1]:
        return p.copy()
    return _renormalise(np.where(_ranks(p) < k, p, 0.0))


def nucleus_mask(p, top_p: float) -> np.ndarray:
    """Boolean mask of the nucleus: category k is kept iff the mass of the categories ranked
    strictly before it is < top_p (ties broken by index), and p_k > 0.

    The kept set is the smallest prefix of the ranking whose mass reaches top_p, the
    convention of Holtzman et al. (2020) and of common language-model libraries."""
    if top_p is None:
        raise ValueError("top_p must be a real number in (0, 1], got None")
    p = _probs("p", p)
    top_p = check_top_p(top_p)
    order = np.argsort(-p, axis=-1, kind="stable")
    ps = np.take_along_axis(p, order, axis=-1)
    before = np.cumsum(ps, axis=-1) - ps
    keep_sorted = (before < top_p) & (ps > 0)
    keep_sorted[..., 0] |= ps[..., 0] > 0
    mask = np.empty_like(keep_sorted)
    np.put_along_axis(mask, order, keep_sorted, axis=-1)
    return mask


def truncate_top_p(p, top_p: float) -> np.ndarray:
    """Nucleus (top-p) truncation: keep :func:`nucleus_mask` and renormalise.

    top_p = 1 returns p unchanged (a copy).  The discarded mass is at most 1 - top_p.
    Chapter 11, {prf:ref}`def-11-samplers`."""
    if top_p is None:
        raise ValueError("top_p must be a real number in (0, 1], got None")
    p = _probs("p", p)
    top_p = check_top_p(top_p)
    if top_p == 1.0:
        return p.copy()
    return _renormalise(np.where(nucleus_mask(p, top_p), p, 0.0))


def sampling_distribution(p, tau=1.0, top_k: int | None = None, top_p: float | None = None) -> np.ndarray:
    """S(p): temperature first, then top-k, then top-p (the order of common LLM samplers).

    With tau = 1, top_k None (or K) and top_p None (or 1) it returns p unchanged (a copy), so
    the biased model reduces *exactly* to the plain one ({prf:ref}`def-11-samplers`)."""
    p = _probs("p", p)
    top_k = check_top_k(top_k)
    top_p = check_top_p(top_p)
    q = temper(p, tau)
    if top_k is not None:
        q = truncate_top_k(q, top_k)
    if top_p is not None:
        q = truncate_top_p(q, top_p)
    return q


def entropy(p) -> np.ndarray:
    """Shannon entropy in nats, -sum_k p_k log p_k (0 log 0 = 0), along the last axis."""
    p = _probs("p", p)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    return np.maximum(-terms.sum(axis=-1), 0.0)


def total_variation(p, q) -> np.ndarray:
    """(1/2) sum_k |p_k - q_k| along the last axis (broadcast)."""
    p = _probs("p", p)
    q = _probs("q", q)
    if p.shape[-1] != q.shape[-1]:
        raise ValueError("p and q must have the same number of categories")
    return 0.5 * np.abs(p - q).sum(axis=-1)


def entropy_derivative(p, tau) -> np.ndarray:
    """d/dbeta H(T_(1/beta) p) at beta = 1/tau: equals -beta Var_q(log p) with q = T_tau(p)
    (<= 0; zero iff p is uniform on its support).  The identity behind the monotone entropy of
    {prf:ref}`thm-11-temper`."""
    p = _probs("p", p)
    tau = check_tau(tau)
    q = _temper_beta(p, 1.0 / tau)
    with np.errstate(divide="ignore"):
        logp = np.where(p > 0, np.log(np.where(p > 0, p, 1.0)), 0.0)
    m = (q * logp).sum(axis=-1, keepdims=True)
    var = (q * (logp - m) ** 2).sum(axis=-1)
    return -(1.0 / tau) * var


# --------------------------------------------------------------------------------------------
# population dynamics under a schedule
# --------------------------------------------------------------------------------------------
def population_trajectory(p_star, generations: int, schedule=None, tau=1.0,
                          top_k: int | None = None, top_p: float | None = None) -> np.ndarray:
    """The n -> infinity limit of the loop, p_t for t = 0..T, array (T+1, K).

    Follows the book's convention: model 0 is the truth and samples real data, so p_1 = p*;
    for t >= 2 a new batch is alpha p* + (1 - alpha) S(p_{t-1}) (all-real, = p*, on an
    injection generation) and under accumulate it is averaged with the t - 1 earlier batches:
    p_t = ((t - 1) p_{t-1} + batch_t) / t.  With a fixed real set (``fresh_real=False``) the
    population limit is the same.  ``schedule`` defaults to replace.
    ({prf:ref}`thm-11-temper`, {prf:ref}`prop-11-truncation`, {prf:ref}`thm-11-mix`)."""
    from ..schedules import Schedule, replace

    p_star = _probs("p_star", p_star, ndim=1)
    T = check_count("generations", generations, minimum=0)
    schedule = replace() if schedule is None else schedule
    if not isinstance(schedule, Schedule):
        raise ValueError(f"schedule must be a Schedule, got {schedule!r}")
    tau = check_tau(tau)
    top_k = check_top_k(top_k, p_star.shape[0])
    top_p = check_top_p(top_p)
    a = schedule.real_fraction
    out = np.empty((T + 1, p_star.shape[0]))
    out[0] = p_star
    for t in range(1, T + 1):
        if t == 1 or (schedule.inject_every is not None and t % schedule.inject_every == 0):
            batch = p_star
        else:
            batch = a * p_star + (1 - a) * sampling_distribution(out[t - 1], tau, top_k, top_p)
        out[t] = ((t - 1) * out[t - 1] + batch) / t if (schedule.accumulate and t > 1) else batch
        out[t] /= out[t].sum()
    return out


def mix_fixed_point(p_star, alpha, tau=1.0, top_k: int | None = None, top_p: float | None = None,
                    tol: float = 1e-13, max_iter: int = 100_000) -> dict:
    """The fixed point p_bar = alpha p* + (1 - alpha) S(p_bar) reached by iterating the population
    map of ``mix(alpha)`` from p* ({prf:ref}`thm-11-mix`).

    ``alpha`` and ``tau`` may be arrays (broadcast together): every grid point is iterated at
    once.  Returns a dict with ``probs`` (..., K), ``tv`` = TV(p_bar, p*), ``iterations`` and
    ``converged`` (max |change| < tol within ``max_iter`` steps; near a bifurcation the
    iteration slows down, so check it).  The iteration from p* stays on the fixed point that
    keeps the truth's ranking (for a uniform truth it never leaves the uniform law, stable
    or not: see {prf:ref}`thm-11-pitchfork`)."""
    p_star = _probs("p_star", p_star, ndim=1)
    alpha_arr = check_array("alpha", alpha)
    if np.any(alpha_arr < 0) or np.any(alpha_arr > 1):
        raise ValueError("alpha must lie in [0, 1]")
    tau_arr = _tau_array(tau)
    top_k = check_top_k(top_k, p_star.shape[0])
    top_p = check_top_p(top_p)
    tol = check_real("tol", tol, minimum=0.0, strict_min=True)
    max_iter = check_int("max_iter", max_iter, minimum=1)
    alpha_arr, tau_arr = np.broadcast_arrays(alpha_arr, tau_arr)
    shape = alpha_arr.shape
    a = alpha_arr.reshape(-1, 1)
    beta = 1.0 / tau_arr.reshape(-1)
    p = np.broadcast_to(p_star, (a.shape[0], p_star.shape[0])).copy()
    active = np.ones(a.shape[0], dtype=bool)
    iters = np.zeros(a.shape[0], dtype=int)
    for it in range(1, max_iter + 1):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        q = p[idx]
        s = q if np.all(beta[idx] == 1.0) else _temper_beta(q, beta[idx])
        if top_k is not None and top_k < p_star.shape[0]:
            s = _renormalise(np.where(_ranks(s) < top_k, s, 0.0))
        if top_p is not None and top_p < 1.0:
            s = _renormalise(np.where(nucleus_mask(s, top_p), s, 0.0))
        new = a[idx] * p_star + (1 - a[idx]) * s
        new /= new.sum(axis=-1, keepdims=True)
        change = np.abs(new - q).max(axis=-1)
        p[idx] = new
        iters[idx] = it
        active[idx[change < tol]] = False
    probs = p.reshape(shape + (p_star.shape[0],))
    return {"probs": probs, "tv": 0.5 * np.abs(probs - p_star).sum(axis=-1),
            "iterations": iters.reshape(shape), "converged": ~active.reshape(shape)}


def top_k_mix_fixed_point(p_star, alpha: float, k: int) -> dict:
    """Closed form of the top-k fixed point under ``mix(alpha)`` that keeps the truth's top k:
    with m* the truth's mass on its top-k set A and m = alpha m* + 1 - alpha,
    p_bar = (m / m*) p* on A and alpha p* off A, so TV(p_bar, p*) = (1 - alpha)(1 - m*).
    ({prf:ref}`thm-11-mix`).  alpha = 0 gives the one-step truncation of the replace loop."""
    p_star = _probs("p_star", p_star, ndim=1)
    alpha = check_fraction("alpha", alpha)
    k = check_int("top_k", k, minimum=1, maximum=p_star.shape[0])
    keep = _ranks(p_star) < k
    m_star = float(p_star[keep].sum())
    m = alpha * m_star + 1 - alpha
    probs = np.where(keep, p_star * m / m_star, alpha * p_star)
    return {"probs": probs, "tv": float((1 - alpha) * (1 - m_star)), "kept_mass": m_star}


def nucleus_limit(p_star, top_p: float, max_steps: int = 10_000) -> dict:
    """The replace loop's population limit under top-p: iterate the nucleus map from p*.

    Each step keeps a prefix of the truth's ranking; it stops after finitely many steps at a
    set S whose least probable member carries more than (1 - top_p) of p*(S), so
    |S| < 1 / (1 - top_p) ({prf:ref}`prop-11-truncation`).  Returns ``probs`` (the limit),
    ``support`` (its size), ``steps`` (the first step after which nothing changes) and
    ``sizes`` (support size after each step, starting with p*'s)."""
    if top_p is None:
        raise ValueError("top_p must be a real number in (0, 1], got None")
    p_star = _probs("p_star", p_star, ndim=1)
    top_p = check_top_p(top_p)
    max_steps = check_int("max_steps", max_steps, minimum=1)
    p = p_star.copy()
    sizes = [int(np.count_nonzero(p))]
    for step in range(1, max_steps + 1):
        q = truncate_top_p(p, top_p)
        sizes.append(int(np.count_nonzero(q)))
        if sizes[-1] == sizes[-2]:
            return {"probs": q, "support": sizes[-1], "steps": step - 1, "sizes": np.array(sizes[:-1])}
        p = q
    raise RuntimeError("the nucleus map did not settle within max_steps")  # pragma: no cover


def first_order_tv(p_star, tau, alpha) -> np.ndarray:
    """First-order (in 1/tau - 1) distance of the mix fixed point from the truth:
    TV(p_bar, p*) ~ ((1 - alpha) / alpha) |1/tau - 1| (1/2) sum_k p*_k |log p*_k + H(p*)|.

    From T_tau(p) = p + (1/tau - 1) p (log p + H(p)) + O((1/tau - 1)^2) ({prf:ref}`thm-11-mix`).
    Symmetric in 1/tau - 1: to first order a cold and a hot sampler cost the same distance.
    ``tau`` and ``alpha`` broadcast; alpha must be > 0."""
    p_star = _probs("p_star", p_star, ndim=1)
    tau = _tau_array(tau)
    alpha = check_array("alpha", alpha)
    if np.any(alpha <= 0) or np.any(alpha > 1):
        raise ValueError("alpha must lie in (0, 1]")
    pos = p_star[p_star > 0]
    H = -np.sum(pos * np.log(pos))
    spread = 0.5 * np.sum(pos * np.abs(np.log(pos) + H))
    return (1 - alpha) / alpha * np.abs(1.0 / tau - 1.0) * spread


def tempering_jacobian(p, tau) -> np.ndarray:
    """Jacobian of T_tau at p (full support): J_ij = (1/tau) (q_i delta_ij - q_i q_j) / p_j.

    Its eigenvalues are real and >= 0; 0 belongs to the direction normal to the simplex."""
    p = _probs("p", p, ndim=1)
    if np.any(p <= 0):
        raise ValueError("p must have full support for the Jacobian")
    tau = check_tau(tau)
    q = _temper_beta(p, 1.0 / tau)
    return (np.diag(q) - np.outer(q, q)) / p[None, :] / tau


def mix_stability_radius(p_bar, alpha: float, tau: float) -> float:
    """(1 - alpha) times the largest eigenvalue of the Jacobian of T_tau at p_bar on the tangent
    space of the simplex: the fixed point p_bar of mix(alpha) is linearly stable iff < 1.

    For the uniform law the eigenvalue is 1/tau, so the radius is (1 - alpha)/tau
    ({prf:ref}`thm-11-pitchfork`)."""
    p_bar = _probs("p_bar", p_bar, ndim=1)
    alpha = check_fraction("alpha", alpha)
    tau = check_tau(tau)
    p = p_bar[p_bar > 0]
    q = _temper_beta(p, 1.0 / tau)
    s = 1.0 / np.sqrt(p)
    M = (np.diag(q) - np.outer(q, q)) * s[:, None] * s[None, :] / tau   # symmetric, similar to J
    return float((1 - alpha) * np.linalg.eigvalsh(M).max())


def uniform_critical_tau(alpha) -> float:
    """tau_c = 1 - alpha: the uniform truth is a linearly stable fixed point of the population
    map of mix(alpha) iff tau > 1 - alpha ({prf:ref}`thm-11-pitchfork`)."""
    return 1.0 - check_fraction("alpha", alpha)


def two_category_fixed_points(alpha: float, tau: float, x_star: float = 0.5, grid: int = 4001) -> np.ndarray:
    """All fixed points x in [0, 1] of F(x) = alpha x* + (1 - alpha) T_tau(x) for K = 2 (x the
    first category's probability), sorted; found by bracketing sign changes of F(x) - x on a
    grid and refining with Brent's method.  For x* = 1/2 there are three when tau < 1 - alpha
    and one otherwise ({prf:ref}`thm-11-pitchfork`)."""
    alpha = check_fraction("alpha", alpha)
    tau = check_tau(tau)
    x_star = check_fraction("x_star", x_star)
    grid = check_int("grid", grid, minimum=11)
    check_size(f"grid={grid}", 8.0 * grid)
    beta = 1.0 / tau

    def h(x):
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore"):
            u = beta * (np.log(x) - np.log1p(-x))       # tempered log-odds
        t = np.where(np.isfinite(u), 1.0 / (1.0 + np.exp(-np.clip(u, -700, 700))), (u > 0) * 1.0)
        return alpha * x_star + (1 - alpha) * t - x

    xs = np.linspace(0.0, 1.0, grid)
    hs = h(xs)
    roots = list(xs[hs == 0.0])
    for i in np.flatnonzero(np.sign(hs[:-1]) * np.sign(hs[1:]) < 0):
        roots.append(optimize.brentq(lambda x: float(h(x)), xs[i], xs[i + 1], xtol=1e-14))
    roots = np.unique(np.round(np.array(roots, dtype=float), 12))
    return roots


def two_category_map_slope(x, alpha: float, tau: float) -> np.ndarray:
    """F'(x) = (1 - alpha) (1/tau) q (1 - q) / (x (1 - x)), q = T_tau(x), for K = 2 (0 < x < 1)."""
    x = check_array("x", x)
    if np.any(x <= 0) or np.any(x >= 1):
        raise ValueError("x must lie in (0, 1)")
    alpha = check_fraction("alpha", alpha)
    tau = check_tau(tau)
    beta = 1.0 / tau
    u = beta * (np.log(x) - np.log1p(-x))
    q = 1.0 / (1.0 + np.exp(-u))
    return (1 - alpha) * beta * q * (1 - q) / (x * (1 - x))


# --------------------------------------------------------------------------------------------
# finite samples
# --------------------------------------------------------------------------------------------
def loss_probability_bound(n: int, surviving: int, tau: float) -> float:
    """Upper bound on P(the next generation loses at least one of its s surviving categories)
    under replace with a tempered sampler, tau >= 1 and a maximum-likelihood fit to n points:
    s exp(-(n / s)^(1 - 1/tau)) (capped at 1).  tau = inf gives s exp(-n/s).
    ({prf:ref}`thm-11-finite`)."""
    n = check_int("n", n, minimum=1)
    s = check_int("surviving", surviving, minimum=1)
    if isinstance(tau, (bool, np.bool_)) or not isinstance(tau, (int, float, np.integer, np.floating)) \
            or np.isnan(tau):
        raise ValueError(f"tau must be a real number >= 1 (or inf), got {tau!r}")
    tau = float(tau)
    if not (tau >= 1.0):
        raise ValueError(f"tau must be >= 1 for this bound, got {tau}")
    if s == 1:
        return 0.0
    expo = 1.0 - 1.0 / tau if np.isfinite(tau) else 1.0
    return float(min(1.0, s * np.exp(-((n / s) ** expo))))


# --------------------------------------------------------------------------------------------
# the Gaussian analogue (Alemohammad et al. 2024, on the tempered Gaussian of chapter 8)
# --------------------------------------------------------------------------------------------
def gaussian_precision_recall(mean, var, mu: float = 0.0, sigma2: float = 1.0, z: float = 1.96):
    """Interval analogues of precision (quality) and recall (diversity) of a 1-D normal sampler
    N(mean, var) against the truth N(mu, sigma2):

    precision = P_{x ~ model}(|x - mu| <= z sigma)       (samples that look real),
    recall    = P_{x ~ truth}(|x - mean| <= z sqrt(var))  (real points the model covers).

    Both equal 2 Phi(z) - 1 (0.95 for z = 1.96) when the model is the truth.  Arrays broadcast;
    var = 0 gives recall 0 and precision 1 or 0.  Used in chapter 11 to replay the fully
    synthetic, synthetic-augmentation and fresh-data loops of Alemohammad et al. (2024)."""
    mean = check_array("mean", mean)
    var = check_array("var", var, nonnegative=True)
    mu = check_real("mu", mu)
    sigma2 = check_real("sigma2", sigma2, minimum=0.0, strict_min=True)
    z = check_real("z", z, minimum=0.0, strict_min=True)
    sigma = np.sqrt(sigma2)
    sd = np.sqrt(var)
    lo, hi = mu - z * sigma, mu + z * sigma
    with np.errstate(divide="ignore", invalid="ignore"):
        prec = np.where(sd > 0, ndtr((hi - mean) / np.where(sd > 0, sd, 1)) - ndtr((lo - mean) / np.where(sd > 0, sd, 1)),
                        ((mean >= lo) & (mean <= hi)).astype(float))
    rec = ndtr((mean + z * sd - mu) / sigma) - ndtr((mean - z * sd - mu) / sigma)
    return prec, rec


def gaussian_w2sq_all_real(n, ddof: int = 1, sigma2: float = 1.0):
    """E W2^2 between the truth N(mu, sigma2) and a normal fitted to n real points:
    sigma2 / n + E(sqrt(v) - sigma)^2 with v = S / (n - ddof), S ~ sigma2 chi^2_(n-1), i.e.
    sigma2 [1/n + (n-1)/(n-ddof) + 1 - 2 sqrt(2/(n-ddof)) Gamma(n/2)/Gamma((n-1)/2)].

    Defined for real n > max(1, ddof) (a smooth interpolation between integers); decreasing in
    n for ddof = 1.  The yardstick of :func:`effective_sample_size`."""
    from scipy.special import gammaln
    n = check_array("n", n)
    ddof = check_int("ddof", ddof, minimum=0, maximum=1)
    sigma2 = check_real("sigma2", sigma2, minimum=0.0, strict_min=True)
    if np.any(n <= 1.0):
        raise ValueError("n must be > 1")
    log_ratio = 0.5 * np.log(2.0 / (n - ddof)) + gammaln(n / 2) - gammaln((n - 1) / 2)
    # 1/n + (n-1)/(n-ddof) + 1 - 2 exp(log_ratio), written to avoid cancellation for large n
    return sigma2 * (1.0 / n + (ddof - 1.0) / (n - ddof) - 2.0 * np.expm1(log_ratio))


def effective_sample_size(w2sq: float, ddof: int = 1, sigma2: float = 1.0) -> float:
    """n_e such that a fit to n_e real points has expected squared W2 equal to ``w2sq``
    (Alemohammad et al.'s effective sample size, with W2 in place of their Wasserstein
    estimate).  Returns inf if w2sq is below the value at n = 1e12.  Requires ddof = 1, for
    which the yardstick is monotone."""
    w2sq = check_real("w2sq", w2sq, minimum=0.0, strict_min=True)
    ddof = check_int("ddof", ddof, minimum=1, maximum=1)
    lo, hi = 1.0 + 1e-9, 1e12
    f_lo = float(gaussian_w2sq_all_real(lo, ddof, sigma2))
    f_hi = float(gaussian_w2sq_all_real(hi, ddof, sigma2))
    if w2sq >= f_lo:
        raise ValueError(f"w2sq={w2sq:g} exceeds the error of a fit to a single point ({f_lo:g})")
    if w2sq <= f_hi:
        return float("inf")
    return float(optimize.brentq(lambda x: float(gaussian_w2sq_all_real(x, ddof, sigma2)) - w2sq,
                                 lo, hi, xtol=1e-10, rtol=1e-12))
