"""The bindings generator: a resolved WIT world -> Python source files.

Layout of the output package (one per world)::

    __init__.py        world-level types, ``Imports`` (Protocol), ``add_to_linker``, and the
                       exports class named after the world (``instantiate(store, component,
                       linker)``)
    imports/<m>.py     per imported interface: types, ``Host`` (Protocol), ``Host<Resource>``
                       (Protocols), resource classes, ``add_to_linker(linker, get_host)``
    exports/<m>.py     per exported interface: types, resource proxy classes, ``Exports``

Values cross the boundary through generated ``_lift_*`` (runtime value -> generated class) and
``_lower_*`` (generated class -> runtime value) helpers; types needing no conversion (numbers,
strings, ``bytes``, lists/tuples/options/results of those) pass through untouched.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from .. import types as t
from ..errors import WitError
from ..wit.model import (
    Docs,
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
    KUnknown,
    KVariant,
    Type,
    WorldItemFunction,
    WorldItemInterface,
    WorldItemType,
    WorldKey,
)
from ..wit.resolve import Resolve
from ..wit.to_types import dealias, function_type, resource_ids, wit_type_to_type

__all__ = ["Options", "generate_world"]


@dataclass
class Options:
    """Generator options (mirroring wasmtime's ``bindgen!`` where it makes sense).

    - ``with_``: ``{"ns:pkg/iface[@ver]": "python.module"}`` uses an existing module (bindings
      generated earlier, e.g. shared WASI bindings) instead of generating that imported
      interface; ``{"ns:pkg/iface/resource": "module:Class"}`` (or ``"resource"`` for a
      world-level one) uses ``Class`` as the host type ``T`` of ``Resource[T]`` for an imported
      resource.
    - ``bases``: extra base classes (``"module:Name"``) for generated records and variant cases.
    - ``decorators``: extra decorators (``"module:name"``) applied to records, variant cases,
      enums and flags (outermost first, above ``@dataclass``).
    - ``type_check``: pass the WIT signature of resource-free imported functions to the linker
      (``func_wrap(..., params=, result=)``), so a mismatching component fails at link time.
    - ``docs``: carry the WIT's doc comments into docstrings (``False``: only the short
      generated ones, e.g. for checked-in bindings of someone else's WIT).
    """

    with_: Mapping[str, str] = field(default_factory=dict)
    bases: Sequence[str] = ()
    decorators: Sequence[str] = ()
    type_check: bool = True
    docs: bool = True


# --- names --------------------------------------------------------------------------------------

_UPPER_RESERVED = {"None", "True", "False", "Ellipsis", "NotImplemented", "Any", "Protocol"}


def _words(name: str) -> list[str]:
    return [w for w in re.split(r"[^0-9A-Za-z]+", name) if w]


def snake(name: str) -> str:
    s = "_".join(w.lower() for w in _words(name)) or "x"
    if s[0].isdigit():
        s = "n" + s
    return s + "_" if keyword.iskeyword(s) or keyword.issoftkeyword(s) else s


def pascal(name: str) -> str:
    s = "".join(w[:1].upper() + w[1:].lower() for w in _words(name)) or "X"
    if s[0].isdigit():
        s = "N" + s
    return s + "_" if s in _UPPER_RESERVED else s


def upper(name: str) -> str:
    s = "_".join(w.upper() for w in _words(name)) or "X"
    return "N" + s if s[0].isdigit() else s


class Names:
    """Allocates unique Python identifiers in one namespace."""

    def __init__(self, reserved: Sequence[str] = ()) -> None:
        self.used: set[str] = set(reserved)

    def take(self, want: str) -> str:
        name = want
        while name in self.used:
            name += "_"
        self.used.add(name)
        return name


def _docstring(docs: Docs | None, indent: str, fallback: str | None = None) -> list[str]:
    text = docs.contents if docs is not None and docs.contents else fallback
    if not text:
        return []
    text = text.strip().replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    lines = text.splitlines() or [""]
    if len(lines) == 1:
        return [f'{indent}"""{lines[0]}"""']
    return [f'{indent}"""{lines[0]}', *[f"{indent}{ln}".rstrip() for ln in lines[1:]],
            f'{indent}"""']


def _ref(spec: str) -> tuple[str, str]:
    """``"pkg.mod:Name"`` or ``"pkg.mod.Name"`` -> (module, attribute)."""
    if ":" in spec:
        mod, _, attr = spec.partition(":")
    else:
        mod, _, attr = spec.rpartition(".")
    if not mod or not attr:
        raise WitError(f"expected `module:name`, got `{spec}`")
    return mod, attr


# --- modules ------------------------------------------------------------------------------------

HEADER = [
    "# Generated by `wasm-component bindgen`. Do not edit.",
    "# ruff: noqa",
    "from __future__ import annotations",
    "",
    "import dataclasses as _dataclasses",
    "import enum as _enum",
    "from collections.abc import Callable as _Callable",
    "from typing import Any as _Any",
    "from typing import Protocol as _Protocol",
    "from typing import TypeAlias as _TypeAlias",
    "",
    "from wasm_component import ByteStreamReader as _ByteStreamReader",
    "from wasm_component import Component as _Component",
    "from wasm_component import Err as _Err",
    "from wasm_component import ErrorContext as _ErrorContext",
    "from wasm_component import FutureReader as _FutureReader",
    "from wasm_component import Instance as _Instance",
    "from wasm_component import Linker as _Linker",
    "from wasm_component import Ok as _Ok",
    "from wasm_component import Resource as _Resource",
    "from wasm_component import ResourceAny as _ResourceAny",
    "from wasm_component import ResourceType as _ResourceType",
    "from wasm_component import Some as _Some",
    "from wasm_component import Store as _Store",
    "from wasm_component import StreamReader as _StreamReader",
    "from wasm_component import Variant as _Variant",
    "from wasm_component import types as _types",
    "from wasm_component.bindgen import rt as _rt",
    "from wasm_component.instance import ExportIndex as _ExportIndex",
]


