"""Component types mapped onto a user's own Python classes, for the code generators.

A *mapped* type is a WIT type that also says which Python class its values take on the host
side: a dataclass or ``TypedDict`` for a ``record``, an ``enum.Enum`` for an ``enum``, an
``enum.Flag`` for ``flags``, one class per case for a ``variant``. Each is a subclass of the
WIT type it maps (so layout, flattening and every ``isinstance`` test see the WIT type, and the
per-type caches keep it apart from the plain type), carrying what lifting and lowering need:
:mod:`.lift` constructs the class, :mod:`.lower` reads it back, in the generated code of the
function type, never by walking the mapping per call.

They are made by :mod:`wasm_component.typed` from a function's annotations, once, when a typed
function or a host function is checked; they never appear in a public ``FuncType``.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from typing import Any

from .. import types as t

__all__ = ["MappedEnum", "MappedFlags", "MappedRecord", "MappedVariant", "is_mapped"]


@dataclass(frozen=True, slots=True)
class MappedRecord(t.RecordType):
    """A record lifted as ``cls`` (a dataclass, constructed with keywords, or a ``TypedDict``,
    a ``dict`` when ``is_dict``); ``attrs`` is the Python name of each field, in field order."""

    cls: Any = None
    attrs: tuple[str, ...] = ()
    is_dict: bool = False


@dataclass(frozen=True, slots=True)
class MappedEnum(t.EnumType):
    """An enum lifted as members of ``cls`` (an ``enum.Enum``): ``members[i]`` is case ``i``."""

    cls: Any = None
    members: tuple[Any, ...] = ()

    def index(self) -> dict[Any, int]:
        return {m: i for i, m in enumerate(self.members)}


@dataclass(frozen=True, slots=True)
class MappedFlags(t.FlagsType):
    """Flags lifted as ``cls`` (an ``enum.Flag``): ``members[i]`` is flag ``i``."""

    cls: Any = None
    members: tuple[Any, ...] = ()

    def same_bits(self) -> bool:
        """Whether the Flag's own values are the WIT bits (member ``i`` is ``1 << i``)."""
        return all(m._value_ == 1 << i for i, m in enumerate(self.members))

    def value_of(self, bits: int) -> Any:
        """The ``cls`` value of the WIT bit pattern ``bits``."""
        return functools.reduce(operator.or_, (m for i, m in enumerate(self.members)
                                               if bits >> i & 1), self.cls(0))

    def bits_of(self, v: Any) -> int:
        return sum(1 << i for i, m in enumerate(self.members) if m in v)


@dataclass(frozen=True, slots=True)
class MappedVariant(t.VariantType):
    """A variant whose case ``i`` is lifted as ``classes[i]`` (its payload, if any, in the
    attribute ``attrs[i]``). A case may have no class (``None``) where only lowering needs
    the mapping: a function taking some of the cases."""

    classes: tuple[Any, ...] = ()
    attrs: tuple[str | None, ...] = ()

    def index(self) -> dict[Any, int]:
        return {c: i for i, c in enumerate(self.classes) if c is not None}


def is_mapped(ty: t.Type) -> bool:
    """Whether ``ty`` or a type inside it is mapped onto a user class."""
    if isinstance(ty, (MappedRecord, MappedEnum, MappedFlags, MappedVariant)):
        return True
    match ty:
        case t.RecordType(fields):
            return any(is_mapped(u) for _, u in fields)
        case t.VariantType(cases):
            return any(u is not None and is_mapped(u) for _, u in cases)
        case t.TupleType(types):
            return any(is_mapped(u) for u in types)
        case t.ListType(e, _) | t.OptionType(e):
            return is_mapped(e)
        case t.ResultType(ok, err):
            return any(u is not None and is_mapped(u) for u in (ok, err))
        case t.MapType(k, v):
            return is_mapped(k) or is_mapped(v)
    return False
