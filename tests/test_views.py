"""Lazy views for host functions (``WasmStr``, ``WasmList[T]``): a host function annotating a
parameter so receives a view into guest memory, lifted on demand, refusing use once the call
has returned; ``list<u8>`` and other lists of numbers as a read-only ``memoryview``."""

from __future__ import annotations

import struct
from typing import Any

import pytest

from wasm_component import Component, Engine, Linker, LinkError, Store, Trap, WasmList, WasmStr

NSPILL = 9  # 9 strings and a u32: 19 flat values, more than 16, so passed in memory


def _spill_args() -> bytes:
    return b"".join(struct.pack("<II", 100, 5) for _ in range(NSPILL)) + struct.pack("<I", 7)


WAT = """(component
  (import "log" (func $log (param "msg" string)))
  (import "sum" (func $sum (param "xs" (list u32)) (result u32)))
  (import "bytes" (func $bytes (param "data" (list u8)) (result u32)))
  (import "many" (func $many SPILL_PARAMS (result u32)))
  (core module $mem
    (memory (export "mem") 1)
    (data (i32.const 100) "hello")
    (data (i32.const 200) "\\01\\00\\00\\00\\02\\00\\00\\00\\03\\00\\00\\00")
    (data (i32.const 300) "\\ff\\00\\7f")
    (data (i32.const 400) "\\ff\\fe")
    (data (i32.const 1000) "SPILL_DATA"))
  (core instance $mi (instantiate $mem))
  (core func $llog (canon lower (func $log) (memory (core memory $mi "mem"))))
  (core func $lsum (canon lower (func $sum) (memory (core memory $mi "mem"))))
  (core func $lbytes (canon lower (func $bytes) (memory (core memory $mi "mem"))))
  (core func $lmany (canon lower (func $many) (memory (core memory $mi "mem"))))
  (core module $w
    (import "" "log" (func $log (param i32 i32)))
    (import "" "sum" (func $sum (param i32 i32) (result i32)))
    (import "" "bytes" (func $bytes (param i32 i32) (result i32)))
    (import "" "many" (func $many (param i32) (result i32)))
    (func (export "log") (call $log (i32.const 100) (i32.const 5)))
    (func (export "bad-utf8") (call $log (i32.const 400) (i32.const 2)))
    (func (export "sum") (result i32) (call $sum (i32.const 200) (i32.const 3)))
    (func (export "misaligned") (result i32) (call $sum (i32.const 201) (i32.const 1)))
    (func (export "oob") (result i32) (call $sum (i32.const 65532) (i32.const 2)))
    (func (export "bytes") (result i32) (call $bytes (i32.const 300) (i32.const 3)))
    (func (export "many") (result i32) (call $many (i32.const 1000))))
  (core instance $wi (instantiate $w (with "" (instance
    (export "log" (func $llog)) (export "sum" (func $lsum)) (export "bytes" (func $lbytes))
    (export "many" (func $lmany))))))
  (func (export "log") (canon lift (core func $wi "log")))
  (func (export "bad-utf8") (canon lift (core func $wi "bad-utf8")))
  (func (export "sum") (result u32) (canon lift (core func $wi "sum")))
  (func (export "misaligned") (result u32) (canon lift (core func $wi "misaligned")))
  (func (export "oob") (result u32) (canon lift (core func $wi "oob")))
  (func (export "bytes") (result u32) (canon lift (core func $wi "bytes")))
  (func (export "many") (result u32) (canon lift (core func $wi "many"))))""".replace(
    "SPILL_PARAMS", " ".join(f'(param "s{i}" string)' for i in range(NSPILL)) + ' (param "n" u32)'
).replace("SPILL_DATA", "".join(f"\\{b:02x}" for b in _spill_args()))


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


@pytest.fixture(scope="module")
def component(engine: Engine) -> Component:
    return Component.new(engine, WAT)


class Host:
    """Host functions taking views; each keeps what it saw, and the views, for after."""

    def __init__(self) -> None:
        self.seen: dict[str, Any] = {}
        self.kept: list[Any] = []

    def log(self, store: Store, msg: WasmStr) -> None:
        self.kept.append(msg)
        self.seen["log"] = msg.to_str()
        b = msg.as_bytes()
        self.kept.append(b)
        self.seen["log-bytes"] = (bytes(b), b.readonly)

    def sum(self, store: Store, xs: WasmList[int]) -> int:
        self.kept.append(xs)
        mv = xs.as_memoryview()
        self.seen["sum"] = (len(xs), xs[0], xs[-1], list(xs), xs.to_list(), mv.format,
                            mv.tolist())
        return sum(xs)

    def bytes_(self, store: Store, data: WasmList[int]) -> int:
        mv = data.as_memoryview()
        self.kept.append(mv)
        # a view of the guest's memory itself, not a copy of it
        self.seen["bytes"] = (mv.tobytes(), mv.readonly, isinstance(mv.obj, (bytes, bytearray)),
                              data.to_list())
        return len(mv)

    def many(self, store: Store, *args: Any) -> int:
        self.seen["many"] = args
        return int(args[-1])


