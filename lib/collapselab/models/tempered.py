"""A refitted Gaussian with a tunable sensitivity: the tempered sampler of chapter 8.

The model is fitted exactly like :class:`~collapselab.models.gaussian.Gaussian1D` (pooled mean
and scatter), but its *sampler* is distorted: model (m, v) generates from

    N(g m + b, tau^2 v)

* ``tau`` is a temperature: tau > 1 inflates the spread of the samples (high-entropy errors),
  tau < 1 sharpens it (overconfident, mode-seeking sampling);
* ``gain`` g and ``bias`` b move the samples' centre.

Refitting to such samples multiplies the variance by tau^2 (n-1)/(n-ddof) in expectation and the
mean's deviation by g, so the sensitivities of {prf:ref}`def-08-sensitivity` are
L_var = tau^2 (n-1)/(n-ddof) and L_mean = |g|; under ``mix(alpha)`` the loop is a contraction
iff (1 - alpha) L < 1 ({prf:ref}`thm-08-tempered`, {prf:ref}`thm-08-threshold`).

The distortion is a synthetic sampler, :class:`Tempered` (see :mod:`collapselab.sources`):
``run_loop(Gaussian1D(), truth, synthetic=Tempered(tau), ...)``.  :class:`TemperedGaussian1D`
is the Gaussian model that names that sampler as its default (its attribute ``synthetic``), so
``run_loop(TemperedGaussian1D(tau), truth, ...)`` is the same run.  Model 0 is the truth: the
loop samples it (generation 1's data, and every real batch) with the model's own, untempered
sampler, so generation 1 trains on real data only, as everywhere in the book.  The exact
(sufficient-statistics) path of the Gaussian is kept.  Checked in ``tests/test_contraction.py``.
"""
from __future__ import annotations

import numpy as np

from .._validate import as_rng, check_count, check_fraction, check_int, check_normal1d, check_real
from ..sources import ParamSampler
from .gaussian import Gaussian1D, Normal1DParams


class Tempered(ParamSampler):
    """Synthetic sampler for 1-D normal models: a fitted model (m, v) generates from
    N(g m + b, tau^2 v) (chapter 8, {prf:ref}`def-08-tempered`).

    Parameters
    ----------
    tau : float > 0
        Temperature (standard-deviation multiplier); tau = 1, gain = 1, bias = 0 is the model's
        own sampler, draw for draw.
    gain, bias : float
        The samples' centre is ``gain * mean + bias``.
    """

    exact_stats = True

    def __init__(self, tau: float = 1.0, gain: float = 1.0, bias: float = 0.0):
        # tau^2 scales variances: it must be a positive finite float64 (no overflow to inf or
        # underflow to 0), hence |log10 tau| <= 150; gain and bias likewise stay finite when squared
        self.tau = check_real("tau", tau, minimum=1e-150, maximum=1e150)
        self.gain = check_real("gain", gain, minimum=-1e150, maximum=1e150)
        self.bias = check_real("bias", bias, minimum=-1e150, maximum=1e150)

    def __repr__(self):
        return f"Tempered(tau={self.tau:g}, gain={self.gain:g}, bias={self.bias:g})"

    def sampler_params(self, params) -> Normal1DParams:
        """The distribution a fitted model with parameters ``params`` samples from."""
        check_normal1d("params", params)
        return Normal1DParams(self.gain * params.mean + self.bias, self.tau**2 * params.var)


class TemperedGaussian1D(Gaussian1D):
    """The refitted 1-D normal whose fitted models generate through :class:`Tempered`
    (N(g m + b, tau^2 v)); fitting, statistics and its own ``sample``/``sample_stats`` (used for
    the truth) are :class:`Gaussian1D`'s.

    Parameters
    ----------
    tau : float > 0
        Sampling temperature (standard-deviation multiplier).  tau = 1, g = 1, b = 0 is
        exactly :class:`Gaussian1D`.
    gain, bias : float
        The sampler's centre is ``gain * mean + bias``.
    ddof : int
        0 (maximum likelihood) or 1 (unbiased variance), as in :class:`Gaussian1D`.
    """

    name = "tempered-gaussian-1d"

    def __init__(self, tau: float = 1.0, gain: float = 1.0, bias: float = 0.0, ddof: int = 0):
        super().__init__(ddof=ddof)
        self.synthetic = Tempered(tau, gain, bias)

    @property
    def tau(self) -> float:
        return self.synthetic.tau

    @property
    def gain(self) -> float:
        return self.synthetic.gain

    @property
    def bias(self) -> float:
        return self.synthetic.bias

    def __repr__(self):
        return (f"TemperedGaussian1D(tau={self.tau:g}, gain={self.gain:g}, bias={self.bias:g}, "
                f"ddof={self.ddof})")

    def sampler_params(self, params) -> Normal1DParams:
        """The distribution a fitted model with parameters ``params`` samples from."""
        return self.synthetic.sampler_params(params)

    def sensitivity(self, n: int) -> dict[str, float]:
        """L for the mean (|g|) and for the variance (tau^2 (n-1)/(n-ddof)), batch size n."""
        n = check_int("n", n, minimum=2)
        return {"mean": abs(self.gain), "var": self.tau**2 * (n - 1) / (n - self.ddof)}


def stability_point(alpha: float, tau: float, *, n: int = 50, generations: int = 40,
                    replicates: int = 400, ddof: int = 1, gain: float = 1.0, exact: bool = True,
                    window: int = 10, seed=None) -> dict:
    """One point of the stability map of chapter 8 (a module-level function for
    :func:`collapselab.sweep.run_sweep`).

    Runs ``replicates`` chains of :class:`TemperedGaussian1D` under ``mix(alpha)`` from the truth
    N(0, 1) and returns plain floats: ``final_var`` (mean fitted variance at the last generation),
    ``final_msd`` (mean squared error of the mean), ``growth`` (per-generation growth factor of
    the mean variance over the last ``window`` generations), ``median_var`` and ``kappa``
    (the predicted (1 - alpha) tau^2 (n-1)/(n-ddof))."""
    from ..loop import run_loop
    from ..schedules import mix

    alpha = check_fraction("alpha", alpha)
    generations = check_count("generations", generations, minimum=1)
    window = check_int("window", window, minimum=1, maximum=generations)
    model = TemperedGaussian1D(tau=tau, gain=gain, ddof=ddof)
    try:
        traj = run_loop(model, model.params(0.0, 1.0), n=n, generations=generations,
                        replicates=replicates, schedule=mix(alpha), exact=exact, seed=as_rng(seed))
    except ValueError as exc:
        if "infinite" not in str(exc) and "NaN" not in str(exc):
            raise
        raise ValueError(f"the chains overflowed float64 within generations={generations} "
                         f"(tau={tau!r}, gain={gain!r}: the fitted variance or mean grows "
                         f"without bound): {exc}") from exc
    var = traj["var"]
    mean_var = var.mean(axis=1)
    growth = (mean_var[-1] / mean_var[-1 - window]) ** (1.0 / window)
    nr = int(round(alpha * n))
    return {"final_var": float(mean_var[-1]), "median_var": float(np.median(var[-1])),
            "final_msd": float(np.mean(traj["mean"][-1] ** 2)), "growth": float(growth),
            "kappa": float((1 - nr / n) * tau**2 * (n - 1) / (n - ddof))}
