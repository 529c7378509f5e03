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

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from ... import types as t
from ...wit import Resolve
from ...wit.to_types import function_type

if TYPE_CHECKING:
    from ...component import Component
    from ..ctx import WasiCtx

__all__ = [
    "WIT_DIR",
    "elem_types",
    "elem_types_of",
    "param_elem_type",
    "result_type",
    "use_component_types",
]

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
def elem_types(interface: str, function: str, wit: Path = WIT_DIR) -> tuple[t.Type | None, ...]:
    """The payload types of the streams and futures in ``function``'s result, in order:
    ``(u8, result<_, error-code>)`` for ``tuple<stream<u8>, future<result<_, error-code>>>``
    (a tuple's other members, such as a resource, are skipped)."""
    return _payloads(result_type(interface, function, wit))


def _payloads(ty: t.Type) -> tuple[t.Type | None, ...]:
    parts = ty.types if isinstance(ty, t.TupleType) else (ty,)
    if isinstance(ty, t.ResultType) and isinstance(ty.ok, t.StreamType):
        parts = (ty.ok,)
    out = [p.payload for p in parts if isinstance(p, (t.StreamType, t.FutureType))]
    assert out, f"{ty.wit()} has no stream or future"
    return tuple(out)


_COMPONENT_TYPES = "p3.component-types"


def use_component_types(ctx: WasiCtx, component: Component) -> None:
    """Make the 0.3 hosts of ``ctx`` type the streams and futures they create as
    ``component`` imports them (rather than from the WIT): a payload holding a resource
    (``stream<tcp-socket>``, ``future<result<option<trailers>, ...>>``) is then the very
    type the runtime checks it against when it is lowered into that component's instances.
    ``wasm-component run`` and ``asgi_app`` do this for the component they run."""
    table: dict[tuple[str, str], t.FuncType] = {}
    for name, ty in component.component_type().imports:
        if isinstance(ty, t.InstanceType):
            for fname, f in ty.exports:
                if isinstance(f, t.FuncType):
                    table[(name, fname)] = f
    ctx._extensions[_COMPONENT_TYPES] = table


def elem_types_of(ctx: WasiCtx, interface: str, function: str,
                  wit: Path = WIT_DIR) -> tuple[t.Type | None, ...]:  # fmt: skip
    """:func:`elem_types`, as the component given to :func:`use_component_types` imports
    ``function`` when it does."""
    table: dict[tuple[str, str], t.FuncType] | None = ctx._extensions.get(_COMPONENT_TYPES)
    ft = None if table is None else table.get((interface, function))
    if ft is None or ft.result is None:
        return elem_types(interface, function, wit)
    return _payloads(ft.result)


def param_elem_type(interface: str, function: str, param: str,
                    wit: Path = WIT_DIR) -> t.Type | None:  # fmt: skip
    """The payload type of the stream or future parameter ``param`` of ``function``."""
    ft = _functions(wit)[(interface, function)]
    for name, ty in ft.params:
        if name == param:
            assert isinstance(ty, (t.StreamType, t.FutureType)), f"{param} is a {ty.wit()}"
            return ty.payload
    raise AssertionError(f"{interface}#{function} has no parameter {param}")
