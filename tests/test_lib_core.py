"""Core library pieces: input validation, Gaussian metrics, plotting."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import collapselab as cl
from collapselab import _validate as v
from collapselab.metrics import kl_gaussian, w2, w2_squared


def test_as_rng_accepts_seeds_and_generators():
    g = np.random.default_rng(0)
    assert v.as_rng(g) is g
    assert v.as_rng(3).integers(1000) == np.random.default_rng(3).integers(1000)
    with pytest.raises(ValueError, match="seed"):
        v.as_rng("abc")
    with pytest.raises(ValueError, match="seed"):
        v.as_rng(-1)


@pytest.mark.parametrize("bad", [1.5, "3", None, True])
def test_check_int_rejects(bad):
    with pytest.raises(ValueError, match="size"):
        v.check_int("size", bad)


def test_check_int_bounds_and_integral_floats():
    assert v.check_int("n", 4.0) == 4
    with pytest.raises(ValueError, match="n must be >= 2"):
        v.check_int("n", 1, minimum=2)


@pytest.mark.parametrize("bad", [-0.1, 1.1, float("nan"), float("inf"), "0.5"])
def test_check_fraction_rejects(bad):
    with pytest.raises(ValueError, match="alpha"):
        v.check_fraction("alpha", bad)


def test_check_array_rejects_nan_and_shape():
    with pytest.raises(ValueError, match="data contains NaN"):
        v.check_array("data", [1.0, np.nan])
    with pytest.raises(ValueError, match="data must have 2 dimension"):
        v.check_array("data", [1.0, 2.0], ndim=2)
    with pytest.raises(ValueError, match="var must be non-negative"):
        v.check_array("var", [-1.0], nonnegative=True)


def test_w2_closed_forms_agree_between_1d_and_mv():
    g1, gm = cl.Gaussian1D(), cl.GaussianMV()
    p1, q1 = g1.params([0.0, 1.0], [1.0, 4.0], 2), g1.params(0.5, 2.0, 2)
    pm = gm.params(np.array([[0.0], [1.0]]), np.array([[[1.0]], [[4.0]]]), 2)
    qm = gm.params([0.5], [[2.0]], 2)
    np.testing.assert_allclose(w2_squared(p1, q1), w2_squared(pm, qm), atol=1e-12)
    np.testing.assert_allclose(kl_gaussian(p1, q1), kl_gaussian(pm, qm), atol=1e-12)


def test_w2_commuting_covariances_is_frobenius_of_root_difference():
    gm = cl.GaussianMV()
    a = gm.params([0.0, 0.0], np.diag([1.0, 9.0]))
    b = gm.params([3.0, 4.0], np.diag([4.0, 1.0]))
    expected = 25.0 + (1 - 2) ** 2 + (3 - 1) ** 2
    np.testing.assert_allclose(w2_squared(a, b), [expected])
    np.testing.assert_allclose(w2(a, a), [0.0], atol=1e-7)


def test_kl_degenerate_model_is_infinite():
    g = cl.Gaussian1D()
    assert np.isinf(kl_gaussian(g.params(0, 1), g.params(0, 0))[0])


def test_metrics_reject_mismatched_types():
    with pytest.raises(ValueError, match="w2_squared"):
        w2_squared(cl.Gaussian1D().params(), cl.GaussianMV().params([0.0], [[1.0]]))


@settings(max_examples=30, deadline=None)
@given(m1=st.floats(-5, 5), m2=st.floats(-5, 5), v1=st.floats(0.01, 10), v2=st.floats(0.01, 10))
def test_gaussian_distances_are_nonnegative_and_symmetric(m1, m2, v1, v2):
    g = cl.Gaussian1D()
    p, q = g.params(m1, v1), g.params(m2, v2)
    assert w2(p, q)[0] >= 0 and np.isclose(w2(p, q)[0], w2(q, p)[0])
    assert kl_gaussian(p, q)[0] >= -1e-12


def test_fan_chart_validates_and_draws():
    cl.plotting.use_book_style()
    fig, ax = plt.subplots()
    x = np.arange(5)
    line = cl.plotting.fan_chart(ax, x, np.random.default_rng(0).random((5, 50)), label="m", log=True)
    assert line.get_label() == "m" and ax.get_yscale() == "log"
    with pytest.raises(ValueError, match="values must have shape"):
        cl.plotting.fan_chart(ax, x, np.zeros((4, 3)))
    plt.close(fig)


def test_schedule_colors_are_deterministic():
    assert cl.plotting.schedule_color("mix(alpha=0.3)") == cl.plotting.schedule_color("mix(alpha=0.5)")
    assert cl.plotting.schedule_color("replace") == cl.plotting.SCHEDULE_COLORS["replace"]
