"""Python annotations checked against component types, and the user's own classes as WIT types.

A Python annotation describes the values of a component function's parameter or result:
``int`` for ``u32``, ``str`` for ``string``, ``list[Point]`` for ``list<point>``,
``Point | None`` for ``option<point>``, ``Result[int, str]`` (``Ok[int] | Err[str]``) for
``result<u32, string>``... (see :mod:`wasm_component.values` for the value forms). :func:`fit`
checks one annotation against one WIT type, once, and says what does not fit ("expected X, got
Y"); it is what :meth:`Instance.get_typed_func <wasm_component.instance.Instance.get_typed_func>`,
:meth:`Instance.exports_as <wasm_component.instance.Instance.exports_as>` and ``func_wrap``
use.

An annotation can also *be* the mapping of a WIT type onto a class of the user's (the seed's
``ComponentType``/``Lift``/``Lower``):

- a dataclass (or a ``TypedDict``) for a ``record``: fields by name, snake_case for kebab-case
  (``link_count`` for ``link-count``; a trailing ``_`` is dropped, as in ``from_``);
- an ``enum.Enum`` for an ``enum``: a member per case, matched by its value when that is the
  case name (``RED = "red"``) or else by its name (``RED`` or ``red`` for ``red``);
- an ``enum.Flag`` for ``flags``: a member per flag, by name;
- a union of dataclasses for a ``variant``: one class per case, named for it (``Circle`` or
  ``ShapeCircle`` for case ``circle``; :func:`wit_name` names one explicitly), with one field
  holding the payload or none for a case without.

Lifting then constructs the user's class and lowering reads it, in the code generated for the
function type (:mod:`wasm_component._abi.mapped`): nothing is looked up per call.

Example::

    @dataclass
    class Point:
        x: int
        y: int

    class Color(enum.Enum):
        RED = "red"
        GREEN = "green"

    move = instance.get_typed_func(store, "move", Callable[[Point, int], Point])
    move(store, Point(1, 2), 3)          # -> Point(x=4, y=5), type-checked by mypy too
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import enum
import inspect
import re
import types as pytypes
import typing
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from . import types as t
from ._abi.handles import ErrorContext
from ._abi.mapped import MappedEnum, MappedFlags, MappedRecord, MappedVariant
from .resources import Resource, ResourceAny
from .values import Err, Ok, Record, Some, Variant

__all__ = ["fit", "fit_func", "wit_name"]

C = TypeVar("C")

#: The attribute :func:`wit_name` sets.
WIT_NAME = "__wit_name__"


def wit_name(name: str) -> Callable[[C], C]:
    """Name the WIT item a class or method stands for, where its Python name does not say it:
    a variant's case class (``@wit_name("none")``) or a protocol method for an export
    (``@wit_name("[method]counter.get")``).

    Example::

        @wit_name("none")
        @dataclass
        class Nothing: ...
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"`wit_name`: expected a non-empty str, got {name!r}")

    def mark(obj: C) -> C:
        setattr(obj, WIT_NAME, name)
        return obj

    return mark


class Mismatch(Exception):
    """An annotation that does not fit a WIT type: ``expected`` (the Python form), ``got``
    (the annotation) and where inside the value (``path``, innermost first)."""

    def __init__(self, expected: str, got: str, path: tuple[str, ...] = ()) -> None:
        super().__init__(expected, got, path)
        self.expected = expected
        self.got = got
        self.path = path

    def inside(self, segment: str) -> Mismatch:
        return Mismatch(self.expected, self.got, (*self.path, segment))

    def text(self) -> str:
        where = "".join(f" in {seg}" for seg in self.path)
        return f"expected {self.expected}, got {self.got}{where}"

    def __str__(self) -> str:
        return self.text()


# -- names -----------------------------------------------------------------------------------


def kebab(py_name: str) -> str:
    """The WIT spelling of a Python name: ``link_count`` and ``LinkCount`` are ``link-count``
    (a trailing ``_``, added to dodge a keyword, is dropped)."""
    name = py_name.rstrip("_")
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", name)
    return name.replace("_", "-").lower()


