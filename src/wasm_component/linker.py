"""``Linker``: host definitions by name, type-checked against a component's imports.

Definitions live in a tree of :class:`LinkerInstance`s (the root, and one per imported instance
name). Import names match semver-compatibly, as in wasmtime: an import of
``wasi:cli/env@0.2.3`` is satisfied by a definition at ``@0.2.0`` (same ``0.2`` track); within a
track the highest defined version wins.

Example::

    linker = Linker(engine)
    linker.root().func_wrap("name", lambda store: "Alice")
    instance = linker.instantiate(store, component)
"""

from __future__ import annotations

import asyncio
import copy
import functools
import inspect
import re
import weakref
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic

from . import streams as _streams  # noqa: F401 (loaded: the runtime hands host ends through it)
from . import typed
from . import types as t
from ._abi.lower import values_check
from ._runtime import core
from ._runtime.calls import HostFunc
from ._runtime.instantiate import program_for
from ._runtime.items import RComponent, RFunc, RInstance, RModule, RValue
from ._validate.typecheck import Mismatch, ModuleWords, check_module, check_subtype
from .component import Component
from .engine import Engine, Store, T
from .errors import LinkError, NotSupported, Trap
from .instance import Instance
from .values import Ok, Record, Variant
from .views import view_fits, view_params

__all__ = ["InstancePre", "Linker", "LinkerInstance", "default_value"]

_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(.*)$")


def _track(name: str) -> tuple[str, tuple[int, ...]] | None:
    """``(base@track, version)`` for a versioned name, where track is what stays compatible."""
    base, at, version = name.partition("@")
    if not at:
        return None
    m = _SEMVER.match(version)
    if m is None or m.group(4):
        return None  # pre-release/build versions only match exactly
    major, minor, patch = int(m.group(1)), int(m.group(2)), int(m.group(3))
    track = f"{major}" if major else (f"0.{minor}" if minor else f"0.0.{patch}")
    return f"{base}@{track}", (major, minor, patch)


_UNSET: Any = object()


@dataclass
class _FuncDef:
    fn: Callable[..., Any]
    style: str  # "wrap" | "new" | "trap"
    params: tuple[t.Type, ...] | None = None
    result: t.Type | None = None
    has_result: bool = False
    is_async: bool = False  # ``func_wrap_async``: ``fn`` returns a coroutine
    _views: Any = _UNSET  # ``views.view_params(fn)``, found when first instantiated
    _mapping: Any = _UNSET  # ``typed.HostMapping.of(fn)``, found when first linked

    def views(self) -> tuple[type | None, ...] | None:
        if self._views is _UNSET:
            self._views = view_params(self.fn) if self.style == "wrap" else None
        return self._views  # type: ignore[no-any-return]

    def mapping(self, where: str) -> typed.HostMapping | None:
        """The classes of the user's that ``fn``'s annotations name (dataclasses, enums,
        flags), mapped onto the import's WIT types (see :mod:`.typed`)."""
        if self._mapping is _UNSET:
            self._mapping = typed.HostMapping.of(self.fn, where) if self.style == "wrap" else None
        return self._mapping  # type: ignore[no-any-return]


@dataclass
class _ResourceDef:
    rt: t.ResourceType
    dtor: Callable[[Store, int], None] | None


@dataclass
class _ModuleDef:
    module: Any


@dataclass
class _ResolvedInstance:
    """A linker instance resolved against an imported instance type: one definition (possibly
    a stand-in for an optional type export) per export of the type."""

    exports: dict[str, Any]


@dataclass
class _ItemDef:
    """A runtime item from an instantiated component (``Linker.define_instance``)."""

    item: Any


@dataclass
class _ValueDef:
    value: Any


_Def = Any  # _FuncDef | _ResourceDef | _ModuleDef | _ValueDef | _ItemDef | LinkerInstance


