"""Closed forms for curated recursive training (chapter 13, chapters/13_curation.md).

Curation filters each generation's synthetic samples with a verifier before the next model is
fitted to them (:class:`collapselab.models.curated.Curated`).  For the refitted 1-D Gaussian of
chapter 2 two kinds of verifier have exact answers:

* verifiers that reward *typicality* under the generating model (its own likelihood): they keep
  the central part of each model's samples, so the kept points are (conditionally) i.i.d. from a
  truncated normal and the fitted variance shrinks by the truncated-normal factor on top of the
  usual (n - 1)/n ({prf:ref}`thm-13-truncation`, {prf:ref}`thm-13-typicality`,
  {prf:ref}`prop-13-mix`);
* rejection sampling toward a target density p, accepting a candidate x of the model q with
  probability min(1, p(x) / (M q(x))): the kept points are i.i.d. from the density proportional to
  min(p, M q), which is p itself when M >= sup p/q ({prf:ref}`thm-13-rejection`).

Every function validates its inputs and is checked against simulation in
``tests/test_curation.py``.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import integrate, stats
from scipy.special import erf, ndtri

from .._validate import check_array, check_bool, check_count, check_int, check_real, finite_result
from . import gaussian

_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
RULES = ("threshold", "top")


def _check_keep(keep):
    """keep in (0, 1] (a fraction, float or array of floats)."""
    try:
        arr = None if isinstance(keep, (bool, str, bytes)) else np.asarray(keep, dtype=float)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.size == 0 or not np.all(np.isfinite(arr)):
        raise ValueError(f"keep must be a finite number in (0, 1], got {keep!r}")
    if np.any(arr <= 0) or np.any(arr > 1):
        raise ValueError(f"keep must be in (0, 1], got {keep!r}")
    return arr


# ------------------------------------------------------------------------------------------
# the truncated normal ({prf:ref}`thm-13-truncation`)
# ------------------------------------------------------------------------------------------

def truncation_point(keep):
    """z = Phi^{-1}((1 + q)/2): keeping |X - m| <= z s keeps the central fraction q of N(m, s^2)
    (z = inf for q = 1: the whole line is kept)."""
    q = _check_keep(keep)
    z = ndtri((1.0 + q) / 2.0)
    return float(z) if z.ndim == 0 else z


def truncated_variance_factor(keep):
    """v(q) = Var(Z | |Z| <= z) = 1 - 2 z phi(z) / (2 Phi(z) - 1), z = Phi^{-1}((1+q)/2).

    The variance of the central fraction q of a normal distribution, as a multiple of the full
    variance ({prf:ref}`thm-13-truncation`).  v(1) = 1 and v(q) ~ z^2/3 -> 0 as q -> 0; v is
    increasing in q.  Accepts a float or an array of fractions in (0, 1]."""
    q = _check_keep(keep)
    # for q below ~1e-8, (1 + q)/2 rounds to 1/2: use z ~ q sqrt(pi/2) (Phi^-1 near 1/2)
    z = np.where(q < 1e-8, q * np.sqrt(np.pi / 2), ndtri((1.0 + q) / 2.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        mass = erf(z / _SQRT2)                      # 2 Phi(z) - 1, accurate for small z
        v = 1.0 - 2.0 * z * _INV_SQRT_2PI * np.exp(-0.5 * z * z) / mass
    # the formula cancels for small z: there v = z^2/3 (1 - 2 z^2/15 + ...)
    v = np.where(z < 1e-4, z * z / 3.0 * (1.0 - 2.0 * z * z / 15.0), v)
    v = np.where(np.isinf(z), 1.0, v)
    v = np.clip(v, 0.0, 1.0)
    return float(v) if v.ndim == 0 else v


def candidates_needed(n: int, keep: float) -> int:
    """m = ceil(n / keep): the candidates the top-fraction rule draws to keep n of them."""
    n = check_int("n", n, minimum=1)
    q = float(_check_keep(keep))
    if n / q > 1e15:
        raise ValueError(f"keep={q:g} is too small for n={n}: it needs about {n / q:.3g} candidates")
    return max(n, int(math.ceil(n / q - 1e-9)))


def top_fraction_factor(n: int, keep: float) -> float:
    """f = E[v(U)], U ~ Beta(n + 1, m - n), m = ceil(n / keep).

    The exact variance factor of the *top-fraction* rule with the model's own likelihood as the
    score: keep the n most central of m candidates.  Given the (n+1)-th smallest |Z|, the n kept
    points are i.i.d. from the normal truncated at that radius, and the central mass inside it is
    the (n+1)-th order statistic of m uniforms, a Beta(n+1, m-n) variable
    ({prf:ref}`thm-13-typicality`).  f -> v(keep) as n -> infinity; f = 1 when m = n."""
    n = check_int("n", n, minimum=1)
    m = candidates_needed(n, keep)
    if m == n:
        return 1.0
    dist = stats.beta(n + 1, m - n)
    lo, hi = dist.ppf(1e-12), dist.ppf(1 - 1e-12)
    val, _ = integrate.quad(lambda u: truncated_variance_factor(min(max(u, 1e-300), 1.0))
                            * dist.pdf(u), lo, hi, limit=200, epsabs=1e-13, epsrel=1e-11)
    return float(min(max(val, 0.0), 1.0))


def curation_factor(n: int, keep: float, rule: str = "threshold") -> float:
    """f: E[variance of the kept synthetic points] / (model variance), for a verifier that
    scores by the generating model's own likelihood.

    ``rule="threshold"``: each candidate is kept iff it lies in the central fraction ``keep`` of
    the model (independently), f = v(keep); ``rule="top"``: the n most central of
    ceil(n / keep) candidates are kept, f = :func:`top_fraction_factor`."""
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
    n = check_int("n", n, minimum=1)
    if rule == "threshold":
        return truncated_variance_factor(keep)
    return top_fraction_factor(n, keep)


# ------------------------------------------------------------------------------------------
# the curated loop under every schedule ({prf:ref}`thm-13-typicality`, {prf:ref}`prop-13-mix`)
# ------------------------------------------------------------------------------------------

def _checks(sigma2, n, ddof):
    sigma2 = check_real("sigma2", sigma2, minimum=0.0, strict_min=True)
    n = check_int("n", n, minimum=2)
    ddof = check_int("ddof", ddof, minimum=0, maximum=1)
    return sigma2, n, ddof


def curated_schedule_moments(sigma2: float, n: int, generations: int, schedule, *, keep: float,
                             rule: str = "threshold", ddof: int = 0, curate_first: bool = False):
    """Exact E[sigma_t^2] and E[(mu_t - mu)^2], t = 0..T, for the 1-D Gaussian whose synthetic
    samples are curated by their likelihood under the generating model, under any schedule with
    fresh real data ({prf:ref}`thm-13-typicality`, {prf:ref}`prop-13-mix`).

    The recursion is that of :func:`collapselab.theory.gaussian.schedule_moments`, with the
    variance of the n_s synthetic points of generation t multiplied by
    f = :func:`curation_factor` (n_s, keep, rule): conditionally on the truncation radius they are
    i.i.d., centred at mu_{t-1}, with variance f sigma_{t-1}^2 in expectation, and every quantity
    the fit uses is a quadratic form of the points.  Real points are never curated.  Model 0 is
    the truth, so generation 1's samples are real data and are not curated unless
    ``curate_first`` (this matches ``run_loop(..., synthetic=Curated(..., curate_model0=...))``).

    Returns (expected_variance, expected_mean_sq_error), two arrays of length T + 1."""
    curate_first = check_bool("curate_first", curate_first)
    from ..schedules import Schedule

    sigma2, n, ddof = _checks(sigma2, n, ddof)
    generations = check_count("generations", generations, minimum=0)
    _check_keep(keep)
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
    if not isinstance(schedule, Schedule):
        raise ValueError(f"schedule must be a Schedule, got {schedule!r}")
    if not schedule.fresh_real:
        raise ValueError("schedule must draw fresh real data (fresh_real=True)")
    factors: dict[int, float] = {}

    def synthetic_factor(t, n_s):
        if not n_s or (t == 1 and not curate_first):
            return 1.0
        if n_s not in factors:
            factors[n_s] = curation_factor(n_s, keep, rule)
        return factors[n_s]

    return gaussian.schedule_moments(sigma2, n, generations, schedule, ddof,
                                     synthetic_factor=synthetic_factor)


def curated_expected_variance(sigma2: float, n: int, t, *, keep: float, rule: str = "threshold",
                              ddof: int = 0, curate_first: bool = False):
    """E[sigma_t^2] = sigma^2 c^t f^(t-1) under replace with curation by the model's own
    likelihood (f^t if ``curate_first``), c = (n-1)/(n-ddof), f = :func:`curation_factor`
    ({prf:ref}`thm-13-typicality`)."""
    curate_first = check_bool("curate_first", curate_first)
    sigma2, n, ddof = _checks(sigma2, n, ddof)
    t = np.asarray(t)
    if not np.issubdtype(t.dtype, np.integer) or np.any(t < 0):
        raise ValueError("t must be a non-negative integer or an array of them")
    c = (n - 1) / (n - ddof)
    f = curation_factor(n, keep, rule)
    curated = t if curate_first else np.maximum(t - 1, 0)
    return sigma2 * c**t * f**curated


def mix_stationary_moments(sigma2: float, n: int, alpha: float, *, keep: float,
                           rule: str = "threshold", ddof: int = 0):
    """The limits (v*, d*) of E[sigma_t^2] and E[(mu_t - mu)^2] under ``mix(alpha)`` (fresh
    real data, no accumulation) with curation by the model's own likelihood ({prf:ref}`prop-13-mix`).

    With n_r = round(alpha n) real and n_s = n - n_r curated synthetic points, the moments follow
    the affine map  v' = [A sigma^2 + B f v + C d] / (n - ddof),  d' = (n_s/n)^2 d + (n_r sigma^2
    + n_s f v) / n^2  with A = n_r - 1 + n_s/n, B = n_s - 1 + n_r/n, C = n_r n_s / n; its fixed
    point is returned.  Raises ValueError when the map does not contract (no real data and
    f c >= 1); with n_r = 0 and f c < 1 the limit is (0, d*)."""
    sigma2, n, ddof = _checks(sigma2, n, ddof)
    alpha = check_real("alpha", alpha, 0.0, 1.0)
    _check_keep(keep)
    n_r = int(round(alpha * n))
    n_s = n - n_r
    f = curation_factor(n_s, keep, rule) if n_s else 1.0
    A, B, C = n_r - 1 + n_s / n, n_s - 1 + n_r / n, n_r * n_s / n
    k = n - ddof
    # [v, d] = M [v, d] + b
    M = np.array([[B * f / k, C / k], [n_s * f / n**2, (n_s / n) ** 2]])
    b = np.array([A * sigma2 / k, n_r * sigma2 / n**2])
    if np.max(np.abs(np.linalg.eigvals(M))) >= 1.0:
        raise ValueError("the moment map does not contract (alpha too small for this keep): "
                         "the expected variance has no finite positive limit")
    v, d = np.linalg.solve(np.eye(2) - M, b)
    return float(v), float(d)


def mix_stationary_variance_limit(sigma2: float, alpha: float, *, keep: float) -> float:
    """lim_{n -> inf} v* = alpha sigma^2 / (1 - (1 - alpha) v(keep)) ({prf:ref}`prop-13-mix`):
    even with infinitely many samples per generation, curating the synthetic share by
    typicality biases the stationary variance below sigma^2 (without curation it is sigma^2)."""
    sigma2 = check_real("sigma2", sigma2, minimum=0.0, strict_min=True)
    alpha = check_real("alpha", alpha, 0.0, 1.0)
    v = truncated_variance_factor(keep)
    if alpha == 0.0:
        return 0.0 if v < 1.0 else sigma2
    return float(alpha * sigma2 / (1.0 - (1.0 - alpha) * v))


# ------------------------------------------------------------------------------------------
# rejection sampling toward a target ({prf:ref}`thm-13-rejection`)
# ------------------------------------------------------------------------------------------

def gaussian_log_ratio_bound(target_mean, target_var, model_mean, model_var):
    """log sup_x p(x)/q(x) for p = N(target_mean, target_var), q = N(model_mean, model_var).

    Finite iff model_var > target_var (then log(s_q/s_p) + (m_p - m_q)^2 / (2 (s_q^2 - s_p^2)))
    or the two are equal (0); +inf otherwise ({prf:ref}`thm-13-rejection`).  Broadcasts."""
    mp, vp, mq, vq = (check_array(name, a) for name, a in (("target_mean", target_mean),
                                                          ("target_var", target_var),
                                                          ("model_mean", model_mean),
                                                          ("model_var", model_var)))
    for name, a in (("target_mean", mp), ("target_var", vp), ("model_mean", mq),
                    ("model_var", vq)):
        if a.size and not np.all(np.isfinite(a)):
            raise ValueError(f"{name} contains NaN or infinite values")
    if np.any(vp <= 0) or np.any(vq <= 0):
        raise ValueError("target_var and model_var must be positive")
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = vq - vp
        out = 0.5 * np.log(vq / vp) + (mp - mq) ** 2 / (2.0 * gap)
        out = np.where(gap > 0, out, np.inf)
        out = np.where((gap == 0) & (mp == mq), 0.0, out)
    return float(out) if out.ndim == 0 else out


@finite_result('target_mean', 'model_mean', 'M')
def rejection_kept_moments(target_mean: float, target_var: float, model_mean: float,
                           model_var: float, M: float) -> dict:
    """Acceptance rate, mean and variance of the points kept by rejection sampling from
    q = N(model_mean, model_var) toward p = N(target_mean, target_var) with acceptance
    probability min(1, p/(M q)) ({prf:ref}`thm-13-rejection`).

    The kept density is min(p, M q) / Z with Z = int min(p, M q); the acceptance rate is Z / M.
    When M >= sup p/q the kept law is p exactly (mean and variance of the target, rate 1/M).
    Computed by quadrature; returns plain floats."""
    mp = check_real("target_mean", target_mean)
    vp = check_real("target_var", target_var, minimum=0.0, strict_min=True)
    mq = check_real("model_mean", model_mean)
    vq = check_real("model_var", model_var, minimum=0.0, strict_min=True)
    M = check_real("M", M, minimum=0.0, strict_min=True)
    sp, sq = math.sqrt(vp), math.sqrt(vq)

    def g(x):
        return min(stats.norm.pdf(x, mp, sp), M * stats.norm.pdf(x, mq, sq))

    lo = min(mp - 12 * sp, mq - 12 * sq)
    hi = max(mp + 12 * sp, mq + 12 * sq)
    pts = sorted({mp, mq})
    kw = dict(limit=400, points=pts, epsabs=1e-12, epsrel=1e-10)
    Z = integrate.quad(g, lo, hi, **kw)[0]
    m1 = integrate.quad(lambda x: x * g(x), lo, hi, **kw)[0] / Z
    m2 = integrate.quad(lambda x: (x - m1) ** 2 * g(x), lo, hi, **kw)[0] / Z
    return {"acceptance": float(Z / M), "mean": float(m1), "var": float(m2), "mass": float(Z)}
