"""Chapter 11: biased samplers (temperature, top-k, top-p) of the categorical model.

The population maps of ``collapselab.theory.error_types`` are checked exactly (property tests
with hypothesis), the wrapper model's samplers against their target distributions (chi-square,
both the exact multinomial path and the sample path), the reduction to the plain model draw for
draw, and the fixed points of the mixed loop against long seeded simulations within a few
Monte-Carlo standard errors.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats as sps

import collapselab as cl
from collapselab.models.categorical import Categorical, zipf_probs
from collapselab.models.sampling_bias import (BiasedCategorical, CategoricalBias, entropy_metric,
                                              error_metrics)
from collapselab.models.tempered import TemperedGaussian1D
from collapselab.theory import error_types as et

Z = 5.0  # tolerance in standard errors
P_MIN = 1e-4  # smallest acceptable chi-square p-value (seeded, so never flaky)

# probability vectors; entries below 1e-9 are set to zero (the loop's fitted probabilities are
# multiples of 1/n, so subnormal probabilities never occur and only add floating-point noise)
probs_strategy = st.lists(st.floats(0.0, 1.0), min_size=2, max_size=12).map(
    lambda w: np.where(np.asarray(w) < 1e-9, 0.0, w)).filter(
    lambda w: w.sum() > 1e-3).map(lambda w: w / w.sum())
tau_strategy = st.floats(0.2, 5.0).filter(lambda t: abs(t - 1.0) > 1e-3)


def _uniform_on_support(p):
    s = p[p > 0]
    return np.allclose(s, s[0], rtol=0, atol=1e-12)


# ----------------------------------------------------------------------- population maps
@settings(max_examples=40, deadline=None)
@given(probs_strategy, tau_strategy)
def test_temper_is_a_distribution_on_the_same_support(p, tau):
    q = et.temper(p, tau)
    assert np.isclose(q.sum(), 1.0)
    assert np.all(q[p == 0] == 0)
    with np.errstate(divide="ignore"):
        representable = np.log(p / p.max()) / tau > -700     # no floating-point underflow
    assert np.all(q[representable] > 0)


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 12), st.data(), tau_strategy)
def test_uniform_laws_on_subsets_are_fixed_points(K, data, tau):
    """{prf:ref}`thm-11-temper` (b): every uniform law on a subset is fixed by T_tau."""
    support = data.draw(st.lists(st.booleans(), min_size=K, max_size=K).filter(any))
    p = np.asarray(support, dtype=float)
    p /= p.sum()
    assert np.allclose(et.temper(p, tau), p, atol=1e-14)
    assert np.allclose(et.truncate_top_k(et.temper(p, tau), K), p, atol=1e-14)


@settings(max_examples=40, deadline=None)
@given(probs_strategy, tau_strategy)
def test_only_uniform_laws_are_fixed(p, tau):
    """{prf:ref}`thm-11-temper` (b): T_tau(p) = p forces p to be uniform on its support."""
    q = et.temper(p, tau)
    if _uniform_on_support(p):
        assert np.abs(q - p).max() < 1e-12
    else:
        s = p[p > 0]
        assume(s.max() > 1.01 * s.min())
        assert np.max(np.abs(q[p > 0] / s - 1.0)) > 1e-6     # some probability moves


@settings(max_examples=40, deadline=None)
@given(probs_strategy, st.floats(0.3, 3.0), st.floats(0.3, 3.0), st.integers(0, 6))
def test_composition_and_iterates(p, a, b, s):
    """{prf:ref}`thm-11-temper` (a): T_a o T_b = T_(ab), hence T_tau^s = T_(tau^s)."""
    assert np.allclose(et.temper(et.temper(p, b), a), et.temper(p, a * b), atol=1e-12)
    q = p.copy()
    for _ in range(s):
        q = et.temper(q, a)
    assert np.allclose(et.iterate_temper(p, a, s), q, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(probs_strategy, tau_strategy)
def test_entropy_is_monotone_along_the_replace_population_trajectory(p, tau):
    """{prf:ref}`thm-11-temper` (c): entropy decreases for tau < 1 and increases for tau > 1,
    towards log |argmax| and log |support|."""
    H = np.array([et.entropy(et.iterate_temper(p, tau, s)) for s in range(40)])
    d = np.diff(H)
    gap = 1.0 - p / p.max()
    assume(not np.any((gap > 0) & (gap < 1e-6)))      # no numerically unresolvable near-ties
    if tau < 1:
        assert np.all(d <= 1e-12)
        limit = np.log(np.count_nonzero(gap == 0))
    else:
        assert np.all(d >= -1e-12)
        limit = np.log(np.count_nonzero(p))
    far = et.iterate_temper(p, tau, 10**7)              # tau^(-s) over- or underflows: the limit
    assert np.isclose(et.entropy(far), limit, atol=1e-6)


@settings(max_examples=30, deadline=None)
@given(probs_strategy, st.floats(0.3, 3.0))
def test_entropy_derivative_formula(p, tau):
    """dH/dbeta = -beta Var_q(log p) (the proof of {prf:ref}`thm-11-temper`), by finite differences."""
    beta, h = 1.0 / tau, 1e-6
    Hp = et.entropy(et.temper(p, 1.0 / (beta + h)))
    Hm = et.entropy(et.temper(p, 1.0 / (beta - h)))
    fd = (Hp - Hm) / (2 * h)
    assert et.entropy_derivative(p, tau) <= 1e-15
    assert np.isclose(fd, et.entropy_derivative(p, tau), rtol=1e-4, atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(probs_strategy, st.integers(1, 12))
def test_top_k_keeps_exactly_k_and_is_idempotent(p, k):
    """{prf:ref}`prop-11-truncation`: support min(k, |supp p|), the k largest, fixed after one step."""
    k = min(k, p.size)
    q = et.truncate_top_k(p, k)
    assert np.isclose(q.sum(), 1.0)
    assert np.count_nonzero(q) == min(k, np.count_nonzero(p))
    kept = q > 0
    if kept.sum() and (~kept & (p > 0)).any():
        assert p[kept].min() >= p[~kept].max()
    assert np.allclose(et.truncate_top_k(q, k), q, atol=1e-15)
    assert np.isclose(et.total_variation(q, p), 1.0 - p[kept].sum())


@settings(max_examples=40, deadline=None)
@given(probs_strategy, st.floats(0.05, 0.999))
def test_top_p_keeps_the_smallest_prefix_reaching_p(p, rho):
    """{prf:ref}`def-11-samplers`: the nucleus reaches mass rho, is minimal, drops at most 1 - rho."""
    mask = et.nucleus_mask(p, rho)
    kept = p[mask]
    assert kept.sum() >= rho - 1e-12 or np.isclose(kept.sum(), p.sum())
    assert 1.0 - kept.sum() <= 1.0 - rho + 1e-12
    if mask.sum() > 1:
        assert kept.sum() - kept.min() < rho + 1e-12       # minimal
    if (~mask & (p > 0)).any():
        assert kept.min() >= p[~mask].max()                 # a prefix of the ranking
    q = et.truncate_top_p(p, rho)
    assert np.isclose(q.sum(), 1.0)


@settings(max_examples=25, deadline=None)
@given(probs_strategy, st.floats(0.3, 0.99))
def test_iterated_nucleus_settles_below_one_over_one_minus_p(p, rho):
    """{prf:ref}`prop-11-truncation`: the replace population limit under top-p keeps fewer than
    1 / (1 - rho) categories and is a fixed point."""
    lim = et.nucleus_limit(p, rho)
    assert lim["support"] < 1.0 / (1.0 - rho) + 1e-9 or lim["support"] == 1
    assert np.allclose(et.truncate_top_p(lim["probs"], rho), lim["probs"])
    assert np.all(np.diff(lim["sizes"]) < 0)
    q = lim["probs"][lim["probs"] > 0]
    assert q.min() > (1.0 - rho) * q.sum() - 1e-12


@settings(max_examples=30, deadline=None)
@given(probs_strategy, st.floats(0.3, 3.0), st.integers(0, 20))
def test_population_trajectory_schedules(p, tau, T):
    """Loop convention: p_1 = p*; replace gives T_(tau^(t-1)); alpha = 1 stays at the truth;
    mix(0) is replace."""
    rep = et.population_trajectory(p, T, cl.replace(), tau=tau)
    for t in range(1, T + 1):
        assert np.allclose(rep[t], et.iterate_temper(p, tau, t - 1), atol=1e-9)
    assert np.allclose(et.population_trajectory(p, T, cl.mix(1.0), tau=tau), p)
    assert np.allclose(et.population_trajectory(p, T, cl.mix(0.0), tau=tau), rep)
    assert np.allclose(rep.sum(axis=1), 1.0)


def test_accumulate_population_converges_slowly_to_the_same_limit():
    """{prf:ref}`thm-11-temper` (d): under accumulate the ratios p_t(k)/p_t(mode) move
    monotonically towards the replace limit, but only like a harmonic series."""
    p = zipf_probs(6, 1.0)
    cold = et.population_trajectory(p, 3000, cl.accumulate(), tau=0.8)
    r = cold[:, 1:] / cold[:, :1]
    assert np.all(np.diff(r[1:], axis=0) <= 1e-15)
    assert cold[-1, 0] > 0.95 and cold[100, 0] < cold[-1, 0]
    hot = et.population_trajectory(p, 3000, cl.accumulate(), tau=1.5)
    r = hot[:, 1:] / hot[:, :1]
    assert np.all(np.diff(r[1:], axis=0) >= -1e-15)
    assert et.entropy(hot[-1]) > 0.98 * np.log(6)
    # much slower than replace
    assert et.entropy(cold[20]) > et.entropy(et.population_trajectory(p, 20, tau=0.8)[-1]) + 0.5


# ---------------------------------------------------------------------- mixing: fixed points
@settings(max_examples=25, deadline=None)
@given(probs_strategy, st.floats(0.05, 0.95), st.floats(0.4, 2.5))
def test_mix_fixed_point_identity(p, alpha, tau):
    """{prf:ref}`thm-11-mix`: support of p*, and TV(p_bar, p*) = (1 - alpha) TV(S(p_bar), p*)
    = ((1 - alpha)/alpha) TV(S(p_bar), p_bar)."""
    fp = et.mix_fixed_point(p, alpha, tau)
    assert fp["converged"]
    pb = fp["probs"]
    assert np.array_equal(pb > 0, p > 0)
    s = et.temper(pb, tau)
    assert np.isclose(fp["tv"], (1 - alpha) * et.total_variation(s, p), atol=1e-10)
    assert np.isclose(fp["tv"], (1 - alpha) / alpha * et.total_variation(s, pb), atol=1e-9)
    assert fp["tv"] <= 1 - alpha + 1e-12


@pytest.mark.parametrize("alpha", [0.1, 0.3, 0.7])
@pytest.mark.parametrize("k", [1, 3, 7])
def test_top_k_mix_fixed_point_closed_form(alpha, k):
    p = zipf_probs(10, 1.2)
    closed = et.top_k_mix_fixed_point(p, alpha, k)
    it = et.mix_fixed_point(p, alpha, top_k=k)
    assert it["converged"]
    assert np.allclose(closed["probs"], it["probs"], atol=1e-12)
    assert np.isclose(closed["tv"], (1 - alpha) * (1 - np.sort(p)[::-1][:k].sum()))


def test_first_order_tv_is_exact_to_first_order():
    p = zipf_probs(20, 1.1)
    for alpha in (0.2, 0.5):
        for d in (0.02, -0.02):
            tau = 1.0 / (1.0 + d)
            fp = et.mix_fixed_point(p, alpha, tau)["tv"]
            fo = et.first_order_tv(p, tau, alpha)
            assert abs(fp - fo) / fo < 0.2
            small = et.mix_fixed_point(p, alpha, 1.0 / (1.0 + d / 10))["tv"]
            assert abs(small - fo / 10) / (fo / 10) < 0.03  # error shrinks with the distortion


def test_mix_fixed_point_vectorised_grid_matches_pointwise():
    p = zipf_probs(8, 1.0)
    A, T = np.meshgrid([0.1, 0.5], [0.6, 1.0, 1.8])
    grid = et.mix_fixed_point(p, A, T)
    for i in range(3):
        for j in range(2):
            single = et.mix_fixed_point(p, A[i, j], T[i, j])
            assert np.allclose(grid["probs"][i, j], single["probs"], atol=1e-12)
    assert np.allclose(grid["tv"][1], 0.0)   # tau = 1: the truth


def test_pitchfork_two_categories():
    """{prf:ref}`thm-11-pitchfork`: one fixed point for tau >= 1 - alpha, three below; the outer
    two stable, the middle one unstable with slope (1 - alpha)/tau."""
    alpha = 0.2
    for tau in (0.5, 0.7, 0.79):
        roots = et.two_category_fixed_points(alpha, tau)
        assert len(roots) == 3 and np.isclose(roots[1], 0.5)
        assert np.isclose(roots[0] + roots[2], 1.0)
        assert np.all(et.two_category_map_slope(roots[[0, 2]], alpha, tau) < 1)
        assert et.two_category_map_slope(0.5, alpha, tau) > 1
    for tau in (0.81, 1.0, 3.0):
        roots = et.two_category_fixed_points(alpha, tau)
        assert np.allclose(roots, [0.5])
    for tau in (0.5, 2.0):
        assert np.isclose(et.two_category_map_slope(0.5, alpha, tau), (1 - alpha) / tau)
    assert np.isclose(et.uniform_critical_tau(alpha), 0.8)


@pytest.mark.parametrize("K", [2, 5])
def test_stability_radius_and_jacobian(K):
    u = np.full(K, 1.0 / K)
    assert np.isclose(et.mix_stability_radius(u, 0.3, 0.6), 0.7 / 0.6)
    p = zipf_probs(K, 1.0)
    J = et.tempering_jacobian(p, 0.7)
    h = 1e-7
    v = np.random.default_rng(0).standard_normal(K)
    v -= v.mean()          # a tangent direction: p +- h v still sums to one
    fd = (et.temper(p + h * v, 0.7) - et.temper(p - h * v, 0.7)) / (2 * h)
    assert np.allclose(fd, J @ v, atol=1e-6)
    ev = np.sort(np.linalg.eigvals(J).real)
    assert abs(ev[0]) < 1e-10 and np.all(ev > -1e-10)


# ------------------------------------------------------------------ the wrapper model
@pytest.mark.parametrize("exact", [True, False])
@pytest.mark.parametrize("kwargs", [dict(tau=0.6), dict(tau=1.7), dict(top_k=3), dict(top_p=0.8),
                                    dict(tau=0.8, top_k=5, top_p=0.9)])
def test_sampler_draws_from_the_biased_distribution(kwargs, exact):
    """Pooled counts of many chains against n R S(p): chi-square, both samplers."""
    K, R, n = 8, 400, 50
    m = BiasedCategorical(K, **kwargs)
    p = zipf_probs(K, 1.0)
    fitted = np.tile(p, (R, 1))
    q = et.sampling_distribution(p, **kwargs)
    counts = m.synthetic.draw_stats(m, fitted, n, np.random.default_rng(7), exact=exact)
    assert counts.shape == (R, K) and np.all(counts.sum(axis=1) == n)
    assert np.all(counts[:, q == 0] == 0)
    pos = q > 0
    if set(kwargs) == {"top_k"}:
        assert np.count_nonzero(q) == kwargs["top_k"]
    if pos.sum() > 1:
        pval = sps.chisquare(counts.sum(axis=0)[pos], n * R * q[pos]).pvalue
        assert pval > P_MIN
    # the model's own sampler (the one the loop uses for the truth) samples p itself
    truth = m.params(p, R)
    c0 = m.sample_stats(truth, n, np.random.default_rng(8), exact=exact).sum(axis=0)
    assert sps.chisquare(c0, n * R * p).pvalue > P_MIN


@pytest.mark.parametrize("exact", [True, False])
def test_sampler_is_applied_chain_by_chain(exact):
    """Different chains, different fitted laws: each chain's top-k support is its own."""
    K, R, n = 6, 300, 40
    rng = np.random.default_rng(3)
    probs = rng.dirichlet(np.ones(K), size=R)
    m = BiasedCategorical(K, top_k=2)
    counts = m.synthetic.draw_stats(m, probs, n, rng, exact=exact)
    keep = et.truncate_top_k(probs, 2) > 0
    assert np.all(counts[~keep] == 0)
    assert np.all(keep.sum(axis=1) == 2)
    x = m.synthetic.draw_points(m, probs, n, rng)
    assert x.shape == (R, n)
    assert np.all(np.take_along_axis(keep, x, axis=1))


