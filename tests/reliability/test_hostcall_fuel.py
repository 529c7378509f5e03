"""The store's hostcall fuel (wasmtime's ``Store::set_hostcall_fuel``): one lift may turn at most
that many bytes of lists and strings into host values, so a guest cannot make the host (or a
copy between two guests) build gigabytes out of lists that all point at the same memory."""

from __future__ import annotations

import pytest

from tests.exports import export_func
from wasm_component import Component, Engine, Linker, Store, Trap
from wasm_component import types as t
from wasm_component._abi.concurrency.copy import ReadableGuestBuffer, elem_codec
from wasm_component._abi.context import (
    CanonicalOptions,
    ComponentInstanceState,
    LiftLowerContext,
    RepForms,
)
from wasm_component._abi.layout import DEFAULT_HOSTCALL_FUEL
from wasm_component._abi.lift import build_lift_flat

EXHAUSTED = "fuel allocated for hostcalls has been exhausted"

# `lists(n, m)`: n lists, every one the m bytes of memory at 4096 (a list<list<u8>> of n * m bytes
# in 8 * n of guest memory); `big(n)`: the first n bytes of memory as one list<u8>.
CORE_A = """
  (core module $m
    (memory (export "memory") 2)
    (func (export "lists") (param $n i32) (param $m i32) (result i32)
      (local $i i32)
      (block $done (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store (i32.add (i32.const 1024) (i32.shl (local.get $i) (i32.const 3)))
                   (i32.const 4096))
        (i32.store offset=4 (i32.add (i32.const 1024) (i32.shl (local.get $i) (i32.const 3)))
                   (local.get $m))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
      (i32.store (i32.const 16) (i32.const 1024))
      (i32.store (i32.const 20) (local.get $n))
      (i32.const 16))
    (func (export "big") (param $n i32) (result i32)
      (if (i32.gt_u (local.get $n) (i32.mul (memory.size) (i32.const 65536)))
        (then (drop (memory.grow (i32.sub (i32.shr_u (local.get $n) (i32.const 16))
                                          (i32.const 1))))))
      (i32.store (i32.const 16) (i32.const 0))
      (i32.store (i32.const 20) (local.get $n))
      (i32.const 16)))
  (core instance $i (instantiate $m))
  (func (export "lists") (param "n" u32) (param "m" u32) (result (list (list u8)))
    (canon lift (core func $i "lists") (memory (core memory $i "memory"))))
  (func (export "big") (param "n" u32) (result (list u8))
    (canon lift (core func $i "big") (memory (core memory $i "memory"))))
"""

ALIASING = f"(component {CORE_A})"

# B calls A's `lists` through a `canon lower` into its own memory and returns the outer length:
# the value crosses from one component to the other through the host's adapter.
TWO = f"""
(component
  (component $A {CORE_A})
  (component $B
    (import "lists" (func $lists (param "n" u32) (param "m" u32) (result (list (list u8)))))
    (core module $libc
      (memory (export "memory") 1)
      (global $bump (mut i32) (i32.const 4096))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $r i32)
        (local.set $r (i32.and (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
                               (i32.sub (i32.const 0) (local.get 2))))
        (global.set $bump (i32.add (local.get $r) (local.get 3)))
        (if (i32.gt_u (global.get $bump) (i32.mul (memory.size) (i32.const 65536)))
          (then (drop (memory.grow (i32.add (i32.shr_u (local.get 3) (i32.const 16))
                                            (i32.const 1))))))
        (local.get $r)))
    (core instance $libc (instantiate $libc))
    (core func $lists (canon lower (func $lists) (memory (core memory $libc "memory"))
                                   (realloc (core func $libc "realloc"))))
    (core module $code
      (import "libc" "memory" (memory 1))
      (import "" "lists" (func $lists (param i32 i32 i32)))
      (func (export "count") (param i32 i32) (result i32)
        (call $lists (local.get 0) (local.get 1) (i32.const 8))
        (i32.load (i32.const 12))))
    (core instance $code (instantiate $code
      (with "libc" (instance $libc))
      (with "" (instance (export "lists" (func $lists))))))
    (func (export "count") (param "n" u32) (param "m" u32) (result u32)
      (canon lift (core func $code "count"))))
  (instance $a (instantiate $A))
  (instance $b (instantiate $B (with "lists" (func $a "lists"))))
  (export "count" (func $b "count")))
"""


def _instance(wat: str) -> tuple[Store, object]:
    engine = Engine()
    store = Store(engine)
    return store, Linker(engine).instantiate(store, Component.new(engine, wat))


def test_aliased_lists_to_the_host_trap_instead_of_allocating() -> None:
    store, inst = _instance(ALIASING)
    lists = export_func(inst, store, "lists")  # type: ignore[arg-type]
    # 16,000 lists of the same 120 kB of memory: 1.9 GB of host bytes from 128 KiB of guest memory
    with pytest.raises(Trap, match=EXHAUSTED):
        lists(store, 16_000, 120_000)
    store, inst = _instance(ALIASING)
    lists = export_func(inst, store, "lists")  # type: ignore[arg-type]
    got = lists(store, 3, 5)
    assert got == [bytes(5)] * 3


