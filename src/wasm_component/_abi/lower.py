"""Lowering: Python values -> core values and linear memory (the spec's ``lower_flat`` and
``store``), specialised per type by generating Python source once (see :mod:`.codegen`).

Flat outputs are Python ``int`` (``i32``/``i64`` always unsigned, as in the spec) and ``float``
(``f32`` values already rounded to single precision). Bad host values raise ``TypeError`` (wrong
Python type) or ``ValueError`` (out of range, unknown case or flag, lone surrogate, wrong fixed
length) whose message ends with the path to the bad part, e.g. ``expected u32, got str in field
"x" of record in element 3 of list``; callers append their own context through ``where``.
Faults of the guest (``realloc`` results out of bounds or misaligned, bad out-pointers) trap.

Accepted host forms are documented in :mod:`wasm_component.values`; lowering also accepts any
``Mapping`` or attribute-bearing object (dataclass) for a record, any sequence for a tuple or
list, bytes-likes for ``list<u8>``, ``enum.Enum`` members for enums, ``enum.Flag`` or any
iterable of names for flags and ``Some(v)`` for any option.
"""

from __future__ import annotations

import enum
import math
import operator
import struct
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import cache, lru_cache
from typing import Any, NoReturn

from .. import types as t
from ..values import Err, Ok, Record, Some, Variant
from . import handles
from .codegen import MAX_LOOP_NESTING, CodeGen, struct_for
from .context import CanonicalOptions, LiftLowerContext, StringEncoding, Task
from .floats import f32_bits, f64_bits
from .layout import (
    MAX_LIST_BYTE_LENGTH,
    MAX_STRING_BYTE_LENGTH,
    PtrType,
    alignment,
    case_types,
    contains_type,
    despecialize,
    elem_size,
    field_offsets,
    flatten_type,
    payload_offset,
    ptr_size,
)
from .lift import _LITTLE, BULK_CODES, M32, M64, STRUCT_CODE, _members, static_slots
from .mapped import MappedEnum, MappedFlags, MappedRecord, MappedVariant
from .strings import (
    LiftedStr,
    lifted_string_storer,
    string_storer,
    string_too_long,
    utf16_encode,
)

__all__ = ["LowerGen", "build_lower_flat", "build_store", "holds_handle", "lower_flat", "store",
           "values_check"]

F32_MAX = 3.4028234663852886e38
_INT_RANGE = t.INT_RANGES
_f32 = struct_for("<f")


# -- error paths (never on the fast path) ------------------------------------------------------


def _tname(v: Any) -> str:
    return "None" if v is None else type(v).__name__


def _bad_type(v: Any, expected: str, where: str) -> NoReturn:
    raise TypeError(f"expected {expected}, got {_tname(v)}{where}")


def _int_slow(v: Any, lo: int, hi: int, name: str, where: str) -> int:
    try:
        i = operator.index(v)
    except TypeError:
        _bad_type(v, name, where)
    if not lo <= i <= hi:
        raise ValueError(f"{name} out of range: {i}{where}")
    return i


def _bool_slow(v: Any, where: str) -> int:
    _bad_type(v, "bool", where)


def _float_slow(v: Any, name: str, where: str) -> float:
    if isinstance(v, (int, float)) or hasattr(type(v), "__float__"):
        try:
            f = float(v)
        except OverflowError:
            raise ValueError(f"{name} out of range: {v}{where}") from None
        if name == "f32":
            if f != f:
                return math.nan
            if abs(f) > F32_MAX:
                try:
                    _f32.pack(f)
                except OverflowError:  # rounds past the largest f32: infinity, as f32.demote
                    return math.copysign(math.inf, f)
        return f
    _bad_type(v, name, where)


def _char_slow(v: Any, where: str) -> int:
    if not isinstance(v, str):
        _bad_type(v, "char", where)
    if len(v) != 1:
        raise ValueError(f"expected a single character, got a string of length {len(v)}{where}")
    c = ord(v)
    if 0xD800 <= c <= 0xDFFF:
        raise ValueError(f"char is a lone surrogate {c:#x}{where}")
    return c


def _str_slow(v: Any, where: str) -> str:
    if isinstance(v, str):
        return str(v)
    _bad_type(v, "string", where)


@cache
def _other_str_storer(enc: StringEncoding, pt: PtrType) -> Callable[..., Any]:
    """Stores a string value that is not exactly a ``str``: a :class:`LiftedStr` (passed on
    from another component) by the spec's transcoding algorithm, else via ``_str_slow``."""
    fast = string_storer(enc, pt)
    lifted = lifted_string_storer(enc, pt)

    def store_other(cx: LiftLowerContext, v: Any, where: str) -> Any:
        if isinstance(v, LiftedStr):
            return lifted(cx, v)
        return fast(cx, _str_slow(v, where))

    return store_other


def _lone_surrogate(v: str, where: str) -> NoReturn:
    raise ValueError(f"string contains a lone surrogate{where}")


def _record_slow(v: Any, names: tuple[str, ...], where: str) -> dict[str, Any]:
    if isinstance(v, Mapping):
        return _record_fallback(v, names, where)
    if isinstance(v, (str, bytes, int, float, list, tuple)) or v is None:
        _bad_type(v, "record", where)
    out = {}
    for n in names:
        for attr in (n, n.replace("-", "_")):
            if hasattr(v, attr):
                out[n] = getattr(v, attr)
                break
        else:
            raise TypeError(f"record is missing field {n!r} ({_tname(v)} has no such "
                            f"attribute){where}")
    return out