def test_sample_path_has_the_tempered_law():
    m = BiasedCategorical(5, tau=0.5)
    p = zipf_probs(5, 0.7)
    x = m.synthetic.draw_points(m, np.tile(p, (200, 1)), 100, np.random.default_rng(1))
    counts = np.bincount(x.ravel(), minlength=5)
    assert sps.chisquare(counts, x.size * et.temper(p, 0.5)).pvalue > P_MIN


@pytest.mark.parametrize("schedule", [cl.replace(), cl.mix(0.3), cl.accumulate(), cl.inject(4)])
@pytest.mark.parametrize("exact", [True, False])
@pytest.mark.parametrize("kwargs", [dict(), dict(tau=1.0), dict(top_k=12), dict(top_p=1.0),
                                    dict(tau=1.0, top_k=12, top_p=1.0)])
def test_identity_sampler_reduces_exactly_to_the_plain_model(kwargs, exact, schedule):
    """tau = 1, top-k = K, top-p = 1: the same trajectories, draw for draw, with the same seed."""
    K = 12
    plain = Categorical(K, keep="probs")
    biased = BiasedCategorical(Categorical(K, keep="probs"), **kwargs)
    assert biased.is_identity
    kw = dict(n=30, generations=12, replicates=25, schedule=schedule, exact=exact, seed=5,
              metrics=error_metrics())
    a = cl.run_loop(plain, plain.zipf(1.1), **kw)
    b = cl.run_loop(biased, biased.zipf(1.1), **kw)
    assert np.array_equal(a.final, b.final)
    for key in a.records:
        assert np.array_equal(a.records[key], b.records[key])
    for key in a.metrics:
        assert np.array_equal(a.metrics[key], b.metrics[key])


