"""Chapter 7, the paper's own setting: nonparametric contaminated recursive training.

The empirical-distribution model and the KDE bandwidth schedule, the W1 distances (exact for an
empirical measure, with a stated numerical error for a KDE), the exponent fitter on synthetic
power laws, the exact CDF-error recursion of {prf:ref}`thm-07-empirical-crt`, and the fitted
W1 exponents of both estimators against min(p, alpha).  Seeded; kept to a few seconds.
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy.special import ndtr
from scipy.stats import norm

import collapselab as cl
from collapselab import crt, rates
from collapselab import wasserstein as W
from collapselab.checks import assert_mc_agrees
from collapselab.models import kde as K
from collapselab.models.empirical import Empirical, EmpiricalParams
from collapselab.models.gaussian import Normal1DParams
from collapselab.theory import crt as TC

NORMAL = K.gaussian_mixture([0.0], [1.0])
MIXTURE = W.crt_mixture()


# ------------------------------------------------------------------------------------------
# W1
# ------------------------------------------------------------------------------------------
def test_w1_single_atom_closed_form():
    # W1(delta_x0, N(0,1)) = E|Z - x0| = x0 (2 Phi(x0) - 1) + 2 phi(x0)
    x0 = np.array([[-2.5], [0.0], [0.3], [4.0]])
    exact = x0[:, 0] * (2 * ndtr(x0[:, 0]) - 1) + 2 * norm.pdf(x0[:, 0])
    np.testing.assert_allclose(W.w1_empirical(x0, NORMAL), exact, rtol=0, atol=1e-13)
    normal = Normal1DParams(np.array([0.0]), np.array([1.0]))
    np.testing.assert_allclose(W.w1_empirical(x0, normal), exact, rtol=0, atol=1e-13)


def test_w1_empirical_matches_brute_force_with_ties():
    rng = np.random.default_rng(3)
    atoms = K.sample_mixture(W.crt_mixture(4), 200, rng)
    atoms[:, :60] = atoms[:, 60:120]                      # repeated atoms, as in a pool
    exact = W.w1_empirical(atoms, MIXTURE)
    grid = np.linspace(-14, 16, 600_001)
    F = W.mixture_cdf(grid[None, :], *W._truth_arrays(MIXTURE, 1))[0]
    brute = [np.trapezoid(np.abs(np.searchsorted(np.sort(a), grid, side="right") / a.size - F), grid)
             for a in atoms]
    np.testing.assert_allclose(exact, brute, rtol=0, atol=5e-6)   # the grid is the approximation


def test_w1_empirical_of_a_large_sample_is_small_and_exact_per_chain():
    rng = np.random.default_rng(4)
    atoms = rng.standard_normal((3, 40_000))
    w = W.w1_empirical(atoms, NORMAL)
    assert np.all(w < 0.02)
    for r in range(3):
        assert W.w1_empirical(atoms[r], NORMAL)[0] == pytest.approx(w[r], abs=1e-14)


def test_w1_kde_closed_form_and_direct_evaluation():
    # all centres at 0 with bandwidth h: the KDE is N(0, h^2); W1 to N(0, 1) is |1 - h| sqrt(2/pi)
    h = 0.3
    kde = K.KDEParams(np.zeros((2, 5)), np.full((2, 5), h), None)
    np.testing.assert_allclose(W.w1_kde(kde, NORMAL), W.w1_normal_scale(1.0, h), atol=3e-4 * h)
    # a real KDE against direct evaluation of its CDF on a fine grid
    rng = np.random.default_rng(5)
    h = 0.12
    fitted = cl.GaussianKDE(h).params(K.sample_mixture(W.crt_mixture(2), 150, rng))
    grid = np.linspace(-12, 14, 52_001)
    direct = np.trapezoid(np.abs(K.cdf(fitted, grid) - W.mixture_cdf(grid[None, :],
                                                                      *W._truth_arrays(MIXTURE, 1))),
                          grid, axis=1)
    np.testing.assert_allclose(W.w1_kde(fitted, MIXTURE), direct, rtol=0, atol=3e-4 * h)


def test_w1_to_truth_dispatch_and_validation():
    rng = np.random.default_rng(6)
    emp = Empirical().params(rng.standard_normal((2, 50)))
    assert W.w1_to_truth(emp, NORMAL).shape == (2,)
    assert np.all(W.w1_to_truth(cl.models.Empirical().broadcast(NORMAL, 2), NORMAL) < 1e-12)
    with pytest.raises(ValueError, match="truth"):
        W.w1_empirical(np.zeros((1, 3)), "normal")
    with pytest.raises(ValueError, match="atoms"):
        W.w1_empirical(np.array([[np.nan]]), NORMAL)
    with pytest.raises(ValueError, match="resolution"):
        W.w1_kde(cl.GaussianKDE(0.1).params(np.zeros((1, 3)) + [[0, 1, 2]]), NORMAL, resolution=1)
    with pytest.raises(ValueError, match="fitted KDE"):
        W.w1_kde(K.claw(), NORMAL)


# ------------------------------------------------------------------------------------------
# models: the empirical distribution and the KDE's bandwidth schedule
# ------------------------------------------------------------------------------------------
def test_empirical_pool_grows_in_place_without_touching_earlier_models():
    rng = np.random.default_rng(7)
    model = Empirical()
    pool = model.stats(rng.standard_normal((3, 4)))
    kept, pools = [], []
    for _ in range(6):
        params = model.fit(pool)
        kept.append((params, params.atoms.copy()))
        pools.append(pool)
        pool = model.combine(pool, model.sample_stats(params, 4, rng))
    for params, snapshot in kept:                 # appends never overwrite an earlier pool
        np.testing.assert_array_equal(params.atoms, snapshot)
    assert pool.count == 28
    # every point of the pool is a copy of one of the 4 original points
    assert all(set(np.unique(row)) <= set(np.unique(kept[0][1][r])) for r, row in enumerate(pool.data))
    # two branches from the same earlier pool: the second copies instead of overwriting the first
    a = model.combine(pools[2], model.stats(np.ones((3, 2))))
    b = model.combine(pools[2], model.stats(np.zeros((3, 2))))
    assert np.all(a.data[:, -2:] == 1) and np.all(b.data[:, -2:] == 0)
    np.testing.assert_array_equal(a.data[:, :-2], kept[2][1])


def test_empirical_resampling_is_uniform():
    rng = np.random.default_rng(8)
    params = EmpiricalParams(np.array([[0.0, 1.0, 2.0, 3.0]]))
    draws = Empirical().sample(params, 40_000, rng)
    counts = np.bincount(draws[0].astype(int), minlength=4)
    assert np.all(np.abs(counts / 40_000 - 0.25) < 5 * np.sqrt(0.25 * 0.75 / 40_000))


def test_empirical_validation():
    model = Empirical()
    with pytest.raises(ValueError, match="params"):
        model.sample("x", 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match="n must be"):
        model.sample(NORMAL, 0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="stats"):
        model.fit(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="data"):
        model.stats(np.zeros(3))


def test_kde_pool_append_equals_concatenation():
    model = cl.GaussianKDE(0.2)
    rng = np.random.default_rng(9)
    chunks = [rng.standard_normal((2, 3)) for _ in range(5)]
    pool = model.stats(chunks[0])
    for c in chunks[1:]:
        pool = model.combine(pool, model.stats(c))
    np.testing.assert_array_equal(pool.data, np.concatenate(chunks, axis=1))


def test_power_bandwidth_schedule():
    sched = K.PowerBandwidth(0.5, 0.5, batch=20)
    assert sched(20) == pytest.approx(0.5)
    assert sched(20 * 16) == pytest.approx(0.5 * 16 ** -0.25)
    paper = K.PowerBandwidth(0.5, 0.5, batch=20, first=10)   # N_t = 10 + 20 (t - 1)
    assert paper(10 + 20 * 15) == pytest.approx(0.5 * 16 ** -0.25)
    model = cl.GaussianKDE(sched)
    fitted = model.params(np.zeros((2, 80)) + np.arange(80))
    np.testing.assert_allclose(fitted.bandwidth, 0.5 * 4 ** -0.25)
    per_chain = cl.GaussianKDE(lambda N: np.array([0.1, 0.2]))
    np.testing.assert_allclose(per_chain.params(np.zeros((2, 3)) + [0, 1, 2]).bandwidth, [0.1, 0.2])
    with pytest.raises(ValueError, match="bandwidth schedule"):
        cl.GaussianKDE(lambda N: -1.0).params(np.zeros((1, 3)) + [0, 1, 2])
    for bad in [dict(h0=0), dict(p=-1), dict(batch=0)]:
        kw = dict(h0=0.5, p=0.5, batch=20) | bad
        with pytest.raises(ValueError, match=list(bad)[0]):
            K.PowerBandwidth(**kw)


# ------------------------------------------------------------------------------------------
# the exponent fitter on synthetic power laws
# ------------------------------------------------------------------------------------------
def test_fit_exponent_recovers_synthetic_power_laws():
    rng = np.random.default_rng(10)
    t = crt.log_generations(2000, 20, start=10)
    for r_true in (0.1, 0.25, 0.5):
        noise = np.exp(0.3 * rng.standard_normal((t.size, 200)))
        err = 2.0 * t[:, None] ** -r_true * noise
        for method in ("mean", "chains"):
            fit = rates.fit_exponent(t, err, window=(10, 2000), method=method)
            assert fit.within(r_true, 4), (method, fit)
            assert 0 < fit.stderr < 0.02
        exact = rates.fit_exponent(t, 2.0 * t ** -r_true)
        assert exact.exponent == pytest.approx(r_true, abs=1e-12)
        assert exact.log_constant == pytest.approx(np.log(2.0), abs=1e-10)


def test_fit_exponent_log_correction():
    t = crt.log_generations(5000, 25, start=20).astype(float)
    err = t ** -0.5 * np.sqrt(np.log(t))
    naive = rates.fit_exponent(t, err)
    corrected = rates.fit_exponent(t, err, log_power=0.5)
    assert corrected.exponent == pytest.approx(0.5, abs=1e-12)
    assert naive.exponent < 0.48                       # the log factor biases a naive fit


def test_fit_exponent_validation():
    t = np.arange(1, 11.0)
    with pytest.raises(ValueError, match="err"):
        rates.fit_exponent(t, np.ones(9))
    with pytest.raises(ValueError, match="positive"):
        rates.fit_exponent(t, -np.ones(10))
    with pytest.raises(ValueError, match="window"):
        rates.fit_exponent(t, np.ones(10), window=(5, 5.5))
    with pytest.raises(ValueError, match="method"):
        rates.fit_exponent(t, np.ones(10), method="median")
    assert rates.crt_exponent(0.3) == 0.3 and rates.crt_exponent(0.8) == 0.5
    assert rates.crt_exponent(0.8, q=0.25) == 0.25
    with pytest.raises(ValueError, match="alpha"):
        rates.crt_exponent(1.5)


# ------------------------------------------------------------------------------------------
# thm-07-empirical-crt: the exact CDF error of the empirical model
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("convention", ["book", "paper"])
def test_empirical_cdf_error_recursion(convention):
    n, alpha, T, R = 10, 0.3, 25, 4000
    xs = (-1.0, 0.0, 0.7)

    def deviation(x0):                  # D_t(x0) = F_t(x0) - F(x0); zero for model 0, the truth
        return lambda p, tr: ((p.atoms <= x0).mean(axis=1) - ndtr(x0)
                              if isinstance(p, EmpiricalParams) else np.zeros(R))

    metrics = {f"D{i}": deviation(x0) for i, x0 in enumerate(xs)}
    traj = cl.run_loop(Empirical(), NORMAL, n=n, generations=T, replicates=R,
                       schedule=crt.crt_schedule(alpha, convention), seed=11, record=False,
                       metrics=metrics)
    c = TC.empirical_cdf_error(n, alpha, T, convention)
    N = TC.pool_sizes(n, alpha, T, convention)
    for i, x0 in enumerate(xs):
        D = traj[f"D{i}"][1:]
        assert_mc_agrees(D ** 2, c[1:] * ndtr(x0) * ndtr(-x0), k=5, what=f"E D_t({x0})^2 ({convention})")
        assert_mc_agrees(D, 0.0 * c[1:], k=5, what=f"E D_t({x0})")
    assert np.all(N[1:] == (n * np.arange(1, T + 1) if convention == "book"
                            else 3 + n * np.arange(T)))


def test_empirical_cdf_error_rate_is_min_half_alpha():
    # sqrt(c_t) ~ t^-min(1/2, a): its exponent over [T/10, T] approaches the asymptotic value
    T = 20_000
    t = crt.log_generations(T, 30, start=T // 10)
    for alpha, tol in [(0.1, 0.01), (0.3, 0.03), (0.8, 0.02), (1.0, 1e-9)]:
        c = TC.empirical_cdf_error(20, alpha, T)
        fit = rates.fit_exponent(t, np.sqrt(c[t]))
        assert fit.exponent == pytest.approx(min(0.5, alpha), abs=tol), alpha
    c = TC.empirical_cdf_error(20, 0.5, T)                        # critical: a log factor
    assert rates.fit_exponent(t, np.sqrt(c[t]), log_power=0.5).exponent == pytest.approx(0.5, abs=0.02)


# ------------------------------------------------------------------------------------------
# the paper's experiment: fitted W1 exponents against min(p, alpha)
# ------------------------------------------------------------------------------------------
N_BATCH, T_FIT, R_FIT = 20, 300, 60


def _window_target(alpha):
    """The exact exponent of sqrt(c_t) over the same window: the finite-horizon version of
    min(1/2, alpha) for the empirical model (thm-07-empirical-crt)."""
    t = crt.log_generations(T_FIT, 10, start=T_FIT // 10)
    c = TC.empirical_cdf_error(N_BATCH, alpha, T_FIT)
    return t, rates.fit_exponent(t, np.sqrt(c[t])).exponent


@pytest.mark.parametrize("alpha", [0.15, 1.0])
def test_empirical_w1_exponent(alpha):
    t, target = _window_target(alpha)
    run = crt.run_crt(Empirical(), NORMAL, n=N_BATCH, alpha=alpha, generations=T_FIT,
                      replicates=R_FIT, at=t, seed=12)
    fit = rates.fit_exponent(run.t, run.w1)
    assert abs(target - min(0.5, alpha)) < 0.02
    assert fit.within(target, 4), (fit, target)


@pytest.mark.parametrize("alpha", [0.15, 1.0])
def test_kde_w1_exponent(alpha):
    t = crt.log_generations(T_FIT, 10, start=T_FIT // 10)
    model = cl.GaussianKDE(K.PowerBandwidth(0.5, 0.5, N_BATCH))
    run = crt.run_crt(model, NORMAL, n=N_BATCH, alpha=alpha, generations=T_FIT,
                      replicates=R_FIT, at=t, seed=13)
    fit = rates.fit_exponent(run.t, run.w1)
    assert fit.within(min(0.5, alpha), 4), fit


def test_run_crt_validation_and_paper_schedule():
    with pytest.raises(ValueError, match="alpha > 0"):
        crt.crt_schedule(0.0)
    with pytest.raises(ValueError, match="convention"):
        crt.crt_schedule(0.5, "other")
    s = crt.crt_schedule(0.25, "paper")
    assert s.batch_sizes(1, 20) == (5, 0) and s.batch_sizes(2, 20) == (5, 15)
    assert s.real_data_used(3, 20) == 15
    with pytest.raises(ValueError, match="at must"):
        crt.run_crt(Empirical(), NORMAL, n=10, alpha=0.5, generations=5, replicates=2, at=[0, 9])


# ------------------------------------------------------------------------------------------
# thm-07-bias: a biased real source (bias b0 t^-q, or one that never decays)
# ------------------------------------------------------------------------------------------
CONTAMINANT = K.gaussian_mixture([3.0], [1.0])     # the extra component of the paper's code


def _biased_source(truth, b):
    return cl.DriftingTruth(lambda t: crt.biased_mixture(truth, CONTAMINANT, float(b[t - 1])))


@pytest.mark.parametrize("convention", ["book", "paper"])
def test_bias_carried_by_the_expected_pool(convention):
    n, alpha, T, R = 10, 0.4, 30, 3000
    b = TC.decaying_bias(0.3, 0.5, T)
    x0 = 1.5
    F_P, F_Q = ndtr(x0), ndtr(x0 - 3.0)
    metric = {"F": lambda p, tr: ((p.atoms <= x0).mean(axis=1) if isinstance(p, EmpiricalParams)
                                  else np.full(R, F_P))}
    traj = cl.run_loop(Empirical(), NORMAL, n=n, generations=T, replicates=R,
                       schedule=crt.crt_schedule(alpha, convention), real=_biased_source(NORMAL, b),
                       seed=14, record=False, metrics=metric)
    beta = TC.bias_carry(n, alpha, b, convention)
    assert_mc_agrees(traj["F"][1:], F_P + beta[1:] * (F_Q - F_P), k=5, what="E F_t(x0)")


def test_bias_gaussian_mean_special_case():
    # Gaussian model, real data N(b_t, 1): E mu_t = beta_t exactly (the mean is linear in the pool)
    n, alpha, T, R = 20, 0.3, 60, 4000
    G = cl.Gaussian1D(ddof=0)
    b = TC.decaying_bias(0.5, 0.2, T)
    traj = cl.run_loop(G, G.params(0.0, 1.0), n=n, generations=T, replicates=R,
                       schedule=cl.accumulate_mix(alpha), exact=True, seed=15,
                       real=cl.DriftingTruth(lambda t: G.params(float(b[t - 1]), 1.0)))
    assert_mc_agrees(traj["mean"][1:], TC.bias_carry(n, alpha, b)[1:], k=5, what="E mu_t")


def test_bias_exponent_min_alpha_q():
    T = 50_000
    t = crt.log_generations(T, 30, start=T // 10)
    for alpha, q in [(0.8, 0.25), (0.3, 0.75), (1.0, 0.25)]:
        beta = TC.bias_carry(20, alpha, TC.decaying_bias(0.2, q, T))
        fit = rates.fit_exponent(t, beta[t])
        assert fit.exponent == pytest.approx(min(alpha, q), abs=0.01), (alpha, q, fit)
    # alpha and q close: the approach is slow, like t^-|alpha - q| (exponent still rising)
    slow = [rates.fit_exponent(tt, TC.bias_carry(20, 0.9, TC.decaying_bias(0.2, 0.6, T))[tt]).exponent
            for tt in (t // 25, t)]
    assert slow[0] < slow[1] < 0.6 and slow[1] > 0.56
    assert TC.bias_exponent(0.8, 0.25) == 0.25 and TC.bias_exponent(0.8, 0.75) == 0.5
    never = TC.bias_carry(20, 0.5, np.full(T, 0.2))                  # q = 0: the bias persists
    assert never[-1] == pytest.approx(0.2, rel=0.01)


def test_biased_w1_exponent_and_persistent_bias():
    n, T, R = 20, 300, 40
    t = crt.log_generations(T, 10, start=T // 10)
    w1_QP = 3.0                                     # W1(N(3, 1), N(0, 1)): a shift by 3
    for q, alpha in [(0.25, 0.8), (0.0, 0.8)]:
        b = TC.decaying_bias(0.2, q, T)
        run = crt.run_crt(Empirical(), NORMAL, n=n, alpha=alpha, generations=T, replicates=R,
                          at=t, seed=16, real=_biased_source(NORMAL, b))
        beta = TC.bias_carry(n, alpha, b)[t]
        cbar = TC.empirical_variance_bound(n, alpha, T)[t]
        # lower bound beta_t W1(Q, P) holds chain-averaged; upper bound adds the stochastic part
        mean = run.w1.mean(axis=1)
        assert np.all(mean >= beta * w1_QP * (1 - 4 / np.sqrt(R)))
        assert np.all(mean <= beta * w1_QP + np.sqrt(cbar) * 2.5)
        fit = rates.fit_exponent(run.t, run.w1)
        if q > 0:
            exact = rates.fit_exponent(t, beta).exponent    # the finite-window exponent of beta_t
            assert fit.within(exact, 4), (fit, exact)
        else:
            assert mean[-1] == pytest.approx(0.2 * w1_QP, rel=0.15)   # never decays


def test_helpers_validation():
    with pytest.raises(ValueError, match="generations"):
        crt.at_generations(W.w1_to_truth, [-1])
    with pytest.raises(ValueError, match="callable"):
        crt.at_generations(3, [1])
    with pytest.raises(ValueError, match="b must"):
        crt.biased_mixture(NORMAL, CONTAMINANT, 1.5)
    mix = crt.biased_mixture(NORMAL, CONTAMINANT, 0.25)
    assert mix.mean[0] == pytest.approx(0.75)
    assert list(crt.log_generations(100, 5)) == [1, 3, 10, 32, 100]
    with pytest.raises(ValueError, match="convention"):
        TC.empirical_cdf_error(10, 0.5, 5, convention="x")
    with pytest.raises(ValueError, match="no real point"):
        TC.bias_carry(10, 0.01, [0.1])
    with pytest.raises(ValueError, match="cannot broadcast"):
        Empirical().broadcast(EmpiricalParams(np.zeros((2, 3))), 3)
