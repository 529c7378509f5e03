"""Instantiation: run a validated component's definitions, in order, against import items.

Each definition appends to one of the instance's index spaces (an :class:`Env`); the validator has
already proved every index and type right, so this code only builds runtime objects: core module
instances (through ``core``), lifted functions, lowering trampolines, resource built-ins, nested
component instances. Resource types are made concrete here: each abstract resource of the static
types maps (``Env.rt_map``) to a host type, or to a fresh guest type per defining instance.

Each plan runs as one Python function compiled from it once (:func:`program_for`): the common
steps (modules, core instantiations, aliases, types, lifts, imports, exports) are written out
inline with their constants bound, and the rest call their handler with the step as a constant.
Stepping through the plan would cost a dispatch and a call per definition, and real components
have hundreds of definitions.

A root the inliner models (``_translate.inline``) runs its flat plan instead, compiled the same
way (:func:`root_program_for`): nested components inlined, no index spaces at run time.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

from .. import types as t
from .._abi.codegen import CodeGen
from .._abi.context import ComponentInstanceState
from .._binary import ast
from .._translate import inline as F
from .._translate import plan as P
from .._translate.plan import SORT_ID, SORTS, plan_for
from .._validate import ValidatedComponent
from .._validate.typecheck import resources_in, substitute
from ..errors import LinkError, Trap
from ..resources import resource_lower
from . import core
from .calls import LiftedFunc, make_builtin, make_lowered
from .items import RComponent, RInstance, RModule, RValue

__all__ = ["Env", "instantiate_component"]

class Env:
    """The index spaces of one component instance being instantiated."""

    __slots__ = ("calls_out", "exports", "modules", "outer", "rt_map", "spaces", "state", "store")

    def __init__(self, store: Any, modules: dict[int, RModule], outer: Env | None,
                 state: ComponentInstanceState, spaces: list[list[Any]]) -> None:
        self.store = store
        self.modules = modules
        self.outer = outer
        self.state = state
        #: one per sort (``SORTS``); a sort no definition adds to may be a shared empty tuple
        self.spaces = spaces
        self.rt_map: dict[t.ResourceType, t.ResourceType] = {}
        self.exports: dict[str, Any] = {}
        #: whether some code of this instance may call out to other than closed instances
        #: of its tree (``ComponentInstanceState.closed``, set from it once instantiated)
        self.calls_out = False

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


BindPaths = tuple[tuple[tuple[str, ...], t.ResourceType], ...]


def bind_paths(static: Any, path: tuple[str, ...] = ()) -> BindPaths:
    """Where an item of type ``static`` holds resource types: each abstract resource with its
    path of export names (worked out once, when a plan is compiled; see :func:`bind_at`)."""
    if isinstance(static, t.TypeBound):
        static = static.eq
    if isinstance(static, t.ResourceType):
        return ((path, static),)
    if isinstance(static, t.InstanceType):
        return tuple(p for name, st in static.exports for p in bind_paths(st, (*path, name)))
    return ()


def bind_at(env: Env, paths: BindPaths, item: Any) -> None:
    """Record the concrete resource types ``item`` supplies for the abstract ones of its static
    type, found along that type's :func:`bind_paths`."""
    rt_map = env.rt_map
    for path, static in paths:
        x = item
        for name in path:
            if not isinstance(x, RInstance):
                break
            x = x.exports.get(name)
        else:
            if isinstance(x, t.ResourceType) and static != x:
                rt_map.setdefault(static, x)


def instantiate_component(
    store: Any,
    vc: ValidatedComponent,
    modules: dict[int, RModule],
    args: dict[str, Any],
    outer: Env | None = None,
    parent_state: ComponentInstanceState | None = None,
) -> Env:
    """Instantiate ``vc`` with import items ``args`` (by import name). Returns the filled Env;
    ``env.exports`` holds the instance's exports."""
    return program_for(vc)(store, modules, args, outer, parent_state)


Program = Callable[
    [Any, dict[int, RModule], dict[str, Any], "Env | None", "ComponentInstanceState | None"], Env
]