def test_real_data_are_not_biased():
    """Model 0 samples real data: under all_real every fit is unbiased for p*, even at tau = 0.3;
    and generation 1 of replace is a fit to real data."""
    K, n, R = 6, 40, 3000
    p = zipf_probs(K, 1.0)
    m = BiasedCategorical(K, tau=0.3, top_k=2)
    tr = cl.run_loop(m, m.params(p), n=n, generations=3, replicates=R, schedule=cl.all_real(),
                     exact=True, seed=2)
    se = np.sqrt(p * (1 - p) / n / R)
    assert np.all(np.abs(tr.final.mean(axis=0) - p) <= Z * se)
    tr1 = cl.run_loop(BiasedCategorical(Categorical(K, keep="probs"), tau=0.3), m.params(p), n=n,
                      generations=1, replicates=R, exact=False, seed=3)
    assert np.all(np.abs(tr1.records["probs"][1].mean(axis=0) - p) <= Z * se)


@pytest.mark.parametrize("kwargs,alpha", [(dict(tau=0.7), 0.3), (dict(tau=1.6), 0.2),
                                          (dict(top_k=4), 0.25), (dict(top_p=0.8), 0.4)])
def test_mix_fixed_point_matches_a_long_simulation(kwargs, alpha):
    """{prf:ref}`thm-11-mix`: with n = 10^6 (exact multinomial path, cost independent of n) the
    chains settle at the population fixed point, within Monte-Carlo error plus an O(1/n) bias."""
    K, n, R, T, last = 10, 1_000_000, 200, 60, 20
    p = zipf_probs(K, 1.0)
    m = BiasedCategorical(Categorical(K, keep="probs"), **kwargs)
    tr = cl.run_loop(m, m.params(p), n=n, generations=T, replicates=R, schedule=cl.mix(alpha),
                     exact=True, seed=11)
    per_chain = tr.records["probs"][-last:].mean(axis=0)        # (R, K)
    est = per_chain.mean(axis=0)
    se = per_chain.std(axis=0, ddof=1) / np.sqrt(R)
    fp = et.mix_fixed_point(p, alpha, **kwargs)["probs"]
    assert np.all(np.abs(est - fp) <= Z * se + 20.0 / n)


