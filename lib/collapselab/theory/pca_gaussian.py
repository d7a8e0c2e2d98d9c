"""Exact laws of the recursively refitted class-conditional PPCA (chapter 14, chapters/14_capstone.md).

Three facts about :class:`collapselab.models.pca_gaussian.PCAGaussian`, each checked against
simulation in ``tests/test_capstone.py``:

* {prf:ref}`prop-14-trace`: the total variance tr Sigma_t and the squared drift of the mean
  |m_t - m_0|^2 have the expectations of the one-dimensional Gaussian of chapter 2 with sigma^2
  replaced by tr Sigma_0, under every schedule with fresh real data
  (:func:`expected_total_variance`), provided the real data have model 0's mean and total variance;
* the class frequencies are a Wright--Fisher chain under replace, so the expected heterozygosity
  1 - sum_c w_c^2 decays by (1 - 1/n) per generation (:func:`expected_heterozygosity`);
* {prf:ref}`prop-14-noise`: given its class count m, a class's residual variance contracts at
  least as fast as its trace in one generation of replace, E[sigma_t^2 | past, m] <=
  (1 - 1/m) sigma_(t-1)^2 (:func:`noise_variance_bound`).
"""
from __future__ import annotations

import numpy as np

from .._validate import check_array, check_int, check_real
from .gaussian import schedule_moments


def expected_total_variance(trace0: float, n: int, generations: int, schedule):
    """(E tr Sigma_t, E |m_t - m_0|^2), t = 0..T, for the refitted class-conditional PPCA
    ({prf:ref}`prop-14-trace`): the recursion of
    :func:`collapselab.theory.gaussian.schedule_moments` (MLE, ddof = 0) with sigma^2 = tr Sigma_0.

    Valid for any number of classes and components, for every schedule that draws fresh real data
    whose mean and total variance equal model 0's (bootstrap resampling of the data set that
    model 0 was fitted to)."""
    trace0 = check_real("trace0", trace0, minimum=0.0, strict_min=True)
    return schedule_moments(trace0, n, generations, schedule, ddof=0)


def expected_heterozygosity(weights0, n: int, t):
    """E[1 - sum_c w_(t,c)^2] = (1 - sum_c w_(0,c)^2) (1 - 1/n)^t under replace: the class
    frequencies of the refitted model are a Wright--Fisher chain with population n
    ({prf:ref}`prop-14-trace`, part 2)."""
    w = check_array("weights0", weights0, ndim=1, nonnegative=True)
    if abs(w.sum() - 1.0) > 1e-8:
        raise ValueError("weights0 must sum to 1")
    n = check_int("n", n, minimum=1)
    t = np.asarray(t)
    if not np.issubdtype(t.dtype, np.integer) or np.any(t < 0):
        raise ValueError("t must be a non-negative integer or an array of them")
    return (1.0 - np.sum(w**2)) * (1.0 - 1.0 / n) ** t


def noise_variance_bound(noise_var, m):
    """Upper bound (1 - 1/m) sigma^2 on E[sigma_t^2 | model t-1, class count m] under replace
    ({prf:ref}`prop-14-noise`): Ky Fan's maximum principle makes the sum of the top k eigenvalues
    convex, so Jensen's inequality moves variance *into* the kept directions on average."""
    s2 = check_array("noise_var", noise_var, nonnegative=True)
    m = np.asarray(m)
    if m.dtype.kind not in "iu" or np.any(m < 1):
        raise ValueError("m must be a positive integer or an array of them")
    return s2 * (1.0 - 1.0 / m)
