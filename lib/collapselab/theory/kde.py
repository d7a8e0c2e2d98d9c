"""Closed forms for the recursively refitted Gaussian KDE (chapter 5).

Convention: model 0 is the truth p_0 (mean mu, variance sigma^2); model t >= 1 is the Gaussian
KDE with bandwidth h of n points drawn from model t-1 (replace) or of the n t points drawn from
models 0..t-1 (accumulate).  c = (n - 1)/n.  The variance of a KDE is the sample variance of its
centres (ddof 0) plus h^2.

* {prf:ref}`thm-05-variance`: E V_t = c^t sigma^2 + n h^2 (1 - c^t)  ->  sigma^2 + t h^2 as n -> oo.
* {prf:ref}`thm-05-mean-density`: E p_t(x) = (p_0 * N(0, t h^2))(x) exactly, for every n.
* {prf:ref}`thm-05-convergence`: E TV(p_t, p_0 * N(0, t h^2)) = O(t / sqrt(h n)).
* {prf:ref}`thm-05-mise`: the exact mean integrated squared error E int (p_t - p_0)^2 for a
  Gaussian-mixture truth (Marron and Wand's formula for t = 1, extended by the genealogy).
* {prf:ref}`thm-05-accumulate`: the accumulate recursion; population limit sigma^2 + h^2 H_t.
* {prf:ref}`thm-05-founders`: the genealogy is a Wright-Fisher chain whatever h is.
* {prf:ref}`prop-05-rule`: a bandwidth rule recomputed each generation grows the variance
  geometrically.

Each function is checked against simulation in ``tests/test_kde.py``.
"""
from __future__ import annotations

import numpy as np

from .._validate import check_array, check_count, check_fraction, check_int, check_kde, check_real, check_size, check_steps, check_work, finite_result
from ..models.kde import RULES, KDEParams, convolve, tv_distance


def _sigma2(sigma2):
    return check_real("sigma2", sigma2, minimum=0.0, strict_min=True)


def _h(h):
    return check_real("h", h, minimum=0.0, strict_min=True)


def _n(n):
    return check_int("n", n, minimum=2)


def _t(t, minimum: int = 0, per_item: float = 0.0):
    """t: an integer >= minimum or an integer array (integral floats accepted, as everywhere);
    ``per_item``: array entries needed per generation up to max(t) (size guard)."""
    arr = check_steps("t", t, per_item=per_item, work_per_item=per_item)
    if arr.size and np.any(arr < minimum):
        raise ValueError(f"t must be an integer >= {minimum} or an array of them, got {t!r}")
    return arr


def _truth(truth) -> KDEParams:
    check_kde("truth", truth)
    if truth.replicates != 1:
        raise ValueError(f"truth must describe one distribution (1 chain), got {truth.replicates}")
    return truth


# ------------------------------------------------------------------------------------------
# variance under replace
# ------------------------------------------------------------------------------------------
def variance_factor(n: int) -> float:
    """c = (n - 1)/n: E[sample variance (ddof 0) of n draws] / variance."""
    n = _n(n)
    return (n - 1) / n


@finite_result('sigma2', 'h', 't')
def expected_variance(sigma2: float, h: float, n: int, t):
    """E V_t = c^t sigma^2 + n h^2 (1 - c^t) under replace ({prf:ref}`thm-05-variance`).

    It moves geometrically from sigma^2 towards the stationary value n h^2."""
    sigma2, h, n, t = _sigma2(sigma2), _h(h), _n(n), _t(t)
    c = variance_factor(n)
    return c ** t * sigma2 + n * h * h * (1 - c ** t)


@finite_result('h')
def stationary_variance(h: float, n: int) -> float:
    """lim_t E V_t = n h^2 under replace ({prf:ref}`thm-05-variance`)."""
    h, n = _h(h), _n(n)
    return float(n * h * h)


def neutral_bandwidth(sigma2: float, n: int) -> float:
    """h = sigma / sqrt(n), the bandwidth for which E V_t = sigma^2 for every t."""
    sigma2, n = _sigma2(sigma2), _n(n)
    return float(np.sqrt(sigma2 / n))


@finite_result('sigma2', 'h', 't')
def population_variance(sigma2: float, h: float, t):
    """sigma^2 + t h^2: the variance of p_0 * N(0, t h^2), the n -> oo limit of E V_t
    ({prf:ref}`thm-05-variance`) and the variance of the mean density
    ({prf:ref}`thm-05-mean-density`) for every n."""
    sigma2, h, t = _sigma2(sigma2), _h(h), _t(t)
    return sigma2 + t * h * h


