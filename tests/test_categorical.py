"""Chapter 3: the refitted categorical model, its samplers, metrics and Wright--Fisher theory.

Every closed form of ``collapselab.theory.categorical`` is compared with seeded simulations of
many chains; the tolerance is a few Monte-Carlo standard errors (or, for the diffusion
approximations, a stated relative error).
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

import collapselab as cl
from collapselab.models.categorical import (Categorical, kl_divergence, standard_metrics,
                                            surviving_categories, tail_categories, tail_mass,
                                            tail_mass_metric, total_variation, zipf_probs)
from collapselab.theory import categorical as th

Z = 5.0  # tolerance in standard errors


def _se_check(sim_mean, theory, se, z=Z, floor=0.0):
    sim_mean, theory, se = map(np.asarray, (sim_mean, theory, se))
    assert np.all(np.abs(sim_mean - theory) <= z * se + floor), (
        f"max |sim - theory| / se = {np.max(np.abs(sim_mean - theory) / np.maximum(se, 1e-300)):.2f}")


def _run(K, p, n, T, R, schedule=None, exact=True, seed=0, smoothing=0.0):
    m = Categorical(K, smoothing=smoothing, keep="probs")
    return cl.run_loop(m, m.params(p), n=n, generations=T, replicates=R, schedule=schedule,
                       exact=exact, seed=seed)


# ----------------------------------------------------------------------------- the model
def test_zipf_probs():
    p = zipf_probs(100, 1.1)
    assert p.shape == (100,)
    assert np.isclose(p.sum(), 1.0)
    assert np.all(np.diff(p) < 0)
    assert np.allclose(zipf_probs(5, 0.0), 0.2)
    assert np.isclose(p[0] / p[1], 2**1.1)


def test_fit_is_empirical_frequency_and_smoothing():
    m = Categorical(3)
    counts = np.array([[2, 0, 8], [5, 5, 0]])
    assert np.allclose(m.fit(counts), counts / 10)
    ms = Categorical(3, smoothing=1.0)
    assert np.allclose(ms.fit(counts), (counts + 1) / 13)
    assert np.all(ms.fit(counts) > 0)


def test_stats_counts_indices_and_combine_adds():
    m = Categorical(4)
    data = np.array([[0, 0, 3, 1], [2, 2, 2, 2]])
    c = m.stats(data)
    assert c.tolist() == [[2, 1, 0, 1], [0, 0, 4, 0]]
    assert np.array_equal(m.combine(c, c), 2 * c)


@pytest.mark.parametrize("exact", [True, False])
def test_absorption_is_exact_for_every_chain(exact):
    """{prf:ref}`thm-03-absorption`: a zero count stays zero under replace, chain by chain."""
    K, n, R, T = 60, 40, 3000, 25
    m = Categorical(K)
    rng = np.random.default_rng(11)
    params = m.zipf(1.1, R)
    dead_seen = 0
    for _ in range(T):
        counts = m.sample_stats(params, n, rng, exact=exact)
        assert np.all(counts[params == 0] == 0)
        assert np.all(counts.sum(axis=1) == n)
        dead_seen += int(np.sum(params == 0))
        params = m.fit(counts)
    assert dead_seen > 0  # the test did see dead categories


def test_sample_returns_indices_with_the_right_frequencies():
    m = Categorical(5)
    p = np.array([0.4, 0.3, 0.2, 0.1, 0.0])
    x = m.sample(m.params(p, 4), 50_000, np.random.default_rng(3))
    assert x.shape == (4, 50_000) and x.dtype.kind == "i"
    freq = np.stack([np.bincount(row, minlength=5) for row in x]) / 50_000
    se = np.sqrt(p * (1 - p) / 50_000)
    _se_check(freq, p[None, :], se[None, :] + 1e-12)
    assert np.all(freq[:, 4] == 0)


@pytest.mark.parametrize("exact", [True, False])
def test_one_generation_counts_are_binomial(exact):
    """Each sampler's count of category k is Binomial(n, p_k) (chi-square goodness of fit)."""
    m = Categorical(4)
    p = np.array([0.5, 0.3, 0.15, 0.05])
    n, R = 12, 40_000
    counts = m.sample_stats(m.params(p, R), n, np.random.default_rng(5), exact=exact)
    for k in range(4):
        obs = np.bincount(counts[:, k], minlength=n + 1)
        exp = R * sps.binom.pmf(np.arange(n + 1), n, p[k])
        keep = exp >= 5
        obs_ = np.append(obs[keep], obs[~keep].sum())
        exp_ = np.append(exp[keep], exp[~keep].sum())
        if exp_[-1] < 5:  # merge the rare cells into the last kept one
            obs_, exp_ = obs_[:-1], exp_[:-1]
            obs_[-1] += obs[~keep].sum()
            exp_[-1] += exp[~keep].sum()
        assert sps.chisquare(obs_, exp_ * obs_.sum() / exp_.sum()).pvalue > 1e-4
    # multinomial covariance: Cov(X_0, X_1) = -n p_0 p_1
    cov = np.cov(counts[:, 0], counts[:, 1])[0, 1]
    assert abs(cov - (-n * p[0] * p[1])) < 5 * np.sqrt(n**2 * 0.5 / R) + 0.05


