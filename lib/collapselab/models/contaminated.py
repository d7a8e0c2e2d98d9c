"""A 1-D normal model that fits the mean only (chapter 7, {prf:ref}`thm-07-mix-mean`).

:class:`~collapselab.models.gaussian.Gaussian1D` always refits the variance, so it cannot express
the *known-variance* special case in which chapter 7 states its cleanest closed forms
(E(mu_t - mu)^2 = sigma^2 / (n alpha (2 - alpha)) in the limit under ``mix(alpha)``).  This model
keeps the variance fixed at its known value and refits the mean; everything else (statistics,
both samplers, pooling) is inherited.  Checked in ``tests/test_contamination.py``.
"""
from __future__ import annotations

import numpy as np

from .._validate import check_array, check_real, check_stats1d
from .gaussian import Gaussian1D, GaussStats1D, Normal1DParams


class KnownVarianceGaussian1D(Gaussian1D):
    """N(mu, var) with ``var`` known: ``fit`` returns the sample mean and the known variance.

    Parameters
    ----------
    var : float
        The known variance (> 0), shared by the truth and every fitted model.
    """

    name = "gaussian-1d-known-variance"

    def __init__(self, var: float = 1.0):
        super().__init__(ddof=0)
        self.known_var = check_real("var", var, minimum=0.0, strict_min=True)

    def __repr__(self):
        return f"KnownVarianceGaussian1D(var={self.known_var:g})"

    def params(self, mean=0.0, var=None, replicates: int = 1) -> Normal1DParams:
        """Parameters for R chains; ``var`` defaults to (and must equal) the known variance."""
        if var is not None:
            v = check_array("var", var, ndim=(0, 1))
            if not np.allclose(v, self.known_var):
                raise ValueError(f"var must equal the known variance {self.known_var:g}, "
                                 f"got {var!r}")
        return super().params(mean, self.known_var, replicates)

    def fit(self, stats: GaussStats1D) -> Normal1DParams:
        check_stats1d("stats", stats)
        if stats.count < 1:
            raise ValueError("need at least one point to fit the mean")
        return Normal1DParams(stats.mean.copy(), np.full(stats.mean.shape, self.known_var))
