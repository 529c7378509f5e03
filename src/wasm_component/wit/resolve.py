"""Second resolution phase: merge unresolved packages into one :class:`Resolve`.

A :class:`Resolve` owns the flat tables (types, interfaces, worlds, packages). Packages are
added in dependency order; for each one the placeholders for foreign items are bound to the
already-present packages, feature gates are applied (items whose ``@unstable`` feature is not
enabled are dropped, ``@since`` is checked against the package version), ``include``s are
expanded and every world is *elaborated*: interfaces that its imports/exports depend on through
``use`` become implicit imports, in topological order. The result matches wit-parser's
``Resolve`` id for id, which is what the JSON goldens check.

This module also loads packages from the filesystem (a file, or a directory with ``deps/``).
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import WitError
from . import ast
from .lexer import SourceMap, SpanError
from .model import (
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
    Package,
    PackageName,
    Stability,
    Type,
    TypeDef,
    TypeOwner,
    World,
    WorldItem,
    WorldItemFunction,
    WorldItemInterface,
    WorldItemType,
    WorldKey,
)
from .parser import parse_file
from .unresolved import UnresolvedPackage, WorldSpans, resolve_package

__all__ = ["PackageGroup", "Resolve", "parse_group"]


@dataclass
class PackageGroup:
    """The packages of one parse: the main one plus inline ``package x { }`` blocks."""

    main: UnresolvedPackage
    nested: list[UnresolvedPackage] = field(default_factory=list)
    source_map: SourceMap = field(default_factory=SourceMap)


def _raise_in(sm: SourceMap, err: SpanError) -> WitError:
    return sm.error(err.start, err.message)


def parse_group(sources: list[tuple[str, str]]) -> PackageGroup:
    """Parse ``(path, text)`` files forming one package (plus nested packages)."""
    sm = SourceMap()
    bases = [(path, text, sm.push(path, text)) for path, text in sources]
    try:
        files: list[ast.PackageFile] = []
        nested: list[UnresolvedPackage] = []
        for path, text, base in sorted(bases, key=lambda s: s[0]):
            _ = path
            pf = parse_file(text, base)
            keep: list[ast.Interface | ast.World | ast.TopUse | ast.PackageFile] = []
            for item in pf.items:
                if isinstance(item, ast.PackageFile):
                    nested.append(resolve_package([item], sm))
                else:
                    keep.append(item)
            pf.items = keep
            files.append(pf)
        main = resolve_package(files, sm)
    except SpanError as e:
        raise _raise_in(sm, e) from None
    except RecursionError:
        raise WitError("input nested too deeply") from None
    return PackageGroup(main, nested, sm)


class Resolve:
    """All resolved packages and their contents, in tables indexed by integer ids.

    ``features`` lists the ``@unstable`` features to keep (``all_features`` keeps them all);
    set them before pushing packages.
    """

    def __init__(self, features: set[str] | None = None, all_features: bool = False) -> None:
        self.worlds: list[World] = []
        self.interfaces: list[Interface] = []
        self.types: list[TypeDef] = []
        self.packages: list[Package] = []
        self.package_names: dict[PackageName, int] = {}
        self.features: set[str] = set(features or ())
        self.all_features = all_features

    # --- loading -----------------------------------------------------------------------------

    def push_str(self, text: str, filename: str = "<anon>.wit") -> int:
        """Parse and resolve one WIT source (with its nested packages); returns the main id."""
        return self.push_group(parse_group([(filename, text)]))

    def push_file(self, path: str | os.PathLike[str]) -> int:
        """Resolve a single ``.wit`` file; its dependencies must be nested or already present."""
        return self.push_group(_read_file_group(Path(path)))

    def push_dir(self, path: str | os.PathLike[str]) -> int:
        """Resolve the package made of ``path/*.wit``, with dependencies from ``path/deps``."""
        p = Path(path)
        main = _read_dir_group(p)
        deps: list[PackageGroup] = []
        deps_dir = p / "deps"
        if deps_dir.is_dir():
            for entry in sorted(deps_dir.iterdir(), key=lambda e: e.name):
                if entry.is_dir():
                    deps.append(_read_dir_group(entry))
                elif entry.suffix == ".wit":
                    deps.append(_read_file_group(entry))
                elif entry.suffix in (".wasm", ".wat"):
                    self.push_wasm(entry)  # decoded packages are merged right away
        return self._sort_and_push(main, deps)

    def push_path(self, path: str | os.PathLike[str]) -> int:
        """A directory (see :meth:`push_dir`) or a single file (see :meth:`push_file`)."""
        p = Path(path)
        if p.is_dir():
            return self.push_dir(p)
        if p.suffix in (".wasm", ".wat"):
            return self.push_wasm(p)
        return self.push_file(p)

    def push_wasm(self, path: str | os.PathLike[str]) -> int:
        """Merge in a WIT package encoded as a component (``.wasm`` or ``.wat``); its id."""
        from .from_component import decode_wit_package

        return decode_wit_package(Path(path).read_bytes(), self)[1]

    def push_group(self, group: PackageGroup) -> int:
        return self._sort_and_push(group, [])

    def _sort_and_push(self, main: PackageGroup, deps: list[PackageGroup]) -> int:
        details: dict[PackageName, UnresolvedPackage] = {}
        for group in [main, *deps]:
            for pkg in [*group.nested, group.main]:
                prev = details.get(pkg.name)
                if prev is not None:
                    loc1 = pkg.source_map.render_location(pkg.name_span)
                    loc2 = prev.source_map.render_location(prev.name_span)
                    raise pkg.source_map.error(
                        pkg.name_span,
                        f"package `{pkg.name}` is defined in two different locations:\n"
                        f"  * {loc1}\n  * {loc2}",
                    )
                details[pkg.name] = pkg
        order: dict[PackageName, None] = {}
        visiting: set[PackageName] = set()

        def visit(pkg: UnresolvedPackage) -> None:
            if pkg.name in order:
                return
            for i, dep in enumerate(pkg.foreign_deps):
                if dep in visiting:
                    raise pkg.source_map.error(
                        pkg.foreign_dep_spans[i], f"package `{dep}` creates a dependency cycle"
                    )
                visiting.add(dep)
                dep_pkg = details.get(dep)
                if dep_pkg is not None:
                    visit(dep_pkg)
                visiting.discard(dep)
            order[pkg.name] = None

        for name in sorted(details, key=lambda n: n.sort_key()):
            visit(details[name])
        main_id = -1
        for name in order:
            pid = self.push(details[name])
            if name == main.main.name:
                main_id = pid
        return main_id

    def push(self, unresolved: UnresolvedPackage) -> int:
        """Add one package whose dependencies are already present; returns its id."""
        try:
            return _Remap().append(self, unresolved)
        except SpanError as e:
            raise _raise_in(unresolved.source_map, e) from None
        except RecursionError:
            raise WitError(f"dependencies of package `{unresolved.name}` nest too deeply") from None

    # --- queries -------------------------------------------------------------------------------

    def type_interface_dep(self, tid: int) -> int | None:
        """For ``use``-created aliases: the interface the aliased type lives in."""
        ty = self.types[tid]
        kind = ty.kind
        if not isinstance(kind, KType) or not isinstance(kind.ty, int):
            return None
        other = self.types[kind.ty]
        if ty.owner == other.owner or other.owner is None or other.owner[0] != "interface":
            return None
        return other.owner[1]

    def interface_direct_deps(self, iid: int) -> list[int]:
        out = []
        for t in self.interfaces[iid].types.values():
            d = self.type_interface_dep(t)
            if d is not None:
                out.append(d)
        return out

    def id_of(self, iid: int) -> str | None:
        """``ns:pkg/iface@version`` of a named interface."""
        iface = self.interfaces[iid]
        if iface.name is None or iface.package is None:
            return None
        return self.packages[iface.package].name.interface_id(iface.name)

    def name_world_key(self, key: WorldKey) -> str:
        if isinstance(key, str):
            return key
        return self.id_of(key) or "<unnamed>"

    def topological_packages(self) -> list[int]:
        """Package ids, dependencies first (the order they were added)."""
        return list(range(len(self.packages)))

    def select_world(self, package: int, world: str | None = None) -> int:
        """Pick a world as WIT tooling does: the only one, a name in ``package``, or a path."""
        pkg = self.packages[package]
        if world is None:
            if len(pkg.worlds) != 1:
                raise WitError(
                    f"there are {len(pkg.worlds)} worlds in package `{pkg.name}`; "
                    "a world name must be given"
                )
            return next(iter(pkg.worlds.values()))
        if "/" in world:
            pkg_text, _, rest = world.rpartition("/")
            wname, _, version = rest.partition("@")
            for p in self.packages:
                same_pkg = f"{p.name.namespace}:{p.name.name}" == pkg_text
                same_version = not version or str(p.name.version) == version
                if same_pkg and same_version and wname in p.worlds:
                    return p.worlds[wname]
            raise WitError(f"world `{world}` not found")
        if world not in pkg.worlds:
            raise WitError(f"world `{world}` not found in package `{pkg.name}`")
        return pkg.worlds[world]

    # --- feature gates -------------------------------------------------------------------------

    def include_stability(self, stab: Stability | None, pkg: int, span: int | None) -> bool:
        if stab is None:
            return True
        if stab.kind == "stable":
            p = self.packages[pkg]
            if p.name.version is None:
                raise SpanError(
                    span,
                    f"package [{p.name}] contains a feature gate with a version specifier, "
                    "so it must have a version",
                )
            since = stab.since
            assert since is not None
            if p.name.version < since:
                raise SpanError(
                    span,
                    f"feature gate cannot reference unreleased version {since} of package "
                    f"[{p.name}] (current version {p.name.version})",
                )
            return True
        return self.all_features or stab.value in self.features

    # --- world elaboration -----------------------------------------------------------------------

    def _sort_key(self, item: WorldItem) -> int:
        if isinstance(item, WorldItemInterface):
            return 0
        if isinstance(item, WorldItemType):
            ty = self.types[item.id]
            k = ty.kind
            if (
                isinstance(k, KType)
                and isinstance(k.ty, int)
                and self.types[k.ty].owner != ty.owner
            ):
                return 1
            return 2
        return 3 if item.func.resource is None else 4

    def elaborate_world(self, wid: int, span: int | None = None) -> None:
        """Add implicit imports and order imports/exports topologically (in place)."""
        world = self.worlds[wid]
        new_imports: dict[WorldKey, WorldItem] = {}
        for key, item in sorted(world.imports.items(), key=lambda kv: self._sort_key(kv[1])):
            if isinstance(item, WorldItemInterface):
                self._elaborate_import(new_imports, key, item.id, item.stability, item.implements)
            elif isinstance(item, WorldItemFunction):
                new_imports[key] = item
            else:
                dep = self.type_interface_dep(item.id)
                if dep is not None:
                    self._elaborate_import(
                        new_imports, dep, dep, self.types[item.id].stability, None
                    )
                new_imports[key] = item
        new_exports: dict[WorldKey, WorldItem] = {}
        export_ifaces: dict[int, tuple[WorldKey, Stability | None, int | None]] = {}
        for key, item in world.exports.items():
            if isinstance(item, WorldItemInterface):
                export_ifaces[item.id] = (key, item.stability, item.implements)
            elif isinstance(item, WorldItemFunction):
                new_exports[key] = item
        required: set[int] = set()

        def add_export(
            iid: int, key: WorldKey, adding: bool, stab: Stability | None, impl: int | None
        ) -> bool:
            if key in new_exports:
                return adding
            if not adding and iid in required:
                return True
            for dep in self.interface_direct_deps(iid):
                if not add_export(dep, dep, adding and dep in export_ifaces, stab, None):
                    return False
            witem = WorldItemInterface(iid, stab, impl)
            if adding:
                if iid in required:
                    return False
                new_exports[key] = witem
            else:
                required.add(iid)
                new_imports[key] = witem
            return True

        for iid, (key, stab, impl) in export_ifaces.items():
            if not add_export(iid, key, True, stab, impl):
                raise SpanError(
                    span,
                    f"interface `{self.name_world_key(key)}` transitively depends on an "
                    "interface in incompatible ways",
                )
        world.imports = dict(sorted(new_imports.items(), key=lambda kv: self._sort_key(kv[1])))
        world.exports = new_exports

    def _elaborate_import(
        self,
        imports: dict[WorldKey, WorldItem],
        key: WorldKey,
        iid: int,
        stab: Stability | None,
        impl: int | None,
    ) -> None:
        if key in imports:
            return
        for dep in self.interface_direct_deps(iid):
            self._elaborate_import(imports, dep, dep, stab, None)
        imports[key] = WorldItemInterface(iid, stab, impl)


def _read_file_group(path: Path) -> PackageGroup:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise WitError(f"input file is not valid utf-8 [{path}]") from None
    except OSError as e:
        raise WitError(f"failed to read path for WIT [{path}]: {e.strerror}") from None
    return parse_group([(str(path), text)])


def _read_dir_group(path: Path) -> PackageGroup:
    sources: list[tuple[str, str]] = []
    try:
        entries = sorted(path.iterdir(), key=lambda e: e.name)
    except OSError as e:
        raise WitError(f"failed to read directory [{path}]: {e.strerror}") from None
    for entry in entries:
        if entry.suffix == ".wit" and entry.is_file():
            try:
                sources.append((str(entry), entry.read_text(encoding="utf-8")))
            except UnicodeDecodeError:
                raise WitError(f"input file is not valid utf-8 [{entry}]") from None
    if not sources:
        raise WitError(f"no `package` header was found in any WIT file for this package [{path}]")
    return parse_group(sources)


_EXCLUDED = "which is excluded due to its feature not being activated"


class _Remap:
    """Maps ids of one :class:`UnresolvedPackage` to ids in the :class:`Resolve`."""

    def __init__(self) -> None:
        self.types: list[int | None] = []
        self.interfaces: list[int | None] = []
        self.worlds: list[int | None] = []
        self.own_handles: dict[int, int] = {}
        self.has_borrow: dict[int, bool] = {}

    def map_type(self, tid: int, span: int | None) -> int:
        v = self.types[tid]
        if v is None:
            raise SpanError(span, f"found a reference to a type {_EXCLUDED}")
        return v

    def map_interface(self, iid: int, span: int | None) -> int:
        v = self.interfaces[iid]
        if v is None:
            raise SpanError(span, f"found a reference to a interface {_EXCLUDED}")
        return v

    def map_world(self, wid: int, span: int | None) -> int:
        v = self.worlds[wid]
        if v is None:
            raise SpanError(span, f"found a reference to a world {_EXCLUDED}")
        return v

    def append(self, resolve: Resolve, pkg: UnresolvedPackage) -> int:
        if pkg.name in resolve.package_names:
            raise SpanError(
                None,
                f"attempting to re-add package `{pkg.name}` when it's already present in this "
                "`Resolve`",
            )
        pid = len(resolve.packages)
        resolve.packages.append(Package(pkg.name, pkg.docs))
        resolve.package_names[pkg.name] = pid
        self._foreign_deps(resolve, pid, pkg)
        ft, fi, fw = len(self.types), len(self.interfaces), len(self.worlds)

        for i in range(ft, len(pkg.types)):
            ty = pkg.types[i]
            span = pkg.type_spans[i]
            if not resolve.include_stability(ty.stability, pid, span):
                self.types.append(None)
                continue
            self._update_typedef(resolve, ty, span)
            new_id = len(resolve.types)
            resolve.types.append(ty)
            k = ty.kind
            if ty.name is None and ty.owner is None and isinstance(k, KHandle) and k.kind == "own":
                new_id = self.own_handles.setdefault(k.id, new_id)
            self.types.append(new_id)

        for i in range(fi, len(pkg.interfaces)):
            iface = pkg.interfaces[i]
            ispan, fspans = pkg.interface_spans[i]
            if not resolve.include_stability(iface.stability, pid, ispan):
                self.interfaces.append(None)
                continue
            iface.package = pid
            self._update_interface(resolve, iface, ispan, fspans)
            self.interfaces.append(len(resolve.interfaces))
            resolve.interfaces.append(iface)

        for i in range(ft, len(self.types)):
            tid = self.types[i]
            if tid is None:
                continue
            owner = resolve.types[tid].owner
            if owner is not None and owner[0] == "interface":
                resolve.types[tid].owner = (
                    "interface",
                    self.map_interface(owner[1], pkg.type_spans[i]),
                )

        for i in range(fw, len(pkg.worlds)):
            world = pkg.worlds[i]
            spans = pkg.world_spans[i]
            if not resolve.include_stability(world.stability, pid, spans.span):
                self.worlds.append(None)
                continue
            self._update_world(resolve, world, pid, spans)
            self.worlds.append(len(resolve.worlds))
            resolve.worlds.append(world)

        for i in range(ft, len(self.types)):
            tid = self.types[i]
            if tid is None:
                continue
            owner = resolve.types[tid].owner
            if owner is not None and owner[0] == "world":
                resolve.types[tid].owner = ("world", self.map_world(owner[1], pkg.type_spans[i]))

        for i in range(fw, len(self.worlds)):
            wid = self.worlds[i]
            if wid is None:
                continue
            spans = pkg.world_spans[i]
            self._process_includes(resolve, wid, pid, spans)
            resolve.elaborate_world(wid, spans.span)

        package = resolve.packages[pid]
        for iid in self.interfaces[fi:]:
            if iid is None:
                continue
            iface = resolve.interfaces[iid]
            iface.package = pid
            if iface.name is not None:
                package.interfaces[iface.name] = iid
        for wid in self.worlds[fw:]:
            if wid is None:
                continue
            w = resolve.worlds[wid]
            w.package = pid
            package.worlds[w.name] = wid
        return pid

    # --- foreign dependencies ------------------------------------------------------------------

    def _foreign_deps(self, resolve: Resolve, pid: int, pkg: UnresolvedPackage) -> None:
        iface_to_pkg: dict[int, tuple[PackageName, str, int, list[Stability | None]]] = {}
        world_to_pkg: dict[int, tuple[PackageName, str, int, list[Stability | None]]] = {}
        for i, (pname, items) in enumerate(pkg.foreign_deps.items()):
            for name, (ref, stabs) in items.items():
                target = iface_to_pkg if ref[0] == "interface" else world_to_pkg
                target[ref[1]] = (pname, name, pkg.foreign_dep_spans[i], stabs)

        def find_pkg(pname: PackageName, span: int) -> Package:
            found = resolve.package_names.get(pname)
            if found is None:
                known = "".join(f"\n    {k}" for k in resolve.package_names)
                raise SpanError(span, f"package '{pname}' not found. known packages:{known}")
            return resolve.packages[found]

        for idx in range(len(pkg.interfaces)):
            info = iface_to_pkg.get(idx)
            if info is None:
                break
            pname, name, dspan, stabs = info
            target_pkg = find_pkg(pname, dspan)
            ispan = pkg.interface_spans[idx][0]
            if not any([resolve.include_stability(s, pid, ispan) for s in stabs]):
                self.interfaces.append(None)
                continue
            iid = target_pkg.interfaces.get(name)
            if iid is None:
                raise SpanError(ispan, f"interface '{name}' not found in package '{pname}'")
            self.interfaces.append(iid)

        for idx in range(len(pkg.worlds)):
            info = world_to_pkg.get(idx)
            if info is None:
                break
            pname, name, dspan, stabs = info
            target_pkg = find_pkg(pname, dspan)
            wspan = pkg.world_spans[idx].span
            if not any([resolve.include_stability(s, pid, wspan) for s in stabs]):
                self.worlds.append(None)
                continue
            wid = target_pkg.worlds.get(name)
            if wid is None:
                raise SpanError(wspan, f"world '{name}' not found in package '{pname}'")
            self.worlds.append(wid)

        for idx, ty in enumerate(pkg.types):
            if not isinstance(ty.kind, KUnknown):
                break
            if not resolve.include_stability(ty.stability, pid, pkg.type_spans[idx]):
                self.types.append(None)
                continue
            assert ty.owner is not None
            uspan = pkg.unknown_type_spans[idx]
            iid = self.map_interface(ty.owner[1], uspan)
            assert ty.name is not None
            tid = resolve.interfaces[iid].types.get(ty.name)
            if tid is None:
                raise SpanError(uspan, f"type `{ty.name}` not defined in interface")
            self.types.append(tid)

        for tid, span in pkg.required_resource_types:
            try:
                cur = self.map_type(tid, span)
            except SpanError:
                continue
            while True:
                k = resolve.types[cur].kind
                if isinstance(k, KType) and isinstance(k.ty, int):
                    cur = k.ty
                elif isinstance(k, KResource):
                    break
                else:
                    raise SpanError(span, "type used in a handle must be a resource")

    # --- updating ids ---------------------------------------------------------------------------

    def _update_typedef(self, resolve: Resolve, ty: TypeDef, span: int) -> None:
        k = ty.kind
        if isinstance(k, KHandle):
            k.id = self.map_type(k.id, span)
        elif isinstance(k, KRecord):
            for f in k.fields:
                f.ty = self._update_ty(resolve, f.ty, span)
        elif isinstance(k, KTuple):
            k.types = [self._update_ty(resolve, t, span) for t in k.types]
        elif isinstance(k, KVariant):
            for c in k.cases:
                if c.ty is not None:
                    c.ty = self._update_ty(resolve, c.ty, span)
        elif isinstance(k, KOption | KList | KFixedList):
            k.ty = self._update_ty(resolve, k.ty, span)
        elif isinstance(k, KFuture | KStream):
            if k.ty is not None:
                k.ty = self._update_ty(resolve, k.ty, span)
        elif isinstance(k, KMap):
            k.key = self._update_ty(resolve, k.key, span)
            k.value = self._update_ty(resolve, k.value, span)
        elif isinstance(k, KResult):
            if k.ok is not None:
                k.ok = self._update_ty(resolve, k.ok, span)
            if k.err is not None:
                k.err = self._update_ty(resolve, k.err, span)
        elif isinstance(k, KType) and isinstance(k.ty, int):
            k.ty = self.map_type(k.ty, span)

    def _update_ty(self, resolve: Resolve, ty: Type, span: int | None) -> Type:
        if isinstance(ty, str):
            return ty
        tid = self.map_type(ty, span)
        cur = tid
        types = resolve.types
        while True:
            k = types[cur].kind
            if isinstance(k, KType) and isinstance(k.ty, int):
                cur = k.ty
                continue
            if not isinstance(k, KResource):
                return tid
            break
        own = self.own_handles.get(tid)
        if own is None:
            own = len(types)
            types.append(TypeDef(None, KHandle("own", tid), None))
            self.own_handles[tid] = own
        return own

    def _update_interface(
        self, resolve: Resolve, iface: Interface, span: int, fspans: list[int]
    ) -> None:
        assert iface.package is not None
        iface.types = {
            n: self.map_type(t, span) for n, t in iface.types.items() if self.types[t] is not None
        }
        for i, func in enumerate(iface.functions.values()):
            fspan = fspans[i] if i < len(fspans) else span
            if resolve.include_stability(func.stability, iface.package, fspan):
                self._update_function(resolve, func, fspan)
        iface.functions = {
            n: f
            for n, f in iface.functions.items()
            if resolve.include_stability(f.stability, iface.package, None)
        }

    def _update_function(self, resolve: Resolve, func: Function, span: int | None) -> None:
        if func.resource is not None:
            func.resource = self.map_type(func.resource, span)
        func.params = [(n, self._update_ty(resolve, t, span)) for n, t in func.params]
        if func.result is not None:
            func.result = self._update_ty(resolve, func.result, span)
            if self._type_has_borrow(resolve, func.result):
                raise SpanError(
                    span,
                    f"function `{func.name}` returns a type which contains a `borrow<T>` which "
                    "is not supported",
                )

    def _type_has_borrow(self, resolve: Resolve, ty: Type | None) -> bool:
        if not isinstance(ty, int):
            return False
        cached = self.has_borrow.get(ty)
        if cached is not None:
            return cached
        k = resolve.types[ty].kind
        sub: list[Type | None]
        if isinstance(k, KHandle):
            result = k.kind == "borrow"
            sub = []
        elif isinstance(k, KType | KList | KFixedList | KOption | KFuture | KStream):
            sub = [k.ty]
        elif isinstance(k, KVariant):
            sub = [c.ty for c in k.cases]
        elif isinstance(k, KRecord):
            sub = [f.ty for f in k.fields]
        elif isinstance(k, KTuple):
            sub = list(k.types)
        elif isinstance(k, KMap):
            sub = [k.key, k.value]
        elif isinstance(k, KResult):
            sub = [k.ok, k.err]
        else:
            sub = []
        if not isinstance(k, KHandle):
            result = any(self._type_has_borrow(resolve, t) for t in sub)
        self.has_borrow[ty] = result
        return result

    def _update_world(self, resolve: Resolve, world: World, pid: int, spans: WorldSpans) -> None:
        entries: list[tuple[WorldKey, WorldItem, int, bool]] = [
            (k, v, s, True) for (k, v), s in zip(world.imports.items(), spans.imports, strict=False)
        ]
        entries += [
            (k, v, s, False)
            for (k, v), s in zip(world.exports.items(), spans.exports, strict=False)
        ]
        world.imports = {}
        world.exports = {}
        for key, item, span, is_import in entries:
            if isinstance(item, WorldItemType):
                item.id = self.map_type(item.id, span)
                stab = resolve.types[item.id].stability
            elif isinstance(item, WorldItemInterface):
                stab = item.stability
            else:
                stab = item.func.stability
            if not resolve.include_stability(stab, pid, span):
                continue
            if isinstance(key, int):
                key = self.map_interface(key, span)
            if isinstance(item, WorldItemInterface):
                item.id = self.map_interface(item.id, span)
                if item.implements is not None:
                    item.implements = item.id
            elif isinstance(item, WorldItemFunction):
                self._update_function(resolve, item.func, span)
            (world.imports if is_import else world.exports)[key] = item

    # --- include ---------------------------------------------------------------------------------

    def _process_includes(self, resolve: Resolve, wid: int, pid: int, spans: WorldSpans) -> None:
        world = resolve.worlds[wid]
        includes = world.includes
        names = world.include_names
        world.includes = []
        world.include_names = []
        for (stab, inc), span, inc_names in zip(includes, spans.includes, names, strict=False):
            if not resolve.include_stability(stab, pid, span):
                continue
            self._resolve_include(resolve, wid, inc, inc_names, span, pid)
        for desc, items in (("import", world.imports), ("export", world.exports)):
            seen: dict[str, str] = {}
            for key in items:
                if not isinstance(key, str):
                    continue
                low = key.lower()
                prev = seen.get(low)
                if prev is not None and prev != key:
                    raise SpanError(
                        spans.span,
                        f"{desc} `{key}` in world `{world.name}` conflicts with {desc} `{prev}` "
                        "(kebab-case identifiers are case-insensitive)",
                    )
                seen[low] = key

    def _resolve_include(
        self,
        resolve: Resolve,
        wid: int,
        inc_orig: int,
        names: list[tuple[str, str]],
        span: int,
        pid: int,
    ) -> None:
        inc_id = self.map_world(inc_orig, span)
        world = resolve.worlds[wid]
        inc = resolve.worlds[inc_id]
        pending = list(names)
        for key in [*inc.imports, *inc.exports]:
            if isinstance(key, str):
                pending = [n for n in pending if _rename(key, n) is None]
        if pending:
            raise SpanError(
                span,
                f"no import or export kebab-name `{pending[0][0]}`. Note that an ID does not "
                "support renaming",
            )
        external = inc.package is not None and inc.package != world.package
        cloner = _Cloner(resolve, ("world", inc_id), ("world", wid), pid)
        for desc, src, dst in (
            ("import", inc.imports, world.imports),
            ("export", inc.exports, world.exports),
        ):
            for key, item in list(src.items()):
                if isinstance(key, str):
                    new_key = next(
                        (r for r in (_rename(key, n) for n in names) if r is not None), key
                    )
                    new_item = cloner.world_item(item)
                    if isinstance(new_item, WorldItemFunction):
                        new_item.func.name = new_key
                    elif isinstance(new_item, WorldItemType):
                        resolve.types[new_item.id].name = new_key
                    if new_key in dst:
                        raise SpanError(
                            span, f"{desc} of `{new_key}` shadows previously {desc}ed items"
                        )
                    dst[new_key] = new_item
                else:
                    assert isinstance(item, WorldItemInterface)
                    prev = dst.get(key)
                    if prev is None:
                        prev = dst[key] = replace(item)
                    assert isinstance(prev, WorldItemInterface)
                    if external and item.stability is not None and item.stability.kind == "stable":
                        prev.stability = None
                    elif item.stability is not None and item.stability != prev.stability:
                        if prev.stability is None:
                            prev.stability = item.stability
                        else:
                            raise SpanError(
                                span,
                                f"mismatch in stability from '{item.stability}' to "
                                f"'{prev.stability}'",
                            )


def _rename(original: str, inc: tuple[str, str]) -> str | None:
    name, as_ = inc
    if original == name:
        return as_
    kind, sep, rest = original.partition("]")
    if not sep:
        return None
    head, dot, tail = rest.partition(".")
    if dot and head == name:
        return f"{kind}]{as_}.{tail}"
    if rest == name:
        return f"{kind}]{as_}"
    return None


class _Cloner:
    """Deep-copies world items (and the types they own) from one owner to another."""

    def __init__(
        self, resolve: Resolve, prev_owner: TypeOwner, new_owner: TypeOwner, package: int
    ) -> None:
        self.resolve = resolve
        self.prev_owner = prev_owner
        self.new_owner = new_owner
        self.package = package
        self.map: dict[int, int] = {}

    def world_item(self, item: WorldItem) -> WorldItem:
        if isinstance(item, WorldItemType):
            return WorldItemType(self.type_id(item.id))
        if isinstance(item, WorldItemFunction):
            return WorldItemFunction(self.function(item.func))
        return WorldItemInterface(self.interface(item.id), item.stability, item.implements)

    def type_id(self, tid: int) -> int:
        got = self.map.get(tid)
        if got is None:
            new = copy.deepcopy(self.resolve.types[tid])
            self._type_def(new)
            got = len(self.resolve.types)
            self.resolve.types.append(new)
            self.map[tid] = got
        return got

    def _ty(self, ty: Type) -> Type:
        return self.type_id(ty) if isinstance(ty, int) else ty

    def _type_def(self, d: TypeDef) -> None:
        if d.owner is not None:
            d.owner = self.new_owner
        k = d.kind
        if isinstance(k, KType):
            if isinstance(k.ty, int) and self.resolve.types[k.ty].owner == self.prev_owner:
                k.ty = self.type_id(k.ty)
        elif isinstance(k, KHandle):
            k.id = self.type_id(k.id)
        elif isinstance(k, KOption | KList | KFixedList):
            k.ty = self._ty(k.ty)
        elif isinstance(k, KMap):
            k.key = self._ty(k.key)
            k.value = self._ty(k.value)
        elif isinstance(k, KTuple):
            k.types = [self._ty(t) for t in k.types]
        elif isinstance(k, KRecord):
            for f in k.fields:
                f.ty = self._ty(f.ty)
        elif isinstance(k, KVariant):
            for c in k.cases:
                if c.ty is not None:
                    c.ty = self._ty(c.ty)
        elif isinstance(k, KResult):
            if k.ok is not None:
                k.ok = self._ty(k.ok)
            if k.err is not None:
                k.err = self._ty(k.err)
        elif isinstance(k, KFuture | KStream):
            if k.ty is not None:
                k.ty = self._ty(k.ty)
        elif isinstance(k, KFlags | KEnum | KResource | KUnknown):
            pass

    def function(self, func: Function) -> Function:
        new = copy.deepcopy(func)
        if new.resource is not None:
            new.resource = self.type_id(new.resource)
        new.params = [(n, self._ty(t)) for n, t in new.params]
        if new.result is not None:
            new.result = self._ty(new.result)
        return new

    def interface(self, iid: int) -> int:
        new = copy.deepcopy(self.resolve.interfaces[iid])
        next_id = len(self.resolve.interfaces)
        sub = _Cloner(self.resolve, ("interface", iid), ("interface", next_id), self.package)
        new.types = {n: sub.type_id(t) for n, t in new.types.items()}
        new.functions = {n: sub.function(f) for n, f in new.functions.items()}
        new.package = self.package
        self.resolve.interfaces.append(new)
        return next_id
