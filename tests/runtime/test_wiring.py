"""The flat plan wires core instances together (``FCoreInstantiate.imports``): each import of a
core instantiation comes from a named export of a core instance, possibly renamed through inline
instances and aliases, or from another core item such as a lowered function."""

from __future__ import annotations

from typing import Any

import pytest

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


# $ib and $ic import the same two exports of $ia: $ic's entries are copied from $ib's. $ib's
# start function calls the host, which instantiates the component again meanwhile.
SHARED = """
(component
  (import "reenter" (func $re))
  (core func $re-core (canon lower (func $re)))
  (core module $a
    (func (export "one") (result i32) (i32.const 1))
    (func (export "two") (result i32) (i32.const 2)))
  (core instance $ia (instantiate $a))
  (core module $b
    (import "a" "one" (func $one (result i32)))
    (import "a" "two" (func $two (result i32)))
    (import "h" "re" (func $re))
    (func $start (call $re))
    (start $start)
    (func (export "sum") (result i32) (i32.add (call $one) (call $two))))
  (core instance $ib (instantiate $b (with "a" (instance $ia))
                                     (with "h" (instance (export "re" (func $re-core))))))
  (core module $c
    (import "a" "one" (func $one (result i32)))
    (import "a" "two" (func $two (result i32)))
    (func (export "diff") (result i32) (i32.sub (call $two) (call $one))))
  (core instance $ic (instantiate $c (with "a" (instance $ia))))
  (func (export "sum") (result u32) (canon lift (core func $ib "sum")))
  (func (export "diff") (result u32) (canon lift (core func $ic "diff")))
)
"""


def _sum_diff(linker: Linker, component: Component) -> tuple[Store, int, int]:
    store = Store(linker.engine)
    inst = linker.instantiate(store, component)
    total, diff = inst.get_func(store, "sum"), inst.get_func(store, "diff")
    assert total is not None and diff is not None
    return store, total(store), diff(store)


def test_an_instantiation_started_meanwhile_wires_its_own_imports() -> None:
    """An export two core instances import is fetched once and copied; an instantiation
    started by a start function meanwhile (of the same component, in another store) works in
    arrays of its own, so neither sees the other's core instances."""
    engine = Engine()
    component = Component.new(engine, SHARED)
    inner: list[tuple[Store, int, int]] = []
    linker = Linker(engine)

    def reenter(store: Store) -> None:
        if not inner:
            inner.append((Store(engine), 0, 0))  # (the guard: one level deep)
            inner[0] = _sum_diff(linker, component)

    linker.root().func_wrap("reenter", reenter)
    outer = _sum_diff(linker, component)
    assert outer[1:] == (3, 1)
    assert len(inner) == 1 and inner[0][1:] == (3, 1)
    assert _sum_diff(linker, component)[1:] == (3, 1)  # (and again, with the arrays back)


def test_instantiations_in_threads_each_wire_their_own() -> None:
    """Threads instantiating one component at once, each in its own store, take arrays of
    their own from the plan's pool."""
    import threading

    engine = Engine()
    component = Component.new(engine, SHARED)
    linker = Linker(engine)
    linker.root().func_wrap("reenter", lambda store: None)
    results: list[tuple[int, int]] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(50):
                results.append(_sum_diff(linker, component)[1:])
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors and results == [(3, 1)] * 200


# $hl is imported by $ib and $ic (made into $ib's entry, copied for $ic); $gl is imported by
# $ib and also lifted again as an export (so it stays a value of its own).
LOWERED_TWICE = """
(component
  (import "h" (func $h (param "x" u32) (result u32)))
  (import "g" (func $g (result u32)))
  (core func $hl (canon lower (func $h)))
  (core func $gl (canon lower (func $g)))
  (core module $b
    (import "m" "h" (func $h (param i32) (result i32)))
    (import "m" "g" (func $g (result i32)))
    (func (export "run") (result i32) (i32.add (call $h (i32.const 1)) (call $g))))
  (core instance $ib (instantiate $b (with "m" (instance (export "h" (func $hl))
                                                         (export "g" (func $gl))))))
  (core module $c
    (import "n" "h" (func $h (param i32) (result i32)))
    (func (export "run") (result i32) (call $h (i32.const 2))))
  (core instance $ic (instantiate $c (with "n" (instance (export "h" (func $hl))))))
  (func (export "b") (result u32) (canon lift (core func $ib "run")))
  (func (export "c") (result u32) (canon lift (core func $ic "run")))
  (func (export "g-again") (result u32) (canon lift (core func $gl)))
)
"""


