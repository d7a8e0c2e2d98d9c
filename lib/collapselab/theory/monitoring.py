"""Closed forms for monitoring collapse from samples (chapter 12).

* :func:`mmd2_gaussians` — the population MMD^2 between two normal distributions under the
  Gaussian kernel k(x, y) = exp(-|x - y|^2 / (2 h^2)) ({prf:ref}`prop-12-gauss-mmd`); the
  estimator :func:`collapselab.monitoring.mmd2` is checked against it in
  ``tests/test_monitoring.py``.
* :func:`run_alarm_probability` and :func:`run_alarm_bound` — the false-alarm probability of the
  "m consecutive exceedances" rule when the per-generation exceedances are independent
  ({prf:ref}`prop-12-run-alarm`), and :func:`per_generation_level`, its inverse.
"""
from __future__ import annotations

import numpy as np

from .._validate import PY_STEP, check_array, check_fraction, check_int, check_real, check_size, check_work, finite_result
from ..models.gaussian import Normal1DParams, NormalParams


@finite_result('mean_diff', 'cov', 'bandwidth')
def gaussian_kernel_mean(mean_diff, cov, bandwidth):
    """E exp(-|Z|^2 / (2 h^2)) for Z ~ N(mean_diff, cov).

    ``mean_diff`` (..., d) and ``cov`` (..., d, d), or (...) and (...) in one dimension (then
    ``cov`` is a variance); ``bandwidth`` h > 0 broadcasts over the leading axes.  The value is
    det(I + cov/h^2)^(-1/2) exp(-mu^T (cov + h^2 I)^(-1) mu / 2)."""
    h = check_array("bandwidth", bandwidth, positive=True)
    mu = check_array("mean_diff", mean_diff)
    cov = check_array("cov", cov)
    h2 = h**2
    if cov.ndim == mu.ndim:  # one dimension: cov is a variance
        if np.any(cov < 0):
            raise ValueError("cov must be non-negative")
        return (1.0 + cov / h2) ** -0.5 * np.exp(-0.5 * mu**2 / (h2 + cov))
    if cov.ndim != mu.ndim + 1 or cov.shape[-2:] != (mu.shape[-1], mu.shape[-1]):
        raise ValueError(f"cov must have shape (..., d, d) matching mean_diff {mu.shape}, got {cov.shape}")
    d = mu.shape[-1]
    eye = np.eye(d)
    h2m = np.asarray(h2)[..., None, None]
    a = eye + cov / h2m
    sign, logdet = np.linalg.slogdet(a)
    if np.any(sign <= 0):
        raise ValueError("cov must be positive semi-definite")
    b = cov + h2m * eye
    quad = np.einsum("...i,...i->...", mu, np.linalg.solve(b, mu[..., None])[..., 0])
    return np.exp(-0.5 * logdet - 0.5 * quad)


def mmd2_gaussians(p, q, bandwidth):
    """Population MMD^2 between normal models p and q (chains broadcast), Gaussian kernel of
    bandwidth h ({prf:ref}`prop-12-gauss-mmd`):

        MMD^2 = E k(X, X') + E k(Y, Y') - 2 E k(X, Y),

    where X - X' ~ N(0, 2 S_p), Y - Y' ~ N(0, 2 S_q), X - Y ~ N(m_p - m_q, S_p + S_q), and each
    expectation is :func:`gaussian_kernel_mean`.  ``p``, ``q``: two
    :class:`~collapselab.models.gaussian.Normal1DParams` or two
    :class:`~collapselab.models.gaussian.NormalParams`.  Returns an array of shape (R,)."""
    from ..metrics import _pair
    _pair(p, q, "mmd2_gaussians")
    if isinstance(p, Normal1DParams) and isinstance(q, Normal1DParams):
        vp, vq = np.asarray(p.var, float), np.asarray(q.var, float)
        zero = np.zeros(np.broadcast_shapes(vp.shape, vq.shape))
        kxx = gaussian_kernel_mean(zero, 2 * vp + zero, bandwidth)
        kyy = gaussian_kernel_mean(zero, 2 * vq + zero, bandwidth)
        kxy = gaussian_kernel_mean(p.mean - q.mean + zero, vp + vq + zero, bandwidth)
    elif isinstance(p, NormalParams) and isinstance(q, NormalParams):
        zero = np.zeros(np.broadcast_shapes(p.mean.shape, q.mean.shape))
        kxx = gaussian_kernel_mean(zero, 2 * p.cov, bandwidth)
        kyy = gaussian_kernel_mean(zero, 2 * q.cov, bandwidth)
        kxy = gaussian_kernel_mean(p.mean - q.mean, p.cov + q.cov, bandwidth)
    else:
        raise ValueError("mmd2_gaussians needs two Normal1DParams or two NormalParams")
    return np.clip(kxx + kyy - 2 * kxy, 0.0, None)


def run_alarm_probability(q: float, consecutive: int, horizon: int) -> float:
    """P(some run of ``consecutive`` exceedances among ``horizon`` independent generations that
    each exceed the threshold with probability q) — the exact false-alarm probability of the
    m-consecutive rule under independence ({prf:ref}`prop-12-run-alarm`), by dynamic programming
    over the length of the current run."""
    q = check_fraction("q", q)
    m = check_int("consecutive", consecutive, minimum=1)
    T = check_int("horizon", horizon, minimum=1)
    check_size(f"consecutive={m}", 3.0 * m)
    check_work(f"horizon={T} generations with consecutive={m}", T * (PY_STEP + 3.0 * m))
    state = np.zeros(m)  # probability of a current run of length j (no alarm yet)
    state[0] = 1.0
    alarm = 0.0
    for _ in range(T):
        new = np.zeros(m)
        new[0] = (1 - q) * state.sum()
        new[1:] = q * state[:-1]
        alarm += q * state[-1]
        state = new
    return float(alarm)


def run_alarm_bound(q: float, consecutive: int, horizon: int) -> float:
    """The union bound min(1, (T - m + 1) q^m) on :func:`run_alarm_probability`
    ({prf:ref}`prop-12-run-alarm`); 0 when the horizon is shorter than the run."""
    q = check_fraction("q", q)
    m = check_int("consecutive", consecutive, minimum=1)
    T = check_int("horizon", horizon, minimum=1)
    return float(min(1.0, max(T - m + 1, 0) * q**m))


def per_generation_level(false_alarm: float, consecutive: int, horizon: int) -> float:
    """The per-generation exceedance probability q at which :func:`run_alarm_probability`
    equals ``false_alarm`` (bisection; the probability increases with q)."""
    a = check_real("false_alarm", false_alarm, minimum=0.0, maximum=1.0, strict_min=True)
    if a >= 1.0:
        return 1.0
    m = check_int("consecutive", consecutive, minimum=1)
    T = check_int("horizon", horizon, minimum=1)
    check_size(f"consecutive={m}", 3.0 * m)
    check_work(f"80 bisection steps over horizon={T} generations with consecutive={m}",
               80.0 * T * (PY_STEP + 3.0 * m))
    lo, hi = 0.0, 1.0
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if run_alarm_probability(mid, consecutive, horizon) < a:
            lo = mid
        else:
            hi = mid
    return float(0.5 * (lo + hi))
