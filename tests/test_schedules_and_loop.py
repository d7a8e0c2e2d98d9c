"""Chapter 1: the data schedules, the recursive loop and its pictures.

Checks {prf:ref}`def-01-schedules` (batch sizes of every constructor, fixed vs fresh real data),
{prf:ref}`def-01-loop` (run_loop: validation, Trajectory shapes, reproducibility) and
{prf:ref}`prop-01-reductions` (alpha = 0 is replace, alpha = 1 is all-real, the accumulate pool,
the real data each schedule consumes), the accumulate-subsample schedule (its reductions and
:func:`collapselab.theory.subsample.gaussian_moments` against the loop), and
`collapselab.diagrams`.
"""
from __future__ import annotations

from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import collapselab as cl  # noqa: E402
from collapselab import schedules as S  # noqa: E402
from collapselab.diagrams import compositions, draw_loop, draw_schedules  # noqa: E402
from collapselab.metrics import w2_to_truth  # noqa: E402

MODEL = cl.Gaussian1D()
TRUTH = MODEL.params(0.0, 1.0)


def run(schedule, *, n=20, generations=12, replicates=50, seed=3, exact=True, **kw):
    return cl.run_loop(MODEL, TRUTH, n=n, generations=generations, replicates=replicates,
                       schedule=schedule, exact=exact, seed=seed,
                       metrics={"w2": w2_to_truth}, **kw)


def assert_same_trajectory(a, b):
    assert np.array_equal(a.generations, b.generations)
    assert a.records.keys() == b.records.keys() and a.metrics.keys() == b.metrics.keys()
    for key in a.records:
        np.testing.assert_array_equal(a.records[key], b.records[key])
    for key in a.metrics:
        np.testing.assert_array_equal(a.metrics[key], b.metrics[key])


# --- a tiny model that remembers where every training point came from --------------------------

@dataclass(frozen=True)
class Prov:
    label: np.ndarray   # (R,) index of the model; 0 = the truth
    counts: np.ndarray  # (R, L) points of the training set by origin (0 = real or model 0)


class Provenance:
    """A 'data point' is the index of the model that produced it.  Fitting records the origin
    counts of the training set and labels the new model max(origin) + 1 (correct for replace,
    accumulate and mix; after an all-real injection the label restarts at 1)."""

    def __init__(self, size=64):
        self.size = size

    def broadcast(self, params, replicates):
        return Prov(np.broadcast_to(params.label, (replicates,)).copy(),
                    np.broadcast_to(params.counts, (replicates, self.size)).copy())

    def sample_stats(self, params, n, rng, exact=False):
        counts = np.zeros((params.label.shape[0], self.size), dtype=np.int64)
        counts[np.arange(params.label.shape[0]), params.label] = n
        return counts

    def combine(self, a, b):
        return a + b

    def fit(self, stats):
        last = self.size - 1 - np.argmax((stats > 0)[:, ::-1], axis=1)
        return Prov(last + 1, stats.copy())

    def record(self, params):
        return {"label": params.label, "counts": params.counts}


def provenance(schedule, n, generations, replicates=2):
    model = Provenance()
    truth = Prov(np.zeros(1, dtype=np.int64), np.zeros((1, model.size), dtype=np.int64))
    return cl.run_loop(model, truth, n=n, generations=generations, replicates=replicates,
                       schedule=schedule, seed=0)


# --- batch sizes (def-01-schedules) ---------------------------------------------------------------

@pytest.mark.parametrize("t", [1, 2, 7])
def test_batch_sizes_of_every_constructor(t):
    n = 10
    assert S.replace().batch_sizes(t, n) == (0, n)
    assert S.accumulate().batch_sizes(t, n) == (0, n)
    assert S.all_real().batch_sizes(t, n) == (n, 0)
    assert S.mix(0.3).batch_sizes(t, n) == (3, 7)
    assert S.mix(0.0).batch_sizes(t, n) == (0, n)
    assert S.mix(1.0).batch_sizes(t, n) == (n, 0)
    assert S.accumulate_mix(0.3).batch_sizes(t, n) == (3, 7)
    assert S.inject(1).batch_sizes(t, n) == (n, 0)
    assert S.inject(2).batch_sizes(t, n) == ((n, 0) if t % 2 == 0 else (0, n))
    assert S.inject(3, alpha=0.5).batch_sizes(t, n) == ((n, 0) if t % 3 == 0 else (5, 5))


