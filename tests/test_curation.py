"""Chapter 13: curation and verification.

Theorem checks compare seeded simulations of :class:`collapselab.models.curated.Curated` with the
closed forms of ``collapselab.theory.curation`` within a few Monte-Carlo standard errors
(thm-13-truncation, thm-13-typicality, prop-13-mix, thm-13-rejection), then input validation and
hypothesis properties.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import collapselab as cl
from collapselab.models.categorical import Categorical
from collapselab.models.curated import (Curated, categorical_logprob,
                                        gaussian_loglik, rejection_toward,
                                        truth_oracle)
from collapselab.models.gaussian import Normal1DParams
from collapselab.models.tempered import TemperedGaussian1D
from collapselab.theory import curation as CT
from collapselab.theory import gaussian as G

Z = 5.0  # tolerance in Monte-Carlo standard errors


def _assert_within(samples, expected, k=Z, axis=-1, what=""):
    samples = np.asarray(samples, dtype=float)
    mean = samples.mean(axis=axis)
    se = samples.std(axis=axis, ddof=1) / np.sqrt(samples.shape[axis])
    err = np.abs(mean - expected)
    assert np.all(err <= k * se + 1e-12), f"{what}: |mean - theory| = {err} > {k} se = {k * se}"


def _std_score(x, params):
    """-|x - m| / s: the threshold -z keeps the central fraction of each chain's model."""
    return -np.abs(x - params.mean[:, None]) / np.sqrt(params.var[:, None])


G1 = cl.Gaussian1D()


def _curated_run(curated, truth, **kwargs):
    """The loop with curated synthetic data (real data and model 0's samples left alone)."""
    return cl.run_loop(curated.model, truth, synthetic=curated, **kwargs)
TRUTH = G1.params(0.0, 1.0)


# ------------------------------------------------------------------------------------------
# thm-13-truncation
# ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("q", [0.3, 0.8, 0.95, 0.999])
def test_truncated_variance_factor_matches_scipy_and_simulation(q):
    z = CT.truncation_point(q)
    assert stats.norm.cdf(z) - stats.norm.cdf(-z) == pytest.approx(q, rel=1e-12)
    v = CT.truncated_variance_factor(q)
    assert v == pytest.approx(stats.truncnorm(-z, z).var(), rel=1e-9)
    x = np.random.default_rng(1).standard_normal(2_000_000)
    kept = x[np.abs(x) <= z]
    sq = kept**2  # the truncated law has mean 0, so E[X^2 | kept] = v
    _assert_within(sq, v, what=f"v({q})")


def test_truncated_variance_factor_limits_and_arrays():
    assert CT.truncated_variance_factor(1.0) == 1.0
    q = np.array([1e-6, 1e-3])
    z = CT.truncation_point(q)
    np.testing.assert_allclose(CT.truncated_variance_factor(q), z**2 / 3, rtol=1e-3)
    arr = CT.truncated_variance_factor(np.linspace(0.05, 1, 20))
    assert arr.shape == (20,) and np.all(np.diff(arr) > 0)


@pytest.mark.parametrize("n,q", [(5, 0.5), (20, 0.8), (50, 0.95)])
def test_top_fraction_factor_matches_one_step_simulation(n, q):
    m = CT.candidates_needed(n, q)
    z = np.random.default_rng(n).standard_normal((200_000, m))
    idx = np.argpartition(np.abs(z), n - 1, axis=1)[:, :n]
    kept = np.take_along_axis(z, idx, axis=1)
    mle_var = kept.var(axis=1)
    _assert_within(mle_var, (n - 1) / n * CT.top_fraction_factor(n, q), what="top factor")


def test_top_fraction_factor_limits():
    assert CT.top_fraction_factor(10, 1.0) == 1.0
    assert CT.top_fraction_factor(2000, 0.8) == pytest.approx(CT.truncated_variance_factor(0.8),
                                                              abs=2e-3)
    assert CT.candidates_needed(50, 0.95) == 53
    assert CT.candidates_needed(10, 0.5) == 20