def _record_fallback(d: Mapping[str, Any], names: tuple[str, ...], where: str
                     ) -> dict[str, Any]:
    """The fields of a mapping whose keys are not exactly ``names``: kebab-case fields may be
    spelled in snake_case (``link_count`` for ``link-count``); otherwise a record's fields are
    exactly its type's, so say which is missing, or which is unknown (``TypeError``). Off the
    fast path, which takes a mapping with exactly the names as they are."""
    out = {}
    used = set()
    for n in names:
        if n in d:
            out[n] = d[n]
            used.add(n)
        elif "-" in n and (snake := n.replace("-", "_")) in d:
            out[n] = d[snake]
            used.add(snake)
        else:
            raise TypeError(f"record is missing field {n!r}{where}")
    extra = sorted(str(k) for k in d if k not in used)
    if extra:
        raise TypeError(f"record has unknown field {extra[0]!r} (expected the fields "
                        f"{', '.join(names)}){where}")
    return out


def _seq_slow(v: Any, n: int, what: str, where: str) -> Any:
    if isinstance(v, (str, Mapping)) or not hasattr(v, "__len__") or not hasattr(v, "__iter__"):
        _bad_type(v, what, where)
    if len(v) != n:
        raise ValueError(f"expected {what} of length {n}, got length {len(v)}{where}")
    return list(v)


def _list_slow(v: Any, where: str) -> list[Any]:
    if isinstance(v, (str, bytes, Mapping)) or not isinstance(v, Iterable):
        _bad_type(v, "list", where)
    if isinstance(v, Iterator):  # a one-shot iterator: a failed call would have consumed it
        _bad_type(v, "list (a sequence, not a one-shot iterator: pass list(...))", where)
    return list(v)


def _map_items(v: Any, where: str) -> list[tuple[Any, Any]]:
    if isinstance(v, Mapping):
        return list(v.items())
    _bad_type(v, "map (a dict)", where)


def _variant_slow(v: Any, names: tuple[str, ...], bare: frozenset[str], where: str) -> Variant:
    """A value given for a variant that is not a :class:`Variant`: the bare name of a case
    without a payload stands for that case (as for an enum), anything else is a type error."""
    if isinstance(v, str) and v in bare:
        return Variant(v)
    if isinstance(v, enum.Enum) and isinstance(v.value, str) and v.value in bare:
        return Variant(v.value)
    if isinstance(v, str) and v in names:
        raise TypeError(f"case {v!r} has a payload: expected Variant({v!r}, payload){where}")
    _bad_type(v, f"Variant with case one of {', '.join(names)}", where)


def _unknown_case(case: Any, names: tuple[str, ...], where: str) -> NoReturn:
    raise ValueError(f"unknown case {case!r}, expected one of {', '.join(names)}{where}")


def _no_payload(case: str, where: str) -> NoReturn:
    raise TypeError(f"case {case!r} has no payload{where}")


def _enum_slow(v: Any, idx: dict[str, int], names: tuple[str, ...], where: str) -> int:
    if isinstance(v, enum.Enum):
        for key in (v.value, v.name):
            if isinstance(key, str) and key in idx:
                return idx[key]
        _unknown_case(v.name, names, where)
    if isinstance(v, str):
        if v in idx:
            return idx[v]
        _unknown_case(v, names, where)
    _bad_type(v, "enum case name", where)


def _result_slow(v: Any, where: str) -> int:
    _bad_type(v, "Ok or Err", where)


def _lower_flags(v: Any, idx: dict[str, int], where: str) -> int:
    if isinstance(v, enum.Flag):
        names: Iterable[Any] = [m.name for m in v]
    elif isinstance(v, Mapping):
        names = [k for k, on in v.items() if on]
    elif isinstance(v, (str, bytes)) or not isinstance(v, Iterable):
        _bad_type(v, "flags (an iterable of names)", where)
    else:
        names = v
    bits = 0
    for name in names:
        b = idx.get(name) if isinstance(name, str) else None
        if b is None:
            raise ValueError(f"unknown flag {name!r}, expected some of {', '.join(idx)}{where}")
        bits |= 1 << b
    return bits


def _instance_slow(v: Any, cls: type, where: str) -> Any:
    """A value for a record mapped to ``cls`` that is not exactly a ``cls``: a subclass."""
    if isinstance(v, cls):
        return v
    _bad_type(v, cls.__name__, where)


def _typeddict_slow(v: Any, keys: tuple[str, ...], cls: type, where: str) -> Any:
    """A value for a record mapped to TypedDict ``cls`` without exactly its keys."""
    if not isinstance(v, Mapping):
        _bad_type(v, f"{cls.__name__} (a dict)", where)
    missing = [k for k in keys if k not in v]
    if missing:
        raise TypeError(f"{cls.__name__} is missing key {missing[0]!r}{where}")
    extra = sorted(str(k) for k in v if k not in keys)
    raise TypeError(f"{cls.__name__} has unknown key {extra[0]!r}{where}")


def _mapped_enum_slow(v: Any, vt: MappedEnum, where: str) -> int:
    if isinstance(v, vt.cls) and v in vt.members:
        return vt.members.index(v)
    _bad_type(v, vt.cls.__name__, where)


def _mapped_flags_slow(v: Any, vt: MappedFlags, where: str) -> int:
    if isinstance(v, vt.cls):
        return vt.bits_of(v)
    _bad_type(v, vt.cls.__name__, where)


def _mapped_case_slow(v: Any, vt: MappedVariant, where: str) -> int:
    for i, cls in enumerate(vt.classes):
        if cls is not None and isinstance(v, cls):
            return i
    names = " | ".join(c.__name__ for c in vt.classes if c is not None)
    _bad_type(v, names, where)


def _no_value(v: Any) -> None:
    return None


