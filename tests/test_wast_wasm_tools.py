"""wasm-tools' component-model suite through ``wasm-component wast --validate`` (definitions are
decoded, validated and compiled, never run: the suite is a validation suite).

Every command must pass except the ones listed in ``WASMTIME_CANNOT``: valid components whose
core modules use shared-everything-threads, which wasmtime 50 cannot compile (it has no way to
enable the proposal). Those are asserted to fail for exactly that reason, so any new failure, or
any of them starting to pass, fails the test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.corpora import CORPORA
from wasm_component.wast import run_file

SUITE = CORPORA / "wasm-tools" / "json" / "component-model"
FILES = sorted(SUITE.rglob("test.json")) if SUITE.exists() else []

WASMTIME_CANNOT = {
    ("legacy-indices", 71): "shared-everything-threads",
    ("shared-everything-threads/not-accepted", 13): "shared-everything-threads",
}


@pytest.mark.skipif(not SUITE.exists(), reason=f"wasm-tools corpus not found at {SUITE}")
@pytest.mark.parametrize("path", FILES, ids=[str(p.parent.relative_to(SUITE)) for p in FILES])
def test_wasm_tools_component_model(path: Path) -> None:
    rel = str(path.parent.relative_to(SUITE))
    result = run_file(path, validate_only=True)
    assert result.error is None, result.error
    for o in result.outcomes:
        known = WASMTIME_CANNOT.get((rel, o.line))
        if known is not None:
            assert o.status == "fail" and known in o.detail, (o.status, o.detail)
        elif o.command == "assert_return":
            assert o.status == "skip", "validation mode does not run calls"
        else:
            assert o.status == "pass", f"line {o.line}: {o.command}: {o.detail}"