def test_schedule_flags():
    assert S.accumulate().accumulate and S.accumulate_mix(0.2).accumulate
    assert not any(s.accumulate for s in [S.replace(), S.mix(0.5), S.inject(3), S.all_real()])
    assert S.mix(0.5, fresh_real=False).fresh_real is False
    assert S.inject(4).inject_every == 4 and S.replace().inject_every is None
    assert S.get("mix", alpha=0.25) == S.mix(0.25)
    assert S.get(S.replace()) == S.replace()


def test_rounding_of_the_real_share_follows_python_round():
    # round half to even: 0.5 * 5 = 2.5 -> 2 real points, 0.5 * 7 = 3.5 -> 4
    assert S.mix(0.5).batch_sizes(1, 5) == (2, 3)
    assert S.mix(0.5).batch_sizes(1, 7) == (4, 3)


def test_inject_every_k_trains_on_real_data_exactly_at_multiples_of_k():
    k, n, T = 3, 8, 10
    sched = S.inject(k)
    real = [t for t in range(1, T + 1) if sched.batch_sizes(t, n) == (n, 0)]
    assert real == [3, 6, 9]
    # through the loop: injection generations train on real points only, the others on
    # samples of the previous model only (t >= 2)
    counts = provenance(sched, n, T)["counts"]
    for t in range(1, T + 1):
        real_part = counts[t, :, 0]
        assert np.all(real_part == (n if t % k == 0 or t == 1 else 0)), t
        assert np.all(counts[t].sum(axis=1) == n)


@pytest.mark.parametrize("bad", [dict(alpha=-0.1), dict(alpha=1.5), dict(alpha=float("nan"))])
def test_mix_rejects_fractions_outside_the_unit_interval(bad):
    with pytest.raises(ValueError, match="alpha"):
        S.mix(**bad)


def test_schedule_validation():
    with pytest.raises(ValueError, match="every"):
        S.inject(0)
    with pytest.raises(ValueError, match="alpha"):
        S.inject(2, alpha=2.0)
    with pytest.raises(ValueError, match="real_fraction"):
        S.Schedule("bad", real_fraction=1.2)
    with pytest.raises(ValueError, match="inject_every"):
        S.Schedule("bad", inject_every=0)
    with pytest.raises(ValueError, match="t must be >= 1"):
        S.replace().batch_sizes(0, 10)
    with pytest.raises(ValueError, match="n must be >= 1"):
        S.replace().batch_sizes(1, 0)
    with pytest.raises(ValueError, match="schedule must be one of"):
        S.get("nonsense")


# --- hypothesis: invariants of the batch sizes ---------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(alpha=st.floats(0.0, 1.0), t=st.integers(1, 500), n=st.integers(1, 10_000),
       k=st.integers(1, 50), accumulate=st.booleans())
def test_batch_sizes_sum_to_n_and_stay_in_range(alpha, t, n, k, accumulate):
    for sched in [S.mix(alpha), S.inject(k, alpha=alpha), S.accumulate_mix(alpha),
                  S.Schedule("h", real_fraction=alpha, accumulate=accumulate, inject_every=k)]:
        n_real, n_synth = sched.batch_sizes(t, n)
        assert isinstance(n_real, int) and isinstance(n_synth, int)
        assert n_real + n_synth == n
        assert 0 <= n_real <= n
        if sched.inject_every is not None and t % sched.inject_every == 0:
            assert (n_real, n_synth) == (n, 0)       # an injection generation is all real
        else:
            assert abs(n_real - alpha * n) <= 0.5


@settings(max_examples=40, deadline=None)
@given(t=st.integers(1, 1000), n=st.integers(1, 5000))
def test_alpha_zero_and_one_reduce_to_the_pure_schedules(t, n):
    assert S.mix(0.0).batch_sizes(t, n) == S.replace().batch_sizes(t, n)
    assert S.mix(1.0).batch_sizes(t, n) == S.all_real().batch_sizes(t, n)
    assert S.inject(1).batch_sizes(t, n) == S.all_real().batch_sizes(t, n)


# --- prop-01-reductions (a): identical chains -----------------------------------------------------

