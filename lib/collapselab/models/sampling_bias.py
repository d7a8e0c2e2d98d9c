"""Biased samplers for the categorical model: temperature, top-k and top-p (chapter 11).

:class:`BiasedCategorical` wraps a :class:`~collapselab.models.categorical.Categorical` (by
composition).  Fitting is the wrapped model's (maximum-likelihood or add-lambda frequencies from
counts); only the *sampler* is distorted: a fitted model with probabilities p generates from

    S(p) = top_p( top_k( p^(1/tau) / Z ) )

(temperature first, then top-k, then nucleus truncation, each renormalised; see
:func:`collapselab.theory.error_types.sampling_distribution`).  tau < 1 sharpens the
distribution (overconfident, mode-seeking errors), tau > 1 flattens it (high-entropy errors),
top-k and top-p cut the tail.

The distortion is a synthetic sampler, :class:`CategoricalBias` (see
:mod:`collapselab.sources`): ``run_loop(Categorical(K), truth, synthetic=CategoricalBias(tau=0.8),
...)``.  :class:`BiasedCategorical` is the categorical model that names that sampler as its
default (attribute ``synthetic``), so ``run_loop(BiasedCategorical(K, tau=0.8), truth, ...)`` is
the same run.  Model 0 is the truth: the loop samples it (generation 1's data, and every real
batch) with the model's own, unbiased sampler.  Both samplers of the wrapped model are reused
(``exact=True``: the multinomial count vector; ``exact=False``: n inverse-CDF draws per chain),
vectorised over chains.  Parameters are plain probability arrays (R, K), so every categorical
metric of :mod:`collapselab.models.categorical` accepts them.

With tau = 1, top_k None (or K) and top_p None (or 1) the sampler is the identity and a run is
*identical*, draw for draw, to one of the wrapped model with the same seed.
Chapter 11, {prf:ref}`def-11-samplers`; checked in ``tests/test_error_types.py``.
"""
from __future__ import annotations

import numbers

import numpy as np

from .._validate import check_int, check_probs
from ..sources import ParamSampler
from ..theory import error_types as et
from .categorical import Categorical


class CategoricalBias(ParamSampler):
    """Synthetic sampler for categorical models: a fitted model with probabilities p generates
    from S(p) = top_p(top_k(p^(1/tau) / Z)) (chapter 11, {prf:ref}`def-11-samplers`).

    Parameters
    ----------
    tau : float > 0
        Sampling temperature.  Default 1.
    top_k : int >= 1 or None
        Keep only the k most probable categories (ties broken by index); checked against K
        when the sampler is given to a :class:`BiasedCategorical` or when it samples.
    top_p : float in (0, 1] or None
        Keep the smallest set of most probable categories whose mass reaches top_p.
    """

    exact_stats = True

    def __init__(self, tau: float = 1.0, top_k: int | None = None, top_p: float | None = None):
        self.tau = et.check_tau(tau)
        if top_k is not None:
            if isinstance(top_k, bool) or not isinstance(top_k, numbers.Integral) or top_k < 1:
                raise ValueError(f"top_k must be a positive integer or None, got {top_k!r}")
            top_k = int(top_k)
        self.top_k = top_k
        self.top_p = et.check_top_p(top_p)

    def __repr__(self):
        return f"CategoricalBias(tau={self.tau:g}, top_k={self.top_k}, top_p={self.top_p})"

    def is_identity_for(self, K: int) -> bool:
        """True when, for K categories, the sampler is the fitted distribution itself."""
        K = check_int("K", K, minimum=2)
        return (self.tau == 1.0 and (self.top_k is None or self.top_k >= K)
                and (self.top_p is None or self.top_p == 1.0))

    def sampler_params(self, params) -> np.ndarray:
        """The distribution (R, K) a fitted model with probabilities ``params`` samples from."""
        probs = check_probs("params", params)
        K = probs.shape[-1]
        if self.is_identity_for(K):
            return probs
        return et.sampling_distribution(probs, self.tau, et.check_top_k(self.top_k, K), self.top_p)


class BiasedCategorical(Categorical):
    """A refitted categorical model whose fitted models generate through :class:`CategoricalBias`.

    Parameters
    ----------
    base : Categorical or int
        The model whose fitting, smoothing and ``keep`` options are used (or K, for
        ``Categorical(K)``).
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
            base = Categorical(check_int("base", base, minimum=2))
        if not isinstance(base, Categorical):
            raise ValueError(f"base must be a Categorical model or a number of categories, got {base!r}")
        self.__dict__.update(base.__dict__)   # the base's K, smoothing and keep
        self.base = base
        self.synthetic = CategoricalBias(tau, et.check_top_k(top_k, base.n_categories), top_p)

    tau = property(lambda self: self.synthetic.tau)
    top_k = property(lambda self: self.synthetic.top_k)
    top_p = property(lambda self: self.synthetic.top_p)

    def __repr__(self):
        return (f"BiasedCategorical({self.base!r}, tau={self.tau:g}, top_k={self.top_k}, "
                f"top_p={self.top_p})")

    @property
    def is_identity(self) -> bool:
        """True when the sampler is the fitted distribution itself."""
        return self.synthetic.is_identity_for(self.n_categories)

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

    def sampling_probs(self, params) -> np.ndarray:
        """The distribution (R, K) a *fitted* model with probabilities ``params`` samples from,
        S(p).  (The truth is sampled as it is: the loop draws it with the model's own sampler.)"""
        return self.synthetic.sampler_params(self._checked(params))


# metrics with run_loop's signature f(params, truth) -> (R,) -----------------------------------
def entropy_metric(params, truth=None) -> np.ndarray:
    """Metric for :func:`collapselab.run_loop`: Shannon entropy (nats) of each fitted model."""
    return et.entropy(check_probs("params", params))


def error_metrics() -> dict:
    """The chapter's metrics: ``entropy`` of the fitted model, ``tv`` and ``kl`` (truth ||
    model) to the truth, and ``surviving`` categories."""
    from .categorical import kl_truth_to_model, surviving_metric, tv_to_truth
    return {"entropy": entropy_metric, "tv": tv_to_truth, "kl": kl_truth_to_model,
            "surviving": surviving_metric}
