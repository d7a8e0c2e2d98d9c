"""What every benchmark script shares: a best-of timer and writing its table."""
from __future__ import annotations

import pathlib
import time


def best_of(fn, repeat: int) -> float:
    """The fastest of ``repeat`` wall-clock runs of ``fn()``, in seconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def report(text: str, out: pathlib.Path, quick: bool) -> None:
    """Print a benchmark's Markdown table and, unless it was a quick run, record it in ``out``."""
    print(text)
    if not quick:
        out.parent.mkdir(exist_ok=True)
        out.write_text(text)
        print(f"wrote {out}")
