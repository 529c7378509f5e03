"""Static layout of component values: despecialisation, alignment, element size and flattening.

Everything here is a pure function of a type (and the pointer type of the memory), computed once
and cached, so the lift/lower builders and the runtime can ask freely. Names follow
CanonicalABI.md (``despecialize``, ``alignment``, ``elem_size``, ``flatten_type``,
``flatten_functype``, ``discriminant_type``, ``join``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Literal

from .. import types as t

__all__ = [
    "DEFAULT_HOSTCALL_FUEL",
    "MAX_FLAT_ASYNC_PARAMS",
    "MAX_FLAT_PARAMS",
    "MAX_FLAT_RESULTS",
    "MAX_LIST_BYTE_LENGTH",
    "MAX_STRING_BYTE_LENGTH",
    "REALLOC_I32_MAX",
    "CoreFuncSig",
    "PtrType",
    "align_to",
    "alignment",
    "case_types",
    "contains_borrow",
    "contains_type",
    "despecialize",
    "discriminant_size",
    "elem_size",
    "field_offsets",
    "flatten_functype",
    "flatten_type",
    "flatten_types",
    "join",
    "max_case_alignment",
    "payload_offset",
    "ptr_size",
]

PtrType = Literal["i32", "i64"]

MAX_FLAT_PARAMS = 16
MAX_FLAT_ASYNC_PARAMS = 4
MAX_FLAT_RESULTS = 1
REALLOC_I32_MAX = 2**32 - 1
MAX_STRING_BYTE_LENGTH = (1 << 28) - 1
MAX_LIST_BYTE_LENGTH = (1 << 28) - 1
#: wasmtime's default "hostcall fuel" (``Store::set_hostcall_fuel``): the bytes of guest data one
#: lift may turn into host values (each list its byte length, each string its bytes), refilled
#: for every lift: a call's parameters or results, one stream/future copy. Bounds what a guest
#: makes the host allocate (lists aliasing the same memory would otherwise lift into gigabytes).
DEFAULT_HOSTCALL_FUEL = 128 << 20


def ptr_size(ptr_type: PtrType) -> int:
    return 4 if ptr_type == "i32" else 8


def align_to(ptr: int, alignment: int) -> int:
    return -(-ptr // alignment) * alignment


@lru_cache(maxsize=4096)
def despecialize(vt: t.Type) -> t.Type:
    """The fundamental type a specialised type (tuple, enum, option, result, map) expands to."""
    match vt:
        case t.TupleType(ts):
            return t.RecordType(tuple((str(i), u) for i, u in enumerate(ts)))
        case t.EnumType(labels):
            return t.VariantType(tuple((label, None) for label in labels))
        case t.OptionType(u):
            return t.VariantType((("none", None), ("some", u)))
        case t.ResultType(ok, err):
            return t.VariantType((("ok", ok), ("error", err)))
        case t.MapType(k, v):
            return t.ListType(despecialize(t.TupleType((k, v))))
        case _:
            return vt


def case_types(vt: t.Type) -> tuple[t.Type | None, ...]:
    """The payload types of the cases of a variant-like type, in case order."""
    d = despecialize(vt)
    assert isinstance(d, t.VariantType), "only variant-like types have cases"
    return tuple(c for _, c in d.cases)


_PRIM_SIZE = {
    "bool": 1, "s8": 1, "u8": 1, "s16": 2, "u16": 2, "s32": 4, "u32": 4, "s64": 8, "u64": 8,
    "f32": 4, "f64": 8, "char": 4, "error-context": 4,
}


@lru_cache(maxsize=4096)
def alignment(vt: t.Type, ptr_type: PtrType = "i32") -> int:
    d = despecialize(vt)
    match d:
        case t.PrimType("string"):
            return ptr_size(ptr_type)
        case t.PrimType(name):
            return _PRIM_SIZE[name]
        case t.ListType(e, length):
            return alignment(e, ptr_type) if length is not None else ptr_size(ptr_type)
        case t.RecordType(fields):
            return max((alignment(u, ptr_type) for _, u in fields), default=1)
        case t.VariantType(cases):
            return max(discriminant_size(len(cases)), max_case_alignment(d, ptr_type))
        case t.FlagsType(labels):
            return _flags_size(len(labels))
        case t.OwnType() | t.BorrowType() | t.StreamType() | t.FutureType():
            return 4
    raise AssertionError(f"not a value type: {vt!r}")


def discriminant_size(n: int) -> int:
    """Byte size of the smallest unsigned integer holding ``n`` case indices."""
    assert 0 < n < (1 << 32), "validation bounds the number of cases"
    return 1 if n <= 1 << 8 else 2 if n <= 1 << 16 else 4


def _flags_size(n: int) -> int:
    assert 0 < n <= 32, "validation bounds flags to 1..32 labels"
    return 1 if n <= 8 else 2 if n <= 16 else 4


def max_case_alignment(vt: t.Type, ptr_type: PtrType = "i32") -> int:
    return max((alignment(c, ptr_type) for c in case_types(vt) if c is not None), default=1)


@lru_cache(maxsize=4096)
def elem_size(vt: t.Type, ptr_type: PtrType = "i32") -> int:
    d = despecialize(vt)
    match d:
        case t.PrimType("string"):
            return 2 * ptr_size(ptr_type)
        case t.PrimType(name):
            return _PRIM_SIZE[name]
        case t.ListType(e, length):
            return length * elem_size(e, ptr_type) if length is not None else 2 * ptr_size(ptr_type)
        case t.RecordType(fields):
            s = 0
            for _, u in fields:
                s = align_to(s, alignment(u, ptr_type)) + elem_size(u, ptr_type)
            assert s > 0, "validation rejects empty records"
            return align_to(s, alignment(d, ptr_type))
        case t.VariantType(cases):
            s = payload_offset(d, ptr_type)
            s += max((elem_size(c, ptr_type) for _, c in cases if c is not None), default=0)
            return align_to(s, alignment(d, ptr_type))
        case t.FlagsType(labels):
            return _flags_size(len(labels))
        case t.OwnType() | t.BorrowType() | t.StreamType() | t.FutureType():
            return 4
    raise AssertionError(f"not a value type: {vt!r}")


@lru_cache(maxsize=4096)
def field_offsets(vt: t.Type, ptr_type: PtrType = "i32") -> tuple[int, ...]:
    """Byte offsets of the fields of a record or tuple (or elements of a fixed-length list)."""
    d = despecialize(vt)
    if isinstance(d, t.ListType):
        assert d.length is not None, "only fixed-length lists have static element offsets"
        size = elem_size(d.element, ptr_type)
        return tuple(i * size for i in range(d.length))
    assert isinstance(d, t.RecordType), "only records have fields"
    offs = []
    s = 0
    for _, u in d.fields:
        s = align_to(s, alignment(u, ptr_type))
        offs.append(s)
        s += elem_size(u, ptr_type)
    return tuple(offs)


@lru_cache(maxsize=4096)
def payload_offset(vt: t.Type, ptr_type: PtrType = "i32") -> int:
    """Byte offset of the payload of a variant-like type (after the discriminant)."""
    n = len(case_types(vt))
    return align_to(discriminant_size(n), max_case_alignment(vt, ptr_type))


# ---------------------------------------------------------------------------------------------
# Flattening


def join(a: str, b: str) -> str:
    if a == b:
        return a
    if {a, b} == {"i32", "f32"}:
        return "i32"
    return "i64"


@lru_cache(maxsize=4096)
def flatten_type(vt: t.Type, ptr_type: PtrType = "i32") -> tuple[str, ...]:
    d = despecialize(vt)
    match d:
        case t.PrimType("s64" | "u64"):
            return ("i64",)
        case t.PrimType("f32"):
            return ("f32",)
        case t.PrimType("f64"):
            return ("f64",)
        case t.PrimType("string"):
            return (ptr_type, ptr_type)
        case t.PrimType():
            return ("i32",)
        case t.ListType(e, length):
            if length is not None:
                return flatten_type(e, ptr_type) * length
            return (ptr_type, ptr_type)
        case t.RecordType(fields):
            return tuple(ft for _, u in fields for ft in flatten_type(u, ptr_type))
        case t.VariantType(cases):
            flat: list[str] = []
            for _, c in cases:
                if c is not None:
                    for i, ft in enumerate(flatten_type(c, ptr_type)):
                        if i < len(flat):
                            flat[i] = join(flat[i], ft)
                        else:
                            flat.append(ft)
            return ("i32", *flat)
        case t.FlagsType() | t.OwnType() | t.BorrowType() | t.StreamType() | t.FutureType():
            return ("i32",)
    raise AssertionError(f"not a value type: {vt!r}")


def contains_type(vt: t.Type, leaf: Callable[[t.Type], bool]) -> bool:
    """Whether a value of type ``vt`` can hold a value of a type that ``leaf`` holds true of
    (a stream's or future's payload is not held by the value itself). The one such walk: the
    validator's rules on borrows in results and payloads (:func:`contains_borrow`) and the
    check of host stream writes (``lower.holds_handle``) use it."""
    if leaf(vt):
        return True
    match vt:
        case t.ListType(e, _) | t.OptionType(e):
            return contains_type(e, leaf)
        case t.RecordType(fields):
            return any(contains_type(u, leaf) for _, u in fields)
        case t.TupleType(ts):
            return any(contains_type(u, leaf) for u in ts)
        case t.VariantType(cases):
            return any(u is not None and contains_type(u, leaf) for _, u in cases)
        case t.ResultType(ok, err):
            return any(u is not None and contains_type(u, leaf) for u in (ok, err))
        case t.MapType(k, v):
            return contains_type(k, leaf) or contains_type(v, leaf)
    return False


def contains_borrow(vt: t.Type) -> bool:
    """Whether a value of type ``vt`` can hold a ``borrow`` handle."""
    return contains_type(vt, lambda u: isinstance(u, t.BorrowType))


def flatten_types(ts: tuple[t.Type, ...], ptr_type: PtrType = "i32") -> tuple[str, ...]:
    return tuple(ft for u in ts for ft in flatten_type(u, ptr_type))


class CoreFuncSig:
    """The core signature of a lifted or lowered function (``flatten_functype``'s result)."""

    __slots__ = ("params", "params_spilled", "results", "results_spilled")

    def __init__(
        self,
        params: tuple[str, ...],
        results: tuple[str, ...],
        params_spilled: bool,
        results_spilled: bool,
    ) -> None:
        self.params = params
        self.results = results
        self.params_spilled = params_spilled
        self.results_spilled = results_spilled

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CoreFuncSig) and (self.params, self.results) == (
            other.params, other.results)

    def __hash__(self) -> int:
        return hash((self.params, self.results))

    def __repr__(self) -> str:
        return f"CoreFuncSig(params={self.params}, results={self.results})"


