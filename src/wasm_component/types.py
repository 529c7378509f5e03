"""The public, dynamic description of component-model types.

Every layer shares this one type system: the validator produces it, ``Component.component_type()``
returns it, the Canonical ABI specialises lifting and lowering from it, WIT resolves onto it and
bindgen prints from it. Types are frozen dataclasses compared structurally, except resource types,
which are *generative*: two resource types are equal only when they are the same definition.

Example::

    >>> from wasm_component import types as t
    >>> f = t.FuncType((("a", t.U32), ("b", t.U32)), t.U32)
    >>> str(f)
    'func(a: u32, b: u32) -> u32'
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import ClassVar

__all__ = [
    "BOOL",
    "CHAR",
    "ERROR_CONTEXT",
    "F32",
    "F64",
    "S8",
    "S16",
    "S32",
    "S64",
    "STRING",
    "U8",
    "U16",
    "U32",
    "U64",
    "BorrowType",
    "ComponentType",
    "CoreExternType",
    "CoreFuncType",
    "CoreGlobalType",
    "CoreMemoryType",
    "CoreTableType",
    "CoreTagType",
    "EnumType",
    "ExternType",
    "FlagsType",
    "FuncType",
    "FutureType",
    "InstanceType",
    "ListType",
    "MapType",
    "ModuleType",
    "OptionType",
    "OwnType",
    "PrimType",
    "RecordType",
    "ResourceType",
    "ResultType",
    "StreamType",
    "TupleType",
    "Type",
    "TypeBound",
    "ValType",
    "ValueBound",
    "VariantType",
]


class Type:
    """Base of every value type (the ``valtype``s of the spec) and of :class:`ResourceType`."""

    __slots__ = ()

    def wit(self) -> str:
        """This type written in WIT syntax."""
        raise NotImplementedError

    def __str__(self) -> str:
        return self.wit()


@dataclass(frozen=True, slots=True)
class PrimType(Type):
    """A primitive value type: ``bool``, ``s8`` ... ``u64``, ``f32``, ``f64``, ``char``,
    ``string`` or ``error-context``. Use the module constants (``U32``, ``STRING``...)."""

    name: str

    def wit(self) -> str:
        return self.name


#: The bit width of each integer primitive, and its value range (inclusive).
INT_BITS: dict[str, int] = {
    f"{sign}{bits}": bits for bits in (8, 16, 32, 64) for sign in ("u", "s")
}
INT_RANGES: dict[str, tuple[int, int]] = {
    name: (0, (1 << bits) - 1) if name[0] == "u" else (-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
    for name, bits in INT_BITS.items()
}

BOOL = PrimType("bool")
S8 = PrimType("s8")
U8 = PrimType("u8")
S16 = PrimType("s16")
U16 = PrimType("u16")
S32 = PrimType("s32")
U32 = PrimType("u32")
S64 = PrimType("s64")
U64 = PrimType("u64")
F32 = PrimType("f32")
F64 = PrimType("f64")
CHAR = PrimType("char")
STRING = PrimType("string")
ERROR_CONTEXT = PrimType("error-context")

PRIMITIVES: dict[str, PrimType] = {
    p.name: p for p in (BOOL, S8, U8, S16, U16, S32, U32, S64, U64, F32, F64, CHAR, STRING,
                        ERROR_CONTEXT)
}


@dataclass(frozen=True, slots=True)
class ListType(Type):
    """``list<T>``, or the fixed-length ``list<T, N>`` when ``length`` is set."""

    element: Type
    length: int | None = None

    def wit(self) -> str:
        if self.length is None:
            return f"list<{self.element.wit()}>"
        return f"list<{self.element.wit()}, {self.length}>"


@dataclass(frozen=True, slots=True)
class RecordType(Type):
    fields: tuple[tuple[str, Type], ...]

    def wit(self) -> str:
        return "record { " + ", ".join(f"{n}: {t.wit()}" for n, t in self.fields) + " }"


@dataclass(frozen=True, slots=True)
class TupleType(Type):
    types: tuple[Type, ...]

    def wit(self) -> str:
        return "tuple<" + ", ".join(t.wit() for t in self.types) + ">"


@dataclass(frozen=True, slots=True)
class VariantType(Type):
    cases: tuple[tuple[str, Type | None], ...]

    def wit(self) -> str:
        parts = [n if t is None else f"{n}({t.wit()})" for n, t in self.cases]
        return "variant { " + ", ".join(parts) + " }"


@dataclass(frozen=True, slots=True)
class EnumType(Type):
    names: tuple[str, ...]

    def wit(self) -> str:
        return "enum { " + ", ".join(self.names) + " }"


@dataclass(frozen=True, slots=True)
class FlagsType(Type):
    names: tuple[str, ...]

    def wit(self) -> str:
        return "flags { " + ", ".join(self.names) + " }"


@dataclass(frozen=True, slots=True)
class OptionType(Type):
    inner: Type

    def wit(self) -> str:
        return f"option<{self.inner.wit()}>"


@dataclass(frozen=True, slots=True)
class ResultType(Type):
    ok: Type | None
    err: Type | None

    def wit(self) -> str:
        if self.ok is None and self.err is None:
            return "result"
        if self.err is None:
            assert self.ok is not None
            return f"result<{self.ok.wit()}>"
        ok = "_" if self.ok is None else self.ok.wit()
        return f"result<{ok}, {self.err.wit()}>"


_resource_ids = itertools.count(1)


@dataclass(frozen=True, slots=True, eq=False)
class ResourceType(Type):
    """A resource type. Resource types are generative: equality is identity of the definition.

    - ``ResourceType.host(cls)``: a host-defined resource, keyed by the Python class, so two calls
      with the same class give equal types.
    - Guest resources get one type per defining component *instance*.
    - In static component types (``Component.component_type()``) resources are *abstract*: one
      per import, export or definition, named for readability.

    Users do not construct guest or abstract resource types; use :meth:`host`.
    """

    kind: str  # "host" | "guest" | "abstract"
    key: object
    name: str = ""

    _host_cache: ClassVar[dict[object, ResourceType]] = {}

    @staticmethod
    def host(cls: object, name: str | None = None) -> ResourceType:
        """The resource type of host class ``cls`` (equal for equal ``cls``)."""
        cached = ResourceType._host_cache.get(cls)
        if cached is None:
            label: str = name or str(getattr(cls, "__name__", cls))
            cached = ResourceType("host", cls, label)
            ResourceType._host_cache[cls] = cached
        return cached

    @staticmethod
    def fresh(name: str = "", kind: str = "abstract") -> ResourceType:
        """A new resource type unequal to every other (used by the validator and runtime)."""
        return ResourceType(kind, next(_resource_ids), name)

    def __eq__(self, other: object) -> bool:
        return self is other or (
            isinstance(other, ResourceType) and self.kind == other.kind and self.key == other.key
        )

    def __hash__(self) -> int:
        # the key alone (equal types have equal keys): resource types key the handle paths'
        # dicts, where a tuple's hash per lookup cost a third of a borrow's lift
        return hash(self.key)

    def wit(self) -> str:
        return self.name or f"resource#{self.key if self.kind != 'host' else self.name}"

    def __repr__(self) -> str:
        return f"ResourceType({self.kind}, {self.name!r})"


@dataclass(frozen=True, slots=True)
class OwnType(Type):
    resource: ResourceType

    def wit(self) -> str:
        return f"own<{self.resource.wit()}>"


@dataclass(frozen=True, slots=True)
class BorrowType(Type):
    resource: ResourceType

    def wit(self) -> str:
        return f"borrow<{self.resource.wit()}>"


@dataclass(frozen=True, slots=True)
class FutureType(Type):
    payload: Type | None

    def wit(self) -> str:
        return "future" if self.payload is None else f"future<{self.payload.wit()}>"


@dataclass(frozen=True, slots=True)
class StreamType(Type):
    payload: Type | None

    def wit(self) -> str:
        return "stream" if self.payload is None else f"stream<{self.payload.wit()}>"


@dataclass(frozen=True, slots=True)
class MapType(Type):
    key: Type
    value: Type

    def wit(self) -> str:
        return f"map<{self.key.wit()}, {self.value.wit()}>"


ValType = Type
"""Alias: any value type."""


# ---------------------------------------------------------------------------------------------
# Core (module-level) types, as far as components need them.


@dataclass(frozen=True, slots=True)
class CoreFuncType:
    params: tuple[str, ...]
    results: tuple[str, ...]

    def __str__(self) -> str:
        return f"(func (param {' '.join(self.params)}) (result {' '.join(self.results)}))"


@dataclass(frozen=True, slots=True)
class CoreMemoryType:
    minimum: int
    maximum: int | None = None
    shared: bool = False
    memory64: bool = False
    page_size_log2: int = 16


@dataclass(frozen=True, slots=True)
class CoreTableType:
    element: str
    minimum: int
    maximum: int | None = None
    table64: bool = False


@dataclass(frozen=True, slots=True)
class CoreGlobalType:
    content: str
    mutable: bool


@dataclass(frozen=True, slots=True)
class CoreTagType:
    func: CoreFuncType


CoreExternType = CoreFuncType | CoreMemoryType | CoreTableType | CoreGlobalType | CoreTagType


@dataclass(frozen=True, slots=True)
class ModuleType:
    """The type of a core module: its imports ``(module, name, type)`` and exports."""

    imports: tuple[tuple[str, str, CoreExternType], ...]
    exports: tuple[tuple[str, CoreExternType], ...]


# ---------------------------------------------------------------------------------------------
# Component-level function, instance and component types.


@dataclass(frozen=True, slots=True)
class FuncType:
    params: tuple[tuple[str, Type], ...]
    result: Type | None = None
    is_async: bool = False

    def __str__(self) -> str:
        ps = ", ".join(f"{n}: {t.wit()}" for n, t in self.params)
        head = "async func" if self.is_async else "func"
        if self.result is None:
            return f"{head}({ps})"
        return f"{head}({ps}) -> {self.result.wit()}"


@dataclass(frozen=True, slots=True)
class TypeBound:
    """An imported or exported type: ``(eq T)`` when ``eq`` is set; a resource always has one."""

    eq: Type


@dataclass(frozen=True, slots=True)
class ValueBound:
    """An imported or exported value (the 🪙 value feature)."""

    type: Type


@dataclass(frozen=True, slots=True)
class InstanceType:
    exports: tuple[tuple[str, ExternType], ...] = ()

    def export(self, name: str) -> ExternType | None:
        for n, t in self.exports:
            if n == name:
                return t
        return None


@dataclass(frozen=True, slots=True)
class ComponentType:
    imports: tuple[tuple[str, ExternType], ...] = ()
    exports: tuple[tuple[str, ExternType], ...] = ()
    # Resources the component defines or exports as fresh types (instantiation makes new ones).
    defined_resources: tuple[ResourceType, ...] = field(default=(), compare=False)


ExternType = FuncType | InstanceType | ComponentType | ModuleType | TypeBound | ValueBound