def test_replace_population_trajectory_matches_large_n():
    K, n, R, T = 8, 1_000_000, 100, 4
    p = zipf_probs(K, 1.0)
    m = BiasedCategorical(Categorical(K, keep="probs"), tau=0.75)
    tr = cl.run_loop(m, m.params(p), n=n, generations=T, replicates=R, exact=True, seed=4)
    pop = et.population_trajectory(p, T, tau=0.75)
    P = tr.records["probs"]
    se = P.std(axis=1, ddof=1) / np.sqrt(R)
    assert np.all(np.abs(P.mean(axis=1) - pop) <= Z * se + 50.0 / n)


# ---------------------------------------------------------------------- finite samples
@pytest.mark.parametrize("kwargs", [dict(tau=0.8), dict(top_k=5), dict(top_p=0.9), dict(tau=2.0)])
def test_zero_is_absorbing_under_replace(kwargs):
    """{prf:ref}`thm-11-finite`: a category with zero count never returns, chain by chain."""
    K, n, R, T = 20, 60, 300, 30
    m = BiasedCategorical(Categorical(K, keep="alive"), **kwargs)
    tr = cl.run_loop(m, m.zipf(1.1), n=n, generations=T, replicates=R, exact=True, seed=1)
    alive = tr.records["alive"]
    assert np.all(alive[1:] <= alive[:-1])


