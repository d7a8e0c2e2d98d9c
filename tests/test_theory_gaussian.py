"""Chapter 2: every closed form of `collapselab.theory.gaussian` against simulation.

Each theorem of chapters/02_gaussian.md is checked for both samplers (the sample path, which
draws all n points, and the exact path, which draws the sufficient statistics) and for the
schedules where it matters.  Monte-Carlo checks assert |simulation - theory| < Z standard
errors, seeded, with enough chains that the standard error is small.  Also: the two samplers
agree in distribution (KS tests, 1-D and multivariate), mix(1) / mix(0) reduce to all-real /
replace, input validation, hypothesis properties, and the `collapselab.widgets` explorer.
"""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import collapselab as cl
from collapselab.theory import gaussian as G

Z = 4.5          # tolerance in Monte-Carlo standard errors
SIGMA2 = 2.0     # true variance (not 1, so that a forgotten sigma^2 factor shows)
MU = 0.5         # true mean
SAMPLERS = [pytest.param(True, id="exact"), pytest.param(False, id="sample-path")]
DDOFS = [pytest.param(0, id="mle"), pytest.param(1, id="unbiased")]


def _z(samples: np.ndarray, expected) -> np.ndarray:
    """|mean - expected| / standard error along the replicate axis (axis 1 of (T+1, R))."""
    samples = np.asarray(samples, dtype=float)
    se = samples.std(axis=-1, ddof=1) / np.sqrt(samples.shape[-1])
    diff = np.abs(samples.mean(axis=-1) - expected)
    # generation 0 is the truth itself: zero spread, so allow rounding error only
    return diff / np.maximum(se, 1e-12 * (1.0 + np.abs(expected)))


def _run(ddof, exact, schedule=None, n=10, generations=8, replicates=40_000, seed=0, metrics=None):
    model = cl.Gaussian1D(ddof)
    return cl.run_loop(model, model.params(MU, SIGMA2), n=n, generations=generations,
                       replicates=replicates, schedule=schedule or cl.replace(), exact=exact,
                       seed=seed, metrics=metrics)


T8 = np.arange(9)


# --- thm-02-mle-variance and thm-02-martingale ------------------------------------------------
@pytest.mark.parametrize("exact", SAMPLERS)
@pytest.mark.parametrize("ddof", DDOFS)
def test_expected_variance_replace(ddof, exact):
    tr = _run(ddof, exact, seed=11 + ddof)
    theory = G.expected_variance(SIGMA2, 10, T8, ddof)
    assert np.all(_z(tr["var"], theory) < Z)
    if ddof == 1:  # thm-02-martingale: constant expectation
        np.testing.assert_allclose(theory, SIGMA2)
    else:          # thm-02-mle-variance: geometric decay by (n-1)/n
        np.testing.assert_allclose(theory, SIGMA2 * 0.9**T8)
    # the second moment used for error bars, at a few early generations (finite 8th moment)
    second = G.variance_second_moment(SIGMA2, 10, T8[:4], ddof)
    assert np.all(_z(tr["var"][:4] ** 2, second) < Z)


@pytest.mark.parametrize("exact", SAMPLERS)
def test_martingale_property_conditional(exact):
    """E[sigma_t^2 | sigma_{t-1}^2] = sigma_{t-1}^2 for ddof = 1: regress one step on the last."""
    model = cl.Gaussian1D(1)
    rng = np.random.default_rng(5)
    prev = model.params(np.zeros(20_000), rng.gamma(2.0, 1.0, 20_000), replicates=20_000)
    nxt = model.fit(model.sample_stats(prev, 7, rng, exact=exact))
    ratio = nxt.var / prev.var
    assert _z(ratio, 1.0) < Z