class LazyType:
    """A type definition whose resource types are made concrete only when the type is used:
    most such definitions (WASI's instance types, say) are never looked at after validation,
    and substituting them at every instantiation is costly."""

    __slots__ = ("_concrete", "env", "static")

    def __init__(self, env: Env, static: Any) -> None:
        self.env = env
        self.static = static
        self._concrete: Any = None

    def resolve(self) -> Any:
        if self._concrete is None:
            self._concrete = self.env.concrete(self.static)
        return self._concrete


def _item(x: Any) -> Any:
    """An index-space entry as it may leave its instance: lazy types resolved."""
    return x.resolve() if x.__class__ is LazyType else x


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
    nargs = {name: _item(sp[sort][idx]) for name, sort, idx in s.args}
    child = instantiate_component(env.store, rc.validated, rc.modules, nargs, rc.outer, env.state)
    if not child.state.closed:
        env.calls_out = True
    sp[P.INSTANCE].append(RInstance(child.exports))
    # (the program binds the instance's resource types, when its type has any)


def _inline_instance(env: Env, s: P.InlineInstance, args: dict[str, Any]) -> None:
    sp = env.spaces
    sp[P.INSTANCE].append(RInstance({n: _item(sp[sort][idx]) for n, sort, idx in s.exports}))


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


def _lower(env: Env, s: P.Lower, args: dict[str, Any]) -> None:
    target = env.spaces[P.FUNC][s.func]
    state = env.state
    if (target.__class__ is LiftedFunc and target.state.root is state.root
            and F.enters_only_closed(state, target.state, _parent, _closed)):
        if s.direct and F.core_call_stands_for(s.abi, target._info, target._abi):
            # The callee's core function itself: every check of the trampoline is known to
            # pass and lifting then lowering changes no value (``_translate.inline``).
            env.spaces[P.CORE_FUNC].append(target.core_func)
            return
    else:
        env.calls_out = True
    env.spaces[P.CORE_FUNC].append(make_lowered(env, s.info, target, s.abi, s.has_resources))


def _parent(s: ComponentInstanceState) -> ComponentInstanceState | None:
    return s.parent


def _closed(s: ComponentInstanceState) -> bool:
    return s.closed


# Built-ins whose code only touches the calling instance (any other may call out, as
# ``resource.drop`` runs a destructor)
_LOCAL_BUILTINS = frozenset({"resource.new", "resource.rep"})


def _builtin(env: Env, s: P.Builtin, args: dict[str, Any]) -> None:
    if s.canon.kind not in _LOCAL_BUILTINS:
        env.calls_out = True
    env.spaces[P.CORE_FUNC].append(make_builtin(env, s.canon, s.info))


def _start(env: Env, s: P.Start, args: dict[str, Any]) -> None:
    sp = env.spaces
    fn = sp[P.FUNC][s.func]
    result = fn.call([sp[P.VALUE][a].value for a in s.args])
    if s.results:
        assert fn.ty.result is not None, "validation matches start results"
        sp[P.VALUE].append(RValue(result, fn.ty.result))


def _value(env: Env, s: P.Value, args: dict[str, Any]) -> None:
    static = s.static if isinstance(s.static, t.Type) else t.U32
    env.spaces[P.VALUE].append(RValue(_decode_value(s.definition), static))


_HANDLERS: dict[type, Callable[[Env, Any, dict[str, Any]], None]] = {
    P.CoreType: _core_type,
    P.Nested: _nested,
    P.InlineInstance: _inline_instance,
    P.AliasOuter: _alias_outer,
    P.Resource: _resource,
    P.Lower: _lower,
    P.Builtin: _builtin,
    P.Start: _start,
    P.Value: _value,
}


def _decode_value(d: ast.ValueDef) -> Any:
    raise Trap("value definitions (🪙) are not supported at runtime")


# -- the plan as one Python function ---------------------------------------------------------


def _needs_bind(static: Any) -> bool:
    """Whether ``bind_at`` can learn anything from an item of this static type: only where it
    names resource types."""
    return isinstance(static, (t.TypeBound, t.ResourceType, t.InstanceType)) and bool(
        resources_in(static))


def _emit_export_import(g: CodeGen, i: int, instance_ref: str, name: str) -> None:
    """Generated code putting export ``name`` of the core instance whose ``byref`` is in
    ``instance_ref`` at entry ``i`` of the store's imports array (``y``, with byrefs ``at``):
    straight from wasmtime, no Python object made."""
    key, size = core.export_name(name)
    g.emit(f"export_get(ctx, {instance_ref}, {g.const(key)}, {g.const(size)}, at[{i}])")


