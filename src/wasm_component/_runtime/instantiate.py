"""Instantiation: run a validated component's definitions, in order, against import items.

Each definition appends to one of the instance's index spaces (an :class:`Env`); the validator has
already proved every index and type right, so this code only builds runtime objects: core module
instances (through ``core``), lifted functions, lowering trampolines, resource built-ins, nested
component instances. Resource types are made concrete here: each abstract resource of the static
types maps (``Env.rt_map``) to a host type, or to a fresh guest type per defining instance.
"""

from __future__ import annotations

from typing import Any

from .. import types as t
from .._abi.context import ComponentInstanceState
from .._binary import ast
from .._validate import ValidatedComponent
from .._validate.typecheck import substitute
from ..errors import LinkError, Trap
from . import core
from .calls import LiftedFunc, make_builtin, make_lowered
from .items import RComponent, RFunc, RInstance, RModule, RValue

__all__ = ["Env", "instantiate_component"]

_SPACES = (
    "func", "value", "type", "instance", "component", "core func", "core table",
    "core memory", "core global", "core tag", "core type", "core module", "core instance",
)


class Env:
    """The index spaces of one component instance being instantiated."""

    def __init__(self, store: Any, vc: ValidatedComponent, modules: dict[int, core.CoreModule],
                 outer: Env | None, state: ComponentInstanceState) -> None:
        self.store = store
        self.vc = vc
        self.modules = modules
        self.outer = outer
        self.state = state
        self.spaces: dict[str, list[Any]] = {s: [] for s in _SPACES}
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

    def item(self, sort: ast.Sort, idx: int) -> Any:
        return self.spaces[str(sort)][idx]


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
    from ..resources import resource_lower

    state = ComponentInstanceState(parent_state)
    state.resource_lift = store._resource_lift
    state.resource_lower = resource_lower
    env = Env(store, vc, modules, outer, state)
    for i, d in enumerate(vc.component.definitions):
        _step(env, i, d, args)
    return env


def _append(env: Env, sort: str, item: Any) -> None:
    env.spaces[sort].append(item)