def test_lowered_functions_imported_by_several_instances_are_made_once_per_instantiation(
) -> None:
    """A lowered import that only core instances import is made straight into the imports
    array (``_direct_lowers``): a second instance importing it gets a copy of the same
    function; one the plan also uses otherwise (lifted again here) stays a value."""
    from wasm_component._runtime.instantiate import _direct_lowers

    engine = Engine()
    component = Component.new(engine, LOWERED_TWICE)
    flat = inline(component._validated)
    lowers = [s.slot for s in flat.steps if isinstance(s, FLower)]
    direct = _direct_lowers(flat)
    assert set(direct) == {lowers[0]} and direct[lowers[0]] == 0  # $hl: $ib's first entry
    calls: list[int] = []
    linker = Linker(engine)

    def h(store: Store, x: int) -> int:
        calls.append(x)
        return 10 * x

    linker.root().func_wrap("h", h)
    linker.root().func_wrap("g", lambda store: 5)
    for _ in range(3):  # fresh stores reuse the pooled arrays: each wires its own functions
        store = Store(engine)
        inst = linker.instantiate(store, component)
        b, c, g = (inst.get_func(store, n) for n in ("b", "c", "g-again"))
        assert b is not None and c is not None and g is not None
        assert (b(store), c(store), g(store)) == (15, 20, 5)
    assert calls == [1, 2] * 3


def test_a_lazy_host_function_whose_call_path_fails_to_build_tries_again() -> None:
    """``Wiring.lazy_host_func``: a function made straight into the imports array builds its
    call path at its first call; when building raises, that call traps with the error and the
    next call builds again (it is not left without one)."""
    from wasm_component._runtime import core

    engine = core.CoreEngine()
    store = core.CoreStore(engine)
    module = core.compile_module(engine, core.wat2wasm("""
        (module (import "h" "f" (func $f (param i32) (result i32)))
                (func (export "run") (param i32) (result i32) (call $f (local.get 0))))"""))
    plan = core.WiringPlan()
    assert plan.add(1, (), ()) == 0
    builds: list[int] = []

    def make(offset: int) -> Any:
        builds.append(offset)
        if len(builds) == 1:
            raise RuntimeError("not yet")
        return lambda x: x + offset

    w = core.Wiring(store, plan)
    w.lazy_host_func(0, ("i32",), ("i32",), make, (100,))
    w.instantiate(0, module, (), False)
    run = w.instance(0, module).func("run")
    w.done()
    with pytest.raises(RuntimeError, match="not yet"):
        run(1)
    assert run(2) == 102 and run(3) == 103
    assert builds == [100, 100]


@pytest.mark.parametrize("good", [1, 4])
def test_a_fetch_of_an_export_the_instance_lacks_is_a_link_error(good: int) -> None:
    """``Wiring.instantiate`` checks each export it fetches (a few by direct calls, more
    driven from C through ``map``: ``good`` fetches that succeed before the bad one picks
    the path): one the earlier instance lacks is a ``LinkError`` naming it, not an import left
    holding whatever the pooled array held before."""
    from wasm_component._runtime import core
    from wasm_component.errors import LinkError

    engine = core.CoreEngine()
    store = core.CoreStore(engine)
    a = core.compile_module(engine, core.wat2wasm(
        '(module (func (export "f") (result i32) (i32.const 7)))'))
    b = core.compile_module(engine, core.wat2wasm(
        "(module " + '(import "a" "f" (func (result i32))) ' * good
        + '(import "a" "g" (func (result i32))))'))
    plan = core.WiringPlan()
    assert plan.add(0, (), ()) == 0
    fetches = (*((i, 0, "f") for i in range(good)), (good, 0, "g"))
    assert plan.add(good + 1, fetches, ()) == 1
    w = core.Wiring(store, plan)
    assert w._ws is not None
    by_rows = w._ws.steps[1][2][0]
    assert by_rows is (good == 1), "the two cases take the two paths"
    w.instantiate(0, a, (), False)
    with pytest.raises(LinkError, match="does not export `g`"):
        w.instantiate(1, b, (), False)
    w.done()
