"""Closed forms for the refitted Gaussian (chapter 2, chapters/02_gaussian.md).

Convention: model 0 is the truth N(mu, sigma^2); model t >= 1 is fitted to n points drawn from
model t-1 (replace) or to the n t points drawn from models 0..t-1 (accumulate).  ``ddof`` is 0
for the maximum-likelihood variance and 1 for the unbiased one.  :func:`schedule_moments` covers
every schedule with fresh real data; the ``mv_*`` functions the d-dimensional Gaussian
({prf:ref}`prop-02-multivariate`).  Each function is checked against simulation in
``tests/test_theory_gaussian.py``.
"""
from __future__ import annotations

import numpy as np
from scipy.special import digamma, gammaln, polygamma

from .._validate import check_count, check_int, check_real, check_steps, finite_result


def _checks(sigma2, n, ddof):
    sigma2 = check_real("sigma2", sigma2, minimum=0.0, strict_min=True)
    n = check_int("n", n, minimum=2)
    ddof = check_int("ddof", ddof, minimum=0, maximum=1)
    return sigma2, n, ddof


def _t(t):
    """t: a non-negative integer or integer array (integral floats accepted, as everywhere)."""
    return check_steps("t", t, per_item=0.0, work_per_item=0.0)


def variance_factor(n: int, ddof: int = 0) -> float:
    """c = E[sigma_t^2 / sigma_{t-1}^2] = (n - 1) / (n - ddof) under replace."""
    n = check_int("n", n, minimum=2)
    ddof = check_int("ddof", ddof, minimum=0, maximum=1)
    return (n - 1) / (n - ddof)


def expected_variance(sigma2: float, n: int, t, ddof: int = 0):
    """E[sigma_t^2] = sigma^2 ((n-1)/(n-ddof))^t under replace.

    {prf:ref}`thm-02-mle-variance` (ddof = 0: geometric decay) and
    {prf:ref}`thm-02-martingale` (ddof = 1: constant, a martingale).
    """
    sigma2, n, ddof = _checks(sigma2, n, ddof)
    return sigma2 * variance_factor(n, ddof) ** _t(t)


@finite_result('sigma2', 't')
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
    generations = check_count("generations", generations, minimum=0)
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
    terms = check_count("terms", terms, minimum=3, work_per_item=10.0)
    t = np.arange(2, terms, dtype=float)
    log_prod = np.sum(np.log1p(-1.0 / (t * (n * t - ddof))))
    # tail of the product beyond `terms`: sum_{t>=terms} 1/(n t^2) ~ 1/(n terms)
    log_prod -= 1.0 / (n * terms)
    return float(sigma2 * (n - 1) / (n - ddof) * np.exp(log_prod))


