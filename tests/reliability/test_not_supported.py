"""What the library cannot do yet raises :class:`NotSupported` naming the feature, and
``NotSupported`` is not a :class:`Trap` (issue 16). Before: an async lower failed wasmtime's
link check ("types incompatible") (async lowers now link), a shared memory failed with a ``LinkError``, and a
``(rep i64)`` resource's built-ins had i32 signatures (also "types incompatible")."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.exports import export_func
from wasm_component import (
    Component,
    ComponentError,
    Engine,
    Instance,
    Linker,
    NotSupported,
    Store,
    Trap,
)
from wasm_component.wast import run_paths

ASYNC_LOWER = """
(component
  (core module $libc (memory (export "memory") 1))
  (core instance $libc (instantiate $libc))
  (import "f1" (func $f1 async))
  (core func $f1 (canon lower (func $f1) async))
  (core module $m (import "" "f" (func (result i32))))
  (core instance (instantiate $m (with "" (instance (export "f" (func $f1)))))))
"""

UNBUILT = """
(component
  (core type $start (func (param i32)))
  (core func $spawn (canon thread.spawn-ref $start)))
"""

SHARED_MEMORY = """
(component
  (core module $A (memory 1 2 shared) (export "m" (memory 0)))
  (core instance $A (instantiate $A))
  (alias core export $A "m" (core memory $m))
  (core module $B (import "" "" (memory 1 2 shared)))
  (core instance (instantiate $B (with "" (instance (export "" (memory $m)))))))
"""

REP_I64 = """
(component
  (type $x (resource (rep i64)))
  (core func $new (canon resource.new $x))
  (core func $rep (canon resource.rep $x))
  (core module $m
    (import "" "new" (func $new (param i64) (result i32)))
    (import "" "rep" (func $rep (param i32) (result i64)))
    (func (export "roundtrip") (result i64) (call $rep (call $new (i64.const 0x1234)))))
  (core instance $i (instantiate $m (with "" (instance
    (export "new" (func $new)) (export "rep" (func $rep))))))
  (func (export "roundtrip") (result u64) (canon lift (core func $i "roundtrip"))))
"""


def test_not_supported_is_not_a_trap() -> None:
    assert issubclass(NotSupported, ComponentError)
    assert not issubclass(NotSupported, Trap)


def _instantiate(text: str) -> tuple[Store, Instance]:
    engine = Engine()
    c = Component.new(engine, text)
    store = Store(engine)
    linker = Linker(engine)
    linker.define_unknown_imports_as_traps(c)
    return store, linker.instantiate(store, c)


def test_async_lower_links() -> None:
    # before the async runtime: NotSupported here; before that, a core "types incompatible"
    _instantiate(ASYNC_LOWER)


def test_shared_memory_on_an_engine_without_it_is_not_supported() -> None:
    with pytest.raises(NotSupported, match="shared memory support is disabled"):
        _instantiate(SHARED_MEMORY)


def test_rep_i64_resource_builtins_have_its_signature() -> None:
    store, inst = _instantiate(REP_I64)
    assert export_func(inst, store, "roundtrip")(store) == 0x1234


@pytest.mark.skipif(shutil.which("wasm-tools") is None, reason="needs wasm-tools (json-from-wast)")
def test_wast_runner_counts_not_supported_as_a_failure(tmp_path: Path) -> None:
    wast = tmp_path / "ns.wast"
    wast.write_text(";; RUN: wast % -f cm-async,cm-threading,shared-everything-threads\n"
                    + UNBUILT.strip() + "\n")
    import io

    out = io.StringIO()
    passed, failed, _ = run_paths([wast], out=out)
    assert (passed, failed) == (0, 1), out.getvalue()  # the module is refused
    assert "`thread.spawn-ref` (a typed function reference parameter) is not supported" \
        in out.getvalue(), out.getvalue()
