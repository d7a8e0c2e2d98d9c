"""Input validation shared by every public function: clear ValueErrors at the boundary.

The rules (issue 12), applied by every module through the helpers below:

* **Integers** (:func:`check_int`): Python and NumPy integers, and floats that are integral
  (``20.0``: what a slider or a JSON file gives) are accepted everywhere; ``2.5``, NaN, strings
  and booleans are refused.  Booleans are never numbers.
* **Booleans** (:func:`check_bool`): ``True``/``False`` (or NumPy booleans) only; ``exact='no'``
  or ``exact=1`` is an error, not a truthy value.
* **Seeds** (:func:`as_rng`): ``None``, a non-negative integer (integral floats accepted, as for
  every integer), a ``SeedSequence`` or a ``Generator`` -- in every stochastic function,
  including each model's ``sample``/``sample_stats``.
* **Parameter families** (:func:`check_normal1d`, :func:`check_normal_mv`, :func:`check_probs`,
  :func:`check_mixture`, :func:`check_regression`, :func:`check_pca`, and the statistics
  :func:`check_stats1d`, :func:`check_stats_mv`): one check per family, called at every public
  entry that receives it (fit, sample, sample_stats, combine, metrics, theory), not only in the
  ``.params()`` constructors: finite values, positive variances, PSD covariances, probabilities
  on the simplex with a tolerance suited to their dtype, shapes consistent with the replicate
  axis.
* **Size guards** (:func:`check_size`, :func:`check_work`): before allocating or looping, an
  estimate of the memory (array entries) and work (elementary operations) a call needs is
  compared with a limit; the error names the limit and the keyword that raises it
  (``max_elements=`` / ``max_work=`` of :func:`limits`, a context manager exported as
  ``collapselab.limits``, or the caller's own keyword where it has one).
"""
from __future__ import annotations

import contextlib
import contextvars
import functools
import math
import numbers

import numpy as np

MAX_ELEMENTS = 1 << 27
"""Default limit on the array entries one call may allocate (2**27 float64 = 1 GiB)."""

MAX_WORK = 1e10
"""Default limit on the elementary operations one call may perform (roughly ten seconds)."""

PY_STEP = 1e4
"""Work charged for one step of a Python-level loop (a generation of a theory recursion)."""


# ---------------------------------------------------------------------------------------------
# scalars