def _instance(engine: Engine, component: Component, host: Host) -> tuple[Store, Any]:
    linker = Linker(engine)
    root = linker.root()
    root.func_wrap("log", host.log)
    root.func_wrap("sum", host.sum)
    root.func_wrap("bytes", host.bytes_)

    def many(store: Store, s0: WasmStr, s1: str, s2: str, s3: str, s4: str, s5: str, s6: str,
             s7: str, s8: WasmStr, n: int) -> int:
        return host.many(store, s0.to_str(), s1, s8.to_str(), n)

    root.func_wrap("many", many)
    store = Store(engine)
    return store, linker.instantiate(store, component)


def _call(store: Store, inst: Any, name: str) -> Any:
    f = inst.get_func(store, name)
    assert f is not None
    return f(store)


def _run(engine: Engine, component: Component, name: str) -> tuple[Host, Any]:
    host = Host()
    store, inst = _instance(engine, component, host)
    return host, _call(store, inst, name)


@pytest.mark.parametrize(("name", "result", "key", "seen"), [
    ("log", None, "log-bytes", (b"hello", True)),
    ("sum", 6, "sum", (3, 1, 3, [1, 2, 3], [1, 2, 3], "I", [1, 2, 3])),
    # a read-only view of the guest's memory itself, not a copy of it
    ("bytes", 3, "bytes", (b"\xff\x00\x7f", True, False, b"\xff\x00\x7f")),
    ("many", 7, "many", ("hello", "hello", "hello", 7)),  # parameters spilled to memory
])
def test_views_see_guest_memory(engine: Engine, component: Component, name: str, result: Any,
                                key: str, seen: Any) -> None:
    host, got = _run(engine, component, name)
    assert got == result
    assert host.seen[key] == seen


def test_string_view_expires(engine: Engine, component: Component) -> None:
    host, _ = _run(engine, component, "log")
    assert host.seen["log"] == "hello" and type(host.seen["log"]) is str
    msg, raw = host.kept
    with pytest.raises(ValueError, match="only valid during the host call"):
        msg.to_str()
    with pytest.raises(ValueError, match="only valid during the host call"):
        str(msg)
    with pytest.raises(ValueError):  # the memoryview it gave out is released
        bytes(raw)
    assert "expired" in repr(msg)


def test_list_view_expires(engine: Engine, component: Component) -> None:
    host, _ = _run(engine, component, "sum")
    (xs,) = host.kept
    for use in (len, list, lambda v: v[0], lambda v: v.to_list(), lambda v: v.as_memoryview()):
        with pytest.raises(ValueError, match="only valid during the host call"):
            use(xs)
    host, _ = _run(engine, component, "bytes")
    (mv,) = host.kept
    with pytest.raises(ValueError):
        mv[0]


@pytest.mark.parametrize(("name", "message"), [
    ("bad-utf8", "invalid utf-8"),  # decoded when asked for, trapping then
    ("misaligned", "misaligned list pointer"),
    ("oob", "out of bounds"),
])
def test_views_trap_on_bad_guest_values(engine: Engine, component: Component, name: str,
                                        message: str) -> None:
    with pytest.raises(Trap, match=message):
        _run(engine, component, name)


def test_view_annotation_checked_at_link_time(engine: Engine, component: Component) -> None:
    linker = Linker(engine)
    linker.define_unknown_imports_as_traps(component)
    linker.allow_shadowing(True)
    linker.root().func_wrap("sum", lambda store, xs: 0)

    def wrong(store: Store, xs: WasmStr) -> int:
        return 0

    linker.root().func_wrap("sum", wrong)
    with pytest.raises(LinkError, match="parameter `xs` is list<u32>"):
        linker.instantiate(Store(engine), component)

    def wrong_elem(store: Store, xs: WasmList[str]) -> int:
        return 0

    linker.root().func_wrap("sum", wrong_elem)
    with pytest.raises(LinkError, match="parameter `xs` is list<u32>"):
        linker.instantiate(Store(engine), component)
