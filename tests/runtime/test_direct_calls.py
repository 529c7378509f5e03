"""Calls between components of the same tree that need no trampoline.

A ``canon lower`` of another component's ``canon lift`` becomes the callee's core function
itself when every check of the trampoline is known to pass and lifting then lowering changes
no value (``P.Lower.direct``, ``inline.enters_only_closed``). These tests pin down when that
happens, and that the spec's behaviour is the same either way: values, traps, lockdown after
a trap, and reentrance traps when the callee may be on the stack.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.exports import export_func
from wasm_component import Component, Engine, Linker, Store
from wasm_component.errors import Trap


def composed(ty: str = "u32", inner_extra: str = "", outer_extra: str = "",
             inner_body: str = "(i32.div_u (local.get 0) (local.get 1))",
             outer_opts: str = "") -> str:
    """$inner exports `div` (a trap on division by zero); the root lowers it into a core
    module (`calc` divides twice) and also re-exports it as it is."""
    return f"""
(component
  (component $inner
    {inner_extra}
    (core module $m
      (func (export "div") (param i32 i32) (result i32) {inner_body}))
    (core instance $i (instantiate $m))
    (func (export "div") (param "a" {ty}) (param "b" {ty}) (result {ty})
      (canon lift (core func $i "div"))))
  (instance $a (instantiate $inner))
  {outer_extra}
  (core func $div (canon lower (func $a "div") {outer_opts}))
  (core module $m
    (import "x" "div" (func $div (param i32 i32) (result i32)))
    (func (export "calc") (param i32 i32 i32) (result i32)
      (call $div (call $div (local.get 0) (local.get 1)) (local.get 2))))
  (core instance $i (instantiate $m (with "x" (instance (export "div" (func $div))))))
  (func (export "calc") (param "a" {ty}) (param "b" {ty}) (param "c" {ty}) (result {ty})
    (canon lift (core func $i "calc")))
  (export "div" (func $a "div"))
)
"""


def instantiate(text: str, linker: Linker | None = None) -> tuple[Store, Any, int]:
    """The store, the instance, and how many host functions instantiation made."""
    engine = Engine()
    store = Store(engine)
    before = len(store._core._host_fns)
    inst = (linker or Linker(engine)).instantiate(store, Component.new(engine, text))
    return store, inst, len(store._core._host_fns) - before


def test_a_pass_through_type_between_closed_components_is_a_direct_core_call() -> None:
    store, inst, host_funcs = instantiate(composed("u32"))
    assert host_funcs == 0
    calc = export_func(inst, store, "calc")
    assert calc(store, 100, 5, 2) == 10


def test_a_type_that_needs_adapting_keeps_the_trampoline() -> None:
    # u16 results are truncated on lifting: 0xffff / 1 = 0xffff, but the inner module's result
    # is lifted as a u16 whatever its upper bits (here none), and the caller sees lowered u16s
    store, inst, host_funcs = instantiate(
        composed("u16", inner_body="(i32.add (local.get 0) (local.get 1))"))
    assert host_funcs == 1
    assert export_func(inst, store, "calc")(store, 0xFFFF, 2, 3) == 4  # (0xffff + 2) mod 2^16 + 3


@pytest.mark.parametrize("ty", ["u32", "u16"])
def test_a_trap_in_the_callee_locks_the_whole_tree(ty: str) -> None:
    """The same either way: after the trap no instance of the tree may be entered again,
    including the callee through its re-export (the spec: every entry enters the root)."""
    store, inst, _ = instantiate(composed(ty))
    calc, div = export_func(inst, store, "calc"), export_func(inst, store, "div")
    assert div(store, 9, 3) == 3
    with pytest.raises(Trap, match=r"divide by zero|integer divide"):
        calc(store, 1, 0, 1)
    with pytest.raises(Trap, match="cannot enter component instance"):
        div(store, 9, 3)
    with pytest.raises(Trap, match="cannot enter component instance"):
        calc(store, 8, 2, 2)


def test_a_callee_that_calls_out_keeps_the_trampoline_and_its_reentrance_check() -> None:
    """$inner calls the host, which calls $inner again through the root's re-export: $inner
    is on the stack, so the spec traps; it must not be called directly."""
    engine = Engine()
    linker = Linker(engine)
    holder: dict[str, Any] = {}

    def hook(store: Any) -> None:
        holder["div"](store, 1, 1)

    linker.root().func_wrap("hook", hook)
    text = composed(
        "u32",
        inner_extra='(import "hook" (func $hook)) (core func $hook-core (canon lower (func $hook)))'
        ' (core module $h (import "h" "hook" (func)) (func (export "go") (call 0)))'
        ' (core instance $hi (instantiate $h (with "h" (instance (export "hook" (func $hook-core))))))'
        ' (alias core export $hi "go" (core func $go))',
        inner_body="(call $go) (i32.div_u (local.get 0) (local.get 1))",
    ).replace("(instance $a (instantiate $inner))",
              '(import "hook" (func $hook))'
              ' (instance $a (instantiate $inner (with "hook" (func $hook))))')
    # the inner module imports `go` and calls it before dividing
    text = text.replace(
        '(core module $m\n      (func (export "div")',
        '(core module $m (import "g" "go" (func $go))\n      (func (export "div")'
    ).replace('(core instance $i (instantiate $m))',
              '(core instance $i (instantiate $m (with "g" (instance (export "go" (func $go))))))')
    store = Store(engine)
    before = len(store._core._host_fns)
    inst = linker.instantiate(store, Component.new(engine, text))
    assert len(store._core._host_fns) - before == 2  # the hook's lowering and the trampoline
    holder["div"] = export_func(inst, store, "div")
    with pytest.raises(Trap, match=r"already on the stack|cannot enter"):
        export_func(inst, store, "calc")(store, 8, 2, 2)


def test_a_caller_with_realloc_keeps_the_trampoline() -> None:
    """A component whose canons call `realloc` clears its `may_leave` then: the trampoline's
    check is needed."""
    text = composed("u32", outer_extra="""
      (core module $mem (memory (export "m") 1)
        (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 64)))
      (core instance $mi (instantiate $mem))
      (alias core export $mi "m" (core memory $mm))
      (alias core export $mi "realloc" (core func $re))""",
        outer_opts="(memory $mm) (realloc $re)")
    store, inst, host_funcs = instantiate(text)
    assert host_funcs == 1
    assert export_func(inst, store, "calc")(store, 100, 5, 2) == 10


def test_nested_components_wire_each_other_directly() -> None:
    """Two levels of nesting, two instances of the middle component: every crossing of the
    benchmark's nested component is direct."""
    from pathlib import Path

    text = (Path(__file__).parents[2] / "benchmarks" / "components" / "nested.wat").read_text()
    store, inst, host_funcs = instantiate(text)
    assert host_funcs == 0
    assert export_func(inst, store, "add6")(store, 1, 2, 3, 4, 5, 6) == 21
    assert export_func(inst, store, "add3")(store, 1, 2, 3) == 6


