"""🪙 Component values: value definitions (decoded as Binary.md's ``val(t)``), value imports
the host defines (``LinkerInstance.value``), value exports (``Instance.get_value``) and start
functions that take and make values."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wasm_component import Component, Engine, Linker, Store
from wasm_component import types as t
from wasm_component._validate.features import Features
from wasm_component._validate.values import decode_value
from wasm_component.errors import LinkError, ValidationError
from wasm_component.values import Err, Ok, Record, Some, Variant

PREAMBLE = b"\x00asm\x0d\x00\x01\x00"


def _engine() -> Engine:
    return Engine(features=dataclasses.replace(Features.all(), cm_values=True))


def _leb(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _section(sid: int, items: list[bytes]) -> bytes:
    body = _leb(len(items)) + b"".join(items)
    return bytes([sid]) + _leb(len(body)) + body


def _values_component(values: list[tuple[bytes, bytes]]) -> bytes:
    """A component defining each ``(valtype, encoded value)`` and exporting it as ``v<i>``
    (a value section, 12, then an export section, 11: neither has a text form in wasm-tools)."""
    defs = [vt + _leb(len(v)) + v for vt, v in values]
    exports = [b"\x00" + _leb(len(f"v{i}")) + f"v{i}".encode() + b"\x02" + _leb(i) + b"\x00"
               for i in range(len(values))]
    return PREAMBLE + _section(12, defs) + _section(11, exports)


U32, S8, STRING, CHAR, F32 = b"\x79", b"\x7e", b"\x73", b"\x74", b"\x76"


def test_value_definitions_are_exported_as_their_python_forms() -> None:
    engine = _engine()
    binary = _values_component([
        (U32, _leb(300)),
        (STRING, b"\x02hi"),
        (S8, b"\xff"),
        (CHAR, "é".encode()),
        (F32, b"\x00\x00\xc0\x7f"),
    ])
    store = Store(engine)
    inst = Linker(engine).instantiate(store, Component.new(engine, binary))
    got = [inst.get_value(store, f"v{i}") for i in range(4)]
    assert got == [300, "hi", -1, "é"]
    assert math.isnan(inst.get_value(store, "v4"))
    assert dict(inst.exports(store))["v0"] == "value"
    assert inst.get_value(store, "nope") is None


@pytest.mark.parametrize(("valtype", "data", "message"), [
    (b"\x7f", b"\x02", "expected 0 or 1 for a bool, got 2"),
    (U32, b"\x01\x02", "1 bytes left after it"),
    (U32, b"\x80", "unexpected end"),
    (F32, b"\x01\x00\xc0\x7f", "a NaN other than the canonical one"),
    (CHAR, b"\xff", "invalid UTF-8 lead byte"),
    (STRING, b"\x02\xff\xfe", "malformed UTF-8"),
])
def test_a_malformed_value_definition_is_a_validation_error(
        valtype: bytes, data: bytes, message: str) -> None:
    engine = _engine()
    with pytest.raises(ValidationError, match="invalid value of type") as e:
        Component.new(engine, _values_component([(valtype, data)]))
    assert message in str(e.value) and e.value.offset is not None


def test_value_definitions_need_the_feature() -> None:
    engine = Engine(features=dataclasses.replace(Features.all(), cm_values=False))
    with pytest.raises(ValidationError, match="`value`s is not enabled"):
        Component.new(engine, _values_component([(U32, b"\x01")]))


START = """
(component
  (import "n" (value $n u32))
  (core module $m (func (export "double") (param i32) (result i32)
    (i32.mul (local.get 0) (i32.const 2))))
  (core instance $i (instantiate $m))
  (func $double (param "x" u32) (result u32) (canon lift (core func $i "double")))
  (start $double (value $n) (result (value $r)))
  (export "r" (value $r)))