class LinkerInstance(Generic[T]):
    """Definitions under one instance name (or the root). Get one from :class:`Linker`."""

    def __init__(self, linker: Linker[T], path: str) -> None:
        self._linker = linker
        self._path = path
        self._defs: dict[str, _Def] = {}
        self._tracks: dict[str, tuple[tuple[int, ...], str]] = {}

    def _define(self, name: str, d: _Def, api: str) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"`{api}`: expected a non-empty name, got {name!r}")
        if name in self._defs and not self._linker._allow_shadowing:
            where = f"{self._path}/{name}" if self._path else name
            raise ValueError(f"`{api}`: `{where}` is already defined (see `allow_shadowing`)")
        self._defs[name] = d
        self._linker._version += 1
        tr = _track(name)
        if tr is not None:
            key, ver = tr
            cur = self._tracks.get(key)
            if cur is None or ver >= cur[0]:
                self._tracks[key] = (ver, name)

    def _lookup(self, name: str) -> _Def | None:
        d = self._defs.get(name)
        if d is not None:
            return d
        tr = _track(name)
        if tr is not None:
            hit = self._tracks.get(tr[0])
            if hit is not None:
                return self._defs.get(hit[1])
        return None

    def func_wrap(
        self,
        name: str,
        fn: Callable[..., Any],
        *,
        params: list[t.Type] | tuple[t.Type, ...] | None = None,
        result: t.Type | None = None,
    ) -> None:
        """Define function ``name`` as ``fn(store, *args) -> result`` with plain Python values.

        Types come from the importing component; give ``params``/``result`` to have them
        checked at link time instead (``LinkError`` on a mismatch). A dataclass, enum, flag or
        union of case dataclasses of yours in ``fn``'s annotations is the mapping of that
        WIT type (see :mod:`wasm_component.typed`): ``fn`` is given your classes and may return
        them, checked when linked.

        Example::

            def move(store: Store, p: Point) -> Point:   # record point { x: s32, y: s32 }
                return Point(p.x + 1, p.y)

            linker.root().func_wrap("move", move)
        """
        if not callable(fn):
            raise TypeError(f"`func_wrap`: expected a callable for `{name}`, got {fn!r}")
        if _is_async_callable(fn):
            raise TypeError(f"`func_wrap`: expected a plain function for `{name}`, got the "
                            f"`async def` {fn!r} (use `func_wrap_async`)")
        self._define(
            name,
            _FuncDef(fn, "wrap", tuple(params) if params is not None else None, result,
                     params is not None),
            "func_wrap",
        )

    def func_wrap_async(
        self,
        name: str,
        fn: Callable[..., Awaitable[Any]],
        *,
        params: list[t.Type] | tuple[t.Type, ...] | None = None,
        result: t.Type | None = None,
    ) -> None:
        """Define function ``name`` as ``async def fn(store, *args) -> result``: while it awaits,
        the calling guest task waits and the store's other tasks run (on the loop of the
        ``call_async`` that reached it, or a private one under a plain call). It implements an
        ``async`` WIT function (a plain ``def`` given to :meth:`func_wrap` may too, returning
        at once) or a synchronous one whose caller then blocks. Checked as :meth:`func_wrap`."""
        if not _is_async_callable(fn):
            raise TypeError(f"`func_wrap_async`: expected an `async def` for `{name}`, got "
                            f"{fn!r} (use `func_wrap` for a plain function)")
        self._define(
            name,
            _FuncDef(fn, "wrap", tuple(params) if params is not None else None, result,
                     params is not None, is_async=True),
            "func_wrap_async",
        )

    def func_new(self, name: str, fn: Callable[..., Any]) -> None:
        """Define ``name`` as ``fn(store, params: list[Val], results: list[Val])`` (fills
        ``results`` in place), typed by whatever component imports it."""
        if not callable(fn):
            raise TypeError(f"`func_new`: expected a callable for `{name}`, got {fn!r}")
        self._define(name, _FuncDef(fn, "new"), "func_new")

    def resource(
        self,
        name: str,
        rt: t.ResourceType,
        dtor: Callable[[Store[T], int], None] | None = None,
    ) -> None:
        """Define resource type ``name`` as host type ``rt`` (``ResourceType.host(cls)``);
        ``dtor(store, rep)`` runs when a guest drops an owned handle."""
        if not isinstance(rt, t.ResourceType):
            raise TypeError(f"`resource`: expected a ResourceType for `{name}`, got {rt!r}")
        self._define(name, _ResourceDef(rt, dtor), "resource")

    def module(self, name: str, module: Any) -> None:
        """Define core module ``name`` (a ``wasmtime.Module`` or core module bytes)."""
        self._define(name, _ModuleDef(module), "module")

    def component(self, name: str, component: Component) -> None:
        """Define component ``name`` for a root that imports a component (and instantiates
        it: each instantiation is a root of its own in the same store). Wasmtime cannot; its
        embedder restrictions forbid such imports, so the importer is compiled with
        ``Component.new(..., embedder_restrictions=False)``.

        Example::

            linker.root().component("adder", Component.new(engine, adder_wat))
        """
        if not isinstance(component, Component):
            raise TypeError(f"`component`: expected a Component, got "
                            f"{type(component).__name__} {component!r}")
        if component.engine is not self._linker.engine:
            raise ValueError("`component`: the component was compiled for another engine")
        self._define(name, _ItemDef(RComponent(component._validated, component._items, None)),
                     "component")

    def value(self, name: str, value: Any) -> None:
        """Define 🪙 value ``name`` (in its Python form, as a function's arguments take them),
        for components that import a value; its type is checked when a component is
        linked, where the value is copied (later changes to ``value`` reach no instance).

        Example::

            linker.root().value("name", "World")   # (import "name" (value string))
        """
        self._define(name, _ValueDef(value), "value")

    def instance(self, name: str) -> LinkerInstance[T]:
        """The nested :class:`LinkerInstance` for instance ``name`` (created on first use)."""
        d = self._defs.get(name)
        if isinstance(d, LinkerInstance):
            return d
        if d is not None and not self._linker._allow_shadowing:
            raise ValueError(f"`instance`: `{name}` is already defined as something else")
        li: LinkerInstance[T] = LinkerInstance(self._linker, f"{self._path}/{name}" if self._path else name)
        if d is None:
            self._define(name, li, "instance")
        else:
            self._defs[name] = li
            self._linker._version += 1
        return li

    def _define_item(self, name: str, item: Any) -> None:
        self._define(name, _ItemDef(item), "define_instance")


