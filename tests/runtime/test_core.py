"""Tests for the core-wasm layer (``wasm_component._runtime.core``)."""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence

import pytest

from wasm_component._runtime.core import (
    CoreEngine,
    CoreExtern,
    CoreFunc,
    CoreFuncType,
    CoreGlobal,
    CoreInstance,
    CoreMemory,
    CoreMemoryType,
    CoreStore,
    CoreTable,
    compile_module,
    deserialize_module,
    instantiate,
    make_config,
    new_host_func,
    new_raw_host_func,
    wat2wasm,
)
from wasm_component.errors import ComponentError, LinkError, Trap, TrapCode


@pytest.fixture(scope="module")
def engine() -> CoreEngine:
    return CoreEngine(make_config(["multi_memory"], consume_fuel=True))


@pytest.fixture
def store(engine: CoreEngine) -> CoreStore:
    s = CoreStore(engine)
    s.set_fuel(10_000_000)
    return s


def inst(store: CoreStore, wat: str, imports: Sequence[CoreExtern] | None = None) -> CoreInstance:
    module = compile_module(store.engine, wat2wasm(wat))
    return instantiate(store, module, imports or [])


VALS = """
(module
  (func (export "i32") (param i32) (result i32) local.get 0)
  (func (export "i64") (param i64) (result i64) local.get 0)
  (func (export "f32") (param f32) (result f32) local.get 0)
  (func (export "f64") (param f64) (result f64) local.get 0)
  (func (export "v128") (param v128) (result v128) local.get 0)
  (func (export "neg") (param i32) (result i32) (i32.sub (i32.const 0) (local.get 0)))
  (func (export "fref") (param funcref) (result funcref) local.get 0)
  (func (export "multi") (param i32 i64 f32 f64) (result f64 f32 i64 i32)
    local.get 3 local.get 2 local.get 1 local.get 0)
  (func (export "none"))
)
"""


def test_all_valtypes(store: CoreStore) -> None:
    i = inst(store, VALS)
    assert i.func("i32")(5) == 5
    assert i.func("i32")(-1) == 0xFFFFFFFF  # unsigned by default
    assert i.func("i32").make_caller(signed=True)((-1,)) == (-1,)
    assert i.func("i32")(0xFFFFFFFF) == 0xFFFFFFFF
    assert i.func("neg")(1) == 0xFFFFFFFF
    assert i.func("i64")(-2) == 2**64 - 2
    assert i.func("i64").make_caller(signed=True)((2**64 - 2,)) == (-2,)
    assert i.func("f32")(1.5) == 1.5
    assert i.func("f32")(0.1) == struct.unpack("<f", struct.pack("<f", 0.1))[0]
    assert math.isnan(i.func("f64")(math.nan))
    assert i.func("f64")(3) == 3.0
    big = (1 << 127) | 0x0123456789ABCDEF
    assert i.func("v128")(big) == big
    assert i.func("none")() is None
    assert i.func("fref")(None) is None
    got = i.func("fref")(i.func("i32"))
    assert isinstance(got, CoreFunc)
    assert got(7) == 7
    with pytest.raises(OverflowError):
        i.func("i32")(1 << 32)
    with pytest.raises(TypeError):
        i.func("i32")(1, 2)


def test_multi_value(store: CoreStore) -> None:
    i = inst(store, VALS)
    assert i.func("multi")(-1, 2, 1.5, 2.5) == (2.5, 1.5, 2, 0xFFFFFFFF)
    assert i.func("multi").ty == CoreFuncType(
        ("i32", "i64", "f32", "f64"), ("f64", "f32", "i64", "i32")
    )


def test_raw_call_site(store: CoreStore) -> None:
    i = inst(store, VALS)
    site = i.func("multi").raw_call()
    assert site.nslots == 4 and len(site.view) == 64
    struct.pack_into("<i12xq8xf12xd8x", site.view, 0, -3, 4, 0.5, 0.25)
    site.call()
    assert struct.unpack_from("<d8xf12xq8xi12x", site.view, 0) == (0.25, 0.5, 4, -3)


def test_module_types(engine: CoreEngine) -> None:
    m = compile_module(
        engine,
        wat2wasm(
            """(module
              (import "a" "f" (func (param i32) (result i64)))
              (import "a" "m" (memory 1 2))
              (import "a" "t" (table 3 funcref))
              (import "a" "g" (global (mut f64)))
              (export "f" (func 0)) (export "m" (memory 0)))"""
        ),
    )
    kinds = [(i.module, i.name, i.kind) for i in m.imports]
    assert kinds == [
        ("a", "f", "func"),
        ("a", "m", "memory"),
        ("a", "t", "table"),
        ("a", "g", "global"),
    ]
    assert m.imports[0].type == (("i32",), ("i64",))
    mem = m.imports[1].type
    assert isinstance(mem, CoreMemoryType) and mem.minimum == 1 and mem.maximum == 2
    assert m.imports[2].type == ("funcref", 3, None)
    assert m.imports[3].type == ("f64", True)
    assert [e.name for e in m.exports] == ["f", "m"]
    again = deserialize_module(engine, m.serialize())
    assert again.exports == m.exports


