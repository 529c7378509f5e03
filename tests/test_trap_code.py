"""``Trap.code``: the :class:`TrapCode` of a core trap, read from wasmtime's trap, checked against
``wasmtime.component`` running the same component; ``None`` for Canonical ABI traps;
``CANNOT_ENTER_COMPONENT`` for a poisoned instance; ``WasiExit.exit_code``."""

from __future__ import annotations

import pytest
import wasmtime
import wasmtime.component as wc

from wasm_component import Component, Engine, EngineConfig, Linker, Store, Trap, TrapCode

# core function bodies, each trapping in its own way
BODIES = {
    "unreachable": "unreachable",
    "div-zero": "(drop (i32.div_s (i32.const 1) (i32.const 0)))",
    "int-overflow": "(drop (i32.div_s (i32.const 0x80000000) (i32.const -1)))",
    "bad-conversion": "(drop (i32.trunc_f32_s (f32.const nan)))",
    "memory-oob": "(drop (i32.load (i32.const 0x20000)))",
    "indirect-null": "(call_indirect (i32.const 0))",
    "bad-signature": "(call_indirect (param i32) (i32.const 1) (i32.const 1))",
    "table-oob": "(call_indirect (i32.const 9))",
    "stack-overflow": "(call $rec)",
    "out-of-fuel": "(loop $l (br $l))",
}


FUNCS = "\n".join(f'(func (export "{n}") {b})' for n, b in BODIES.items())
MODULE = f"""(module
  (memory 1) (table 2 funcref) (elem (i32.const 1) $nop)
  (func $nop)
  (func $rec (call $rec))
  {FUNCS})"""
LIFTS = "\n".join(f'(func (export "{n}") (canon lift (core func $i "{n}")))' for n in BODIES)
WAT = f"""(component
  (core {MODULE[1:-1]})
  (core instance $i (instantiate 0))
  {LIFTS})"""


def _ours(name: str) -> Trap:
    engine = Engine(EngineConfig(consume_fuel=True))
    store = Store(engine)
    store.set_fuel(10**6)
    inst = Linker(engine).instantiate(store, Component.new(engine, WAT))
    f = inst.get_func(store, name)
    assert f is not None
    with pytest.raises(Trap) as e:
        f(store)
    return e.value


def _theirs(name: str) -> wasmtime.Trap:
    """The same core function run by wasmtime's core API, whose ``Trap`` has ``trap_code``
    (``wasmtime.component`` 50 reports traps as a ``WasmtimeError`` without one)."""
    cfg = wasmtime.Config()
    cfg.consume_fuel = True
    engine = wasmtime.Engine(cfg)
    store = wasmtime.Store(engine)
    store.set_fuel(10**6)
    inst = wasmtime.Instance(store, wasmtime.Module(engine, MODULE), [])
    f = inst.exports(store)[name]
    assert isinstance(f, wasmtime.Func)
    with pytest.raises(wasmtime.Trap) as e:
        f(store)
    return e.value


def test_wasmtime_component_agrees_it_traps() -> None:
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    inst = wc.Linker(engine).instantiate(store, wc.Component(engine, WAT))
    f = inst.get_func(store, "div-zero")
    assert f is not None
    with pytest.raises(wasmtime.WasmtimeError, match="integer divide by zero"):
        f(store)


@pytest.mark.parametrize("name", sorted(BODIES))
def test_core_trap_code_matches_wasmtime(name: str) -> None:
    ours, theirs = _ours(name), _theirs(name)
    assert theirs.trap_code is not None
    assert isinstance(ours.code, TrapCode)
    assert ours.code.name == theirs.trap_code.name


def test_expected_codes() -> None:
    assert _ours("unreachable").code is TrapCode.UNREACHABLE
    assert _ours("div-zero").code is TrapCode.INTEGER_DIVISION_BY_ZERO
    assert _ours("out-of-fuel").code is TrapCode.OUT_OF_FUEL
    assert _ours("stack-overflow").code is TrapCode.STACK_OVERFLOW


def test_canonical_abi_trap_has_no_code() -> None:
    engine = Engine()
    store = Store(engine)
    c = Component.new(engine, """(component
      (core module $m (memory (export "mem") 1)
        (func (export "f") (result i32) (i32.store (i32.const 0) (i32.const 0x10000))
          (i32.store (i32.const 4) (i32.const 5)) (i32.const 0)))
      (core instance $i (instantiate $m))
      (func (export "f") (result string)
        (canon lift (core func $i "f") (memory (core memory $i "mem")))))""")
    f = Linker(engine).instantiate(store, c).get_func(store, "f")
    assert f is not None
    with pytest.raises(Trap) as e:
        f(store)
    assert e.value.code is None


def test_poisoned_instance_cannot_be_entered() -> None:
    engine = Engine()
    store = Store(engine)
    inst = Linker(engine).instantiate(store, Component.new(engine, WAT))
    f = inst.get_func(store, "unreachable")
    assert f is not None
    with pytest.raises(Trap):
        f(store)
    with pytest.raises(Trap) as e:
        f(store)
    assert e.value.code is TrapCode.CANNOT_ENTER_COMPONENT


def test_trap_code_defaults_to_none() -> None:
    assert Trap("x").code is None
    assert Trap("x", code=TrapCode.INTERRUPT).code is TrapCode.INTERRUPT


def test_epoch_interrupt_code() -> None:
    engine = Engine(EngineConfig(epoch_interruption=True))
    store = Store(engine)
    inst = Linker(engine).instantiate(store, Component.new(engine, WAT))
    f = inst.get_func(store, "out-of-fuel")  # an endless loop
    assert f is not None
    store.set_epoch_deadline(1)
    engine.increment_epoch()
    with pytest.raises(Trap) as e:
        f(store)
    assert e.value.code is TrapCode.INTERRUPT
