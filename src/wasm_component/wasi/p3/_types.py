"""The runtime types of WASI 0.3's streams and futures, read from the WIT kept as data.

Why this module exists: a host that creates a ``stream<T>`` or ``future<T>`` for the guest
must say what ``T`` is. Those types are written once, in ``wasi/wit/0.3.0``; this module
resolves that WIT (once, on first use) and answers "the type of this function's result", so
no element type is written out a second time by hand.

Example::

    >>> r = result_type("wasi:cli/stdin@0.3.0", "read-via-stream")
    >>> r.wit()
    'tuple<stream<u8>, future<result<_, enum { io, illegal-byte-sequence, pipe }>>>'
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from types import ModuleType
from typing import Any

from ... import types as t
from ...wit import Resolve
from ...wit.to_types import function_type
from ..ctx import REGISTRY

__all__ = ["WIT_DIR", "elem_types", "host_typed", "param_elem_type", "result_type"]

#: WASI 0.3.0's WIT, as released (``deps/``), and the world that includes all of it.
WIT_DIR = Path(__file__).resolve().parents[1] / "wit" / "0.3.0"


@functools.cache
def _functions(wit: Path = WIT_DIR) -> dict[tuple[str, str], t.FuncType]:
    r = Resolve()
    r.push_dir(wit)
    out: dict[tuple[str, str], t.FuncType] = {}
    for iface in r.interfaces:
        if iface.name is None or iface.package is None:
            continue
        pkg = r.packages[iface.package].name
        version = f"@{pkg.version}" if pkg.version else ""
        name = f"{pkg.namespace}:{pkg.name}/{iface.name}{version}"
        for fname, func in iface.functions.items():
            out[(name, fname)] = function_type(r, func)
    return out


def result_type(interface: str, function: str, wit: Path = WIT_DIR) -> t.Type:
    """The result type of ``function`` (its component-level name, such as
    ``[method]descriptor.read-via-stream``) in ``interface`` (``wasi:cli/stdin@0.3.0``) of the
    WIT package directory ``wit`` (WASI 0.3.0's by default)."""
    ft = _functions(wit)[(interface, function)]
    assert ft.result is not None, f"{interface}#{function} returns nothing"
    return ft.result


@functools.cache
def elem_types(interface: str, function: str, wit: Path = WIT_DIR,
               bindings: ModuleType | None = None) -> tuple[t.Type | None, ...]:  # fmt: skip
    """The payload types of the streams and futures in ``function``'s result, in order:
    ``(u8, result<_, error-code>)`` for ``tuple<stream<u8>, future<result<_, error-code>>>``
    (a tuple's other members, such as a resource, are skipped). Resources are the host's
    (:func:`host_typed`, from ``bindings``, by default the module registered for
    ``interface``), as the runtime types a stream or future lowered into a guest."""
    ty = result_type(interface, function, wit)
    parts = ty.types if isinstance(ty, t.TupleType) else (ty,)
    if isinstance(ty, t.ResultType) and isinstance(ty.ok, t.StreamType):
        parts = (ty.ok,)
    out = [p.payload for p in parts if isinstance(p, (t.StreamType, t.FutureType))]
    assert out, f"{ty.wit()} has no stream or future"
    if bindings is None and interface in REGISTRY:
        bindings = REGISTRY[interface][0]
    if bindings is None:
        return tuple(out)
    return tuple(host_typed(p, bindings) for p in out)


def host_typed(x: Any, bindings: ModuleType) -> Any:
    """``x`` (a type resolved from the WIT, or a part of one) with the resources of
    ``bindings`` (a generated module: its ``_RT_*`` host resource types) in place of the
    abstract ones the WIT resolution made: ``trailers``' ``own<fields>`` becomes the host's
    ``fields``, the type the linker gave the import and so the one a guest's built-ins and
    the runtime check a host-made stream or future against."""
    hosts = {rt.name: rt for k, rt in vars(bindings).items()
             if k.startswith("_RT_") and isinstance(rt, t.ResourceType)}
    return _substituted(x, hosts)


def _substituted(x: Any, hosts: dict[str, t.ResourceType]) -> Any:
    if isinstance(x, t.ResourceType):
        return hosts.get(x.name, x) if x.kind == "abstract" else x
    if isinstance(x, tuple):
        return tuple(_substituted(y, hosts) for y in x)
    if isinstance(x, t.Type) and dataclasses.is_dataclass(x):
        changes = {f.name: _substituted(getattr(x, f.name), hosts) for f in dataclasses.fields(x)}
        if all(v is getattr(x, k) for k, v in changes.items()):
            return x
        return dataclasses.replace(x, **changes)
    return x


def param_elem_type(interface: str, function: str, param: str,
                    wit: Path = WIT_DIR) -> t.Type | None:  # fmt: skip
    """The payload type of the stream or future parameter ``param`` of ``function``."""
    ft = _functions(wit)[(interface, function)]
    for name, ty in ft.params:
        if name == param:
            assert isinstance(ty, (t.StreamType, t.FutureType)), f"{param} is a {ty.wit()}"
            return ty.payload
    raise AssertionError(f"{interface}#{function} has no parameter {param}")
