"""The sweep runner: same seeds give identical results serially, in a process pool, and in any
concurrent.futures-style executor (Dask when installed)."""
from __future__ import annotations

import concurrent.futures as cf

import numpy as np
import pytest

import collapselab as cl
from collapselab.sweep import grid_points, run_sweep


def gaussian_point(alpha, n, seed, generations=20, replicates=200):
    m = cl.Gaussian1D()
    tr = cl.run_loop(m, m.params(0.0, 1.0), n=n, generations=generations, replicates=replicates,
                     schedule=cl.mix(alpha), exact=True, seed=seed,
                     metrics={"w2": cl.metrics.w2_to_truth})
    return {"final_w2": float(tr["w2"][-1].mean()), "curve": tr["w2"].mean(axis=1)}


AXES = {"alpha": [0.0, 0.5, 1.0], "n": [10, 40]}


def test_grid_points_order_and_validation():
    pts = grid_points({"a": [1, 2], "b": ["x", "y", "z"]})
    assert pts[:2] == [{"a": 1, "b": "x"}, {"a": 1, "b": "y"}] and len(pts) == 6
    with pytest.raises(ValueError, match="axis 'a'"):
        grid_points({"a": []})


def test_serial_and_process_pool_identical():
    serial = run_sweep(gaussian_point, AXES, seed=5, executor="serial", progress=False)
    pooled = run_sweep(gaussian_point, AXES, seed=5, max_workers=2, progress=False)
    np.testing.assert_array_equal(serial.array("final_w2"), pooled.array("final_w2"))
    np.testing.assert_array_equal(serial.array("curve"), pooled.array("curve"))
    assert serial.array("final_w2").shape == (3, 2)
    assert serial.array("curve").shape == (3, 2, 21)
    # a different seed gives different numbers
    other = run_sweep(gaussian_point, AXES, seed=6, executor="serial", progress=False)
    assert not np.array_equal(serial.array("final_w2"), other.array("final_w2"))


def test_any_executor_with_submit_and_fixed_arguments():
    with cf.ThreadPoolExecutor(2) as ex:
        threaded = run_sweep(gaussian_point, AXES, seed=5, executor=ex, progress=False,
                             fixed={"generations": 10})
    serial = run_sweep(gaussian_point, AXES, seed=5, executor="serial", progress=False,
                       fixed={"generations": 10})
    np.testing.assert_array_equal(threaded.array("final_w2"), serial.array("final_w2"))
    assert threaded.records()[0] == {"alpha": 0.0, "n": 10, "generations": 10,
                                     "final_w2": threaded.values[0]["final_w2"]}


def test_dask_client_gives_identical_results():
    distributed = pytest.importorskip("distributed")
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2,
                            dashboard_address=None) as client:
        dask_res = run_sweep(gaussian_point, AXES, seed=5, executor=client, progress=False)
    serial = run_sweep(gaussian_point, AXES, seed=5, executor="serial", progress=False)
    np.testing.assert_array_equal(dask_res.array("final_w2"), serial.array("final_w2"))


def test_validation():
    with pytest.raises(ValueError, match="executor"):
        run_sweep(gaussian_point, AXES, executor=object(), progress=False)
    with pytest.raises(ValueError, match="seed"):
        run_sweep(gaussian_point, {"seed": [1]}, executor="serial", progress=False)
    with pytest.raises(ValueError, match="both swept and fixed"):
        run_sweep(gaussian_point, AXES, executor="serial", progress=False, fixed={"n": 3})
    with pytest.raises(ValueError, match="must return a dict"):
        run_sweep(lambda alpha, seed: 1.0, {"alpha": [0.1]}, executor="serial", progress=False)
    with pytest.raises(KeyError, match="nope"):
        run_sweep(gaussian_point, {"alpha": [0.1], "n": [5]}, executor="serial",
                  progress=False).array("nope")