def test_v128_signature_not_introspected(engine: CoreEngine, store: CoreStore) -> None:
    # wasmtime's wasm.h type API aborts the process on v128; we refuse instead of crashing.
    m = compile_module(engine, wat2wasm(VALS))
    assert not m.introspectable
    with pytest.raises(ComponentError):
        _ = m.exports
    i = instantiate(store, m, [])
    assert i.func("i32").make_caller(CoreFuncType(("i32",), ("i32",)))((9,)) == (9,)


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("unreachable", "unreachable"),
        ("(drop (i32.div_s (i32.const 1) (i32.const 0)))", "divide by zero"),
        ("(drop (i32.load (i32.const 70000)))", "out of bounds"),
    ],
)
def test_traps(store: CoreStore, body: str, needle: str) -> None:
    i = inst(store, f'(module (memory 1) (func $inner {body}) (func (export "f") call $inner))')
    with pytest.raises(Trap) as exc:
        i.func("f")()
    assert needle in exc.value.message
    assert "backtrace" not in exc.value.message
    assert len(exc.value.frames) == 2
    assert "inner" in exc.value.frames[0]


def test_start_trap_and_link_errors(store: CoreStore) -> None:
    with pytest.raises(Trap, match="unreachable"):
        inst(store, "(module (func unreachable) (start 0))")
    with pytest.raises(LinkError, match="expects 1 imports"):
        inst(store, '(module (import "a" "b" (func)))')
    other = inst(store, '(module (memory (export "m") 1) (func (export "f") (param i32)))')
    with pytest.raises(LinkError, match="must be a func"):
        inst(store, '(module (import "a" "b" (func)))', [other["m"]])
    with pytest.raises(LinkError, match="incompatible"):
        inst(store, '(module (import "a" "b" (func)))', [other["f"]])
    with pytest.raises(ComponentError):
        compile_module(store.engine, b"\x00asm\x01\x00\x00\x00\x99")


HOST = """
(module
  (import "h" "f" (func $h (param i32 i64 f32 f64) (result i32 f64)))
  (func (export "run") (param i32) (result i32 f64)
    (call $h (local.get 0) (i64.const -5) (f32.const 0.5) (f64.const 1.25))))
"""


def test_host_func_python_values(store: CoreStore) -> None:
    seen = []

    def host(a: int, b: int, c: float, d: float) -> tuple[int, float]:
        seen.append((a, b, c, d))
        return -a, c + d

    f = new_host_func(store, ["i32", "i64", "f32", "f64"], ["i32", "f64"], host)
    i = inst(store, HOST, [f])
    assert i.func("run")(3) == (2**32 - 3, 1.75)
    assert seen == [(3, 2**64 - 5, 0.5, 1.25)]
    # host funcs are callable from Python too
    assert f(1, 2, 0.0, 0.0) == (2**32 - 1, 0.0)


def test_host_func_signed_and_raw(store: CoreStore) -> None:
    f = new_host_func(
        store,
        ["i32", "i64", "f32", "f64"],
        ["i32", "f64"],
        lambda a, b, c, d: (a, float(b)),
        signed=True,
    )
    assert inst(store, HOST, [f]).func("run").make_caller(signed=True)((-7,)) == (-7, -5.0)

    def raw(view: memoryview) -> None:
        a, b = struct.unpack_from("<i12xq", view)
        struct.pack_into("<i12xd", view, 0, a * 2, float(b))

    g = new_raw_host_func(store, ["i32", "i64", "f32", "f64"], ["i32", "f64"], raw)
    assert inst(store, HOST, [g]).func("run")(21) == (42, -5.0)


class Boom(Exception):
    pass


def test_host_exception_propagates(store: CoreStore) -> None:
    def host(*args: object) -> None:
        raise Boom("from host")

    f = new_host_func(store, ["i32", "i64", "f32", "f64"], ["i32", "f64"], host)
    i = inst(store, HOST, [f])
    with pytest.raises(Boom, match="from host"):
        i.func("run")(1)
    # the store is still usable and the stash is clear afterwards
    i2 = inst(store, '(module (func (export "u") unreachable))')
    with pytest.raises(Trap):
        i2.func("u")()
    # a bad result shape is also reported as the original Python error
    g = new_host_func(store, ["i32", "i64", "f32", "f64"], ["i32", "f64"], lambda *a: (1,))
    with pytest.raises(TypeError, match="expected 2 values"):
        inst(store, HOST, [g]).func("run")(1)
    # in a start function
    h = new_host_func(store, [], [], host)
    with pytest.raises(Boom):
        inst(store, '(module (import "h" "f" (func)) (start 0))', [h])