# --- thm-02-as-collapse ----------------------------------------------------------------------
@pytest.mark.parametrize("exact", SAMPLERS)
@pytest.mark.parametrize("ddof", DDOFS)
def test_log_variance_random_walk(ddof, exact):
    n, T = 10, 20
    tr = _run(ddof, exact, n=n, generations=T, replicates=20_000, seed=21 + 2 * ddof + exact)
    logv = np.log(tr["var"])
    t = np.arange(T + 1)
    delta, step_var = G.log_variance_drift(n, ddof), G.log_variance_step_variance(n)
    assert delta < 0
    assert np.all(_z(logv, G.expected_log_variance(SIGMA2, n, t, ddof)) < Z)
    # Var log sigma_t^2 = t psi'((n-1)/2): standard error of a sample variance from the 4th moment
    for s in (1, 5, 20):
        x = logv[s] - logv[s].mean()
        var, m4 = np.mean(x**2), np.mean(x**4)
        se = np.sqrt((m4 - var**2) / len(x))
        assert abs(var - s * step_var) < Z * se, (s, var, s * step_var)
    # successive increments are uncorrelated (a random walk)
    inc = np.diff(logv, axis=0)
    r = np.corrcoef(inc[3], inc[4])[0, 1]
    assert abs(r) < Z / np.sqrt(inc.shape[1])


@pytest.mark.parametrize("ddof", DDOFS)
def test_almost_sure_collapse(ddof):
    """Over many generations essentially every chain's variance is tiny, even when the
    expectation stays at sigma^2 (ddof = 1)."""
    n, T = 10, 400
    tr = _run(ddof, True, n=n, generations=T, replicates=4000, seed=3)
    final = tr["var"][-1]
    assert np.mean(final < 1e-3 * SIGMA2) > 0.999
    # the median follows the drift: median log sigma_T^2 ~ log sigma^2 + T delta
    sd = np.sqrt(T * G.log_variance_step_variance(n))
    med = np.median(np.log(final))
    assert abs(med - (np.log(SIGMA2) + T * G.log_variance_drift(n, ddof))) < Z * 1.26 * sd / np.sqrt(4000)


def test_drift_and_half_life_values():
    for n in (3, 10, 100, 1000):
        d0, d1 = G.log_variance_drift(n, 0), G.log_variance_drift(n, 1)
        assert d0 < d1 < 0  # Jensen: E log < log E = log((n-1)/(n-ddof)) <= 0
        assert d1 < np.log(G.variance_factor(n, 1)) + 1e-15
        assert G.half_life(n, 1) == pytest.approx(np.log(2) / -d1)
    # large n: delta ~ -1/(n-1) (unbiased), ~ -2/n (MLE)
    assert G.half_life(1001, 1) == pytest.approx(1000 * np.log(2), rel=2e-3)
    assert G.half_life(1000, 0) == pytest.approx(1000 * np.log(2) / 2, rel=3e-3)
    # Monte-Carlo check of the drift itself from chi-square draws
    rng = np.random.default_rng(0)
    x = np.log(rng.chisquare(9, 400_000) / 10)
    assert _z(x, G.log_variance_drift(10, 0)) < Z


# --- thm-02-mean-walk and thm-02-w2 ------------------------------------------------------------
@pytest.mark.parametrize("exact", SAMPLERS)
@pytest.mark.parametrize("ddof", DDOFS)
def test_mean_walk_and_w2(ddof, exact):
    tr = _run(ddof, exact, seed=31 + 2 * ddof + exact,
              metrics={"w2sq": lambda p, q: cl.metrics.w2_squared(p, q)})
    msd = G.mean_squared_drift(SIGMA2, 10, T8, ddof)
    assert np.all(_z((tr["mean"] - MU) ** 2, msd) < Z)
    if ddof == 1:
        np.testing.assert_allclose(msd, SIGMA2 * T8 / 10)  # a random walk
    assert np.all(_z(np.sqrt(tr["var"]), G.expected_std(SIGMA2, 10, T8, ddof)) < Z)
    assert np.all(_z(tr["w2sq"], G.expected_w2_squared(SIGMA2, 10, T8, ddof)) < Z)


