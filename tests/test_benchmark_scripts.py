"""The benchmark scripts still run: nothing else imports them, so a change to what they reach
into (``core_overhead.py`` reads ``_runtime.core``'s internals) would otherwise go unseen until
someone measures. Their numbers are not checked here (timing is for ``benchmarks/``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> str:
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_core_overhead_runs() -> None:
    out = _run("benchmarks/core_overhead.py", "--smoke")
    for line in ("via make_caller", "via RawCall", "Func.__call__", "the raw floor",
                 "C calls alone", "floor / peer"):
        assert line in out, out


def test_run_py_runs_a_row_on_both_sides(tmp_path: Path) -> None:
    out = _run("benchmarks/run.py", "--quick", "--rounds", "1", "--min-sample-ms", "0.1",
               "--filter", "add", "--no-chart", "--out", str(tmp_path))
    rows = [ln.split() for ln in out.splitlines() if ln.startswith(("add ", "async-add "))]
    assert {r[0] for r in rows} == {"add", "async-add"}, out
    assert all(r[-1].endswith("×") for r in rows), out
    assert (tmp_path / "results.md").exists()