def schedule_moments(sigma2: float, n: int, generations: int, schedule, ddof: int = 0,
                     synthetic_factor=None):
    """Exact E[sigma_t^2] and E[(mu_t - mu)^2], t = 0..T, for the 1-D Gaussian under any schedule
    that draws *fresh* real data: replace, accumulate, mix(alpha), inject(k), all_real,
    accumulate_mix(alpha) ({prf:ref}`thm-02-accumulate`; reused in chapter 6).

    Generation t's batch holds n_r fresh real points and n_s = n - n_r samples of model t-1, with
    (n_r, n_s) = ``schedule.batch_sizes(t, n)`` as in :func:`collapselab.run_loop`.  Writing
    v = E sigma_{t-1}^2 and d = E(mu_{t-1} - mu)^2, the batch's expected scatter is
    (n_r - 1 + n_s/n) sigma^2 + (n_s - 1 + n_r/n) v + (n_r n_s / n) d, and its mean has
    E(b - mu)^2 = (n_s/n)^2 d + (n_r sigma^2 + n_s v)/n^2.  Without accumulation the model is fitted
    to the batch alone; with it the batch is pooled with the N = n (t-1) earlier points (Chan et
    al.'s update adds the between-group term N n/(N + n) E(b - mu_{t-1})^2 to the scatter).
    Every step is linear in (v, d), so the expectations close exactly.  Checked against
    simulation in ``tests/test_theory_gaussian.py``.

    ``synthetic_factor(t, n_s)``, if given, multiplies the expected variance of generation t's
    synthetic points (chapter 13's curated loop, {prf:ref}`thm-13-typicality`).

    Returns (expected_variance, expected_mean_sq_error), two arrays of length T + 1.
    """
    from ..schedules import Schedule

    sigma2, n, ddof = _checks(sigma2, n, ddof)
    generations = check_count("generations", generations, minimum=0)
    if not isinstance(schedule, Schedule):
        raise ValueError(f"schedule must be a Schedule, got {schedule!r}")
    if not schedule.fresh_real:
        raise ValueError("schedule must draw fresh real data (fresh_real=True): a fixed real "
                         "sample correlates the generations and has no closed form here")
    if getattr(schedule, "subsample", False):
        raise ValueError("schedule subsamples its pool: use "
                         "collapselab.theory.subsample.gaussian_moments")
    var = np.empty(generations + 1)
    msd = np.empty(generations + 1)
    var[0], msd[0], scatter = sigma2, 0.0, 0.0
    for t in range(1, generations + 1):
        n_r, n_s = schedule.batch_sizes(t, n)
        f = 1.0 if synthetic_factor is None else float(synthetic_factor(t, n_s))
        v, d = f * var[t - 1], msd[t - 1]      # v: expected variance of one synthetic point
        batch_scatter = (n_r - 1 + n_s / n) * sigma2 + (n_s - 1 + n_r / n) * v + n_r * n_s / n * d
        noise = (n_r * sigma2 + n_s * v) / n**2          # variance of b - E[b | past]
        if schedule.accumulate and t > 1:
            N = n * (t - 1)
            # b - mu_{t-1} = (n_r/n)(mu - mu_{t-1}) + noise
            between = N * n / (N + n) * ((n_r / n) ** 2 * d + noise)
            scatter = scatter + batch_scatter + between
            shrink = 1.0 - n_r / (n * t)                  # mu_t - mu = shrink (mu_{t-1} - mu) + noise / t
            msd[t] = shrink**2 * d + noise / t**2
            count = N + n
        else:
            scatter = batch_scatter
            msd[t] = (n_s / n) ** 2 * d + noise
            count = n
        if count - ddof < 1:
            raise ValueError(f"n must exceed ddof={ddof} to fit the variance")
        var[t] = scatter / (count - ddof)
    return var, msd


def _mv_checks(n, dim, ddof):
    dim = check_int("dim", dim, minimum=1)
    n = check_int("n", n, minimum=2)
    ddof = check_int("ddof", ddof, minimum=0, maximum=1)
    if n <= dim:
        raise ValueError(f"n must exceed dim (got n={n}, dim={dim}): with n <= dim the fitted "
                         "covariance is singular after one generation")
    return n, dim, ddof


def mv_det_factor(n: int, dim: int, ddof: int = 0) -> float:
    """E[det S_t / det S_{t-1}] = prod_{i<d} (n-1-i) / (n-ddof)^d for the refitted d-dim Gaussian
    under replace ({prf:ref}`prop-02-multivariate`): det of a Wishart(n-1, I_d) matrix is a
    product of independent chi^2_{n-1-i} variables (Bartlett)."""
    n, dim, ddof = _mv_checks(n, dim, ddof)
    i = np.arange(dim)
    return float(np.prod((n - 1 - i) / (n - ddof)))


def mv_log_det_drift(n: int, dim: int, ddof: int = 0) -> float:
    """E[log det S_t - log det S_{t-1}] = sum_{i<d} [psi((n-1-i)/2) + log 2 - log(n-ddof)] < 0
    ({prf:ref}`prop-02-multivariate`): log det S_t is a random walk with negative drift."""
    n, dim, ddof = _mv_checks(n, dim, ddof)
    i = np.arange(dim)
    return float(np.sum(digamma((n - 1 - i) / 2) + np.log(2.0) - np.log(n - ddof)))


def mv_log_det_step_variance(n: int, dim: int) -> float:
    """Var[log det S_t - log det S_{t-1}] = sum_{i<d} psi'((n-1-i)/2) ({prf:ref}`prop-02-multivariate`)."""
    n, dim, _ = _mv_checks(n, dim, 0)
    i = np.arange(dim)
    return float(np.sum(polygamma(1, (n - 1 - i) / 2)))


def mv_expected_trace(trace0: float, n: int, t, ddof: int = 0):
    """E[tr S_t] = tr S_0 ((n-1)/(n-ddof))^t under replace ({prf:ref}`prop-02-multivariate`):
    the trace follows the 1-D recursion of {prf:ref}`thm-02-mle-variance`."""
    trace0 = check_real("trace0", trace0, minimum=0.0, strict_min=True)
    n = check_int("n", n, minimum=2)
    ddof = check_int("ddof", ddof, minimum=0, maximum=1)
    return trace0 * variance_factor(n, ddof) ** _t(t)
