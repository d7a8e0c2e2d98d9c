"""Chapter 5: the recursively refitted Gaussian KDE — sampler, theorems and validation.

Every theorem of chapters/05_kde.md is checked against simulation (seeded; the closed form must
lie within a few Monte-Carlo standard errors).
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import collapselab as cl
from collapselab.models import kde as K
from collapselab.theory import kde as TK

TRUTH = K.claw()
SIGMA2 = 0.755


def _within(sim: np.ndarray, theory, k: float = 5.0):
    """sim: (T+1, R) draws; theory: (T+1,).  Assert |mean - theory| <= k SE at every t."""
    mean = sim.mean(axis=1)
    se = sim.std(axis=1, ddof=1) / np.sqrt(sim.shape[1])
    theory = np.asarray(theory, dtype=float)
    ok = np.abs(mean - theory) <= k * se + 1e-12
    assert ok.all(), f"mean {mean[~ok]} vs theory {theory[~ok]} (se {se[~ok]})"


# ------------------------------------------------------------------------------------------
# sampler
# ------------------------------------------------------------------------------------------
def test_claw_moments():
    assert TRUTH.mean[0] == pytest.approx(0.0)
    assert TRUTH.var[0] == pytest.approx(SIGMA2)


def test_weighted_sampler_matches_mixture_cdf():
    rng = np.random.default_rng(11)
    model = K.GaussianKDE(0.1)
    x = model.sample(model.broadcast(TRUTH, 2), 20_000, rng)
    for row in x:
        res = stats.kstest(row, lambda v: K.cdf(TRUTH, v)[0])
        assert res.pvalue > 1e-3
    # and the test has power: a plain normal with the same variance is rejected
    assert stats.kstest(x[0], stats.norm(0, np.sqrt(SIGMA2)).cdf).pvalue < 1e-6


def test_kde_sampler_matches_kde_cdf_and_parents():
    rng = np.random.default_rng(5)
    model = K.GaussianKDE(0.25)
    centres = rng.normal(size=(3, 7))
    params = model.params(centres)
    x, idx = model.sample_indexed(params, 30_000, rng)
    assert x.shape == idx.shape == (3, 30_000)
    for r in range(3):
        assert stats.kstest(x[r], lambda v: K.cdf(params.chain(r), v)[0]).pvalue > 1e-3
        # each centre is picked uniformly, and the offset from the parent is h N(0, 1)
        counts = np.bincount(idx[r], minlength=7)
        assert stats.chisquare(counts).pvalue > 1e-3
        z = (x[r] - centres[r, idx[r]]) / 0.25
        assert stats.kstest(z, "norm").pvalue > 1e-3


def test_sample_stats_exact_is_the_same_path():
    model = K.GaussianKDE(0.2)
    params = model.broadcast(TRUTH, 4)
    a = model.sample_stats(params, 50, np.random.default_rng(3), exact=True)
    b = model.sample_stats(params, 50, np.random.default_rng(3), exact=False)
    np.testing.assert_array_equal(a.data, b.data)


def test_fit_and_combine():
    model = K.GaussianKDE(0.3)
    rng = np.random.default_rng(0)
    a, b = model.stats(rng.normal(size=(4, 5))), model.stats(rng.normal(size=(4, 3)))
    pooled = model.combine(a, b)
    assert pooled.count == 8
    p = model.fit(pooled)
    np.testing.assert_allclose(p.var, pooled.data.var(axis=1) + 0.09)
    np.testing.assert_allclose(p.bandwidth, 0.3)
    np.testing.assert_allclose(p.weight_array().sum(axis=1), 1.0)


# ------------------------------------------------------------------------------------------
# thm-05-variance, thm-05-accumulate
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("h", [0.05, 0.4])
def test_variance_recursion_replace(h):
    n, T, R = 20, 12, 4000
    model = K.GaussianKDE(h)
    tr = cl.run_loop(model, TRUTH, n=n, generations=T, replicates=R, seed=101)
    _within(tr["var"], TK.expected_variance(SIGMA2, h, n, np.arange(T + 1)))
    drift = (tr["mean"] - 0.0) ** 2
    _within(drift, TK.expected_mean_sq_drift(SIGMA2, h, n, np.arange(T + 1)))


def test_variance_recursion_accumulate():
    n, T, R, h = 10, 12, 3000, 0.3
    model = K.GaussianKDE(h)
    tr = cl.run_loop(model, TRUTH, n=n, generations=T, replicates=R, seed=7,
                     schedule=cl.accumulate())
    _within(tr["var"], TK.accumulate_expected_variance(SIGMA2, h, n, T))


def test_population_limits():
    t = np.arange(30)
    # replace: n -> oo gives sigma^2 + t h^2
    np.testing.assert_allclose(TK.expected_variance(SIGMA2, 0.2, 10**9, t),
                               TK.population_variance(SIGMA2, 0.2, t), rtol=1e-6)
    # accumulate: sigma^2 + h^2 H_t
    np.testing.assert_allclose(TK.accumulate_expected_variance(SIGMA2, 0.2, 10**8, 29),
                               TK.accumulate_population_variance(SIGMA2, 0.2, t), rtol=1e-6)
    for s in [0, 1, 4, 9]:
        dens = TK.population_density(TRUTH, 0.2, s, schedule="accumulate")
        assert dens.var[0] == pytest.approx(SIGMA2 + 0.04 * float(TK.harmonic(s)))
    # the stationary value and the neutral bandwidth
    assert TK.expected_variance(SIGMA2, 0.1, 50, 10_000) == pytest.approx(TK.stationary_variance(0.1, 50))
    hn = TK.neutral_bandwidth(SIGMA2, 50)
    np.testing.assert_allclose(TK.expected_variance(SIGMA2, hn, 50, t), SIGMA2)


# ------------------------------------------------------------------------------------------
# thm-05-mean-density, thm-05-convergence
# ------------------------------------------------------------------------------------------
def test_mean_density_is_the_convolved_truth_for_any_n():
    """One draw from each of R independent chains' model t is an iid sample of p_0 * N(0, t h^2)."""
    n, t, h, R = 8, 6, 0.3, 6000
    model = K.GaussianKDE(h)
    tr = cl.run_loop(model, TRUTH, n=n, generations=t, replicates=R, seed=21, record=False)
    draws = model.sample(tr.final, 1, np.random.default_rng(22))[:, 0]
    limit = K.convolve(TRUTH, t * h * h)
    assert stats.kstest(draws, lambda v: K.cdf(limit, v)[0]).pvalue > 1e-3
    assert stats.kstest(draws, lambda v: K.cdf(TRUTH, v)[0]).pvalue < 1e-3


