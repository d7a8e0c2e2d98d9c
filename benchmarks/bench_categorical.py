"""Benchmark the refitted categorical model of chapter 3 (``collapselab.models.categorical``).

Times ``collapselab.run_loop`` (replace schedule, Zipf(1.1) truth) over a grid of chains R,
vocabulary sizes K, batch size n and T generations, for both samplers:

* ``exact``  -- multinomial count vectors drawn directly (``Generator.multinomial``);
* ``sample`` -- n category indices per chain by vectorised inverse-CDF sampling, then counted;

and compares each with a naive per-chain Python loop (``for chain: for generation:``), using
``rng.multinomial`` per chain for the exact path and ``rng.choice`` + ``bincount`` for the
sample path.  The per-chain loop is only run on a few chains and its time is *extrapolated*
linearly to all R chains (the table says so).

Usage::

    python benchmarks/bench_categorical.py            # full grid (minutes, several GB of RAM)
    python benchmarks/bench_categorical.py --quick    # a tiny grid, a few seconds

Prints a Markdown table on stdout.
"""
from __future__ import annotations

import argparse
import os
import builtins
import pathlib
import platform
import sys
import time

import numpy as np

import collapselab as cl
from collapselab.models.categorical import Categorical, zipf_probs


def time_vectorised(R: int, K: int, n: int, T: int, exact: bool, seed: int) -> float:
    """Wall time of one run_loop call (no recording, no metrics)."""
    model = Categorical(K)
    truth = model.params(zipf_probs(K, 1.1))
    start = time.perf_counter()
    cl.run_loop(model, truth, n=n, generations=T, replicates=R, exact=exact, seed=seed,
                record=False)
    return time.perf_counter() - start


def time_per_chain_loop(chains: int, K: int, n: int, T: int, exact: bool, seed: int) -> float:
    """Wall time of the naive loop over ``chains`` chains and T generations."""
    rng = np.random.default_rng(seed)
    truth = zipf_probs(K, 1.1)
    start = time.perf_counter()
    for _ in range(chains):
        p = truth
        for _ in range(T):
            if exact:
                counts = rng.multinomial(n, p)
            else:
                counts = np.bincount(rng.choice(K, size=n, p=p), minlength=K)
            p = counts / n
    return time.perf_counter() - start


RESULTS = pathlib.Path(__file__).resolve().parent / "results" / "categorical.md"


def memory_gb(R: int, K: int, n: int, exact: bool) -> float:
    """Rough peak memory of one generation: parameters, counts, truth and temporaries."""
    per_chain = 8 * K * 6 + (0 if exact else 16 * min(n, (1 << 22) // max(1, R)))
    return R * per_chain / 1e9


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny grid for a smoke test")
    parser.add_argument("--replicates", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--K", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--generations", type=int, default=100)
    parser.add_argument("--baseline-chains", type=int, default=20,
                        help="chains actually run by the per-chain loop (then extrapolated)")
    parser.add_argument("--max-gb", type=float, default=6.0,
                        help="skip grid points whose estimated memory exceeds this")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default=None,
                        help="also write the table here (default: benchmarks/results/categorical.md "
                             "for a full run, nothing for --quick)")
    args = parser.parse_args(argv)
    lines: list[str] = []

    def print(text="", flush=False):  # noqa: A001 - echo and keep every line of the report
        lines.append(text)
        builtins.print(text, flush=flush)

    if args.quick:
        args.replicates, args.K, args.n, args.generations, args.baseline_chains = [200], [20, 200], 100, 5, 5

    print(f"Categorical loop benchmark (replace, Zipf(1.1) truth, n = {args.n}, "
          f"T = {args.generations})\n")
    print(f"numpy {np.__version__}, Python {platform.python_version()}, {platform.machine()}; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start; "
          f"per-chain loop run on {args.baseline_chains} chains and extrapolated linearly to R.\n")
    print("| R | K | path | vectorised (s) | per-chain loop, extrapolated (s) | speed-up "
          "| chain-generations / s |")
    print("|---:|---:|:---|---:|---:|---:|---:|")
    for R in args.replicates:
        for K in args.K:
            for exact in (True, False):
                path = "exact" if exact else "sample"
                if memory_gb(R, K, args.n, exact) > args.max_gb:
                    print(f"| {R} | {K} | {path} | skipped (> {args.max_gb:g} GB) | | | |")
                    continue
                vec = time_vectorised(R, K, args.n, args.generations, exact, args.seed)
                chains = min(R, args.baseline_chains)
                base = time_per_chain_loop(chains, K, args.n, args.generations, exact,
                                           args.seed) * R / chains
                rate = R * args.generations / vec
                print(f"| {R} | {K} | {path} | {vec:.3f} | {base:.3f} | {base / vec:.1f}x "
                      f"| {rate:,.0f} |", flush=True)
    out = args.output or (None if args.quick else str(RESULTS))
    if out:
        pathlib.Path(out).parent.mkdir(parents=True, exist_ok=True)
        pathlib.Path(out).write_text("\n".join(lines) + "\n")
        builtins.print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
