"""Biased samplers for the categorical model: temperature, top-k and top-p (chapter 11).

:class:`BiasedCategorical` wraps a :class:`~collapselab.models.categorical.Categorical` (by
composition).  Fitting is the wrapped model's (maximum-likelihood or add-lambda frequencies from
counts); only the *sampler* is distorted: a fitted model with probabilities p generates from

    S(p) = top_p( top_k( p^(1/tau) / Z ) )

(temperature first, then top-k, then nucleus truncation, each renormalised; see
:func:`collapselab.theory.error_types.sampling_distribution`).  tau < 1 sharpens the
distribution (overconfident, mode-seeking errors), tau > 1 flattens it (high-entropy errors),
top-k and top-p cut the tail.

Model 0 is the truth and must sample *real* data, so parameters built by :meth:`params` (or
any plain probability array) are *unbiased* and parameters returned by :meth:`fit` are biased,
as for :class:`~collapselab.models.tempered.TemperedGaussian1D`.  Real data drawn by
:func:`collapselab.run_loop` through ``sample_stats(truth, ...)`` are therefore exact draws
from the truth.  Both samplers of the wrapped model are reused (``exact=True``: the multinomial
count vector; ``exact=False``: n inverse-CDF draws per chain), vectorised over chains.

:class:`BiasedParams` carries the probabilities (R, K) and the flag; ``np.asarray(params)``
returns the probabilities, so every categorical metric of :mod:`collapselab.models.categorical`
(``tv_to_truth``, ``kl_truth_to_model``, ``surviving_metric``, ...) accepts it.

With tau = 1, top_k None (or K) and top_p None (or 1) the sampler is the identity and a run is
*identical*, draw for draw, to one of the wrapped model with the same seed.
Chapter 11, {prf:ref}`def-11-samplers`; checked in ``tests/test_error_types.py``.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from .._validate import check_int
from ..theory import error_types as et
from .categorical import Categorical


@dataclass(frozen=True)
class BiasedParams:
    """Probabilities (R, K) of R chains and whether their sampler is biased.

    ``np.asarray(params)`` gives ``params.probs``."""

    probs: np.ndarray
    biased: bool = True

    def __array__(self, dtype=None, copy=None):
        a = self.probs if dtype is None else self.probs.astype(dtype, copy=False)
        return a.copy() if copy else a

    @property
    def shape(self) -> tuple[int, ...]:
        return self.probs.shape


def _probs_of(params) -> np.ndarray:
    return params.probs if isinstance(params, BiasedParams) else np.asarray(params, dtype=float)


class BiasedCategorical:
    """A refitted categorical model whose sampler uses a temperature and/or top-k / top-p.

    Parameters
    ----------
    base : Categorical or int
        The wrapped model (or K, for ``Categorical(K)``).  Its smoothing and ``keep`` options
        apply to fitting and recording.
    tau : float > 0
        Sampling temperature: the sampler draws from p^(1/tau)/Z.  Default 1.
    top_k : int in 1..K or None
        Keep only the k most probable categories (ties broken by index).  Default None.
    top_p : float in (0, 1] or None
        Keep the smallest set of most probable categories whose mass reaches top_p.

    Raises ValueError for tau <= 0 (or NaN, inf), top_k < 1 or > K, top_p outside (0, 1].
    """

    name = "biased-categorical"

    def __init__(self, base, tau: float = 1.0, top_k: int | None = None, top_p: float | None = None):
        if isinstance(base, numbers.Integral) and not isinstance(base, bool):
            base = Categorical(int(base))
        if not isinstance(base, Categorical):
            raise ValueError(f"base must be a Categorical model or a number of categories, got {base!r}")
        self.base = base
        self.n_categories = base.n_categories
        self.tau = et.check_tau(tau)
        self.top_k = et.check_top_k(top_k, self.n_categories)
        self.top_p = et.check_top_p(top_p)

    def __repr__(self):
        return (f"BiasedCategorical({self.base!r}, tau={self.tau:g}, top_k={self.top_k}, "
                f"top_p={self.top_p})")

    @property
    def is_identity(self) -> bool:
        """True when the sampler is the fitted distribution itself."""
        return (self.tau == 1.0 and (self.top_k is None or self.top_k == self.n_categories)
                and (self.top_p is None or self.top_p == 1.0))

    @property
    def label(self) -> str:
        """A short description for legends, e.g. 'tau=0.8' or 'top-k=5'."""
        parts = []
        if self.tau != 1.0:
            parts.append(f"τ={self.tau:g}")
        if self.top_k is not None and self.top_k < self.n_categories:
            parts.append(f"top-k={self.top_k}")
        if self.top_p is not None and self.top_p < 1.0:
            parts.append(f"top-p={self.top_p:g}")
        return ", ".join(parts) or "unbiased"

    # parameters -----------------------------------------------------------------------------
    def params(self, probs, replicates: int = 1) -> BiasedParams:
        """Unbiased parameters (a truth) for R chains, validated as by ``Categorical.params``."""
        return BiasedParams(self.base.params(probs, replicates), biased=False)

    def zipf(self, s: float = 1.1, replicates: int = 1) -> BiasedParams:
        """The unbiased Zipf(s) truth for R chains."""
        return BiasedParams(self.base.zipf(s, replicates), biased=False)

    def broadcast(self, params, replicates: int) -> BiasedParams:
        replicates = check_int("replicates", replicates, minimum=1)
        biased = bool(getattr(params, "biased", False))
        return BiasedParams(self.base.broadcast(_probs_of(params), replicates), biased=biased)

    def record(self, params) -> dict[str, np.ndarray]:
        return self.base.record(_probs_of(params))

    # statistics and fit ---------------------------------------------------------------------
    def stats(self, data) -> np.ndarray:
        return self.base.stats(data)

    def combine(self, a, b) -> np.ndarray:
        return self.base.combine(a, b)

    def fit(self, stats) -> BiasedParams:
        return BiasedParams(self.base.fit(stats), biased=True)

    # sampling -------------------------------------------------------------------------------
    def sampling_probs(self, params) -> np.ndarray:
        """The distribution (R, K) each chain's model actually samples from: S(p) for fitted
        (biased) parameters, p itself for a truth or a plain array."""
        probs = _probs_of(params)
        if not getattr(params, "biased", False) or self.is_identity:
            return probs
        return et.sampling_distribution(probs, self.tau, self.top_k, self.top_p)

    def sample(self, params, n: int, rng) -> np.ndarray:
        """n category indices per chain drawn from :meth:`sampling_probs`, shape (R, n)."""
        return self.base.sample(self.sampling_probs(params), n, rng)

    def sample_stats(self, params, n: int, rng, exact: bool = False) -> np.ndarray:
        """Counts (R, K) of n draws from :meth:`sampling_probs` (both samplers of the base)."""
        return self.base.sample_stats(self.sampling_probs(params), n, rng, exact=exact)


# metrics with run_loop's signature f(params, truth) -> (R,) -----------------------------------
def entropy_metric(params, truth=None) -> np.ndarray:
    """Metric for :func:`collapselab.run_loop`: Shannon entropy (nats) of each fitted model."""
    return et.entropy(np.asarray(params, dtype=float))


def error_metrics() -> dict:
    """The chapter's metrics: ``entropy`` of the fitted model, ``tv`` and ``kl`` (truth ||
    model) to the truth, and ``surviving`` categories."""
    from .categorical import kl_truth_to_model, surviving_metric, tv_to_truth
    return {"entropy": entropy_metric, "tv": tv_to_truth, "kl": kl_truth_to_model,
            "surviving": surviving_metric}
