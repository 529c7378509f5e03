"""``Instance``: an instantiated component's exports, looked up by name or by ``ExportIndex``.

Example::

    instance = linker.instantiate(store, component)
    greet = instance.get_func(store, "greet")
    iface = instance.get_export_index(store, "my:pkg/api")
    f = instance.get_func(store, instance.get_export_index(store, "f", iface))
    iface.type          # the export's type: an InstanceType here
"""

from __future__ import annotations

import copy
import typing
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, overload

from . import typed
from . import types as t
from ._runtime.items import RFunc, RInstance, RModule, RValue
from .errors import ExportNotFound
from .func import Func, TypedFunc, _NamedTypedFunc

if TYPE_CHECKING:
    from typing_extensions import TypeForm

    from .engine import Store
    from .linker import InstancePre

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

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

    @overload
    def get_typed_func(
        self, store: Store[Any], name: str | ExportIndex, ty: TypeForm[Callable[P, R]], /
    ) -> TypedFunc[P, R]: ...

    @overload
    def get_typed_func(
        self, store: Store[Any], name: str | ExportIndex, ty: Callable[P, R], /
    ) -> TypedFunc[P, R]: ...

    @overload
    def get_typed_func(
        self,
        store: Store[Any],
        name: str | ExportIndex,
        params: Sequence[t.Type],
        result: t.Type | None = None,
    ) -> TypedFunc[..., Any]: ...

    def get_typed_func(
        self,
        store: Store[Any],
        name: str | ExportIndex,
        params: Any,
        result: t.Type | None = None,
    ) -> TypedFunc[..., Any]:
        """The function ``name``, its type checked once, here, against the caller's:

        - a ``Callable[[...], R]`` annotation (``Callable[[int, int], int]``), a function
          whose signature is the export's (a stub), or a callback ``typing.Protocol`` whose
          ``__call__`` (without the store) is, gives a
          ``TypedFunc[[int, int], int]``: mypy checks each call's arguments and knows the
          result type. Each parameter's annotation must fit the export's WIT type, as
          :mod:`wasm_component.typed` says (``int`` for ``u32``, ``list[str]`` for
          ``list<string>``, ``Point | None`` for ``option<point>``...); a dataclass, enum or
          flag of yours in them maps that WIT type onto your class. A mismatch is a
          ``TypeError`` naming the export and the parameter ("expected X, got Y").
        - component types (``params``, ``result``) must equal the export's (``LinkError``).

        :class:`~.errors.ExportNotFound` (a ``LookupError``) if there is no such function.

        Example::

            add = instance.get_typed_func(store, "add", Callable[[int, int], int])
            assert add(store, 40, 2) == 42
        """
        self._check(store, "get_typed_func")
        path, item = self._resolve(name, "get_typed_func")
        f = self.get_func(store, name) if isinstance(item, RFunc) else None
        if f is None:
            raise ExportNotFound(
                f"`Instance.get_typed_func`: no function export `{'/'.join(path)}`")
        if isinstance(params, Sequence) and not isinstance(params, str):
            return f.typed(params, result)
        if result is not None:
            raise TypeError("`Instance.get_typed_func`: a result type goes with parameter "
                            f"types, not with {typed.ann_name(params)}")
        return _typed_from(f, params, f.name)

    def exports_as(self, store: Store[Any], protocol: TypeForm[T],
                   instance: str | ExportIndex | None = None) -> T:
        """An object of the exports, typed as ``protocol`` (a ``typing.Protocol`` whose
        methods are exported functions): each method is the export of its name in
        kebab-case (``get_name`` for ``get-name``; :func:`~.typed.wit_name` names one
        explicitly), checked once, here, as :meth:`get_typed_func` checks a function, and
        called without the store (bound here) unless the method takes one first. An
        attribute typed with another protocol is an exported interface (named in kebab-case,
        or by a string in ``Annotated[Api, "pkg:x/api"]``), bound the same way.
        ``instance``: the exported instance (interface) the functions are in.

        Example::

            class Calc(Protocol):
                def add(self, a: int, b: int) -> int: ...

            calc = instance.exports_as(store, Calc)
            assert calc.add(40, 2) == 42
        """
        self._check(store, "exports_as")
        parent = None
        if instance is not None:
            parent = instance if isinstance(instance, ExportIndex) else self.get_export_index(
                store, instance)
            if parent is None or not isinstance(parent.type, t.InstanceType):
                raise ExportNotFound(f"`Instance.exports_as`: no instance export `{instance}`")
        bound: T = _bind_exports(self, store, protocol, parent)
        return bound

    def get_resource(self, store: Store, name: str | ExportIndex) -> t.ResourceType | None:
        self._check(store, "get_resource")
        _, item = self._resolve(name, "get_resource")
        return item if isinstance(item, t.ResourceType) else None

    def get_module(self, store: Store, name: str | ExportIndex) -> Any:
        """An exported core module (compiled), or ``None``."""
        self._check(store, "get_module")
        _, item = self._resolve(name, "get_module")
        return item.module if isinstance(item, RModule) else None

    def get_value(self, store: Store, name: str | ExportIndex) -> Any:
        """An exported 🪙 value (a copy of its Python form), or ``None`` when ``name`` is not a
        value export (a value of ``option`` type may itself be ``None``: see
        :meth:`get_export_index`).

        Example::

            greeting = instance.get_value(store, "greeting")   # 'Hello, World!'
        """
        self._check(store, "get_value")
        _, item = self._resolve(name, "get_value")
        return copy.deepcopy(item.value) if isinstance(item, RValue) else None

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
    if isinstance(item, RValue):
        return t.ValueBound(item.ty)
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
    if isinstance(item, RValue):
        return "value"
    return "component"


