"""Phase diagrams of recursive training (chapter 10, chapters/10_phase_diagrams.md).

Two kinds of functions live here.

* **Point functions** for :func:`collapselab.sweep.run_sweep`: module-level (so they pickle for a
  process pool or a Dask cluster), deterministic given the ``seed`` that the sweep hands to each
  grid point, and returning plain arrays.  :func:`mix_point` runs the refitted Gaussian under
  ``mix(alpha)``, :func:`tempered_point` the tempered Gaussian of chapter 8.  Both record the
  *stability ratio curve* ``E d_t / eps_n`` of {prf:ref}`def-10-stable` with
  ``d_t = (mu_t - mu)^2`` and ``eps_n = E d_1 = sigma^2 / n``.
* **Exact ratios and boundaries**: the same curves from the closed forms of chapters 7 and 8
  (:func:`collapselab.theory.contamination.mix_moments`,
  :func:`collapselab.theory.contraction.tempered_moments`; no formula is repeated here), the
  stability ratio ``rho_T`` they imply, and the boundaries of the C-stable region
  ({prf:ref}`thm-10-mix-boundary`, {prf:ref}`prop-10-tempered-boundary`).

Checked in ``tests/test_phase.py``.
"""
from __future__ import annotations

import math

import numpy as np

from ._validate import PY_STEP, as_rng, check_array, check_bool, check_count, check_fraction, check_int, check_real, check_size, check_work
from .theory import contamination as _cont
from .theory import contraction as _ct

__all__ = ["mix_point", "tempered_point", "stability_ratio", "exceedance_time",
           "mix_ratio_curve", "mix_ratio", "mix_boundary", "known_variance_boundary",
           "known_variance_exceedance_time", "mix_exceedance_time", "tempered_ratio_curve",
           "tempered_ratio", "tempered_boundary"]


# --------------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------------


def _tolerance(C) -> float:
    return check_real("C", C, minimum=1.0)


def _horizon(horizon, maximum: int | None = None):
    if horizon is None:
        return None
    return check_int("horizon", horizon, minimum=1, maximum=maximum)


def _sq_mean_error(params, truth) -> np.ndarray:
    """Metric for run_loop: d_t = (mu_t - mu)^2 for every chain."""
    return (params.mean - truth.mean) ** 2


# --------------------------------------------------------------------------------------------
# point functions for run_sweep
# --------------------------------------------------------------------------------------------


def _ratio_run(model, alpha, n, generations, replicates, exact, seed):
    from .loop import run_loop
    from .schedules import mix

    traj = run_loop(model, model.params(0.0), n=n, generations=generations,
                    replicates=replicates, schedule=mix(alpha), exact=exact, seed=as_rng(seed),
                    record=True, metrics={"sq": _sq_mean_error})
    d = traj["sq"] * n                         # d_t / eps_n chain by chain (sigma^2 = 1)
    ratio = d.mean(axis=1)
    se = d.std(axis=1, ddof=1) / np.sqrt(replicates) if replicates > 1 else np.zeros_like(ratio)
    return {"ratio": ratio, "ratio_se": se, "var": traj["var"].mean(axis=1),
            "realised_alpha": _cont.realised_fraction(n, alpha)}


def _point_checks(n, rep, generations, replicates):
    n = check_int("n", n, minimum=2)
    check_int("rep", rep, minimum=0)
    generations = check_count("generations", generations, minimum=1)
    replicates = check_int("replicates", replicates, minimum=2)
    check_size(f"generations={generations} x replicates={replicates}", 4.0 * generations * replicates)
    check_work(f"generations={generations} x replicates={replicates}", generations * (PY_STEP + 50.0 * replicates))
    return n, generations, replicates