def _check_elements(v: Any, name: str, where: str) -> NoReturn:
    """Find the bad element of a list that failed bulk conversion, and say why."""
    items = _list_slow(v, where)
    lo, hi = _INT_RANGE.get(name, (0, 0))
    for i, e in enumerate(items):
        w = f" in element {i} of list{where}"
        if name in ("f32", "f64"):
            _float_slow(e, name, w)
        else:
            _int_slow(e, lo, hi, name, w)
    raise ValueError(f"invalid list<{name}>{where}")  # pragma: no cover - found above


# -- allocation and bulk stores ----------------------------------------------------------------


def _alloc_list(
    cx: LiftLowerContext, n: int, size: int, align: int, where: str
) -> tuple[int, memoryview]:
    nb = n * size
    if nb > MAX_LIST_BYTE_LENGTH:
        raise ValueError(f"list of {n} elements exceeds the maximum byte length{where}")
    return cx.alloc(align, nb)


def _too_long(n: int, where: str) -> NoReturn:
    raise ValueError(f"list of {n} elements exceeds the maximum byte length{where}")


def _store_bytes(cx: LiftLowerContext, v: Any, where: str) -> tuple[int, int, memoryview]:
    c = v.__class__
    if c is bytes or c is bytearray:
        b: Any = v
    elif c is memoryview:
        b = v.cast("B") if v.format != "B" or v.ndim != 1 else v
    else:
        try:
            b = bytes(_list_slow(v, where))
        except (TypeError, ValueError):
            _check_elements(v, "u8", where)
    n = len(b)
    p, m = _alloc_list(cx, n, 1, 1, where)
    m[p : p + n] = b
    return p, n, m


def _bulk_storer(name: str, pt: PtrType) -> Callable[..., tuple[int, int, memoryview]]:
    code = BULK_CODES[name]
    size = struct_for("<" + code).size
    if not _LITTLE:  # pragma: no cover - big-endian hosts
        fmt = "<{}" + code

        def to_bytes(v: Any) -> Any:
            return struct_for(fmt.format(len(v))).pack(*v)
    else:

        def to_bytes(v: Any) -> Any:
            return memoryview(array(code, v)).cast("B")

    def store_bulk(cx: LiftLowerContext, v: Any, where: str) -> tuple[int, int, memoryview]:
        if v.__class__ is not list:
            v = _list_slow(v, where)
        try:
            b = to_bytes(v)
        except (TypeError, OverflowError, ValueError):
            _check_elements(v, name, where)
        n = len(v)
        nb = n * size  # (``_alloc_list`` inline: the hot path of a small list)
        if nb > MAX_LIST_BYTE_LENGTH:
            raise ValueError(f"list of {n} elements exceeds the maximum byte length{where}")
        p, m = cx.alloc(size, nb)
        m[p : p + nb] = b
        return p, n, m

    return store_bulk


def _chars_to_bytes(v: Any, where: str) -> bytes:
    try:
        s = "".join(v)
        if len(s) == len(v):
            return s.encode("utf-32-le")
    except (TypeError, UnicodeEncodeError):
        pass
    for i, e in enumerate(_list_slow(v, where)):
        _char_slow(e, f" in element {i} of list{where}")
    raise ValueError(f"invalid list<char>{where}")  # pragma: no cover - found above


def _store_chars(cx: LiftLowerContext, v: Any, where: str) -> tuple[int, int, memoryview]:
    b = _chars_to_bytes(v, where)
    n = len(b) >> 2
    p, m = _alloc_list(cx, n, 4, 4, where)
    m[p : p + len(b)] = b
    return p, n, m


def _lower_own(cx: LiftLowerContext, v: Any, rt: t.ResourceType) -> int:
    if cx.resources:
        rt = cx.resources.get(rt, rt)
    return handles.lower_own(cx, cx.inst.lower_own(rt, v), rt)


def _lower_borrow(cx: LiftLowerContext, v: Any, rt: t.ResourceType) -> int:
    if cx.resources:
        rt = cx.resources.get(rt, rt)
    i = handles.lower_borrow(cx, cx.inst.lower_borrow(rt, v), rt)
    if hasattr(v, "num_lends") and isinstance(cx.borrow_scope, Task):
        cx.borrow_scope.lend(v)  # a host-held handle, lent for the call
    return i


Writes = list[tuple[int, str, str, "str | None"]]
"""Pending scalar writes: ``(offset, struct code, expression, slow check)``. The slow check,
when present, is the expression converting/diagnosing the value: numbers are range-checked by
``struct.pack_into`` itself and only re-checked (in field order) if it fails."""
_PACK_ERRORS = (struct.error, OverflowError, TypeError, ValueError)
_ZERO = {"i32": "0", "i64": "0", "f32": "0.0", "f64": "0.0"}