def ann_name(ann: Any) -> str:
    """An annotation as a reader writes it (``list[Point] | None``, without module paths)."""
    if ann is None or ann is type(None):
        return "None"
    if ann is Ellipsis:
        return "..."
    if isinstance(ann, t.Type):
        return f"types {ann.wit()}"
    if isinstance(ann, typing.ForwardRef):
        return repr(ann.__forward_arg__)
    if isinstance(ann, list):
        return "[" + ", ".join(ann_name(a) for a in ann) + "]"
    origin, args = get_origin(ann), get_args(ann)
    if origin is Union or origin is pytypes.UnionType:
        return " | ".join(ann_name(a) for a in args)
    if origin is Literal:
        return "Literal[" + ", ".join(repr(a) for a in args) + "]"
    if origin is Annotated:
        return ann_name(args[0])
    if origin is not None and args:
        head = getattr(origin, "__name__", None) or ann_name(origin)
        if origin is tuple and args == ((),):
            return "tuple[()]"
        return f"{head}[{', '.join(ann_name(a) for a in args)}]"
    if isinstance(ann, type):
        return ann.__name__
    return re.sub(r"\b(typing|collections\.abc|wasm_component\.[a-z_.]+)\.", "", repr(ann))


def py_form(ty: t.Type | None) -> str:
    """The Python form of values of ``ty``, as an annotation (what a mismatch expected)."""
    if ty is None:
        return "None"
    match ty:
        case t.PrimType("bool"):
            return "bool"
        case t.PrimType("f32" | "f64"):
            return "float"
        case t.PrimType("char" | "string"):
            return "str"
        case t.PrimType("error-context"):
            return "ErrorContext"
        case t.PrimType():
            return "int"
        case t.ListType(t.PrimType("u8"), None):
            return "bytes"
        case t.ListType(e, _):
            return f"list[{py_form(e)}]"
        case t.TupleType(ts):
            return "tuple[" + ", ".join(py_form(u) for u in ts) + "]"
        case t.RecordType(fields):
            return (f"a dataclass with fields {', '.join(n.replace('-', '_') for n, _ in fields)}"
                    " (or Record)")
        case t.VariantType(cases):
            return (f"a union of one dataclass per case of {', '.join(n for n, _ in cases)} "
                    "(or Variant)")
        case t.EnumType(names):
            return f"an enum.Enum with members {', '.join(names)} (or str)"
        case t.FlagsType(names):
            return f"an enum.Flag with members {', '.join(names)} (or frozenset[str])"
        case t.OptionType(inner):
            return (f"Some[{py_form(inner)}] | None" if isinstance(inner, t.OptionType)
                    else f"{py_form(inner)} | None")
        case t.ResultType(ok, err):
            return f"Ok[{py_form(ok)}] | Err[{py_form(err)}]"
        case t.OwnType(rt) | t.BorrowType(rt):
            return "ResourceAny" if rt.kind == "guest" else "Resource"
        case t.MapType(k, v):
            return f"dict[{py_form(k)}, {py_form(v)}]"
    return "Any"


# -- fitting ---------------------------------------------------------------------------------

_ANY: tuple[Any, ...] = (Any, object)
_NONE: tuple[Any, ...] = (None, type(None))
_INTS = frozenset({"u8", "s8", "u16", "s16", "u32", "s32", "u64", "s64"})

# sequence-like origins: what a lifted value is an instance of, and what lowering accepts
_LIST_OUT = frozenset({list, cabc.Sequence, cabc.MutableSequence, cabc.Collection,
                       cabc.Iterable, cabc.Reversible})
_LIST_IN = frozenset({list, tuple, cabc.Sequence, cabc.MutableSequence, cabc.Collection})
_BYTES_OUT = frozenset({cabc.Sequence, cabc.Collection, cabc.Iterable, cabc.Reversible})
_SET_OUT = frozenset({frozenset, cabc.Set, cabc.Collection, cabc.Iterable})
_SET_IN = frozenset({frozenset, set, cabc.Set, cabc.MutableSet, cabc.Collection, list, tuple,
                     cabc.Sequence})
