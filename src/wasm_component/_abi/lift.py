"""Lifting: core values and linear memory -> Python values (the spec's ``lift_flat`` and
``load``), specialised per type by generating Python source once (see :mod:`.codegen`).

Flat inputs are Python ``int``/``float``; ``i32``/``i64`` may arrive signed or unsigned (they are
masked). Pointers from the guest are checked for alignment and bounds, lengths against the
spec's maxima, discriminants, chars, bools (nonzero is true) and strings as the spec does; every
fault raises :class:`~wasm_component.errors.Trap`.

Python forms: see :mod:`wasm_component.values` (records lift to ``Record``, ``list<u8>`` to
``bytes``, tuples to ``tuple``, enums to the case name, flags to ``frozenset``, options to
``None``/value or ``Some`` when nested, results to ``Ok``/``Err``, maps to ``dict``, handles to
whatever ``cx.inst.lift_own``/``lift_borrow`` return).
"""

from __future__ import annotations

import dataclasses
import math
import sys
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from .. import types as t
from ..values import Err, Ok, Record, Some, Variant
from . import handles
from .codegen import MAX_LOOP_NESTING, CodeGen, struct_for
from .context import LiftLowerContext, StringEncoding, hostcall_fuel_exhausted, trap
from .floats import NAN, lift_f32, lift_f64
from .layout import (
    MAX_LIST_BYTE_LENGTH,
    MAX_STRING_BYTE_LENGTH,
    PtrType,
    alignment,
    case_types,
    despecialize,
    elem_size,
    field_offsets,
    flatten_type,
    payload_offset,
    ptr_size,
)
from .mapped import MappedEnum, MappedFlags, MappedRecord, MappedVariant
from .strings import (
    compact_utf16_loader,
    decode_string,
    lifted_str_class,
    utf16_decode,
    utf16_tag,
)

__all__ = [
    "LiftGen",
    "build_lift_flat",
    "build_load",
    "lift_flat",
    "load",
]

_LITTLE = sys.byteorder == "little"
M32 = 0xFFFF_FFFF
M64 = 0xFFFF_FFFF_FFFF_FFFF

# struct codes of the primitive types as stored in memory
STRUCT_CODE = {
    "bool": "B", "u8": "B", "s8": "b", "u16": "H", "s16": "h", "u32": "I", "s32": "i",
    "u64": "Q", "s64": "q", "f32": "f", "f64": "d", "char": "I", "error-context": "I",
}
_INT_BITS = t.INT_BITS
# element types moved in bulk by memoryview.cast (native little-endian) when lifting lists
BULK_CODES = {"s8": "b", "u16": "H", "s16": "h", "u32": "I", "s32": "i", "u64": "Q", "s64": "q",
              "f32": "f", "f64": "d"}


def _single_slot_factory(cls: type, attr: str) -> Callable[[Any], Any]:
    """A fast constructor for a frozen single-slot class (skips the frozen ``__init__``)."""
    new = object.__new__
    setter = getattr(cls, attr).__set__

    def make(v: Any) -> Any:
        o: Any = new(cls)
        setter(o, v)
        return o

    return make


_mk_record = _single_slot_factory(Record, "_fields")
_mk_ok = _single_slot_factory(Ok, "value")
_mk_err = _single_slot_factory(Err, "value")
_mk_some = _single_slot_factory(Some, "value")
_variant_new = object.__new__
_variant_case = Variant.__dict__["case"].__set__
_variant_payload = Variant.__dict__["payload"].__set__


def _mk_variant(case: str, payload: Any) -> Variant:
    o: Variant = _variant_new(Variant)
    _variant_case(o, case)
    _variant_payload(o, payload)
    return o




def _canon_floats(xs: list[float]) -> list[float]:
    """The spec's NaN canonicalisation of a lifted float list. A sum is NaN whenever an element
    is (and otherwise only when infinities of both signs meet), and ``sum`` over floats is a
    tight C loop, about 4x faster than testing each element; the exact scan runs only then."""
    total = sum(xs)
    if total != total and any(map(math.isnan, xs)):
        return [NAN if x != x else x for x in xs]
    return xs


def _load_chars(m: memoryview, p: int, n: int) -> list[str]:
    try:
        return list(str(m[p : p + 4 * n], "utf-32-le"))
    except UnicodeDecodeError:
        trap("invalid char in list<char>")


def _trap_char(c: int) -> str:
    trap(f"invalid char code point {c:#x}")


