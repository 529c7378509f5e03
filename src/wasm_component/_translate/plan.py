"""Validated component -> instantiation plan: a flat tuple of steps, computed once per component.

Like wasmtime's ``environ/component`` (translation to a list of initializers before
``runtime/component`` executes it), this layer decides everything that does not depend on a
store: which index space each definition feeds, the static type the runtime binds imports and
aliases against, the core module import order, the canonical options. The runtime then only
executes steps; instantiating a component twice re-runs the plan, never re-analyses it.

Index spaces are numbered (:data:`SORTS`) so steps carry small ints, not names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._abi.func import FuncAbi, func_abi
from .._binary import ast
from .._validate import ValidatedComponent
from .._validate.model import CanonInfo, ResourceInfo

__all__ = ["SORTS", "Plan", "plan_for"]

SORTS = (
    "func", "value", "type", "instance", "component", "core func", "core table",
    "core memory", "core global", "core tag", "core type", "core module", "core instance",
)
SORT_ID = {name: i for i, name in enumerate(SORTS)}
FUNC, VALUE, TYPE, INSTANCE, COMPONENT = 0, 1, 2, 3, 4
CORE_FUNC, CORE_MEMORY, CORE_TYPE, CORE_MODULE, CORE_INSTANCE = 5, 7, 10, 11, 12


@dataclass(frozen=True, slots=True)
class Module:
    """Append a compiled core module (keyed by the offset of its section)."""

    offset: int


@dataclass(frozen=True, slots=True)
class CoreInstantiate:
    module: int
    args: tuple[tuple[str, int], ...]
    #: Where each import comes from, in import order, when the module is defined here (else
    #: None): an export of a core instance created here (:class:`ExportWire`), or an item of
    #: a core index space (:class:`ItemWire`) such as a lowered function.
    wiring: tuple[ExportWire | ItemWire, ...] | None = None


@dataclass(frozen=True, slots=True)
class ExportWire:
    instance: int  # a core instance made by a CoreInstantiate
    name: str


@dataclass(frozen=True, slots=True)
class ItemWire:
    sort: int
    idx: int


@dataclass(frozen=True, slots=True)
class CoreInline:
    exports: tuple[tuple[str, int, int], ...]  # (name, sort id, index)


@dataclass(frozen=True, slots=True)
class CoreType:
    type: object


@dataclass(frozen=True, slots=True)
class Nested:
    validated: ValidatedComponent


@dataclass(frozen=True, slots=True)
class Instantiate:
    component: int
    args: tuple[tuple[str, int, int], ...]
    static: object  # the instance's type, to bind the resources it exports


@dataclass(frozen=True, slots=True)
class InlineInstance:
    exports: tuple[tuple[str, int, int], ...]


@dataclass(frozen=True, slots=True)
class AliasExport:
    sort: int
    instance: int
    name: str
    core: bool
    static: object | None  # for type aliases: the static type to bind


@dataclass(frozen=True, slots=True)
class AliasOuter:
    sort: int
    count: int
    idx: int


@dataclass(frozen=True, slots=True)
class Resource:
    info: ResourceInfo


@dataclass(frozen=True, slots=True)
class Type:
    static: object
    has_resources: bool  # only then does each instance need its own concrete copy


@dataclass(frozen=True, slots=True)
class Lift:
    info: CanonInfo
    func: int
    has_resources: bool  # its resource types are made concrete per instance (at run time)
    abi: FuncAbi  # for the static type: resources are mapped to concrete ones at run time


@dataclass(frozen=True, slots=True)
class Lower:
    info: CanonInfo
    func: int
    has_resources: bool
    abi: FuncAbi
    #: Whether, when the function turns out to be another component's lift, the caller's core
    #: code may call the callee's core function directly (no trampoline): the type passes
    #: through unchanged (``FuncAbi.passthrough``), the call is sync, and this component never
    #: clears its ``may_leave`` (no canon of it has ``realloc`` or ``post-return``), so the
    #: trampoline's ``may_leave`` check could never fail. The runtime adds the callee's side.
    direct: bool = False


@dataclass(frozen=True, slots=True)
class Builtin:
    canon: ast.Canon
    info: CanonInfo


@dataclass(frozen=True, slots=True)
class Start:
    func: int
    args: tuple[int, ...]
    results: int


@dataclass(frozen=True, slots=True)
class Import:
    name: str
    sort: int
    static: object


@dataclass(frozen=True, slots=True)
class Export:
    name: str
    sort: int
    idx: int


@dataclass(frozen=True, slots=True)
class Value:
    definition: ast.ValueDef
    static: object


Step = (
    Module | CoreInstantiate | CoreInline | CoreType | Nested | Instantiate | InlineInstance
    | AliasExport | AliasOuter | Resource | Type | Lift | Lower | Builtin | Start | Import
    | Export | Value
)


@dataclass(frozen=True, slots=True)
class Plan:
    steps: tuple[Step, ...]
    #: Whether core code of the component may throw a wasm exception (a module of it has or
    #: imports a tag, or it instantiates a module defined elsewhere): an exception must not
    #: cross a component boundary, so such an instance is never called directly.
    may_throw: bool = True


def plan_for(vc: ValidatedComponent) -> Plan:
    """The plan of ``vc`` (made once, kept with it)."""
    plan: Plan | None = vc.derived.get("plan")
    if plan is None:
        steps = tuple(_translate(vc))
        plan = vc.derived["plan"] = Plan(steps, _may_throw(vc, steps))
    return plan


def _has_resources(x: object) -> bool:
    from .._validate.typecheck import resources_in

    return x is not None and bool(resources_in(x))


def _abi(info: CanonInfo) -> FuncAbi:
    """The function's ABI adapters (cached by ``func_abi``), decided at translation time."""
    assert info.func_type is not None, "lift and lower have a function type"
    enc: Any = info.string_encoding
    return func_abi(info.func_type, enc, "i64" if info.memory64 else "i32")


