"""Distances between fitted models and the truth, batched over chains.

Closed forms for Gaussians (used in chapter 2, {prf:ref}`thm-02-w2`).  Every function returns
an array of shape (R,).
"""
from __future__ import annotations

import numpy as np

from ._validate import check_normal1d, check_normal_mv
from .models.gaussian import Normal1DParams, NormalParams


def _pair(p, q, what, names=("p", "q")):
    """Validate two models of one family whose chain counts broadcast (equal, or one is 1)."""
    a, b = names
    if isinstance(p, Normal1DParams) and isinstance(q, Normal1DParams):
        check_normal1d(a, p)
        check_normal1d(b, q)
        rp, rq = p.mean.shape[0], q.mean.shape[0]
    elif isinstance(p, NormalParams) and isinstance(q, NormalParams):
        check_normal_mv(a, p)
        check_normal_mv(b, q)
        if p.mean.shape[1] != q.mean.shape[1]:
            raise ValueError(f"{a} and {b} must have one dimension, got {p.mean.shape[1]} and {q.mean.shape[1]}")
        rp, rq = p.mean.shape[0], q.mean.shape[0]
    else:
        bad = a if not isinstance(p, (Normal1DParams, NormalParams)) else b
        raise ValueError(f"{what} needs {a} and {b} both Normal1DParams or both NormalParams, got "
                         f"{type(p).__name__} and {type(q).__name__} (check {bad})")
    if rp != rq and 1 not in (rp, rq):
        raise ValueError(f"{a} and {b} hold {rp} and {rq} chains: they must be equal, or one of them 1")


def _sqrtm_psd(a: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(a)
    return (v * np.sqrt(np.clip(w, 0.0, None))[..., None, :]) @ np.swapaxes(v, -1, -2)


def w2_squared(p, q) -> np.ndarray:
    """Squared 2-Wasserstein distance between normal models p and q (chains broadcast).

    1-D: (m_p - m_q)^2 + (s_p - s_q)^2.  d-dim: |m_p - m_q|^2 + tr(S_p + S_q - 2 (S_q^{1/2} S_p S_q^{1/2})^{1/2}).
    Both are validated (finite means, non-negative variances, PSD covariances).
    """
    _pair(p, q, "w2_squared")
    if isinstance(p, Normal1DParams) and isinstance(q, Normal1DParams):
        return (p.mean - q.mean) ** 2 + (np.sqrt(p.var) - np.sqrt(q.var)) ** 2
    if isinstance(p, NormalParams) and isinstance(q, NormalParams):
        rq = _sqrtm_psd(q.cov)
        cross = _sqrtm_psd(rq @ p.cov @ rq)
        tr = np.trace(p.cov + q.cov - 2 * cross, axis1=-2, axis2=-1)
        return np.sum((p.mean - q.mean) ** 2, axis=-1) + np.clip(tr, 0.0, None)
    raise ValueError("w2_squared needs two Normal1DParams or two NormalParams")


def w2(p, q) -> np.ndarray:
    """2-Wasserstein distance between normal models (square root of :func:`w2_squared`)."""
    return np.sqrt(w2_squared(p, q))


def kl_gaussian(p, q) -> np.ndarray:
    """KL(p || q) between normal models; +inf where q is degenerate (zero variance, singular
    covariance) or p is degenerate and q is not (a point mass has infinite KL to a density).

    Chapter 2 uses KL(truth || model): the loss of a model that has collapsed is infinite.
    Both models are validated (finite means, non-negative variances, PSD covariances).
    """
    _pair(p, q, "kl_gaussian")
    if isinstance(p, Normal1DParams) and isinstance(q, Normal1DParams):
        with np.errstate(divide="ignore", invalid="ignore"):
            out = 0.5 * (p.var / q.var + (p.mean - q.mean) ** 2 / q.var - 1 + np.log(q.var / p.var))
        return np.where(q.var > 0, out, np.inf)
    if isinstance(p, NormalParams) and isinstance(q, NormalParams):
        d = p.mean.shape[-1]
        sign_q, logdet_q = np.linalg.slogdet(q.cov)
        sign_p, logdet_p = np.linalg.slogdet(p.cov)
        logdet_p = np.where(sign_p > 0, logdet_p, -np.inf)
        ok = sign_q > 0
        ok = np.broadcast_to(ok, np.broadcast_shapes(ok.shape, sign_p.shape))
        safe_q = np.where(ok[:, None, None], np.broadcast_to(q.cov, ok.shape + (d, d)), np.eye(d))
        inv = np.linalg.inv(safe_q)
        diff = q.mean - p.mean
        out = 0.5 * (np.trace(inv @ p.cov, axis1=-2, axis2=-1) + np.einsum("ri,rij,rj->r", diff, inv, diff)
                     - d + logdet_q - logdet_p)
        return np.where(ok, out, np.inf)
    raise ValueError("kl_gaussian needs two Normal1DParams or two NormalParams")


def w2_to_truth(params, truth) -> np.ndarray:
    """Metric for :func:`collapselab.loop.run_loop`: W2 from each chain's model to the truth."""
    _pair(params, truth, "w2_to_truth", ("params", "truth"))
    return w2(params, truth)


def kl_truth_to_model(params, truth) -> np.ndarray:
    """Metric for :func:`collapselab.loop.run_loop`: KL(truth || model)."""
    _pair(truth, params, "kl_truth_to_model", ("truth", "params"))
    return kl_gaussian(truth, params)