@lru_cache(maxsize=1024)
def flatten_functype(
    ft: t.FuncType, context: Literal["lift", "lower"], ptr_type: PtrType = "i32",
    is_async: bool = False, callback: bool = False,
) -> CoreFuncSig:
    """The core signature of ``ft`` when lifted (an export) or lowered (an import): the spec's
    ``flatten_functype``, sync or (``is_async``) async, ``callback`` for an async lift with a
    callback. The one definition: the validator checks core types against it too."""
    params = flatten_types(tuple(u for _, u in ft.params), ptr_type)
    results = flatten_type(ft.result, ptr_type) if ft.result is not None else ()
    if not is_async:
        params_spilled = len(params) > MAX_FLAT_PARAMS
        results_spilled = len(results) > MAX_FLAT_RESULTS
        if params_spilled:
            params = (ptr_type,)
        if results_spilled:
            if context == "lift":
                results = (ptr_type,)
            else:
                params = (*params, ptr_type)
                results = ()
    elif context == "lift":
        params_spilled, results_spilled = len(params) > MAX_FLAT_PARAMS, False
        if params_spilled:
            params = (ptr_type,)
        results = ("i32",) if callback else ()
    else:
        params_spilled, results_spilled = len(params) > MAX_FLAT_ASYNC_PARAMS, bool(results)
        if params_spilled:
            params = (ptr_type,)
        if results:
            params = (*params, ptr_type)
        results = ("i32",)
    return CoreFuncSig(params, results, params_spilled, results_spilled)
