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

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import types as t
from ._runtime import core
from ._runtime.calls import HostFunc
from ._runtime.instantiate import instantiate_component
from ._runtime.items import RComponent, RFunc, RInstance, RModule
from ._validate.typecheck import Mismatch, check_subtype
from .component import Component
from .engine import Engine, Store
from .errors import LinkError, Trap
from .instance import Instance

__all__ = ["InstancePre", "Linker", "LinkerInstance"]

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


@dataclass
class _FuncDef:
    fn: Callable[..., Any]
    style: str  # "wrap" | "new" | "trap"
    params: tuple[t.Type, ...] | None = None
    result: t.Type | None = None
    has_result: bool = False


@dataclass
class _ResourceDef:
    rt: t.ResourceType
    dtor: Callable[[Store, int], None] | None


@dataclass
class _ModuleDef:
    module: Any


@dataclass
class _ItemDef:
    """A runtime item from an instantiated component (``Linker.define_instance``)."""

    item: Any


_Def = Any  # _FuncDef | _ResourceDef | _ModuleDef | _ItemDef | LinkerInstance


class LinkerInstance:
    """Definitions under one instance name (or the root). Get one from :class:`Linker`."""

    def __init__(self, linker: Linker, path: str) -> None:
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
        checked at link time instead (``LinkError`` on a mismatch).
        """
        if not callable(fn):
            raise TypeError(f"`func_wrap`: expected a callable for `{name}`, got {fn!r}")
        self._define(
            name,
            _FuncDef(fn, "wrap", tuple(params) if params is not None else None, result,
                     params is not None),
            "func_wrap",
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
        dtor: Callable[[Store, int], None] | None = None,
    ) -> None:
        """Define resource type ``name`` as host type ``rt`` (``ResourceType.host(cls)``);
        ``dtor(store, rep)`` runs when a guest drops an owned handle."""
        if not isinstance(rt, t.ResourceType):
            raise TypeError(f"`resource`: expected a ResourceType for `{name}`, got {rt!r}")
        self._define(name, _ResourceDef(rt, dtor), "resource")

    def module(self, name: str, module: Any) -> None:
        """Define core module ``name`` (a ``wasmtime.Module`` or core module bytes)."""
        self._define(name, _ModuleDef(module), "module")

    def instance(self, name: str) -> LinkerInstance:
        """The nested :class:`LinkerInstance` for instance ``name`` (created on first use)."""
        d = self._defs.get(name)
        if isinstance(d, LinkerInstance):
            return d
        if d is not None and not self._linker._allow_shadowing:
            raise ValueError(f"`instance`: `{name}` is already defined as something else")
        li = LinkerInstance(self._linker, f"{self._path}/{name}" if self._path else name)
        self._define(name, li, "instance") if d is None else self._defs.__setitem__(name, li)
        return li

    def _define_item(self, name: str, item: Any) -> None:
        self._define(name, _ItemDef(item), "define_instance")


class Linker:
    """Host definitions for components' imports. One linker can instantiate many components."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._allow_shadowing = False
        self._root = LinkerInstance(self, "")

    def root(self) -> LinkerInstance:
        return self._root

    def instance(self, name: str) -> LinkerInstance:
        return self._root.instance(name)

    def allow_shadowing(self, allow: bool) -> None:
        """Let later definitions replace earlier ones of the same name."""
        self._allow_shadowing = allow

    def define_instance(self, name: str, instance: Instance) -> None:
        """Define ``name`` as an instantiated component's exports (guest functions, resources,
        instances and modules), so other components can import it."""
        self._root._define_item(name, RInstance(instance._exports))

    def define_unknown_imports_as_traps(self, component: Component) -> None:
        """Define every import of ``component`` not yet defined: functions trap when called,
        resources become fresh host types, instances are filled in recursively."""

        def fill(li: LinkerInstance, items: tuple[tuple[str, t.ExternType], ...]) -> None:
            for name, ty in items:
                existing = li._lookup(name)
                if isinstance(ty, t.FuncType) and existing is None:

                    def trap(store: Store, *args: Any, _n: str = name) -> Any:
                        raise Trap(f"unknown import `{_n}` was called")

                    li._define(name, _FuncDef(trap, "wrap"), "define_unknown_imports_as_traps")
                elif isinstance(ty, t.InstanceType):
                    if existing is None or isinstance(existing, LinkerInstance):
                        fill(li.instance(name), ty.exports)
                elif isinstance(ty, t.TypeBound) and isinstance(ty.eq, t.ResourceType):
                    if existing is None:
                        rt = t.ResourceType("host", object(), name)
                        li._define(name, _ResourceDef(rt, None), "define_unknown_imports_as_traps")

        fill(self._root, component.component_type().imports)

    def instantiate_pre(self, component: Component) -> InstancePre:
        """Type-check ``component``'s imports against these definitions once."""
        if component.engine is not self.engine:
            raise ValueError("`instantiate_pre`: the component was compiled by another engine")
        resolved: dict[str, _Def] = {}
        for name, ty in component.component_type().imports:
            resolved[name] = self._resolve(self._root, name, ty)
        return InstancePre(self, component, resolved)

    def instantiate(self, store: Store, component: Component) -> Instance:
        """Instantiate ``component`` in ``store`` (``LinkError`` if an import is missing or of
        the wrong type; ``Trap`` if a start function traps)."""
        return self.instantiate_pre(component).instantiate(store)

    # -- type checking -----------------------------------------------------------------------

    def _resolve(self, li: LinkerInstance, name: str, ty: t.ExternType) -> _Def:
        where = f"{li._path}/{name}" if li._path else name
        d = li._lookup(name)
        if d is None:
            raise LinkError(f"component imports {_kind_of(ty)} `{where}`, but it is not defined")
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
                return d
            if isinstance(d, _ItemDef) and isinstance(d.item, RFunc):
                return d
        elif isinstance(ty, t.InstanceType):
            if isinstance(d, LinkerInstance):
                for n, sub in ty.exports:
                    self._resolve(d, n, sub)
                return d
            if isinstance(d, _ItemDef) and isinstance(d.item, RInstance):
                _check_instance(where, d.item, ty)
                return d
        elif isinstance(ty, t.TypeBound):
            if isinstance(ty.eq, t.ResourceType):
                if isinstance(d, _ResourceDef):
                    return d
                if isinstance(d, _ItemDef) and isinstance(d.item, t.ResourceType):
                    return d
            elif isinstance(d, _ItemDef) and isinstance(d.item, t.Type):
                return d
        elif isinstance(ty, t.ModuleType):
            if isinstance(d, (_ModuleDef, _ItemDef)):
                return d
        elif isinstance(ty, t.ComponentType) and isinstance(d, _ItemDef):
            return d
        raise LinkError(f"import `{where}` has the wrong type: expected {_kind_of(ty)}, "
                        f"defined as {_def_kind(d)}")


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
    return "type"


