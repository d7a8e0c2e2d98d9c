"""The Wasserstein-1 distance to the truth, vectorised over chains (chapter 7).

In one dimension W1(P, Q) = int |F_P(x) - F_Q(x)| dx.  The truth is a Gaussian mixture
(:class:`~collapselab.models.kde.KDEParams`, e.g. a normal, or the two-component mixture of Wang,
Niu & Li's experiments, :func:`crt_mixture`) or a normal model's parameters
(:class:`~collapselab.models.gaussian.Normal1DParams`).

* :func:`w1_empirical` — **exact** for an empirical measure (R chains of N atoms): between
  consecutive sorted atoms the empirical CDF is a constant c, and int |c - F| has a closed form
  through the antiderivative G(x) = int_{-inf}^x F = sum_j w_j [(x - mu_j) Phi(z_j) + s_j phi(z_j)];
  where F crosses c inside an interval the crossing point is found by Newton's method from
  the linear interpolant (the integral is insensitive to it to second order).  O(R N log N).
* :func:`w1_kde` — a fitted Gaussian KDE against the truth: the centres are linearly binned
  on a grid of step h / ``resolution``, the binned masses are convolved with the Gaussian CDF
  kernel by FFT (the KDE's CDF on the grid), and |F_hat - F| is integrated by the trapezoidal
  rule.  O(R (N + G log G)) for G grid points.  Numerical error: linear binning changes the
  CDF by at most delta^2 phi'(.)/(2 h^2) per unit mass, about 0.1 delta^2 / h in W1, and the
  trapezoidal rule adds the same order; with the default delta = h / 20 the total is below
  3e-4 h (checked against direct evaluation in ``tests/test_crt_nonparametric.py``).
* :func:`w1_to_truth` dispatches on the model and is usable directly as a
  :func:`~collapselab.loop.run_loop` metric.
"""
from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from ._validate import check_array, check_int, check_kde, check_normal1d, check_real, check_size
from .models.empirical import EmpiricalParams
from .models.gaussian import Normal1DParams
from .models.kde import KDEParams, _row_constant, gaussian_mixture

_INV_SQRT2PI = 1.0 / np.sqrt(2.0 * np.pi)
_BLOCK = 1 << 22


def crt_mixture(replicates: int = 1) -> KDEParams:
    """The truth of Wang, Niu & Li's one-dimensional simulations (read in their public code):
    0.35 N(-2, 0.8^2) + 0.65 N(1, 1.3^2)."""
    return gaussian_mixture([-2.0, 1.0], [0.8, 1.3], [0.35, 0.65], replicates=replicates)


def _truth_arrays(truth, R: int, name: str = "truth"):
    """(mu, s, w), each (R or 1, K), for a Gaussian-mixture or normal truth."""
    if isinstance(truth, Normal1DParams):
        check_normal1d(name, truth)
        mu = np.atleast_1d(np.asarray(truth.mean, dtype=float))[:, None]
        s = np.sqrt(np.atleast_1d(np.asarray(truth.var, dtype=float)))[:, None]
        w = np.ones_like(mu)
    elif isinstance(truth, KDEParams):
        check_kde(name, truth)
        mu, s, w = truth.centres, truth.widths, truth.weight_array()
    else:
        raise ValueError(f"{name} must be KDEParams (a Gaussian mixture) or Normal1DParams, got "
                         f"{type(truth).__name__}")
    if np.any(s <= 0):
        raise ValueError(f"{name} must have positive widths")
    if mu.shape[0] not in (1, R):
        raise ValueError(f"{name} has {mu.shape[0]} chains, the model {R}")
    if mu.shape[0] == R and R > 1 and (mu.strides[0] == 0 or (
            np.all(mu == mu[:1]) and np.all(s == s[:1]) and np.all(w == w[:1]))):
        mu, s, w = mu[:1], s[:1], w[:1]
    return np.asarray(mu, float), np.asarray(s, float), np.asarray(w, float)


def mixture_cdf(x: np.ndarray, mu, s, w) -> np.ndarray:
    """F(x) for x (R', N) and mixture arrays (R', K) (R' = 1 broadcasts)."""
    x = check_array("x", x, ndim=2)
    mu = check_array("mu", mu, ndim=2)
    s = check_array("s", s, ndim=2, positive=True)
    w = check_array("w", w, ndim=2, nonnegative=True)
    if not (mu.shape == s.shape == w.shape) or mu.shape[1] < 1:
        raise ValueError(f"mu {mu.shape}, s {s.shape} and w {w.shape} must have one shape (R', K), K >= 1")
    if x.shape[0] not in (1, mu.shape[0]) and mu.shape[0] != 1:
        raise ValueError(f"x has {x.shape[0]} rows and mu {mu.shape[0]}: they must match or one must be 1")
    z = (x[..., None] - mu[:, None, :]) / s[:, None, :]
    return (ndtr(z) * w[:, None, :]).sum(axis=-1)


