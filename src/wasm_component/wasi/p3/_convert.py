"""Values of 0.2 types as the 0.3 bindings' types, by case name.

Why this module exists: the 0.3 hosts delegate to the 0.2 implementation, whose results are
0.2's bindings types. Most 0.3 types are the same shape under a new class; the differences
are that 0.2's ``error-code`` and ``descriptor-type`` enums are 0.3 variants with an
``other(option<string>)`` case. Converting by case name (never by position) keeps the two
versions' WIT the only source of the correspondence: a 0.2 case that 0.3 lacks becomes
``other(some(name))``.

Example::

    >>> from .._bindings_p3.imports import wasi_filesystem_types as fs3
    >>> case(fs3, "ErrorCode", "no-entry")
    ErrorCodeNoEntry()
    >>> case(fs3, "ErrorCode", "would-block")
    ErrorCodeOther(value='would-block')
"""

from __future__ import annotations

import dataclasses
import enum
import functools
from types import ModuleType
from typing import Any

from ...values import Variant

__all__ = ["case", "class_name", "lowered_case", "retype"]

_NO_PAYLOAD: Any = object()


@functools.cache
def class_name(type_name: str, case_name: str) -> str:
    """The bindings' class of a variant case: ``ErrorCode`` + ``no-entry`` -> ``ErrorCodeNoEntry``."""
    return type_name + "".join(part[:1].upper() + part[1:] for part in case_name.split("-"))


def case(module: ModuleType, type_name: str, name: str, payload: Any = _NO_PAYLOAD) -> Any:
    """The case ``name`` of variant ``type_name`` of bindings ``module``, or its ``other``
    case carrying ``name`` when it has none of that name."""
    cls = getattr(module, class_name(type_name, name), None)
    if cls is None:
        return getattr(module, class_name(type_name, "other"))(name)
    return cls() if payload is _NO_PAYLOAD else cls(payload)


def lowered_case(cases: tuple[str, ...], name: str) -> Variant:
    """The same, as a lowered value (what a stream or future carries): ``Variant(name)``, or
    ``Variant("other", name)`` when ``name`` is not one of ``cases``."""
    return Variant(name) if name in cases else Variant("other", name)


def retype(v: Any, module: ModuleType) -> Any:
    """``v`` (a value of one version's bindings: a record or variant case dataclass, an enum,
    or a plain value, nested) as the class of the same name in bindings ``module``: 0.2's
    ``ErrorCodeDnsError(DnsErrorPayload(...))`` as 0.3's."""
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        cls = getattr(module, type(v).__name__, None)
        if cls is None:  # a runtime value (`Ok`, `Err`, `Some`): its contents are converted
            assert type(v).__module__ == Variant.__module__, f"{module.__name__} has no {v!r}"
            cls = type(v)
        return cls(*(retype(getattr(v, f.name), module) for f in dataclasses.fields(v)))
    if isinstance(v, enum.Enum):
        return getattr(module, type(v).__name__)(v.value)
    return v
