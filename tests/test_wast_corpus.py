"""wasmtime's component-model conformance suite, through ``wasm-component wast``.

Every file outside ``async/`` must pass every command (the async ABI is a later layer); each
file is one test case, and a failure lists the failing commands. Skips with a message when the
shared corpora are absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from wasm_component.wast import run_file

CORPORA = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"
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


def test_corpus_present_or_reported() -> None:
    if not SUITE.exists():
        pytest.skip(f"wasmtime corpus not found at {SUITE}; conformance tests did not run")
    assert len(FILES) > 30
