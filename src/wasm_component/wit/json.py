"""A :class:`~.resolve.Resolve` as plain JSON data, in wit-parser's serialization shape.

The shape (``worlds``/``interfaces``/``types``/``packages`` arrays with integer references,
``docs``/``stability``/``result`` omitted when absent, world keys ``interface-N``) is exactly
that of the ``*.wit.json`` goldens, so resolved output can be compared with wit-parser's.
"""

from __future__ import annotations

import json as _json
from typing import Any

from .model import (
    Docs,
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
    Stability,
    TypeDef,
    TypeDefKind,
    WorldItem,
    WorldItemFunction,
    WorldItemInterface,
    WorldKey,
)
from .resolve import Resolve

__all__ = ["dumps", "to_json"]


def _docs(out: dict[str, Any], docs: Docs) -> None:
    if docs.contents is not None:
        out["docs"] = {"contents": docs.contents}


def _stability(s: Stability) -> dict[str, Any]:
    inner: dict[str, Any] = {"since" if s.kind == "stable" else "feature": s.value}
    if s.deprecated is not None:
        inner["deprecated"] = s.deprecated
    return {s.kind: inner}


def _stab(out: dict[str, Any], s: Stability | None) -> None:
    if s is not None:
        out["stability"] = _stability(s)


def _kind(k: TypeDefKind) -> Any:
    if isinstance(k, KType):
        return {"type": k.ty}
    if isinstance(k, KRecord):
        fields = []
        for f in k.fields:
            fd: dict[str, Any] = {"name": f.name, "type": f.ty}
            _docs(fd, f.docs)
            fields.append(fd)
        return {"record": {"fields": fields}}
    if isinstance(k, KResource):
        return "resource"
    if isinstance(k, KHandle):
        return {"handle": {k.kind: k.id}}
    if isinstance(k, KFlags):
        flags = []
        for fl in k.flags:
            d: dict[str, Any] = {"name": fl.name}
            _docs(d, fl.docs)
            flags.append(d)
        return {"flags": {"flags": flags}}
    if isinstance(k, KTuple):
        return {"tuple": {"types": list(k.types)}}
    if isinstance(k, KVariant):
        cases = []
        for c in k.cases:
            cd: dict[str, Any] = {"name": c.name, "type": c.ty}
            _docs(cd, c.docs)
            cases.append(cd)
        return {"variant": {"cases": cases}}
    if isinstance(k, KEnum):
        ecases = []
        for e in k.cases:
            ed: dict[str, Any] = {"name": e.name}
            _docs(ed, e.docs)
            ecases.append(ed)
        return {"enum": {"cases": ecases}}
    if isinstance(k, KOption):
        return {"option": k.ty}
    if isinstance(k, KResult):
        return {"result": {"ok": k.ok, "err": k.err}}
    if isinstance(k, KList):
        return {"list": k.ty}
    if isinstance(k, KFixedList):
        return {"fixed-length-list": [k.ty, k.size]}
    if isinstance(k, KMap):
        return {"map": [k.key, k.value]}
    if isinstance(k, KFuture):
        return {"future": k.ty}
    if isinstance(k, KStream):
        return {"stream": k.ty}
    if isinstance(k, KUnknown):
        return "unknown"
    raise AssertionError(k)  # pragma: no cover


def _typedef(t: TypeDef) -> dict[str, Any]:
    out: dict[str, Any] = {"name": t.name, "kind": _kind(t.kind)}
    out["owner"] = None if t.owner is None else {t.owner[0]: t.owner[1]}
    _docs(out, t.docs)
    _stab(out, t.stability)
    return out


def _function(f: Function) -> dict[str, Any]:
    kind: Any = f.kind if f.resource is None else {f.kind: f.resource}
    out: dict[str, Any] = {
        "name": f.name,
        "kind": kind,
        "params": [{"name": n, "type": t} for n, t in f.params],
    }
    if f.result is not None:
        out["result"] = f.result
    _docs(out, f.docs)
    _stab(out, f.stability)
    return out


def _key(k: WorldKey) -> str:
    return k if isinstance(k, str) else f"interface-{k}"


def _world_item(item: WorldItem) -> dict[str, Any]:
    if isinstance(item, WorldItemInterface):
        inner: dict[str, Any] = {"id": item.id}
        _stab(inner, item.stability)
        return {"interface": inner}
    if isinstance(item, WorldItemFunction):
        return {"function": _function(item.func)}
    return {"type": item.id}


def to_json(resolve: Resolve) -> dict[str, Any]:
    """The resolve as JSON-ready data (dicts, lists, strings, ints, ``None``)."""
    worlds = []
    for w in resolve.worlds:
        wd: dict[str, Any] = {
            "name": w.name,
            "imports": {_key(k): _world_item(v) for k, v in w.imports.items()},
            "exports": {_key(k): _world_item(v) for k, v in w.exports.items()},
            "package": w.package,
        }
        _docs(wd, w.docs)
        _stab(wd, w.stability)
        worlds.append(wd)
    interfaces = []
    for i in resolve.interfaces:
        idict: dict[str, Any] = {
            "name": i.name,
            "types": dict(i.types),
            "functions": {n: _function(f) for n, f in i.functions.items()},
        }
        _docs(idict, i.docs)
        _stab(idict, i.stability)
        idict["package"] = i.package
        interfaces.append(idict)
    packages = []
    for p in resolve.packages:
        pd: dict[str, Any] = {"name": str(p.name)}
        _docs(pd, p.docs)
        pd["interfaces"] = dict(p.interfaces)
        pd["worlds"] = dict(p.worlds)
        packages.append(pd)
    return {
        "worlds": worlds,
        "interfaces": interfaces,
        "types": [_typedef(t) for t in resolve.types],
        "packages": packages,
    }


def dumps(resolve: Resolve) -> str:
    """:func:`to_json` rendered as indented JSON text."""
    return _json.dumps(to_json(resolve), indent=2)
