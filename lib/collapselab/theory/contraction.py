"""Stability as a contraction (chapter 8).

Two kinds of results live here.

* The *contraction lemma* ({prf:ref}`lem-08-contraction`) and its converse
  ({prf:ref}`lem-08-divergence`): a non-negative error sequence with
  ``d_t <= eps + kappa d_{t-1}`` stays below ``kappa^t d_0 + eps (1 - kappa^t) / (1 - kappa)``,
  which tends to ``eps / (1 - kappa)`` when ``kappa < 1``; the reverse inequality with
  ``kappa >= 1`` forces divergence.  ``kappa = (1 - alpha) L`` with alpha the real fraction and
  L the sensitivity of the fitting step ({prf:ref}`def-08-sensitivity`).
* Exact moments of the *tempered Gaussian* ({class}`collapselab.models.tempered.TemperedGaussian1D`)
  refitted under ``mix(alpha)`` with fresh real data ({prf:ref}`thm-08-tempered`): its sampler
  draws from N(g m + b, tau^2 v) instead of the fitted N(m, v), so the expected variance obeys
  ``E v_t = a [alpha sigma^2 + (1 - alpha) tau^2 E v_{t-1}] + k E(g m_{t-1} + b - mu)^2`` with
  ``a = (n-1)/(n-ddof)`` and a between-group term ``k = alpha (1 - alpha) n / (n - ddof)``.

Everything is checked against simulation in ``tests/test_contraction.py``.
"""
from __future__ import annotations

import numpy as np

from .._validate import check_array, check_count, check_fraction, check_int, check_real, check_steps, finite_result
from .contamination import real_points, realised_fraction

# --------------------------------------------------------------------------------------------
# the contraction lemma
# --------------------------------------------------------------------------------------------


def _t_array(t):
    """t: a non-negative integer or integer array (integral floats accepted, as everywhere)."""
    return check_steps("t", t, per_item=0.0, work_per_item=0.0)


def _nonneg(name, value):
    return check_real(name, value, minimum=0.0)


def contraction_factor(alpha: float, L: float) -> float:
    """kappa = (1 - alpha) L: the contraction factor of {prf:ref}`def-08-sensitivity`.

    alpha is the fraction of real data in each generation's training set, L >= 0 the
    sensitivity of the fitted model to the model that generated the synthetic part."""
    alpha = check_fraction("alpha", alpha)
    L = _nonneg("L", L)
    return (1.0 - alpha) * L


@finite_result('kappa', 't')
def geometric_sum(kappa: float, t):
    """sum_{s=0}^{t-1} kappa^s = (1 - kappa^t) / (1 - kappa), and t when kappa = 1."""
    kappa = _nonneg("kappa", kappa)
    t = _t_array(t)
    if kappa == 1.0:
        return t.astype(float) if t.ndim else float(t)
    out = (1.0 - kappa ** t.astype(float)) / (1.0 - kappa)
    return out if t.ndim else float(out)


@finite_result('d0', 'eps', 'kappa', 't')
def contraction_bound(d0: float, eps: float, kappa: float, t):
    """kappa^t d_0 + eps (1 - kappa^t) / (1 - kappa): the bound of {prf:ref}`lem-08-contraction`.

    An upper bound on d_t when ``d_t <= eps + kappa d_{t-1}`` for every t; for kappa >= 1 and
    the reverse inequality it is a *lower* bound ({prf:ref}`lem-08-divergence`).  With
    equality in the recursion it is d_t itself.  ``t`` may be an integer or an integer array."""
    d0 = _nonneg("d0", d0)
    eps = _nonneg("eps", eps)
    kappa = _nonneg("kappa", kappa)
    t = _t_array(t)
    out = kappa ** t.astype(float) * d0 + eps * np.asarray(geometric_sum(kappa, t))
    return out if t.ndim else float(out)