# ------------------------------------------------------------------------------------------
# thm-13-typicality: the curated loop under replace
# ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("rule", ["top", "threshold"])
def test_curated_replace_one_step_ratio_and_expected_variance(rule):
    n, q, T, R = 20, 0.8, 6, 6000
    if rule == "top":
        model = Curated(G1, gaussian_loglik(), keep=q, rule="top")
    else:
        model = Curated(G1, _std_score, keep=q, rule="threshold",
                        threshold=-CT.truncation_point(q))
    traj = _curated_run(model, TRUTH, n=n, generations=T, replicates=R, seed=11)
    var = traj["var"]
    c, f = (n - 1) / n, CT.curation_factor(n, q, rule)
    # generation 1 trains on real data; later ratios are i.i.d. with mean c f
    _assert_within(var[1], c, what="generation 1 is uncurated")
    _assert_within((var[2:] / var[1:-1]).ravel(), c * f, what="one-step ratio")
    theory = CT.curated_expected_variance(1.0, n, np.arange(T + 1), keep=q, rule=rule)
    _assert_within(var[:4], theory[:4], what="E sigma_t^2")
    # the mean's step: E (mu_t - mu_{t-1})^2 = f sigma_{t-1}^2 / n
    step = (traj["mean"][2:] - traj["mean"][1:-1]) ** 2 / var[1:-1]
    _assert_within(step.ravel(), f / n, what="mean step")


def test_curate_model0_curates_generation_one():
    n, q, R = 20, 0.8, 8000
    model = Curated(G1, gaussian_loglik(relative=True), keep=q, rule="threshold",
                    threshold=-CT.truncation_point(q) ** 2 / 2, curate_model0=True)
    traj = _curated_run(model, TRUTH, n=n, generations=2, replicates=R, seed=3)
    theory = CT.curated_expected_variance(1.0, n, np.arange(3), keep=q, curate_first=True)
    _assert_within(traj["var"], theory, what="curate_model0")
    assert traj.synthetic is model and traj.model is G1


def test_real_data_are_never_curated():
    # under all_real every generation trains on fresh real data only: curation must not touch it
    n, R = 20, 6000
    model = Curated(G1, gaussian_loglik(), keep=0.5)
    traj = _curated_run(model, TRUTH, n=n, generations=3, replicates=R, seed=5,
                        schedule=cl.all_real())
    _assert_within(traj["var"][1:], (n - 1) / n, what="all-real loop with a curated model")


@pytest.mark.parametrize("schedule", [cl.mix(0.3), cl.accumulate(), cl.inject(3)],
                         ids=["mix", "accumulate", "inject"])
@pytest.mark.parametrize("exact", [True, False])
def test_curated_schedules_match_exact_recursion(schedule, exact):
    n, q, T, R = 20, 0.8, 6, 5000
    model = Curated(G1, gaussian_loglik(), keep=q, rule="top")
    traj = _curated_run(model, TRUTH, n=n, generations=T, replicates=R, schedule=schedule,
                        exact=exact, seed=17)
    v, e = CT.curated_schedule_moments(1.0, n, T, schedule, keep=q, rule="top")
    _assert_within(traj["var"], v, what=f"{schedule.name} variance")
    _assert_within(traj["mean"] ** 2, e, what=f"{schedule.name} mean error")


def test_mix_stationary_moments_is_the_limit_of_the_recursion():
    n, q, a = 30, 0.9, 0.25
    v, e = CT.curated_schedule_moments(2.0, n, 400, cl.mix(a), keep=q, rule="threshold")
    vs, es = CT.mix_stationary_moments(2.0, n, a, keep=q, rule="threshold")
    assert v[-1] == pytest.approx(vs, rel=1e-10) and e[-1] == pytest.approx(es, rel=1e-10)
    # large-n limit, and the uncurated limit -> sigma^2
    big, _ = CT.mix_stationary_moments(1.0, 20_000, a, keep=q)
    assert big == pytest.approx(CT.mix_stationary_variance_limit(1.0, a, keep=q), rel=2e-3)
    assert CT.mix_stationary_variance_limit(1.0, a, keep=1.0) == pytest.approx(1.0)
    assert CT.mix_stationary_moments(1.0, n, a, keep=1.0)[0] == pytest.approx(
        G.schedule_moments(1.0, n, 400, cl.mix(a))[0][-1], rel=1e-10)
    with pytest.raises(ValueError, match="contract"):
        CT.mix_stationary_moments(1.0, n, 0.0, keep=1.0)


