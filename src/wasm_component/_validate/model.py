"""What validation hands the translator: index spaces with types and origins, per-``canon``
resolved facts, nested results and defined resources.

It exists so the runtime never re-derives anything the validator already worked out: every entry
of every index space says what type it has and which definition (by index into
``ast.Component.definitions``) created it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import types as t
from .._binary import ast

__all__ = [
    "CanonInfo",
    "CoreGcType",
    "CoreInstanceType",
    "Entry",
    "ResourceInfo",
    "ValidatedComponent",
]


@dataclass(frozen=True, slots=True)
class CoreInstanceType:
    """The type of a core instance: its exports by name (core extern types)."""

    exports: dict[str, t.CoreExternType] = field(hash=False)


@dataclass(frozen=True, slots=True)
class CoreGcType:
    """A core GC ``struct``/``array`` type (only needed for ``cm-gc`` and module types).

    ``fields`` are ``(storage, mutable)`` with storage a core valtype string (or ``i8``/``i16``).
    ``key`` is a structural description used for type equality.
    """

    kind: str
    fields: tuple[tuple[str, bool], ...]
    final: bool
    key: str


CoreTypeEntry = t.CoreFuncType | t.ModuleType | CoreGcType


@dataclass(frozen=True, slots=True)
class Entry:
    """One index-space entry.

    ``type`` is the entry's type: public types for component-level sorts (``FuncType``,
    ``InstanceType``, ``ComponentType``, a value ``Type`` for values and for the type index
    space also ``ResourceType``/``FuncType``/``InstanceType``/``ComponentType``); core extern
    types, :class:`CoreInstanceType`, ``ModuleType`` or core type entries for core sorts.
    ``origin`` is the index into ``ast.Component.definitions`` of the definition that created
    the entry; ``how`` says which form it was (``import``, ``export``, ``alias``, ``canon``,
    ``instantiate``, ``inline-export``, ``type``, ``module``, ``component``, ``start``,
    ``value``, ``core-type``, ``core-instance``...).
    """

    type: object
    origin: int
    how: str


@dataclass(frozen=True, slots=True)
class CanonInfo:
    """Resolved facts about one ``canon`` definition (``kind`` as in ``ast.Canon``).

    - ``func_type``: the component function type lifted (``lift``) or lowered (``lower``) and
      for ``task.return`` the synthesized ``func(result?)`` type;
    - ``core_type``: the core signature of the core function (lower and built-ins) or the one
      the lifted callee must have (``lift``);
    - ``resource``: the resource of ``resource.*``;
    - ``payload``: the stream/future type of ``stream.*``/``future.*``;
    - ``string_encoding`` (``utf8`` default), ``memory``/``realloc``/``post_return``/
      ``callback`` core indices, ``is_async``;
    - ``memory64``: whether the memory option is a 64-bit memory;
    - built-in immediates: ``cancellable``, ``index`` (the ``context.get``/``set`` slot),
      ``table`` (the core table of ``thread.new-indirect``); ``memory`` is also the memory
      immediate of ``waitable-set.wait``/``poll``.
    """

    kind: str
    core_type: t.CoreFuncType | None = None
    func_type: t.FuncType | None = None
    resource: t.ResourceType | None = None
    payload: t.StreamType | t.FutureType | None = None
    string_encoding: str = "utf8"
    memory: int | None = None
    realloc: int | None = None
    post_return: int | None = None
    callback: int | None = None
    is_async: bool = False
    memory64: bool = False
    cancellable: bool = False
    index: int | None = None
    table: int | None = None


@dataclass(frozen=True, slots=True)
class ResourceInfo:
    """A resource type defined by a ``(type (resource (rep i32) (dtor f)?))`` definition."""

    type: t.ResourceType
    rep: str
    dtor: int | None  # core func index


@dataclass(slots=True, weakref_slot=True)
class ValidatedComponent:
    """A component that passed validation, with everything the translator needs.

    ``index_spaces`` maps each sort name (``func``, ``value``, ``type``, ``instance``,
    ``component``, ``core func``, ``core table``, ``core memory``, ``core global``,
    ``core tag``, ``core type``, ``core module``, ``core instance``) to its entries in index
    order. ``canons``, ``nested`` and ``resources`` are keyed by definition index.
    """

    component: ast.Component
    type: t.ComponentType
    index_spaces: dict[str, list[Entry]]
    canons: dict[int, CanonInfo]
    nested: dict[int, ValidatedComponent]
    resources: dict[int, ResourceInfo]
    #: What later layers derive from this component once (the instantiation plan, its compiled
    #: program), kept here so that it lives exactly as long as the component.
    derived: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def space(self, sort: str) -> list[Entry]:
        return self.index_spaces[sort]

    @property
    def funcs(self) -> list[Entry]:
        return self.index_spaces["func"]

    @property
    def types(self) -> list[Entry]:
        return self.index_spaces["type"]

    @property
    def instances(self) -> list[Entry]:
        return self.index_spaces["instance"]

    @property
    def components(self) -> list[Entry]:
        return self.index_spaces["component"]

    @property
    def values(self) -> list[Entry]:
        return self.index_spaces["value"]

    @property
    def core_funcs(self) -> list[Entry]:
        return self.index_spaces["core func"]

    @property
    def core_memories(self) -> list[Entry]:
        return self.index_spaces["core memory"]

    @property
    def core_tables(self) -> list[Entry]:
        return self.index_spaces["core table"]

    @property
    def core_globals(self) -> list[Entry]:
        return self.index_spaces["core global"]

    @property
    def core_tags(self) -> list[Entry]:
        return self.index_spaces["core tag"]

    @property
    def core_types(self) -> list[Entry]:
        return self.index_spaces["core type"]

    @property
    def core_modules(self) -> list[Entry]:
        return self.index_spaces["core module"]

    @property
    def core_instances(self) -> list[Entry]:
        return self.index_spaces["core instance"]
