"""Exact moments of the 1-D Gaussian under accumulate-subsample (Kazdan et al. 2024's central
setting; the schedule :func:`collapselab.schedules.accumulate_subsample`, chapter 9's family of
schedules).

Every generation adds a batch of n points (n_r = round(alpha n) fresh real, n_s = n - n_r from
the previous model) to a pool that keeps everything; model t is fitted to a subsample of
k_t = min(k, N_t) points of the pool of N_t points, drawn uniformly without replacement.

Why the moments close.  The choice of subsample is independent of the values, so given the pool
(sum S, sum of squares Q, size N; truth mean 0 without loss of generality) the subsample mean has
E[m | pool] = S/N and Var[m | pool] = s2 (N - k) / (k (N - 1)), with s2 = Q/N - (S/N)^2 the
pool's population variance, and the subsample's scatter has E = (k - 1) N s2 / (N - 1) (the
sample variance is unbiased for the finite population's N s2 / (N - 1)).  A synthetic batch of
n_s points drawn from N(m, v) adds n_s m + sqrt(n_s v) Z to S and n_s (m^2 + v) in expectation
to Q; a real batch adds n_r sigma^2 to both E S^2 and E Q.  Hence, with E[m S] = E S^2 / N,

    E S'^2 = E S^2 (1 + 2 n_s / N) + n_s^2 E m^2 + n_s E v + n_r sigma^2,
    E Q'   = E Q + n_s (E m^2 + E v) + n_r sigma^2,

a linear recursion in (E S^2, E Q) that gives E m_t^2 and E v_t exactly.  With k >= N (a pool
no larger than the subsample) it is accumulate, and the formulas reduce to
:func:`collapselab.theory.gaussian.schedule_moments` for ``accumulate_mix(alpha)``.  Checked in
``tests/test_schedules_and_loop.py`` (both the reduction and simulation of the loop).
"""
from __future__ import annotations

import numpy as np

from .._validate import check_count, check_fraction, check_int, check_real


def gaussian_moments(n: int, generations: int, *, size: int | None = None, alpha: float = 0.0,
                     sigma2: float = 1.0, ddof: int = 0, known_variance: bool = False):
    """Exact E[sigma_t^2] and E[(mu_t - mu)^2], t = 0..T, for the refitted 1-D Gaussian
    (:class:`~collapselab.models.gaussian.Gaussian1D`, or the known-variance model
    :class:`~collapselab.models.contaminated.KnownVarianceGaussian1D` with
    ``known_variance=True``) under ``accumulate_subsample(size, alpha)`` with batch size n
    (module docstring for the derivation).

    ``size`` is the subsample size k (default n); ``sigma2`` the true variance; ``ddof`` the
    variance estimator's (0: maximum likelihood).  Returns two arrays of length T + 1
    (generation 0 is the truth: sigma^2 and 0)."""
    n = check_int("n", n, minimum=1)
    generations = check_count("generations", generations, minimum=0, per_item=2.0)
    k = n if size is None else check_int("size", size, minimum=1)
    alpha = check_fraction("alpha", alpha)
    sigma2 = check_real("sigma2", sigma2, minimum=0.0, strict_min=True)
    ddof = check_int("ddof", ddof, minimum=0, maximum=1)
    if not isinstance(known_variance, (bool, np.bool_)):
        raise ValueError(f"known_variance must be True or False, got {known_variance!r}")
    if not known_variance and min(k, n) - ddof < 1:
        raise ValueError(f"a subsample of {min(k, n)} point(s) cannot fit the variance with "
                         f"ddof={ddof}")
    n_r = int(round(alpha * n))
    n_s = n - n_r
    var = np.empty(generations + 1)
    msd = np.empty(generations + 1)
    var[0], msd[0] = sigma2, 0.0
    # pool after generation 1: n points of model 0 (the truth)
    N, ES2, EQ = n, n * sigma2, n * sigma2
    for t in range(1, generations + 1):
        kt = min(k, N)
        pop = EQ / N - ES2 / N**2                     # E of the pool's population variance
        shrink = (N - kt) / (kt * (N - 1)) if N > 1 else 0.0
        m2 = ES2 / N**2 + pop * shrink
        if known_variance:
            v = sigma2
        else:
            v = (kt - 1) / (kt - ddof) * (N / (N - 1) if N > 1 else 0.0) * pop
        var[t], msd[t] = v, m2
        if t == generations:
            break
        ES2 = ES2 * (1 + 2 * n_s / N) + n_s**2 * m2 + n_s * v + n_r * sigma2
        EQ = EQ + n_s * (m2 + v) + n_r * sigma2
        N += n
    return var, msd


__all__ = ["gaussian_moments"]