@pytest.mark.parametrize("exact", [True, False])
def test_alpha_zero_is_replace_and_alpha_one_is_all_real(exact):
    assert_same_trajectory(run(S.mix(0.0), exact=exact), run(S.replace(), exact=exact))
    assert_same_trajectory(run(S.mix(0.0, fresh_real=False), exact=exact), run(S.replace(), exact=exact))
    assert_same_trajectory(run(S.mix(1.0), exact=exact), run(S.all_real(), exact=exact))
    assert_same_trajectory(run(S.inject(1), exact=exact), run(S.all_real(), exact=exact))
    assert_same_trajectory(run(S.accumulate_mix(0.0), exact=exact), run(S.accumulate(), exact=exact))


def test_all_real_chain_is_iid_fits_to_n_real_points():
    # every generation's model is a fit to n fresh real points: the law of d_t does not depend
    # on t, and consecutive fits are uncorrelated
    R = 4000
    tr = run(S.all_real(), n=10, generations=6, replicates=R, seed=11)
    d = tr["w2"][1:]
    means, ses = d.mean(axis=1), d.std(axis=1) / np.sqrt(R)
    assert np.all(np.abs(means - means.mean()) < 5 * ses.max())
    corr = np.corrcoef(tr["mean"][3], tr["mean"][4])[0, 1]
    assert abs(corr) < 5 / np.sqrt(R)


def test_generation_one_is_the_same_under_every_schedule():
    # model 0 is the truth, so generation 1 always trains on n real points: replace, accumulate,
    # inject(k >= 2) and all-real make the very same draws in generation 1
    first = [run(s, generations=1) for s in [S.replace(), S.accumulate(), S.inject(3), S.all_real()]]
    for other in first[1:]:
        assert_same_trajectory(first[0], other)


# --- prop-01-reductions (b): the accumulate pool ---------------------------------------------------

def test_accumulate_pools_n_points_from_every_earlier_model():
    n, T = 7, 9
    tr = provenance(S.accumulate(), n, T)
    counts, labels = tr["counts"], tr["label"]
    for t in range(1, T + 1):
        assert np.all(labels[t] == t)
        assert np.all(counts[t].sum(axis=1) == n * t)
        assert np.all(counts[t, :, :t] == n)        # n points from each of models 0..t-1
        assert np.all(counts[t, :, t:] == 0)


def test_replace_and_mix_batches_come_from_the_previous_model():
    n, T = 10, 6
    rep = provenance(S.replace(), n, T)["counts"]
    mixed = provenance(S.mix(0.3), n, T)["counts"]
    for t in range(2, T + 1):
        assert np.all(rep[t, :, t - 1] == n) and np.all(rep[t].sum(axis=1) == n)
        assert np.all(mixed[t, :, 0] == 3) and np.all(mixed[t, :, t - 1] == 7)
        assert np.all(mixed[t].sum(axis=1) == n)
    acc_mix = provenance(S.accumulate_mix(0.3), n, T)["counts"]
    assert np.all(acc_mix[T, :, 0] == n + 3 * (T - 1))   # real points in the pool
    assert np.all(acc_mix[T].sum(axis=1) == n * T)


def test_accumulate_gaussian_pool_statistics():
    # the pooled fit of generation t uses n t points: with all-real batches pooled
    # (accumulate_mix(1)) the fitted mean is the mean of n t real points, variance 1 / (n t)
    n, T, R = 5, 8, 20000
    tr = run(S.accumulate_mix(1.0), n=n, generations=T, replicates=R, seed=5)
    for t in [1, 4, T]:
        v = tr["mean"][t].var()
        se = v * np.sqrt(2 / (R - 1))
        assert abs(v - 1 / (n * t)) < 5 * se
        # MLE variance of n t real points: E = (n t - 1) / (n t)
        mv = tr["var"][t]
        assert abs(mv.mean() - (n * t - 1) / (n * t)) < 5 * mv.std() / np.sqrt(R)


# --- fixed vs fresh real data ------------------------------------------------------------------------

def _counting_real(calls):
    def real(t, m, rng):
        calls.append(m)
        return MODEL.sample_stats(MODEL.broadcast(TRUTH, 4), m, rng, exact=True)
    return real


