"""Micro-benchmark of the Canonical ABI (not a test): ``python -m tests.abi.bench_abi``.

Prints µs per lower+lift round trip (process CPU time, so that other load on a shared machine
inflates it less than wall-clock time would), and compares the generated-code specialisation with a
composed-closure one on a record and a list of records.
"""

from __future__ import annotations

import struct
import time
import timeit
from collections.abc import Callable
from typing import Any

from wasm_component import types as t
from wasm_component._abi import (
    BytearrayMemory,
    CanonicalOptions,
    ComponentInstanceState,
    LiftLowerContext,
    Task,
    build_lift_flat,
    build_lower_flat,
)
from wasm_component.values import Record

from .support import string_encoding

REC = t.RecordType((("a", t.U32), ("b", t.S8), ("c", t.F64), ("d", t.STRING), ("e", t.BOOL),
                    ("f", t.CHAR), ("g", t.U64), ("h", t.F32)))
VAL = Record(a=1, b=-2, c=1.5, d="hello", e=True, f="x", g=2**40, h=0.5)


def cx_for(enc: str) -> tuple[LiftLowerContext, BytearrayMemory]:
    mem = BytearrayMemory(1 << 24)
    return LiftLowerContext(CanonicalOptions(string_encoding(enc), mem, mem.realloc),
                            ComponentInstanceState(), Task(ComponentInstanceState())), mem


def bench(label: str, vt: t.Type, v: Any, enc: str = "utf8", number: int = 0) -> float:
    cx, mem = cx_for(enc)
    lower, lift = build_lower_flat(vt, enc), build_lift_flat(vt, enc)

    def once() -> None:
        mem.next = 8
        lift(cx, lower(cx, v))

    once()
    timer = timeit.Timer(once, timer=time.process_time)
    n = number or max(1, int(0.2 / max(timer.timeit(number=1), 1e-7)))
    best = min(timer.repeat(number=n, repeat=5)) / n * 1e6
    print(f"{label:<44} {best:12.2f} µs")
    return best


# -- a composed-closure specialisation of the same record, for comparison ---------------------

def _closure_field(vt: t.Type, off: int) -> tuple[Callable[..., Any], Callable[..., None]]:
    code = {"u32": "<I", "s8": "<b", "f64": "<d", "bool": "<B", "char": "<I", "u64": "<Q",
            "f32": "<f"}
    if vt == t.STRING:
        s = struct.Struct("<II")

        def load_s(cx: Any, m: memoryview, p: int) -> Any:
            a, n = s.unpack_from(m, p + off)
            return str(m[a:a + n], "utf-8")

        def store_s(cx: Any, m: Any, p: int, v: Any) -> Any:
            b = v.encode()
            a, m = cx.alloc(1, len(b))
            m[a:a + len(b)] = b
            s.pack_into(m, p + off, a, len(b))
            return m
        return load_s, store_s
    assert isinstance(vt, t.PrimType), "the benchmark's record has string or primitive fields"
    st = struct.Struct(code[vt.name])
    bounds: tuple[int, int] | None = {
        "u32": (0, 2**32 - 1), "s8": (-128, 127), "u64": (0, 2**64 - 1)}.get(vt.name)

    def load_p(cx: Any, m: memoryview, p: int) -> Any:
        return st.unpack_from(m, p + off)[0]

    def store_p(cx: Any, m: Any, p: int, v: Any) -> Any:
        if bounds is not None and (type(v) is not int or not bounds[0] <= v <= bounds[1]):
            raise TypeError
        if vt == t.CHAR:
            v = ord(v)
        st.pack_into(m, p + off, v)
        return m
    return load_p, store_p


def closure_record(vt: t.RecordType) -> tuple[Callable[..., Any], Callable[..., Any]]:
    from wasm_component._abi.layout import field_offsets
    parts = [(n, *_closure_field(u, o)) for (n, u), o in zip(vt.fields, field_offsets(vt),
                                                              strict=True)]

    def load(cx: Any, m: memoryview, p: int) -> Any:
        return Record({n: ld(cx, m, p) for n, ld, _ in parts})

    def store(cx: Any, m: Any, p: int, v: Any) -> Any:
        d = v._fields
        for n, _, st in parts:
            m = st(cx, m, p, d[n])
        return m
    return load, store


def bench_closures() -> None:
    from wasm_component._abi.layout import elem_size
    cx, mem = cx_for("utf8")
    load, store = closure_record(REC)
    size = elem_size(REC)

    def one() -> None:
        mem.next = 64
        m = store(cx, mem.view(), 8, VAL)
        load(cx, m, 8)

    def many() -> None:
        mem.next = 8
        p, m = cx.alloc(8, size * 1000)
        for i, v in enumerate(LST):
            m = store(cx, m, p + i * size, v)
        [load(cx, m, p + i * size) for i in range(1000)]

    for label, f in (("closures: record of 8 fields (memory)", one),
                     ("closures: list of 1000 such records", many)):
        timer = timeit.Timer(f, timer=time.process_time)
        n = max(1, int(0.2 / max(timer.timeit(number=1), 1e-7)))
        print(f"{label:<44} {min(timer.repeat(number=n, repeat=5)) / n * 1e6:12.2f} µs")


LST = [VAL] * 1000


def main() -> None:
    bench("record of 8 mixed fields (flat)", REC, VAL)
    bench("record of 8 mixed fields (memory: tuple<rec>)", t.ListType(REC), [VAL])
    bench("list of 1000 such records", t.ListType(REC), LST)
    bench_closures()
    s = "x" * (1 << 20)
    for enc in ("utf8", "utf16", "latin1+utf16"):
        bench(f"1 MiB ASCII string, {enc}", t.STRING, s, enc)
    bench("1 Mi-char non-Latin-1 string, utf16", t.STRING, "\u20ac" * (1 << 20), "utf16")
    bench("64Ki list<u32>", t.ListType(t.U32), list(range(1 << 16)))
    bench("64Ki list<u8> from bytes", t.ListType(t.U8), bytes(1 << 16))
    bench("64Ki list<f64>", t.ListType(t.F64), [0.5] * (1 << 16))
    bench("u32 (flat)", t.U32, 7)


if __name__ == "__main__":
    main()