def test_mix_simulation_settles_at_the_fixed_point():
    n, q, a, T, R = 20, 0.8, 0.3, 30, 3000
    model = Curated(G1, gaussian_loglik(), keep=q, rule="top")
    traj = _curated_run(model, TRUTH, n=n, generations=T, replicates=R, schedule=cl.mix(a),
                        exact=True, seed=23)
    vs, _ = CT.mix_stationary_moments(1.0, n, a, keep=q, rule="top")
    _assert_within(traj["var"][-10:].ravel(), vs, k=8, what="stationary variance")


# ------------------------------------------------------------------------------------------
# thm-13-rejection
# ------------------------------------------------------------------------------------------

def test_rejection_sampling_gives_exact_truth_samples():
    ver = Curated(G1, rejection_toward(TRUTH, max_ratio=50.0), keep=0.3, rule="bernoulli")
    wide = G1.params(np.array([0.5, -1.0, 0.0]), np.array([2.25, 4.0, 1.0]), replicates=3)
    x = ver.sample(wide, 20_000, np.random.default_rng(0))
    assert x.shape == (3, 20_000)
    for row in x:
        assert stats.kstest(row, "norm").pvalue > 1e-3
    # with the exact bound the acceptance rate is 1/M
    log_m = CT.gaussian_log_ratio_bound(0.0, 1.0, 0.5, 2.25)
    g = CT.rejection_kept_moments(0.0, 1.0, 0.5, 2.25, np.exp(log_m))
    assert g["acceptance"] == pytest.approx(np.exp(-log_m), rel=1e-6)
    assert g["var"] == pytest.approx(1.0, rel=1e-6) and g["mean"] == pytest.approx(0.0, abs=1e-8)


def test_capped_rejection_sampling_matches_min_density():
    M = 3.0
    ver = Curated(G1, rejection_toward(TRUTH, max_ratio=M), keep=0.3, rule="bernoulli")
    narrow = G1.params(0.2, 0.5)
    x = ver.sample(narrow, 400_000, np.random.default_rng(2))[0]
    g = CT.rejection_kept_moments(0.0, 1.0, 0.2, 0.5, M)
    assert g["var"] < 1.0
    _assert_within(x, g["mean"], what="kept mean")
    _assert_within((x - g["mean"]) ** 2, g["var"], what="kept variance")


def test_rejection_with_tempered_proposal_and_the_all_real_law():
    tg = TemperedGaussian1D(tau=1.5)
    ver = Curated(tg, rejection_toward(TRUTH, max_ratio=100.0, proposal=tg.sampler_params),
                  keep=0.4, rule="bernoulli")
    n, R = 20, 4000
    traj = _curated_run(ver, tg.params(0.0, 1.0), n=n, generations=4, replicates=R, seed=9)
    # the tempered generator is 1.5x too wide, so sup p/q < 100 for almost every chain
    _assert_within(traj["var"][1:], (n - 1) / n, what="rejection toward the truth = all real")


def test_gaussian_log_ratio_bound():
    assert CT.gaussian_log_ratio_bound(0, 1, 0, 1) == 0.0
    assert CT.gaussian_log_ratio_bound(0, 1, 1, 1) == np.inf
    assert CT.gaussian_log_ratio_bound(0, 1, 0, 0.5) == np.inf
    x = np.linspace(-30, 30, 200_001)
    lr = stats.norm.logpdf(x, 0.3, 1.0) - stats.norm.logpdf(x, -0.4, 1.7)
    assert CT.gaussian_log_ratio_bound(0.3, 1.0, -0.4, 1.7**2) == pytest.approx(lr.max(), abs=1e-8)


# ------------------------------------------------------------------------------------------
# the wrapper itself
# ------------------------------------------------------------------------------------------

def test_keep_one_top_is_the_wrapped_model_draw_for_draw():
    model = Curated(G1, gaussian_loglik(), keep=1.0)
    p = G1.params(0.3, 2.0, replicates=7)
    for exact in (True, False):
        a = model.sample_stats(p, 15, np.random.default_rng(4), exact=exact)
        b = G1.sample_stats(p, 15, np.random.default_rng(4), exact=exact)
        np.testing.assert_array_equal(a.mean, b.mean)
        np.testing.assert_array_equal(a.m2, b.m2)


