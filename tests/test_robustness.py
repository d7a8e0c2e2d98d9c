"""Issue 12: every example of the issue gives a clear error, and run_sweep keeps its results
when a point fails.  One test per example line; the enumerating fuzz test is
tests/test_fuzz_api.py."""
from __future__ import annotations

import concurrent.futures as cf
import time

import numpy as np
import pytest

import collapselab as cl
from collapselab import metrics
from collapselab._validate import check_int, check_probs, limits
from collapselab.models import GaussianMV, LinearRegression, PCAGaussian
from collapselab.models.gaussian import GaussStats1D, Normal1DParams
from collapselab.models.mixture import GaussianMixture1D, MixtureParams, kl_mixture, support, w2_mixture
from collapselab.models.tempered import TemperedGaussian1D
from collapselab.sweep import SweepError, run_sweep
from collapselab.theory import gaussian as tg
from collapselab.theory import mixture as tm
from collapselab.theory import monitoring as tmon


def fast(fn, *args, limit=2.0, **kwargs):
    """Call fn and return what it raised, asserting that it came back within ``limit`` s."""
    t0 = time.perf_counter()
    with pytest.raises(ValueError) as info:
        fn(*args, **kwargs)
    assert time.perf_counter() - t0 < limit
    return str(info.value)


# --- size guards ---------------------------------------------------------------------------

def test_mixture_loss_probability_huge_n_refused_fast():
    msg = fast(tm.loss_probability, 0.5, 10**6, 3)
    assert "n=1000000" in msg and "max_elements" in msg and "collapselab.limits" in msg
    assert "n=1000000000" in fast(tm.loss_probability, 0.5, 10**9, 3)


def test_limits_context_raises_the_guard():
    with pytest.raises(ValueError, match="max_elements"):
        tm.binomial_transition(20_000)
    with limits(max_elements=1e10):
        assert tm.binomial_transition(50).shape == (51, 51)   # still works inside
    with pytest.raises(ValueError, match="max_elements"):
        limits(max_elements=-1).__enter__()


@pytest.mark.parametrize("call", [
    lambda: tg.schedule_moments(1.0, 10, 10**12, cl.replace()),
    lambda: tm.weight_variance(0.5, 10, 10**12),
    lambda: tmon.run_alarm_probability(0.1, 2, 10**12),
    lambda: cl.phase.mix_point(0.5, 10, generations=10**12, replicates=10, seed=0),
    lambda: cl.compare.compare_schedules(cl.Gaussian1D(), cl.Gaussian1D().params(0, 1), [cl.replace()],
                                         n=10, generations=10**12, metric=metrics.w2_to_truth),
], ids=["schedule_moments", "weight_variance", "run_alarm_probability", "mix_point", "compare_schedules"])
def test_generations_1e12_refused_fast(call):
    msg = fast(call)
    assert "10000000000" in msg or "horizon" in msg or "generations" in msg


def test_sampling_huge_n_refused_before_allocating():
    g = cl.Gaussian1D()
    msg = fast(g.sample_stats, g.params(0, 1, replicates=4), 10**12, 0, exact=False)
    assert "exact=True" in msg and "max_" in msg
    # the exact path has no such cost
    assert g.sample_stats(g.params(0, 1, replicates=4), 10**12, 0, exact=True).count == 10**12
    c = cl.Categorical(5)
    fast(c.sample, c.params(np.full(5, 0.2), replicates=2), 10**12, 0)


# --- seeds, booleans, integers ---------------------------------------------------------------

@pytest.mark.parametrize("model, params", [
    (cl.Gaussian1D(), cl.Gaussian1D().params(0, 1, replicates=2)),
    (GaussianMV(), GaussianMV().params(np.zeros(2), np.eye(2), replicates=2)),
    (GaussianMixture1D(2), GaussianMixture1D(2).params([0.5, 0.5], [-1, 1], [1, 1], replicates=2)),
    (LinearRegression(2), LinearRegression(2).params(np.ones(2), replicates=2)),
    (cl.Categorical(4), cl.Categorical(4).params(np.full(4, 0.25), replicates=2)),
], ids=["gaussian1d", "gaussian-mv", "mixture", "regression", "categorical"])
def test_every_sampler_takes_an_int_seed_and_refuses_bad_ones(model, params):
    a = model.sample(params, 5, 0)
    b = model.sample(params, 5, np.random.default_rng(0))
    np.testing.assert_array_equal(np.asarray(a[0] if isinstance(a, tuple) else a),
                                  np.asarray(b[0] if isinstance(b, tuple) else b))
    model.sample_stats(params, 5, np.random.SeedSequence(1))
    for bad in (True, -1, 2.5, "x"):
        with pytest.raises(ValueError, match="rng"):
            model.sample(params, 5, bad)
    with pytest.raises(ValueError, match="exact"):
        model.sample_stats(params, 5, 0, exact="no")


