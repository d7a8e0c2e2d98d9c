"""Chapter 8: the contraction lemma, its converse, and the tempered Gaussian under mixing.

Theorem checks compare seeded simulations with the closed forms of
``collapselab.theory.contraction`` within a few Monte-Carlo standard errors.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import collapselab as cl
from collapselab.metrics import w2_squared
from collapselab.models.gaussian import Normal1DParams
from collapselab.models.tempered import Tempered, TemperedGaussian1D, stability_point
from collapselab.theory import contraction as ct
from collapselab.theory import gaussian as tg

Z = 5.0  # tolerance in Monte-Carlo standard errors


def _z(samples, expected, axis=1):
    """|sample mean - expected| in standard errors (samples: (T+1, R))."""
    mean = samples.mean(axis=axis)
    se = samples.std(axis=axis, ddof=1) / np.sqrt(samples.shape[axis])
    diff = np.abs(mean - expected)
    return np.where(se > 0, diff / np.where(se > 0, se, 1.0), np.where(diff < 1e-12, 0.0, np.inf))


# ------------------------------------------------------------------------------------------
# lem-08-contraction and lem-08-divergence: deterministic checks
# ------------------------------------------------------------------------------------------


def test_bound_matches_closed_form_and_equality_recursion():
    t = np.arange(30)
    b = ct.contraction_bound(3.0, 0.2, 0.7, t)
    np.testing.assert_allclose(b, 0.7**t * 3.0 + 0.2 * (1 - 0.7**t) / 0.3)
    np.testing.assert_allclose(ct.iterate_recursion(3.0, 0.2, 0.7, 29), b)
    assert ct.contraction_limit(0.2, 0.7) == pytest.approx(0.2 / 0.3)
    assert ct.contraction_bound(3.0, 0.2, 0.7, 0) == 3.0
    assert isinstance(ct.contraction_bound(3.0, 0.2, 0.7, 5), float)


def test_bound_at_and_past_one():
    t = np.arange(20)
    np.testing.assert_allclose(ct.contraction_bound(1.0, 0.5, 1.0, t), 1.0 + 0.5 * t)
    np.testing.assert_allclose(ct.contraction_bound(1.0, 0.5, 1.2, t),
                               1.2**t + 0.5 * (1.2**t - 1) / 0.2)
    assert ct.contraction_limit(0.5, 1.0) == np.inf
    assert ct.contraction_limit(0.0, 1.3) == 0.0
    # divergence: a sequence with d_t >= eps + kappa d_{t-1}, kappa >= 1, blows up
    d = ct.iterate_recursion(0.0, 0.1, 1.05, 200)
    assert d[-1] > 0.1 * 200 and np.all(np.diff(d) > 0)


def test_recursion_slack_and_varying_coefficients():
    d = ct.iterate_recursion(2.0, [0.1, 0.2, 0.3], [0.5, 0.6, 0.7], 3)
    np.testing.assert_allclose(d, [2.0, 1.1, 0.86, 0.902])
    np.testing.assert_allclose(ct.recursion_slack(d, [0.1, 0.2, 0.3], [0.5, 0.6, 0.7]), 0.0,
                               atol=1e-12)
    assert np.all(ct.recursion_slack(d, 0.3, 0.7) >= 0)


def test_geometric_sum_and_settling_time():
    assert ct.geometric_sum(0.5, 3) == pytest.approx(1.75)
    assert ct.geometric_sum(1.0, 4) == 4.0
    assert ct.settling_time(0.5, 0.25) == pytest.approx(2.0)
    assert ct.settling_time(1.0) == np.inf
    assert ct.contraction_factor(0.25, 2.0) == pytest.approx(1.5)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_sequences_obeying_the_recursion_stay_below_the_bound(seed):
    rng = np.random.default_rng(seed)
    for _ in range(50):
        eps, kappa, d0 = rng.uniform(0, 1), rng.uniform(0, 1.3), rng.uniform(0, 5)
        T = 40
        d = np.empty(T + 1)
        d[0] = d0
        for t in range(1, T + 1):  # any sequence with d_t <= eps + kappa d_{t-1}
            d[t] = rng.uniform(0, 1) * (eps + kappa * d[t - 1])
        bound = ct.contraction_bound(d0, eps, kappa, np.arange(T + 1))
        assert np.all(d <= bound * (1 + 1e-12) + 1e-12)
        # and the reverse inequality gives the lower bound
        up = np.empty(T + 1)
        up[0] = d0
        for t in range(1, T + 1):
            up[t] = (1 + rng.uniform(0, 1)) * (eps + kappa * up[t - 1])
        assert np.all(up >= bound * (1 - 1e-12) - 1e-12)


# ------------------------------------------------------------------------------------------
# hypothesis properties of the bound functions
# ------------------------------------------------------------------------------------------

reals = st.floats(0.0, 10.0, allow_nan=False)
factors = st.floats(0.0, 0.99, allow_nan=False)


@settings(max_examples=40, deadline=None)
@given(d0=reals, eps=reals, kappa=factors, t=st.integers(0, 200))
def test_property_bound_between_start_and_limit(d0, eps, kappa, t):
    b = ct.contraction_bound(d0, eps, kappa, t)
    lim = ct.contraction_limit(eps, kappa)
    assert b >= 0
    assert b <= max(d0, lim) * (1 + 1e-9) + 1e-12
    assert b >= min(d0, lim) * (1 - 1e-9) - 1e-12


@settings(max_examples=40, deadline=None)
@given(d0=reals, eps=reals, kappa=st.floats(0.0, 2.0), t=st.integers(0, 60),
       bump=st.floats(0.0, 1.0))
def test_property_bound_monotone_in_every_argument(d0, eps, kappa, t, bump):
    b = ct.contraction_bound(d0, eps, kappa, t)
    assert ct.contraction_bound(d0 + bump, eps, kappa, t) >= b - 1e-9 * (1 + b)
    assert ct.contraction_bound(d0, eps + bump, kappa, t) >= b - 1e-9 * (1 + b)
    assert ct.contraction_bound(d0, eps, kappa + bump, t) >= b - 1e-9 * (1 + b)


@settings(max_examples=30, deadline=None)
@given(d0=reals, eps=reals, kappa=st.floats(0.0, 1.5), T=st.integers(0, 50))
def test_property_equality_recursion_is_the_bound(d0, eps, kappa, T):
    d = ct.iterate_recursion(d0, eps, kappa, T)
    np.testing.assert_allclose(d, ct.contraction_bound(d0, eps, kappa, np.arange(T + 1)),
                               rtol=1e-9, atol=1e-9)


@settings(max_examples=30, deadline=None)
@given(alpha=st.floats(0.0, 1.0), tau=st.floats(0.05, 3.0), n=st.integers(2, 500),
       ddof=st.integers(0, 1))
def test_property_sensitivity_and_thresholds(alpha, tau, n, ddof):
    L = ct.variance_sensitivity(tau, n, ddof)
    assert L == pytest.approx(tau**2 * (n - 1) / (n - ddof))
    assert ct.contraction_factor(alpha, L) == pytest.approx((1 - alpha) * L)
    tc = ct.critical_tau(alpha, n, ddof)
    if alpha < 1:
        assert ct.contraction_factor(alpha, ct.variance_sensitivity(tc, n, ddof)) == pytest.approx(1.0)
        # the exact boundary is stricter by the factor 1 + (1-alpha)/((2-alpha)(n-1))
        te = ct.exact_critical_tau(alpha, n, ddof)
        if alpha > 1e-9:
            assert te**2 == pytest.approx(tc**2 / (1 + (1 - alpha) / ((2 - alpha) * (n - 1))))
    else:
        assert tc == np.inf
    ac = ct.critical_alpha(tau, n, ddof)
    assert 0.0 <= ac < 1.0
    assert ct.contraction_factor(ac, L) <= 1.0 + 1e-9


@settings(max_examples=25, deadline=None)
@given(alpha=st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.8, 1.0]), tau=st.floats(0.3, 1.8),
       gain=st.floats(-1.5, 1.5), bias=st.floats(-1, 1), ddof=st.integers(0, 1))
def test_property_moments_are_valid(alpha, tau, gain, bias, ddof):
    mom = ct.tempered_moments(alpha, tau, 20, 12, ddof, gain=gain, bias=bias, mu=0.3, sigma2=2.0)
    assert np.all(mom["var"] > 0) and np.all(mom["msd"] >= 0)
    # Var(m_t) = E m_t^2 - (E m_t)^2 >= 0
    m2 = mom["msd"] + 2 * 0.3 * mom["mean"] - 0.09
    assert np.all(m2 - mom["mean"] ** 2 >= -1e-9 * (1 + m2))


# ------------------------------------------------------------------------------------------
# thm-08-tempered: exact moments vs simulation, both samplers
# ------------------------------------------------------------------------------------------

CASES = [  # alpha, tau, ddof, gain, bias
    (0.3, 1.1, 1, 1.0, 0.0),
    (0.5, 0.8, 0, 1.0, 0.0),
    (0.2, 1.2, 0, 0.9, 0.3),
    (0.6, 1.4, 1, 1.1, -0.2),
]


@pytest.mark.parametrize("exact", [True, False])
@pytest.mark.parametrize("alpha,tau,ddof,gain,bias", CASES)
def test_tempered_moments_match_simulation(alpha, tau, ddof, gain, bias, exact):
    n, T = 20, 8
    R = 20000 if exact else 6000
    mu, sigma2 = 0.5, 2.0
    model = TemperedGaussian1D(tau=tau, gain=gain, bias=bias, ddof=ddof)
    traj = cl.run_loop(model, model.params(mu, sigma2), n=n, generations=T, replicates=R,
                       schedule=cl.mix(alpha), exact=exact, seed=11)
    th = ct.tempered_moments(alpha, tau, n, T, ddof, gain=gain, bias=bias, mu=mu, sigma2=sigma2)
    assert np.all(_z(traj["var"], th["var"])[1:] < Z)
    assert np.all(_z(traj["mean"], th["mean"])[1:] < Z)
    assert np.all(_z((traj["mean"] - mu) ** 2, th["msd"])[1:] < Z)


def test_between_group_term_is_needed():
    """Without the between-group term the prediction is off by many standard errors."""
    n, T, alpha, tau = 10, 6, 0.5, 1.0
    model = TemperedGaussian1D(tau=tau, bias=1.0)  # a biased sampler: large between-group term
    traj = cl.run_loop(model, model.params(0.0, 1.0), n=n, generations=T, replicates=40000,
                       schedule=cl.mix(alpha), exact=True, seed=3)
    th = ct.tempered_moments(alpha, tau, n, T, 0, bias=1.0)
    assert np.all(_z(traj["var"], th["var"])[1:] < Z)
    naive = np.empty(T + 1)
    naive[0] = 1.0
    for t in range(1, T + 1):
        naive[t] = (n - 1) / n * (alpha + (1 - alpha) * naive[t - 1])
    assert np.max(_z(traj["var"], naive)[2:]) > 20


def test_alpha_zero_reduces_to_chapter_2():
    t = np.arange(9)
    for ddof in (0, 1):
        mom = ct.tempered_moments(0.0, 1.0, 12, 8, ddof, sigma2=2.0)
        np.testing.assert_allclose(mom["var"], tg.expected_variance(2.0, 12, t, ddof))
        np.testing.assert_allclose(mom["msd"], tg.mean_squared_drift(2.0, 12, t, ddof))
    # a tempered sampler under replace: E v_t = sigma^2 c (c tau^2)^(t-1), t >= 1
    mom = ct.tempered_moments(0.0, 1.3, 12, 8, 0, sigma2=2.0)
    c = 11 / 12
    np.testing.assert_allclose(mom["var"][1:], 2.0 * c * (c * 1.3**2) ** (t[1:] - 1))


def test_alpha_one_reduces_to_all_real_and_ignores_the_sampler():
    mom = ct.tempered_moments(1.0, 1.7, 15, 6, 0, gain=0.3, bias=2.0, mu=1.0, sigma2=2.0)
    np.testing.assert_allclose(mom["var"][1:], 2.0 * 14 / 15)
    np.testing.assert_allclose(mom["msd"][1:], 2.0 / 15)
    np.testing.assert_allclose(mom["mean"][1:], 1.0)
    model = TemperedGaussian1D(tau=1.7, gain=0.3, bias=2.0)
    a = cl.run_loop(model, model.params(1.0, 2.0), n=15, generations=5, replicates=50,
                    schedule=cl.mix(1.0), exact=True, seed=4)
    b = cl.run_loop(model, model.params(1.0, 2.0), n=15, generations=5, replicates=50,
                    schedule=cl.all_real(), exact=True, seed=4)
    np.testing.assert_array_equal(a["var"], b["var"])


def test_untempered_model_is_exactly_gaussian1d():
    """tau = 1, g = 1, b = 0 reproduces Gaussian1D draw for draw, under every schedule."""
    for schedule in (cl.replace(), cl.accumulate(), cl.mix(0.3), cl.inject(3), cl.all_real()):
        for exact in (True, False):
            kw = dict(n=12, generations=6, replicates=30, schedule=schedule, exact=exact, seed=5)
            a = cl.run_loop(TemperedGaussian1D(), TemperedGaussian1D().params(0.0, 1.0), **kw)
            b = cl.run_loop(cl.Gaussian1D(), cl.Gaussian1D().params(0.0, 1.0), **kw)
            np.testing.assert_allclose(a["var"], b["var"], rtol=1e-12)
            np.testing.assert_allclose(a["mean"], b["mean"], rtol=1e-12, atol=1e-15)


def test_truth_samples_untempered_and_fits_are_tempered():
    model = TemperedGaussian1D(tau=3.0, gain=2.0, bias=1.0)
    assert isinstance(model.synthetic, Tempered)
    truth = model.params(0.5, 2.0, replicates=4)
    rng = np.random.default_rng(0)
    # the model's own sampler (used for the truth) is the plain Gaussian's; fitted models
    # generate through the tempered sampler
    x = model.sample(model.params(0.5, 2.0, replicates=20000), 2, rng)
    assert x.mean() == pytest.approx(0.5, abs=0.05) and x.var() == pytest.approx(2.0, rel=0.05)
    fitted = model.fit(model.stats(model.sample(truth, 50, rng)))
    sp = model.sampler_params(fitted)
    np.testing.assert_allclose(sp.var, 9.0 * fitted.var)
    np.testing.assert_allclose(sp.mean, 2.0 * fitted.mean + 1.0)
    assert w2_squared(fitted, truth).shape == (4,)
    assert model.sensitivity(10) == {"mean": 2.0, "var": pytest.approx(9.0 * 9 / 10)}
    # in the loop, generation 1 (model 0's samples: the truth) is untempered
    tr = cl.run_loop(model, model.params(0.0, 1.0), n=20, generations=1, replicates=4000,
                     exact=True, seed=3)
    assert tr["var"][1].mean() == pytest.approx(19 / 20, abs=Z * np.sqrt(2 / 19) / np.sqrt(4000))


def test_tempered_sampler_on_the_plain_model_is_the_same_run():
    kw = dict(n=12, generations=6, replicates=30, schedule=cl.mix(0.25), seed=4)
    for exact in (True, False):
        a = cl.run_loop(TemperedGaussian1D(tau=1.4, gain=0.9, bias=0.2), Normal1DParams(
            np.zeros(1), np.ones(1)), exact=exact, **kw)
        b = cl.run_loop(cl.Gaussian1D(), Normal1DParams(np.zeros(1), np.ones(1)), exact=exact,
                        synthetic=Tempered(tau=1.4, gain=0.9, bias=0.2), **kw)
        np.testing.assert_array_equal(a["var"], b["var"])
        np.testing.assert_array_equal(a["mean"], b["mean"])


@pytest.mark.parametrize("schedule", [cl.accumulate(), cl.inject(2, alpha=0.2),
                                      cl.mix(0.4, fresh_real=False), cl.accumulate_mix(0.3)])
def test_runs_under_every_schedule(schedule):
    model = TemperedGaussian1D(tau=1.2, ddof=1)
    traj = cl.run_loop(model, model.params(0.0, 1.0), n=10, generations=5, replicates=20,
                       schedule=schedule, exact=True, seed=0,
                       metrics={"w2": cl.metrics.w2_to_truth})
    assert traj["w2"].shape == (6, 20) and np.all(np.isfinite(traj["var"]))


def test_sampler_and_exact_path_agree_in_distribution():
    model = TemperedGaussian1D(tau=1.3, gain=0.8, bias=0.1)
    fitted = Normal1DParams(np.array([0.2] * 20000), np.array([1.5] * 20000))
    rng = np.random.default_rng(1)
    a = model.synthetic.draw_stats(model, fitted, 15, rng, exact=True)
    b = model.stats(model.synthetic.draw_points(model, fitted, 15, rng))
    for x, y in ((a.mean, b.mean), (a.m2, b.m2)):
        se = np.sqrt(x.var() / x.size + y.var() / y.size)
        assert abs(x.mean() - y.mean()) < Z * se
    assert a.mean.mean() == pytest.approx(0.8 * 0.2 + 0.1, abs=0.01)
    assert a.m2.mean() == pytest.approx(14 * 1.69 * 1.5, rel=0.01)


# ------------------------------------------------------------------------------------------
# thm-08-threshold
# ------------------------------------------------------------------------------------------


def test_bounded_below_the_threshold():
    n, alpha = 40, 0.25
    tau = 0.93 * ct.exact_critical_tau(alpha, n, 1)
    model = TemperedGaussian1D(tau=tau, ddof=1)
    T = 80
    traj = cl.run_loop(model, model.params(0.0, 1.0), n=n, generations=T, replicates=4000,
                       schedule=cl.mix(alpha), exact=True, seed=8)
    th = ct.tempered_moments(alpha, tau, n, T, 1)
    assert ct.tempered_growth_rate(alpha, tau, n, 1) < 1
    # the exact moments converge to the fixed point of the affine map
    A, c = ct.tempered_moment_matrix(alpha, tau, n, 1)
    fixed = np.linalg.solve(np.eye(3) - A, c)
    assert th["var"][-1] == pytest.approx(fixed[2], rel=1e-3)
    assert fixed[2] >= (n - 1) / (n - 1) * alpha / (1 - ct.variance_kappa(alpha, tau, n, 1))
    assert np.all(_z(traj["var"][-10:], th["var"][-10:]) < Z)


@pytest.mark.parametrize("ddof", [0, 1])
def test_geometric_growth_past_the_threshold(ddof):
    n, alpha, T, k = 50, 0.2, 40, 15
    tau = 1.15 * ct.critical_tau(alpha, n, ddof)
    kappa = ct.variance_kappa(alpha, tau, n, ddof)
    rho = ct.tempered_growth_rate(alpha, tau, n, ddof)
    assert kappa > 1 and rho > kappa and rho < kappa * (1 + 2.0 / n)
    th = ct.tempered_moments(alpha, tau, n, T, ddof)
    assert th["var"][-1] / th["var"][-1 - k] == pytest.approx(rho**k, rel=1e-3)
    # lem-08-divergence: E v_t >= kappa^(t-1) E v_1
    assert np.all(th["var"][1:] >= kappa ** np.arange(T) * th["var"][1] * (1 - 1e-12))
    model = TemperedGaussian1D(tau=tau, ddof=ddof)
    traj = cl.run_loop(model, model.params(0.0, 1.0), n=n, generations=T, replicates=20000,
                       schedule=cl.mix(alpha), exact=True, seed=21)
    v = traj["var"]
    assert np.all(_z(v, th["var"])[1:] < Z)
    # simulated growth factor over the last k generations: delta method on the ratio of means
    r = v[-1].mean() / v[-1 - k].mean()
    x, y = v[-1] / v[-1].mean(), v[-1 - k] / v[-1 - k].mean()
    se = r * np.sqrt(np.var(x - y) / v.shape[1])
    assert abs(r - rho**k) < Z * se


def test_exact_boundary_is_where_the_growth_rate_is_one():
    for alpha in (0.1, 0.4, 0.7):
        n = 50
        te = ct.exact_critical_tau(alpha, n, 0)
        # use a batch size where alpha n is an integer so the realised fraction equals alpha
        assert ct.tempered_growth_rate(alpha, te, n, 0) == pytest.approx(1.0, abs=1e-9)
        assert ct.tempered_growth_rate(alpha, te * 0.99, n, 0) < 1 < ct.tempered_growth_rate(alpha, te * 1.01, n, 0)
    assert ct.exact_critical_tau(0.0, 50) == 0.0
    assert ct.exact_critical_tau(1.0, 50) == np.inf


def test_variance_error_terms_reassemble_the_moments():
    alpha, tau, n, T = 0.4, 1.2, 30, 100
    kappa, beta = ct.variance_error_terms(alpha, tau, n, T, 0, sigma2=1.0)
    mom = ct.tempered_moments(alpha, tau, n, T, 0)
    d = mom["var"] - 1.0
    kap_t = np.full(T, kappa)
    kap_t[0] = kappa / tau**2
    np.testing.assert_allclose(d[1:], kap_t * d[:-1] + beta, atol=1e-12)
    # tau > 1: after the untempered first step, a systematic error of fixed sign
    assert beta[0] == pytest.approx(-1.0 / n) and np.all(beta[1:] > 0)
    lim = ct.contraction_limit(beta[-1], kappa)
    assert d[-1] == pytest.approx(lim, rel=1e-2)
    eps = ct.mean_noise_terms(alpha, tau, n, T)
    s = 1 - ct.realised_fraction(n, alpha)
    np.testing.assert_allclose(mom["msd"][1:], s**2 * mom["msd"][:-1] + eps**2, atol=1e-12)
    assert np.all(np.sqrt(mom["msd"][1:]) <= eps + s * np.sqrt(mom["msd"][:-1]) + 1e-12)


def test_estimate_contraction_recovers_kappa():
    rng = np.random.default_rng(0)
    T, R = 300, 200
    d = np.empty((T + 1, R))
    d[0] = 1.0
    for t in range(1, T + 1):  # d_t = (eps + kappa d_{t-1}) * noise with mean one
        d[t] = (0.3 + 0.7 * d[t - 1]) * rng.gamma(50, 1 / 50, R)
    for method in ("relative", "ols"):
        k, e = ct.estimate_contraction(d, method=method)
        assert k.shape == (R,)
        assert np.median(k) == pytest.approx(0.7, abs=0.03)
        assert np.median(e) == pytest.approx(0.3, abs=0.1)
    k1, _ = ct.estimate_contraction(d[:, 0])
    assert np.ndim(k1) == 0


def test_stability_point_is_a_sweep_function():
    out = stability_point(0.3, 1.3, n=20, generations=10, replicates=50, seed=0)
    assert set(out) == {"final_var", "median_var", "final_msd", "growth", "kappa"}
    assert all(isinstance(v, float) for v in out.values())
    res = cl.run_sweep(stability_point, {"alpha": [0.2, 0.6], "tau": [0.9, 1.4]}, seed=1,
                       executor="serial", progress=False,
                       fixed=dict(n=20, generations=10, replicates=50))
    again = cl.run_sweep(stability_point, {"alpha": [0.2, 0.6], "tau": [0.9, 1.4]}, seed=1,
                         executor="serial", progress=False,
                         fixed=dict(n=20, generations=10, replicates=50))
    np.testing.assert_array_equal(res.array("final_var"), again.array("final_var"))
    g = res.array("growth")
    assert g[0, 1] > g[1, 1]  # alpha = 0.2, tau = 1.4 explodes; alpha = 0.6 does not


# ------------------------------------------------------------------------------------------
# validation
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("tau", [0.0, -1.0, float("nan"), float("inf"), "1"])
def test_model_rejects_bad_tau(tau):
    with pytest.raises(ValueError, match="tau"):
        TemperedGaussian1D(tau=tau)


@pytest.mark.parametrize("kw,name", [({"gain": float("nan")}, "gain"), ({"bias": float("inf")}, "bias"),
                                     ({"ddof": 2}, "ddof")])
def test_model_rejects_bad_knobs(kw, name):
    with pytest.raises(ValueError, match=name):
        TemperedGaussian1D(**kw)


def test_model_rejects_bad_params():
    model = TemperedGaussian1D()
    with pytest.raises(ValueError, match="var"):
        model.params(0.0, -1.0)
    with pytest.raises(ValueError, match="mean"):
        model.params(float("nan"), 1.0)
    with pytest.raises(ValueError, match="replicates"):
        model.broadcast(model.params(0.0, 1.0, replicates=2), 3)


@pytest.mark.parametrize("func", [
    lambda a: ct.contraction_factor(a, 1.0),
    lambda a: ct.variance_kappa(a, 1.0, 10),
    lambda a: ct.tempered_moments(a, 1.0, 10, 3),
    lambda a: ct.critical_tau(a, 10),
    lambda a: ct.exact_critical_tau(a, 10),
    lambda a: ct.tempered_growth_rate(a, 1.0, 10),
    lambda a: stability_point(a, 1.0, generations=2, replicates=2),
])
@pytest.mark.parametrize("alpha", [-0.1, 1.5, float("nan")])
def test_alpha_outside_unit_interval_is_rejected(func, alpha):
    with pytest.raises(ValueError, match="alpha"):
        func(alpha)


@pytest.mark.parametrize("func", [
    lambda x: ct.variance_sensitivity(x, 10),
    lambda x: ct.tempered_moments(0.5, x, 10, 3),
    lambda x: ct.critical_alpha(x, 10),
    lambda x: ct.variance_kappa(0.5, x, 10),
])
@pytest.mark.parametrize("tau", [0.0, -2.0, float("nan")])
def test_nonpositive_or_nan_tau_is_rejected(func, tau):
    with pytest.raises(ValueError, match="tau"):
        func(tau)


def test_bound_functions_validate():
    with pytest.raises(ValueError, match="kappa"):
        ct.contraction_bound(1.0, 0.1, -0.5, 3)
    with pytest.raises(ValueError, match="eps"):
        ct.contraction_bound(1.0, float("nan"), 0.5, 3)
    with pytest.raises(ValueError, match="d0"):
        ct.contraction_bound(-1.0, 0.1, 0.5, 3)
    with pytest.raises(ValueError, match="t must be"):
        ct.contraction_bound(1.0, 0.1, 0.5, -1)
    with pytest.raises(ValueError, match="t must be"):
        ct.contraction_bound(1.0, 0.1, 0.5, 1.5)
    with pytest.raises(ValueError, match="L"):
        ct.contraction_factor(0.5, -1.0)
    with pytest.raises(ValueError, match="generations"):
        ct.iterate_recursion(1.0, 0.1, 0.5, -1)
    with pytest.raises(ValueError, match="eps"):
        ct.iterate_recursion(1.0, [0.1, np.nan], 0.5, 2)
    with pytest.raises(ValueError, match="d"):
        ct.recursion_slack([1.0], 0.1, 0.5)
    with pytest.raises(ValueError, match="n"):
        ct.tempered_moments(0.5, 1.0, 1, 3)
    with pytest.raises(ValueError, match="sigma2"):
        ct.tempered_moments(0.5, 1.0, 10, 3, sigma2=0.0)
    with pytest.raises(ValueError, match="factor"):
        ct.settling_time(0.5, 0.0)


def test_estimate_contraction_validates():
    with pytest.raises(ValueError, match="generations"):
        ct.estimate_contraction([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="vary"):
        ct.estimate_contraction(np.ones(10), method="ols")
    with pytest.raises(ValueError, match="positive"):
        ct.estimate_contraction([1.0, 0.0, 2.0, 3.0, 1.0])
    with pytest.raises(ValueError, match="method"):
        ct.estimate_contraction(np.arange(1.0, 10.0), method="magic")
    with pytest.raises(ValueError, match="d contains NaN"):
        ct.estimate_contraction([1.0, np.nan, 2.0, 3.0, 4.0])
