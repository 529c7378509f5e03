"""Instantiation: run a root component's flat plan (``_translate.inline``) in a store.

The plan is compiled once per component into one Python function (:func:`program_for`): each
step a few lines with its constants bound, each runtime value a local, core instances wired
straight to each other's exports through wasmtime's imports array. Stepping through the plan
would cost a dispatch and a call per step, and real components have hundreds. This is the
runtime's only instantiation engine: nested components, resources, built-ins, start
functions and modules known only at run time are all steps of the one plan.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from .. import types as t
from .._abi.codegen import CodeGen
from .._abi.context import ComponentInstanceState
from .._translate import inline as F
from .._translate import plan as P
from .._translate.trampolines import Trampoline
from .._validate import ValidatedComponent
from .._validate.model import ResourceInfo
from .._validate.typecheck import substitute
from ..errors import LinkError, NotSupported
from . import core
from .calls import (
    BARE,
    BUILTINS,
    RESOURCE_BUILTINS,
    LiftedFunc,
    Site,
    lower_into,
    make_lowered,
    resource_builtin_into,
)
from .items import RComponent, RFunc, RInstance, RModule, RValue

__all__ = ["RootInstance", "program_for"]

Program = Callable[[Any, dict[int, RModule], dict[str, Any]], "RootInstance"]


def _missing_export(name: str) -> None:
    raise LinkError(f"instance does not export `{name}`")


def _missing_import(name: str) -> None:
    raise LinkError(f"missing import `{name}`")


def program_for(vc: ValidatedComponent) -> Program:
    """The program instantiating ``vc`` as a root, ``run(store, modules, args) ->
    RootInstance``: its flat plan compiled (made once, kept with the component)."""
    fn: Program | None = vc.derived.get("root program")
    if fn is None:
        fn = vc.derived["root program"] = _compile_flat(F.inline(vc))
    return fn


class RootInstance:
    """What instantiating a root leaves (kept with the store): its exports, the states of
    its component instances made so far (the root's first), and its lifted functions (whose
    call paths :meth:`release` drops when the store goes, so nothing waits for the cyclic GC)."""

    __slots__ = ("exports", "funcs", "states")

    def __init__(self, states: list[ComponentInstanceState | None], exports: dict[str, Any],
                 funcs: tuple[LiftedFunc, ...]) -> None:
        self.states = states
        self.exports = exports
        self.funcs = funcs

    def release(self) -> None:
        for f in self.funcs:
            f.release()
        # a tree's root state is its own ``root``: that cycle is broken here, so the states
        # (and their handle tables) go with the store rather than at the next cyclic GC
        for state in self.states:
            if state is not None and state.root is state:
                state.root = _RELEASED


#: The ``root`` of a released tree's root state: poisoned (nothing enters a tree whose store
#: is gone; its functions' call paths were dropped before this).
_RELEASED = ComponentInstanceState()
_RELEASED.poisoned = True


def _resource(store: Any, info: ResourceInfo, state: ComponentInstanceState, dtor: Any
              ) -> t.ResourceType:
    """A resource type defined by the instance of ``state``: fresh per instance, its
    destructor (a core function, or None) kept by the store for drops of its handles."""
    concrete = t.ResourceType.fresh(info.type.name, kind="guest")
    state.resource_impls.add(concrete)
    store._resource_dtors[concrete] = (state, dtor)
    return concrete


def _builtin(store: Any, state: ComponentInstanceState, kind: Any, info: Any,
             rt: t.ResourceType | None, site: Site = BARE) -> core.CoreFunc:
    return BUILTINS[kind](store, state, kind, info, rt, site)


def _async_store(store: Any, state: ComponentInstanceState) -> None:
    from .tasks import scheduler_for

    scheduler_for(store, state)


def _start(store: Any, fn: RFunc, args: tuple[RValue, ...]) -> RValue:
    """Call a component start function; its result (if any) as a value."""
    result = fn.call_in(store)([a.value for a in args])
    return RValue(result, fn.ty.result if fn.ty.result is not None else t.U32)


def _concrete_type(static: Any, resources: dict[t.ResourceType, t.ResourceType]) -> Any:
    return substitute(static, resources, {})


def _instantiate_imported(store: Any, rc: RComponent, args: dict[str, Any]) -> RInstance:
    """A component the root imported (``F.FInstantiateImported``), instantiated by its own
    program in the same store: the store keeps it as it keeps a root."""
    root = program_for(rc.validated)(store, rc.modules, args)
    store._instances.append(root)
    return RInstance(root.exports)


def _unsupported(what: str) -> None:
    raise NotSupported(f"{what} cannot be instantiated by this runtime")


def _instantiate_dynamic(cstore: core.CoreStore, rm: RModule, args: dict[str, Any],
                         state: ComponentInstanceState | None) -> core.CoreInstance:
    """Instantiate a core module known only at run time (imported by the root): each import
    looked up by name in a core instance or a bag of core items of ``args``."""
    arr = core.import_array(len(rm.imports))
    for i, (mod, name) in enumerate(rm.imports):
        source = args.get(mod)
        if source is None or not core.put_import(arr, i, source, name):
            raise LinkError(f"core instance argument `{mod}` does not export `{name}`")
    if state is not None:
        state.may_enter = False  # (start functions run inside the not yet usable instance)
    try:
        return core.instantiate_array(cstore, rm.module, arr, len(rm.imports))
    finally:
        if state is not None:
            state.may_enter = True


#: Built-ins that may suspend the calling thread's stack (``thread.*`` switch threads, and a
#: new thread is a stack of its own), and those that do when not ``async``.
_SUSPENDING = frozenset({
    Trampoline.WAITABLE_SET_WAIT, Trampoline.THREAD_YIELD, Trampoline.THREAD_SUSPEND,
    Trampoline.THREAD_RESUME_LATER, Trampoline.THREAD_NEW_INDIRECT,
    Trampoline.THREAD_SPAWN_INDIRECT,
    Trampoline.THREAD_SUSPEND_THEN_RESUME, Trampoline.THREAD_YIELD_THEN_RESUME,
    Trampoline.THREAD_SUSPEND_THEN_PROMOTE, Trampoline.THREAD_YIELD_THEN_PROMOTE,
})
_SUSPENDING_SYNC = frozenset({
    Trampoline.STREAM_READ, Trampoline.STREAM_WRITE, Trampoline.FUTURE_READ,
    Trampoline.FUTURE_WRITE, Trampoline.STREAM_CANCEL_READ, Trampoline.STREAM_CANCEL_WRITE,
    Trampoline.FUTURE_CANCEL_READ, Trampoline.FUTURE_CANCEL_WRITE, Trampoline.SUBTASK_CANCEL,
})


def needs_fibers(flat: F.FlatPlan) -> bool:
    """Whether a guest stack of this component may have to be parked while others run (then
    its guest calls run on fibers: ``core.CoreStore.enable_fibers``): it has a built-in that
    may suspend (``waitable-set.wait``, ``thread.yield`` and the other ``thread.*``, a sync
    stream/future copy or cancel, a sync ``subtask.cancel``), a stackful async lift, or a sync
    lower of an ``async`` function. Components without any keep the sync call path."""
    for step in flat.steps:
        match step:
            case F.FBuiltin(kind=kind, info=info):
                if kind in _SUSPENDING or (kind in _SUSPENDING_SYNC and not info.is_async):
                    return True
            case F.FLift(info=info) | F.FDeferredLift(info=info):
                if info.is_async and info.callback is None:
                    return True
            case F.FLower(info=info, abi=abi):
                if not info.is_async and abi.ft.is_async:
                    return True
    return False


def _fiber_store(store: Any) -> None:
    store._core.enable_fibers()


def _compile_flat(flat: F.FlatPlan) -> Program:
    """A flat plan as one Python function: each step a few lines, each runtime value a local."""
    g = CodeGen()
    c = g.const
    # the core instances something looks exports up in (the rest only feed imports)
    objects = {s.instance for s in flat.steps if isinstance(s, F.FLazyExport)}
    objects.update(a for s in flat.steps if isinstance(s, F.FCoreInstantiateDynamic)
                   for _, a in s.args if isinstance(a, int))
    core_index = {s.slot: k for k, s in enumerate(
        s for s in flat.steps if isinstance(s, F.FCoreInstantiate))}
    # every core instance's imports side by side in one array (``core.WiringPlan``): an
    # export already fetched into an entry is copied from there, not fetched again
    wiring = core.WiringPlan()
    fetched: dict[tuple[int, str], int] = {}  # (core instance slot, export) -> its entry
    modules_seen: set[int] = set()  # (the module at offset N is in local mN)
    module_of: dict[int, int] = {}  # core instance slot -> its module's offset

    sites: dict[str, str] = {}  # a Site's making -> the local holding it
    # sync lowers (and resource built-ins) only core instances of the plan import: made
    # straight into the imports array
    # at their first entry (``lower_into``), later imports of them copy that entry
    direct = _direct_lowers(flat)

    def v(slot: int | None) -> str:
        return "None" if slot is None else f"v{slot}"

    def site(info: Any, options: tuple[tuple[int, int, int], ...], resources: F.Resources
             ) -> str:
        """A canon's :class:`Site`: its options' core items and concrete resource types."""
        if not options and not resources:
            return c(BARE)
        at = {(sort, idx): v(slot) for sort, idx, slot in options}
        memory = at.get((P.CORE_MEMORY, info.memory), "None")
        realloc = at.get((P.CORE_FUNC, info.realloc), "None")
        post_return = at.get((P.CORE_FUNC, info.post_return), "None")
        rts = ", ".join(f"{c(rt)}: {v(s)}" for rt, s in resources)
        table = at.get((P.CORE_TABLE, info.table), "None")
        callback = at.get((P.CORE_FUNC, info.callback), "None")
        made = f"{c(Site)}({memory}, {realloc}, {post_return}, {{{rts}}}, {table}, {callback})"
        # canons with the same options and resources share one (sites are never changed)
        name = sites.get(made)
        if name is None:
            name = sites[made] = f"site{len(sites)}"
            g.emit(f"{name} = {made}")
        return name

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
                g.emit(f"{v(slot)} = {c(_flat_state)}(owner, states, {c(flat.parents)}, {inst})")
            case F.FCoreInstantiate(slot, module, imports, state, runs_code):
                # one ``core.Wiring.instantiate``: exports of instances made here fetched
                # by number and name (or copied from an entry holding them), other items
                fetch: list[tuple[int, int, str]] = []
                copy: list[tuple[int, int]] = []  # (entry, the entry to copy)
                loose: list[str] = []
                for e, imp in enumerate(imports, wiring.nentries):
                    if isinstance(imp, F.Slot) and imp.n in direct:
                        if direct[imp.n] != e:
                            copy.append((e, direct[imp.n]))
                    elif isinstance(imp, F.CoreExportRef) and imp.instance in core_index:
                        first = fetched.get((imp.instance, imp.name))
                        if first is not None:
                            copy.append((e, first))
                        else:
                            fetched[(imp.instance, imp.name)] = e
                            fetch.append((e, core_index[imp.instance], imp.name))
                    else:
                        item = (v(imp.n) if isinstance(imp, F.Slot) else
                                f"{c(core.LazyExport)}({v(imp.instance)}, {imp.name!r})")
                        loose.append(f"({e}, {item}), ")
                k = wiring.add(len(imports), fetch, copy)
                assert k == core_index[slot], "core instances are numbered in plan order"
                module_of[slot] = module
                if module not in modules_seen:
                    modules_seen.add(module)
                    g.emit(f"m{module} = modules[{module}].module")
                call = f"w.instantiate({k}, m{module}, ({''.join(loose)}), {runs_code})"
                if state is None or not runs_code:
                    g.emit(call)
                else:
                    # start functions run inside the (not yet usable) instance
                    g.emit(f"{v(state)}.may_enter = False")
                    with g.block("try:"):
                        g.emit(call)
                    with g.block("finally:"):
                        g.emit(f"{v(state)}.may_enter = True")
                if slot in objects:
                    g.emit(f"{v(slot)} = w.instance({core_index[slot]}, m{module})")
            case F.FLazyExport(slot, instance, name):
                g.emit(f"{v(slot)} = {c(core.LazyExport)}({v(instance)}, {name!r})")
            case F.FLift(slot, info, func, abi, state, options, resources, name):
                g.emit(f"{v(slot)} = {c(LiftedFunc.create)}({site(info, options, resources)}, "
                       f"{c(info)}, {c(abi)}, {(name or '')!r}, {v(state)}, {v(func)}, None)")
                if info.is_async:  # (its tree's calls run as tasks: ``tasks``)
                    g.emit(f"{c(_async_store)}(store, {v(state)})")
            case F.FDeferredLift(slot, info, abi, inst, instance, export, name):
                pending = (f"({c(_settle_deferred)}, owner, states, {c(flat.parents)}, {inst}, "
                           f"w, {core_index[instance]}, m{module_of[instance]}, {export!r})")
                g.emit(f"{v(slot)} = {c(LiftedFunc.create)}({c(BARE)}, {c(info)}, "
                       f"{c(abi)}, {name!r}, None, None, {pending})")
            case F.FLower(slot, info, target, abi, state, options, resources) if slot in direct:
                g.emit(f"{c(lower_into)}(w, {direct[slot]}, store, owner, "
                       f"{site(info, options, resources)}, {v(state)}, {c(info)}, {v(target)}, "
                       f"{c(abi)})")
            case F.FLower(slot, info, target, abi, state, options, resources):
                g.emit(f"{v(slot)} = {c(make_lowered)}(store, {site(info, options, resources)}, "
                       f"{v(state)}, {c(info)}, {v(target)}, {c(abi)})")
            case F.FCoreInstantiateDynamic(slot, module, args, state):
                named = ", ".join(
                    f"{n!r}: " + (v(a) if isinstance(a, int) else
                                  "{" + ", ".join(f"{k!r}: {v(x)}" for k, x in a) + "}")
                    for n, a in args)
                g.emit(f"{v(slot)} = {c(_instantiate_dynamic)}(cstore, {v(module)}, "
                       f"{{{named}}}, {v(state)})")
            case F.FResource(slot, info, state, dtor):
                g.emit(f"{v(slot)} = {c(_resource)}(store, {c(info)}, {v(state)}, {v(dtor)})")
            case F.FBuiltin(slot, kind, info, state, resource, _, _) if slot in direct:
                g.emit(f"{c(resource_builtin_into)}(w, {direct[slot]}, owner, {v(state)}, "
                       f"{c(kind)}, {c(info)}, {v(resource)})")
            case F.FBuiltin(slot, kind, info, state, resource, options, resources):
                # (async built-ins)
                at = f", {site(info, options, resources)}" if options or resources else ""
                g.emit(f"{v(slot)} = {c(_builtin)}(store, {v(state)}, {c(kind)}, {c(info)}, "
                       f"{v(resource)}{at})")
            case F.FStart(func, args, result):
                call = f"{c(_start)}(store, {v(func)}, ({''.join(v(a) + ', ' for a in args)}))"
                g.emit(f"{v(result)} = {call}" if result is not None else call)
            case F.FType(slot, static, resources):
                rts = ", ".join(f"{c(rt)}: {v(s)}" for rt, s in resources)
                g.emit(f"{v(slot)} = {c(_concrete_type)}({c(static)}, {{{rts}}})")
            case F.FUnsupported(what):
                g.emit(f"{c(_unsupported)}({what!r})")
            case F.FName(slot, name):
                with g.block(f"if not {v(slot)}.name:"):
                    g.emit(f"{v(slot)}.name = {name!r}")
            case F.FInstance(slot, exports):
                items = ", ".join(f"{n!r}: {v(s)}" for n, s in exports)
                g.emit(f"{v(slot)} = {c(RInstance)}({{{items}}})")
            case F.FInstantiateImported(slot, component, args):
                argv = ", ".join(f"{n!r}: {v(a)}" for n, a in args)
                g.emit(f"{v(slot)} = {c(_instantiate_imported)}(store, {v(component)}, "
                       f"{{{argv}}})")
            case F.FValue(slot, value, ty):
                g.emit(f"{v(slot)} = {c(RValue)}({c(value)}, {c(ty)})")
            case F.FConst(slot, value):
                g.emit(f"{v(slot)} = {c(value)}")
            case F.FModule(slot, offset):
                g.emit(f"{v(slot)} = modules[{offset}]")
    root_exports = "{" + ", ".join(f"{n!r}: {v(s)}" for n, s in flat.exports) + "}"
    # (the states are made as they are needed: the root's too)
    funcs = "".join(f"{v(s.slot)}, " for s in flat.steps
                    if isinstance(s, (F.FLift, F.FDeferredLift)))
    g.emit("w.done()")
    g.emit(f"return {c(RootInstance)}(states, {root_exports}, ({funcs}))")
    prologue = [f"{c(_fiber_store)}(store)"] if needs_fibers(flat) else []
    prologue += ["cstore = store._core",
                f"states = [None] * {len(flat.parents)}", f"owner = {c(weakref.ref)}(store)",
                f"w = {c(core.Wiring)}(cstore, {c(wiring)})"]
    g.label = "instantiate " + (", ".join(n for n, _ in flat.exports) or "(no exports)")
    fn: Program = g.finish("run", "store, modules, args", prologue)
    return fn


def _direct_lowers(flat: F.FlatPlan) -> dict[int, int]:
    """The sync lowers and ``resource.*`` built-ins (their slots) that only the plan's core
    instantiations import, each to
    the entry of the wiring's imports array it is first imported at (entries numbered as
    ``core.WiringPlan.add`` numbers them: every core instance's imports in plan order).

    Any other mention of a slot (anything any other step holds, an export of the root) keeps
    it a value: the test is conservative, a number that only looks like the slot counts too."""
    first: dict[int, int] = {}
    mentioned: set[int] = {s for _, s in flat.exports}
    lowers: set[int] = set()
    entry = 0

    def mention(x: object) -> None:
        if isinstance(x, bool):
            return
        if isinstance(x, int):
            mentioned.add(x)
        elif isinstance(x, F.Slot):
            mentioned.add(x.n)
        elif isinstance(x, F.CoreExportRef):
            mentioned.add(x.instance)
        elif isinstance(x, tuple):
            for y in x:
                mention(y)

    for step in flat.steps:
        if isinstance(step, F.FCoreInstantiate):
            for imp in step.imports:
                if isinstance(imp, F.Slot):
                    first.setdefault(imp.n, entry)
                else:
                    mention(imp)
                entry += 1
            mention((step.slot, step.state))
            continue
        if isinstance(step, F.FLower) and not step.info.is_async:
            lowers.add(step.slot)
            fields = [step.target, step.state, step.options, step.resources]
        elif (isinstance(step, F.FBuiltin) and step.kind in RESOURCE_BUILTINS
              and step.resource is not None and not step.options):
            lowers.add(step.slot)
            fields = [step.state, step.resource, step.resources]
        else:
            fields = [getattr(step, f) for f in step.__slots__]
        for x in fields:
            mention(x)
    return {n: e for n, e in first.items() if n in lowers and n not in mentioned}


def _settle_deferred(owner: Any, states: list[ComponentInstanceState | None],
                     parents: tuple[int | None, ...], inst: int, wiring: core.Wiring, k: int,
                     module: core.CoreModule, export: str
                     ) -> tuple[ComponentInstanceState, core.LazyExport]:
    """A deferred lift's instance state (made now if nothing made it yet, with its parents)
    and core function (``F.FDeferredLift``): an export of core instance ``k`` of ``wiring``."""
    core_instance = wiring.instance(k, module)
    return _flat_state(owner, states, parents, inst), core.LazyExport(core_instance, export)


def _flat_state(owner: Any, states: list[ComponentInstanceState | None],
                parents: tuple[int | None, ...], inst: int) -> ComponentInstanceState:
    """The state of component instance ``inst`` (made now, with its parents', if it is not
    yet); ``owner``: the store, weakly (deferred lifts keep it: no cycle through them)."""
    state = states[inst]
    if state is None:
        parent = parents[inst]
        above = None if parent is None else _flat_state(owner, states, parents, parent)
        state = states[inst] = ComponentInstanceState(above, owner()._host_handles)
    return state