@dataclass(eq=False)
class Mod:
    kind: str  # "root" | "import" | "export"
    name: str  # python module name inside imports/ or exports/ ("" for the root)
    iid: int | None = None
    instance_name: str = ""
    external: str | None = None  # with_: an existing module
    names: Names = field(default_factory=lambda: Names(
        ["Host", "Exports", "Imports", "add_to_linker", "INSTANCE_NAME"]))
    type_names: dict[int, str] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    helpers: list[str] = field(default_factory=list)
    helper_done: set[tuple[str, int]] = field(default_factory=set)
    deps: dict[Mod, str] = field(default_factory=dict)
    extra_imports: set[str] = field(default_factory=set)
    attr: str = ""  # attribute name on the world's Imports/exports object

    @property
    def path(self) -> str:
        if self.kind == "root":
            return "__init__.py"
        return f"{self.kind}s/{self.name}.py"


@dataclass
class _Res:
    """An imported (host) or exported (guest) resource's generated names."""

    tid: int
    cls: str  # the class (marker/user class for host resources; proxy for guest ones)
    host_proto: str = ""  # Host<Name> protocol (imports)
    rt_const: str = ""  # _RT_<Name> (imports)
    factory_cls: str = ""  # <Name>Class (exports)
    attr: str = ""  # attribute on Host / Exports