def test_accumulate_mean_density_for_any_n():
    """thm-05-accumulate (2): under accumulate, E p_t = sum_k q_t(k) p_0 * N(0, k h^2) for every n."""
    n, t, h, R = 5, 5, 0.4, 6000
    model = K.GaussianKDE(h)
    tr = cl.run_loop(model, TRUTH, n=n, generations=t, replicates=R, seed=23, record=False,
                     schedule=cl.accumulate())
    draws = model.sample(tr.final, 1, np.random.default_rng(24))[:, 0]
    limit = TK.population_density(TRUTH, h, t, schedule="accumulate")
    assert stats.kstest(draws, lambda v: K.cdf(limit, v)[0]).pvalue > 1e-3
    replace_limit = TK.population_density(TRUTH, h, t)
    assert stats.kstest(draws, lambda v: K.cdf(replace_limit, v)[0]).pvalue < 1e-3


def test_large_n_converges_to_the_convolution():
    h, t, R = 0.2, 4, 12
    limit = K.convolve(TRUTH, t * h * h)
    means = []
    for n in [300, 3000]:
        tr = cl.run_loop(K.GaussianKDE(h), TRUTH, n=n, generations=t, replicates=R, seed=n,
                         record=False)
        tv = K.tv_distance(tr.final, limit, points=1500)
        assert tv.mean() <= TK.tv_bound(SIGMA2, h, n, t)
        means.append(tv.mean())
    assert means[1] < 0.5 * means[0]          # ~ 1/sqrt(n): a factor sqrt(10) ~ 3.2
    # and the smoothing itself is far larger than the statistical error at n = 3000
    assert TK.population_tv(TRUTH, h, t) > 3 * means[1]


# ------------------------------------------------------------------------------------------
# thm-05-mise
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("h,n", [(0.08, 40), (0.3, 15)])
def test_expected_ise(h, n):
    T, R = 6, 1500
    tr = cl.run_loop(K.GaussianKDE(h), TRUTH, n=n, generations=T, replicates=R, seed=31,
                     metrics={"ise": K.ise}, record=False)
    _within(tr["ise"], TK.expected_ise(TRUTH, h, n, np.arange(T + 1)))
    t = np.arange(T + 1)
    np.testing.assert_allclose(TK.expected_ise(TRUTH, h, n, t),
                               TK.integrated_variance(TRUTH, h, n, t) + TK.population_ise(TRUTH, h, t))


