"""Limits and deadlines without importing wasmtime: ``EngineConfig``, ``Store.limiter``, the
per-instance handle limit, fuel, epoch deadlines and a wall-clock deadline that ends an
infinite loop as a ``Trap`` (issue 16)."""

from __future__ import annotations

import threading
import time

import pytest

from tests.exports import export_func
from wasm_component import Component, Engine, EngineConfig, Instance, Linker, Store, Trap

from .components import MISC

GROW = """
(component
  (core module $m
    (memory (export "memory") 1)
    (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))
  (core instance $i (instantiate $m))
  (func (export "grow") (param "pages" u32) (result s32) (canon lift (core func $i "grow"))))
"""


def _misc(engine: Engine) -> tuple[Store, Instance]:
    store = Store(engine)
    return store, Linker(engine).instantiate(store, Component.new(engine, MISC))


def test_engine_config_checks_its_fields() -> None:
    with pytest.raises(ValueError, match="cranelift_opt_level"):
        EngineConfig(cranelift_opt_level="fastest")
    with pytest.raises(TypeError, match="consume_fuel"):
        EngineConfig(consume_fuel=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown wasm feature 'bogus'"):
        Engine(EngineConfig(wasm_features=("bogus",)))
    with pytest.raises(TypeError, match="wasm_features"):
        EngineConfig(wasm_features="simd")  # type: ignore[arg-type]
    cfg = EngineConfig(cranelift_opt_level="none", max_wasm_stack=1 << 20,
                       wasm_features=("threads",))
    assert Engine(cfg).config == cfg and cfg.replace(consume_fuel=True).consume_fuel


def test_a_raw_wasmtime_config_is_still_accepted() -> None:
    import wasmtime

    config = wasmtime.Config()
    config.consume_fuel = True
    store, inst = _misc(Engine(config))
    store.set_fuel(10_000)
    assert export_func(inst, store, "add")(store, 1, 2) == 3
    assert store.get_fuel() < 10_000


def test_fuel_ends_an_infinite_loop() -> None:
    store, inst = _misc(Engine(EngineConfig(consume_fuel=True)))
    store.set_fuel(100_000)
    with pytest.raises(Trap, match="fuel"):
        export_func(inst, store, "spin")(store)


def test_max_wasm_stack_bounds_recursion() -> None:
    store, inst = _misc(Engine(EngineConfig(max_wasm_stack=64 * 1024)))
    with pytest.raises(Trap, match="stack"):
        export_func(inst, store, "deep")(store)


def test_wall_clock_deadline_ends_an_infinite_loop() -> None:
    engine = Engine(EngineConfig(epoch_interruption=True))
    store, inst = _misc(engine)
    spin, add = export_func(inst, store, "spin"), export_func(inst, store, "add")
    assert add(store, 1, 2) == 3, "no deadline set: epochs on do not trap by themselves"
    t0 = time.monotonic()
    with pytest.raises(Trap, match="interrupt"), store.deadline(0.2):
        spin(store)
    assert time.monotonic() - t0 >= 0.15
    # the timer thread stops once no store has a deadline
    for _ in range(100):
        if not any(th.name == "wasm-component-epoch" for th in threading.enumerate()):
            break
        time.sleep(0.02)
    assert not any(th.name == "wasm-component-epoch" for th in threading.enumerate())


def test_set_deadline_and_clear() -> None:
    engine = Engine(EngineConfig(epoch_interruption=True))
    store, inst = _misc(engine)
    store.set_deadline(30)
    assert export_func(inst, store, "add")(store, 2, 2) == 4
    store.set_deadline(None)
    with pytest.raises(ValueError, match="positive"):
        store.set_deadline(0)
    with pytest.raises(TypeError, match="seconds"):
        store.set_deadline("1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="epoch interruption"):
        Store(Engine()).set_deadline(1)


def test_epoch_deadline_by_hand() -> None:
    engine = Engine(EngineConfig(epoch_interruption=True))
    store, inst = _misc(engine)
    store.set_epoch_deadline(1)
    timer = threading.Timer(0.1, engine.increment_epoch)
    timer.start()
    with pytest.raises(Trap, match="interrupt"):
        export_func(inst, store, "spin")(store)
    timer.join()


def test_limiter_bounds_memory_and_instances() -> None:
    engine = Engine()
    c = Component.new(engine, GROW)
    store = Store(engine)
    store.limiter(memory_size=4 * 65536)
    grow = export_func(Linker(engine).instantiate(store, c), store, "grow")
    assert grow(store, 2) == 1 and grow(store, 1) == 3
    assert grow(store, 1) == -1, "growing past the limit fails"
    with pytest.raises(ValueError, match="memory_size"):
        store.limiter(memory_size=-1)
    with pytest.raises(TypeError, match="instances"):
        store.limiter(instances="2")  # type: ignore[arg-type]
    few = Store(engine)
    few.limiter(instances=1)
    Linker(engine).instantiate(few, c)
    with pytest.raises(Trap, match=r"exceeds the store's limits: .*instance count"):
        Linker(engine).instantiate(few, c)
    small = Store(engine)
    small.limiter(memory_size=1000)
    with pytest.raises(Trap, match=r"exceeds the store's limits: .*memory"):
        Linker(engine).instantiate(small, c)


HOARD = """
(component
  (type $r (resource (rep i32)))
  (core func $new (canon resource.new $r))
  (core module $m
    (import "" "new" (func $new (param i32) (result i32)))
    (func (export "hoard") (param i32)
      (loop $l
        (drop (call $new (local.get 0)))
        (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
        (br_if $l (local.get 0)))))
  (core instance $i (instantiate $m (with "" (instance (export "new" (func $new))))))
  (func (export "hoard") (param "n" u32) (canon lift (core func $i "hoard"))))
"""


def test_handle_limit_per_instance() -> None:
    engine = Engine()
    c = Component.new(engine, HOARD)
    store = Store(engine)
    store.set_handle_limit(1000)
    hoard = export_func(Linker(engine).instantiate(store, c), store, "hoard")
    hoard(store, 600)
    hoard(store, 400)
    with pytest.raises(Trap, match=r"handle table full .*limit is 1000"):
        hoard(store, 1)
    # another instance has its own table
    other = export_func(Linker(engine).instantiate(store, c), store, "hoard")
    other(store, 1000)
    with pytest.raises(ValueError, match="set_handle_limit"):
        store.set_handle_limit(-1)
    unlimited = Store(engine)
    export_func(Linker(engine).instantiate(unlimited, c), unlimited, "hoard")(unlimited, 1001)


def test_set_limits_is_wasmtime_pys_spelling() -> None:
    engine = Engine()
    c = Component.new(engine, GROW)
    store = Store(engine)
    store.set_limits(memory_size=2 * 65536)
    grow = export_func(Linker(engine).instantiate(store, c), store, "grow")
    assert grow(store, 1) == 1 and grow(store, 1) == -1
    with pytest.raises(TypeError, match=r"Store\.set_limits"):
        store.set_limits(memory_size=1.5)  # type: ignore[arg-type]