def test_fresh_real_data_are_drawn_every_generation_fixed_once():
    fresh, fixed = [], []
    cl.run_loop(MODEL, TRUTH, n=10, generations=6, replicates=4, schedule=S.mix(0.4),
                exact=True, seed=1, real=_counting_real(fresh))
    cl.run_loop(MODEL, TRUTH, n=10, generations=6, replicates=4, schedule=S.mix(0.4, fresh_real=False),
                exact=True, seed=1, real=_counting_real(fixed))
    assert fresh == [4] * 6
    assert fixed == [4]
    calls = []
    cl.run_loop(MODEL, TRUTH, n=10, generations=7, replicates=4, schedule=S.inject(3),
                exact=True, seed=1, real=_counting_real(calls))
    assert calls == [10, 10]                       # generations 3 and 6
    # a fixed real set serving two batch sizes is drawn once, nested: 4 points, then 6 more
    nested = []
    cl.run_loop(MODEL, TRUTH, n=10, generations=7, replicates=4,
                schedule=S.inject(3, alpha=0.4, fresh_real=False), exact=True, seed=1,
                real=_counting_real(nested))
    assert nested == [4, 6]
    assert sum(nested) == max(S.inject(3, alpha=0.4).batch_sizes(t, 10)[0] for t in range(1, 8))


def test_fixed_real_data_make_the_all_real_chain_constant():
    fixed = run(S.mix(1.0, fresh_real=False), generations=5)
    for t in range(2, 6):
        np.testing.assert_array_equal(fixed["mean"][t], fixed["mean"][1])
        np.testing.assert_array_equal(fixed["var"][t], fixed["var"][1])
    fresh = run(S.all_real(), generations=5)
    assert not np.array_equal(fresh["mean"][2], fresh["mean"][1])


# --- prop-01-reductions (c): real data used -------------------------------------------------------

def real_cost(sched, T, n):
    """The closed forms of prop-01-reductions."""
    if T == 0:
        return 0
    m = round(sched.real_fraction * n)
    k = sched.inject_every
    if k == 1 or m == n:
        return n * T if sched.fresh_real else n
    if k is None:
        return n + (T - 1) * m if sched.fresh_real else n
    assert m == 0
    J = T // k
    return n * (1 + J) if sched.fresh_real else (2 * n if J else n)


@pytest.mark.parametrize("sched", [S.replace(), S.accumulate(), S.mix(0.3), S.mix(0.3, fresh_real=False),
                                   S.inject(4), S.inject(4, fresh_real=False), S.inject(1), S.all_real(),
                                   S.accumulate_mix(0.25)], ids=lambda s: f"{s.name}-{s.fresh_real}")
@pytest.mark.parametrize("T", [0, 1, 3, 4, 10])
def test_real_data_used_matches_the_closed_form(sched, T):
    assert sched.real_data_used(T, 100) == real_cost(sched, T, 100)


def test_real_data_used_examples():
    assert S.replace().real_data_used(10, 100) == 100
    assert S.accumulate().real_data_used(10, 100) == 100
    assert S.mix(0.3).real_data_used(10, 100) == 100 + 9 * 30
    assert S.inject(4).real_data_used(10, 100) == 300
    assert S.all_real().real_data_used(10, 100) == 1000
    with pytest.raises(ValueError, match="generations"):
        S.replace().real_data_used(-1, 10)


@settings(max_examples=40, deadline=None)
@given(alpha=st.floats(0.0, 1.0), T=st.integers(0, 60), n=st.integers(1, 300), k=st.integers(2, 20))
def test_real_data_used_properties(alpha, T, n, k):
    fresh, fixed = S.mix(alpha), S.mix(alpha, fresh_real=False)
    assert fresh.real_data_used(T, n) == real_cost(fresh, T, n)
    assert fixed.real_data_used(T, n) == (n if T else 0)
    assert S.replace().real_data_used(T, n) <= fresh.real_data_used(T, n) <= S.all_real().real_data_used(T, n)
    assert S.inject(k).real_data_used(T, n) == real_cost(S.inject(k), T, n)


def test_real_data_used_matches_the_points_the_loop_draws():
    # count the real points through the provenance model: fresh real points of generation t
    # are the origin-0 points of its new batch
    n, T = 10, 8
    for sched in [S.replace(), S.mix(0.3), S.inject(3), S.all_real()]:
        counts = provenance(sched, n, T)["counts"]
        drawn = sum(int(counts[t, 0, 0]) for t in range(1, T + 1))
        assert drawn == sched.real_data_used(T, n), sched.name


