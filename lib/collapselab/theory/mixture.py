"""Closed forms for a mixture refitted to its own samples (chapter 6).

Most results here are exact for the *labelled* idealisation of the loop: each training point
keeps the label of the component that generated it, and component k is fitted by maximum
likelihood to its own points (weight = share of points, mean and variance = their sample mean
and MLE variance).  EM sees no labels, but when the components are far apart (relative to
their widths) its responsibilities are almost exactly 0 or 1 and it reproduces the labelled
fit; for overlapping components the formulas are approximations only.  The chapter says which
is which; ``tests/test_mixture.py`` checks the exact formulas against a labelled simulation and
the approximations against EM.

Convention (chapter 1): model 0 is the truth; generation t's new batch has ``n_real`` fresh
real points and ``n_synth`` samples of model t-1, sizes from a
:class:`~collapselab.schedules.Schedule`.  Generation 1 samples model 0, so its whole batch is
real.
"""
from __future__ import annotations

import numpy as np
from scipy.stats import binom

from .._validate import PY_STEP, check_array, check_bool, check_count, check_fraction, check_int, check_size, check_work
from ..schedules import Schedule, replace

__all__ = ["binomial_transition", "weight_variance", "weight_variance_limit",
           "loss_probability", "expected_surviving", "component_variance_replace",
           "bimodal_equal_weights", "unimodal_sufficient", "separation"]


def _schedule(schedule) -> Schedule:
    schedule = replace() if schedule is None else schedule
    if not isinstance(schedule, Schedule):
        raise ValueError(f"schedule must be a Schedule, got {schedule!r}")
    if not schedule.fresh_real:
        raise ValueError("schedule must draw fresh real data (fresh_real=True): a fixed real "
                         "sample makes the generations dependent in a way these formulas ignore")
    if getattr(schedule, "subsample", False):
        raise ValueError(f"schedule {schedule.name} subsamples its pool: these formulas do not hold")
    return schedule


def _p0(p0) -> float:
    return check_fraction("p0", p0)


def _sizes(schedule: Schedule, n: int, generations: int):
    """(n_real, n_synth) for t = 1..T, with generation 1 all real (it samples the truth)."""
    sizes = [(n, 0)] + [schedule.batch_sizes(t, n) for t in range(2, generations + 1)]
    return sizes[:generations]


def _matrix_budget(n: int, generations: int) -> None:
    """Size guards for the (n+1)-state recursions: an (n+1)^2 matrix, T vector-matrix products."""
    check_size(f"n={n} (a transition matrix of (n+1)^2 entries)", 3.0 * (n + 1.0) ** 2)
    check_work(f"generations={generations} steps of an (n+1)-state chain with n={n}",
               generations * ((n + 1.0) ** 2 + PY_STEP))


def binomial_transition(n: int, n_real: int = 0, p_real: float = 0.0) -> np.ndarray:
    """Transition matrix (n+1, n+1) of a component's count in the labelled loop.

    Row i: the count of the next training set when the current model gives the component
    weight i/n; the batch holds ``n_real`` real points (each from the component with
    probability ``p_real``) and ``n - n_real`` model samples, so the next count is
    Binomial(n_real, p_real) + Binomial(n - n_real, i/n).  With ``n_real = 0`` this is the
    Wright--Fisher chain of chapter 3 ({prf:ref}`thm-06-weights`)."""
    n = check_int("n", n, minimum=1)
    check_size(f"n={n} (a transition matrix of (n+1)^2 entries)", 3.0 * (n + 1.0) ** 2)
    n_real = check_int("n_real", n_real, minimum=0, maximum=n)
    p_real = check_fraction("p_real", p_real)
    n_synth = n - n_real
    i = np.arange(n + 1)
    synth = binom.pmf(np.arange(n_synth + 1)[None, :], n_synth, i[:, None] / n)  # (n+1, n_s+1)
    real = binom.pmf(np.arange(n_real + 1), n_real, p_real)                     # (n_r+1,)
    out = np.zeros((n + 1, n + 1))
    for a in range(n_real + 1):  # convolution with the (short) real pmf
        out[:, a:a + n_synth + 1] += real[a] * synth
    return out


