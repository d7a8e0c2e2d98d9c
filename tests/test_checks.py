"""The Monte-Carlo agreement checks that the chapters' notebook cells share (collapselab.checks)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats

import collapselab as cl
from collapselab.checks import (assert_estimate_agrees, assert_mc_agrees, assert_same_trajectory,
                                estimate_zscores, same_trajectory, standard_error, zscores)

SETTINGS = dict(max_examples=25, deadline=None, derandomize=True)


# ---------------------------------------------------------------------------- standard error
def test_standard_error_is_std_ddof1_over_sqrt_r_along_any_axis():
    x = np.random.default_rng(0).normal(size=(3, 50))
    np.testing.assert_array_equal(standard_error(x), x.std(axis=-1, ddof=1) / np.sqrt(50))
    np.testing.assert_array_equal(standard_error(x.T, axis=0), standard_error(x))
    assert standard_error(np.full(10, 2.5)) == 0.0
    assert np.ndim(standard_error(x[0])) == 0


def test_zscores_of_a_mean_and_of_an_estimate():
    x = np.array([[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 0.0, 0.0]])
    se = x.std(axis=1, ddof=1) / 2.0
    expected = np.array([2.0, 0.0])
    z = zscores(x, expected)
    assert z[0] == pytest.approx(0.5 / se[0])
    assert z[1] == 0.0                                   # zero error over a zero standard error
    np.testing.assert_array_equal(zscores(x.T, expected, axis=0), z)
    np.testing.assert_array_equal(zscores(x, expected, se=[1.0, 1.0]), [0.5, 0.0])
    np.testing.assert_array_equal(estimate_zscores([2.5, 1.0], [2.0, 0.0], se=[0.25, 1.0]),
                                  [2.0, 1.0])
    assert zscores(np.zeros(3), 1.0) == pytest.approx(1e12)   # se floored at 1e-12


# ---------------------------------------------------------------------------- null and shifted
@settings(**SETTINGS)
@given(seed=st.integers(0, 2**32 - 1), mu=st.floats(-100, 100), sigma=st.floats(0.01, 100))
def test_a_true_null_passes(seed, mu, sigma):
    x = np.random.default_rng(seed).normal(mu, sigma, size=(4, 4000))
    assert_mc_agrees(x, mu, what="a true null")           # P(fail) < 1e-5 per example
    assert_mc_agrees(x.T, np.full(4, mu), axis=0)
    assert np.all(zscores(x, mu) < 5)


@settings(**SETTINGS)
@given(seed=st.integers(0, 2**32 - 1), mu=st.floats(-100, 100), sigma=st.floats(0.01, 100))
def test_a_mean_shifted_by_ten_standard_errors_fails(seed, mu, sigma):
    R = 400
    x = np.random.default_rng(seed).normal(mu, sigma, size=R)
    shift = 10 * sigma / np.sqrt(R)
    with pytest.raises(AssertionError, match="shifted mean"):
        assert_mc_agrees(x, mu + shift, what="shifted mean")


def test_a_shifted_generation_is_named_in_the_message():
    x = np.random.default_rng(1).normal(size=(5, 1000))     # 5 generations of 1000 chains
    expected = np.zeros(5)
    expected[3] = 1.0                                       # ~30 standard errors off
    with pytest.raises(AssertionError) as info:
        assert_mc_agrees(x, expected, what="E sigma_t^2")
    msg = str(info.value)
    assert msg.startswith("E sigma_t^2:")
    assert "worst z-score" in msg and "index (3,)" in msg and "1 of 5" in msg


@settings(**SETTINGS)
@given(seed=st.integers(0, 2**32 - 1), k=st.floats(0.5, 6.0),
       offset=st.floats(-8.0, 8.0))
def test_assertion_passes_exactly_when_every_zscore_is_at_most_k(seed, k, offset):
    x = np.random.default_rng(seed).normal(size=(3, 30))
    expected = x.mean(axis=1) + offset * standard_error(x) * np.array([1.0, 0.5, -0.25])
    z = zscores(x, expected)
    assume(np.all(np.abs(z - k) > 1e-6))                   # not on the boundary
    if np.all(z <= k):
        assert_mc_agrees(x, expected, k=k)
    else:
        with pytest.raises(AssertionError):
            assert_mc_agrees(x, expected, k=k)


@settings(**SETTINGS)
@given(seed=st.integers(0, 2**32 - 1), shift=st.floats(-1e3, 1e3),
       scale=st.floats(1e-3, 1e3))
def test_zscores_are_invariant_under_shift_and_scale(seed, shift, scale):
    x = np.random.default_rng(seed).normal(size=(2, 20))
    e = np.array([0.1, -0.3])
    np.testing.assert_allclose(zscores(scale * x + shift, scale * e + shift), zscores(x, e),
                               rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------------------- tolerances
def test_slack_rel_slack_and_known_standard_errors():
    x = np.array([0.0, 0.0, 0.0, 0.0])                      # se = 0: only the slacks count
    with pytest.raises(AssertionError, match="\\+ 0.1"):
        assert_mc_agrees(x, 0.2, slack=0.1)
    assert_mc_agrees(x, 0.2, slack=0.2)
    assert_mc_agrees(x, 10.0, rel_slack=1.0)
    with pytest.raises(AssertionError):
        assert_mc_agrees(x, 10.0, rel_slack=0.5)
    assert_mc_agrees(x, 1.0, se=0.2, k=5.0)                 # a closed-form standard error
    with pytest.raises(AssertionError):
        assert_mc_agrees(x, 1.0, se=0.2, k=4.0)
    assert_mc_agrees(x, 1e-13)                              # the floating-point guard
    assert_mc_agrees(np.ones((2, 3)), 1.0, se=np.zeros(1), axis=1)   # se broadcasts


def test_estimate_agrees_with_a_closed_form_standard_error():
    v, R = 1.1, 200                                         # a sample variance and its se
    assert_estimate_agrees(v, 1.0, se=v * np.sqrt(2 / (R - 1)))
    with pytest.raises(AssertionError, match="variance"):
        assert_estimate_agrees(v, 2.0, se=v * np.sqrt(2 / (R - 1)), what="variance")
    assert_estimate_agrees([0.9, 1.2], [1.0, 1.0], se=[0.1, 0.1], k=2.0)


def test_level_uses_the_student_t_quantile():
    R = 10
    x = np.random.default_rng(3).normal(size=R)
    se = standard_error(x)
    k = stats.t.ppf(1 - 0.01 / 2, R - 1)                    # 3.25 with 9 degrees of freedom
    assert_mc_agrees(x, x.mean() + 0.99 * k * se, level=0.01)
    with pytest.raises(AssertionError):
        assert_mc_agrees(x, x.mean() + 1.01 * k * se, level=0.01)


# ---------------------------------------------------------------------------- validation
@pytest.mark.parametrize("kwargs, match", [
    (dict(k=0.0), "k must be > 0"),
    (dict(k=-1.0), "k must be > 0"),
    (dict(k=float("nan")), "k must be finite"),
    (dict(level=0.0), "level"),
    (dict(level=1.0), "level"),
    (dict(k=5.0, level=0.01), "either k or level"),
    (dict(slack=-0.1), "slack"),
    (dict(rel_slack=-1.0), "rel_slack"),
    (dict(se=-1.0), "se must be non-negative"),
    (dict(se=[1.0, 1.0]), "se has shape"),
    (dict(axis=2), "axis 2 is out of range"),
    (dict(axis=0.5), "axis must be an integer"),
    (dict(what=3), "what must be a string"),
])
def test_assert_mc_agrees_rejects_bad_arguments(kwargs, match):
    x = np.zeros((3, 4))
    with pytest.raises(ValueError, match=match):
        assert_mc_agrees(x, 0.0, **kwargs)


def test_shape_mismatch_and_nan_are_value_errors():
    x = np.zeros((3, 4))                                    # 3 generations, 4 chains
    with pytest.raises(ValueError, match=r"expected has shape \(4,\)"):
        assert_mc_agrees(x, np.zeros(4))                    # the chains, not the generations
    with pytest.raises(ValueError, match="expected has shape"):
        zscores(x, np.zeros((3, 1)))                        # would silently broadcast to (3, 3)
    with pytest.raises(ValueError, match="samples contains NaN"):
        assert_mc_agrees([1.0, np.nan, 2.0], 0.0)
    with pytest.raises(ValueError, match="expected contains NaN"):
        assert_mc_agrees(x, np.nan)
    with pytest.raises(ValueError, match="samples contains infinite"):
        standard_error([1.0, np.inf])
    with pytest.raises(ValueError, match="at least 2 chains"):
        standard_error([1.0])
    with pytest.raises(ValueError, match="at least one dimension"):
        zscores(1.0, 0.0)
    with pytest.raises(ValueError, match="se has shape"):
        estimate_zscores([1.0, 2.0], 0.0, se=[1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="k must be > 0"):
        assert_estimate_agrees(1.0, 1.0, se=1.0, k=0)


# ---------------------------------------------------------------------------- identities
def _chain(schedule, seed=0):
    model = cl.Gaussian1D()
    return cl.run_loop(model, model.params(0.0, 1.0), n=10, generations=5, replicates=20,
                       schedule=schedule, exact=True, seed=seed,
                       metrics={"w2": cl.metrics.w2_to_truth})


def test_same_trajectory_holds_for_the_chapter_1_identities():
    assert same_trajectory(_chain(cl.mix(0.0)), _chain(cl.replace()))
    assert_same_trajectory(_chain(cl.mix(1.0)), _chain(cl.all_real()))
    assert same_trajectory(_chain(cl.replace()), _chain(cl.replace()), keys="var")


def test_different_trajectories_are_reported():
    a, b = _chain(cl.replace(), seed=0), _chain(cl.replace(), seed=1)
    assert not same_trajectory(a, b)
    with pytest.raises(AssertionError, match="'mean' first differs at index \\(1, 0\\)"):
        assert_same_trajectory(a, b, what="two seeds")
    assert not same_trajectory({"x": np.zeros(3)}, {"y": np.zeros(3)})
    assert not same_trajectory({"x": np.zeros(3)}, {"x": np.zeros(4)})
    assert same_trajectory({"x": [1.0, np.nan]}, {"x": np.array([1.0, np.nan])})
    with pytest.raises(AssertionError, match="index \\(1,\\)"):
        assert_same_trajectory({"x": [1, 2]}, {"x": [1, 3]})


def test_same_trajectory_rejects_bad_arguments():
    with pytest.raises(ValueError, match="a must be a Trajectory"):
        same_trajectory([1, 2], {"x": [1, 2]})
    with pytest.raises(ValueError, match="key 'z' is not in a"):
        same_trajectory({"x": [1]}, {"x": [1]}, keys=["z"])
    with pytest.raises(ValueError, match="keys must name"):
        same_trajectory({"x": [1]}, {"x": [1]}, keys=[])


def test_boolean_and_integer_samples_are_accepted_without_copy():
    alive = np.zeros((2, 50, 3), dtype=bool)                 # (T + 1, R, K), as in chapter 3
    alive[:, :25] = True
    assert_mc_agrees(alive, np.full((2, 3), 0.5), axis=1, what="survival")
    counts = np.arange(10)
    assert standard_error(counts) == pytest.approx(np.arange(10.0).std(ddof=1) / np.sqrt(10))
    assert_estimate_agrees(np.array([True]), 1.0, se=0.0)
    with pytest.raises(ValueError, match="se must be non-negative"):
        estimate_zscores(1.0, 1.0, se=np.array([-1]))