def test_ise_closed_form_matches_grid_integral():
    rng = np.random.default_rng(2)
    p = K.GaussianKDE(0.15).params(rng.normal(size=(3, 40)))
    grid = np.linspace(-9, 9, 20_001)
    num = np.trapezoid((K.pdf(p, grid) - K.pdf(TRUTH, grid)) ** 2, grid, axis=1)
    np.testing.assert_allclose(K.ise(p, TRUTH), num, rtol=1e-6)
    assert np.all(K.tv_distance(p, TRUTH) <= 1.0)


# ------------------------------------------------------------------------------------------
# thm-05-founders, prop-05-rule
# ------------------------------------------------------------------------------------------
def _founders(h, n, T, R, seed):
    """Distinct generation-1 points (founders) with descendants among model t's centres, t = 1..T."""
    return K.founder_counts(K.GaussianKDE(h), TRUTH, n, T, R, np.random.default_rng(seed))[0]


def test_founders_follow_wright_fisher_whatever_h():
    n, T, R = 30, 12, 2000
    small = _founders(0.01, n, T, R, seed=4)
    large = _founders(1.0, n, T, R, seed=4)
    np.testing.assert_array_equal(small, large)   # the genealogy does not depend on h
    _within(small.astype(float), TK.expected_founders(n, np.arange(1, T + 1)))
    with pytest.raises(ValueError, match="GaussianKDE"):
        K.founder_counts(cl.Gaussian1D(), TRUTH, n, T, R, np.random.default_rng(0))


def test_normal_rule_variance_grows_geometrically():
    n, T, R = 30, 6, 4000
    tr = cl.run_loop(K.GaussianKDE("normal"), TRUTH, n=n, generations=T, replicates=R, seed=9)
    _within(tr["var"], TK.expected_variance_rule(SIGMA2, n, np.arange(T + 1), "normal"))
    tr = cl.run_loop(K.GaussianKDE("silverman"), TRUTH, n=n, generations=T, replicates=R, seed=9)
    mean = tr["var"].mean(axis=1)
    se = tr["var"].std(axis=1) / np.sqrt(R)
    assert np.all(mean <= TK.expected_variance_rule(SIGMA2, n, np.arange(T + 1), "silverman") + 4 * se + 1e-12)


def test_mix_population_variance():
    n, T, R, h, alpha = 2000, 8, 150, 0.3, 0.5
    tr = cl.run_loop(K.GaussianKDE(h), TRUTH, n=n, generations=T, replicates=R, seed=12,
                     schedule=cl.mix(alpha))
    theory = TK.mix_population_variance(SIGMA2, h, alpha, np.arange(T + 1))
    mean = tr["var"].mean(axis=1)
    se = tr["var"].std(axis=1) / np.sqrt(R)
    assert np.all(np.abs(mean - theory) <= 5 * se + 2 * T * theory / n)


# ------------------------------------------------------------------------------------------
# validation
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [0.0, -0.1, float("nan"), float("inf"), "scott", None, True])
def test_bad_bandwidth(bad):
    with pytest.raises(ValueError, match="bandwidth"):
        K.GaussianKDE(bad)


def test_bad_data():
    model = K.GaussianKDE(0.1)
    with pytest.raises(ValueError, match="data"):
        model.stats(np.array([[0.0, np.nan]]))
    with pytest.raises(ValueError, match="data"):
        model.stats(np.zeros(5))
    with pytest.raises(ValueError, match="data"):
        model.stats(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="at least 2 points"):
        model.fit(model.stats(np.zeros((3, 1))))
    with pytest.raises(ValueError, match="at least 2 points"):
        cl.run_loop(model, TRUTH, n=1, generations=1)
    with pytest.raises(ValueError, match="h = 0"):
        K.GaussianKDE("normal").params(np.ones((2, 5)))
    with pytest.raises(ValueError, match="chains"):
        model.combine(model.stats(np.zeros((2, 3))), model.stats(np.zeros((3, 3))))
    with pytest.raises(ValueError, match="n must be"):
        model.sample(TRUTH, 0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="params"):
        model.sample({"centres": 0}, 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match="grid"):
        K.GaussianKDE(0.1, grid=[0.0])


def test_bad_mixture():
    with pytest.raises(ValueError, match="widths"):
        K.gaussian_mixture([0.0, 1.0], [0.1, 0.0])
    with pytest.raises(ValueError, match="widths"):
        K.gaussian_mixture([0.0, 1.0], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="weights"):
        K.gaussian_mixture([0.0, 1.0], 0.1, [0.5, 0.6])
    with pytest.raises(ValueError, match="weights"):
        K.gaussian_mixture([0.0, 1.0], 0.1, [1.5, -0.5])
    with pytest.raises(ValueError, match="centres"):
        K.gaussian_mixture([[0.0, np.nan]], 0.1)
    with pytest.raises(ValueError, match="replicates"):
        K.gaussian_mixture(np.zeros((3, 2)), 0.1, replicates=2)
    with pytest.raises(ValueError, match="chains"):
        K.ise(K.claw(3), K.claw(2))
    with pytest.raises(ValueError, match="tau2"):
        K.convolve(TRUTH, -1.0)