def _describe(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_int(name: str, value, minimum: int | None = None, maximum: int | None = None) -> int:
    """An integer within [minimum, maximum]: Python/NumPy integers and integral floats; never a
    boolean, a string, NaN or a non-integral float."""
    if type(value) is int:   # the common case, fast
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            pass             # fall through to the messages below
        else:
            return value
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be an integer, got the boolean {value!r}")
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and math.isfinite(value) and float(value).is_integer():
            value = int(value)
        else:
            raise ValueError(f"{name} must be an integer, got {_describe(value)}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_optional_int(name: str, value, minimum: int | None = None, maximum: int | None = None):
    """None, or an integer as for :func:`check_int`."""
    return None if value is None else check_int(name, value, minimum, maximum)


def check_bool(name: str, value) -> bool:
    """``True`` or ``False`` (NumPy booleans accepted); anything else is refused."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ValueError(f"{name} must be True or False, got {_describe(value)}")


def check_real(name: str, value, minimum: float | None = None, maximum: float | None = None,
               strict_min: bool = False, strict_max: bool = False) -> float:
    """A finite real number within bounds (strict bounds if strict_min / strict_max)."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {_describe(value)}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if minimum is not None:
        if strict_min and value <= minimum:
            raise ValueError(f"{name} must be > {minimum}, got {value}")
        if not strict_min and value < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None:
        if strict_max and value >= maximum:
            raise ValueError(f"{name} must be < {maximum}, got {value}")
        if not strict_max and value > maximum:
            raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_fraction(name: str, value) -> float:
    """A fraction in [0, 1]."""
    return check_real(name, value, 0.0, 1.0)


def check_str(name: str, value, options) -> str:
    """One of the strings in ``options``."""
    options = tuple(options)
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}; got {_describe(value)}")
    return value


def check_callable(name: str, value):
    if not callable(value):
        raise ValueError(f"{name} must be callable, got {_describe(value)}")
    return value


_MODEL_METHODS = ("stats", "sample_stats", "combine", "fit", "sample", "broadcast", "record")


def check_model(name: str, model):
    """A batch model: an object with the methods of :class:`collapselab.models.base.BatchModel`."""
    missing = [m for m in _MODEL_METHODS if not callable(getattr(model, m, None))]
    if missing:
        raise ValueError(f"{name} must be a batch model (with {', '.join(_MODEL_METHODS)}); "
                         f"{type(model).__name__} lacks {', '.join(missing)}")
    return model


def as_rng(seed=None, name: str = "seed") -> np.random.Generator:
    """A Generator from None, a non-negative integer (integral floats accepted, booleans never),
    a SeedSequence, or a Generator (passed through unchanged)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, np.random.SeedSequence):
        return np.random.default_rng(seed)
    if isinstance(seed, (bool, np.bool_)):
        raise ValueError(f"{name} must be a seed (an int, a SeedSequence or a numpy Generator), got the "
                         f"boolean {seed!r}")
    if not isinstance(seed, numbers.Real):
        raise ValueError(f"{name} must be a seed (an int, a SeedSequence or a numpy Generator), "
                         f"got {_describe(seed)}")
    return np.random.default_rng(check_int(name, seed, minimum=0))


# ---------------------------------------------------------------------------------------------
# arrays

def check_array(name: str, value, ndim: int | tuple[int, ...] | None = None,
                positive: bool = False, nonnegative: bool = False, nonempty: bool = False,
                dtype=float) -> np.ndarray:
    """A finite numeric array with the given number of dimensions."""
    if isinstance(value, np.ndarray) and value.dtype == dtype:
        arr = value
    elif isinstance(value, (str, bytes)) or value is None:
        raise ValueError(f"{name} must be a numeric array, got {_describe(value)}")
    else:
        try:
            arr = np.asarray(value, dtype=dtype)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be numeric: {exc}") from None
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if arr.ndim not in allowed:
            raise ValueError(f"{name} must have {' or '.join(map(str, allowed))} dimension(s), "
                             f"got shape {arr.shape}")
    if nonempty and arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    if arr.size:
        if arr.dtype.kind in "fc" and not np.isfinite(arr.sum()) and not np.all(np.isfinite(arr)):
            bad = "NaN" if np.isnan(arr).any() else "infinite"
            raise ValueError(f"{name} contains {bad} values")
        if positive and arr.min() <= 0:
            raise ValueError(f"{name} must be positive")
        if nonnegative and arr.min() < 0:
            raise ValueError(f"{name} must be non-negative")
    return arr


def simplex_tolerance(dtype, K: int) -> float:
    """Tolerance on |sum - 1| for K probabilities stored with ``dtype``: 1e-8 for float64 (as
    before), and about K rounding errors for lower precision (float32: ~1.2e-7 K)."""
    eps = np.finfo(dtype).eps if np.issubdtype(np.dtype(dtype), np.floating) else np.finfo(float).eps
    return max(1e-8, 4.0 * eps * max(K, 1))


def check_probs(name: str, probs, K: int | None = None, ndim=(1, 2), renormalise: bool = True) -> np.ndarray:
    """Probability vectors along the last axis (at least 2 categories), as float64.

    The sum tolerance suits the input dtype (:func:`simplex_tolerance`); inputs of lower
    precision than float64 are renormalised after conversion so that samplers see an exact
    simplex (float64 inputs are returned unchanged, bit for bit)."""
    src_dtype = getattr(probs, "dtype", np.dtype(float))
    arr = check_array(name, probs, ndim=ndim)
    if arr.ndim == 0 or arr.shape[-1] < 2:
        raise ValueError(f"{name} must have at least 2 categories on its last axis, got shape {arr.shape}")
    if K is not None and arr.shape[-1] != K:
        raise ValueError(f"{name} must have {K} categories on its last axis, got shape {arr.shape}")
    if arr.ndim == 2 and arr.shape[0] < 1:
        raise ValueError(f"{name} must hold at least one chain, got shape {arr.shape}")
    if np.any(arr < 0):
        raise ValueError(f"{name} must be non-negative")
    tol = simplex_tolerance(src_dtype if np.issubdtype(np.dtype(src_dtype), np.floating) else float,
                            arr.shape[-1])
    sums = arr.sum(axis=-1)
    worst = float(np.max(np.abs(sums - 1.0)))
    if worst > tol:
        bad = float(np.ravel(sums)[np.argmax(np.abs(np.ravel(sums) - 1.0))])
        raise ValueError(f"{name} must sum to 1 along the last axis (found a sum of {bad:.12g}; "
                         f"tolerance {tol:.2g} for {np.dtype(src_dtype).name})")
    if renormalise and np.dtype(src_dtype) != np.float64 and worst > 0:
        arr = arr / arr.sum(axis=-1, keepdims=True)
    return arr


_CLASSES: dict = {}


def _cls(module: str, name: str):
    """A class of a model module, imported once (the model modules import this one)."""
    key = (module, name)
    if key not in _CLASSES:
        import importlib
        _CLASSES[key] = getattr(importlib.import_module(f"collapselab.{module}"), name)
    return _CLASSES[key]


def _field(name, params, field):
    if not hasattr(params, field):
        raise ValueError(f"{name} has no field {field!r}: got {type(params).__name__}")
    return getattr(params, field)


def _replicates(name, R, replicates):
    if R < 1:
        raise ValueError(f"{name} must hold at least one chain")
    if replicates is not None and R not in (1, replicates):
        raise ValueError(f"{name} holds {R} chains but {replicates} are expected")


# ---------------------------------------------------------------------------------------------
# parameter families (imports are local: the model modules import this one)

def check_normal1d(name: str, params, replicates: int | None = None):
    """Normal1DParams with finite means, finite non-negative variances, both of shape (R,)."""
    Normal1DParams = _cls("models.gaussian", "Normal1DParams")
    if not isinstance(params, Normal1DParams):
        raise ValueError(f"{name} must be Normal1DParams, got {type(params).__name__}")
    mean = check_array(f"{name}.mean", params.mean, ndim=1)
    var = check_array(f"{name}.var", params.var, ndim=1, nonnegative=True)
    if mean.shape != var.shape:
        raise ValueError(f"{name}.mean {mean.shape} and {name}.var {var.shape} must have the same shape (R,)")
    _replicates(name, mean.shape[0], replicates)
    return params


def check_normal_mv(name: str, params, replicates: int | None = None, psd_tol: float = 1e-10,
                    psd: bool = True):
    """NormalParams: finite mean (R, d), symmetric positive semi-definite cov (R, d, d)
    (``psd=False``: shapes and finiteness only, for entries that do no linear algebra)."""
    NormalParams = _cls("models.gaussian", "NormalParams")
    if not isinstance(params, NormalParams):
        raise ValueError(f"{name} must be NormalParams, got {type(params).__name__}")
    mean = check_array(f"{name}.mean", params.mean, ndim=2)
    cov = check_array(f"{name}.cov", params.cov, ndim=3)
    R, d = mean.shape
    if d < 1 or cov.shape != (R, d, d):
        raise ValueError(f"{name}.cov must have shape ({R}, {d}, {d}) to match {name}.mean {mean.shape}, "
                         f"got {cov.shape}")
    _replicates(name, R, replicates)
    if psd:
        check_psd(f"{name}.cov", cov, psd_tol)
    else:
        _psd_necessary(f"{name}.cov", cov)
    return params


def _psd_necessary(name: str, mat: np.ndarray) -> None:
    """The cheap necessary conditions of positive semi-definiteness: symmetry and a
    non-negative diagonal (used where no factorisation follows)."""
    scale = np.max(np.abs(mat), axis=(-2, -1), keepdims=True)
    scale = np.where(scale > 0, scale, 1.0)
    if np.any(np.abs(mat - np.swapaxes(mat, -1, -2)) > 1e-8 * scale):
        raise ValueError(f"{name} must be symmetric")
    if np.any(np.diagonal(mat, axis1=-2, axis2=-1) < 0):
        raise ValueError(f"{name} must be positive semi-definite (a negative diagonal entry)")


def psd_factor(name: str, cov: np.ndarray, tol: float = 1e-10) -> np.ndarray:
    """A batched square-root factor L with L L^T = cov, validating cov on the way: Cholesky when
    cov is positive definite; otherwise the symmetric square root from the eigenvalues, which
    must all be >= -tol times the largest (PSD up to rounding; clipped at 0)."""
    try:
        return np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        pass
    w, v = np.linalg.eigh(cov)
    scale = np.max(np.abs(cov), axis=(-2, -1))
    if np.any(w.min(axis=-1) < -tol * np.maximum(scale, 1e-300)):
        raise ValueError(f"{name} must be positive semi-definite (smallest eigenvalue {float(w.min()):.3g})")
    return v * np.sqrt(np.clip(w, 0.0, None))[..., None, :]


def check_psd(name: str, cov: np.ndarray, tol: float = 1e-10) -> None:
    """Symmetric (to rounding) with no eigenvalue below -tol times the largest (batched).

    A Cholesky factorisation that succeeds proves positive definiteness at a sixth of the cost
    of the eigenvalues, which are computed only when it fails (singular or indefinite input)."""
    scale = np.max(np.abs(cov), axis=(-2, -1), keepdims=True)
    scale = np.where(scale > 0, scale, 1.0)
    if np.any(np.abs(cov - np.swapaxes(cov, -1, -2)) > 1e-8 * scale):
        raise ValueError(f"{name} must be symmetric")
    try:
        np.linalg.cholesky(cov)
        return
    except np.linalg.LinAlgError:
        pass
    w = np.linalg.eigvalsh(cov)
    if np.any(w < -tol * np.maximum(scale[..., 0], 1e-300) - 1e-300):
        raise ValueError(f"{name} must be positive semi-definite (smallest eigenvalue {float(w.min()):.3g})")


def check_stats1d(name: str, stats, replicates: int | None = None):
    """GaussStats1D: count >= 1, finite mean (R,), finite non-negative m2 (R,)."""
    GaussStats1D = _cls("models.gaussian", "GaussStats1D")
    if not isinstance(stats, GaussStats1D):
        raise ValueError(f"{name} must be GaussStats1D, got {type(stats).__name__}")
    check_int(f"{name}.count", stats.count, minimum=1)
    mean = check_array(f"{name}.mean", stats.mean, ndim=1)
    m2 = check_array(f"{name}.m2", stats.m2, ndim=1, nonnegative=True)
    if mean.shape != m2.shape:
        raise ValueError(f"{name}.mean {mean.shape} and {name}.m2 {m2.shape} must have the same shape")
    _replicates(name, mean.shape[0], replicates)
    return stats


def check_stats_mv(name: str, stats, replicates: int | None = None, psd: bool = True):
    """GaussStatsMV: count >= 1, finite mean (R, d), PSD scatter (R, d, d) (``psd=False``:
    symmetric with a non-negative diagonal only)."""
    GaussStatsMV = _cls("models.gaussian", "GaussStatsMV")
    if not isinstance(stats, GaussStatsMV):
        raise ValueError(f"{name} must be GaussStatsMV, got {type(stats).__name__}")
    check_int(f"{name}.count", stats.count, minimum=1)
    mean = check_array(f"{name}.mean", stats.mean, ndim=2)
    scatter = check_array(f"{name}.scatter", stats.scatter, ndim=3)
    R, d = mean.shape
    if scatter.shape != (R, d, d):
        raise ValueError(f"{name}.scatter must have shape ({R}, {d}, {d}), got {scatter.shape}")
    _replicates(name, R, replicates)
    if psd:
        check_psd(f"{name}.scatter", scatter)
    else:
        _psd_necessary(f"{name}.scatter", scatter)
    return stats


def check_mixture(name: str, params, K: int | None = None, replicates: int | None = None):
    """MixtureParams: weights (R, K) on the simplex, finite means, positive finite variances,
    all of one shape, with at least one component."""
    MixtureParams = _cls("models.mixture", "MixtureParams")
    WEIGHT_ATOL = _cls("models.mixture", "WEIGHT_ATOL")
    if not isinstance(params, MixtureParams):
        raise ValueError(f"{name} must be MixtureParams, got {type(params).__name__}")
    w = check_array(f"{name}.weights", params.weights, ndim=2, nonnegative=True)
    m = check_array(f"{name}.means", params.means, ndim=2)
    v = check_array(f"{name}.vars", params.vars, ndim=2, positive=True)
    if not (w.shape == m.shape == v.shape):
        raise ValueError(f"{name}.weights {w.shape}, .means {m.shape} and .vars {v.shape} must "
                         f"have one shape (R, K)")
    if w.shape[1] < 1:
        raise ValueError(f"{name} must have at least one component, got shape {w.shape}")
    if K is not None and w.shape[1] != K:
        raise ValueError(f"{name} has {w.shape[1]} components but {K} are expected")
    _replicates(name, w.shape[0], replicates)
    sums = w.sum(axis=1)
    if np.any(np.abs(sums - 1.0) > max(WEIGHT_ATOL, simplex_tolerance(params.weights.dtype, w.shape[1]))):
        raise ValueError(f"{name}.weights must sum to 1 in every chain, got sums in "
                         f"[{sums.min():.6g}, {sums.max():.6g}]")
    return params


def check_regression(name: str, params, dim: int | None = None, replicates: int | None = None):
    """RegressionParams: finite coef (R, d), finite non-negative noise_var (R,)."""
    RegressionParams = _cls("models.regression", "RegressionParams")
    if not isinstance(params, RegressionParams):
        raise ValueError(f"{name} must be RegressionParams, got {type(params).__name__}")
    coef = check_array(f"{name}.coef", params.coef, ndim=2)
    nv = check_array(f"{name}.noise_var", params.noise_var, ndim=1, nonnegative=True)
    if dim is not None and coef.shape[1] != dim:
        raise ValueError(f"{name}.coef must have shape (R, {dim}), got {coef.shape}")
    if nv.shape != (coef.shape[0],):
        raise ValueError(f"{name}.noise_var must have shape ({coef.shape[0]},), got {nv.shape}")
    _replicates(name, coef.shape[0], replicates)
    return params


def check_regression_stats(name: str, stats, dim: int | None = None, replicates: int | None = None):
    """RegressionStats: count >= 1, finite PSD xtx (R, d, d), finite xty (R, d), yty >= 0 (R,)."""
    RegressionStats = _cls("models.regression", "RegressionStats")
    if not isinstance(stats, RegressionStats):
        raise ValueError(f"{name} must be RegressionStats, got {type(stats).__name__}")
    check_int(f"{name}.count", stats.count, minimum=1)
    xtx = check_array(f"{name}.xtx", stats.xtx, ndim=3)
    xty = check_array(f"{name}.xty", stats.xty, ndim=2)
    yty = check_array(f"{name}.yty", stats.yty, ndim=1)
    R, d = xty.shape
    if xtx.shape != (R, d, d) or yty.shape != (R,):
        raise ValueError(f"{name} fields have inconsistent shapes: xtx {xtx.shape}, xty {xty.shape}, "
                         f"yty {yty.shape}")
    if dim is not None and d != dim:
        raise ValueError(f"{name} has dimension {d} but {dim} is expected")
    _replicates(name, R, replicates)
    check_psd(f"{name}.xtx", xtx)
    return stats


def check_pca(name: str, params, classes: int | None = None, components: int | None = None,
              replicates: int | None = None):
    """PCAGaussianParams: weights (R, K) on the simplex, finite means (R, K, d), directions
    (R, K, d, k), non-negative variances (R, K, k) and positive noise variances (R, K)."""
    PCAGaussianParams = _cls("models.pca_gaussian", "PCAGaussianParams")
    if not isinstance(params, PCAGaussianParams):
        raise ValueError(f"{name} must be PCAGaussianParams, got {type(params).__name__}")
    w = check_array(f"{name}.weights", params.weights, ndim=2, nonnegative=True)
    mu = check_array(f"{name}.means", params.means, ndim=3)
    U = check_array(f"{name}.directions", params.directions, ndim=4)
    lam = check_array(f"{name}.variances", params.variances, ndim=3, nonnegative=True)
    s2 = check_array(f"{name}.noise_var", params.noise_var, ndim=2, nonnegative=True)
    R, K = w.shape
    d = mu.shape[-1]
    k = U.shape[-1]
    if mu.shape != (R, K, d) or U.shape != (R, K, d, k) or lam.shape != (R, K, k) or s2.shape != (R, K):
        raise ValueError(f"{name} fields have inconsistent shapes: weights {w.shape}, means "
                         f"{mu.shape}, directions {U.shape}, variances {lam.shape}, noise_var {s2.shape}")
    if classes is not None and K != classes:
        raise ValueError(f"{name} has {K} classes but {classes} are expected")
    if components is not None and k != components:
        raise ValueError(f"{name} has {k} components but {components} are expected")
    _replicates(name, R, replicates)
    if np.any(np.abs(w.sum(axis=1) - 1.0) > simplex_tolerance(params.weights.dtype, K)):
        raise ValueError(f"{name}.weights must sum to 1 in every chain")
    return params


def check_kde(name: str, params, replicates: int | None = None):
    """KDEParams: finite centres (R, m), positive finite widths (R, m), weights None (equal) or
    (R, m) on the simplex; m >= 1."""
    KDEParams = _cls("models.kde", "KDEParams")
    if not isinstance(params, KDEParams):
        raise ValueError(f"{name} must be KDEParams, got {type(params).__name__}")
    c = check_array(f"{name}.centres", params.centres, ndim=2)
    w = check_array(f"{name}.widths", params.widths, ndim=2, positive=True)
    if c.shape != w.shape or c.shape[1] < 1:
        raise ValueError(f"{name}.centres {c.shape} and {name}.widths {w.shape} must have one shape (R, m), m >= 1")
    if params.weights is not None:
        wt = check_array(f"{name}.weights", params.weights, ndim=2, nonnegative=True)
        if wt.shape != c.shape:
            raise ValueError(f"{name}.weights must have shape {c.shape}, got {wt.shape}")
        if np.any(np.abs(wt.sum(axis=1) - 1.0) > simplex_tolerance(params.weights.dtype, c.shape[1])):
            raise ValueError(f"{name}.weights must sum to 1 in every chain")
    _replicates(name, c.shape[0], replicates)
    return params


def check_pca_stats(name: str, stats, classes: int | None = None, replicates: int | None = None):
    """PCAStats: non-negative integer counts (R, K), finite means (R, K, d), PSD scatters."""
    PCAStats = _cls("models.pca_gaussian", "PCAStats")
    if not isinstance(stats, PCAStats):
        raise ValueError(f"{name} must be PCAStats, got {type(stats).__name__}")
    counts = check_array(f"{name}.counts", stats.counts, ndim=2, nonnegative=True)
    if np.any(counts != np.round(counts)):
        raise ValueError(f"{name}.counts must be integers")
    means = check_array(f"{name}.means", stats.means, ndim=3)
    scat = check_array(f"{name}.scatters", stats.scatters, ndim=4)
    R, K = counts.shape
    d = means.shape[-1]
    if means.shape != (R, K, d) or scat.shape != (R, K, d, d) or d < 1:
        raise ValueError(f"{name} fields have inconsistent shapes: counts {counts.shape}, means "
                         f"{means.shape}, scatters {scat.shape}")
    if classes is not None and K != classes:
        raise ValueError(f"{name} has {K} classes but {classes} are expected")
    _replicates(name, R, replicates)
    check_psd(f"{name}.scatters", scat)
    return stats


# ---------------------------------------------------------------------------------------------
# results

def _nonfinite(out, depth: int = 0) -> bool:
    if depth > 2:
        return False
    if isinstance(out, (float, np.floating, np.ndarray)) and not isinstance(out, bool):
        arr = np.asarray(out)
        return arr.dtype.kind in "fc" and arr.size > 0 and not bool(np.all(np.isfinite(arr)))
    if isinstance(out, (tuple, list)):
        return any(_nonfinite(v, depth + 1) for v in out)
    if isinstance(out, dict):
        return any(_nonfinite(v, depth + 1) for v in out.values())
    return False


def finite_result(*names: str):
    """Decorator for closed forms that are finite for every valid input: a result that
    overflows (inf or NaN from float64 arithmetic, or Python's OverflowError/ZeroDivisionError)
    becomes a ValueError naming the arguments whose size caused it, instead of a silent inf."""
    def deco(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            try:
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    out = func(*args, **kwargs)
            except (OverflowError, ZeroDivisionError) as exc:
                raise ValueError(f"{func.__name__} overflows float64 ({exc}): "
                                 f"{', '.join(names)} too large or too extreme") from None
            if _nonfinite(out):
                raise ValueError(f"{func.__name__} overflows float64 (a non-finite result): "
                                 f"{', '.join(names)} too large or too extreme")
            return out
        return wrapper
    return deco


# ---------------------------------------------------------------------------------------------
# size guards

_LIMITS = contextvars.ContextVar("collapselab_limits", default=None)


def current_limits() -> dict:
    """The limits in force: ``{"max_elements": ..., "max_work": ...}``."""
    return dict(_LIMITS.get() or {"max_elements": MAX_ELEMENTS, "max_work": MAX_WORK})


@contextlib.contextmanager
def limits(max_elements: float | None = None, max_work: float | None = None):
    """Raise (or lower) the size guards inside a ``with`` block, for every function::

        with collapselab.limits(max_elements=1e9, max_work=1e12):
            run_loop(..., n=10**8, ...)

    ``max_elements`` bounds the array entries one call may allocate (default 2**27, 1 GiB of
    float64); ``max_work`` the elementary operations one call may perform (default 1e10)."""
    new = current_limits()
    if max_elements is not None:
        new["max_elements"] = check_real("max_elements", max_elements, minimum=1.0)
    if max_work is not None:
        new["max_work"] = check_real("max_work", max_work, minimum=1.0)
    token = _LIMITS.set(new)
    try:
        yield new
    finally:
        _LIMITS.reset(token)


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def _how(kind: str, keyword: str | None) -> str:
    if keyword:
        return f"pass a larger {keyword}= to allow it"
    return f"raise it with `with collapselab.limits({kind}=...):`"


def check_size(what: str, elements, max_elements: int | float | None = None,
               keyword: str | None = None) -> None:
    """Refuse, before allocating, a call that needs more than ``max_elements`` array entries
    (default: the limit in force, see :func:`limits`).  ``what`` names the arguments that set
    the size; ``keyword`` the caller's own argument that raises the limit, if it has one."""
    limit = current_limits()["max_elements"] if max_elements is None else \
        check_real(keyword or "max_elements", max_elements, minimum=1.0)
    elements = float(elements)
    if not math.isfinite(elements) or elements > limit:
        raise ValueError(f"{what} would need about {_fmt(elements)} array entries "
                         f"(~{_fmt(elements * 8 / 2**30)} GiB), above the limit max_elements={_fmt(limit)}; "
                         f"{_how('max_elements', keyword)}")


def check_work(what: str, work, max_work: int | float | None = None, keyword: str | None = None) -> None:
    """Refuse, before starting, a call estimated at more than ``max_work`` elementary operations
    (default: the limit in force, about ten seconds; see :func:`limits`)."""
    limit = current_limits()["max_work"] if max_work is None else \
        check_real(keyword or "max_work", max_work, minimum=1.0)
    work = float(work)
    if not math.isfinite(work) or work > limit:
        raise ValueError(f"{what} would take about {_fmt(work)} operations, above the limit "
                         f"max_work={_fmt(limit)}; {_how('max_work', keyword)}")


def check_count(name: str, value, minimum: int | None = 0, maximum: int | None = None,
                per_item: float = 1.0, work_per_item: float = PY_STEP) -> int:
    """An integer that sets a size (generations, a horizon, a number of terms): as
    :func:`check_int`, then refused if ``value * per_item`` array entries or
    ``value * work_per_item`` operations exceed the limits in force."""
    value = check_int(name, value, minimum, maximum)
    check_size(f"{name}={value}", value * per_item)
    check_work(f"{name}={value}", value * work_per_item)
    return value


def check_steps(name: str, t, per_item: float = 1.0, work_per_item: float = PY_STEP):
    """A non-negative integer or integer array of generations t whose largest entry sets a
    size: the array (integer dtype; integral floats accepted), checked as :func:`check_count`."""
    if isinstance(t, (bool, np.bool_)):
        raise ValueError(f"{name} must be a non-negative integer or an array of them, got {t!r}")
    if isinstance(t, (numbers.Real, np.ndarray)) or isinstance(t, (list, tuple)):
        try:
            arr = np.asarray(t)
        except (TypeError, ValueError):
            arr = None
    else:
        arr = None
    if arr is None or arr.dtype.kind not in "iuf" or arr.dtype == np.bool_:
        raise ValueError(f"{name} must be a non-negative integer or an array of them, got {_describe(t)}")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise ValueError(f"{name} must be a non-negative integer or an array of them, got {_describe(t)}")
        arr = arr.astype(np.int64)
    if arr.size and np.any(arr < 0):
        raise ValueError(f"{name} must be a non-negative integer or an array of them, got {_describe(t)}")
    top = int(arr.max()) if arr.size else 0
    check_size(f"{name}={top}", top * per_item)
    check_work(f"{name}={top}", top * work_per_item)
    return arr