# --- run_loop validation ----------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, param", [
    (dict(n=0), "n"), (dict(n=-3), "n"), (dict(n=2.5), "n"),
    (dict(generations=-1), "generations"), (dict(generations=1.5), "generations"),
    (dict(replicates=0), "replicates"),
    (dict(record_every=0), "record_every"),
    (dict(seed=-1), "seed"), (dict(seed="abc"), "seed"), (dict(seed=1.5), "seed"),
    (dict(schedule="replace"), "schedule"), (dict(schedule=0.5), "schedule"),
    (dict(seed=True), "seed"), (dict(exact="yes"), "exact"), (dict(exact=1), "exact"),
    (dict(record=None), "record"), (dict(n=10**10), "n"), (dict(generations=10**10), "generations"),
    (dict(replicates=10**10), "replicates"),
    (dict(metrics={"w": "w2"}), "metric 'w'"), (dict(metrics=[w2_to_truth]), "metrics"),
    (dict(real=5), "real"), (dict(synthetic="tempered"), "synthetic"),
])
def test_run_loop_validation(kwargs, param):
    args = dict(n=10, generations=3, replicates=2, seed=0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=param):
        cl.run_loop(MODEL, TRUTH, **args)


def test_run_loop_rejects_a_missing_truth_and_a_non_model():
    with pytest.raises(ValueError, match="truth"):
        cl.run_loop(MODEL, None, n=10, generations=2)
    with pytest.raises(ValueError, match="model"):
        cl.run_loop(object(), TRUTH, n=10, generations=2)


def test_run_loop_rejects_metrics_of_the_wrong_shape():
    with pytest.raises(ValueError, match="metric 'bad'"):
        cl.run_loop(MODEL, TRUTH, n=10, generations=2, replicates=3, seed=0,
                    metrics={"bad": lambda p, q: np.zeros(2)})
    with pytest.raises(ValueError, match="metric 'scalar'"):
        cl.run_loop(MODEL, TRUTH, n=10, generations=2, replicates=3, seed=0,
                    metrics={"scalar": lambda p, q: 0.0})


def test_fitting_needs_enough_points():
    # the unbiased variance needs n >= 2; the MLE variance fits one point (variance 0)
    with pytest.raises(ValueError, match="point"):
        cl.run_loop(cl.Gaussian1D(ddof=1), TRUTH, n=1, generations=1, seed=0)
    tr = cl.run_loop(MODEL, TRUTH, n=1, generations=2, replicates=3, seed=0)
    assert np.all(tr["var"][1:] == 0)


def test_zero_generations_returns_the_truth():
    tr = run(S.replace(), generations=0, replicates=4)
    assert tr.generations.tolist() == [0]
    assert np.all(tr["mean"] == 0) and np.all(tr["var"] == 1) and np.all(tr["w2"] == 0)


# --- Trajectory --------------------------------------------------------------------------------------

def test_trajectory_shapes_and_record_every():
    tr = run(S.mix(0.5), generations=10, replicates=7, record_every=3)
    assert tr.generations.tolist() == [0, 3, 6, 9, 10]
    assert tr["w2"].shape == (5, 7)
    assert tr["mean"].shape == tr["var"].shape == (5, 7)
    assert tr.replicates == 7 and tr.n == 20 and tr.schedule == S.mix(0.5)
    assert tr.final.mean.shape == (7,)
    np.testing.assert_array_equal(tr["mean"][-1], tr.final.mean)
    # recording every generation and thinning gives the same numbers
    full = run(S.mix(0.5), generations=10, replicates=7)
    np.testing.assert_array_equal(full["w2"][[0, 3, 6, 9, 10]], tr["w2"])
    assert run(S.replace(), generations=4, record_every=4).generations.tolist() == [0, 4]
    assert run(S.replace(), generations=4, record_every=10).generations.tolist() == [0, 4]


def test_trajectory_without_records_and_unknown_keys():
    tr = run(S.replace(), generations=3, replicates=5, record=False)
    assert tr.records == {} and tr["w2"].shape == (4, 5) and tr.replicates == 5
    with pytest.raises(KeyError, match="nope"):
        tr["nope"]


