"""Resolved WIT types onto the runtime type model (:mod:`wasm_component.types`).

WIT and the runtime share one type system: a WIT type (a primitive name or an id into
``Resolve.types``) maps to the same :class:`~wasm_component.types.Type` a component's
validator produces for it. Aliases (``type a = b``, ``use``) are followed; resources are
generative, so the caller supplies the :class:`~wasm_component.types.ResourceType` for each WIT
resource id in ``resources`` (missing ones get a fresh abstract type, recorded in the dict so the
same id always maps to the same type).

Example::

    >>> from wasm_component.wit import Resolve
    >>> r = Resolve(); pkg = r.push_str("package a:b; interface i { f: func(x: list<u8>) -> option<string>; }")
    >>> str(function_type(r, r.interfaces[0].functions["f"]))
    'func(x: list<u8>) -> option<string>'
"""

from __future__ import annotations

from .. import types as t
from ..errors import WitError
from .model import (
    Function,
    KEnum,
    KFixedList,
    KFlags,
    KFuture,
    KHandle,
    KList,
    KMap,
    KOption,
    KRecord,
    KResource,
    KResult,
    KStream,
    KTuple,
    KType,
    KUnknown,
    KVariant,
    Type,
)
from .resolve import Resolve

__all__ = ["dealias", "function_type", "resource_ids", "wit_type_to_type"]


def dealias(resolve: Resolve, ty: Type) -> Type:
    """Follow ``type a = b`` aliases (and ``use``) to the defining type."""
    seen = 0
    while isinstance(ty, int):
        kind = resolve.types[ty].kind
        if not isinstance(kind, KType):
            return ty
        ty = kind.ty
        seen += 1
        if seen > len(resolve.types):
            raise WitError("type alias cycle")
    return ty


def wit_type_to_type(
    resolve: Resolve, ty: Type, resources: dict[int, t.ResourceType] | None = None
) -> t.Type:
    """The runtime type of WIT type ``ty``; ``resources`` maps resource type ids (after
    dealiasing) to the resource types to use for handles and resource types."""
    res: dict[int, t.ResourceType] = {} if resources is None else resources
    return _convert(resolve, ty, res, 0)


def function_type(
    resolve: Resolve, func: Function, resources: dict[int, t.ResourceType] | None = None
) -> t.FuncType:
    """The runtime :class:`~wasm_component.types.FuncType` of a WIT function (methods keep their
    ``self`` parameter, as the component-level function does)."""
    res: dict[int, t.ResourceType] = {} if resources is None else resources
    params = tuple((name, _convert(resolve, pty, res, 0)) for name, pty in func.params)
    result = None if func.result is None else _convert(resolve, func.result, res, 0)
    return t.FuncType(params, result, func.kind.startswith("async"))


def resource_ids(resolve: Resolve, ty: Type | None) -> set[int]:
    """Ids of the resources ``ty`` mentions through handles (after dealiasing)."""
    out: set[int] = set()

    def walk(x: Type | None, depth: int) -> None:
        if x is None or isinstance(x, str) or depth > 500:
            return
        x = dealias(resolve, x)
        if isinstance(x, str):
            return
        k = resolve.types[x].kind
        match k:
            case KHandle(_, rid):
                r = dealias(resolve, rid)
                if isinstance(r, int):
                    out.add(r)
            case KResource():
                out.add(x)
            case KRecord(fields):
                for f in fields:
                    walk(f.ty, depth + 1)
            case KVariant(cases):
                for c in cases:
                    walk(c.ty, depth + 1)
            case KTuple(types):
                for e in types:
                    walk(e, depth + 1)
            case KOption(e) | KList(e) | KFixedList(e, _):
                walk(e, depth + 1)
            case KResult(ok, err):
                walk(ok, depth + 1)
                walk(err, depth + 1)
            case KMap(key, value):
                walk(key, depth + 1)
                walk(value, depth + 1)
            case KFuture(e) | KStream(e):
                walk(e, depth + 1)
            case _:
                pass

    walk(ty, 0)
    return out


def _resource(resolve: Resolve, rid: int, res: dict[int, t.ResourceType]) -> t.ResourceType:
    rt = res.get(rid)
    if rt is None:
        rt = res[rid] = t.ResourceType.fresh(resolve.types[rid].name or "resource")
    return rt


def _convert(resolve: Resolve, ty: Type, res: dict[int, t.ResourceType], depth: int) -> t.Type:
    if depth > 1000:
        raise WitError("type nested too deeply")
    if isinstance(ty, str):
        prim = t.PRIMITIVES.get(ty)
        if prim is None:
            raise WitError(f"unknown primitive type `{ty}`")
        return prim
    d = depth + 1

    def opt(x: Type | None) -> t.Type | None:
        return None if x is None else _convert(resolve, x, res, d)

    kind = resolve.types[ty].kind
    match kind:
        case KType(inner):
            return _convert(resolve, inner, res, d)
        case KRecord(fields):
            return t.RecordType(tuple((f.name, _convert(resolve, f.ty, res, d)) for f in fields))
        case KVariant(cases):
            return t.VariantType(tuple((c.name, opt(c.ty)) for c in cases))
        case KEnum(cases):
            return t.EnumType(tuple(c.name for c in cases))
        case KFlags(flags):
            return t.FlagsType(tuple(f.name for f in flags))
        case KTuple(types):
            return t.TupleType(tuple(_convert(resolve, e, res, d) for e in types))
        case KOption(inner):
            return t.OptionType(_convert(resolve, inner, res, d))
        case KResult(ok, err):
            return t.ResultType(opt(ok), opt(err))
        case KList(inner):
            return t.ListType(_convert(resolve, inner, res, d))
        case KFixedList(inner, size):
            return t.ListType(_convert(resolve, inner, res, d), size)
        case KMap(key, value):
            return t.MapType(_convert(resolve, key, res, d), _convert(resolve, value, res, d))
        case KFuture(inner):
            return t.FutureType(opt(inner))
        case KStream(inner):
            return t.StreamType(opt(inner))
        case KResource():
            return _resource(resolve, ty, res)
        case KHandle(hkind, rid):
            target = dealias(resolve, rid)
            if not isinstance(target, int) or not isinstance(
                resolve.types[target].kind, KResource
            ):
                raise WitError("handle to a non-resource type")
            rt = _resource(resolve, target, res)
            return t.OwnType(rt) if hkind == "own" else t.BorrowType(rt)
        case KUnknown():
            raise WitError(f"type `{resolve.types[ty].name}` was never resolved")
    raise WitError(f"unsupported WIT type kind {type(kind).__name__}")