class LowerGen(CodeGen):
    """Emits the lowering code of one function. ``m`` is the memory view local, refreshed after
    every allocation; ``where`` is the caller's path suffix for error messages."""

    def __init__(self, encoding: StringEncoding, ptr_type: PtrType) -> None:
        super().__init__()
        self.enc = encoding
        self.pt = ptr_type
        self.pc = "I" if ptr_type == "i32" else "Q"

    def where(self, path: tuple[str, ...]) -> str:
        """f-string source of the error suffix for ``path`` (outermost segment first)."""
        text = "".join(f" in {seg}" for seg in reversed(path))
        return "f" + repr(text + "{where}")

    # -- scalars ---------------------------------------------------------------------------

    def prim(self, name: str, v: str, path: tuple[str, ...], flat: bool) -> str:
        """Checked raw value of primitive ``name``: flat (unsigned ints, rounded f32) or as
        packed by ``struct`` (signed ints as is)."""
        if name == "bool":
            b = self.var("b")
            self.emit(f"{b} = 1 if {v} is True else 0 if {v} is False else "
                      f"{self.const(_bool_slow)}({v}, {self.where(path)})")
            return b
        if name in _INT_RANGE:
            lo, hi = _INT_RANGE[name]
            x = self.assign(v, "i")
            with self.block(f"if {x}.__class__ is not int or not {lo} <= {x} <= {hi}:"):
                self.emit(f"{x} = {self.const(_int_slow)}({x}, {lo}, {hi}, {name!r}, "
                          f"{self.where(path)})")
            if flat and lo < 0:
                # the spec's ``lower_flat_signed``: two's complement in the core width (so
                # s8/s16 are sign-extended to 32 bits, not masked to their own width)
                return f"({x} & {M64 if name == 's64' else M32:#x})"
            return x
        if name in ("f32", "f64"):
            x = self.assign(v, "f")
            cond = f"{x}.__class__ is not float"
            if name == "f32":
                cond += f" or not -{F32_MAX!r} <= {x} <= {F32_MAX!r}"
            with self.block(f"if {cond}:"):
                self.emit(f"{x} = {self.const(_float_slow)}({x}, {name!r}, {self.where(path)})")
            if flat and name == "f32":
                f = self.const(_f32, "f32")
                return f"{f}.unpack({f}.pack({x}))[0]"
            return x
        if name == "char":
            c = self.var("c")
            slow = f"{self.const(_char_slow)}({v}, {self.where(path)})"
            self.emit(f"{c} = ord({v}) if {v}.__class__ is str and len({v}) == 1 else {slow}")
            with self.block(f"if 0xD800 <= {c} <= 0xDFFF:"):
                self.emit(slow)
            return c
        if name == "error-context":
            return f"{self.const(handles.lower_error_context)}(cx, {v})"
        raise AssertionError(f"not a scalar primitive: {name}")

    def handle(self, d: t.Type, v: str) -> str:
        if isinstance(d, t.OwnType):
            return self.assign(f"{self.const(_lower_own)}(cx, {v}, {self.const(d.resource)})")
        if isinstance(d, t.BorrowType):
            return self.assign(
                f"{self.const(_lower_borrow)}(cx, {v}, {self.const(d.resource)})")
        return self.assign(f"cx.lower_async_value({self.const(d, 't')}, {v})")

    def string(self, v: str, path: tuple[str, ...]) -> tuple[str, str]:
        if self.enc in ("utf8", "utf16"):
            return self._string_inline(v, path)
        sr = self.var("sr")
        with self.block(f"if {v}.__class__ is str:"):
            self.emit(f"{sr} = {self.const(string_storer(self.enc, self.pt), 'sstr')}(cx, {v})")
        with self.block("else:"):
            self.emit(f"{sr} = {self.const(_other_str_storer(self.enc, self.pt), 'ostr')}"
                      f"(cx, {v}, {self.where(path)})")
        with self.block(f"if {sr} is None:"):
            self.emit(f"{self.const(_lone_surrogate)}({v}, {self.where(path)})")
        sp, sn = self.var("sp"), self.var("sn")
        self.emit(f"{sp}, {sn}, m = {sr}")
        return sp, sn

    def _string_inline(self, v: str, path: tuple[str, ...]) -> tuple[str, str]:
        """A host ``str`` stored inline (``string_storer``'s copy, without its calls); other
        values (lifted strings, subclasses) take the generic path."""
        sp, sn, sb = self.var("sp"), self.var("sn"), self.var("sb")
        utf8 = self.enc == "utf8"
        with self.block(f"if {v}.__class__ is str:"):
            with self.block("try:"):
                self.emit(f"{sb} = {v}.encode('utf-8')" if utf8
                          else f"{sb} = {self.const(utf16_encode)}({v})[0]")
            with self.block("except UnicodeEncodeError:"):
                self.emit(f"{self.const(_lone_surrogate)}({v}, {self.where(path)})")
            self.emit(f"{sn} = len({sb})")
            self.emit(f"if {sn} > {MAX_STRING_BYTE_LENGTH}: {self.const(string_too_long)}({sn})")
            self.emit(f"{sp}, m = cx.alloc({1 if utf8 else 2}, {sn})")
            self.emit(f"m[{sp} : {sp} + {sn}] = {sb}")
            if not utf8:
                self.emit(f"{sn} >>= 1")
        with self.block("else:"):
            sr = self.var("sr")
            self.emit(f"{sr} = {self.const(_other_str_storer(self.enc, self.pt), 'ostr')}"
                      f"(cx, {v}, {self.where(path)})")
            with self.block(f"if {sr} is None:"):
                self.emit(f"{self.const(_lone_surrogate)}({v}, {self.where(path)})")
            self.emit(f"{sp}, {sn}, m = {sr}")
        return sp, sn

    # -- records and variants --------------------------------------------------------------

    def members(self, vt: t.Type, v: str, path: tuple[str, ...]) -> list[tuple[str, tuple[str,
                                                                                    ...]]]:
        """Local names (and paths) of the members of a record, tuple or fixed-length list."""
        v = self.assign(v)
        if isinstance(vt, MappedRecord):
            return self._mapped_members(vt, v, path)
        if isinstance(vt, t.RecordType):
            names = tuple(n for n, _ in vt.fields)
            d = self.var("d")
            w = self.where(path)
            rec = self.const(Record, "Record")
            with self.block(f"if {v}.__class__ is {rec}:"):
                self.emit(f"{d} = {v}._fields")
            with self.block(f"elif {v}.__class__ is dict:"):
                self.emit(f"{d} = {v}")
            with self.block("else:"):
                self.emit(f"{d} = {self.const(_record_slow)}({v}, {names!r}, {w})")
            with self.block(f"if {d}.keys() != {self.const(frozenset(names), 'names')}:"):
                self.emit(f"{d} = {self.const(_record_fallback)}({d}, {names!r}, {w})")
            out = []
            for n in names:
                seg = 'field "' + n.replace("{", "{{").replace("}", "}}") + '" of record'
                out.append((self.assign(f"{d}[{n!r}]", "e"), (*path, seg)))
            return out
        if isinstance(vt, t.TupleType):
            k, what = len(vt.types), "tuple"
        else:
            assert isinstance(vt, t.ListType) and vt.length is not None, "fixed-length list"
            k, what = vt.length, "list"
        with self.block(f"if {v}.__class__ is not {what} or len({v}) != {k}:"):
            self.emit(f"{v} = {self.const(_seq_slow)}({v}, {k}, {what!r}, {self.where(path)})")
        elems = tuple(self.var("e") for _ in range(k))
        self.emit(", ".join(elems) + ("," if k == 1 else "") + f" = {v}")
        return [(e, (*path, f"element {i} of {what}")) for i, e in enumerate(elems)]

    def _mapped_members(self, vt: MappedRecord, v: str, path: tuple[str, ...]
                        ) -> list[tuple[str, tuple[str, ...]]]:
        """The fields of a record given as its mapped class: attributes of a dataclass, keys
        of a TypedDict."""
        w = self.where(path)
        cls = self.const(vt.cls, "cls")
        if vt.is_dict:
            keys = self.const(frozenset(vt.attrs), "keys")
            with self.block(f"if {v}.__class__ is not dict or {v}.keys() != {keys}:"):
                self.emit(f"{self.const(_typeddict_slow)}({v}, {vt.attrs!r}, {cls}, {w})")
        else:
            with self.block(f"if {v}.__class__ is not {cls}:"):
                self.emit(f"{v} = {self.const(_instance_slow)}({v}, {cls}, {w})")
        out = []
        for (n, _), a in zip(vt.fields, vt.attrs, strict=True):
            seg = 'field "' + n.replace("{", "{{").replace("}", "}}") + '" of record'
            get = f"{v}[{a!r}]" if vt.is_dict else f"{v}.{a}"
            out.append((self.assign(get, "e"), (*path, seg)))
        return out

    def select_case(self, vt: t.Type, v: str, path: tuple[str, ...]) -> tuple[str, str, bool]:
        """Emit code computing the case index and payload of variant-like ``v``: returns their
        local names and whether payload-less cases must check the payload is ``None``."""
        v = self.assign(v)
        ci, pl = self.var("ci"), self.var("pl")
        w = self.where(path)
        names = tuple(c for c, _ in despecialize(vt).cases)  # type: ignore[attr-defined]
        idx = {n: i for i, n in enumerate(names)}
        if isinstance(vt, MappedEnum):
            cls = self.const(vt.cls, "cls")
            self.emit(f"{ci} = {self.const(vt.index(), 'idx')}[{v}] if {v}.__class__ is {cls} "
                      f"else {self.const(_mapped_enum_slow)}({v}, {self.const(vt, 't')}, {w})")
            return ci, pl, False
        if isinstance(vt, MappedVariant):
            self.emit(f"{ci} = {self.const(vt.index(), 'idx')}.get({v}.__class__)")
            with self.block(f"if {ci} is None:"):
                self.emit(f"{ci} = {self.const(_mapped_case_slow)}({v}, {self.const(vt, 't')}, "
                          f"{w})")
            getters = tuple(_no_value if a is None else operator.attrgetter(a)
                            for a in vt.attrs)
            self.emit(f"{pl} = {self.const(getters, 'get')}[{ci}]({v})")
            return ci, pl, False
        if isinstance(vt, t.OptionType):
            self.emit(f"{ci} = 0 if {v} is None else 1")
            self.emit(f"{pl} = {v}.value if {v}.__class__ is {self.const(Some, 'Some')} else {v}")
            return ci, pl, False
        if isinstance(vt, t.ResultType):
            ok, err = self.const(Ok, "Ok"), self.const(Err, "Err")
            self.emit(f"{ci} = 0 if {v}.__class__ is {ok} else 1 if {v}.__class__ is {err} "
                      f"else {self.const(_result_slow)}({v}, {w})")
            self.emit(f"{pl} = {v}.value")
            return ci, pl, True
        if isinstance(vt, t.EnumType):
            self.emit(f"{ci} = {self.const(idx, 'idx')}.get({v}) if {v}.__class__ is str else "
                      f"{self.const(_enum_slow)}({v}, {self.const(idx, 'idx')}, {names!r}, {w})")
            with self.block(f"if {ci} is None:"):
                self.emit(f"{self.const(_unknown_case)}({v}, {names!r}, {w})")
            return ci, pl, False
        bare = frozenset(n for n, ct in zip(names, case_types(vt), strict=True) if ct is None)
        with self.block(f"if {v}.__class__ is not {self.const(Variant, 'Variant')}:"):
            self.emit(f"{v} = {self.const(_variant_slow)}({v}, {names!r}, "
                      f"{self.const(bare, 'bare')}, {w})")
        self.emit(f"{ci} = {self.const(idx, 'idx')}.get({v}.case)")
        with self.block(f"if {ci} is None:"):
            self.emit(f"{self.const(_unknown_case)}({v}.case, {names!r}, {w})")
        self.emit(f"{pl} = {v}.payload")
        return ci, pl, True

    def branches(
        self, vt: t.Type, ci: str, pl: str, strict: bool, path: tuple[str, ...],
        case: Callable[[int, t.Type], None], none: Callable[[], None],
    ) -> None:
        """``if ci == i`` per payload case (``case(i, type)`` emits it) and an ``else`` for the
        payload-less ones (``none()``, after the strict payload check)."""
        cts = case_types(vt)
        names = [c for c, _ in despecialize(vt).cases]  # type: ignore[attr-defined]
        first = True
        for i, ct in enumerate(cts):
            if ct is None:
                continue
            with self.block(f"{'if' if first else 'elif'} {ci} == {i}:"):
                case(i, ct)
            first = False
        if any(ct is None for ct in cts):
            with self.block("else:") if not first else _nullcontext():
                if strict:
                    with self.block(f"if {pl} is not None:"):
                        self.emit(f"{self.const(_no_payload)}({self.const(names, 'names')}"
                                  f"[{ci}], {self.where(path)})")
                none()

    def case_path(self, vt: t.Type, i: int, path: tuple[str, ...]) -> tuple[str, ...]:
        names = [c for c, _ in despecialize(vt).cases]  # type: ignore[attr-defined]
        what = type(vt).__name__.removesuffix("Type").lower()
        name = names[i].replace("{", "{{").replace("}", "}}")
        return (*path, f'case "{name}" of {what}')

    # -- flat ------------------------------------------------------------------------------

    def flat(self, vt: t.Type, v: str, path: tuple[str, ...]) -> list[str]:
        """Expressions of the flat core values of ``v: vt`` (statements emitted first)."""
        d = despecialize(vt)
        match d:
            case t.PrimType("string"):
                v = self.assign(v, "s")
                return list(self.string(v, path))
            case t.PrimType(name):
                return [self.prim(name, v, path, True)]
            case t.ListType(e, None):
                return list(self.list_into_range(vt, e, v, path))
            case t.ListType() | t.RecordType():
                out: list[str] = []
                for (mv, mpath), u in zip(self.members(vt, v, path), _members(d), strict=True):
                    out += self.flat(u, mv, mpath)
                return out
            case t.VariantType():
                ci, pl, strict = self.select_case(vt, v, path)
                joined = flatten_type(d, self.pt)[1:]
                slots = [self.var("s") for _ in joined]

                def case(i: int, ct: t.Type) -> None:
                    vals = self.flat(ct, pl, self.case_path(vt, i, path))
                    have = flatten_type(ct, self.pt)
                    for j, s in enumerate(slots):
                        if j < len(vals):
                            self.emit(f"{s} = {self._coerce(vals[j], have[j], joined[j])}")
                        else:
                            self.emit(f"{s} = {_ZERO[joined[j]]}")

                def none() -> None:
                    for s, jt in zip(slots, joined, strict=True):
                        self.emit(f"{s} = {_ZERO[jt]}")

                self.branches(vt, ci, pl, strict, path, case, none)
                return [ci, *slots]
            case t.FlagsType(labels) if isinstance(vt, MappedFlags):
                v = self.assign(v)
                cls, t_ = self.const(vt.cls, "cls"), self.const(vt, "t")
                slow = f"{self.const(_mapped_flags_slow)}({v}, {t_}, {self.where(path)})"
                fast = f"{v}._value_" if vt.same_bits() else f"{t_}.bits_of({v})"
                return [self.assign(f"{fast} if {v}.__class__ is {cls} else {slow}", "fl")]
            case t.FlagsType(labels):
                idx = {n: i for i, n in enumerate(labels)}
                return [self.assign(f"{self.const(_lower_flags)}({v}, {self.const(idx, 'idx')}, "
                                    f"{self.where(path)})", "fl")]
        return [self.handle(d, v)]

    def _coerce(self, x: str, have: str, want: str) -> str:
        if have == want or (have, want) == ("i32", "i64"):
            return x
        if have == "f32":
            return f"{self.const(f32_bits)}({x})"
        assert (have, want) == ("f64", "i64"), "join only widens to i32 or i64"
        return f"{self.const(f64_bits)}({x})"

    # -- memory ----------------------------------------------------------------------------

    def flush(self, p: str, writes: Writes) -> None:
        """One ``struct.pack_into`` for the pending scalar writes at ``p``, then clear them.
        Numbers queued unchecked are checked by the packing; if it fails, their slow checks
        run in order (raising the precise error, or converting, e.g. ``bool`` or an ``f32``
        rounding past the largest finite value) and the packing is retried."""
        if not writes:
            return
        checks = [(e, c) for _, _, e, c in writes if c is not None]
        writes.sort(key=lambda w: w[0])
        base = writes[0][0]
        fmt = ["<"]
        cur = base
        for o, c, _, _ in writes:
            if o > cur:
                fmt.append(f"{o - cur}x")
            fmt.append(c)
            cur = o + struct_for("<" + c).size
        at = f"{p} + {base}" if base else p
        args = ", ".join(e for _, _, e, _ in writes)
        pack = f"{self.const(struct_for(''.join(fmt)), 'S')}.pack_into(m, {at}, {args})"
        writes.clear()
        if not checks:
            self.emit(pack)
            return
        with self.block("try:"):
            self.emit(pack)
        with self.block(f"except {self.const(_PACK_ERRORS, 'packerr')}:"):
            for e, c in checks:
                self.emit(f"{e} = {c}")
            self.emit(pack)

    def store(self, vt: t.Type, v: str, p: str, off: int, path: tuple[str, ...],
              writes: Writes) -> None:
        """Store ``v: vt`` at ``p + off``: scalar writes are queued in ``writes`` (flushed by
        the caller), everything else emitted."""
        d = despecialize(vt)
        match d:
            case t.PrimType("string"):
                v = self.assign(v, "s")
                sp, sn = self.string(v, path)
                writes += [(off, self.pc, sp, None), (off + ptr_size(self.pt), self.pc, sn, None)]
            case t.PrimType(name) if name in _INT_RANGE:
                x = self.assign(v, "i")
                lo, hi = _INT_RANGE[name]
                writes.append((off, STRUCT_CODE[name], x,
                               f"{self.const(_int_slow)}({x}, {lo}, {hi}, {name!r}, "
                               f"{self.where(path)})"))
            case t.PrimType(name) if name in ("f32", "f64"):
                x = self.assign(v, "f")
                writes.append((off, STRUCT_CODE[name], x,
                               f"{self.const(_float_slow)}({x}, {name!r}, {self.where(path)})"))
            case t.PrimType(name):
                writes.append((off, STRUCT_CODE[name], self.prim(name, v, path, False), None))
            case t.ListType(e, None):
                lp, ln = self.list_into_range(vt, e, v, path)
                writes += [(off, self.pc, lp, None), (off + ptr_size(self.pt), self.pc, ln, None)]
            case t.ListType(e, length) if length is not None and length > 16:
                v = self.assign(v)
                with self.block(f"if {v}.__class__ is not list or len({v}) != {length}:"):
                    self.emit(f"{v} = {self.const(_seq_slow)}({v}, {length}, 'list', "
                              f"{self.where(path)})")
                q = self.assign(f"{p} + {off}", "q")
                self.elements(e, v, q, path)
            case t.ListType() | t.RecordType():
                members = self.members(vt, v, path)
                for (mv, mpath), u, fo in zip(members, _members(d), field_offsets(d, self.pt),
                                              strict=True):
                    self.store(u, mv, p, off + fo, mpath, writes)
            case t.VariantType():
                ci, pl, strict = self.select_case(vt, v, path)
                writes.append((off, static_slots(vt, 0, self.pt)[0][1], ci, None))
                self.flush(p, writes)  # payload areas must not be overwritten by padding
                po = off + payload_offset(d, self.pt)

                def case(i: int, ct: t.Type) -> None:
                    w: Writes = []
                    self.store(ct, pl, p, po, self.case_path(vt, i, path), w)
                    self.flush(p, w)

                self.branches(vt, ci, pl, strict, path, case, lambda: None)
            case t.FlagsType():
                fl = self.flat(vt, v, path)[0]
                writes.append((off, static_slots(vt, 0, self.pt)[0][1], fl, None))
            case _:
                writes.append((off, "I", self.handle(d, v), None))

    def list_into_range(self, vt: t.Type, e: t.Type, v: str, path: tuple[str, ...]
                        ) -> tuple[str, str]:
        """The spec's ``store_list_into_range``: allocate, store the elements; returns the
        locals holding the pointer and length."""
        lp, ln = self.var("lp"), self.var("ln")
        w = self.where(path)
        bulk: Any = None
        if isinstance(vt, t.MapType):
            v = self.assign(f"{self.const(_map_items)}({v}, {w})")
            e = t.TupleType((vt.key, vt.value))
        elif e == t.U8:
            bulk = _store_bytes
        elif isinstance(e, t.PrimType) and e.name in BULK_CODES and _LITTLE:
            self.bulk_inline(e.name, v, lp, ln, w)
            return lp, ln
        elif isinstance(e, t.PrimType) and e.name in BULK_CODES:
            bulk = _bulk_storer(e.name, self.pt)
        elif e == t.CHAR:
            bulk = _store_chars
        if bulk is not None:
            self.emit(f"{lp}, {ln}, m = {self.const(bulk, 'bulk')}(cx, {v}, {w})")
            return lp, ln
        v = self.assign(v, "l")
        with self.block(f"if {v}.__class__ is not list:"):
            self.emit(f"{v} = {self.const(_list_slow)}({v}, {w})")
        self.emit(f"{ln} = len({v})")
        size, align = elem_size(e, self.pt), alignment(e, self.pt)
        self.emit(f"{lp}, m = {self.const(_alloc_list)}(cx, {ln}, {size}, {align}, {w})")
        self.elements(e, v, lp, path)
        return lp, ln

    def bulk_inline(self, name: str, v: str, lp: str, ln: str, w: str) -> None:
        """A list of numbers (little-endian host): converted by ``array`` in one step (which
        checks every element's type and range), allocated, copied in. The slow paths (not a
        list or tuple, a bad element) say which element is wrong."""
        code = BULK_CODES[name]
        size = struct_for("<" + code).size
        v = self.assign(v, "l")
        b, nb = self.var("b"), self.var("nb")
        with self.block(f"if {v}.__class__ is not list and {v}.__class__ is not tuple:"):
            self.emit(f"{v} = {self.const(_list_slow)}({v}, {w})")
        with self.block("try:"):
            self.emit(f"{b} = {self.const(array, 'array')}({code!r}, {v})")
        with self.block("except (TypeError, OverflowError, ValueError):"):
            self.emit(f"{self.const(_check_elements)}({v}, {name!r}, {w})")
        self.emit(f"{ln} = len({b})")
        self.emit(f"{nb} = {ln} * {size}" if size != 1 else f"{nb} = {ln}")
        with self.block(f"if {nb} > {MAX_LIST_BYTE_LENGTH}:"):
            self.emit(f"{self.const(_too_long)}({ln}, {w})")
        self.emit(f"{lp}, m = cx.alloc({size}, {nb})")
        # (small lists: ``tobytes`` costs less than a cast view; big ones: no second copy)
        self.emit(f"m[{lp}:{lp} + {nb}] = {b}.tobytes() if {nb} <= 4096 else "
                  f"{self.const(memoryview, 'mv')}({b}).cast('B')")

    def elements(self, e: t.Type, v: str, base: str, path: tuple[str, ...]) -> None:
        """Store the elements of list ``v`` contiguously from ``base``."""
        size = elem_size(e, self.pt)
        i, x, q = self.var("i"), self.var("x"), self.var("q")
        epath = (*path, f"element {{{i}}} of list")
        with self.loop(f"for {i}, {x} in enumerate({v}):"):
            self.emit(f"{q} = {base} + {i} * {size}" if size != 1 else f"{q} = {base} + {i}")
            if self.loops > MAX_LOOP_NESTING:
                fn = self.const(_raw_storer(e, self.enc, self.pt), "store")
                self.emit(f"m = {fn}(cx, m, {x}, {q}, {self.where(epath)})")
            else:
                w: Writes = []
                self.store(e, x, q, 0, epath, w)
                self.flush(q, w)


