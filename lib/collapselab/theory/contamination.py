"""Closed forms for contaminated recursive training of the 1-D Gaussian (chapter 7).

Convention (as everywhere in the book): model 0 is the truth N(mu, sigma^2).  Generation t adds a
batch of n points, m = round(alpha n) of them fresh real data and k = n - m drawn from model t-1
(:meth:`collapselab.schedules.Schedule.batch_sizes` does the rounding; every function below uses
the *realised* fraction a = m / n).  Two schedules:

* ``mix(alpha)`` -- memoryless mixing: model t is fitted to the batch alone
  ({prf:ref}`def-07-mix`);
* ``accumulate_mix(alpha)`` -- the contaminated recursive training (CRT) of Wang, Niu & Li
  (arXiv:2602.16065): every batch is kept and model t is fitted to all t n points
  ({prf:ref}`def-07-crt`).

Write e_t = E(mu_t - mu)^2 and v_t = E sigma_t^2 (``ddof`` 0: maximum likelihood, 1: unbiased).
Under both schedules (e_t, v_t) obey an exact affine recursion, so the functions here are exact
for every t, n, alpha, not asymptotic approximations.  ``known_variance=True`` is the model that
fits the mean only (:class:`collapselab.models.contaminated.KnownVarianceGaussian1D`), so that
v_t = sigma^2.

Every function is checked against simulation in ``tests/test_contamination.py``.
"""
from __future__ import annotations

import numpy as np
from scipy.special import gammaln

from .._validate import check_array, check_bool, check_count, check_fraction, check_int, check_real, check_steps


# --- helpers ---------------------------------------------------------------------------------
def _sigma2(sigma2):
    return check_real("sigma2", sigma2, minimum=0.0, strict_min=True)


def _n(n):
    return check_int("n", n, minimum=2)


def _ddof(ddof):
    return check_int("ddof", ddof, minimum=0, maximum=1)


def _t(t, name="t", per_item=1.0, work_per_item=1.0):
    """t: a non-negative integer or integer array (integral floats accepted, as everywhere)."""
    return check_steps(name, t, per_item=per_item, work_per_item=work_per_item)


def real_points(n: int, alpha: float) -> int:
    """m = round(alpha n), the real points in each batch of n, rounded exactly as
    :meth:`collapselab.schedules.Schedule.batch_sizes` rounds them."""
    n = check_int("n", n, minimum=1)
    alpha = check_fraction("alpha", alpha)
    return int(round(alpha * n))


def realised_fraction(n: int, alpha: float) -> float:
    """a = round(alpha n) / n, the real fraction the loop actually uses."""
    return real_points(n, alpha) / check_int("n", n, minimum=1)


# --- memoryless mixing: mix(alpha) -----------------------------------------------------------
def mix_limit_factor(alpha) -> float | np.ndarray:
    """F(alpha) = 1 / (alpha (2 - alpha)): the stationary mean error under ``mix(alpha)`` in units
    of the one-generation statistical rate sigma^2 / n (known variance, {prf:ref}`thm-07-mix-mean`).

    Decreasing on (0, 1], F(1) = 1, F(alpha) ~ 1 / (2 alpha) as alpha -> 0 and +inf at alpha = 0
    (the replace chain has no stationary error).  Accepts a scalar or an array."""
    arr = check_array("alpha", alpha)
    if arr.ndim == 0:
        a = check_fraction("alpha", float(arr))
        return float(np.inf) if a == 0.0 else 1.0 / (a * (2.0 - a))
    if np.any(~np.isfinite(arr)) or np.any((arr < 0) | (arr > 1)):
        raise ValueError("alpha must hold finite fractions in [0, 1]")
    with np.errstate(divide="ignore"):
        return np.where(arr == 0.0, np.inf, 1.0 / (arr * (2.0 - arr)))


def mix_known_variance_error(sigma2: float, n: int, alpha: float, t):
    """E(mu_t - mu)^2 = (sigma^2 / n) (1 - (1 - a)^(2t)) / (a (2 - a)) under ``mix(alpha)`` when
    the variance is known ({prf:ref}`thm-07-mix-mean`); a = 0 gives the random walk
    sigma^2 t / n."""
    sigma2, n = _sigma2(sigma2), _n(n)
    t = _t(t, work_per_item=float(np.size(t)) * 10.0)
    a = realised_fraction(n, alpha)
    if a == 0.0:
        return sigma2 * t / n
    q = (1.0 - a) ** 2
    return sigma2 / n * (1.0 - q ** t) / (1.0 - q)


def _mix_system(sigma2, n, m, ddof, known_variance):
    """(A, b) with (e_t, v_t) = A (e_{t-1}, v_{t-1}) + b under mix (see mix_moments)."""
    k = n - m
    a = m / n
    if known_variance:
        A = np.array([[(1 - a) ** 2, (1 - a) / n], [0.0, 0.0]])
        b = np.array([a * sigma2 / n, sigma2])
        return A, b
    A = np.array([[(1 - a) ** 2, (1 - a) / n],
                  [m * k / (n * (n - ddof)), (k - 1 + m / n) / (n - ddof)]])
    b = np.array([a * sigma2 / n, sigma2 * (m - 1 + k / n) / (n - ddof)])
    return A, b