def test_w2_limits():
    t = np.array([0, 1, 10_000])
    w0 = G.expected_w2_squared(SIGMA2, 10, t, 0)
    assert w0[0] == pytest.approx(0.0, abs=1e-12)
    assert w0[-1] == pytest.approx(2 * SIGMA2, rel=1e-6)          # MLE: tends to 2 sigma^2
    w1 = G.expected_w2_squared(SIGMA2, 10, t, 1)
    assert w1[-1] > SIGMA2 * 10_000 / 10                          # unbiased: grows without bound
    assert np.all(np.diff(G.expected_w2_squared(SIGMA2, 10, np.arange(200), 0)) > 0)
    assert G.std_factor(10, 0) < G.std_factor(10, 1) < 1
    # MLE: E(mu_t - mu)^2 + E sigma_t^2 = sigma^2, hence E W2^2 = 2 sigma^2 (1 - m^t)
    tt = np.arange(50)
    np.testing.assert_allclose(G.mean_squared_drift(SIGMA2, 10, tt, 0)
                               + G.expected_variance(SIGMA2, 10, tt, 0), SIGMA2)
    np.testing.assert_allclose(G.expected_w2_squared(SIGMA2, 10, tt, 0),
                               2 * SIGMA2 * (1 - G.std_factor(10, 0) ** tt), atol=1e-12)


# --- thm-02-accumulate and the general schedule recursion -------------------------------------
@pytest.mark.parametrize("exact", SAMPLERS)
@pytest.mark.parametrize("ddof", DDOFS)
def test_accumulate_moments(ddof, exact):
    T = 12
    tr = _run(ddof, exact, schedule=cl.accumulate(), generations=T, replicates=30_000,
              seed=41 + 2 * ddof + exact)
    var, msd = G.accumulate_moments(SIGMA2, 10, T, ddof)
    assert np.all(_z(tr["var"], var) < Z)
    assert np.all(_z((tr["mean"] - MU) ** 2, msd) < Z)
    bound = G.accumulate_mean_bound(SIGMA2, 10)
    assert np.all(msd <= bound)
    assert np.all(((tr["mean"] - MU) ** 2).mean(axis=1) < bound * (1 + Z / np.sqrt(30_000) * 3))


@pytest.mark.parametrize("ddof", DDOFS)
def test_accumulate_variance_decreases_to_positive_limit(ddof):
    var, msd = G.accumulate_moments(SIGMA2, 5, 3000, ddof)
    assert np.all(np.diff(var[1:]) < 0) and np.all(np.diff(msd) > 0)
    limit = G.accumulate_variance_limit(SIGMA2, 5, ddof)
    assert 0 < limit < var[-1]
    assert var[-1] == pytest.approx(limit, rel=1e-4)
    assert msd[-1] < G.accumulate_mean_bound(SIGMA2, 5)
    # versus replace: the replace chain's expected W2^2 and mean error keep growing
    assert G.mean_squared_drift(SIGMA2, 5, 3000, ddof) > msd[-1]


@pytest.mark.parametrize("exact", SAMPLERS)
@pytest.mark.parametrize("schedule", [cl.mix(0.3), cl.inject(3), cl.accumulate_mix(0.4),
                                      cl.all_real()], ids=lambda s: s.name)
def test_schedule_moments_against_simulation(schedule, exact):
    for ddof in (0, 1):
        tr = _run(ddof, exact, schedule=schedule, replicates=20_000, seed=51 + ddof)
        var, msd = G.schedule_moments(SIGMA2, 10, 8, schedule, ddof)
        assert np.all(_z(tr["var"], var) < Z)
        assert np.all(_z((tr["mean"] - MU) ** 2, msd) < Z)


@pytest.mark.parametrize("ddof", DDOFS)
def test_schedule_moments_reduce_to_the_closed_forms(ddof):
    T = 40
    t = np.arange(T + 1)
    var, msd = G.schedule_moments(SIGMA2, 7, T, cl.replace(), ddof)
    np.testing.assert_allclose(var, G.expected_variance(SIGMA2, 7, t, ddof), rtol=1e-12)
    np.testing.assert_allclose(msd, G.mean_squared_drift(SIGMA2, 7, t, ddof), rtol=1e-12)
    for a, b in zip(G.schedule_moments(SIGMA2, 7, T, cl.accumulate(), ddof),
                    G.accumulate_moments(SIGMA2, 7, T, ddof)):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    for a, b in zip(G.schedule_moments(SIGMA2, 7, T, cl.mix(0.0), ddof),
                    G.schedule_moments(SIGMA2, 7, T, cl.replace(), ddof)):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    var, msd = G.schedule_moments(SIGMA2, 7, T, cl.mix(1.0), ddof)
    np.testing.assert_allclose(var[1:], SIGMA2 * 6 / (7 - ddof))
    np.testing.assert_allclose(msd[1:], SIGMA2 / 7)


