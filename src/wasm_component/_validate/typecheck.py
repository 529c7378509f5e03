"""Subtyping, resource substitution and type walks over the public type model.

The Explainer's *Type Checking* rules live here: value types and function types compare
structurally (resources by identity), instance types by width subtyping, component types with
contravariant imports, module types by core extern matching. Instantiation needs the
substitution of imported resource types (and fresh types for exported ones), which is also
here. Every walk memoizes on object identity so shared sub-trees cost once.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from .. import types as t
from .._abi.layout import contains_borrow
from ..errors import ValidationError

__all__ = [
    "Mismatch",
    "ModuleWords",
    "bound_resources",
    "check_module",
    "check_subtype",
    "contains_borrow",
    "kind_name",
    "resources_in",
    "substitute",
    "type_depth",
    "type_size",
]


WORK = [0]
"""Type visits made by the validator's walks (memo misses): a work counter, so a test can bound
validation cost without timing it. Incremented, never reset here."""

_local = threading.local()
_F = TypeVar("_F", bound=Callable[..., None])


def _pairwise_memo(fn: _F) -> _F:
    """Memoise a checking walk ``fn(a, b, *rest)`` over pairs of types for the duration of the
    outermost call (of any such walk): a pair that passed once passes again, so a DAG of
    shared types costs its number of distinct pairs, not its tree size. The pair is kept
    alive by the memo so an ``id`` cannot be reused while it is in use."""

    @functools.wraps(fn)
    def walk(a: object, b: object, *rest: Any) -> None:
        memo: dict[tuple[int, int, int], tuple[object, object]] | None = getattr(
            _local, "pairs", None)
        top = memo is None
        if memo is None:
            memo = _local.pairs = {}
        key = (id(a), id(b), id(walk))
        hit = memo.get(key)
        if hit is not None and hit[0] is a and hit[1] is b:
            return
        WORK[0] += 1
        try:
            fn(a, b, *rest)
        finally:
            if top:
                _local.pairs = None
        memo[key] = (a, b)

    return walk  # type: ignore[return-value]


class SubKey:
    """The key of an abstract resource type introduced by a ``(sub resource)`` bound.

    Such resources are told apart from defined ones by the type of their key (compared by
    identity), so no registry outlives a validation.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"sub#{id(self):x}"


def fresh_sub(name: str = "") -> t.ResourceType:
    """A new abstract resource type for a ``(sub resource)`` bound."""
    return t.ResourceType("abstract", SubKey(), name)


def is_sub(r: t.ResourceType) -> bool:
    return isinstance(r.key, SubKey)


