"""Conformance: the wasm-tools and wasmtime ``.wast`` corpora through decode + validate."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from corpus import CORPORA, run_corpus

pytestmark = pytest.mark.skipif(
    not (CORPORA / "wasm-tools" / "json").exists(),
    reason=f"corpora not found at {CORPORA} (../shared/corpora relative to the repo root)",
)


def test_wasm_tools_corpus() -> None:
    results = run_corpus("wasm-tools")
    vt = sum(r.valid_total for r in results)
    vo = sum(r.valid_ok for r in results)
    it = sum(r.invalid_total for r in results)
    io = sum(r.invalid_ok for r in results)
    fails = [f"{r.rel}: {f}" for r in results for f in r.failures]
    print("\n".join(fails))
    assert vt >= 320
    assert vo >= vt - 2, fails
    assert io >= 0.98 * it, fails


def test_wasmtime_corpus_valid() -> None:
    if not (CORPORA / "wasmtime" / "json").exists():
        pytest.skip("wasmtime corpus absent")
    results = run_corpus("wasmtime")
    fails = [f"{r.rel}: {f}" for r in results for f in r.failures if "valid rejected" in f
             or "crashed" in f]
    assert not fails, fails