# --- schedules: alpha = 1 and alpha = 0 reduce to the pure cases -------------------------------
@pytest.mark.parametrize("exact", SAMPLERS)
@pytest.mark.parametrize("pair", [(cl.mix(1.0), cl.all_real()), (cl.mix(0.0), cl.replace()),
                                  (cl.accumulate_mix(0.0), cl.accumulate())],
                         ids=["mix1=all_real", "mix0=replace", "accmix0=accumulate"])
def test_pure_cases_identical_trajectories(pair, exact):
    a, b = (_run(1, exact, schedule=s, replicates=500, seed=9) for s in pair)
    np.testing.assert_array_equal(a["mean"], b["mean"])
    np.testing.assert_array_equal(a["var"], b["var"])


def test_mix_one_with_a_fixed_real_sample_never_moves():
    tr = _run(0, True, schedule=cl.mix(1.0, fresh_real=False), replicates=200, seed=2)
    np.testing.assert_array_equal(tr["var"][1:], np.broadcast_to(tr["var"][1], tr["var"][1:].shape))
    with pytest.raises(ValueError, match="fresh_real"):
        G.schedule_moments(SIGMA2, 10, 5, cl.mix(1.0, fresh_real=False))


# --- the two samplers agree in distribution -----------------------------------------------------
@pytest.mark.parametrize("schedule", [cl.replace(), cl.accumulate()], ids=lambda s: s.name)
@pytest.mark.parametrize("ddof", DDOFS)
def test_samplers_agree_in_distribution_1d(ddof, schedule):
    a = _run(ddof, True, schedule=schedule, n=8, generations=5, replicates=6000, seed=61)
    b = _run(ddof, False, schedule=schedule, n=8, generations=5, replicates=6000, seed=62)
    for key in ("mean", "var"):
        for t in (1, 5):
            assert stats.ks_2samp(a[key][t], b[key][t]).pvalue > 1e-4, (key, t)


@pytest.mark.parametrize("exact", SAMPLERS)
def test_one_step_statistics_have_their_sampling_distribution(exact):
    """mean ~ N(mu, sigma^2/n) and scatter ~ sigma^2 chi^2_{n-1}, independent (Cochran)."""
    model, n = cl.Gaussian1D(), 6
    p = model.params(MU, SIGMA2, replicates=8000)
    s = model.sample_stats(p, n, np.random.default_rng(7), exact=exact)
    assert stats.kstest((s.mean - MU) / np.sqrt(SIGMA2 / n), "norm").pvalue > 1e-4
    assert stats.kstest(s.m2 / SIGMA2, stats.chi2(n - 1).cdf).pvalue > 1e-4
    assert abs(np.corrcoef(s.mean, s.m2)[0, 1]) < Z / np.sqrt(8000)


@pytest.mark.parametrize("exact", SAMPLERS)
def test_multivariate_one_step_wishart(exact):
    """a' S a / a' Sigma a ~ chi^2_{n-1} for a fixed direction a; mean ~ N(mu, Sigma/n)."""
    model, n = cl.GaussianMV(), 7
    cov = np.array([[2.0, 0.6, 0.0], [0.6, 1.0, -0.3], [0.0, -0.3, 0.5]])
    p = model.params(np.zeros(3), cov, replicates=6000)
    s = model.sample_stats(p, n, np.random.default_rng(8), exact=exact)
    for a in (np.array([1.0, 0, 0]), np.array([0.3, -1.0, 2.0])):
        q = np.einsum("i,rij,j->r", a, s.scatter, a) / (a @ cov @ a)
        assert stats.kstest(q, stats.chi2(n - 1).cdf).pvalue > 1e-4
        m = (s.mean @ a) / np.sqrt(a @ cov @ a / n)
        assert stats.kstest(m, "norm").pvalue > 1e-4