def mix_point(alpha: float, n: int, rep: int = 0, *, generations: int = 100,
              replicates: int = 500, ddof: int = 1, known_variance: bool = False,
              exact: bool = True, seed=None) -> dict:
    """One grid point of the (alpha, n) phase diagram of chapter 10 ({prf:ref}`thm-10-mix-boundary`).

    Runs ``replicates`` chains of the refitted Gaussian (``cl.Gaussian1D(ddof)``, or the
    known-variance model of chapter 7 when ``known_variance``) from the truth N(0, 1) under
    ``mix(alpha)`` for ``generations`` generations.  ``rep`` only labels independent
    repetitions of the same setting: :func:`~collapselab.sweep.run_sweep` gives every grid
    point, hence every ``rep``, its own child seed.

    Returns a dict of plain arrays and floats:

    ``ratio``  (T+1,) the Monte-Carlo estimate of E d_t / eps_n, d_t = (mu_t - mu)^2,
               eps_n = sigma^2 / n (index 0 is the truth: 0);
    ``ratio_se`` (T+1,) its standard error; ``var`` (T+1,) the mean fitted variance;
    ``realised_alpha`` round(alpha n) / n, the fraction the loop actually uses.
    """
    from .models.contaminated import KnownVarianceGaussian1D
    from .models.gaussian import Gaussian1D

    alpha = check_fraction("alpha", alpha)
    n, generations, replicates = _point_checks(n, rep, generations, replicates)
    ddof = check_int("ddof", ddof, minimum=0, maximum=1)
    known_variance = check_bool("known_variance", known_variance)
    exact = check_bool("exact", exact)
    model = KnownVarianceGaussian1D(1.0) if known_variance else Gaussian1D(ddof)
    return _ratio_run(model, alpha, n, generations, replicates, exact, seed)


def tempered_point(alpha: float, tau: float, n: int, rep: int = 0, *, generations: int = 60,
                   replicates: int = 500, ddof: int = 0, exact: bool = True, seed=None) -> dict:
    """One grid point of the (alpha, tau, n) phase diagram of chapter 10
    ({prf:ref}`prop-10-tempered-boundary`).

    Runs :class:`~collapselab.models.tempered.TemperedGaussian1D` (temperature ``tau``, gain 1,
    bias 0) under ``mix(alpha)`` from N(0, 1) and returns the same keys as :func:`mix_point`.
    """
    from .models.tempered import TemperedGaussian1D

    alpha = check_fraction("alpha", alpha)
    tau = check_real("tau", tau, minimum=0.0, strict_min=True)
    n, generations, replicates = _point_checks(n, rep, generations, replicates)
    ddof = check_int("ddof", ddof, minimum=0, maximum=1)
    exact = check_bool("exact", exact)
    _ct.tempered_growth_rate(alpha, tau, n, ddof)   # refuses a tau whose moments overflow
    model = TemperedGaussian1D(tau=tau, ddof=ddof)
    return _ratio_run(model, alpha, n, generations, replicates, exact, seed)


# --------------------------------------------------------------------------------------------
# from a ratio curve to a verdict
# --------------------------------------------------------------------------------------------


def _curves(ratio):
    ratio = check_array("ratio", ratio, nonnegative=True)
    if ratio.ndim < 1 or ratio.shape[-1] < 2:
        raise ValueError("ratio must hold generations 0..T (T >= 1) along its last axis")
    return ratio


def stability_ratio(ratio, horizon: int | None = None):
    """rho_T = max_{1 <= t <= T} E d_t / eps_n ({prf:ref}`def-10-stable`).

    ``ratio`` holds E d_t / eps_n for t = 0..T along its last axis (any leading axes, e.g. the
    grid of a sweep); ``horizon`` T defaults to the last generation.  Returns a float, or an
    array shaped like ``ratio`` without its last axis."""
    ratio = _curves(ratio)
    horizon = _horizon(horizon, ratio.shape[-1] - 1)
    T = ratio.shape[-1] - 1 if horizon is None else horizon
    out = ratio[..., 1:T + 1].max(axis=-1)
    return float(out) if out.ndim == 0 else out


def exceedance_time(ratio, C: float):
    """The first generation t >= 1 with E d_t / eps_n > C; ``inf`` where the curve never
    exceeds C (chapter 10, the transient of {prf:ref}`thm-10-mix-boundary`).

    ``ratio`` as in :func:`stability_ratio`.  Returns a float or an array of floats."""
    ratio = _curves(ratio)
    C = _tolerance(C)
    above = ratio[..., 1:] > C
    first = np.argmax(above, axis=-1) + 1.0
    out = np.where(above.any(axis=-1), first, np.inf)
    return float(out) if out.ndim == 0 else out