@finite_result('sigma2', 'h', 't')
def expected_mean_sq_drift(sigma2: float, h: float, n: int, t):
    """E (mean_t - mu)^2 = sigma^2 + t h^2 - E V_t under replace (law of total variance applied
    to {prf:ref}`thm-05-mean-density`); equals (1/n) sum_{s<t} E V_s."""
    return population_variance(sigma2, h, t) - expected_variance(sigma2, h, n, t)


# ------------------------------------------------------------------------------------------
# accumulate and mix
# ------------------------------------------------------------------------------------------
@finite_result('sigma2', 'h')
def accumulate_expected_variance(sigma2: float, h: float, n: int, generations: int) -> np.ndarray:
    """Exact E V_t, t = 0..T, under accumulate ({prf:ref}`thm-05-accumulate`).

    With W_t the scatter of the pool of n t points:  E W_t = E W_{t-1} + (n - 1 + (t-1)/t) E V_{t-1},
    E V_t = E W_t / (n t) + h^2,  V_0 = sigma^2."""
    sigma2, h, n = _sigma2(sigma2), _h(h), _n(n)
    generations = check_count("generations", generations, minimum=0)
    var = np.empty(generations + 1)
    var[0], scatter = sigma2, 0.0
    for t in range(1, generations + 1):
        scatter += (n - 1 + (t - 1) / t) * var[t - 1]
        var[t] = scatter / (n * t) + h * h
    return var


def harmonic(t):
    """H_t = 1 + 1/2 + ... + 1/t (H_0 = 0)."""
    t = _t(t, per_item=2.0)
    tmax = int(np.max(t)) if t.size else 0
    cums = np.concatenate([[0.0], np.cumsum(1.0 / np.arange(1, tmax + 1))])
    return cums[t]


@finite_result('sigma2', 'h')
def accumulate_population_variance(sigma2: float, h: float, t):
    """sigma^2 + h^2 H_t: the n -> oo limit of E V_t under accumulate ({prf:ref}`thm-05-accumulate`).
    Logarithmic growth, H_t ~ log t + 0.577."""
    sigma2, h = _sigma2(sigma2), _h(h)
    return sigma2 + h * h * harmonic(t)


def accumulate_smoothing_weights(t: int) -> np.ndarray:
    """q_t(k), k = 0..t: in the population limit of accumulate, model t is
    sum_k q_t(k) p_0 * N(0, k h^2), with q_0 = delta_0 and q_t = (1/t) sum_{s<t} shift(q_s)
    ({prf:ref}`thm-05-accumulate`).  sum_k k q_t(k) = H_t and q_t(1) = 1/t."""
    t = check_count("t", t, minimum=0)
    check_size(f"t={t} (a triangle of (t+1)^2 weights)", float(t + 1) ** 2)
    q = [np.zeros(t + 1) for _ in range(t + 1)]
    q[0][0] = 1.0
    running = np.zeros(t + 1)
    for s in range(1, t + 1):
        running[1:] += q[s - 1][:-1]
        q[s] = running / s
    return q[t]


@finite_result('sigma2', 'h')
def mix_population_variance(sigma2: float, h: float, alpha: float, t):
    """sigma^2 + h^2 (1 - (1-alpha)^t)/alpha: the n -> oo variance under mix(alpha) (fresh real
    share alpha each generation); bounded by sigma^2 + h^2/alpha for alpha > 0."""
    sigma2, h, t = _sigma2(sigma2), _h(h), _t(t)
    alpha = check_fraction("alpha", alpha)
    if alpha == 0:
        return population_variance(sigma2, h, t)
    return sigma2 + h * h * (1 - (1 - alpha) ** t) / alpha


def population_density(truth: KDEParams, h: float, t: int, schedule: str = "replace") -> KDEParams:
    """The n -> oo limit of model t as a Gaussian mixture (one chain).

    replace: p_0 * N(0, t h^2) ({prf:ref}`thm-05-mean-density`); accumulate: the mixture
    sum_k q_t(k) p_0 * N(0, k h^2) of {prf:ref}`thm-05-accumulate`."""
    truth, h = _truth(truth), _h(h)
    t = check_count("t", t, minimum=0)
    if not np.isfinite(t * h * h):
        raise ValueError(f"h={h} and t={t} overflow float64 (t h^2 is infinite)")
    if schedule == "replace":
        return convolve(truth, t * h * h)
    if schedule != "accumulate":
        raise ValueError(f"schedule must be 'replace' or 'accumulate', got {schedule!r}")
    q = accumulate_smoothing_weights(t)
    ks = np.nonzero(q > 0)[0]
    w = truth.weight_array()[0]
    centres = np.concatenate([truth.centres[0]] * len(ks))
    widths = np.concatenate([np.sqrt(truth.widths[0] ** 2 + k * h * h) for k in ks])
    weights = np.concatenate([q[k] * w for k in ks])
    weights = weights / weights.sum()
    return KDEParams(centres[None], widths[None], weights[None])