class Linker(Generic[T]):
    """Host definitions for components' imports. One linker can instantiate many components.

    ``Linker[T]`` defines host functions for stores of ``Store[T]``
    (``linker: Linker[MyState] = Linker(engine)``; ``instantiate`` then takes only a
    ``Store[MyState]``). A host function written as ``def f(store: Store[MyState], ...)`` sees
    ``store.data`` as ``MyState``; ``func_wrap`` takes any callable (lambdas too), since the
    component, not Python, gives its parameter types.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._allow_shadowing = False
        self._version = 0  # bumped by every definition: cached InstancePres are then stale
        # the type checks of the components instantiated last (bounded: the entries keep
        # their components alive)
        self._pre_cache: dict[int, tuple[Component, int, InstancePre]] = {}
        self._root: LinkerInstance[T] = LinkerInstance(self, "")

    def root(self) -> LinkerInstance[T]:
        return self._root

    def instance(self, name: str) -> LinkerInstance[T]:
        return self._root.instance(name)

    def allow_shadowing(self, allow: bool) -> None:
        """Let later definitions replace earlier ones of the same name."""
        self._allow_shadowing = allow

    def define_instance(self, name: str, instance: Instance) -> None:
        """Define ``name`` as an instantiated component's exports (guest functions, resources,
        instances and modules), so other components can import it."""
        self._root._define_item(name, RInstance(instance._exports))

    def add_wasip2(self, get_ctx: Callable[[Store], Any] | None = None, *,
                   features: Iterable[str] = ()) -> None:
        """Define WASI 0.2 (every interface, see :mod:`wasm_component.wasi`); calls reach
        ``store.set_wasi(config)``'s context, or ``get_ctx(store)``. ``features`` enables
        ``@unstable`` WASI functions (``"network-error-code"``)."""
        from .wasi import add_to_linker

        add_to_linker(self, get_ctx, features=features)

    def add_wasip3(self, get_ctx: Callable[[Store], Any] | None = None) -> None:
        """Define WASI 0.3 (every interface, see :mod:`wasm_component.wasi.p3`), beside any
        0.2 ones (:meth:`add_wasip2`): both versions share the store's one context."""
        from .wasi.p3 import add_to_linker

        add_to_linker(self, get_ctx)

    def define_unknown_imports_as_traps(self, component: Component) -> None:
        """Define every import of ``component`` not yet defined: functions trap when called
        (the trap names the whole path, ``wasi:cli/environment@0.2.9#get-environment``),
        resources become fresh host types, instances are filled in recursively.

        Definitions already there win, including semver-compatible ones (an import of
        ``wasi:io/poll@0.2.0`` is filled into a defined ``wasi:io/poll@0.2.12``, never shadowed
        by a new exact instance). A resource that a later interface ``use``s keeps the one type
        it was first given (defined or made here).
        """

        def trap(where: str, ty: t.FuncType) -> Callable[..., Any]:
            def call(store: Store, *args: Any) -> Any:
                raise Trap(f"unknown import `{where}` was called")

            return call

        self._fill_unknown(component, trap, "define_unknown_imports_as_traps")

    def define_unknown_imports_as_default_values(self, component: Component) -> None:
        """Define every import of ``component`` not yet defined, as
        :meth:`define_unknown_imports_as_traps` does, except that functions ignore their
        arguments and return their result type's default value (wasmtime 51's method of the
        same name): ``0``, ``0.0``, ``False``, ``"\\0"`` for a char, ``""``, ``[]`` (``b""`` for
        ``list<u8>``), a record of defaults, ``None`` for an option, ``Ok(default)`` for a
        result, the first case of an enum, the first case of a variant with its default
        payload, no flags.

        A result that holds a resource handle (or a future, stream or error-context) has no
        default: ``LinkError`` naming the function, and nothing is defined. Define those
        functions first (definitions already there win), then call this for the rest.

        Example::

            linker.define_unknown_imports_as_default_values(component)
            instance = linker.instantiate(store, component)   # `get-name: func() -> string`
                                                              # now returns ""
        """

        def default(where: str, ty: t.FuncType) -> Callable[..., Any]:
            value = None if ty.result is None else default_value(ty.result, where)

            def call(store: Store, *args: Any) -> Any:
                return value

            return call

        self._fill_unknown(component, default, "define_unknown_imports_as_default_values")

    def _fill_unknown(
        self,
        component: Component,
        make: Callable[[str, t.FuncType], Callable[..., Any]],
        api: str,
    ) -> None:
        """Fill every import of ``component`` that has no definition: functions with
        ``make(path, type)``, resources with fresh host types, instances recursively. A first
        pass only calls ``make``, so one that raises leaves the linker as it was."""

        def fill(li: LinkerInstance | None, path: str,
                 items: tuple[tuple[str, t.ExternType], ...], seen: set[t.ResourceType],
                 define: bool) -> None:
            # ``li`` is None in the first pass (``define`` false) for an instance not defined yet
            for name, ty in items:
                existing = li._lookup(name) if li is not None else None
                if isinstance(ty, t.FuncType) and existing is None:
                    fn = make(f"{path}#{name}" if path else name, ty)
                    if define and li is not None:
                        li._define(name, _FuncDef(fn, "wrap"), api)
                elif isinstance(ty, t.InstanceType):
                    sub = f"{path}/{name}" if path else name
                    if isinstance(existing, LinkerInstance):
                        fill(existing, sub, ty.exports, seen, define)
                    elif existing is None:
                        made = li.instance(name) if define and li is not None else None
                        fill(made, sub, ty.exports, seen, define)
                elif isinstance(ty, t.TypeBound) and isinstance(ty.eq, t.ResourceType):
                    # One type per abstract resource: its first import position is defined
                    # (by the user, or here); later `(eq r)` ones (a WIT `use`) are supplied
                    # from that binding when the component is resolved.
                    if ty.eq in seen:
                        continue
                    seen.add(ty.eq)
                    if existing is None and define and li is not None:
                        rt = t.ResourceType("host", object(), name)
                        li._define(name, _ResourceDef(rt, None), api)

        imports = component.component_type().imports
        fill(self._root, "", imports, set(), False)
        fill(self._root, "", imports, set(), True)

    def substituted_component_type(self, component: Component) -> t.ComponentType:
        """``component``'s type as instantiating it with this linker would see it: every
        imported resource replaced by the type the linker supplies for it (a host type, or a
        resource of an instance given to :meth:`define_instance`), so exports that mention an
        imported resource name the concrete one. ``LinkError`` if the imports do not link.

        Example::

            linker.root().resource("file", ResourceType.host(File))
            ty = linker.substituted_component_type(component)
            dict(ty.imports)["file"].eq == ResourceType.host(File)   # True
        """
        _, bound = self._typecheck(component, "substituted_component_type")
        from ._validate.typecheck import substitute

        out = substitute(component.component_type(), dict(bound), {})
        assert isinstance(out, t.ComponentType), "substitution keeps the shape"
        return out

    def _typecheck(self, component: Component, api: str
                   ) -> tuple[dict[str, _Def], dict[t.ResourceType, t.ResourceType]]:
        if component.engine is not self.engine:
            raise ValueError(f"`{api}`: the component was compiled by another engine")
        resolved: dict[str, _Def] = {}
        bound: dict[t.ResourceType, t.ResourceType] = {}
        for name, ty in component.component_type().imports:
            resolved[name] = self._resolve(self._root, name, ty, bound)
        return resolved, bound

    def instantiate_pre(self, component: Component) -> InstancePre:
        """Type-check ``component``'s imports against these definitions once."""
        resolved, _ = self._typecheck(component, "instantiate_pre")
        return InstancePre(self, component, resolved)

    def instantiate(self, store: Store[T], component: Component) -> Instance:
        """Instantiate ``component`` in ``store`` (``LinkError`` if an import is missing or of
        the wrong type; ``Trap`` if a start function traps). The type check is cached until the
        linker's definitions change."""
        hit = self._pre_cache.get(id(component))
        if hit is not None and hit[0] is component and hit[1] == self._version:
            pre = hit[2]
        else:
            pre = self.instantiate_pre(component)
            cache = self._pre_cache
            if len(cache) >= _PRE_CACHE_SIZE:
                del cache[next(iter(cache))]  # the oldest
            cache[id(component)] = (component, self._version, pre)
        if store.__class__ is not Store or store.engine is not self.engine:
            return pre.instantiate(store)  # (which says what is wrong)
        with store._lock:  # one thread in the store at a time (see ``engine``)
            return pre._instantiate(store)

    async def instantiate_async(self, store: Store[T], component: Component) -> Instance:
        """:meth:`instantiate` for asyncio code (instantiation runs no async guest code: start
        functions are synchronous); call the exports with ``Func.call_async``."""
        return self.instantiate(store, component)

    # -- type checking -----------------------------------------------------------------------

    def _resolve(
        self,
        li: LinkerInstance | None,
        name: str,
        ty: t.ExternType,
        bound: dict[t.ResourceType, t.ResourceType],
        where: str | None = None,
    ) -> _Def:
        """The definition satisfying import ``name: ty`` (``LinkError`` if none fits).

        ``bound`` maps each abstract resource of the component's imports to the concrete type
        supplied for it, so later ``(eq r)`` constraints are checked, not re-supplied.
        """
        if where is None:
            where = f"{li._path}/{name}" if li is not None and li._path else name
        d = li._lookup(name) if li is not None else None
        if d is None:
            optional = _optional(ty, bound)
            if optional is not None:
                return optional
            raise LinkError(f"component imports {_kind_of(ty)} `{where}`, but it is not defined")
        if isinstance(d, _ItemDef):
            _check_item(where, d.item, ty, bound)
            return d
        if isinstance(ty, t.FuncType):
            if isinstance(d, _FuncDef):
                if d.params is not None:
                    declared = t.FuncType(
                        tuple((n, p) for (n, _), p in zip(ty.params, d.params, strict=False)),
                        d.result,
                    )
                    if len(d.params) != len(ty.params) or declared.result != ty.result or any(
                        a != b for a, (_, b) in zip(d.params, ty.params, strict=True)
                    ):
                        raise LinkError(
                            f"import `{where}` has the wrong type: expected {ty}, defined as "
                            f"{declared}"
                        )
                if d.style == "wrap":
                    _check_annotations(where, d.fn, ty)
                    mapping = d.mapping(where)
                    if mapping is not None:
                        try:
                            mapping(ty)  # the classes fit the import's types: checked once
                        except TypeError as e:
                            raise LinkError(f"import {e}") from None
                return d
        elif isinstance(ty, t.InstanceType):
            if isinstance(d, LinkerInstance):
                return _ResolvedInstance(
                    {n: self._resolve(d, n, sub, bound, f"{where}/{n}") for n, sub in ty.exports}
                )
        elif isinstance(ty, t.TypeBound):
            if isinstance(ty.eq, t.ResourceType) and isinstance(d, _ResourceDef):
                _bind_resource(where, ty.eq, d.rt, bound)
                return d
        elif isinstance(ty, t.ModuleType) and isinstance(d, _ModuleDef):
            _check_module(where, _module_of(self.engine, d.module), ty)
            return d
        elif isinstance(ty, t.ValueBound) and isinstance(d, _ValueDef):
            _check_value(where, d.value, ty.type)
            return d
        raise LinkError(f"import `{where}` has the wrong type: expected {_kind_of(ty)}, "
                        f"found {_def_kind(d)}")


