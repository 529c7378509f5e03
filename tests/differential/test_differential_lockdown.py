"""Differential test: which calls trap after a trap, and which reentrance is allowed, against
wasmtime.component.

The same call sequence runs through both engines; each call's outcome (its value, or "trap")
must agree. The components cover siblings in one root, a composition whose calls are direct
core calls (``_translate.inline``) or trampolines, and a host function re-entering the root
while one child is on the stack.
"""

from __future__ import annotations

from typing import Any

import pytest

import wasm_component as w
from tests.exports import export_func

from . import _diffgen as g

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


def host_reentry_trap(target: str) -> str:
    """Call `go`, whose host hook calls the root's export ``target``: the message of the trap
    the hook's call raised (the trap also ends `go`)."""
    seen: list[str] = []
    engine = w.Engine()
    linker = w.Linker(engine)
    holder: dict[str, Any] = {}

    def hook(store: Any) -> None:
        try:
            holder["target"](store)
        except w.Trap as e:
            seen.append(str(e))
            raise

    linker.root().func_wrap("hook", hook)
    store = w.Store(engine)
    inst = linker.instantiate(store, w.Component.new(engine, REENTER))
    holder["target"] = export_func(inst, store, target)
    with pytest.raises(w.Trap):
        export_func(inst, store, "go")(store)
    assert len(seen) == 1
    return seen[0]


def test_host_reentering_a_sibling_traps_as_the_spec_says() -> None:
    """A host function called by one child calls the root again, into a sibling: the spec's
    ``entering_set`` of the sibling, from the host, includes the root, which the first call
    entered, so it traps. (wasmtime-py 50 lets it run: here the spec is followed.)"""
    assert "already on the stack" in host_reentry_trap("two")


def test_host_reentering_the_child_on_the_stack_traps() -> None:
    assert "already on the stack" in host_reentry_trap("go-again")


def test_entering_a_sibling_after_a_call_returned_is_allowed() -> None:
    """The root is entered only while a call runs: afterwards the sibling is callable."""
    engine = w.Engine()
    linker = w.Linker(engine)
    linker.root().func_wrap("hook", lambda store: None)
    store = w.Store(engine)
    inst = linker.instantiate(store, w.Component.new(engine, REENTER))
    export_func(inst, store, "go")(store)
    assert export_func(inst, store, "two")(store) == 2
    export_func(inst, store, "go-again")(store)


DONUT = """
(component
  (core module $pm (func (export "f") (result i32) (i32.const 5)))
  (core instance $pi (instantiate $pm))
  (func $f (result u32) (canon lift (core func $pi "f")))
  (component $c
    (import "f" (func $f (result u32)))
    (core func $f-core (canon lower (func $f)))
    (core module $m (import "x" "f" (func $f (result i32)))
      (func (export "g") (result i32) (i32.add (call $f) (i32.const 1))))
    (core instance $i (instantiate $m (with "x" (instance (export "f" (func $f-core))))))
    (func (export "g") (result u32) (canon lift (core func $i "g"))))
  (instance $ci (instantiate $c (with "f" (func $f))))
  (export "g" (func $ci "g"))
  (export "f" (func $f)))
"""


def test_donut_wrapping_matches_wasmtime() -> None:
    """A child calls a function of its parent while the host's call into the child has
    entered the parent too: the spec's ``entering_set`` of that call is empty, so it runs."""
    calls = [("g", ()), ("f", ()), ("g", ())]
    assert g.ours_outcomes(DONUT, calls) == g.peer_outcomes(DONUT, calls) == [6, 5, 6]