def contraction_limit(eps: float, kappa: float) -> float:
    """lim sup of the bound: eps / (1 - kappa) for kappa < 1; +inf for kappa >= 1 (unless eps = 0,
    when the bound stays at d_0 for kappa = 1 and 0 is returned for the limit of eps-terms)."""
    eps = _nonneg("eps", eps)
    kappa = _nonneg("kappa", kappa)
    if kappa < 1.0:
        return eps / (1.0 - kappa)
    return 0.0 if eps == 0.0 else float("inf")


@finite_result('d0', 'eps', 'kappa', 'generations')
def iterate_recursion(d0: float, eps, kappa, generations: int) -> np.ndarray:
    """d_0, ..., d_T of the recursion with equality, ``d_t = eps_t + kappa_t d_{t-1}``.

    ``eps`` and ``kappa`` are scalars or arrays of length T (their values at t = 1..T)."""
    d0 = _nonneg("d0", d0)
    generations = check_count("generations", generations, minimum=0)
    eps = np.broadcast_to(check_array("eps", eps, ndim=(0, 1), nonnegative=True), (generations,))
    kappa = np.broadcast_to(check_array("kappa", kappa, ndim=(0, 1), nonnegative=True), (generations,))
    d = np.empty(generations + 1)
    d[0] = d0
    for t in range(1, generations + 1):
        d[t] = eps[t - 1] + kappa[t - 1] * d[t - 1]
    return d


def recursion_slack(d, eps, kappa) -> np.ndarray:
    """eps + kappa d_{t-1} - d_t for t = 1..T along axis 0 of ``d`` (shape (T+1, ...)).

    Non-negative everywhere exactly when ``d`` satisfies the recursion of
    {prf:ref}`lem-08-contraction`; ``eps`` and ``kappa`` broadcast against ``d[1:]``."""
    d = check_array("d", d)
    if d.ndim < 1 or d.shape[0] < 2:
        raise ValueError("d must hold at least two generations along axis 0")
    eps = check_array("eps", eps, nonnegative=True)
    kappa = check_array("kappa", kappa, nonnegative=True)
    return eps + kappa * d[:-1] - d[1:]


def estimate_contraction(d, method: str = "relative", min_points: int = 3):
    """Fit ``d_t = eps + kappa d_{t-1} + noise`` to a trajectory (the online estimate of chapter 8).

    ``d`` has shape (T+1,) or (T+1, R): one or R trajectories along axis 0.  Returns
    ``(kappa_hat, eps_hat)`` with shape () or (R,).

    ``method="relative"`` (default) assumes noise proportional to d_{t-1}, as for a fitted
    variance, and regresses the growth ratio d_t/d_{t-1} on 1/d_{t-1} (intercept kappa, slope
    eps); it needs d > 0.  ``method="ols"`` regresses d_t on d_{t-1}; on a growing trajectory
    only its last few points carry weight and it underestimates kappa."""
    d = check_array("d", d, ndim=(1, 2))
    min_points = check_int("min_points", min_points, minimum=2)
    if method not in ("relative", "ols"):
        raise ValueError(f"method must be 'relative' or 'ols', got {method!r}")
    if d.shape[0] - 1 < min_points:
        raise ValueError(f"d must hold at least min_points + 1 = {min_points + 1} generations, got {d.shape[0]}")
    x, y = d[:-1], d[1:]
    if method == "relative":
        if np.any(x <= 0):
            raise ValueError("d must be positive for method='relative'")
        x, y = 1.0 / x, y / x  # y/x = kappa + eps (1/x)
    xc = x - x.mean(axis=0)
    sxx = np.sum(xc * xc, axis=0)
    if np.any(sxx == 0):
        raise ValueError("d must vary over time to estimate kappa (a constant trajectory)")
    slope = np.sum(xc * (y - y.mean(axis=0)), axis=0) / sxx
    intercept = y.mean(axis=0) - slope * x.mean(axis=0)
    return (intercept, slope) if method == "relative" else (slope, intercept)


def settling_time(kappa: float, factor: float = 0.01) -> float:
    """Generations for kappa^t to fall below ``factor``: log(factor)/log(kappa) (inf if kappa >= 1)."""
    kappa = _nonneg("kappa", kappa)
    factor = check_real("factor", factor, minimum=0.0, maximum=1.0, strict_min=True)
    if kappa >= 1.0:
        return float("inf")
    if kappa == 0.0:
        return 1.0
    return float(np.log(factor) / np.log(kappa))