def default_value(ty: t.Type, where: str = "") -> Any:
    """The default value of component type ``ty`` in its Python form (what
    :meth:`Linker.define_unknown_imports_as_default_values` returns); ``LinkError`` for a type
    that has none (a resource handle, future, stream or error-context), naming ``where``.

    Example::

        >>> from wasm_component import types
        >>> default_value(types.RecordType((("a", types.U8), ("b", types.STRING))))
        Record(a=0, b='')
    """
    if isinstance(ty, t.PrimType):
        if ty == t.BOOL:
            return False
        if ty in (t.F32, t.F64):
            return 0.0
        if ty == t.CHAR:
            return "\0"
        if ty == t.STRING:
            return ""
        if ty in _INTS:
            return 0
    elif isinstance(ty, t.ListType):
        if ty.length is not None:
            return [default_value(ty.element, where) for _ in range(ty.length)]
        return b"" if ty.element == t.U8 else []
    elif isinstance(ty, t.RecordType):
        return Record({n: default_value(f, where) for n, f in ty.fields})
    elif isinstance(ty, t.TupleType):
        return tuple(default_value(e, where) for e in ty.types)
    elif isinstance(ty, t.VariantType):
        case, payload = ty.cases[0]
        return Variant(case, None if payload is None else default_value(payload, where))
    elif isinstance(ty, t.EnumType):
        return ty.names[0]
    elif isinstance(ty, t.FlagsType):
        return frozenset()
    elif isinstance(ty, t.OptionType):
        return None
    elif isinstance(ty, t.ResultType):
        return Ok(None if ty.ok is None else default_value(ty.ok, where))
    elif isinstance(ty, t.MapType):
        return {}
    raise LinkError(f"import `{where}`: {ty.wit()} has no default value (define the function "
                    "yourself before `define_unknown_imports_as_default_values`)")


