"""Closed forms for the refitted categorical model (chapter 3, *Tail loss in categorical models*).

Convention (the book's loop): model 0 is the truth p; model t >= 1 is the vector of empirical
frequencies of its training set.  Under ``replace`` the training set is n samples of model t-1,
so category k's count X_{k,t} = n p_{k,t} satisfies X_{k,t} | past ~ Binomial(n, X_{k,t-1}/n):
a neutral two-allele Wright--Fisher chain on {0, ..., n} whose first step starts from the
off-grid frequency p_k ({prf:ref}`thm-03-wright-fisher`).  Everything below is a function of
the truth vector ``p`` (one entry per category; all results are per category and vectorised
over it) and of the batch size ``n``.

Mixed schedules use m_r = round(alpha n) fresh real points and m_s = n - m_r synthetic points
per generation, exactly as :meth:`collapselab.schedules.Schedule.batch_sizes`; generation 1
always trains on n points from the truth.  Each function is checked against simulation in
``tests/test_categorical.py``.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import linalg
from scipy.signal import fftconvolve
from scipy.stats import binom

from .._validate import check_array, check_bool, check_count, check_fraction, check_int, check_probs, check_real

MAX_STATES = 5000  # largest n for the exact (n+1)-state computations: O(n^2) memory


# ------------------------------------------------------------------------------ input checks
def _p(p, open_interval: bool = False) -> np.ndarray:
    p = check_array("p", p, ndim=(0, 1), nonempty=True)
    if np.any(p < 0) or np.any(p > 1):
        raise ValueError("p must hold probabilities in [0, 1]")
    if open_interval and (np.any(p <= 0) or np.any(p >= 1)):
        raise ValueError("p must hold probabilities strictly between 0 and 1")
    return p


def _vector(p) -> np.ndarray:
    """A probability vector: p in [0, 1], summing to one (dtype-appropriate tolerance)."""
    return check_probs("p", p, ndim=1)


def _n(n, exact: bool = False) -> int:
    n = check_int("n", n, minimum=1)
    if exact and n > MAX_STATES:
        raise ValueError(f"n must be <= {MAX_STATES} for the exact (n+1)-state computation "
                         f"(O(n^2) memory), got {n}; use the branching or diffusion approximations")
    return n


def _split(n: int, alpha: float) -> tuple[int, int]:
    """(m_r, m_s): real and synthetic points per generation, as Schedule.batch_sizes."""
    m_r = int(round(alpha * n))
    return m_r, n - m_r


# --------------------------------------------------------------------- the Wright-Fisher chain
def wright_fisher_matrix(n: int) -> np.ndarray:
    """Transition matrix P (n+1, n+1) of the neutral Wright--Fisher chain:
    P[i, j] = C(n, j) (i/n)^j (1 - i/n)^(n-j), the law of Binomial(n, i/n).

    Chapter 3, {prf:ref}`thm-03-wright-fisher`.  States 0 and n are absorbing.  The result is
    cached (the last two n) and read-only."""
    return _wf_matrix(_n(n, exact=True))


@lru_cache(maxsize=2)
def _wf_matrix(n: int) -> np.ndarray:
    i = np.arange(n + 1)
    P = binom.pmf(i[None, :], n, (i / n)[:, None])
    P.flags.writeable = False
    return P


def loss_probability_one_step(p, n: int):
    """P(a category of probability p gets no sample among n) = (1 - p)^n.

    Decreasing in p: rare categories are the first to go ({prf:ref}`thm-03-absorption`)."""
    p = _p(p)
    n = _n(n)
    return (1.0 - p) ** n


def _death_columns(n: int, generations: int) -> np.ndarray:
    """F[:, s] = P(X_{u+s} = 0 | X_u = i) for s = 0..generations-1, by backward iteration."""
    P = wright_fisher_matrix(n)
    F = np.empty((n + 1, max(generations, 1)))
    f = np.zeros(n + 1)
    f[0] = 1.0
    for s in range(generations):
        F[:, s] = f
        f = P @ f
    return F[:, :generations]


def survival_probability(p, n: int, generations: int) -> np.ndarray:
    """P(X_{k,t} > 0), t = 0..T, for each category under replace: array (T+1, K) (or (T+1,)).

    Exact, from the (n+1)-state transition matrix: P(X_t = 0) = sum_j Bin(n, p)(j) f_{t-1}(j)
    with f_s = P^s e_0 computed by s matrix-vector products (cost O(T n^2 + T K n)).
    Chapter 3, {prf:ref}`thm-03-absorption`."""
    p = _p(p)
    scalar = p.ndim == 0
    p = np.atleast_1d(p)
    n = _n(n, exact=True)
    generations = check_count("generations", generations, minimum=0)
    out = np.empty((generations + 1, p.shape[0]))
    out[0] = (p > 0).astype(float)
    if generations:
        B = binom.pmf(np.arange(n + 1)[None, :], n, p[:, None])      # (K, n+1): law of X_1
        death = B @ _death_columns(n, generations)                    # (K, T)
        out[1:] = np.clip(1.0 - death.T, 0.0, 1.0)
    return out[:, 0] if scalar else out


def expected_survivors(p, n: int, generations: int) -> np.ndarray:
    """E[number of categories alive in model t] = sum_k P(X_{k,t} > 0), t = 0..T, under replace.

    Linearity of expectation; the categories are dependent but each marginal is exact
    ({prf:ref}`thm-03-absorption`)."""
    return survival_probability(_vector(p), n, generations).sum(axis=1)


def fixation_probability(p):
    """P(category k eventually holds all the mass) = p_k: the frequency is a bounded martingale
    ({prf:ref}`thm-03-absorption`)."""
    return _p(p) * 1.0


# ----------------------------------------------------------------------------- moments
def _generations(generations):
    return check_count("generations", generations, minimum=0)


def frequency_variance(p, n: int, generations: int, alpha: float = 0.0,
                       accumulate: bool = False) -> np.ndarray:
    """Var(p_{k,t}), t = 0..T, array (T+1, K) (or (T+1,) for scalar p); E p_{k,t} = p_k always.

    replace / mix(alpha) (fresh real data each generation):
        V_t = p(1-p)/n + m_s (m_s - 1)/n^2 V_{t-1},  V_0 = 0,
    so V_t = p(1-p)(1 - (1-1/n)^t) under replace, and under mix the variance converges to
    p(1-p) / (n (1 - m_s(m_s-1)/n^2)) ~ p(1-p) / (n alpha (2 - alpha)).
    accumulate (optionally with a real share alpha): with C_t the pooled count of n t points,
        Var C_t = (1 + 2 m_s/(n(t-1))) Var C_{t-1} + n p(1-p) + m_s(m_s-1) V_{t-1},  V_t = Var C_t/(n t)^2;
    for alpha = 0 this is V_t = V_{t-1} + (p(1-p) - V_{t-1}) / (n t^2) <= (pi^2/6) p(1-p)/n
    (:func:`accumulate_variance_bound`).
    Chapter 3, {prf:ref}`thm-03-wright-fisher`, {prf:ref}`thm-03-mix` and {prf:ref}`thm-03-accumulate`."""
    accumulate = check_bool("accumulate", accumulate)
    p = _p(p)
    n = _n(n)
    T = _generations(generations)
    alpha = check_fraction("alpha", alpha)
    m_r, m_s = _split(n, alpha)
    q = p * (1.0 - p)
    V = np.zeros((T + 1,) + p.shape)
    if T == 0:
        return V
    V[1] = q / n
    if not accumulate:
        c = m_s * (m_s - 1) / n**2
        for t in range(2, T + 1):
            V[t] = q / n + c * V[t - 1]
        return V
    varC = n * q
    for t in range(2, T + 1):
        varC = (1 + 2 * m_s / (n * (t - 1))) * varC + n * q + m_s * (m_s - 1) * V[t - 1]
        V[t] = varC / (n * t) ** 2
    return V


def accumulate_variance_bound(p, n: int):
    """sup_t Var(p_{k,t}) <= (pi^2/6) p(1-p)/n under accumulate (alpha = 0): p_t = p + sum_s D_s/(n s)
    is a martingale whose s-th increment has variance at most p(1-p)/(n s^2)
    ({prf:ref}`thm-03-accumulate`)."""
    p = _p(p)
    n = _n(n)
    return np.pi**2 / 6 * p * (1 - p) / n


def stationary_frequency_variance(p, n: int, alpha: float):
    """lim_t Var(p_{k,t}) under mix(alpha), alpha > 0: p(1-p) / (n (1 - m_s(m_s-1)/n^2)).

    ({prf:ref}`thm-03-mix`)."""
    p = _p(p)
    n = _n(n)
    alpha = check_real("alpha", alpha, minimum=0.0, maximum=1.0, strict_min=True)
    m_r, m_s = _split(n, alpha)
    if m_r == 0:
        raise ValueError(f"alpha * n must round to at least one real point (alpha={alpha}, n={n})")
    return p * (1 - p) / (n * (1 - m_s * (m_s - 1) / n**2))


def expected_diversity(p, n: int, generations: int) -> np.ndarray:
    """E[1 - sum_k p_{k,t}^2] = (1 - 1/n)^t (1 - sum_k p_k^2), t = 0..T, under replace.

    The Gini--Simpson diversity (the population geneticists' heterozygosity) decays
    geometrically ({prf:ref}`thm-03-wright-fisher`)."""
    p = _vector(p)
    n = _n(n)
    t = np.arange(_generations(generations) + 1)
    return (1 - 1 / n) ** t * (1 - np.sum(p**2))


def expected_tv_bounds(p, n: int, generations: int, alpha: float = 0.0,
                       accumulate: bool = False, survival=None):
    """(lower, upper) bounds on E TV(model_t, truth), t = 0..T.

    lower = sum_k p_k P(X_{k,t} = 0): every lost category contributes its whole truth mass;
    upper = min(1, (1/2) sum_k sqrt(Var p_{k,t})) by Jensen, since E p_{k,t} = p_k (and TV <= 1).
    ``survival`` (T+1, K) defaults to the exact survival of the schedule ({prf:ref}`thm-03-distances`)."""
    accumulate = check_bool("accumulate", accumulate)
    p = _vector(p)
    T = _generations(generations)
    upper = np.minimum(1.0, 0.5 * np.sqrt(frequency_variance(p, n, T, alpha, accumulate)).sum(axis=1))
    if survival is None:
        if accumulate:
            survival = survival_probability_accumulate(p, n, T, alpha)
        elif alpha == 0.0:
            survival = survival_probability(p, n, T)
        else:
            survival = survival_probability_mix(p, n, alpha, T)
    survival = check_array("survival", survival, ndim=2)
    if survival.shape != (T + 1, p.shape[0]):
        raise ValueError(f"survival must have shape {(T + 1, p.shape[0])}, got {survival.shape}")
    lower = ((1.0 - survival) * p).sum(axis=1)
    return lower, upper


# ------------------------------------------------------------------------ other schedules
def survival_probability_accumulate(p, n: int, generations: int, alpha: float = 0.0) -> np.ndarray:
    """P(category k alive in model t) under accumulate (real share alpha): 1 - (1 - p)^(n + (t-1) m_r).

    A category is alive iff some real point hit it: once in the pooled counts it never leaves, and
    a category absent from the pool is never sampled again.  ({prf:ref}`thm-03-accumulate`)."""
    p = _p(p)
    n = _n(n)
    T = _generations(generations)
    alpha = check_fraction("alpha", alpha)
    m_r, _ = _split(n, alpha)
    t = np.arange(T + 1).reshape((-1,) + (1,) * p.ndim)
    draws = np.where(t == 0, 0, n + (t - 1) * m_r)
    out = 1.0 - (1.0 - p) ** draws
    out[0] = (p > 0)
    return out


def survival_lower_bound_mix(p, n: int, alpha: float):
    """P(X_{k,t} > 0) >= 1 - (1 - p)^(m_r) for every t >= 1 under mix(alpha): the real points alone
    hit category k with that probability ({prf:ref}`thm-03-mix`)."""
    p = _p(p)
    n = _n(n)
    alpha = check_fraction("alpha", alpha)
    m_r, _ = _split(n, alpha)
    return 1.0 - (1.0 - p) ** m_r


def survival_probability_mix(p, n: int, alpha: float, generations: int) -> np.ndarray:
    """P(X_{k,t} > 0), t = 0..T, under mix(alpha) with fresh real data: array (T+1, K).

    Exact forward recursion on the law v_t of X_{k,t}: X_t = A + B with A ~ Bin(m_r, p_k) and
    B | X_{t-1} ~ Bin(m_s, X_{t-1}/n), so v_t = (v_{t-1} B_s) * Bin(m_r, p_k) (a convolution).
    Cost O(T K n^2): meant for a handful of categories.  alpha = 0 gives
    :func:`survival_probability`.  ({prf:ref}`thm-03-mix`)."""
    p = _p(p)
    scalar = p.ndim == 0
    p = np.atleast_1d(p)
    n = _n(n, exact=True)
    alpha = check_fraction("alpha", alpha)
    T = _generations(generations)
    m_r, m_s = _split(n, alpha)
    j = np.arange(n + 1)
    out = np.empty((T + 1, p.shape[0]))
    out[0] = (p > 0)
    if T:
        v = binom.pmf(j[None, :], n, p[:, None])                          # law of X_1
        out[1] = 1.0 - v[:, 0]
        Bs = binom.pmf(np.arange(m_s + 1)[None, :], m_s, (j / n)[:, None])  # (n+1, m_s+1)
        A = binom.pmf(np.arange(m_r + 1)[None, :], m_r, p[:, None])        # (K, m_r+1)
        for t in range(2, T + 1):
            w = v @ Bs
            v = fftconvolve(w, A, axes=1) if m_r > 0 else w
            np.clip(v, 0.0, None, out=v)
            v /= v.sum(axis=1, keepdims=True)
            # P(X_t = 0) = P(B = 0) P(A = 0) exactly; use the product, not the FFT's entry
            out[t] = 1.0 - w[:, 0] * A[:, 0]
    out = np.clip(out, 0.0, 1.0)
    return out[:, 0] if scalar else out


# ------------------------------------------------------------------ absorption and extinction
@lru_cache(maxsize=2)
def _fundamental(n: int):
    """Mean absorption times m(i) and E_i[tau 1{loss}] for the transient states 1..n-1."""
    P = wright_fisher_matrix(n)
    Q = P[1:n, 1:n]
    h = 1.0 - np.arange(1, n) / n             # P_i(loss), the martingale's complement
    rhs = np.column_stack([np.ones(n - 1), h])
    sol = linalg.solve(np.eye(n - 1) - Q, rhs)
    out = sol[:, 0].copy(), sol[:, 1].copy(), h
    for a in out:
        a.flags.writeable = False
    return out


def absorption_time(p, n: int):
    """Exact E[tau], tau = first generation t >= 1 at which category k's count is 0 or n
    (lost, or holding all the mass), starting from the truth's p_k.

    From the fundamental matrix N = (I - Q)^{-1} of the transient states: E tau = 1 +
    sum_j Bin(n, p)(j) (N 1)(j).  Cost O(n^3).  Chapter 3, {prf:ref}`thm-03-extinction-time`."""
    p = _p(p, open_interval=True)
    n = _n(n, exact=True)
    if n < 2:
        raise ValueError("n must be >= 2 for a transient state to exist")
    m, _, _ = _fundamental(n)
    B = binom.pmf(np.arange(1, n)[None, :], n, np.atleast_1d(p)[:, None])
    out = 1.0 + B @ m
    return out[0] if p.ndim == 0 else out


def loss_time(p, n: int):
    """Exact E[tau | category k is lost] (the expected extinction time of a category that dies).

    E[tau 1{loss}] = sum_j Bin(n, p)(j) (h(j) + (N h)(j)) with h(j) = 1 - j/n; divided by
    P(loss) = 1 - p.  Chapter 3, {prf:ref}`thm-03-extinction-time`."""
    p = _p(p, open_interval=True)
    n = _n(n, exact=True)
    if n < 2:
        raise ValueError("n must be >= 2 for a transient state to exist")
    _, Nh, h = _fundamental(n)
    pa = np.atleast_1d(p)
    B = binom.pmf(np.arange(1, n)[None, :], n, pa[:, None])
    b0 = (1.0 - pa) ** n
    out = (b0 + B @ (h + Nh)) / (1.0 - pa)
    return out[0] if p.ndim == 0 else out


def absorption_time_diffusion(p, n: int):
    """Diffusion approximation of the mean absorption time: -2n [p ln p + (1-p) ln(1-p)].

    Kimura and Ohta's formula for the neutral haploid Wright--Fisher model with n individuals
    (for a diploid population of N, n = 2N) {cite}`ewens2004mathematical`.  At most 2n ln 2.
    Chapter 3, {prf:ref}`thm-03-extinction-time`."""
    p = _p(p, open_interval=True)
    n = _n(n)
    return -2.0 * n * (p * np.log(p) + (1 - p) * np.log1p(-p))


def loss_time_diffusion(p, n: int):
    """Diffusion approximation of E[tau | loss]: -2n p ln p / (1 - p) ~ 2 n p ln(1/p) for rare
    categories, i.e. about 2 c ln(n/c) generations for a category with c = n p expected copies.
    ({prf:ref}`thm-03-extinction-time`)."""
    p = _p(p, open_interval=True)
    n = _n(n)
    return -2.0 * n * p * np.log(p) / (1 - p)


def fixation_time_diffusion(p, n: int):
    """Diffusion approximation of E[tau | fixation]: -2n (1-p) ln(1-p) / p, tending to 2n as p -> 0."""
    p = _p(p, open_interval=True)
    n = _n(n)
    return -2.0 * n * (1 - p) * np.log1p(-p) / p


def vocabulary_collapse_time_diffusion(p, n: int) -> float:
    """Diffusion approximation of the mean number of generations until one category holds all the
    mass: -2n sum_k (1 - p_k) ln(1 - p_k), which is close to 2n when every p_k is small.

    Proved in chapter 3 ({prf:ref}`thm-03-extinction-time`) from the K-type diffusion generator;
    for K = 2 it is :func:`absorption_time_diffusion`."""
    p = _vector(p)
    n = _n(n)
    q = p[(p > 0) & (p < 1)]
    return float(-2.0 * n * np.sum((1 - q) * np.log1p(-q)))


# ----------------------------------------------------------------- rare categories: branching
def lineage_survival(generations: int) -> np.ndarray:
    """q_s = P(a critical Poisson(1) Galton--Watson family founded by one copy is alive after s
    generations), s = 0..T: q_0 = 1, q_{s+1} = 1 - exp(-q_s).

    Bounds: 2 / (s + 2 + ln(s + 1)/3) <= q_s <= 2 / (s + 2)  ({prf:ref}`thm-03-rare`)."""
    T = _generations(generations)
    q = np.empty(T + 1)
    q[0] = 1.0
    for s in range(T):
        q[s + 1] = -np.expm1(-q[s])
    return q


def lineage_survival_bounds(generations: int):
    """(lower, upper) = (2 / (s + 2 + ln(s+1)/3), 2 / (s + 2)), s = 0..T ({prf:ref}`thm-03-rare`)."""
    s = np.arange(_generations(generations) + 1, dtype=float)
    return 2.0 / (s + 2 + np.log1p(s) / 3), 2.0 / (s + 2)


def survival_probability_branching(p, n: int, generations: int) -> np.ndarray:
    """Branching (Poisson) approximation of P(X_{k,t} > 0): 1 - exp(-n p_k q_{t-1}), t = 0..T.

    Exact in the limit n -> infinity with n p_k fixed: generation 1 holds Poisson(n p_k) copies
    and each copy founds an independent critical Poisson(1) family.  For t >> n p_k it is
    about 2 n p_k / (t + 1): a rare category survives t generations with probability ~ 1/t.
    No (n+1)-state matrix needed, so it works for any n.  ({prf:ref}`thm-03-rare`)."""
    p = _p(p)
    n = _n(n)
    T = _generations(generations)
    q = lineage_survival(max(T - 1, 0))
    shape = (-1,) + (1,) * p.ndim
    out = np.empty((T + 1,) + p.shape)
    out[0] = (p > 0)
    if T:
        out[1:] = -np.expm1(-n * p * q[:T].reshape(shape))
    return out


def cutoff_rank(n: int, generations, s: float, K: int):
    """Rank k*(t) beyond which a Zipf(s) category on K categories is more likely dead than alive
    after t generations of replace, in the branching approximation: the largest k with
    n p_k q_{t-1} >= ln 2 ({prf:ref}`thm-03-rare`).  Returns an int array over ``generations``."""
    from ..models.categorical import zipf_probs
    n = _n(n)
    p = zipf_probs(K, s)
    t = np.atleast_1d(np.asarray(generations))
    if not np.issubdtype(t.dtype, np.integer) or np.any(t < 1):
        raise ValueError("generations must be integers >= 1")
    q = lineage_survival(int(t.max()) - 1)[t - 1]
    alive = n * p[None, :] * q[:, None] >= np.log(2.0)
    return alive.sum(axis=1)