_MAP_OUT = frozenset({dict, cabc.Mapping, cabc.MutableMapping})
_MAP_IN = frozenset({dict, cabc.Mapping})


def _unwrap(ann: Any, ty: t.Type) -> Any:
    """``ann`` without ``Annotated`` (a ``types.Type`` in its metadata must equal ``ty``),
    ``NewType`` and ``type`` aliases."""
    while True:
        if get_origin(ann) is Annotated:
            base, *meta = get_args(ann)
            for m in meta:
                if isinstance(m, t.Type) and m != ty:
                    raise Mismatch(ty.wit(), f"Annotated for {m.wit()}")
            ann = base
        elif isinstance(ann, typing.NewType):
            ann = ann.__supertype__
        elif type(ann).__name__ == "TypeAliasType" and hasattr(ann, "__value__"):
            ann = ann.__value__
        else:
            return ann


def _seq_element(ann: Any, origins: frozenset[Any]) -> tuple[bool, Any]:
    """``(True, element annotation)`` when ``ann`` is one of ``origins`` (bare: ``Any``;
    ``tuple`` as ``tuple[X, ...]`` only)."""
    if ann in origins:
        return True, Any
    origin = get_origin(ann)
    args = get_args(ann)
    if origin is tuple:
        homogeneous = len(args) == 2 and args[1] is Ellipsis
        return (True, args[0]) if homogeneous and tuple in origins else (False, None)
    if origin in origins:
        return True, args[0] if args else Any
    return False, None


def fit(ann: Any, ty: t.Type, inbound: bool) -> t.Type:
    """Check annotation ``ann`` against ``ty``; the type to lift and lower ``ty`` by: ``ty``
    itself, or with the user classes ``ann`` names mapped in (:mod:`._abi.mapped`).
    ``inbound``: values go to the guest (lowered: the annotation says what the caller may
    give), else come from it (lifted: what the caller receives). Raises :class:`Mismatch`."""
    ann = _unwrap(ann, ty)
    if ann in _ANY:
        return ty
    if isinstance(ann, t.Type):
        if ann == ty:
            return ty
        raise Mismatch(ty.wit(), ann_name(ann))
    if isinstance(ann, (str, typing.ForwardRef)):
        raise Mismatch(py_form(ty), f"the unresolved name {ann_name(ann)} (define it first, or "
                       "write the class itself)")
    origin = get_origin(ann)
    if origin is Union or origin is pytypes.UnionType:
        return _fit_union(ann, get_args(ann), ty, inbound)
    if origin is Literal:
        return _fit_literal(ann, get_args(ann), ty, inbound)
    if isinstance(ty, t.PrimType):
        if _prim_fits(ann, ty.name, inbound):
            return ty
    elif isinstance(ty, t.ListType):
        return _fit_list(ann, ty, inbound)
    elif isinstance(ty, t.TupleType):
        return _fit_tuple(ann, ty, inbound)
    elif isinstance(ty, t.RecordType):
        return _fit_record(ann, ty, inbound)
    elif isinstance(ty, t.VariantType):
        if ann is Variant:
            return ty
        if isinstance(ann, type) and dataclasses.is_dataclass(ann):
            return _fit_cases(ann, (ann,), ty, inbound)
    elif isinstance(ty, t.EnumType):
        if ann is str:
            return ty
        if isinstance(ann, type) and issubclass(ann, enum.Enum) and not issubclass(ann,
                                                                                  enum.Flag):
            return MappedEnum(ty.names, cls=ann, members=_members_for(ann, ty.names, "case"))
    elif isinstance(ty, t.FlagsType):
        return _fit_flags(ann, ty, inbound)
    elif isinstance(ty, t.OptionType):
        if inbound:  # a bare value is given as `some`
            if get_origin(ann) is Some:
                return t.OptionType(_fit_payload(ann, ty.inner, inbound, "payload of option"))
            return t.OptionType(_inside(ann, ty.inner, inbound, "payload of option"))
    elif isinstance(ty, t.ResultType):
        if get_origin(ann) in (Ok, Err) or ann in (Ok, Err):
            return _fit_result(ann, (ann,), ty, inbound)
    elif isinstance(ty, (t.OwnType, t.BorrowType)):
        if _handle_fits(ann, ty.resource, inbound):
            return ty
    elif isinstance(ty, t.MapType):
        found = ann in (_MAP_IN if inbound else _MAP_OUT) or get_origin(ann) in (
            _MAP_IN if inbound else _MAP_OUT)
        if found:
            args = get_args(ann) or (Any, Any)
            return t.MapType(_inside(args[0], ty.key, inbound, "key of map"),
                             _inside(args[1], ty.value, inbound, "value of map"))
    raise Mismatch(py_form(ty), ann_name(ann))


