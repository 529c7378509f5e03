"""Resolved WIT back to WIT text.

Used to show a resolved package to people (``wasm-component wit``), to write out the WIT of a
component, and in tests to check that resolution loses nothing: re-parsing the printed text gives
the same resolved structure. Items are printed in an order that reproduces the original
resolution order (uses, then type definitions with resources placed where their methods were
resolved, then free functions), so type ids line up after a round trip.
"""

from __future__ import annotations

from dataclasses import replace

from .lexer import KEYWORDS
from .model import (
    Docs,
    EnumCase,
    Flag,
    Function,
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
    PackageName,
    Stability,
    Type,
    TypeOwner,
    WorldItem,
    WorldItemFunction,
    WorldItemInterface,
    WorldItemType,
    WorldKey,
)
from .resolve import Resolve

__all__ = ["print_package", "print_resolve"]

_INDENT = "  "


def _id(name: str) -> str:
    return f"%{name}" if name in KEYWORDS else name


def _pkg(name: PackageName) -> str:
    text = f"{_id(name.namespace)}:{_id(name.name)}"
    return text if name.version is None else f"{text}@{name.version}"


class _Printer:
    def __init__(self, resolve: Resolve, package: int) -> None:
        self.r = resolve
        self.package = package
        self.out: list[str] = []

    # --- helpers ---------------------------------------------------------------------------------

    def line(self, depth: int, text: str) -> None:
        self.out.append(f"{_INDENT * depth}{text}\n")

    def docs(self, depth: int, docs: Docs) -> None:
        if docs.contents is None:
            return
        for ln in docs.contents.split("\n"):
            self.line(depth, f"/// {ln}" if ln else "///")

    def stability(self, depth: int, s: Stability | None) -> None:
        if s is None:
            return
        if s.kind == "stable":
            self.line(depth, f"@since(version = {s.value})")
        else:
            self.line(depth, f"@unstable(feature = {s.value})")
        if s.deprecated is not None:
            self.line(depth, f"@deprecated(version = {s.deprecated})")

    def iface_path(self, iid: int) -> str:
        iface = self.r.interfaces[iid]
        assert iface.name is not None and iface.package is not None
        if iface.package == self.package:
            return _id(iface.name)
        pname = self.r.packages[iface.package].name
        text = f"{_pkg(pname)}/{_id(iface.name)}"
        return (
            text
            if pname.version is None
            else f"{_pkg(replace(pname, version=None))}/{_id(iface.name)}@{pname.version}"
        )

    def ty(self, t: Type) -> str:
        if isinstance(t, str):
            return t
        td = self.r.types[t]
        if td.name is not None:
            return _id(td.name)
        k = td.kind
        if isinstance(k, KList):
            return f"list<{self.ty(k.ty)}>"
        if isinstance(k, KFixedList):
            return f"list<{self.ty(k.ty)}, {k.size}>"
        if isinstance(k, KOption):
            return f"option<{self.ty(k.ty)}>"
        if isinstance(k, KMap):
            return f"map<{self.ty(k.key)}, {self.ty(k.value)}>"
        if isinstance(k, KTuple):
            return "tuple<" + ", ".join(self.ty(x) for x in k.types) + ">"
        if isinstance(k, KResult):
            if k.ok is None and k.err is None:
                return "result"
            if k.err is None:
                assert k.ok is not None
                return f"result<{self.ty(k.ok)}>"
            ok = "_" if k.ok is None else self.ty(k.ok)
            return f"result<{ok}, {self.ty(k.err)}>"
        if isinstance(k, KFuture | KStream):
            name = "future" if isinstance(k, KFuture) else "stream"
            return name if k.ty is None else f"{name}<{self.ty(k.ty)}>"
        if isinstance(k, KHandle):
            inner = self.ty(k.id)
            return inner if k.kind == "own" else f"borrow<{inner}>"
        if isinstance(k, KType):
            return self.ty(k.ty)
        raise AssertionError(k)  # pragma: no cover

    def func_sig(self, f: Function, skip_self: bool) -> str:
        params = f.params[1:] if skip_self else f.params
        text = "(" + ", ".join(f"{_id(n)}: {self.ty(t)}" for n, t in params) + ")"
        if f.result is not None:
            text += f" -> {self.ty(f.result)}"
        return text

    def func_kw(self, f: Function) -> str:
        return "async func" if f.kind.startswith("async") else "func"

    # --- type definitions --------------------------------------------------------------------

    def is_use(self, tid: int, owner: TypeOwner) -> int | None:
        """Interface id when ``tid`` is an alias created by ``use`` from another interface."""
        td = self.r.types[tid]
        k = td.kind
        if isinstance(k, KType) and isinstance(k.ty, int):
            target = self.r.types[k.ty]
            if (
                target.owner != owner
                and target.owner is not None
                and target.owner[0] == "interface"
            ):
                return target.owner[1]
        return None

    def uses(self, depth: int, tids: list[int], owner: TypeOwner) -> None:
        groups: list[tuple[int, Stability | None, list[str]]] = []
        for tid in tids:
            src = self.is_use(tid, owner)
            assert src is not None
            td = self.r.types[tid]
            k = td.kind
            assert isinstance(k, KType) and isinstance(k.ty, int) and td.name is not None
            orig = self.r.types[k.ty].name
            assert orig is not None
            entry = _id(orig) if orig == td.name else f"{_id(orig)} as {_id(td.name)}"
            if groups and groups[-1][0] == src and groups[-1][1] == td.stability:
                groups[-1][2].append(entry)
            else:
                groups.append((src, td.stability, [entry]))
        for src, stab, names in groups:
            self.stability(depth, stab)
            self.line(depth, f"use {self.iface_path(src)}.{{{', '.join(names)}}};")

    def typedef(self, depth: int, tid: int, methods: list[Function]) -> None:
        td = self.r.types[tid]
        assert td.name is not None
        name = _id(td.name)
        self.docs(depth, td.docs)
        self.stability(depth, td.stability)
        k = td.kind
        if isinstance(k, KRecord):
            self.line(depth, f"record {name} {{")
            for f in k.fields:
                self.docs(depth + 1, f.docs)
                self.line(depth + 1, f"{_id(f.name)}: {self.ty(f.ty)},")
            self.line(depth, "}")
        elif isinstance(k, KVariant):
            self.line(depth, f"variant {name} {{")
            for case in k.cases:
                self.docs(depth + 1, case.docs)
                payload = "" if case.ty is None else f"({self.ty(case.ty)})"
                self.line(depth + 1, f"{_id(case.name)}{payload},")
            self.line(depth, "}")
        elif isinstance(k, KEnum | KFlags):
            kw = "enum" if isinstance(k, KEnum) else "flags"
            self.line(depth, f"{kw} {name} {{")
            named: list[EnumCase] | list[Flag] = k.cases if isinstance(k, KEnum) else k.flags
            for item in named:
                self.docs(depth + 1, item.docs)
                self.line(depth + 1, f"{_id(item.name)},")
            self.line(depth, "}")
        elif isinstance(k, KResource):
            if not methods:
                self.line(depth, f"resource {name};")
                return
            self.line(depth, f"resource {name} {{")
            for meth in methods:
                self.resource_func(depth + 1, meth)
            self.line(depth, "}")
        else:
            if isinstance(k, KHandle) and k.kind == "own":
                body = f"own<{self.ty(k.id)}>"
            else:
                body = self.ty(k.ty) if isinstance(k, KType) else self._anon_body(tid)
            self.line(depth, f"type {name} = {body};")

    def resource_func(self, depth: int, f: Function) -> None:
        self.docs(depth, f.docs)
        self.stability(depth, f.stability)
        if f.kind == "constructor":
            sig = self.func_sig(f, False)
            res = f.result
            if isinstance(res, int):
                rk = self.r.types[res].kind
                if (isinstance(rk, KHandle) and rk.kind == "own") or res == f.resource:
                    sig = sig.split(" -> ")[0]
            self.line(depth, f"constructor{sig};")
            return
        short = _id(f.name.split(".", 1)[1])
        static = "static " if f.kind.endswith("static") else ""
        sig = self.func_sig(f, not static)
        self.line(depth, f"{short}: {static}{self.func_kw(f)}{sig};")

    def _anon_body(self, tid: int) -> str:
        td = self.r.types[tid]
        saved = td.name
        td.name = None
        try:
            return self.ty(tid)
        finally:
            td.name = saved

    def function(self, depth: int, f: Function, prefix: str = "") -> None:
        self.docs(depth, f.docs)
        self.stability(depth, f.stability)
        self.line(depth, f"{prefix}{_id(f.name)}: {self.func_kw(f)}{self.func_sig(f, False)};")

    def type_items(
        self, depth: int, tids: list[int], funcs: list[Function], owner: TypeOwner, prefix: str
    ) -> None:
        """Uses, type definitions and functions, ordered as wit-parser resolved them."""
        use_ids = [t for t in tids if self.is_use(t, owner) is not None]
        defs = [t for t in tids if self.is_use(t, owner) is None]
        self.uses(depth, use_ids, owner)
        methods: dict[int, list[Function]] = {}
        for f in funcs:
            if f.resource is not None:
                methods.setdefault(f.resource, []).append(f)
        pos = 0
        emitted: set[int] = set()

        def emit_until(stop: int | None) -> None:
            nonlocal pos
            while pos < len(defs):
                tid = defs[pos]
                pos += 1
                if tid not in emitted:
                    emitted.add(tid)
                    self.typedef(depth, tid, methods.get(tid, []))
                if tid == stop:
                    return

        for f in funcs:
            if f.resource is None:
                self.function(depth, f, prefix)
            elif f.resource not in emitted:
                emit_until(f.resource)
        emit_until(None)

    # --- interfaces and worlds ------------------------------------------------------------------

    def interface_body(self, depth: int, iid: int) -> None:
        iface = self.r.interfaces[iid]
        self.type_items(
            depth,
            list(iface.types.values()),
            list(iface.functions.values()),
            ("interface", iid),
            "",
        )

    def interface(self, depth: int, iid: int) -> None:
        iface = self.r.interfaces[iid]
        assert iface.name is not None
        self.docs(depth, iface.docs)
        self.stability(depth, iface.stability)
        self.line(depth, f"interface {_id(iface.name)} {{")
        self.interface_body(depth + 1, iid)
        self.line(depth, "}")

    def world_extern(self, depth: int, kw: str, key: WorldKey, item: WorldItem) -> None:
        if isinstance(item, WorldItemInterface):
            iface = self.r.interfaces[item.id]
            if isinstance(key, int):
                self.stability(depth, item.stability)
                self.line(depth, f"{kw} {self.iface_path(item.id)};")
            elif iface.name is not None:
                self.stability(depth, item.stability)
                self.line(depth, f"{kw} {_id(key)}: {self.iface_path(item.id)};")
            else:
                self.docs(depth, iface.docs)
                self.stability(depth, iface.stability)
                self.line(depth, f"{kw} {_id(key)}: interface {{")
                self.interface_body(depth + 1, item.id)
                self.line(depth, "}")
        elif isinstance(item, WorldItemFunction):
            self.function(depth, item.func, f"{kw} ")

    def world(self, depth: int, wid: int) -> None:
        w = self.r.worlds[wid]
        self.docs(depth, w.docs)
        self.stability(depth, w.stability)
        self.line(depth, f"world {_id(w.name)} {{")
        owner: TypeOwner = ("world", wid)
        tids = [i.id for i in w.imports.values() if isinstance(i, WorldItemType)]
        funcs = [
            i.func
            for i in w.imports.values()
            if isinstance(i, WorldItemFunction) and i.func.resource is not None
        ]
        for key, item in w.imports.items():
            if isinstance(item, WorldItemInterface):
                self.world_extern(depth + 1, "import", key, item)
        self.type_items(depth + 1, tids, funcs, owner, "import ")
        for key, item in w.imports.items():
            if isinstance(item, WorldItemFunction) and item.func.resource is None:
                self.world_extern(depth + 1, "import", key, item)
        for key, item in w.exports.items():
            self.world_extern(depth + 1, "export", key, item)
        self.line(depth, "}")

    def package_items(self, depth: int) -> None:
        pkg = self.r.packages[self.package]
        first = True
        for iid in pkg.interfaces.values():
            if not first:
                self.out.append("\n")
            first = False
            self.interface(depth, iid)
        for wid in pkg.worlds.values():
            if not first:
                self.out.append("\n")
            first = False
            self.world(depth, wid)


def print_package(resolve: Resolve, package: int) -> str:
    """WIT text for one package (``package ns:name;`` followed by its items)."""
    p = _Printer(resolve, package)
    pkg = resolve.packages[package]
    p.docs(0, pkg.docs)
    p.line(0, f"package {_pkg(pkg.name)};")
    p.out.append("\n")
    p.package_items(0)
    return "".join(p.out)


def print_resolve(resolve: Resolve, main: int | None = None) -> str:
    """WIT text for every package: ``main`` (default: the last one) at the top level and the
    others as nested ``package ns:name { ... }`` blocks, so the text parses on its own."""
    if not resolve.packages:
        return ""
    main_id = len(resolve.packages) - 1 if main is None else main
    text = [print_package(resolve, main_id)]
    for pid in range(len(resolve.packages)):
        if pid == main_id:
            continue
        p = _Printer(resolve, pid)
        pkg = resolve.packages[pid]
        p.out.append("\n")
        p.docs(0, pkg.docs)
        p.line(0, f"package {_pkg(pkg.name)} {{")
        p.package_items(1)
        p.line(0, "}")
        text.append("".join(p.out))
    return "".join(text)