def test_reentrant_host_calls(store: CoreStore) -> None:
    holder: list[CoreFunc] = []

    def host(n: int) -> int:
        return 0 if n == 0 else holder[0](n - 1) + 1

    f = new_host_func(store, ["i32"], ["i32"], host)
    i = inst(
        store,
        '(module (import "h" "f" (func $h (param i32) (result i32))) (func (export "r") (param i32) (result i32) (call $h (local.get 0))))',
        [f],
    )
    holder.append(i.func("r"))
    assert i.func("r")(20) == 20


def test_memory_view_and_growth(store: CoreStore) -> None:
    i = inst(
        store,
        """(module (memory (export "mem") 1 4)
           (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
           (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1))))""",
    )
    mem = i.memory("mem")
    assert len(mem.view()) == 0  # (not looked at yet: short, as the rule allows)
    v1 = mem.current()
    assert len(v1) == mem.data_len() == 65536 and mem.size() == 1 and mem.page_size() == 65536
    assert mem.view() is v1 and mem.current() is v1  # cached while unchanged
    i.func("store")(8, 0x01020304)
    assert bytes(v1[8:12]) == b"\x04\x03\x02\x01"
    assert i.func("grow")(1) == 1
    assert (mem.view() is v1) is store.engine.in_place  # (in place: the last view, short)
    v2 = mem.current()
    assert len(v2) == 2 * 65536 and v2 is not v1 and mem.view() is v2
    i.func("store")(65536 + 4, 7)
    assert mem.read(65536 + 4, 4) == b"\x07\x00\x00\x00"
    mem.write(65536 + 100, b"hello")
    assert bytes(mem.view()[65536 + 100:65536 + 105]) == b"hello"
    assert mem.grow(1) == 2
    assert len(mem.current()) == 3 * 65536
    with pytest.raises(ComponentError):
        mem.grow(5)
    with pytest.raises(Trap):
        mem.read(3 * 65536 - 2, 4)
    assert mem.data_ptr() != 0


@pytest.mark.parametrize("memory64", [False, True], ids=["memory32", "memory64"])
@pytest.mark.parametrize("ours", [True, False], ids=["our-config", "raw-config"])
def test_views_are_short_never_stale(ours: bool, memory64: bool) -> None:
    """The memory-view rule: under our engine config a 32-bit memory grows in place, so
    ``view`` hands out the longest view made so far, whatever wasm ran since (no counter to
    bump): still the memory, maybe shorter than it; ``current`` looks again. A memory that may
    move (64-bit, or under a raw wasmtime config) gets a fresh view every time."""
    import wasmtime

    raw = wasmtime.Config()
    raw.wasm_memory64 = True
    engine = CoreEngine(make_config(["memory64"]), ours=True) if ours else CoreEngine(raw)
    assert engine.in_place is ours
    s = CoreStore(engine)
    idx = "i64" if memory64 else "i32"
    i = inst(s, f"""(module (memory (export "mem") {idx} 1 4)
        (func (export "grow") (param {idx}) (result {idx}) (memory.grow (local.get 0)))
        (func (export "store") (param {idx} i32) (i32.store (local.get 0) (local.get 1))))""")
    mem = i.memory("mem")
    grow, store = i.func("grow"), i.func("store")
    v1 = mem.current()
    assert len(v1) == 65536
    in_place = ours and not memory64
    assert grow(1) == 1  # (wasm grew it: nobody told the memory)
    v = mem.view()
    assert (v is v1) is in_place
    assert len(v) == (65536 if in_place else 2 * 65536)  # (in place: short until looked at)
    v = mem.current()
    assert len(v) == 2 * 65536 and len(mem.view()) == 2 * 65536  # (never shorter again)
    store(65536 + 4, 9)
    assert bytes(v[65536 + 4:65536 + 8]) == b"\x09\x00\x00\x00"
    if in_place:
        store(16, 5)  # the view from before growth still is the memory
        assert bytes(v1[16:20]) == b"\x05\x00\x00\x00" and mem.data_ptr() == v1_ptr(v1)
    assert len(mem.current()) == 2 * 65536 < 4 * 65536


def v1_ptr(view: memoryview) -> int:
    import ctypes

    return ctypes.addressof(ctypes.c_char.from_buffer(view))


