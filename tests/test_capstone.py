"""Chapter 14 (capstone): the class-conditional PPCA model, the digits loader, the bootstrap
real-data sampler, and the chapter's propositions against simulation."""
from __future__ import annotations

import socket

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

import collapselab as cl
from collapselab.datasets import (Bootstrap, bootstrap_indices, load_digits,
                                  stratified_split, to_images)
from collapselab.models.pca_gaussian import (PCAGaussian, PCAGaussianParams, explained_share,
                                             heterozygosity, mean_shift_squared, noise_variance,
                                             recorded_params, surviving_classes, total_variance,
                                             w2_moments, wishart_identity)
from collapselab.theory import pca_gaussian as TP


def _random_params(model: PCAGaussian, d: int, seed: int, spread: float = 3.0) -> PCAGaussianParams:
    """A random class-conditional PPCA with well separated top variances."""
    rng = np.random.default_rng(seed)
    K, k = model.classes, model.components
    w = rng.dirichlet(np.full(K, 5.0))
    means = spread * rng.standard_normal((K, d))
    U = np.linalg.qr(rng.standard_normal((K, d, k)))[0]
    noise = rng.uniform(0.2, 0.5, K)
    lam = noise[:, None] + np.sort(rng.uniform(1.0, 6.0, (K, k)), axis=1)[:, ::-1] * np.arange(k, 0, -1)
    return model.params(w, means, U, lam, noise)


def _pool(model, d, size, seed):
    """A fixed labelled 'real' data set: points of a random PPCA, rounded like pixel data."""
    p = _random_params(model, d, seed)
    x, y = model.sample_labelled(p, size, np.random.default_rng(seed + 1))
    return np.round(x[0]), y[0]


# --- the fit ---------------------------------------------------------------------------------

def test_fit_recovers_a_known_ppca():
    model = PCAGaussian(components=2, classes=2)
    d = 10
    true = _random_params(model, d, seed=1)
    x, y = model.sample_labelled(model.broadcast(true, 2), 40_000, np.random.default_rng(2))
    fit = model.fit(model.stats(x, y))
    for r in range(2):
        np.testing.assert_allclose(fit.weights[r], true.weights[0], atol=0.01)
        np.testing.assert_allclose(fit.means[r], true.means[0], atol=0.08)
        np.testing.assert_allclose(fit.variances[r], true.variances[0], rtol=0.06)
        np.testing.assert_allclose(fit.noise_var[r], true.noise_var[0], rtol=0.03)
        # the principal subspace: compare projection matrices
        P_fit = fit.directions[r] @ np.swapaxes(fit.directions[r], -1, -2)
        P_true = true.directions[0] @ np.swapaxes(true.directions[0], -1, -2)
        assert np.max(np.abs(P_fit - P_true)) < 0.05
        np.testing.assert_allclose(fit.class_covs[r], true.class_covs[0], atol=0.35)


def test_fit_is_the_tipping_bishop_mle_and_keeps_the_trace():
    rng = np.random.default_rng(3)
    model = PCAGaussian(components=3, classes=1)
    x = rng.standard_normal((1, 200, 7)) @ rng.standard_normal((7, 7))
    p = model.fit(model.stats(x))
    S = np.cov(x[0].T, bias=True)
    lam = np.sort(np.linalg.eigvalsh(S))[::-1]
    np.testing.assert_allclose(p.variances[0, 0], lam[:3])
    np.testing.assert_allclose(p.noise_var[0, 0], lam[3:].mean())
    np.testing.assert_allclose(p.total_variance[0], np.trace(S))
    np.testing.assert_allclose(p.mean[0], x[0].mean(axis=0))
    # the PPCA covariance is the sample covariance with its trailing spectrum flattened
    w, v = np.linalg.eigh(p.class_covs[0, 0])
    np.testing.assert_allclose(np.sort(w)[::-1], np.r_[lam[:3], np.full(4, lam[3:].mean())], atol=1e-10)
    # the PPCA is also the maximiser of the likelihood: it beats the nearby models
    ll = model.log_likelihood(p, x[0]).sum()
    for scale in (0.95, 1.05):
        q = PCAGaussianParams(p.weights, p.means, p.directions, p.variances * scale, p.noise_var * scale)
        assert model.log_likelihood(q, x[0]).sum() < ll