def _mixture_parts(x, mu, s, w, want=("F", "G")):
    """The requested of F(x), f(x) (density), G(x) = int_{-inf}^x F and H(x) = int_x^inf (1 - F)
    for x (R', M) and mixture arrays (R', K); one pass per component (K is small)."""
    out = {k: np.zeros(x.shape) for k in want}
    for k in range(mu.shape[1]):
        m_k, s_k, w_k = mu[:, k:k + 1], s[:, k:k + 1], w[:, k:k + 1]
        d = x - m_k
        z = d / s_k
        phi = np.exp(-0.5 * z * z) * _INV_SQRT2PI
        if "F" in out or "G" in out:
            Phi = ndtr(z)
        if "F" in out:
            out["F"] += w_k * Phi
        if "f" in out:
            out["f"] += w_k * phi / s_k
        if "G" in out:
            out["G"] += w_k * (d * Phi + s_k * phi)
        if "H" in out:
            out["H"] += w_k * (s_k * phi - d * ndtr(-z))
    return [out[k] for k in want]


def _w1_sorted(x: np.ndarray, mu, s, w) -> np.ndarray:
    """Exact W1 between the empirical measures of sorted rows x (R, N) and the mixture.
    Repeated atoms give zero-width intervals, which contribute exactly zero."""
    R, N = x.shape
    per_chain = mu.shape[0] > 1
    F, G = _mixture_parts(x, mu, s, w, want=("F", "G"))
    (Hr,) = _mixture_parts(x[:, -1:], mu, s, w, want=("H",))
    out = G[:, 0] + Hr[:, 0]                            # the two tails
    if N == 1:
        return out
    c = (np.arange(1, N) / N)[None, :]                  # the empirical CDF between x_i, x_{i+1}
    a, b = x[:, :-1], x[:, 1:]
    Fa, Fb, Ga, Gb = F[:, :-1], F[:, 1:], G[:, :-1], G[:, 1:]
    above = (Gb - Ga) - c * (b - a)                     # int_a^b (F - c): >= 0 when F(a) >= c
    body = np.where(Fb <= c, -above, above)
    r_i, c_i = np.nonzero((Fa < c) & (c < Fb))          # F crosses the level inside (a, b)
    if r_i.size:
        lo, hi, level = a[r_i, c_i], b[r_i, c_i], c[0, c_i]
        fa, fb = Fa[r_i, c_i], Fb[r_i, c_i]

        def parts(val, want):
            if per_chain:
                return [p[:, 0] for p in _mixture_parts(val[:, None], mu[r_i], s[r_i], w[r_i], want)]
            return [p[0] for p in _mixture_parts(val[None, :], mu, s, w, want)]

        xs = lo + (level - fa) / (fb - fa) * (hi - lo)   # linear interpolation, then Newton
        for _ in range(3):
            Fs, fs = parts(xs, ("F", "f"))
            step = np.where(fs > 0, (Fs - level) / np.where(fs > 0, fs, 1.0), 0.0)
            xs = np.clip(xs - step, lo, hi)
        (Gs,) = parts(xs, ("G",))
        left = level * (xs - lo) - (Gs - Ga[r_i, c_i])   # int_a^s (c - F) >= 0
        right = (Gb[r_i, c_i] - Gs) - level * (hi - xs)  # int_s^b (F - c) >= 0
        body[r_i, c_i] = np.maximum(left, 0.0) + np.maximum(right, 0.0)
    return out + np.maximum(body, 0.0).sum(axis=1)