def test_exact_and_sample_paths_agree_in_distribution_over_generations():
    """The two samplers give the same law of the number of survivors after 10 generations."""
    K, n, R, T = 30, 25, 6000, 10
    res = {}
    for exact in (True, False):
        m = Categorical(K)
        tr = cl.run_loop(m, m.zipf(1.1), n=n, generations=T, replicates=R, exact=exact,
                         seed=21 + exact)
        res[exact] = tr.records["surviving"][-1]
    lo, hi = min(r.min() for r in res.values()), max(r.max() for r in res.values())
    table = np.array([np.bincount(res[e] - lo, minlength=hi - lo + 1) for e in (True, False)])
    table = table[:, table.sum(axis=0) >= 10]
    assert sps.chi2_contingency(table).pvalue > 1e-4
    # and both agree with the exact expected number of survivors
    theory = th.expected_survivors(zipf_probs(K, 1.1), n, T)[-1]
    for e in (True, False):
        _se_check(res[e].mean(), theory, res[e].std() / np.sqrt(R))


# --------------------------------------------------------------------------- validation
@pytest.mark.parametrize("bad, match", [
    (np.array([0.5, 0.6, 0.1]), "sum to 1"),
    (np.array([0.5, -0.1, 0.6]), "non-negative"),
    (np.array([0.5, np.nan, 0.5]), "NaN"),
    (np.array([0.5, 0.5]), "3 categories"),
    (np.ones((2, 2, 3)) / 3, "dimension"),
])
def test_params_validation(bad, match):
    with pytest.raises(ValueError, match=match):
        Categorical(3).params(bad)