def weight_variance(p0: float, n: int, generations: int, schedule: Schedule | None = None) -> np.ndarray:
    """Var[w_t] for t = 0..T of a component with true weight p0, labelled loop (exact).

    E[w_t] = p0 under every schedule.  Without accumulation, with (n_r, n_s) the batch sizes,
        Var w_t = p0(1-p0)/n + Var w_{t-1} * n_s (n_s - 1) / n^2,
    so under replace Var w_t = p0(1-p0) (1 - (1 - 1/n)^t) (the Wright--Fisher formula) and under
    mix(alpha) it converges ({prf:ref}`thm-06-weights`).  Under accumulate the pooled weight
    w_t = ((t-1) w_{t-1} + N_t / n) / t gives
        Var w_t = c_t^2 Var w_{t-1} + (p0(1-p0) - (n_s/n) Var w_{t-1}) / (n t^2),
        c_t = (t - 1 + n_s/n) / t,
    which for pure accumulate is p0(1-p0) (1 - prod_{s<=t} (1 - 1/(n s^2)))
    ({prf:ref}`thm-06-accumulate-weights`).
    """
    p0 = _p0(p0)
    n = check_int("n", n, minimum=1)
    generations = check_count("generations", generations, minimum=0)
    schedule = _schedule(schedule)
    q = p0 * (1 - p0)
    v = np.zeros(generations + 1)
    for t, (n_r, n_s) in enumerate(_sizes(schedule, n, generations), start=1):
        prev = v[t - 1]
        if schedule.accumulate:
            c = (t - 1 + n_s / n) / t
            v[t] = c * c * prev + (q - (n_s / n) * prev) / (n * t * t)
        else:
            v[t] = q / n + prev * n_s * (n_s - 1) / n**2
    return v


def weight_variance_limit(p0: float, n: int, alpha: float = 0.0, accumulate: bool = False) -> float:
    """lim_t Var[w_t], labelled loop (exact).

    * mix(alpha), n_s = n - round(alpha n): p0(1-p0)/n / (1 - n_s(n_s-1)/n^2); alpha = 0 gives
      p0(1-p0) (every component is eventually lost or fixed, {prf:ref}`thm-06-weights`);
    * accumulate (alpha = 0): p0(1-p0) (1 - sin(pi/sqrt(n)) / (pi/sqrt(n))) <= p0(1-p0) pi^2/(6n),
      by Euler's product sin(pi x)/(pi x) = prod_s (1 - x^2/s^2)
      ({prf:ref}`thm-06-accumulate-weights`).
    """
    accumulate = check_bool("accumulate", accumulate)
    p0 = _p0(p0)
    n = check_int("n", n, minimum=1)
    alpha = check_fraction("alpha", alpha)
    q = p0 * (1 - p0)
    if accumulate:
        if alpha != 0.0:
            raise ValueError("alpha must be 0 with accumulate=True (pure accumulation)")
        x = np.pi / np.sqrt(n)
        return float(q * (1 - np.sin(x) / x))
    n_s = n - int(round(alpha * n))
    return float(q / n / (1 - n_s * (n_s - 1) / n**2))


def loss_probability(p0: float, n: int, generations: int, schedule: Schedule | None = None) -> np.ndarray:
    """P(the component has no point in generation t's training set), t = 0..T, labelled loop.

    Under replace this is the Wright--Fisher absorption probability, non-decreasing in t: a lost
    component never returns ({prf:ref}`thm-06-weights`).  Under mix(alpha) the count can
    come back from 0 through real data.  Under accumulate the pool keeps generation 1's points,
    so the component is missing only if generation 1 and every later real batch missed it:
    (1 - p0)^n at t = 1 and, for pure accumulate, for ever after
    ({prf:ref}`thm-06-accumulate-weights`).  Entry 0 (the truth) is 1 if p0 = 0, else 0.
    """
    p0 = _p0(p0)
    n = check_int("n", n, minimum=1)
    generations = check_count("generations", generations, minimum=0)
    schedule = _schedule(schedule)
    if not schedule.accumulate:
        _matrix_budget(n, generations)
    out = np.zeros(generations + 1)
    out[0] = float(p0 == 0.0)
    if generations == 0:
        return out
    sizes = _sizes(schedule, n, generations)
    if schedule.accumulate:
        if p0 == 1.0:
            return out  # the component is in every batch
        log_miss = 0.0
        for t, (n_r, _) in enumerate(sizes, start=1):
            log_miss += (n if t == 1 else n_r) * np.log1p(-p0)  # every real point missed it
            out[t] = np.exp(log_miss)
        return out
    dist = binom.pmf(np.arange(n + 1), n, p0)  # generation 1: n points from the truth
    out[1] = dist[0]
    cache: dict[int, np.ndarray] = {}
    for t in range(2, generations + 1):
        n_r, _ = sizes[t - 1]
        if n_r not in cache:
            cache[n_r] = binomial_transition(n, n_r, p0)
        dist = dist @ cache[n_r]
        out[t] = dist[0]
    return out