# --------------------------------------------------------------------------------------------
# the Gaussian under mix(alpha): exact ratios and boundaries
# --------------------------------------------------------------------------------------------


def _mix_args(alpha, n, ddof, known_variance):
    alpha = check_fraction("alpha", alpha)
    n = check_int("n", n, minimum=2)
    ddof = check_int("ddof", ddof, minimum=0, maximum=1)
    return alpha, n, ddof, check_bool("known_variance", known_variance)


def mix_ratio_curve(alpha: float, n: int, generations: int, ddof: int = 1,
                    known_variance: bool = False) -> np.ndarray:
    """Exact E d_t / eps_n = n e_t / sigma^2, t = 0..T, for the Gaussian under ``mix(alpha)``:
    :func:`collapselab.theory.contamination.mix_moments` ({prf:ref}`thm-07-mix-moments`)
    divided by the one-generation error sigma^2 / n."""
    alpha, n, ddof, known_variance = _mix_args(alpha, n, ddof, known_variance)
    e, _ = _cont.mix_moments(1.0, n, alpha, generations, ddof, known_variance)
    return n * e


def mix_ratio(alpha: float, n: int, horizon: int | None = None, ddof: int = 1,
              known_variance: bool = False) -> float:
    """Exact stability ratio rho_T of the Gaussian's mean under ``mix(alpha)``
    ({prf:ref}`thm-10-mix-boundary`); ``horizon=None`` gives rho_inf = sup_t.

    With the known variance or the unbiased variance (ddof = 1) the ratio increases with t, so
    rho_inf is the limit :func:`collapselab.theory.contamination.mix_error_factor` (inf for
    alpha n < 1/2, the replace chain).  For the MLE (ddof = 0) the supremum is computed from the
    exact recursion run until it has converged; under replace it is n (the mean error tends
    to sigma^2, {prf:ref}`thm-02-mean-walk`)."""
    alpha, n, ddof, known_variance = _mix_args(alpha, n, ddof, known_variance)
    horizon = _horizon(horizon)
    if horizon is not None:
        return float(mix_ratio_curve(alpha, n, horizon, ddof, known_variance)[1:].max())
    m = _cont.real_points(n, alpha)
    if m == 0:
        return float(n) if (ddof == 0 and not known_variance) else float("inf")
    limit = _cont.mix_error_factor(n, alpha, ddof, known_variance)
    if known_variance or ddof == 1:
        return float(limit)
    # MLE: the curve need not be monotone; run it until it has settled on its limit
    T = 256
    while True:
        curve = mix_ratio_curve(alpha, n, T, ddof)
        if abs(curve[-1] - limit) <= 1e-12 * limit or T >= 1 << 20:
            return float(max(curve[1:].max(), limit))
        T *= 2


def mix_boundary(n: int, C: float, horizon: int | None = None, ddof: int = 1,
                 known_variance: bool = False) -> float:
    """The smallest realisable real fraction m/n (m = 0..n) at which the Gaussian under
    ``mix`` is C-stable over ``horizon`` generations (``None``: over all generations),
    i.e. ``mix_ratio(m/n, n, horizon) <= C`` ({prf:ref}`thm-10-mix-boundary`).

    Found by bisection on m, since the ratio decreases as the real fraction grows; m = n (all
    real, rho = 1) always qualifies."""
    n = check_int("n", n, minimum=2)
    C = _tolerance(C)
    horizon = _horizon(horizon)

    def ok(m):
        return mix_ratio(m / n, n, horizon, ddof, known_variance) <= C

    if ok(0):
        return 0.0
    lo, hi = 0, n          # ok(lo) is False, ok(hi) is True
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi / n


def known_variance_boundary(C: float, horizon: int | None = None) -> float:
    """alpha_C(T): the real fraction at which rho_T = C for the known-variance mean
    ({prf:ref}`thm-10-mix-boundary`), with alpha taken as given (no rounding).

    horizon None: rho_inf = 1/(alpha (2 - alpha)) = C, i.e. alpha_C = 1 - sqrt(1 - 1/C),
    independent of n.  Finite T: the root of (1 - (1 - a)^{2T}) / (a (2 - a)) = C, or 0 when
    T <= C (then even replace has rho_T = T <= C)."""
    C = _tolerance(C)
    horizon = _horizon(horizon)
    if horizon is None:
        return float(1.0 - math.sqrt(1.0 - 1.0 / C))
    if horizon <= C:
        return 0.0

    def rho(a):
        q = (1.0 - a) ** 2
        return (1.0 - q ** horizon) / (1.0 - q)

    lo, hi = 0.0, 1.0 - math.sqrt(1.0 - 1.0 / C)   # rho(lo) = T > C >= rho(hi)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if rho(mid) > C:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-15:
            break
    return float(hi)