def _trap_disc(d: int, n: int) -> Any:
    trap(f"invalid discriminant {d} for a type with {n} cases")


def _flag_tables(labels: tuple[str, ...]) -> list[tuple[frozenset[str], ...]]:
    tables = []
    for base in range(0, len(labels), 8):
        group = labels[base : base + 8]
        tables.append(tuple(
            frozenset(lbl for i, lbl in enumerate(group) if b >> i & 1) for b in range(256)))
    return tables


def needs_ptr(vt: t.Type) -> bool:
    """Whether loading ``vt`` reads at offsets not known statically (a variant payload)."""
    d = despecialize(vt)
    if isinstance(d, t.VariantType):
        return any(c is not None for _, c in d.cases)
    if isinstance(d, t.RecordType):
        return any(needs_ptr(u) for _, u in d.fields)
    if isinstance(d, t.ListType) and d.length is not None:
        return needs_ptr(d.element)
    return False


def static_slots(vt: t.Type, off: int, pt: PtrType) -> list[tuple[int, str]]:
    """The scalar reads of ``vt``'s statically placed parts: ``(offset, struct code)``."""
    d = despecialize(vt)
    pc = "I" if pt == "i32" else "Q"
    match d:
        case t.PrimType("string"):
            return [(off, pc), (off + ptr_size(pt), pc)]
        case t.PrimType(name):
            return [(off, STRUCT_CODE[name])]
        case t.ListType(_, None):
            return [(off, pc), (off + ptr_size(pt), pc)]
        case t.ListType() | t.RecordType():
            return [s for u, fo in zip(_members(d), field_offsets(d, pt), strict=True)
                    for s in static_slots(u, off + fo, pt)]
        case t.VariantType(cases):
            return [(off, "BHI"[min(2, (len(cases) > 256) + (len(cases) > 65536))])]
        case t.FlagsType(labels):
            return [(off, "B" if len(labels) <= 8 else "H" if len(labels) <= 16 else "I")]
    return [(off, "I")]  # own, borrow, stream, future


def _members(d: t.Type) -> list[t.Type]:
    if isinstance(d, t.RecordType):
        return [u for _, u in d.fields]
    assert isinstance(d, t.ListType) and d.length is not None, "fixed-length list"
    return [d.element] * d.length


def slots_format(slots: list[tuple[int, str]], base: int, size: int) -> str:
    fmt = ["<"]
    cur = base
    for o, c in sorted(slots):
        if o > cur:
            fmt.append(f"{o - cur}x")
        fmt.append(c)
        cur = o + struct_for("<" + c).size
    if base + size > cur:
        fmt.append(f"{base + size - cur}x")
    return "".join(fmt)