def test_loss_probability_bound_holds_from_the_worst_state():
    """{prf:ref}`thm-11-finite`: from counts (n - s + 1, 1, ..., 1) a tau-tempered sampler loses
    some category with probability at most s exp(-(n/s)^(1 - 1/tau))."""
    n, s, R = 60, 6, 20000
    counts = np.array([n - s + 1] + [1] * (s - 1))
    for tau in (2.0, 3.0, 5.0):
        m = BiasedCategorical(s, tau=tau)
        state = np.tile(counts / n, (R, 1))
        new = m.synthetic.draw_stats(m, state, n, np.random.default_rng(int(tau * 10)), exact=True)
        lost = np.mean((new == 0).any(axis=1))
        bound = et.loss_probability_bound(n, s, tau)
        assert lost <= bound + Z * np.sqrt(bound * (1 - bound) / R) + 1e-12
    assert et.loss_probability_bound(60, 6, float("inf")) == pytest.approx(6 * np.exp(-10))
    assert et.loss_probability_bound(60, 1, 2.0) == 0.0


def test_hot_sampler_keeps_more_categories_than_cold():
    """The observation of chapter 11: at equal n, hot samplers keep the support much longer."""
    K, n, R, T = 30, 200, 200, 60
    alive = {}
    for tau in (0.9, 1.0, 1.3):
        m = BiasedCategorical(K, tau=tau)
        tr = cl.run_loop(m, m.zipf(1.1), n=n, generations=T, replicates=R, exact=True, seed=2)
        alive[tau] = tr.records["surviving"][-1].mean()
    assert alive[0.9] < alive[1.0] < alive[1.3]