def test_truth_given_per_chain_is_kept():
    truth = MODEL.params(mean=np.arange(4.0), var=1.0, replicates=4)
    tr = cl.run_loop(MODEL, truth, n=10, generations=2, replicates=4, seed=0)
    np.testing.assert_array_equal(tr["mean"][0], np.arange(4.0))
    with pytest.raises(ValueError, match="replicates"):
        cl.run_loop(MODEL, truth, n=10, generations=2, replicates=3, seed=0)


# --- reproducibility ---------------------------------------------------------------------------------

@pytest.mark.parametrize("sched", [S.replace(), S.accumulate(), S.mix(0.3), S.inject(3),
                                   S.mix(0.5, fresh_real=False)], ids=lambda s: s.name)
@pytest.mark.parametrize("exact", [True, False])
def test_same_seed_same_trajectory_different_seed_different(sched, exact):
    a, b = run(sched, exact=exact, seed=42), run(sched, exact=exact, seed=42)
    assert_same_trajectory(a, b)
    c = run(sched, exact=exact, seed=43)
    assert not np.array_equal(a["mean"], c["mean"])
    # a Generator is used as given; a SeedSequence as a seed
    g = run(sched, exact=exact, seed=np.random.default_rng(42))
    assert_same_trajectory(a, g)
    s = run(sched, exact=exact, seed=np.random.SeedSequence(42))
    assert_same_trajectory(a, s)


# --- diagrams ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("sched", [S.replace(), S.accumulate(), S.mix(0.5), S.inject(2), S.all_real(),
                                   S.mix(0.3, fresh_real=False), S.accumulate_mix(0.2),
                                   "replace", "accumulate", "mix", "inject", "all_real"],
                         ids=str)
def test_draw_loop_draws_every_schedule(sched):
    fig, ax = plt.subplots()
    try:
        assert draw_loop(ax, sched, generations=3, legend=True) is ax
        assert len(ax.patches) > 3 * 2 and ax.get_title()
    finally:
        plt.close(fig)


def test_draw_loop_validation():
    fig, ax = plt.subplots()
    try:
        for bad in ["nonsense", 3, None]:
            with pytest.raises(ValueError, match="schedule"):
                draw_loop(ax, bad)
        with pytest.raises(ValueError, match="generations"):
            draw_loop(ax, "replace", generations=0)
        with pytest.raises(ValueError, match="generations"):
            draw_loop(ax, "replace", generations=9)
        with pytest.raises(ValueError, match="n must"):
            draw_loop(ax, "replace", n=0)
        with pytest.raises(ValueError, match="fontsize"):
            draw_loop(ax, "replace", fontsize=-1)
        with pytest.raises(ValueError, match="ax"):
            draw_loop("not an axes", "replace")
    finally:
        plt.close(fig)


def test_draw_schedules_figure():
    fig = draw_schedules()
    try:
        drawn = [ax for ax in fig.axes if ax.patches]
        assert len(drawn) == 4
    finally:
        plt.close(fig)
    fig = draw_schedules([S.replace(), S.accumulate(), S.all_real()], ncols=2, generations=5)
    try:
        assert len(fig.axes) == 4 and len([ax for ax in fig.axes if ax.patches]) == 3
    finally:
        plt.close(fig)
    with pytest.raises(ValueError, match="schedules"):
        draw_schedules([])


def test_compositions_follow_the_schedule():
    assert compositions(S.replace(), 3, 10) == [[(0, 10)], [(1, 10)], [(2, 10)]]
    assert compositions(S.accumulate(), 3, 10) == [[(0, 10)], [(0, 10), (1, 10)],
                                                   [(0, 10), (1, 10), (2, 10)]]
    assert compositions(S.mix(0.3), 2, 10) == [[(0, 10)], [(0, 3), (1, 7)]]
    assert compositions(S.inject(2), 3, 10) == [[(0, 10)], [(0, 10)], [(2, 10)]]
    for sched in [S.replace(), S.accumulate(), S.mix(0.4), S.inject(3), S.accumulate_mix(0.5)]:
        for t, comp in enumerate(compositions(sched, 6, 10), start=1):
            assert sum(c for _, c in comp) == (10 * t if sched.accumulate else 10)


# --- accumulate-subsample (Kazdan et al. 2024) -----------------------------------------------------