def test_pca_sample_float_n_and_seed():
    m = PCAGaussian(1)
    p = m.fit(m.stats(np.random.default_rng(0).standard_normal((2, 20, 3))))
    np.testing.assert_array_equal(m.sample(p, 5.0, 0), m.sample(p, 5, 0))   # integral float
    with pytest.raises(ValueError, match="n must be an integer"):
        m.sample(p, 5.5, 0)


def test_one_integer_rule():
    assert check_int("n", 20.0) == 20 and check_int("n", np.int64(3)) == 3
    for bad in (2.5, np.nan, True, "3"):
        with pytest.raises(ValueError, match="n must be an integer"):
            check_int("n", bad)
    # the theory accepts t = 4.0 as it accepts n = 20.0
    assert tg.expected_variance(1.0, 20.0, 4.0) == tg.expected_variance(1.0, 20, 4)
    from collapselab._validate import as_rng
    assert as_rng(0.0).random() == np.random.default_rng(0).random()   # seed=0.0 as seed=0


def test_variance_factor_ddof_and_overflow():
    for bad in (2.5, -1, np.nan, True):
        with pytest.raises(ValueError, match="ddof"):
            tg.variance_factor(10, ddof=bad)
    assert "overflows" in fast(tg.variance_second_moment, 1e300, 10, 3)


def test_float32_probabilities_accepted():
    w = np.random.default_rng(0).random(1000).astype(np.float32)
    p32 = w / w.sum()                                  # a float32 simplex, as a reader might build
    assert abs(p32.astype(float).sum() - 1.0) > 1e-8   # beyond the float64 tolerance
    p = check_probs("p", p32)
    assert p.dtype == np.float64 and abs(p.sum() - 1.0) < 1e-12
    cl.Categorical(1000).params(p32)
    with pytest.raises(ValueError, match="sum to 1"):
        check_probs("p", np.array([0.5, 0.6], dtype=np.float32))


# --- parameter families at every entry -------------------------------------------------------

def test_metrics_refuse_invalid_models():
    p = cl.Gaussian1D().params(0, 1)
    with pytest.raises(ValueError, match=r"q\.var contains NaN"):
        metrics.w2(p, Normal1DParams(np.array([0.0]), np.array([np.nan])))
    with pytest.raises(ValueError, match=r"q\.var must be non-negative"):
        metrics.kl_gaussian(p, Normal1DParams(np.array([0.0]), np.array([-1.0])))
    with pytest.raises(ValueError, match="truth"):
        metrics.w2_to_truth(p, 3)
    # KL to a collapsed model is infinite, as documented; never NaN
    assert metrics.kl_gaussian(p, Normal1DParams(np.array([0.0]), np.array([0.0])))[0] == np.inf


def test_mv_sample_refuses_non_psd_cov():
    m = GaussianMV()
    bad = cl.models.NormalParams(np.zeros((1, 2)), np.array([[[1.0, 5.0], [5.0, 1.0]]]))
    with pytest.raises(ValueError, match="positive semi-definite"):
        m.sample(bad, 5, 0)


def test_fit_refuses_negative_scatter():
    with pytest.raises(ValueError, match=r"stats\.m2 must be non-negative"):
        cl.Gaussian1D().fit(GaussStats1D(10, np.zeros(1), np.array([-1.0])))


def test_categorical_metrics_refuse_nan_models():
    from collapselab.models import categorical as C
    truth = np.full((2, 3), 1 / 3)
    bad = truth.copy()
    bad[0, 0] = np.nan
    for f in (C.kl_truth_to_model, C.tv_to_truth):
        with pytest.raises(ValueError, match="params contains NaN"):
            f(bad, truth)


def test_run_loop_examples():
    g = cl.Gaussian1D()
    truth = g.params(0, 1)
    with pytest.raises(ValueError, match="truth must be the parameters of model 0"):
        cl.run_loop(g, None, n=5, generations=3)
    with pytest.raises(ValueError, match=r"truth: params\.var contains NaN"):
        cl.run_loop(g, Normal1DParams(np.array([0.0]), np.array([np.nan])), n=5, generations=3)
    with pytest.raises(ValueError, match=r"truth: .*2 chains"):
        cl.run_loop(g, g.params(0, 1, replicates=2), n=5, generations=3, replicates=3)
    for kwargs, message in (({"seed": True}, "seed"), ({"exact": "no"}, "exact"), ({"record": 1}, "record"),
                            ({"progress": None}, "progress"), ({"metrics": {"m": 3}}, "metric 'm' must be callable"),
                            ({"metrics": [len]}, "metrics must be a mapping"),
                            ({"generations": 10**12}, "generations"), ({"schedule": "replace"}, "schedule"),
                            ({"real": 3}, "real must be a RealSource")):
        with pytest.raises(ValueError, match=message):
            cl.run_loop(g, truth, **dict(dict(n=5, generations=3), **kwargs))
    with pytest.raises(ValueError, match="model must be a batch model with a fit"):
        cl.run_loop(object(), truth, n=5, generations=3)
    # real= / synthetic= of the new API: a plain statistics callable cannot feed a point-based schedule
    with pytest.raises(ValueError, match="real must be a RealSource that draws points"):
        cl.run_loop(g, truth, n=5, generations=3, schedule=cl.schedules.accumulate_subsample(),
                    real=lambda t, m, rng: g.sample_stats(truth, m, rng))