def _emit_item_import(g: CodeGen, i: int, item: str) -> None:
    """Generated code putting core item ``item`` (an extern or a lazy export) at entry ``i``."""
    g.emit(f"y[{i}] = {g.const(core.resolve)}({item}).extern()")


def _missing_export(name: str) -> None:
    raise LinkError(f"instance does not export `{name}`")


def _missing_import(name: str) -> None:
    raise LinkError(f"missing import `{name}`")


def program_for(vc: ValidatedComponent) -> Program:
    """``vc``'s plan compiled to ``run(store, modules, args, outer, parent_state) -> Env``
    (made once, kept with the component)."""
    fn: Program | None = vc.derived.get("program")
    if fn is None:
        fn = vc.derived["program"] = _compile(plan_for(vc))
    return fn


# the index space each kind of step adds to (aliases, imports and exports name theirs)
_SORT_OF: dict[type, int] = {
    P.Module: P.CORE_MODULE, P.CoreInstantiate: P.CORE_INSTANCE, P.CoreInline: P.CORE_INSTANCE,
    P.CoreType: P.CORE_TYPE, P.Nested: P.COMPONENT, P.Instantiate: P.INSTANCE,
    P.InlineInstance: P.INSTANCE, P.Resource: P.TYPE, P.Type: P.TYPE, P.Lift: P.FUNC,
    P.Lower: P.CORE_FUNC, P.Builtin: P.CORE_FUNC, P.Value: P.VALUE,
}


def _adds_to(step: P.Step) -> int:
    if isinstance(step, (P.AliasExport, P.AliasOuter, P.Import, P.Export)):
        return step.sort
    if isinstance(step, P.Start):
        return P.VALUE
    return _SORT_OF[type(step)]