class LiftGen(CodeGen):
    """Emits the lifting code of one function. ``m`` is the memory view local."""

    def __init__(self, encoding: StringEncoding, ptr_type: PtrType, host: bool = False) -> None:
        super().__init__()
        self.enc = encoding
        self.pt = ptr_type
        # Values for the host get plain ``str``s; values another component will be given keep
        # their source encoding (``LiftedStr``), which the spec's transcoding depends on.
        self.host = host
        self.pmask = M32 if ptr_type == "i32" else M64
        self.uses_memory = False
        self.pre: dict[tuple[str, int], str] = {}
        #: Whether the code charges the hostcall fuel (it lifts a list or a string), and whether
        #: this function starts a lift (refilling ``cx.fuel`` from the store's amount first) or
        #: runs inside one (an element loader: it only charges).
        self.charges = False
        self.fresh = True

    def charge(self, nb: str) -> None:
        """Spend ``nb`` (bytes of a list or string about to be lifted) of the lift's hostcall
        fuel, trapping when it runs out: one subtraction per list or string, never per
        element, and before anything of the value is built. The fuel left is the local
        ``fu`` (a local costs half what an attribute does); it passes through ``cx.fuel``
        into and out of element loaders."""
        self.charges = True
        self.emit(f"fu -= {nb}")
        self.emit(f"if fu < 0: {self.const(hostcall_fuel_exhausted, 'fuel')}(cx)")

    def fuel_prologue(self) -> list[str]:
        """The line starting a lift that charges (the store's whole amount); code inlining
        this generator's lines elsewhere puts it before them."""
        return ["fu = cx.inst.forms.hostcall_fuel"] if self.charges and self.fresh else []

    def finish(self, name: str, params: str, prologue: list[str]) -> Callable[..., Any]:
        if self.charges:
            if self.fresh:
                prologue = [*self.fuel_prologue(), *prologue]
            else:  # inside a lift: take what is left, hand back what remains
                prologue = ["fu = cx.fuel", *prologue]
                last = self.lines[-1]
                assert last.startswith("    return "), "a loader ends with its one return"
                self.lines.insert(len(self.lines) - 1, "    cx.fuel = fu")
        fn = super().finish(name, params, prologue)
        fn.__wc_charges__ = self.charges  # type: ignore[attr-defined]
        return fn

    # -- leaves shared by flat and memory lifting ----------------------------------------------

    def prim(self, name: str, x: str, flat: bool) -> str:
        """The value of primitive ``name`` from raw ``x`` (a flat core value when ``flat``)."""
        if name == "bool":
            return f"({x} != 0)"
        if name in _INT_BITS:
            if not flat:
                return x
            bits = _INT_BITS[name]
            mask = (1 << bits) - 1
            if name[0] == "u":
                return f"({x} & {mask:#x})"
            half = 1 << (bits - 1)
            return f"((({x} + {half:#x}) & {mask:#x}) - {half:#x})"
        if name in ("f32", "f64"):
            v = self.assign(x)
            return f"({v} if {v} == {v} else {self.const(NAN, 'nan')})"
        if name == "char":
            c = self.assign(f"{x} & {M32:#x}" if flat else x, "c")
            with self.block(f"if {c} >= 0x110000 or 0xD800 <= {c} <= 0xDFFF:"):
                self.emit(f"{self.const(_trap_char)}({c})")
            return f"{self.const(chr)}({c})"
        if name == "error-context":
            return f"{self.const(handles.lift_error_context)}(cx, {self._mask32(x, flat)})"
        raise AssertionError(f"not a scalar primitive: {name}")

    def _mask32(self, x: str, flat: bool) -> str:
        return f"({x} & {M32:#x})" if flat else x

    def _maskp(self, x: str, flat: bool) -> str:
        return f"({x} & {self.pmask:#x})" if flat else x

    def handle(self, d: t.Type, x: str, flat: bool) -> str:
        i = self._mask32(x, flat)
        if isinstance(d, t.OwnType):
            return f"{self.const(handles.lift_own_value)}(cx, {i}, {self.const(d.resource, 'rt')})"
        if isinstance(d, t.BorrowType):
            return (f"{self.const(handles.lift_borrow_value)}(cx, {i}, "
                    f"{self.const(d.resource, 'rt')})")
        return f"cx.lift_async_value({self.const(d, 't')}, {i}, {self.host})"

    def flags(self, labels: tuple[str, ...], x: str, vt: t.Type | None = None) -> str:
        """``frozenset`` of the set labels of raw bits ``x`` (signed or not: only the low
        ``len(labels)`` bits are read), by one table lookup per byte; the user's
        ``enum.Flag`` values for a :class:`MappedFlags` ``vt``."""
        if isinstance(vt, MappedFlags):
            tables = [tuple(vt.value_of(b << base) for b in range(256))
                      for base in range(0, len(labels), 8)]
        else:
            tables = _flag_tables(labels)
        if len(tables) == 1:
            return f"{self.const(tables[0], 'ft')}[{x} & 0xff]"
        v = self.assign(x)
        return " | ".join(f"{self.const(tb, 'ft')}[({v} >> {8 * i}) & 0xff]"
                          for i, tb in enumerate(tables))

    def make_record(self, vt: t.Type, values: list[str]) -> str:
        if isinstance(vt, t.TupleType):
            return "(" + "".join(f"{v}, " for v in values) + ")"
        if isinstance(vt, t.ListType):
            return "[" + ", ".join(values) + "]"
        assert isinstance(vt, t.RecordType), "record-like"
        if isinstance(vt, MappedRecord):
            pairs = zip(vt.attrs, values, strict=True)
            if vt.is_dict:
                return "{" + ", ".join(f"{a!r}: {v}" for a, v in pairs) + "}"
            # the dataclass's own __init__, positionally where it may be (faster than keywords)
            by_attr = dict(pairs)
            args = [by_attr.pop(f.name) for f in dataclasses.fields(vt.cls) if not f.kw_only]
            args += [f"{a}={v}" for a, v in by_attr.items()]
            return f"{self.const(vt.cls, 'cls')}({', '.join(args)})"
        items = ", ".join(f"{n!r}: {v}" for (n, _), v in zip(vt.fields, values, strict=True))
        return f"{self.const(_mk_record, 'rec')}({{{items}}})"

    def variant(self, vt: t.Type, disc: str, payload: Callable[[int, t.Type], str]) -> str:
        """Branch on ``disc`` (raw, already unsigned); ``payload(i, type)`` emits the loading of
        case ``i``'s payload and returns its expression."""
        cts = case_types(vt)
        n = len(cts)
        d = self.assign(disc, "d")
        with self.block(f"if {d} >= {n}:"):
            self.emit(f"{self.const(_trap_disc)}({d}, {n})")
        table: list[Any] = []
        names = [c for c, _ in despecialize(vt).cases]  # type: ignore[attr-defined]
        for i, ct in enumerate(cts):
            table.append(None if ct is not None else self._case_value(vt, i, names[i], None))
        r = self.var("r")
        first = True
        saved = self.pre
        for i, ct in enumerate(cts):
            if ct is None:
                continue
            with self.block(f"{'if' if first else 'elif'} {d} == {i}:"):
                self.pre = dict(saved)
                pv = payload(i, ct)
                self.emit(f"{r} = {self._case_value(vt, i, names[i], pv)}")
            first = False
        self.pre = saved
        fallback = f"{self.const(tuple(table), 'cases')}[{d}]"
        if first:
            return fallback
        if any(ct is None for ct in cts):
            with self.block("else:"):
                self.emit(f"{r} = {fallback}")
        return r

    def _case_value(self, vt: t.Type, i: int, name: str, pv: str | None) -> Any:
        """Generated expression (``pv`` given) or constant value (``pv`` None) of case ``i``."""
        if isinstance(vt, MappedEnum):
            return vt.members[i]
        if isinstance(vt, MappedVariant):
            cls, attr = vt.classes[i], vt.attrs[i]
            assert cls is not None, "a lifted variant maps every case"
            return cls() if pv is None else f"{self.const(cls, 'case')}({attr}={pv})"
        if isinstance(vt, t.EnumType):
            return name
        if isinstance(vt, t.OptionType):
            if pv is None:
                return None
            if isinstance(vt.inner, t.OptionType):
                return f"{self.const(_mk_some, 'some')}({pv})"
            return pv
        if isinstance(vt, t.ResultType):
            mk = _mk_ok if i == 0 else _mk_err
            return mk(None) if pv is None else f"{self.const(mk, 'res')}({pv})"
        assert isinstance(vt, t.VariantType), "variant-like"
        if pv is None:
            return _mk_variant(name, None)
        return f"{self.const(_mk_variant, 'var')}({name!r}, {pv})"

    def string(self, sp: str, sn: str) -> str:
        """The string at ``sp`` of ``sn`` code units: UTF-8 and UTF-16 decoded inline (the
        loader's checks and decode without its calls; failures go to ``decode`` for the
        trap), Latin-1+UTF-16 through the loader."""
        if self.enc not in ("utf8", "utf16"):
            load = self.const(compact_utf16_loader(self.pt, self.host), "lstr")
            sn = self.assign(sn, "sn")
            # (the loader's checks on ``m``: one as long as the memory unless it covers
            # twice ``sn``, the most bytes the string can have)
            r = self.assign(f"{load}(m if {sp} + 2 * {sn} <= len(m) else (m := cx.current()), "
                            f"{sp}, {sn})", "s")
            # charged once loaded, so its own traps come first (one string is at most
            # MAX_STRING_BYTE_LENGTH, which the loader checks): its code units
            self.charge(f"({sn} & {utf16_tag(self.pt) - 1:#x})")
            return r
        utf8 = self.enc == "utf8"
        p = self.assign(sp, "sp")
        n = self.assign(sn if utf8 else f"2 * {sn}", "sb")
        s = self.var("s")
        codec = "utf-8" if utf8 else "utf-16-le"
        fail = f"{self.const(decode_string)}(m, {p}, {n}, {1 if utf8 else 2}, {codec!r})"
        cls = self.const(lifted_str_class(self.enc, self.enc), "cls")
        check = f"{n} > {MAX_STRING_BYTE_LENGTH} or {self.past_end(f'{p} + {n}')}"
        self.emit(f"if {check if utf8 else f'{p} & 1 or ' + check}: {fail}")
        self.charge(n)
        with self.block("try:"):
            text = (f"str(m[{p} : {p} + {n}], 'utf-8')" if utf8 else
                    f"{self.const(utf16_decode)}(m[{p} : {p} + {n}], None, True)[0]")
            self.emit(f"{s} = {text}" if self.host
                      else f"{s} = {self.const(str.__new__, 'new')}({cls}, {text})")
        with self.block("except UnicodeDecodeError:"):
            self.emit(fail)
        return s

    # -- flat ------------------------------------------------------------------------------

    def flat(self, vt: t.Type, vals: list[str]) -> str:
        """The value of ``vt`` from its flat core values ``vals`` (names, each used once)."""
        d = despecialize(vt)
        match d:
            case t.PrimType("string"):
                self.uses_memory = True
                return self.string(self._maskp(vals[0], True), self._maskp(vals[1], True))
            case t.PrimType(name):
                return self.prim(name, vals[0], True)
            case t.ListType(e, None):
                p = self.assign(self._maskp(vals[0], True), "lp")
                n = self.assign(self._maskp(vals[1], True), "ln")
                return self.list_from_range(vt, e, p, n)
            case t.ListType() | t.RecordType():
                values = []
                i = 0
                for u in _members(d):
                    k = len(flatten_type(u, self.pt))
                    values.append(self.flat(u, vals[i : i + k]))
                    i += k
                return self.make_record(vt, values)
            case t.VariantType():
                joined = flatten_type(d, self.pt)[1:]
                slots = [self.assign(v) for v in vals[1:]]

                def payload(i: int, ct: t.Type) -> str:
                    want = flatten_type(ct, self.pt)
                    coerced = [self.assign(self._coerce(slots[j], joined[j], w))
                               for j, w in enumerate(want)]
                    return self.flat(ct, coerced)

                return self.variant(vt, f"({vals[0]} & {M32:#x})", payload)
            case t.FlagsType(labels):
                return self.flags(labels, vals[0], vt)
        return self.handle(d, vals[0], True)

    def _coerce(self, x: str, have: str, want: str) -> str:
        if have == want:
            return x
        if want == "i32":
            return f"({x} & {M32:#x})"
        if want == "f32":
            return f"{self.const(lift_f32)}({x})"
        assert (have, want) == ("i64", "f64"), "join only widens to i32 or i64"
        return f"{self.const(lift_f64)}({x})"

    # -- memory ----------------------------------------------------------------------------

    def read(self, p: str, off: int, code: str) -> str:
        """The raw scalar at ``p + off`` (prefetched by an enclosing record when possible)."""
        v = self.pre.pop((p, off), None)
        if v is not None:
            return v
        self.uses_memory = True
        at = f"{p} + {off}" if off else p
        return f"{self.const(struct_for('<' + code), 'S')}.unpack_from(m, {at})[0]"

    def prefetch(self, vt: t.Type, p: str, off: int) -> None:
        """Read all statically placed scalars of ``vt`` at ``p + off`` with one unpack."""
        if (p, off) in self.pre:
            return
        slots = static_slots(vt, off, self.pt)
        if len(slots) < 2:
            return
        self.uses_memory = True
        fmt = slots_format(slots, off, 0)
        names = [self.var("x") for _ in slots]
        at = f"{p} + {off}" if off else p
        lhs = ", ".join(names) + ("," if len(names) == 1 else "")
        self.emit(f"{lhs} = {self.const(struct_for(fmt), 'S')}.unpack_from(m, {at})")
        for (o, _), name in zip(sorted(slots), names, strict=True):
            self.pre[(p, o)] = name

    def load(self, vt: t.Type, p: str, off: int) -> str:
        """The value of ``vt`` stored at ``p + off`` (already bounds- and alignment-checked)."""
        d = despecialize(vt)
        pc = "I" if self.pt == "i32" else "Q"
        match d:
            case t.PrimType("string"):
                self.prefetch(vt, p, off)
                sp = self.read(p, off, pc)
                sn = self.read(p, off + ptr_size(self.pt), pc)
                self.uses_memory = True
                return self.string(sp, sn)
            case t.PrimType(name):
                return self.prim(name, self.read(p, off, STRUCT_CODE[name]), False)
            case t.ListType(e, None):
                self.prefetch(vt, p, off)
                lp = self.assign(self.read(p, off, pc), "lp")
                ln = self.assign(self.read(p, off + ptr_size(self.pt), pc), "ln")
                return self.list_from_range(vt, e, lp, ln)
            case t.ListType(e, length) if length is not None and length > 16:
                at = self.assign(f"{p} + {off}" if off else p, "q")
                return self.elements(e, at, str(length), fixed=True)
            case t.ListType() | t.RecordType():
                self.prefetch(vt, p, off)
                values = [self.load(u, p, off + fo)
                          for u, fo in zip(_members(d), field_offsets(d, self.pt), strict=True)]
                return self.make_record(vt, values)
            case t.VariantType():
                disc = self.read(p, off, static_slots(vt, 0, self.pt)[0][1])
                po = off + payload_offset(d, self.pt)
                return self.variant(vt, disc, lambda i, ct: self.load(ct, p, po))
            case t.FlagsType(labels):
                raw = self.read(p, off, static_slots(vt, 0, self.pt)[0][1])
                return self.flags(labels, raw, vt)
        return self.handle(d, self.read(p, off, "I"), False)

    def list_from_range(self, vt: t.Type, e: t.Type, p: str, n: str) -> str:
        """The spec's ``load_list_from_range``: checks, then the elements."""
        self.uses_memory = True
        size = elem_size(e, self.pt)
        align = alignment(e, self.pt)
        nb = self.assign(f"{n} * {size}" if size != 1 else n, "nb")
        with self.block(f"if {nb} > {MAX_LIST_BYTE_LENGTH}:"):
            self.emit(f"{self.const(trap)}('list byte length exceeds the maximum')")
        if align > 1:
            with self.block(f"if {p} & {align - 1}:"):
                self.emit(f"{self.const(trap)}(f'misaligned list pointer {{{p}:#x}}')")
        with self.block(f"if {self.past_end(f'{p} + {nb}')}:"):
            self.emit(f"{self.const(trap)}(f'list [{{{p}:#x}}, +{{{nb}}}) out of bounds')")
        self.charge(nb)
        if isinstance(vt, t.MapType):
            return f"dict({self.elements(t.TupleType((vt.key, vt.value)), p, n, nb)})"
        return self.elements(e, p, n, nb)

    def elements(
        self, e: t.Type, p: str, n: str, nb: str | None = None, fixed: bool = False
    ) -> str:
        """A ``list`` (``bytes`` for ``list<u8>``) of ``n`` elements of type ``e`` from ``p``."""
        self.uses_memory = True
        size = elem_size(e, self.pt)
        end = f"{p} + {nb}" if nb is not None else f"{p} + {n} * {size}"
        if e == t.U8:
            return f"{'list' if fixed else 'bytes'}(m[{p}:{end}])"
        if isinstance(e, t.PrimType) and e.name in BULK_CODES and _LITTLE:
            xs = f"m[{p}:{end}].cast({BULK_CODES[e.name]!r}).tolist()"
            if e.name in ("f32", "f64"):
                return f"{self.const(_canon_floats)}({xs})"
            return xs
        if isinstance(despecialize(e), t.BorrowType) and _LITTLE:
            # (its bounds checked: ``list_from_range``, or the fixed length's record)
            return (f"{self.const(handles.lift_borrow_values)}(cx, m, {p}, {n}, "
                    f"{self.const(despecialize(e).resource, 'rt')})")  # type: ignore[attr-defined]
        if e == t.BOOL:
            return f"list(map(bool, m[{p}:{end}]))"
        if e == t.CHAR:
            return f"{self.const(_load_chars)}(m, {p}, {n})"
        if self.loops >= MAX_LOOP_NESTING:
            loader = _raw_loader(e, self.enc, self.pt, self.host)
            fn = self.const(loader, "load")
            xs = f"[{fn}(cx, m, q) for q in range({p}, {end}, {size})]"
            if not getattr(loader, "__wc_charges__", False):
                return xs
            self.charges = True
            self.emit("cx.fuel = fu")
            r = self.assign(xs, "r")
            self.emit("fu = cx.fuel")
            return r
        saved = self.pre
        self.pre = {}
        q = self.var("q")
        if not needs_ptr(e):
            slots = static_slots(e, 0, self.pt)
            names = [self.var("x") for _ in slots]
            for (o, _), name in zip(sorted(slots), names, strict=True):
                self.pre[(q, o)] = name
            target = ", ".join(names) + ("," if len(names) == 1 else "")
            it = self.const(struct_for(slots_format(slots, 0, size)), "S")
            header = f"for {target} in {it}.iter_unpack(m[{p}:{end}])"
        else:
            header = f"for {q} in range({p}, {end}, {size})"
        mark = len(self.lines)
        self.indent += 1
        self.loops += 1
        ev = self.load(e, q, 0)
        self.loops -= 1
        self.indent -= 1
        self.pre = saved
        body = self.lines[mark:]
        del self.lines[mark:]
        r = self.var("r")
        if not body:  # no statements: a comprehension
            self.emit(f"{r} = [{ev} {header}]")
            return r
        self.emit(f"{r} = []")
        self.emit(f"{header}:")
        self.lines.extend(body)
        self.indent += 1
        self.emit(f"{r}.append({ev})")
        self.indent -= 1
        return r

    # -- assembling functions ---------------------------------------------------------------

    def finish_fn(
        self, name: str, params: str, result: str, prologue: list[str]
    ) -> Callable[..., Any]:
        self.emit(f"return {result}")
        pro = ([self.view_line()] if self.uses_memory else []) + prologue
        return self.finish(name, params, pro)


