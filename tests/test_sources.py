"""Chapter 1's loop, {prf:ref}`def-01-loop`: where each generation's data come from.

Checks :mod:`collapselab.sources` (real sources and synthetic samplers as parameters of the one
``run_loop``): the defaults are the old loop draw for draw, a fixed sample is the schedule's
``fresh_real=False``, a drifting source is drawn at the right generation, model 0 is never sent
through a synthetic sampler unless it asks, plain callables work, and bad arguments are refused.
"""
from __future__ import annotations

import numpy as np
import pytest

import collapselab as cl
from collapselab import sources as src
from collapselab.datasets import Bootstrap
from collapselab.models.sampling_bias import BiasedCategorical, CategoricalBias
from collapselab.models.tempered import Tempered, TemperedGaussian1D

G = cl.Gaussian1D()
TRUTH = G.params(0.0, 1.0)
KW = dict(n=12, generations=6, replicates=40, seed=7)


def _same(a, b):
    for key in ("mean", "var"):
        np.testing.assert_array_equal(a[key], b[key])


@pytest.mark.parametrize("exact", [True, False])
@pytest.mark.parametrize("schedule", [cl.replace(), cl.mix(0.25), cl.accumulate_mix(0.5),
                                      cl.inject(3, alpha=0.25)], ids=lambda s: s.name)
def test_explicit_defaults_are_the_default_loop(schedule, exact):
    a = cl.run_loop(G, TRUTH, schedule=schedule, exact=exact, **KW)
    b = cl.run_loop(G, TRUTH, schedule=schedule, exact=exact, real=src.Truth(),
                    synthetic=src.OwnSampler(), **KW)
    c = cl.run_loop(G, TRUTH, schedule=schedule, exact=exact,
                    real=src.DriftingTruth(lambda t: TRUTH), **KW)
    _same(a, b)
    _same(a, c)
    assert isinstance(b.real, src.Truth) and isinstance(b.synthetic, src.OwnSampler)


@pytest.mark.parametrize("schedule", [cl.mix(0.4), cl.inject(3, alpha=0.4)], ids=lambda s: s.name)
def test_fixed_sample_is_fresh_real_false(schedule):
    fixed = cl.Schedule(schedule.name, schedule.real_fraction, schedule.accumulate,
                        schedule.inject_every, fresh_real=False)
    a = cl.run_loop(G, TRUTH, schedule=fixed, exact=True, **KW)
    b = cl.run_loop(G, TRUTH, schedule=schedule, exact=True, real=src.FixedSample(), **KW)
    c = cl.run_loop(G, TRUTH, schedule=fixed, exact=True, real=src.FixedSample(), **KW)
    _same(a, b)
    _same(a, c)
    assert isinstance(a.real, src.FixedSample)


def test_drifting_source_is_drawn_at_each_generation():
    """All-real data from N(b t^-q, 1) at generation t: E mu_t = b t^-q, E sigma_t^2 = (n-1)/n."""
    b, q, n, T, R = 2.0, 0.5, 20, 5, 4000
    tr = cl.run_loop(G, TRUTH, n=n, generations=T, replicates=R, seed=1, exact=True,
                     schedule=cl.all_real(),
                     real=src.DriftingTruth(lambda t: G.params(b * t**-q, 1.0)))
    t = np.arange(1, T + 1)
    se = 1 / np.sqrt(n * R)
    assert np.all(np.abs(tr["mean"][1:].mean(axis=1) - b * t**-q) < 5 * se)
    assert np.all(np.abs(tr["var"][1:].mean(axis=1) - (n - 1) / n) < 5 * np.sqrt(2 / n) / np.sqrt(R))


def test_plain_callables_get_the_generation_and_model0_bypasses_the_sampler():
    seen_t, seen_p = [], []

    def real(t, m, rng):
        seen_t.append((t, m))
        return G.sample_stats(G.broadcast(TRUTH, 3), m, rng, exact=True)

    def synthetic(params, m, rng):
        seen_p.append(params)
        return G.sample_stats(params, m, rng, exact=True)

    tr = cl.run_loop(G, TRUTH, n=10, generations=4, replicates=3, seed=0, schedule=cl.mix(0.3),
                     real=real, synthetic=synthetic)
    assert seen_t == [(1, 3), (2, 3), (3, 3), (4, 3)]
    assert len(seen_p) == 3                      # generations 2..4: model 0 is the truth
    assert tr.synthetic is synthetic


