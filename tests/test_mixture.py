"""Chapter 6: the Gaussian mixture refitted by EM, its metrics and its theory.

Exact results of ``collapselab.theory.mixture`` are checked against a direct simulation of the
*labelled* loop (each point keeps its component's label); the EM loop is compared with them
as an approximation for a well-separated truth, with tolerances that say so.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

import collapselab as cl
from collapselab.models.gaussian import Normal1DParams
from collapselab.models.mixture import (GaussianMixture1D, MixtureData, MixtureParams,
                                        components_metric, count_modes, kl_mixture, mixture_cdf, mixture_logpdf, mixture_pdf,
                                        mixture_quantile, mode_locations, modes_recovered,
                                        surviving_components, w2_mixture)
from collapselab.theory import mixture as tm

SEP_W = [0.4, 0.3, 0.2, 0.1]
SEP_MU = [-15.0, -5.0, 5.0, 15.0]
SEP_VAR = [1.0, 1.0, 1.0, 1.0]


def _separated(model=None, **kw):
    model = model or GaussianMixture1D(4, **kw)
    return model, model.params(SEP_W, SEP_MU, SEP_VAR)


# ------------------------------------------------------------------------------------------
# labelled simulation (exact model of the theory functions)
# ------------------------------------------------------------------------------------------
def _labelled_counts(p0, n, T, schedule, R, rng):
    """Weights w_t (T+1, R) and counts of one component in the labelled loop."""
    w = np.empty((T + 1, R))
    w[0] = p0
    counts = np.empty((T + 1, R), dtype=int)
    counts[0] = -1
    pool = np.zeros(R)
    for t in range(1, T + 1):
        n_r, n_s = (n, 0) if t == 1 else schedule.batch_sizes(t, n)
        new = rng.binomial(n_r, p0, R) + rng.binomial(n_s, w[t - 1])
        if schedule.accumulate:
            pool = pool + new
            counts[t] = pool
            w[t] = pool / (n * t)
        else:
            counts[t] = new
            w[t] = new / n
    return w, counts


@pytest.mark.parametrize("schedule", [cl.replace(), cl.mix(0.3), cl.accumulate(),
                                      cl.accumulate_mix(0.2), cl.inject(4)],
                         ids=lambda s: s.name)
def test_weight_variance_matches_labelled_simulation(schedule):
    p0, n, T, R = 0.2, 30, 25, 40_000
    w, _ = _labelled_counts(p0, n, T, schedule, R, np.random.default_rng(1))
    theory = tm.weight_variance(p0, n, T, schedule)
    dev2 = (w - p0) ** 2
    se_mean = w.std(axis=1) / np.sqrt(R)
    assert np.all(np.abs(w.mean(axis=1) - p0) <= 5 * se_mean + 1e-12)   # E w_t = p0
    se_var = dev2.std(axis=1) / np.sqrt(R)
    assert np.all(np.abs(dev2.mean(axis=1) - theory) <= 5 * se_var + 1e-12)


def test_weight_variance_closed_forms():
    p0, n = 0.3, 40
    t = np.arange(31)
    np.testing.assert_allclose(tm.weight_variance(p0, n, 30),
                               p0 * (1 - p0) * (1 - (1 - 1 / n) ** t), rtol=1e-12)
    prod = np.concatenate([[1.0], np.cumprod(1 - 1 / (n * np.arange(1, 31) ** 2))])
    np.testing.assert_allclose(tm.weight_variance(p0, n, 30, cl.accumulate()),
                               p0 * (1 - p0) * (1 - prod), rtol=1e-12)
    # limits
    assert tm.weight_variance(p0, n, 4000, cl.accumulate())[-1] == pytest.approx(
        tm.weight_variance_limit(p0, n, accumulate=True), rel=1e-3)
    assert tm.weight_variance_limit(p0, n, accumulate=True) <= p0 * (1 - p0) * np.pi**2 / (6 * n)
    assert tm.weight_variance(p0, n, 400, cl.mix(0.25))[-1] == pytest.approx(
        tm.weight_variance_limit(p0, n, 0.25), rel=1e-9)
    assert tm.weight_variance_limit(p0, n, 0.0) == pytest.approx(p0 * (1 - p0))
    assert tm.weight_variance_limit(p0, n, 1.0) == pytest.approx(p0 * (1 - p0) / n)


@pytest.mark.parametrize("schedule", [cl.replace(), cl.mix(0.2), cl.accumulate()],
                         ids=lambda s: s.name)
def test_loss_probability_matches_labelled_simulation(schedule):
    p0, n, T, R = 0.08, 25, 30, 40_000
    _, counts = _labelled_counts(p0, n, T, schedule, R, np.random.default_rng(2))
    sim = (counts[1:] == 0).mean(axis=1)
    theory = tm.loss_probability(p0, n, T, schedule)[1:]
    se = np.sqrt(theory * (1 - theory) / R)
    assert np.all(np.abs(sim - theory) <= 5 * se + 1e-4)
    if not schedule.real_fraction:
        assert np.all(np.diff(theory) >= -1e-15)   # absorbing: non-decreasing


def test_loss_probability_special_cases():
    assert np.allclose(tm.loss_probability(0.1, 20, 10, cl.accumulate())[1:], 0.9**20)
    assert tm.loss_probability(0.0, 20, 3).tolist() == [1.0, 1.0, 1.0, 1.0]
    assert tm.loss_probability(1.0, 20, 3, cl.accumulate()).tolist() == [0, 0, 0, 0]
    assert np.all(tm.loss_probability(0.3, 20, 5, cl.all_real())[1:] == pytest.approx(0.7**20))
    P = tm.binomial_transition(12, 3, 0.4)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-12)
    assert P[0, 0] == pytest.approx(0.6**3)
    wf = tm.binomial_transition(12)
    assert wf[0, 0] == 1.0 and wf[12, 12] == 1.0


def test_component_variance_matches_labelled_simulation():
    p0, n, T, R = 0.25, 40, 12, 60_000
    rng = np.random.default_rng(3)
    N = rng.binomial(n, p0, R)
    v = np.where(N > 0, rng.chisquare(np.maximum(N - 1, 1)) * (N > 1) / np.maximum(N, 1), 0.0)
    ratio, alive = tm.component_variance_replace(p0, n, T)
    for t in range(1, T + 1):
        if t > 1:
            N = rng.binomial(n, N / n)
            chi = rng.chisquare(np.maximum(N - 1, 1)) * (N > 1)
            v = np.where(N > 0, v * chi / np.maximum(N, 1), v)
        a = N > 0
        assert a.mean() == pytest.approx(alive[t], abs=5 * np.sqrt(alive[t] * (1 - alive[t]) / R) + 1e-4)
        se = v[a].std() / np.sqrt(a.sum())
        assert abs(v[a].mean() - ratio[t]) <= 5 * se


def test_expected_surviving_and_alpha_limits():
    w = [0.5, 0.3, 0.2]
    surv = tm.expected_surviving(w, 30, 20)
    assert surv[0] == 3 and np.all(np.diff(surv) <= 1e-12)
    # mix(0) is replace and mix(1) is all-real
    np.testing.assert_allclose(tm.weight_variance(0.3, 30, 10, cl.mix(0.0)),
                               tm.weight_variance(0.3, 30, 10, cl.replace()))
    np.testing.assert_allclose(tm.weight_variance(0.3, 30, 10, cl.mix(1.0))[1:], 0.21 / 30)
    np.testing.assert_allclose(tm.loss_probability(0.1, 30, 10, cl.mix(0.0)),
                               tm.loss_probability(0.1, 30, 10, cl.replace()))


# ------------------------------------------------------------------------------------------
# EM
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("warm", [True, False])
def test_em_recovers_parameters_on_large_samples(warm):
    model = GaussianMixture1D(3, warm_start=warm, tol=1e-9, max_iter=500)
    w0, mu0, var0 = np.array([0.5, 0.3, 0.2]), np.array([-4.0, 0.0, 5.0]), np.array([1.0, 0.5, 0.8])
    truth = model.params(w0, mu0, var0, replicates=8)
    m = 20_000
    data = model.sample_stats(truth, m, np.random.default_rng(4))
    fit = model.fit(data)
    # tolerances: 6 standard errors of the labelled MLE, inflated 30% for the overlap
    se_w = np.sqrt(w0 * (1 - w0) / m)
    se_mu = np.sqrt(var0 / (m * w0))
    se_var = var0 * np.sqrt(2 / (m * w0))
    assert np.all(np.abs(fit.weights - w0) <= 8 * se_w)
    assert np.all(np.abs(fit.means - mu0) <= 8 * se_mu)
    assert np.all(np.abs(fit.vars - var0) <= 8 * se_var)


def test_one_component_is_the_gaussian_mle():
    model = GaussianMixture1D(1, var_floor=1e-9)
    x = np.random.default_rng(5).normal(2.0, 3.0, (6, 50))
    fit = model.fit(model.stats(x))
    g = cl.Gaussian1D(ddof=0).fit(cl.Gaussian1D().stats(x))
    np.testing.assert_allclose(fit.means[:, 0], g.mean, rtol=1e-10)
    np.testing.assert_allclose(fit.vars[:, 0], g.var, rtol=1e-10)
    np.testing.assert_allclose(fit.weights, 1.0)


def test_em_chains_are_fitted_independently():
    model, truth = _separated()
    data = model.sample_stats(model.broadcast(truth, 12), 80, np.random.default_rng(6))
    full = model.fit(data)
    part = model.fit(MixtureData(data.data[:5], MixtureParams(*(a[:5] for a in (
        data.init.weights, data.init.means, data.init.vars)))))
    for a, b in zip((full.weights, full.means, full.vars), (part.weights, part.means, part.vars)):
        np.testing.assert_allclose(a[:5], b, rtol=1e-12, atol=1e-14)


def test_variance_floor_and_dead_components():
    model = GaussianMixture1D(2, var_floor=0.05)
    # two points far apart: each component holds one point, its variance is the floor
    fit = model.fit(model.stats(np.array([[-10.0, 10.0]])))
    np.testing.assert_allclose(np.sort(fit.vars[0]), [0.05, 0.05])
    # a component with no data nearby dies and stays dead
    init = model.params([0.5, 0.5], [0.0, 100.0], [0.05, 0.05])
    fit = model.em(model.stats(np.zeros((1, 10)) + 0.01 * np.arange(10)), init=init)[0]
    assert fit.weights[0, 1] == 0.0 and fit.weights[0, 0] == 1.0
    again = model.fit(model.stats(np.array([[99.9, 100.0, 100.1, 0.0]]), init=fit))
    assert again.weights[0, 1] == 0.0   # EM cannot revive it, even with data at its mean
    assert model.sample(fit, 50, np.random.default_rng(0)).max() < 1.0   # never sampled


def test_warm_start_keeps_component_identity():
    model, truth = _separated()
    tr = cl.run_loop(model, truth, n=100, generations=15, replicates=200, seed=7)
    alive = tr["weights"] > 0
    drift = np.abs(tr["means"] - np.array(SEP_MU))
    # component k stays at mode k (modes are 10 apart); a rare component whose variance has
    # random-walked upwards may wander (chapter 6 discusses it), hence 99% and not all
    assert np.mean(drift[alive] < 5.0) > 0.99
    assert np.all(drift[1] < 2.0)       # generation 1, all chains


def test_mode_survival_is_monotone_under_replace():
    model = GaussianMixture1D(4)
    truth = model.params([0.4, 0.3, 0.2, 0.1], [-5.0, -1.2, 1.2, 5.5], [1.0, 0.5, 0.5, 0.6])
    tr = cl.run_loop(model, truth, n=40, generations=30, replicates=150, seed=8)
    alive = (tr["weights"] > 0).sum(axis=2)
    assert np.all(np.diff(alive, axis=0) <= 0)        # per chain: a dead component stays dead
    assert alive[-1].mean() < alive[0].mean() - 0.5   # and modes do vanish


def test_accumulate_keeps_modes_longer_than_replace():
    model = GaussianMixture1D(4)
    truth = model.params([0.4, 0.3, 0.2, 0.1], [-5.0, -1.2, 1.2, 5.5], [1.0, 0.5, 0.5, 0.6])
    out = {}
    for sch in (cl.replace(), cl.accumulate()):
        tr = cl.run_loop(model, truth, n=40, generations=20, replicates=150, schedule=sch,
                         seed=9, record=False,
                         metrics={"alive": components_metric})
        out[sch.name] = tr["alive"][-1]
    diff = out["accumulate"].mean() - out["replace"].mean()
    se = np.sqrt(out["accumulate"].var() / 150 + out["replace"].var() / 150)
    assert diff > 5 * se and diff > 0.3


def test_em_follows_the_wright_fisher_approximation_when_separated():
    """Approximation (separation 10 sd): EM's surviving components and weight variances match
    the labelled formulas within Monte-Carlo error plus a small allowance for EM."""
    model, truth = _separated()
    n, T, R = 60, 30, 600
    tr = cl.run_loop(model, truth, n=n, generations=T, replicates=R, seed=10)
    w = tr["weights"]
    alive = (w > 0).sum(axis=2)
    theory = tm.expected_surviving(SEP_W, n, T)
    se = alive.std(axis=1) / np.sqrt(R)
    assert np.all(np.abs(alive.mean(axis=1) - theory) <= 5 * se + 0.03)
    for k, p0 in enumerate(SEP_W):
        dev2 = (w[:, :, k] - p0) ** 2
        th = tm.weight_variance(p0, n, T)
        se_v = dev2.std(axis=1) / np.sqrt(R)
        assert np.all(np.abs(dev2.mean(axis=1) - th) <= 5 * se_v + 0.05 * th + 1e-12)
    # per-component variance collapse ({prf:ref}`thm-06-component-variance`), early generations
    for k in (0, 1):
        ratio, _ = tm.component_variance_replace(SEP_W[k], n, T)
        for t in (3, 8):
            a = w[t, :, k] > 0
            v = tr["vars"][t, a, k]
            assert abs(v.mean() - ratio[t]) <= 5 * v.std() / np.sqrt(a.sum()) + 0.03 * ratio[t]


# ------------------------------------------------------------------------------------------
# sampling
# ------------------------------------------------------------------------------------------
def test_sampler_matches_the_mixture_in_distribution():
    model = GaussianMixture1D(3)
    p = model.params([0.2, 0.5, 0.3], [-2.0, 0.5, 3.0], [0.3, 1.0, 0.5], replicates=2)
    x = model.sample(p, 20_000, np.random.default_rng(11))
    assert x.shape == (2, 20_000)
    for r in range(2):
        res = sps.kstest(x[r], lambda v: mixture_cdf(MixtureParams(p.weights[:1], p.means[:1],
                                                                   p.vars[:1]), v[None])[0])
        assert res.pvalue > 1e-3
    labels = model.sample_labels(p, 20_000, np.random.default_rng(12))
    share = np.stack([(labels == k).mean(axis=1) for k in range(3)], axis=1)
    assert np.all(np.abs(share - p.weights) < 5 * np.sqrt(0.25 / 20_000))


def test_exact_flag_and_seeds_are_reproducible():
    model, truth = _separated()
    truth = model.broadcast(truth, 3)
    a = model.sample_stats(truth, 10, np.random.default_rng(0), exact=True)
    b = model.sample_stats(truth, 10, np.random.default_rng(0), exact=False)
    np.testing.assert_array_equal(a.data, b.data)
    assert a.init is truth
    t1 = cl.run_loop(model, truth, n=20, generations=3, replicates=3, seed=5)
    t2 = cl.run_loop(model, truth, n=20, generations=3, replicates=3, seed=5)
    np.testing.assert_array_equal(t1["weights"], t2["weights"])


def test_combine_keeps_the_newest_start():
    model, truth = _separated()
    a = model.stats(np.zeros((1, 5)))
    b = model.sample_stats(truth, 4, np.random.default_rng(0))
    c = model.combine(a, b)
    assert c.count == 9 and c.init is truth
    assert model.combine(b, a).init is truth


# ------------------------------------------------------------------------------------------
# metrics
# ------------------------------------------------------------------------------------------
def test_w2_and_kl_match_the_gaussian_closed_forms():
    g = GaussianMixture1D(1)
    mu, var = np.array([0.0, 1.0, -2.0]), np.array([1.0, 4.0, 0.25])
    p = g.params([1.0], [0.0], [1.0], replicates=3)
    q = g.params(np.ones((3, 1)), mu[:, None], var[:, None], replicates=3)
    exact_w2 = cl.metrics.w2(Normal1DParams(np.zeros(3), np.ones(3)), Normal1DParams(mu, var))
    exact_kl = cl.metrics.kl_gaussian(Normal1DParams(np.zeros(3), np.ones(3)), Normal1DParams(mu, var))
    np.testing.assert_allclose(w2_mixture(p, q), exact_w2, atol=5e-3)
    np.testing.assert_allclose(kl_mixture(p, q), exact_kl, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(w2_mixture(p, p), 0.0, atol=1e-12)
    np.testing.assert_allclose(kl_mixture(q, q), 0.0, atol=1e-12)
    np.testing.assert_allclose(w2_mixture(p, q), w2_mixture(q, p), atol=1e-12)


def test_w2_of_separated_weights_error():
    # moving mass eps between two narrow modes a distance d apart costs W2 ~ d sqrt(eps)
    m = GaussianMixture1D(2)
    p = m.params([0.5, 0.5], [0.0, 10.0], [1e-4, 1e-4])
    q = m.params([0.4, 0.6], [0.0, 10.0], [1e-4, 1e-4])
    assert w2_mixture(p, q, grid=4096, levels=4096)[0] == pytest.approx(10 * np.sqrt(0.1), rel=1e-2)


def test_quantile_inverts_cdf():
    m = GaussianMixture1D(2)
    p = m.params([0.3, 0.7], [-1.0, 2.0], [0.5, 0.2], replicates=2)
    u = np.array([0.01, 0.3, 0.5, 0.9])
    q = mixture_quantile(p, u, grid=8192)
    np.testing.assert_allclose(mixture_cdf(p, q), np.broadcast_to(u, (2, 4)), atol=2e-4)


@pytest.mark.parametrize("d,modes", [(1.0, 1), (1.9, 1), (2.2, 2), (3.0, 2), (8.0, 2)])
def test_count_modes_follows_the_two_sigma_rule(d, modes):
    m = GaussianMixture1D(2)
    p = m.params([0.5, 0.5], [-d / 2, d / 2], [1.0, 1.0])
    assert bool(tm.bimodal_equal_weights(-d / 2, d / 2, 1.0)) == (modes == 2)
    assert count_modes(p, grid=8192, min_height=0.0)[0] == modes


@settings(max_examples=30, deadline=None)
@given(w=st.floats(0.05, 0.95), s1=st.floats(0.3, 3.0), s2=st.floats(0.3, 3.0),
       frac=st.floats(0.0, 1.0))
def test_behboodian_sufficient_condition(w, s1, s2, frac):
    d = 2 * min(s1, s2) * frac
    m = GaussianMixture1D(2)
    p = m.params([w, 1 - w], [0.0, d], [s1**2, s2**2])
    assert tm.unimodal_sufficient(0.0, d, s1, s2)
    assert count_modes(p, grid=4096, min_height=0.0)[0] == 1


def test_modes_recovered_and_surviving():
    m = GaussianMixture1D(3)
    p = m.params(np.array([[0.5, 0.5, 0.0], [0.4, 0.3, 0.3]]),
                 np.array([[-5.0, 5.0, 0.0], [-5.0, 5.0, 0.0]]), np.ones((2, 3)), replicates=2)
    np.testing.assert_array_equal(surviving_components(p), [2, 3])
    np.testing.assert_array_equal(modes_recovered(p, [-5.0, 0.0, 5.0], 0.5), [2, 3])
    np.testing.assert_array_equal(count_modes(p), [2, 3])
    x, mask = mode_locations(p)
    assert np.allclose(np.sort(x[1][mask[1]]), [-5, 0, 5], atol=0.05)


# ------------------------------------------------------------------------------------------
# validation
# ------------------------------------------------------------------------------------------
def test_params_validation():
    m = GaussianMixture1D(2)
    with pytest.raises(ValueError, match="weights must sum to 1"):
        m.params([0.5, 0.6], [0, 1], [1, 1])
    with pytest.raises(ValueError, match="weights must be non-negative"):
        m.params([1.5, -0.5], [0, 1], [1, 1])
    with pytest.raises(ValueError, match="vars must be positive"):
        m.params([0.5, 0.5], [0, 1], [1, 0])
    with pytest.raises(ValueError, match="vars must be positive"):
        m.params([0.5, 0.5], [0, 1], [1, -1])
    with pytest.raises(ValueError, match="means contains NaN"):
        m.params([0.5, 0.5], [0, np.nan], [1, 1])
    with pytest.raises(ValueError, match="means must have 2 entries"):
        m.params([0.5, 0.5], [0, 1, 2], [1, 1])
    with pytest.raises(ValueError, match="weights has 3 rows"):
        m.params(np.full((3, 2), 0.5), [0, 1], [1, 1], replicates=2)
    with pytest.raises(ValueError, match="replicates"):
        m.params([0.5, 0.5], [0, 1], [1, 1], replicates=0)
    with pytest.raises(ValueError, match="params have 3 components"):
        m.sample(GaussianMixture1D(3).params([0.2, 0.3, 0.5], [0, 1, 2], [1, 1, 1]), 5,
                 np.random.default_rng(0))
    with pytest.raises(ValueError, match="params must be MixtureParams"):
        count_modes(Normal1DParams(np.zeros(1), np.ones(1)))


def test_model_validation():
    with pytest.raises(ValueError, match="n_components"):
        GaussianMixture1D(0)
    with pytest.raises(ValueError, match="var_floor"):
        GaussianMixture1D(2, var_floor=0.0)
    with pytest.raises(ValueError, match="max_iter"):
        GaussianMixture1D(2, max_iter=0)
    with pytest.raises(ValueError, match="tol"):
        GaussianMixture1D(2, tol=-1.0)
    with pytest.raises(ValueError, match="warm_start"):
        GaussianMixture1D(2, warm_start="yes")
    m = GaussianMixture1D(3)
    with pytest.raises(ValueError, match="at least n_components=3 points"):
        m.fit(m.stats(np.zeros((2, 2))))
    with pytest.raises(ValueError, match="data contains NaN"):
        m.stats(np.array([[0.0, np.nan, 1.0]]))
    with pytest.raises(ValueError, match="data must have 2 dimension"):
        m.stats(np.zeros(5))
    with pytest.raises(ValueError, match="n must be >= 1"):
        m.sample(m.params([0.2, 0.3, 0.5], [0, 1, 2], [1, 1, 1]), 0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="cannot combine"):
        m.combine(m.stats(np.zeros((2, 3))), m.stats(np.zeros((3, 3))))
    with pytest.raises(ValueError, match="init has 1 chains"):
        m.stats(np.zeros((2, 4)), init=m.params([0.2, 0.3, 0.5], [0, 1, 2], [1, 1, 1]))
    with pytest.raises(ValueError, match="cannot broadcast"):
        m.broadcast(m.params([0.2, 0.3, 0.5], [0, 1, 2], [1, 1, 1], replicates=2), 3)
    with pytest.raises(ValueError, match="n must be >= 1"):
        cl.run_loop(m, m.params([0.2, 0.3, 0.5], [0, 1, 2], [1, 1, 1]), n=0, generations=2)


def test_metric_and_theory_validation():
    m = GaussianMixture1D(2)
    p = m.params([0.5, 0.5], [0, 1], [1, 1])
    with pytest.raises(ValueError, match="u must lie strictly between 0 and 1"):
        mixture_quantile(p, [0.0, 0.5])
    with pytest.raises(ValueError, match="grid"):
        w2_mixture(p, p, grid=1)
    with pytest.raises(ValueError, match="min_height"):
        count_modes(p, min_height=2.0)
    with pytest.raises(ValueError, match="x must have 1 rows"):
        mixture_logpdf(p, np.zeros((3, 4)))
    with pytest.raises(ValueError, match="p and q have"):
        w2_mixture(m.params([0.5, 0.5], [0, 1], [1, 1], replicates=2),
                   m.params([0.5, 0.5], [0, 1], [1, 1], replicates=3))
    with pytest.raises(ValueError, match="p0"):
        tm.weight_variance(1.5, 10, 3)
    with pytest.raises(ValueError, match="n must be"):
        tm.loss_probability(0.5, 0, 3)
    with pytest.raises(ValueError, match="generations"):
        tm.weight_variance(0.5, 10, -1)
    with pytest.raises(ValueError, match="schedule must be a Schedule"):
        tm.weight_variance(0.5, 10, 3, "replace")
    with pytest.raises(ValueError, match="fresh_real"):
        tm.weight_variance(0.5, 10, 3, cl.mix(0.5, fresh_real=False))
    with pytest.raises(ValueError, match="weights must sum to 1"):
        tm.expected_surviving([0.5, 0.6], 10, 3)
    with pytest.raises(ValueError, match="p0 must be > 0"):
        tm.component_variance_replace(0.0, 10, 3)
    with pytest.raises(ValueError, match="alpha"):
        tm.weight_variance_limit(0.5, 10, alpha=0.5, accumulate=True)
    with pytest.raises(ValueError, match="sigma must be positive"):
        tm.bimodal_equal_weights(0.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="n_real"):
        tm.binomial_transition(5, n_real=6)


# ------------------------------------------------------------------------------------------
# properties
# ------------------------------------------------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(K=st.integers(1, 4), m=st.integers(4, 40), seed=st.integers(0, 10_000),
       floor=st.floats(1e-4, 0.5), warm=st.booleans())
def test_fit_invariants(K, m, seed, floor, warm):
    rng = np.random.default_rng(seed)
    model = GaussianMixture1D(K, var_floor=floor, warm_start=warm, max_iter=30)
    x = rng.normal(0, 1, (3, m)) * rng.choice([0.0, 1.0, 5.0]) + rng.integers(-3, 3, (3, 1))
    init = model.params(np.full(K, 1.0 / K), rng.normal(0, 2, K), np.full(K, 1.0), replicates=3)
    fit = model.fit(model.stats(x, init=init))
    assert np.all(np.isfinite(fit.weights)) and np.all(np.isfinite(fit.means))
    np.testing.assert_allclose(fit.weights.sum(axis=1), 1.0, atol=1e-12)
    assert np.all(fit.weights >= 0)
    assert np.all(fit.vars >= floor * (1 - 1e-12))
    s = model.sample(fit, 7, rng)
    assert s.shape == (3, 7) and np.all(np.isfinite(s))


# ------------------------------------------------------------------------------------------
# the fast EM (issue 14): SQUAREM keeps EM's fixed points; agreement with scikit-learn
# ------------------------------------------------------------------------------------------
def test_accelerated_em_reaches_the_plain_em_fixed_point():
    """SQUAREM only moves the start of EM steps: where the likelihood has one basin around the
    start (two separated modes) it reaches plain EM's limit; in general (K = 4) it stops at a
    fixed point of the EM map, which one more plain EM step does not move."""
    rng = np.random.default_rng(21)
    kw = dict(var_floor=1e-6, tol=1e-12, max_iter=5000, warm_start=False)
    two = GaussianMixture1D(2, accelerate=False, **kw)
    x = two.sample(two.params([0.4, 0.6], [-3.0, 3.0], [1.0, 0.5], replicates=40), 400, rng)
    a, _, ll_a = two.em(two.stats(x))
    b, _, ll_b = GaussianMixture1D(2, accelerate=True, **kw).em(two.stats(x))
    np.testing.assert_allclose(ll_a, ll_b, atol=1e-9)
    for field in ("weights", "means", "vars"):
        np.testing.assert_allclose(getattr(a, field), getattr(b, field), atol=1e-5)
    model, truth = _separated(**kw)
    x4 = model.sample(model.broadcast(truth, 40), 400, rng)
    fast, _, ll_fast = GaussianMixture1D(4, accelerate=True, **kw).em(model.stats(x4))
    plain = GaussianMixture1D(4, accelerate=False, var_floor=1e-6, tol=0.0, max_iter=2)
    ll_again = plain.em(plain.stats(x4), init=fast)[2]     # log-likelihood after one more step
    assert np.all(np.abs(ll_again - mixture_logpdf(fast, x4).mean(axis=1)) < 1e-7)


def test_accelerated_em_needs_fewer_steps_on_a_flat_likelihood():
    rng = np.random.default_rng(22)
    g = GaussianMixture1D(2, var_floor=1e-6, tol=1e-5, max_iter=2000, accelerate=False)
    x = rng.standard_normal((100, 1000))
    init = g.initial_params(x)
    slow = cl.models.mixture._em_block(x, init.weights, init.means, init.vars, 1e-6, 2000, 1e-5, False)
    fast = cl.models.mixture._em_block(x, init.weights, init.means, init.vars, 1e-6, 2000, 1e-5, True)
    assert fast[4] < slow[4]
    assert np.all(fast[3] >= slow[3] - 1e-4)     # never a worse likelihood than plain EM's stop


def test_em_agrees_with_scikit_learn():
    """Fitted densities agree with sklearn.mixture.GaussianMixture on the same data (same
    tolerance; reg_covar plays the role of the floor), within Monte-Carlo error of the fit."""
    sk = pytest.importorskip("sklearn.mixture")
    rng = np.random.default_rng(23)
    model = GaussianMixture1D(2, var_floor=1e-6, tol=1e-8, max_iter=2000, warm_start=False)
    truth = model.params([0.3, 0.7], [-2.0, 2.0], [0.5, 1.0], replicates=20)
    x = model.sample(truth, 2000, rng)
    ours = model.fit(model.stats(x))
    grid = np.linspace(-5, 6, 401)
    dens = mixture_pdf(ours, grid)
    for c in range(x.shape[0]):
        gm = sk.GaussianMixture(2, tol=1e-8, max_iter=2000, reg_covar=1e-6, random_state=c).fit(x[c][:, None])
        theirs = np.exp(gm.score_samples(grid[:, None]))
        # same data, same likelihood: the maxima coincide up to the stopping tolerance
        assert np.max(np.abs(dens[c] - theirs)) < 1e-3, c


def test_sample_stats_grouped_draws_have_the_mixture_distribution():
    model = GaussianMixture1D(3)
    p = model.params([0.2, 0.5, 0.3], [-3.0, 0.0, 4.0], [0.5, 1.0, 2.0])
    data = model.sample_stats(p, 50_000, np.random.default_rng(24)).data[0]
    ks = sps.kstest(data, lambda v: mixture_cdf(p, v[None, :])[0])
    assert ks.pvalue > 1e-3
    shuffled = model.sample(p, 50_000, np.random.default_rng(24))[0]
    assert sps.kstest(shuffled, lambda v: mixture_cdf(p, v[None, :])[0]).pvalue > 1e-3