def test_kl_mixture_never_negative_and_empty_params_refused():
    m = GaussianMixture1D(2)
    p = m.params([0.5, 0.5], [-3.0, 3.0], [1.0, 1.0])
    q = m.params([0.5, 0.5], [-3.0, 3.01], [1.0, 1e-6])     # a spike far below the grid step
    assert kl_mixture(q, p)[0] >= 0 and kl_mixture(p, q)[0] >= 0
    # the discretised KL is a lower bound that grows towards the true value with the grid
    assert kl_mixture(q, p, grid=256)[0] <= kl_mixture(q, p, grid=100_000)[0] + 1e-9
    # resolved grids are unchanged: the trapezoid rule agrees with a fine grid
    r = m.params([0.5, 0.5], [-3.0, 2.0], [1.0, 0.5])
    np.testing.assert_allclose(kl_mixture(p, r), kl_mixture(p, r, grid=20_000), rtol=1e-6)
    empty = MixtureParams(np.zeros((1, 0)), np.zeros((1, 0)), np.zeros((1, 0)))
    for f in (support, lambda e: kl_mixture(e, p), lambda e: w2_mixture(p, e)):
        with pytest.raises(ValueError, match="at least one component"):
            f(empty)


def test_pca_fit_on_nan_stats_is_a_clear_error():
    m = PCAGaussian(1)
    st = m.stats(np.random.default_rng(0).standard_normal((1, 10, 3)))
    bad = type(st)(st.counts, np.full_like(st.means, np.nan), st.scatters)
    with pytest.raises(ValueError, match=r"stats\.means contains NaN"):
        m.fit(bad)


def test_tempered_sampler_seed():
    """TemperedGaussian1D's samplers follow the seed rule: an int seed is a seed, a bool is not."""
    m = TemperedGaussian1D(tau=0.9)
    p = m.params(0, 1, replicates=2)
    a, b = m.sample_stats(p, 5, 0), m.sample_stats(p, 5, np.random.default_rng(0))
    np.testing.assert_array_equal(a.mean, b.mean)
    np.testing.assert_array_equal(a.m2, b.m2)
    with pytest.raises(ValueError, match="seed|rng"):
        m.sample_stats(p, 5, True)


def test_widgets_plot_loop_checks():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from collapselab.widgets import plot_loop
    g, truth = _g()
    fig, ax = plt.subplots()
    try:
        for kwargs, name in (({"show_mean": "no"}, "show_mean"), ({"generations": 10**12}, "generations"),
                             ({"truth": Normal1DParams(np.array([np.nan]), np.array([1.0]))}, "truth")):
            args = dict(ax=ax, model=g, truth=truth, quantity="var", n=5, generations=3, replicates=5)
            args.update(kwargs)
            assert name in fast(plot_loop, **args, limit=5.0)
    finally:
        plt.close(fig)


# --- run_sweep ---------------------------------------------------------------------------------

def flaky_point(a, seed):
    if a == 2:
        raise ZeroDivisionError("boom at a=2")
    return {"x": float(a) + np.random.default_rng(seed).random()}


def slow_point(a, seed):
    if a == 0:
        raise RuntimeError("first point fails")
    time.sleep(0.2)
    return {"x": float(a)}


AX = {"a": [0, 1, 2, 3]}


def _check_failure(err, serial_values):
    assert "{'a': 2}" in str(err) and "spawn_key=(2,)" in str(err) and "ZeroDivisionError" in str(err)
    assert isinstance(err.__cause__, ZeroDivisionError)
    assert err.failures[0].index == 2 and err.failures[0].seed.spawn_key == (2,)
    kept = err.result.values
    assert kept[2] is None
    for i in (0, 1):                                   # points before the failure are kept, bit for bit
        assert kept[i] == serial_values[i]


