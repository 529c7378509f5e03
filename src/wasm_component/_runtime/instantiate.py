"""Instantiation: run a validated component's definitions, in order, against import items.

Each definition appends to one of the instance's index spaces (an :class:`Env`); the validator has
already proved every index and type right, so this code only builds runtime objects: core module
instances (through ``core``), lifted functions, lowering trampolines, resource built-ins, nested
component instances. Resource types are made concrete here: each abstract resource of the static
types maps (``Env.rt_map``) to a host type, or to a fresh guest type per defining instance.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import types as t
from .._abi.context import ComponentInstanceState
from .._binary import ast
from .._translate import plan as P
from .._translate.plan import SORT_ID, SORTS, plan_for
from .._validate import ValidatedComponent
from .._validate.typecheck import substitute
from ..errors import LinkError, Trap
from ..resources import resource_lower
from . import core
from .calls import LiftedFunc, make_builtin, make_lowered
from .items import RComponent, RFunc, RInstance, RModule, RValue

__all__ = ["Env", "instantiate_component"]

class Env:
    """The index spaces of one component instance being instantiated."""

    def __init__(self, store: Any, vc: ValidatedComponent, modules: dict[int, core.CoreModule],
                 outer: Env | None, state: ComponentInstanceState) -> None:
        self.store = store
        self.vc = vc
        self.modules = modules
        self.outer = outer
        self.state = state
        self.spaces: list[list[Any]] = [[] for _ in SORTS]
        self.rt_map: dict[t.ResourceType, t.ResourceType] = {}
        self.exports: dict[str, Any] = {}

    def lookup_rt(self, rt: t.ResourceType) -> t.ResourceType:
        env: Env | None = self
        while env is not None:
            c = env.rt_map.get(rt)
            if c is not None:
                return c
            env = env.outer
        return rt

    def full_map(self) -> dict[t.ResourceType, t.ResourceType]:
        chain: list[Env] = []
        env: Env | None = self
        while env is not None:
            chain.append(env)
            env = env.outer
        m: dict[t.ResourceType, t.ResourceType] = {}
        for e in reversed(chain):
            m.update(e.rt_map)
        return m

    def concrete(self, x: Any) -> Any:
        """``x`` (a static type) with every abstract resource replaced by its concrete type."""
        m = self.full_map()
        if not m:
            return x
        return substitute(x, m, {})

    def space(self, sort: str) -> list[Any]:
        return self.spaces[SORT_ID[sort]]


def bind(env: Env, static: Any, item: Any) -> None:
    """Record the concrete resource types ``item`` supplies for the abstract ones in ``static``."""
    if isinstance(static, t.TypeBound):
        static = static.eq
    if isinstance(static, t.ResourceType):
        if isinstance(item, t.ResourceType) and static != item:
            env.rt_map.setdefault(static, item)
        return
    if isinstance(static, t.InstanceType) and isinstance(item, RInstance):
        for name, st in static.exports:
            if name in item.exports:
                bind(env, st, item.exports[name])


def instantiate_component(
    store: Any,
    vc: ValidatedComponent,
    modules: dict[int, core.CoreModule],
    args: dict[str, Any],
    outer: Env | None = None,
    parent_state: ComponentInstanceState | None = None,
) -> Env:
    """Instantiate ``vc`` with import items ``args`` (by import name). Returns the filled Env;
    ``env.exports`` holds the instance's exports."""
    state = ComponentInstanceState(parent_state)
    state.resource_lift = store._resource_lift
    state.resource_lower = resource_lower
    env = Env(store, vc, modules, outer, state)
    for step in plan_for(vc).steps:
        _HANDLERS[type(step)](env, step, args)
    return env


def _module(env: Env, s: P.Module, args: dict[str, Any]) -> None:
    env.spaces[P.CORE_MODULE].append(RModule(env.modules[s.offset], s.imports))


def _core_instantiate(env: Env, s: P.CoreInstantiate, args: dict[str, Any]) -> None:
    sp = env.spaces
    rm: RModule = sp[P.CORE_MODULE][s.module]
    core_instances = sp[P.CORE_INSTANCE]
    named = {name: core_instances[idx] for name, idx in s.args}
    externs: list[core.CoreExtern] = []
    for mod, name in rm.imports:
        inst = named.get(mod)
        if inst is None or name not in inst:
            raise LinkError(f"core instance argument `{mod}` does not export `{name}`")
        externs.append(inst[name])
    # A core start function runs inside this (not yet usable) component instance: calls that
    # would re-enter it trap, as a call into an instance already on the stack does.
    env.state.may_enter = False
    try:
        ci = core.instantiate(env.store._core, rm.module, externs)
    finally:
        env.state.may_enter = True
    core_instances.append(ci.exports)


def _core_inline(env: Env, s: P.CoreInline, args: dict[str, Any]) -> None:
    sp = env.spaces
    env.spaces[P.CORE_INSTANCE].append({n: sp[sort][idx] for n, sort, idx in s.exports})


def _core_type(env: Env, s: P.CoreType, args: dict[str, Any]) -> None:
    env.spaces[P.CORE_TYPE].append(s.type)


def _nested(env: Env, s: P.Nested, args: dict[str, Any]) -> None:
    env.spaces[P.COMPONENT].append(RComponent(s.validated, env.modules, env))


