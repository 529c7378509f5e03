"""lift(lower(v)) == v for generated types and values: flat, through memory and through the
function adapters (spilling past the flat limits), for every string encoding."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wasm_component import types as t
from wasm_component._abi import (
    alignment,
    elem_size,
    flatten_type,
    func_abi,
    lift_flat,
    load,
    lower_flat,
    store,
)

from .strategies import value_types, values
from .support import ENCODINGS, make_cx

SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def typed_values(draw: st.DrawFn) -> tuple[t.Type, Any]:
    vt = draw(value_types)
    return vt, draw(values(vt))


def _check_core(flat: list[Any], types: tuple[str, ...]) -> None:
    assert len(flat) == len(types)
    for v, ct in zip(flat, types, strict=True):
        if ct == "i32":
            assert type(v) is int and 0 <= v < 2**32, (v, ct)
        elif ct == "i64":
            assert type(v) is int and 0 <= v < 2**64, (v, ct)
        else:
            assert type(v) is float, (v, ct)


def _signed(flat: list[Any], types: tuple[str, ...]) -> list[Any]:
    """The same core values as a wasm engine may hand them over: signed."""
    out = []
    for v, ct in zip(flat, types, strict=True):
        bits = 32 if ct == "i32" else 64
        out.append(v - (1 << bits) if ct in ("i32", "i64") and v >= 1 << (bits - 1) else v)
    return out


@SETTINGS
@given(typed_values(), st.sampled_from(ENCODINGS), st.booleans())
def test_flat_roundtrip(tv: tuple[t.Type, Any], enc: str, signed: bool) -> None:
    vt, v = tv
    cx, _ = make_cx(enc)
    flat = lower_flat(cx, vt, v)
    _check_core(flat, flatten_type(vt))
    if signed:
        flat = _signed(flat, flatten_type(vt))
    assert lift_flat(cx, vt, flat) == v


@SETTINGS
@given(typed_values(), st.sampled_from(ENCODINGS))
def test_memory_roundtrip(tv: tuple[t.Type, Any], enc: str) -> None:
    vt, v = tv
    cx, mem = make_cx(enc)
    ptr = mem.realloc(0, 0, alignment(vt), elem_size(vt))
    store(cx, vt, v, ptr)
    assert load(cx, vt, ptr) == v


@SETTINGS
@given(st.lists(typed_values(), max_size=6), st.sampled_from(ENCODINGS), st.booleans())
def test_function_roundtrip(params: list[tuple[t.Type, Any]], enc: str, wide: bool) -> None:
    """Export-side lowering feeds import-side lifting (params) and vice versa (results),
    including spilled parameter tuples and return pointers."""
    if wide:  # push past MAX_FLAT_PARAMS
        params = [*params, *[(t.U64, 2**64 - 1 - i) for i in range(17)]]
    ft = t.FuncType(tuple((f"p{i}", vt) for i, (vt, _) in enumerate(params)),
                    params[0][0] if params else None)
    abi = func_abi(ft, enc)
    cx, mem = make_cx(enc)
    args = [v for _, v in params]
    flat = abi.lower_params(cx, args)
    _check_core(flat, abi.lift_sig.params)
    assert abi.lift_params(cx, [*flat, 0]) == args
    if params:
        vt, v = params[0]
        if abi.lower_sig.results_spilled:
            retptr = mem.realloc(0, 0, alignment(vt), elem_size(vt))
            assert abi.lower_results(cx, v, [*flat, retptr]) == []
            assert abi.lift_results(cx, [retptr]) == v
        else:
            res = abi.lower_results(cx, v, flat)
            _check_core(res, abi.lift_sig.results)
            assert abi.lift_results(cx, res) == v


@settings(max_examples=200, deadline=None)
@given(st.text(), st.sampled_from(ENCODINGS))
def test_strings(s: str, enc: str) -> None:
    cx, _ = make_cx(enc)
    assert lift_flat(cx, t.STRING, lower_flat(cx, t.STRING, s)) == s


def test_string_shapes(encoding: str) -> None:
    cx, _ = make_cx(encoding)
    for s in ["", "a", "latin-1 only: \xe9\xff", "astral \U0001F600\U00010000", "\u20ac",
              "x" * 70000]:
        ptr, n = lower_flat(cx, t.STRING, s)
        assert isinstance(n, int), "a string lowers to two i32s"
        assert lift_flat(cx, t.STRING, [ptr, n]) == s
        if encoding == "latin1+utf16":
            tagged = bool(n & (1 << 31))
            assert tagged == any(ord(c) > 0xFF for c in s)
        if encoding == "utf16":
            assert n == len(s.encode("utf-16-le")) // 2
        if encoding == "utf8":
            assert n == len(s.encode("utf-8"))


def test_nan_canonicalised() -> None:
    import math
    import struct

    cx, mem = make_cx()
    for vt, bits, fmt in [(t.F32, 0x7FA00001, "<I"), (t.F64, 0xFFF0_0000_0000_0001, "<Q")]:
        struct.pack_into(fmt, mem.data, 64, bits)
        v = load(cx, vt, 64)
        assert math.isnan(v)
        flat = lower_flat(cx, vt, v)
        assert math.isnan(flat[0])
        store(cx, vt, v, 64)
        canon = 0x7FC00000 if vt == t.F32 else 0x7FF8_0000_0000_0000
        assert struct.unpack_from(fmt, mem.data, 64)[0] == canon
    struct.pack_into("<I", mem.data, 128, 0xFFC00001)
    lst = lift_flat(cx, t.ListType(t.F32), [128, 1])
    assert math.isnan(lst[0])


def test_f32_rounding_and_overflow() -> None:
    cx, _ = make_cx()
    assert lower_flat(cx, t.F32, 0.1) == [struct_f32(0.1)]
    assert lower_flat(cx, t.F32, 1e300) == [float("inf")]
    assert lower_flat(cx, t.F32, -1e300) == [float("-inf")]
    assert lower_flat(cx, t.F32, 3) == [3.0]


def struct_f32(x: float) -> float:
    import struct

    return float(struct.unpack("<f", struct.pack("<f", x))[0])


def test_host_forms_accepted() -> None:
    import dataclasses
    import enum

    from wasm_component.values import Some

    cx, _ = make_cx()
    rec = t.RecordType((("x", t.U32), ("long-name", t.STRING)))

    @dataclasses.dataclass
    class P:
        x: int
        long_name: str

    assert lift_flat(cx, rec, lower_flat(cx, rec, P(1, "a"))) == {"x": 1, "long-name": "a"}
    assert lift_flat(cx, rec, lower_flat(cx, rec, {"x": 1, "long-name": "a"})).x == 1

    class Color(enum.Enum):
        RED = "red"
        GREEN = "green"

    en = t.EnumType(("red", "green"))
    assert lift_flat(cx, en, lower_flat(cx, en, Color.GREEN)) == "green"

    class Perm(enum.Flag):
        read = 1
        write = 2

    fl = t.FlagsType(("read", "write", "exec"))
    assert lift_flat(cx, fl, lower_flat(cx, fl, Perm.read | Perm.write)) == {"read", "write"}
    assert lift_flat(cx, fl, lower_flat(cx, fl, ["exec"])) == {"exec"}
    opt = t.OptionType(t.U8)
    assert lift_flat(cx, opt, lower_flat(cx, opt, Some(3))) == 3
    lu8 = t.ListType(t.U8)
    for b in (b"ab", bytearray(b"ab"), memoryview(b"ab"), [97, 98], (97, 98)):
        assert lift_flat(cx, lu8, lower_flat(cx, lu8, b)) == b"ab"
    tup = t.TupleType((t.U8, t.U8))
    assert lift_flat(cx, tup, lower_flat(cx, tup, [1, 2])) == (1, 2)
    lu32 = t.ListType(t.U32)
    assert lift_flat(cx, lu32, lower_flat(cx, lu32, range(5))) == [0, 1, 2, 3, 4]
    assert lift_flat(cx, t.U8, lower_flat(cx, t.U8, True)) == 1