def test_samplers_agree_in_distribution_mv():
    model = cl.GaussianMV(1)
    cov = np.array([[1.0, 0.5, 0.2], [0.5, 2.0, 0.0], [0.2, 0.0, 0.7]])
    truth = model.params(np.ones(3), cov)
    a, b = (cl.run_loop(model, truth, n=9, generations=4, replicates=4000, exact=e, seed=s)
            for e, s in ((True, 71), (False, 72)))
    for t in (1, 4):
        for f in (lambda c: np.trace(c, axis1=-2, axis2=-1), lambda c: np.linalg.slogdet(c)[1],
                  lambda c: c[:, 0, 1]):
            assert stats.ks_2samp(f(a["cov"][t]), f(b["cov"][t])).pvalue > 1e-4
        assert stats.ks_2samp(a["mean"][t][:, 1], b["mean"][t][:, 1]).pvalue > 1e-4


# --- prop-02-multivariate ----------------------------------------------------------------------
@pytest.mark.parametrize("exact", SAMPLERS)
@pytest.mark.parametrize("ddof", DDOFS)
def test_multivariate_det_trace_logdet(ddof, exact):
    d, n, T, R = 3, 10, 5, 20_000
    model = cl.GaussianMV(ddof)
    cov = np.array([[1.5, 0.4, 0.0], [0.4, 1.0, 0.2], [0.0, 0.2, 0.8]])
    tr = cl.run_loop(model, model.params(np.zeros(d), cov), n=n, generations=T, replicates=R,
                     exact=exact, seed=81 + 2 * ddof + exact,
                     metrics={"w2": cl.metrics.w2_to_truth})
    t = np.arange(T + 1)
    det0, trace0 = np.linalg.det(cov), np.trace(cov)
    dets = np.linalg.det(tr["cov"])
    logdet = np.linalg.slogdet(tr["cov"])[1]
    traces = np.trace(tr["cov"], axis1=-2, axis2=-1)
    assert np.all(_z(traces, G.mv_expected_trace(trace0, n, t, ddof)) < Z)
    assert np.all(_z(dets[:3], det0 * G.mv_det_factor(n, d, ddof) ** t[:3]) < Z)
    assert np.all(_z(logdet, np.log(det0) + t * G.mv_log_det_drift(n, d, ddof)) < Z)
    x = logdet[T] - logdet[T].mean()
    se = np.sqrt((np.mean(x**4) - np.mean(x**2) ** 2) / R)
    assert abs(np.mean(x**2) - T * G.mv_log_det_step_variance(n, d)) < Z * se
    # W2 from cl.metrics agrees with the 1-D closed form's growth in the mean term
    assert np.all(np.diff(tr["w2"].mean(axis=1)) > 0)
    # d = 1 reduces to the 1-D drift
    assert G.mv_log_det_drift(n, 1, ddof) == pytest.approx(G.log_variance_drift(n, ddof))


# --- input validation ----------------------------------------------------------------------------
@pytest.mark.parametrize("call, match", [
    (lambda: G.expected_variance(0.0, 10, 1), "sigma2"),
    (lambda: G.expected_variance(-1.0, 10, 1), "sigma2"),
    (lambda: G.expected_variance(float("nan"), 10, 1), "sigma2"),
    (lambda: G.expected_variance(1.0, 1, 1), "n"),
    (lambda: G.expected_variance(1.0, 10.5, 1), "n"),
    (lambda: G.expected_variance(1.0, 10, 1, ddof=2), "ddof"),
    (lambda: G.expected_variance(1.0, 10, -1), "t"),
    (lambda: G.expected_variance(1.0, 10, 1.5), "t"),
    (lambda: G.variance_second_moment(1.0, 10, np.array([0.5])), "t"),
    (lambda: G.log_variance_drift(1), "n"),
    (lambda: G.log_variance_drift(10, ddof=-1), "ddof"),
    (lambda: G.log_variance_step_variance(0), "n"),
    (lambda: G.half_life(1), "n"),
    (lambda: G.std_factor(10, 3), "ddof"),
    (lambda: G.mean_squared_drift(1.0, 10, -2), "t"),
    (lambda: G.expected_w2_squared(np.inf, 10, 1), "sigma2"),
    (lambda: G.accumulate_moments(1.0, 10, -1), "generations"),
    (lambda: G.accumulate_mean_bound(1.0, 1), "n"),
    (lambda: G.accumulate_variance_limit(-1.0, 10), "sigma2"),
    (lambda: G.schedule_moments(1.0, 10, 5, "replace"), "schedule"),
    (lambda: G.schedule_moments(1.0, 10, -5, cl.replace()), "generations"),
    (lambda: G.mv_det_factor(3, 3), "n must exceed dim"),
    (lambda: G.mv_log_det_drift(10, 0), "dim"),
    (lambda: G.mv_log_det_step_variance(10, 2.5), "dim"),
    (lambda: G.mv_expected_trace(0.0, 10, 1), "trace0"),
    (lambda: G.mv_expected_trace(1.0, 10, -1), "t"),
])
def test_theory_input_validation(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --- properties ----------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None, database=None)
@given(n=st.integers(2, 500), ddof=st.integers(0, 1), t=st.integers(0, 200),
       sigma2=st.floats(1e-3, 1e3))