def _inside(ann: Any, ty: t.Type, inbound: bool, segment: str) -> t.Type:
    try:
        return fit(ann, ty, inbound)
    except Mismatch as e:
        raise e.inside(segment) from None


def _prim_fits(ann: Any, name: str, inbound: bool) -> bool:
    if name == "bool":
        return ann is bool
    if name in _INTS:
        return ann is int
    if name in ("f32", "f64"):
        return ann is float or (inbound and ann is int)  # lowering takes an int for a float
    if name in ("char", "string"):
        return ann is str
    return name == "error-context" and ann is ErrorContext


def _handle_fits(ann: Any, rt: t.ResourceType, inbound: bool) -> bool:
    """``Resource`` for a host resource, ``ResourceAny`` for a guest one; lowering takes
    either (checking the handle's type), and a static (abstract) type may be either."""
    if ann is ResourceAny:
        return inbound or rt.kind != "host"
    if ann is Resource or get_origin(ann) is Resource:
        return inbound or rt.kind != "guest"
    return False


def _fit_list(ann: Any, ty: t.ListType, inbound: bool) -> t.Type:
    e = ty.element
    if e == t.U8 and ty.length is None:
        if ann is bytes or (inbound and ann in (bytearray, memoryview)):
            return ty
        found, elem = _seq_element(ann, _LIST_IN if inbound else _BYTES_OUT)
        if found:
            _inside(elem, e, inbound, "element of list")
            return ty
        raise Mismatch("bytes", ann_name(ann))
    found, elem = _seq_element(ann, _LIST_IN if inbound else _LIST_OUT)
    if not found:
        raise Mismatch(py_form(ty), ann_name(ann))
    return t.ListType(_inside(elem, e, inbound, "element of list"), ty.length)


def _fit_tuple(ann: Any, ty: t.TupleType, inbound: bool) -> t.Type:
    if ann is tuple:
        return ty
    args = get_args(ann)
    if get_origin(ann) is not tuple:
        raise Mismatch(py_form(ty), ann_name(ann))
    if len(args) == 2 and args[1] is Ellipsis:
        args = (args[0],) * len(ty.types)
    if args == ((),):
        args = ()
    if len(args) != len(ty.types):
        raise Mismatch(py_form(ty), ann_name(ann))
    return t.TupleType(tuple(_inside(a, u, inbound, f"element {i} of tuple")
                             for i, (a, u) in enumerate(zip(args, ty.types, strict=True))))


def _hints(cls: Any) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls, include_extras=True)
    except NameError as e:
        raise Mismatch("annotations that resolve", f"{ann_name(cls)} ({e})") from None


def _field_map(cls: Any, py_names: Sequence[str], ty: t.RecordType) -> tuple[str, ...]:
    """The Python name of each of ``ty``'s fields, from the class's field names."""
    wit = [n for n, _ in ty.fields]
    by_wit = {p.rstrip("_").replace("_", "-"): p for p in py_names}
    missing = [n for n in wit if n not in by_wit]
    extra = [p for w, p in by_wit.items() if w not in wit]
    if missing or extra or len(by_wit) != len(py_names):
        got = f"{cls.__qualname__} with fields {', '.join(py_names) or '(none)'}"
        raise Mismatch(f"a class with fields {', '.join(n.replace('-', '_') for n in wit)}",
                       got)
    return tuple(by_wit[n] for n in wit)


