"""wasmtime's component-model conformance suite, through ``wasm-component wast``.

Every file outside ``async/`` must pass every command; each file is one test case, and a
failure lists the failing commands. The async suites (``async/``, ``component-model-threading``)
run per file too: a file that does not fully pass yet is a strict xfail naming the missing
feature (``ASYNC_XFAIL``). Skips with a message when the shared corpora are absent.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

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
ASYNC_FILES = sorted(p for d in ASYNC_SUITES for p in d.rglob("test.json"))

_MAY_BLOCK = ("wasmtime traps when an async callee of a non-async task blocks, even after "
              "`task.return`; the spec's canon_lift (which we follow) lets the caller go on")

#: The async corpus files that do not fully pass yet, with the missing feature. A listed file
#: that passes fails the test (strict xfail), so the list shrinks as the runtime grows.
ASYNC_XFAIL: dict[str, str] = {
    "async/callback-yield-then-exit": _MAY_BLOCK,
    "async/fused": _MAY_BLOCK,
    "async/future-read": _MAY_BLOCK,
    "async/task-builtins": "wasmtime lets a second callback-lifted task of an instance in while "
                           "its first one blocks in a sync `future.read` inside its first "
                           "callback call; the spec's exclusive lock is held across that wait, "
                           "so (as we do) the second waits to enter and `stream.write` blocks",
    "async/reentrance": "wasmtime traps (`cannot enter component instance`) when an async "
                        "callee calls back into its (donut) parent; the spec's entering_set "
                        "is empty for an ancestor, so the call is let in",
}

#: Files not run at all (shown as skipped, with the reason). None now: ``streams-massive-send``
#: (a ``list<list<list<list<u8>>>>`` of ~2^56 bytes written to another guest's stream) traps on
#: the store's hostcall fuel, as wasmtime does (``Store.set_hostcall_fuel``).
ASYNC_SKIP: dict[str, str] = {}


def _async_id(p: Path) -> str:
    rel = p.parent.relative_to(CORPORA / "wasmtime" / "json")
    parts = rel.parts
    return "/".join(parts[1:]) if parts[0] == "component-model" else "/".join(parts)


def _async_params() -> list[Any]:
    out = []
    for p in ASYNC_FILES:
        key = _async_id(p)
        why = ASYNC_XFAIL.get(key)
        marks = [pytest.mark.xfail(strict=True, reason=why)] if why else []
        if key in ASYNC_SKIP:
            marks = [pytest.mark.skip(reason=ASYNC_SKIP[key])]
        out.append(pytest.param(p, id=key, marks=marks))
    return out


@pytest.mark.skipif(not ASYNC_SUITES, reason=f"wasmtime async corpus not found under {CORPORA}")
@pytest.mark.parametrize("path", _async_params())
def test_wasmtime_async_corpus(path: Path) -> None:
    """Each async corpus file passes every command (or is a listed, visible xfail)."""
    result = run_file(path)
    assert result.error is None, result.error
    bad = [o for o in result.outcomes if o.status != "pass"]
    assert not bad, "\n".join(f"line {o.line}: {o.command}: {o.status}: {o.detail}" for o in bad)


def test_async_xfail_list_names_existing_files() -> None:
    if not ASYNC_SUITES:
        pytest.skip(f"wasmtime async corpus not found under {CORPORA}")
    known = {_async_id(p) for p in ASYNC_FILES}
    assert set(ASYNC_XFAIL) <= known, set(ASYNC_XFAIL) - known
    assert set(ASYNC_SKIP) <= known, set(ASYNC_SKIP) - known


@pytest.mark.skipif(not ASYNC_SUITES, reason=f"wasmtime async corpus not found under {CORPORA}")
def test_async_suites_run_in_a_subprocess_without_crashing() -> None:
    """The async suites fail command by command, never crash the process (calling an
    async-lifted core function as a sync one once made wasmtime's unchecked call abort)."""
    code = "import sys; from wasm_component.cli import main; sys.exit(main(sys.argv[1:]))"
    files = [str(p) for p in ASYNC_FILES if _async_id(p) not in ASYNC_SKIP]
    proc = subprocess.run([sys.executable, "-c", code, "wast", *files],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode in (0, 1), f"exit {proc.returncode}: {proc.stderr[-2000:]}"
    assert " passed, " in proc.stdout
