"""Exact moments of nonparametric contaminated recursive training (chapter 7).

Under ``accumulate_mix(alpha)`` with batch n = m + k (m real, k synthetic points per
generation) the empirical model's pool after generation t has N_t points and empirical CDF F_t.
Because a synthetic point is a uniform draw from the pool, F_t(x) is, for every x, a
*linear* statistic of the pool, and its deviation from the truth obeys the same recursion as the
Gaussian mean of {prf:ref}`lem-07-memory`:

    N_t D_t = (N_{t-1} + k) D_{t-1} + xi_t,     D_t = F_t(x) - F(x).

:func:`empirical_cdf_error` gives E[D_t(x)^2] = c_t F(x)(1 - F(x)) exactly
({prf:ref}`thm-07-empirical-crt`); :func:`bias_carry` gives the share beta_t of a biased real
source that the expected pool carries ({prf:ref}`thm-07-bias`).

Two conventions for the first generation (chapter 7): ``"book"`` — model 0 is the truth, so
generation 1 trains on a full batch of n points, m from the real source and k from the truth;
``"paper"`` — as in Wang, Niu & Li's public code, iteration 1 trains on the m real points alone
and every later iteration adds m real and k synthetic points.
Checked in ``tests/test_crt_nonparametric.py``.
"""
from __future__ import annotations

import numpy as np

from .._validate import check_array, check_count, check_fraction, check_int, check_real, check_work
from .contamination import real_points

CONVENTIONS = ("book", "paper")


def _convention(convention: str) -> str:
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {CONVENTIONS}, got {convention!r}")
    return convention


def pool_sizes(n: int, alpha: float, generations: int, convention: str = "book") -> np.ndarray:
    """N_t for t = 0..T (N_0 = 0): n t (book) or m + (t - 1) n (paper), m = round(alpha n)."""
    n = check_int("n", n, minimum=1)
    generations = check_count("generations", generations, minimum=0, per_item=3.0, work_per_item=10.0)
    m = real_points(n, alpha)
    _convention(convention)
    t = np.arange(generations + 1)
    N = n * t if convention == "book" else np.where(t > 0, m + (t - 1) * n, 0)
    return N.astype(float)


def _check_crt(n, alpha, convention):
    n = check_int("n", n, minimum=1)
    alpha = check_fraction("alpha", alpha)
    m = real_points(n, alpha)
    if m < 1:
        raise ValueError(f"alpha = {alpha} gives no real point in a batch of n = {n}")
    return n, m, n - m, _convention(convention)


def empirical_cdf_error(n: int, alpha: float, generations: int,
                        convention: str = "book") -> np.ndarray:
    """c_t, t = 0..T, with E[(F_t(x) - F(x))^2] = c_t F(x) (1 - F(x)) for every x, for the
    empirical model under ``accumulate_mix(alpha)`` with an unbiased real source
    ({prf:ref}`thm-07-empirical-crt`).

    c_1 = 1 / N_1 and c_t = ((N_{t-1} + k) / N_t)^2 c_{t-1} + (m + k (1 - c_{t-1})) / N_t^2.
    Consequently E int (F_t - F)^2 dx = c_t int F (1 - F) dx and E W1 <= sqrt(c_t) int sqrt(F (1 - F)) dx."""
    n, m, k, convention = _check_crt(n, alpha, convention)
    generations = check_count("generations", generations, minimum=0, per_item=4.0)
    N = pool_sizes(n, alpha, generations, convention)
    c = np.zeros(generations + 1)
    for t in range(1, generations + 1):
        if t == 1:
            c[1] = 1.0 / N[1]
            continue
        c[t] = ((N[t - 1] + k) / N[t]) ** 2 * c[t - 1] + (m + k * (1.0 - c[t - 1])) / N[t] ** 2
    return c