def test_mixture_moments_match_the_pooled_sample():
    model = PCAGaussian(components=2, classes=3)
    x, y = _pool(model, 6, 300, seed=4)
    p = model.fit_data(x, y)
    np.testing.assert_allclose(p.mean[0], x.mean(axis=0))
    np.testing.assert_allclose(p.total_variance[0], np.trace(np.cov(x.T, bias=True)))
    np.testing.assert_allclose(np.trace(p.cov[0]), p.total_variance[0])
    np.testing.assert_allclose(p.weights[0], np.bincount(y, minlength=3) / len(y))
    N, mean, scatter = model.stats(x[None], y[None]).pooled()
    assert N[0] == len(y)
    np.testing.assert_allclose(mean[0], x.mean(axis=0))
    np.testing.assert_allclose(scatter[0] / N[0], np.cov(x.T, bias=True), atol=1e-9)
    # with one class the moment-matched Gaussian is the model itself, for cl.metrics
    one = PCAGaussian(components=2)
    q = one.fit_data(x)
    g = one.as_normal(q)
    np.testing.assert_allclose(g.cov[0], q.class_covs[0, 0])
    assert cl.metrics.w2(g, g)[0] < 1e-6 and cl.metrics.kl_gaussian(g, g)[0] < 1e-9


def test_log_likelihood_matches_scipy():
    model = PCAGaussian(components=2, classes=3)
    p = _random_params(model, 5, seed=5)
    rng = np.random.default_rng(6)
    x = rng.standard_normal((7, 5)) * 3
    C = p.class_covs[0]
    dens = np.array([[sps.multivariate_normal(p.means[0, c], C[c]).logpdf(xi) for c in range(3)] for xi in x])
    mix = np.log(np.exp(dens) @ p.weights[0])
    np.testing.assert_allclose(model.log_likelihood(p, x)[0], mix, rtol=1e-10)
    y = rng.integers(0, 3, 7)
    np.testing.assert_allclose(model.log_likelihood(p, x, y)[0], dens[np.arange(7), y], rtol=1e-10)
    np.testing.assert_allclose(model.class_log_det(p)[0], np.linalg.slogdet(C)[1])


def test_degenerate_class_has_no_density_but_no_nan():
    model = PCAGaussian(components=1, classes=2)
    x = np.array([[[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [5.0, 5.0]]])
    p = model.fit(model.stats(x, np.array([[0, 0, 0, 1]])))   # class 1 has one point: zero variance
    assert p.noise_var[0, 1] == 0
    ll = model.log_likelihood(p, np.array([[5.0, 5.0], [0.5, 0.5]]))
    assert np.all(np.isfinite(ll))
    only = model.log_likelihood(p, np.array([[5.0, 5.0]]), np.array([1]))
    assert only[0, 0] == -np.inf


def test_extinct_class_stays_extinct_under_replace():
    model = PCAGaussian(components=1, classes=2)
    x = np.zeros((1, 4, 3)) + np.arange(4)[None, :, None]
    p = model.fit(model.stats(x, np.zeros((1, 4), dtype=int)))
    assert p.weights[0, 1] == 0 and not p.alive[0, 1]
    s = model.sample_stats(model.broadcast(p, 5), 50, np.random.default_rng(0))
    assert np.all(s.counts[:, 1] == 0)
    assert np.all(surviving_classes(model.fit(s)) == 1)


# --- statistics and samplers -------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(n1=st.integers(1, 12), n2=st.integers(1, 12), seed=st.integers(0, 10_000))
def test_stats_are_additive(n1, n2, seed):
    rng = np.random.default_rng(seed)
    model = PCAGaussian(components=1, classes=3)
    x1, x2 = rng.standard_normal((2, n1, 4)), rng.standard_normal((2, n2, 4)) + 1
    y1, y2 = rng.integers(0, 3, (2, n1)), rng.integers(0, 3, (2, n2))
    both = model.stats(np.concatenate([x1, x2], axis=1), np.concatenate([y1, y2], axis=1))
    pooled = model.combine(model.stats(x1, y1), model.stats(x2, y2))
    np.testing.assert_array_equal(both.counts, pooled.counts)
    np.testing.assert_allclose(both.means, pooled.means, atol=1e-12)
    np.testing.assert_allclose(both.scatters, pooled.scatters, atol=1e-10)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 30), k=st.integers(0, 4), seed=st.integers(0, 10_000))
def test_fit_invariants(n, k, seed):
    rng = np.random.default_rng(seed)
    model = PCAGaussian(components=k, classes=2)
    x = rng.standard_normal((3, n, 5)) * rng.uniform(0.1, 3.0, 5)
    y = rng.integers(0, 2, (3, n))
    p = model.fit(model.stats(x, y))
    np.testing.assert_allclose(p.weights.sum(axis=1), 1.0)
    assert np.all(p.noise_var >= 0) and np.all(p.variances >= p.noise_var[..., None])
    expected = [np.trace(np.cov(xi.T, bias=True)) if n > 1 else 0.0 for xi in x]
    np.testing.assert_allclose(p.total_variance, expected, atol=1e-9)
    assert np.all(np.isfinite(explained_share(p))) and np.all(noise_variance(p) >= 0)


