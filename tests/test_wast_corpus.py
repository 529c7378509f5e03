"""wasmtime's component-model conformance suite, through ``wasm-component wast``.

Every file outside ``async/`` must pass every command (the async ABI is a later layer); each
file is one test case, and a failure lists the failing commands. Skips with a message when the
shared corpora are absent.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.corpora import CORPORA
from wasm_component.wast import run_file

SUITE = CORPORA / "wasmtime" / "json" / "component-model"
FILES = sorted(p for p in SUITE.rglob("test.json") if "async" not in p.relative_to(SUITE).parts) \
    if SUITE.exists() else []


@pytest.mark.skipif(not SUITE.exists(), reason=f"wasmtime corpus not found at {SUITE}")
@pytest.mark.parametrize("path", FILES, ids=[str(p.parent.relative_to(SUITE)) for p in FILES])
def test_wasmtime_component_model(path: Path) -> None:
    result = run_file(path)
    assert result.error is None, result.error
    bad = [o for o in result.outcomes if o.status != "pass"]
    assert not bad, "\n".join(f"line {o.line}: {o.command}: {o.status}: {o.detail}" for o in bad)
    # Traps are for the suite's reason; where the spec we follow differs from the suite's
    # wasmtime (documented in ``wast_support``), only in these two files.
    by_spec = [o for o in result.outcomes if o.detail.startswith("spec:")]
    assert not by_spec or path.parent.name in ("big-strings", "strings"), by_spec


def test_corpus_present_or_reported() -> None:
    if not SUITE.exists():
        pytest.skip(f"wasmtime corpus not found at {SUITE}; conformance tests did not run")
    assert len(FILES) > 30


ASYNC_SUITES = [p for p in (SUITE / "async", CORPORA / "wasmtime" / "json" /
                            "component-model-threading") if p.exists()]


@pytest.mark.skipif(not ASYNC_SUITES, reason=f"wasmtime async corpus not found under {CORPORA}")
def test_async_suites_fail_cleanly_without_the_async_runtime() -> None:
    """The async ABI is not built: its suites must fail command by command, never crash the
    process (calling an async-lifted core function as a sync one once made wasmtime's
    unchecked call abort), and no expected trap may be met by our "not supported" trap."""
    code = "import sys; from wasm_component.cli import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.run([sys.executable, "-c", code, "wast", *map(str, ASYNC_SUITES)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode in (0, 1), f"exit {proc.returncode}: {proc.stderr[-2000:]}"
    assert " passed, " in proc.stdout
    unsupported_passes = [line for line in proc.stdout.splitlines()
                          if "pass" in line and "async runtime" in line]
    assert not unsupported_passes
