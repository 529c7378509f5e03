"""The inliner (``_translate.inline``): a root and its nested components as one flat plan."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tests.exports import export_func, lifted
from wasm_component import Component, Engine, Linker, Store
from wasm_component._translate import inline as F
from wasm_component._translate.trampolines import Trampoline
from wasm_component._validate.features import Features
from wasm_component.component import to_binary
from wasm_component.errors import LinkError, NotSupported

NESTED = Path(__file__).parents[2] / "benchmarks" / "components" / "nested.wat"


def flat_of(text: str) -> F.FlatPlan:
    return F.inline(Component.new(Engine(), text)._validated)


def kinds(flat: F.FlatPlan) -> list[str]:
    return [type(s).__name__ for s in flat.steps]


def test_nested_components_become_core_instantiations_and_what_is_exported() -> None:
    """Five component instances, four core instances: only the core instantiations and the two
    exported functions remain; every crossing is direct. The exported functions find their
    instances' states (and the root's) and core functions at first use."""
    flat = flat_of(NESTED.read_text())
    assert flat is not None
    k = kinds(flat)
    assert k.count("FCoreInstantiate") == 4
    assert k.count("FDeferredLift") == 2  # `add3` and `add6`; the inner `add` is called directly
    assert k.count("FLift") == k.count("FLower") == k.count("FLazyExport") == 0
    assert k.count("FState") == 0
    assert [name for name, _ in flat.exports] == ["add3", "add6"]
    assert flat.parents == (None, 0, 1, 1, 1)  # root, outer, and outer's three instances


def test_deferred_functions_find_their_states_through_the_tree() -> None:
    """Calling the exports settles their states: each its own instance's, with the tree's
    parents (made once, shared), so a trap in one poisons the root the other sees."""
    engine = Engine()
    store = Store(engine)
    inst = Linker(engine).instantiate(store, Component.new(engine, NESTED.read_text()))
    add3, add6 = export_func(inst, store, "add3"), export_func(inst, store, "add6")
    assert add6(store, 1, 2, 3, 4, 5, 6) == 21 and add3(store, 1, 2, 3) == 6
    s3, s6 = lifted(add3).state, lifted(add6).state
    assert s3 is not s6 and s3.parent is s6  # `add3` is in a mid instance inside `$outer`
    assert s3.root is s6.root is s6.parent


def test_a_lift_reached_through_a_trampoline_is_made() -> None:
    flat = flat_of("""
      (component
        (component $inner
          (core module $m (func (export "f") (param i32) (result i32) (local.get 0)))
          (core instance $i (instantiate $m))
          (func (export "f") (param "x" u8) (result u8) (canon lift (core func $i "f"))))
        (instance $a (instantiate $inner))
        (core func $f (canon lower (func $a "f")))
        (core module $m (import "x" "f" (func (param i32) (result i32)))
          (func (export "g") (param i32) (result i32) (call 0 (local.get 0))))
        (core instance $i (instantiate $m (with "x" (instance (export "f" (func $f))))))
        (func (export "g") (param "x" u8) (result u8) (canon lift (core func $i "g"))))
    """)
    assert flat is not None
    k = kinds(flat)
    assert k.count("FLower") == 1 and k.count("FLift") + k.count("FDeferredLift") == 2


def test_outer_aliases_and_components_passed_as_arguments_resolve_statically() -> None:
    text = """
      (component
        (core module $shared (func (export "one") (result i32) (i32.const 1)))
        (component $c
          (alias outer 1 $shared (core module $m))
          (core instance $i (instantiate $m))
          (func (export "one") (result u32) (canon lift (core func $i "one"))))
        (component $wrap
          (import "c" (component $c (export "one" (func (result u32)))))
          (instance $x (instantiate $c))
          (export "one" (func $x "one")))
        (instance $w (instantiate $wrap (with "c" (component $c))))
        (export "one" (func $w "one")))
    """
    flat = flat_of(text)
    assert flat is not None
    engine = Engine()
    store = Store(engine)
    inst = Linker(engine).instantiate(store, Component.new(engine, text))
    assert export_func(inst, store, "one")(store) == 1


def test_resources_and_built_ins_are_steps_of_the_one_plan() -> None:
    """A resource type is made fresh per instance (``FResource``); `resource.new` is an
    ``FBuiltin`` naming its trampoline; the lift of a function naming the resource carries
    its concrete type."""
    text = """
      (component
        (type $r (resource (rep i32)))
        (core func $new (canon resource.new $r))
        (core module $m (import "x" "new" (func (param i32) (result i32)))
          (func (export "make") (result i32) (call 0 (i32.const 7))))
        (core instance $i (instantiate $m (with "x" (instance (export "new" (func $new))))))
        (export $e "r" (type $r))
        (func (export "make") (result (own $e)) (canon lift (core func $i "make"))))
    """
    flat = flat_of(text)
    k = kinds(flat)
    assert k.count("FResource") == 1 and k.count("FBuiltin") == 1
    builtin = next(s for s in flat.steps if isinstance(s, F.FBuiltin))
    assert builtin.kind is Trampoline.RESOURCE_NEW
    lift = next(s for s in flat.steps if isinstance(s, F.FLift))
    assert len(lift.resources) == 1
    engine = Engine()
    store = Store(engine)
    inst = Linker(engine).instantiate(store, Component.new(engine, text))
    r = inst.get_resource(store, "r")
    handle = export_func(inst, store, "make")(store)
    assert handle.resource_type == r
    other = Linker(engine).instantiate(store, Component.new(engine, text))
    assert other.get_resource(store, "r") != r  # fresh per instance


def test_every_built_in_has_a_maker_and_unbuilt_ones_name_themselves() -> None:
    from wasm_component._runtime.calls import BUILTINS

    assert set(BUILTINS) == set(Trampoline)
    text = """
      (component
        (core type $start (func (param i32)))
        (core func $s (canon thread.spawn-ref $start)))
    """
    engine = Engine(features=Features.all())
    with pytest.raises(NotSupported, match=r"`thread\.spawn-ref` \(a typed function reference"):
        Component.new(engine, text)


def test_available_parallelism_is_one_cooperative_thread() -> None:
    text = """
      (component
        (core func $p (canon thread.available_parallelism))
        (core module $m (import "x" "p" (func (result i32)))
          (func (export "go") (result i32) (call 0)))
        (core instance $i (instantiate $m (with "x" (instance (export "p" (func $p))))))
        (func (export "go") (result u32) (canon lift (core func $i "go"))))
    """
    engine = Engine(features=Features.all())
    store = Store(engine)
    inst = Linker(engine).instantiate(store, Component.new(engine, text))
    go = export_func(inst, store, "go")
    assert go(store) == go(store) == 1  # (fixed for the instance's lifetime)


def test_start_functions_and_core_modules_imported_by_the_root() -> None:
    """A component start function runs at instantiation (its result a value another start
    function takes); a core module the root imports is instantiated by name at run time."""
    engine = Engine(features=dataclasses.replace(Features.all(), cm_values=True))
    text = """
      (component
        (import "m" (core module $m (export "seven" (func (result i32)))))
        (core instance $i (instantiate $m))
        (func $seven (result u32) (canon lift (core func $i "seven")))
        (start $seven (result (value $v)))
        (component $child
          (import "v" (value $x u32))
          (core module $log
            (global $got (mut i32) (i32.const 0))
            (func (export "take") (param i32) (global.set $got (local.get 0)))
            (func (export "got") (result i32) (global.get $got)))
          (core instance $l (instantiate $log))
          (func $take (param "x" u32) (canon lift (core func $l "take")))
          (start $take (value $x))
          (func (export "got") (result u32) (canon lift (core func $l "got"))))
        (instance $c (instantiate $child (with "v" (value $v))))
        (export "got" (func $c "got")))
    """
    component = Component.new(engine, text, embedder_restrictions=False)
    linker = Linker(engine)
    linker.root().module("m", to_binary('(module (func (export "seven") (result i32) (i32.const 7)))'))
    store = Store(engine)
    inst = linker.instantiate(store, component)
    assert export_func(inst, store, "got")(store) == 7
    assert kinds(flat_of_component(component)).count("FStart") == 2


def flat_of_component(component: Component) -> F.FlatPlan:
    return F.inline(component._validated)


def test_a_state_made_by_a_start_function_call_is_the_one_made_later() -> None:
    """A start function calls a deferred function (which makes its instance's state); a lift
    of the same instance with options, made afterwards, must get that same state."""
    text = """
      (component
        (component $c
          (core module $m
            (func (export "f") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
            (func (export "g") (result i32) (i32.const 7))
            (func (export "pr") (param i32)))
          (core instance $i (instantiate $m))
          (func (export "f") (param "x" u8) (result u8) (canon lift (core func $i "f")))
          (func (export "g") (result u32)
            (canon lift (core func $i "g") (post-return (core func $i "pr")))))
        (instance $c (instantiate $c))
        (core func $f (canon lower (func $c "f")))
        (core module $s
          (import "x" "f" (func $f (param i32) (result i32)))
          (global $seen (mut i32) (i32.const 0))
          (func $start (global.set $seen (call $f (i32.const 41))))
          (start $start)
          (func (export "seen") (result i32) (global.get $seen)))
        (core instance $si (instantiate $s (with "x" (instance (export "f" (func $f))))))
        (func (export "seen") (result u32) (canon lift (core func $si "seen")))
        (export "f" (func $c "f"))
        (export "g" (func $c "g")))
    """
    flat = flat_of(text)
    assert flat is not None
    engine = Engine()
    store = Store(engine)
    inst = Linker(engine).instantiate(store, Component.new(engine, text))
    f, g = export_func(inst, store, "f"), export_func(inst, store, "g")
    assert export_func(inst, store, "seen")(store) == 42
    assert lifted(f).state is lifted(g).state
    assert g(store) == 7 and f(store, 1) == 2


ADDER = """
(component
  (import "base" (func $base (result u32)))
  (core func $b (canon lower (func $base)))
  (core module $m
    (import "h" "base" (func $base (result i32)))
    (func (export "add") (param i32) (result i32) (i32.add (local.get 0) (call $base))))
  (core instance $i (instantiate $m (with "h" (instance (export "base" (func $b))))))
  (func (export "add") (param "x" u32) (result u32) (canon lift (core func $i "add"))))
"""

IMPORTS_A_COMPONENT = """
(component
  (import "adder" (component $adder
    (import "base" (func (result u32)))
    (export "add" (func (param "x" u32) (result u32)))))
  (import "ten" (func $ten (result u32)))
  (core module $k (func (export "five") (result i32) (i32.const 5)))
  (core instance $k (instantiate $k))
  (func $five (result u32) (canon lift (core func $k "five")))
  (instance $a (instantiate $adder (with "base" (func $ten))))
  (instance $b (instantiate $adder (with "base" (func $five))))
  (export "add-ten" (func $a "add"))
  (export "add-five" (func $b "add")))
"""


def test_a_component_the_root_imports_is_instantiated_at_run_time() -> None:
    """The root imports a component (``LinkerInstance.component``) and instantiates it twice,
    once with its own import and once with one of its own functions: each a root of its own
    in the store, its exports reached by name (``F.FInstantiateImported``)."""
    engine = Engine()
    importer = Component.new(engine, IMPORTS_A_COMPONENT, embedder_restrictions=False)
    assert kinds(flat_of_component(importer)).count("FInstantiateImported") == 2
    linker = Linker(engine)
    linker.root().component("adder", Component.new(engine, ADDER))
    linker.root().func_wrap("ten", lambda _s: 10)
    store = Store(engine)
    inst = linker.instantiate(store, importer)
    assert export_func(inst, store, "add-ten")(store, 1) == 11
    assert export_func(inst, store, "add-five")(store, 1) == 6


def test_an_imported_component_is_type_checked_when_linked() -> None:
    engine = Engine()
    importer = Component.new(engine, IMPORTS_A_COMPONENT, embedder_restrictions=False)
    linker = Linker(engine)
    linker.root().func_wrap("ten", lambda _s: 10)
    linker.root().component("adder", Component.new(engine, """
      (component (import "base" (func (result u32)))
        (core module $m (func (export "f") (result i32) (i32.const 0)))
        (core instance $i (instantiate $m))
        (func (export "add") (result u32) (canon lift (core func $i "f"))))"""))
    with pytest.raises(LinkError, match="`adder` has the wrong type: type mismatch in export"):
        linker.instantiate(Store(engine), importer)
    linker = Linker(engine)
    linker.root().func_wrap("ten", lambda _s: 10)
    linker.root().func_wrap("adder", lambda _s: 0)
    with pytest.raises(LinkError, match="`adder` has the wrong type: expected component, found function"):
        linker.instantiate(Store(engine), importer)
    with pytest.raises(TypeError, match="expected a Component"):
        Linker(engine).root().component("adder", b"\0asm")  # type: ignore[arg-type]
