"""Layout against the spec's definitions: sizes, alignments, flattening, spilling."""

from __future__ import annotations

from wasm_component import types as t
from wasm_component._abi import alignment, elem_size, flatten_functype, flatten_type
from wasm_component._abi.layout import discriminant_size, field_offsets, payload_offset


def test_record_layout() -> None:
    r = t.RecordType((("a", t.U8), ("b", t.U32), ("c", t.U16), ("d", t.U64)))
    assert field_offsets(r) == (0, 4, 8, 16)
    assert (elem_size(r), alignment(r)) == (24, 8)
    assert flatten_type(r) == ("i32", "i32", "i32", "i64")
    assert (elem_size(t.STRING), alignment(t.STRING)) == (8, 4)
    assert (elem_size(t.STRING, "i64"), alignment(t.STRING, "i64")) == (16, 8)
    assert elem_size(t.ListType(t.U16, 3)) == 6 and alignment(t.ListType(t.U16, 3)) == 2
    assert flatten_type(t.ListType(t.F32, 2)) == ("f32", "f32")
    assert flatten_type(t.MapType(t.STRING, t.U8)) == ("i32", "i32")
    assert elem_size(t.TupleType((t.U8, t.CHAR, t.U8))) == 12


def test_variant_layout_and_join() -> None:
    v = t.VariantType((("a", t.F32), ("b", t.U64), ("c", None), ("d", t.STRING)))
    assert flatten_type(v) == ("i32", "i64", "i32")
    assert (alignment(v), payload_offset(v), elem_size(v)) == (8, 8, 16)
    assert flatten_type(t.VariantType((("a", t.F32), ("b", t.U32)))) == ("i32", "i32")
    assert flatten_type(t.VariantType((("a", t.F32), ("b", t.F32)))) == ("i32", "f32")
    assert flatten_type(t.VariantType((("a", t.F64), ("b", t.F32)))) == ("i32", "i64")
    assert flatten_type(t.OptionType(t.U8)) == ("i32", "i32")
    assert elem_size(t.OptionType(t.U8)) == 2
    assert flatten_type(t.ResultType(None, None)) == ("i32",)
    assert (elem_size(t.ResultType(None, None)), alignment(t.EnumType(("x",)))) == (1, 1)
    assert [discriminant_size(n) for n in (1, 256, 257, 65536, 65537)] == [1, 1, 2, 2, 4]
    big = t.EnumType(tuple(f"e{i}" for i in range(300)))
    assert (elem_size(big), alignment(big)) == (2, 2)


def test_flags_layout() -> None:
    for n, size in [(1, 1), (8, 1), (9, 2), (16, 2), (17, 4), (32, 4)]:
        f = t.FlagsType(tuple(f"f{i}" for i in range(n)))
        assert (elem_size(f), alignment(f), flatten_type(f)) == (size, size, ("i32",))


def test_flatten_functype_spilling() -> None:
    u32s = tuple((f"p{i}", t.U32) for i in range(16))
    ft = t.FuncType(u32s, t.U32)
    sig = flatten_functype(ft, "lift")
    assert (sig.params, sig.results, sig.params_spilled) == (("i32",) * 16, ("i32",), False)
    ft = t.FuncType((*u32s, ("x", t.U32)), t.STRING)
    lift, lower = flatten_functype(ft, "lift"), flatten_functype(ft, "lower")
    assert (lift.params, lift.results) == (("i32",), ("i32",))
    assert (lower.params, lower.results) == (("i32", "i32"), ())
    assert flatten_functype(t.FuncType((), None), "lift").results == ()
    assert flatten_functype(t.FuncType((), t.STRING), "lift", "i64").results == ("i64",)
