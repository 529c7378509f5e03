"""``Instance``: an instantiated component's exports, looked up by name or by ``ExportIndex``.

Example::

    instance = linker.instantiate(store, component)
    greet = instance.get_func(store, "greet")
    iface = instance.get_export_index(store, "my:pkg/api")
    f = instance.get_func(store, instance.get_export_index(store, "f", iface))
    iface.type          # the export's type: an InstanceType here
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import types as t
from ._runtime.items import RFunc, RInstance, RModule
from .errors import ExportNotFound
from .func import Func, TypedFunc

if TYPE_CHECKING:
    from .engine import Store
    from .linker import InstancePre

__all__ = ["ExportIndex", "Instance"]


@dataclass(frozen=True, slots=True)
class ExportIndex:
    """A pre-resolved path to an export (from :meth:`Instance.get_export_index` or
    ``Component.get_export_index``) and the export's type, as wasmtime's ``get_export`` returns
    the pair: a ``FuncType``, ``InstanceType``, ``TypeBound`` (a type or resource),
    ``ModuleType`` or ``ComponentType``. From a component the types are static (resources
    abstract); from an instance they are the instance's own (its resources concrete).
    ``type`` is ``None`` only where the runtime keeps no type (a module or nested component
    export of an instance). Indices compare by path.

    Example::

        idx = component.get_export_index("add")
        idx.type.params     # (('a', U32), ('b', U32))
    """

    path: tuple[str, ...]
    type: t.ExternType | None = field(default=None, compare=False)


class Instance:
    """An instantiated component. Not constructed by users: see ``Linker.instantiate``."""

    __slots__ = ("_exports", "_funcs", "_pre", "_store")

    def __init__(self, store: Store, exports: dict[str, Any], pre: InstancePre | None = None
                 ) -> None:
        self._store = store
        self._exports = exports
        self._funcs: dict[tuple[str, ...], Func] = {}
        self._pre = pre

    def instance_pre(self, store: Store) -> InstancePre:
        """The :class:`~.linker.InstancePre` this instance was made from (wasmtime's
        ``Instance::instance_pre``): instantiate the same component with the same definitions
        again, in this or another store.

        Example::

            again = instance.instance_pre(store).instantiate(Store(engine))
            instance.instance_pre(store).component is component   # True
        """
        self._check(store, "instance_pre")
        assert self._pre is not None, "every Instance is made by an InstancePre"
        return self._pre

    def _check(self, store: Store, what: str) -> None:
        if store is not self._store:
            from . import engine

            if not isinstance(store, engine.Store):
                raise TypeError(f"`Instance.{what}`: expected a Store, got "
                                f"{type(store).__name__} {store!r}")
            raise ValueError(f"`Instance.{what}`: the instance belongs to a different store")

    def _resolve(self, key: str | ExportIndex | Sequence[str], what: str = "get_export"
                 ) -> tuple[tuple[str, ...], Any]:
        if isinstance(key, ExportIndex):
            path = key.path
        elif isinstance(key, str):
            path = (key,)
        elif isinstance(key, (list, tuple)) and all(isinstance(k, str) for k in key):
            path = tuple(key)
        else:
            raise TypeError(f"`Instance.{what}`: expected an export name (str) or an "
                            f"ExportIndex, got {type(key).__name__} {key!r}")
        item: Any = RInstance(self._exports)
        for name in path:
            if not isinstance(item, RInstance) or name not in item.exports:
                return path, None
            item = item.exports[name]
        return path, item

    def get_export_index(
        self, store: Store, name: str, parent: ExportIndex | None = None
    ) -> ExportIndex | None:
        """The index of export ``name`` (inside the exported instance ``parent``), or None."""
        self._check(store, "get_export_index")
        if not isinstance(name, str):
            raise TypeError(f"`Instance.get_export_index`: expected an export name (str), got "
                            f"{type(name).__name__} {name!r}")
        if parent is not None and not isinstance(parent, ExportIndex):
            raise TypeError(f"`Instance.get_export_index`: expected an ExportIndex for "
                            f"`parent`, got {type(parent).__name__} {parent!r}")
        path = (*(parent.path if parent else ()), name)
        _, item = self._resolve(path)
        return None if item is None else ExportIndex(path, _type_of(item))

    def get_func(self, store: Store, name: str | ExportIndex) -> Func | None:
        """The exported function ``name`` (or at an export index), or ``None``."""
        self._check(store, "get_func")
        path, item = self._resolve(name, "get_func")
        if not isinstance(item, RFunc):
            return None
        f = self._funcs.get(path)
        if f is None:
            f = self._funcs[path] = Func(item, store, "/".join(path))
        return f

    def get_typed_func(
        self,
        store: Store,
        name: str | ExportIndex,
        params: Sequence[t.Type],
        result: t.Type | None = None,
    ) -> TypedFunc:
        """The function ``name`` checked once against ``params``/``result`` (LinkError if not;
        :class:`~.errors.ExportNotFound`, a ``LookupError``, if there is no such function)."""
        self._check(store, "get_typed_func")
        path, item = self._resolve(name, "get_typed_func")
        f = self.get_func(store, name) if isinstance(item, RFunc) else None
        if f is None:
            raise ExportNotFound(
                f"`Instance.get_typed_func`: no function export `{'/'.join(path)}`")
        return f.typed(params, result)

    def get_resource(self, store: Store, name: str | ExportIndex) -> t.ResourceType | None:
        self._check(store, "get_resource")
        _, item = self._resolve(name, "get_resource")
        return item if isinstance(item, t.ResourceType) else None

    def get_module(self, store: Store, name: str | ExportIndex) -> Any:
        """An exported core module (compiled), or ``None``."""
        self._check(store, "get_module")
        _, item = self._resolve(name, "get_module")
        return item.module if isinstance(item, RModule) else None

    def exports(self, store: Store) -> Iterator[tuple[str, str]]:
        """``(name, kind)`` of each top-level export."""
        self._check(store, "exports")
        for name, item in self._exports.items():
            yield name, _kind(item)

    def __iter__(self) -> Iterator[str]:
        return iter(self._exports)

    def __repr__(self) -> str:
        return f"<Instance exports={list(self._exports)}>"


def _type_of(item: Any) -> t.ExternType | None:
    """The type of a runtime export item, where the runtime keeps one."""
    if isinstance(item, RFunc):
        return item.ty
    if isinstance(item, RInstance):
        # from the items themselves (concrete resource types), else the static type it has
        exports = tuple((n, _type_of(i)) for n, i in item.exports.items())
        if any(ty is None for _, ty in exports):
            return item.ty
        return t.InstanceType(exports)  # type: ignore[arg-type]
    if isinstance(item, t.Type):
        return t.TypeBound(item)
    return None


def _kind(item: Any) -> str:
    if isinstance(item, RFunc):
        return "func"
    if isinstance(item, RInstance):
        return "instance"
    if isinstance(item, t.Type):
        return "type"
    if isinstance(item, RModule):
        return "module"
    return "component"