# ------------------------------------------------------------------------------------------
# bandwidth rules
# ------------------------------------------------------------------------------------------
def rule_growth_factor(n: int, rule: str = "normal") -> float:
    """rho = (n - 1)/n + a^2 n^(-2/5), a = 1.06 (normal) or 0.9 (silverman) ({prf:ref}`prop-05-rule`).

    Normal rule, replace: E V_t = rho^t sigma^2 exactly.  Silverman's rule: an upper bound."""
    n = _n(n)
    if rule not in RULES:
        raise ValueError(f"rule must be one of {sorted(RULES)}, got {rule!r}")
    return float((n - 1) / n + RULES[rule] ** 2 * n ** (-0.4))


@finite_result('sigma2', 't')
def expected_variance_rule(sigma2: float, n: int, t, rule: str = "normal"):
    """sigma^2 rho^t ({prf:ref}`prop-05-rule`): exact for the normal rule, an upper bound for
    Silverman's."""
    sigma2, t = _sigma2(sigma2), _t(t)
    return sigma2 * rule_growth_factor(n, rule) ** t


# ------------------------------------------------------------------------------------------
# densities: mean integrated squared error, TV
# ------------------------------------------------------------------------------------------
def _phi0(v):
    return 1.0 / np.sqrt(2 * np.pi * np.asarray(v, dtype=float))


def _gram(truth: KDEParams, v) -> np.ndarray:
    """G(v) = sum_ij w_i w_j phi(mu_i - mu_j; s_i^2 + s_j^2 + v) = int (p_0 * N(0, v/2))^2."""
    mu, s2, w = truth.centres[0], truth.widths[0] ** 2, truth.weight_array()[0]
    d2 = (mu[:, None] - mu[None, :]) ** 2
    var = (s2[:, None] + s2[None, :])[..., None] + np.atleast_1d(np.asarray(v, dtype=float))
    vals = np.exp(-0.5 * d2[..., None] / var) / np.sqrt(2 * np.pi * var)
    out = np.einsum("i,j,ijk->k", w, w, vals)
    return out.reshape(np.shape(v))


def _expected_sq_norm(truth, h, n, t):
    """E int p_t^2 (t >= 1 array) by the two-lineage genealogy of {prf:ref}`thm-05-mise`."""
    t = np.asarray(t)
    tmax = int(np.max(t)) if t.size else 1
    j = np.arange(1, max(tmax, 1))
    a = (1 / n) * (1 - 1 / n) ** (j - 1) * _phi0(2 * (j + 1) * h * h)
    csum = np.concatenate([[0.0], np.cumsum(a)])
    k = np.maximum(t, 1)
    val = _phi0(2 * h * h) / n + (1 - 1 / n) * ((1 - 1 / n) ** (k - 1) * _gram(truth, 2 * k * h * h)
                                               + csum[k - 1])
    return np.where(t == 0, _gram(truth, 0.0 * k), val)


def expected_ise(truth: KDEParams, h: float, n: int, t):
    """Exact E int (p_t - p_0)^2 under replace for a Gaussian-mixture truth ({prf:ref}`thm-05-mise`).

    = integrated_variance(t) + population_ise(t)  (variance + squared bias)."""
    truth, h, n, t = _truth(truth), _h(h), _n(n), _t(t, per_item=4.0)
    out = _expected_sq_norm(truth, h, n, t) - 2 * _gram(truth, t * h * h) + _gram(truth, 0.0 * t)
    return np.maximum(out, 0.0)


def integrated_variance(truth: KDEParams, h: float, n: int, t):
    """E int (p_t - p_0 * N(0, t h^2))^2 = int Var p_t(x) dx under replace ({prf:ref}`thm-05-mise`);
    -> 0 as n -> oo."""
    truth, h, n, t = _truth(truth), _h(h), _n(n), _t(t, per_item=4.0)
    return np.maximum(_expected_sq_norm(truth, h, n, t) - _gram(truth, 2 * t * h * h), 0.0)


