"""First resolution phase: the files of *one* package -> an :class:`UnresolvedPackage`.

Names inside the package are resolved here (``use`` between interfaces, type references,
resource methods, world items) and everything is laid out in topological order. References to
other packages stay symbolic: each foreign interface/world gets a placeholder entry and each
type used from it a ``KUnknown`` type; :mod:`.resolve` later binds those to real ids when the
package is merged into a :class:`~.resolve.Resolve`. Splitting the phases this way lets packages
be parsed independently and only then sorted by their dependencies.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, field

from . import ast
from .lexer import SourceMap, SpanError
from .model import (
    PRIMITIVES,
    Docs,
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
    KUnknown,
    KVariant,
    PackageName,
    Stability,
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

__all__ = ["UnresolvedPackage", "resolve_package", "toposort"]

AstRef = tuple[str, int]  # ("interface" | "world", id)
_MAP_KEYS = frozenset(
    ["bool", "u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64", "char", "string"]
)


@dataclass
class WorldSpans:
    span: int
    imports: list[int] = field(default_factory=list)
    exports: list[int] = field(default_factory=list)
    includes: list[int] = field(default_factory=list)


@dataclass
class UnresolvedPackage:
    name: PackageName
    name_span: int
    source_map: SourceMap
    docs: Docs = field(default_factory=Docs)
    types: list[TypeDef] = field(default_factory=list)
    interfaces: list[Interface] = field(default_factory=list)
    worlds: list[World] = field(default_factory=list)
    foreign_deps: dict[PackageName, dict[str, tuple[AstRef, list[Stability | None]]]] = field(
        default_factory=dict
    )
    foreign_dep_spans: list[int] = field(default_factory=list)
    unknown_type_spans: list[int] = field(default_factory=list)
    type_spans: list[int] = field(default_factory=list)
    interface_spans: list[tuple[int, list[int]]] = field(default_factory=list)
    world_spans: list[WorldSpans] = field(default_factory=list)
    required_resource_types: list[tuple[int, int]] = field(default_factory=list)


def toposort(kind: str, deps: dict[str, list[ast.Id]]) -> list[str]:
    """Dependency order of ``deps`` keys; ties broken by original (source) order."""
    names = list(deps)
    index = {n: i for i, n in enumerate(names)}
    remaining = [0] * len(names)
    reverse: list[list[int]] = [[] for _ in names]
    for i, name in enumerate(names):
        edges = deps[name]
        remaining[i] = len(edges)
        for e in edges:
            j = index.get(e.name)
            if j is None:
                raise SpanError(e.span, f"{kind} `{e.name}` does not exist")
            reverse[j].append(i)
    heap = [i for i in range(len(names)) if remaining[i] == 0]
    heapq.heapify(heap)
    order: list[str] = []
    while heap:
        i = heapq.heappop(heap)
        order.append(names[i])
        for k in reverse[i]:
            remaining[k] -= 1
            if remaining[k] == 0:
                heapq.heappush(heap, k)
        reverse[i] = []
    if len(order) == len(names):
        return order
    for i, name in enumerate(names):
        if remaining[i] == 0:
            continue
        for e in deps[name]:
            if remaining[index[e.name]] != 0:
                raise SpanError(e.span, f"{kind} `{e.name}` depends on itself")
    raise AssertionError("cycle not found")  # pragma: no cover


def package_name_of(p: ast.PackageNameAst) -> PackageName:
    return PackageName(
        p.namespace.name, p.name.name, Version(p.version) if p.version is not None else None
    )


def docs_of(docs: ast.Docs) -> Docs:
    """Doc comments -> text, as wit-parser: strip the comment markers and common indentation."""
    if not docs.comments:
        return Docs()
    lines: list[str] = []
    for raw in docs.comments:
        if raw.startswith("/**") and raw.endswith("*/") and len(raw) >= 5:
            text = raw[3:-2]
        else:
            text = raw.lstrip("/")
        lines.append(text.rstrip(" \t\n\r\x0c"))
    indents = [len(line) - len(line.lstrip(" \t\n\r\x0c")) for line in lines if line]
    strip = min(indents) if indents else 0
    if strip:
        pad = " " * strip
        lines = [line[strip:] if line.startswith(pad) else line for line in lines]
    out: list[str] = []
    for line in lines:
        if not line:
            out.append("\n")
        else:
            for piece in line.split("\n"):
                out.append(piece.rstrip("\r") + "\n")
    contents = "".join(out).rstrip("\n")
    return Docs(contents)


def stability_of(attrs: list[ast.Attribute]) -> Stability | None:
    attrs = [a for a in attrs if a.kind != "external-id"]
    if not attrs:
        return None
    kinds = [a.kind for a in attrs]
    if len(attrs) == 1:
        a = attrs[0]
        if a.kind == "since":
            return Stability("stable", a.value)
        if a.kind == "unstable":
            return Stability("unstable", a.value)
        raise SpanError(a.span, "must pair @deprecated with either @since or @unstable")
    if len(attrs) == 2 and "deprecated" in kinds:
        dep = attrs[kinds.index("deprecated")]
        other = attrs[1 - kinds.index("deprecated")]
        if other.kind == "since":
            return Stability("stable", other.value, dep.value)
        if other.kind == "unstable":
            return Stability("unstable", other.value, dep.value)
    raise SpanError(attrs[1].span, "unsupported combination of attributes")


def _each_path(
    items: list[ast.Interface | ast.World | ast.TopUse | ast.PackageFile],
) -> Iterator[
    tuple[
        ast.Id | None,
        list[ast.Attribute],
        ast.UsePath,
        list[tuple[ast.Id, ast.Id | None]] | None,
        str,
    ]
]:
    """Every use-path of a file, in wit-parser's visiting order (world imports before exports)."""
    for item in items:
        if isinstance(item, ast.World):
            imports: list[tuple[ast.ExternKind, list[ast.Attribute]]] = []
            exports: list[tuple[ast.ExternKind, list[ast.Attribute]]] = []
            for wi in item.items:
                if isinstance(wi, ast.Use):
                    yield None, wi.attributes, wi.path, wi.names, "interface"
                elif isinstance(wi, ast.Include):
                    yield item.name, wi.attributes, wi.path, None, "world"
                elif isinstance(wi, ast.Import):
                    imports.append((wi.kind, wi.attributes))
                elif isinstance(wi, ast.Export):
                    exports.append((wi.kind, wi.attributes))
            for kind, attrs in imports + exports:
                if isinstance(kind, ast.ExternInterface):
                    for ii in kind.items:
                        if isinstance(ii, ast.Use):
                            yield None, ii.attributes, ii.path, ii.names, "interface"
                elif isinstance(kind, ast.ExternPath):
                    yield None, attrs, kind.path, None, "interface"
        elif isinstance(item, ast.Interface):
            for ii in item.items:
                if isinstance(ii, ast.Use):
                    yield item.name, ii.attributes, ii.path, ii.names, "interface"
        elif isinstance(item, ast.TopUse):
            yield None, item.attributes, item.path, None, "unknown"
        else:
            yield from _each_path(item.items)