def _check_instance(where: str, inst: RInstance, ty: t.InstanceType) -> None:
    for n, sub in ty.exports:
        if n not in inst.exports:
            raise LinkError(f"instance `{where}` has no export `{n}`")
        item = inst.exports[n]
        if isinstance(sub, t.FuncType):
            if not isinstance(item, RFunc):
                raise LinkError(f"`{where}/{n}`: expected a function")
            try:
                check_subtype(_erase(item.ty), _erase(sub))
            except Mismatch as e:
                raise LinkError(f"`{where}/{n}` has the wrong type: {e}") from None
        elif isinstance(sub, t.InstanceType):
            if not isinstance(item, RInstance):
                raise LinkError(f"`{where}/{n}`: expected an instance")
            _check_instance(f"{where}/{n}", item, sub)


_ERASED = t.ResourceType("abstract", "erased", "resource")


def _erase(ft: t.FuncType) -> t.FuncType:
    """``ft`` with every resource replaced by one placeholder (resource identity is checked when
    handles cross, at run time)."""
    from ._validate.typecheck import resources_in, substitute

    m = {r: _ERASED for r in resources_in(ft)}
    return substitute(ft, m, {}) if m else ft  # type: ignore[no-any-return]


class InstancePre:
    """A component whose imports were resolved and type-checked; instantiate it many times."""

    def __init__(self, linker: Linker, component: Component, resolved: dict[str, _Def]) -> None:
        self.linker = linker
        self.component = component
        self._resolved = resolved

    def instantiate(self, store: Store) -> Instance:
        if store.engine is not self.linker.engine:
            raise ValueError("`instantiate`: the store belongs to another engine")
        comp = self.component
        args = {
            name: _item(store, name, d, ty)
            for (name, ty) in comp.component_type().imports
            for d in (self._resolved[name],)
        }
        env = instantiate_component(store, comp._validated, comp._modules, args)
        store._instances.append(env)
        return Instance(store, env.exports)


def _item(store: Store, name: str, d: Any, ty: Any) -> Any:
    """The runtime item for definition ``d`` imported as ``name`` with static type ``ty``."""
    if isinstance(d, _FuncDef):
        assert isinstance(ty, t.FuncType), "checked by _resolve"
        return HostFunc(d.fn, ty, name, d.style, store)
    if isinstance(d, _ResourceDef):
        if d.dtor is not None:
            dtor = d.dtor
            store._resource_dtors[d.rt] = (None, lambda rep: dtor(store, rep))
        return d.rt
    if isinstance(d, _ModuleDef):
        m = d.module
        if isinstance(m, (bytes, bytearray, memoryview)):
            cm = core.compile_module(store.engine._core, m)
        else:
            cm = core.wrap_module(store.engine._core, m)
        return RModule(cm, tuple((i.module, i.name) for i in cm.imports))
    if isinstance(d, LinkerInstance):
        assert isinstance(ty, t.InstanceType), "checked by _resolve"
        exports = {}
        for n, sub in ty.exports:
            sd = d._lookup(n)
            exports[n] = _item(store, f"{name}/{n}", sd, sub)
        return RInstance(exports, ty)
    assert isinstance(d, _ItemDef)
    return d.item