# --------------------------------------------------------------------------------------------
# the tempered Gaussian under mix(alpha)
# --------------------------------------------------------------------------------------------


def _model_checks(n, alpha, tau, ddof, gain):
    n = check_int("n", n, minimum=2)
    alpha = check_fraction("alpha", alpha)
    tau = check_real("tau", tau, minimum=0.0, strict_min=True)
    ddof = check_int("ddof", ddof, minimum=0, maximum=1)
    gain = check_real("gain", gain)
    return n, alpha, tau, ddof, gain


@finite_result('tau')
def variance_sensitivity(tau: float, n: int, ddof: int = 0) -> float:
    """L = tau^2 (n-1)/(n-ddof): sensitivity of the fitted variance to the sampler's variance.

    tau = 1 gives the plain refitted Gaussian of chapter 2 (L = (n-1)/n for the MLE, 1 for the
    unbiased estimator)."""
    tau = check_real("tau", tau, minimum=0.0, strict_min=True)
    n = check_int("n", n, minimum=2)
    ddof = check_int("ddof", ddof, minimum=0, maximum=1)
    return tau**2 * (n - 1) / (n - ddof)


@finite_result('tau')
def variance_kappa(alpha: float, tau: float, n: int, ddof: int = 0) -> float:
    """kappa = (1 - alpha) tau^2 (n-1)/(n-ddof), with alpha the realised fraction round(alpha n)/n.

    The contraction factor of the expected variance in {prf:ref}`thm-08-tempered`, leaving out
    the O(1/n) coupling through the between-group term (see :func:`tempered_growth_rate`)."""
    n, alpha, tau, ddof, _ = _model_checks(n, alpha, tau, ddof, 1.0)
    return (1.0 - realised_fraction(n, alpha)) * variance_sensitivity(tau, n, ddof)


def critical_tau(alpha: float, n: int, ddof: int = 0) -> float:
    """tau at which (1 - alpha) tau^2 (n-1)/(n-ddof) = 1 (inf when alpha = 1).

    Uses alpha as given (no rounding), so it draws the smooth boundary of the stability map."""
    alpha = check_fraction("alpha", alpha)
    n = check_int("n", n, minimum=2)
    ddof = check_int("ddof", ddof, minimum=0, maximum=1)
    if alpha == 1.0:
        return float("inf")
    return float(np.sqrt((n - ddof) / ((1.0 - alpha) * (n - 1))))


@finite_result('tau')
def critical_alpha(tau: float, n: int, ddof: int = 0) -> float:
    """Smallest real fraction with (1 - alpha) L < 1, L = tau^2 (n-1)/(n-ddof): max(0, 1 - 1/L)."""
    L = variance_sensitivity(tau, n, ddof)
    return float(max(0.0, 1.0 - 1.0 / L))