def _collect_deps(ty: ast.TypeExpr, out: list[ast.Id]) -> None:
    if ty.ref is not None and ty.kind in ("name", "own", "borrow"):
        out.append(ty.ref)
        return
    for a in ty.args:
        if a is not None:
            _collect_deps(a, out)
    for _, _, fty in ty.fields:
        _collect_deps(fty, out)
    for _, _, cty in ty.cases:
        if cty is not None:
            _collect_deps(cty, out)


class _Resolver:
    def __init__(self, source_map: SourceMap) -> None:
        self.sm = source_map
        self.package_name: tuple[PackageName, int] | None = None
        self.package_docs = Docs()
        self.files: list[ast.PackageFile] = []
        self.types: list[TypeDef] = []
        self.interfaces: list[Interface] = []
        self.worlds: list[World] = []
        self.anon: dict[tuple[object, ...], int] = {}
        self.cur_file = 0
        self.file_items: list[dict[str, AstRef]] = []
        self.package_items: dict[str, AstRef] = {}
        self.interface_types: list[dict[str, tuple[int | str, int]]] = []
        self.foreign_deps: dict[PackageName, dict[str, tuple[AstRef, list[Stability | None]]]] = {}
        self.foreign_interfaces: set[int] = set()
        self.type_lookup: dict[str, tuple[int | str, int]] = {}
        self.unknown_type_spans: list[int] = []
        self.world_spans: list[WorldSpans] = []
        self.type_spans: list[int] = []
        self.interface_spans: list[tuple[int, list[int]]] = []
        self.foreign_dep_spans: list[int] = []
        self.required_resource_types: list[tuple[int, int]] = []

    # --- package level -----------------------------------------------------------------------

    def push(self, file: ast.PackageFile) -> None:
        if file.package is not None:
            name = package_name_of(file.package)
            if self.package_name is not None and self.package_name[0] != name:
                raise SpanError(
                    file.package.span,
                    f"package identifier `{name}` does not match previous package name "
                    f"of `{self.package_name[0]}`",
                )
            self.package_name = (name, file.package.span)
            docs = docs_of(file.package.docs)
            if docs.contents is not None:
                if self.package_docs.contents is not None:
                    raise SpanError(
                        file.package.docs.span, "found doc comments on multiple 'package' items"
                    )
                self.package_docs = docs
        for item in file.items:
            if isinstance(item, ast.PackageFile):
                assert item.package is not None
                raise SpanError(
                    item.package.span, "nested packages must be placed at the top-level"
                )
        self.files.append(file)

    def resolve(self) -> UnresolvedPackage:
        if self.package_name is None:
            raise SpanError(None, "no `package` header was found in any WIT file for this package")
        name, span = self.package_name
        self._populate_foreign_deps()
        iface_order, world_order = self._populate_ast_items()
        self._populate_foreign_types()
        iface_ast: dict[int, tuple[ast.Interface, int]] = {}
        world_ast: dict[int, tuple[ast.World, int]] = {}
        for i, f in enumerate(self.files):
            for item in f.items:
                if isinstance(item, ast.Interface):
                    iface_ast[self.file_items[i][item.name.name][1]] = (item, i)
                elif isinstance(item, ast.World):
                    world_ast[self.file_items[i][item.name.name][1]] = (item, i)
        for iid in iface_order:
            iface, i = iface_ast[iid]
            self.cur_file = i
            self._resolve_interface(iid, iface.items, iface.docs, iface.attributes)
        for wid in world_order:
            world, i = world_ast[wid]
            self.cur_file = i
            self._resolve_world(wid, world)
        return UnresolvedPackage(
            name=name,
            name_span=span,
            source_map=self.sm,
            docs=self.package_docs,
            types=self.types,
            interfaces=self.interfaces,
            worlds=self.worlds,
            foreign_deps=self.foreign_deps,
            foreign_dep_spans=self.foreign_dep_spans,
            unknown_type_spans=self.unknown_type_spans,
            type_spans=self.type_spans,
            interface_spans=self.interface_spans,
            world_spans=self.world_spans,
            required_resource_types=self.required_resource_types,
        )

    def _alloc_interface(self, span: int) -> int:
        self.interface_types.append({})
        self.interface_spans.append((span, []))
        self.interfaces.append(Interface(None))
        return len(self.interfaces) - 1

    def _alloc_world(self, span: int) -> int:
        self.world_spans.append(WorldSpans(span))
        self.worlds.append(World(""))
        return len(self.worlds) - 1

    def _populate_foreign_deps(self) -> None:
        for f in self.files:
            for _iface, attrs, path, _names, kind in _each_path(f.items):
                if path.package is None:
                    continue
                stability = stability_of(attrs)
                pkg = package_name_of(path.package)
                deps = self.foreign_deps.get(pkg)
                if deps is None:
                    deps = self.foreign_deps[pkg] = {}
                    self.foreign_dep_spans.append(path.package.span)
                entry = deps.get(path.name.name)
                if entry is None:
                    if kind == "world":
                        ref: AstRef = ("world", self._alloc_world(path.name.span))
                    else:
                        ref = ("interface", self._alloc_interface(path.name.span))
                    entry = deps[path.name.name] = (ref, [])
                entry[1].append(stability)
                if entry[0][0] == "interface":
                    self.foreign_interfaces.add(entry[0][1])

    def _populate_ast_items(self) -> tuple[list[int], list[int]]:
        package_items: dict[str, int] = {}
        kinds: dict[str, str] = {}
        order: dict[str, list[ast.Id]] = {}
        for f in self.files:
            for item in f.items:
                if isinstance(item, ast.Interface | ast.World):
                    n = item.name.name
                    if n in package_items:
                        raise SpanError(item.name.span, f"duplicate item named `{n}`")
                    package_items[n] = item.name.span
                    order[n] = []
                    kinds[n] = "interface" if isinstance(item, ast.Interface) else "world"
        for f in self.files:
            file_ns: dict[str, ast.Id | None] = {}
            for item in f.items:
                if isinstance(item, ast.TopUse):
                    nm = item.alias or item.path.name
                    src = item.path.name if item.path.package is None else None
                elif isinstance(item, ast.Interface | ast.World):
                    nm = item.name
                    src = item.name
                else:  # pragma: no cover - nested packages were removed
                    continue
                if nm.name in file_ns:
                    raise SpanError(nm.span, f"duplicate name `{nm.name}` in this file")
                file_ns[nm.name] = src
            for iface, _attrs, path, _names, _kind in _each_path(f.items):
                if iface is None or path.package is not None:
                    continue
                used = path.name
                if used.name in file_ns:
                    local = file_ns[used.name]
                    if local is not None:
                        order[iface.name].append(local)
                elif used.name in package_items:
                    order[iface.name].append(used)
                else:
                    raise SpanError(used.span, f"interface or world `{used.name}` does not exist")
        sorted_names = toposort("interface or world", order)
        ids: dict[str, AstRef] = {}
        iface_order: list[int] = []
        world_order: list[int] = []
        for n in sorted_names:
            if kinds[n] == "interface":
                iid = self._alloc_interface(package_items[n])
                self.interfaces[iid].name = n
                ids[n] = ("interface", iid)
                iface_order.append(iid)
            else:
                wid = self._alloc_world(package_items[n])
                self.worlds[wid].name = n
                ids[n] = ("world", wid)
                world_order.append(wid)
        for f in self.files:
            items: dict[str, AstRef] = {}
            for item in f.items:
                if isinstance(item, ast.TopUse):
                    if [a for a in item.attributes if a.kind != "external-id"]:
                        raise SpanError(item.span, "attributes not allowed on top-level use")
                    nm = item.alias or item.path.name
                    if item.path.package is None:
                        ref = ids.get(item.path.name.name)
                        if ref is None:
                            raise SpanError(
                                item.path.name.span,
                                f"interface or world `{item.path.name.name}` does not exist",
                            )
                    else:
                        ref = self.foreign_deps[package_name_of(item.path.package)][
                            item.path.name.name
                        ][0]
                    items[nm.name] = ref
                elif isinstance(item, ast.Interface | ast.World):
                    items[item.name.name] = ids[item.name.name]
                    self.package_items[item.name.name] = ids[item.name.name]
            self.file_items.append(items)
        return iface_order, world_order

    def _populate_foreign_types(self) -> None:
        for i, f in enumerate(self.files):
            self.cur_file = i
            for _iface, attrs, path, names, _kind in _each_path(f.items):
                if names is None:
                    continue
                stability = stability_of(attrs)
                ref, nm, span = self._resolve_path(path)
                iid = self._iface_of(ref, nm, span)
                if iid not in self.foreign_interfaces:
                    continue
                lookup = self.interface_types[iid]
                for name, _alias in names:
                    if name.name in lookup:
                        continue
                    tid = self._alloc_type(
                        TypeDef(name.name, KUnknown(), ("interface", iid), stability=stability),
                        name.span,
                    )
                    self.unknown_type_spans.append(name.span)
                    lookup[name.name] = (tid, name.span)
                    self.interfaces[iid].types[name.name] = tid

    def _alloc_type(self, td: TypeDef, span: int) -> int:
        self.types.append(td)
        self.type_spans.append(span)
        return len(self.types) - 1

    def _resolve_path(self, path: ast.UsePath) -> tuple[AstRef, str, int]:
        if path.package is None:
            name = path.name.name
            ref = self.file_items[self.cur_file].get(name) or self.package_items.get(name)
            if ref is None:
                raise SpanError(path.name.span, f"interface or world `{name}` does not exist")
            return ref, name, path.name.span
        pkg = package_name_of(path.package)
        return self.foreign_deps[pkg][path.name.name][0], path.name.name, path.name.span

    @staticmethod
    def _iface_of(ref: AstRef, name: str, span: int) -> int:
        if ref[0] != "interface":
            raise SpanError(span, f"name `{name}` is defined as a world, not an interface")
        return ref[1]

    @staticmethod
    def _world_of(ref: AstRef, name: str, span: int) -> int:
        if ref[0] != "world":
            raise SpanError(span, f"name `{name}` is defined as an interface, not a world")
        return ref[1]

    # --- interfaces and worlds ----------------------------------------------------------------

    def _resolve_interface(
        self, iid: int, items: list[ast.InterfaceItem], docs: ast.Docs, attrs: list[ast.Attribute]
    ) -> None:
        iface = self.interfaces[iid]
        iface.docs = docs_of(docs)
        iface.stability = stability_of(attrs)
        owner: TypeOwner = ("interface", iid)
        self._resolve_types(owner, [i for i in items if isinstance(i, ast.Use | ast.TypeDef)])
        for name, (tid, _span) in self.type_lookup.items():
            assert isinstance(tid, int)
            iface.types[name] = tid
        funcs: list[Function] = []
        fspans = self.interface_spans[iid][1]
        for item in items:
            if isinstance(item, ast.NamedFunc):
                self._define_name(item.name, "function")
                kind = "async-freestanding" if item.func.is_async else "freestanding"
                funcs.append(
                    self._resolve_function(
                        item.docs, item.attributes, item.name.name, item.func, kind, None
                    )
                )
                fspans.append(item.name.span)
            elif isinstance(item, ast.TypeDef) and item.ty.kind == "resource":
                for rf in item.ty.funcs:
                    funcs.append(self._resolve_resource_func(rf, item.name))
                    fspans.append(rf.name.span)
        for func in funcs:
            iface.functions[func.name] = func
        self.interface_types[iid] = self.type_lookup
        self.type_lookup = {}

    def _resolve_types(self, owner: TypeOwner, items: list[ast.Use | ast.TypeDef]) -> None:
        assert not self.type_lookup
        for item in items:
            if isinstance(item, ast.Use):
                self._resolve_use(owner, item)
        type_deps: dict[str, list[ast.Id]] = {}
        type_defs: dict[str, ast.TypeDef | None] = {}
        for item in items:
            if isinstance(item, ast.TypeDef):
                if item.name.name in type_defs:
                    raise SpanError(
                        item.name.span, f"name `{item.name.name}` is defined more than once"
                    )
                type_defs[item.name.name] = item
                deps: list[ast.Id] = []
                _collect_deps(item.ty, deps)
                type_deps[item.name.name] = deps
            else:
                for name, alias in item.names:
                    nm = (alias or name).name
                    type_deps[nm] = []
                    type_defs[nm] = None
        try:
            order = toposort("type", type_deps)
        except SpanError as e:
            for old, new in (("float32", "f32"), ("float64", "f64")):
                if e.message == f"type `{old}` does not exist":
                    e.message += (
                        f": the `{old}` type has been renamed to `{new}` and is no longer "
                        "accepted, but the `WIT_REQUIRE_F32_F64=0` environment variable can be "
                        "used to temporarily disable this error"
                    )
                    e.args = (e.message,)
            raise
        for nm in order:
            td = type_defs.get(nm)
            if td is None:
                continue
            stability = stability_of(td.attributes)
            kind = self._resolve_type_def(td.ty, stability)
            tid = self._alloc_type(
                TypeDef(td.name.name, kind, owner, docs_of(td.docs), stability), td.name.span
            )
            self._define_name(td.name, tid)

    def _define_name(self, name: ast.Id, item: int | str) -> None:
        if name.name in self.type_lookup:
            raise SpanError(name.span, f"name `{name.name}` is defined more than once")
        self.type_lookup[name.name] = (item, name.span)

    def _resolve_use(self, owner: TypeOwner, u: ast.Use) -> None:
        ref, nm, span = self._resolve_path(u.path)
        src = self._iface_of(ref, nm, span)
        stability = stability_of(u.attributes)
        lookup = self.interface_types[src]
        for name, alias in u.names:
            found = lookup.get(name.name)
            if found is None:
                raise SpanError(name.span, f"name `{name.name}` does not exist")
            target = found[0]
            if isinstance(target, str):
                raise SpanError(name.span, f"cannot import {target} `{name.name}`")
            local = alias or name
            tid = self._alloc_type(
                TypeDef(local.name, KType(target), owner, stability=stability), name.span
            )
            self._define_name(local, tid)

    def _resolve_world(self, wid: int, world: ast.World) -> None:
        w = self.worlds[wid]
        w.docs = docs_of(world.docs)
        w.stability = stability_of(world.attributes)
        self._resolve_types(
            ("world", wid), [i for i in world.items if isinstance(i, ast.Use | ast.TypeDef)]
        )
        spans = self.world_spans[wid]
        for item in world.items:
            if isinstance(item, ast.Include):
                stability = stability_of(item.attributes)
                ref, nm, span = self._resolve_path(item.path)
                w.includes.append((stability, self._world_of(ref, nm, span)))
                w.include_names.append([(a.name, b.name) for a, b in item.names])
                spans.includes.append(span)
        for name, (tid, span) in self.type_lookup.items():
            assert isinstance(tid, int)
            if name in w.imports:  # pragma: no cover - names are unique in type_lookup
                raise SpanError(span, f"import `{name}` conflicts with prior import of same name")
            w.imports[name] = WorldItemType(tid)
            spans.imports.append(span)
        imported: set[int] = set()
        exported: set[int] = set()
        for item in world.items:
            if isinstance(item, ast.TypeDef) and item.ty.kind == "resource":
                for rf in item.ty.funcs:
                    spans.imports.append(rf.name.span)
                    func = self._resolve_resource_func(rf, item.name)
                    w.imports[func.name] = WorldItemFunction(func)
                continue
            if isinstance(item, ast.Import):
                desc, dst, seen, sp = "import", w.imports, imported, spans.imports
            elif isinstance(item, ast.Export):
                desc, dst, seen, sp = "export", w.exports, exported, spans.exports
            else:
                continue
            kind = item.kind
            witem = self._resolve_world_item(item.docs, item.attributes, kind)
            key: WorldKey
            if isinstance(kind, ast.ExternInterface):
                key = kind.name.name
            elif isinstance(kind, ast.ExternFunc):
                assert isinstance(witem, WorldItemFunction)
                key = witem.func.name
            elif kind.label is not None:
                key = kind.label.name
            else:
                assert isinstance(witem, WorldItemInterface)
                key = witem.id
            kspan = ast.extern_span(kind)
            if isinstance(witem, WorldItemInterface) and not (
                isinstance(kind, ast.ExternPath) and kind.label is not None
            ):
                if witem.id in seen:
                    raise SpanError(kspan, f"interface cannot be {desc}ed more than once")
                seen.add(witem.id)
            prev = dst.get(key)
            if prev is not None:
                pk = (
                    "interface"
                    if isinstance(prev, WorldItemInterface)
                    else "func"
                    if isinstance(prev, WorldItemFunction)
                    else "type"
                )
                raise SpanError(kspan, f"{desc} `{key}` conflicts with prior {pk} of same name")
            dst[key] = witem
            sp.append(kspan)
        self.type_lookup = {}

    def _resolve_world_item(
        self, docs: ast.Docs, attrs: list[ast.Attribute], kind: ast.ExternKind
    ) -> WorldItem:
        if isinstance(kind, ast.ExternInterface):
            saved = self.type_lookup
            self.type_lookup = {}
            iid = self._alloc_interface(kind.name.span)
            self._resolve_interface(iid, kind.items, docs, attrs)
            self.type_lookup = saved
            return WorldItemInterface(iid, self.interfaces[iid].stability)
        if isinstance(kind, ast.ExternPath):
            stability = stability_of(attrs)
            ref, nm, span = self._resolve_path(kind.path)
            iid = self._iface_of(ref, nm, span)
            if kind.label is not None:
                return WorldItemInterface(iid, stability, implements=iid)
            return WorldItemInterface(iid, stability)
        fkind = "async-freestanding" if kind.func.is_async else "freestanding"
        return WorldItemFunction(
            self._resolve_function(docs, attrs, kind.name.name, kind.func, fkind, None)
        )

    # --- functions ------------------------------------------------------------------------------

    def _resolve_resource_func(self, rf: ast.ResourceFunc, resource: ast.Id) -> Function:
        entry = self.type_lookup[resource.name]
        rid = entry[0]
        assert isinstance(rid, int)
        is_async = rf.func.is_async
        if rf.kind == "method":
            name = f"[method]{resource.name}.{rf.name.name}"
            kind = "async-method" if is_async else "method"
        elif rf.kind == "static":
            name = f"[static]{resource.name}.{rf.name.name}"
            kind = "async-static" if is_async else "static"
        else:
            name = f"[constructor]{resource.name}"
            kind = "constructor"
        return self._resolve_function(rf.docs, rf.attributes, name, rf.func, kind, rid)

    def _resolve_function(
        self,
        docs: ast.Docs,
        attrs: list[ast.Attribute],
        name: str,
        func: ast.Func,
        kind: str,
        resource: int | None,
    ) -> Function:
        d = docs_of(docs)
        stability = stability_of(attrs)
        params: list[tuple[str, Type]] = []
        seen: set[str] = set()
        if kind in ("method", "async-method"):
            assert resource is not None
            hk = KHandle("borrow", resource)
            params.append(("self", self._anon(hk, self._find_stability(hk, None), func.span)))
            seen.add("self")
        for pname, pty in func.params:
            if pname.name in seen:
                raise SpanError(pname.span, f"param `{pname.name}` is defined more than once")
            seen.add(pname.name)
            params.append((pname.name, self._resolve_type(pty, None)))
        result: Type | None
        if kind == "constructor":
            assert resource is not None
            if func.result is None:
                result = resource
            else:
                result = self._constructor_result(resource, func.result)
        else:
            result = None if func.result is None else self._resolve_type(func.result, None)
        return Function(name, kind, params, result, resource, d, stability)

    def _constructor_result(self, resource: int, ty: ast.TypeExpr) -> Type:
        result = self._resolve_type(ty, None)
        kind = self.types[result].kind if isinstance(result, int) else None
        if not isinstance(kind, KResult):
            raise SpanError(
                ty.span, "if a constructor return type is declared it must be a `result`"
            )
        if kind.ok != resource:
            ok = ty.args[0] if ty.kind == "result" and ty.args and ty.args[0] is not None else ty
            raise SpanError(ok.span, "the `ok` type must be the resource being constructed")
        return result

    # --- types --------------------------------------------------------------------------------

    def _resolve_type_name(self, name: ast.Id) -> int:
        entry = self.type_lookup.get(name.name)
        if entry is None:
            raise SpanError(name.span, f"name `{name.name}` does not exist")
        if isinstance(entry[0], str):
            raise SpanError(name.span, f"cannot use {entry[0]} `{name.name}` as a type")
        return entry[0]

    def _validate_resource(self, name: ast.Id) -> int:
        tid = self._resolve_type_name(name)
        cur = tid
        while True:
            kind = self.types[cur].kind
            if isinstance(kind, KResource):
                return tid
            if isinstance(kind, KType) and isinstance(kind.ty, int):
                cur = kind.ty
                continue
            if isinstance(kind, KUnknown):
                self.required_resource_types.append((cur, name.span))
                return tid
            raise SpanError(name.span, f"type `{name.name}` used in a handle must be a resource")

    def _resolve_type_def(self, ty: ast.TypeExpr, stability: Stability | None) -> TypeDefKind:
        k = ty.kind
        if k == "name":
            assert ty.ref is not None
            return KType(self._resolve_type_name(ty.ref))
        if k in PRIMITIVES:
            return KType(k)
        if k == "list":
            assert ty.args[0] is not None
            return KList(self._resolve_type(ty.args[0], stability))
        if k == "fixed-list":
            assert ty.args[0] is not None
            return KFixedList(self._resolve_type(ty.args[0], stability), ty.size)
        if k == "map":
            assert ty.args[0] is not None and ty.args[1] is not None
            key = self._resolve_type(ty.args[0], stability)
            value = self._resolve_type(ty.args[1], stability)
            if not (isinstance(key, str) and key in _MAP_KEYS):
                raise SpanError(
                    ty.span,
                    "invalid map key type: map keys must be bool, u8, u16, u32, u64, s8, s16, "
                    "s32, s64, char, or string",
                )
            return KMap(key, value)
        if k in ("own", "borrow"):
            assert ty.ref is not None
            return KHandle(k, self._validate_resource(ty.ref))
        if k == "resource":
            ctors = 0
            names: set[str] = set()
            for f in ty.funcs:
                if f.kind == "constructor":
                    ctors += 1
                    if ctors > 1:
                        raise SpanError(f.name.span, "duplicate constructors")
                elif f.name.name in names:
                    raise SpanError(f.name.span, f"duplicate function name `{f.name.name}`")
                else:
                    names.add(f.name.name)
            return KResource()
        if k == "record":
            return KRecord(
                [
                    Field(n.name, self._resolve_type(t, stability), docs_of(d))
                    for d, n, t in ty.fields
                ]
            )
        if k == "flags":
            return KFlags([Flag(n.name, docs_of(d)) for d, n, _ in ty.cases])
        if k == "tuple":
            return KTuple([self._resolve_type(t, stability) for t in ty.args if t is not None])
        if k == "variant":
            if not ty.cases:
                raise SpanError(ty.span, "empty variant")
            return KVariant(
                [
                    VariantCase(
                        n.name, None if t is None else self._resolve_type(t, stability), docs_of(d)
                    )
                    for d, n, t in ty.cases
                ]
            )
        if k == "enum":
            if not ty.cases:
                raise SpanError(ty.span, "empty enum")
            return KEnum([EnumCase(n.name, docs_of(d)) for d, n, _ in ty.cases])
        if k == "option":
            assert ty.args[0] is not None
            return KOption(self._resolve_type(ty.args[0], stability))
        if k == "result":
            ok, err = ty.args
            return KResult(
                None if ok is None else self._resolve_type(ok, stability),
                None if err is None else self._resolve_type(err, stability),
            )
        if k == "future":
            a = ty.args[0]
            return KFuture(None if a is None else self._resolve_type(a, stability))
        if k == "stream":
            a = ty.args[0]
            return KStream(None if a is None else self._resolve_type(a, stability))
        raise AssertionError(k)  # pragma: no cover

    def _find_stability(self, kind: TypeDefKind, stability: Stability | None) -> Stability | None:
        if stability is not None:
            return stability
        refs: list[Type | None]
        if isinstance(kind, KType | KList | KFixedList | KOption):
            refs = [kind.ty]
        elif isinstance(kind, KHandle):
            refs = [kind.id]
        elif isinstance(kind, KTuple):
            refs = list(kind.types)
        elif isinstance(kind, KMap):
            refs = [kind.key, kind.value]
        elif isinstance(kind, KFuture | KStream):
            refs = [kind.ty]
        elif isinstance(kind, KResult):
            refs = [kind.ok, kind.err]
        else:
            return None
        for r in refs:
            if isinstance(r, int):
                s = self.types[r].stability
                if s is not None:
                    return s
        return None

    def _resolve_type(self, ty: ast.TypeExpr, stability: Stability | None) -> Type:
        kind = self._resolve_type_def(ty, stability)
        return self._anon(kind, self._find_stability(kind, stability), ty.span)

    def _anon(self, kind: TypeDefKind, stability: Stability | None, span: int) -> Type:
        key: tuple[object, ...]
        if isinstance(kind, KType):
            return kind.ty
        if isinstance(kind, KHandle):
            if kind.kind == "own":
                return kind.id
            key = ("borrow", kind.id)
        elif isinstance(kind, KList):
            key = ("list", kind.ty)
        elif isinstance(kind, KMap):
            key = ("map", kind.key, kind.value)
        elif isinstance(kind, KFixedList):
            key = ("fixed", kind.ty, kind.size)
        elif isinstance(kind, KOption):
            key = ("option", kind.ty)
        elif isinstance(kind, KResult):
            key = ("result", kind.ok, kind.err)
        elif isinstance(kind, KFuture):
            key = ("future", kind.ty)
        elif isinstance(kind, KStream):
            key = ("stream", kind.ty)
        elif isinstance(kind, KTuple):
            key = ("tuple", *kind.types)
        else:  # pragma: no cover - named-only kinds never appear anonymously
            raise AssertionError(kind)
        tid = self.anon.get(key)
        if tid is None:
            tid = self._alloc_type(TypeDef(None, kind, None, stability=stability), span)
            self.anon[key] = tid
        return tid


def resolve_package(files: list[ast.PackageFile], source_map: SourceMap) -> UnresolvedPackage:
    """Resolve the given files (all belonging to one package) into an unresolved package."""
    r = _Resolver(source_map)
    for f in files:
        r.push(f)
    return r.resolve()