def _step(env: Env, i: int, d: ast.Definition, args: dict[str, Any]) -> None:
    sp = env.spaces
    vc = env.vc
    if isinstance(d, ast.CoreModule):
        cm = env.modules[d.offset]
        imports = tuple((imp.module, imp.name) for imp in d.info.imports)
        sp["core module"].append(RModule(cm, imports))
    elif isinstance(d, ast.CoreInstantiate):
        rm: RModule = sp["core module"][d.module]
        named = {name: sp["core instance"][idx] for name, idx in d.args}
        externs: list[core.CoreExtern] = []
        for mod, name in rm.imports:
            inst = named.get(mod)
            if inst is None or name not in inst:
                raise LinkError(f"core instance argument `{mod}` does not export `{name}`")
            externs.append(inst[name])
        # A core start function runs inside this (not yet usable) component instance: calls
        # that would re-enter it trap, as a call into an instance already on the stack does.
        env.state.may_enter = False
        try:
            ci = core.instantiate(env.store._core, rm.module, externs)
        finally:
            env.state.may_enter = True
        sp["core instance"].append(dict(ci.exports))
    elif isinstance(d, ast.CoreInlineExports):
        sp["core instance"].append({n: env.item(si.sort, si.idx) for n, si in d.exports})
    elif isinstance(d, ast.CoreTypeDecl):
        sp["core type"].append(d.type)
    elif isinstance(d, ast.NestedComponent):
        nested = vc.nested[i]
        sp["component"].append(RComponent(nested, env.modules, env))
    elif isinstance(d, ast.Instantiate):
        rc: RComponent = sp["component"][d.component]
        nargs = {name: env.item(si.sort, si.idx) for name, si in d.args}
        child = instantiate_component(
            env.store, rc.validated, rc.modules, nargs, rc.outer, env.state
        )
        inst = RInstance(child.exports)
        _append(env, "instance", inst)
        static = vc.instances[len(sp["instance"]) - 1].type
        bind(env, static, inst)
    elif isinstance(d, ast.InlineExports):
        _append(env, "instance", RInstance({n.name: env.item(si.sort, si.idx)
                                            for n, si in d.exports}))
    elif isinstance(d, (ast.AliasExport, ast.AliasCoreExport)):
        sort = str(d.sort)
        container = sp["instance"][d.instance] if isinstance(d, ast.AliasExport) \
            else sp["core instance"][d.instance]
        exports = container.exports if isinstance(container, RInstance) else container
        if d.name not in exports:
            raise LinkError(f"instance does not export `{d.name}`")
        item = exports[d.name]
        _append(env, sort, item)
        if sort == "type":
            static = vc.types[len(sp["type"]) - 1].type
            bind(env, static, item)
    elif isinstance(d, ast.AliasOuter):
        target: Env | None = env
        for _ in range(d.count):
            assert target is not None, "validation bounds outer alias counts"
            target = target.outer
        assert target is not None, "validation bounds outer alias counts"
        _append(env, str(d.sort), target.spaces[str(d.sort)][d.idx])
    elif isinstance(d, ast.TypeDef):
        if isinstance(d.body, ast.ResourceTypeDef):
            info = vc.resources[i]
            concrete = t.ResourceType.fresh(info.type.name, kind="guest")
            env.rt_map[info.type] = concrete
            env.state.resource_impls.add(concrete)
            dtor = None
            if info.dtor is not None:
                dtor = _core_caller(sp["core func"][info.dtor], ("i32",), ())
            env.store._resource_dtors[concrete] = (env.state, dtor)
            _append(env, "type", concrete)
        else:
            static = vc.types[len(sp["type"])].type
            _append(env, "type", env.concrete(static))
    elif isinstance(d, ast.Canon):
        canon = vc.canons[i]
        if d.kind == "lift":
            assert d.func is not None and canon.func_type is not None, "lift has a func and type"
            ft = env.concrete(canon.func_type)
            _append(env, "func", LiftedFunc.create(env, canon, ft, sp["core func"][d.func]))
        elif d.kind == "lower":
            assert d.func is not None and canon.func_type is not None, "lower has a func and type"
            target_func = sp["func"][d.func]
            _append(env, "core func", make_lowered(env, canon, env.concrete(canon.func_type),
                                                   target_func))
        else:
            _append(env, "core func", make_builtin(env, d, canon))
    elif isinstance(d, ast.Start):
        fn = sp["func"][d.func]
        vals = [sp["value"][a].value for a in d.args]
        result = fn.call(vals)
        if d.results:
            assert fn.ty.result is not None, "validation matches start results"
            _append(env, "value", RValue(result, fn.ty.result))
    elif isinstance(d, ast.Import):
        name = d.name.name
        if name not in args:
            raise LinkError(f"missing import `{name}`")
        item = args[name]
        sort = _desc_sort(d.desc)
        static_entry = vc.space(sort)[len(sp[sort])]
        bind(env, static_entry.type, item)
        if sort == "type" and isinstance(item, t.ResourceType):
            _append(env, "type", item)
        else:
            _append(env, sort, item)
    elif isinstance(d, ast.Export):
        sort = str(d.item.sort)
        item = env.item(d.item.sort, d.item.idx)
        if isinstance(item, RFunc) and not item.name:
            item.name = d.name.name
        env.exports[d.name.name] = item
        _append(env, sort, item)
    elif isinstance(d, ast.ValueDef):
        static = vc.values[len(sp["value"])].type
        _append(env, "value", RValue(_decode_value(d), static if isinstance(static, t.Type)
                                     else t.U32))
    else:  # pragma: no cover - every definition kind is listed above
        raise AssertionError(f"unknown definition {type(d).__name__}")


def _desc_sort(desc: ast.ExternDesc) -> str:
    return "core module" if desc.kind == "module" else desc.kind


def _core_caller(func: core.CoreFunc, params: tuple[str, ...], results: tuple[str, ...]) -> Any:
    call = func.make_caller(core.CoreFuncType(params, results))

    def invoke(*args: Any) -> Any:
        return call(args)

    return invoke


def _decode_value(d: ast.ValueDef) -> Any:
    raise Trap("value definitions (🪙) are not supported at runtime")