def test_accumulate_subsample_schedule():
    s = S.accumulate_subsample()
    assert s.accumulate and s.subsample and s.subsample_size is None and s.real_fraction == 0
    assert [s.fit_size(p, 10) for p in (10, 20, 300)] == [10, 10, 10]
    assert S.accumulate_subsample(25).fit_size(20, 10) == 20          # a small pool is used whole
    assert S.accumulate().fit_size(300, 10) == 300
    assert S.accumulate_subsample(size=5, alpha=0.2).batch_sizes(3, 10) == (2, 8)
    assert S.get("accumulate_subsample", size=4).subsample_size == 4
    with pytest.raises(ValueError, match="size"):
        S.accumulate_subsample(size=0)
    with pytest.raises(ValueError, match="alpha"):
        S.accumulate_subsample(alpha=2.0)
    with pytest.raises(ValueError, match="accumulate"):
        S.Schedule("bad", subsample=True)
    with pytest.raises(ValueError, match="subsample_size"):
        S.Schedule("bad", accumulate=True, subsample_size=3)
    with pytest.raises(ValueError, match="accumulate"):
        S.Schedule("bad", accumulate=1)
    from collapselab.theory import gaussian as G
    with pytest.raises(ValueError, match="subsample"):
        G.schedule_moments(1.0, 10, 3, S.accumulate_subsample())
    from collapselab.compare import linear_model_error
    from collapselab.theory import mixture as TM
    for closed_form in (lambda s: TM.weight_variance(0.5, 10, 3, s),
                        lambda s: linear_model_error(s, 10, 3)):
        with pytest.raises(ValueError, match="subsample"):
            closed_form(S.accumulate_subsample())


@pytest.mark.parametrize("alpha", [0.0, 0.3])
def test_accumulate_subsample_with_a_large_subsample_is_accumulate(alpha):
    """Reduction: a subsample at least as large as the pool is the pool (draw for draw, up to
    rounding: the loop then fits the same points as accumulate's statistics path), and the closed
    form reduces to the accumulate one exactly."""
    from collapselab.theory import gaussian as G
    from collapselab.theory import subsample as TS
    big = S.accumulate_subsample(size=10**6, alpha=alpha)
    ref = S.accumulate_mix(alpha) if alpha else S.accumulate()
    a = run(big, exact=False, n=10, generations=6, replicates=20)
    b = run(ref, exact=False, n=10, generations=6, replicates=20)
    for key in ("mean", "var"):
        np.testing.assert_allclose(a[key], b[key], rtol=1e-10, atol=1e-12)
    v, m = TS.gaussian_moments(10, 12, size=10**6, alpha=alpha, ddof=1)
    v2, m2 = G.schedule_moments(1.0, 10, 12, ref, ddof=1)
    np.testing.assert_allclose(v, v2, rtol=1e-12)
    np.testing.assert_allclose(m, m2, rtol=1e-12, atol=1e-15)


def test_accumulate_subsample_generation_one_is_replace_and_accumulate():
    """Reduction: generation 1's pool holds n points, so every schedule of n points fits the same
    model; later generations differ (the subsample leaves points out)."""
    a = run(S.accumulate_subsample(), exact=False, n=8, generations=3)
    for ref in (S.replace(), S.accumulate()):
        b = run(ref, exact=False, n=8, generations=3)
        np.testing.assert_allclose(a["var"][:2], b["var"][:2], rtol=1e-10)
        assert not np.allclose(a["var"][2], b["var"][2])


def test_subsample_draws_without_replacement_independently_per_chain():
    from collapselab.loop import _subsample
    pool = np.tile(np.arange(50.0), (200, 1))
    sub = _subsample(pool, 10, np.random.default_rng(0))
    assert sub.shape == (200, 10)
    assert all(np.unique(row).size == 10 for row in sub)
    assert np.unique(sub, axis=0).shape[0] > 190                        # chains differ
    # every point equally likely: 200 x 10 draws over 50 points, 40 expected each
    counts = np.bincount(sub.astype(int).ravel(), minlength=50)
    from scipy import stats
    assert stats.chisquare(counts).pvalue > 1e-4
    tup = _subsample((pool, -pool), 5, np.random.default_rng(1))
    np.testing.assert_array_equal(tup[0], -tup[1])                       # fields stay aligned


