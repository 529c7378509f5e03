"""Hypothesis strategies for component value types and values of those types."""

from __future__ import annotations

from functools import partial
from typing import Any

from hypothesis import strategies as st

from wasm_component import types as t
from wasm_component.values import Err, Ok, Record, Some, Variant

PRIMS = [t.BOOL, t.S8, t.U8, t.S16, t.U16, t.S32, t.U32, t.S64, t.U64, t.F32, t.F64, t.CHAR,
         t.STRING]
KEY_TYPES = [t.BOOL, t.U8, t.S32, t.U64, t.CHAR, t.STRING]


def _names(prefix: str, n: int) -> tuple[str, ...]:
    return tuple(f"{prefix}{i}" for i in range(n))


def _compound(children: st.SearchStrategy[t.Type]) -> st.SearchStrategy[t.Type]:
    return st.one_of(
        st.builds(t.ListType, children),
        st.builds(t.ListType, children, st.integers(1, 3)),
        st.lists(children, min_size=1, max_size=4).map(
            lambda ts: t.RecordType(tuple(zip(_names("f", len(ts)), ts, strict=True)))),
        st.lists(children, min_size=1, max_size=4).map(lambda ts: t.TupleType(tuple(ts))),
        st.lists(st.none() | children, min_size=1, max_size=4).map(
            lambda ts: t.VariantType(tuple(zip(_names("c", len(ts)), ts, strict=True)))),
        st.integers(1, 300).map(lambda n: t.EnumType(_names("e", n))),
        st.integers(1, 32).map(lambda n: t.FlagsType(_names("g", n))),
        st.builds(t.OptionType, children),
        st.builds(t.ResultType, st.none() | children, st.none() | children),
        st.builds(t.MapType, st.sampled_from(KEY_TYPES), children),
    )


value_types: st.SearchStrategy[t.Type] = st.recursive(
    st.sampled_from(PRIMS), _compound, max_leaves=8)

_INT = {"s8": 8, "u8": 8, "s16": 16, "u16": 16, "s32": 32, "u32": 32, "s64": 64, "u64": 64}


def values(vt: t.Type) -> st.SearchStrategy[Any]:
    match vt:
        case t.PrimType("bool"):
            return st.booleans()
        case t.PrimType(name) if name in _INT:
            bits = _INT[name]
            if name[0] == "u":
                return st.integers(0, (1 << bits) - 1)
            return st.integers(-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
        case t.PrimType("f32"):
            return st.floats(width=32, allow_nan=False)
        case t.PrimType("f64"):
            return st.floats(allow_nan=False)
        case t.PrimType("char"):
            return st.characters(exclude_categories=["Cs"])  # a char is a Unicode scalar value
        case t.PrimType("string"):
            return st.text(max_size=12) | st.text(st.characters(max_codepoint=0xFF), max_size=12)
        case t.ListType(e, None):
            if e == t.U8:
                return st.binary(max_size=12)
            return st.lists(values(e), max_size=4)
        case t.ListType(e, n):
            assert n is not None, "the case above took the lists without a fixed length"
            return st.lists(values(e), min_size=n, max_size=n)
        case t.RecordType(fields):
            return st.fixed_dictionaries({n: values(u) for n, u in fields}).map(Record)
        case t.TupleType(ts):
            return st.tuples(*(values(u) for u in ts))
        case t.VariantType(cases):
            return st.one_of(*(st.just(Variant(n)) if u is None else
                               values(u).map(partial(Variant, n)) for n, u in cases))
        case t.EnumType(names):
            return st.sampled_from(names)
        case t.FlagsType(names):
            return st.frozensets(st.sampled_from(names))
        case t.OptionType(inner):
            some = values(inner)
            if isinstance(inner, t.OptionType):
                some = some.map(Some)
            return st.none() | some
        case t.ResultType(ok, err):
            oks = st.just(Ok(None)) if ok is None else values(ok).map(Ok)
            errs = st.just(Err(None)) if err is None else values(err).map(Err)
            return oks | errs
        case t.MapType(k, v):
            return st.dictionaries(values(k), values(v), max_size=3)
    raise AssertionError(vt)