_INTS = (t.S8, t.U8, t.S16, t.U16, t.S32, t.U32, t.S64, t.U64)


def _is_async_callable(fn: Any) -> bool:
    """An ``async def`` function, or a callable object whose ``__call__`` is one (also through
    ``functools.partial``)."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    return inspect.iscoroutinefunction(fn) or (
        callable(fn) and inspect.iscoroutinefunction(type(fn).__call__))


def _annotation_fits(ann: Any, ty: t.Type) -> bool:
    """Whether a Python annotation can describe values of component type ``ty``: a
    ``types.Type`` must be equal; builtin classes must be the Python form of the type."""
    if isinstance(ann, t.Type):
        return ann == ty
    fits = view_fits(ann, ty)
    if fits is not None:
        return fits
    if ann is bool:
        return ty == t.BOOL
    if ann is int:
        return ty in _INTS
    if ann is float:
        return ty in (t.F32, t.F64)
    if ann is str:
        return ty in (t.STRING, t.CHAR)
    if ann in (bytes, bytearray):
        return isinstance(ty, t.ListType) and ty.element == t.U8
    return True  # anything else (generics, user classes, Any) is not checked


def _check_annotations(where: str, fn: Callable[..., Any], ty: t.FuncType) -> None:
    """``func_wrap``'s annotations, where present, must agree with the imported type."""
    try:
        hints = inspect.get_annotations(fn, eval_str=True)
        params = list(inspect.signature(fn).parameters.values())[1:]  # after `store`
    except (TypeError, ValueError, NameError):
        return
    # the component passes its arguments positionally: extra parameters with defaults, and
    # keyword-only ones with defaults (`lambda store, x, f=f: ...` closures), are fine
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p for p in positional if p.default is p.empty]
    unfillable = [p for p in params if p.kind is p.KEYWORD_ONLY and p.default is p.empty]
    if unfillable:
        raise LinkError(
            f"import `{where}`: the host function's keyword-only parameter "
            f"`{unfillable[0].name}` has no default, and the component passes arguments "
            "positionally"
        )
    varargs = any(p.kind is p.VAR_POSITIONAL for p in params)
    if not len(required) <= len(ty.params) <= (len(ty.params) if varargs else len(positional)):
        takes = (f"{len(positional)}" if len(required) == len(positional)
                 else f"{len(required)} to {len(positional)}")
        raise LinkError(
            f"import `{where}`: the host function takes {takes} arguments after `store`, "
            f"but the import has {len(ty.params)} parameters ({ty})"
        )
    params = positional[: len(ty.params)]
    if len(params) < len(ty.params):  # the rest go to *args: not annotated per parameter
        return
    for p, (pname, pty) in zip(params, ty.params, strict=True):
        ann = hints.get(p.name)
        if ann is not None and not _annotation_fits(ann, pty):
            raise LinkError(
                f"import `{where}`: parameter `{pname}` is {pty.wit()}, but the host function "
                f"annotates `{p.name}` as {getattr(ann, '__name__', ann)}"
            )
    ret = hints.get("return")
    if ret is not None and ty.result is not None and not _annotation_fits(ret, ty.result):
        raise LinkError(
            f"import `{where}`: the result is {ty.result.wit()}, but the host function is "
            f"annotated to return {getattr(ret, '__name__', ret)}"
        )


