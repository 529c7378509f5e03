"""The flat plan wires core instances together (``FCoreInstantiate.imports``): each import of a
core instantiation comes from a named export of a core instance, possibly renamed through inline
instances and aliases, or from another core item such as a lowered function."""

from __future__ import annotations

from wasm_component import Component, Engine, Linker, Store
from wasm_component._translate.inline import CoreExportRef, FCoreInstantiate, FLower, Slot, inline

RENAMED = """
(component
  (import "h" (func $h (result u32)))
  (core func $hl (canon lower (func $h)))
  (core module $a
    (func (export "f") (result i32) (i32.const 1))
    (func (export "g") (result i32) (i32.const 2)))
  (core instance $ia (instantiate $a))
  (alias core export $ia "f" (core func $af))
  (core instance $inline (export "x" (func $ia "g")) (export "y" (func $af))
                         (export "z" (func $hl)))
  (core module $b
    (import "m" "x" (func $x (result i32)))
    (import "m" "y" (func $y (result i32)))
    (import "m" "z" (func $z (result i32)))
    (func (export "xyz") (result i32)
      (i32.add (i32.mul (call $x) (i32.const 100))
               (i32.add (i32.mul (call $y) (i32.const 10)) (call $z)))))
  (core instance $ib (instantiate $b (with "m" (instance $inline))))
  (func (export "xyz") (result u32) (canon lift (core func $ib "xyz")))
)
"""


def test_imports_through_inline_instances_are_wired_by_name_and_item() -> None:
    engine = Engine()
    component = Component.new(engine, RENAMED)
    flat = inline(component._validated)
    steps = [s for s in flat.steps if isinstance(s, FCoreInstantiate)]
    lowered = next(s.slot for s in flat.steps if isinstance(s, FLower))
    assert steps[0].imports == ()
    # x is $ia's "g", y is the alias of $ia's "f", z the lowered import (an item, not an export)
    ia = steps[0].slot
    assert steps[1].imports == (CoreExportRef(ia, "g"), CoreExportRef(ia, "f"), Slot(lowered))
    linker = Linker(engine)
    linker.root().func_wrap("h", lambda store: 3)
    for _ in range(2):  # a second instance wires its own core instances
        store = Store(engine)
        xyz = linker.instantiate(store, component).get_func(store, "xyz")
        assert xyz is not None and xyz(store) == 213
