"""Root component -> one flat instantiation plan, nested components inlined.

Like wasmtime's inliner (``environ/component/translate/inline.rs``), this follows every
definition of a root component and of the components it instantiates (statically known, as
nested definitions) through symbolic index spaces, so that instantiating the root needs only
the steps that make runtime objects: core instantiations wired straight to each other's
exports, the lifted functions and lowering trampolines that something can reach, and the
``ComponentInstanceState`` of a component instance where something observes it. Component
instances, aliases, types and the index spaces themselves exist only here, at translation.
A lift without canon options is deferred (``FDeferredLift``): its instance's state and its
core function are found at its first call, so an instantiation makes neither.

A lower of another component's lift whose checks are all known to pass and whose values pass
through unchanged (``Lower.direct``, see ``enters_only_closed``) becomes the callee's core
function itself: the caller's core code calls the callee's directly, as wasmtime's fused
adapters would, with nothing in between.

Resource types are followed symbolically too: each component instance's scope maps every
abstract resource type of its static types to the reference that supplies the concrete one (a
resource definition, made fresh per instance at run time by ``FResource``; an import; an export
of an instance), so a lift, lower, built-in or type naming resources carries exactly the
concrete types it needs. Built-ins become ``FBuiltin`` steps naming their
:class:`~wasm_component._translate.trampolines.Trampoline`; start functions ``FStart``; core
modules known only at run time (imported by the root) ``FCoreInstantiateDynamic``.

This is the only instantiation engine. A component the root imports is instantiated at run
time by its own plan (``FInstantiateImported``); what it cannot run (a component exported by
the root) raises ``NotSupported`` naming it when the root is instantiated.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TypeVar

from .. import types as t
from .._abi.func import FuncAbi
from .._binary import ast
from .._validate import ValidatedComponent
from .._validate.model import CanonInfo, ResourceInfo
from .._validate.typecheck import resources_in
from .._validate.values import decode_value
from ..errors import NotSupported
from . import plan as P
from .trampolines import Trampoline

__all__ = ["FlatPlan", "bind_paths", "core_call_stands_for", "enters_only_closed", "inline"]


# -- references: what an index-space entry is, symbolically ---------------------------------


@dataclass(frozen=True, slots=True)
class Slot:
    """A runtime value made by a flat step (a local of the compiled program)."""

    n: int


@dataclass(frozen=True, slots=True)
class Const:
    value: object


@dataclass(frozen=True, slots=True)
class ModuleRef:
    offset: int  # the core module's section offset (its key in the component's modules)


@dataclass(frozen=True, slots=True)
class CoreExportRef:
    instance: int  # the Slot of a core instance
    name: str


@dataclass(frozen=True, slots=True)
class CoreItems:
    """An inline core instance (a bag of core items)."""

    items: dict[str, Ref]


@dataclass(slots=True, eq=False)
class LiftRef:
    """A ``canon lift``, made into a runtime function only where something needs one."""

    info: CanonInfo
    func: Ref
    abi: FuncAbi
    inst: int
    options: tuple[tuple[int, int, Ref], ...]  # (sort, index, ref) of its canon options
    resources: tuple[tuple[t.ResourceType, Ref], ...] = ()  # abstract -> its concrete type
    name: str = ""
    slot: int | None = None


@dataclass(frozen=True, slots=True, eq=False)
class ExportOf:
    """Export ``name`` of an instance known only at run time (an import of the root, or an
    export of one): looked up (``FAlias``) only where something needs it."""

    source: Ref
    name: str


@dataclass(frozen=True, slots=True, eq=False)
class TypeRef:
    """A type definition naming resources: made concrete (``FType``) only where it leaves as a
    runtime value (most are only ever looked at by the validator)."""

    static: object
    resources: tuple[tuple[t.ResourceType, Ref], ...]


@dataclass(slots=True, eq=False)
class InstanceRef:
    exports: dict[str, Ref] = field(default_factory=dict)
    slot: int | None = None


@dataclass(frozen=True, slots=True, eq=False)
class ComponentRef:
    validated: ValidatedComponent
    scope: _Scope


Ref = (Slot | Const | ModuleRef | CoreExportRef | CoreItems | LiftRef | InstanceRef | ComponentRef
       | ExportOf | TypeRef)
Resources = tuple[tuple[t.ResourceType, int], ...]  # (abstract type, slot of its concrete one)


# -- flat steps ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FImport:
    slot: int
    name: str


@dataclass(frozen=True, slots=True)
class FAlias:
    """``slot = <instance at source>.exports[name]`` for an instance known only at run time."""

    slot: int
    source: int
    name: str


@dataclass(frozen=True, slots=True)
class FState:
    slot: int
    parent: int | None
    inst: int  # the component instance (``FlatPlan.parents`` numbering)


@dataclass(frozen=True, slots=True)
class FCoreInstantiate:
    slot: int
    module: int  # offset
    #: each import: an export of a core instance made earlier (``CoreExportRef``), or a Slot
    imports: tuple[CoreExportRef | Slot, ...]
    state: int | None  # the state that must not be entered while start functions run
    runs_code: bool = True  # whether the module has a start function


@dataclass(frozen=True, slots=True)
class FCoreInstantiateDynamic:
    """Instantiate a core module known only at run time (``module``: its slot, an ``RModule``),
    its imports looked up by name in ``args``: (name, the slot of a core instance made earlier,
    or a bag of core items)."""

    slot: int
    module: int
    args: tuple[tuple[str, int | tuple[tuple[str, int], ...]], ...]
    state: int | None


@dataclass(frozen=True, slots=True)
class FInstantiateImported:
    """Instantiate a component known only at run time (``component``: its slot, an
    ``RComponent`` the root imported) as a root of its own in the same store, with ``args``
    (import name, the slot of the item): its exports an instance in ``slot``."""

    slot: int
    component: int
    args: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class FResource:
    """A resource type defined by instance ``state`` (a fresh concrete type per instance)."""

    slot: int
    info: ResourceInfo
    state: int
    dtor: int | None  # the destructor's core function


@dataclass(frozen=True, slots=True)
class FBuiltin:
    slot: int
    kind: Trampoline
    info: CanonInfo
    state: int
    resource: int | None  # the concrete type of a ``resource.*`` built-in
    options: tuple[tuple[int, int, int], ...] = ()  # (sort, index, slot): memory, realloc, table
    resources: Resources = ()  # the concrete types of a ``stream.*``/``future.*`` payload's


@dataclass(frozen=True, slots=True)
class FStart:
    """A component start function: called with ``args`` (value slots), its result into
    ``result`` (a value slot) when it has one."""

    func: int
    args: tuple[int, ...]
    result: int | None


@dataclass(frozen=True, slots=True)
class FType:
    slot: int
    static: object
    resources: Resources


@dataclass(frozen=True, slots=True)
class FUnsupported:
    """Something the runtime cannot make: instantiating raises ``NotSupported`` naming it."""

    what: str


@dataclass(frozen=True, slots=True)
class FLazyExport:
    slot: int
    instance: int
    name: str


@dataclass(frozen=True, slots=True)
class FLift:
    slot: int
    info: CanonInfo
    func: int
    abi: FuncAbi
    state: int
    options: tuple[tuple[int, int, int], ...]  # (sort, index, slot)
    resources: Resources
    name: str


@dataclass(frozen=True, slots=True)
class FDeferredLift:
    """A lift without canon options of an export of a core instance: its instance's state and
    its core function are found at its first use (``LiftedFunc.create``'s ``pending``)."""

    slot: int
    info: CanonInfo
    abi: FuncAbi
    inst: int
    instance: int  # the core instance's slot
    export: str
    name: str


@dataclass(frozen=True, slots=True)
class FLower:
    slot: int
    info: CanonInfo
    target: int
    abi: FuncAbi
    state: int
    options: tuple[tuple[int, int, int], ...]
    resources: Resources


@dataclass(frozen=True, slots=True)
class FName:
    """Name a function that was made before it was first exported."""

    slot: int
    name: str


@dataclass(frozen=True, slots=True)
class FInstance:
    slot: int
    exports: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class FValue:
    """``slot`` = the 🪙 value a value definition wrote (decoded here: its Python form) of
    type ``ty``."""

    slot: int
    value: object
    ty: t.Type


@dataclass(frozen=True, slots=True)
class FConst:
    slot: int
    value: object


@dataclass(frozen=True, slots=True)
class FModule:
    slot: int
    offset: int


FStep = (FImport | FAlias | FState | FCoreInstantiate | FCoreInstantiateDynamic | FResource
         | FInstantiateImported | FBuiltin | FStart | FType | FUnsupported | FLazyExport | FLift | FDeferredLift | FLower
         | FName | FInstance | FValue | FConst | FModule)


@dataclass(frozen=True, slots=True)
class FlatPlan:
    steps: tuple[FStep, ...]
    exports: tuple[tuple[str, int], ...]  # the root's exports: (name, slot)
    nslots: int
    parents: tuple[int | None, ...]  # each component instance's parent instance


# -- the inliner ---------------------------------------------------------------------------


class _Scope:
    """The symbolic index spaces of one component instance (or, as a ``ComponentRef``'s
    scope, of the component that defines a nested component, for its outer aliases)."""

    __slots__ = ("args", "exports", "inst", "outer", "rt", "spaces")

    def __init__(self, inst: int, outer: _Scope | None, args: dict[str, Ref] | None) -> None:
        self.inst = inst
        self.outer = outer
        self.args = args  # None: the root (imports come from the host at run time)
        self.spaces: list[list[Ref]] = [[] for _ in P.SORTS]
        self.exports: dict[str, Ref] = {}
        #: each abstract resource type of this scope's static types -> what supplies its
        #: concrete type (outer scopes, for outer aliases, are asked after this one)
        self.rt: dict[t.ResourceType, Ref] = {}

    def lookup(self, rt: t.ResourceType) -> Ref | None:
        scope: _Scope | None = self
        while scope is not None:
            ref = scope.rt.get(rt)
            if ref is not None:
                return ref
            scope = scope.outer
        return None

    def resources(self, static: object) -> tuple[tuple[t.ResourceType, Ref], ...]:
        """What supplies the concrete type of each resource ``static`` names (a resource
        with no supplier is already concrete: a host type, say)."""
        if static is None:
            return ()
        out = []
        for rt in sorted(resources_in(static), key=_rt_key):
            ref = self.lookup(rt)
            if ref is not None:
                out.append((rt, ref))
        return tuple(out)

    def bind(self, static: object, ref: Ref) -> None:
        """Learn, from ``ref`` (an item of type ``static``), what supplies each abstract
        resource type ``static`` holds (along its :func:`bind_paths`)."""
        for path, rt in bind_paths(static):
            r: Ref | None = ref
            for name in path:
                if isinstance(r, InstanceRef):
                    r = r.exports.get(name)
                elif r is not None:
                    r = ExportOf(r, name)
            if r is not None:
                self.rt.setdefault(rt, r)


class _Inliner:
    def __init__(self) -> None:
        self.steps: list[FStep] = []
        self.nslots = 0
        self.parent: list[int | None] = []  # component instance -> its parent instance
        self.closed: list[bool] = []
        self.calls_out: list[bool] = []
        self.states: list[int | None] = []  # component instance -> its state's slot, if made
        self.lazy: dict[tuple[int, str], int] = {}
        self.aliases: dict[tuple[int, str], int] = {}
        self.imports: dict[str, int] = {}
        self.module_imports: dict[int, tuple[tuple[str, str], ...]] = {}  # by offset
        self.module_starts: dict[int, bool] = {}  # by offset: whether it has a start function
        #: core instances made from modules known only at run time (their slots)
        self.dynamic: set[int] = set()

    def slot(self) -> int:
        self.nslots += 1
        return self.nslots - 1

    def new_instance(self, parent: int | None) -> int:
        self.parent.append(parent)
        self.closed.append(False)
        self.calls_out.append(False)
        self.states.append(None)
        return len(self.parent) - 1

    def state(self, inst: int) -> int:
        s = self.states[inst]
        if s is None:
            parent = self.parent[inst]
            ps = self.state(parent) if parent is not None else None
            s = self.states[inst] = self.slot()
            self.steps.append(FState(s, ps, inst))
        return s

    # -- making refs into runtime values

    def value(self, ref: Ref) -> int:
        """The slot holding ``ref``'s runtime value (steps added the first time)."""
        match ref:
            case Slot(n):
                return n
            case Const(value):
                s = self.slot()
                self.steps.append(FConst(s, value))
                return s
            case ModuleRef(offset):
                s = self.slot()
                self.steps.append(FModule(s, offset))
                return s
            case CoreExportRef(instance, name):
                key = (instance, name)
                s2 = self.lazy.get(key)
                if s2 is None:
                    s2 = self.lazy[key] = self.slot()
                    self.steps.append(FLazyExport(s2, instance, name))
                return s2
            case ExportOf(source, name):
                key = (self.value(source), name)
                s2 = self.aliases.get(key)
                if s2 is None:
                    s2 = self.aliases[key] = self.slot()
                    self.steps.append(FAlias(s2, key[0], name))
                return s2
            case TypeRef(static, resources):
                s = self.slot()
                self.steps.append(FType(s, static, self.concrete(resources)))
                return s
            case LiftRef():
                if (ref.slot is None and not ref.options and not ref.resources
                        and isinstance(ref.func, CoreExportRef)
                        and ref.func.instance not in self.dynamic):
                    ref.slot = self.slot()
                    self.steps.append(FDeferredLift(ref.slot, ref.info, ref.abi, ref.inst,
                                                    ref.func.instance, ref.func.name, ref.name))
                if ref.slot is None:
                    func = self.value(ref.func)
                    options = tuple((sort, idx, self.value(r)) for sort, idx, r in ref.options)
                    rts = self.concrete(ref.resources)
                    state = self.state(ref.inst)
                    ref.slot = self.slot()
                    self.steps.append(FLift(ref.slot, ref.info, func, ref.abi, state, options,
                                            rts, ref.name))
                return ref.slot
            case InstanceRef():
                if ref.slot is None:
                    exports = tuple((n, self.value(r)) for n, r in ref.exports.items())
                    ref.slot = self.slot()
                    self.steps.append(FInstance(ref.slot, exports))
                return ref.slot
        # (a component as a runtime value: only a root's import or export can need one, which
        # embedder restrictions rule out)
        raise NotSupported(f"a component as a runtime item ({type(ref).__name__})")

    def concrete(self, resources: tuple[tuple[t.ResourceType, Ref], ...]) -> Resources:
        return tuple((rt, self.value(r)) for rt, r in resources)

    # -- reentrance, statically (``enters_only_closed``)

    def enters_closed(self, caller: int, callee: int) -> bool:
        return enters_only_closed(caller, callee, self.parent.__getitem__,
                                  self.closed.__getitem__)

    # -- following one component's plan

    def component(self, vc: ValidatedComponent, scope: _Scope) -> None:
        sp = scope.spaces
        k = scope.inst
        for d in vc.component.definitions:
            if isinstance(d, ast.CoreModule):
                self.module_imports[d.offset] = tuple((m.module, m.name) for m in d.info.imports)
                self.module_starts[d.offset] = d.info.has_start
        plan = P.plan_for(vc)
        if plan.may_throw:
            self.calls_out[k] = True  # (never closed: see ``enters_only_closed``)
        for step in plan.steps:
            ref: Ref
            sort: int
            match step:
                case P.Module(offset):
                    ref, sort = ModuleRef(offset), P.CORE_MODULE
                case P.CoreInstantiate(module, cargs):
                    ref, sort = Slot(self.core_instantiate(k, sp, module, cargs)), P.CORE_INSTANCE
                case P.CoreInline(exports):
                    ref = CoreItems({n: sp[so][idx] for n, so, idx in exports})
                    sort = P.CORE_INSTANCE
                case P.CoreType(ty):
                    ref, sort = Const(ty), P.CORE_TYPE
                case P.Nested(validated):
                    ref, sort = ComponentRef(validated, scope), P.COMPONENT
                case P.Instantiate(component, args, static):
                    cref = sp[P.COMPONENT][component]
                    if not isinstance(cref, ComponentRef):
                        # (imported by the root: made at run time, a root of its own)
                        cslot = self.value(cref)
                        items = tuple((n, self.value(sp[so][idx])) for n, so, idx in args)
                        s = self.slot()
                        self.steps.append(FInstantiateImported(s, cslot, items))
                        self.calls_out[k] = True
                        ref, sort = Slot(s), P.INSTANCE
                    else:
                        child = _Scope(self.new_instance(k), cref.scope,
                                       {n: sp[so][idx] for n, so, idx in args})
                        self.component(cref.validated, child)
                        if not self.closed[child.inst]:
                            self.calls_out[k] = True
                        ref, sort = InstanceRef(child.exports), P.INSTANCE
                    scope.bind(static, ref)
                case P.InlineInstance(exports):
                    ref = InstanceRef({n: sp[so][idx] for n, so, idx in exports})
                    sort = P.INSTANCE
                case P.AliasExport(sort, instance, name, True, _):
                    src = sp[P.CORE_INSTANCE][instance]
                    if isinstance(src, CoreItems):
                        ref = src.items[name]
                    else:
                        assert isinstance(src, Slot), "core instances are made or inline"
                        ref = CoreExportRef(src.n, name)
                case P.AliasExport(sort, instance, name, False, static):
                    isrc = sp[P.INSTANCE][instance]
                    found = isrc.exports.get(name) if isinstance(isrc, InstanceRef) else None
                    ref = found if found is not None else ExportOf(isrc, name)
                    scope.bind(static, ref)
                case P.AliasOuter(sort, count, idx):
                    target: _Scope | None = scope
                    for _ in range(count):
                        assert target is not None, "validation bounds outer aliases"
                        target = target.outer
                    assert target is not None, "validation bounds outer aliases"
                    ref = target.spaces[sort][idx]
                case P.Type(static, has_resources):
                    resources = scope.resources(static) if has_resources else ()
                    ref = TypeRef(static, resources) if resources else Const(static)
                    sort = P.TYPE
                case P.Resource(info):
                    dtor = (None if info.dtor is None
                            else self.value(self.core_item(sp[P.CORE_FUNC][info.dtor])))
                    s = self.slot()
                    self.steps.append(FResource(s, info, self.state(k), dtor))
                    ref, sort = Slot(s), P.TYPE
                    scope.rt[info.type] = ref
                case P.Lift(info, func, has_resources, abi):
                    resources = scope.resources(info.func_type) if has_resources else ()
                    ref = LiftRef(info, sp[P.CORE_FUNC][func], abi, k, _options(info, sp),
                                  resources)
                    sort = P.FUNC
                case P.Lower(info, func, has_resources, abi, direct):
                    resources = scope.resources(info.func_type) if has_resources else ()
                    ref = self.lower(k, sp, info, sp[P.FUNC][func], abi, direct, resources)
                    sort = P.CORE_FUNC
                case P.Builtin(canon, info):
                    kind = Trampoline(canon.kind)
                    if not kind.local:
                        self.calls_out[k] = True
                    rt = None
                    if info.resource is not None:
                        rref = scope.lookup(info.resource)
                        rt = self.value(rref if rref is not None else Const(info.resource))
                    options = tuple((so, idx, self.value(r)) for so, idx, r in _options(info, sp))
                    payload_rts = self.concrete(scope.resources(info.payload))
                    s = self.slot()
                    self.steps.append(FBuiltin(s, kind, info, self.state(k), rt, options,
                                               payload_rts))
                    ref, sort = Slot(s), P.CORE_FUNC
                case P.Start(func, args, results):
                    fn = self.value(sp[P.FUNC][func])
                    argv = tuple(self.value(sp[P.VALUE][a]) for a in args)
                    result = self.slot() if results else None
                    self.steps.append(FStart(fn, argv, result))
                    if result is not None:
                        sp[P.VALUE].append(Slot(result))
                    continue
                case P.Value(definition, static):
                    assert isinstance(static, t.Type), "a value's static type is a value type"
                    s = self.slot()
                    self.steps.append(FValue(s, decode_value(static, definition.data,
                                                             definition.offset), static))
                    ref, sort = Slot(s), P.VALUE
                case P.Import(name, sort, static):
                    if scope.args is None:
                        known = self.imports.get(name)
                        if known is None:
                            known = self.imports[name] = self.slot()
                            self.steps.append(FImport(known, name))
                        ref = Slot(known)
                    else:
                        assert name in scope.args, "validation supplies every import"
                        ref = scope.args[name]
                    scope.bind(static, ref)
                case P.Export(name, sort, idx):
                    ref = sp[sort][idx]
                    scope.exports[name] = ref
                    if isinstance(ref, LiftRef) and not ref.name:
                        ref.name = name
                        if ref.slot is not None:
                            self.steps.append(FName(ref.slot, name))
                case _:  # pragma: no cover - every step kind is listed above
                    raise AssertionError(type(step).__name__)
            sp[sort].append(ref)
        self.closed[k] = not self.calls_out[k]

    def core_instantiate(self, k: int, sp: list[list[Ref]], module: int,
                         cargs: tuple[tuple[str, int], ...]) -> int:
        """A core instantiation: wired straight to the exports it imports where the module
        is known here, else looked up by name at run time."""
        mref = sp[P.CORE_MODULE][module]
        named = dict(cargs)
        s = self.slot()
        if not isinstance(mref, ModuleRef):
            args: list[tuple[str, int | tuple[tuple[str, int], ...]]] = []
            for name, idx in cargs:
                src = sp[P.CORE_INSTANCE][idx]
                if isinstance(src, CoreItems):
                    args.append((name, tuple((n, self.value(r)) for n, r in src.items.items())))
                else:
                    assert isinstance(src, Slot), "core instances are made or inline"
                    args.append((name, src.n))
            module_slot = self.value(mref)
            self.dynamic.add(s)
            self.steps.append(FCoreInstantiateDynamic(s, module_slot, tuple(args),
                                                      self.states[k]))
            return s
        imports: list[CoreExportRef | Slot] = []
        for mod, name in self.module_imports[mref.offset]:
            src = sp[P.CORE_INSTANCE][named[mod]]
            if isinstance(src, CoreItems):
                imports.append(self.core_item(src.items[name]))
            else:
                assert isinstance(src, Slot), "core instances are made or inline"
                imports.append(CoreExportRef(src.n, name))
        self.steps.append(FCoreInstantiate(s, mref.offset, tuple(imports), self.states[k],
                                           self.module_starts[mref.offset]))
        return s

    def core_item(self, ref: Ref) -> CoreExportRef | Slot:
        if isinstance(ref, CoreExportRef):
            return ref
        return Slot(self.value(ref))

    def lower(self, k: int, sp: list[list[Ref]], info: CanonInfo, target: Ref, abi: FuncAbi,
              direct: bool, resources: tuple[tuple[t.ResourceType, Ref], ...]) -> Ref:
        if isinstance(target, LiftRef) and self.enters_closed(k, target.inst):
            if direct and core_call_stands_for(abi, target.info, target.abi):
                return target.func  # the callee's core function (see the module docstring)
        else:
            self.calls_out[k] = True
        fn = self.value(target)
        options = tuple((so, idx, self.value(r)) for so, idx, r in _options(info, sp))
        s = self.slot()
        self.steps.append(FLower(s, info, fn, abi, self.state(k), options,
                                 self.concrete(resources)))
        return Slot(s)


Node = TypeVar("Node", bound=Hashable)


def enters_only_closed(caller: Node, callee: Node, parent: Callable[[Node], Node | None],
                       closed: Callable[[Node], bool]) -> bool:
    """Whether a call from component instance ``caller`` into ``callee`` (of one tree) enters
    (the spec's ``entering_set``: ``callee`` and its ancestors that are not ``caller``'s or
    ``caller``) only closed instances, and at least one.

    A closed instance calls nothing but closed instances made before it, so it is never on
    the stack while other code runs: entering it can never find it entered (the spec's
    ``may_enter_from`` holds), and it needs no flag set for anyone else to see. Its core code
    throws no wasm exception (``P.Plan.may_throw``), so none can unwind into the caller's core
    code, which the component boundary must stop (it becomes a trap). A trap inside
    it unwinds through the tree's root, which poisons the tree
    (``ComponentInstanceState.poison``): its own lockdown state needs no setting either.
    Calls into ``caller`` itself or its ancestors keep the trampoline and the checks it
    makes."""
    above = set()
    i: Node | None = caller
    while i is not None:
        above.add(i)
        i = parent(i)
    if callee in above:
        return False
    j: Node | None = callee
    while j not in above:
        assert j is not None, "one tree: the callee's ancestors reach the root"
        if not closed(j):
            return False
        j = parent(j)
    return True


def core_call_stands_for(lower: FuncAbi, lift: CanonInfo, lift_abi: FuncAbi) -> bool:
    """Whether the core function of a lift can stand for a lower of it (the lower being
    ``P.Lower.direct``): a sync lift without ``post-return``, of a type that passes through,
    with the same core signature."""
    return (not lift.is_async and lift.post_return is None and lift_abi.passthrough
            and lift_abi.lift_sig.params == lower.lower_sig.params
            and lift_abi.lift_sig.results == lower.lower_sig.results)


def _options(info: CanonInfo, sp: list[list[Ref]]) -> tuple[tuple[int, int, Ref], ...]:
    out: list[tuple[int, int, Ref]] = []
    if info.memory is not None:
        out.append((P.CORE_MEMORY, info.memory, sp[P.CORE_MEMORY][info.memory]))
    for idx in (info.realloc, info.post_return, info.callback):
        if idx is not None:
            out.append((P.CORE_FUNC, idx, sp[P.CORE_FUNC][idx]))
    if info.table is not None:
        out.append((P.CORE_TABLE, info.table, sp[P.CORE_TABLE][info.table]))
    return tuple(out)


def _rt_key(rt: t.ResourceType) -> tuple[str, str]:
    return (rt.kind, str(rt.key))


BindPaths = tuple[tuple[tuple[str, ...], t.ResourceType], ...]


def bind_paths(static: object, path: tuple[str, ...] = ()) -> BindPaths:
    """Where an item of type ``static`` holds resource types: each abstract resource with its
    path of export names."""
    if isinstance(static, t.TypeBound):
        static = static.eq
    if isinstance(static, t.ResourceType):
        return ((path, static),)
    if isinstance(static, t.InstanceType):
        return tuple(p for name, st in static.exports for p in bind_paths(st, (*path, name)))
    return ()


def inline(vc: ValidatedComponent) -> FlatPlan:
    """``vc`` (a root component) as one flat plan (made once, kept with the component)."""
    flat: FlatPlan | None = vc.derived.get("flat")
    if flat is None:
        inl = _Inliner()
        root = inl.new_instance(None)
        scope = _Scope(root, None, None)
        inl.component(vc, scope)
        exports = []
        for name, ref in scope.exports.items():
            if isinstance(ref, ComponentRef):
                inl.steps.append(FUnsupported("a component exported by the root"))
                continue
            exports.append((name, inl.value(ref)))
        flat = FlatPlan(tuple(inl.steps), tuple(exports), inl.nslots, tuple(inl.parent))
        vc.derived["flat"] = flat
    return flat