def mix_moments(sigma2: float, n: int, alpha: float, generations: int, ddof: int = 0,
                known_variance: bool = False):
    """Exact (e_t, v_t), t = 0..T, under ``mix(alpha)`` ({prf:ref}`thm-07-mix-moments`).

    With a = m / n, k = n - m:

    e_t = (1 - a)^2 e_{t-1} + (a sigma^2 + (1 - a) v_{t-1}) / n,
    v_t = [sigma^2 (m - 1 + k/n) + v_{t-1} (k - 1 + m/n) + (m k / n) e_{t-1}] / (n - ddof),

    from e_0 = 0, v_0 = sigma^2.  alpha = 0 gives chapter 2's replace chain, alpha = 1 the
    all-real loop.  Returns two arrays of length T + 1.
    """
    known_variance = check_bool("known_variance", known_variance)
    sigma2, n, ddof = _sigma2(sigma2), _n(n), _ddof(ddof)
    generations = check_count("generations", generations, minimum=0)
    m = real_points(n, alpha)
    A, b = _mix_system(sigma2, n, m, ddof, bool(known_variance))
    out = np.empty((generations + 1, 2))
    out[0] = (0.0, sigma2)
    for t in range(1, generations + 1):
        out[t] = A @ out[t - 1] + b
    return out[:, 0].copy(), out[:, 1].copy()


def mix_fixed_point(sigma2: float, n: int, alpha: float, ddof: int = 0,
                    known_variance: bool = False) -> tuple[float, float]:
    """The limits (e*, v*) of :func:`mix_moments` ({prf:ref}`thm-07-mix-moments`).

    Known variance: e* = sigma^2 / (n a (2 - a)), v* = sigma^2.  Estimated variance:

    v* / sigma^2 = a (n - 1/(2 - a)) / (m - ddof + (1 - a)/(2 - a)),
    e* = (a sigma^2 + (1 - a) v*) / (n a (2 - a)).

    Raises ValueError when alpha n rounds to zero real points: the replace chain has no
    stationary error (it is a random walk, or collapses, {prf:ref}`thm-02-mean-walk`).
    """
    known_variance = check_bool("known_variance", known_variance)
    sigma2, n, ddof = _sigma2(sigma2), _n(n), _ddof(ddof)
    m = real_points(n, alpha)
    if m == 0:
        raise ValueError(f"alpha = {alpha} gives round(alpha n) = 0 real points per generation "
                         f"(n = {n}): the chain is replace, which has no stable fixed point")
    a = m / n
    A, _ = _mix_system(sigma2, n, m, ddof, bool(known_variance))
    rho = float(np.max(np.abs(np.linalg.eigvals(A))))
    if rho >= 1.0:  # pragma: no cover - never happens for m >= 1 (checked in the tests)
        raise ValueError(f"no stable fixed point: spectral radius {rho:.6g} >= 1")
    if known_variance:
        return float(sigma2 / (n * a * (2 - a))), float(sigma2)
    v = sigma2 * a * (n - 1.0 / (2 - a)) / (m - ddof + (1 - a) / (2 - a))
    e = (a * sigma2 + (1 - a) * v) / (n * a * (2 - a))
    return float(e), float(v)


def mix_error_factor(n: int, alpha: float, ddof: int = 0, known_variance: bool = False) -> float:
    """n e* / sigma^2: the stationary mean error under ``mix(alpha)`` relative to the statistical
    rate sigma^2 / n of one all-real generation ({prf:ref}`cor-07-shrinking`).  Tends to
    :func:`mix_limit_factor` as n grows with alpha fixed."""
    known_variance = check_bool("known_variance", known_variance)
    e, _ = mix_fixed_point(1.0, n, alpha, ddof, known_variance)
    return float(_n(n) * e)


def mix_variance_factor(n: int, alpha: float, ddof: int = 0) -> float:
    """v* / sigma^2, the stationary expected variance under ``mix(alpha)``
    ({prf:ref}`thm-07-mix-moments`): positive for every alpha n >= 1 -- no collapse."""
    _, v = mix_fixed_point(1.0, n, alpha, ddof)
    return float(v)


