"""The component validator proper: walks definitions in binary order, building every index
space incrementally, and checks each definition against the spec's rules.

It exists to turn a decoded :class:`~wasm_component._binary.ast.Component` into a
:class:`~wasm_component._validate.model.ValidatedComponent` (or a ``ValidationError`` with the
offending offset) so later stages can trust indices, types and canonical signatures.
Component-type and instance-type declarators reuse the same :class:`Scope` machinery.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .. import types as t
from .._binary import ast
from ..errors import ValidationError
from . import typecheck as tc
from .features import Features
from .model import (
    CanonInfo,
    CoreGcType,
    CoreInstanceType,
    Entry,
    ResourceInfo,
    ValidatedComponent,
)
from .names import ParsedName, check_label, parse_name, unique_key
from .values import decode_value

MAX_TYPE_SIZE = 1_000_000

COMPONENT_SORTS = ("func", "value", "type", "instance", "component")
CORE_SORTS = ("core func", "core table", "core memory", "core global", "core tag",
              "core type", "core module", "core instance")

_SHARED_ID_KINDS = (t.FuncType, t.InstanceType, t.ComponentType)
_NAMED_KINDS = (t.RecordType, t.VariantType, t.EnumType, t.FlagsType, t.ResourceType)


def _err(msg: str, offset: int) -> ValidationError:
    return ValidationError(msg, offset)


def _copy(x: Any) -> Any:
    """A structurally equal object with a new identity (a fresh "type index")."""
    if isinstance(x, t.PrimType):
        return x
    if isinstance(x, t.ResourceType):
        return t.ResourceType(x.kind, x.key, x.name)
    return dataclasses.replace(x)


class Scope:
    """One validation scope: a component, a component type or an instance type."""

    def __init__(self, kind: str, parent: Scope | None, features: Features) -> None:
        self.kind = kind
        self.parent = parent
        self.features = features
        self.spaces: dict[str, list[Entry]] = {s: [] for s in COMPONENT_SORTS + CORE_SORTS}
        self.core_final: list[bool] = []
        self.imports: list[tuple[str, Any]] = []
        self.exports: list[tuple[str, Any]] = []
        self.import_keys: dict[str, str] = {}
        self.export_keys: dict[str, str] = {}
        self.named_imp: dict[int, object] = {}
        self.named_exp: dict[int, object] = {}
        # the types that type exports introduced (value types and resources: the new index's
        # type; function, instance and component types: their origin, see
        # ``Validator._fresh``) and, for the latter, those imports did: an import may not be
        # bounded by a type known only as an export (wasmparser: "not valid to be used as
        # import")
        self.export_made: dict[int, object] = {}
        self.import_made: dict[int, object] = {}
        self.resource_names: dict[str, t.ResourceType] = {}  # import/export labels of resources
        self.imp_resource_names: dict[str, t.ResourceType] = {}
        self.local_resources: dict[t.ResourceType, tuple[str, int | None]] = {}
        self.defined_resources: list[t.ResourceType] = []
        self.value_used: list[bool] = []
        self.value_offsets: list[int] = []
        self.has_start = False
        self.context_type: str | None = None
        # abstract resources created in this scope by `(sub resource)` bounds or by freshening
        # an instance type used here (what an instance type declaration defines)
        self.created: list[t.ResourceType] = []

    def get(self, sort: str, idx: int, offset: int) -> Entry:
        sp = self.spaces[sort]
        if idx < 0 or idx >= len(sp):
            raise _err(f"unknown {sort}: {sort} index out of bounds" if False
                       else f"{_sort_word(sort)} index out of bounds", offset)
        return sp[idx]

    def add(self, sort: str, ty: object, origin: int, how: str) -> None:
        sp = self.spaces[sort]
        if len(sp) >= 1_000_000:
            raise _err(f"{sort} count exceeds limit", 0)
        sp.append(Entry(ty, origin, how))


def _sort_word(sort: str) -> str:
    return {"func": "function", "core func": "function", "value": "value", "type": "type",
            "instance": "instance", "component": "component", "core table": "table",
            "core memory": "memory", "core global": "global", "core tag": "tag",
            "core type": "core type", "core module": "module",
            "core instance": "core instance"}[sort]


def _sort_key(sort: ast.Sort) -> str:
    return f"core {sort.name}" if sort.core else sort.name


# -- core types ---------------------------------------------------------------------------------

_ABSTRACT_SHORT = {"func": "funcref", "extern": "externref", "any": "anyref", "eq": "eqref",
                   "i31": "i31ref", "struct": "structref", "array": "arrayref",
                   "exn": "exnref", "none": "nullref", "nofunc": "nullfuncref",
                   "noextern": "nullexternref", "noexn": "nullexnref"}


class Validator:
    """Validates one component (recursively its nested components)."""

    def __init__(self, features: Features) -> None:
        self.features = features
        # Per-validation state (nothing is module-global, so validations cannot leak into each
        # other). Identity-keyed caches keep the object so an ``id`` cannot be reused.
        self.size_cache: dict[int, tuple[object, int]] = {}
        self.origins: dict[int, tuple[object, object]] = {}  # see ``_fresh``
        self.depth_cache: dict[int, tuple[object, int]] = {}
        self.named_cache: dict[int, tuple[object, dict[int, object]]] = {}
        self.reach_cache: dict[int, tuple[object, dict[int, object]]] = {}
        self.needs_cache: dict[int, tuple[object, dict[int, object]]] = {}

        # structural key -> core GC struct/array type, for cm-gc lowering checks
        self.gc_keys: dict[str, CoreGcType] = {}
        # id(instance type) -> (the type, the abstract resources its exports define)
        self.inst_defined: dict[int, tuple[t.InstanceType, tuple[t.ResourceType, ...]]] = {}
        self.resources_out: dict[int, ResourceInfo] = {}

    def type_size(self, x: object, offset: int) -> None:
        tc.type_size(x, MAX_TYPE_SIZE, offset, self.size_cache)

    def _fresh(self, eq: Any) -> Any:
        """A new type index for ``eq`` (a type import or export): value types and resources
        get a new identity; function, instance and component types keep their origin's (as
        wasmparser's type ids do), recorded in ``origins``."""
        c = _copy(eq)
        if isinstance(eq, _SHARED_ID_KINDS):
            self.origins[id(c)] = (c, self._origin(eq))
        return c

    def _origin(self, x: object) -> object:
        hit = self.origins.get(id(x))
        return hit[1] if hit is not None and hit[0] is x else x

    # -- core type helpers ------------------------------------------------------------------

    def core_valtype(self, vt: ast.CoreValType, scope: Scope, offset: int,
                     local: list[str] | None = None, base: int = 0) -> str:
        if isinstance(vt, str):
            if vt == "v128":
                return vt
            return vt
        heap = vt.heap
        if isinstance(heap, str):
            if vt.nullable and heap in _ABSTRACT_SHORT:
                return _ABSTRACT_SHORT[heap]
            return f"(ref {'null ' if vt.nullable else ''}{heap})"
        if local is not None and heap >= base:
            if heap - base >= len(local):
                raise _err("unknown type: type index out of bounds", offset)
            key = local[heap - base]
        else:
            ent = scope.get("core type", heap, offset).type
            if isinstance(ent, t.ModuleType):
                raise _err(f"type index {heap} is a module type", offset)
            key = _core_key(ent)
        return f"(ref {'null ' if vt.nullable else ''}{key})"

    def rec_group(self, g: ast.CoreRecGroup, scope: Scope, origin: int) -> None:
        base = len(scope.spaces["core type"])
        n = len(g.types)
        local = [f"$rec{base}.{i}" if g.explicit else f"$t{base + i}" for i in range(n)]
        keys: list[str] = []
        built: list[tuple[Any, bool]] = []
        for i, st in enumerate(g.types):
            if not self.features.gc and (not st.final or st.supertypes
                                         or not isinstance(st.comp, ast.CoreFuncTypeDef)):
                raise _err("gc proposal must be enabled to use struct/array/sub types",
                           g.offset)
            for sup in st.supertypes:
                if sup >= base + i:
                    raise _err("supertype index out of bounds", g.offset)
                if sup < base:
                    if scope.core_final[sup] if sup < len(scope.core_final) else True:
                        raise _err("sub type cannot have a final super type", g.offset)
                elif built[sup - base][1]:
                    raise _err("sub type cannot have a final super type", g.offset)
            comp = st.comp
            if isinstance(comp, ast.CoreFuncTypeDef):
                ps = tuple(self.core_valtype(p, scope, g.offset, local, base)
                           for p in comp.params)
                rs = tuple(self.core_valtype(p, scope, g.offset, local, base)
                           for p in comp.results)
                ent: Any = t.CoreFuncType(ps, rs)
                key = str(ent)
            else:
                if isinstance(comp, ast.CoreStructTypeDef):
                    flds = tuple(self._field(f, scope, g.offset, local, base) for f in comp.fields)
                    kind = "struct"
                else:
                    flds = (self._field(comp.element, scope, g.offset, local, base),)
                    kind = "array"
                key = f"({kind} " + " ".join(f"({'mut ' if m else ''}{s})" for s, m in flds) + ")"
                ent = CoreGcType(kind, flds, st.final, key)
                self.gc_keys[key] = ent
            if isinstance(ent, CoreGcType):
                local[i] = ent.key
            if g.explicit and n > 1:
                key = f"(rec{i} " + key + ")"
            keys.append(key)
            built.append((ent, st.final))
        for ent, final in built:
            scope.add("core type", ent, origin, "core-type")
            scope.core_final.append(final)

    def _field(self, f: ast.CoreFieldType, scope: Scope, offset: int, local: list[str],
               base: int) -> tuple[str, bool]:
        s = f.storage
        if isinstance(s, str) and s in ("i8", "i16"):
            return s, f.mutable
        return self.core_valtype(s, scope, offset, local, base), f.mutable

    def core_extern(self, desc: ast.CoreExternDesc, types: list[Any], offset: int,
                    scope: Scope | None = None) -> t.CoreExternType:
        if isinstance(desc, ast.CoreFuncRef):
            if desc.type_idx >= len(types):
                raise _err("unknown type: type index out of bounds", offset)
            ft = types[desc.type_idx]
            if not isinstance(ft, t.CoreFuncType):
                raise _err(f"type index {desc.type_idx} is not a function type", offset)
            return ft
        if isinstance(desc, ast.CoreTableType):
            el = self._plain_ref(desc.element)
            return t.CoreTableType(el, desc.minimum, desc.maximum, desc.table64)
        if isinstance(desc, ast.CoreMemoryType):
            if desc.page_size_log2 is not None and not self.features.custom_page_sizes:
                raise _err("custom page sizes proposal must be enabled", offset)
            self._memory_limits(desc, offset)
            return t.CoreMemoryType(desc.minimum, desc.maximum, desc.shared, desc.memory64,
                                    16 if desc.page_size_log2 is None else desc.page_size_log2)
        if isinstance(desc, ast.CoreGlobalType):
            c = desc.content
            return t.CoreGlobalType(c if isinstance(c, str) else self._plain_ref(c),
                                    desc.mutable)
        if isinstance(desc, ast.CoreTagType):
            if not self.features.exceptions:
                raise _err("exceptions proposal not enabled", offset)
            if desc.type_idx >= len(types):
                raise _err(f"unknown tag {desc.type_idx}: type index out of bounds", offset)
            ft = types[desc.type_idx]
            if not isinstance(ft, t.CoreFuncType):
                raise _err(f"type index {desc.type_idx} is not a function type", offset)
            return t.CoreTagType(ft)
        raise _err("unknown core extern", offset)

    def _memory_limits(self, m: ast.CoreMemoryType, offset: int) -> None:
        """Core memory type limits (core spec "Memory Types", as wasmparser words them)."""
        log2 = 16 if m.page_size_log2 is None else m.page_size_log2
        if log2 not in (0, 16):
            raise _err("invalid custom page size", offset)
        if m.maximum is not None and m.minimum > m.maximum:
            raise _err("size minimum must not be greater than maximum", offset)
        if m.memory64:
            if not self.features.memory64:
                raise _err("memory64 must be enabled for 64-bit memories", offset)
            limit = (1 << 64) >> log2 if log2 else (1 << 64) - 1
            what = "memory size must be at most 2**48 pages" if log2 == 16 else \
                "memory size must be at most 2**64 bytes"
            if log2 == 16:
                limit = 1 << 48
        else:
            limit = (1 << 32) >> log2
            what = f"memory size must be at most {limit} pages (4GiB)" if log2 == 16 else \
                f"memory size must be at most {limit} pages"
        if m.minimum > limit or (m.maximum is not None and m.maximum > limit):
            raise _err(what, offset)
        if m.shared:
            if not self.features.threads:
                raise _err("threads must be enabled for shared memories", offset)
            if m.maximum is None:
                raise _err("shared memory must have maximum size", offset)

    def _plain_ref(self, r: ast.CoreRefType) -> str:
        if isinstance(r.heap, str):
            if r.nullable and r.heap in _ABSTRACT_SHORT:
                return _ABSTRACT_SHORT[r.heap]
            return f"(ref {'null ' if r.nullable else ''}{r.heap})"
        return f"(ref {'null ' if r.nullable else ''}${r.heap})"

    def module_type_of(self, info: ast.CoreModuleInfo, offset: int) -> t.ModuleType:
        tys: list[Any] = []
        for st in info.types:
            c = st.comp
            if isinstance(c, ast.CoreFuncTypeDef):
                tys.append(t.CoreFuncType(tuple(self._mod_vt(p) for p in c.params),
                                          tuple(self._mod_vt(p) for p in c.results)))
            else:
                tys.append(None)
        imports = []
        seen: set[tuple[str, str]] = set()
        for imp in info.imports:
            key = (imp.module, imp.name)
            if key in seen:
                # a module type maps (module, name) to one type, so embedded modules must not
                # repeat an import (wasmparser applies this to modules inside components)
                raise _err(f"duplicate import name `{imp.module}:{imp.name}` already defined",
                           imp.offset)
            seen.add(key)
            imports.append((imp.module, imp.name, self.core_extern(imp.desc, tys, imp.offset)))
        exports: list[tuple[str, t.CoreExternType]] = []
        spaces: dict[str, tuple[Any, ...]] = {"func": info.funcs, "table": info.tables,
                                              "memory": info.memories, "global": info.globals,
                                              "tag": info.tags}
        names: set[str] = set()
        for name, kind, idx in info.exports:
            space = spaces.get(kind)
            if space is None or not 0 <= idx < len(space):
                raise _err(f"unknown {kind} {idx}: exported {kind} index out of bounds", offset)
            if name in names:
                raise _err(f"duplicate export name `{name}` already defined", offset)
            names.add(name)
            ty: t.CoreExternType
            if kind in ("func", "tag"):
                ti = space[idx]
                ft = tys[ti] if 0 <= ti < len(tys) else None
                if not isinstance(ft, t.CoreFuncType):
                    raise _err(f"type index {ti} is not a function type", offset)
                ty = ft if kind == "func" else t.CoreTagType(ft)
            elif kind == "table":
                tb = info.tables[idx]
                ty = t.CoreTableType(self._plain_ref(tb.element), tb.minimum, tb.maximum,
                                     tb.table64)
            elif kind == "memory":
                m = info.memories[idx]
                ty = t.CoreMemoryType(m.minimum, m.maximum, m.shared, m.memory64,
                                      16 if m.page_size_log2 is None else m.page_size_log2)
            else:
                g = info.globals[idx]
                gcontent = g.content
                ty = t.CoreGlobalType(gcontent if isinstance(gcontent, str)
                                      else self._plain_ref(gcontent), g.mutable)
            exports.append((name, ty))
        return t.ModuleType(tuple(imports), tuple(exports))

    def _mod_vt(self, v: ast.CoreValType) -> str:
        return v if isinstance(v, str) else self._plain_ref(v)

    def module_type_decl(self, mt: ast.CoreModuleTypeDef, scope: Scope) -> t.ModuleType:
        inner = Scope("module-type", scope, self.features)
        imports: list[tuple[str, str, t.CoreExternType]] = []
        exports: list[tuple[str, t.CoreExternType]] = []
        seen_imp: set[tuple[str, str]] = set()
        seen_exp: set[str] = set()
        for d in mt.decls:
            if isinstance(d, ast.CoreRecGroup):
                self.rec_group(d, inner, -1)
            elif isinstance(d, ast.CoreOuterAlias):
                if d.count < 1:
                    raise _err("outer type aliases in module type declarations must have a "
                               "count of at least 1", d.offset)
                tgt = self._outer_scope(scope, d.count - 1, d.offset)
                ent = tgt.get("core type", d.idx, d.offset)
                inner.add("core type", ent.type, -1, "alias")
                inner.core_final.append(True)
            elif isinstance(d, ast.CoreImport):
                tys = [e.type for e in inner.spaces["core type"]]
                ty = self.core_extern(d.desc, tys, d.offset)
                key = (d.module, d.name)
                if key in seen_imp:
                    raise _err(f"duplicate import name `{d.module}:{d.name}` already defined",
                               d.offset)
                seen_imp.add(key)
                imports.append((d.module, d.name, ty))
            else:
                tys = [e.type for e in inner.spaces["core type"]]
                ty = self.core_extern(d.desc, tys, d.offset)
                if d.name in seen_exp:
                    raise _err(f"duplicate export name `{d.name}` already defined", d.offset)
                seen_exp.add(d.name)
                exports.append((d.name, ty))
        return t.ModuleType(tuple(imports), tuple(exports))

    # -- component value types --------------------------------------------------------------

    def valtype(self, ref: ast.ValTypeRef, scope: Scope, offset: int) -> t.Type:
        if isinstance(ref, str):
            p = t.PRIMITIVES.get(ref)
            if p is None:
                raise _err(f"unknown primitive type `{ref}`", offset)
            if p is t.ERROR_CONTEXT and not self.features.cm_error_context:
                raise _err("`error-context` requires the component model error-context feature",
                           offset)
            return p
        ent = scope.get("type", ref, offset).type
        if not isinstance(ent, t.Type) or isinstance(ent, t.ResourceType):
            raise _err(f"type index {ref} is not a defined type", offset)
        return ent

    def resource_ref(self, idx: int, scope: Scope, offset: int) -> t.ResourceType:
        ent = scope.get("type", idx, offset).type
        if not isinstance(ent, t.ResourceType):
            raise _err(f"type index {idx} is not a resource type", offset)
        return ent

    def defvaltype(self, body: ast.DefValType, scope: Scope, offset: int) -> t.Type:
        def vt(r: ast.ValTypeRef) -> t.Type:
            return self.valtype(r, scope, offset)

        def labels(names: tuple[str, ...], what: str, prev: str) -> None:
            seen: dict[str, str] = {}
            for n in names:
                check_label(n, what, offset)
                k = n.lower()
                if k in seen:
                    raise _err(f"{what} name `{n}` conflicts with previous {prev} name "
                               f"`{seen[k]}`", offset)
                seen[k] = n

        if isinstance(body, ast.PrimDef):
            return vt(body.name)
        if isinstance(body, ast.RecordDef):
            if not body.fields:
                raise _err("record type must have at least one field", offset)
            labels(tuple(n for n, _ in body.fields), "record field", "field")
            return t.RecordType(tuple((n, vt(x)) for n, x in body.fields))
        if isinstance(body, ast.VariantDef):
            if not body.cases:
                raise _err("variant type must have at least one case", offset)
            labels(tuple(n for n, _ in body.cases), "variant case", "case")
            if len(body.cases) >= 2**32:
                raise _err("variant type cannot be represented", offset)
            return t.VariantType(tuple((n, None if x is None else vt(x)) for n, x in body.cases))
        if isinstance(body, ast.ListDef):
            if body.length is not None:
                if not self.features.cm_fixed_length_lists:
                    raise _err("Fixed-length lists require the component model fixed-length "
                               "lists feature", offset)
                if body.length == 0:
                    raise _err("Fixed-length lists must have more than zero elements", offset)
            el = vt(body.element)
            return t.ListType(el, body.length)
        if isinstance(body, ast.TupleDef):
            if not body.types:
                raise _err("tuple type must have at least one type", offset)
            return t.TupleType(tuple(vt(x) for x in body.types))
        if isinstance(body, ast.FlagsDef):
            if not body.names:
                raise _err("flags must have at least one entry", offset)
            if len(body.names) > 32:
                raise _err("cannot have more than 32 flags", offset)
            labels(body.names, "flag", "flag")
            return t.FlagsType(body.names)
        if isinstance(body, ast.EnumDef):
            if not body.names:
                raise _err("enum type must have at least one variant", offset)
            labels(body.names, "enum tag", "tag")
            return t.EnumType(body.names)
        if isinstance(body, ast.OptionDef):
            return t.OptionType(vt(body.inner))
        if isinstance(body, ast.ResultDef):
            return t.ResultType(None if body.ok is None else vt(body.ok),
                                None if body.err is None else vt(body.err))
        if isinstance(body, ast.OwnDef):
            return t.OwnType(self.resource_ref(body.resource, scope, offset))
        if isinstance(body, ast.BorrowDef):
            return t.BorrowType(self.resource_ref(body.resource, scope, offset))
        if isinstance(body, ast.StreamDef | ast.FutureDef):
            what = "stream" if isinstance(body, ast.StreamDef) else "future"
            if not self.features.cm_async:
                raise _err(f"`{what}` requires the component model async feature", offset)
            pl = None if body.element is None else vt(body.element)
            if pl is t.CHAR and what == "stream":
                raise _err("`stream<char>` is not valid at this time, use `stream<u8>` with a "
                           "defined by encoding instead for now", offset)
            if pl is not None and tc.contains_borrow(pl):
                raise _err(f"{what} payload cannot contain a `borrow` type", offset)
            return t.StreamType(pl) if what == "stream" else t.FutureType(pl)
        if isinstance(body, ast.MapDef):
            if not self.features.cm_map:
                raise _err("maps require the component model map feature", offset)
            k = vt(body.key)
            if not (isinstance(k, t.PrimType) and k.name not in ("f32", "f64", "error-context")):
                raise _err("map key type must be a primitive type other than float", offset)
            return t.MapType(k, vt(body.value))
        raise _err("unknown defined type", offset)

    def functype(self, body: ast.FuncTypeDef, scope: Scope, offset: int) -> t.FuncType:
        if body.is_async and not self.features.cm_async:
            raise _err("async function types require the component model async feature",
                       offset)
        seen: dict[str, str] = {}
        params = []
        for n, r in body.params:
            check_label(n, "function parameter", offset)
            k = n.lower()
            if k in seen:
                raise _err(f"function parameter name `{n}` conflicts with previous parameter "
                           f"name `{seen[k]}`", offset)
            seen[k] = n
            params.append((n, self.valtype(r, scope, offset)))
        res = None if body.result is None else self.valtype(body.result, scope, offset)
        if res is not None and tc.contains_borrow(res):
            raise _err("function result cannot contain a `borrow` type", offset)
        return t.FuncType(tuple(params), res, body.is_async)

    # -- element size -----------------------------------------------------------------------

    def check_elem_size(self, ty: t.Type, offset: int) -> None:
        if _elem_size(ty, {}) >= 2**28:
            raise _err("effective type size exceeds the limit (element size)", offset)

    # -- type definitions -------------------------------------------------------------------

    def typedef(self, d: ast.TypeDef, scope: Scope, origin: int) -> None:
        b = d.body
        ty: Any
        if isinstance(b, ast.FuncTypeDef):
            ty = self.functype(b, scope, d.offset)
        elif isinstance(b, ast.ComponentTypeDef):
            ty = self.component_type_decl(b, scope, d.offset)
        elif isinstance(b, ast.InstanceTypeDef):
            ty = self.instance_type_decl(b, scope, d.offset)
        elif isinstance(b, ast.ResourceTypeDef):
            if scope.kind != "component":
                raise _err("resources can only be defined within a concrete component", d.offset)
            rep = b.rep
            if rep not in ("i32", "i64"):
                raise _err("resources can only be represented by `i32` or `i64`", d.offset)
            if rep == "i64" and not self.features.cm64:
                raise _err("resources with `i64` require the `cm64` feature to be enabled",
                           d.offset)
            if b.dtor is not None:
                ft = scope.get("core func", b.dtor, d.offset).type
                if ft != t.CoreFuncType((rep,), ()):
                    raise _err(f"wrong signature for a destructor: expected "
                               f"{t.CoreFuncType((rep,), ())}, found {ft}", d.offset)
            ty = t.ResourceType.fresh(f"resource{len(scope.spaces['type'])}")
            scope.local_resources[ty] = (rep, b.dtor)
            scope.defined_resources.append(ty)
            if origin >= 0:
                self.resources_out[origin] = ResourceInfo(ty, str(rep), b.dtor)
        else:
            ty = self.defvaltype(b, scope, d.offset)
            tc.type_depth(ty, d.offset, self.depth_cache)
            self.type_size(ty, d.offset)
            self.check_elem_size(ty, d.offset)
        if isinstance(ty, t.ComponentType | t.InstanceType | t.FuncType):
            self.type_size(ty, d.offset)
        scope.add("type", ty, origin, "type")


    def _outer_scope(self, scope: Scope, count: int, offset: int) -> Scope:
        s: Scope | None = scope
        for _ in range(count):
            assert s is not None
            s = s.parent
            while s is not None and s.kind == "module-type":
                s = s.parent
            if s is None:
                raise _err(f"invalid outer alias count of {count}", offset)
        assert s is not None
        return s

    def alias(self, d: ast.Alias, scope: Scope, origin: int) -> None:
        key = _sort_key(d.sort)
        if isinstance(d, ast.AliasOuter):
            if scope.kind != "component" and key not in ("type", "core type"):
                raise _err("aliases in a component or instance type may only refer to "
                           "types or instances", d.offset)
            if key not in ("type", "core type", "core module", "component"):
                raise _err("only outer type, module, and component aliases are allowed",
                           d.offset)
            s: Scope | None = scope
            crossed = False
            for _ in range(d.count):
                if s is None:
                    break
                if s.kind == "component":
                    crossed = True
                s = s.parent
            if s is None:
                raise _err(f"invalid outer alias count of {d.count}", d.offset)
            ent = s.get(key, d.idx, d.offset)
            if key == "type" and crossed and d.count > 0:
                free = self._free_resources(ent.type)
                if free:
                    raise _err("canonical type refers to resources not defined in the current "
                               "component", d.offset)
            scope.add(key, ent.type, origin, "alias")
            if key == "core type":
                scope.core_final.append(True)
            return
        if isinstance(d, ast.AliasCoreExport):
            if scope.kind != "component":
                raise _err("aliases in a component or instance type may only refer to types "
                           "or instances", d.offset)
            inst = scope.get("core instance", d.instance, d.offset).type
            assert isinstance(inst, CoreInstanceType)
            ty = inst.exports.get(d.name)
            if ty is None:
                raise _err(f"core instance {d.instance} has no export named `{d.name}`",
                           d.offset)
            want = {"core func": t.CoreFuncType, "core table": t.CoreTableType,
                    "core memory": t.CoreMemoryType, "core global": t.CoreGlobalType,
                    "core tag": t.CoreTagType}.get(key)
            if want is None or not isinstance(ty, want):
                raise _err(f"export `{d.name}` for core instance {d.instance} is not a "
                           f"{d.sort.name}", d.offset)
            scope.add(key, ty, origin, "alias")
            return
        # component export alias
        if scope.kind != "component" and key not in ("type", "instance"):
            raise _err("aliases in a component or instance type may only refer to types or "
                       "instances", d.offset)
        inst = scope.get("instance", d.instance, d.offset).type
        assert isinstance(inst, t.InstanceType)
        et = inst.export(d.name)
        if et is None:
            raise _err(f"instance {d.instance} has no export named `{d.name}`", d.offset)
        kind = tc.kind_name(et)
        if kind == "module":
            kind = "core module"
        if kind != key:
            raise _err(f"export `{d.name}` for instance {d.instance} is not a {key}", d.offset)
        self._add_extern(scope, key, et, origin, "alias", d.offset)

    def _free_resources(self, ty: object) -> set[t.ResourceType]:
        res = tc.resources_in(ty)
        if isinstance(ty, t.InstanceType | t.ComponentType):
            bound = tc.bound_resources(list(ty.exports) + (
                list(ty.imports) if isinstance(ty, t.ComponentType) else []))
            res -= bound
        return res

    def _add_extern(self, scope: Scope, sort: str, et: object, origin: int, how: str,
                    offset: int) -> None:
        if isinstance(et, t.TypeBound):
            scope.add("type", et.eq, origin, how)
        elif isinstance(et, t.ValueBound):
            scope.add("value", et.type, origin, how)
            scope.value_used.append(False)
            scope.value_offsets.append(offset)
        else:
            scope.add("core module" if sort == "module" else sort, et, origin, how)

    # -- declarators --------------------------------------------------------------------------

    def _decl_common(self, d: Any, scope: Scope) -> bool:
        if isinstance(d, ast.CoreTypeDecl):
            self.core_type_decl(d, scope, -1)
        elif isinstance(d, ast.TypeDef):
            self.typedef(d, scope, -1)
        elif isinstance(d, ast.AliasOuter | ast.AliasExport | ast.AliasCoreExport):
            self.alias(d, scope, -1)
        else:
            return False
        return True

    def component_type_decl(self, b: ast.ComponentTypeDef, parent: Scope, offset: int
                            ) -> t.ComponentType:
        scope = Scope("component-type", parent, self.features)
        for d in b.decls:
            if self._decl_common(d, scope):
                continue
            if isinstance(d, ast.ImportDecl):
                self.import_(d.name, d.desc, d.offset, scope, -1)
            elif isinstance(d, ast.ExportDecl):
                self.export_decl(d, scope)
        imported = tc.bound_resources(scope.imports)
        defined = tuple(r for r in tc.bound_resources(scope.exports) if r not in imported)
        return t.ComponentType(tuple(scope.imports), tuple(scope.exports), defined)

    def instance_type_decl(self, b: ast.InstanceTypeDef, parent: Scope, offset: int
                           ) -> t.InstanceType:
        scope = Scope("instance-type", parent, self.features)
        for d in b.decls:
            if self._decl_common(d, scope):
                continue
            if isinstance(d, ast.ExportDecl):
                self.export_decl(d, scope)
            else:
                raise _err("invalid instance type declarator", offset)
        it = t.InstanceType(tuple(scope.exports))
        if scope.created:
            self.inst_defined[id(it)] = (it, tuple(scope.created))
        return it

    def _fresh_instance(self, it: t.InstanceType, scope: Scope) -> t.InstanceType:
        """``it`` with the abstract resources its exports define replaced by new ones: every
        import or export of an instance type describes a distinct instance, whose
        ``(sub resource)`` exports are distinct types (Explainer, "Type Checking")."""
        info = self.inst_defined.get(id(it))
        if info is None or info[0] is not it:
            return it
        m = {r: tc.fresh_sub(r.name) for r in info[1]}
        new = tc.substitute(it, m, {})
        assert isinstance(new, t.InstanceType)
        fresh = tuple(m.values())
        self.inst_defined[id(new)] = (new, fresh)
        scope.created.extend(fresh)
        return new

    def extern_desc(self, desc: ast.ExternDesc, scope: Scope, offset: int) -> object:
        k = desc.kind
        if k == "module":
            assert desc.idx is not None
            ent = scope.get("core type", desc.idx, offset).type
            if not isinstance(ent, t.ModuleType):
                raise _err(f"core type index {desc.idx} is not a module type", offset)
            return ent
        if k == "func":
            assert desc.idx is not None
            ent = scope.get("type", desc.idx, offset).type
            if not isinstance(ent, t.FuncType):
                raise _err(f"type index {desc.idx} is not a function type", offset)
            return ent
        if k == "component":
            assert desc.idx is not None
            ent = scope.get("type", desc.idx, offset).type
            if not isinstance(ent, t.ComponentType):
                raise _err(f"type index {desc.idx} is not a component type", offset)
            return ent
        if k == "instance":
            assert desc.idx is not None
            ent = scope.get("type", desc.idx, offset).type
            if not isinstance(ent, t.InstanceType):
                raise _err(f"type index {desc.idx} is not an instance type", offset)
            return self._fresh_instance(ent, scope)
        if k == "value":
            if not self.features.cm_values:
                raise _err("support for component model `value`s is not enabled", offset)
            if desc.value_eq is not None:
                v = scope.get("value", desc.value_eq, offset).type
                assert isinstance(v, t.Type)
                return t.ValueBound(v)
            assert desc.value_type is not None
            return t.ValueBound(self.valtype(desc.value_type, scope, offset))
        if k == "type":
            if desc.idx is None:
                r = tc.fresh_sub()
                scope.created.append(r)
                return t.TypeBound(r)
            ent = scope.get("type", desc.idx, offset).type
            return t.TypeBound(ent)  # type: ignore[arg-type]  # also func/instance/component
        raise _err(f"unknown extern kind `{k}`", offset)

    # -- names ----------------------------------------------------------------------------------

    def _check_name(self, name: ast.ExternName, et: object, scope: Scope, offset: int,
                    is_import: bool) -> ParsedName:
        p = parse_name(name.name, offset, self.features)
        if name.implements is not None:
            if not self.features.cm_implements:
                raise _err("`implements` attribute used but the `cm-implements` feature is "
                           "not active", offset)
            if not isinstance(et, t.InstanceType):
                raise _err("only instances can have an `implements` attribute", offset)
            if p.kind != "label":
                raise _err(f"name `{name.name}` is not valid with `implements`", offset)
            if not name.implements:
                raise _err("`` is not a valid name", offset)
            if ":" not in name.implements:
                raise _err(f"`{name.implements}` must be an interface name", offset)
            try:
                parse_name(name.implements, offset, self.features)
            except ValidationError as e:
                raise _err(f"`{name.implements}` is not a valid name: {e.message}",
                           offset) from None
        if name.version_suffix is not None:
            if not self.features.cm_canon_names:
                raise _err("the `versionsuffix` attribute requires the cm-canon-names feature",
                           offset)
            if not isinstance(et, t.InstanceType):
                raise _err("only instances can have a `versionsuffix` attribute", offset)
        if p.kind in ("dep", "url", "hash") and not is_import:
            raise _err(f"`{name.name}` is not a valid export name", offset)
        return p

    def _resource_func_rules(self, p: ParsedName, et: object, names: dict[str, t.ResourceType],
                             offset: int, is_import: bool) -> None:
        """``[constructor]``/``[method]``/``[static]`` names: the function's resource must be
        the one imported (or exported, per ``names``) under the annotated label.

        Resources are matched by the identity of the type an import/export created (as
        wasmparser does), so a function using a resource by its definition rather than by the
        type the export created has no name in this context."""
        if p.kind not in ("constructor", "method", "static"):
            if p.is_async and not (isinstance(et, t.FuncType)):
                raise _err(f"import name `{p.raw}` is not valid", offset)
            return
        if not isinstance(et, t.FuncType):
            raise _err(f"import name `{p.raw}` is not valid: only functions may have a "
                       f"`[{p.kind}]` annotation", offset)
        assert p.resource is not None
        res = names.get(p.resource)
        unnamed = "resource used in function does not have a name in this context"
        if p.kind == "static":
            if res is None:
                raise _err("static resource name is not known in this context" if is_import
                           else unnamed, offset)
            return
        fr: t.ResourceType
        if p.kind == "constructor":
            if et.is_async:
                raise _err("constructor function cannot be async", offset)
            r = et.result
            if isinstance(r, t.ResultType):
                r = r.ok
            if not isinstance(r, t.OwnType):
                raise _err("function should return `(own $T)` or `(result (own $T))`", offset)
            fr = r.resource
        else:
            if not et.params:
                raise _err("function should have at least one argument", offset)
            n0, t0 = et.params[0]
            if n0 != "self":
                raise _err("function should have a first argument called `self`", offset)
            if not isinstance(t0, t.BorrowType):
                raise _err("function should take a first argument of `(borrow $T)`", offset)
            fr = t0.resource
        if fr is res:
            return
        for n, r2 in names.items():
            if r2 is fr:
                raise _err(f"function does not match expected resource name `{n}`", offset)
        raise _err(unnamed, offset)

    def _register_name(self, p: ParsedName, keys: dict[str, str], other: dict[str, str] | None,
                       what: str, offset: int) -> None:
        k = unique_key(p)
        prev = keys.get(k)
        if prev is not None:
            if prev == p.raw:
                if what == "import":
                    raise _err(f"duplicate import name `{p.raw}`", offset)
                raise _err(f"export name `{p.raw}` already defined", offset)
            raise _err(f"{what} name `{p.raw}` conflicts with previous name `{prev}`", offset)
        keys[k] = p.raw

    # -- named types (external visibility) ------------------------------------------------------

    # Both walks are memoised per type (by identity): types are DAGs that share subtrees, and
    # an unmemoised walk of a small binary's nested instance types is exponential in its size.

    def _named_by(self, et: object) -> dict[int, object]:
        """The type identities that importing/exporting ``et`` introduces (``id -> type``)."""
        hit = self.named_cache.get(id(et))
        if hit is not None and hit[0] is et:
            return hit[1]
        tc.WORK[0] += 1
        out: dict[int, object] = {}
        if isinstance(et, t.TypeBound):
            out[id(et.eq)] = et.eq
        elif isinstance(et, t.InstanceType):
            for _, x in et.exports:
                out.update(self._named_by(x))
        self.named_cache[id(et)] = (et, out)
        return out

    def _name_entity(self, et: object, named: dict[int, object]) -> None:
        """Record the type-index identities introduced by importing/exporting ``et``."""
        named.update(self._named_by(et))

    def _reach(self, ty: object) -> dict[int, object]:
        """The named-kind types (records, variants, enums, flags, resources) reachable from
        ``ty``, itself included: each must have been named for ``ty`` to be used."""
        hit = self.reach_cache.get(id(ty))
        if hit is not None and hit[0] is ty:
            return hit[1]
        tc.WORK[0] += 1
        out = dict(self._reach_below(ty))
        if isinstance(ty, _NAMED_KINDS):
            out[id(ty)] = ty
        self.reach_cache[id(ty)] = (ty, out)
        return out

    def _reach_below(self, ty: object) -> dict[int, object]:
        if isinstance(ty, t.ResourceType):
            return {}
        children = list(tc.iter_children(ty))
        if len(children) == 1:
            return self._reach(children[0])
        out: dict[int, object] = {}
        for c in children:
            out.update(self._reach(c))
        return out

    def _needs(self, et: object) -> dict[int, object]:
        """The named-kind types that must already be named for extern type ``et`` to be valid
        (the types it names itself aside)."""
        hit = self.needs_cache.get(id(et))
        if hit is not None and hit[0] is et:
            return hit[1]
        tc.WORK[0] += 1
        out: dict[int, object]
        if isinstance(et, t.TypeBound):
            e = et.eq
            if isinstance(e, t.FuncType | t.InstanceType):
                out = self._needs(e)
            elif isinstance(e, t.ComponentType):
                out = {}
            else:
                out = self._reach_below(e)
        elif isinstance(et, t.FuncType):
            out = self._reach_below(et)
        elif isinstance(et, t.ValueBound):
            out = self._reach(et.type)
        elif isinstance(et, t.InstanceType):
            # every export is checked with all the instance's own names in scope
            own = self._named_by(et)
            out = {}
            for _, x in et.exports:
                out.update((k, v) for k, v in self._needs(x).items() if k not in own)
        else:
            out = {}
        self.needs_cache[id(et)] = (et, out)
        return out

    def _extern_valid(self, et: object, named: dict[int, object]) -> bool:
        return all(k in named for k in self._needs(et))

    # -- imports and exports ------------------------------------------------------------------

    def import_(self, name: ast.ExternName, desc: ast.ExternDesc, offset: int, scope: Scope,
                origin: int) -> None:
        et = self.extern_desc(desc, scope, offset)
        if isinstance(et, t.TypeBound) and desc.idx is not None:
            # a type known to this component only as one of its exports can't bound an import
            key = id(self._origin(et.eq)) if isinstance(et.eq, _SHARED_ID_KINDS) else id(et.eq)
            if key in scope.export_made and key not in scope.import_made:
                raise _err("type not valid to be used as import", offset)
            et = t.TypeBound(self._fresh(et.eq))
            if isinstance(et.eq, _SHARED_ID_KINDS):
                scope.import_made[key] = self._origin(et.eq)
        if scope.local_resources and any(r in scope.local_resources
                                         for r in tc.resources_in(et)):
            raise _err("local resource type found in imports", offset)
        p = self._check_name(name, et, scope, offset, True)
        self._resource_func_rules(p, et, scope.imp_resource_names, offset, True)
        self._register_name(p, scope.import_keys, None, "import", offset)
        self.type_size(et, offset)  # the limit first: every later walk is bounded by it
        if not self._extern_valid(et, scope.named_imp):
            raise _err(f"{tc.kind_name(et)} not valid to be used as import", offset)
        self._name_entity(et, scope.named_imp)
        self._name_entity(et, scope.named_exp)
        if isinstance(et, t.TypeBound) and isinstance(et.eq, t.ResourceType) and \
                p.kind == "label" and p.func is not None:
            scope.imp_resource_names[p.func] = et.eq
        self.type_size(et, offset)
        scope.imports.append((name.name, et))
        self._add_extern(scope, tc.kind_name(et), et, origin, "import", offset)

    def export_decl(self, d: ast.ExportDecl, scope: Scope) -> None:
        et = self.extern_desc(d.desc, scope, d.offset)
        if isinstance(et, t.TypeBound) and d.desc.idx is not None:
            et = t.TypeBound(self._fresh(et.eq))
        self._finish_export(d.name, et, d.offset, scope, -1)

    def _finish_export(self, name: ast.ExternName, et: object, offset: int, scope: Scope,
                       origin: int) -> None:
        p = self._check_name(name, et, scope, offset, False)
        self._resource_func_rules(p, et, scope.resource_names, offset, False)
        self._register_name(p, scope.export_keys, None, "export", offset)
        if scope.kind != "instance-type":
            named = scope.named_exp
            if not self._extern_valid(et, named):
                raise _err(f"{tc.kind_name(et)} not valid to be used as export", offset)
            if scope.kind == "component-type" and isinstance(et, t.FuncType | t.TypeBound):
                # exports inside component types must not be imported by name afterwards
                pass
        self._name_entity(et, scope.named_exp)
        if isinstance(et, t.TypeBound):
            made = self._origin(et.eq)
            scope.export_made[id(made)] = made
        if isinstance(et, t.TypeBound) and isinstance(et.eq, t.ResourceType) and \
                p.kind == "label" and p.func is not None:
            scope.resource_names[p.func] = et.eq
        scope.exports.append((name.name, et))
        self._add_extern(scope, tc.kind_name(et), et, origin, "export", offset)
        if isinstance(et, t.ValueBound):
            scope.value_used[-1] = True

    # -- core instances -----------------------------------------------------------------------

    def core_type_decl(self, d: ast.CoreTypeDecl, scope: Scope, origin: int) -> None:
        ty = d.type
        if isinstance(ty, ast.CoreRecGroup):
            self.rec_group(ty, scope, origin)
        else:
            mt = self.module_type_decl(ty, scope)
            scope.add("core type", mt, origin, "core-type")
            scope.core_final.append(True)

    def core_instantiate(self, d: ast.CoreInstantiate, scope: Scope, origin: int) -> None:
        mt = scope.get("core module", d.module, d.offset).type
        assert isinstance(mt, t.ModuleType)
        args: dict[str, CoreInstanceType] = {}
        for n, idx in d.args:
            if n in args:
                raise _err(f"duplicate module instantiation argument named `{n}`", d.offset)
            inst = scope.get("core instance", idx, d.offset).type
            assert isinstance(inst, CoreInstanceType)
            args[n] = inst
        for m, n, ty in mt.imports:
            inst2 = args.get(m)
            if inst2 is None:
                raise _err(f"missing module instantiation argument named `{m}`", d.offset)
            got = inst2.exports.get(n)
            if got is None:
                raise _err(f"module instantiation argument `{m}` does not export an item named "
                           f"`{n}`", d.offset)
            try:
                tc.check_core(got, ty)
            except tc.Mismatch as e:
                raise _err(f"type mismatch for export `{n}` of module instantiation argument "
                           f"`{m}`: {e.message}", d.offset) from None
        scope.add("core instance", CoreInstanceType(dict(mt.exports)), origin, "instantiate")

    def core_inline(self, d: ast.CoreInlineExports, scope: Scope, origin: int) -> None:
        ex: dict[str, t.CoreExternType] = {}
        for n, si in d.exports:
            key = _sort_key(si.sort)
            if key not in ("core func", "core table", "core memory", "core global", "core tag"):
                raise _err(f"invalid core export sort `{si.sort}`", d.offset)
            if n in ex:
                raise _err(f"export name `{n}` already defined", d.offset)
            ty = scope.get(key, si.idx, d.offset).type
            ex[n] = ty  # type: ignore[assignment]
        scope.add("core instance", CoreInstanceType(ex), origin, "inline-export")

    # -- component instances -------------------------------------------------------------------

    def _item_type(self, si: ast.SortIdx, scope: Scope, offset: int, use: bool = True) -> object:
        key = _sort_key(si.sort)
        if key == "core module":
            return scope.get(key, si.idx, offset).type
        if key.startswith("core "):
            raise _err(f"invalid sort `{si.sort}`: only modules may be exported or passed",
                       offset)
        ent = scope.get(key, si.idx, offset).type
        if key == "type":
            return t.TypeBound(ent)  # type: ignore[arg-type]
        if key == "value":
            if use:
                if scope.value_used[si.idx]:
                    raise _err(f"value index {si.idx} cannot be used more than once", offset)
                scope.value_used[si.idx] = True
            assert isinstance(ent, t.Type)
            return t.ValueBound(ent)
        return ent

    def instantiate(self, d: ast.Instantiate, scope: Scope, origin: int) -> None:
        ct = scope.get("component", d.component, d.offset).type
        assert isinstance(ct, t.ComponentType)
        args: dict[str, object] = {}
        keys: dict[str, str] = {}
        for n, si in d.args:
            p = ParsedName(n, "raw")
            try:
                p = parse_name(n, d.offset, self.features)
                k = unique_key(p)
            except ValidationError:
                k = n
            if k in keys:
                raise _err(f"instantiation argument `{n}` conflicts with previous argument "
                           f"`{keys[k]}`", d.offset)
            keys[k] = n
            args[n] = self._item_type(si, scope, d.offset)
        imported = tc.bound_resources(ct.imports)
        mapping: dict[t.ResourceType, t.ResourceType] = {}
        renames: dict[int, object] = {}
        for n, exp in ct.imports:
            got = args.get(n)
            if got is None:
                raise _err(f"missing import named `{n}`", d.offset)
            try:
                tc.match_resources(exp, got, imported, mapping)
                tc.check_subtype(got, tc.substitute(exp, mapping, {}))
            except tc.Mismatch as e:
                raise _err(f"type mismatch for import `{n}`: {e.message}", d.offset) from None
            tc.register_type_renamings(exp, got, renames)
        for r in ct.defined_resources:
            mapping[r] = t.ResourceType.fresh(r.name)
        memo: dict[int, object] = {}
        exports = tuple((n, tc.substitute(x, mapping, memo, renames)) for n, x in ct.exports)
        it = t.InstanceType(exports)  # type: ignore[arg-type]
        self.type_size(it, d.offset)
        scope.add("instance", it, origin, "instantiate")

    def inline_exports(self, d: ast.InlineExports, scope: Scope, origin: int) -> None:
        keys: dict[str, str] = {}
        exports: list[tuple[str, Any]] = []
        names: dict[str, t.ResourceType] = {}
        for name, si in d.exports:
            et = self._item_type(si, scope, d.offset)
            if isinstance(et, t.TypeBound):
                et = t.TypeBound(self._fresh(et.eq))
            p = self._check_name(name, et, scope, d.offset, False)
            self._resource_func_rules(p, et, names, d.offset, False)
            self._register_name(p, keys, None, "export", d.offset)
            if isinstance(et, t.TypeBound) and isinstance(et.eq, t.ResourceType) and \
                    p.kind == "label" and p.func is not None:
                names[p.func] = et.eq
            exports.append((name.name, et))
        scope.add("instance", t.InstanceType(tuple(exports)), origin, "inline-export")

    # -- canon --------------------------------------------------------------------------------

    def canon(self, d: ast.Canon, scope: Scope, origin: int) -> CanonInfo:
        from .canon import check_canon
        return check_canon(self, d, scope, origin)

    # -- start ----------------------------------------------------------------------------------

    def start(self, d: ast.Start, scope: Scope, origin: int) -> None:
        if not self.features.cm_values:
            raise _err("support for component model `value`s is not enabled", d.offset)
        if scope.has_start:
            raise _err("component cannot have more than one start function", d.offset)
        scope.has_start = True
        ft = scope.get("func", d.func, d.offset).type
        assert isinstance(ft, t.FuncType)
        if len(ft.params) != len(d.args):
            raise _err(f"component start function requires {len(ft.params)} arguments but was "
                       f"given {len(d.args)}", d.offset)
        for i, (a, (_, pt)) in enumerate(zip(d.args, ft.params, strict=True)):
            vt = self._item_type(ast.SortIdx(ast.Sort(False, "value"), a), scope, d.offset)
            assert isinstance(vt, t.ValueBound)
            try:
                tc.check_valtype(vt.type, pt)
            except tc.Mismatch as e:
                raise _err(f"type mismatch for component start function argument {i}: "
                           f"{e.message}", d.offset) from None
        nres = 0 if ft.result is None else 1
        if nres != d.results:
            raise _err(f"component start function has a result count of {nres} but the "
                       f"function type has a result count of {d.results}", d.offset)
        if ft.result is not None:
            scope.add("value", ft.result, origin, "start")
            scope.value_used.append(False)
            scope.value_offsets.append(d.offset)

    # -- the component -------------------------------------------------------------------------

    def component(self, comp: ast.Component, parent: Scope | None) -> ValidatedComponent:
        scope = Scope("component", parent, self.features)
        saved = self.resources_out
        self.resources_out = {}
        canons: dict[int, CanonInfo] = {}
        nested: dict[int, ValidatedComponent] = {}
        for i, d in enumerate(comp.definitions):
            if isinstance(d, ast.CoreModule):
                scope.add("core module", self.module_type_of(d.info, d.offset), i, "module")
            elif isinstance(d, ast.CoreInstantiate):
                self.core_instantiate(d, scope, i)
            elif isinstance(d, ast.CoreInlineExports):
                self.core_inline(d, scope, i)
            elif isinstance(d, ast.CoreTypeDecl):
                self.core_type_decl(d, scope, i)
            elif isinstance(d, ast.NestedComponent):
                vc = self.component(d.component, scope)
                nested[i] = vc
                scope.add("component", vc.type, i, "component")
            elif isinstance(d, ast.Instantiate):
                self.instantiate(d, scope, i)
            elif isinstance(d, ast.InlineExports):
                self.inline_exports(d, scope, i)
            elif isinstance(d, ast.AliasExport | ast.AliasCoreExport | ast.AliasOuter):
                self.alias(d, scope, i)
            elif isinstance(d, ast.TypeDef):
                self.typedef(d, scope, i)
            elif isinstance(d, ast.Canon):
                canons[i] = self.canon(d, scope, i)
            elif isinstance(d, ast.Start):
                self.start(d, scope, i)
            elif isinstance(d, ast.Import):
                self.import_(d.name, d.desc, d.offset, scope, i)
            elif isinstance(d, ast.Export):
                self.export(d, scope, i)
            elif isinstance(d, ast.ValueDef):
                self.value_def(d, scope, i)
        for j, used in enumerate(scope.value_used):
            if not used:
                raise _err(f"value index {j} was not used as part of an instantiation, start "
                           f"function, or export", scope.value_offsets[j])
        imported = tc.bound_resources(scope.imports)
        defined = tuple(r for r in tc.bound_resources(scope.exports, any_kind=True)
                        if r not in imported)
        ctype = t.ComponentType(tuple(scope.imports), tuple(scope.exports), defined)
        self.type_size(ctype, comp.offset)
        resources = self.resources_out
        self.resources_out = saved
        return ValidatedComponent(comp, ctype, scope.spaces, canons, nested, resources)

    def export(self, d: ast.Export, scope: Scope, origin: int) -> None:
        et = self._item_type(d.item, scope, d.offset)
        if d.desc is not None:
            asc = self.extern_desc(d.desc, scope, d.offset)
            try:
                tc.check_subtype(et, asc)
            except tc.Mismatch as e:
                raise _err(f"ascribed type of export is not compatible with item's type: "
                           f"{e.message}", d.offset) from None
            et = asc
        if isinstance(et, t.TypeBound):
            et = t.TypeBound(self._fresh(et.eq))
        self._finish_export(d.name, et, d.offset, scope, origin)

    def value_def(self, d: ast.ValueDef, scope: Scope, origin: int) -> None:
        if not self.features.cm_values:
            raise _err("support for component model `value`s is not enabled", d.offset)
        ty = self.valtype(d.type, scope, d.offset)
        decode_value(ty, d.data, d.offset)  # (malformed bytes: a ValidationError here)
        scope.add("value", ty, origin, "value")
        scope.value_used.append(False)
        scope.value_offsets.append(d.offset)