class Generator:
    def _doc(self, docs: Docs | None, indent: str, fallback: str | None = None) -> list[str]:
        return _docstring(docs if self.opts.docs else None, indent, fallback)

    def __init__(self, resolve: Resolve, wid: int, opts: Options) -> None:
        self.r = resolve
        self.wid = wid
        self.world = resolve.worlds[wid]
        self.opts = opts
        self.root = Mod("root", "")
        self.imports: dict[int, Mod] = {}  # by interface id
        self.import_mods: list[Mod] = []
        self.exports: dict[int, Mod] = {}
        self.export_mods: list[Mod] = []
        self.mod_names: dict[str, Names] = {"import": Names(["rt"]), "export": Names(["rt"])}
        self.res: dict[tuple[Mod, int], _Res] = {}
        self.import_items: list[tuple[Mod, WorldKey]] = []

    # --- module placement ----------------------------------------------------------------------

    def _iface_mod_name(self, key: WorldKey, iid: int, kind: str) -> str:
        if isinstance(key, int):
            iface = self.r.interfaces[iid]
            pkg = self.r.packages[iface.package].name if iface.package is not None else None
            base = f"{pkg.namespace}_{pkg.name}_{iface.name}" if pkg else (iface.name or "iface")
        else:
            base = key
        name = snake(base).rstrip("_") or "iface"
        return self.mod_names[kind].take(name)

    def _new_iface_mod(self, kind: str, key: WorldKey, iid: int) -> Mod:
        inst = self.r.name_world_key(key)
        m = Mod(kind, self._iface_mod_name(key, iid, kind), iid, inst)
        if kind == "import":
            ext = self.opts.with_.get(inst)
            if ext is None and isinstance(key, int):
                iface_id = self.r.id_of(iid) or ""
                ext = self.opts.with_.get(iface_id.partition("@")[0])
            m.external = ext
            self.imports.setdefault(iid, m)
            self.import_mods.append(m)
        else:
            self.exports.setdefault(iid, m)
            self.export_mods.append(m)
        return m

    def type_mod(self, tid: int, ctx: Mod) -> Mod | None:
        """The module defining named type ``tid`` as seen from ``ctx`` (None: anonymous)."""
        td = self.r.types[tid]
        if td.name is None or td.owner is None:
            return None
        kind, oid = td.owner
        if kind == "world":
            return self.root
        if ctx.kind == "export" and oid in self.exports:
            return self.exports[oid]
        if oid in self.imports:
            return self.imports[oid]
        if oid in self.exports:
            return self.exports[oid]
        # An interface outside the world (never after elaboration): give it a types module.
        m = self._new_iface_mod("import", oid, oid)
        self._gen_types(m, self.r.interfaces[oid].types)
        return m

    def qual(self, ctx: Mod, target: Mod, name: str) -> str:
        if target is ctx:
            return name
        alias = ctx.deps.get(target)
        if alias is None:
            alias = ctx.deps[target] = f"_m{target.kind[0]}_{target.name}"
        return f"{alias}.{name}"

    def type_name(self, tid: int, ctx: Mod) -> str:
        m = self.type_mod(tid, ctx)
        assert m is not None
        return self.qual(ctx, m, m.type_names[tid])

    # --- annotations --------------------------------------------------------------------------

    def is_guest(self, rid: int, ctx: Mod) -> bool:
        m = self.type_mod(rid, ctx)
        return m is not None and m.kind == "export"

    def ann(self, ty: Type | None, ctx: Mod) -> str:
        if ty is None:
            return "None"
        if isinstance(ty, str):
            return {"bool": "bool", "f32": "float", "f64": "float", "char": "str",
                    "string": "str", "error-context": "_ErrorContext"}.get(ty, "int")
        td = self.r.types[ty]
        if td.name is not None and td.owner is not None:
            return self.type_name(ty, ctx)
        k = td.kind
        match k:
            case KType(inner):
                return self.ann(inner, ctx)
            case KList(e):
                if e == "u8":
                    return "bytes"
                return f"list[{self.ann(e, ctx)}]"
            case KFixedList(e, _):
                return f"list[{self.ann(e, ctx)}]"
            case KMap(key, value):
                return f"dict[{self.ann(key, ctx)}, {self.ann(value, ctx)}]"
            case KOption(e):
                if self.nested_option(e):
                    return f"_Some[{self.ann(e, ctx)}] | None"
                return f"{self.ann(e, ctx)} | None"
            case KResult(ok, err):
                return f"_Ok[{self.ann(ok, ctx)}] | _Err[{self.ann(err, ctx)}]"
            case KTuple(types):
                if not types:
                    return "tuple[()]"
                return "tuple[" + ", ".join(self.ann(e, ctx) for e in types) + "]"
            case KHandle(_, rid):
                return self.handle_ann(rid, ctx)
            case KStream(e):
                if e == "u8":
                    return "_ByteStreamReader"
                return f"_StreamReader[{self.payload_ann(e, ctx, 'tuple[()]')}]"
            case KFuture(e):
                return f"_FutureReader[{self.payload_ann(e, ctx, 'None')}]"
        raise WitError(f"cannot bind anonymous type {type(k).__name__}")

    def payload_ann(self, e: Type | None, ctx: Mod, unit: str) -> str:
        """A stream's or future's element annotation: the elements cross as runtime values
        (a stream does not convert them), so a type whose generated form differs is ``_Any``;
        ``unit`` for none (a payload-less stream moves ``()``, a future gives ``None``)."""
        if e is None:
            return unit
        if self.lift_id(e, ctx) and self.lower_id(e, ctx):
            return self.ann(e, ctx)
        return "_Any"

    def handle_ann(self, rid: int, ctx: Mod) -> str:
        target = dealias(self.r, rid)
        assert isinstance(target, int)
        m = self.type_mod(target, ctx)
        assert m is not None
        cls = self.qual(ctx, m, m.type_names[target])
        return cls if m.kind == "export" else f"_Resource[{cls}]"

    def nested_option(self, e: Type) -> bool:
        d = dealias(self.r, e)
        return isinstance(d, int) and isinstance(self.r.types[d].kind, KOption)

    # --- conversions --------------------------------------------------------------------------

    def lift_id(self, ty: Type | None, ctx: Mod) -> bool:
        """Whether the runtime's value of ``ty`` already is the generated form."""
        return self._identity(ty, ctx, True, 0)

    def lower_id(self, ty: Type | None, ctx: Mod) -> bool:
        """Whether a generated value of ``ty`` already is a form the runtime lowers."""
        return self._identity(ty, ctx, False, 0)

    def _identity(self, ty: Type | None, ctx: Mod, lifting: bool, depth: int) -> bool:
        """Containers are identities when their elements are; the leaves differ by direction:
        enum members lower as they are (the runtime accepts ``enum.Enum``) but lift from case
        names; host handles lift as they are, guest ones become proxies."""
        if ty is None or isinstance(ty, str) or depth > 200:
            return True
        k = self.r.types[ty].kind
        d = depth + 1
        match k:
            case KType(inner):
                return self._identity(inner, ctx, lifting, d)
            case KList(e) | KFixedList(e, _) | KOption(e):
                return self._identity(e, ctx, lifting, d)
            case KMap(key, value):
                return self._identity(key, ctx, lifting, d) and self._identity(
                    value, ctx, lifting, d)
            case KResult(ok, err):
                return self._identity(ok, ctx, lifting, d) and self._identity(
                    err, ctx, lifting, d)
            case KTuple(types):
                return all(self._identity(e, ctx, lifting, d) for e in types)
            case KHandle(_, rid):
                return lifting and not self.is_guest(self._rid(rid), ctx)
            case KEnum():
                return not lifting
            case KFuture() | KStream():
                return True
        return False

    def _rid(self, rid: int) -> int:
        d = dealias(self.r, rid)
        assert isinstance(d, int)
        return d

    def lift(self, ty: Type | None, expr: str, ctx: Mod) -> str:
        if self.lift_id(ty, ctx):
            return expr
        assert isinstance(ty, int)
        return f"{self.helper('lift', ty, ctx)}({expr}, _cx)"

    def lower(self, ty: Type | None, expr: str, ctx: Mod) -> str:
        if self.lower_id(ty, ctx):
            return expr
        assert isinstance(ty, int)
        return f"{self.helper('lower', ty, ctx)}({expr})"

    def helper(self, direction: str, ty: int, ctx: Mod) -> str:
        """The (qualified) name of the conversion helper for type id ``ty``."""
        td = self.r.types[ty]
        if isinstance(td.kind, KType):
            # aliases convert like their target; its helper lives with the target
            target = td.kind.ty
            assert isinstance(target, int)
            return self.helper(direction, target, ctx)
        home = self.type_mod(ty, ctx) or ctx
        if home.external is not None:
            return self.qual(ctx, home, f"_{direction}_{home.type_names[ty]}")
        name = (f"_{direction}_{home.type_names[ty]}" if ty in home.type_names
                else f"_{direction}_{ty}")
        if (direction, ty) not in home.helper_done:
            home.helper_done.add((direction, ty))
            self._emit_helper(direction, ty, home, name)
        return self.qual(ctx, home, name)

    def _emit_helper(self, direction: str, ty: int, m: Mod, name: str) -> None:
        a = self.ann(ty, m)
        k = self.r.types[ty].kind
        out: list[str] = []
        if direction == "lift":
            out.append(f"def {name}(v: _Any, _cx: _rt.Ctx) -> {a}:")
            out += ["    " + ln for ln in self._lift_body(ty, k, m)]
        else:
            out.append(f"def {name}(v: {a}) -> _Any:")
            out += ["    " + ln for ln in self._lower_body(ty, k, m)]
        m.helpers.append("\n".join(out))

    def _lift_body(self, ty: int, k: object, m: Mod) -> list[str]:
        match k:
            case KRecord(fields):
                cls = m.type_names[ty]
                names = self.field_names(ty)
                args = ", ".join(
                    f"{py}={self.lift(f.ty, f'v[{f.name!r}]', m)}"
                    for f, py in zip(fields, names, strict=True)
                )
                return [f"return {cls}({args})"]
            case KVariant(cases):
                out = ["c = v.case"]
                for c, cls in zip(cases, self.case_classes(ty, m), strict=True):
                    arg = "" if c.ty is None else self.lift(c.ty, "v.payload", m)
                    out.append(f"if c == {c.name!r}:")
                    out.append(f"    return {cls}({arg})")
                out.append("raise ValueError(f'unknown case {c!r}')")
                return out
            case KEnum():
                return [f"return {m.type_names[ty]}(v)"]
            case KFlags(flags):
                cls = m.type_names[ty]
                out = [f"r = {cls}(0)"]
                for f in flags:
                    out.append(f"if {f.name!r} in v:")
                    out.append(f"    r |= {cls}.{self.flag_names(ty)[f.name]}")
                out.append("return r")
                return out
            case KList() | KFixedList() | KMap() | KOption() | KResult() | KTuple():
                return self._container_body(k, self.lift, m)
            case KHandle(_, rid):
                return [f"return {self.handle_ann(rid, m)}._lift(v, _cx)"]
        raise WitError(f"no lifting for {type(k).__name__}")

    def _container_body(
        self, k: object, conv: Callable[[Type | None, str, Mod], str], m: Mod
    ) -> list[str]:
        """Lifting or lowering (``conv``) of the shapes whose conversion is the same both ways:
        convert each element and rebuild the container."""
        match k:
            case KList(e) | KFixedList(e, _):
                return [f"return [{conv(e, 'x', m)} for x in v]"]
            case KMap(key, value):
                return [f"return {{{conv(key, 'k', m)}: {conv(value, 'x', m)} "
                        "for k, x in v.items()}"]
            case KOption(e):
                if self.nested_option(e):
                    return [f"return None if v is None else _Some({conv(e, 'v.value', m)})"]
                return [f"return None if v is None else {conv(e, 'v', m)}"]
            case KResult(ok, err):
                okv = "None" if ok is None else conv(ok, "v.value", m)
                errv = "None" if err is None else conv(err, "v.value", m)
                return ["if isinstance(v, _Ok):", f"    return _Ok({okv})",
                        f"return _Err({errv})"]
            case KTuple(types):
                items = [conv(e, f"v[{i}]", m) for i, e in enumerate(types)]
                return [f"return ({', '.join(items)}{',' if len(items) == 1 else ''})"]
        raise WitError(f"no conversion for {type(k).__name__}")

    def _lower_body(self, ty: int, k: object, m: Mod) -> list[str]:
        match k:
            case KRecord(fields):
                names = self.field_names(ty)
                kvs = ", ".join(
                    f"{f.name!r}: {self.lower(f.ty, f'v.{py}', m)}"
                    for f, py in zip(fields, names, strict=True)
                )
                return [f"return {{{kvs}}}"]
            case KVariant(cases):
                out = []
                for c, cls in zip(cases, self.case_classes(ty, m), strict=True):
                    arg = "" if c.ty is None else ", " + self.lower(c.ty, "v.value", m)
                    out.append(f"if isinstance(v, {cls}):")
                    out.append(f"    return _Variant({c.name!r}{arg})")
                out.append("raise TypeError(f'expected a case of "
                           f"{m.type_names[ty]}, got {{type(v).__name__}}')")
                return out
            case KFlags(flags):
                cls = m.type_names[ty]
                fn = self.flag_names(ty)
                pairs = ", ".join(f"({f.name!r}, {cls}.{fn[f.name]})" for f in flags)
                if not flags:
                    return ["return frozenset()"]
                return [f"return frozenset(n for n, f in ({pairs},) if f in v)"]
            case KList() | KFixedList() | KMap() | KOption() | KResult() | KTuple():
                return self._container_body(k, self.lower, m)
            case KHandle(_, rid):
                target = self._rid(rid)
                home = self.type_mod(target, m)
                assert home is not None
                if home.kind == "export":
                    return ["return v.handle"]
                rt = self.qual(m, home, f"_RT_{home.type_names[target]}")
                return [f"return _rt.rewrap(v, {rt})"]
        raise WitError(f"no lowering for {type(k).__name__}")

    # --- per-type naming (stable across calls) ------------------------------------------------

    _field_cache: dict[int, list[str]]
    _case_cache: dict[tuple[int, int], list[str]]
    _flag_cache: dict[int, dict[str, str]]

    def field_names(self, tid: int) -> list[str]:
        cache = self.__dict__.setdefault("_field_cache", {})
        if tid not in cache:
            k = self.r.types[tid].kind
            assert isinstance(k, KRecord)
            ns = Names()
            cache[tid] = [ns.take(snake(f.name)) for f in k.fields]
        names: list[str] = cache[tid]
        return names

    def case_classes(self, tid: int, m: Mod) -> list[str]:
        cache = self.__dict__.setdefault("_case_cache", {})
        key = (id(m), tid)
        if key not in cache:
            k = self.r.types[tid].kind
            assert isinstance(k, KVariant)
            base = m.type_names[tid]
            cache[key] = [m.names.take(base + pascal(c.name)) for c in k.cases]
        names: list[str] = cache[key]
        return names

    def flag_names(self, tid: int) -> dict[str, str]:
        cache = self.__dict__.setdefault("_flag_cache", {})
        if tid not in cache:
            k = self.r.types[tid].kind
            ns = Names(["name", "value"])
            if isinstance(k, KFlags):
                cache[tid] = {f.name: ns.take(upper(f.name)) for f in k.flags}
            else:
                assert isinstance(k, KEnum)
                cache[tid] = {c.name: ns.take(upper(c.name)) for c in k.cases}
        names: dict[str, str] = cache[tid]
        return names

    # --- type definitions -----------------------------------------------------------------------

    def _extra_import(self, m: Mod, spec: str) -> str:
        mod, attr = _ref(spec)
        alias = f"_x_{snake(mod)}_{attr}"
        m.extra_imports.add(f"from {mod} import {attr} as {alias}")
        return alias

    def _decorators(self, m: Mod) -> list[str]:
        return [f"@{self._extra_import(m, d)}" for d in self.opts.decorators]

    def _bases(self, m: Mod) -> str:
        bases = [self._extra_import(m, b) for b in self.opts.bases]
        return f"({', '.join(bases)})" if bases else ""

    def _name_types(self, m: Mod, types: Mapping[str, int]) -> None:
        for name, tid in types.items():
            m.type_names[tid] = m.names.take(pascal(name))

    def _gen_types(self, m: Mod, types: Mapping[str, int]) -> None:
        """Emit the definitions of ``types`` (already named) into ``m``."""
        if m.external is not None:
            return
        for name, tid in types.items():
            self._gen_type(m, name, tid)

    def _gen_type(self, m: Mod, wit_name: str, tid: int) -> None:
        td = self.r.types[tid]
        k = td.kind
        cls = m.type_names[tid]
        L = m.lines
        doc = self._doc(td.docs, "    ")
        match k:
            case KRecord(fields):
                L += ["", "", *self._decorators(m), "@_dataclasses.dataclass(frozen=True)",
                      f"class {cls}{self._bases(m)}:"]
                L += doc or [f'    """WIT record `{wit_name}`."""']
                for f, py in zip(fields, self.field_names(tid), strict=True):
                    L.append(f"    {py}: {self.ann(f.ty, m)}")
                    L += self._doc(f.docs, "    ")
                self.helper("lift", tid, m)
                self.helper("lower", tid, m)
            case KVariant(cases):
                names = self.case_classes(tid, m)
                for c, cname in zip(cases, names, strict=True):
                    L += ["", "", *self._decorators(m), "@_dataclasses.dataclass(frozen=True)",
                          f"class {cname}{self._bases(m)}:"]
                    L += self._doc(c.docs, "    ", f"Case `{c.name}` of WIT variant "
                                    f"`{wit_name}`.")
                    if c.ty is not None:
                        L.append(f"    value: {self.ann(c.ty, m)}")
                L += ["", "", f"{cls}: _TypeAlias = {' | '.join(names)!r}"]
                L += self._doc(td.docs, "")
                self.helper("lift", tid, m)
                self.helper("lower", tid, m)
            case KEnum(cases):
                L += ["", "", *self._decorators(m), f"class {cls}(_enum.Enum):"]
                L += doc or [f'    """WIT enum `{wit_name}`."""']
                fn = self.flag_names(tid)
                for ec in cases:
                    L.append(f"    {fn[ec.name]} = {ec.name!r}")
                self.helper("lift", tid, m)
            case KFlags(flags):
                L += ["", "", *self._decorators(m), f"class {cls}(_enum.Flag):"]
                L += doc or [f'    """WIT flags `{wit_name}`."""']
                fn = self.flag_names(tid)
                for i, fl in enumerate(flags):
                    L.append(f"    {fn[fl.name]} = {1 << i}")
                self.helper("lift", tid, m)
                self.helper("lower", tid, m)
            case KResource():
                if m.kind == "export":
                    self._gen_guest_resource(m, wit_name, tid)
                else:
                    self._gen_host_resource(m, wit_name, tid)
            case KType(target):
                self._gen_alias(m, cls, tid, target, td.docs)
            case KUnknown():
                raise WitError(f"type `{wit_name}` was never resolved")
            case _:
                L += ["", "", f"{cls}: _TypeAlias = {self.anon_ann(tid, m)!r}"]
                L += self._doc(td.docs, "")

    def anon_ann(self, tid: int, m: Mod) -> str:
        """The structural annotation of a named non-class type (``type x = list<u8>``)."""
        td = self.r.types[tid]
        saved = td.name
        td.name = None
        try:
            return self.ann(tid, m)
        finally:
            td.name = saved

    def _gen_alias(self, m: Mod, cls: str, tid: int, target: Type, docs: Docs) -> None:
        L = m.lines
        d = dealias(self.r, target)
        classy = isinstance(d, int) and isinstance(
            self.r.types[d].kind, KRecord | KEnum | KFlags | KResource)
        tm = self.type_mod(target, m) if isinstance(target, int) else None
        if classy and isinstance(target, int) and tm is not None and (tm is not m or target < tid):
            L += ["", "", f"{cls} = {self.type_name(target, m)}"]
        else:
            L += ["", "", f"{cls}: _TypeAlias = {self.ann(target, m)!r}"]
        L += self._doc(docs, "")

    # --- host (imported) resources ---------------------------------------------------------------

    def _resource_key(self, m: Mod, wit_name: str) -> str:
        if m.kind == "root":
            return wit_name
        return f"{m.instance_name.partition('@')[0]}/{wit_name}"

    def _gen_host_resource(self, m: Mod, wit_name: str, tid: int) -> None:
        cls = m.type_names[tid]
        L = m.lines
        user = self.opts.with_.get(self._resource_key(m, wit_name))
        if user is not None:
            alias = self._extra_import(m, user)
            L += ["", "", f"{cls} = {alias}"]
        else:
            L += ["", "", f"class {cls}:"]
            L += self._doc(self.r.types[tid].docs, "    ") or [
                f'    """Host type of the imported resource `{wit_name}`: handles are '
                f'`Resource[{cls}]`\n    (map your own class in with the `with_` option)."""'
            ]
        L += ["", "", f"_RT_{cls} = _ResourceType.host({cls}, {wit_name!r})"]

    def _host_resource_funcs(self, funcs: Mapping[str, Function]) -> dict[int, list[Function]]:
        out: dict[int, list[Function]] = {}
        for f in funcs.values():
            if f.resource is not None:
                out.setdefault(self._rid(f.resource), []).append(f)
        return out

    def _resources_of(self, types: Mapping[str, int]) -> list[tuple[str, int]]:
        return [(n, tid) for n, tid in types.items()
                if isinstance(self.r.types[tid].kind, KResource)]

    def _method_name(self, f: Function) -> str:
        if f.kind.endswith("constructor"):
            return "new"
        return f.name.split(".", 1)[1] if "." in f.name else f.name

    def _params(self, f: Function, m: Mod, skip_self: bool) -> list[tuple[str, str, Type]]:
        """(python name, annotation, type) of ``f``'s parameters."""
        ns = Names(["self"])
        out = []
        for i, (pname, pty) in enumerate(f.params):
            if skip_self and i == 0 and f.kind.endswith("method"):
                continue
            out.append((ns.take(snake(pname)), self.ann(pty, m), pty))
        return out

    def _gen_import_iface(self, m: Mod, funcs: Mapping[str, Function],
                          types: Mapping[str, int], root: bool) -> None:
        """``Host`` protocols and the ``add_to_linker`` body for imported ``funcs``."""
        L = m.lines
        by_res = self._host_resource_funcs(funcs)
        resources = self._resources_of(types)
        host_names = Names(["self"])
        res_attrs: dict[int, tuple[str, str]] = {}
        for wit_name, tid in resources:
            proto = m.names.take(f"Host{m.type_names[tid]}")
            res_attrs[tid] = (host_names.take(snake(wit_name)), proto)
            pn = Names(["self", "drop"])
            L += ["", "", f"class {proto}(_Protocol):",
                  f'    """Implements the imported resource `{wit_name}`."""', ""]
            handle = f"_Resource[{m.type_names[tid]}]"
            for f in by_res.get(tid, []):
                L += self._proto_method(f, pn.take(snake(self._method_name(f))), m, handle)
            L += [f"    def drop(self, rep: {handle}) -> None:",
                  '        """The guest dropped its last handle."""', "        ...", ""]
        host_cls = "Imports" if root else "Host"
        L += ["", "", f"class {host_cls}(_Protocol):"]
        L += [f'    """What the host implements for `{m.instance_name or self.world.name}`."""']
        fnames: dict[str, str] = {}
        for f in funcs.values():
            if f.resource is None:
                fnames[f.name] = host_names.take(snake(f.name))
        for tid, (attr, proto) in res_attrs.items():
            L += ["", "    @property", f"    def {attr}(self) -> {proto}: ..."]
            _ = tid
        ifaces: list[tuple[Mod, str]] = []
        if root:
            for im in self.import_mods:
                assert im.iid is not None
                iface = self.r.interfaces[im.iid]
                if im.external is None and not iface.functions and not any(
                        isinstance(self.r.types[x].kind, KResource)
                        for x in iface.types.values()):
                    ifaces.append((im, ""))  # types only: nothing to implement
                    continue
                im.attr = host_names.take(im.attr or im.name)
                ifaces.append((im, self.qual(m, im, "Host")))
                L += ["", "    @property", f"    def {im.attr}(self) -> {ifaces[-1][1]}: ..."]
        for f in funcs.values():
            if f.resource is None:
                L += ["", *self._proto_method(f, fnames[f.name], m, "")]
        # functions of an `@unstable` feature (kept at generation) are linked only when the
        # caller enables it, as wasmtime's generated `LinkOptions` do
        gated = sorted({f.stability.value for f in funcs.values()
                        if f.stability is not None and f.stability.kind == "unstable"})
        if gated:
            L += ["", "", f"UNSTABLE_FEATURES = frozenset({gated!r})"]
        opt = ", features: frozenset[str] = frozenset()" if gated else ""
        L += ["", "", f"def add_to_linker(linker: _Linker, get_host: "
              f"_Callable[[_Store], {host_cls}]{opt}) -> None:"]
        L.append(f'    """Define the imports of `{m.instance_name or self.world.name}` on '
                 '`linker`: each call goes to `get_host(store)`' +
                 (" (an `@unstable` function only if its feature is in `features`)"
                  if gated else "") + '."""')
        if root:
            for im, proto in ifaces:
                fn = self.qual(m, im, "add_to_linker")
                getter = f"get_host(s).{im.attr}" if proto else "s"
                L.append(f"    {fn}(linker, lambda s: {getter})")
            L.append("    inst = linker.root()")
        else:
            L.append(f"    inst = linker.instance({m.instance_name!r})")
        L += self._define_types(m, types)
        for wit_name, tid in resources:
            attr, _p = res_attrs[tid]
            cls = m.type_names[tid]
            L += [f"    inst.resource({wit_name!r}, _RT_{cls}, lambda s, rep: "
                  f"get_host(s).{attr}.drop(_Resource(rep, _RT_{cls}, True)))"]
        for f in funcs.values():
            if f.resource is None:
                target = f"get_host(_store).{fnames[f.name]}"
            else:
                rid = self._rid(f.resource)
                if rid not in res_attrs:
                    continue
                pn = Names(["self", "drop"])
                mnames = {g.name: pn.take(snake(self._method_name(g)))
                          for g in by_res.get(rid, [])}
                target = f"get_host(_store).{res_attrs[rid][0]}.{mnames[f.name]}"
            wire = self._wire(f, target, m)
            if f.stability is not None and f.stability.kind == "unstable":
                wire = [f"    if {f.stability.value!r} in features:",
                        *("    " + line for line in wire)]
            L += wire
        if not funcs and not resources:
            L.append("    _ = (inst, get_host)")

    def _define_types(self, m: Mod, types: Mapping[str, int]) -> list[str]:
        """Supply the interface's named types on the linker instance (components alias them)."""
        out = []
        for wit_name, tid in types.items():
            if isinstance(self.r.types[tid].kind, KResource):
                continue
            rmap: dict[int, t.ResourceType] = {}
            try:
                ty = wit_type_to_type(self.r, tid, rmap)
            except WitError:
                continue
            if _has_async(ty):
                continue
            names: dict[t.ResourceType, str] = {}
            for rid, rt in rmap.items():
                home = self.type_mod(rid, m)
                if home is None or home.kind != "import":
                    break
                names[rt] = self.qual(m, home, f"_RT_{home.type_names[rid]}")
            else:
                try:
                    expr = type_expr(ty, names)
                except WitError:
                    continue
                out.append(f"    _rt.define_type(inst, {wit_name!r}, {expr})")
        return out

    def _proto_method(self, f: Function, name: str, m: Mod, handle: str) -> list[str]:
        ps = []
        for i, (pname, pty) in enumerate(f.params):
            py = "self_" if i == 0 and f.kind.endswith("method") else None
            ps.append((py, pname, pty))
        ns = Names(["self", "self_"])
        args = []
        for py, pname, pty in ps:
            nm = py or ns.take(snake(pname))
            args.append(f"{nm}: {self.ann(pty, m)}")
        ret = self.ann(f.result, m)
        out = [f"    {_def(f)} {name}(self{''.join(', ' + a for a in args)}) -> {ret}:"]
        out += self._doc(f.docs, "        ")
        out.append("        ...")
        return out

    def _wire(self, f: Function, target: str, m: Mod) -> list[str]:
        fname = f"_f_{snake(f.name)}_{len(m.lines)}"
        n = len(f.params)
        params = "".join(f", a{i}: _Any" for i in range(n))
        args = ", ".join(self.lift(pty, f"a{i}", m) for i, (_, pty) in enumerate(f.params))
        out = [f"    {_def(f)} {fname}(_store: _Store{params}) -> _Any:",
               "        _cx = _rt.NO_CX"]
        if _is_async(f):  # the host's coroutine is awaited here (a plain def may return)
            target = f"await _rt.awaited({target}"
            args += ")"
        res = f.result
        d = dealias(self.r, res) if res is not None else None
        is_result = isinstance(d, int) and isinstance(self.r.types[d].kind, KResult)
        if is_result:
            out += ["        try:", f"            r = {target}({args})",
                    "        except _rt.ErrorResult as e:", "            r = _Err(e.value)",
                    f"        return {self.lower(res, 'r', m)}"]
        elif res is None:
            out += [f"        {target}({args})", "        return None"]
        else:
            out.append(f"        return {self.lower(res, f'{target}({args})', m)}")
        out[1] = "        _cx = _rt.NO_CX" if "_cx" in "\n".join(out[2:]) else "        pass"
        if out[1].strip() == "pass":
            del out[1]
        typed = self._type_check_args(f)
        wrap = "func_wrap_async" if _is_async(f) else "func_wrap"
        out.append(f"    inst.{wrap}({f.name!r}, {fname}{typed})")
        return out

    def _type_check_args(self, f: Function) -> str:
        if not self.opts.type_check or f.kind.startswith("async"):
            return ""
        tys = [pty for _, pty in f.params] + ([f.result] if f.result is not None else [])
        if any(resource_ids(self.r, x) for x in tys):
            return ""
        try:
            ft = function_type(self.r, f)
        except WitError:
            return ""
        if any(_has_async(p) for _, p in ft.params) or (
                ft.result is not None and _has_async(ft.result)):
            return ""
        params = ", ".join(type_expr(p) for _, p in ft.params)
        result = "None" if ft.result is None else type_expr(ft.result)
        return f", params=[{params}], result={result}"

    # --- guest (exported) resources ----------------------------------------------------------

    def _gen_guest_resource(self, m: Mod, wit_name: str, tid: int) -> None:
        """The proxy class for an exported resource (the factory comes with ``Exports``)."""
        cls = m.type_names[tid]
        fac = m.names.take(f"{cls}Class")
        iface = self.r.interfaces[m.iid] if m.iid is not None else None
        funcs = [f for f in (iface.functions.values() if iface else [])
                 if f.resource is not None and self._rid(f.resource) == tid]
        self.res[(m, tid)] = _Res(tid, cls, factory_cls=fac)
        L = m.lines
        L += ["", "", f"class {cls}:"]
        L += self._doc(self.r.types[tid].docs, "    ") or [
            f'    """An instance of the exported resource `{wit_name}` (owns a guest handle; '
            'call\n    `drop()` or use it as a context manager)."""']
        L += ["", '    __slots__ = ("_cls", "handle")', "",
              f"    def __init__(self, handle: _ResourceAny, cls: {fac}) -> None:",
              "        self.handle = handle", "        self._cls = cls", "",
              "    @staticmethod",
              f"    def _lift(v: _Any, cx: _rt.Ctx) -> {cls}:",
              f"        exports: Exports = cx.ifaces[{m.instance_name!r}]",
              f"        return {cls}(v, exports._res_{cls})", "",
              "    def drop(self) -> None:",
              '        """Drop the handle, running the guest destructor."""',
              "        self.handle.drop(self._cls._store)", "",
              f"    def __enter__(self) -> {cls}:", "        return self", "",
              "    def __exit__(self, *exc: object) -> None:",
              "        self.handle.__exit__(*exc)", "",
              "    def __repr__(self) -> str:",
              f"        return f'<{cls} {{self.handle!r}}>'"]
        pn = Names(["drop", "handle", "self"])
        for f in funcs:
            if f.kind.endswith("method"):
                name = pn.take(snake(self._method_name(f)))
                L += ["", *self._export_method(f, name, m, "self._cls._x", "self._cls", self_arg="self.handle")]
        # the factory: constructor and static functions
        L += ["", "", f"class {fac}:",
              f'    """The exported resource `{wit_name}`: call it to construct one; static '
              'functions are methods."""', "",
              "    def __init__(self, exports: Exports, instance: _Instance, "
              "idx: _ExportIndex | None) -> None:",
              "        self._x = exports", "        self._store = exports._store"]
        for f in funcs:
            L.append(f"        self._f_{snake(f.name)} = _rt.get_func(instance, self._store, "
                     f"{f.name!r}, idx)")
        fn = Names(["self"])
        for f in funcs:
            if f.kind.endswith("constructor"):
                L += ["", *self._export_method(f, "__call__", m, "self._x", "self")]
            elif f.kind.endswith("static"):
                L += ["", *self._export_method(f, fn.take(snake(self._method_name(f))), m, "self._x", "self")]

    def _export_method(self, f: Function, name: str, m: Mod, exports: str, holder: str,
                       self_arg: str | None = None) -> list[str]:
        params = self._params(f, m, skip_self=self_arg is not None)
        sig = "".join(f", {py}: {a}" for py, a, _ in params)
        ret = self.ann(f.result, m)
        out = [f"    {_def(f)} {name}(self{sig}) -> {ret}:"]
        out += self._doc(f.docs, "        ")
        lowered = [self_arg] if self_arg is not None else []
        lowered += [self.lower(pty, py, m) for py, _, pty in params]
        how = ".call_async" if _is_async(f) else ""
        call = (f"{'await ' if how else ''}{holder}._f_{snake(f.name)}{how}({exports}._store"
                f"{''.join(', ' + a for a in lowered)})")
        if f.result is None:
            out.append(f"        {call}")
        elif self.lift_id(f.result, m):
            out += [f"        r: {ret} = {call}", "        return r"]
        else:
            out += [f"        _cx = {exports}._cx",
                    f"        return {self.lift(f.result, call, m)}"]
        return out

    # --- exported interfaces -------------------------------------------------------------------

    def _gen_export_iface(self, m: Mod, funcs: Mapping[str, Function],
                          types: Mapping[str, int], root: bool, cls: str) -> None:
        L = m.lines
        resources = self._resources_of(types) if not root else []
        names = Names(["self", "instantiate"])
        L += ["", "", f"class {cls}:"]
        if root:
            L.append(f'    """The exports of world `{self.world.name}`; create with '
                     '`instantiate`."""')
        else:
            L.append(f'    """The exported interface `{m.instance_name}`."""')
        fnames = {f.name: names.take(snake(f.name)) for f in funcs.values()
                  if f.resource is None}
        L += ["", "    def __init__(self, store: _Store, instance: _Instance, cx: _rt.Ctx"
              + (") -> None:" if root else ", idx: _ExportIndex | None = None) -> None:")]
        L += ["        self._store = store", "        self._cx = cx", "        self.instance = instance"]
        if not root:
            L += ["        if idx is None:",
                  f"            idx = _rt.export_index(instance, store, {m.instance_name!r})",
                  f"        cx.ifaces[{m.instance_name!r}] = self"]
        for f in funcs.values():
            if f.resource is None:
                parent = "None" if root else "idx"
                L.append(f"        self._f_{snake(f.name)} = _rt.get_func(instance, store, "
                         f"{f.name!r}, {parent})")
        for wit_name, tid in resources:
            rcls = m.type_names[tid]
            attr = names.take(snake(wit_name))
            fac = self.res[(m, tid)].factory_cls
            L.append(f"        self._res_{rcls} = self.{attr} = {fac}(self, instance, idx)")
        if root:
            for em in self.export_mods:
                em.attr = names.take(em.attr or em.name)
                ecls = self.qual(m, em, "Exports")
                L.append(f"        self.{em.attr} = {ecls}(store, instance, cx)")
            L += ["", "    @classmethod",
                  f"    def instantiate(cls, store: _Store, component: _Component, linker: "
                  f"_Linker) -> {cls}:",
                  '        """Instantiate `component` with `linker` and bind its exports."""',
                  "        instance = linker.instantiate(store, component)",
                  "        return cls(store, instance, _rt.Ctx(store))"]
        for f in funcs.values():
            if f.resource is None:
                L += ["", *self._export_method(f, fnames[f.name], m, "self", "self")]

    # --- driver ------------------------------------------------------------------------------

    def run(self) -> dict[str, str]:
        w = self.world
        root = self.root
        # 1. place interfaces in modules
        world_types: dict[str, int] = {}
        world_funcs: dict[str, Function] = {}
        for key, item in w.imports.items():
            if isinstance(item, WorldItemInterface):
                self._new_iface_mod("import", key, item.id)
            elif isinstance(item, WorldItemType):
                world_types[self.r.name_world_key(key)] = item.id
            elif isinstance(item, WorldItemFunction):
                world_funcs[self.r.name_world_key(key)] = item.func
        export_funcs: dict[str, Function] = {}
        for key, item in w.exports.items():
            if isinstance(item, WorldItemInterface):
                self._new_iface_mod("export", key, item.id)
            elif isinstance(item, WorldItemFunction):
                export_funcs[self.r.name_world_key(key)] = item.func
        # 2. name every type first (references may go anywhere)
        for m in [*self.import_mods, *self.export_mods]:
            assert m.iid is not None
            m.attr = self._short_attr(m)
            self._name_types(m, self.r.interfaces[m.iid].types)
        self._name_types(root, world_types)
        # 3. definitions
        for m in [*self.import_mods, *self.export_mods]:
            assert m.iid is not None
            iface = self.r.interfaces[m.iid]
            m.lines += self._doc(iface.docs, "", f"Bindings for `{m.instance_name}`.")
            self._gen_types(m, iface.types)
            if m.external is None:
                if m.kind == "import":
                    self._gen_import_iface(m, iface.functions, iface.types, False)
                else:
                    self._gen_export_iface(m, iface.functions, iface.types, False, "Exports")
        root.lines += self._doc(w.docs, "", f"Bindings for world `{w.name}`.")
        self._gen_types(root, world_types)
        self._gen_import_iface(root, world_funcs, world_types, True)
        world_cls = root.names.take(pascal(w.name))
        self._gen_export_iface(root, export_funcs, {}, True, world_cls)
        root.lines += ["", "", f"Bindings = {world_cls}"]
        if "Bindings" in root.names.used and world_cls != "Bindings":
            root.lines.pop()
            root.lines.pop()
            root.lines.pop()
        files = {"imports/__init__.py": "", "exports/__init__.py": ""}
        for m in [root, *self.import_mods, *self.export_mods]:
            if m.external is None:
                files[m.path] = self._render(m)
        return files

    def _short_attr(self, m: Mod) -> str:
        assert m.iid is not None
        iface = self.r.interfaces[m.iid]
        return snake(iface.name) if iface.name else m.name

    def _render(self, m: Mod) -> str:
        out: list[str] = []
        body = m.lines
        doc: list[str] = []
        if body and body[0].startswith('"""'):
            i = 0
            while not (body[i].endswith('"""') and (i > 0 or len(body[i]) > 3)):
                i += 1
            doc, body = body[: i + 1], body[i + 1:]
        out += doc
        out += HEADER
        out += sorted(m.extra_imports)
        for dep, alias in sorted(m.deps.items(), key=lambda kv: kv[1]):
            if dep.external is not None:
                out.append(f"import {dep.external} as {alias}")
            else:
                up = "." if m.kind == "root" else ".."
                out.append(f"from {up}{dep.kind}s import {dep.name} as {alias}")
        out += ["", "_cx: _rt.Ctx = _rt.NO_CX", f"INSTANCE_NAME = {m.instance_name!r}"]
        out += body
        for h in m.helpers:
            out += ["", "", h]
        text = "\n".join(out) + "\n"
        return text