# --- contaminated recursive training: accumulate_mix(alpha) ---------------------------------
def accumulate_mix_moments(sigma2: float, n: int, alpha: float, generations: int, ddof: int = 0,
                           known_variance: bool = False):
    """Exact (e_t, v_t), t = 0..T, under ``accumulate_mix(alpha)`` ({prf:ref}`thm-07-crt-gauss`).

    Model t is fitted to all t n points.  With a = m / n, k = n - m and W_t the pooled scatter:

    e_t = ((t - a)/t)^2 e_{t-1} + (a sigma^2 + (1 - a) v_{t-1}) / (n t^2),
    E W_t = E W_{t-1} + sigma^2 (m - 1 + k/n) + v_{t-1} (k - 1 + m/n) + (m k / n) e_{t-1}
            + ((t - 1) n / t) (a^2 e_{t-1} + (a sigma^2 + (1 - a) v_{t-1}) / n),
    v_t = E W_t / (n t - ddof),

    from e_0 = 0, v_0 = sigma^2, W_0 = 0.  alpha = 0 gives chapter 2's accumulate
    ({prf:ref}`thm-02-accumulate`), alpha = 1 gives e_t = sigma^2 / (n t).
    """
    known_variance = check_bool("known_variance", known_variance)
    sigma2, n, ddof = _sigma2(sigma2), _n(n), _ddof(ddof)
    generations = check_count("generations", generations, minimum=0)
    m = real_points(n, alpha)
    k, a = n - m, m / n
    e = np.empty(generations + 1)
    v = np.empty(generations + 1)
    e[0], v[0], W = 0.0, sigma2, 0.0
    for t in range(1, generations + 1):
        force = a * sigma2 + (1 - a) * v[t - 1]
        e[t] = ((t - a) / t) ** 2 * e[t - 1] + force / (n * t * t)
        if known_variance:
            v[t] = sigma2
            continue
        W += (sigma2 * (m - 1 + k / n) + v[t - 1] * (k - 1 + m / n) + m * k / n * e[t - 1]
              + (t - 1) * n / t * (a * a * e[t - 1] + force / n))
        v[t] = W / (n * t - ddof)
    return e, v


def memory_kernel(alpha: float, s, t):
    """K(s, t) = prod_{r=s+1}^{t} (1 - alpha / r): the share of the error of generation s that
    generation t still carries under ``accumulate_mix`` ({prf:ref}`lem-07-memory`).

    K(s, t) = Gamma(t + 1 - alpha) Gamma(s + 1) / (Gamma(s + 1 - alpha) Gamma(t + 1)) ~ (s/t)^alpha.
    Arrays broadcast; requires 0 <= s <= t."""
    alpha = check_fraction("alpha", alpha)
    s, t = np.broadcast_arrays(_t(s, "s", 0.0, 0.0), _t(t, "t", 0.0, 0.0))
    if np.any(s > t):
        raise ValueError("memory_kernel needs s <= t")
    if alpha == 1.0:
        return np.where(t > 0, s / np.maximum(t, 1), 1.0).astype(float)
    return np.exp(gammaln(t + 1 - alpha) + gammaln(s + 1) - gammaln(s + 1 - alpha) - gammaln(t + 1))


def accumulate_mix_known_variance_error(sigma2: float, n: int, alpha: float, t):
    """E(mu_t - mu)^2 = (sigma^2 / n) sum_{s=1}^{t} K(s, t)^2 / s^2 under ``accumulate_mix`` with
    known variance ({prf:ref}`thm-07-crt-gauss`; K is :func:`memory_kernel`)."""
    sigma2, n = _sigma2(sigma2), _n(n)
    t = _t(t, work_per_item=float(np.size(t)) * 10.0)
    a = realised_fraction(n, alpha)
    flat = np.atleast_1d(t).ravel()
    out = np.empty(flat.shape, dtype=float)
    for i, ti in enumerate(flat):
        if ti == 0:
            out[i] = 0.0
            continue
        s = np.arange(1, ti + 1)
        out[i] = sigma2 / n * np.sum(memory_kernel(a, s, ti) ** 2 / s.astype(float) ** 2)
    return out.reshape(np.shape(t)) if np.ndim(t) else float(out[0])


def accumulate_mix_limit_factor(alpha) -> float:
    """lim_t (n t / sigma^2) E(mu_t - mu)^2 under ``accumulate_mix(alpha)``: 1 / (2 alpha - 1) for
    alpha > 1/2 (the uncontaminated rate sigma^2 / (n t) up to this factor) and +inf for
    alpha <= 1/2, where the error decays more slowly than 1/t ({prf:ref}`thm-07-crt-gauss`)."""
    a = check_fraction("alpha", alpha)
    return float(np.inf) if a <= 0.5 else 1.0 / (2.0 * a - 1.0)


def crt_rate_exponent(alpha: float, p: float = 0.5) -> float:
    """min(p, alpha): the exponent of the rate t^(-min(p, alpha)) that Wang, Niu and Li
    ({cite}`contamination2026survive`) prove for the distance between model t and the truth
    under contaminated recursive training, p being the baseline rate of the estimator on iid
    data ({prf:ref}`thm-07-crt-rate`).  For the Gaussian mean, p = 1/2 and the root mean
    squared error decays as t^(-min(1/2, alpha)) ({prf:ref}`thm-07-crt-gauss`)."""
    alpha = check_fraction("alpha", alpha)
    p = check_real("p", p, minimum=0.0, strict_min=True)
    return float(min(p, alpha))


def crt_regime(alpha: float, p: float = 0.5) -> str:
    """'model-limited' if alpha > p (the baseline rate is kept), 'critical' if alpha = p (a log
    factor is lost), 'data-limited' if alpha < p (the real fraction sets the rate)."""
    alpha = check_fraction("alpha", alpha)
    p = check_real("p", p, minimum=0.0, strict_min=True)
    if alpha > p:
        return "model-limited"
    if alpha == p:
        return "critical"
    return "data-limited"
