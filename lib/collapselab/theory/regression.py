"""Closed forms for linear regression in the loop (chapter 4).

Convention: model 0 is the truth (w*, sigma^2) with covariates x ~ N(0, Sigma) in R^d; model
t >= 1 is the least-squares fit to T points whose labels were drawn from model t-1 with the same
noise variance sigma^2 (replace), or to the T t points labelled by models 0..t-1 (accumulate).
The risk is the excess test risk E|w_t - w*|^2_Sigma, which does not depend on Sigma or w*.

Two designs:

* *fresh*: new covariates from N(0, Sigma) in every generation (the book's default loop);
* *fixed*: one design matrix X (T x d) re-used in every generation, as in
  {cite}`gerstgrasser2024collapse`; the formulas then hold conditionally on X with
  sigma^2 tr(Sigma (X^T X)^{-1}) in place of sigma^2 d / (T - d - 1), its mean over Gaussian X.

Every function is checked against simulation in ``tests/test_regression.py``.
"""
from __future__ import annotations

import numpy as np
from scipy.special import digamma

from .._validate import check_array, check_int, check_real, check_size, check_steps


def _checks(sigma2, d, T):
    sigma2 = check_real("sigma2", sigma2, minimum=0.0)
    d = check_int("d", d, minimum=1)
    T = check_int("T", T, minimum=1)
    if T < d + 2:
        raise ValueError(f"T must be >= d + 2 = {d + 2} (d={d}) for a finite expected risk, got T = {T}")
    return sigma2, d, T


def _t(t, per_item: float = 0.0):
    """t: a non-negative integer or integer array (integral floats accepted, as everywhere);
    ``per_item``: array entries needed per generation up to max(t) (size guard)."""
    return check_steps("t", t, per_item=per_item, work_per_item=per_item)


def ols_risk(sigma2: float, d: int, T: int) -> float:
    """E|w_1 - w*|^2_Sigma = sigma^2 d / (T - d - 1): one OLS fit to T Gaussian points
    ({prf:ref}`lem-04-ols-risk`).  Needs T >= d + 2 (the risk is infinite for T = d, d + 1)."""
    sigma2, d, T = _checks(sigma2, d, T)
    return sigma2 * d / (T - d - 1)


def ols_risk_fixed(sigma2: float, design, cov=None) -> np.ndarray:
    """sigma^2 tr(Sigma (X^T X)^{-1}) for a design X of shape (T, d) or (R, T, d): the risk of
    one OLS fit conditionally on the design ({prf:ref}`lem-04-ols-risk`).  Returns a float for
    one design, an array (R,) for R designs."""
    sigma2 = check_real("sigma2", sigma2, minimum=0.0)
    X = check_array("design", design, ndim=(2, 3))
    one = X.ndim == 2
    X = X[None] if one else X
    d = X.shape[-1]
    if X.shape[1] < d:
        raise ValueError(f"design needs at least d = {d} rows, got {X.shape[1]}")
    gram = np.einsum("rni,rnj->rij", X, X)
    S = np.eye(d) if cov is None else check_array("cov", cov, ndim=2)
    if S.shape != (d, d):
        raise ValueError(f"cov must have shape ({d}, {d}), got {S.shape}")
    try:
        inv = np.linalg.inv(gram)
    except np.linalg.LinAlgError:
        raise ValueError("design must have full column rank") from None
    out = sigma2 * np.einsum("ij,rji->r", S, inv)
    return float(out[0]) if one else out


def replace_risk(sigma2: float, d: int, T: int, t):
    """E|w_t - w*|^2_Sigma = t sigma^2 d / (T - d - 1) under replace, fresh or fixed design
    ({prf:ref}`thm-04-replace`, after {cite}`dohmatob2024model`): linear growth."""
    return _t(t) * ols_risk(sigma2, d, T)


def accumulate_terms(d: int, T: int, t: int) -> np.ndarray:
    """The k-th increment of the accumulate risk in units of sigma^2, k = 1..t (fresh design):
    d / (k (k T - d - 1))  ({prf:ref}`thm-04-accumulate`)."""
    d = check_int("d", d, minimum=1)
    T = check_int("T", T, minimum=1)
    if T < d + 2:
        raise ValueError(f"T must be >= d + 2 = {d + 2} (d={d}), got T = {T}")
    t = check_int("t", t, minimum=0)
    check_size(f"t={t}", 3.0 * t)
    k = np.arange(1, t + 1, dtype=float)
    return d / (k * (k * T - d - 1))


def accumulate_risk(sigma2: float, d: int, T: int, t):
    """E|w_t - w*|^2_Sigma = sigma^2 d sum_{k=1}^t 1 / (k (k T - d - 1)) under accumulate with a
    fresh design each generation ({prf:ref}`thm-04-accumulate`).  Each term is at most
    1/k^2 times the one-generation risk, so the risk stays below (pi^2/6) sigma^2 d/(T-d-1)."""
    sigma2, d, T = _checks(sigma2, d, T)
    t = _t(t, per_item=3.0)
    cum = np.concatenate([[0.0], np.cumsum(accumulate_terms(d, T, int(t.max(initial=0))))])
    return sigma2 * cum[t]


def accumulate_risk_fixed(sigma2: float, d: int, T: int, t):
    """E|w_t - w*|^2_Sigma = sigma^2 d / (T - d - 1) sum_{k=1}^t 1/k^2 under accumulate with one
    fixed Gaussian design re-used every generation ({prf:ref}`thm-04-accumulate`,
    {cite}`gerstgrasser2024collapse`).  Conditionally on the design, replace
    sigma^2 d/(T-d-1) by :func:`ols_risk_fixed`."""
    sigma2, d, T = _checks(sigma2, d, T)
    t = _t(t, per_item=3.0)
    k = np.arange(1, int(t.max(initial=0)) + 1, dtype=float)
    cum = np.concatenate([[0.0], np.cumsum(1.0 / k**2)])
    return ols_risk(sigma2, d, T) * cum[t]


def accumulate_limit(sigma2: float, d: int, T: int) -> float:
    """lim_t E|w_t - w*|^2_Sigma under accumulate, fresh design:
    sigma^2 d / (d + 1) * (-psi(1 - (d + 1)/T) - gamma)  (partial fractions and the digamma
    series; {prf:ref}`thm-04-accumulate`)."""
    sigma2, d, T = _checks(sigma2, d, T)
    a = (d + 1) / T
    return float(sigma2 * d / (d + 1) * (-digamma(1.0 - a) - np.euler_gamma))


def accumulate_ratio(d: int, T: int, t):
    """E|w_t - w*|^2 / E|w_1 - w*|^2 under accumulate (fresh design): below sum_{k<=t} 1/k^2
    < pi^2/6, and tending to it as T -> infinity with d fixed."""
    return accumulate_risk(1.0, d, T, t) / ols_risk(1.0, d, T)


BASEL = float(np.pi**2 / 6)
"""pi^2 / 6 = sum_k 1/k^2: the bound on the accumulate-to-one-generation risk ratio."""