def test_sample_path_equals_stats_of_samples():
    model = PCAGaussian(components=2, classes=3)
    p = model.broadcast(_random_params(model, 6, seed=7), 4)
    x, y = model.sample_labelled(p, 40, np.random.default_rng(8))
    direct = model.sample_stats(p, 40, np.random.default_rng(8), exact=False)
    via = model.stats(x, y)
    np.testing.assert_array_equal(direct.counts, via.counts)
    np.testing.assert_allclose(direct.means, via.means, atol=1e-12)
    np.testing.assert_allclose(direct.scatters, via.scatters, atol=1e-9)
    assert x.shape == (4, 40, 6) and np.all(np.diff(y, axis=1) >= 0)
    shuffled = model.sample(p, 40, np.random.default_rng(8))
    np.testing.assert_allclose(np.sort(shuffled, axis=1), np.sort(x, axis=1))


@pytest.mark.parametrize("n", [5, 40])   # class counts below and above d + 1 (both Wishart branches)
def test_exact_and_sample_paths_agree_in_distribution(n):
    model = PCAGaussian(components=2, classes=2)
    d, R = 6, 4000
    p = model.broadcast(_random_params(model, d, seed=9), R)
    rng = np.random.default_rng(10)
    a = model.sample_stats(p, n, rng, exact=False)
    b = model.sample_stats(p, n, rng, exact=True)
    C = p.class_covs[0]
    for c in range(2):
        for s in (a, b):
            m = s.counts[:, c]
            live = m > 1
            # E[scatter | m] = (m - 1) C and E[mean | m] = mu
            np.testing.assert_allclose((s.scatters[live, c] / (m[live] - 1)[:, None, None]).mean(axis=0),
                                       C[c], atol=6 * np.sqrt(2 * np.max(C[c]) ** 2 / live.sum()) + 0.05)
        for f in (lambda s: np.trace(s.scatters[:, c], axis1=-2, axis2=-1),
                  lambda s: s.scatters[:, c, 0, 1],
                  lambda s: s.means[:, c, 0] * (s.counts[:, c] > 0),
                  lambda s: s.counts[:, c].astype(float)):
            assert sps.ks_2samp(f(a), f(b)).pvalue > 1e-3


def test_wishart_identity_moments_and_validation():
    rng = np.random.default_rng(11)
    df = np.array([0, 2, 3, 9] * 3000)
    W = wishart_identity(df, 4, rng)
    assert W.shape == (12_000, 4, 4)
    for v in (0, 2, 3, 9):
        sel = W[df == v]
        np.testing.assert_allclose(sel.mean(axis=0), v * np.eye(4), atol=6 * np.sqrt(2 * max(v, 1) / 3000))
        np.testing.assert_allclose(np.linalg.matrix_rank(sel[:5]), min(v, 4))
    with pytest.raises(ValueError, match="df"):
        wishart_identity(np.array([1.5]), 4, rng)
    with pytest.raises(ValueError, match="dim"):
        wishart_identity(np.array([1]), 0, rng)


# --- propositions vs simulation ---------------------------------------------------------------

@pytest.mark.parametrize("schedule", [cl.replace(), cl.accumulate(), cl.mix(0.3), cl.inject(3)],
                         ids=lambda s: s.name)
@pytest.mark.parametrize("exact", [False, True])
def test_total_variance_follows_the_gaussian_recursion(schedule, exact):
    """{prf:ref}`prop-14-trace`, with the bootstrap real sampler of a fixed pool."""
    model = PCAGaussian(components=1, classes=2)
    d, n, T, R = 4, 12, 8, 3000
    x, y = _pool(model, d, 150, seed=12)
    truth = model.fit_data(x, y)
    traj = cl.run_loop(model, truth, n=n, generations=T, replicates=R, schedule=schedule,
                       exact=exact, seed=13, real=Bootstrap(x, y), record=False,
                       metrics={"tv": total_variance, "drift": mean_shift_squared,
                                "het": heterozygosity})
    v, msd = TP.expected_total_variance(float(truth.total_variance[0]), n, T, schedule)
    for name, expected in (("tv", v), ("drift", msd)):
        sim = traj[name]
        se = sim.std(axis=1) / np.sqrt(R)
        assert np.all(np.abs(sim.mean(axis=1) - expected) <= 5 * se + 1e-9 * expected.max()), name
    if schedule.name == "replace":
        h = TP.expected_heterozygosity(truth.weights[0], n, np.arange(T + 1))
        se = traj["het"].std(axis=1) / np.sqrt(R)
        assert np.all(np.abs(traj["het"].mean(axis=1) - h) <= 5 * se + 1e-12)


