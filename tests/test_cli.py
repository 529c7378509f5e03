"""The command line: inspect, run, wast (errors as `error: ...`, exit codes)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wasm_component", *args],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )


def test_inspect_names_resources() -> None:
    out = cli("inspect", "benchmarks/components/resources.wat")
    assert out.returncode == 0, out.stderr
    assert "export [constructor]counter: func(init: u32) -> own<counter>;" in out.stdout


def test_run_and_errors() -> None:
    ok = cli("run", "examples/greeter.wat", "--invoke", "add(40, 2)")
    assert (ok.returncode, ok.stdout) == (0, "42\n")
    bad = cli("run", "examples/greeter.wat", "--invoke", 'add(40, "x")')
    assert bad.returncode == 1 and bad.stderr.startswith("error: ") and "expected u32" in bad.stderr
    missing = cli("inspect", "does-not-exist.wasm")
    assert missing.returncode == 1 and missing.stderr.startswith("error: ")
    unknown = cli("frobnicate")
    assert unknown.returncode == 2


def test_wast_counts_and_exit_status(tmp_path: Path) -> None:
    wast = tmp_path / "t.wast"
    wast.write_text('(component)\n(assert_invalid (component (export "a" (func 0))) "unknown")\n')
    out = cli("wast", str(wast))
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip().endswith("2 passed, 0 failed, 0 skipped")
    wast.write_text('(assert_invalid (component) "should have failed")\n')
    out = cli("wast", str(wast))
    assert out.returncode == 1
    assert out.stdout.strip().endswith("0 passed, 1 failed, 0 skipped")