def bias_carry(n: int, alpha: float, bias, convention: str = "book") -> np.ndarray:
    """beta_t, t = 0..T, the weight of Q in the *expected* pool when generation t's real data
    come from the biased source (1 - b_t) P + b_t Q ({prf:ref}`thm-07-bias`):
    E[empirical measure of pool t] = (1 - beta_t) P + beta_t Q, and for the Gaussian model with
    a real source N(mu + b_t, sigma^2), E[mu_t] - mu = beta_t exactly.

    ``bias`` holds b_1..b_T (length T, each in [0, 1] for a mixture; any real for a mean shift).
    beta_t = ((N_{t-1} + k) beta_{t-1} + m b_t) / N_t, with beta_1 = m b_1 / n (book: the
    synthetic part of generation 1 is drawn from model 0, the truth) or b_1 (paper)."""
    n, m, k, convention = _check_crt(n, alpha, convention)
    b = check_array("bias", bias, ndim=1)
    T = b.size
    check_work(f"bias of length {T} (one Python step per generation)", 1e4 * T)
    N = pool_sizes(n, alpha, T, convention)
    beta = np.zeros(T + 1)
    for t in range(1, T + 1):
        if t == 1:
            beta[1] = m * b[0] / N[1]
            continue
        beta[t] = ((N[t - 1] + k) * beta[t - 1] + m * b[t - 1]) / N[t]
    return beta


def empirical_variance_bound(n: int, alpha: float, generations: int,
                             convention: str = "book") -> np.ndarray:
    """cbar_t, t = 0..T, with Var F_t(x) <= cbar_t u(x) under a biased real source
    ({prf:ref}`thm-07-bias`; u(x) = max over mixtures L of P and Q of L(x)(1 - L(x))):
    cbar_1 = 1 / N_1, cbar_t = ((N_{t-1} + k) / N_t)^2 cbar_{t-1} + n / N_t^2 ~ t^(-min(1, 2a))."""
    n, m, k, convention = _check_crt(n, alpha, convention)
    generations = check_count("generations", generations, minimum=0, per_item=4.0)
    N = pool_sizes(n, alpha, generations, convention)
    c = np.zeros(generations + 1)
    for t in range(1, generations + 1):
        c[t] = 1.0 / N[1] if t == 1 else ((N[t - 1] + k) / N[t]) ** 2 * c[t - 1] + n / N[t] ** 2
    return c


def decaying_bias(b0: float, q: float, generations: int, shift: float = 0.0) -> np.ndarray:
    """b_t = b0 (t + shift)^(-q), t = 1..T (q = 0: a bias that never decays)."""
    b0 = check_real("b0", b0)
    q = check_real("q", q, minimum=0.0)
    shift = check_real("shift", shift, minimum=0.0)
    generations = check_count("generations", generations, minimum=1, per_item=3.0, work_per_item=10.0)
    return b0 * (np.arange(1, generations + 1) + shift) ** (-q)


def bias_exponent(alpha: float, q: float, p: float = 0.5) -> float:
    """min(p, alpha, q): the exponent of Wang, Niu & Li's biased setting, as their public code
    states it ({prf:ref}`thm-07-bias` proves beta_t ~ t^(-min(alpha, q)) for the linear part)."""
    alpha = check_fraction("alpha", alpha)
    q = check_real("q", q, minimum=0.0)
    p = check_real("p", p, minimum=0.0, strict_min=True)
    return float(min(p, alpha, q))


def cdf_variance_integral(truth_std: float = 1.0) -> tuple[float, float]:
    """For a normal truth N(mu, s^2): (int F (1 - F) dx, int sqrt(F (1 - F)) dx) = (s / sqrt(pi),
    s * 1.2034...) — the constants turning c_t into E int (F_t - F)^2 and the W1 bound."""
    s = check_real("truth_std", truth_std, minimum=0.0, strict_min=True)
    from scipy.integrate import quad
    from scipy.special import ndtr
    j = quad(lambda z: np.sqrt(ndtr(z) * ndtr(-z)), -40, 40, limit=200)[0]
    return float(s / np.sqrt(np.pi)), float(s * j)