class _nullcontext:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


@lru_cache(maxsize=4096)
def _raw_storer(vt: t.Type, enc: StringEncoding, pt: PtrType) -> Callable[..., memoryview]:
    g = LowerGen(enc, pt)
    g.label = vt.wit()
    w: Writes = []
    g.store(vt, "v", "p", 0, (), w)
    g.flush("p", w)
    g.emit("return m")
    return g.finish("store_raw", "cx, m, v, p, where", [])


@lru_cache(maxsize=4096)
def build_store(vt: t.Type, enc: StringEncoding = "utf8", pt: PtrType = "i32") -> Callable[
        ..., None]:
    """``store(cx, v, ptr, where='')``: the spec's ``store`` at a guest-supplied ``ptr`` (traps
    unless aligned and in bounds)."""
    from .lift import ptr_check_lines

    g = LowerGen(enc, pt)
    g.label = vt.wit()
    mask = M32 if pt == "i32" else M64
    pro = [f"p &= {mask:#x}", g.view_line(), *ptr_check_lines(g, vt, pt, "p", "value")]
    w: Writes = []
    g.store(vt, "v", "p", 0, (), w)
    g.flush("p", w)
    return g.finish("store", "cx, v, p, where=''", pro)


@lru_cache(maxsize=4096)
def build_lower_flat(vt: t.Type, enc: StringEncoding = "utf8", pt: PtrType = "i32") -> Callable[
        ..., list[int | float]]:
    """``lower_flat(cx, v, where='') -> flat values`` for one value of type ``vt``."""
    g = LowerGen(enc, pt)
    g.label = vt.wit()
    vals = g.flat(vt, "v", ())
    g.emit(f"return [{', '.join(vals)}]")
    return g.finish("lower_flat", "cx, v, where=''", ["m = None"])


