"""Bad host values raise TypeError/ValueError naming the path to the bad part."""

from __future__ import annotations

from typing import Any

import pytest

from wasm_component import types as t
from wasm_component._abi import func_abi, load, lower_flat, store
from wasm_component.values import Ok, Variant

from .support import make_cx

P = t.RecordType((("x", t.U32), ("tags", t.ListType(t.STRING))))


@pytest.mark.parametrize(("vt", "value", "exc", "msg"), [
    (t.U32, "7", TypeError, "expected u32, got str"),
    (t.U32, -1, ValueError, "u32 out of range: -1"),
    (t.S8, 128, ValueError, "s8 out of range"),
    (t.U64, 1.0, TypeError, "expected u64, got float"),
    (t.F64, "x", TypeError, "expected f64, got str"),
    (t.BOOL, 1, TypeError, "expected bool, got int"),
    (t.CHAR, "ab", ValueError, "single character"),
    (t.CHAR, "\ud800", ValueError, "surrogate"),
    (t.STRING, "a\udc00", ValueError, "lone surrogate"),
    (t.STRING, b"a", TypeError, "expected string, got bytes"),
    (P, {"x": 1}, TypeError, "missing field 'tags'"),
    (P, {"x": "1", "tags": []}, TypeError, 'expected u32, got str in field "x" of record'),
    (t.ListType(P), [{"x": 1, "tags": []}, {"x": 1, "tags": ["a", 3]}], TypeError,
     'expected string, got int in element 1 of list in field "tags" of record '
     "in element 1 of list"),
    (t.ListType(t.U32), [1, 2, -3], ValueError, "u32 out of range: -3 in element 2 of list"),
    (t.ListType(t.U8), [1, 256], ValueError, "u8 out of range: 256 in element 1 of list"),
    (t.ListType(t.CHAR), ["a", "bc"], ValueError, "element 1 of list"),
    (t.ListType(t.U8, 2), [1], ValueError, "list of length 2, got length 1"),
    (t.TupleType((t.U8, t.U8)), (1, "a"), TypeError, "in element 1 of tuple"),
    (t.EnumType(("a", "b")), "c", ValueError, "unknown case 'c'"),
    (t.VariantType((("a", t.U8),)), Variant("b"), ValueError, "unknown case 'b'"),
    (t.VariantType((("a", None),)), Variant("a", 1), TypeError, "case 'a' has no payload"),
    (t.VariantType((("a", t.U8),)), ("a", 1), TypeError, "expected Variant"),
    (t.ResultType(t.U8, None), 3, TypeError, "expected Ok or Err"),
    (t.ResultType(t.U8, None), Ok("x"), TypeError, 'in case "ok" of result'),
    (t.OptionType(t.U8), "x", TypeError, 'in case "some" of option'),
    (t.FlagsType(("r", "w")), {"r", "x"}, ValueError, "unknown flag 'x'"),
    (t.FlagsType(("r", "w")), "r", TypeError, "expected flags"),
    (t.MapType(t.STRING, t.U8), [("a", 1)], TypeError, "expected map"),
])
def test_bad_values(vt: t.Type, value: Any, exc: type[Exception], msg: str) -> None:
    cx, _ = make_cx()
    with pytest.raises(exc, match=msg.replace("(", r"\(").replace(")", r"\)")):
        lower_flat(cx, vt, value)
    with pytest.raises(exc, match=msg.replace("(", r"\(").replace(")", r"\)")):
        store(cx, vt, value, 64)


def test_parameter_and_result_paths() -> None:
    ft = t.FuncType((("a", t.U8), ("b", P)), P)
    abi = func_abi(ft)
    cx, _ = make_cx()
    with pytest.raises(TypeError, match=r'expected u32, got str in field "x" of record in '
                                        r'parameter "b"'):
        abi.lower_params(cx, [1, {"x": "no", "tags": []}])
    with pytest.raises(TypeError, match="expected 2 arguments, got 1"):
        abi.lower_params(cx, [1])
    with pytest.raises(TypeError, match='in field "tags" of record in result'):
        abi.lower_results(cx, {"x": 1, "tags": [None]}, [64])


R8 = t.RecordType((("a", t.U32), ("b", t.S8), ("c", t.F64), ("d", t.F32), ("e", t.U64)))


@pytest.mark.parametrize(("field", "bad", "exc", "msg"), [
    ("a", -1, ValueError, 'u32 out of range: -1 in field "a" of record in element 2 of list'),
    ("a", 1.5, TypeError, 'expected u32, got float in field "a" of record in element 2'),
    ("b", 200, ValueError, 's8 out of range: 200 in field "b"'),
    ("c", "x", TypeError, 'expected f64, got str in field "c"'),
    ("c", 10**400, ValueError, 'f64 out of range'),
    ("e", 2**64, ValueError, 'u64 out of range'),
])
def test_bulk_record_store_diagnoses_the_bad_field(field: str, bad: Any, exc: type,
                                                   msg: str) -> None:
    """Numeric fields of stored records are range-checked by ``struct`` and diagnosed only on
    failure; the message is the per-field one."""
    good = {"a": 1, "b": -2, "c": 0.5, "d": 0.25, "e": 2**40}
    vals = [dict(good) for _ in range(4)]
    vals[2][field] = bad
    cx, _ = make_cx()
    with pytest.raises(exc, match=msg):
        lower_flat(cx, t.ListType(R8), vals)


def test_bulk_record_store_converts_like_scalars() -> None:
    from wasm_component._abi import lift_flat

    cx, _ = make_cx()
    v = [{"a": True, "b": -128, "c": 3, "d": 1e300, "e": 0},
         {"a": 2**32 - 1, "b": 127, "c": -0.0, "d": -1e39, "e": 2**64 - 1}]
    out = lift_flat(cx, t.ListType(R8), lower_flat(cx, t.ListType(R8), v))
    assert [tuple(r._fields.values()) for r in out] == [
        (1, -128, 3.0, float("inf"), 0), (2**32 - 1, 127, -0.0, float("-inf"), 2**64 - 1)]


@pytest.mark.parametrize(("vt", "make"), [
    (t.U32, lambda i: (i * 2654435761) & 0xFFFFFFFF),
    (t.S16, lambda i: (i % 65536) - 32768),
    (t.S64, lambda i: -(i * 1_000_000_007)),
    (t.F64, lambda i: i / 7),
    (t.F32, lambda i: float(i)),
])
@pytest.mark.parametrize("n", [0, 1, 3, 1500])  # (1500 elements: past the one-copy cut-off)
def test_number_lists_lower_from_lists_and_tuples(vt: t.Type, make: Any, n: int) -> None:
    # a list of numbers is lowered by one array conversion and one copy (``bulk_inline``)
    values = [make(i) for i in range(n)]
    lt = t.ListType(vt)
    for given in (values, tuple(values)):
        cx, mem = make_cx()
        at = mem.realloc(0, 0, 8, 8)  # (the list's pointer and length: a slot of their own)
        store(cx, lt, given, at)
        assert load(cx, lt, at) == values


def test_number_list_bad_element_in_a_tuple_is_named() -> None:
    cx, _ = make_cx()
    with pytest.raises(ValueError, match=r"u32 out of range: -1 in element 1 of list"):
        store(cx, t.ListType(t.U32), (1, -1), 64)
    with pytest.raises(TypeError, match=r"expected f64, got str in element 0 of list"):
        store(cx, t.ListType(t.F64), ("x",), 64)