# $leaf defines a resource (its destructor counts drops); $mid makes handles through the
# leaf's constructor, reads them through borrows, gives one back by ownership (`take` drops it
# in the leaf) and drops the other; `misuse` uses a handle after giving it away.
RESOURCES = """
(component
  (component $leaf
    (core module $m
      (global $drops (mut i32) (i32.const 0))
      (global $last (mut i32) (i32.const 0))
      (func (export "dtor") (param i32)
        (global.set $drops (i32.add (global.get $drops) (i32.const 1)))
        (global.set $last (local.get 0)))
      (func (export "drops") (result i32) (global.get $drops))
      (func (export "last") (result i32) (global.get $last)))
    (core instance $i (instantiate $m))
    (type $r (resource (rep i32) (dtor (core func $i "dtor"))))
    (core func $new (canon resource.new $r))
    (core func $rep (canon resource.rep $r))
    (core func $drop (canon resource.drop $r))
    (core module $m2
      (import "" "new" (func $new (param i32) (result i32)))
      (import "" "rep" (func $rep (param i32) (result i32)))
      (import "" "drop" (func $drop (param i32)))
      (func (export "make") (param i32) (result i32) (call $new (local.get 0)))
      (func (export "value") (param i32) (result i32) (local.get 0))
      (func (export "take") (param $h i32) (result i32) (local $v i32)
        (local.set $v (call $rep (local.get $h)))
        (call $drop (local.get $h))
        (local.get $v)))
    (core instance $i2 (instantiate $m2 (with "" (instance
      (export "new" (func $new)) (export "rep" (func $rep)) (export "drop" (func $drop))))))
    (export $rr "r" (type $r))
    (func (export "make") (param "n" u32) (result (own $rr)) (canon lift (core func $i2 "make")))
    (func (export "value") (param "x" (borrow $rr)) (result u32) (canon lift (core func $i2 "value")))
    (func (export "take") (param "x" (own $rr)) (result u32) (canon lift (core func $i2 "take")))
    (func (export "drops") (result u32) (canon lift (core func $i "drops")))
    (func (export "last") (result u32) (canon lift (core func $i "last"))))
  (instance $l (instantiate $leaf))
  (component $mid
    (import "leaf" (instance $l
      (export "r" (type $r (sub resource)))
      (export "make" (func (param "n" u32) (result (own $r))))
      (export "value" (func (param "x" (borrow $r)) (result u32)))
      (export "take" (func (param "x" (own $r)) (result u32)))))
    (alias export $l "r" (type $r))
    (core func $make (canon lower (func $l "make")))
    (core func $value (canon lower (func $l "value")))
    (core func $take (canon lower (func $l "take")))
    (core func $drop (canon resource.drop $r))
    (core module $m
      (import "" "make" (func $make (param i32) (result i32)))
      (import "" "value" (func $value (param i32) (result i32)))
      (import "" "take" (func $take (param i32) (result i32)))
      (import "" "drop" (func $drop (param i32)))
      ;; make two, read both through borrows, give one back by ownership, drop the other
      (func (export "scenario") (param $a i32) (param $b i32) (result i32)
        (local $ha i32) (local $hb i32) (local $s i32)
        (local.set $ha (call $make (local.get $a)))
        (local.set $hb (call $make (local.get $b)))
        (local.set $s (i32.add (call $value (local.get $ha)) (call $value (local.get $hb))))
        (local.set $s (i32.add (local.get $s) (call $take (local.get $ha))))
        (call $drop (local.get $hb))
        (local.get $s))
      ;; use a handle after giving it away: traps
      (func (export "misuse") (param $a i32) (result i32) (local $h i32)
        (local.set $h (call $make (local.get $a)))
        (drop (call $take (local.get $h)))
        (call $value (local.get $h))))
    (core instance $i (instantiate $m (with "" (instance
      (export "make" (func $make)) (export "value" (func $value))
      (export "take" (func $take)) (export "drop" (func $drop))))))
    (func (export "scenario") (param "a" u32) (param "b" u32) (result u32)
      (canon lift (core func $i "scenario")))
    (func (export "misuse") (param "a" u32) (result u32) (canon lift (core func $i "misuse"))))
  (instance $m (instantiate $mid (with "leaf" (instance $l))))
  (export "scenario" (func $m "scenario"))
  (export "misuse" (func $m "misuse"))
  (export "drops" (func $l "drops"))
  (export "last" (func $l "last"))
)
"""


@pytest.mark.parametrize("calls", [
    [("scenario", (3, 4)), ("drops", ()), ("last", ()), ("scenario", (10, 20)), ("drops", ()),
     ("last", ())],
    [("scenario", (1, 2)), ("misuse", (7,)), ("drops", ()), ("scenario", (1, 2))],
    [("misuse", (0,)), ("last", ())],
], ids=["own-and-borrow", "misuse-then-locked", "misuse-first"])
def test_resources_between_components_match_wasmtime(calls: list[tuple[str, tuple[int, ...]]]
                                                     ) -> None:
    """Handles made, lent, moved and dropped across a component boundary; a moved handle used
    again traps, and the tree is locked afterwards."""
    assert g.ours_outcomes(RESOURCES, calls) == g.peer_outcomes(RESOURCES, calls)
