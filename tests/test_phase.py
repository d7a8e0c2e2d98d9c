"""Chapter 10: phase diagrams.  Point functions against the exact curves of chapters 7 and 8,
the boundary helpers against their closed forms and brute force, and the sweep runner giving
identical arrays serially, in a process pool and on a Dask client."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collapselab import phase as ph
from collapselab.sweep import run_sweep
from collapselab.theory import contamination as C
from collapselab.theory import contraction as ct

Z = 5.0  # tolerance in Monte-Carlo standard errors
FAST = settings(max_examples=25, deadline=None)


def _worst_z(point, exact_curve, ts):
    z = np.abs(point["ratio"][ts] - exact_curve[ts]) / point["ratio_se"][ts]
    return float(z.max())


# ------------------------------------------------------------------------------------------
# point functions against the closed forms
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("alpha, n, ddof, known, exact", [
    (0.1, 40, 1, False, True),
    (0.1, 40, 1, False, False),
    (0.25, 20, 0, False, True),
    (0.05, 100, 0, True, True),
    (0.0, 30, 1, False, True),        # replace: rho_t = t
])
def test_mix_point_matches_exact_ratio_curve(alpha, n, ddof, known, exact):
    T, R = 30, 3000
    pt = ph.mix_point(alpha, n, generations=T, replicates=R, ddof=ddof, known_variance=known,
                      exact=exact, seed=101)
    curve = ph.mix_ratio_curve(alpha, n, T, ddof, known)
    assert pt["ratio"].shape == pt["ratio_se"].shape == pt["var"].shape == (T + 1,)
    assert pt["ratio"][0] == 0.0 and curve[0] == 0.0 and curve[1] == pytest.approx(1.0)
    assert _worst_z(pt, curve, [1, 3, 10, T]) < Z
    assert pt["realised_alpha"] == C.realised_fraction(n, alpha)
    if alpha == 0.0 and ddof == 1:
        np.testing.assert_allclose(curve, np.arange(T + 1))
    if known:
        np.testing.assert_allclose(pt["var"], 1.0)


@pytest.mark.parametrize("alpha, tau, n, ddof, exact", [
    (0.3, 1.2, 20, 0, True),
    (0.3, 1.2, 20, 0, False),
    (0.5, 0.8, 50, 1, True),
])
def test_tempered_point_matches_exact_ratio_curve(alpha, tau, n, ddof, exact):
    T, R = 25, 3000
    pt = ph.tempered_point(alpha, tau, n, generations=T, replicates=R, ddof=ddof, exact=exact,
                           seed=202)
    curve = ph.tempered_ratio_curve(alpha, tau, n, T, ddof)
    assert _worst_z(pt, curve, [1, 2, 8, T]) < Z
    th_var = ct.tempered_moments(alpha, tau, n, T, ddof)["var"]
    assert abs(pt["var"][T] - th_var[T]) < 0.1 * th_var[T]


def test_rep_only_labels_and_seed_determines_the_result():
    a = ph.mix_point(0.2, 20, rep=0, generations=5, replicates=50, seed=3)
    b = ph.mix_point(0.2, 20, rep=2, generations=5, replicates=50, seed=3)
    c = ph.mix_point(0.2, 20, rep=0, generations=5, replicates=50, seed=4)
    np.testing.assert_array_equal(a["ratio"], b["ratio"])
    assert not np.array_equal(a["ratio"], c["ratio"])


# ------------------------------------------------------------------------------------------
# verdicts from curves
# ------------------------------------------------------------------------------------------


def test_stability_ratio_and_exceedance_time_on_known_curves():
    curves = np.array([[0.0, 1.0, 3.0, 2.0, 6.0],
                       [0.0, 1.0, 1.5, 1.8, 1.9]])
    np.testing.assert_array_equal(ph.stability_ratio(curves), [6.0, 1.9])
    np.testing.assert_array_equal(ph.stability_ratio(curves, 3), [3.0, 1.8])
    assert ph.stability_ratio(curves[0], 1) == 1.0
    np.testing.assert_array_equal(ph.exceedance_time(curves, 2.5), [2.0, np.inf])
    assert ph.exceedance_time(curves[0], 5.0) == 4.0
    assert isinstance(ph.exceedance_time(curves[1], 5.0), float)
    # a sweep-shaped array: leading grid axes are kept
    grid = np.broadcast_to(curves, (3, 2, 5))
    assert ph.stability_ratio(grid, 2).shape == (3, 2)


# ------------------------------------------------------------------------------------------
# thm-10-mix-boundary: exact values
# ------------------------------------------------------------------------------------------


def test_known_variance_boundary_exact_values():
    assert ph.known_variance_boundary(4.0) == pytest.approx(1 - math.sqrt(0.75), abs=1e-15)
    assert ph.known_variance_boundary(1.0) == 1.0
    for Cc in (1.5, 5.0, 20.0):
        a = ph.known_variance_boundary(Cc)
        assert C.mix_limit_factor(a) == pytest.approx(Cc, rel=1e-12)
    # short horizons hide the instability: rho_T <= T
    assert ph.known_variance_boundary(5.0, horizon=5) == 0.0
    a10 = ph.known_variance_boundary(5.0, horizon=10)
    q = (1 - a10) ** 2
    assert (1 - q**10) / (1 - q) == pytest.approx(5.0, rel=1e-9)
    assert 0 < a10 < ph.known_variance_boundary(5.0, horizon=100) < ph.known_variance_boundary(5.0)


def test_mix_ratio_closed_forms():
    # known variance: rho_T = (1 - (1-a)^{2T}) / (a (2 - a)), rho_inf = F(a)
    for a, T in [(0.1, 7), (0.25, 40)]:
        q = (1 - a) ** 2
        assert ph.mix_ratio(a, 20, T, known_variance=True) == pytest.approx((1 - q**T) / (1 - q))
        assert ph.mix_ratio(a, 20, None, known_variance=True) == pytest.approx(1 / (a * (2 - a)))
    # unbiased variance: rho_inf = F(a) (1 + (1-a)^2 / ((2-a) m - 1))
    for n, m in [(10, 1), (40, 5), (200, 23)]:
        a = m / n
        expected = (1 + (1 - a) ** 2 / ((2 - a) * m - 1)) / (a * (2 - a))
        assert ph.mix_ratio(a, n, None, ddof=1) == pytest.approx(expected, rel=1e-12)
        assert expected <= 2 / (a * (2 - a))
        # the unbiased curve increases to its limit
        curve = ph.mix_ratio_curve(a, n, 400, ddof=1)
        assert np.all(np.diff(curve) >= -1e-12) and curve[-1] == pytest.approx(expected, rel=1e-5)
    # replace
    assert ph.mix_ratio(0.0, 30, 12, ddof=1) == pytest.approx(12.0)
    assert ph.mix_ratio(0.0, 30, None, ddof=1) == math.inf
    assert ph.mix_ratio(0.0, 30, None, known_variance=True) == math.inf
    assert ph.mix_ratio(0.0, 30, None, ddof=0) == 30.0
    assert ph.mix_ratio(1.0, 30, None, ddof=0) == pytest.approx(1.0)
    # the MLE supremum is at least the limit and at least every finite-horizon value
    sup = ph.mix_ratio(0.05, 40, None, ddof=0)
    assert sup >= C.mix_error_factor(40, 0.05, 0) - 1e-12
    assert sup >= ph.mix_ratio(0.05, 40, 200, ddof=0) - 1e-12


def test_exceedance_time_closed_form_against_iteration():
    for Cc in (2.0, 5.0, 7.5):
        assert ph.known_variance_exceedance_time(0.0, Cc) == math.floor(Cc) + 1
        for n, m in [(100, 1), (100, 4), (100, 9), (50, 2)]:
            a = m / n
            closed = ph.known_variance_exceedance_time(a, Cc)
            iterated = ph.mix_exceedance_time(a, n, Cc, known_variance=True)
            assert closed == iterated, (Cc, a)
    assert ph.known_variance_exceedance_time(0.2, 3.0) == math.inf   # F(0.2) = 2.78 < 3
    assert ph.known_variance_exceedance_time(1.0, 1.0) == math.inf
    # unbiased variance under replace: rho_t = t, the same exceedance time
    assert ph.mix_exceedance_time(0.0, 40, 5.0, ddof=1) == 6.0


def test_mix_boundary_exact_values():
    a_c = ph.known_variance_boundary(5.0)
    for n in (20, 100, 1000):
        got = ph.mix_boundary(n, 5.0, known_variance=True)
        assert got == math.ceil(a_c * n - 1e-12) / n
    assert ph.mix_boundary(10, 5.0, ddof=1) == 0.2      # m = 1 gives rho = 10.0
    assert ph.mix_boundary(50, 1.0) == 1.0
    assert ph.mix_boundary(50, 5.0, horizon=5) == 0.0


# ------------------------------------------------------------------------------------------
# properties (hypothesis)
# ------------------------------------------------------------------------------------------


@FAST
@given(n=st.integers(2, 60), Cc=st.floats(1.0, 30.0),
       horizon=st.sampled_from([None, 3, 15, 60]), ddof=st.sampled_from([0, 1]),
       known=st.booleans())
def test_mix_boundary_matches_brute_force(n, Cc, horizon, ddof, known):
    ok = [ph.mix_ratio(m / n, n, horizon, ddof, known) <= Cc for m in range(n + 1)]
    assert ok[-1]
    m_c = round(ph.mix_boundary(n, Cc, horizon, ddof, known) * n)
    assert all(ok[m_c:]) and (m_c == 0 or not ok[m_c - 1])


@FAST
@given(n=st.integers(2, 200), c1=st.floats(1.0, 50.0), c2=st.floats(1.0, 50.0),
       horizon=st.sampled_from([None, 10, 50]))
def test_boundaries_decrease_with_tolerance(n, c1, c2, horizon):
    lo, hi = sorted((c1, c2))
    assert ph.mix_boundary(n, hi, horizon) <= ph.mix_boundary(n, lo, horizon)
    assert ph.known_variance_boundary(hi, horizon) <= ph.known_variance_boundary(lo, horizon) + 1e-12
    assert 0.0 <= ph.known_variance_boundary(hi, horizon) <= 1.0


@FAST
@given(a1=st.floats(0.0, 1.0), a2=st.floats(0.0, 1.0), Cc=st.floats(1.0, 40.0))
def test_exceedance_time_grows_with_the_real_fraction(a1, a2, Cc):
    lo, hi = sorted((a1, a2))
    t_lo = ph.known_variance_exceedance_time(lo, Cc)
    assert t_lo <= ph.known_variance_exceedance_time(hi, Cc)
    assert t_lo >= math.floor(Cc) + 1            # rho_t <= t: nothing exceeds C before C
    assert (t_lo == math.inf) == (lo >= ph.known_variance_boundary(Cc) - 1e-12) or \
        abs(lo - ph.known_variance_boundary(Cc)) < 1e-9


@FAST
@given(m=st.integers(1, 40), extra=st.integers(1, 60), tau1=st.floats(0.2, 2.5),
       tau2=st.floats(0.2, 2.5), ddof=st.sampled_from([0, 1]))
def test_tempered_ratio_increases_with_temperature(m, extra, tau1, tau2, ddof):
    n = m + extra
    alpha = m / n
    lo, hi = sorted((tau1, tau2))
    assert ph.tempered_ratio(alpha, lo, n, 30, ddof) <= ph.tempered_ratio(alpha, hi, n, 30, ddof) + 1e-9
    assert ph.tempered_ratio(alpha, lo, n, None, ddof) <= ph.tempered_ratio(alpha, hi, n, None, ddof) + 1e-9


@settings(max_examples=12, deadline=None)
@given(m=st.integers(1, 8), n=st.sampled_from([10, 40]), c1=st.floats(1.5, 30.0),
       c2=st.floats(1.5, 30.0))
def test_tempered_boundary_is_nested_below_the_threshold(m, n, c1, c2):
    alpha = m / 10
    lo, hi = sorted((c1, c2))
    t_lo, t_hi = ph.tempered_boundary(alpha, n, lo), ph.tempered_boundary(alpha, n, hi)
    assert t_lo <= t_hi + 1e-9
    assert t_hi < ct.exact_critical_tau(alpha, n) <= ct.critical_tau(alpha, n) + 1e-12


# ------------------------------------------------------------------------------------------
# prop-10-tempered-boundary: exact values
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ddof", [0, 1])
def test_tempered_at_unit_temperature_is_the_plain_gaussian(ddof):
    for alpha, n in [(0.1, 40), (0.3, 20), (0.5, 10)]:
        np.testing.assert_allclose(ph.tempered_ratio_curve(alpha, 1.0, n, 50, ddof),
                                   ph.mix_ratio_curve(alpha, n, 50, ddof), rtol=1e-12)
        assert ph.tempered_ratio(alpha, 1.0, n, None, ddof) == pytest.approx(
            ph.mix_ratio(alpha, n, None, ddof), rel=1e-9)


def test_tempered_supremum_against_a_long_exact_curve():
    for alpha, tau, n, ddof in [(0.5, 0.5, 10, 0), (0.2, 1.05, 10, 0), (0.3, 1.15, 40, 1),
                                (0.1, 0.3, 20, 0), (0.6, 1.5, 100, 0)]:
        curve = ph.tempered_ratio_curve(alpha, tau, n, 4000, ddof)
        assert ph.tempered_ratio(alpha, tau, n, None, ddof) == pytest.approx(
            max(curve[1:].max(), curve[-1]), rel=1e-7)
    # sharp samplers: the error falls after generation 1, so the supremum is rho_1 = 1
    assert ph.tempered_ratio(0.5, 0.3, 10, None) == pytest.approx(1.0)


def test_tempered_boundary_values():
    for alpha, n in [(0.2, 10), (0.5, 100)]:
        tc = ph.tempered_boundary(alpha, n, 5.0)
        assert ph.tempered_ratio(alpha, tc, n) == pytest.approx(5.0, rel=1e-6)
        # a huge tolerance pushes the C-boundary to the exact divergence threshold
        assert ph.tempered_boundary(alpha, n, 1e8) == pytest.approx(
            ct.exact_critical_tau(alpha, n), rel=1e-4)
        th = ph.tempered_boundary(alpha, n, 5.0, horizon=20)
        assert ph.tempered_ratio(alpha, th, n, 20) == pytest.approx(5.0, rel=1e-6)
        assert th >= tc - 1e-9                     # a finite horizon is more lenient
    # the MLE's c = (n-1)/n moves the threshold: smaller n tolerates hotter samplers
    assert ph.tempered_boundary(0.5, 10, 5.0) > ph.tempered_boundary(0.5, 100, 5.0)
    assert ph.tempered_boundary(1.0, 10, 5.0) == math.inf
    assert ph.tempered_boundary(0.5, 10, 5.0, horizon=1) == math.inf   # rho_1 = 1
    assert ph.tempered_ratio(0.2, 3.0, 10) == math.inf


# ------------------------------------------------------------------------------------------
# the sweep: serial, process pool and Dask give identical arrays
# ------------------------------------------------------------------------------------------

AXES = {"alpha": [0.0, 0.1, 0.3], "n": [20, 40], "rep": [0, 1]}
FIXED = dict(generations=15, replicates=100)


def test_sweep_identical_serial_pool_and_dask():
    serial = run_sweep(ph.mix_point, AXES, seed=9, executor="serial", progress=False, fixed=FIXED)
    pooled = run_sweep(ph.mix_point, AXES, seed=9, max_workers=2, progress=False, fixed=FIXED)
    assert serial.array("ratio").shape == (3, 2, 2, 16)
    np.testing.assert_array_equal(serial.array("ratio"), pooled.array("ratio"))
    np.testing.assert_array_equal(serial.array("var"), pooled.array("var"))
    # repetitions are independent runs: different seeds give different curves
    r = serial.array("ratio")
    assert not np.array_equal(r[:, :, 0], r[:, :, 1])
    distributed = pytest.importorskip("distributed")
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2,
                            dashboard_address=None) as client:
        dask_res = run_sweep(ph.mix_point, AXES, seed=9, executor=client, progress=False,
                             fixed=FIXED)
    np.testing.assert_array_equal(serial.array("ratio"), dask_res.array("ratio"))
    np.testing.assert_array_equal(serial.array("ratio_se"), dask_res.array("ratio_se"))


def test_tempered_sweep_serial_equals_pool():
    axes = {"alpha": [0.2, 0.5], "tau": [0.9, 1.3], "n": [10], "rep": [0]}
    fixed = dict(generations=10, replicates=50)
    serial = run_sweep(ph.tempered_point, axes, seed=1, executor="serial", progress=False,
                       fixed=fixed)
    pooled = run_sweep(ph.tempered_point, axes, seed=1, max_workers=2, progress=False, fixed=fixed)
    np.testing.assert_array_equal(serial.array("ratio"), pooled.array("ratio"))


# ------------------------------------------------------------------------------------------
# validation
# ------------------------------------------------------------------------------------------


def test_validation():
    with pytest.raises(ValueError, match="alpha"):
        ph.mix_point(1.5, 20)
    with pytest.raises(ValueError, match="n must"):
        ph.mix_point(0.1, 1)
    with pytest.raises(ValueError, match="rep"):
        ph.mix_point(0.1, 20, rep=-1)
    with pytest.raises(ValueError, match="replicates"):
        ph.mix_point(0.1, 20, replicates=1)
    with pytest.raises(ValueError, match="ddof"):
        ph.mix_point(0.1, 20, ddof=2)
    with pytest.raises(ValueError, match="tau"):
        ph.tempered_point(0.1, 0.0, 20)
    with pytest.raises(ValueError, match="generations"):
        ph.tempered_point(0.1, 1.0, 20, generations=0)
    with pytest.raises(ValueError, match="C must"):
        ph.mix_boundary(20, 0.5)
    with pytest.raises(ValueError, match="C must"):
        ph.known_variance_boundary(float("nan"))
    with pytest.raises(ValueError, match="horizon"):
        ph.mix_ratio(0.1, 20, horizon=0)
    with pytest.raises(ValueError, match="horizon"):
        ph.stability_ratio(np.zeros(5), horizon=5)
    with pytest.raises(ValueError, match="ratio"):
        ph.stability_ratio(np.array([0.0]))
    with pytest.raises(ValueError, match="ratio contains NaN"):
        ph.exceedance_time(np.array([0.0, np.nan]), 2.0)
    with pytest.raises(ValueError, match="alpha must give at least one real point"):
        ph.tempered_ratio(0.01, 1.0, 20)
    with pytest.raises(ValueError, match="alpha must give at least one real point"):
        ph.tempered_boundary(0.0, 20, 5.0)
    with pytest.raises(ValueError, match="max_generations"):
        ph.mix_exceedance_time(0.0, 20, 5.0, max_generations=0)