def known_variance_exceedance_time(alpha: float, C: float) -> float:
    """t*_C(alpha): the first generation at which the known-variance mean error exceeds
    C eps_n under ``mix(alpha)`` ({prf:ref}`thm-10-mix-boundary`), alpha taken as given.

    t* = floor(log(1 - C a(2-a)) / log((1-a)^2)) + 1 when C a(2-a) < 1, else inf;
    t* = floor(C) + 1 under replace (a = 0), where rho_t = t."""
    a = check_fraction("alpha", alpha)
    C = _tolerance(C)
    if a == 0.0:
        return float(math.floor(C) + 1)
    if a == 1.0 or C * a * (2.0 - a) >= 1.0:
        return float("inf")
    log_q = 2.0 * math.log1p(-a)

    def rho(t):                      # (1 - q^t) / (1 - q), accurate for small a
        return -math.expm1(t * log_q) / (a * (2.0 - a))

    t = max(2, math.floor(math.log1p(-C * a * (2.0 - a)) / log_q) + 1)
    while t > 2 and rho(t - 1) > C:   # guard the floor against rounding at exact ties
        t -= 1
    while rho(t) <= C:
        t += 1
    return float(t)


def mix_exceedance_time(alpha: float, n: int, C: float, ddof: int = 1,
                        known_variance: bool = False, max_generations: int = 1 << 20) -> float:
    """The first generation at which the *exact* E d_t / eps_n of the Gaussian under
    ``mix(alpha)`` exceeds C (realised fraction, estimated or known variance); inf if it never
    does ({prf:ref}`thm-10-mix-boundary`)."""
    alpha, n, ddof, known_variance = _mix_args(alpha, n, ddof, known_variance)
    C = _tolerance(C)
    max_generations = check_int("max_generations", max_generations, minimum=1)
    if mix_ratio(alpha, n, None, ddof, known_variance) <= C:
        return float("inf")
    T = 64
    while True:
        T = min(T, max_generations)
        t = exceedance_time(mix_ratio_curve(alpha, n, T, ddof, known_variance), C)
        if np.isfinite(t) or T >= max_generations:
            return float(t)
        T *= 4


# --------------------------------------------------------------------------------------------
# the tempered Gaussian: exact ratios and boundaries
# --------------------------------------------------------------------------------------------


def _tempered_args(alpha, tau, n, ddof):
    alpha = check_fraction("alpha", alpha)
    n = check_int("n", n, minimum=2)
    if _cont.real_points(n, alpha) < 1:
        raise ValueError(f"alpha must give at least one real point per generation "
                         f"(round(alpha n) >= 1; got alpha={alpha}, n={n}): with alpha = 0 the "
                         "loop is replace, where the mean is a random walk (chapter 2)")
    tau = check_real("tau", tau, minimum=0.0, strict_min=True)
    ddof = check_int("ddof", ddof, minimum=0, maximum=1)
    return alpha, tau, n, ddof


def tempered_ratio_curve(alpha: float, tau: float, n: int, generations: int,
                         ddof: int = 0) -> np.ndarray:
    """Exact E d_t / eps_n = n E(m_t - mu)^2 / sigma^2, t = 0..T, for the tempered Gaussian
    (g = 1, b = 0) under ``mix(alpha)``: :func:`collapselab.theory.contraction.tempered_moments`
    ({prf:ref}`thm-08-tempered`) divided by sigma^2 / n."""
    alpha, tau, n, ddof = _tempered_args(alpha, tau, n, ddof)
    return n * _ct.tempered_moments(alpha, tau, n, generations, ddof)["msd"]


