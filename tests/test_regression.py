"""Chapter 4: linear regression in the loop.

Each closed form of :mod:`collapselab.theory.regression` is compared with simulation through
:func:`collapselab.run_loop`, for several (d, T), both samplers and both schedules; the two
samplers are shown to agree in distribution; inputs are validated; hypothesis checks that the
sufficient statistics add over training sets.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

import collapselab as cl
from collapselab.models.regression import (LinearRegression, RegressionStats,
                                           coef_norm, excess_risk)
from collapselab.theory import regression as th

TOL = 5.0  # standard errors


def _cov(d, seed=0):
    """A fixed, well-conditioned, non-diagonal covariance."""
    a = np.random.default_rng(seed).standard_normal((d, d))
    return a @ a.T / d + 0.5 * np.eye(d)


def _within(values, expected, tol=TOL):
    """Mean of ``values`` (R,) within tol standard errors of ``expected``."""
    values = np.asarray(values, dtype=float)
    se = values.std(ddof=1) / np.sqrt(values.size)
    assert abs(values.mean() - expected) <= tol * se + 1e-12, (values.mean(), expected, se)


def _run(model, truth, T, generations, replicates, schedule, exact, seed):
    return cl.run_loop(model, truth, n=T, generations=generations, replicates=replicates,
                       schedule=schedule, exact=exact, seed=seed, metrics=model.metrics())


# ---------------------------------------------------------------------------------------------
# closed forms vs simulation, fresh design
# ---------------------------------------------------------------------------------------------
CASES = [(2, 12, 0.5), (5, 25, 1.0), (10, 40, 2.0)]  # (d, T, sigma^2), T >= d + 10: light tails


@pytest.mark.parametrize("exact", [True, False], ids=["exact", "data"])
@pytest.mark.parametrize("d,T,sigma2", CASES)
def test_replace_risk_grows_linearly(d, T, sigma2, exact):
    """thm-04-replace: E|w_t - w*|^2_Sigma = t sigma^2 d / (T - d - 1), any Sigma and w*."""
    model = LinearRegression(d, noise_var=sigma2, cov=_cov(d))
    truth = model.params(np.linspace(-1, 2, d), sigma2)
    tr = _run(model, truth, T, 6, 8000, cl.replace(), exact, seed=11 + d)
    risk = tr["excess_risk"]
    assert np.all(risk[0] == 0)
    for t in (1, 3, 6):
        _within(risk[t], th.replace_risk(sigma2, d, T, t))


@pytest.mark.parametrize("exact", [True, False], ids=["exact", "data"])
@pytest.mark.parametrize("d,T,sigma2", CASES)
def test_accumulate_risk_series(d, T, sigma2, exact):
    """thm-04-accumulate: E|w_t - w*|^2_Sigma = sigma^2 d sum_k 1/(k (k T - d - 1))."""
    model = LinearRegression(d, noise_var=sigma2, cov=_cov(d, 1))
    truth = model.params(np.linspace(1, -1, d), sigma2)
    tr = _run(model, truth, T, 6, 8000, cl.accumulate(), exact, seed=23 + d)
    risk = tr["excess_risk"]
    for t in (1, 2, 6):
        _within(risk[t], th.accumulate_risk(sigma2, d, T, t))
    # bounded by the Basel multiple of one generation's risk
    assert th.accumulate_risk(sigma2, d, T, 6) < th.BASEL * th.ols_risk(sigma2, d, T)


def test_accumulate_increment_terms():
    """The pooled Gram S_k ~ Wishart(k T, Sigma): E tr(Sigma S_k^-1 A_k S_k^-1) = d/(k(kT-d-1))."""
    d, T, R = 4, 14, 20000
    rng = np.random.default_rng(5)
    S = np.zeros((R, d, d))
    for k in range(1, 5):
        X = rng.standard_normal((R, T, d))
        A = np.einsum("rni,rnj->rij", X, X)
        S = S + A
        inv = np.linalg.inv(S)
        vals = np.einsum("rij,rjk,rki->r", inv, A, inv)
        _within(vals, th.accumulate_terms(d, T, k)[-1])


# ---------------------------------------------------------------------------------------------
# fixed design (the setting of Gerstgrasser et al.)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("exact", [True, False], ids=["exact", "data"])
@pytest.mark.parametrize("schedule", ["replace", "accumulate"])
@pytest.mark.parametrize("d,T", [(3, 8), (6, 30)])
def test_fixed_design_conditional_risk(d, T, schedule, exact):
    """Given one design X re-used by every generation: replace t sigma^2 tr(Sigma G^-1),
    accumulate sigma^2 tr(Sigma G^-1) sum_{k<=t} 1/k^2 (G = X^T X)."""
    X = np.random.default_rng(d).standard_normal((T, d))
    cov = _cov(d, 2)
    model = LinearRegression(d, noise_var=1.5, cov=cov, fixed_design=X)
    truth = model.params(np.ones(d), 1.5)
    tr = _run(model, truth, T, 5, 3000, cl.schedules.get(schedule), exact, seed=7 + T)
    base = th.ols_risk_fixed(1.5, X, cov)
    for t in (1, 5):
        mult = t if schedule == "replace" else np.sum(1.0 / np.arange(1, t + 1) ** 2)
        _within(tr["excess_risk"][t], mult * base)


def test_fixed_design_gaussian_average():
    """Averaged over one Gaussian design per chain: sigma^2 d/(T-d-1) sum 1/k^2 (accumulate),
    t sigma^2 d/(T-d-1) (replace)."""
    d, T, R = 4, 20, 4000
    X = np.random.default_rng(3).standard_normal((R, T, d))
    model = LinearRegression(d, noise_var=1.0, fixed_design=X)
    truth = model.params(np.zeros(d))
    acc = _run(model, truth, T, 4, R, cl.accumulate(), True, seed=1)
    rep = _run(model, truth, T, 4, R, cl.replace(), True, seed=2)
    _within(acc["excess_risk"][4], th.accumulate_risk_fixed(1.0, d, T, 4))
    _within(rep["excess_risk"][4], th.replace_risk(1.0, d, T, 4))


def test_fixed_design_replace_is_gaussian():
    """Fixed design, replace: w_t - w* ~ N(0, t sigma^2 G^-1) exactly (a Gaussian random walk)."""
    d, T, t = 2, 6, 4
    X = np.random.default_rng(9).standard_normal((T, d))
    model = LinearRegression(d, noise_var=1.0, fixed_design=X)
    truth = model.params(np.zeros(d))
    tr = _run(model, truth, T, t, 4000, cl.replace(), True, seed=4)
    e = tr["coef"][t]
    L = np.linalg.cholesky(np.linalg.inv(X.T @ X) * t)
    z = np.linalg.solve(L, e.T).T
    for j in range(d):
        assert sps.kstest(z[:, j], "norm").pvalue > 1e-3


# ---------------------------------------------------------------------------------------------
# estimated noise, ridge, mixing
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("exact", [True, False], ids=["exact", "data"])
def test_estimated_noise_is_a_martingale(exact):
    """estimate_noise=True, replace: E sigma_t^2 = sigma^2 and the risk is still t eps_1."""
    d, T, R = 3, 15, 4000
    model = LinearRegression(d, estimate_noise=True)
    truth = model.params(np.ones(d), 2.0)
    tr = _run(model, truth, T, 5, R, cl.replace(), exact, seed=31)
    for t in (1, 5):
        _within(tr["noise_var"][t], 2.0)
        _within(tr["excess_risk"][t], th.replace_risk(2.0, d, T, t))


def test_ridge_fit_matches_closed_form():
    d, n, R = 4, 9, 5
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((R, n, d)), rng.standard_normal((R, n))
    for lam in (0.0, 0.3):
        got = LinearRegression(d, ridge=lam).fit(LinearRegression(d).stats((X, y))).coef
        for r in range(R):
            want = np.linalg.solve(X[r].T @ X[r] + lam * n * np.eye(d), X[r].T @ y[r])
            np.testing.assert_allclose(got[r], want, rtol=1e-10, atol=1e-12)
    # ridge allows n < d: then the fit is the minimum-penalty solution in the row space
    Xs, ys = rng.standard_normal((R, 3, 6)), rng.standard_normal((R, 3))
    coef = LinearRegression(6, ridge=0.1).fit(LinearRegression(6).stats((Xs, ys))).coef
    np.testing.assert_allclose(coef[0], Xs[0].T @ np.linalg.solve(Xs[0] @ Xs[0].T + 0.3 * np.eye(3), ys[0]))


def test_estimated_noise_fit_is_rss_over_n_minus_d():
    d, n = 3, 10
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((2, n, d)), rng.standard_normal((2, n))
    p = LinearRegression(d, estimate_noise=True).fit(LinearRegression(d).stats((X, y)))
    for r in range(2):
        coef, rss, *_ = np.linalg.lstsq(X[r], y[r], rcond=None)
        np.testing.assert_allclose(p.coef[r], coef, rtol=1e-10)
        np.testing.assert_allclose(p.noise_var[r], rss[0] / (n - d), rtol=1e-8)


def test_noise_free_chain_stays_at_the_truth():
    model = LinearRegression(3, noise_var=0.0)
    truth = model.params([1.0, -2.0, 0.5], 0.0)
    for schedule in (cl.replace(), cl.accumulate(), cl.mix(0.5)):
        tr = _run(model, truth, 5, 4, 10, schedule, True, seed=0)
        assert np.max(tr["excess_risk"]) < 1e-18


def test_mix_contracts_to_a_bounded_risk():
    """With a real fraction alpha the risk obeys E_t = c E_{t-1} + eps_1 (exercise ex-04-4);
    its limit eps_1 / (1 - c) is finite and below eps_1 / alpha for large T."""
    d, T, R, alpha = 3, 40, 3000, 0.5
    model = LinearRegression(d)
    truth = model.params(np.ones(d))
    tr = _run(model, truth, T, 12, R, cl.mix(alpha), True, seed=5)
    eps1 = th.ols_risk(1.0, d, T)
    late = tr["excess_risk"][8:].mean(axis=0)
    assert late.mean() < eps1 / alpha
    assert late.mean() > eps1


# ---------------------------------------------------------------------------------------------
# the two samplers agree in distribution
# ---------------------------------------------------------------------------------------------
def _summaries(s: RegressionStats):
    return {"xtx00": s.xtx[:, 0, 0], "xtx01": s.xtx[:, 0, 1], "xty0": s.xty[:, 0],
            "xty1": s.xty[:, 1], "yty": s.yty}


@pytest.mark.parametrize("fixed", [False, True], ids=["fresh", "fixed"])
@pytest.mark.parametrize("n", [3, 12])
def test_samplers_agree_in_distribution(n, fixed):
    d, R = 3, 6000
    design = np.random.default_rng(2).standard_normal((n, d)) if fixed else None
    model = LinearRegression(d, cov=_cov(d, 4), fixed_design=design)
    params = model.params([0.5, -1.0, 2.0], 0.7, replicates=R)
    a = model.sample_stats(params, n, np.random.default_rng(10), exact=True)
    b = model.sample_stats(params, n, np.random.default_rng(11), exact=False)
    assert a.count == b.count == n
    for key, va in _summaries(a).items():
        vb = _summaries(b)[key]
        if np.ptp(va) == 0:  # fixed design: X^T X is the same in both
            np.testing.assert_allclose(va, vb)
            continue
        assert sps.ks_2samp(va, vb).pvalue > 1e-3, key
    # the fits agree as well
    ra = excess_risk(LinearRegression(d).fit(a), params, model.cov)
    rb = excess_risk(LinearRegression(d).fit(b), params, model.cov)
    assert sps.ks_2samp(ra, rb).pvalue > 1e-3


@pytest.mark.parametrize("exact", [True, False], ids=["exact", "data"])
def test_sampled_statistics_have_the_right_moments(exact):
    """E X^T X = n Sigma, E X^T y = n Sigma w, E y^T y = n (w^T Sigma w + sigma^2)."""
    d, n, R = 3, 7, 8000
    cov = _cov(d, 6)
    model = LinearRegression(d, cov=cov)
    w = np.array([1.0, 0.0, -1.0])
    s = model.sample_stats(model.params(w, 0.5, replicates=R), n, np.random.default_rng(8), exact=exact)
    for i in range(d):
        _within(s.xty[:, i], n * (cov @ w)[i])
        for j in range(d):
            _within(s.xtx[:, i, j], n * cov[i, j])
    _within(s.yty, n * (w @ cov @ w + 0.5))
    assert np.allclose(s.xtx, np.swapaxes(s.xtx, -1, -2))


def test_exact_sampler_cost_is_independent_of_n():
    model = LinearRegression(4, cov=_cov(4, 7))
    p = model.params(np.ones(4), 1.0, replicates=50)
    s = model.sample_stats(p, 10**12, np.random.default_rng(0), exact=True)
    np.testing.assert_allclose(s.xtx.mean(0) / 1e12, model.cov, atol=1e-4)
    np.testing.assert_allclose(model.fit(s).coef, 1.0, atol=1e-4)


def test_exact_sampler_falls_back_below_d():
    model = LinearRegression(5, ridge=0.5)
    p = model.params(np.ones(5), replicates=4)
    s = model.sample_stats(p, 3, np.random.default_rng(0), exact=True)
    assert s.count == 3 and np.linalg.matrix_rank(s.xtx[0]) == 3


def test_seeded_runs_are_reproducible():
    model = LinearRegression(3)
    truth = model.params(np.ones(3))
    a = _run(model, truth, 10, 3, 20, cl.accumulate(), True, seed=42)
    b = _run(model, truth, 10, 3, 20, cl.accumulate(), True, seed=42)
    np.testing.assert_array_equal(a["coef"], b["coef"])


# ---------------------------------------------------------------------------------------------
# the theory module
# ---------------------------------------------------------------------------------------------
def test_theory_identities():
    t = np.arange(0, 50)
    for d, T in [(1, 3), (5, 20), (20, 22), (3, 1000)]:
        eps = th.ols_risk(2.0, d, T)
        assert th.ols_risk(2.0, d, T) == pytest.approx(2.0 * d / (T - d - 1))
        np.testing.assert_allclose(th.replace_risk(2.0, d, T, t), t * eps)
        acc = th.accumulate_risk(2.0, d, T, t)
        fixed = th.accumulate_risk_fixed(2.0, d, T, t)
        assert acc[0] == 0 and acc[1] == pytest.approx(eps)
        assert np.all(np.diff(acc) > 0)
        assert np.all(acc <= fixed + 1e-15)                # fresh designs accumulate less
        assert np.all(fixed < th.BASEL * eps)
        assert th.accumulate_limit(2.0, d, T) == pytest.approx(
            2.0 * np.sum(th.accumulate_terms(d, T, 10**6)), rel=1e-5)
        assert acc[-1] < th.accumulate_limit(2.0, d, T) < th.BASEL * eps
    # the ratio approaches pi^2/6 when T >> d and 1 when T = d + 2 >> 1
    assert th.accumulate_limit(1.0, 1, 10**7) / th.ols_risk(1.0, 1, 10**7) == pytest.approx(th.BASEL, rel=1e-5)
    assert th.accumulate_limit(1.0, 1000, 1002) / th.ols_risk(1.0, 1000, 1002) < 1.001
    assert th.accumulate_ratio(5, 20, 3) == pytest.approx(th.accumulate_risk(1.0, 5, 20, 3) / th.ols_risk(1.0, 5, 20))


def test_ols_risk_fixed_matches_trace():
    X = np.random.default_rng(0).standard_normal((3, 10, 4))
    cov = _cov(4)
    got = th.ols_risk_fixed(0.5, X, cov)
    want = [0.5 * np.trace(cov @ np.linalg.inv(x.T @ x)) for x in X]
    np.testing.assert_allclose(got, want)
    assert isinstance(th.ols_risk_fixed(0.5, X[0]), float)


# ---------------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,param", [
    (dict(dim=0), "dim"),
    (dict(dim=2.5), "dim"),
    (dict(dim=2, noise_var=-1.0), "noise_var"),
    (dict(dim=2, noise_var=float("nan")), "noise_var"),
    (dict(dim=2, cov=np.eye(3)), "cov"),
    (dict(dim=2, cov=[[1.0, 2.0], [2.0, 1.0]]), "cov"),
    (dict(dim=2, cov=[[1.0, 0.5], [0.0, 1.0]]), "cov"),
    (dict(dim=2, cov=[[np.nan, 0.0], [0.0, 1.0]]), "cov"),
    (dict(dim=2, cov=-1.0), "cov"),
    (dict(dim=2, ridge=-0.1), "ridge"),
    (dict(dim=2, ridge=float("inf")), "ridge"),
    (dict(dim=2, estimate_noise="yes"), "estimate_noise"),
    (dict(dim=2, fixed_design=np.ones((5, 3))), "fixed_design"),
    (dict(dim=2, fixed_design=np.ones((1, 2))), "fixed_design"),
    (dict(dim=2, fixed_design=np.ones((5, 2))), "fixed_design"),
    (dict(dim=2, fixed_design=np.full((5, 2), np.nan)), "fixed_design"),
])
def test_constructor_validation(kwargs, param):
    with pytest.raises(ValueError, match=param):
        LinearRegression(**kwargs)


def test_params_and_data_validation():
    m = LinearRegression(2)
    with pytest.raises(ValueError, match="coef"):
        m.params([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="coef"):
        m.params([np.nan, 1.0])
    with pytest.raises(ValueError, match="noise_var"):
        m.params([1.0, 2.0], -0.5)
    with pytest.raises(ValueError, match="replicates"):
        m.params([1.0, 2.0], replicates=0)
    with pytest.raises(ValueError, match="replicates"):
        m.params(np.ones((3, 2)), replicates=2)
    with pytest.raises(ValueError, match="replicates"):
        m.broadcast(m.params([1.0, 2.0], replicates=3), 2)
    with pytest.raises(ValueError, match="params"):
        m.sample((np.ones(2), 1.0), 5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="X"):
        m.stats((np.ones((2, 5)), np.ones((2, 5))))
    with pytest.raises(ValueError, match="X"):
        m.stats((np.ones((2, 5, 3)), np.ones((2, 5))))
    with pytest.raises(ValueError, match="y"):
        m.stats((np.ones((2, 5, 2)), np.ones((2, 4))))
    with pytest.raises(ValueError, match="y"):
        m.stats((np.ones((2, 5, 2)), np.full((2, 5), np.nan)))
    with pytest.raises(ValueError, match="data"):
        m.stats(np.ones((2, 5, 2)))
    with pytest.raises(ValueError, match="n"):
        m.sample(m.params([1.0, 2.0]), 0, np.random.default_rng(0))


def test_fit_validation():
    m = LinearRegression(4)
    small = m.sample_stats(m.params(np.ones(4)), 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match="n >= dim"):
        m.fit(small)
    with pytest.raises(ValueError, match="n >= dim"):
        cl.run_loop(m, m.params(np.ones(4)), n=3, generations=1, seed=0)
    exactly_d = m.sample_stats(m.params(np.ones(4)), 4, np.random.default_rng(0))
    with pytest.raises(ValueError, match="estimate_noise"):
        LinearRegression(4, estimate_noise=True).fit(exactly_d)
    singular = RegressionStats(5, np.zeros((1, 4, 4)), np.zeros((1, 4)), np.zeros(1))
    with pytest.raises(ValueError, match="singular"):
        m.fit(singular)
    with pytest.raises(ValueError, match="combine"):
        m.combine(small, LinearRegression(3).sample_stats(LinearRegression(3).params(np.ones(3)), 3,
                                                          np.random.default_rng(0)))


def test_fixed_design_size_validation():
    m = LinearRegression(2, fixed_design=np.random.default_rng(0).standard_normal((3, 6, 2)))
    with pytest.raises(ValueError, match="n must equal"):
        m.sample_stats(m.params(np.ones(2), replicates=3), 5, np.random.default_rng(0), exact=True)
    with pytest.raises(ValueError, match="fixed_design"):
        m.sample(m.params(np.ones(2), replicates=4), 6, np.random.default_rng(0))


@pytest.mark.parametrize("call,param", [
    (lambda: th.ols_risk(1.0, 5, 6), "T"),
    (lambda: th.ols_risk(-1.0, 5, 20), "sigma2"),
    (lambda: th.ols_risk(1.0, 0, 20), "d"),
    (lambda: th.replace_risk(1.0, 2, 10, -1), "t"),
    (lambda: th.replace_risk(1.0, 2, 10, 1.5), "t"),
    (lambda: th.accumulate_risk(1.0, 2, 3, 4), "T"),
    (lambda: th.accumulate_limit(np.nan, 2, 10), "sigma2"),
    (lambda: th.ols_risk_fixed(1.0, np.ones((5, 2))), "design"),
    (lambda: th.ols_risk_fixed(1.0, np.ones((1, 2))), "design"),
    (lambda: th.ols_risk_fixed(1.0, np.eye(2), np.eye(3)), "cov"),
    (lambda: excess_risk(np.ones(2), np.ones(2)), "RegressionParams"),
    (lambda: coef_norm(np.ones(2)), "RegressionParams"),
    (lambda: excess_risk(LinearRegression(2).params(np.ones(2)),
                         LinearRegression(3).params(np.ones(3))), "match"),
])
def test_theory_validation(call, param):
    with pytest.raises(ValueError, match=param):
        call()


# ---------------------------------------------------------------------------------------------
# properties (hypothesis)
# ---------------------------------------------------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(d=st.integers(1, 4), n1=st.integers(1, 6), n2=st.integers(1, 6), R=st.integers(1, 3),
       seed=st.integers(0, 2**31 - 1))
def test_stats_are_additive(d, n1, n2, R, seed):
    """stats(concat(a, b)) == combine(stats(a), stats(b))."""
    rng = np.random.default_rng(seed)
    m = LinearRegression(d)
    Xa, ya = rng.standard_normal((R, n1, d)), rng.standard_normal((R, n1))
    Xb, yb = rng.standard_normal((R, n2, d)), rng.standard_normal((R, n2))
    whole = m.stats((np.concatenate([Xa, Xb], 1), np.concatenate([ya, yb], 1)))
    parts = m.combine(m.stats((Xa, ya)), m.stats((Xb, yb)))
    assert whole.count == parts.count == n1 + n2
    np.testing.assert_allclose(whole.xtx, parts.xtx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(whole.xty, parts.xty, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(whole.yty, parts.yty, rtol=1e-12, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(d=st.integers(1, 4), extra=st.integers(0, 6), ridge=st.sampled_from([0.0, 0.01, 1.0]),
       seed=st.integers(0, 2**31 - 1), exact=st.booleans())
def test_fit_properties(d, extra, ridge, seed, exact):
    """Noise-free labels are fitted exactly by OLS; a training set duplicated gives the same fit
    (the ridge penalty is per point); fitted noise variances are non-negative."""
    rng = np.random.default_rng(seed)
    n = d + 1 + extra
    w = rng.standard_normal(d)
    clean = LinearRegression(d, noise_var=0.0)
    s = clean.sample_stats(clean.params(w, 0.0, replicates=2), n, rng, exact=exact)
    np.testing.assert_allclose(clean.fit(s).coef, np.broadcast_to(w, (2, d)), rtol=1e-6, atol=1e-6)
    m = LinearRegression(d, ridge=ridge, estimate_noise=True)
    s = m.sample_stats(m.params(w, 1.0, replicates=2), n, rng, exact=exact)
    once, twice = m.fit(s), m.fit(m.combine(s, s))
    np.testing.assert_allclose(once.coef, twice.coef, rtol=1e-8, atol=1e-10)
    assert np.all(once.noise_var >= 0) and np.all(np.isfinite(once.noise_var))
    assert np.all(np.linalg.eigvalsh(s.xtx) > -1e-9)