def expected_surviving(weights, n: int, generations: int, schedule: Schedule | None = None) -> np.ndarray:
    """E[number of components present in generation t's training set], t = 0..T, labelled loop:
    sum_k (1 - loss_probability(w_k)) by linearity of expectation ({prf:ref}`thm-06-weights`)."""
    weights = check_array("weights", weights, ndim=1, nonnegative=True)
    if weights.size < 1:
        raise ValueError("weights must hold at least one component")
    if abs(weights.sum() - 1.0) > 1e-8:
        raise ValueError(f"weights must sum to 1, got {weights.sum():.6g}")
    return sum(1.0 - loss_probability(float(w), n, generations, schedule) for w in weights)


def component_variance_replace(p0: float, n: int, generations: int):
    """Under replace, labelled loop with per-component MLE variances (exact):
    returns ``(ratio, alive)``, arrays over t = 0..T with
    ``ratio[t] = E[sigma_{k,t}^2 | N_t >= 1] / sigma_k^2`` and ``alive[t] = P(N_t >= 1)``.

    Given its count N_t = j, a component's refitted variance is sigma_{k,t-1}^2 chi2_{j-1} / j
    (chapter 2 with n replaced by j), and N_t depends on the past only through N_{t-1}.  So
    v_t(j) = E[sigma_{k,t}^2 1{N_t = j}] / sigma_k^2 obeys
        v_t(j) = (j - 1)/j * sum_{i >= 1} v_{t-1}(i) P(i, j),
    with P the Wright--Fisher matrix ({prf:ref}`thm-06-component-variance`).  A component that
    keeps only one point has variance 0 here; EM's variance floor replaces that 0.
    """
    p0 = _p0(p0)
    if p0 == 0.0:
        raise ValueError("p0 must be > 0: a component of weight 0 has no variance to follow")
    n = check_int("n", n, minimum=2)
    generations = check_count("generations", generations, minimum=0)
    _matrix_budget(n, generations)
    ratio = np.ones(generations + 1)
    alive = np.ones(generations + 1)
    if generations == 0:
        return ratio, alive
    j = np.arange(n + 1)
    factor = np.where(j > 0, (j - 1) / np.maximum(j, 1), 0.0)
    P = binomial_transition(n)
    dist = binom.pmf(j, n, p0)
    v = dist * factor
    for t in range(1, generations + 1):
        if t > 1:
            v = (v @ P) * factor
            dist = dist @ P
        alive[t] = 1.0 - dist[0]
        ratio[t] = v[1:].sum() / alive[t] if alive[t] > 0 else np.nan
    return ratio, alive


def bimodal_equal_weights(mu1, mu2, sigma):
    """Whether 0.5 N(mu1, sigma^2) + 0.5 N(mu2, sigma^2) has two modes: |mu1 - mu2| > 2 sigma
    ({prf:ref}`thm-06-merge`).  Broadcasts over arrays."""
    mu1 = check_array("mu1", mu1)
    mu2 = check_array("mu2", mu2)
    sigma = check_array("sigma", sigma, positive=True)
    return np.abs(mu1 - mu2) > 2 * sigma


def unimodal_sufficient(mu1, mu2, sigma1, sigma2):
    """Behboodian's (1970) sufficient condition: p N(mu1, s1^2) + (1-p) N(mu2, s2^2) is
    unimodal for every p when |mu1 - mu2| <= 2 min(s1, s2) ({prf:ref}`thm-06-merge`)."""
    mu1 = check_array("mu1", mu1)
    mu2 = check_array("mu2", mu2)
    sigma1 = check_array("sigma1", sigma1, positive=True)
    sigma2 = check_array("sigma2", sigma2, positive=True)
    return np.abs(mu1 - mu2) <= 2 * np.minimum(sigma1, sigma2)


def separation(means, vars) -> float:
    """Smallest gap between component means in units of the larger of the two standard
    deviations: the labelled idealisation is accurate when this is large (say > 6)."""
    means = check_array("means", means, ndim=1)
    vars = check_array("vars", vars, ndim=1, positive=True)
    if means.shape != vars.shape:
        raise ValueError(f"means and vars must have the same shape, got {means.shape} and {vars.shape}")
    if means.size < 2:
        return float("inf")
    order = np.argsort(means)
    m, s = means[order], np.sqrt(vars[order])
    return float(np.min(np.diff(m) / np.maximum(s[1:], s[:-1])))