def test_closed_forms_properties(n, ddof, t, sigma2):
    v = G.expected_variance(sigma2, n, t, ddof)
    assert 0 < v <= sigma2 * (1 + 1e-12)
    assert G.variance_second_moment(sigma2, n, t, ddof) >= v**2 * (1 - 1e-9)  # Jensen
    assert 0 < G.expected_std(sigma2, n, t, ddof) <= np.sqrt(v) * (1 + 1e-9)  # Jensen
    assert G.expected_w2_squared(sigma2, n, t, ddof) >= -1e-9 * sigma2
    assert G.mean_squared_drift(sigma2, n, t, ddof) <= sigma2 * t / n * (1 + 1e-12)
    assert G.log_variance_drift(n, ddof) < 0 and G.log_variance_step_variance(n) > 0


@settings(max_examples=25, deadline=None, database=None)
@given(n=st.integers(2, 60), ddof=st.integers(0, 1), alpha=st.floats(0.0, 1.0),
       accumulate=st.booleans())
def test_schedule_moments_properties(n, ddof, alpha, accumulate):
    sched = cl.accumulate_mix(alpha) if accumulate else cl.mix(alpha)
    var, msd = G.schedule_moments(1.0, n, 30, sched, ddof)
    assert np.all(var > 0) and np.all(msd >= 0)
    if accumulate:
        assert np.all(msd <= G.accumulate_mean_bound(1.0, n) * (1 + 1e-12))
    if alpha == 1.0 and not accumulate:  # all real: every generation is a fresh fit
        np.testing.assert_allclose(msd[1:], 1.0 / n, rtol=1e-12)
        np.testing.assert_allclose(var[1:], (n - 1) / (n - ddof), rtol=1e-12)


# --- the widget module ---------------------------------------------------------------------------
def test_widgets_module_does_not_import_ipywidgets():
    code = "import sys, collapselab.widgets; print('ipywidgets' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _theory(model_label, quantity_label, schedule, n, generations):
    ddof = 1 if "unbiased" in model_label else 0
    if quantity_label == "variance" and schedule.fresh_real:
        return G.schedule_moments(1.0, n, generations, schedule, ddof)[0]
    return None


def test_loop_explorer_builds_and_redraws():
    import ipywidgets
    from collapselab.widgets import LoopExplorer, loop_explorer

    models = {"MLE": cl.Gaussian1D(0), "unbiased": cl.Gaussian1D(1)}
    ex = loop_explorer(models, cl.Gaussian1D().params(0.0, 1.0),
                       {"variance": "var", "W2": cl.metrics.w2_to_truth},
                       n=(2, 100, 10), generations=(1, 60, 20), replicates=300,
                       log={"variance": True, "W2": False}, theory=_theory,
                       model_label="estimator")
    assert isinstance(ex, LoopExplorer) and isinstance(ex.widget, ipywidgets.Widget)
    bundle = ex._repr_mimebundle_()
    bundle = bundle[0] if isinstance(bundle, tuple) else bundle
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert ex.draws == 1 and ex.values.shape == (21, 300)
    assert ex.figure.axes[0].get_yscale() == "log"
    assert len(ex.figure.axes[0].lines) == 3  # median, mean, theory
    ex.set(n=40, schedule="accumulate", model="unbiased")
    assert ex.draws == 2 and ex.trajectory.n == 40 and ex.trajectory.schedule.accumulate
    ex.controls["quantity"].value = "W2"           # a slider/drop-down change redraws
    assert ex.draws == 3 and ex.controls["log"].value is False
    assert len(ex.figure.axes[0].lines) == 2       # no closed form offered for W2 here
    ex.set(schedule="mix(alpha)", alpha=0.25)
    assert ex.trajectory.schedule.real_fraction == 0.25 and not ex.controls["alpha"].disabled
    ex.set(schedule="replace")
    assert ex.controls["alpha"].disabled
    with pytest.raises(ValueError, match="unknown control"):
        ex.set(bogus=1)
    ex.widget.close()


