"""Benchmark of the mixture loop (chapter 6) against scikit-learn, side by side.  From the root:

    .venv/bin/python benchmarks/bench_mixture.py            # full run, writes benchmarks/results/mixture.md
    .venv/bin/python benchmarks/bench_mixture.py --quick    # a small smoke run that writes nothing

One chain-generation = draw N points from the current mixture, then refit a K-component mixture
by EM from a cold start (no warm start: each fit starts from the data alone).  Two ways to run R
chains for T generations:

* scikit-learn, what a reader would otherwise write (the peer code of Shumailov et al. refits
  ``sklearn.mixture.GaussianMixture`` per chain and generation): a Python loop over chains and
  generations, ``GaussianMixture(K, tol, max_iter, reg_covar).fit`` then ``.sample(N)``;
* ``collapselab``: :func:`collapselab.run_loop` with :class:`GaussianMixture1D` (warm_start=False),
  all R chains at once.

Both use the same N, K, tolerance on the change in mean log-likelihood per point, iteration cap and
variance regulariser (sklearn's ``reg_covar`` against our ``var_floor``), on two truths: a bimodal
mixture (EM converges in a few iterations) and N(0, 1) fitted with K = 2 (a flat likelihood, tens
of iterations).  The two are timed alternately in one process, ``repeat`` times; the table gives
the median CPU milliseconds per chain-generation (both sides limited to one BLAS/OpenMP thread)
and the median ratio with its range over repeats.
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"          # one thread on both sides (set before numpy/sklearn load)

import argparse
import pathlib
import platform
import statistics
import sys
import time
import warnings

import numpy as np

import collapselab as cl

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from _common import report  # noqa: E402
from collapselab.models.mixture import GaussianMixture1D

OUT = pathlib.Path(__file__).resolve().parent / "results" / "mixture.md"
N, K, TOL, MAX_ITER, FLOOR = 1000, 2, 1e-5, 2000, 1e-6
TRUTHS = {
    "bimodal 0.5 N(-3, 1) + 0.5 N(3, 1)": ([0.5, 0.5], [-3.0, 3.0], [1.0, 1.0]),
    "N(0, 1), K = 2": ([0.5, 0.5], [0.0, 0.0], [1.0, 1.0]),
}


def sklearn_chains(truth, chains, generations, seed):
    """The per-chain loop a reader would write with scikit-learn."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture
    w, mu, var = (np.asarray(a, float) for a in truth)
    rng = np.random.default_rng(seed)
    for c in range(chains):
        labels = rng.choice(K, size=N, p=w)
        x = rng.normal(mu[labels], np.sqrt(var[labels]))
        for t in range(generations):
            gm = GaussianMixture(K, tol=TOL, max_iter=MAX_ITER, reg_covar=FLOOR,
                                 random_state=int(seed * 1000 + c * 10 + t))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                gm.fit(x[:, None])
            if t + 1 < generations:
                x = gm.sample(N)[0][:, 0]


def collapselab_chains(truth, chains, generations, seed):
    model = GaussianMixture1D(K, var_floor=FLOOR, tol=TOL, max_iter=MAX_ITER, warm_start=False)
    cl.run_loop(model, model.params(*truth), n=N, generations=generations, replicates=chains,
                record=False, seed=seed)


def timed(fn, *args):
    """CPU seconds of this process (both sides run single-threaded, see main): on a shared
    machine this is steadier than wall-clock time."""
    t0 = time.process_time()
    fn(*args)
    return time.process_time() - t0


def run(sk_chains, cl_chains, generations, repeat):
    rows = []
    for name, truth in TRUTHS.items():
        sklearn_chains(truth, 1, 2, 0)                              # warm-up (imports, caches)
        collapselab_chains(truth, min(cl_chains, 8), 1, 0)
        sk_ms, cl_ms, ratios = [], [], []
        for r in range(repeat):                                     # alternate the two
            a = timed(sklearn_chains, truth, sk_chains, generations, r + 1)
            b = timed(collapselab_chains, truth, cl_chains, generations, r + 1)
            a_ms = 1e3 * a / (sk_chains * generations)
            b_ms = 1e3 * b / (cl_chains * generations)
            sk_ms.append(a_ms)
            cl_ms.append(b_ms)
            ratios.append(a_ms / b_ms)
        rows.append((name, statistics.median(sk_ms), statistics.median(cl_ms),
                     statistics.median(ratios), min(ratios), max(ratios)))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a small run (seconds) that writes nothing")
    args = ap.parse_args(argv)
    import sklearn.mixture  # noqa: F401  (load its OpenMP runtime, then limit every pool)
    from threadpoolctl import threadpool_limits
    threadpool_limits(1)            # one BLAS/OpenMP thread on both sides: CPU time is then fair
    if args.quick:
        sk_chains, cl_chains, T, repeat = 2, 20, 2, 1
    else:
        sk_chains, cl_chains, T, repeat = 20, 1000, 5, 5
    rows = run(sk_chains, cl_chains, T, repeat)
    import sklearn
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        f"Mixture refit by EM, N = {N} points, K = {K}, tol = {TOL:g}, max_iter = {MAX_ITER}, "
        f"variance floor / reg_covar = {FLOOR:g}, cold start; {T} generations; scikit-learn "
        f"{sklearn.__version__} on {sk_chains} chains (a loop), collapselab on {cl_chains} chains "
        f"(batched); {repeat} alternating repeats; Python {platform.python_version()}, numpy "
        f"{np.__version__}, {os.cpu_count()} cores, load average {load:.2f}.",
        "",
        "| truth | scikit-learn, CPU ms per chain-generation | collapselab, CPU ms per chain-generation "
        "| speed-up (median) | speed-up (min-max) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, a, b, ratio, lo, hi in rows:
        lines.append(f"| {name} | {a:.3g} | {b:.3g} | {ratio:.0f}x | {lo:.0f}x-{hi:.0f}x |")
    text = "\n".join(lines) + "\n"
    report(text, OUT, args.quick)


if __name__ == "__main__":
    main()