@pytest.mark.parametrize("size, alpha, ddof", [(None, 0.0, 0), (15, 0.3, 1)])
def test_accumulate_subsample_moments_match_the_closed_form(size, alpha, ddof):
    """The loop against :func:`collapselab.theory.subsample.gaussian_moments`: E sigma_t^2 and
    E (mu_t - mu)^2 within a few Monte-Carlo standard errors at every generation."""
    from collapselab.theory import subsample as TS
    n, T, R = 10, 8, 6000
    model = cl.Gaussian1D(ddof=ddof)
    tr = cl.run_loop(model, model.params(0.0, 2.0), n=n, generations=T, replicates=R, seed=21,
                     schedule=S.accumulate_subsample(size, alpha=alpha))
    v, m = TS.gaussian_moments(n, T, size=size, alpha=alpha, sigma2=2.0, ddof=ddof)
    for sim, th in ((tr["var"], v), (tr["mean"] ** 2, m)):
        se = sim[1:].std(axis=1) / np.sqrt(R)
        assert np.all(np.abs(sim[1:].mean(axis=1) - th[1:]) < 5 * se), (sim.mean(axis=1), th)
    # the subsample loses information: the mean wanders more than under accumulate
    from collapselab.theory import gaussian as G
    acc = G.schedule_moments(2.0, n, T, S.accumulate_mix(alpha) if alpha else S.accumulate(),
                             ddof=ddof)[1]
    assert m[-1] > acc[-1]


def test_accumulate_subsample_known_variance_closed_form():
    from collapselab.models.contaminated import KnownVarianceGaussian1D
    from collapselab.theory import subsample as TS
    n, T, R = 6, 6, 6000
    model = KnownVarianceGaussian1D(1.0)
    tr = cl.run_loop(model, model.params(0.0, 1.0), n=n, generations=T, replicates=R, seed=5,
                     schedule=S.accumulate_subsample())
    _, m = TS.gaussian_moments(n, T, known_variance=True)
    sim = tr["mean"][1:] ** 2
    assert np.all(np.abs(sim.mean(axis=1) - m[1:]) < 5 * sim.std(axis=1) / np.sqrt(R))
    with pytest.raises(ValueError, match="ddof"):
        TS.gaussian_moments(1, 3, ddof=1)
    with pytest.raises(ValueError, match="known_variance"):
        TS.gaussian_moments(5, 3, known_variance="no")


def test_accumulate_subsample_plateaus_between_accumulate_and_replace():
    """Kazdan et al.'s observation (their abstract): test loss above accumulate's but levelling
    off, unlike replace's divergence.  For the Gaussian the closed form shows it exactly."""
    from collapselab.theory import gaussian as G
    from collapselab.theory import subsample as TS
    n = 10
    v, m = TS.gaussian_moments(n, 1000)
    va, ma = G.schedule_moments(1.0, n, 1000, S.accumulate())
    vr, mr = G.schedule_moments(1.0, n, 1000, S.replace())
    assert ma[-1] < m[-1] < mr[-1] and vr[-1] < v[-1] < va[-1]
    assert abs(v[1000] - v[500]) < 1e-3 * v[1000] and v[-1] > 0.5
    # E sigma^2 + E (mu - mu*)^2 = sigma*^2: every point of the pool has second moment sigma*^2
    np.testing.assert_allclose(v + m, 1.0, rtol=1e-9)


@pytest.mark.parametrize("size", [None, 7, 25])
def test_accumulate_subsample_all_real_is_iid_fits_of_the_subsample_size(size):
    """Reduction alpha = 1: the pool holds only real points, so a uniform subsample of k_t =
    min(k, nt) of them is k_t i.i.d. real points: E sigma_t^2 = sigma^2 (ddof 1), E (mu_t - mu)^2 =
    sigma^2 / k_t."""
    from collapselab.theory import subsample as TS
    n, T = 10, 6
    v, m = TS.gaussian_moments(n, T, size=size, alpha=1.0, ddof=1, sigma2=3.0)
    k = n if size is None else size
    kt = np.minimum(k, n * np.arange(1, T + 1))
    np.testing.assert_allclose(v[1:], 3.0, rtol=1e-12)
    np.testing.assert_allclose(m[1:], 3.0 / kt, rtol=1e-12)