@finite_result('tau', 'gain', 'bias', 'mu')
def tempered_moment_matrix(alpha: float, tau: float, n: int, ddof: int = 0, gain: float = 1.0,
                           bias: float = 0.0, mu: float = 0.0, sigma2: float = 1.0):
    """The affine map of {prf:ref}`thm-08-tempered` on x = (E m, E m^2, E v): x_t = A x_{t-1} + c.

    One generation of ``mix(alpha)`` with fresh real data: n_r = round(alpha n) points from the
    truth N(mu, sigma2) and n_s = n - n_r from the sampler N(g m + b, tau^2 v) of the previous
    model (m, v); the new model is the pooled mean and pooled scatter / (n - ddof).
    Returns (A, c) with A of shape (3, 3) and c of shape (3,)."""
    n, alpha, tau, ddof, gain = _model_checks(n, alpha, tau, ddof, gain)
    bias = check_real("bias", bias)
    mu = check_real("mu", mu)
    sigma2 = check_real("sigma2", sigma2, minimum=0.0, strict_min=True)
    nr = real_points(n, alpha)
    ns = n - nr
    a, s = nr / n, ns / n          # realised real and synthetic fractions
    t2 = tau**2
    k = nr * ns / (n * (n - ddof))  # between-group coefficient
    A = np.zeros((3, 3))
    c = np.zeros(3)
    # E m_t = a mu + s (g E m + b)
    A[0, 0] = s * gain
    c[0] = a * mu + s * bias
    # E m_t^2 = E[(a xr + s xs)^2], xr ~ N(mu, sigma2/nr), xs | prev ~ N(g m + b, tau^2 v / ns)
    A[1, 1] = s**2 * gain**2
    A[1, 0] = s**2 * 2 * gain * bias + 2 * a * s * mu * gain
    A[1, 2] = s * t2 / n
    c[1] = a**2 * mu**2 + a * sigma2 / n + s**2 * bias**2 + 2 * a * s * mu * bias
    # E v_t = [(n-1)/n (nr sigma2 + ns tau^2 E v) + (nr ns / n) E(g m + b - mu)^2] / (n - ddof)
    A[2, 2] = (n - 1) * ns * t2 / (n * (n - ddof))
    A[2, 1] = k * gain**2
    A[2, 0] = k * 2 * gain * (bias - mu)
    c[2] = (n - 1) * nr * sigma2 / (n * (n - ddof)) + k * (bias - mu) ** 2
    return A, c


@finite_result('tau', 'gain', 'bias', 'mu')
def tempered_moments(alpha: float, tau: float, n: int, generations: int, ddof: int = 0,
                     gain: float = 1.0, bias: float = 0.0, mu: float = 0.0, sigma2: float = 1.0):
    """Exact E m_t, E(m_t - mu)^2 and E v_t, t = 0..T, for the tempered Gaussian under mix(alpha).

    {prf:ref}`thm-08-tempered`.  Model 0 is the truth and samples untempered (its samples are
    real data), so generation 1 uses tau = 1, g = 1, b = 0; later generations use the tempered
    sampler.  Real data are fresh each generation (``mix(alpha)`` with ``fresh_real=True``).
    Returns a dict of arrays of length T + 1: ``mean``, ``msd`` (mean squared deviation of
    m_t from mu) and ``var``."""
    generations = check_count("generations", generations, minimum=0)
    A1, c1 = tempered_moment_matrix(alpha, 1.0, n, ddof, 1.0, 0.0, mu, sigma2)
    A, c = tempered_moment_matrix(alpha, tau, n, ddof, gain, bias, mu, sigma2)
    x = np.empty((generations + 1, 3))
    x[0] = (mu, mu**2, sigma2)
    for t in range(1, generations + 1):
        x[t] = (A1 @ x[t - 1] + c1) if t == 1 else (A @ x[t - 1] + c)
    mean, m2, var = x[:, 0], x[:, 1], x[:, 2]
    msd = m2 - 2 * mu * mean + mu**2
    return {"mean": mean, "msd": np.maximum(msd, 0.0), "var": var}


@finite_result('tau', 'gain')
def tempered_growth_rate(alpha: float, tau: float, n: int, ddof: int = 0, gain: float = 1.0) -> float:
    """Spectral radius of the moment map A: the exact asymptotic growth (or decay) factor
    ({prf:ref}`thm-08-threshold`).

    Stability of the first two moments holds iff it is < 1.  It is at least
    max((1 - alpha)|g|, variance_kappa) and exceeds the latter by O(1/n): the between-group term
    couples the variance to the squared error of the mean."""
    A, _ = tempered_moment_matrix(alpha, tau, n, ddof, gain)
    return float(np.max(np.abs(np.linalg.eigvals(A))))