def test_loop_explorer_works_for_the_multivariate_model():
    from collapselab.widgets import loop_explorer
    model = cl.GaussianMV()
    truth = model.params(np.zeros(2), np.eye(2))
    ex = loop_explorer(model, truth, {"log det": lambda p, q: np.linalg.slogdet(p.cov)[1],
                                      "W2": cl.metrics.w2_to_truth},
                       n=(3, 50, 10), generations=(1, 30, 10), replicates=100)
    assert ex.values.shape == (11, 100)
    ex.controls["exact"].value = False
    assert ex.draws == 2


@pytest.mark.parametrize("kwargs, match", [
    (dict(models=object()), "models"),
    (dict(models={}), "models"),
    (dict(quantities=3), "quantities"),
    (dict(quantities={"a": 3}), "quantities"),
    (dict(n=(10, 5)), "n"),
    (dict(n=(0, 10)), "n"),
    (dict(n=(2, 10, 20)), "n"),
    (dict(n="many"), "n"),
    (dict(generations=0), "generations"),
    (dict(alpha=1.5), "alpha"),
    (dict(schedules={}), "schedules"),
    (dict(schedules=3), "schedules"),
    (dict(schedules={"x": 3}), "schedules"),
    (dict(schedules={"x": lambda a: "replace"}), "schedules"),
    (dict(replicates=0), "replicates"),
    (dict(seed=-1), "seed"),
    (dict(exact="yes"), "exact"),
    (dict(log={"nope": True}), "log"),
    (dict(theory=3), "theory"),
    (dict(truth=cl.GaussianMV().params(np.zeros(2), np.eye(2))), "truth"),
])
def test_loop_explorer_validates_inputs(kwargs, match):
    from collapselab.widgets import loop_explorer
    args = dict(models=cl.Gaussian1D(), truth=cl.Gaussian1D().params(0.0, 1.0), quantities="var",
                n=(2, 50, 10), generations=(1, 20, 5), replicates=50)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        loop_explorer(args.pop("models"), args.pop("truth"), args.pop("quantities"), **args)


def test_plot_loop_validates_and_draws():
    import matplotlib.pyplot as plt
    from collapselab.widgets import plot_loop
    model, truth = cl.Gaussian1D(), cl.Gaussian1D().params(0.0, 1.0)
    fig, ax = plt.subplots()
    try:
        traj, values = plot_loop(ax, model, truth, "var", n=10, generations=5, replicates=100,
                                 log=True, theory=G.expected_variance(1.0, 10, np.arange(6)),
                                 paths=3)
        assert values.shape == (6, 100) and ax.get_yscale() == "log"
        with pytest.raises(ValueError, match="quantity"):
            plot_loop(ax, model, truth, "nope", n=10, generations=5, replicates=10)
        with pytest.raises(ValueError, match="quantity"):
            mv = cl.GaussianMV()
            plot_loop(ax, mv, mv.params(np.zeros(2), np.eye(2)), "cov", n=10, generations=2,
                      replicates=10)
        with pytest.raises(ValueError, match="theory"):
            plot_loop(ax, model, truth, "var", n=10, generations=5, replicates=10, theory=[1, 2])
        with pytest.raises(ValueError, match="log"):
            plot_loop(ax, model, truth, "mean", n=10, generations=5, replicates=10, log=True)
        with pytest.raises(ValueError, match="generations"):
            plot_loop(ax, model, truth, "var", n=10, generations=0, replicates=10)
        with pytest.raises(ValueError, match="schedule"):
            plot_loop(ax, model, truth, "var", n=10, generations=2, schedule="replace")
    finally:
        plt.close(fig)