def w1_empirical(atoms, truth) -> np.ndarray:
    """Exact W1 between each chain's empirical measure and the truth, shape (R,).

    ``atoms`` (R, N) or (N,) — one row per chain, repeated values allowed — or
    :class:`~collapselab.models.empirical.EmpiricalParams`.  See the module docstring for the
    method; exact up to rounding (about 1e-12 for N = 10^5)."""
    if isinstance(atoms, EmpiricalParams):
        atoms = atoms.atoms
    atoms = check_array("atoms", atoms, ndim=(1, 2))
    if atoms.ndim == 1:
        atoms = atoms[None, :]
    R, N = atoms.shape
    if N < 1:
        raise ValueError("atoms must hold at least one point per chain")
    mu, s, w = _truth_arrays(truth, R)
    x = np.sort(atoms, axis=1)
    K = mu.shape[1]
    rows = max(1, _BLOCK // max(1, 2 * N))
    out = np.empty(R)
    for lo in range(0, R, rows):
        sl = slice(lo, min(R, lo + rows))
        if mu.shape[0] == 1:
            out[sl] = _w1_sorted(x[sl], mu, s, w)
        else:
            out[sl] = _w1_sorted(x[sl], mu[sl], s[sl], w[sl])
    return out


def w1_kde(params: KDEParams, truth, resolution: int = 20, max_points: int = 1 << 17) -> np.ndarray:
    """W1 between each chain's fitted Gaussian KDE (equal weights, one bandwidth per chain) and
    the truth, shape (R,), by linear binning and an FFT convolution (module docstring).

    ``resolution`` grid steps per (smallest) bandwidth, at most ``max_points`` grid points."""
    check_kde("params", params)
    if not params.equal_weights or not _row_constant(params.widths):
        raise ValueError("w1_kde needs a fitted KDE: equal weights and one bandwidth per chain")
    resolution = check_int("resolution", resolution, minimum=2)
    max_points = check_int("max_points", max_points, minimum=64)
    X = np.asarray(params.centres, dtype=float)
    R, N = X.shape
    h = np.asarray(params.widths[:, 0], dtype=float)
    mu, s, w = _truth_arrays(truth, R)
    lo = min(float(X.min() - 9 * h.max()), float((mu - 9 * s).min()))
    hi = max(float(X.max() + 9 * h.max()), float((mu + 9 * s).max()))
    delta = max(float(h.min()) / resolution, (hi - lo) / (max_points - 1))
    G = int(np.ceil((hi - lo) / delta)) + 2
    grid = lo + delta * np.arange(G)
    # linear binning of the centres: masses (R, G)
    u = (X - lo) / delta
    j = np.floor(u).astype(np.int64)
    frac = u - j
    offs = (np.arange(R, dtype=np.int64) * G)[:, None]
    mass = np.bincount((j + offs).ravel(), weights=((1.0 - frac) / N).ravel(), minlength=R * G)
    mass += np.bincount((j + 1 + offs).ravel(), weights=(frac / N).ravel(), minlength=R * G)
    mass = mass.reshape(R, G)
    # F_hat(g_i) = sum_k mass_k Phi((i - k) delta / h): a linear convolution, lags -(G-1)..G-1
    L = 1 << int(np.ceil(np.log2(3 * G)))
    lags = np.arange(-(G - 1), G) * delta
    kern = ndtr(lags[None, :] / h[:, None])                 # (R, 2G - 1)
    F_hat = np.fft.irfft(np.fft.rfft(mass, L, axis=1) * np.fft.rfft(kern, L, axis=1), L, axis=1)
    F_hat = F_hat[:, G - 1:2 * G - 1]
    F = mixture_cdf(grid[None, :], mu, s, w)
    return np.trapezoid(np.abs(F_hat - F), grid, axis=1)


def w1_to_truth(params, truth) -> np.ndarray:
    """W1 between every chain's model and the truth, shape (R,): exact for an empirical
    measure (:func:`w1_empirical`), by FFT for a fitted KDE (:func:`w1_kde`), and exact (the
    CDF integral) for the truth itself, which returns zeros.  Signature of a run_loop metric."""
    if isinstance(params, EmpiricalParams):
        return w1_empirical(params.atoms, truth)
    if isinstance(params, KDEParams):
        check_kde("params", params)
        if params is truth or (params.centres is getattr(truth, "centres", None)):
            return np.zeros(params.replicates)
        if params.equal_weights and _row_constant(params.widths):
            return w1_kde(params, truth)
        return w1_mixtures(params, truth)
    raise ValueError(f"params must be EmpiricalParams or KDEParams, got {type(params).__name__}")


def w1_mixtures(params: KDEParams, truth, points: int = 8192) -> np.ndarray:
    """W1 between two Gaussian mixtures (R chains, or one) by the trapezoidal rule on a grid of
    ``points`` spanning both +- 9 widths; shape (R,)."""
    check_kde("params", params)
    points = check_int("points", points, minimum=16)
    R = params.replicates
    mu, s, w = _truth_arrays(truth, R)
    pm, ps, pw = _truth_arrays(params, R, "params")
    check_size(f"points={points} on a grid for {R} chains of {pm.shape[1]} + {mu.shape[1]} components",
               3.0 * points * (pm.shape[0] * pm.shape[1] + mu.shape[0] * mu.shape[1]))
    lo = min(float((mu - 9 * s).min()), float((pm - 9 * ps).min()))
    hi = max(float((mu + 9 * s).max()), float((pm + 9 * ps).max()))
    grid = np.linspace(lo, hi, points)[None, :]
    Fp = mixture_cdf(np.broadcast_to(grid, (pm.shape[0], points)), pm, ps, pw)
    Fq = mixture_cdf(np.broadcast_to(grid, (mu.shape[0], points)), mu, s, w)
    return np.broadcast_to(np.trapezoid(np.abs(Fp - Fq), grid[0], axis=1), (R,)).copy()


def w1_normal_scale(sigma_a: float, sigma_b: float) -> float:
    """W1 between N(0, a^2) and N(0, b^2) = |a - b| sqrt(2/pi): a closed form for tests."""
    a = check_real("sigma_a", sigma_a, minimum=0.0, strict_min=True)
    b = check_real("sigma_b", sigma_b, minimum=0.0, strict_min=True)
    return abs(a - b) * np.sqrt(2.0 / np.pi)