def _fit_record(ann: Any, ty: t.RecordType, inbound: bool) -> t.Type:
    if ann is Record:
        return ty
    if isinstance(ann, type) and dataclasses.is_dataclass(ann):
        fields = dataclasses.fields(ann)
        no_init = [f.name for f in fields if not f.init]
        if no_init:
            raise Mismatch("a dataclass whose fields are all in __init__",
                           f"{ann.__qualname__} (field {no_init[0]} has init=False)")
        attrs = _field_map(ann, [f.name for f in fields], ty)
        return _mapped_record(ann, attrs, ty, inbound, is_dict=False)
    if typing.is_typeddict(ann):
        keys = list(_hints(ann))
        if set(ann.__required_keys__) != set(keys):
            raise Mismatch("a TypedDict whose keys are all required", ann_name(ann))
        return _mapped_record(ann, _field_map(ann, keys, ty), ty, inbound, is_dict=True)
    found = ann in (_MAP_IN if inbound else (cabc.Mapping,)) or get_origin(ann) in (
        _MAP_IN if inbound else (cabc.Mapping,))
    if found:
        k, v = get_args(ann) or (str, Any)
        if k not in (str, *_ANY):
            raise Mismatch(py_form(ty), ann_name(ann))
        for n, u in ty.fields:
            if _inside(v, u, inbound, f'field "{n}" of record') != u:
                raise Mismatch("a dataclass (a Mapping's values cannot be classes of yours)",
                               ann_name(ann))
        return ty
    raise Mismatch(py_form(ty), ann_name(ann))


def _mapped_record(cls: Any, attrs: tuple[str, ...], ty: t.RecordType, inbound: bool,
                   is_dict: bool) -> t.Type:
    hints = _hints(cls)
    fields = tuple((n, _inside(hints.get(a, Any), u, inbound, f'field "{n}" of record'))
                   for (n, u), a in zip(ty.fields, attrs, strict=True))
    return MappedRecord(fields, cls=cls, attrs=attrs, is_dict=is_dict)


def _member_keys(m: enum.Enum) -> list[str]:
    keys = [m.value] if isinstance(m.value, str) else []
    return [*keys, kebab(m.name)]


def _members_for(cls: Any, names: tuple[str, ...], what: str) -> tuple[Any, ...]:
    """The member of ``cls`` for each WIT name (a bijection), by value or name."""
    by_name: dict[str, Any] = {}
    for m in cls:
        name = next((k for k in _member_keys(m) if k in names), None)
        if name is None or name in by_name:
            kind = "enum.Flag" if issubclass(cls, enum.Flag) else "enum.Enum"
            raise Mismatch(f"an {kind} with a member per {what} of {', '.join(names)}",
                           f"{cls.__qualname__} with members "
                           f"{', '.join(x.name for x in cls)}")
        by_name[name] = m
    missing = [n for n in names if n not in by_name]
    if missing:
        kind = "enum.Flag" if issubclass(cls, enum.Flag) else "enum.Enum"
        raise Mismatch(f"an {kind} with a member per {what} of {', '.join(names)}",
                       f"{cls.__qualname__}, which lacks {missing[0]}")
    return tuple(by_name[n] for n in names)


def _fit_flags(ann: Any, ty: t.FlagsType, inbound: bool) -> t.Type:
    if isinstance(ann, type) and issubclass(ann, enum.Flag):
        return MappedFlags(ty.names, cls=ann, members=_members_for(ann, ty.names, "flag"))
    found, elem = _seq_element(ann, _SET_IN if inbound else _SET_OUT)
    if found and elem in (str, *_ANY):
        return ty
    raise Mismatch(py_form(ty), ann_name(ann))


def _case_of(cls: Any, names: list[str]) -> str | None:
    explicit = cls.__dict__.get(WIT_NAME)
    if explicit is not None:
        return explicit if explicit in names else None
    k = kebab(cls.__name__)
    if k in names:
        return k
    ends = [n for n in names if k.endswith("-" + n)]
    return max(ends, key=len) if ends else None