def test_top_rule_keeps_the_best_scores_and_threshold_rule_respects_the_threshold():
    rng = np.random.default_rng(8)
    p = G1.params(np.array([0.0, 1.0, -2.0]), np.array([1.0, 0.25, 4.0]), replicates=3)
    top = Curated(G1, gaussian_loglik(TRUTH), keep=0.6)
    x = top.sample(p, 30, rng)
    assert x.shape == (3, 30)
    thr = Curated(G1, gaussian_loglik(TRUTH, relative=True), keep=0.5, rule="threshold",
                  threshold=-2.0)
    y = thr.sample(p, 40, rng)
    assert y.shape == (3, 40) and np.all(-0.5 * y**2 >= -2.0)


def test_per_chain_verifiers_survive_partial_rounds():
    # a reference per chain and a low acceptance rate force rounds that serve only some chains
    R = 50
    ref = G1.params(np.linspace(-1, 1, R), np.full(R, 0.5), replicates=R)
    ver = Curated(G1, rejection_toward(ref, max_ratio=5.0), keep=0.9, rule="bernoulli")
    x = ver.sample(G1.params(0.0, 4.0, replicates=R), 200, np.random.default_rng(1))
    np.testing.assert_allclose(x.mean(axis=1), ref.mean, atol=6 * np.sqrt(0.5 / 200))

    def plain(x, params):  # no chains keyword: partial rounds sample every chain instead
        return np.full(x.shape, 0.3)

    y = Curated(G1, plain, keep=0.9, rule="bernoulli").sample(G1.params(0.0, 1.0, replicates=R),
                                                               100, np.random.default_rng(2))
    assert y.shape == (R, 100) and np.all(np.isfinite(y))


def test_deterministic_given_seed():
    model = Curated(G1, truth_oracle(TRUTH, 1.5, false_reject=0.1, false_accept=0.1), keep=0.8,
                    rule="bernoulli")
    runs = [_curated_run(model, TRUTH, n=10, generations=4, replicates=30, seed=42)["var"]
            for _ in range(2)]
    np.testing.assert_array_equal(*runs)


def test_categorical_typicality_filter_counts_and_tail_loss():
    K, n, R = 50, 100, 40
    cat = Categorical(K)
    zipf = cat.zipf(1.1)
    model = Curated(cat, categorical_logprob(), keep=0.8)
    counts = model.sample_stats(cat.broadcast(zipf, R), n, np.random.default_rng(0))
    assert counts.shape == (R, K) and np.all(counts.sum(axis=1) == n)
    kw = dict(n=n, generations=10, replicates=R, seed=1,
              metrics={"alive": lambda p, t: np.count_nonzero(p > 0, axis=1)})
    cur = _curated_run(model, zipf, **kw)["alive"][-1].mean()
    plain = cl.run_loop(cat, zipf, **kw)["alive"][-1].mean()
    assert cur < plain
    ref = Curated(cat, categorical_logprob(zipf[0]), keep=0.8)
    assert ref.sample(cat.broadcast(zipf, 3), 20, np.random.default_rng(2)).shape == (3, 20)


def test_runtime_error_when_the_verifier_rejects_everything():
    model = Curated(G1, lambda x, p: np.zeros(x.shape), keep=0.5, rule="bernoulli",
                    max_candidates=3)
    with pytest.raises(RuntimeError, match="accepted fewer"):
        model.sample(G1.params(0.0, 1.0, replicates=4), 10, np.random.default_rng(0))


# ------------------------------------------------------------------------------------------
# validation
# ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("keep", [0, 0.0, -0.2, 1.5, float("nan"), float("inf"), True, "half", None])
def test_keep_outside_unit_interval_is_refused(keep):
    with pytest.raises(ValueError, match="keep"):
        Curated(G1, gaussian_loglik(), keep=keep)
    if keep is not None:
        with pytest.raises(ValueError, match="keep"):
            CT.truncated_variance_factor(keep)