def test_linking_all_extern_kinds(store: CoreStore) -> None:
    a = inst(
        store,
        """(module
             (memory (export "mem") 1)
             (table (export "tab") 2 funcref)
             (global (export "g") (mut i32) (i32.const 40))
             (func $f (export "f") (param i32) (result i32) (i32.add (local.get 0) (global.get 0)))
             (elem (i32.const 0) $f))""",
    )
    host = new_host_func(store, ["i32"], ["i32"], lambda x: x * 10)
    b = inst(
        store,
        """(module
             (import "a" "mem" (memory 1))
             (import "a" "tab" (table 2 funcref))
             (import "a" "g" (global (mut i32)))
             (import "a" "f" (func $f (param i32) (result i32)))
             (import "h" "h" (func $h (param i32) (result i32)))
             (type $t (func (param i32) (result i32)))
             (func (export "run") (param i32) (result i32)
               (i32.store (i32.const 0) (call $f (local.get 0)))
               (global.set 0 (i32.const 1))
               (i32.add (call_indirect (type $t) (local.get 0) (i32.const 0)) (call $h (local.get 0)))))""",
        [a["mem"], a["tab"], a["g"], a["f"], host],
    )
    assert b.func("run")(2) == 2 + 1 + 20
    assert a.memory("mem").read(0, 4) == (42).to_bytes(4, "little")
    g = a["g"]
    assert isinstance(g, CoreGlobal) and g.get() == 1 and g.ty == ("i32", True)
    g.set(0xFFFFFFFF)
    assert g.get() == -1
    tab = a["tab"]
    assert isinstance(tab, CoreTable) and tab.size() == 2
    entry = tab.get(0)
    assert isinstance(entry, CoreFunc) and entry(1) == 0
    assert tab.get(1) is None
    tab.set(1, host)
    assert tab.get(1)(3) == 30
    assert tab.grow(1) == 2 and tab.size() == 3


def test_host_created_externs(store: CoreStore) -> None:
    mem = CoreMemory.new(store, 1)
    tab = CoreTable.new(store, "funcref", 1)
    glob = CoreGlobal.new(store, "f64", False, 2.5)
    i = inst(
        store,
        """(module (import "" "m" (memory 1)) (import "" "t" (table 1 funcref))
           (import "" "g" (global f64))
           (func (export "g") (result f64) global.get 0)
           (func (export "sz") (result i32) table.size 0)
           (func (export "ld") (result i32) (i32.load8_u (i32.const 3))))""",
        [mem, tab, glob],
    )
    mem.write(3, b"\x09")
    assert i.func("g")() == 2.5 and i.func("sz")() == 1 and i.func("ld")() == 9


def test_fuel_exhaustion(engine: CoreEngine) -> None:
    store = CoreStore(engine)
    store.set_fuel(1000)
    i = inst(store, '(module (func (export "spin") (loop (br 0))))')
    with pytest.raises(Trap, match="fuel") as exc:
        i.func("spin")()
    assert exc.value.code is TrapCode.OUT_OF_FUEL
    assert store.get_fuel() == 0
    store.set_fuel(50)
    assert store.get_fuel() == 50


def test_store_view_kept_past_its_store(engine: CoreEngine) -> None:
    # the core store owns the wasmtime store; wasmtime-py's `Store` object for it (made for
    # wasmtime-py's own API) is a view: kept after the store is gone it fails, it neither
    # keeps the store alive nor touches it
    store = CoreStore(engine)
    view = store.store
    assert view is store.store
    view.set_fuel(5)
    assert store.get_fuel() == 5
    del store
    with pytest.raises(ValueError, match="closed"):
        view.get_fuel()


def test_features_config() -> None:
    with pytest.raises(ValueError, match="unknown wasm feature"):
        make_config(["nope"])
    eng = CoreEngine(make_config(["memory64", "multi_memory", "tail_call", "exceptions", "gc"]))
    store = CoreStore(eng)
    i = inst(
        store,
        """(module (memory (export "m") i64 1)
           (func (export "sz") (result i64) memory.size)
           (func $t (export "t") (param i32) (result i32) local.get 0)
           (func (export "tc") (param i32) (result i32) (return_call $t (local.get 0))))""",
    )
    assert i.func("sz")() == 1
    assert i.memory("m").ty.is_64
    assert i.func("tc")(5) == 5
    no_mm = CoreEngine(make_config(disable=["multi_memory"]))
    with pytest.raises(ComponentError):
        compile_module(no_mm, wat2wasm("(module (memory 1) (memory 1))"))


def test_wat2wasm_errors() -> None:
    assert wat2wasm("(module)") == b"\x00asm\x01\x00\x00\x00"
    with pytest.raises(ComponentError):
        wat2wasm("(module")
