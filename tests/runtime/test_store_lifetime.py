"""A dropped ``Store`` is freed by reference counting, with its wasmtime store: nothing it owns
refers back to it (host functions and resource lifts hold it weakly; the linker's cache of
the last store's import items too), and what refers to itself is let go when it goes."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.exports import export_func
from wasm_component import Component, Engine, Linker, Store

NESTED = Path(__file__).parents[2] / "benchmarks" / "components" / "nested.wat"

RESOURCES = """
(component
  (import "log" (func $log (param "x" u32)))
  (core func $log-l (canon lower (func $log)))
  (core module $d
    (import "x" "log" (func $log (param i32)))
    (func (export "dtor") (param i32) (call $log (local.get 0))))
  (core instance $di (instantiate $d (with "x" (instance (export "log" (func $log-l))))))
  (alias core export $di "dtor" (core func $dtor))
  (type $r (resource (rep i32) (dtor (core func $dtor))))
  (core func $new (canon resource.new $r))
  (core func $drop (canon resource.drop $r))
  (core module $m
    (import "x" "new" (func $new (param i32) (result i32)))
    (import "x" "drop" (func $drop (param i32)))
    (import "x" "log" (func $log (param i32)))
    (func (export "make") (result i32) (call $log (i32.const 1)) (call $new (i32.const 7)))
    (func (export "cycle") (call $drop (call $new (i32.const 9)))))
  (core instance $i (instantiate $m (with "x" (instance
    (export "new" (func $new)) (export "drop" (func $drop)) (export "log" (func $log-l))))))
  (export $e "r" (type $r))
  (func (export "make") (result (own $e)) (canon lift (core func $i "make")))
  (func (export "cycle") (canon lift (core func $i "cycle"))))
"""


@pytest.fixture
def no_gc() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def test_a_dropped_store_is_freed_by_reference_counting(no_gc: None) -> None:
    engine = Engine()
    seen: list[int] = []
    linker = Linker(engine)
    linker.root().func_wrap("log", lambda store, x: seen.append(x))
    pre = linker.instantiate_pre(Component.new(engine, RESOURCES))
    nested = linker.instantiate_pre(Component.new(engine, NESTED.read_text()))
    for k in range(3):
        store = Store(engine)
        inst = pre.instantiate(store)
        handle = export_func(inst, store, "make")(store)
        export_func(inst, store, "cycle")(store)
        handle.drop(store)
        other = nested.instantiate(store)
        assert export_func(other, store, "add3")(store, 1, 2, 3) == 6
        freed, core_freed = weakref.ref(store), weakref.ref(store._core)
        del store, inst, handle, other
        assert freed() is None, "the store is in a reference cycle"
        assert core_freed() is None, "the wasmtime store outlived its store"
        # nor does it leave cycles behind (the first round also fills the caches of call
        # paths and types), but for the class of a resource type's owned handles, made per
        # store (a class is a cycle, and lets go of its drop call with the store): before, a
        # root instance's state was its own root, a cast put the store's host callback in a
        # cycle with itself, and each size of memory view made a ctypes array type, left to
        # the cyclic GC with all they held
        left = _cyclic_garbage()
        assert k == 0 or left == [], f"the store left reference cycles: {left}"
        gc.collect()
    assert seen == [1, 9, 7] * 3


def _cyclic_garbage() -> list[str]:
    """The types of what the cyclic GC finds unreachable now, but for the classes of owned
    handles (``ResourceAny`` subclasses) and the parts of a class (its dict, bases and
    ``__mro__`` tuples, descriptors and weak references)."""
    from wasm_component.resources import ResourceAny

    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        garbage = list(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    classes = [o for o in garbage if isinstance(o, type)]
    parts = {id(x) for c in classes for x in gc.get_referents(c)}
    parts |= {id(x) for c in classes for x in gc.get_referents(*gc.get_referents(c))
              if not isinstance(x, type)}
    parts |= {id(r) for r in garbage if isinstance(r, weakref.ref)}
    return sorted(type(o).__name__ for o in garbage
                  if not (isinstance(o, type) and issubclass(o, ResourceAny))
                  and id(o) not in parts)


@pytest.mark.parametrize("component", ["CALLBACK", "STACKFUL"])
@pytest.mark.parametrize("call", ["none", "sync", "async"])
def test_a_store_with_async_lowers_is_freed_by_reference_counting(no_gc: None, call: str,
                                                                  component: str) -> None:
    # before: an async lower not yet called kept its store strongly (a cycle)
    import asyncio

    from tests.runtime.test_async_runtime import CALLBACK
    from tests.stackful import stackful_component
    from wasm_component._validate.features import Features

    engine = Engine(features=Features.all())
    linker: Linker[None] = Linker(engine)

    async def slow(store: Store, x: int) -> int:
        await asyncio.sleep(0)
        return x * 2

    linker.root().func_wrap_async("slow", slow)
    text = CALLBACK if component == "CALLBACK" else stackful_component()
    pre = linker.instantiate_pre(Component.new(engine, text))
    store: Store[None] = Store(engine)
    inst = pre.instantiate(store)
    run = export_func(inst, store, "run")
    if call == "sync":
        assert run(store, 3) == 7
    elif call == "async":
        assert asyncio.run(run.call_async(store, 3)) == 7
    freed, core_freed = weakref.ref(store), weakref.ref(store._core)
    del store, inst, run
    assert freed() is None, "the store is in a reference cycle"
    # before: the wasmtime store, with its linear memories, lived on in cycles of what the
    # store's instances left (until the cyclic GC: the RSS of `wasm-component serve` rose and
    # fell with it): the scheduler and the instances' states referring to each other, a
    # lowering context's bound `alloc`, the host call path of an async lift, a task and its
    # exited implicit thread, the continuation callback of a host call that suspended (a
    # stackful task's wait)
    assert core_freed() is None, "the wasmtime store outlived its store"


def test_a_handle_that_outlives_its_store_drops_nothing(no_gc: None) -> None:
    # the owned handle's class lets go of its own drop call with the store: the handle then
    # drops as ``ResourceAny`` does, refused (a new store is not its store) or let go
    engine = Engine()
    seen: list[int] = []
    linker = Linker(engine)
    linker.root().func_wrap("log", lambda store, x: seen.append(x))
    store = Store(engine)
    inst = linker.instantiate(store, Component.new(engine, RESOURCES))
    handle = export_func(inst, store, "make")(store)
    kept = export_func(inst, store, "make")(store)
    handle.drop(store)
    assert seen == [1, 1, 7]
    freed = weakref.ref(store)
    del store, inst
    assert freed() is None, "the store is in a reference cycle"
    with pytest.raises(ValueError, match="belongs to a different store"):
        kept.drop(Store(engine))
    with kept:  # (its store is gone: let go, nothing to run)
        pass
    assert seen == [1, 1, 7], "no destructor ran"