# ---------------------------------------------------------------------- the Gaussian analogue
def test_gaussian_precision_recall():
    prec, rec = et.gaussian_precision_recall(0.0, 1.0)
    assert np.isclose(prec, 0.95, atol=1e-3) and np.isclose(rec, 0.95, atol=1e-3)
    prec, rec = et.gaussian_precision_recall([0.0, 5.0], [0.0, 0.0])
    assert np.allclose(prec, [1.0, 0.0]) and np.allclose(rec, 0.0)
    prec, rec = et.gaussian_precision_recall(0.0, 0.25)     # a sharpened sampler
    assert prec > 0.95 and rec < 0.95


def test_effective_sample_size_inverts_the_all_real_error():
    for ne in (3.0, 17.5, 200.0, 5000.0):
        w = float(et.gaussian_w2sq_all_real(ne))
        assert np.isclose(et.effective_sample_size(w), ne, rtol=1e-6)
    assert np.all(np.diff(et.gaussian_w2sq_all_real(np.arange(2, 200))) < 0)


def test_fully_synthetic_gaussian_variance_decays_like_lambda_power():
    """After Alemohammad et al.: E v_t = lambda^(t-1) sigma^2 in the fully synthetic loop (ddof = 1)."""
    lam, n, R, T = 0.8, 20, 20000, 6
    m = TemperedGaussian1D(tau=np.sqrt(lam), ddof=1)
    tr = cl.run_loop(m, m.params(0.0, 1.0), n=n, generations=T, replicates=R, exact=True, seed=9)
    v = tr["var"]
    expect = lam ** np.maximum(np.arange(T + 1) - 1, 0)
    se = v.std(axis=1) / np.sqrt(R)
    assert np.all(np.abs(v.mean(axis=1) - expect) <= Z * se + 1e-12)


