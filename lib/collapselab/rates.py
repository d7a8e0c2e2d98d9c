"""Power-law exponents fitted to error curves (chapter 7).

:func:`fit_exponent` fits err(t) ~ C t^(-r) (log t)^k by least squares of log err on log t over
a window of generations, with k a *known* power of the logarithm divided out first (at the
critical point alpha = p of contaminated recursive training the rate carries a log factor,
{prf:ref}`thm-07-crt-gauss`).  Given many chains it returns a standard error over chains:

* ``method="mean"`` (default): the exponent of the chain-averaged curve, with a delete-one-group
  jackknife standard error over ``groups`` groups of chains;
* ``method="chains"``: the mean of the per-chain exponents and its standard error sd / sqrt(R).

:func:`crt_exponent` is the exponent min(p, alpha[, q]) the fit is compared with.
Checked in ``tests/test_crt_nonparametric.py`` (synthetic power laws) and used by chapter 7.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import check_array, check_fraction, check_int, check_real


@dataclass(frozen=True)
class ExponentFit:
    """r in err ~ C t^(-r) (log t)^k: ``exponent`` r, its ``stderr``, ``log_constant`` log C, the
    ``window`` (t_lo, t_hi) and number of ``points`` used, the ``method`` and ``log_power`` k."""

    exponent: float
    stderr: float
    log_constant: float
    window: tuple[float, float]
    points: int
    method: str
    log_power: float

    def within(self, target: float, k: float = 3.0) -> bool:
        """|exponent - target| <= k standard errors."""
        return bool(abs(self.exponent - target) <= k * self.stderr)


def _slope(x, Y):
    """Least-squares slope and intercept of each column of Y (P, C) on x (P,)."""
    xc = x - x.mean()
    slope = xc @ (Y - Y.mean(axis=0)) / (xc @ xc)
    return slope, Y.mean(axis=0) - slope * x.mean()


def fit_exponent(t, err, window=None, log_power: float = 0.0, method: str = "mean",
                 groups: int = 20) -> ExponentFit:
    """Fit err(t) ~ C t^(-r) (log t)^k over a window of t.

    Parameters
    ----------
    t : (P,) increasing positive generations (or pool sizes).
    err : (P,) one curve, or (P, R) one column per chain; positive.
    window : (t_lo, t_hi); default (t_max / 10, t_max): the last decade.
    log_power : k, a known power of log t divided out before the fit (needs t > 1).
    method : "mean" or "chains" (see the module docstring).  For a single curve the standard
        error is the ordinary least-squares one.
    groups : number of jackknife groups for ``method="mean"`` (at most R).
    """
    t = check_array("t", t, ndim=1, positive=True)
    err = check_array("err", err, ndim=(1, 2), positive=True)
    if err.shape[0] != t.size:
        raise ValueError(f"err must have {t.size} rows (one per t), got {err.shape[0]}")
    if t.size > 1 and np.any(np.diff(t) <= 0):
        raise ValueError("t must be strictly increasing")
    # a power of log t: |k| beyond 100 would overflow (log log t)^k for any t in float64 range
    log_power = check_real("log_power", log_power, minimum=-100.0, maximum=100.0)
    groups = check_int("groups", groups, minimum=2)
    if method not in ("mean", "chains"):
        raise ValueError(f"method must be 'mean' or 'chains', got {method!r}")
    if window is None:
        window = (t[-1] / 10.0, t[-1])
    try:
        lo, hi = (float(v) for v in window)
    except (TypeError, ValueError):
        raise ValueError(f"window must be a pair (t_lo, t_hi), got {window!r}") from None
    if not lo < hi:
        raise ValueError(f"window must have t_lo < t_hi, got {window!r}")
    keep = (t >= lo) & (t <= hi)
    if keep.sum() < 3:
        raise ValueError(f"the window {window} holds {int(keep.sum())} points; need at least 3")
    tw = t[keep]
    if log_power != 0.0 and np.any(tw <= 1.0):
        raise ValueError("a log correction needs t > 1 in the window")
    x = np.log(tw)
    corr = log_power * np.log(np.log(tw)) if log_power != 0.0 else 0.0
    E = err[keep] if err.ndim == 2 else err[keep][:, None]
    R = E.shape[1]

    def fit(curve):                       # curve (P,) -> (r, log C)
        slope, icpt = _slope(x, (np.log(curve) - corr)[:, None])
        return -float(slope[0]), float(icpt[0])

    if R == 1 or err.ndim == 1:
        r, c = fit(E[:, 0] if R == 1 else E.mean(axis=1))
        y = np.log(E[:, 0]) - corr
        resid = y - (c - r * x)
        dof = max(1, x.size - 2)
        se = float(np.sqrt(resid @ resid / dof / ((x - x.mean()) @ (x - x.mean()))))
        return ExponentFit(r, se, c, (lo, hi), int(x.size), method, log_power)
    if method == "chains":
        slopes, icpts = _slope(x, np.log(E) - (corr[:, None] if np.ndim(corr) else 0.0))
        r = -slopes
        return ExponentFit(float(r.mean()), float(r.std(ddof=1) / np.sqrt(R)), float(icpts.mean()),
                           (lo, hi), int(x.size), method, log_power)
    groups = check_int("groups", groups, minimum=2)
    g = min(groups, R)
    r, c = fit(E.mean(axis=1))
    labels = np.arange(R) % g
    jack = np.array([fit(E[:, labels != j].mean(axis=1))[0] for j in range(g)])
    se = float(np.sqrt((g - 1) / g * np.sum((jack - jack.mean()) ** 2)))
    return ExponentFit(r, se, c, (lo, hi), int(x.size), method, log_power)


def crt_exponent(alpha, p: float = 0.5, q=None):
    """min(p, alpha) — or min(p, alpha, q) with a real-data bias decaying like t^(-q) — the
    exponent Wang, Niu & Li's code compares fitted exponents with.  Arrays of alpha broadcast."""
    p = check_real("p", p, minimum=0.0, strict_min=True)
    a = check_array("alpha", alpha, ndim=(0, 1))
    if np.any(a < 0) or np.any(a > 1):
        raise ValueError("alpha must lie in [0, 1]")
    out = np.minimum(p, a)
    if q is not None:
        q = check_real("q", q, minimum=0.0)
        out = np.minimum(out, q)
    return float(out) if out.ndim == 0 else out
