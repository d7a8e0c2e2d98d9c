"""The benchmark scripts still run (a quick smoke run; the timings themselves are not tested)."""
import pathlib
import runpy
import sys

import pytest

BENCH = pathlib.Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.mark.parametrize("script", sorted(BENCH.glob("bench_*.py")), ids=lambda p: p.stem)
def test_benchmark_quick_run(script, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", [str(script), "--quick"])
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as exc:  # scripts may end with sys.exit(main())
        assert exc.code in (None, 0)
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("|")]
    assert len(rows) >= 3 and set(rows[1]) <= set("|-: "), out    # header, rule, data rows
    assert not any("skipped" in row for row in rows), out          # the quick grid really ran