def _instantiate(env: Env, s: P.Instantiate, args: dict[str, Any]) -> None:
    sp = env.spaces
    rc: RComponent = sp[P.COMPONENT][s.component]
    nargs = {name: sp[sort][idx] for name, sort, idx in s.args}
    child = instantiate_component(env.store, rc.validated, rc.modules, nargs, rc.outer, env.state)
    inst = RInstance(child.exports)
    sp[P.INSTANCE].append(inst)
    bind(env, s.static, inst)


def _inline_instance(env: Env, s: P.InlineInstance, args: dict[str, Any]) -> None:
    sp = env.spaces
    sp[P.INSTANCE].append(RInstance({n: sp[sort][idx] for n, sort, idx in s.exports}))


def _alias_export(env: Env, s: P.AliasExport, args: dict[str, Any]) -> None:
    sp = env.spaces
    exports = sp[P.CORE_INSTANCE][s.instance] if s.core else sp[P.INSTANCE][s.instance].exports
    item = exports.get(s.name)
    if item is None:
        raise LinkError(f"instance does not export `{s.name}`")
    sp[s.sort].append(item)
    if s.static is not None:
        bind(env, s.static, item)


def _alias_outer(env: Env, s: P.AliasOuter, args: dict[str, Any]) -> None:
    target: Env | None = env
    for _ in range(s.count):
        assert target is not None, "validation bounds outer alias counts"
        target = target.outer
    assert target is not None, "validation bounds outer alias counts"
    env.spaces[s.sort].append(target.spaces[s.sort][s.idx])


def _resource(env: Env, s: P.Resource, args: dict[str, Any]) -> None:
    info = s.info
    concrete = t.ResourceType.fresh(info.type.name, kind="guest")
    env.rt_map[info.type] = concrete
    env.state.resource_impls.add(concrete)
    # The destructor's core function; the call is built where a drop needs it (``calls``).
    dtor = env.spaces[P.CORE_FUNC][info.dtor] if info.dtor is not None else None
    env.store._resource_dtors[concrete] = (env.state, dtor)
    env.spaces[P.TYPE].append(concrete)


def _type(env: Env, s: P.Type, args: dict[str, Any]) -> None:
    env.spaces[P.TYPE].append(env.concrete(s.static) if s.has_resources else s.static)


def _lift(env: Env, s: P.Lift, args: dict[str, Any]) -> None:
    ft = s.info.func_type
    assert ft is not None, "lift has a function type"
    if s.has_resources:
        ft = env.concrete(ft)
    core_func = env.spaces[P.CORE_FUNC][s.func]
    env.spaces[P.FUNC].append(LiftedFunc.create(env, s.info, ft, core_func, s.abi))


def _lower(env: Env, s: P.Lower, args: dict[str, Any]) -> None:
    ft = s.info.func_type
    assert ft is not None, "lower has a function type"
    if s.has_resources:
        ft = env.concrete(ft)
    env.spaces[P.CORE_FUNC].append(make_lowered(env, s.info, ft, env.spaces[P.FUNC][s.func], s.abi))


def _builtin(env: Env, s: P.Builtin, args: dict[str, Any]) -> None:
    env.spaces[P.CORE_FUNC].append(make_builtin(env, s.canon, s.info))


def _start(env: Env, s: P.Start, args: dict[str, Any]) -> None:
    sp = env.spaces
    fn = sp[P.FUNC][s.func]
    result = fn.call([sp[P.VALUE][a].value for a in s.args])
    if s.results:
        assert fn.ty.result is not None, "validation matches start results"
        sp[P.VALUE].append(RValue(result, fn.ty.result))


def _import(env: Env, s: P.Import, args: dict[str, Any]) -> None:
    item = args.get(s.name)
    if item is None:
        raise LinkError(f"missing import `{s.name}`")
    bind(env, s.static, item)
    env.spaces[s.sort].append(item)


def _export(env: Env, s: P.Export, args: dict[str, Any]) -> None:
    space = env.spaces[s.sort]
    item = space[s.idx]
    if isinstance(item, RFunc) and not item.name:
        item.name = s.name
    env.exports[s.name] = item
    space.append(item)


def _value(env: Env, s: P.Value, args: dict[str, Any]) -> None:
    static = s.static if isinstance(s.static, t.Type) else t.U32
    env.spaces[P.VALUE].append(RValue(_decode_value(s.definition), static))


_HANDLERS: dict[type, Callable[[Env, Any, dict[str, Any]], None]] = {
    P.Module: _module,
    P.CoreInstantiate: _core_instantiate,
    P.CoreInline: _core_inline,
    P.CoreType: _core_type,
    P.Nested: _nested,
    P.Instantiate: _instantiate,
    P.InlineInstance: _inline_instance,
    P.AliasExport: _alias_export,
    P.AliasOuter: _alias_outer,
    P.Resource: _resource,
    P.Type: _type,
    P.Lift: _lift,
    P.Lower: _lower,
    P.Builtin: _builtin,
    P.Start: _start,
    P.Import: _import,
    P.Export: _export,
    P.Value: _value,
}


def _decode_value(d: ast.ValueDef) -> Any:
    raise Trap("value definitions (🪙) are not supported at runtime")