def _compile(plan: P.Plan) -> Program:
    g = CodeGen()
    c = g.const
    sp = [f"s{i}" for i in range(len(SORTS))]
    most = 0  # the most imports of a core instantiation wired here
    core_instances = 0  # core instances are only made here (never imported or aliased)...
    inline: set[int] = set()  # ...and these are the inline ones (dicts)
    added = {_adds_to(step) for step in plan.steps}
    for step in plan.steps:
        match step:
            case P.Module(offset):
                g.emit(f"{sp[P.CORE_MODULE]}.append(modules[{offset}])")
            case P.CoreInstantiate(module, cargs, wiring):
                core_instances += 1
                g.emit(f"x = {sp[P.CORE_MODULE]}[{module}]")
                if wiring is None:
                    g.emit(f"imports = {c(_core_imports)}(x, {sp[P.CORE_INSTANCE]}, {c(cargs)}) "
                           f"if x.imports else {c(core.import_array(0))}")
                elif not wiring:
                    g.emit(f"imports = {c(core.import_array(0))}")
                else:
                    g.emit("imports = y")
                    # into the store's imports array (the instance's ``byref`` in ``r<index>``)
                    most = max(most, len(wiring))
                    for i, w in enumerate(wiring):
                        if isinstance(w, P.ExportWire):
                            _emit_export_import(g, i, f"r{w.instance}", w.name)
                        else:
                            _emit_item_import(g, i, f"{sp[w.sort]}[{w.idx}]")
                # A core start function runs inside this (not yet usable) component instance:
                # calls that would re-enter it trap, as a call into an instance on the stack does.
                g.emit("state.may_enter = False")
                with g.block("try:"):
                    g.emit(f"x = {c(core.instantiate_array)}(cstore, x.module, imports, "
                           f"len(x.imports))")
                with g.block("finally:"):
                    g.emit("state.may_enter = True")
                g.emit(f"{sp[P.CORE_INSTANCE]}.append(x)")
                g.emit(f"r{core_instances - 1} = x._ref")
            case P.AliasExport(sort, instance, name, True, static):
                # (validation proved the export there; a core instance's is looked up lazily)
                source = f"{sp[P.CORE_INSTANCE]}[{instance}]"
                item = (f"{source}[{name!r}]" if instance in inline
                        else f"{c(tuple.__new__, 'tnew')}({c(core.LazyExport)}, "
                             f"({source}, {name!r}))")
                g.emit(f"{sp[sort]}.append({item})")
            case P.AliasExport(sort, instance, name, False, static):
                g.emit(f"x = {sp[P.INSTANCE]}[{instance}].exports.get({name!r})")
                with g.block("if x is None:"):
                    g.emit(f"{c(_missing_export)}({name!r})")
                g.emit(f"{sp[sort]}.append(x)")
                if _needs_bind(static):
                    g.emit(f"{c(bind_at)}(env, {c(bind_paths(static))}, x)")
            case P.Type(static, has_resources):
                value = f"{c(LazyType)}(env, {c(static)})" if has_resources else c(static)
                g.emit(f"{sp[P.TYPE]}.append({value})")
            case P.Lift(info, func, has_resources, abi):
                g.emit(f"{sp[P.FUNC]}.append({c(LiftedFunc.create)}(env, {c(info)}, "
                       f"{sp[P.CORE_FUNC]}[{func}], {c(abi)}, {has_resources}))")
            case P.Import(name, sort, static):
                g.emit(f"x = args.get({name!r})")
                with g.block("if x is None:"):
                    g.emit(f"{c(_missing_import)}({name!r})")
                if _needs_bind(static):
                    g.emit(f"{c(bind_at)}(env, {c(bind_paths(static))}, x)")
                g.emit(f"{sp[sort]}.append(x)")
            case P.Export(name, sort, idx):
                g.emit(f"x = {sp[sort]}[{idx}]")
                if sort == P.TYPE:
                    g.emit(f"x = {c(_item)}(x)")
                if sort == P.FUNC:
                    with g.block("if not x.name:"):
                        g.emit(f"x.name = {name!r}")
                g.emit(f"exports[{name!r}] = x")
                g.emit(f"{sp[sort]}.append(x)")
            case P.Instantiate(static=static):
                g.emit(f"{c(_instantiate)}(env, {c(step)}, args)")
                if _needs_bind(static):
                    g.emit(f"{c(bind_at)}(env, {c(bind_paths(static))}, "
                           f"{sp[P.INSTANCE]}[-1])")
            case P.CoreInline():
                inline.add(core_instances)
                core_instances += 1
                g.emit(f"{c(_core_inline)}(env, {c(step)}, args)")
            case _:
                g.emit(f"{c(_HANDLERS[type(step)])}(env, {c(step)}, args)")
    g.emit("state.closed = not env.calls_out" if not plan.may_throw else "state.closed = False")
    g.emit("return env")
    prologue = [
        f"state = {c(ComponentInstanceState)}(parent_state, store._resource_lift, "
        f"{c(resource_lower)})",
        f"env = {c(Env)}(store, modules, outer, state, "
        f"[{', '.join('[]' if i in added else '()' for i in range(len(SORTS)))}])",
        f"{', '.join(sp)}, = env.spaces",
        "exports = env.exports",
        "cstore = store._core",
    ]
    if most:
        prologue += ["ctx = cstore._ctx", f"y, at = {c(core.scratch_imports)}(cstore, {most})"]
    g.ns.update(export_get=core.INSTANTIATE_PARTS.export_get)
    fn: Program = g.finish("run", "store, modules, args, outer, parent_state", prologue)
    return fn


def root_program_for(vc: ValidatedComponent) -> Program:
    """The program instantiating ``vc`` as a root: its flat plan (nested components inlined,
    ``_translate.inline``) compiled, or where the inliner declines, :func:`program_for`."""
    fn: Program | None = vc.derived.get("root program")
    if fn is None:
        flat = F.inline(vc)
        fn = vc.derived["root program"] = (
            program_for(vc) if flat is None else _compile_flat(flat))
    return fn


class RootInstance:
    """What instantiating a root leaves (kept with the store): its exports, and the states of
    its component instances made so far (the root's first)."""

    __slots__ = ("exports", "states")

    def __init__(self, states: list[ComponentInstanceState | None], exports: dict[str, Any]
                 ) -> None:
        self.states = states
        self.exports = exports


# the index spaces of a lift or lower without canon options (never written)
_NO_OPTIONS: list[Any] = [()] * len(SORTS)
_NO_OPTIONS_ENV = Env(None, {}, None, ComponentInstanceState(), _NO_OPTIONS)