def _core_key(ent: object) -> str:
    if isinstance(ent, CoreGcType):
        return ent.key
    return str(ent)


def _elem_size(ty: t.Type, memo: dict[int, int]) -> int:
    k = id(ty)
    if k in memo:
        return memo[k]
    n: int
    if isinstance(ty, t.PrimType):
        n = {"bool": 1, "s8": 1, "u8": 1, "s16": 2, "u16": 2, "s64": 8, "u64": 8,
             "f64": 8, "string": 8}.get(ty.name, 4)
    elif isinstance(ty, t.ListType):
        n = 8 if ty.length is None else _elem_size(ty.element, memo) * ty.length
    elif isinstance(ty, t.RecordType | t.TupleType):
        items = [x for _, x in ty.fields] if isinstance(ty, t.RecordType) else list(ty.types)
        n = sum(_elem_size(x, memo) for x in items) + 8 * len(items)
    elif isinstance(ty, t.VariantType | t.ResultType | t.OptionType):
        cs: list[t.Type | None]
        if isinstance(ty, t.VariantType):
            cs = [x for _, x in ty.cases]
        elif isinstance(ty, t.ResultType):
            cs = [ty.ok, ty.err]
        else:
            cs = [ty.inner]
        n = 8 + max((0 if x is None else _elem_size(x, memo)) for x in cs)
    else:
        n = 8
    memo[k] = n
    return n