"""


def test_a_value_the_host_defines_goes_through_a_start_function() -> None:
    engine = _engine()
    component = Component.new(engine, START)
    linker = Linker(engine)
    linker.root().value("n", 21)
    store = Store(engine)
    assert linker.instantiate(store, component).get_value(store, "r") == 42


def test_value_imports_are_checked_when_linked() -> None:
    engine = _engine()
    component = Component.new(engine, START)
    with pytest.raises(LinkError, match="imports value `n`, but it is not defined"):
        Linker(engine).instantiate(Store(engine), component)
    linker = Linker(engine)
    linker.root().value("n", "twenty-one")
    with pytest.raises(LinkError, match="value import `n` has the wrong type"):
        linker.instantiate(Store(engine), component)
    linker = Linker(engine)
    linker.root().func_wrap("n", lambda _s: 1)
    with pytest.raises(LinkError, match="expected value, found function"):
        linker.instantiate(Store(engine), component)


def test_each_instance_gets_its_own_copy() -> None:
    engine = _engine()
    component = Component.new(engine, """
      (component (import "xs" (value $v (list u32))) (export "xs" (value $v)))""")
    linker = Linker(engine)
    xs = [1, 2]
    linker.root().value("xs", xs)
    store = Store(engine)
    inst = linker.instantiate(store, component)
    got = inst.get_value(store, "xs")
    got.append(3)
    xs.append(4)
    assert inst.get_value(store, "xs") == [1, 2]


# -- the decoder against an encoder written from Binary.md's table --------------------------

def _encode(ty: t.Type, v: Any) -> bytes:
    if ty == t.BOOL:
        return b"\x01" if v else b"\x00"
    if ty in (t.U8, t.S8):
        return bytes([v & 0xFF])
    if ty in (t.U16, t.U32, t.U64):
        return _leb(v)
    if ty in (t.S16, t.S32, t.S64):
        out = bytearray()
        while True:
            b, v = v & 0x7F, v >> 7
            done = (v == 0 and not b & 0x40) or (v == -1 and b & 0x40)
            out.append(b if done else b | 0x80)
            if done:
                return bytes(out)
    if ty == t.STRING:
        raw: bytes = v.encode()
        return _leb(len(raw)) + raw
    if isinstance(ty, t.ListType):
        return _leb(len(v)) + (bytes(v) if ty.element == t.U8 else
                               b"".join(_encode(ty.element, x) for x in v))
    if isinstance(ty, t.RecordType):
        return b"".join(_encode(ft, v[n]) for n, ft in ty.fields)
    if isinstance(ty, t.VariantType):
        i = [n for n, _ in ty.cases].index(v.case)
        payload = ty.cases[i][1]
        return _leb(i) + (b"" if payload is None else _encode(payload, v.payload))
    if isinstance(ty, t.OptionType):
        if v is None:
            return b"\x00"
        return b"\x01" + _encode(ty.inner, v.value if isinstance(v, Some) else v)
    if isinstance(ty, t.ResultType):
        sub = ty.ok if isinstance(v, Ok) else ty.err
        tag = b"\x00" if isinstance(v, Ok) else b"\x01"
        return tag + (b"" if sub is None else _encode(sub, v.value))
    if isinstance(ty, t.FlagsType):
        bits = sum(1 << i for i, n in enumerate(ty.names) if n in v)
        return bits.to_bytes(-(-len(ty.names) // 8), "little")
    raise AssertionError(ty)


_INT_RANGES = {t.U8: (0, 255), t.S8: (-128, 127), t.U16: (0, 2**16 - 1),
               t.S16: (-2**15, 2**15 - 1), t.U32: (0, 2**32 - 1), t.S32: (-2**31, 2**31 - 1),
               t.U64: (0, 2**64 - 1), t.S64: (-2**63, 2**63 - 1)}


def _typed_values() -> st.SearchStrategy[tuple[t.Type, Any]]:
    ints = st.sampled_from(list(_INT_RANGES)).flatmap(
        lambda ty: st.tuples(st.just(ty), st.integers(*_INT_RANGES[ty])))
    leaves = st.one_of(ints, st.tuples(st.just(t.BOOL), st.booleans()),
                       st.tuples(st.just(t.STRING), st.text(max_size=8)))

    def grow(inner: st.SearchStrategy[tuple[t.Type, Any]]
             ) -> st.SearchStrategy[tuple[t.Type, Any]]:
        return st.one_of(
            inner.flatmap(lambda tv: st.lists(st.just(tv[1]), max_size=3).map(
                lambda xs: (t.ListType(tv[0]), bytes(xs) if tv[0] == t.U8 else xs))),
            st.lists(inner, min_size=1, max_size=3).map(lambda fs: (
                t.RecordType(tuple((f"f{i}", ty) for i, (ty, _) in enumerate(fs))),
                Record({f"f{i}": v for i, (_, v) in enumerate(fs)}))),
            inner.map(lambda tv: (t.VariantType((("a", None), ("b", tv[0]))),
                                  Variant("b", tv[1]))),
            inner.flatmap(lambda tv: st.sampled_from([None, tv[1]]).map(
                lambda v: (t.OptionType(tv[0]),
                           Some(v) if isinstance(tv[0], t.OptionType) and v is not None
                           else v))),
            inner.map(lambda tv: (t.ResultType(tv[0], t.STRING), Ok(tv[1]))),
            inner.map(lambda tv: (t.ResultType(tv[0], t.STRING), Err("no"))),
            st.frozensets(st.sampled_from(["x", "y", "z"])).map(
                lambda fs: (t.FlagsType(("x", "y", "z")), fs)),
        )

    return st.recursive(leaves, grow, max_leaves=6)


@given(_typed_values())
def test_decoding_what_binary_md_encodes_gives_the_value_back(tv: tuple[t.Type, Any]) -> None:
    ty, v = tv
    assert decode_value(ty, _encode(ty, v), 0) == v