def _typed_from(f: Func, ann: Any, where: str) -> TypedFunc[..., Any]:
    """``f`` as a typed function checked against annotation ``ann``: ``Callable[[...], R]``
    or a function's signature."""
    import inspect

    if inspect.isfunction(ann) or inspect.ismethod(ann):
        parts = typed.signature_parts(ann, where, 1 if inspect.ismethod(ann) else 0)
        return _typed_from_signature(f, *parts, where)
    if isinstance(ann, type) and getattr(ann, "_is_protocol", False) and "__call__" in vars(ann):
        # a callback protocol: its `__call__` (after `self`) is the export's signature
        parts = typed.signature_parts(vars(ann)["__call__"], where, 1)
        return _typed_from_signature(f, *parts, where)
    ps, result = typed.callable_parts(ann, where)
    return TypedFunc._of(f, typed.fit_func(where, f.type, ps, result, export=True))


def _typed_from_signature(f: Func, params: list[Any], anns: list[Any], result: Any, where: str
                          ) -> TypedFunc[..., Any]:
    names = [p.name for p in params]
    mapped = typed.fit_func(where, f.type, anns, result, export=True, names=names)
    tf: _NamedTypedFunc[..., Any] = _NamedTypedFunc._of(f, mapped)
    tf._names = tuple(names)
    return tf