def population_ise(truth: KDEParams, h: float, t):
    """int (p_0 * N(0, t h^2) - p_0)^2, the squared bias of {prf:ref}`thm-05-mise` and the
    n -> oo limit of the expected ISE."""
    truth, h, t = _truth(truth), _h(h), _t(t)
    return np.maximum(_gram(truth, 2 * t * h * h) - 2 * _gram(truth, t * h * h)
                      + _gram(truth, 0.0 * t), 0.0)


def population_tv(truth: KDEParams, h: float, t, points: int = 4001):
    """TV(p_0, p_0 * N(0, t h^2)) on a fine grid: how much of the truth the smoothing alone
    destroys by generation t (replace, n -> oo)."""
    truth, h, t = _truth(truth), _h(h), _t(t)
    flat = np.atleast_1d(t).ravel()
    tau2 = flat * h * h
    many = KDEParams(np.repeat(truth.centres, len(flat), axis=0),
                         np.sqrt(np.repeat(truth.widths, len(flat), axis=0) ** 2 + tau2[:, None]),
                         None if truth.weights is None else np.repeat(truth.weights, len(flat), axis=0))
    lo = float(np.min(truth.centres - 8 * np.sqrt(truth.widths ** 2 + tau2.max())))
    hi = float(np.max(truth.centres + 8 * np.sqrt(truth.widths ** 2 + tau2.max())))
    points = check_int("points", points, minimum=16)
    check_size(f"points={points} for {np.size(t)} generations and {truth.centres.shape[1]} centres",
               2.0 * points * max(np.size(t), 1) * truth.centres.shape[1])
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise ValueError(f"h={h} or t is too large: the smoothed truth's support overflows float64")
    grid = np.linspace(lo, hi, points)
    return tv_distance(many, truth, grid=grid).reshape(np.shape(t))


@finite_result('sigma2', 'h', 't')
def tv_bound(sigma2: float, h: float, n: int, t):
    """Upper bound on E TV(p_t, p_0 * N(0, t h^2)) under replace ({prf:ref}`thm-05-convergence`):

        (1/2) sum_{s=1}^{t} sqrt( sqrt(pi) sqrt(sigma^2 + (s - 1/2) h^2) / (h n) ).
    """
    sigma2, h, n, t = _sigma2(sigma2), _h(h), _n(n), _t(t, per_item=4.0)
    tmax = int(np.max(t)) if np.size(t) else 0
    s = np.arange(1, tmax + 1)
    terms = np.sqrt(np.sqrt(np.pi) * np.sqrt(sigma2 + (s - 0.5) * h * h) / (h * n))
    csum = np.concatenate([[0.0], np.cumsum(terms)])
    return 0.5 * csum[t]


# ------------------------------------------------------------------------------------------
# genealogy
# ------------------------------------------------------------------------------------------
def expected_founders(n: int, t):
    """E[number of model-1 centres (the real data) with descendants among model t's centres]
    under replace ({prf:ref}`thm-05-founders`): n (1 - P(a Wright-Fisher chain of population n
    started at 1 is absorbed at 0 within t - 1 steps)).  Exact, by iterating the binomial
    transition matrix; the same for every bandwidth."""
    n = check_int("n", n, minimum=2, maximum=5000)
    t = _t(t, minimum=1, per_item=1.0)
    check_work(f"t={int(np.max(t)) if np.size(t) else 0} steps with n={n}",
               (int(np.max(t)) if np.size(t) else 0) * (n + 1.0) ** 2)
    from scipy.stats import binom

    i = np.arange(n + 1)
    P = binom.pmf(i[None, :], n, (i / n)[:, None])
    steps = int(np.max(t)) - 1 if np.size(t) else 0
    v = np.zeros(n + 1)
    v[1] = 1.0
    extinct = np.empty(steps + 1)
    extinct[0] = 0.0
    for s in range(1, steps + 1):
        v = v @ P
        extinct[s] = v[0]
    return n * (1 - extinct[t - 1])


def founders_approx(n: int, t):
    """2 n / (t + 1): the coalescent (deterministic) approximation of :func:`expected_founders`,
    from dA/ds = -A^2/(2n), A(0) = n, after s = t - 1 resampling steps."""
    n = _n(n)
    t = _t(t, minimum=1)
    return 2 * n / (t + 1)