def test_run_sweep_reports_point_and_keeps_results_serial_pool_threads():
    ok = run_sweep(flaky_point, AX, seed=3, executor="serial", progress=False, on_error="collect")
    assert [f.index for f in ok.failures] == [2] and ok.values[2] is None and not ok.complete
    assert len(ok.records()) == 3
    with pytest.raises(ValueError, match="incomplete"):
        ok.array("x")
    for executor in ("serial", "processes"):
        with pytest.raises(SweepError) as info:
            run_sweep(flaky_point, AX, seed=3, executor=executor, max_workers=2, progress=False)
        _check_failure(info.value, ok.values)
    with cf.ThreadPoolExecutor(2) as ex:
        coll = run_sweep(flaky_point, AX, seed=3, executor=ex, progress=False, on_error="collect")
    assert coll.values == ok.values                    # same numbers on every backend


def test_run_sweep_cancels_pending_work():
    with cf.ThreadPoolExecutor(1) as ex:
        t0 = time.perf_counter()
        with pytest.raises(SweepError) as info:
            run_sweep(slow_point, {"a": list(range(12))}, executor=ex, progress=False)
        assert time.perf_counter() - t0 < 1.5           # 11 x 0.2 s were not all run
    assert len(info.value.result.cancelled) >= 8


def test_run_sweep_dask_failure():
    distributed = pytest.importorskip("distributed")
    serial = run_sweep(flaky_point, AX, seed=3, executor="serial", progress=False, on_error="collect")
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=1,
                            dashboard_address=None) as client:
        with pytest.raises(SweepError) as info:
            run_sweep(flaky_point, AX, seed=3, executor=client, progress=False)
        res = run_sweep(flaky_point, AX, seed=3, executor=client, progress=False, on_error="collect")
    _check_failure(info.value, serial.values)
    assert res.values == serial.values


def test_run_sweep_validates_its_arguments():
    for kwargs, name in (({"on_error": "ignore"}, "on_error"), ({"progress": "yes"}, "progress"),
                         ({"executor": "threads"}, "executor"), ({"seed": True}, "seed")):
        with pytest.raises(ValueError, match=name):
            run_sweep(flaky_point, AX, **kwargs)
    with pytest.raises(ValueError, match="func"):
        run_sweep(3, AX, executor="serial", progress=False)


# --- size guards and flags of the loop, the schedules, the tempered, curated and KDE models.
# Each example runs in a forked process with a time limit, so a hang cannot stall the suite.

def _bounded(fn, timeout=2.0):
    """('raised', message) for a ValueError/TypeError, ('other', repr) for another exception,
    ('returned', None) or ('timeout', None), from fn() run in a forked process."""
    import multiprocessing as mp
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)

    def run():
        try:
            fn()
            child.send(("returned", None))
        except (ValueError, TypeError) as exc:
            child.send(("raised", str(exc)))
        except BaseException as exc:  # noqa: BLE001
            child.send(("other", repr(exc)[:300]))

    proc = ctx.Process(target=run, daemon=True)
    proc.start()
    out = parent.recv() if parent.poll(timeout) else ("timeout", None)
    proc.kill()
    proc.join()
    return out


def _g():
    g = cl.Gaussian1D()
    return g, g.params(0, 1)


@pytest.mark.parametrize("call, name", [
    (lambda: cl.run_loop(*_g(), n=5, generations=10**12), "generations"),
    (lambda: cl.run_loop(cl.Gaussian1D(), _g()[1], n=5, generations=10**12,
                         synthetic=cl.models.Curated(cl.Gaussian1D(), cl.models.gaussian_loglik())),
     "generations"),
    (lambda: cl.models.gaussian_loglik(relative="no"), "relative"),
    (lambda: TemperedGaussian1D and cl.models.tempered.stability_point(0.5, 0.9, generations=10**12), "generations"),
    (lambda: cl.models.kde.founder_counts(cl.GaussianKDE(), cl.models.kde.gaussian_mixture([[0.0, 1.0]], [0.5]),
                                          10, 10**12, 2, 0), "generations"),
    (lambda: cl.replace().real_data_used(10**12, 10), "generations"),
    (lambda: cl.run_loop(*_g(), n=10**12, generations=1, replicates=2), "n"),
    (lambda: cl.run_loop(*_g(), n=5, generations=3, metrics={"m": 3}), "metrics"),
    (lambda: cl.run_loop(*_g(), n=5, generations=3, record="no"), "record"),
    (lambda: cl.models.kde.founder_counts(cl.GaussianKDE(), cl.models.kde.gaussian_mixture([[0.0, 1.0]], [0.5]),
                                          10**7, 3, 10**4, 0), "n="),
], ids=["run_loop-generations", "curated_synthetic-generations", "gaussian_loglik-relative", "stability_point-generations",
        "founder_counts-generations", "real_data_used-generations", "run_loop-n", "run_loop-metrics",
        "run_loop-record", "founder_counts-size"])
def test_loop_and_model_guards(call, name):
    outcome, message = _bounded(call)
    assert outcome == "raised" and name in message, (outcome, message)
