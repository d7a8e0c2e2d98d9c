"""Chapter 9: comparing data schedules (collapselab.compare).

Checks the summaries of :func:`compare_schedules` against hand-computed values (a deterministic
"age" model and a tiny Gaussian run), reproducibility and seeding, input validation,
{prf:ref}`prop-09-regeneration` (the Gaussian's inject(k) closed form against simulation with
both samplers, and exactly against ``schedule_moments``), {prf:ref}`thm-09-noise-bias` (the linear
error model against a biased known-variance Gaussian and against chapter 7's closed forms),
{prf:ref}`thm-09-price` (``target_cost``), the Pareto front, and monotonicity of the real data
used in alpha and in 1/k (hypothesis).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import collapselab as cl
from collapselab.compare import (Comparison, compare_schedules, inject_profile,
                                 linear_model_error, pareto_front, schedule_seed, target_cost,
                                 training_set_size)
from collapselab.models.contaminated import KnownVarianceGaussian1D
from collapselab.models.gaussian import Normal1DParams
from collapselab.theory import contamination as TCo
from collapselab.theory import gaussian as G

GAUSS = cl.Gaussian1D()
TRUTH = GAUSS.params(0.0, 1.0)


# --- a deterministic model: the "age" of the newest data in the training set -----------------
@dataclass(frozen=True)
class AgeStats:
    count: int
    age: np.ndarray


class Age:
    """Model t has age = (largest age of the data it was fitted to) + 1; data sampled from a
    model carry its age and the truth has age 0.  So model t has age t under replace, mix and
    accumulate, phi_k(t) under inject(k) and 1 under all-real.  No randomness."""

    def broadcast(self, params, replicates):
        return np.broadcast_to(np.asarray(params, dtype=float), (replicates,)).copy()

    def record(self, params):
        return {"age": params}

    def sample_stats(self, params, n, rng, exact=False):
        return AgeStats(n, np.array(params, dtype=float))

    def combine(self, a, b):
        return AgeStats(a.count + b.count, np.maximum(a.age, b.age))

    def fit(self, stats):
        return stats.age + 1.0

    def stats(self, data):  # pragma: no cover - not used by the loop
        raise NotImplementedError

    def sample(self, params, n, rng):  # pragma: no cover
        raise NotImplementedError


def age_metric(params, truth):
    return np.asarray(params, dtype=float)


def age_compare(schedules, n=4, generations=7, **kw):
    return compare_schedules(Age(), np.zeros(1), schedules, n=n, generations=generations,
                             replicates=2, metric=age_metric, seed=0, **kw)


def phi(t, k):
    return t if t < k else t % k + 1


# --- summaries against hand-computed values ----------------------------------------------------
def test_summaries_by_hand_on_the_age_model():
    T, n, k = 7, 4, 3
    c = age_compare([cl.replace(), cl.inject(k), cl.accumulate(), cl.mix(0.5), cl.all_real()],
                    n=n, generations=T)
    assert isinstance(c, Comparison)
    assert c.epsilon == 1.0 and c.epsilon_estimated and c.epsilon_se == 0.0
    np.testing.assert_array_equal(c.relative("replace"), np.arange(T + 1))
    s = c.summary("replace")
    assert (s.final, s.peak, s.average) == (7.0, 7.0, 4.0)
    assert s.real_data_used == n and s.real_share == pytest.approx(1 / T) and s.train_size == n
    assert s.real_per_generation == pytest.approx(n / T) and s.final_se == 0.0
    ages = [phi(t, k) for t in range(1, T + 1)]          # 1 2 1 2 3 1 2
    s = c.summary(cl.inject(k).name)
    assert (s.final, s.peak) == (2.0, 3.0) and s.average == pytest.approx(np.mean(ages))
    assert s.real_data_used == n * (1 + T // k) == 12
    s = c.summary("accumulate")
    assert s.final == 7.0 and s.train_size == n * T and s.real_data_used == n
    s = c.summary("mix(alpha=0.5)")
    assert s.final == 7.0 and s.real_data_used == n + (T - 1) * 2
    s = c.summary("all-real")
    assert (s.final, s.peak, s.average, s.real_share) == (1.0, 1.0, 1.0, 1.0)
    # derived views
    assert c.cheapest(1.0) == "all-real"
    assert c.cheapest(3.0) == cl.inject(k).name       # 12 real points, peak 3
    assert c.cheapest(7.0) == "replace"                # ties with accumulate: smaller training set
    assert c.cheapest(0.5) is None
    assert c.cheapest(7.0, among=["accumulate", "all-real"]) == "accumulate"
    assert c.cheapest(3.0, by="average", among="replace") is None
    assert c.pareto("peak", among=["replace", "mix(alpha=0.5)", "all-real"]) == ["replace", "all-real"]
    # replace and accumulate tie (4 real points, peak 7): equal points are both kept
    assert c.pareto("peak") == ["replace", "accumulate", cl.inject(k).name, "all-real"]
    table = c.table()
    assert table.count("\n") == 2 + 5 - 1 and "| inject(every=3) | 2 | 3 |" in table
    assert "| replace | 7 | 7 | 4 | 4 |" in table
    assert table.startswith("| schedule | final error / ε | peak error / ε | mean error / ε | real points used |")


def test_summaries_match_the_trajectories_on_a_tiny_gaussian_run():
    scheds = [cl.replace(), cl.accumulate()]
    c = compare_schedules(GAUSS, TRUTH, scheds, n=5, generations=4, replicates=3,
                          metric=cl.metrics.w2_squared, seed=11, exact=True)
    first = np.concatenate([cl.run_loop(GAUSS, TRUTH, n=5, generations=4, replicates=3,
                                        schedule=s, exact=True, seed=schedule_seed(11, s.name),
                                        metrics={"w": cl.metrics.w2_squared})["w"][1]
                            for s in scheds])
    assert c.epsilon == pytest.approx(first.mean())
    assert c.epsilon_se == pytest.approx(first.std(ddof=1) / np.sqrt(6))
    for s in scheds:
        traj = cl.run_loop(GAUSS, TRUTH, n=5, generations=4, replicates=3, schedule=s,
                           exact=True, seed=schedule_seed(11, s.name),
                           metrics={"w": cl.metrics.w2_squared})
        w = traj["w"]
        np.testing.assert_array_equal(c.errors(s.name), w)
        summ = c.summary(s.name)
        rel = w.mean(axis=1) / first.mean()
        assert summ.final == pytest.approx(rel[-1])
        assert summ.peak == pytest.approx(rel[1:].max())
        assert summ.average == pytest.approx(rel[1:].mean())
        assert summ.final_se == pytest.approx(w[-1].std(ddof=1) / np.sqrt(3) / first.mean())
        assert summ.real_data_used == s.real_data_used(4, 5)


def test_given_epsilon_and_extra_metrics_are_kept():
    c = compare_schedules(GAUSS, TRUTH, {"rep": cl.replace()}, n=5, generations=3,
                          replicates=4, metric=cl.metrics.w2_squared, epsilon=0.25,
                          metrics={"var": lambda p, q: p.var}, seed=1, record=True)
    assert c.epsilon == 0.25 and not c.epsilon_estimated and c.epsilon_se == 0.0
    assert c.metric("rep", "var").shape == (4, 4)
    assert c.metric("rep", "mean").shape == (4, 4)       # a record, since record=True
    np.testing.assert_allclose(c.relative("rep"), c.mean("rep") / 0.25)
    assert c.names == ["rep"] and list(c.t) == [0, 1, 2, 3]


# --- reproducibility -------------------------------------------------------------------------
def test_reproducible_and_independent_of_the_other_schedules():
    kw = dict(n=8, generations=6, replicates=50, metric=cl.metrics.w2_squared, exact=True)
    a = compare_schedules(GAUSS, TRUTH, [cl.replace(), cl.mix(0.5)], seed=5, **kw)
    b = compare_schedules(GAUSS, TRUTH, [cl.replace(), cl.mix(0.5)], seed=5, **kw)
    c = compare_schedules(GAUSS, TRUTH, [cl.mix(0.5)], seed=5, **kw)
    d = compare_schedules(GAUSS, TRUTH, [cl.replace(), cl.mix(0.5)], seed=6, **kw)
    for name in a.names:
        np.testing.assert_array_equal(a.errors(name), b.errors(name))
        assert not np.array_equal(a.errors(name), d.errors(name))
    np.testing.assert_array_equal(a.errors("mix(alpha=0.5)"), c.errors("mix(alpha=0.5)"))
    assert not np.array_equal(a.errors("replace")[1:], a.errors("mix(alpha=0.5)")[1:])
    ss = np.random.SeedSequence(3)
    e = compare_schedules(GAUSS, TRUTH, [cl.replace()], seed=ss, **kw)
    f = compare_schedules(GAUSS, TRUTH, [cl.replace()], seed=np.random.SeedSequence(3), **kw)
    np.testing.assert_array_equal(e.errors("replace"), f.errors("replace"))


def test_schedule_seed():
    assert schedule_seed(1, "a").generate_state(2).tolist() == \
        schedule_seed(1, "a").generate_state(2).tolist()
    assert schedule_seed(1, "a").generate_state(2).tolist() != \
        schedule_seed(1, "b").generate_state(2).tolist()
    assert isinstance(schedule_seed(None, "a"), np.random.SeedSequence)


# --- validation ------------------------------------------------------------------------------
def _cmp(**over):
    kw = dict(model=GAUSS, truth=TRUTH, schedules=[cl.replace()], n=5, generations=2,
              replicates=3, metric=cl.metrics.w2_squared, seed=0)
    kw.update(over)
    return compare_schedules(kw.pop("model"), kw.pop("truth"), kw.pop("schedules"), **kw)


@pytest.mark.parametrize("over, match", [
    (dict(n=0), "n"), (dict(generations=0), "generations"), (dict(replicates=1), "replicates"),
    (dict(metric="w2"), "metric"), (dict(metric_name=""), "metric_name"),
    (dict(epsilon=0.0), "epsilon"), (dict(epsilon=float("nan")), "epsilon"),
    (dict(schedules=[]), "schedules"), (dict(schedules=[cl.replace(), cl.replace()]), "duplicate"),
    (dict(schedules=["replace"]), "schedules"), (dict(schedules=5), "schedules"),
    (dict(schedules={"": cl.replace()}), "schedules"),
    (dict(metrics={"error": cl.metrics.w2}), "metrics"), (dict(metrics={"x": 3}), "metrics"),
    (dict(seed=-1), "seed"), (dict(seed=True), "seed"), (dict(seed=1.5), "seed"),
    (dict(metric=lambda p, q: np.full(3, np.nan)), "metric"),
    (dict(metric=lambda p, q: np.zeros(3)), "epsilon"),
])
def test_compare_validation(over, match):
    with pytest.raises(ValueError, match=match):
        _cmp(**over)


def test_comparison_method_validation():
    c = _cmp()
    with pytest.raises(ValueError, match="name"):
        c.summary("nope")
    with pytest.raises(ValueError, match="by"):
        c.cheapest(2.0, by="median")
    with pytest.raises(ValueError, match="target"):
        c.cheapest(-1.0)
    with pytest.raises(ValueError, match="by"):
        c.pareto("worst")
    with pytest.raises(ValueError, match="name"):
        c.pareto(among=["nope"])
    with pytest.raises(ValueError, match="among"):
        c.cheapest(2.0, among=[])
    with pytest.raises(ValueError, match="columns"):
        c.table(["nope"])
    with pytest.raises(ValueError, match="digits"):
        c.table(digits=0)


def test_helper_validation():
    with pytest.raises(ValueError, match="name"):
        schedule_seed(1, "")
    with pytest.raises(ValueError, match="seed"):
        schedule_seed(np.random.default_rng(1), "a")
    with pytest.raises(ValueError, match="schedule"):
        training_set_size("replace", 3, 5)
    with pytest.raises(ValueError, match="generations"):
        training_set_size(cl.replace(), -1, 5)
    with pytest.raises(ValueError, match="every"):
        inject_profile([0.0, 1.0], 0)
    with pytest.raises(ValueError, match="replace_curve"):
        inject_profile([], 2)
    with pytest.raises(ValueError, match="replace_curve"):
        inject_profile([0.0, np.nan], 2)
    with pytest.raises(ValueError, match="schedule"):
        linear_model_error("mix", 10, 3)
    with pytest.raises(ValueError, match="fresh"):
        linear_model_error(cl.mix(0.5, fresh_real=False), 10, 3)
    with pytest.raises(ValueError, match="target"):
        target_cost(0.5, "mix")
    with pytest.raises(ValueError, match="schedule"):
        target_cost(2.0, "accumulate")
    with pytest.raises(ValueError, match="kind"):
        target_cost(2.0, "mix", kind="variance")
    with pytest.raises(ValueError, match="by"):
        target_cost(2.0, "mix", by="final")
    with pytest.raises(ValueError, match="same length"):
        pareto_front([1, 2], [1])
    with pytest.raises(ValueError, match="costs"):
        pareto_front([np.nan], [1])


def test_training_set_size():
    assert training_set_size(cl.accumulate(), 5, 7) == 35
    assert training_set_size(cl.accumulate_mix(0.3), 5, 7) == 35
    assert training_set_size(cl.inject(2), 5, 7) == 7
    assert training_set_size(cl.replace(), 0, 7) == 0


# --- prop-09-regeneration: the Gaussian, both samplers ---------------------------------------
@pytest.mark.parametrize("k", [1, 2, 3, 5, 8])
def test_schedule_moments_of_inject_are_replace_restarted(k):
    for ddof in (0, 1):
        inj = G.schedule_moments(1.0, 10, 25, cl.inject(k), ddof)
        rep = G.schedule_moments(1.0, 10, 25, cl.replace(), ddof)
        for a, b in zip(inj, rep):
            np.testing.assert_allclose(a, inject_profile(b, k), rtol=1e-12)
        # with a trickle of real data between injections: mix restarted
        inj = G.schedule_moments(1.0, 10, 25, cl.inject(k, alpha=0.3), ddof)
        mix = G.schedule_moments(1.0, 10, 25, cl.mix(0.3), ddof)
        for a, b in zip(inj, mix):
            np.testing.assert_allclose(a, inject_profile(b, k), rtol=1e-12)


@pytest.mark.parametrize("exact", [True, False])
def test_gaussian_inject_closed_form_against_simulation(exact):
    n, T, R = 10, 12, 20_000
    t = np.arange(T + 1)
    w_rep = G.expected_w2_squared(1.0, n, t)
    eps = float(w_rep[1])
    c = compare_schedules(GAUSS, TRUTH, [cl.inject(3), cl.inject(5), cl.replace()], n=n,
                          generations=T, replicates=R, metric=cl.metrics.w2_squared,
                          epsilon=eps, exact=exact, seed=2024, record=True)
    for k in (3, 5):
        name = cl.inject(k).name
        expected = inject_profile(w_rep, k)
        z = np.abs(c.mean(name) - expected)[1:] / c.se(name)[1:]
        assert z.max() < 5, (k, z.max())
        # the moments of schedule_moments
        var, msd = G.schedule_moments(1.0, n, T, cl.inject(k))
        v = c.metric(name, "var")
        m2 = c.metric(name, "mean") ** 2
        assert (np.abs(v.mean(1) - var)[1:] / (v.std(1)[1:] / np.sqrt(R))).max() < 5
        assert (np.abs(m2.mean(1) - msd)[1:] / (m2.std(1)[1:] / np.sqrt(R))).max() < 5
        # the peak: the replace error at generation k, once the horizon reaches 2k - 1
        s = c.summary(name)
        assert s.peak * eps == pytest.approx(w_rep[k], rel=0.05)
    assert (np.abs(c.mean("replace") - w_rep)[1:] / c.se("replace")[1:]).max() < 5


def test_gaussian_w2_is_increasing_under_replace():
    """The peak of inject(k) is the replace value at k ({prf:ref}`cor-09-inject`): w increases,
    because m = E sigma_1 / sigma lies between c = (n-1)/n and sqrt(c)."""
    for n in [2, 3, 5, 10, 20, 100, 1000]:
        c, m = (n - 1) / n, G.std_factor(n, 0)
        assert c <= m <= np.sqrt(c)
        w = G.expected_w2_squared(1.0, n, np.arange(60))
        assert np.all(np.diff(w) >= 0) and w[-1] > w[1]


@given(curve=st.lists(st.floats(0, 10, allow_nan=False), min_size=1, max_size=30),
       k=st.integers(1, 40))
@settings(max_examples=40, deadline=None)
def test_inject_profile_properties(curve, k):
    curve = np.array(curve)
    out = inject_profile(curve, k)
    T = curve.size - 1
    assert out.shape == curve.shape and out[0] == curve[0]
    if k > T:
        np.testing.assert_array_equal(out, curve)
    if k == 1 and T >= 1:
        np.testing.assert_array_equal(out[1:], curve[1])
    for t in range(1, T + 1):
        assert out[t] == curve[phi(t, k)]
        assert 1 <= phi(t, k) <= min(t, k)


# --- thm-09-noise-bias: the linear error model -----------------------------------------------
class BiasedMean(KnownVarianceGaussian1D):
    def __init__(self, bias):
        super().__init__(1.0)
        self.bias = bias

    def fit(self, stats):
        p = super().fit(stats)
        return Normal1DParams(p.mean + self.bias, p.var)


LIN_SCHEDULES = [cl.replace(), cl.accumulate(), cl.mix(0.2), cl.inject(4),
                 cl.accumulate_mix(0.25), cl.all_real(), cl.inject(3, alpha=0.4)]


@pytest.mark.parametrize("exact", [True, False])
def test_linear_model_against_simulation(exact):
    n, T, R, b = 8, 15, 20_000, 0.2
    model = BiasedMean(b)
    c = compare_schedules(model, model.params(0.0), LIN_SCHEDULES, n=n, generations=T,
                          replicates=R, metric=lambda p, q: p.mean - q.mean, epsilon=1.0,
                          metric_name="delta", exact=exact, seed=99)
    for s in LIN_SCHEDULES:
        noise, drift = linear_model_error(s, n, T)
        d = c.errors(s.name)[1:]
        z_mean = np.abs(d.mean(1) - b * drift[1:]) / (d.std(1, ddof=1) / np.sqrt(R))
        v = d.var(1, ddof=1)
        z_var = np.abs(v - noise[1:] / n) / (v * np.sqrt(2 / (R - 1)))
        assert z_mean.max() < 5 and z_var.max() < 5, (s.name, z_mean.max(), z_var.max())


def test_linear_model_closed_forms():
    n, T = 20, 40
    t = np.arange(T + 1)
    H = np.concatenate([[0.0], np.cumsum(1.0 / t[1:])])
    basel = np.concatenate([[0.0], np.cumsum(1.0 / t[1:] ** 2)])
    noise, drift = linear_model_error(cl.replace(), n, T)
    np.testing.assert_allclose(noise, t)
    np.testing.assert_allclose(drift, t)
    noise, drift = linear_model_error(cl.accumulate(), n, T)
    np.testing.assert_allclose(drift, H)
    np.testing.assert_allclose(noise, basel)
    assert noise.max() < np.pi**2 / 6
    for a in (0.1, 0.25, 0.5):
        noise, drift = linear_model_error(cl.mix(a), n, T)
        np.testing.assert_allclose(drift, (1 - (1 - a) ** t) / a)
        np.testing.assert_allclose(noise, (1 - (1 - a) ** (2 * t)) / (a * (2 - a)))
        # chapter 7's closed forms (known variance), in units of sigma^2 / n
        np.testing.assert_allclose(noise, TCo.mix_known_variance_error(1.0, n, a, t) * n)
        noise, drift = linear_model_error(cl.accumulate_mix(a), n, T)
        prod = np.cumprod(np.r_[1.0, 1 - a / t[1:]])
        np.testing.assert_allclose(drift, (1 - prod) / a)
        np.testing.assert_allclose(noise, TCo.accumulate_mix_known_variance_error(1.0, n, a, t) * n)
    for k in (1, 3, 7):
        noise, drift = linear_model_error(cl.inject(k), n, T)
        phis = np.array([0] + [phi(s, k) for s in range(1, T + 1)])
        np.testing.assert_allclose(noise, phis)
        np.testing.assert_allclose(drift, phis)
    noise, drift = linear_model_error(cl.all_real(), n, T)
    np.testing.assert_allclose(noise[1:], 1.0)
    np.testing.assert_allclose(drift[1:], 1.0)


# --- thm-09-price: target_cost ---------------------------------------------------------------
@given(tau=st.floats(1.0, 200.0))
@settings(max_examples=50, deadline=None)
def test_target_cost(tau):
    a = target_cost(tau, "mix", "noise")
    assert 1 / (2 * tau) - 1e-12 <= a <= 1 / tau + 1e-12
    assert 1 / (a * (2 - a)) <= tau * (1 + 1e-9)                 # meets the target ...
    if a > 1e-3:
        a2 = a * (1 - 1e-6)
        assert 1 / (a2 * (2 - a2)) > tau * (1 - 1e-9)           # ... and is the least share
    assert target_cost(tau, "mix", "noise", by="average") == a
    inj_peak = target_cost(tau, "inject", "noise")
    inj_avg = target_cost(tau, "inject", "noise", by="average")
    k = round(1 / inj_peak)
    assert k <= tau + 1e-9 < k + 1 and a <= inj_peak + 1e-12 and a <= inj_avg + 1e-12
    k = round(1 / inj_avg)
    assert (k + 1) / 2 <= tau + 1e-9 < (k + 2) / 2
    assert target_cost(tau, "mix", "bias") == pytest.approx(1 / tau)
    assert target_cost(tau, "inject", "bias") == inj_peak >= 1 / tau - 1e-12
    if tau >= 2:
        assert target_cost(tau, "inject", "bias", by="average") <= 1 / tau + 1e-12


def test_equal_budget_inequalities():
    for s in np.linspace(0.01, 1.0, 200):
        assert 1 / (s * (2 - s)) <= (1 + s) / (2 * s) + 1e-12 <= 1 / s + 2e-12


# --- pareto_front ----------------------------------------------------------------------------
def test_pareto_front():
    costs = [1, 2, 3, 2, 3, 0.5]
    errors = [3, 2, 1, 3, 3, 10]
    assert pareto_front(costs, errors) == [5, 0, 1, 2]
    assert pareto_front([1, 1], [2, 2]) == [0, 1]                  # equal points are kept
    assert pareto_front([1.0], [5.0]) == [0]


# --- real data used: monotone in alpha and in 1/k --------------------------------------------
@given(n=st.integers(1, 200), T=st.integers(1, 60), a1=st.floats(0, 1), a2=st.floats(0, 1),
       k1=st.integers(1, 70), k2=st.integers(1, 70))
@settings(max_examples=60, deadline=None)
def test_real_data_used_is_monotone(n, T, a1, a2, k1, k2):
    a1, a2 = min(a1, a2), max(a1, a2)
    k1, k2 = min(k1, k2), max(k1, k2)
    assert cl.mix(a1).real_data_used(T, n) <= cl.mix(a2).real_data_used(T, n)
    assert cl.accumulate_mix(a1).real_data_used(T, n) <= cl.accumulate_mix(a2).real_data_used(T, n)
    assert cl.inject(k1).real_data_used(T, n) >= cl.inject(k2).real_data_used(T, n)
    assert cl.replace().real_data_used(T, n) <= cl.inject(k2).real_data_used(T, n) \
        <= cl.all_real().real_data_used(T, n)


@given(a1=st.floats(0, 1), a2=st.floats(0, 1), k1=st.integers(1, 12), k2=st.integers(1, 12))
@settings(max_examples=20, deadline=None)
def test_summary_real_share_is_monotone(a1, a2, k1, k2):
    a1, a2 = min(a1, a2), max(a1, a2)
    k1, k2 = min(k1, k2), max(k1, k2)
    c = age_compare({"m1": cl.mix(a1), "m2": cl.mix(a2), "i1": cl.inject(k1),
                     "i2": cl.inject(k2)}, n=10, generations=9)
    s = c.summaries()
    assert s["m1"].real_share <= s["m2"].real_share
    assert s["i1"].real_share >= s["i2"].real_share
    assert s["i1"].peak <= s["i2"].peak                 # more injections, lower peak