@lru_cache(maxsize=4096)
def _raw_loader(vt: t.Type, enc: StringEncoding, pt: PtrType, host: bool
                ) -> Callable[..., Any]:
    g = LiftGen(enc, pt, host)
    g.label = vt.wit()
    g.fresh = False  # runs inside the lift that calls it
    r = g.load(vt, "p", 0)
    g.emit(f"return {r}")
    return g.finish("load_raw", "cx, m, p", [])


def ptr_check_lines(g: CodeGen, vt: t.Type, pt: PtrType, p: str, what: str) -> list[str]:
    """Prologue lines trapping unless ``vt`` fits aligned at guest pointer ``p``."""
    align = alignment(vt, pt)
    size = elem_size(vt, pt)
    tr = g.const(trap)
    lines = []
    if align > 1:
        lines.append(f"if {p} & {align - 1}: {tr}(f'misaligned {what} pointer {{{p}:#x}}')")
    lines.append(f"if {g.past_end(f'{p} + {size}')}: "
                 f"{tr}(f'{what} [{{{p}:#x}}, +{size}) out of bounds')")
    return lines


@lru_cache(maxsize=4096)
def build_load(vt: t.Type, enc: StringEncoding = "utf8", pt: PtrType = "i32",
               fresh: bool = True) -> Callable[[LiftLowerContext, int], Any]:
    """``load(cx, ptr) -> value``: the spec's ``load`` with the pointer checks of
    ``load_list_from_range`` (alignment and bounds traps) for a guest-supplied ``ptr``. Each
    call is a lift with the store's whole hostcall fuel, unless not ``fresh``: then it charges
    ``cx.fuel`` as left by the caller's lift (the elements of one stream copy)."""
    g = LiftGen(enc, pt)
    g.label = vt.wit()
    g.fresh = fresh
    g.uses_memory = True
    mask = M32 if pt == "i32" else M64
    pro = [f"p &= {mask:#x}", g.view_line(), *ptr_check_lines(g, vt, pt, "p", "value")]
    r = g.load(vt, "p", 0)
    g.emit(f"return {r}")
    return g.finish("load", "cx, p", pro)


@lru_cache(maxsize=4096)
def build_lift_flat(vt: t.Type, enc: StringEncoding = "utf8", pt: PtrType = "i32") -> Callable[
        [LiftLowerContext, Sequence[int | float]], Any]:
    """``lift_flat(cx, flat_values) -> value`` for one value of type ``vt``."""
    g = LiftGen(enc, pt)
    g.label = vt.wit()
    k = len(flatten_type(vt, pt))
    names = [f"a{i}" for i in range(k)]
    r = g.flat(vt, names)
    unpack = ", ".join(names) + ("," if k == 1 else "")
    fn: Callable[[LiftLowerContext, Sequence[int | float]], Any] = g.finish_fn("lift_flat", "cx, vals", r, [f"{unpack} = vals"])
    return fn


def lift_flat(cx: LiftLowerContext, vt: t.Type, vals: Sequence[int | float]) -> Any:
    o = cx.opts
    return build_lift_flat(vt, o.string_encoding, o.ptr_type)(cx, vals)


def load(cx: LiftLowerContext, vt: t.Type, ptr: int) -> Any:
    o = cx.opts
    return build_load(vt, o.string_encoding, o.ptr_type)(cx, ptr)