def _sort(s: ast.Sort) -> int:
    return SORT_ID[str(s)]


class _Wiring:
    """Follows core modules, core instances and aliases of core exports through a component's
    definitions, to tell where each import of a core instantiation comes from."""

    def __init__(self) -> None:
        self.module_imports: dict[int, tuple[tuple[str, str], ...]] = {}
        # core instance index -> None (instantiated here) or its inline exports
        self.instances: dict[int, dict[str, tuple[int, int]] | None] = {}
        self.origins: dict[tuple[int, int], ExportWire] = {}  # (sort, idx) -> aliased export

    def item(self, sort: int, idx: int) -> ExportWire | ItemWire:
        return self.origins.get((sort, idx)) or ItemWire(sort, idx)

    def export(self, instance: int, name: str) -> ExportWire | ItemWire | None:
        if instance not in self.instances:
            return None
        inline = self.instances[instance]
        if inline is None:
            return ExportWire(instance, name)
        entry = inline.get(name)
        return None if entry is None else self.item(*entry)

    def of(self, module: int, args: tuple[tuple[str, int], ...]
           ) -> tuple[ExportWire | ItemWire, ...] | None:
        imports = self.module_imports.get(module)
        if imports is None:
            return None
        named = dict(args)
        wires = []
        for mod, name in imports:
            w = self.export(named[mod], name) if mod in named else None
            if w is None:
                return None  # (validation rules this out; the runtime then looks it up)
            wires.append(w)
        return tuple(wires)


def _may_throw(vc: ValidatedComponent, steps: tuple[Step, ...]) -> bool:
    for d in vc.component.definitions:
        if isinstance(d, ast.CoreModule) and (d.info.tags or any(
                isinstance(i.desc, ast.CoreTagType) for i in d.info.imports)):
            return True
    return any(isinstance(s, CoreInstantiate) and s.wiring is None for s in steps)


def _may_leave_always(vc: ValidatedComponent) -> bool:
    """Whether ``vc``'s instances keep ``may_leave`` set: only the ``realloc`` and
    ``post-return`` calls of its own canons clear it."""
    return all(info.realloc is None and info.post_return is None for info in vc.canons.values())