def test_model_and_sampler_validation():
    with pytest.raises(ValueError, match="n_categories"):
        Categorical(1)
    with pytest.raises(ValueError, match="smoothing"):
        Categorical(3, smoothing=-1.0)
    with pytest.raises(ValueError, match="keep"):
        Categorical(3, keep="everything")
    with pytest.raises(ValueError, match="K"):
        zipf_probs(1, 1.1)
    with pytest.raises(ValueError, match="s"):
        zipf_probs(10, -0.5)
    m = Categorical(3)
    p = m.params([0.2, 0.3, 0.5], 2)
    rng = np.random.default_rng(0)
    for exact in (True, False):
        with pytest.raises(ValueError, match="n"):
            m.sample_stats(p, 0, rng, exact=exact)
    with pytest.raises(ValueError, match="n"):
        m.sample(p, 0, rng)
    with pytest.raises(ValueError, match="params"):
        m.sample_stats(np.array([[0.2, 0.3, 0.6]]), 5, rng)
    with pytest.raises(ValueError, match="params"):
        m.sample_stats(np.array([0.2, 0.3, 0.5]), 5, rng)  # not (R, K)
    with pytest.raises(ValueError, match="replicates"):
        m.params([0.2, 0.3, 0.5], 0)
    with pytest.raises(ValueError, match="data"):
        m.stats(np.array([[0, 3]]))
    with pytest.raises(ValueError, match="data"):
        m.stats(np.array([[0.5, 1.0]]))
    with pytest.raises(ValueError, match="counts"):
        m.fit(np.array([[0, 0, 0]]))
    with pytest.raises(ValueError, match="counts"):
        m.fit(np.array([[1, -1, 2]]))
    with pytest.raises(ValueError, match="combine"):
        m.combine(np.ones((2, 3)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="broadcast"):
        m.broadcast(np.ones((2, 3)) / 3, 5)


def test_theory_validation():
    p = zipf_probs(10, 1.0)
    with pytest.raises(ValueError, match="p"):
        th.survival_probability(np.array([0.5, 1.5]), 10, 3)
    with pytest.raises(ValueError, match="n"):
        th.survival_probability(p, 0, 3)
    with pytest.raises(ValueError, match="n"):
        th.wright_fisher_matrix(th.MAX_STATES + 1)
    with pytest.raises(ValueError, match="generations"):
        th.survival_probability(p, 10, -1)
    with pytest.raises(ValueError, match="alpha"):
        th.survival_probability_mix(p, 10, 1.5, 3)
    with pytest.raises(ValueError, match="alpha"):
        th.frequency_variance(p, 10, 3, alpha=-0.1)
    with pytest.raises(ValueError, match="p"):
        th.expected_survivors(np.array([0.5, 0.6]), 10, 3)
    with pytest.raises(ValueError, match="p"):
        th.absorption_time(0.0, 10)
    with pytest.raises(ValueError, match="p"):
        th.loss_time_diffusion(np.nan, 10)
    with pytest.raises(ValueError, match="alpha"):
        th.stationary_frequency_variance(0.1, 10, 0.0)


# ------------------------------------------------------------------------- Wright-Fisher
def test_wright_fisher_matrix_rows_and_absorbing_ends():
    P = th.wright_fisher_matrix(15)
    assert np.allclose(P.sum(axis=1), 1.0)
    assert P[0, 0] == 1.0 and P[15, 15] == 1.0
    assert np.allclose(P @ np.arange(16), np.arange(16))  # martingale: E[X'|X=i] = i


@pytest.mark.parametrize("exact", [True, False])
def test_martingale_variance_and_diversity_under_replace(exact):
    """{prf:ref}`thm-03-wright-fisher`: E p_t = p, Var p_t = p(1-p)(1-(1-1/n)^t), diversity decays."""
    K, n, R, T = 8, 20, 20_000, 12
    p = zipf_probs(K, 1.1)
    tr = _run(K, p, n, T, R, exact=exact, seed=31 + exact)
    probs = tr.records["probs"]                                   # (T+1, R, K)
    _se_check(probs.mean(axis=1), p[None, :], probs.std(axis=1) / np.sqrt(R) + 1e-12)
    d = (probs - p) ** 2
    V = th.frequency_variance(p, n, T)
    _se_check(d.mean(axis=1), V, d.std(axis=1) / np.sqrt(R) + 1e-12)
    assert np.allclose(V, p * (1 - p) * (1 - (1 - 1 / n) ** np.arange(T + 1))[:, None])
    div = 1 - (probs**2).sum(axis=2)
    _se_check(div.mean(axis=1), th.expected_diversity(p, n, T), div.std(axis=1) / np.sqrt(R) + 1e-12)


@pytest.mark.parametrize("exact", [True, False])
def test_survival_probability_matches_simulation(exact):
    """{prf:ref}`thm-03-absorption`: exact survival per category and expected survivors."""
    K, n, R, T = 25, 40, 20_000, 40
    p = zipf_probs(K, 1.1)
    tr = _run(K, p, n, T, R, exact=exact, seed=41 + exact)
    alive = tr.records["probs"] > 0                             # (T+1, R, K)
    sim = alive.mean(axis=1)
    S = th.survival_probability(p, n, T)
    _se_check(sim, S, np.sqrt(S * (1 - S) / R), floor=2.0 / R)
    surv = alive.sum(axis=2)
    _se_check(surv.mean(axis=1), th.expected_survivors(p, n, T), surv.std(axis=1) / np.sqrt(R),
              floor=1e-9)
    # rare categories go first: survival is decreasing in rank at every generation
    assert np.all(np.diff(S[1:], axis=1) <= 1e-12)
    assert np.allclose(S[1], 1 - th.loss_probability_one_step(p, n))


def test_absorption_fixation_and_loss_times():
    """{prf:ref}`thm-03-absorption` and {prf:ref}`thm-03-extinction-time` on two categories."""
    n, R, T = 20, 20_000, 500
    p = np.array([0.3, 0.7])
    tr = _run(2, p, n, T, R, seed=51)
    x = tr.records["probs"][:, :, 0]                             # (T+1, R)
    absorbed = (x == 0) | (x == 1)
    assert absorbed[-1].all()
    assert np.all(absorbed[1:] >= absorbed[:-1])                 # absorbing, chain by chain
    tau = np.argmax(absorbed, axis=0)
    _se_check(tau.mean(), th.absorption_time(0.3, n), tau.std() / np.sqrt(R))
    lost = x[-1] == 0
    _se_check(lost.mean(), 0.7, np.sqrt(0.21 / R))               # fixation probability p
    _se_check(tau[lost].mean(), th.loss_time(0.3, n), tau[lost].std() / np.sqrt(lost.sum()))
    _se_check(tau[~lost].mean(), (th.absorption_time(0.3, n) - 0.7 * th.loss_time(0.3, n)) / 0.3,
              tau[~lost].std() / np.sqrt((~lost).sum()))


def test_diffusion_approximations_are_close_to_exact():
    """The Kimura--Ohta diffusion formulas are within 2% of the exact chain once n p >= 10 (the error shrinks as n p grows)."""
    n = 800
    p = np.array([0.0125, 0.05, 0.2, 0.5, 0.8])
    ex, dif = th.absorption_time(p, n), th.absorption_time_diffusion(p, n)
    assert np.all(np.abs(ex / dif - 1) < 0.02)
    ex, dif = th.loss_time(p, n), th.loss_time_diffusion(p, n)
    assert np.all(np.abs(ex / dif - 1) < 0.02)
    assert np.isclose(th.absorption_time_diffusion(0.5, n), 2 * n * np.log(2))
    # K = 2: the vocabulary-collapse formula is the two-allele formula
    assert np.isclose(th.vocabulary_collapse_time_diffusion([0.3, 0.7], n),
                      th.absorption_time_diffusion(0.3, n))


def test_vocabulary_collapse_time_by_simulation():
    """Mean generations until one category is left: diffusion -2n sum (1-p) ln(1-p), within 5%
    (the discrete chain is 1-3% faster at these n)."""
    K, n, R = 4, 60, 3000
    p = np.array([0.4, 0.3, 0.2, 0.1])
    m = Categorical(K)
    tr = cl.run_loop(m, m.params(p), n=n, generations=40 * n, replicates=R, exact=True, seed=61)
    surv = tr.records["surviving"]
    assert np.all(surv[-1] == 1)
    tau = (surv > 1).sum(axis=0)
    theory = th.vocabulary_collapse_time_diffusion(p, n)
    assert abs(tau.mean() / theory - 1) < 0.05 + 4 * tau.std() / np.sqrt(R) / theory


def test_branching_approximation_for_rare_categories():
    """{prf:ref}`thm-03-rare`: lineage-survival bounds, and the Poisson-branching survival is
    within 0.01 of the exact Wright--Fisher survival for categories with n p <= 2."""
    q = th.lineage_survival(10_000)
    lo, hi = th.lineage_survival_bounds(10_000)
    assert np.all(lo <= q + 1e-15) and np.all(q <= hi + 1e-15)
    n, T = 2000, 150
    p = np.array([0.05, 0.2, 0.5, 1.0, 2.0]) / n
    exact = th.survival_probability(p, n, T)
    approx = th.survival_probability_branching(p, n, T)
    assert np.max(np.abs(exact - approx)) < 0.01
    # the cut-off rank shrinks with t
    k = th.cutoff_rank(2000, np.array([1, 10, 100]), 1.1, 1000)
    assert k[0] > k[1] > k[2] >= 1


# ---------------------------------------------------------------------- other schedules
@pytest.mark.parametrize("alpha", [0.0, 0.2])
def test_accumulate_survival_is_permanent_and_exact(alpha):
    """{prf:ref}`thm-03-accumulate`: alive iff some real draw hit the category; never lost once seen."""
    K, n, R, T = 30, 20, 10_000, 15
    p = zipf_probs(K, 1.1)
    sched = cl.accumulate() if alpha == 0 else cl.accumulate_mix(alpha)
    tr = _run(K, p, n, T, R, schedule=sched, seed=71)
    alive = tr.records["probs"] > 0
    assert np.all(alive[2:] >= alive[1:-1])                      # permanent, chain by chain
    S = th.survival_probability_accumulate(p, n, T, alpha)
    _se_check(alive.mean(axis=1), S, np.sqrt(S * (1 - S) / R), floor=2.0 / R)
    probs = tr.records["probs"]
    _se_check(probs.mean(axis=1), p[None, :], probs.std(axis=1) / np.sqrt(R) + 1e-12)
    d = (probs - p) ** 2
    V = th.frequency_variance(p, n, T, alpha=alpha, accumulate=True)
    _se_check(d.mean(axis=1), V, d.std(axis=1) / np.sqrt(R) + 1e-12)
    if alpha == 0:
        assert np.all(th.frequency_variance(p, n, 5000, accumulate=True)
                      <= th.accumulate_variance_bound(p, n) + 1e-15)


@pytest.mark.parametrize("exact", [True, False])
def test_mix_survival_variance_and_revival(exact):
    """{prf:ref}`thm-03-mix`: exact survival under mix(alpha), its lower bound, the variance
    recursion, and dead categories coming back."""
    K, n, R, T, alpha = 20, 30, 10_000, 25, 0.2
    p = zipf_probs(K, 1.1)
    tr = _run(K, p, n, T, R, schedule=cl.mix(alpha), exact=exact, seed=81 + exact)
    probs = tr.records["probs"]
    alive = probs > 0
    S = th.survival_probability_mix(p, n, alpha, T)
    _se_check(alive.mean(axis=1), S, np.sqrt(S * (1 - S) / R), floor=2.0 / R)
    assert np.all(S[1:] >= th.survival_lower_bound_mix(p, n, alpha)[None, :] - 1e-12)
    revived = (~alive[1:-1]) & alive[2:]
    assert revived.any()                                          # zero is not absorbing
    d = (probs - p) ** 2
    V = th.frequency_variance(p, n, T, alpha=alpha)
    _se_check(d.mean(axis=1), V, d.std(axis=1) / np.sqrt(R) + 1e-12)
    assert np.allclose(V[-1], th.stationary_frequency_variance(p, n, alpha), rtol=1e-3)


def test_mix_zero_is_replace_and_mix_one_is_all_real():
    K, n, T, R = 15, 10, 6, 50
    p = zipf_probs(K, 1.0)
    a = _run(K, p, n, T, R, schedule=cl.replace(), seed=5).records["probs"]
    b = _run(K, p, n, T, R, schedule=cl.mix(0.0), seed=5).records["probs"]
    assert np.array_equal(a, b)
    assert np.allclose(th.survival_probability_mix(p, n, 0.0, T), th.survival_probability(p, n, T))
    one = th.survival_probability_mix(p, n, 1.0, T)
    assert np.allclose(one[1:], 1 - (1 - p) ** n)
    assert np.allclose(th.frequency_variance(p, n, T, alpha=1.0)[1:], p * (1 - p) / n)


@pytest.mark.parametrize("schedule, alpha, acc", [("replace", 0.0, False), ("accumulate", 0.0, True),
                                                  ("mix", 0.3, False)])
def test_tv_bounds(schedule, alpha, acc):
    """{prf:ref}`thm-03-distances`: sum_k p_k P(lost) <= E TV <= (1/2) sum_k sd(p_k,t)."""
    K, n, R, T = 40, 50, 4000, 20
    p = zipf_probs(K, 1.1)
    sched = {"replace": cl.replace(), "accumulate": cl.accumulate(), "mix": cl.mix(alpha)}[schedule]
    m = Categorical(K)
    tr = cl.run_loop(m, m.params(p), n=n, generations=T, replicates=R, schedule=sched,
                     exact=True, seed=91, metrics=standard_metrics(), record=False)
    tv = tr.metrics["tv"]
    lo, hi = th.expected_tv_bounds(p, n, T, alpha=alpha, accumulate=acc)
    se = tv.std(axis=1) / np.sqrt(R)
    assert np.all(tv.mean(axis=1) >= lo - 4 * se - 1e-12)
    assert np.all(tv.mean(axis=1) <= hi + 4 * se + 1e-12)
    kl = tr.metrics["kl"]
    lost_any = tr.metrics["surviving"] < K
    assert np.array_equal(np.isinf(kl), lost_any)                # KL(truth||model) = inf iff a loss
    assert np.all(np.isfinite(tr.metrics["kl_reverse"]))


def test_smoothing_breaks_absorption_and_forgets_the_truth():
    """Add-lambda smoothing: every category keeps positive mass and E p_t -> uniform as
    1/K + (1 - u)^t (p - 1/K), u = K lambda / (n + K lambda) (exercise ex-03-3)."""
    K, n, R, T, lam = 10, 20, 20_000, 15, 0.5
    p = zipf_probs(K, 1.5)
    tr = _run(K, p, n, T, R, seed=101, smoothing=lam)
    probs = tr.records["probs"]
    assert np.all(probs > 0)
    u = K * lam / (n + K * lam)
    mean = 1 / K + (1 - u) ** np.arange(T + 1)[:, None] * (p - 1 / K)
    _se_check(probs.mean(axis=1), mean, probs.std(axis=1) / np.sqrt(R) + 1e-12)


# ------------------------------------------------------------------------------ metrics
def test_metrics():
    p = np.array([0.5, 0.3, 0.2, 0.0])
    q = np.array([0.4, 0.4, 0.0, 0.2])
    assert np.isclose(total_variation(p, q), 0.5 * (0.1 + 0.1 + 0.2 + 0.2))
    assert total_variation(p, p) == 0
    assert np.isinf(kl_divergence(p, q))                  # q lost a category p needs
    assert np.isfinite(kl_divergence(np.array([0.5, 0.5, 0, 0]), p))
    assert kl_divergence(p, p) == 0
    assert surviving_categories(q) == 3
    assert surviving_categories(q, truth=p) == 2
    truth = zipf_probs(10, 1.0)
    assert tail_categories(truth, 0.3).tolist() == [7, 8, 9]
    model = np.tile(truth, (3, 1))
    assert np.allclose(tail_mass(model, truth, 0.3), truth[7:].sum())
    assert np.allclose(tail_mass_metric(0.3)(model, model), truth[7:].sum())
    with pytest.raises(ValueError, match="tail"):
        tail_mass(model, truth, 0.0)
    with pytest.raises(ValueError, match="same number"):
        total_variation(p, np.array([0.5, 0.5]))


# ------------------------------------------------------------------- hypothesis properties
@settings(max_examples=30, deadline=None)
@given(counts=st.lists(st.lists(st.integers(0, 50), min_size=3, max_size=3), min_size=1, max_size=5),
       lam=st.sampled_from([0.0, 0.5, 1.0]))
def test_fit_is_a_probability_vector(counts, lam):
    counts = np.array(counts)
    counts[:, 0] += 1  # at least one observation per chain
    probs = Categorical(3, smoothing=lam).fit(counts)
    assert np.all(probs >= 0)
    assert np.allclose(probs.sum(axis=1), 1.0)
    if lam == 0:
        assert np.array_equal(probs == 0, counts == 0)


@settings(max_examples=30, deadline=None)
@given(w=st.lists(st.floats(0, 1), min_size=2, max_size=8).filter(lambda v: sum(v) > 1e-3),
       zeros=st.lists(st.booleans(), min_size=8, max_size=8),
       n=st.integers(1, 60), exact=st.booleans(), seed=st.integers(0, 2**16))
def test_sampled_counts_sum_to_n_and_respect_zeros(w, zeros, n, exact, seed):
    w = np.array(w)
    w[np.array(zeros[:len(w)])] = 0.0
    if w.sum() == 0:
        w[0] = 1.0
    p = w / w.sum()
    m = Categorical(len(p))
    params = m.params(p, 7)
    counts = m.sample_stats(params, n, np.random.default_rng(seed), exact=exact)
    assert counts.shape == (7, len(p))
    assert np.all(counts >= 0) and np.all(counts.sum(axis=1) == n)
    assert np.all(counts[:, p == 0] == 0)
    x = m.sample(params, n, np.random.default_rng(seed))
    assert np.array_equal(m.stats(x).sum(axis=1), np.full(7, n))
    assert np.all(p[x] > 0)