def _compile_flat(flat: F.FlatPlan) -> Program:
    """A flat plan as one Python function: each step a few lines, each runtime value a local."""
    g = CodeGen()
    c = g.const
    parts = core.INSTANTIATE_PARTS
    # the core instances something looks exports up in (the rest only feed imports)
    objects = {s.instance for s in flat.steps if isinstance(s, F.FLazyExport)}
    most = max((len(s.imports) for s in flat.steps if isinstance(s, F.FCoreInstantiate)),
               default=0)
    core_index = {s.slot: k for k, s in enumerate(
        s for s in flat.steps if isinstance(s, F.FCoreInstantiate))}
    filled: dict[int, tuple[int, str]] = {}  # imports array entry -> the export it holds
    modules_seen: set[int] = set()  # (the module at offset N is in local mN)
    module_of: dict[int, int] = {}  # core instance slot -> its module's offset

    def v(slot: int | None) -> str:
        return "None" if slot is None else f"v{slot}"

    def canon_env(state: int, options: tuple[tuple[int, int, int], ...]) -> str:
        if not options:
            spaces = c(_NO_OPTIONS)
        else:
            by_sort: dict[int, list[str]] = {}
            for sort, idx, slot in options:
                by_sort.setdefault(sort, []).append(f"{idx}: {v(slot)}")
            spaces = "[" + ", ".join(
                "{" + ", ".join(by_sort[i]) + "}" if i in by_sort else "()"
                for i in range(len(SORTS))) + "]"
        return f"{c(Env)}(store, modules, None, {v(state)}, {spaces})"

    for step in flat.steps:
        match step:
            case F.FImport(slot, name):
                g.emit(f"{v(slot)} = args.get({name!r})")
                with g.block(f"if {v(slot)} is None:"):
                    g.emit(f"{c(_missing_import)}({name!r})")
            case F.FAlias(slot, source, name):
                g.emit(f"{v(slot)} = {v(source)}.exports.get({name!r})")
                with g.block(f"if {v(slot)} is None:"):
                    g.emit(f"{c(_missing_export)}({name!r})")
            case F.FState(slot, _, inst):
                # (a deferred function may have made it already, if called by a start function)
                g.emit(f"{v(slot)} = {c(_flat_state)}(store, states, {c(flat.parents)}, {inst})")
            case F.FCoreInstantiate(slot, module, imports, state, runs_code):
                # ``core.instantiate_array``, made inline: the store's imports array for all (an
                # entry still holding the export is not fetched again), each instance in one
                # array of them, its ``byref`` in ``r<slot>``
                for i, imp in enumerate(imports):
                    if isinstance(imp, F.CoreExportRef):
                        if filled.get(i) == (imp.instance, imp.name):
                            continue
                        _emit_export_import(g, i, f"r{imp.instance}", imp.name)
                        filled[i] = (imp.instance, imp.name)
                    else:
                        _emit_item_import(g, i, v(imp.n))
                        filled.pop(i, None)
                module_of[slot] = module
                if module not in modules_seen:
                    modules_seen.add(module)
                    g.emit(f"m{module} = modules[{module}].module")
                g.emit(f"r{slot} = byref(insts, {core_index[slot] * parts.instance_size})")
                call = (f"err = instance_new(ctx, m{module}._ptr, y, "
                        f"{c(parts.size(len(imports)))}, r{slot}, trap_addr)")
                if state is None or not runs_code:
                    g.emit(call)
                else:
                    # start functions run inside the (not yet usable) instance
                    g.emit(f"{v(state)}.may_enter = False")
                    with g.block("try:"):
                        g.emit(call)
                    with g.block("finally:"):
                        g.emit(f"{v(state)}.may_enter = True")
                # ``core.instantiated``, inline; without a start function no wasm code ran,
                # so no memory grew (only a segment out of bounds can trap)
                if runs_code:
                    g.emit("gen[0] += 1")
                    filled.clear()  # (a start function may have instantiated into the store)
                with g.block("if err or trap.value:"):
                    g.emit(f"{c(core.instantiate_failed)}(cstore, err)")
                if slot in objects:
                    g.emit(f"{v(slot)} = {c(core.wrap_instance)}(cstore, m{module}, insts, "
                           f"r{slot})")
            case F.FLazyExport(slot, instance, name):
                g.emit(f"{v(slot)} = {c(core.LazyExport)}({v(instance)}, {name!r})")
            case F.FLift(slot, info, func, abi, state, options, name):
                # (without options nothing is looked up in the env: one shared env will do)
                env = canon_env(state, options) if options else c(_NO_OPTIONS_ENV)
                g.emit(f"{v(slot)} = {c(LiftedFunc.create)}({env}, {c(info)}, {v(func)}, "
                       f"{c(abi)}, False, {v(state)})")
                if name:
                    g.emit(f"{v(slot)}.name = {name!r}")
            case F.FDeferredLift(slot, info, abi, inst, instance, export, name):
                pending = (f"({c(_settle_deferred)}, store, states, {c(flat.parents)}, {inst}, "
                           f"m{module_of[instance]}, insts, r{instance}, {export!r})")
                g.emit(f"{v(slot)} = {c(LiftedFunc.deferred)}({c(_NO_OPTIONS_ENV)}, {c(info)}, "
                       f"{c(abi)}, {name!r}, {pending})")
            case F.FLower(slot, info, target, abi, state, options):
                g.emit(f"{v(slot)} = {c(make_lowered)}({canon_env(state, options)}, "
                       f"{c(info)}, {v(target)}, {c(abi)}, False)")
            case F.FName(slot, name):
                with g.block(f"if not {v(slot)}.name:"):
                    g.emit(f"{v(slot)}.name = {name!r}")
            case F.FInstance(slot, exports):
                items = ", ".join(f"{n!r}: {v(s)}" for n, s in exports)
                g.emit(f"{v(slot)} = {c(RInstance)}({{{items}}})")
            case F.FConst(slot, value):
                g.emit(f"{v(slot)} = {c(value)}")
            case F.FModule(slot, offset):
                g.emit(f"{v(slot)} = modules[{offset}]")
    root_exports = "{" + ", ".join(f"{n!r}: {v(s)}" for n, s in flat.exports) + "}"
    # (the states are made as they are needed: the root's too)
    g.emit(f"return {c(RootInstance)}(states, {root_exports})")
    prologue = ["cstore = store._core", "ctx, trap_addr = cstore._ctx, cstore._trap_addr",
                f"states = [None] * {len(flat.parents)}",
                "gen, trap = cstore._gen, cstore._trap",
                f"y, at = {c(core.scratch_imports)}(cstore, {most})",
                f"insts = {c(parts.instance_t * max(len(core_index), 1))}()"]
    g.ns.update(instance_new=parts.instance_new, export_get=parts.export_get,
                byref=ctypes.byref)
    fn: Program = g.finish("run", "store, modules, args, outer, parent_state", prologue)
    return fn