def lower_flat(cx: LiftLowerContext, vt: t.Type, v: Any) -> list[int | float]:
    o = cx.opts
    return build_lower_flat(vt, o.string_encoding, o.ptr_type)(cx, v)


def store(cx: LiftLowerContext, vt: t.Type, v: Any, ptr: int) -> None:
    o = cx.opts
    build_store(vt, o.string_encoding, o.ptr_type)(cx, v, ptr)


# -- host values checked against their type, without a guest -----------------------------------


def _is_handle(vt: t.Type) -> bool:
    match vt:
        case t.OwnType() | t.BorrowType() | t.StreamType() | t.FutureType():
            return True
        case t.PrimType(name):
            return name == "error-context"
    return False


def holds_handle(vt: t.Type) -> bool:
    """Whether a value of type ``vt`` can hold a handle (a resource, stream, future or
    error context): what lowering it would move or lend, not only check."""
    return contains_type(vt, _is_handle)


class _ScratchMemory:
    """A lowering's memory and ``realloc`` of its own (bump-allocated; a bigger buffer
    replaces a full one, so views taken earlier stay valid): lowering into it checks the
    values and keeps nothing."""

    __slots__ = ("_buf", "_top")

    def __init__(self) -> None:
        self._buf = bytearray(256)
        self._top = 0

    def view(self) -> memoryview:
        return memoryview(self._buf)

    def realloc(self, old: int, old_size: int, align: int, new_size: int) -> int:
        ptr = (self._top + align - 1) & -align
        end = ptr + new_size
        if end > len(self._buf):
            self._buf = bytearray(max(end, 2 * len(self._buf)))
        self._top = end
        return ptr


class _ScratchInstance:
    """The instance of a scratch lowering: only its ``may_leave`` is ever read."""

    __slots__ = ("may_leave",)

    def __init__(self) -> None:
        self.may_leave = True


def _scratch_context() -> LiftLowerContext:
    mem = _ScratchMemory()
    opts = CanonicalOptions(memory=mem, realloc=mem.realloc)
    return LiftLowerContext(opts, _ScratchInstance())  # type: ignore[arg-type]


@lru_cache(maxsize=1024)
def values_check(vt: t.Type, many: bool) -> Callable[[Any], None] | None:
    """``check(values)`` (``many``; else ``check(value)``): ``TypeError`` (``ValueError`` for a
    value out of range) unless every one of ``values`` (a sequence) is a value of ``vt``, by
    the same generated lowering a guest's copy uses (into a scratch memory). ``None`` for a
    type that holds handles, whose lowering moves them (``holds_handle``)."""
    if holds_handle(vt):
        return None
    lower = build_lower_flat(t.ListType(vt) if many else vt)

    def check(values: Any) -> None:
        lower(_scratch_context(), values)

    return check
