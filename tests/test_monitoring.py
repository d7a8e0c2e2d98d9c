"""Chapter 12: monitoring collapse from samples (collapselab.monitoring, theory.monitoring)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import ks_2samp

import collapselab as cl
from collapselab import monitoring as mo
from collapselab.models.gaussian import Normal1DParams, NormalParams
from collapselab.models.tempered import TemperedGaussian1D
from collapselab.theory import monitoring as tm


def _naive_mmd2(x, y, h):
    x = np.atleast_2d(np.asarray(x, float).T).T if np.ndim(x) == 1 else np.asarray(x, float)
    y = np.atleast_2d(np.asarray(y, float).T).T if np.ndim(y) == 1 else np.asarray(y, float)
    k = lambda a, b: np.exp(-np.sum((a - b) ** 2) / (2 * h * h))  # noqa: E731
    n, m = len(x), len(y)
    sxx = sum(k(x[i], x[j]) for i in range(n) for j in range(n) if i != j)
    syy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j)
    sxy = sum(k(x[i], y[j]) for i in range(n) for j in range(m))
    return sxx / (n * (n - 1)) + syy / (m * (m - 1)) - 2 * sxy / (n * m)


def _naive_median(x, y):
    z = np.concatenate([np.asarray(x, float).reshape(len(x), -1), np.asarray(y, float).reshape(len(y), -1)])
    d = [np.linalg.norm(z[i] - z[j]) for i in range(len(z)) for j in range(i + 1, len(z))]
    return np.median(d)


# ------------------------------------------------------------------------------------------
# MMD
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("d", [None, 1, 3])
def test_mmd2_equals_naive_double_loop(d):
    rng = np.random.default_rng(0)
    shape_x = (4, 6) if d is None else (4, 6, d)
    shape_y = (4, 5) if d is None else (4, 5, d)
    x, y = rng.normal(size=shape_x), rng.normal(0.3, 1.2, size=shape_y)
    fast = mo.mmd2(x, y, bandwidth=0.8)
    assert np.allclose(fast, [_naive_mmd2(x[r], y[r], 0.8) for r in range(4)], atol=1e-12)
    h = mo.median_heuristic(x, y)
    assert np.allclose(h, [_naive_median(x[r], y[r]) for r in range(4)])
    auto = mo.mmd2(x, y)
    assert np.allclose(auto, [_naive_mmd2(x[r], y[r], h[r]) for r in range(4)], atol=1e-12)
    # one shared y broadcast over the chains
    shared = mo.mmd2(x, y[:1], bandwidth=0.8)
    assert np.allclose(shared, [_naive_mmd2(x[r], y[0], 0.8) for r in range(4)], atol=1e-12)
    # per-chain bandwidths
    hs = np.array([0.5, 1.0, 1.5, 2.0])
    assert np.allclose(mo.mmd2(x, y, hs), [_naive_mmd2(x[r], y[r], hs[r]) for r in range(4)])


@pytest.mark.parametrize("bandwidth", [1.0, None])
def test_mmd2_unbiased_under_the_null(bandwidth):
    # prop-12-unbiased: mean zero under P = Q, also with the pooled median heuristic
    rng = np.random.default_rng(1)
    R = 6000
    v = mo.mmd2(rng.normal(size=(R, 12)), rng.normal(size=(R, 17)), bandwidth)
    assert abs(v.mean()) < 4.5 * v.std() / np.sqrt(R)


def test_mmd2_matches_gaussian_closed_form_1d():
    # prop-12-gauss-mmd against the unbiased estimate
    rng = np.random.default_rng(2)
    R, h = 6000, 0.9
    p = Normal1DParams(np.array([0.4]), np.array([2.0]))
    q = Normal1DParams(np.array([0.0]), np.array([1.0]))
    x = 0.4 + np.sqrt(2.0) * rng.standard_normal((R, 20))
    y = rng.standard_normal((R, 25))
    v = mo.mmd2(x, y, h)
    exact = tm.mmd2_gaussians(p, q, h)[0]
    assert abs(v.mean() - exact) < 4.5 * v.std() / np.sqrt(R)
    assert exact > 0.02  # the check is not vacuous


def test_mmd2_matches_gaussian_closed_form_mv():
    rng = np.random.default_rng(3)
    R, h, d = 4000, 1.5, 3
    cov = np.array([[1.5, 0.3, 0.0], [0.3, 0.8, 0.2], [0.0, 0.2, 1.0]])
    mean = np.array([0.3, -0.2, 0.0])
    p = cl.GaussianMV().params(mean, cov, R)
    x = cl.GaussianMV().sample(p, 15, rng)
    y = rng.standard_normal((R, 18, d))
    v = mo.mmd2(x, y, h)
    exact = tm.mmd2_gaussians(NormalParams(mean[None], cov[None]),
                              NormalParams(np.zeros((1, d)), np.eye(d)[None]), h)[0]
    assert abs(v.mean() - exact) < 4.5 * v.std() / np.sqrt(R)


def test_closed_form_consistency():
    h = np.array([0.5, 1.0, 2.0])
    p1 = Normal1DParams(np.array([0.3, -1.0, 2.0]), np.array([0.5, 1.0, 3.0]))
    q1 = Normal1DParams(np.zeros(3), np.ones(3))
    pm = NormalParams(p1.mean[:, None], p1.var[:, None, None])
    qm = NormalParams(q1.mean[:, None], q1.var[:, None, None])
    one = tm.mmd2_gaussians(p1, q1, h)
    assert np.allclose(one, tm.mmd2_gaussians(pm, qm, h))          # d = 1 agrees
    assert np.allclose(one, tm.mmd2_gaussians(q1, p1, h))          # symmetric
    assert np.allclose(tm.mmd2_gaussians(p1, p1, h), 0.0)          # zero on equal laws
    # kernel mean against Monte Carlo
    rng = np.random.default_rng(4)
    z = 0.7 + np.sqrt(1.3) * rng.standard_normal(400_000)
    mc = np.exp(-z**2 / (2 * 0.9**2))
    assert abs(mc.mean() - tm.gaussian_kernel_mean(0.7, 1.3, 0.9)) < 5 * mc.std() / np.sqrt(z.size)


# ------------------------------------------------------------------------------------------
# permutation test and KS
# ------------------------------------------------------------------------------------------


def test_permutation_test_level():
    # thm-12-permutation: P(p <= u) <= u; with B + 1 = 40 the bound is attained at u = k/40
    rng = np.random.default_rng(5)
    R, B = 3000, 39
    res = mo.mmd_test(rng.normal(size=(R, 12)), rng.normal(size=(R, 14)), permutations=B, rng=6)
    assert np.all(res.pvalue >= 1 / (B + 1)) and np.all(res.pvalue <= 1)
    for u in (0.05, 0.2, 0.5):
        rate = np.mean(res.pvalue <= u)
        assert abs(rate - u) < 4.5 * np.sqrt(u * (1 - u) / R), (u, rate)


def test_permutation_test_power_and_statistic():
    rng = np.random.default_rng(7)
    x, y = rng.normal(1.0, 1.0, size=(200, 30)), rng.normal(size=(200, 30))
    res = mo.mmd_test(x, y, permutations=99, rng=8)
    assert np.mean(res.pvalue <= 0.05) > 0.8   # power against a one-sd shift
    assert np.allclose(res.statistic, mo.mmd2(x, y))
    assert np.allclose(res.bandwidth, mo.median_heuristic(x, y))


def test_permutation_test_is_seeded_and_chain_separable():
    rng = np.random.default_rng(9)
    x, y = rng.normal(size=(7, 10, 2)), rng.normal(size=(7, 9, 2))
    a = mo.mmd_test(x, y, permutations=30, rng=3).pvalue
    b = mo.mmd_test(x, y, permutations=30, rng=3).pvalue
    c = mo.mmd_test(x[:3], y[:3], permutations=30, rng=3).pvalue
    assert np.array_equal(a, b) and np.array_equal(a[:3], c)


def test_ks_statistic_matches_scipy_with_ties():
    rng = np.random.default_rng(10)
    x, y = rng.normal(size=(5, 20)), rng.normal(0.5, 1, size=(5, 25))
    for xs, ys in ((x, y), (np.round(x), np.round(y))):
        ours = mo.ks_statistic(xs, ys)
        ref = [ks_2samp(xs[r], ys[r]).statistic for r in range(5)]
        assert np.allclose(ours, ref)
    p = mo.ks_test(x, y).pvalue
    ref = [ks_2samp(x[r], y[r], method="asymp").pvalue for r in range(5)]
    assert np.allclose(p, ref, rtol=1e-10, atol=1e-12)


def test_ks_permutation_level():
    rng = np.random.default_rng(11)
    R = 3000
    res = mo.ks_test(rng.normal(size=(R, 15)), rng.normal(size=(R, 15)), permutations=39, rng=12)
    rate = np.mean(res.pvalue <= 0.05)
    assert rate < 0.05 + 4.5 * np.sqrt(0.05 * 0.95 / R)


# ------------------------------------------------------------------------------------------
# tails
# ------------------------------------------------------------------------------------------


def test_tail_coverage_known_inputs():
    real = np.tile(np.arange(100.0), (2, 1))          # 5% and 95% quantiles: 4.95 and 94.05
    gen = np.full((2, 50), 50.0)
    gen[0, :3] = -1.0                                   # 3 points in the lower tail
    gen[0, 3:5] = 200.0                                 # 2 in the upper tail
    cov = mo.tail_coverage(gen, real, level=0.05)
    assert np.allclose(cov, [(5 / 50) / 0.10, 0.0])
    assert np.allclose(mo.tail_coverage(gen, real, 0.05, side="lower"), [(3 / 50) / 0.05, 0])
    assert np.allclose(mo.tail_coverage(gen, real, 0.05, side="upper"), [(2 / 50) / 0.05, 0])
    # a single shared real set (m,)
    assert np.allclose(mo.tail_coverage(gen, np.arange(100.0), 0.05), cov)


def test_tail_coverage_calibrated_and_multivariate():
    rng = np.random.default_rng(13)
    R = 400
    same = mo.tail_coverage(rng.normal(size=(R, 500)), rng.normal(size=(R, 500)), 0.05)
    assert abs(same.mean() - 1.0) < 0.05
    real = rng.normal(size=(R, 500, 3))
    assert abs(mo.tail_coverage(rng.normal(size=(R, 500, 3)), real, 0.05).mean() - 1.0) < 0.06
    assert np.all(mo.tail_coverage(0.3 * rng.normal(size=(R, 200, 3)), real, 0.05) < 0.05)
    assert np.all(mo.tail_coverage(3.0 * rng.normal(size=(R, 200, 3)), real, 0.05) > 5)


def test_category_counts_and_rare_coverage():
    labels = np.array([[0, 1, 1, 3], [2, 2, 2, 2]])
    assert np.array_equal(mo.category_counts(labels, 4), [[1, 2, 0, 1], [0, 0, 4, 0]])
    real = np.array([0] * 90 + [1] * 5 + [2] * 4 + [3] * 1)   # rare (<= 5%): 1, 2, 3
    gen = np.array([[0, 0, 1, 3, 0], [0, 0, 0, 0, 0], [1, 2, 3, 0, 0]])
    cov = mo.rare_category_coverage(gen, real, 5, threshold=0.05)
    assert np.allclose(cov, [2 / 3, 0.0, 1.0])
    with pytest.raises(ValueError, match="threshold"):
        mo.rare_category_coverage(gen, real, 5, threshold=0.001)


# ------------------------------------------------------------------------------------------
# contraction estimate
# ------------------------------------------------------------------------------------------


def _ar1(R, T, kappa, eps, sd, rng, d0=None):
    d = np.empty((T + 1, R))
    d[0] = eps / (1 - kappa) if d0 is None else d0
    for t in range(1, T + 1):
        d[t] = eps + kappa * d[t - 1] + sd * rng.standard_normal(R)
    return d


def test_contraction_estimate_recovers_kappa():
    rng = np.random.default_rng(14)
    R, T, kappa, eps = 600, 400, 0.7, 0.3
    d = _ar1(R, T, kappa, eps, 0.1, rng)
    est = mo.contraction_estimate(d, window=None)
    k_hat = est.kappa[-1]
    # least squares in an AR(1) is biased by about -(1 + 3 kappa)/T; allow for it
    assert abs(k_hat.mean() - kappa) < (1 + 3 * kappa) / T + 4 * k_hat.std() / np.sqrt(R)
    assert abs(est.eps[-1].mean() - eps) < 0.02
    # the reported standard error matches the spread across chains
    assert 0.85 < est.se[-1].mean() / k_hat.std() < 1.15
    assert np.all(np.isnan(est.kappa[:3])) and not np.any(np.isnan(est.kappa[3:]))


def test_contraction_estimate_window_matches_polyfit_and_explosive():
    rng = np.random.default_rng(15)
    d = _ar1(3, 40, 0.5, 1.0, 0.2, rng)
    est = mo.contraction_estimate(d, window=8)
    for t in (8, 20, 40):
        for r in range(3):
            slope, intercept = np.polyfit(d[t - 8:t, r], d[t - 7:t + 1, r], 1)
            assert np.isclose(est.kappa[t, r], slope) and np.isclose(est.eps[t, r], intercept)
    assert np.all(np.isnan(est.kappa[:8]))
    # expanding-window fit on a 1-D sequence equals polyfit on all pairs
    full = mo.contraction_estimate(d[:, 0], window=None)
    assert np.isclose(full.kappa[-1], np.polyfit(d[:-1, 0], d[1:, 0], 1)[0])
    # explosive chains: kappa = 1.1 is recovered closely
    big = _ar1(200, 60, 1.1, 0.3, 0.1, rng, d0=1.0)
    assert abs(mo.contraction_estimate(big, window=None).kappa[-1].mean() - 1.1) < 0.01


def test_kappa_warning_fires_on_explosive_only():
    rng = np.random.default_rng(16)
    stable = _ar1(300, 40, 0.5, 0.5, 0.1, rng)
    growing = _ar1(300, 40, 1.15, 0.1, 0.05, rng, d0=1.0)
    assert np.mean(mo.kappa_warning(stable, window=10) >= 0) < 0.02
    alarms = mo.kappa_warning(growing, window=10)
    assert np.all(alarms >= 10)


# ------------------------------------------------------------------------------------------
# early warning and calibration
# ------------------------------------------------------------------------------------------


def test_early_warning_rule_by_hand():
    d = np.array([[0, 0, 0], [2, 2, 0], [0, 2, 0], [2, 2, 3], [2, 0, 3]], float)
    assert np.array_equal(mo.early_warning(d, 1.0), [1, 1, 3])
    assert np.array_equal(mo.early_warning(d, 1.0, consecutive=2), [4, 2, 4])
    assert np.array_equal(mo.early_warning(d, 1.0, consecutive=3), [-1, 3, -1])
    assert np.array_equal(mo.early_warning(d, 1.0, start=2), [3, 2, 3])
    assert np.array_equal(mo.early_warning(d, np.array([5, 5, 1, 1, 1.0])), [3, 2, 3])
    assert np.array_equal(mo.alarm_statistic(d, consecutive=2), [2, 2, 3])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), m=st.integers(1, 3), c=st.floats(-1.0, 1.0))
def test_alarm_statistic_characterises_the_rule(seed, m, c):
    d = np.random.default_rng(seed).normal(size=(12, 6))
    fired = mo.early_warning(d, c, consecutive=m) >= 0
    assert np.array_equal(fired, mo.alarm_statistic(d, consecutive=m) > c)


def test_calibrated_false_alarm_rate_on_held_out_stable_chains():
    # thm-12-calibration: FA rate in [a - 1/(R+1), a] on new chains, up to MC error
    rng = np.random.default_rng(17)
    R_cal, R_new, a = 3000, 6000, 0.05
    for m in (1, 2):
        thr = mo.calibrate_threshold(_ar1(R_cal, 30, 0.6, 0.4, 0.2, rng), a, consecutive=m)
        rate = np.mean(mo.early_warning(_ar1(R_new, 30, 0.6, 0.4, 0.2, rng), thr, m) >= 0)
        sd = np.sqrt(a * (1 - a) * (1 / R_new + 1 / R_cal))
        assert abs(rate - a) < 4.5 * sd + 1 / (R_cal + 1), (m, rate)


def test_calibrate_threshold_order_statistic():
    S = np.arange(1.0, 20.0)[None, :].repeat(2, axis=0)   # 19 chains, two generations
    # k = ceil(0.95 * 20) = 19: the largest value
    assert mo.calibrate_threshold(S, 0.05, consecutive=1, start=0) == 19.0
    assert mo.calibrate_threshold(S, 0.5, consecutive=1, start=0) == 10.0
    with pytest.raises(ValueError, match="stable chains"):
        mo.calibrate_threshold(S, 0.01)


def test_run_alarm_probability_against_simulation_and_bound():
    rng = np.random.default_rng(18)
    q, m, T = 0.2, 2, 15
    exceed = rng.random((T, 200_000)) < q
    d = exceed.astype(float)
    mc = np.mean(mo.early_warning(d, 0.5, consecutive=m, start=0) >= 0)
    exact = tm.run_alarm_probability(q, m, T)
    assert abs(mc - exact) < 5 * np.sqrt(exact * (1 - exact) / 200_000)
    assert exact <= tm.run_alarm_bound(q, m, T)
    assert np.isclose(tm.run_alarm_probability(q, 1, T), 1 - (1 - q) ** T)
    assert np.isclose(tm.run_alarm_probability(tm.per_generation_level(0.05, 2, 30), 2, 30), 0.05)


# ------------------------------------------------------------------------------------------
# samples of recorded trajectories
# ------------------------------------------------------------------------------------------


def test_samples_per_generation_and_monitor_gaussian():
    g = cl.Gaussian1D()
    traj = cl.run_loop(g, g.params(0.0, 1.0), n=50, generations=4, replicates=3, seed=1)
    s = mo.samples_per_generation(g, traj, 20_000, rng=2)
    assert s.shape == (5, 3, 20_000)
    assert np.allclose(s.mean(axis=2), traj["mean"], atol=0.05)
    assert np.allclose(s.var(axis=2), traj["var"], rtol=0.05)
    # monitor_mmd equals mmd2 on the same draws
    y = np.random.default_rng(3).normal(size=(3, 30))
    got = mo.monitor_mmd(g, traj, y, 25, rng=4, bandwidth=0.7)
    rng = np.random.default_rng(4)
    want = [mo.mmd2(g.sample(mo.params_at(g, traj, i), 25, rng), y, 0.7) for i in range(5)]
    assert np.allclose(got, want)
    # default bandwidth: median heuristic of the real data
    rng = np.random.default_rng(4)
    h = mo.median_heuristic(y)
    want = [mo.mmd2(g.sample(mo.params_at(g, traj, i), 25, rng), y, h) for i in range(5)]
    assert np.allclose(mo.monitor_mmd(g, traj, y, 25, rng=4), want)
    cov = mo.monitor(g, traj, y, 25, rng=5, statistic=mo.tail_coverage, level=0.1)
    assert cov.shape == (5, 3) and np.all(cov >= 0)


def test_params_at_tempered_and_multivariate():
    tg = TemperedGaussian1D(tau=1.5)
    traj = cl.run_loop(tg, tg.params(0.0, 1.0), n=40, generations=2, replicates=2, seed=5)
    np.testing.assert_array_equal(mo.params_at(tg, traj, 1).var, traj["var"][1])
    s = mo.samples_per_generation(tg, traj, 40_000, rng=6)
    assert np.allclose(s[0].var(axis=1), 1.0, rtol=0.05)                    # the truth
    assert np.allclose(s[2].var(axis=1), 2.25 * traj["var"][2], rtol=0.05)  # tempered sampler
    gm = cl.GaussianMV()
    trm = cl.run_loop(gm, gm.params(np.zeros(2), np.eye(2)), n=30, generations=3, replicates=4,
                      seed=7, record_every=2)
    assert mo.samples_per_generation(gm, trm, 9, rng=8).shape == (3, 4, 9, 2)
    assert mo.monitor_mmd(gm, trm, np.zeros((1, 10, 2)) + np.arange(10)[:, None], 9,
                          rng=9).shape == (3, 4)


def test_params_at_refuses_unrecorded_models():
    g = cl.Gaussian1D()
    traj = cl.run_loop(g, g.params(0.0, 1.0), n=20, generations=2, replicates=2, seed=1,
                       record=False)
    with pytest.raises(ValueError, match="record"):
        mo.params_at(g, traj, 1)
    traj = cl.run_loop(g, g.params(0.0, 1.0), n=20, generations=2, replicates=2, seed=1)
    traj.records.pop("var")
    with pytest.raises(ValueError, match="var"):
        mo.samples_per_generation(g, traj, 5, rng=1)


# ------------------------------------------------------------------------------------------
# validation
# ------------------------------------------------------------------------------------------


def test_validation_errors():
    x, y = np.zeros((3, 5)) + np.arange(5), np.ones((3, 6)) + np.arange(6)
    with pytest.raises(ValueError, match="x must have"):
        mo.mmd2(np.arange(5.0), y)
    with pytest.raises(ValueError, match="same dimension"):
        mo.mmd2(np.zeros((3, 5, 2)), np.zeros((3, 5, 3)))
    with pytest.raises(ValueError, match="number of chains"):
        mo.mmd2(x, np.ones((2, 6)))
    with pytest.raises(ValueError, match="at least 2 samples"):
        mo.mmd2(x[:, :1], y)
    bad = x.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="x contains NaN"):
        mo.mmd2(bad, y)
    with pytest.raises(ValueError, match="y contains"):
        mo.mmd_test(x, np.full((3, 6), np.inf))
    with pytest.raises(ValueError, match="bandwidth"):
        mo.mmd2(x, y, bandwidth=0.0)
    with pytest.raises(ValueError, match="bandwidth"):
        mo.mmd2(x, y, bandwidth=-1.0)
    with pytest.raises(ValueError, match="bandwidth"):
        mo.mmd2(x, y, bandwidth=np.ones(4))
    with pytest.raises(ValueError, match="bandwidth"):
        mo.median_heuristic(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="permutations"):
        mo.mmd_test(x, y, permutations=0)
    with pytest.raises(ValueError, match="permutations"):
        mo.ks_test(x, y, permutations=0)
    with pytest.raises(ValueError, match="seed"):
        mo.mmd_test(x, y, rng="abc")
    with pytest.raises(ValueError, match="level"):
        mo.tail_coverage(x, y, level=0.5)
    with pytest.raises(ValueError, match="side"):
        mo.tail_coverage(x, y, side="left")
    with pytest.raises(ValueError, match="real"):
        mo.tail_coverage(x, np.ones((2, 6)))
    with pytest.raises(ValueError, match="labels"):
        mo.category_counts(np.array([[0, 5]]), 3)
    with pytest.raises(ValueError, match="integer"):
        mo.category_counts(np.array([[0.5, 1]]), 3)
    with pytest.raises(ValueError, match="window"):
        mo.contraction_estimate(np.ones((20, 2)), window=2)
    with pytest.raises(ValueError, match="window"):
        mo.contraction_estimate(np.ones((5, 2)), window=10)
    with pytest.raises(ValueError, match="d contains NaN"):
        mo.contraction_estimate(np.full((20, 2), np.nan))
    with pytest.raises(ValueError, match="consecutive"):
        mo.early_warning(np.ones((5, 2)), 0.5, consecutive=0)
    with pytest.raises(ValueError, match="threshold"):
        mo.early_warning(np.ones((5, 2)), np.ones(3))
    with pytest.raises(ValueError, match="divergences contains NaN"):
        mo.early_warning(np.full((5, 2), np.nan), 0.5)
    with pytest.raises(ValueError, match="false_alarm"):
        mo.calibrate_threshold(np.ones((5, 40)), 0.0)
    with pytest.raises(ValueError, match="false_alarm"):
        mo.calibrate_threshold(np.ones((5, 40)), 1.5)
    with pytest.raises(ValueError, match="consecutive"):
        mo.alarm_statistic(np.ones((3, 4)), consecutive=5)
    with pytest.raises(ValueError, match="bandwidth"):
        tm.mmd2_gaussians(Normal1DParams(np.zeros(1), np.ones(1)),
                          Normal1DParams(np.zeros(1), np.ones(1)), 0.0)
    with pytest.raises(ValueError, match="q"):
        tm.run_alarm_probability(1.5, 1, 3)
    with pytest.raises(ValueError, match="alarms"):
        mo.summarize_alarms(np.array([0.5, 1.0]))


# ------------------------------------------------------------------------------------------
# properties
# ------------------------------------------------------------------------------------------

_samples = st.integers(0, 10_000)


@settings(max_examples=20, deadline=None)
@given(seed=_samples, n=st.integers(2, 8), m=st.integers(2, 8), d=st.integers(1, 3),
       h=st.floats(0.1, 5.0))
def test_mmd2_symmetric(seed, n, m, d, h):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(3, n, d)), rng.normal(1.0, 2.0, size=(3, m, d))
    assert np.allclose(mo.mmd2(x, y, h), mo.mmd2(y, x, h))
    assert np.allclose(mo.mmd2(x, y), mo.mmd2(y, x))


@settings(max_examples=20, deadline=None)
@given(seed=_samples, n=st.integers(2, 8), m=st.integers(2, 8), B=st.integers(1, 30))
def test_pvalues_in_unit_interval(seed, n, m, B):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(4, n)), rng.normal(size=(4, m))
    for res in (mo.mmd_test(x, y, permutations=B, rng=seed), mo.ks_test(x, y),
                mo.ks_test(x, y, permutations=B, rng=seed)):
        assert np.all((res.pvalue >= 0) & (res.pvalue <= 1))
    p = mo.mmd_test(x, y, permutations=B, rng=seed).pvalue
    assert np.all(p >= 1 / (B + 1))
    assert np.allclose(mo.ks_statistic(x, y), mo.ks_statistic(y, x))


@settings(max_examples=20, deadline=None)
@given(seed=_samples, level=st.floats(0.01, 0.49))
def test_tail_coverage_nonnegative_and_bounded(seed, level):
    rng = np.random.default_rng(seed)
    cov = mo.tail_coverage(rng.normal(size=(3, 30)), rng.normal(size=(3, 40)), level)
    assert np.all(cov >= 0) and np.all(cov <= 1 / level + 1e-12)