def _settle_deferred(store: Any, states: list[ComponentInstanceState | None],
                     parents: tuple[int | None, ...], inst: int, module: core.CoreModule,
                     instance: Any, ref: Any, export: str
                     ) -> tuple[ComponentInstanceState, core.LazyExport]:
    """A deferred lift's instance state (made now if nothing made it yet, with its parents)
    and core function (``F.FDeferredLift``)."""
    core_instance = core.wrap_instance(store._core, module, instance, ref)
    return _flat_state(store, states, parents, inst), core.LazyExport(core_instance, export)


def _flat_state(store: Any, states: list[ComponentInstanceState | None],
                parents: tuple[int | None, ...], inst: int) -> ComponentInstanceState:
    state = states[inst]
    if state is None:
        parent = parents[inst]
        above = None if parent is None else _flat_state(store, states, parents, parent)
        state = states[inst] = ComponentInstanceState(above, store._resource_lift,
                                                      resource_lower)
    return state


def _core_imports(rm: RModule, core_instances: list[Any], args: tuple[tuple[str, int], ...]
                  ) -> Any:
    """The imports of a core instantiation, in the module's import order, as the array
    ``core.instantiate_array`` takes."""
    named = {name: core_instances[idx] for name, idx in args}
    arr = core.import_array(len(rm.imports))
    for i, (mod, name) in enumerate(rm.imports):
        inst = named.get(mod)
        if inst is None or not core.put_import(arr, i, inst, name):
            raise LinkError(f"core instance argument `{mod}` does not export `{name}`")
    return arr