@pytest.mark.parametrize("n, strict", [(6, True), (400, False)])
def test_noise_variance_contracts_at_least_like_the_trace(n, strict):
    """{prf:ref}`prop-14-noise`: E[sigma_1^2] <= (1 - 1/n) sigma_0^2 for one class; the gap is
    large when n < d (the sample spectrum spreads out), small when n >> d."""
    model = PCAGaussian(components=2, classes=1)
    d, R = 10, 6000
    p = model.broadcast(_random_params(model, d, seed=14), R)
    fit = model.fit(model.sample_stats(p, n, np.random.default_rng(15), exact=True))
    s2 = fit.noise_var[:, 0]
    bound = float(TP.noise_variance_bound(p.noise_var[0, 0], n))
    se = s2.std() / np.sqrt(R)
    assert s2.mean() <= bound + 4 * se
    if strict:
        assert s2.mean() < 0.8 * bound
    else:
        assert s2.mean() > 0.95 * bound
    # the trace itself is exactly (1 - 1/n) tr in expectation
    tv = fit.class_traces[:, 0]
    assert abs(tv.mean() - (1 - 1 / n) * p.class_traces[0, 0]) < 5 * tv.std() / np.sqrt(R)


# --- the data sets -----------------------------------------------------------------------------

def test_load_digits_works_offline(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network disabled in this test")
    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    data = load_digits(holdout=0.25, seed=0)
    assert data.train_x.shape[1] == 64 and data.dim == 64 and data.classes == 10
    assert data.train_x.shape[0] + data.test_x.shape[0] == 1797
    assert data.train_x.min() == 0 and data.train_x.max() == 16
    counts_test = np.bincount(data.test_y, minlength=10)
    counts_all = counts_test + np.bincount(data.train_y, minlength=10)
    np.testing.assert_array_equal(counts_test, np.round(0.25 * counts_all))
    again = load_digits(holdout=0.25, seed=0)
    np.testing.assert_array_equal(again.test_x, data.test_x)
    other = load_digits(holdout=0.25, seed=1)
    assert not np.array_equal(other.test_x, data.test_x)
    imgs = data.images(data.train_x[:3])
    assert imgs.shape == (3, 8, 8)


def test_stratified_split_is_a_partition():
    y = np.repeat(np.arange(4), [10, 20, 5, 1])
    tr, te = stratified_split(y, 0.3, seed=3)
    assert np.intersect1d(tr, te).size == 0
    np.testing.assert_array_equal(np.sort(np.r_[tr, te]), np.arange(y.size))
    np.testing.assert_array_equal(np.bincount(y[te], minlength=4), np.round(0.3 * np.array([10, 20, 5, 1])))


def _bound_stats(source, model, replicates):
    """The real source's statistics sampler ``f(t, m, rng)`` as a run of the loop binds it."""
    from collapselab.sources import LoopContext
    ctx = LoopContext(model=model, truth=None, replicates=replicates, n=1, generations=0,
                      schedule=cl.replace(), exact=False)
    return source.bind(ctx, np.random.default_rng(0)).stats


def test_bootstrap_real_source():
    model = PCAGaussian(components=1, classes=3)
    x = np.arange(30, dtype=float).reshape(10, 3)
    y = np.array([0, 1, 2] * 3 + [0])
    draw = _bound_stats(Bootstrap(x, y), model, 5)

    def real(m, rng):
        return draw(1, m, rng)

    s = real(1, np.random.default_rng(0))
    assert s.counts.shape == (5, 3) and np.all(s.counts.sum(axis=1) == 1)
    for r in range(5):
        c = int(np.flatnonzero(s.counts[r])[0])
        row = np.flatnonzero((x == s.means[r, c]).all(axis=1))
        assert row.size == 1 and y[row[0]] == c                 # a row of the data, with its label
    big = real(400, np.random.default_rng(1))
    assert big.means.shape == (5, 3, 3) and big.scatters.shape == (5, 3, 3, 3)
    np.testing.assert_allclose(big.counts.sum(axis=1), 400)
    again = real(400, np.random.default_rng(1))
    np.testing.assert_array_equal(big.scatters, again.scatters)
    # chains resample independently
    assert not np.allclose(big.means[0], big.means[1])
    # resampled counts follow the class frequencies of the pool
    share = big.counts.sum(axis=0) / big.counts.sum()
    np.testing.assert_allclose(share, np.bincount(y) / len(y), atol=0.05)
    idx = bootstrap_indices(10, 3, 7, np.random.default_rng(2))
    assert idx.shape == (3, 7) and idx.min() >= 0 and idx.max() < 10
    # unlabelled data with a one-class model
    one = _bound_stats(Bootstrap(x), PCAGaussian(1), 2)(1, 4, np.random.default_rng(0))
    assert one.counts.shape == (2, 1)


def test_loop_records_rebuild_the_parameters():
    from collapselab.monitoring import params_at
    model = PCAGaussian(components=1, classes=2)
    x, y = _pool(model, 4, 80, seed=16)
    truth = model.fit_data(x, y)
    traj = cl.run_loop(model, truth, n=20, generations=3, replicates=3, seed=0,
                       schedule=cl.mix(0.5), real=Bootstrap(x, y),
                       metrics={"w2": w2_moments})
    last = params_at(model, traj, -1)
    np.testing.assert_allclose(last.class_covs, traj.final.class_covs)
    mine = recorded_params(traj, -1)
    np.testing.assert_array_equal(mine.directions, traj.final.directions)
    with pytest.raises(ValueError, match="record"):
        recorded_params(cl.run_loop(model, truth, n=20, generations=1, record=False), 0)
    assert traj["w2"][0].max() < 1e-6 and np.all(traj["w2"][1:] > 0)


# --- validation --------------------------------------------------------------------------------

def test_validation_errors():
    model = PCAGaussian(components=2, classes=2)
    x = np.zeros((1, 3, 4))
    with pytest.raises(ValueError, match="components"):
        PCAGaussian(components=-1)
    with pytest.raises(ValueError, match="classes"):
        PCAGaussian(components=1, classes=0)
    with pytest.raises(ValueError, match="labels"):
        model.stats(x)
    with pytest.raises(ValueError, match="labels"):
        model.stats(x, np.array([[0, 1, 2]]))
    with pytest.raises(ValueError, match="labels"):
        model.stats(x, np.array([[0, 1]]))
    with pytest.raises(ValueError, match="labels"):
        model.stats(x, np.array([[0.5, 1, 0]]))
    with pytest.raises(ValueError, match="data"):
        model.stats(np.full((1, 3, 4), np.nan), np.zeros((1, 3), dtype=int))
    with pytest.raises(ValueError, match="components"):
        PCAGaussian(components=4).fit(PCAGaussian(components=4).stats(x))
    with pytest.raises(ValueError, match="weights"):
        model.params([0.5, 0.6], np.zeros((2, 4)), np.tile(np.eye(4)[:, :2], (2, 1, 1)),
                     np.ones((2, 2)), np.ones(2))
    with pytest.raises(ValueError, match="directions"):
        model.params([0.5, 0.5], np.zeros((2, 4)), np.ones((2, 4, 2)), np.ones((2, 2)), np.ones(2))
    with pytest.raises(ValueError, match="variances"):
        model.params([0.5, 0.5], np.zeros((2, 4)), np.tile(np.eye(4)[:, :2], (2, 1, 1)),
                     np.full((2, 2), 0.5), np.ones(2))
    p = _random_params(model, 4, seed=0)
    with pytest.raises(ValueError, match="n"):
        model.sample(p, 0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="x"):
        model.log_likelihood(p, np.zeros((3, 5)))
    with pytest.raises(ValueError, match="params"):
        PCAGaussian(components=1, classes=2).sample(p, 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match="replicates"):
        model.broadcast(model.broadcast(p, 3), 4)
    with pytest.raises(ValueError, match="holdout"):
        load_digits(holdout=1.0)
    with pytest.raises(ValueError, match="labels"):
        Bootstrap(np.zeros((5, 4)), np.zeros(4, dtype=int))
    with pytest.raises(ValueError, match="x"):
        Bootstrap(np.zeros(5))
    with pytest.raises(ValueError, match="x"):
        to_images(np.zeros((2, 63)), (8, 8))
    with pytest.raises(ValueError, match="value_range"):
        to_images(np.zeros((2, 64)), (8, 8), (16, 0))
    with pytest.raises(ValueError, match="weights0"):
        TP.expected_heterozygosity([0.5, 0.6], 10, 1)
    with pytest.raises(ValueError, match="m"):
        TP.noise_variance_bound(1.0, 0)
    with pytest.raises(ValueError, match="trace0"):
        TP.expected_total_variance(0.0, 10, 3, cl.replace())
