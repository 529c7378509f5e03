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

from ... import types as t
from ...wit import Resolve
from ...wit.to_types import function_type

__all__ = ["WIT_DIR", "elem_types", "param_elem_type", "result_type"]

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
    ty = result_type(interface, function, wit)
    parts = ty.types if isinstance(ty, t.TupleType) else (ty,)
    if isinstance(ty, t.ResultType) and isinstance(ty.ok, t.StreamType):
        parts = (ty.ok,)
    out = [p.payload for p in parts if isinstance(p, (t.StreamType, t.FutureType))]
    assert out, f"{ty.wit()} has no stream or future"
    return tuple(out)


def param_elem_type(interface: str, function: str, param: str,
                    wit: Path = WIT_DIR) -> t.Type | None:  # fmt: skip
    """The payload type of the stream or future parameter ``param`` of ``function``."""
    ft = _functions(wit)[(interface, function)]
    for name, ty in ft.params:
        if name == param:
            assert isinstance(ty, (t.StreamType, t.FutureType)), f"{param} is a {ty.wit()}"
            return ty.payload
    raise AssertionError(f"{interface}#{function} has no parameter {param}")