def _optional(ty: t.ExternType, bound: dict[t.ResourceType, t.ResourceType]) -> _Def | None:
    """A stand-in for an import the host need not supply: a type equal to a known type (a
    non-resource type, or a resource already bound), or an instance of only such things."""
    if isinstance(ty, t.TypeBound):
        if not isinstance(ty.eq, t.ResourceType):
            return _ItemDef(ty.eq)
        if ty.eq in bound:
            return _ItemDef(bound[ty.eq])
        return None
    if isinstance(ty, t.InstanceType):
        exports: dict[str, Any] = {}
        for n, sub in ty.exports:
            d = _optional(sub, bound)
            if d is None:
                return None
            exports[n] = d.item
        return _ItemDef(RInstance(exports, ty))
    return None


def _bind_resource(
    where: str, abstract: t.ResourceType, concrete: t.ResourceType,
    bound: dict[t.ResourceType, t.ResourceType],
) -> None:
    have = bound.get(abstract)
    if have is None:
        bound[abstract] = concrete
    elif have != concrete:
        raise LinkError(f"import `{where}`: mismatched resource types")


def _module_of(engine: Engine, m: Any) -> core.CoreModule:
    if isinstance(m, core.CoreModule):
        return m
    if isinstance(m, (bytes, bytearray, memoryview)):
        return core.compile_module(engine._core, m)
    return core.wrap_module(engine._core, m)


def _core_type(x: Any) -> t.CoreExternType:
    if isinstance(x, core.CoreFuncType):
        return t.CoreFuncType(tuple(x.params), tuple(x.results))
    if isinstance(x, core.CoreMemoryType):
        return t.CoreMemoryType(x.minimum, x.maximum, x.shared, x.is_64, x.page_size_log2)
    if isinstance(x, core.CoreTableType):
        return t.CoreTableType(x.element, x.minimum, x.maximum)
    if isinstance(x, core.CoreGlobalType):
        return t.CoreGlobalType(x.content, x.mutable)
    return t.CoreTagType(t.CoreFuncType(tuple(x.params), tuple(x.results)))


