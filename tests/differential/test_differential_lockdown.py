"""Differential test: which calls trap after a trap, and which reentrance is allowed, against
wasmtime.component.

The same call sequence runs through both engines; each call's outcome (its value, or "trap")
must agree. The components cover siblings in one root, a composition whose calls are direct
core calls (``_translate.inline``) or trampolines, and a host function re-entering the root
while one child is on the stack.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

try:
    from . import _diffgen as g
except ImportError:  # collected without the tests package (rootdir-relative imports)
    import _diffgen as g  # type: ignore[no-redef]
import pytest
import wasmtime
import wasmtime.component as wc

import wasm_component as w

SIBLINGS = """
(component
  (component $c1
    (core module $m (func (export "go") (param i32) (result i32)
      (if (i32.eqz (local.get 0)) (then unreachable)) (local.get 0)))
    (core instance $i (instantiate $m))
    (func (export "go") (param "x" u32) (result u32) (canon lift (core func $i "go"))))
  (component $c2
    (core module $m (func (export "two") (result i32) (i32.const 2)))
    (core instance $i (instantiate $m))
    (func (export "two") (result u32) (canon lift (core func $i "two"))))
  (instance $a (instantiate $c1))
  (instance $b (instantiate $c2))
  (export "go" (func $a "go"))
  (export "two" (func $b "two")))
"""

COMPOSED = """
(component
  (component $inner
    (core module $m (func (export "div") (param i32 i32) (result i32)
      (i32.div_u (local.get 0) (local.get 1))))
    (core instance $i (instantiate $m))
    (func (export "div") (param "a" {t}) (param "b" {t}) (result {t})
      (canon lift (core func $i "div"))))
  (instance $a (instantiate $inner))
  (core func $div (canon lower (func $a "div")))
  (core module $m (import "x" "div" (func $div (param i32 i32) (result i32)))
    (func (export "calc") (param i32 i32) (result i32) (call $div (local.get 0) (local.get 1))))
  (core instance $i (instantiate $m (with "x" (instance (export "div" (func $div))))))
  (func (export "calc") (param "a" {t}) (param "b" {t}) (result {t})
    (canon lift (core func $i "calc")))
  (export "div" (func $a "div")))
"""

Call = tuple[str, tuple[int, ...]]


CASES: dict[str, tuple[str, list[Call]]] = {
    "siblings": (SIBLINGS, [("two", ()), ("go", (3,)), ("go", (0,)), ("two", ()), ("go", (3,))]),
    "composed-direct": (COMPOSED.format(t="u32"),
                        [("div", (9, 3)), ("calc", (8, 2)), ("calc", (1, 0)), ("div", (9, 3)),
                         ("calc", (8, 2))]),
    "composed-trampoline": (COMPOSED.format(t="u16"),
                            [("div", (9, 3)), ("calc", (8, 2)), ("calc", (1, 0)),
                             ("div", (9, 3))]),
    "no-trap": (COMPOSED.format(t="u32"), [("calc", (8, 2)), ("div", (7, 7)), ("calc", (9, 3))]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_outcomes_after_a_trap_match_wasmtime(case: str) -> None:
    text, calls = CASES[case]
    assert g.ours_outcomes(text, calls) == g.peer_outcomes(text, calls)


REENTER = """
(component
  (import "hook" (func $hook))
  (component $c1
    (import "hook" (func $hook))
    (core func $h (canon lower (func $hook)))
    (core module $m (import "h" "hook" (func)) (func (export "go") (call 0)))
    (core instance $i (instantiate $m (with "h" (instance (export "hook" (func $h))))))
    (func (export "go") (canon lift (core func $i "go"))))
  (component $c2
    (core module $m (func (export "two") (result i32) (i32.const 2)))
    (core instance $i (instantiate $m))
    (func (export "two") (result u32) (canon lift (core func $i "two"))))
  (instance $a (instantiate $c1 (with "hook" (func $hook))))
  (instance $b (instantiate $c2))
  (export "go" (func $a "go"))
  (export "two" (func $b "two"))
  (export "go-again" (func $a "go")))
"""


def test_host_reentering_the_root_matches_wasmtime() -> None:
    """A host function called by one child calls the root again, into a sibling: allowed.

    (Into the child on the stack, the spec traps (``may_enter_from``) and so do we, see
    ``test_host_reentering_the_child_on_the_stack_traps``; wasmtime-py 50 lets it recurse.)"""

    def run(make: Callable[[Callable[[Any], None]], Callable[[], None]]) -> list[str]:
        seen: list[str] = []
        holder: dict[str, Any] = {}

        def hook(store: Any) -> None:
            try:
                seen.append(repr(holder["f"](store)))
            except (w.Trap, wasmtime.WasmtimeError):
                seen.append("trap")
                raise

        go = make(hook)
        holder["f"] = go.f  # type: ignore[attr-defined]
        try:
            go()
            seen.append("go returned")
        except (w.Trap, wasmtime.WasmtimeError):
            seen.append("go trapped")
        return seen

    def ours(hook: Callable[[Any], None]) -> Callable[[], None]:
        engine = w.Engine()
        linker = w.Linker(engine)
        linker.root().func_wrap("hook", hook)
        store = w.Store(engine)
        inst = linker.instantiate(store, w.Component.new(engine, REENTER))
        f = inst.get_func(store, "two")

        def go() -> None:
            inst.get_func(store, "go")(store)

        go.f = lambda s: f(s)  # type: ignore[attr-defined]
        return go

    def peer(hook: Callable[[Any], None]) -> Callable[[], None]:
        engine = wasmtime.Engine()
        linker = wc.Linker(engine)
        with linker.root() as root:
            root.add_func("hook", hook)
        store = wasmtime.Store(engine)
        inst = linker.instantiate(store, wc.Component(engine, REENTER))
        f = inst.get_func(store, "two")
        g = inst.get_func(store, "go")
        assert f is not None and g is not None

        def call_f(s: Any) -> Any:
            value = f(s)
            f.post_return(s)
            return value

        def go() -> None:
            g(store)
            g.post_return(store)

        go.f = call_f  # type: ignore[attr-defined]
        return go

    assert run(ours) == run(peer)


def test_host_reentering_the_child_on_the_stack_traps() -> None:
    seen: list[str] = []
    engine = w.Engine()
    linker = w.Linker(engine)
    holder: dict[str, Any] = {}

    def hook(store: Any) -> None:
        try:
            holder["again"](store)
        except w.Trap as e:
            seen.append(str(e))
            raise

    linker.root().func_wrap("hook", hook)
    store = w.Store(engine)
    inst = linker.instantiate(store, w.Component.new(engine, REENTER))
    holder["again"] = inst.get_func(store, "go-again")
    with pytest.raises(w.Trap):
        inst.get_func(store, "go")(store)
    assert seen and "already on the stack" in seen[0]