def _fit_cases(ann: Any, classes: tuple[Any, ...], ty: t.VariantType, inbound: bool) -> t.Type:
    """A variant given as a union of case classes (dataclasses, named for their case)."""
    names = [n for n, _ in ty.cases]
    per: list[Any] = [None] * len(names)
    attrs: list[str | None] = [None] * len(names)
    cases = list(ty.cases)
    for cls in classes:
        if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
            raise Mismatch(py_form(ty), ann_name(ann))
        case = _case_of(cls, names)
        if case is None:
            raise Mismatch(f"a class named for a case of {', '.join(names)} (or marked with "
                           "`wit_name`)", cls.__qualname__)
        i = names.index(case)
        if per[i] is not None:
            raise Mismatch(f"one class for case {case}",
                           f"{per[i].__qualname__} and {cls.__qualname__}")
        fields = [f.name for f in dataclasses.fields(cls) if f.init]
        payload = ty.cases[i][1]
        seg = f'case "{case}" of variant'
        if payload is None:
            if fields:
                raise Mismatch("a dataclass without fields", f"{cls.__qualname__} with fields "
                               f"{', '.join(fields)}").inside(seg)
        else:
            if len(fields) != 1:
                raise Mismatch(f"a dataclass with one field for the {payload.wit()} payload",
                               f"{cls.__qualname__} with {len(fields)} fields").inside(seg)
            attrs[i] = fields[0]
            cases[i] = (case, _inside(_hints(cls).get(fields[0], Any), payload, inbound, seg))
        per[i] = cls
    missing = [n for n, c in zip(names, per, strict=True) if c is None]
    if missing and not inbound:
        raise Mismatch(f"a class for every case of {', '.join(names)}",
                       f"{ann_name(ann)}, which lacks one for {missing[0]}")
    return MappedVariant(tuple(cases), classes=tuple(per), attrs=tuple(attrs))


def _fit_payload(ann: Any, ty: t.Type | None, inbound: bool, segment: str) -> Any:
    """The payload annotation of ``Ok[...]``/``Err[...]``/``Some[...]`` fitted to ``ty``."""
    args = get_args(ann)
    inner = args[0] if args else Any
    if ty is None:
        if inner in (*_NONE, *_ANY):
            return None
        raise Mismatch("None", ann_name(inner), (segment,))
    return _inside(inner, ty, inbound, segment)


def _fit_result(ann: Any, members: tuple[Any, ...], ty: t.ResultType, inbound: bool
                ) -> t.Type:
    ok: Any = ty.ok
    err: Any = ty.err
    seen = set()
    for m in members:
        cls = get_origin(m) or m
        if cls is Ok:
            ok = _fit_payload(m, ty.ok, inbound, "ok of result")
        elif cls is Err:
            err = _fit_payload(m, ty.err, inbound, "error of result")
        else:
            raise Mismatch(py_form(ty), ann_name(ann))
        seen.add(cls)
    if not inbound and seen != {Ok, Err}:
        raise Mismatch(py_form(ty), ann_name(ann))
    return t.ResultType(ok, err)


def _fit_literal(ann: Any, values: tuple[Any, ...], ty: t.Type, inbound: bool) -> t.Type:
    if isinstance(ty, t.EnumType) and all(isinstance(v, str) for v in values):
        # lowering may be given some of the cases; lifting gives any of them
        if set(values) <= set(ty.names) and (inbound or set(values) >= set(ty.names)):
            return ty
    elif inbound and isinstance(ty, t.PrimType):  # a caller giving some strings or numbers
        want = str if ty in (t.STRING, t.CHAR) else int if ty.name in _INTS else None
        if all(type(v) is want for v in values):
            return ty
    raise Mismatch(py_form(ty), ann_name(ann))