def _is_async(f: Function) -> bool:
    return f.kind.startswith("async")


def _def(f: Function) -> str:
    """``async def`` for an ``async`` WIT function, else ``def``."""
    return "async def" if _is_async(f) else "def"


def _has_async(ty: t.Type) -> bool:
    s = ty.wit()
    return "future" in s or "stream" in s or "error-context" in s


def type_expr(ty: t.Type, res: Mapping[t.ResourceType, str] | None = None) -> str:
    """Python source constructing runtime type ``ty``; resources must be named in ``res``."""

    def type_expr(x: t.Type) -> str:
        return _type_expr(x, res or {})

    return type_expr(ty)


def _type_expr(ty: t.Type, res: Mapping[t.ResourceType, str]) -> str:
    def type_expr(x: t.Type) -> str:
        return _type_expr(x, res)

    match ty:
        case t.ResourceType() if ty in res:
            return res[ty]
        case t.OwnType(r) if r in res:
            return f"_types.OwnType({res[r]})"
        case t.BorrowType(r) if r in res:
            return f"_types.BorrowType({res[r]})"
        case t.PrimType(name):
            return f"_types.{name.upper().replace('-', '_')}"
        case t.ListType(e, n):
            return f"_types.ListType({type_expr(e)}, {n!r})"
        case t.RecordType(fields):
            inner = "".join(f"({n!r}, {type_expr(x)}), " for n, x in fields)
            return f"_types.RecordType(({inner}))"
        case t.TupleType(types):
            return f"_types.TupleType(({''.join(type_expr(x) + ', ' for x in types)}))"
        case t.VariantType(cases):
            inner = "".join(f"({n!r}, {'None' if x is None else type_expr(x)}), "
                            for n, x in cases)
            return f"_types.VariantType(({inner}))"
        case t.EnumType(names):
            return f"_types.EnumType({names!r})"
        case t.FlagsType(names):
            return f"_types.FlagsType({names!r})"
        case t.OptionType(inner):
            return f"_types.OptionType({type_expr(inner)})"
        case t.ResultType(ok, err):
            o = "None" if ok is None else type_expr(ok)
            es = "None" if err is None else type_expr(err)
            return f"_types.ResultType({o}, {es})"
        case t.MapType(k, v):
            return f"_types.MapType({type_expr(k)}, {type_expr(v)})"
    raise WitError(f"no type expression for {ty}")


def generate_world(resolve: Resolve, wid: int, opts: Options | None = None) -> dict[str, str]:
    """Source files (relative path -> text) of the bindings package for world ``wid``."""
    return Generator(resolve, wid, opts or Options()).run()
