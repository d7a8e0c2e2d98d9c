"""Closed forms for the refitted 1-D Gaussian (chapter 2).

Convention: model 0 is the truth N(mu, sigma^2); model t >= 1 is fitted to n points drawn from
model t-1 (replace) or to the n t points drawn from models 0..t-1 (accumulate).  ``ddof`` is 0
for the maximum-likelihood variance and 1 for the unbiased one.  Each function is checked
against simulation in ``tests/test_theory_gaussian.py``.
"""
from __future__ import annotations

import numpy as np
from scipy.special import digamma, gammaln, polygamma

from .._validate import check_int, check_real


def _checks(sigma2, n, ddof):
    sigma2 = check_real("sigma2", sigma2, minimum=0.0, strict_min=True)
    n = check_int("n", n, minimum=2)
    ddof = check_int("ddof", ddof, minimum=0, maximum=1)
    return sigma2, n, ddof


def _t(t):
    t = np.asarray(t)
    if not np.issubdtype(t.dtype, np.integer) or np.any(t < 0):
        raise ValueError("t must be a non-negative integer or an array of them")
    return t


def variance_factor(n: int, ddof: int = 0) -> float:
    """c = E[sigma_t^2 / sigma_{t-1}^2] = (n - 1) / (n - ddof) under replace."""
    n = check_int("n", n, minimum=2)
    return (n - 1) / (n - ddof)


def expected_variance(sigma2: float, n: int, t, ddof: int = 0):
    """E[sigma_t^2] = sigma^2 ((n-1)/(n-ddof))^t under replace.

    {prf:ref}`thm-02-mle-variance` (ddof = 0: geometric decay) and
    {prf:ref}`thm-02-martingale` (ddof = 1: constant, a martingale).
    """
    sigma2, n, ddof = _checks(sigma2, n, ddof)
    return sigma2 * variance_factor(n, ddof) ** _t(t)


def variance_second_moment(sigma2: float, n: int, t, ddof: int = 0):
    """E[sigma_t^4] = sigma^4 ((n-1)(n+1)/(n-ddof)^2)^t under replace (E[chi2_k^2] = k(k+2)).

    Used for Monte-Carlo error bars: the unbiased chain's variance spreads out while its mean
    stays put ({prf:ref}`thm-02-martingale`)."""
    sigma2, n, ddof = _checks(sigma2, n, ddof)
    return sigma2**2 * ((n - 1) * (n + 1) / (n - ddof) ** 2) ** _t(t)


def log_variance_drift(n: int, ddof: int = 0) -> float:
    """delta = E[log(sigma_t^2 / sigma_{t-1}^2)] = psi((n-1)/2) + log 2 - log(n - ddof) < 0.

    {prf:ref}`thm-02-as-collapse`: log sigma_t^2 is a random walk with this drift, so
    sigma_t^2 -> 0 almost surely for either estimator."""
    n = check_int("n", n, minimum=2)
    ddof = check_int("ddof", ddof, minimum=0, maximum=1)
    return float(digamma((n - 1) / 2) + np.log(2.0) - np.log(n - ddof))


def log_variance_step_variance(n: int) -> float:
    """Var[log(sigma_t^2 / sigma_{t-1}^2)] = psi'((n-1)/2) ({prf:ref}`thm-02-as-collapse`)."""
    n = check_int("n", n, minimum=2)
    return float(polygamma(1, (n - 1) / 2))


def expected_log_variance(sigma2: float, n: int, t, ddof: int = 0):
    """E[log sigma_t^2] = log sigma^2 + t delta ({prf:ref}`thm-02-as-collapse`)."""
    sigma2, n, ddof = _checks(sigma2, n, ddof)
    return np.log(sigma2) + _t(t) * log_variance_drift(n, ddof)


def half_life(n: int, ddof: int = 0) -> float:
    """Generations for the *typical* (median) variance to halve: log(2) / |delta|."""
    return float(np.log(2.0) / -log_variance_drift(n, ddof))


def std_factor(n: int, ddof: int = 0) -> float:
    """m = E[sigma_t / sigma_{t-1}] = sqrt(2/(n-ddof)) Gamma(n/2) / Gamma((n-1)/2) < 1."""
    n = check_int("n", n, minimum=2)
    ddof = check_int("ddof", ddof, minimum=0, maximum=1)
    return float(np.sqrt(2.0 / (n - ddof)) * np.exp(gammaln(n / 2) - gammaln((n - 1) / 2)))