def _fit_union(ann: Any, members: tuple[Any, ...], ty: t.Type, inbound: bool) -> t.Type:
    rest = tuple(m for m in members if m not in _NONE)
    if isinstance(ty, t.OptionType) and len(rest) < len(members):
        if isinstance(ty.inner, t.OptionType) and not inbound:
            # option<option<T>> lifts `some(x)` as Some(x): `Some[T | None] | None`
            if len(rest) != 1 or get_origin(rest[0]) is not Some:
                raise Mismatch(py_form(ty), ann_name(ann))
            return t.OptionType(_fit_payload(rest[0], ty.inner, inbound, "payload of option"))
        some = [m for m in rest if get_origin(m) is Some]
        plain = tuple(m for m in rest if get_origin(m) is not Some)
        inner = ty.inner
        for m in some:
            inner = _fit_payload(m, ty.inner, inbound, "payload of option")
        if plain:
            one = plain[0] if len(plain) == 1 else Union[plain]  # noqa: UP007 - built at run time
            inner = _inside(one, ty.inner, inbound, "payload of option")
        return t.OptionType(inner)
    if len(rest) < len(members):
        raise Mismatch(py_form(ty), ann_name(ann))  # None is only an option's
    if isinstance(ty, t.ResultType):
        return _fit_result(ann, rest, ty, inbound)
    if isinstance(ty, t.VariantType) and all(isinstance(m, type) and dataclasses.is_dataclass(m)
                                             for m in rest):
        return _fit_cases(ann, rest, ty, inbound)
    # any other union: lowering must take each member, lifting gives one of them
    fitted: list[t.Type] = []
    first: Mismatch | None = None
    for m in rest:
        try:
            fitted.append(fit(m, ty, inbound))
        except Mismatch as e:
            if inbound:
                raise
            first = first or e
    if not fitted:
        assert first is not None, "a union has members"
        raise first
    if any(f != fitted[0] for f in fitted):
        raise Mismatch(f"one way to map {ty.wit()}", f"the union {ann_name(ann)}")
    return fitted[0]


# -- functions -------------------------------------------------------------------------------


def _label(where: str) -> str:
    """``where`` in backticks, unless it comes formatted with them already."""
    return where if where.startswith("`") else f"`{where}`"


#: A result annotation that was not given (unchecked).
UNCHECKED: Any = object()


def fit_func(
    where: str,
    ft: t.FuncType,
    params: Sequence[Any] | None,
    result: Any,
    *,
    export: bool,
    names: Sequence[str] | None = None,
) -> t.FuncType:
    """``ft`` checked against parameter annotations ``params`` (None: not checked) and result
    annotation ``result`` (:data:`UNCHECKED`: not checked), for an export (the caller lowers
    parameters and lifts the result) or else a host function (the other way); the function
    type to generate the calls by (user classes mapped in). ``TypeError`` names ``where``, the
    parameter and what was expected. ``names``: the Python names of the parameters."""
    ps = list(ft.params)
    if params is not None:
        if len(params) != len(ps):
            raise TypeError(f"{_label(where)}: expected {len(ps)} parameter"
                            f"{'s' if len(ps) != 1 else ''} ({ft}), got {len(params)}")
        for i, (ann, (pname, pty)) in enumerate(zip(params, ft.params, strict=True)):
            try:
                ps[i] = (pname, fit(ann, pty, export))
            except Mismatch as e:
                py = f" (`{names[i]}`)" if names and names[i] != pname.replace("-", "_") else ""
                raise TypeError(f"{_label(where)}: parameter `{pname}`{py} is {pty.wit()}: "
                                f"{e.text()}") from None
    res = ft.result
    if result is not UNCHECKED:
        try:
            if ft.result is None:
                if _unwrap(result, t.BOOL) not in (*_NONE, *_ANY):
                    raise Mismatch("None", ann_name(result))
            else:
                if result in _NONE:
                    raise Mismatch(py_form(ft.result), "None")
                res = fit(result, ft.result, not export)
        except Mismatch as e:
            wit = "nothing" if ft.result is None else ft.result.wit()
            raise TypeError(f"{_label(where)}: the result is {wit}: {e.text()}") from None
    return t.FuncType(tuple(ps), res, ft.is_async)