def test_the_fuel_is_configurable_and_charged_by_byte_length() -> None:
    store, inst = _instance(ALIASING)
    assert store.hostcall_fuel() == DEFAULT_HOSTCALL_FUEL == 128 << 20
    lists = export_func(inst, store, "lists")  # type: ignore[arg-type]
    # 10 lists of 100 bytes: the outer list's 80 bytes plus 1000
    store.set_hostcall_fuel(1080)
    assert store.hostcall_fuel() == 1080
    assert lists(store, 10, 100) == [bytes(100)] * 10
    # every lift starts with the whole amount again
    assert lists(store, 10, 100) == [bytes(100)] * 10
    store.set_hostcall_fuel(1079)
    with pytest.raises(Trap, match=EXHAUSTED) as e:
        lists(store, 10, 100)
    assert "Store.set_hostcall_fuel" in str(e.value) and "1079" in str(e.value)


def test_set_hostcall_fuel_checks_its_argument() -> None:
    store = Store(Engine())
    with pytest.raises(ValueError, match="set_hostcall_fuel"):
        store.set_hostcall_fuel(-1)
    with pytest.raises(TypeError, match="set_hostcall_fuel"):
        store.set_hostcall_fuel(1.5)  # type: ignore[arg-type]
    store.set_hostcall_fuel(0)  # set before anything was instantiated: applies once it is
    store2, inst = _instance(ALIASING)
    store2.set_hostcall_fuel(0)
    lists = export_func(inst, store2, "lists")  # type: ignore[arg-type]
    assert lists(store2, 0, 0) == []  # nothing to charge
    with pytest.raises(Trap, match=EXHAUSTED):
        lists(store2, 1, 0)


def test_the_fuel_set_before_instantiation_is_used() -> None:
    engine = Engine()
    store = Store(engine)
    store.set_hostcall_fuel(100)
    inst = Linker(engine).instantiate(store, Component.new(engine, ALIASING))
    lists = export_func(inst, store, "lists")
    assert lists(store, 2, 40) == [bytes(40)] * 2  # 16 + 80
    with pytest.raises(Trap, match=EXHAUSTED):
        lists(store, 2, 43)  # 16 + 86


def test_a_value_passed_between_two_components_is_charged() -> None:
    store, inst = _instance(TWO)
    count = export_func(inst, store, "count")  # type: ignore[arg-type]
    assert count(store, 10, 100) == 10
    with pytest.raises(Trap, match=EXHAUSTED):
        count(store, 16_000, 120_000)
    store, inst = _instance(TWO)
    count = export_func(inst, store, "count")  # type: ignore[arg-type]
    store.set_hostcall_fuel(1079)
    with pytest.raises(Trap, match=EXHAUSTED):
        count(store, 10, 100)


def test_a_large_ordinary_value_passes_under_the_default() -> None:
    store, inst = _instance(ALIASING)
    big = export_func(inst, store, "big")  # type: ignore[arg-type]
    got = big(store, 64 << 20)
    assert isinstance(got, bytes) and len(got) == 64 << 20


class _Memory:
    def __init__(self, data: bytearray) -> None:
        self.data = data

    def view(self) -> memoryview:
        return memoryview(self.data)


def _cx(data: bytearray, fuel: int) -> LiftLowerContext:
    forms = RepForms()
    forms.hostcall_fuel = fuel
    return LiftLowerContext(CanonicalOptions(memory=_Memory(data)),
                            ComponentInstanceState(None, forms))


def test_a_stream_copy_is_one_lift() -> None:
    # four stream<list<u8>> elements at 0, each the 100 bytes at 64: 32 + 400 bytes
    data = bytearray(256)
    for k in range(4):
        data[8 * k : 8 * k + 8] = (64).to_bytes(4, "little") + (100).to_bytes(4, "little")
    vt = t.ListType(t.U8)
    for fuel, ok in ((432, True), (431, False), (200, False)):  # 200: each element alone fits
        cx = _cx(data, fuel)
        buf = ReadableGuestBuffer(vt, cx.opts.memory, elem_codec(vt, cx), 0, 4)
        if ok:
            assert buf.read(4) == [bytes(100)] * 4
        else:
            with pytest.raises(Trap, match=EXHAUSTED):
                buf.read(4)


def test_a_huge_length_claim_traps_before_any_allocation() -> None:
    data = bytearray(1024)
    for vt, n in ((t.ListType(t.U32), 1 << 26), (t.ListType(t.ListType(t.U8)), 1 << 20),
                  (t.STRING, 1 << 27)):
        lift = build_lift_flat(vt)
        with pytest.raises(Trap, match=r"exceeds the maximum|out of bounds"):
            lift(_cx(data, 1 << 62), [0, n])
        # within the maximum yet past memory: the bounds check, before the fuel
        with pytest.raises(Trap, match="out of bounds"):
            lift(_cx(data, 1 << 62), [0, 2000])


def test_deeply_nested_lists_charge_through_their_element_loaders() -> None:
    # memory: two (ptr 0, len 2) pairs, so every list of lists is these 16 bytes again; the
    # innermost list<u8> is 2 bytes. Nine levels pass MAX_LOOP_NESTING: the deeper levels run
    # in loaders of their own, which take the fuel left and hand back the rest.
    pair = (0).to_bytes(4, "little") + (2).to_bytes(4, "little")
    data = bytearray(pair * 2 + bytes(16))
    depth = 8
    vt: t.Type = t.ListType(t.U8)
    for _ in range(depth):
        vt = t.ListType(vt)
    need = sum(16 << k for k in range(depth)) + (2 << depth)  # 4592
    lift = build_lift_flat(vt)
    got = lift(_cx(data, need), [0, 2])
    for _ in range(depth):
        assert len(got) == 2
        got = got[0]
    assert got == pair[:2]
    with pytest.raises(Trap, match=EXHAUSTED):
        lift(_cx(data, need - 1), [0, 2])
