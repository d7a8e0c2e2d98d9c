"""Chapter 7: the closed forms of `collapselab.theory.contamination` against simulation.

Each theorem of chapters/07_contamination.md is checked for both samplers (exact sufficient
statistics and the sample path) and for several real fractions and batch sizes.  Monte-Carlo
checks assert |simulation - theory| < Z standard errors, seeded.  Also: mix(0) / mix(1) /
accumulate_mix(0) reduce to replace / all-real / accumulate (identical trajectories for the same
seed, and the chapter-2 closed forms), input validation, and hypothesis properties.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import collapselab as cl
from collapselab.models.contaminated import KnownVarianceGaussian1D
from collapselab.theory import contamination as C
from collapselab.theory import gaussian as G

Z = 4.5          # tolerance in Monte-Carlo standard errors
SIGMA2 = 2.0     # true variance (not 1, so that a forgotten sigma^2 factor shows)
MU = 0.5         # true mean
SAMPLERS = [pytest.param(True, id="exact"), pytest.param(False, id="sample-path")]
DDOFS = [pytest.param(0, id="mle"), pytest.param(1, id="unbiased")]


def _z(samples, expected):
    """|mean - expected| / standard error along the replicate axis (last axis)."""
    samples = np.asarray(samples, dtype=float)
    se = samples.std(axis=-1, ddof=1) / np.sqrt(samples.shape[-1])
    diff = np.abs(samples.mean(axis=-1) - expected)
    return diff / np.maximum(se, 1e-12 * (1.0 + np.abs(expected)))


def _run(model, schedule, n, generations, replicates, exact, seed):
    truth = model.params(MU) if isinstance(model, KnownVarianceGaussian1D) else model.params(MU, SIGMA2)
    return cl.run_loop(model, truth, n=n, generations=generations, replicates=replicates,
                       schedule=schedule, exact=exact, seed=seed)


def _check_moments(schedule, moments, alpha, n, ddof, exact, T, seed):
    """The simulated E(mu_t - mu)^2 and E sigma_t^2 of the refitted Gaussian under `schedule`
    against `moments(SIGMA2, n, alpha, T, ddof)`, generation by generation."""
    tr = _run(cl.Gaussian1D(ddof), schedule, n, T, 20_000, exact, seed=seed)
    e, v = moments(SIGMA2, n, alpha, T, ddof)
    assert np.all(_z((tr["mean"][1:] - MU) ** 2, e[1:]) < Z)
    assert np.all(_z(tr["var"][1:], v[1:]) < Z)


# --- thm-07-mix-mean: known variance under mix ------------------------------------------------
@pytest.mark.parametrize("exact", SAMPLERS)
@pytest.mark.parametrize("alpha,n", [(0.0, 8), (0.1, 20), (0.35, 8), (0.6, 5), (1.0, 8)])
def test_mix_known_variance_error(alpha, n, exact):
    T = 12
    tr = _run(KnownVarianceGaussian1D(SIGMA2), cl.mix(alpha), n, T, 20_000, exact,
              seed=100 + int(100 * alpha) + n)
    theory = C.mix_known_variance_error(SIGMA2, n, alpha, np.arange(T + 1))
    sq = (tr["mean"] - MU) ** 2
    assert np.all(_z(sq[1:], theory[1:]) < Z)
    np.testing.assert_allclose(tr["var"], SIGMA2)          # the variance is never refitted
    # the closed form is the recursion of mix_moments with known variance
    e, v = C.mix_moments(SIGMA2, n, alpha, T, known_variance=True)
    np.testing.assert_allclose(e, theory, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(v, SIGMA2)


def test_mix_known_variance_limit():
    a = C.realised_fraction(20, 0.3)
    e_inf = C.mix_known_variance_error(SIGMA2, 20, 0.3, 10_000)
    assert e_inf == pytest.approx(SIGMA2 / 20 * C.mix_limit_factor(a), rel=1e-12)
    assert C.mix_fixed_point(SIGMA2, 20, 0.3, known_variance=True) == pytest.approx(
        (SIGMA2 / (20 * a * (2 - a)), SIGMA2))
    # alpha = 0: the random walk sigma^2 t / n
    np.testing.assert_allclose(C.mix_known_variance_error(SIGMA2, 10, 0.0, np.arange(5)),
                               SIGMA2 * np.arange(5) / 10)


# --- thm-07-mix-moments: estimated variance under mix -----------------------------------------
@pytest.mark.parametrize("exact", SAMPLERS)
@pytest.mark.parametrize("ddof", DDOFS)
@pytest.mark.parametrize("alpha,n", [(0.1, 20), (0.5, 4), (0.8, 15)])
def test_mix_moments_match_simulation(alpha, n, ddof, exact):
    _check_moments(cl.mix(alpha), C.mix_moments, alpha, n, ddof, exact, T=10,
                   seed=200 + int(100 * alpha) + 7 * n + ddof)


@pytest.mark.parametrize("ddof", DDOFS)
def test_mix_stationary_state_matches_fixed_point(ddof):
    n, alpha, T = 20, 0.25, 150
    tr = cl.run_loop(cl.Gaussian1D(ddof), cl.Gaussian1D(ddof).params(MU, SIGMA2), n=n,
                     generations=T, replicates=20_000, schedule=cl.mix(alpha), exact=True,
                     seed=300 + ddof, record_every=T)
    e_star, v_star = C.mix_fixed_point(SIGMA2, n, alpha, ddof)
    assert _z((tr["mean"][-1] - MU) ** 2, e_star) < Z
    assert _z(tr["var"][-1], v_star) < Z
    e, v = C.mix_moments(SIGMA2, n, alpha, T, ddof)
    assert e[-1] == pytest.approx(e_star, rel=1e-9) and v[-1] == pytest.approx(v_star, rel=1e-9)


def test_fixed_point_exists_for_every_positive_real_count():
    """prf:ref thm-07-mix-moments: the recursion contracts whenever m >= 1, and the closed-form
    fixed point is the limit of the recursion, with the stated variance bounds."""
    for n in [2, 3, 5, 12, 40]:
        for m in range(1, n + 1):
            for ddof in (0, 1):
                e_star, v_star = C.mix_fixed_point(1.0, n, m / n, ddof)
                e, v = C.mix_moments(1.0, n, m / n, 4000, ddof)
                assert e[-1] == pytest.approx(e_star, rel=1e-8)
                assert v[-1] == pytest.approx(v_star, rel=1e-8)
                lo, hi = (0.5, 1.0) if ddof == 0 else (1.0, 2.0)
                assert lo - 1e-12 <= v_star <= hi + 1e-12
                ratio = C.mix_error_factor(n, m / n, ddof) / C.mix_error_factor(n, m / n, ddof, True)
                assert 0.5 - 1e-12 <= ratio <= 2.0 + 1e-12


def test_shrinking_fraction_limits():
    """prf:ref cor-07-shrinking (3): m fixed, n -> infinity: e* -> sigma^2 / (2m + 1 - 2 ddof)."""
    m, n = 3, 10**6
    for ddof, known, expected in [(0, False, 1 / 7), (1, False, 1 / 5), (0, True, 1 / 6)]:
        e_star, _ = C.mix_fixed_point(SIGMA2, n, m / n, ddof, known_variance=known)
        assert e_star == pytest.approx(SIGMA2 * expected, rel=1e-4)
    # a fixed fraction keeps n e* bounded; alpha = n^(-1/2) makes it grow like sqrt(n) / 2
    f = [C.mix_error_factor(n_, 0.2) for n_ in (100, 1000, 10_000)]
    assert max(f) / min(f) < 1.05
    g = [C.mix_error_factor(n_, n_**-0.5) / np.sqrt(n_) for n_ in (10_000, 1_000_000)]
    assert g[-1] == pytest.approx(0.5, rel=2e-3)


def test_no_collapse_along_chains():
    """prf:ref prop-07-no-collapse: with m >= 2 real points the variance keeps returning."""
    tr = cl.run_loop(cl.Gaussian1D(0), cl.Gaussian1D(0).params(0.0, 1.0), n=20, generations=400,
                     replicates=200, schedule=cl.mix(0.1), exact=True, seed=5)
    late = tr["var"][200:]
    assert np.all(late.max(axis=0) > 0.3)      # every chain is far from collapse, late on
    replace = cl.run_loop(cl.Gaussian1D(0), cl.Gaussian1D(0).params(0.0, 1.0), n=20,
                          generations=400, replicates=200, exact=True, seed=5)
    assert np.median(replace["var"][-1]) < 1e-3  # whereas replace collapses


# --- reductions: alpha = 0 and alpha = 1 ------------------------------------------------------
@pytest.mark.parametrize("exact", SAMPLERS)
def test_mix_extremes_reduce_to_pure_schedules(exact):
    model = cl.Gaussian1D(1)
    kw = dict(n=6, generations=7, replicates=50, exact=exact, seed=11)
    truth = model.params(MU, SIGMA2)
    pairs = [(cl.mix(0.0), cl.replace()), (cl.mix(1.0), cl.all_real()),
             (cl.accumulate_mix(0.0), cl.accumulate())]
    for a, b in pairs:
        ta, tb = cl.run_loop(model, truth, schedule=a, **kw), cl.run_loop(model, truth, schedule=b, **kw)
        np.testing.assert_array_equal(ta["mean"], tb["mean"])
        np.testing.assert_array_equal(ta["var"], tb["var"])


@pytest.mark.parametrize("ddof", [0, 1])
def test_theory_reduces_to_chapter_2(ddof):
    t = np.arange(9)
    e, v = C.mix_moments(SIGMA2, 10, 0.0, 8, ddof)
    np.testing.assert_allclose(e, G.mean_squared_drift(SIGMA2, 10, t, ddof))
    np.testing.assert_allclose(v, G.expected_variance(SIGMA2, 10, t, ddof))
    e, v = C.mix_moments(SIGMA2, 10, 1.0, 8, ddof)           # all-real: one batch's error
    np.testing.assert_allclose(e[1:], SIGMA2 / 10)
    np.testing.assert_allclose(v[1:], SIGMA2 * 9 / (10 - ddof))
    e, v = C.accumulate_mix_moments(SIGMA2, 10, 0.0, 8, ddof)
    var_acc, msd_acc = G.accumulate_moments(SIGMA2, 10, 8, ddof)
    np.testing.assert_allclose(e, msd_acc)
    np.testing.assert_allclose(v, var_acc)
    e, v = C.accumulate_mix_moments(SIGMA2, 10, 1.0, 8, ddof)  # all real, accumulated
    np.testing.assert_allclose(e[1:], SIGMA2 / (10 * t[1:]))
    np.testing.assert_allclose(v[1:], SIGMA2 * (10 * t[1:] - 1) / (10 * t[1:] - ddof))


# --- thm-07-crt-gauss and lem-07-memory: accumulate_mix -----------------------------------------
@pytest.mark.parametrize("exact", SAMPLERS)
@pytest.mark.parametrize("ddof", DDOFS)
@pytest.mark.parametrize("alpha,n", [(0.1, 10), (0.5, 6), (0.75, 8)])
def test_accumulate_mix_moments_match_simulation(alpha, n, ddof, exact):
    _check_moments(cl.accumulate_mix(alpha), C.accumulate_mix_moments, alpha, n, ddof, exact,
                   T=12, seed=400 + int(100 * alpha) + 3 * n + ddof)


@pytest.mark.parametrize("exact", SAMPLERS)
@pytest.mark.parametrize("alpha", [0.2, 0.5, 0.9])
def test_accumulate_mix_known_variance(alpha, exact):
    n, T = 10, 15
    tr = _run(KnownVarianceGaussian1D(SIGMA2), cl.accumulate_mix(alpha), n, T, 20_000, exact,
              seed=500 + int(100 * alpha))
    theory = C.accumulate_mix_known_variance_error(SIGMA2, n, alpha, np.arange(T + 1))
    assert np.all(_z((tr["mean"][1:] - MU) ** 2, theory[1:]) < Z)
    e, _ = C.accumulate_mix_moments(SIGMA2, n, alpha, T, known_variance=True)
    np.testing.assert_allclose(e, theory, rtol=1e-10)


def test_memory_kernel():
    a = 0.3
    s, t = np.arange(1, 50), 60
    direct = np.array([np.prod(1 - a / np.arange(si + 1, t + 1)) for si in s])
    np.testing.assert_allclose(C.memory_kernel(a, s, t), direct, rtol=1e-10)
    assert C.memory_kernel(a, 5, 5) == pytest.approx(1.0)
    np.testing.assert_allclose(C.memory_kernel(1.0, np.arange(0, 6), 5), np.arange(0, 6) / 5)
    # K(s, t) ~ (s / t)^alpha
    assert C.memory_kernel(a, 10**5, 10**7) == pytest.approx(1e-2**a, rel=1e-4)


def test_accumulate_mix_three_regimes():
    """thm-07-crt-gauss: n t e_t / sigma^2 -> 1/(2a - 1) for a > 1/2, ~ log t at a = 1/2,
    and e_t t^(2a) converges for a < 1/2 (known variance, n = 20 so a = alpha exactly)."""
    n = 20
    T = 200_000
    for alpha in (0.75, 1.0):
        e, _ = C.accumulate_mix_moments(1.0, n, alpha, T, known_variance=True)
        assert n * T * e[-1] == pytest.approx(C.accumulate_mix_limit_factor(alpha), rel=2e-3)
    e, _ = C.accumulate_mix_moments(1.0, n, 0.5, T, known_variance=True)
    t1, t2 = 10**3, T
    growth = n * t2 * e[t2] - n * t1 * e[t1]
    assert growth == pytest.approx(np.log(t2 / t1), rel=1e-2)
    e, _ = C.accumulate_mix_moments(1.0, n, 0.25, T, known_variance=True)
    scaled = e[[T // 10, T]] * np.array([T // 10, T]) ** 0.5
    assert scaled[1] == pytest.approx(scaled[0], rel=1e-2)
    # and with an estimated variance the same limit (v_t -> sigma^2)
    e, v = C.accumulate_mix_moments(1.0, n, 0.75, T, ddof=0)
    assert v[-1] == pytest.approx(1.0, rel=1e-2)
    assert n * T * e[-1] == pytest.approx(2.0, rel=1e-2)


def test_rate_exponent_and_regimes():
    assert C.crt_rate_exponent(0.3) == 0.3 and C.crt_rate_exponent(0.8) == 0.5
    assert C.crt_rate_exponent(0.8, p=1.0) == 0.8
    assert C.crt_regime(0.3) == "data-limited"
    assert C.crt_regime(0.5) == "critical"
    assert C.crt_regime(0.9) == "model-limited"
    assert C.accumulate_mix_limit_factor(0.5) == np.inf
    assert C.accumulate_mix_limit_factor(1.0) == 1.0


# --- the known-variance model ---------------------------------------------------------------
def test_known_variance_model():
    m = KnownVarianceGaussian1D(3.0)
    p = m.params(1.0, replicates=4)
    np.testing.assert_allclose(p.var, 3.0)
    fitted = m.fit(m.stats(np.array([[0.0, 2.0, 4.0]])))
    assert fitted.mean[0] == pytest.approx(2.0) and fitted.var[0] == 3.0
    with pytest.raises(ValueError, match="var"):
        m.params(0.0, var=2.0)
    with pytest.raises(ValueError, match="var"):
        KnownVarianceGaussian1D(0.0)
    with pytest.raises(ValueError, match="var"):
        KnownVarianceGaussian1D(float("nan"))
    assert "3" in repr(m)


# --- input validation -----------------------------------------------------------------------
def _call(name, sigma2=1.0, n=10, alpha=0.5, ddof=0):
    calls = {
        "mix_moments": lambda: C.mix_moments(sigma2, n, alpha, 5, ddof),
        "accumulate_mix_moments": lambda: C.accumulate_mix_moments(sigma2, n, alpha, 5, ddof),
        "mix_fixed_point": lambda: C.mix_fixed_point(sigma2, n, alpha, ddof),
        "mix_known_variance_error": lambda: C.mix_known_variance_error(sigma2, n, alpha, 3),
        "accumulate_mix_known_variance_error":
            lambda: C.accumulate_mix_known_variance_error(sigma2, n, alpha, 3),
    }
    return calls[name]()


THEORY = ["mix_moments", "accumulate_mix_moments", "mix_fixed_point",
          "mix_known_variance_error", "accumulate_mix_known_variance_error"]


@pytest.mark.parametrize("name", THEORY)
@pytest.mark.parametrize("bad,match", [
    ({"alpha": -0.1}, "alpha"), ({"alpha": 1.5}, "alpha"), ({"alpha": float("nan")}, "alpha"),
    ({"n": 1}, "n must be >= 2"), ({"n": 2.5}, "n must be an integer"),
    ({"sigma2": 0.0}, "sigma2"), ({"sigma2": float("nan")}, "sigma2"),
    ({"sigma2": "1"}, "sigma2"),
])
def test_validation(name, bad, match):
    with pytest.raises(ValueError, match=match):
        _call(name, **bad)


@pytest.mark.parametrize("name", THEORY[:3])
def test_validation_ddof(name):
    with pytest.raises(ValueError, match="ddof"):
        _call(name, ddof=2)


def test_validation_misc():
    with pytest.raises(ValueError, match="generations"):
        C.mix_moments(1.0, 10, 0.5, -1)
    with pytest.raises(ValueError, match="t must be"):
        C.mix_known_variance_error(1.0, 10, 0.5, -2)
    with pytest.raises(ValueError, match="t must be"):
        C.accumulate_mix_known_variance_error(1.0, 10, 0.5, 2.5)
    with pytest.raises(ValueError, match="0 real points"):
        C.mix_fixed_point(1.0, 10, 0.04)          # round(0.4) = 0: replace, no fixed point
    with pytest.raises(ValueError, match="s <= t"):
        C.memory_kernel(0.5, 5, 3)
    with pytest.raises(ValueError, match="alpha"):
        C.mix_limit_factor(np.array([0.5, 1.2]))
    with pytest.raises(ValueError, match="alpha"):
        C.mix_limit_factor(float("nan"))
    with pytest.raises(ValueError, match="alpha"):
        C.accumulate_mix_limit_factor(-0.5)
    with pytest.raises(ValueError, match="p must be"):
        C.crt_rate_exponent(0.5, p=0.0)
    with pytest.raises(ValueError, match="n must be"):
        C.realised_fraction(0, 0.5)


# --- hypothesis properties -----------------------------------------------------------------
fractions = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@settings(max_examples=40, deadline=None)
@given(a=st.floats(min_value=1e-3, max_value=1.0), b=st.floats(min_value=1e-3, max_value=1.0))
def test_limit_factor_decreasing_and_one_at_one(a, b):
    fa, fb = C.mix_limit_factor(a), C.mix_limit_factor(b)
    assert fa >= 1.0 - 1e-12 and fb >= 1.0 - 1e-12
    if a < b:
        assert fa > fb
    assert C.mix_limit_factor(1.0) == 1.0
    assert C.mix_limit_factor(0.0) == np.inf
    np.testing.assert_allclose(C.mix_limit_factor(np.array([a, b])), [fa, fb])


@settings(max_examples=40, deadline=None)
@given(a=st.floats(min_value=0.5001, max_value=1.0), b=st.floats(min_value=0.5001, max_value=1.0))
def test_accumulate_limit_factor_decreasing(a, b):
    if a < b:
        assert C.accumulate_mix_limit_factor(a) > C.accumulate_mix_limit_factor(b)
    assert C.accumulate_mix_limit_factor(a) >= 1.0 - 1e-12


@settings(max_examples=30, deadline=None)
@given(n=st.integers(min_value=2, max_value=200), alpha=fractions, ddof=st.sampled_from([0, 1]),
       known=st.booleans())
def test_moments_nonnegative_and_fixed_point_is_stationary(n, alpha, ddof, known):
    e, v = C.mix_moments(1.0, n, alpha, 30, ddof, known)
    assert np.all(e >= 0) and np.all(v > 0)
    e2, v2 = C.accumulate_mix_moments(1.0, n, alpha, 30, ddof, known)
    assert np.all(e2 >= 0) and np.all(v2 > 0)
    if C.real_points(n, alpha) >= 1:
        e_star, v_star = C.mix_fixed_point(1.0, n, alpha, ddof, known)
        A, b = C._mix_system(1.0, n, C.real_points(n, alpha), ddof, known)
        np.testing.assert_allclose(A @ np.array([e_star, v_star]) + b, [e_star, v_star],
                                   rtol=1e-9, atol=1e-12)
        assert e_star > 0 and v_star > 0


@settings(max_examples=40, deadline=None)
@given(n=st.integers(min_value=1, max_value=10_000), alpha=fractions)
def test_rounding_matches_the_schedule(n, alpha):
    n_real, n_synth = cl.mix(alpha).batch_sizes(1, n)
    assert C.real_points(n, alpha) == n_real
    assert C.realised_fraction(n, alpha) == n_real / n


@settings(max_examples=30, deadline=None)
@given(alpha=fractions, p=st.floats(min_value=0.01, max_value=2.0))
def test_rate_exponent_is_min(alpha, p):
    assert C.crt_rate_exponent(alpha, p) == min(alpha, p)
    regime = C.crt_regime(alpha, p)
    assert regime == ("model-limited" if alpha > p else "critical" if alpha == p else "data-limited")