def _translate(vc: ValidatedComponent) -> list[Step]:
    counts = [0] * len(SORTS)
    may_leave_always = _may_leave_always(vc)
    out: list[Step] = []
    wiring = _Wiring()

    def static(sort: int) -> Any:
        """The validator's type for the next entry of ``sort``."""
        return vc.space(SORTS[sort])[counts[sort]].type

    for i, d in enumerate(vc.component.definitions):
        step: Step
        sort: int
        if isinstance(d, ast.CoreModule):
            imports = tuple((m.module, m.name) for m in d.info.imports)
            wiring.module_imports[counts[CORE_MODULE]] = imports
            step, sort = Module(d.offset), CORE_MODULE
        elif isinstance(d, ast.CoreInstantiate):
            wiring.instances[counts[CORE_INSTANCE]] = None
            step = CoreInstantiate(d.module, d.args, wiring.of(d.module, d.args))
            sort = CORE_INSTANCE
        elif isinstance(d, ast.CoreInlineExports):
            step = CoreInline(tuple((n, _sort(si.sort), si.idx) for n, si in d.exports))
            wiring.instances[counts[CORE_INSTANCE]] = {n: (k, i) for n, k, i in step.exports}
            sort = CORE_INSTANCE
        elif isinstance(d, ast.CoreTypeDecl):
            step, sort = CoreType(d.type), CORE_TYPE
        elif isinstance(d, ast.NestedComponent):
            step, sort = Nested(vc.nested[i]), COMPONENT
        elif isinstance(d, ast.Instantiate):
            args = tuple((n, _sort(si.sort), si.idx) for n, si in d.args)
            step, sort = Instantiate(d.component, args, static(INSTANCE)), INSTANCE
        elif isinstance(d, ast.InlineExports):
            exports = tuple((n.name, _sort(si.sort), si.idx) for n, si in d.exports)
            step, sort = InlineInstance(exports), INSTANCE
        elif isinstance(d, (ast.AliasExport, ast.AliasCoreExport)):
            sort = _sort(d.sort)
            core = isinstance(d, ast.AliasCoreExport)
            st = static(sort) if sort == TYPE else None
            step = AliasExport(sort, d.instance, d.name, core, st)
            if core:
                origin = wiring.export(d.instance, d.name)
                if isinstance(origin, ExportWire):
                    wiring.origins[(sort, counts[sort])] = origin
        elif isinstance(d, ast.AliasOuter):
            sort = _sort(d.sort)
            step = AliasOuter(sort, d.count, d.idx)
        elif isinstance(d, ast.TypeDef):
            sort = TYPE
            if isinstance(d.body, ast.ResourceTypeDef):
                step = Resource(vc.resources[i])
            else:
                st = static(TYPE)
                step = Type(st, _has_resources(st))
        elif isinstance(d, ast.Canon):
            info = vc.canons[i]
            if d.kind in ("lift", "lower"):
                assert d.func is not None, "lift and lower name a function"
                res = _has_resources(info.func_type)
                abi = _abi(info)
                if d.kind == "lift":
                    step, sort = Lift(info, d.func, res, abi), FUNC
                else:
                    direct = may_leave_always and abi.passthrough and not info.is_async
                    step, sort = Lower(info, d.func, res, abi, direct), CORE_FUNC
            else:
                step, sort = Builtin(d, info), CORE_FUNC
        elif isinstance(d, ast.Start):
            out.append(Start(d.func, d.args, d.results))
            counts[VALUE] += d.results
            continue
        elif isinstance(d, ast.Import):
            sort = SORT_ID["core module" if d.desc.kind == "module" else d.desc.kind]
            step = Import(d.name.name, sort, static(sort))
        elif isinstance(d, ast.Export):
            sort = _sort(d.item.sort)
            step = Export(d.name.name, sort, d.item.idx)
            if sort == CORE_MODULE and d.item.idx in wiring.module_imports:
                wiring.module_imports[counts[sort]] = wiring.module_imports[d.item.idx]
        elif isinstance(d, ast.ValueDef):
            step, sort = Value(d, static(VALUE)), VALUE
        else:  # pragma: no cover - every definition kind is listed above
            raise AssertionError(f"unknown definition {type(d).__name__}")
        out.append(step)
        counts[sort] += 1
    return out
