"""The syntax tree of a WIT file, exactly as written.

The parser produces these plain dataclasses and the resolver consumes them; nothing here knows
about other files or packages. Every name keeps its source offset (``Id.span``) so that later
phases can point errors at the right place. Doc comments are kept verbatim in :class:`Docs`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "Attribute",
    "Docs",
    "ExternFunc",
    "ExternInterface",
    "ExternKind",
    "ExternPath",
    "Func",
    "Id",
    "Include",
    "Interface",
    "InterfaceItem",
    "PackageFile",
    "PackageNameAst",
    "ResourceFunc",
    "TopUse",
    "TypeDef",
    "TypeExpr",
    "Use",
    "UsePath",
    "World",
    "WorldItem",
]


@dataclass(slots=True)
class Id:
    name: str
    span: int


@dataclass(slots=True)
class Docs:
    comments: list[str] = field(default_factory=list)
    span: int = 0


@dataclass(slots=True)
class Attribute:
    kind: str  # "since" | "unstable" | "deprecated"
    span: int
    value: str  # version text or feature name


@dataclass(slots=True)
class PackageNameAst:
    namespace: Id
    name: Id
    version: str | None
    span: int
    docs: Docs = field(default_factory=Docs)

    def key(self) -> str:
        text = f"{self.namespace.name}:{self.name.name}"
        return f"{text}@{self.version}" if self.version else text


@dataclass(slots=True)
class UsePath:
    """``id`` (local) or ``ns:pkg/name@ver`` (``package`` set)."""

    name: Id
    package: PackageNameAst | None = None


# --- types -------------------------------------------------------------------------------------


@dataclass(slots=True)
class TypeExpr:
    """A type as written. ``kind`` is a primitive name or one of the compound kinds below.

    Compound kinds: ``name`` (``ref``), ``list``/``option``/``future``/``stream`` (``args``),
    ``fixed-list`` (``args`` + ``size``), ``map``, ``tuple``, ``result`` (``args`` = [ok, err],
    each possibly ``None``), ``own``/``borrow`` (``ref``), and the definitions ``record``,
    ``flags``, ``variant``, ``enum``, ``resource`` (``fields``/``cases``/``funcs``).
    """

    kind: str
    span: int
    ref: Id | None = None
    args: list[TypeExpr | None] = field(default_factory=list)
    size: int = 0
    fields: list[tuple[Docs, Id, TypeExpr]] = field(default_factory=list)
    cases: list[tuple[Docs, Id, TypeExpr | None]] = field(default_factory=list)
    funcs: list[ResourceFunc] = field(default_factory=list)


@dataclass(slots=True)
class Func:
    span: int
    is_async: bool
    params: list[tuple[Id, TypeExpr]]
    result: TypeExpr | None


@dataclass(slots=True)
class ResourceFunc:
    kind: str  # "method" | "static" | "constructor"
    docs: Docs
    attributes: list[Attribute]
    name: Id
    func: Func


@dataclass(slots=True)
class TypeDef:
    docs: Docs
    attributes: list[Attribute]
    name: Id
    ty: TypeExpr


@dataclass(slots=True)
class Use:
    attributes: list[Attribute]
    path: UsePath
    names: list[tuple[Id, Id | None]]


@dataclass(slots=True)
class NamedFunc:
    docs: Docs
    attributes: list[Attribute]
    name: Id
    func: Func


InterfaceItem = TypeDef | NamedFunc | Use


@dataclass(slots=True)
class Interface:
    docs: Docs
    attributes: list[Attribute]
    name: Id
    items: list[InterfaceItem]


@dataclass(slots=True)
class ExternInterface:
    name: Id
    items: list[InterfaceItem]


@dataclass(slots=True)
class ExternPath:
    path: UsePath
    label: Id | None = None  # `import label: path;` (the interface is implemented under a name)


@dataclass(slots=True)
class ExternFunc:
    name: Id
    func: Func


ExternKind = ExternInterface | ExternPath | ExternFunc


def extern_span(kind: ExternKind) -> int:
    if isinstance(kind, ExternInterface | ExternFunc):
        return kind.name.span
    if kind.label is not None:
        return kind.label.span
    return kind.path.name.span


@dataclass(slots=True)
class Import:
    docs: Docs
    attributes: list[Attribute]
    kind: ExternKind


@dataclass(slots=True)
class Export:
    docs: Docs
    attributes: list[Attribute]
    kind: ExternKind


@dataclass(slots=True)
class Include:
    attributes: list[Attribute]
    path: UsePath
    names: list[tuple[Id, Id]]


WorldItem = Import | Export | Use | TypeDef | Include


@dataclass(slots=True)
class World:
    docs: Docs
    attributes: list[Attribute]
    name: Id
    items: list[WorldItem]


@dataclass(slots=True)
class TopUse:
    span: int
    attributes: list[Attribute]
    path: UsePath
    alias: Id | None


@dataclass(slots=True)
class PackageFile:
    package: PackageNameAst | None
    items: list[Interface | World | TopUse | PackageFile]
    file_index: int = 0
