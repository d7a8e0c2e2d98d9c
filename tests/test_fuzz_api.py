"""Issue 12: the whole public API, one bad argument at a time.

``tests/fuzz_api.py`` walks collapselab's modules itself (every public function, class and
method, so new ones are covered without editing anything), builds one valid call per callable
and replaces one argument at a time by bad values chosen by the argument's kind: integers
(-1, 2.5, NaN, True, "3", 10**12, None, an object), reals (NaN, inf, -1, True, "x", 1e300, ...),
flags ("no", 1, None), seeds (True, -1, 2.5, "x", ...), arrays (NaN, inf, empty, a string, an
extra axis, negative), parameter objects (a NaN or negative field, a field one chain short, an
int, None, ...).  Each case runs in a forked worker limited to 3 GiB of address space and
``TIME_LIMIT`` seconds.  The only acceptable outcomes are a clean ValueError/TypeError raised
by collapselab whose message names the argument, or a return value with nothing non-finite
from finite input (documented infinities and NaNs excepted).  Run ``python tests/fuzz_api.py``
for the full counts.
"""
from __future__ import annotations

import math
import os
import sys
import time
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(__file__))
import fuzz_api as F  # noqa: E402

# Modules whose failures are reported but not asserted.  Empty since the merge of the rewritten
# loop, sources, schedules and models (issue 12): a failure anywhere fails the test.  Keep it
# empty; add a module only for the duration of a rewrite, with the coordinator's agreement.
EXPECTED_FAILURES_AFTER_MERGE: set[str] = set()


@pytest.fixture(scope="module")
def fuzz_results():
    t0 = time.perf_counter()
    todo, no_baseline = F.plan()
    results = F.run_parallel(todo, workers=2)
    # a call that was merely slow on a loaded machine gets a second chance with a longer limit
    # (not the waived modules, whose genuine hangs would only cost time)
    again = [i for i, (c, o, _) in enumerate(results)
             if o == "hang" and F.module_of(c[0]) not in EXPECTED_FAILURES_AFTER_MERGE]
    if again:
        for i, res in zip(again, F.run_all([todo[i] for i in again], time_limit=6 * F.TIME_LIMIT)):
            results[i] = res
    return todo, no_baseline, results, time.perf_counter() - t0


def test_enumeration_covers_the_public_api(fuzz_results):
    todo, no_baseline, results, _ = fuzz_results
    targets = {c[0] for c in todo}
    modules = {F.module_of(q) for q in targets}
    # every public module with a callable that takes arguments is exercised
    import inspect
    with_args = set()
    for t in F.targets():
        obj = getattr(t.cls, t.attr) if t.kind == "method" else (t.cls if t.kind == "constructor" else
                                                                   getattr(sys.modules[t.module], t.qualname.rsplit(".", 1)[1]))
        try:
            params = [p for p in inspect.signature(obj).parameters if p not in ("self",)]
        except (TypeError, ValueError):
            params = []
        if params:
            with_args.add(t.module)
    missing = with_args - modules
    assert not missing, f"modules with callables but no fuzz case: {sorted(missing)}"
    assert len(targets) >= 300 and len(todo) >= 5000
    # callables without a valid baseline call are not fuzzed: keep them few and visible
    no_base = set(no_baseline) | {c[0] for c, o, _ in results if o == "no-baseline"}
    assert len(no_base) <= 10, sorted(no_base)


def test_only_clean_errors_and_finite_results(fuzz_results):
    todo, _, results, seconds = fuzz_results
    counts = Counter(o for _, o, _ in results)
    bad = [(c, o, d) for c, o, d in results if o not in F.GOOD_OUTCOMES]
    mine = [r for r in bad if F.module_of(r[0][0]) not in EXPECTED_FAILURES_AFTER_MERGE]
    waived = Counter(F.module_of(c[0]) for c, _, _ in bad if F.module_of(c[0]) in EXPECTED_FAILURES_AFTER_MERGE)
    print(f"\nfuzz: {len({c[0] for c in todo})} callables, {len(todo)} cases in {seconds:.1f} s: "
          f"{dict(counts.most_common())}; waived (modules being rewritten): {dict(waived)}")
    lines = "\n".join(f"  {o:9s} {c[0]}({c[1]}={c[3]}): {d}" for c, o, d in mine[:40])
    assert not mine, f"{len(mine)} bad outcomes outside the waived modules:\n{lines}"


# --- hypothesis: arbitrary floats into every real-valued argument of the closed forms ---------

def _theory_real_args():
    instances = F._instances()
    out = []
    for t in F.targets():
        if not t.module.startswith("collapselab.theory.") or t.kind != "function":
            continue
        try:
            func, args, params = F.baseline(t, instances)
        except Exception:  # noqa: BLE001
            continue
        for name, value in args.items():
            if F.kind_of(name, value, params[name]) == "real":
                out.append((t, name))
    return out


THEORY_REALS = _theory_real_args()
_INSTANCES = F._instances()


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=st.sampled_from(THEORY_REALS),
       x=st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                   st.floats(min_value=-1e6, max_value=1e6), st.integers(-10, 10)))
def test_theory_closed_forms_with_arbitrary_reals(case, x):
    """Any float in any real argument of a closed form: a clean error naming it, or a finite
    answer (infinities only where the docstring announces them)."""
    target, name = case
    func, args, _ = F.baseline(target, _INSTANCES)
    args = dict(args, **{name: x})
    try:
        with np.errstate(all="ignore"):
            out = func(**args)
    except (ValueError, TypeError) as exc:
        assert F._raised_in_library(exc), f"{target.qualname}({name}={x!r}): {exc!r} from outside"
        assert name in str(exc) or any(n in str(exc) for n in F._names(name)), \
            f"{target.qualname}({name}={x!r}): {exc}"
        return
    bad = F._nonfinite_output(out)
    doc = (func.__doc__ or "").lower()
    if isinstance(x, float) and math.isfinite(x):
        assert bad != "nan" or "nan" in doc, f"{target.qualname}({name}={x!r}) returned NaN"
        assert bad != "inf" or "inf" in doc, f"{target.qualname}({name}={x!r}) returned inf"
