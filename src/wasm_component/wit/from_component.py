"""From a component binary back to WIT: the world a component implements, or a WIT package that
was encoded as a component.

This mirrors wit-component's decoder (what ``wasm-tools component wit`` prints). The component's
definitions are walked with a small *type-identity* model: every type index-space entry is an
object whose identity stands for wasmparser's type id. Importing or exporting a type creates a
new :class:`_Alias` node pointing at the type it refers to, resources are unique :class:`_Res`
nodes, and instantiating a nested component binds its type imports to the argument nodes, so the
types an exported instance exposes still point (through alias chains) at the types of the
instances they were built from. Decoding then follows wit-component:

- every imported/exported instance named ``ns:pkg/iface@ver`` is an interface of package
  ``ns:pkg@ver``; an instance seen a second time under the same name (an interface both imported
  and exported) is merged into the first one by export name;
- a type export becomes a named type; if its alias chain reaches a type already given a WIT id,
  it is a ``type x = y`` alias (a ``use`` when the target lives in another interface), otherwise
  its definition is converted;
- other (anonymous) value types become anonymous type definitions, one per type node;
- functions named ``[constructor]r``/``[method]r.f``/``[static]r.f`` belong to resource ``r``.

The validated public :mod:`wasm_component.types` model is not used here because it compares
types structurally: it cannot tell ``use a.{t}`` from an identical ``record t`` of another
interface.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .._binary import ast
from ..errors import ComponentError, WitError
from .model import (
    EnumCase,
    Field,
    Flag,
    Function,
    Interface,
    KEnum,
    KFixedList,
    KFlags,
    KFuture,
    KHandle,
    KList,
    KMap,
    KOption,
    KRecord,
    KResource,
    KResult,
    KStream,
    KTuple,
    KType,
    KVariant,
    Package,
    PackageName,
    Type,
    TypeDef,
    TypeDefKind,
    TypeOwner,
    VariantCase,
    Version,
    World,
    WorldItem,
    WorldItemFunction,
    WorldItemInterface,
    WorldItemType,
    WorldKey,
)
from .resolve import Resolve

__all__ = ["component_to_resolve", "decode_wit_package", "is_wit_package"]


# --- the type-identity model ---------------------------------------------------------------------


class _Res:
    """A resource type (defined, imported or exported as ``(sub resource)``)."""

    __slots__ = ()


class _Alias:
    """The type created by importing/exporting a type ``(eq target)``."""

    __slots__ = ("target",)

    def __init__(self, target: _Ref) -> None:
        self.target = target


class _Def:
    """A defined value type: ``kind`` is the ast class name, ``body`` its resolved payload."""

    __slots__ = ("body", "kind")

    def __init__(self, kind: str, body: Any) -> None:
        self.kind = kind
        self.body = body


_Ref = str | _Res | _Alias | _Def


@dataclass(eq=False)
class _Func:
    params: list[tuple[str, _Ref]]
    result: _Ref | None
    is_async: bool


@dataclass(eq=False)
class _Inst:
    exports: list[tuple[str, object]] = field(default_factory=list)

    def get(self, name: str) -> object:
        for n, item in self.exports:
            if n == name:
                return item
        raise WitError(f"instance has no export named `{name}`")


@dataclass(eq=False)
class _Comp:
    """A component type (declared, or of a component whose imports/exports we evaluated)."""

    imports: list[tuple[ast.ExternName, object]] = field(default_factory=list)
    exports: list[tuple[ast.ExternName, object]] = field(default_factory=list)


@dataclass(eq=False)
class _Nested:
    """A nested component definition, instantiated lazily with its arguments."""

    component: ast.Component
    scope: _Scope


class _Value:
    __slots__ = ()


_SORTS = ("func", "value", "type", "component", "instance")


class _Scope:
    def __init__(self, parent: _Scope | None) -> None:
        self.parent = parent
        self.spaces: dict[str, list[object]] = {s: [] for s in _SORTS}

    def get(self, sort: str, idx: int) -> object:
        space = self.spaces[sort]
        if not 0 <= idx < len(space):
            raise WitError(f"{sort} index {idx} out of bounds")
        return space[idx]

    def ref(self, r: ast.ValTypeRef) -> _Ref:
        if isinstance(r, str):
            return r
        ent = self.get("type", r)
        if not isinstance(ent, str | _Res | _Alias | _Def):
            raise WitError(f"type index {r} is not a value type")
        return ent

    def outer(self, count: int) -> _Scope:
        s: _Scope | None = self
        for _ in range(count):
            s = s.parent if s is not None else None
        if s is None:
            raise WitError(f"outer alias count {count} is too large")
        return s


def _def_value(body: ast.DefValType, scope: _Scope) -> _Ref:
    r = scope.ref
    if isinstance(body, ast.PrimDef):
        return body.name
    if isinstance(body, ast.RecordDef):
        return _Def("record", [(n, r(x)) for n, x in body.fields])
    if isinstance(body, ast.VariantDef):
        return _Def("variant", [(n, None if x is None else r(x)) for n, x in body.cases])
    if isinstance(body, ast.ListDef):
        return _Def("list", (r(body.element), body.length))
    if isinstance(body, ast.TupleDef):
        return _Def("tuple", [r(x) for x in body.types])
    if isinstance(body, ast.FlagsDef):
        return _Def("flags", list(body.names))
    if isinstance(body, ast.EnumDef):
        return _Def("enum", list(body.names))
    if isinstance(body, ast.OptionDef):
        return _Def("option", r(body.inner))
    if isinstance(body, ast.ResultDef):
        return _Def(
            "result",
            (None if body.ok is None else r(body.ok), None if body.err is None else r(body.err)),
        )
    if isinstance(body, ast.OwnDef | ast.BorrowDef):
        res = scope.get("type", body.resource)
        if not isinstance(res, _Res | _Alias):
            raise WitError(f"type index {body.resource} is not a resource")
        return _Def("own" if isinstance(body, ast.OwnDef) else "borrow", res)
    if isinstance(body, ast.StreamDef | ast.FutureDef):
        el = None if body.element is None else r(body.element)
        return _Def("stream" if isinstance(body, ast.StreamDef) else "future", el)
    if isinstance(body, ast.MapDef):
        return _Def("map", (r(body.key), r(body.value)))
    raise WitError(f"unsupported type definition {type(body).__name__}")


class _Evaluator:
    """Walks definitions and declarators, filling index spaces with identity nodes."""

    def typedef(self, body: ast.TypeDefBody, scope: _Scope) -> object:
        if isinstance(body, ast.FuncTypeDef):
            return _Func(
                [(n, scope.ref(x)) for n, x in body.params],
                None if body.result is None else scope.ref(body.result),
                body.is_async,
            )
        if isinstance(body, ast.InstanceTypeDef):
            inner = _Scope(scope)
            inst = _Inst()
            for d in body.decls:
                if isinstance(d, ast.ExportDecl):
                    inst.exports.append((d.name.name, self.decl_extern(d.desc, inner)))
                else:
                    self.decl_common(d, inner)
            return inst
        if isinstance(body, ast.ComponentTypeDef):
            inner = _Scope(scope)
            comp = _Comp()
            for cd in body.decls:
                if isinstance(cd, ast.ImportDecl):
                    comp.imports.append((cd.name, self.decl_extern(cd.desc, inner)))
                elif isinstance(cd, ast.ExportDecl):
                    comp.exports.append((cd.name, self.decl_extern(cd.desc, inner)))
                else:
                    self.decl_common(cd, inner)
            return comp
        if isinstance(body, ast.ResourceTypeDef):
            return _Res()
        return _def_value(body, scope)

    def decl_common(self, d: object, scope: _Scope) -> None:
        if isinstance(d, ast.TypeDef):
            scope.spaces["type"].append(self.typedef(d.body, scope))
        elif isinstance(d, ast.AliasOuter | ast.AliasExport):
            self.alias(d, scope)
        # core type declarators: nothing to track

    def alias(self, d: ast.AliasOuter | ast.AliasExport, scope: _Scope) -> None:
        if d.sort.core:
            return
        sort = d.sort.name
        if isinstance(d, ast.AliasOuter):
            scope.spaces[sort].append(scope.outer(d.count).get(sort, d.idx))
            return
        inst = scope.get("instance", d.instance)
        if not isinstance(inst, _Inst):
            raise WitError(f"instance index {d.instance} is not an instance")
        scope.spaces[sort].append(inst.get(d.name))

    def extern_desc(self, desc: ast.ExternDesc, scope: _Scope) -> object:
        """The item an import/export declaration describes (not yet added to a space)."""
        k = desc.kind
        if k == "type":
            if desc.idx is None:
                return _Res()
            target = scope.get("type", desc.idx)
            if isinstance(target, str | _Res | _Alias | _Def):
                return _Alias(target)
            return target  # a func/instance/component type bound
        if k in ("func", "instance", "component"):
            assert desc.idx is not None
            return scope.get("type", desc.idx)
        return _Value()

    def decl_extern(self, desc: ast.ExternDesc, scope: _Scope) -> object:
        item = self.extern_desc(desc, scope)
        self.push(scope, desc.kind, item)
        return item

    @staticmethod
    def push(scope: _Scope, kind: str, item: object) -> None:
        if kind in scope.spaces:
            scope.spaces[kind].append(item)

    def component(
        self, comp: ast.Component, parent: _Scope | None, args: dict[str, object] | None
    ) -> _Comp:
        """Evaluate a component; ``args`` binds its imports (instantiation)."""
        scope = _Scope(parent)
        out = _Comp()
        for d in comp.definitions:
            if isinstance(d, ast.TypeDef):
                scope.spaces["type"].append(self.typedef(d.body, scope))
            elif isinstance(d, ast.AliasOuter | ast.AliasExport):
                self.alias(d, scope)
            elif isinstance(d, ast.Import):
                if args is not None and d.name.name in args:
                    item = args[d.name.name]
                else:
                    item = self.extern_desc(d.desc, scope)
                self.push(scope, d.desc.kind, item)
                out.imports.append((d.name, item))
            elif isinstance(d, ast.Export):
                item = self.export_item(d, scope)
                self.push(scope, d.item.sort.name, item)
                out.exports.append((d.name, item))
            elif isinstance(d, ast.Canon):
                if d.kind == "lift":
                    assert d.type is not None
                    scope.spaces["func"].append(scope.get("type", d.type))
            elif isinstance(d, ast.NestedComponent):
                scope.spaces["component"].append(_Nested(d.component, scope))
            elif isinstance(d, ast.Instantiate):
                scope.spaces["instance"].append(self.instantiate(d, scope))
            elif isinstance(d, ast.InlineExports):
                inst = _Inst()
                for name, si in d.exports:
                    if not si.sort.core:
                        inst.exports.append((name.name, scope.get(si.sort.name, si.idx)))
                scope.spaces["instance"].append(inst)
            elif isinstance(d, ast.ValueDef):
                scope.spaces["value"].append(_Value())
            elif isinstance(d, ast.Start):
                scope.spaces["value"].extend(_Value() for _ in range(d.results))
        return out

    def export_item(self, d: ast.Export, scope: _Scope) -> object:
        if d.item.sort.core:
            raise WitError(f"core export `{d.name.name}` in a component")
        sort = d.item.sort.name
        item = scope.get(sort, d.item.idx)
        if d.desc is not None and sort in ("func", "instance", "component"):
            # an ascribed type: its type nodes are what the outside sees
            item = self.extern_desc(d.desc, scope)
        if sort == "type" and isinstance(item, str | _Res | _Alias | _Def):
            return _Alias(item)
        return item

    def instantiate(self, d: ast.Instantiate, scope: _Scope) -> _Inst:
        nested = scope.get("component", d.component)
        args: dict[str, object] = {}
        for name, si in d.args:
            if not si.sort.core:
                args[name] = scope.get(si.sort.name, si.idx)
        if isinstance(nested, _Nested):
            comp = self.component(nested.component, nested.scope, args)
        elif isinstance(nested, _Comp):
            comp = nested  # an imported component type: its exports as declared
        else:
            raise WitError(f"component index {d.component} is not a component")
        return _Inst([(n.name, item) for n, item in comp.exports])


# --- names ---------------------------------------------------------------------------------------


def _interface_name(name: str) -> tuple[PackageName, str] | None:
    """``ns:pkg/iface@ver`` -> (package name, interface name); ``None`` for plain names."""
    if ":" not in name or "/" not in name:
        return None
    base, _, ver = name.partition("@")
    ns, _, rest = base.partition(":")
    pkg, _, iface = rest.rpartition("/")
    if "/" in pkg:  # nested namespaces: keep the outer path in the package name
        return None
    return PackageName(ns, pkg, Version(ver) if ver else None), iface


def _component_name(name: str) -> tuple[PackageName, str]:
    got = _interface_name(name)
    if got is None:
        raise WitError(f"`{name}` is not a fully-qualified `ns:pkg/name` name")
    return got


_FUNC_PREFIXES = (
    ("[constructor]", "constructor"),
    ("[method]", "method"),
    ("[static]", "static"),
    ("[async method]", "async-method"),
    ("[async static]", "async-static"),
    ("[async]", "async-freestanding"),
)


def _function_kind(name: str, is_async: bool) -> tuple[str, str | None, str]:
    """(kind, resource name, WIT function name) for a component function name."""
    for prefix, kind in _FUNC_PREFIXES:
        if name.startswith(prefix):
            rest = name[len(prefix) :]
            wit_name = name
            if kind.startswith("async") and prefix != "[async]":
                base = kind.split("-", 1)[1]
                wit_name = f"[{base}]{rest}"
            elif prefix == "[async]":
                wit_name = rest
            if kind == "constructor":
                return kind, rest, wit_name
            if kind == "async-freestanding":
                return kind, None, wit_name
            res = rest.split(".", 1)[0]
            if is_async and not kind.startswith("async"):
                kind = f"async-{kind}"
            return kind, res, wit_name
    return ("async-freestanding" if is_async else "freestanding"), None, name


# --- decoding into a Resolve ---------------------------------------------------------------------


class _Decoder:
    def __init__(self, resolve: Resolve) -> None:
        self.r = resolve
        self.type_map: dict[int, int] = {}
        self.keep: list[object] = []  # keeps mapped nodes alive (ids stay unique)
        # packages created here, keyed by name; the main one is appended last by finish()
        self.pending: dict[PackageName, Package] = {}
        self.pending_ifaces: dict[PackageName, list[int]] = {}
        self.pending_worlds: dict[PackageName, list[int]] = {}
        self.main: PackageName | None = None
        self.inline: list[int] = []

    # -- packages and interfaces --

    def _iface_in_package(self, pname: PackageName, iname: str) -> int | None:
        pid = self.r.package_names.get(pname)
        if pid is not None:
            return self.r.packages[pid].interfaces.get(iname)
        pending = self.pending.get(pname)
        if pending is not None:
            return pending.interfaces.get(iname)
        return None

    def _package(self, pname: PackageName) -> tuple[Package, int | None]:
        pid = self.r.package_names.get(pname)
        if pid is not None:
            return self.r.packages[pid], pid
        pkg = self.pending.get(pname)
        if pkg is None:
            pkg = Package(pname)
            self.pending[pname] = pkg
            self.pending_ifaces[pname] = []
            self.pending_worlds[pname] = []
            if pname != self.main:
                self._flush(pname)
                return self.r.packages[self.r.package_names[pname]], self.r.package_names[pname]
        return pkg, None

    def _flush(self, pname: PackageName) -> None:
        pkg = self.pending.pop(pname)
        pid = len(self.r.packages)
        self.r.packages.append(pkg)
        self.r.package_names[pname] = pid
        for iid in self.pending_ifaces.pop(pname):
            self.r.interfaces[iid].package = pid
        for wid in self.pending_worlds.pop(pname):
            self.r.worlds[wid].package = pid

    def finish(self) -> None:
        for pname in list(self.pending):
            self._flush(pname)

    def named_interface(self, name: str, inst: _Inst) -> int:
        pname, iname = _component_name(name)
        existing = self._iface_in_package(pname, iname)
        if existing is not None:
            self.merge_interface(existing, inst)
            return existing
        pkg, pid = self._package(pname)
        iid = self.new_interface(iname, pid, inst)
        pkg.interfaces[iname] = iid
        if pid is None:
            self.pending_ifaces[pname].append(iid)
        return iid

    def new_interface(self, name: str | None, package: int | None, inst: _Inst) -> int:
        iid = len(self.r.interfaces)
        iface = Interface(name, package=package)
        self.r.interfaces.append(iface)
        owner: TypeOwner = ("interface", iid)
        for ename, item in inst.exports:
            if isinstance(item, _Res | _Alias):
                iface.types[ename] = self.type_export(ename, owner, item)
            elif isinstance(item, _Func):
                iface.functions[ename] = self.function(ename, item, iface.types)
            else:
                raise WitError(f"export `{ename}` of interface `{name}` is not a type or function")
        return iid

    def merge_interface(self, iid: int, inst: _Inst) -> None:
        iface = self.r.interfaces[iid]
        owner: TypeOwner = ("interface", iid)
        for ename, item in inst.exports:
            if isinstance(item, _Res | _Alias):
                prev = iface.types.get(ename)
                if prev is not None:
                    self._map(item, prev)
                else:
                    iface.types[ename] = self.type_export(ename, owner, item)
            elif isinstance(item, _Func):
                if ename not in iface.functions:
                    iface.functions[ename] = self.function(ename, item, iface.types)
            else:
                raise WitError(f"export `{ename}` of interface `{iface.name}` is not a type or "
                               "function")

    # -- types --

    def _map(self, node: object, tid: int) -> None:
        self.type_map[id(node)] = tid
        self.keep.append(node)

    def find(self, node: _Ref) -> int | None:
        cur: _Ref = node
        while True:
            if not isinstance(cur, str):
                got = self.type_map.get(id(cur))
                if got is not None:
                    return got
            if isinstance(cur, _Alias):
                cur = cur.target
            else:
                return None

    def _alloc(self, td: TypeDef) -> int:
        self.r.types.append(td)
        return len(self.r.types) - 1

    def type_export(self, name: str, owner: TypeOwner, node: _Res | _Alias) -> int:
        referenced: _Ref = node.target if isinstance(node, _Alias) else node
        prev = self.find(referenced)
        kind: TypeDefKind
        if prev is not None:
            kind = KType(prev)
        elif isinstance(referenced, str):
            kind = KType(referenced)
        else:
            base: _Ref = referenced
            while isinstance(base, _Alias):
                base = base.target
            if isinstance(base, str):
                kind = KType(base)
            elif isinstance(base, _Res):
                kind = KResource()
            else:
                kind = self.defined(base)
        tid = self._alloc(TypeDef(name, kind, owner))
        self._map(node, tid)
        return tid

    def ty(self, node: _Ref) -> Type:
        if isinstance(node, str):
            return node
        got = self.find(node)
        if got is not None:
            return got
        if isinstance(node, _Alias):
            return self.ty(node.target)
        if isinstance(node, _Res):
            raise WitError("a resource type used here has no name")
        if node.kind in ("record", "variant", "enum", "flags"):
            raise WitError(f"a {node.kind} type used here has no name")
        kind = self.defined(node)
        tid = self._alloc(TypeDef(None, kind, None))
        self._map(node, tid)
        return tid

    def _opt(self, node: _Ref | None) -> Type | None:
        return None if node is None else self.ty(node)

    def defined(self, d: _Def) -> TypeDefKind:
        k, b = d.kind, d.body
        if k == "record":
            return KRecord([Field(n, self.ty(x)) for n, x in b])
        if k == "variant":
            return KVariant([VariantCase(n, self._opt(x)) for n, x in b])
        if k == "enum":
            return KEnum([EnumCase(n) for n in b])
        if k == "flags":
            return KFlags([Flag(n) for n in b])
        if k == "list":
            el, length = b
            return KList(self.ty(el)) if length is None else KFixedList(self.ty(el), length)
        if k == "tuple":
            return KTuple([self.ty(x) for x in b])
        if k == "option":
            return KOption(self.ty(b))
        if k == "result":
            return KResult(self._opt(b[0]), self._opt(b[1]))
        if k in ("own", "borrow"):
            rid = self.find(b)
            if rid is None:
                raise WitError("a resource type used here has no name")
            return KHandle(k, rid)
        if k == "future":
            return KFuture(self._opt(b))
        if k == "stream":
            return KStream(self._opt(b))
        if k == "map":
            return KMap(self.ty(b[0]), self.ty(b[1]))
        raise AssertionError(k)  # pragma: no cover

    # -- functions --

    def function(self, name: str, f: _Func, types: dict[str, int]) -> Function:
        kind, res_name, wit_name = _function_kind(name, f.is_async)
        resource: int | None = None
        if res_name is not None:
            resource = types.get(res_name)
            if resource is None:
                raise WitError(f"function `{name}` refers to unknown resource `{res_name}`")
            # the resource itself, not an alias of it
            while True:
                k = self.r.types[resource].kind
                if isinstance(k, KType) and isinstance(k.ty, int):
                    resource = k.ty
                else:
                    break
        params = [(n, self.ty(t)) for n, t in f.params]
        result = None if f.result is None else self.ty(f.result)
        return Function(wit_name, kind, params, result, resource)

    # -- worlds --

    def world_item(
        self, world: World, wid: int, name: ast.ExternName, item: object, is_import: bool
    ) -> tuple[WorldKey, WorldItem]:
        key = name.name
        if isinstance(item, _Inst):
            if _interface_name(key) is not None:
                iid = self.named_interface(key, item)
                return iid, WorldItemInterface(iid)
            if name.implements is not None and _interface_name(name.implements) is not None:
                target = self.named_interface(name.implements, item)
                return key, WorldItemInterface(target, implements=target)
            iid = self.new_interface(None, None, item)
            self.inline.append(iid)
            return key, WorldItemInterface(iid)
        if isinstance(item, _Func):
            types = {
                n: it.id for n, it in world.imports.items()
                if isinstance(n, str) and isinstance(it, WorldItemType)
            }
            if not is_import:
                types.update({
                    n: it.id for n, it in world.exports.items()
                    if isinstance(n, str) and isinstance(it, WorldItemType)
                })
            return key, WorldItemFunction(self.function(key, item, types))
        if isinstance(item, _Res | _Alias):
            return key, WorldItemType(self.type_export(key, ("world", wid), item))
        what = "import" if is_import else "export"
        raise WitError(f"component {what} `{key}` is not a function, instance or type")

    def world(self, name: str, package: int | None, comp: _Comp) -> int:
        wid = len(self.r.worlds)
        world = World(name, package=package)
        self.r.worlds.append(world)
        self.inline = []
        for ename, item in comp.imports:
            key, witem = self.world_item(world, wid, ename, item, True)
            world.imports[key] = witem
        for ename, item in comp.exports:
            key, witem = self.world_item(world, wid, ename, item, False)
            world.exports[key] = witem
        for iid in self.inline:
            self.r.interfaces[iid].package = package
        return wid


def _decode_bytes(data: bytes | bytearray | memoryview | str) -> ast.Component:
    from .._binary.reader import decode_component, is_component
    from ..component import to_binary

    binary = to_binary(data)
    if not is_component(binary):
        raise WitError("input is not a WebAssembly component")
    return decode_component(binary)


def _as_ast(component_or_bytes: object) -> ast.Component:
    from ..component import Component

    if isinstance(component_or_bytes, Component):
        return component_or_bytes._ast
    if isinstance(component_or_bytes, ast.Component):
        return component_or_bytes
    if isinstance(component_or_bytes, bytes | bytearray | memoryview | str):
        return _decode_bytes(component_or_bytes)
    raise TypeError(f"expected a Component or component bytes, got {type(component_or_bytes)}")


def is_wit_package(component_or_bytes: object) -> bool:
    """Whether the component is a WIT package encoding: only exports of component types."""
    comp = _as_ast(component_or_bytes)
    top = _Evaluator().component(comp, None, {})
    return _is_package(top)


def _is_package(top: _Comp) -> bool:
    return bool(top.exports) and not top.imports and all(
        isinstance(item, _Comp) for _, item in top.exports
    )


def component_to_resolve(component_or_bytes: object) -> tuple[Resolve, int]:
    """The world a component's imports and exports describe (``wasm-tools component wit``).

    Accepts a :class:`~wasm_component.Component`, or component bytes/WAT text. Returns the
    resolve and the id of world ``root`` of package ``root:component``; interfaces named
    ``ns:pkg/iface`` are placed in their own packages.
    """
    comp = _as_ast(component_or_bytes)
    try:
        top = _Evaluator().component(comp, None, None)
        resolve = Resolve()
        dec = _Decoder(resolve)
        root = PackageName("root", "component")
        dec.main = root
        pkg, _ = dec._package(root)
        wid = dec.world("root", None, top)
        pkg.worlds["root"] = wid
        dec.pending_worlds[root].append(wid)
        dec.finish()
        for iid in dec.inline:
            resolve.interfaces[iid].package = resolve.worlds[wid].package
    except RecursionError:
        raise WitError("component types nest too deeply") from None
    return resolve, wid


def decode_wit_package(
    data: object, resolve: Resolve | None = None
) -> tuple[Resolve, int]:
    """Decode a WIT package encoded as a component (``wasm-tools component wit --wasm``).

    The packages are added to ``resolve`` (a new one by default; packages it already has are
    merged by interface name). Returns the resolve and the id of the encoded package.
    """
    comp = _as_ast(data)
    r = resolve if resolve is not None else Resolve()
    try:
        top = _Evaluator().component(comp, None, None)
        if not _is_package(top):
            raise WitError("input is a component, not a WIT package encoded as a component")
        # the package's own name: from the first item export
        main: PackageName | None = None
        for _, item in top.exports:
            assert isinstance(item, _Comp)
            for en, _inner in item.exports:
                main = _component_name(en.name)[0]
                break
            if main is not None:
                break
        if main is None:
            raise WitError("the WIT package has no named interface or world")
        dec = _Decoder(r)
        dec.main = main
        for _, item in top.exports:
            assert isinstance(item, _Comp)
            for iname, imp in item.imports:
                if not isinstance(imp, _Inst):
                    raise WitError(f"import `{iname.name}` is not an instance")
                dec.named_interface(iname.name, imp)
            for ename, exp in item.exports:
                pname, local = _component_name(ename.name)
                if pname != main:
                    raise WitError(f"export `{ename.name}` is not in package `{main}`")
                if isinstance(exp, _Inst):
                    dec.named_interface(ename.name, exp)
                elif isinstance(exp, _Comp):
                    pkg, pid = dec._package(main)
                    wid = dec.world(local, pid, exp)
                    pkg.worlds[local] = wid
                    if pid is None:
                        dec.pending_worlds[main].append(wid)
                        dec.pending_ifaces[main].extend(dec.inline)
                else:
                    raise WitError(f"export `{ename.name}` is not an instance or component")
        if main not in dec.pending and main not in r.package_names:
            dec._package(main)
        dec.finish()
    except RecursionError:
        raise WitError("component types nest too deeply") from None
    except ComponentError:
        raise
    return r, r.package_names[main]
