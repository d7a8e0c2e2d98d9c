"""Monte-Carlo agreement checks: does a simulation agree with its theory?

Every chapter checks its theorems against simulations *inside the notebook*, so that a page
whose numbers contradict its own theorem cannot be built.  These are the helpers those cells
share (chapters 1, 2, 3, 5, 7, 9, 12, 13 and 14); checked in tests/test_checks.py.

The convention throughout: ``samples`` holds one value per independent chain along ``axis``
(by default the last axis, so a trajectory ``traj["var"]`` of shape (T + 1, R) is checked
generation by generation).  The simulated mean over the chains is compared with ``expected``,
which must broadcast to the shape of that mean, in units of its Monte-Carlo standard error

    se = std(samples, ddof=1) / sqrt(R).

A check passes where

    |mean - expected| <= k * se + slack + rel_slack * |expected| + 1e-12 * (1 + |expected|),

the last term being a guard against floating-point rounding where ``se`` is zero (generation 0,
where every chain is at the truth).  Choose ``k`` of 4 to 5: a true claim then fails with
probability below 1e-4 per point, while the standard error, hence the tolerance, shrinks like
1/sqrt(R), so the check stays sharp when a reader raises the number of chains and loose enough
for the tiny ``ci_parameters`` of the test suite.

Functions
---------
standard_error          Monte-Carlo standard error of the mean over chains.
zscores                 |mean over chains - expected| / se.
estimate_zscores        |estimate - expected| / se, for an estimate with a known standard error.
assert_mc_agrees        raise AssertionError unless the mean over chains agrees with theory.
assert_estimate_agrees  the same for an estimate and its standard error (a sample variance,
                        a proportion with a binomial standard error...).
same_trajectory         True if two trajectories hold identical numbers (chapter 1's identities).
assert_same_trajectory  raise AssertionError naming the first difference.
"""
from __future__ import annotations

import numbers
from collections.abc import Mapping

import numpy as np

from ._validate import check_array, check_real
from .loop import Trajectory

__all__ = ["standard_error", "zscores", "estimate_zscores", "assert_mc_agrees",
           "assert_estimate_agrees", "same_trajectory", "assert_same_trajectory"]

#: Smallest standard error a z-score divides by, and the relative floating-point guard of the
#: tolerance: ``1e-12 * (1 + |expected|)``.
SE_FLOOR = 1e-12


# ---------------------------------------------------------------------------- validation
def _numeric(name: str, value, nonnegative: bool = False) -> np.ndarray:
    """A finite numeric array; boolean and integer arrays (always finite) are not copied."""
    arr = np.asarray(value)
    if arr.dtype.kind in "biu":
        if nonnegative and arr.dtype.kind == "i" and arr.size and arr.min() < 0:
            raise ValueError(f"{name} must be non-negative")
        return arr
    return check_array(name, arr, nonnegative=nonnegative)


def _samples(samples, axis, need_two: bool):
    """Validated numeric samples and the non-negative axis index of the chains."""
    x = _numeric("samples", samples)
    if x.ndim == 0:
        raise ValueError("samples must have at least one dimension (the chains), got a scalar")
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise ValueError(f"axis must be an integer, got {axis!r}")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"axis {axis} is out of range for samples of shape {x.shape}")
    axis = int(axis) % x.ndim
    if need_two and x.shape[axis] < 2:
        raise ValueError(f"samples need at least 2 chains along axis {axis} to estimate a "
                         f"standard error, got shape {x.shape}")
    if x.shape[axis] < 1:
        raise ValueError(f"samples have no chains along axis {axis} (shape {x.shape})")
    return x, axis


def _like(name: str, value, shape: tuple, of: str, nonnegative: bool = False) -> np.ndarray:
    """A finite array that broadcasts to ``shape`` (the shape of the estimate), broadcast."""
    arr = _numeric(name, value, nonnegative=nonnegative).astype(float, copy=False)
    try:
        return np.broadcast_to(arr, shape)
    except ValueError:
        raise ValueError(f"{name} has shape {arr.shape}, which does not broadcast to the shape "
                         f"{shape} of {of}") from None


def _k(k, level, chains: int):
    """The tolerance in standard errors, from k or from a two-sided level (Student t with
    chains - 1 degrees of freedom)."""
    if k is not None and level is not None:
        raise ValueError("give either k or level, not both")
    if level is None:
        return check_real("k", 5.0 if k is None else k, minimum=0.0, strict_min=True)
    level = check_real("level", level, minimum=0.0, maximum=1.0, strict_min=True)
    if level >= 1.0:
        raise ValueError(f"level must be < 1, got {level}")
    from scipy import stats
    return float(stats.t.ppf(1 - level / 2, chains - 1))


