"""Validated component -> its definitions as typed steps, computed once per component.

Like wasmtime's per-component ``Translation`` (``environ/component/translate.rs``), this layer
decides, for one component, everything that does not depend on where it is instantiated:
which index space each definition feeds, the static type imports and aliases are bound
against, the canonical options and ABI adapters of each lift and lower. The inliner
(:mod:`.inline`) then follows these steps through a root and every component it instantiates
into the one flat plan the runtime executes.

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
CORE_FUNC, CORE_TABLE, CORE_MEMORY, CORE_TYPE, CORE_MODULE, CORE_INSTANCE = 5, 6, 7, 10, 11, 12


@dataclass(frozen=True, slots=True)
class Module:
    """Append a compiled core module (keyed by the offset of its section)."""

    offset: int


@dataclass(frozen=True, slots=True)
class CoreInstantiate:
    module: int
    args: tuple[tuple[str, int], ...]
    local: bool = True  # whether the module is defined by this component (else imported)


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


def _may_throw(vc: ValidatedComponent, steps: tuple[Step, ...]) -> bool:
    for d in vc.component.definitions:
        if isinstance(d, ast.CoreModule) and (d.info.tags or any(
                isinstance(i.desc, ast.CoreTagType) for i in d.info.imports)):
            return True
    return any(isinstance(s, CoreInstantiate) and not s.local for s in steps)


def _may_leave_always(vc: ValidatedComponent) -> bool:
    """Whether ``vc``'s instances keep ``may_leave`` set: only the ``realloc`` and
    ``post-return`` calls of its own canons clear it."""
    return all(info.realloc is None and info.post_return is None for info in vc.canons.values())


def _translate(vc: ValidatedComponent) -> list[Step]:
    counts = [0] * len(SORTS)
    may_leave_always = _may_leave_always(vc)
    out: list[Step] = []
    local_modules: set[int] = set()  # the core module indices defined by this component

    def static(sort: int) -> Any:
        """The validator's type for the next entry of ``sort``."""
        return vc.space(SORTS[sort])[counts[sort]].type

    for i, d in enumerate(vc.component.definitions):
        step: Step
        sort: int
        if isinstance(d, ast.CoreModule):
            local_modules.add(counts[CORE_MODULE])
            step, sort = Module(d.offset), CORE_MODULE
        elif isinstance(d, ast.CoreInstantiate):
            step = CoreInstantiate(d.module, d.args, d.module in local_modules)
            sort = CORE_INSTANCE
        elif isinstance(d, ast.CoreInlineExports):
            step = CoreInline(tuple((n, _sort(si.sort), si.idx) for n, si in d.exports))
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
            if sort == CORE_MODULE and d.item.idx in local_modules:
                local_modules.add(counts[sort])
        elif isinstance(d, ast.ValueDef):
            step, sort = Value(d, static(VALUE)), VALUE
        else:  # pragma: no cover - every definition kind is listed above
            raise AssertionError(f"unknown definition {type(d).__name__}")
        out.append(step)
        counts[sort] += 1
    return out