def test_constructor_validation():
    with pytest.raises(ValueError, match="rule"):
        Curated(G1, gaussian_loglik(), rule="best")
    with pytest.raises(ValueError, match="threshold"):
        Curated(G1, gaussian_loglik(), rule="threshold")
    with pytest.raises(ValueError, match="threshold"):
        Curated(G1, gaussian_loglik(), rule="top", threshold=1.0)
    with pytest.raises(ValueError, match="threshold"):
        Curated(G1, gaussian_loglik(), rule="threshold", threshold=float("nan"))
    with pytest.raises(ValueError, match="score"):
        Curated(G1, "not callable")
    with pytest.raises(ValueError, match="model"):
        Curated(object(), gaussian_loglik())
    with pytest.raises(ValueError, match="max_candidates"):
        Curated(G1, gaussian_loglik(), max_candidates=0)
    with pytest.raises(ValueError, match="curate_model0"):
        Curated(G1, gaussian_loglik(), curate_model0="yes")
    with pytest.raises(ValueError, match="synthetic"):
        cl.run_loop(G1, TRUTH, n=5, generations=1, synthetic="not a sampler")


def test_bad_scores_are_refused():
    p = G1.params(0.0, 1.0, replicates=3)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="shape"):
        Curated(G1, lambda x, q: x[:, :2], keep=0.5).sample(p, 4, rng)
    with pytest.raises(ValueError, match="NaN"):
        Curated(G1, lambda x, q: np.full(x.shape, np.nan), keep=0.5).sample(p, 4, rng)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        Curated(G1, lambda x, q: np.full(x.shape, 1.5), keep=0.5, rule="bernoulli").sample(p, 4, rng)
    with pytest.raises(ValueError, match="score"):
        Curated(G1, lambda x, q: np.full(x.shape, "a"), keep=0.5).sample(p, 4, rng)
    with pytest.raises(ValueError, match="n"):
        Curated(G1, gaussian_loglik(), keep=0.5).sample(p, 0, rng)


def test_verifier_factory_validation():
    with pytest.raises(ValueError, match="reference"):
        gaussian_loglik(np.array([0.0]))
    with pytest.raises(ValueError, match="reference"):
        gaussian_loglik(Normal1DParams(np.array([np.nan]), np.array([1.0])))
    with pytest.raises(ValueError, match="var"):
        gaussian_loglik(Normal1DParams(np.array([0.0]), np.array([0.0])))
    with pytest.raises(ValueError, match="z"):
        truth_oracle(TRUTH, z=0.0)
    with pytest.raises(ValueError, match="false_reject"):
        truth_oracle(TRUTH, false_reject=1.5)
    with pytest.raises(ValueError, match="false_accept"):
        truth_oracle(TRUTH, false_accept=-0.1)
    with pytest.raises(ValueError, match="accepts nothing"):
        truth_oracle(TRUTH, false_reject=1.0)
    with pytest.raises(ValueError, match="max_ratio"):
        rejection_toward(TRUTH, max_ratio=0.5)
    with pytest.raises(ValueError, match="reference"):
        categorical_logprob(np.array([0.5, np.nan]))
    ref = G1.params(0.0, 1.0, replicates=4)
    with pytest.raises(ValueError, match="chains"):
        Curated(G1, gaussian_loglik(ref), keep=0.5).sample(G1.params(0.0, 1.0, replicates=3), 4,
                                                           np.random.default_rng(0))


def test_theory_validation():
    with pytest.raises(ValueError, match="rule"):
        CT.curation_factor(10, 0.5, rule="median")
    with pytest.raises(ValueError, match="n"):
        CT.top_fraction_factor(0, 0.5)
    with pytest.raises(ValueError, match="sigma2"):
        CT.curated_schedule_moments(-1.0, 10, 3, cl.replace(), keep=0.5)
    with pytest.raises(ValueError, match="sigma2"):
        CT.curated_schedule_moments(float("nan"), 10, 3, cl.replace(), keep=0.5)
    with pytest.raises(ValueError, match="schedule"):
        CT.curated_schedule_moments(1.0, 10, 3, "replace", keep=0.5)
    with pytest.raises(ValueError, match="fresh"):
        CT.curated_schedule_moments(1.0, 10, 3, cl.mix(0.5, fresh_real=False), keep=0.5)
    with pytest.raises(ValueError, match="keep"):
        CT.curated_schedule_moments(1.0, 10, 3, cl.replace(), keep=0.0)
    with pytest.raises(ValueError, match="t must"):
        CT.curated_expected_variance(1.0, 10, -1, keep=0.5)
    with pytest.raises(ValueError, match="alpha"):
        CT.mix_stationary_moments(1.0, 10, 1.5, keep=0.5)
    with pytest.raises(ValueError, match="positive"):
        CT.gaussian_log_ratio_bound(0, 0, 0, 1)
    with pytest.raises(ValueError, match="NaN"):
        CT.gaussian_log_ratio_bound(np.nan, 1, 0, 1)
    with pytest.raises(ValueError, match="M"):
        CT.rejection_kept_moments(0, 1, 0, 1, 0.0)