def callable_parts(ann: Any, where: str) -> tuple[list[Any] | None, Any]:
    """Parameter and result annotations of ``Callable[[...], R]``."""
    if get_origin(ann) is not cabc.Callable:
        raise TypeError(f"{_label(where)}: expected a Callable[[...], R] annotation, a function or "
                        f"parameter types, got {ann_name(ann)}")
    args = get_args(ann)
    params, result = args[0], args[1]
    return (None if params is Ellipsis else list(params)), result


def signature_parts(fn: Callable[..., Any], where: str, skip: int = 0
                    ) -> tuple[list[inspect.Parameter], list[Any], Any]:
    """The positional parameters (after ``skip``), their annotations and the result
    annotation of function ``fn`` (resolved; missing ones are ``Any``)."""
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
        sig = inspect.signature(fn)
    except (NameError, TypeError, ValueError) as e:
        raise TypeError(f"{_label(where)}: cannot read the annotations of {fn!r}: {e}") from None
    params = list(sig.parameters.values())[skip:]
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.KEYWORD_ONLY):
            raise TypeError(f"{_label(where)}: parameter `{p.name}` is {p.kind.description}: a "
                            "component function takes its arguments positionally")
        if p.default is not p.empty:
            raise TypeError(f"{_label(where)}: parameter `{p.name}` has a default: a component "
                            "function has none")
    result = hints.get("return", Any) if sig.return_annotation is not sig.empty else Any
    return params, [hints.get(p.name, Any) for p in params], result


def uses_classes(ann: Any, depth: int = 0) -> bool:
    """Whether annotation ``ann`` names a class of the user's that maps a WIT type (a
    dataclass, TypedDict, enum or flag) anywhere inside."""
    if depth > 32:
        return False
    if isinstance(ann, type) and (dataclasses.is_dataclass(ann) or typing.is_typeddict(ann)
                                  or issubclass(ann, enum.Enum)):
        return True
    return any(uses_classes(a, depth + 1) for a in get_args(ann)
               if not isinstance(a, (str, int, bytes)) and a is not Ellipsis)


def _each_hint(fn: Callable[..., Any]) -> dict[str, Any]:
    """``fn``'s annotations, each resolved on its own: one that names what the function's
    module cannot see (a ``TYPE_CHECKING`` import, a class local to a function) is left out,
    not the others with it."""
    try:
        return typing.get_type_hints(fn, include_extras=True)
    except Exception:  # resolved one by one below
        pass
    raw = getattr(fn, "__annotations__", None) or {}
    scope = getattr(fn, "__globals__", {})
    out = {}
    for name, ann in raw.items():
        try:
            out[name] = eval(ann, scope) if isinstance(ann, str) else ann
        except Exception:  # unresolvable: not checked
            continue
    return out


class HostMapping:
    """The annotations of a host function that name classes of the user's: calling it with
    a function type gives that type with them mapped in (once per type), for the adapters of
    the calls into the function. Made by :meth:`of` (None when no annotation names one)."""

    __slots__ = ("_cache", "params", "result", "where")

    def __init__(self, where: str, params: list[Any], result: Any) -> None:
        self.where = where
        self.params = params
        self.result = result
        self._cache: dict[t.FuncType, t.FuncType] = {}

    @staticmethod
    def of(fn: Callable[..., Any], where: str) -> HostMapping | None:
        try:
            params = list(inspect.signature(fn).parameters.values())[1:]  # after `store`
        except (TypeError, ValueError):
            return None
        hints = _each_hint(fn)
        anns = [hints.get(p.name, Any) for p in params
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        result = hints.get("return", UNCHECKED)
        if not any(map(uses_classes, [*anns, result])):
            return None
        # only what names a class is checked strictly here; the rest as the linker always did
        anns = [a if uses_classes(a) else Any for a in anns]
        return HostMapping(where, anns, result if uses_classes(result) else UNCHECKED)

    def __call__(self, ft: t.FuncType) -> t.FuncType:
        """``ft`` with the classes mapped in (``TypeError`` if they do not fit)."""
        mapped = self._cache.get(ft)
        if mapped is None:
            params = (self.params + [Any] * len(ft.params))[: len(ft.params)]
            mapped = self._cache[ft] = fit_func(self.where, ft, params, self.result,
                                                export=False)
        return mapped