def _protocol_members(protocol: Any) -> tuple[dict[str, Any], dict[str, tuple[Any, str]]]:
    """The methods ``protocol`` declares (its own and its bases', not ``Protocol``'s), and its
    attributes typed with another protocol: exported interfaces, each ``(protocol, export
    name)`` (the attribute in kebab-case, or a string in ``Annotated[P, "pkg:x/api"]``)."""
    if not isinstance(protocol, type) or not getattr(protocol, "_is_protocol", False):
        raise TypeError(f"`Instance.exports_as`: expected a typing.Protocol class, got "
                        f"{typed.ann_name(protocol)}")
    out: dict[str, Any] = {}
    for klass in reversed(protocol.__mro__):
        if klass in (object, typing.Protocol, typing.Generic) or not getattr(
                klass, "_is_protocol", False):
            continue
        for name, value in vars(klass).items():
            if name.startswith("_"):
                continue
            if not callable(value):
                raise TypeError(f"`Instance.exports_as`: `{protocol.__name__}.{name}` is "
                                "not a method: a protocol of exports declares functions only")
            out[name] = value
    nested: dict[str, tuple[Any, str]] = {}
    try:
        hints = typing.get_type_hints(protocol, include_extras=True)
    except NameError as e:
        raise TypeError(f"`Instance.exports_as`: cannot resolve the annotations of "
                        f"`{protocol.__name__}`: {e}") from None
    for name, ann in hints.items():
        if name.startswith("_") or name in out:
            continue
        export = typed.kebab(name)
        if typing.get_origin(ann) is typing.Annotated:
            ann, *meta = typing.get_args(ann)
            export = next((m for m in meta if isinstance(m, str)), export)
        if not getattr(ann, "_is_protocol", False):
            raise TypeError(f"`Instance.exports_as`: `{protocol.__name__}.{name}` is an "
                            f"attribute of type {typed.ann_name(ann)}: a protocol of exports "
                            "declares functions, and protocols for exported interfaces")
        nested[name] = (ann, export)
    return out, nested


def _bind_exports(inst: Instance, store: Store[Any], protocol: Any,
                  parent: ExportIndex | None) -> Any:
    """An object with one generated function per method of ``protocol``: the export of that
    name, typed once, whose call takes the store's lock and makes the prepared call."""
    from ._abi.codegen import CodeGen

    methods, nested = _protocol_members(protocol)
    ns: dict[str, Any] = {}
    for attr, (sub, export) in nested.items():
        idx = inst.get_export_index(store, export, parent)
        if idx is None or not isinstance(idx.type, t.InstanceType):
            raise ExportNotFound(f"`Instance.exports_as`: `{protocol.__name__}.{attr}` is the "
                                 f"exported interface `{export}`, but the instance has none")
        ns[attr] = _bind_exports(inst, store, sub, idx)
    for attr, fn in methods.items():
        export = getattr(fn, typed.WIT_NAME, None) or typed.kebab(attr)
        where = f"{protocol.__name__}.{attr}"
        params, anns, result = typed.signature_parts(fn, where, 1)  # after `self`
        explicit = bool(params) and (params[0].name == "store" or _is_store(anns[0]))
        idx = inst.get_export_index(store, export, parent)
        f = inst.get_func(store, idx) if idx is not None else None
        if f is None:
            within = f" in `{'/'.join(parent.path)}`" if parent is not None else ""
            raise ExportNotFound(f"`Instance.exports_as`: `{where}` is the export `{export}`, "
                                 f"but the instance has no such function{within}")
        k = 1 if explicit else 0
        tf = _typed_from_signature(f, params[k:], anns[k:], result, f"`{where}` (`{export}`)")
        names = [p.name for p in params[k:]]
        g = CodeGen()
        g.label = where
        args = ", ".join(names) + ("," if len(names) == 1 else "")
        if explicit:
            g.emit(f"if {params[0].name} is not {g.const(store, 'store')}: "
                   f"{g.const(tf.func._check_store)}({params[0].name})")
        with g.block(f"with {g.const(tf._lock, 'lock')}:"):
            g.emit(f"return {g.const(tf._call, 'call')}(({args}))")
        head = [p.name for p in params[:1]] if explicit else []
        ns[attr] = g.finish(attr, ", ".join([*head, *names]), [])
    cls = type(f"{protocol.__name__}Exports", (), {
        "__slots__": tuple(ns), "__repr__": lambda self: f"<{protocol.__name__} exports>"})
    obj = cls()
    for attr, value in ns.items():
        setattr(obj, attr, value)
    return obj


def _is_store(ann: Any) -> bool:
    from .engine import Store

    return ann is Store or typing.get_origin(ann) is Store