_LINK_WORDS = ModuleWords(  # wasmtime's wording for link errors
    missing_import="module import `{name}` not defined",
    bad_import="module import `{name}` has the wrong type: {why}",
    missing_export="module export `{name}` not defined",
    bad_export="export `{name}` has the wrong type: {why}",
)


def _check_module(where: str, cm: core.CoreModule, ty: t.ModuleType) -> None:
    """``cm`` may be used where a module of type ``ty`` is imported: it exports at least what
    ``ty`` exports and imports nothing ``ty`` does not promise to supply."""
    actual = t.ModuleType(
        tuple((i.module, i.name, _core_type(i.type)) for i in cm.imports),
        tuple((e.name, _core_type(e.type)) for e in cm.exports),
    )
    try:
        check_module(actual, ty, _LINK_WORDS)
    except Mismatch as e:
        raise LinkError(e.message) from None


def _kind_of(ty: Any) -> str:
    if isinstance(ty, t.FuncType):
        return "function"
    if isinstance(ty, t.InstanceType):
        return "instance"
    if isinstance(ty, t.ComponentType):
        return "component"
    if isinstance(ty, t.ModuleType):
        return "module"
    if isinstance(ty, t.TypeBound):
        return "resource" if isinstance(ty.eq, t.ResourceType) else "type"
    return "value"


def _def_kind(d: Any) -> str:
    if isinstance(d, _FuncDef):
        return "function"
    if isinstance(d, LinkerInstance):
        return "instance"
    if isinstance(d, _ResourceDef):
        return "resource"
    if isinstance(d, _ModuleDef):
        return "module"
    if isinstance(d, _ValueDef):
        return "value"
    item = d.item
    if isinstance(item, RFunc):
        return "function"
    if isinstance(item, RInstance):
        return "instance"
    if isinstance(item, t.ResourceType):
        return "resource"
    if isinstance(item, RModule):
        return "module"
    if isinstance(item, RComponent):
        return "component"
    if isinstance(item, RValue):
        return "value"
    return "type"


def _check_item(
    where: str, item: Any, ty: Any, bound: dict[t.ResourceType, t.ResourceType]
) -> None:
    """A runtime item (from an instantiated component) against the imported type ``ty``."""
    if isinstance(ty, t.FuncType):
        if not isinstance(item, RFunc):
            raise LinkError(f"`{where}`: expected func found {_item_kind(item)}")
        try:
            check_subtype(_erase(item.ty), _erase(ty))
        except Mismatch as e:
            raise LinkError(f"`{where}` has the wrong type: {e.message}") from None
    elif isinstance(ty, t.InstanceType):
        if not isinstance(item, RInstance):
            raise LinkError(f"`{where}`: expected instance found {_item_kind(item)}")
        for n, sub in ty.exports:
            if n not in item.exports:
                if _optional(sub, bound) is not None:
                    continue
                raise LinkError(f"instance `{where}` has no export `{n}`: was not found")
            _check_item(f"{where}/{n}", item.exports[n], sub, bound)
    elif isinstance(ty, t.TypeBound):
        if isinstance(ty.eq, t.ResourceType):
            if not isinstance(item, t.ResourceType):
                raise LinkError(f"`{where}`: expected resource found {_item_kind(item)}")
            _bind_resource(where, ty.eq, item, bound)
        elif not isinstance(item, t.Type) or isinstance(item, t.ResourceType):
            raise LinkError(f"`{where}`: expected type found {_item_kind(item)}")
    elif isinstance(ty, t.ModuleType):
        if not isinstance(item, RModule):
            raise LinkError(f"`{where}`: expected module found {_item_kind(item)}")
        _check_module(where, item.module, ty)
    elif isinstance(ty, t.ComponentType):
        if not isinstance(item, RComponent):
            raise LinkError(f"`{where}`: expected component found {_item_kind(item)}")
        try:
            check_subtype(item.validated.type, ty)
        except Mismatch as e:
            raise LinkError(f"`{where}` has the wrong type: {e.message}") from None
    elif isinstance(ty, t.ValueBound):
        if not isinstance(item, RValue):
            raise LinkError(f"`{where}`: expected value found {_item_kind(item)}")
        _check_value(where, item.value, ty.type)


def _check_value(where: str, value: Any, ty: t.Type) -> None:
    """``value`` (a Python form) against the imported value type ``ty``."""
    check = values_check(ty, False)
    if check is None:
        raise LinkError(f"value import `{where}`: a value of type `{ty.wit()}` holds handles, "
                        "which a value cannot")
    try:
        check(value)
    except (TypeError, ValueError) as e:
        raise LinkError(f"value import `{where}` has the wrong type: {e}") from None