def test_a_sampler_that_applies_to_model0_sees_the_truth():
    class Counting(src.OwnSampler):
        applies_to_model0 = True

        def __init__(self):
            self.calls = 0

        def draw_stats(self, model, params, n, rng, exact=False):
            self.calls += 1
            return super().draw_stats(model, params, n, rng, exact)

    s = Counting()
    cl.run_loop(G, TRUTH, n=10, generations=4, replicates=3, seed=0, synthetic=s)
    assert s.calls == 4


def test_tempered_and_biased_samplers_on_plain_models():
    a = cl.run_loop(TemperedGaussian1D(tau=0.7), TRUTH, exact=True, **KW)
    b = cl.run_loop(G, TRUTH, exact=True, synthetic=Tempered(tau=0.7), **KW)
    _same(a, b)
    cat = cl.Categorical(8)
    p = cat.zipf(1.0)
    x = cl.run_loop(BiasedCategorical(8, tau=0.6, top_k=5), p, exact=True, **KW).final
    y = cl.run_loop(cat, p, exact=True, synthetic=CategoricalBias(tau=0.6, top_k=5), **KW).final
    np.testing.assert_array_equal(x, y)


def test_sample_generation_uses_the_run_sampler_after_generation_zero():
    model = TemperedGaussian1D(tau=3.0)
    p = model.params(0.0, 1.0, replicates=20000)
    rng = np.random.default_rng(0)
    x0 = src.sample_generation(model, p, 2, rng, generation=0)
    x1 = src.sample_generation(model, p, 2, rng, generation=1)
    assert x0.var() == pytest.approx(1.0, rel=0.05)
    assert x1.var() == pytest.approx(9.0, rel=0.05)
    x2 = src.sample_generation(model, p, 2, rng, generation=1, synthetic=src.OwnSampler())
    assert x2.var() == pytest.approx(1.0, rel=0.05)
    with pytest.raises(ValueError, match="generation"):
        src.sample_generation(model, p, 2, rng, generation=-1)


def test_point_based_schedules_with_sources():
    sched = cl.accumulate_subsample(alpha=0.5)
    x = np.random.default_rng(3).normal(size=(200, 1))
    tr = cl.run_loop(cl.GaussianMV(1), cl.GaussianMV(1).params(np.zeros(1), np.eye(1)), n=10,
                     generations=4, replicates=5, seed=2, schedule=sched, real=Bootstrap(x))
    assert tr["mean"].shape[:2] == (5, 5)
    # a fixed real sample under a point-based schedule: the same points every generation
    ctx = src.LoopContext(G, G.broadcast(TRUTH, 4), 4, 10, 5,
                          cl.accumulate_subsample(alpha=0.5, fresh_real=False), False)
    bound = src.FixedSample().bind(ctx, np.random.default_rng(0))
    np.testing.assert_array_equal(bound.points(1, 5, None), bound.points(4, 5, None))
    s = bound.stats(2, 5, None)
    np.testing.assert_allclose(s.mean, bound.points(1, 5, None).mean(axis=1))
    with pytest.raises(ValueError, match="sizes"):
        bound.points(1, 7, None)
    # plain statistics callables cannot serve a point-based schedule
    with pytest.raises(ValueError, match="real"):
        cl.run_loop(G, TRUTH, n=10, generations=2, schedule=sched,
                    real=lambda t, m, rng: G.sample_stats(G.broadcast(TRUTH, 1), m, rng))
    with pytest.raises(ValueError, match="synthetic"):
        cl.run_loop(G, TRUTH, n=10, generations=2, schedule=sched,
                    synthetic=lambda p, m, rng: G.sample_stats(p, m, rng))


def test_source_validation():
    with pytest.raises(ValueError, match="params_at"):
        src.DriftingTruth(3.0)
    with pytest.raises(ValueError, match="already"):
        src.FixedSample(src.FixedSample())
    with pytest.raises(ValueError, match="source"):
        src.FixedSample("truth")
    with pytest.raises(ValueError, match="real"):
        src.bind_real(3, None, None)
    ctx = src.LoopContext(G, G.broadcast(TRUTH, 2), 2, 10, 3, cl.replace(), False)
    with pytest.raises(ValueError, match="synthetic"):
        src.bind_synthetic(3, ctx)
    with pytest.raises(ValueError, match="tau"):
        Tempered(tau=0.0)
    with pytest.raises(ValueError, match="top_k"):
        CategoricalBias(top_k=0)