def _what(what) -> str:
    if not isinstance(what, str):
        raise ValueError(f"what must be a string, got {what!r}")
    return what


# ---------------------------------------------------------------------------- z-scores
def standard_error(samples, axis: int = -1) -> np.ndarray:
    """Monte-Carlo standard error of the mean over chains: ``std(ddof=1) / sqrt(R)``.

    Parameters
    ----------
    samples : array with the R >= 2 chains along ``axis``.
    axis : the chain axis (default: the last).

    Returns an array of the shape of ``samples`` without ``axis`` (a float for 1-D samples).
    """
    x, axis = _samples(samples, axis, need_two=True)
    return x.std(axis=axis, ddof=1) / np.sqrt(x.shape[axis])


def zscores(samples, expected, *, se=None, axis: int = -1) -> np.ndarray:
    """``|mean over chains - expected| / se``, elementwise.

    Parameters
    ----------
    samples : array with the chains along ``axis``.
    expected : the theory; must broadcast to the shape of the mean over ``axis``.
    se : standard error of that mean; default :func:`standard_error` (needs R >= 2).  Pass it
        when it is known in closed form (a binomial proportion, a theorem's variance).
    axis : the chain axis (default: the last).

    A standard error below ``SE_FLOOR`` (chains that all agree) counts as ``SE_FLOOR``.
    """
    x, axis = _samples(samples, axis, need_two=se is None)
    mean = x.mean(axis=axis)
    if se is None:
        se = standard_error(x, axis)
    return estimate_zscores(mean, expected, se=se)


def estimate_zscores(estimate, expected, *, se) -> np.ndarray:
    """``|estimate - expected| / se``, for any estimate with a known standard error.

    ``expected`` and ``se`` must broadcast to the shape of ``estimate``.  A standard error
    below ``SE_FLOOR`` counts as ``SE_FLOOR``.
    """
    est = _numeric("estimate", estimate).astype(float, copy=False)
    exp = _like("expected", expected, est.shape, "the estimate")
    se = _like("se", se, est.shape, "the estimate", nonnegative=True)
    return np.abs(est - exp) / np.maximum(se, SE_FLOOR)


# ---------------------------------------------------------------------------- assertions
def _assert_within(est, exp, se, k, slack, rel_slack, what, label):
    slack = check_real("slack", slack, minimum=0.0)
    rel_slack = check_real("rel_slack", rel_slack, minimum=0.0)
    err = np.abs(est - exp)
    tol = k * se + slack + rel_slack * np.abs(exp) + SE_FLOOR * (1 + np.abs(exp))
    bad = err > tol
    if not np.any(bad):
        return
    z = np.where(bad, err / np.maximum(se, SE_FLOOR), -np.inf)
    worst = np.unravel_index(int(np.argmax(z)), z.shape) if z.ndim else ()
    extra = "".join([f" + {slack:.3g}" if slack else "",
                     f" + {rel_slack:.3g} |expected|" if rel_slack else ""])
    where = f" at index {tuple(int(i) for i in worst)}" if worst else ""
    raise AssertionError(
        f"{what}: simulation and theory differ by more than {k:.3g} standard errors{extra} at "
        f"{int(bad.sum())} of {bad.size} point(s); worst z-score {float(z[worst]):.3g}{where}: "
        f"{label} {float(est[worst]):.6g} (standard error {float(se[worst]):.3g}), expected "
        f"{float(exp[worst]):.6g}, allowed difference {float(tol[worst]):.3g}")


def assert_mc_agrees(samples, expected, *, se=None, axis: int = -1, k: float | None = None,
                     level: float | None = None, slack: float = 0.0, rel_slack: float = 0.0,
                     what: str = "quantity") -> None:
    """Assert that the mean over chains agrees with theory within Monte-Carlo error.

    Passes where ``|mean - expected| <= k se + slack + rel_slack |expected| + 1e-12 (1 +
    |expected|)`` at every point, and raises ``AssertionError`` naming ``what``, the number of
    failing points and the worst z-score otherwise.

    Parameters
    ----------
    samples : array with the chains along ``axis`` (e.g. shape (T + 1, R): every generation).
    expected : the theory; must broadcast to the shape of the mean over ``axis``.
    se : standard error of the mean, when known in closed form; default
        :func:`standard_error` of ``samples``.
    axis : the chain axis (default: the last).
    k : tolerance in standard errors, > 0 (default 5).
    level : instead of ``k``, a two-sided significance level in (0, 1): ``k`` is then the
        Student-t quantile ``t_{R-1}(1 - level/2)``, right for a handful of chains.
    slack : an absolute allowance (>= 0), e.g. for a known small bias of the simulator.
    rel_slack : an allowance relative to ``|expected|`` (>= 0), e.g. ``2 / sqrt(R)`` for
        heavy-tailed quantities whose standard error is itself poorly estimated by few chains.
    what : the name of the quantity, for the error message.
    """
    what = _what(what)
    x, axis = _samples(samples, axis, need_two=se is None or level is not None)
    k = _k(k, level, x.shape[axis])
    mean = x.mean(axis=axis)
    if se is None:
        se = standard_error(x, axis)
    of = f"the mean over axis {axis} of samples {x.shape}"
    exp = _like("expected", expected, mean.shape, of)
    se = _like("se", se, mean.shape, of, nonnegative=True)
    _assert_within(mean, exp, se, k, slack, rel_slack, what,
                   f"mean of {x.shape[axis]} chains")


