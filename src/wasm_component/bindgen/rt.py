"""Support code imported by generated bindings (kept small and typed).

Generated modules import this as ``wasm_component.bindgen.rt``; users meet :class:`ErrorResult`
(raise it from a host function whose WIT result is ``result<T, E>`` to return ``err(E)``).
"""

from __future__ import annotations

import inspect
from typing import Any, Generic, TypeVar

from ..errors import LinkError
from ..func import Func
from ..instance import ExportIndex, Instance
from ..resources import Resource, ResourceAny
from ..types import ResourceType

__all__ = ["NO_CX", "Ctx", "ErrorResult", "awaited", "export_index", "get_func", "rewrap"]

E = TypeVar("E")


class ErrorResult(Exception, Generic[E]):
    """Raised by a host implementation to return ``err(value)`` from a function whose WIT result
    is ``result<_, E>``. Any other exception propagates (the guest call traps)."""

    def __init__(self, value: E) -> None:
        super().__init__(value)
        self.value = value


class Ctx:
    """Per-instantiation state of generated export bindings: the store and the exported
    interfaces' objects (used to wrap guest resource handles in their proxy classes)."""

    __slots__ = ("ifaces", "store")

    def __init__(self, store: Any) -> None:
        self.store = store
        self.ifaces: dict[str, Any] = {}


#: The context used on the import side (no guest resources cross there).
NO_CX = Ctx(None)


def export_index(
    instance: Instance, store: Any, name: str, parent: ExportIndex | None = None
) -> ExportIndex:
    """The index of export ``name`` (``LinkError`` when the component lacks it)."""
    idx = instance.get_export_index(store, name, parent)
    if idx is None:
        where = name if parent is None else "/".join((*parent.path, name))
        raise LinkError(f"the component does not export `{where}` (required by the bindings)")
    return idx


def get_func(instance: Instance, store: Any, name: str, parent: ExportIndex | None = None) -> Func:
    """Exported function ``name`` (``LinkError`` when missing or not a function)."""
    f = instance.get_func(store, export_index(instance, store, name, parent))
    if f is None:
        raise LinkError(f"the component's export `{name}` is not a function")
    return f


async def awaited(v: Any) -> Any:
    """The value of a host implementation of an ``async`` WIT function, which may be an
    ``async def`` (awaited here) or a plain ``def`` (its value as it is)."""
    if inspect.isawaitable(v):
        return await v
    return v


def rewrap(v: Any, rt: ResourceType) -> Any:
    """A host handle re-typed as ``rt`` (host objects are keyed by ``rep``, so any
    :class:`Resource` from the host's own table is accepted for an imported resource)."""
    if isinstance(v, Resource) and v.resource_type != rt:
        return v.retyped(rt)
    if isinstance(v, ResourceAny | Resource):
        return v
    raise TypeError(f"expected a Resource handle for `{rt.name}`, got {type(v).__name__}")


def define_type(inst: Any, name: str, ty: Any) -> None:
    """Define the (non-resource) type ``name`` of an imported interface on a linker instance.

    Components alias the types of the instances they import (``(alias export $i "point"
    (type))``), so the linker must supply them; this fills them in from the WIT.
    """
    define = getattr(inst, "_define_item", None)
    if define is not None and inst._lookup(name) is None:
        define(name, ty)