def tempered_ratio(alpha: float, tau: float, n: int, horizon: int | None = None,
                   ddof: int = 0) -> float:
    """Exact stability ratio rho_T of the tempered Gaussian's mean under ``mix(alpha)``
    ({prf:ref}`prop-10-tempered-boundary`); ``horizon=None`` gives sup_t, which is inf exactly
    when the moment map's spectral radius is >= 1 ({prf:ref}`thm-08-threshold`)."""
    alpha, tau, n, ddof = _tempered_args(alpha, tau, n, ddof)
    horizon = _horizon(horizon)
    if horizon is not None:
        return float(tempered_ratio_curve(alpha, tau, n, horizon, ddof)[1:].max())
    if _cont.real_points(n, alpha) == n:
        return 1.0                                     # all real: e_t = sigma^2 / n
    if _ct.tempered_growth_rate(alpha, tau, n, ddof) >= 1.0:
        return float("inf")
    # With mu = 0, g = 1, b = 0 the mean's expectation stays 0 and y_t = (E m_t^2, E v_t) obeys
    # y_t = B y_{t-1} + c for t >= 2, B the positive 2x2 block of the moment map of
    # thm-08-tempered.  So E m_t^2 - e* = w1 l1^(t-1) + w2 l2^(t-1) with real eigenvalues
    # |l2| < l1 < 1: evaluate it until the second term is negligible; after that the sequence
    # moves monotonically towards its limit e*.
    A, c = _ct.tempered_moment_matrix(alpha, tau, n, ddof)
    B, cb = A[1:, 1:], c[1:]
    y_star = np.linalg.solve(np.eye(2) - B, cb)
    first = _ct.tempered_moments(alpha, tau, n, 1, ddof)
    y1 = np.array([first["msd"][1], first["var"][1]])
    lam, V = np.linalg.eig(B)
    lam, V = lam.real, V.real                          # a positive matrix: real eigenvalues
    w = V[0] * np.linalg.solve(V, y1 - y_star)
    i1, i2 = np.argsort(-np.abs(lam))
    (l1, w1), (l2, w2) = (lam[i1], w[i1]), (lam[i2], w[i2])
    s_end = 1
    if w2 != 0.0 and l2 != 0.0 and abs(l1) > abs(l2):
        gap = math.log(abs(l1) / abs(l2))
        need = math.log(abs(w2) / max(abs(w1) * 1e-9, 1e-300)) / gap
        s_end = int(min(max(1, math.ceil(need)), 1_000_000))
    s = np.arange(s_end + 1, dtype=float)
    e = y_star[0] + w1 * l1**s + w2 * np.sign(l2) ** s * abs(l2) ** s
    return float(n * max(e.max(), y_star[0]))


def tempered_boundary(alpha: float, n: int, C: float, horizon: int | None = None,
                      ddof: int = 0, tol: float = 1e-10) -> float:
    """tau_C: the largest temperature at which the tempered Gaussian under ``mix(alpha)`` is
    C-stable over ``horizon`` generations (``None``: all generations)
    ({prf:ref}`prop-10-tempered-boundary`).  The ratio increases with tau, so the C-stable
    temperatures form the interval (0, tau_C]; tau_C is found by bisection.  inf when every
    temperature is C-stable (alpha = 1, or a short horizon)."""
    alpha, _, n, ddof = _tempered_args(alpha, 1.0, n, ddof)
    C = _tolerance(C)
    horizon = _horizon(horizon)
    tol = check_real("tol", tol, minimum=0.0, strict_min=True)
    if alpha == 1.0 or _cont.real_points(n, alpha) == n:
        return float("inf")

    def rho(tau):
        return tempered_ratio(alpha, tau, n, horizon, ddof)

    lo = 1e-6
    if rho(lo) > C:     # pragma: no cover - rho -> max(1, ...) <= 1/(2 - alpha) as tau -> 0
        return 0.0
    if horizon is None:
        # rho = inf from the exact threshold on (at the realised fraction the loop uses)
        hi = _ct.exact_critical_tau(_cont.realised_fraction(n, alpha), n, ddof)
    else:
        hi = 2.0
        while rho(hi) <= C:
            hi *= 2.0
            if hi > 1e6:
                return float("inf")
    while hi - lo > tol * hi:
        mid = 0.5 * (lo + hi)
        if rho(mid) <= C:
            lo = mid
        else:
            hi = mid
    return float(lo)