def expected_std(sigma2: float, n: int, t, ddof: int = 0):
    """E[sigma_t] = sigma m^t under replace ({prf:ref}`thm-02-w2`)."""
    sigma2, n, ddof = _checks(sigma2, n, ddof)
    return np.sqrt(sigma2) * std_factor(n, ddof) ** _t(t)


def mean_squared_drift(sigma2: float, n: int, t, ddof: int = 0):
    """E[(mu_t - mu)^2] = (sigma^2/n) sum_{s<t} c^s under replace ({prf:ref}`thm-02-mean-walk`).

    ddof = 1: sigma^2 t / n, the mean is a random walk; ddof = 0: sigma^2 (1 - c^t) -> sigma^2."""
    sigma2, n, ddof = _checks(sigma2, n, ddof)
    t = _t(t)
    c = variance_factor(n, ddof)
    if c == 1.0:
        return sigma2 * t / n
    return sigma2 / n * (1 - c**t) / (1 - c)


def expected_w2_squared(sigma2: float, n: int, t, ddof: int = 0):
    """E[W2^2(model_t, truth)] = E(mu_t - mu)^2 + E sigma_t^2 - 2 sigma E sigma_t + sigma^2
    under replace ({prf:ref}`thm-02-w2`); it tends to 2 sigma^2 for ddof = 0."""
    sigma2, n, ddof = _checks(sigma2, n, ddof)
    return (mean_squared_drift(sigma2, n, t, ddof) + expected_variance(sigma2, n, t, ddof)
            - 2 * np.sqrt(sigma2) * expected_std(sigma2, n, t, ddof) + sigma2)


def accumulate_moments(sigma2: float, n: int, generations: int, ddof: int = 0):
    """Exact E[sigma_t^2] and E[(mu_t - mu)^2], t = 0..T, under accumulate ({prf:ref}`thm-02-accumulate`).

    With W_t the pooled scatter of the n t points seen by model t:
    E W_t = E W_{t-1} + (n - 1 + (t-1)/t) E sigma_{t-1}^2,   sigma_t^2 = W_t / (n t - ddof),
    E(mu_t - mu)^2 = E(mu_{t-1} - mu)^2 + E sigma_{t-1}^2 / (n t^2).
    Returns (expected_variance, expected_mean_sq_error), two arrays of length T + 1.
    """
    sigma2, n, ddof = _checks(sigma2, n, ddof)
    generations = check_int("generations", generations, minimum=0)
    var = np.empty(generations + 1)
    msd = np.empty(generations + 1)
    var[0], msd[0], scatter = sigma2, 0.0, 0.0
    for t in range(1, generations + 1):
        scatter += (n - 1 + (t - 1) / t) * var[t - 1]
        msd[t] = msd[t - 1] + var[t - 1] / (n * t**2)
        var[t] = scatter / (n * t - ddof)
    return var, msd


def accumulate_mean_bound(sigma2: float, n: int) -> float:
    """sup_t E(mu_t - mu)^2 <= (pi^2/6) sigma^2 / n under accumulate ({prf:ref}`thm-02-accumulate`)."""
    sigma2, n, _ = _checks(sigma2, n, 0)
    return float(np.pi**2 / 6 * sigma2 / n)


def accumulate_variance_limit(sigma2: float, n: int, ddof: int = 0, terms: int = 200_000) -> float:
    """lim_t E[sigma_t^2] under accumulate: sigma^2 (n-1)/(n-ddof) prod_{t>=2} (1 - 1/(t (n t - ddof))) > 0."""
    sigma2, n, ddof = _checks(sigma2, n, ddof)
    t = np.arange(2, terms, dtype=float)
    log_prod = np.sum(np.log1p(-1.0 / (t * (n * t - ddof))))
    # tail of the product beyond `terms`: sum_{t>=terms} 1/(n t^2) ~ 1/(n terms)
    log_prod -= 1.0 / (n * terms)
    return float(sigma2 * (n - 1) / (n - ddof) * np.exp(log_prod))
