"""The user's own classes as WIT types, through the generated adapters: for generated types,
classes are made to match (a dataclass per record, an Enum per enum, a Flag per flags with its
bits in another order, a dataclass per variant case), the annotation is fitted to the type
(``typed.fit``), and ``lift(lower(v)) == v`` holds for values of those classes, flat, through
memory and through function adapters, for every string encoding."""

from __future__ import annotations

import dataclasses
import enum
import functools
import operator
from collections.abc import Callable
from itertools import count
from typing import Any, Union

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wasm_component import types as t
from wasm_component._abi import alignment, elem_size, func_abi, lift_flat, load, lower_flat, store
from wasm_component._abi.mapped import is_mapped
from wasm_component.typed import WIT_NAME, fit
from wasm_component.values import Err, Ok, Some, Variant

from .strategies import value_types, values
from .support import ENCODINGS, make_cx

SETTINGS = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

_serial = count()
Conv = Callable[[Any], Any]


def _same(v: Any) -> Any:
    return v


def classes_for(vt: t.Type) -> tuple[Any, Conv]:
    """An annotation for ``vt`` naming classes made for it, and the conversion of a value in
    the library's form (as ``strategies.values`` makes it) to one of those classes."""
    n = next(_serial)
    match vt:
        case t.PrimType("bool"):
            return bool, _same
        case t.PrimType("f32" | "f64"):
            return float, _same
        case t.PrimType("char" | "string"):
            return str, _same
        case t.PrimType():
            return int, _same
        case t.ListType(t.PrimType("u8"), None):
            return bytes, _same
        case t.ListType(e, _):
            ann, conv = classes_for(e)
            return list[ann], lambda v: [conv(x) for x in v]  # type: ignore[valid-type]
        case t.TupleType(ts):
            parts = [classes_for(u) for u in ts]
            return (tuple[tuple(a for a, _ in parts)],  # type: ignore[misc]
                    lambda v: tuple(c(x) for (_, c), x in zip(parts, v, strict=True)))
        case t.RecordType(fields):
            parts = [classes_for(u) for _, u in fields]
            cls = dataclasses.make_dataclass(
                f"Rec{n}", [(name, a) for (name, _), (a, _) in zip(fields, parts, strict=True)],
                frozen=True)
            return cls, lambda v: cls(*(c(v[name]) for (name, _), (_, c)
                                        in zip(fields, parts, strict=True)))
        case t.VariantType(cases):
            made: dict[str, tuple[Any, Conv | None]] = {}
            for name, u in cases:
                if u is None:
                    made[name] = (dataclasses.make_dataclass(f"Case{n}", [], frozen=True), None)
                else:
                    a, c = classes_for(u)
                    made[name] = (dataclasses.make_dataclass(f"Case{n}", [("value", a)],
                                                             frozen=True), c)
                setattr(made[name][0], WIT_NAME, name)

            def conv_case(v: Variant) -> Any:
                cls, c = made[v.case]
                return cls() if c is None else cls(c(v.payload))

            members = tuple(cls for cls, _ in made.values())
            return (members[0] if len(members) == 1 else Union[members],  # noqa: UP007
                    conv_case)
        case t.EnumType(names):
            ecls = enum.Enum(f"En{n}", {name.upper(): name for name in names})  # type: ignore[misc]
            return ecls, ecls
        case t.FlagsType(names):
            # bits in the reverse order of the flags: lowering converts them
            fcls = enum.Flag(f"Fl{n}", {name.upper(): 1 << (len(names) - 1 - i)  # type: ignore[misc]
                                        for i, name in enumerate(names)})

            def conv_flags(v: frozenset[str]) -> Any:
                return functools.reduce(operator.or_, (fcls[x.upper()] for x in v), fcls(0))

            return fcls, conv_flags
        case t.OptionType(inner):
            a, c = classes_for(inner)
            if isinstance(inner, t.OptionType):
                return (Some[a] | None,  # type: ignore[valid-type]
                        lambda v: None if v is None else Some(c(v.value)))
            return a | None, lambda v: None if v is None else c(v)
        case t.ResultType(ok, err):
            oa, oc = classes_for(ok) if ok is not None else (None, _same)
            ea, ec = classes_for(err) if err is not None else (None, _same)
            return (Ok[oa] | Err[ea],  # type: ignore[valid-type]
                    lambda v: Ok(oc(v.value)) if isinstance(v, Ok) else Err(ec(v.value)))
        case t.MapType(k, u):
            ka, kc = classes_for(k)
            va, vc = classes_for(u)
            return (dict[ka, va],  # type: ignore[valid-type]
                    lambda v: {kc(x): vc(y) for x, y in v.items()})
    raise AssertionError(vt)


@st.composite
def user_values(draw: st.DrawFn) -> tuple[t.Type, Any]:
    """A type with the user's classes mapped in, and a value of it in those classes."""
    vt = draw(value_types)
    ann, conv = classes_for(vt)
    mapped = fit(ann, vt, inbound=False)
    assert fit(ann, vt, inbound=True) == mapped  # one mapping both ways
    return mapped, conv(draw(values(vt)))


@SETTINGS
@given(user_values(), st.sampled_from(ENCODINGS))
def test_flat_roundtrip(tv: tuple[t.Type, Any], enc: str) -> None:
    vt, v = tv
    cx, _ = make_cx(enc)
    assert lift_flat(cx, vt, lower_flat(cx, vt, v)) == v


@SETTINGS
@given(user_values(), st.sampled_from(ENCODINGS))
def test_memory_roundtrip(tv: tuple[t.Type, Any], enc: str) -> None:
    vt, v = tv
    cx, mem = make_cx(enc)
    ptr = mem.realloc(0, 0, alignment(vt), elem_size(vt))
    store(cx, vt, v, ptr)
    assert load(cx, vt, ptr) == v


@SETTINGS
@given(st.lists(user_values(), min_size=1, max_size=6), st.sampled_from(ENCODINGS),
       st.booleans())
def test_function_roundtrip(params: list[tuple[t.Type, Any]], enc: str, wide: bool) -> None:
    """Export adapters (lowering the parameters, lifting the result for the host) against
    import adapters (lifting the parameters for the host, lowering the result), spilled past
    the flat limits too."""
    if wide:
        params = [*params, *[(t.U64, i) for i in range(17)]]
    ft = t.FuncType(tuple((f"p{i}", vt) for i, (vt, _) in enumerate(params)), params[0][0])
    abi = func_abi(ft, enc)
    cx, mem = make_cx(enc)
    args = [v for _, v in params]
    flat = abi.lower_params(cx, args)
    assert abi.lift_params_host(cx, [*flat, 0]) == args
    vt, v = params[0]
    if abi.lower_sig.results_spilled:
        retptr = mem.realloc(0, 0, alignment(vt), elem_size(vt))
        assert abi.lower_results(cx, v, [*flat, retptr]) == []
        assert abi.lift_results_host(cx, [retptr]) == v
    else:
        assert abi.lift_results_host(cx, abi.lower_results(cx, v, flat)) == v


def test_the_strategy_maps_classes() -> None:
    rec = t.RecordType((("f0", t.EnumType(("e0", "e1"))),))
    ann, _ = classes_for(rec)
    assert is_mapped(fit(ann, rec, inbound=False))