def test_an_exception_never_crosses_into_the_caller() -> None:
    """The spec: a wasm exception thrown by a callee becomes a trap at the component boundary.
    A component whose core code may throw (it has a tag) is never called directly, or the
    caller's ``catch_all`` would catch the callee's exception."""
    from wasm_component._runtime.core import make_config

    text = """
      (component
        (component $a
          (core module $m (tag $t) (func (export "f") (throw $t)))
          (core instance $i (instantiate $m))
          (func (export "f") (canon lift (core func $i "f"))))
        (component $b
          (import "f" (func $f))
          (core func $f-core (canon lower (func $f)))
          (core module $m
            (import "" "f" (func $f))
            (func (export "run")
              (block $caught
                (try_table (catch_all $caught) (call $f))
                (return))
              unreachable))
          (core instance $i (instantiate $m (with "" (instance (export "f" (func $f-core))))))
          (func (export "run") (canon lift (core func $i "run"))))
        (instance $a (instantiate $a))
        (instance $b (instantiate $b (with "f" (func $a "f"))))
        (export "run" (func $b "run")))
    """
    engine = Engine(make_config(["exceptions", "function_references", "reference_types"]))
    store = Store(engine)
    before = len(store._core._host_fns)
    inst = Linker(engine).instantiate(store, Component.new(engine, text))
    assert len(store._core._host_fns) - before == 1  # a trampoline, not a direct call
    with pytest.raises(Trap) as e:
        export_func(inst, store, "run")(store)
    assert "unreachable" not in str(e.value)  # the exception did not reach `catch_all`