class Mismatch(Exception):
    """A subtype check failed; ``message`` explains the innermost reason."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def kind_name(x: object) -> str:
    if isinstance(x, t.FuncType):
        return "func"
    if isinstance(x, t.InstanceType):
        return "instance"
    if isinstance(x, t.ComponentType):
        return "component"
    if isinstance(x, t.ModuleType):
        return "module"
    if isinstance(x, t.TypeBound):
        return "type"
    if isinstance(x, t.ValueBound):
        return "value"
    return type(x).__name__


def _vt_name(x: t.Type) -> str:
    if isinstance(x, t.PrimType):
        return x.name
    return {
        t.RecordType: "record", t.VariantType: "variant", t.ListType: "list",
        t.TupleType: "tuple", t.FlagsType: "flags", t.EnumType: "enum",
        t.OptionType: "option", t.ResultType: "result", t.OwnType: "own",
        t.BorrowType: "borrow", t.FutureType: "future", t.StreamType: "stream",
        t.MapType: "map", t.ResourceType: "resource",
    }.get(type(x), type(x).__name__)


@_pairwise_memo
def check_valtype(a: t.Type, b: t.Type) -> None:
    """``a`` (actual) must equal ``b`` (expected) structurally; raise :class:`Mismatch`.
    (Not by ``==``: dataclass equality walks shared sub-trees once per path.)"""
    if a is b:
        return
    if type(a) is not type(b):
        if isinstance(a, t.PrimType) and isinstance(b, t.PrimType):
            pass
        elif isinstance(b, t.PrimType):
            raise Mismatch(f"expected primitive, found {_vt_name(a)}")
        else:
            raise Mismatch(f"expected {_vt_name(b)}, found {_vt_name(a)}")
    if isinstance(a, t.PrimType) and isinstance(b, t.PrimType):
        if a.name == b.name:
            return
        raise Mismatch(f"expected primitive `{b.name}` found primitive `{a.name}`")
    if isinstance(a, t.RecordType) and isinstance(b, t.RecordType):
        if len(a.fields) != len(b.fields):
            raise Mismatch(f"expected {len(b.fields)} fields, found {len(a.fields)}")
        for (an, at), (bn, bt) in zip(a.fields, b.fields, strict=True):
            if an != bn:
                raise Mismatch(f"expected field name `{bn}`, found `{an}`")
            _nested(at, bt, f"type mismatch in record field `{an}`")
    elif isinstance(a, t.VariantType) and isinstance(b, t.VariantType):
        if len(a.cases) != len(b.cases):
            raise Mismatch(f"expected {len(b.cases)} cases, found {len(a.cases)}")
        for (an, at2), (bn, bt2) in zip(a.cases, b.cases, strict=True):
            if an != bn:
                raise Mismatch(f"expected case named `{bn}`, found `{an}`")
            if at2 is None and bt2 is not None:
                raise Mismatch(f"expected case `{an}` to have a type, found none")
            if at2 is not None and bt2 is None:
                raise Mismatch(f"expected case `{an}` to have no type")
            if at2 is not None and bt2 is not None:
                _nested(at2, bt2, f"type mismatch in variant case `{an}`")
    elif isinstance(a, t.TupleType) and isinstance(b, t.TupleType):
        if len(a.types) != len(b.types):
            raise Mismatch(f"expected {len(b.types)} types, found {len(a.types)}")
        for i, (x, y) in enumerate(zip(a.types, b.types, strict=True)):
            _nested(x, y, f"type mismatch in tuple field {i}")
    elif isinstance(a, t.FlagsType) and isinstance(b, t.FlagsType):
        if a.names != b.names:
            raise Mismatch("mismatch in flags elements")
    elif isinstance(a, t.EnumType) and isinstance(b, t.EnumType):
        if a.names != b.names:
            raise Mismatch("mismatch in enum elements")
    elif isinstance(a, t.ResultType) and isinstance(b, t.ResultType):
        for what, x2, y2 in (("ok", a.ok, b.ok), ("err", a.err, b.err)):
            if x2 is None and y2 is not None:
                raise Mismatch(f"expected {what} type, but found none")
            if x2 is not None and y2 is None:
                raise Mismatch(f"expected {what} type to not be present")
            if x2 is not None and y2 is not None:
                _nested(x2, y2, f"type mismatch in {what} variant")
    elif isinstance(a, t.ResourceType):
        if a != b:
            raise Mismatch("resource types are not the same")
    elif isinstance(a, t.OwnType | t.BorrowType) and isinstance(b, t.OwnType | t.BorrowType):
        _nested(a.resource, b.resource, "type mismatch in handle")
    elif isinstance(a, t.ListType) and isinstance(b, t.ListType):
        if a.length != b.length:
            raise Mismatch("mismatch in list length")
        _nested(a.element, b.element, "type mismatch in list element")
    elif isinstance(a, t.OptionType) and isinstance(b, t.OptionType):
        _nested(a.inner, b.inner, "type mismatch in option")
    elif isinstance(a, t.FutureType | t.StreamType) and isinstance(b, t.FutureType | t.StreamType):
        if a.payload is None and b.payload is None:
            return
        if a.payload is None or b.payload is None:
            raise Mismatch(f"expected {b.wit()}, found {a.wit()}")
        _nested(a.payload, b.payload, f"type mismatch in {_vt_name(a)}")
    elif isinstance(a, t.MapType) and isinstance(b, t.MapType):
        _nested(a.key, b.key, "type mismatch in map key")
        _nested(a.value, b.value, "type mismatch in map value")
    elif a != b:
        raise Mismatch("type mismatch")


def _nested(a: t.Type, b: t.Type, ctx: str) -> None:
    try:
        check_valtype(a, b)
    except Mismatch as e:
        raise Mismatch(f"{ctx}: {e.message}") from None


def check_func(a: t.FuncType, b: t.FuncType) -> None:
    if a.is_async != b.is_async:
        raise Mismatch("expected async function, found sync" if b.is_async
                       else "expected sync function, found async")
    if len(a.params) != len(b.params):
        raise Mismatch(f"expected {len(b.params)} parameters, found {len(a.params)}")
    for (an, at), (bn, bt) in zip(a.params, b.params, strict=True):
        if an != bn:
            raise Mismatch(f"expected parameter named `{bn}`, found `{an}`")
        _nested(at, bt, f"type mismatch in function parameter `{an}`")
    if a.result is None and b.result is not None:
        raise Mismatch("expected a result, found none")
    if a.result is not None and b.result is None:
        raise Mismatch("expected no result, found one")
    if a.result is not None and b.result is not None:
        _nested(a.result, b.result, "type mismatch with result type")


def check_core(a: t.CoreExternType, b: t.CoreExternType) -> None:
    """Core extern subtyping (``a`` provided, ``b`` expected)."""
    if type(a) is not type(b):
        raise Mismatch(f"expected {_core_kind(b)}, found {_core_kind(a)}")
    if isinstance(a, t.CoreFuncType) and isinstance(b, t.CoreFuncType):
        if a != b:
            raise Mismatch(f"expected: {b}\nfound:    {a}")
    elif isinstance(a, t.CoreGlobalType) and isinstance(b, t.CoreGlobalType):
        if a.mutable != b.mutable:
            raise Mismatch("global types differ in mutability")
        if a.content != b.content:
            raise Mismatch(f"expected global type {b.content}, found {a.content}")
    elif isinstance(a, t.CoreTableType) and isinstance(b, t.CoreTableType):
        if a.element != b.element:
            raise Mismatch(f"expected table element type {b.element}, found {a.element}")
        if a.table64 != b.table64:
            raise Mismatch("mismatch in index type used for tables")
        if not _limits_ok(a.minimum, a.maximum, b.minimum, b.maximum):
            raise Mismatch("mismatch in table limits")
    elif isinstance(a, t.CoreMemoryType) and isinstance(b, t.CoreMemoryType):
        if a.shared != b.shared:
            raise Mismatch("mismatch in the shared flag for memories")
        if a.memory64 != b.memory64:
            raise Mismatch("mismatch in index type used for memories")
        if a.page_size_log2 != b.page_size_log2:
            raise Mismatch("mismatch in page size for memories")
        if not _limits_ok(a.minimum, a.maximum, b.minimum, b.maximum):
            raise Mismatch("mismatch in memory limits")
    elif isinstance(a, t.CoreTagType) and isinstance(b, t.CoreTagType) and a.func != b.func:
        raise Mismatch("mismatch in tag types")


def _core_kind(x: object) -> str:
    return {t.CoreFuncType: "func", t.CoreTableType: "table", t.CoreMemoryType: "memory",
            t.CoreGlobalType: "global", t.CoreTagType: "tag"}.get(type(x), "item")


def _limits_ok(amin: int, amax: int | None, bmin: int, bmax: int | None) -> bool:
    if amin < bmin:
        return False
    if bmax is None:
        return True
    return amax is not None and amax <= bmax


@dataclass(frozen=True)
class ModuleWords:
    """How :func:`check_module` words its complaints (``{name}`` is ``module::name`` for an
    import, the name for an export; ``{why}`` the type mismatch)."""

    missing_import: str = "missing expected import `{name}`"
    bad_import: str = "type mismatch in import `{name}`: {why}"
    missing_export: str = "missing expected export `{name}`"
    bad_export: str = "type mismatch in export `{name}`: {why}"


def check_module(a: t.ModuleType, b: t.ModuleType, words: ModuleWords = ModuleWords()) -> None:
    """``a`` can be used where ``b`` is expected: ``a`` imports no more, exports no less."""
    bimports = {(m, n): ty for m, n, ty in b.imports}
    for m, n, ty in a.imports:
        exp = bimports.get((m, n))
        if exp is None:
            raise Mismatch(words.missing_import.format(name=f"{m}::{n}"))
        try:
            check_core(exp, ty)
        except Mismatch as e:
            raise Mismatch(words.bad_import.format(name=f"{m}::{n}", why=e.message)) from None
    aexports = dict(a.exports)
    for n, ty in b.exports:
        got = aexports.get(n)
        if got is None:
            raise Mismatch(words.missing_export.format(name=n))
        try:
            check_core(got, ty)
        except Mismatch as e:
            raise Mismatch(words.bad_export.format(name=n, why=e.message)) from None


@_pairwise_memo
def check_subtype(a: object, b: object) -> None:
    """``a`` (actual extern type) is a subtype of ``b`` (expected); raise :class:`Mismatch`."""
    if a is b:
        return
    if type(a) is not type(b):
        raise Mismatch(f"expected {kind_name(b)}, found {kind_name(a)}")
    if isinstance(a, t.FuncType) and isinstance(b, t.FuncType):
        check_func(a, b)
    elif isinstance(a, t.TypeBound) and isinstance(b, t.TypeBound):
        ar, br = isinstance(a.eq, t.ResourceType), isinstance(b.eq, t.ResourceType)
        if ar != br:
            raise Mismatch("expected resource, found defined type" if br
                           else "expected defined type, found resource")
        if isinstance(a.eq, t.FuncType | t.InstanceType | t.ComponentType) or isinstance(
            b.eq, t.FuncType | t.InstanceType | t.ComponentType
        ):
            check_subtype(a.eq, b.eq)
            return
        check_valtype(a.eq, b.eq)
    elif isinstance(a, t.ValueBound) and isinstance(b, t.ValueBound):
        check_valtype(a.type, b.type)
    elif isinstance(a, t.InstanceType) and isinstance(b, t.InstanceType):
        have = dict(a.exports)
        for n, bt in b.exports:
            at = have.get(n)
            if at is None:
                raise Mismatch(f"missing expected export `{n}`")
            try:
                check_subtype(at, bt)
            except Mismatch as e:
                raise Mismatch(f"type mismatch in instance export `{n}`: {e.message}") from None
    elif isinstance(a, t.ComponentType) and isinstance(b, t.ComponentType):
        _check_component(a, b)
    elif isinstance(a, t.ModuleType) and isinstance(b, t.ModuleType):
        check_module(a, b)
    elif a != b:
        raise Mismatch("type mismatch")


def _check_component(a: t.ComponentType, b: t.ComponentType) -> None:
    # Imports are contravariant: every import of `a` must be satisfied by b's import.
    bimp = dict(b.imports)
    mapping: dict[t.ResourceType, t.ResourceType] = {}
    a_imported = bound_resources(a.imports)
    for n, at in a.imports:
        bt = bimp.get(n)
        if bt is None:
            raise Mismatch(f"missing expected import `{n}`")
        match_resources(at, bt, a_imported, mapping)
        try:
            check_subtype(bt, substitute(at, mapping, {}))
        except Mismatch as e:
            raise Mismatch(f"type mismatch in import `{n}`: {e.message}") from None
    # exported (defined) resources of `b` are matched to those of `a`
    b_defined = bound_resources(b.exports)
    emap: dict[t.ResourceType, t.ResourceType] = {}
    aexp_sub: dict[str, object] = {n: substitute(x, mapping, {}) for n, x in a.exports}
    for n, bt in b.exports:
        got = aexp_sub.get(n)
        if got is None:
            raise Mismatch(f"missing expected export `{n}`")
        match_resources(bt, got, b_defined, emap)
        try:
            check_subtype(got, substitute(bt, emap, {}))
        except Mismatch as e:
            raise Mismatch(f"type mismatch in export `{n}`: {e.message}") from None


@_pairwise_memo
def match_resources(
    expected: object, actual: object, free: set[t.ResourceType],
    mapping: dict[t.ResourceType, t.ResourceType],
) -> None:
    """Walk ``expected`` and ``actual`` in parallel; bind each ``free`` resource of
    ``expected`` (a type bound position) to the resource in the same position of ``actual``."""
    if isinstance(expected, t.TypeBound) and isinstance(actual, t.TypeBound):
        e = expected.eq
        if isinstance(e, t.ResourceType) and e in free and e not in mapping:
            a = actual.eq
            if isinstance(a, t.ResourceType):
                mapping[e] = a
            else:
                raise Mismatch("expected resource, found defined type")
    elif isinstance(expected, t.InstanceType) and isinstance(actual, t.InstanceType):
        have = dict(actual.exports)
        for n, et in expected.exports:
            at = have.get(n)
            if at is not None:
                match_resources(et, at, free, mapping)


@_pairwise_memo
def register_type_renamings(expected: object, actual: object,
                            renames: dict[int, object]) -> None:
    """Record, for instantiation, that the type created by import bound ``expected`` is
    ``actual``'s type (recursively through instance exports), so types the component exports
    that refer to its imported types refer to the supplied ones instead (wasmparser's
    ``register_type_renamings``)."""
    if isinstance(expected, t.TypeBound) and isinstance(actual, t.TypeBound):
        if not isinstance(expected.eq, t.ResourceType) and expected.eq is not actual.eq:
            renames.setdefault(id(expected.eq), actual.eq)
    elif isinstance(expected, t.InstanceType) and isinstance(actual, t.InstanceType):
        have = dict(actual.exports)
        for n, et in expected.exports:
            at = have.get(n)
            if at is not None:
                register_type_renamings(et, at, renames)


def bound_resources(items: Iterable[tuple[str, object]],
                    any_kind: bool = False) -> set[t.ResourceType]:
    """Resources named by type bounds in ``items`` (and nested instance exports)."""
    out: set[t.ResourceType] = set()
    seen: set[int] = set()  # (the items keep every visited type alive)

    def walk(x: object) -> None:
        if id(x) in seen:
            return
        seen.add(id(x))
        WORK[0] += 1
        if isinstance(x, t.TypeBound):
            if isinstance(x.eq, t.ResourceType) and (any_kind or is_sub(x.eq)):
                out.add(x.eq)
        elif isinstance(x, t.InstanceType):
            for _, y in x.exports:
                walk(y)

    for _, x in items:
        walk(x)
    return out


def substitute(x: object, m: dict[t.ResourceType, t.ResourceType], memo: dict[int, object],
               renames: dict[int, object] | None = None) -> object:
    """``x`` with resources replaced per ``m`` and type identities per ``renames`` (``id`` of a
    type created by an import -> the type supplied for it); unchanged sub-trees keep their
    identity. ``memo`` must only be shared between calls with the same maps."""
    if not m and not renames:
        return x
    k = id(x)
    got = memo.get(k)
    if got is not None:
        return got
    if renames:
        got = renames.get(k)
        if got is not None:
            memo[k] = got
            return got
    WORK[0] += 1
    out = _subst(x, m, memo, renames)
    memo[k] = out
    return out


def _subst(x: object, m: dict[t.ResourceType, t.ResourceType], memo: dict[int, object],
           renames: dict[int, object] | None) -> object:
    def s(y: object) -> object:
        return substitute(y, m, memo, renames)

    def st(y: t.Type) -> t.Type:
        r = substitute(y, m, memo, renames)
        assert isinstance(r, t.Type)
        return r

    def so(y: t.Type | None) -> t.Type | None:
        return None if y is None else st(y)

    if isinstance(x, t.PrimType):
        return x
    if isinstance(x, t.ResourceType):
        return m.get(x, x)
    new: object
    if isinstance(x, t.OwnType | t.BorrowType):
        r = m.get(x.resource, x.resource)
        return x if r is x.resource else type(x)(r)
    if isinstance(x, t.RecordType):
        new = t.RecordType(tuple((n, st(y)) for n, y in x.fields))
    elif isinstance(x, t.VariantType):
        new = t.VariantType(tuple((n, so(y)) for n, y in x.cases))
    elif isinstance(x, t.ListType):
        new = t.ListType(st(x.element), x.length)
    elif isinstance(x, t.TupleType):
        new = t.TupleType(tuple(st(y) for y in x.types))
    elif isinstance(x, t.FlagsType | t.EnumType):
        return x
    elif isinstance(x, t.OptionType):
        new = t.OptionType(st(x.inner))
    elif isinstance(x, t.ResultType):
        new = t.ResultType(so(x.ok), so(x.err))
    elif isinstance(x, t.FutureType):
        new = t.FutureType(so(x.payload))
    elif isinstance(x, t.StreamType):
        new = t.StreamType(so(x.payload))
    elif isinstance(x, t.MapType):
        new = t.MapType(st(x.key), st(x.value))
    elif isinstance(x, t.FuncType):
        new = t.FuncType(tuple((n, st(y)) for n, y in x.params), so(x.result), x.is_async)
    elif isinstance(x, t.TypeBound):
        e = s(x.eq)
        assert isinstance(e, t.Type | t.FuncType | t.InstanceType | t.ComponentType)
        new = t.TypeBound(e)  # type: ignore[arg-type]
    elif isinstance(x, t.ValueBound):
        new = t.ValueBound(st(x.type))
    elif isinstance(x, t.InstanceType):
        new = t.InstanceType(tuple((n, s(y)) for n, y in x.exports))  # type: ignore[misc]
    elif isinstance(x, t.ComponentType):
        new = t.ComponentType(
            tuple((n, s(y)) for n, y in x.imports),  # type: ignore[misc]
            tuple((n, s(y)) for n, y in x.exports),  # type: ignore[misc]
            x.defined_resources,
        )
    else:
        return x
    return x if new == x and _same_children(new, x) else new


def _same_children(a: object, b: object) -> bool:
    # keep identity (external names) when nothing changed: every member type is the same object
    return all(_same(getattr(a, f.name), getattr(b, f.name))
               for f in dataclasses.fields(a))  # type: ignore[arg-type]


def _same(x: object, y: object) -> bool:
    if x is y:
        return True
    if isinstance(x, tuple) and isinstance(y, tuple):
        return len(x) == len(y) and all(_same(i, j) for i, j in zip(x, y, strict=True))
    if isinstance(x, str | int | bool):
        return x == y
    return False


def iter_children(x: object) -> Iterator[object]:
    if isinstance(x, t.RecordType):
        yield from (y for _, y in x.fields)
    elif isinstance(x, t.VariantType):
        yield from (y for _, y in x.cases if y is not None)
    elif isinstance(x, t.ListType):
        yield x.element
    elif isinstance(x, t.TupleType):
        yield from x.types
    elif isinstance(x, t.OptionType):
        yield x.inner
    elif isinstance(x, t.ResultType):
        if x.ok is not None:
            yield x.ok
        if x.err is not None:
            yield x.err
    elif isinstance(x, t.FutureType | t.StreamType):
        if x.payload is not None:
            yield x.payload
    elif isinstance(x, t.MapType):
        yield x.key
        yield x.value
    elif isinstance(x, t.OwnType | t.BorrowType):
        yield x.resource
    elif isinstance(x, t.FuncType):
        yield from (y for _, y in x.params)
        if x.result is not None:
            yield x.result
    elif isinstance(x, t.TypeBound):
        yield x.eq
    elif isinstance(x, t.ValueBound):
        yield x.type
    elif isinstance(x, t.InstanceType):
        yield from (y for _, y in x.exports)
    elif isinstance(x, t.ComponentType):
        yield from (y for _, y in x.imports)
        yield from (y for _, y in x.exports)


def resources_in(x: object, memo: set[int] | None = None) -> set[t.ResourceType]:
    """Every resource type reachable from ``x``."""
    out: set[t.ResourceType] = set()
    seen = memo if memo is not None else set()
    stack = [x]
    while stack:
        y = stack.pop()
        if id(y) in seen:
            continue
        seen.add(id(y))
        if isinstance(y, t.ResourceType):
            out.add(y)
        else:
            stack.extend(iter_children(y))
    return out


def type_size(x: object, limit: int, offset: int, cache: dict[int, tuple[object, int]]) -> int:
    """The effective (tree) size of a type, raising once it exceeds ``limit``.

    ``cache`` maps ``id`` of a visited type to ``(type, size)`` (the type is kept so the id
    cannot be reused); it belongs to one :class:`~.component.Validator`.
    """
    hit = cache.get(id(x))
    if hit is not None and hit[0] is x:
        return hit[1]
    WORK[0] += 1
    n = 1
    for c in iter_children(x):
        n += type_size(c, limit, offset, cache)
        if n > limit:
            raise ValidationError("effective type size exceeds the limit", offset)
    cache[id(x)] = (x, n)
    return n


MAX_TYPE_DEPTH = 100
"""Wasmtime's limit on value-type nesting (``MAX_TYPE_DEPTH`` in wasmtime-environ's component
``types_builder``): a primitive or handle has depth 1, a compound type one more than its
deepest member. Enforced so nothing downstream (lifting, lowering, printing) recurses deeper."""


def type_depth(x: t.Type, offset: int, cache: dict[int, tuple[object, int]]) -> int:
    """The nesting depth of value type ``x``; raise once it exceeds :data:`MAX_TYPE_DEPTH`."""
    hit = cache.get(id(x))
    if hit is not None and hit[0] is x:
        return hit[1]
    n = 1
    if not isinstance(x, t.PrimType | t.OwnType | t.BorrowType | t.ResourceType):
        for c in iter_children(x):
            if isinstance(c, t.Type):
                n = max(n, 1 + type_depth(c, offset, cache))
    if n > MAX_TYPE_DEPTH:
        raise ValidationError("type nesting is too deep", offset)
    cache[id(x)] = (x, n)
    return n