def _item_kind(item: Any) -> str:
    return _def_kind(_ItemDef(item))


_ERASED = t.ResourceType("abstract", "erased", "resource")


def _erase(ft: t.FuncType) -> t.FuncType:
    """``ft`` with every resource replaced by one placeholder (resource identity is checked when
    handles cross, at run time)."""
    from ._validate.typecheck import resources_in, substitute

    m = {r: _ERASED for r in resources_in(ft)}
    if not m:
        return ft
    erased = substitute(ft, m, {})
    assert isinstance(erased, t.FuncType), "substitution keeps the shape"
    return erased


_PRE_CACHE_SIZE = 64


class InstancePre:
    """A component whose imports were resolved and type-checked; instantiate it many times."""

    def __init__(self, linker: Linker, component: Component, resolved: dict[str, _Def]) -> None:
        self.linker = linker
        self.component = component
        self._resolved = resolved
        self._imports = [(name, resolved[name], ty)
                         for name, ty in component.component_type().imports]
        self._program = program_for(component._validated)
        self._items = component._items
        # The import items, made once: none of them is per store (host functions are given
        # the store they are called in), except a host resource's destructor, which each
        # store keeps (``_dtors``).
        self._dtors: list[tuple[t.ResourceType, Callable[[Store, int], None]]] = []
        self._args = {name: _item(self._dtors, linker.engine, name, d, ty)
                      for name, d, ty in self._imports}

    def instantiate(self, store: Store) -> Instance:
        if not isinstance(store, Store):
            raise TypeError(f"`instantiate`: expected a Store, got {type(store).__name__}")
        if store.engine is not self.linker.engine:
            raise ValueError("`instantiate`: the store belongs to another engine")
        with store._lock:  # one thread in the store at a time (see ``engine``)
            return self._instantiate(store)

    def _instantiate(self, store: Store) -> Instance:
        for rt, dtor in self._dtors:
            store._resource_dtors[rt] = (None, _host_dtor(dtor, weakref.ref(store)))
        root = self._program(store, self._items, self._args)
        store._instances.append(root)
        return Instance(store, root.exports, self)


def _awaited(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    """``async def fn`` imported as a synchronous WIT function. A store running async
    components hands the coroutine to its scheduler (the calling task waits, others run);
    otherwise the call blocks until the coroutine is done, on a private event loop, which is
    impossible inside a running one (``NotSupported``)."""
    loops: list[asyncio.AbstractEventLoop] = []

    def call(store: Store, *args: Any) -> Any:
        coro = fn(store, *args)
        if store._sched is not None:
            return coro
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            if not loops:
                loops.append(asyncio.new_event_loop())
                weakref.finalize(call, loops[0].close)  # closed with the host function
            return loops[0].run_until_complete(coro)
        coro.close()
        raise NotSupported(
            f"`{name}`: an `async def` host function imported as a synchronous function was "
            "called inside a running event loop by a component without async features, where "
            "it cannot wait; call the export outside the loop (`asyncio.to_thread`) or define "
            "the import with `func_wrap`")

    return call


def _host_dtor(dtor: Callable[[Store, int], None], owner: weakref.ref[Store]
               ) -> Callable[[int], None]:
    """``dtor(store, rep)`` as the store keeps it: holding the store weakly (no cycle)."""

    def run(rep: int) -> None:
        store = owner()
        if store is not None:
            dtor(store, rep)

    return run


def _item(dtors: list[tuple[t.ResourceType, Callable[[Store, int], None]]], engine: Engine,
          name: str, d: Any, ty: Any) -> Any:
    """The runtime item for definition ``d`` imported as ``name`` with static type ``ty``
    (a host resource's destructor is added to ``dtors``, for each store to keep)."""
    if isinstance(d, _FuncDef):
        assert isinstance(ty, t.FuncType), "checked by _resolve"
        fn = d.fn
        if d.is_async and not ty.is_async:
            fn = _awaited(fn, name)
        return HostFunc(fn, ty, name, d.style, d.views(), d.mapping(name))
    if isinstance(d, _ResourceDef):
        if d.dtor is not None:
            dtors.append((d.rt, d.dtor))
        return d.rt
    if isinstance(d, _ValueDef):
        assert isinstance(ty, t.ValueBound), "checked by _resolve"
        return RValue(copy.deepcopy(d.value), ty.type)
    if isinstance(d, _ModuleDef):
        cm = _module_of(engine, d.module)
        return RModule(cm, cm.imports)
    if isinstance(d, _ResolvedInstance):
        assert isinstance(ty, t.InstanceType), "checked by _resolve"
        exports = {n: _item(dtors, engine, f"{name}/{n}", d.exports[n], sub)
                   for n, sub in ty.exports}
        return RInstance(exports, ty)
    assert isinstance(d, _ItemDef)
    return d.item