def exact_critical_tau(alpha: float, n: int, ddof: int = 0, gain: float = 1.0) -> float:
    """tau at which :func:`tempered_growth_rate` equals 1: the exact stability boundary of
    {prf:ref}`thm-08-threshold`.

    Solves det(I - B) = 0 for the (E m^2, E v) block B of the moment map with the real fraction
    taken as given (no rounding): with s = 1 - alpha, p = s^2 g^2, k = alpha s n/(n - ddof),
    tau_c^2 = (1 - p) / [(1 - p) s (n-1)/(n-ddof) + s k g^2 / n].
    Returns 0 when s |g| >= 1 (the mean alone is unstable) and inf when alpha = 1."""
    alpha = check_fraction("alpha", alpha)
    n = check_int("n", n, minimum=2)
    ddof = check_int("ddof", ddof, minimum=0, maximum=1)
    gain = check_real("gain", gain)
    s = 1.0 - alpha
    if s == 0.0:
        return float("inf")
    g = abs(gain)
    one_minus_sg = (1.0 - g) + alpha * g   # 1 - s|g|, accurate for small alpha
    if one_minus_sg <= 0.0:
        return 0.0
    one_minus_p = one_minus_sg * (1.0 + s * g)
    k = alpha * s * n / (n - ddof)
    tau2 = one_minus_p / (one_minus_p * s * (n - 1) / (n - ddof) + s * k * g**2 / n)
    return float(np.sqrt(tau2))


@finite_result('tau')
def variance_error_terms(alpha: float, tau: float, n: int, generations: int, ddof: int = 0,
                         sigma2: float = 1.0):
    """The pieces of the variance recursion written in the lemma's form, t = 1..T.

    With d_t = |E v_t - sigma^2|: E v_t - sigma^2 = kappa (E v_{t-1} - sigma^2) + beta_t, so
    d_t <= |beta_t| + kappa d_{t-1}.  Returns (kappa, beta) with beta of length T (generation 1
    uses the untempered sampler of the truth: kappa_1 = kappa / tau^2).
    beta_t = sigma^2 [a alpha + kappa_t - 1] + k E(m_{t-1} - mu)^2."""
    n, alpha, tau, ddof, _ = _model_checks(n, alpha, tau, ddof, 1.0)
    mom = tempered_moments(alpha, tau, n, generations, ddof, sigma2=sigma2)
    a = realised_fraction(n, alpha)
    nr = real_points(n, alpha)
    k = nr * (n - nr) / (n * (n - ddof))
    base = (n - 1) / (n - ddof)
    kappa = (1 - a) * tau**2 * base
    kap_t = np.full(generations, kappa)
    if generations:
        kap_t[0] = (1 - a) * base
    beta = sigma2 * (base * a + kap_t - 1.0) + k * mom["msd"][:-1]
    return kappa, beta


@finite_result('tau')
def mean_noise_terms(alpha: float, tau: float, n: int, generations: int, ddof: int = 0,
                     sigma2: float = 1.0) -> np.ndarray:
    """eps_t = sqrt(E xi_t^2) for the mean, t = 1..T, when mu = 0, g = 1, b = 0.

    m_t - mu = (1 - alpha)(m_{t-1} - mu) + xi_t with xi_t independent of the past, mean zero,
    E xi_t^2 = (alpha sigma^2 + (1 - alpha) tau_t^2 E v_{t-1}) / n.  So the RMS error
    d_t = sqrt(E(m_t - mu)^2) obeys d_t <= eps_t + (1 - alpha) d_{t-1} (Minkowski) and, exactly,
    d_t^2 = (1 - alpha)^2 d_{t-1}^2 + eps_t^2."""
    n, alpha, tau, ddof, _ = _model_checks(n, alpha, tau, ddof, 1.0)
    mom = tempered_moments(alpha, tau, n, generations, ddof, sigma2=sigma2)
    a = realised_fraction(n, alpha)
    t2 = np.full(generations, tau**2)
    if generations:
        t2[0] = 1.0
    return np.sqrt((a * sigma2 + (1 - a) * t2 * mom["var"][:-1]) / n)


def quadrature_tightness(kappa: float) -> float:
    """sqrt((1 - kappa)/(1 + kappa)): the ratio of the true stationary RMS error to the lemma's
    eps/(1 - kappa) when the one-step errors are independent with constant size eps."""
    kappa = check_real("kappa", kappa, minimum=0.0, maximum=1.0)
    if kappa == 1.0:
        return 0.0
    return float(np.sqrt((1 - kappa) / (1 + kappa)))