# ---------------------------------------------------------------------- validation
@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf"), "hot"])
def test_bad_tau(bad):
    with pytest.raises(ValueError, match="tau"):
        BiasedCategorical(5, tau=bad)
    with pytest.raises(ValueError, match="tau"):
        et.temper([0.5, 0.5], bad)


@pytest.mark.parametrize("bad", [0, -2, 6, 2.5, float("nan")])
def test_bad_top_k(bad):
    with pytest.raises(ValueError, match="top_k"):
        BiasedCategorical(5, top_k=bad)


@pytest.mark.parametrize("bad", [0.0, -0.1, 1.5, float("nan")])
def test_bad_top_p(bad):
    with pytest.raises(ValueError, match="top_p"):
        BiasedCategorical(5, top_p=bad)
    with pytest.raises(ValueError, match="top_p"):
        et.truncate_top_p([0.5, 0.5], bad)


def test_bad_inputs_elsewhere():
    with pytest.raises(ValueError, match="base"):
        BiasedCategorical("five")
    with pytest.raises(ValueError, match="p"):
        et.temper([0.5, np.nan], 0.5)
    with pytest.raises(ValueError, match="sum to 1"):
        et.temper([0.5, 0.6], 0.5)
    with pytest.raises(ValueError, match="non-negative"):
        et.entropy([1.5, -0.5])
    with pytest.raises(ValueError, match="top_k"):
        et.truncate_top_k([0.5, 0.5], 0)
    with pytest.raises(ValueError, match="alpha"):
        et.mix_fixed_point([0.5, 0.5], 1.5, 0.7)
    with pytest.raises(ValueError, match="alpha"):
        et.first_order_tv([0.5, 0.5], 0.7, 0.0)
    with pytest.raises(ValueError, match="tau"):
        et.loss_probability_bound(10, 2, 0.5)
    with pytest.raises(ValueError, match="var"):
        et.gaussian_precision_recall(0.0, -1.0)
    with pytest.raises(ValueError, match="probs"):
        BiasedCategorical(3).params([0.5, 0.5])
    with pytest.raises(ValueError, match="schedule"):
        et.population_trajectory([0.5, 0.5], 3, "replace")
    with pytest.raises(ValueError, match="w2sq"):
        et.effective_sample_size(10.0)


def test_metrics_accept_biased_params():
    m = BiasedCategorical(4, tau=0.5)
    truth = m.params([0.4, 0.3, 0.2, 0.1], 3)
    fitted = m.fit(np.tile([7, 3, 0, 0], (3, 1)))
    mets = error_metrics()
    assert np.allclose(mets["tv"](fitted, truth), 0.3)
    assert np.all(np.isinf(mets["kl"](fitted, truth)))
    assert np.allclose(mets["surviving"](fitted, truth), 2)
    assert np.allclose(entropy_metric(fitted), et.entropy(fitted))
    assert np.asarray(fitted).shape == (3, 4)