# ------------------------------------------------------------------------------------------
# hypothesis properties
# ------------------------------------------------------------------------------------------

fractions = st.floats(min_value=1e-4, max_value=1.0, allow_nan=False)


@settings(max_examples=40, deadline=None)
@given(q1=fractions, q2=fractions)
def test_truncation_factor_is_a_monotone_fraction(q1, q2):
    v1, v2 = CT.truncated_variance_factor(q1), CT.truncated_variance_factor(q2)
    assert 0.0 <= v1 <= 1.0 and 0.0 <= v2 <= 1.0
    if q1 < q2:
        assert v1 <= v2 + 1e-12


@settings(max_examples=15, deadline=None)
@given(n=st.integers(2, 200), q=st.floats(0.05, 1.0))
def test_top_factor_is_a_fraction(n, q):
    f = CT.top_fraction_factor(n, q)
    assert 0.0 < f <= 1.0
    if CT.candidates_needed(n, q) == n:
        assert f == 1.0


@settings(max_examples=20, deadline=None)
@given(n=st.integers(2, 60), T=st.integers(0, 12), alpha=st.floats(0.0, 1.0),
       ddof=st.integers(0, 1), accumulate=st.booleans())
def test_keep_one_reduces_to_the_uncurated_recursion(n, T, alpha, ddof, accumulate):
    sched = cl.accumulate_mix(alpha) if accumulate else cl.mix(alpha)
    if not accumulate and ddof == 1 and round(alpha * n) == n and n < 2:
        return
    v, e = CT.curated_schedule_moments(1.3, n, T, sched, keep=1.0, ddof=ddof)
    v0, e0 = G.schedule_moments(1.3, n, T, sched, ddof=ddof)
    np.testing.assert_allclose(v, v0, rtol=1e-12)
    np.testing.assert_allclose(e, e0, rtol=1e-12, atol=1e-15)
    assert np.all(v >= 0) and np.all(e >= 0)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(2, 60), T=st.integers(1, 10), q=st.floats(0.05, 1.0),
       rule=st.sampled_from(["top", "threshold"]))
def test_all_real_ignores_curation_and_curation_never_raises_the_variance(n, T, q, rule):
    v_real, e_real = CT.curated_schedule_moments(1.0, n, T, cl.mix(1.0), keep=q, rule=rule)
    v_ref, e_ref = G.schedule_moments(1.0, n, T, cl.all_real())
    np.testing.assert_allclose(v_real, v_ref, rtol=1e-12)
    np.testing.assert_allclose(e_real, e_ref, rtol=1e-12)
    v_cur, _ = CT.curated_schedule_moments(1.0, n, T, cl.replace(), keep=q, rule=rule)
    v_none, _ = G.schedule_moments(1.0, n, T, cl.replace())
    assert np.all(v_cur <= v_none + 1e-12)


@settings(max_examples=15, deadline=None)
@given(R=st.integers(1, 6), n=st.integers(1, 30), q=st.floats(0.1, 1.0),
       rule=st.sampled_from(["top", "threshold", "bernoulli"]), seed=st.integers(0, 2**16))
def test_curated_samples_have_the_right_shape_and_counts(R, n, q, rule, seed):
    if rule == "top":
        model = Curated(G1, gaussian_loglik(), keep=q)
    elif rule == "threshold":
        model = Curated(G1, _std_score, keep=q, rule="threshold", threshold=-1.0)
    else:
        model = Curated(G1, truth_oracle(TRUTH, 1.0, false_accept=0.05), keep=q, rule="bernoulli")
    p = G1.params(0.0, 1.0, replicates=R)
    x = model.sample(p, n, np.random.default_rng(seed))
    assert x.shape == (R, n) and np.all(np.isfinite(x))
    s = model.sample_stats(p, n, np.random.default_rng(seed))
    assert s.count == n and np.all(s.m2 >= 0)
    if rule == "threshold":
        assert np.all(np.abs(x) <= 1.0 + 1e-12)