def test_bad_theory_inputs():
    with pytest.raises(ValueError, match="n must be"):
        TK.expected_variance(1.0, 0.1, 1, 3)
    with pytest.raises(ValueError, match="h must be"):
        TK.expected_variance(1.0, 0.0, 10, 3)
    with pytest.raises(ValueError, match="sigma2"):
        TK.expected_variance(-1.0, 0.1, 10, 3)
    with pytest.raises(ValueError, match="t must be"):
        TK.expected_variance(1.0, 0.1, 10, -1)
    with pytest.raises(ValueError, match="t must be"):
        TK.expected_variance(1.0, 0.1, 10, 1.5)
    with pytest.raises(ValueError, match="t must be"):
        TK.expected_founders(10, 0)
    with pytest.raises(ValueError, match="truth"):
        TK.expected_ise(K.claw(2), 0.1, 10, 1)
    with pytest.raises(ValueError, match="rule"):
        TK.rule_growth_factor(10, "scott")
    with pytest.raises(ValueError, match="alpha"):
        TK.mix_population_variance(1.0, 0.1, 1.5, 2)
    with pytest.raises(ValueError, match="schedule"):
        TK.population_density(TRUTH, 0.1, 2, schedule="mix")


# ------------------------------------------------------------------------------------------
# properties
# ------------------------------------------------------------------------------------------
finite = st.floats(-5, 5, allow_nan=False)


@settings(max_examples=25, deadline=None)
@given(st.lists(finite, min_size=2, max_size=12), st.floats(0.01, 2.0))
def test_fitted_variance_is_sample_variance_plus_h2(xs, h):
    p = K.GaussianKDE(h).params(np.array([xs]))
    assert p.var[0] == pytest.approx(np.var(xs) + h * h, rel=1e-9, abs=1e-12)
    assert p.var[0] >= h * h * (1 - 1e-12)
    assert float(K.ise(p, p)[0]) == pytest.approx(0.0, abs=1e-9)
    assert 0.0 <= float(K.tv_distance(p, TRUTH)[0]) <= 1.0 + 1e-9
    c = K.cdf(p, np.linspace(-30, 30, 50))[0]
    assert np.all(np.diff(c) >= -1e-12) and c[0] < 1e-6 and c[-1] > 1 - 1e-6


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 500), st.floats(0.01, 1.0), st.floats(0.1, 4.0))
def test_expected_variance_moves_monotonically_to_n_h2(n, h, sigma2):
    v = TK.expected_variance(sigma2, h, n, np.arange(40))
    lo, hi = min(sigma2, n * h * h), max(sigma2, n * h * h)
    assert np.all(v >= lo - 1e-9) and np.all(v <= hi + 1e-9)
    d = np.diff(v)
    assert np.all(d >= -1e-12) or np.all(d <= 1e-12)
    assert np.all(v <= TK.population_variance(sigma2, h, np.arange(40)) + 1e-9)


@settings(max_examples=20, deadline=None)
@given(st.floats(0.1, 3.0), st.floats(0.01, 1.0), st.integers(0, 30))
def test_mix_reduces_to_pure_cases(sigma2, h, t):
    assert TK.mix_population_variance(sigma2, h, 0.0, t) == pytest.approx(sigma2 + t * h * h)
    expected = sigma2 + (h * h if t > 0 else 0.0)
    assert TK.mix_population_variance(sigma2, h, 1.0, t) == pytest.approx(expected)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 40))
def test_accumulate_weights_are_a_distribution(t):
    q = TK.accumulate_smoothing_weights(t)
    assert np.all(q >= 0) and q.sum() == pytest.approx(1.0)
    assert (np.arange(t + 1) * q).sum() == pytest.approx(float(TK.harmonic(t)))


@settings(max_examples=15, deadline=None)
@given(st.integers(2, 200), st.floats(0.02, 1.0), st.integers(0, 15))
def test_ise_theory_is_nonnegative_and_splits(n, h, t):
    e = TK.expected_ise(TRUTH, h, n, t)
    assert e >= 0
    assert e == pytest.approx(TK.integrated_variance(TRUTH, h, n, t) + TK.population_ise(TRUTH, h, t),
                              rel=1e-9, abs=1e-12)