def assert_estimate_agrees(estimate, expected, *, se, k: float = 5.0, slack: float = 0.0,
                           rel_slack: float = 0.0, what: str = "quantity") -> None:
    """Assert that an estimate agrees with theory within ``k`` of its standard errors.

    For estimates that are not plain means over chains: a sample variance with standard error
    ``v sqrt(2 / (R - 1))``, a rejection rate with a binomial standard error, a mean whose
    standard error a library object already computed.  ``expected`` and ``se`` must broadcast
    to the shape of ``estimate``; the tolerance is that of :func:`assert_mc_agrees`.
    """
    what = _what(what)
    k = check_real("k", k, minimum=0.0, strict_min=True)
    est = _numeric("estimate", estimate).astype(float, copy=False)
    exp = _like("expected", expected, est.shape, "the estimate")
    se = _like("se", se, est.shape, "the estimate", nonnegative=True)
    _assert_within(est, exp, se, k, slack, rel_slack, what, "estimate")


# ---------------------------------------------------------------------------- identities
def _keys(traj, name):
    if isinstance(traj, Trajectory):
        return list(traj.records) + [m for m in traj.metrics if m not in traj.records]
    if isinstance(traj, Mapping):
        return list(traj)
    raise ValueError(f"{name} must be a Trajectory or a mapping of arrays, got "
                     f"{type(traj).__name__}")


def _first_difference(a, b, keys) -> str | None:
    """None if a and b hold identical numbers under ``keys``, else a description."""
    ka, kb = _keys(a, "a"), _keys(b, "b")
    if keys is None:
        if sorted(ka) != sorted(kb):
            return f"different keys: {sorted(ka)} and {sorted(kb)}"
        keys = ka
    elif isinstance(keys, str):
        keys = [keys]
    keys = list(keys)
    if not keys:
        raise ValueError("keys must name at least one array")
    for key in keys:
        for traj, name, have in ((a, "a", ka), (b, "b", kb)):
            if key not in have:
                raise ValueError(f"key {key!r} is not in {name} (it has {sorted(have)})")
    pairs = [(k, np.asarray(a[k]), np.asarray(b[k])) for k in keys]
    if isinstance(a, Trajectory) and isinstance(b, Trajectory):
        pairs.insert(0, ("generations", np.asarray(a.generations), np.asarray(b.generations)))
    for key, x, y in pairs:
        if x.shape != y.shape:
            return f"{key!r} has shapes {x.shape} and {y.shape}"
        nan_ok = np.issubdtype(x.dtype, np.inexact) and np.issubdtype(y.dtype, np.inexact)
        if not np.array_equal(x, y, equal_nan=nan_ok):
            equal = x == y
            if nan_ok:
                equal |= np.isnan(x) & np.isnan(y)
            differ = ~equal
            idx = tuple(int(i) for i in np.argwhere(differ)[0]) if x.ndim else ()
            return (f"{key!r} first differs at index {idx} (generation, chain, ...): "
                    f"{x[idx]!r} != {y[idx]!r}")
    return None


def same_trajectory(a, b, keys=None) -> bool:
    """True if two trajectories hold identical numbers, generation by generation and chain by
    chain (chapter 1, {prf:ref}`prop-01-reductions`: mix(0) = replace, mix(1) = all-real...).

    ``a`` and ``b`` are :class:`~collapselab.Trajectory` objects (their generations are compared
    too) or mappings of arrays.  ``keys`` lists the records and metrics to compare (a name or a
    list); by default all of them, and trajectories with different keys are not the same.
    NaN equals NaN.
    """
    return _first_difference(a, b, keys) is None


def assert_same_trajectory(a, b, keys=None, what: str = "trajectories") -> None:
    """Raise ``AssertionError`` naming the first differing array and index unless
    :func:`same_trajectory` holds."""
    what = _what(what)
    diff = _first_difference(a, b, keys)
    if diff is not None:
        raise AssertionError(f"{what} are not identical: {diff}")
