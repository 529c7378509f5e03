"""Resolved WIT: packages, interfaces, worlds and types in flat tables linked by integer ids.

This is the shape every consumer (JSON output, printer, bindgen, component encoding) works on.
It mirrors wit-parser's ``Resolve``: a type is referenced either by a primitive name (``"u32"``,
``"string"``, ``"error-context"``...) or by its integer index into ``Resolve.types``; interfaces,
worlds and packages are likewise indices. No name lookup is needed once a package is resolved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import total_ordering

__all__ = [
    "PRIMITIVES",
    "Docs",
    "EnumCase",
    "Field",
    "Flag",
    "Function",
    "Interface",
    "KEnum",
    "KFixedList",
    "KFlags",
    "KFuture",
    "KHandle",
    "KList",
    "KMap",
    "KOption",
    "KRecord",
    "KResource",
    "KResult",
    "KStream",
    "KTuple",
    "KType",
    "KUnknown",
    "KVariant",
    "Package",
    "PackageName",
    "Stability",
    "Type",
    "TypeDef",
    "TypeDefKind",
    "TypeOwner",
    "VariantCase",
    "Version",
    "World",
    "WorldItem",
    "WorldItemFunction",
    "WorldItemInterface",
    "WorldItemType",
    "WorldKey",
]

PRIMITIVES = frozenset(
    [
        "bool",
        "u8",
        "u16",
        "u32",
        "u64",
        "s8",
        "s16",
        "s32",
        "s64",
        "f32",
        "f64",
        "char",
        "string",
        "error-context",
    ]
)

#: A primitive type name or the index of a :class:`TypeDef` in ``Resolve.types``.
Type = int | str

#: ``("interface", id)``, ``("world", id)`` or ``None`` for anonymous types.
TypeOwner = tuple[str, int] | None

#: A world import/export key: a plain name, or an interface id (``WorldKey::Interface``).
WorldKey = str | int

_VERSION_RE = re.compile(r"(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?")


@total_ordering
@dataclass(frozen=True, eq=False)
class Version:
    """A semver version, ordered by semver precedence (build metadata breaks ties textually)."""

    text: str

    def _key(self) -> tuple[int, int, int, tuple[tuple[int, int | str], ...], str]:
        m = _VERSION_RE.fullmatch(self.text)
        if m is None:
            return (0, 0, 0, (), self.text)
        pre: tuple[tuple[int, int | str], ...]
        if m.group(4) is None:
            pre = ((2, 0),)
        else:
            pre = tuple((0, int(p)) if p.isdigit() else (1, p) for p in m.group(4).split("."))
        return (int(m.group(1)), int(m.group(2)), int(m.group(3)), pre, m.group(5) or "")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __lt__(self, other: Version) -> bool:
        return self._key() < other._key()

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class PackageName:
    namespace: str
    name: str
    version: Version | None = None

    def __str__(self) -> str:
        base = f"{self.namespace}:{self.name}"
        return f"{base}@{self.version}" if self.version is not None else base

    def sort_key(self) -> tuple[str, str, int, Version | None]:
        return (self.namespace, self.name, 0 if self.version is None else 1, self.version)

    def interface_id(self, iface: str) -> str:
        base = f"{self.namespace}:{self.name}/{iface}"
        return f"{base}@{self.version}" if self.version is not None else base


@dataclass(frozen=True)
class Stability:
    """``@since``/``@unstable`` (+ optional ``@deprecated``); ``None`` stands for unknown."""

    kind: str  # "stable" | "unstable"
    value: str  # the `since` version text, or the feature name
    deprecated: str | None = None

    @property
    def since(self) -> Version | None:
        return Version(self.value) if self.kind == "stable" else None


@dataclass
class Docs:
    contents: str | None = None


# --- type definition kinds ----------------------------------------------------------------------


@dataclass
class Field:
    name: str
    ty: Type
    docs: Docs = field(default_factory=Docs)


@dataclass
class Flag:
    name: str
    docs: Docs = field(default_factory=Docs)


@dataclass
class VariantCase:
    name: str
    ty: Type | None
    docs: Docs = field(default_factory=Docs)


@dataclass
class EnumCase:
    name: str
    docs: Docs = field(default_factory=Docs)


@dataclass
class KRecord:
    fields: list[Field]


@dataclass
class KResource:
    pass


@dataclass
class KHandle:
    kind: str  # "own" | "borrow"
    id: int


@dataclass
class KFlags:
    flags: list[Flag]


@dataclass
class KTuple:
    types: list[Type]


@dataclass
class KVariant:
    cases: list[VariantCase]


@dataclass
class KEnum:
    cases: list[EnumCase]


@dataclass
class KOption:
    ty: Type


@dataclass
class KResult:
    ok: Type | None
    err: Type | None


@dataclass
class KList:
    ty: Type


@dataclass
class KFixedList:
    ty: Type
    size: int


@dataclass
class KMap:
    key: Type
    value: Type


@dataclass
class KFuture:
    ty: Type | None


@dataclass
class KStream:
    ty: Type | None


@dataclass
class KType:
    ty: Type


@dataclass
class KUnknown:
    """Placeholder for a type imported from another package, before that package is known."""


TypeDefKind = (
    KRecord
    | KResource
    | KHandle
    | KFlags
    | KTuple
    | KVariant
    | KEnum
    | KOption
    | KResult
    | KList
    | KFixedList
    | KMap
    | KFuture
    | KStream
    | KType
    | KUnknown
)


@dataclass
class TypeDef:
    name: str | None
    kind: TypeDefKind
    owner: TypeOwner
    docs: Docs = field(default_factory=Docs)
    stability: Stability | None = None


@dataclass
class Function:
    """A function; ``kind`` is ``freestanding``, ``method``, ``static``, ``constructor`` or the
    ``async-`` forms, and ``resource`` the resource type id for the non-freestanding kinds."""

    name: str
    kind: str
    params: list[tuple[str, Type]]
    result: Type | None
    resource: int | None = None
    docs: Docs = field(default_factory=Docs)
    stability: Stability | None = None


@dataclass
class Interface:
    name: str | None
    types: dict[str, int] = field(default_factory=dict)
    functions: dict[str, Function] = field(default_factory=dict)
    docs: Docs = field(default_factory=Docs)
    stability: Stability | None = None
    package: int | None = None


@dataclass
class WorldItemInterface:
    id: int
    stability: Stability | None = None
    implements: int | None = None  # `import label: iface;`: the interface named by the path


@dataclass
class WorldItemFunction:
    func: Function


@dataclass
class WorldItemType:
    id: int


WorldItem = WorldItemInterface | WorldItemFunction | WorldItemType


@dataclass
class World:
    name: str
    imports: dict[WorldKey, WorldItem] = field(default_factory=dict)
    exports: dict[WorldKey, WorldItem] = field(default_factory=dict)
    package: int | None = None
    docs: Docs = field(default_factory=Docs)
    stability: Stability | None = None
    includes: list[tuple[Stability | None, int]] = field(default_factory=list)
    include_names: list[list[tuple[str, str]]] = field(default_factory=list)


@dataclass
class Package:
    name: PackageName
    docs: Docs = field(default_factory=Docs)
    interfaces: dict[str, int] = field(default_factory=dict)
    worlds: dict[str, int] = field(default_factory=dict)
