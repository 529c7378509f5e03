"""Python forms of component-model values.

Most values map onto plain Python: ``bool``, ``int``, ``float``, ``str`` (a ``char`` is a
one-character ``str``), ``bytes`` for ``list<u8>``, ``list``, ``tuple``, ``None`` for an absent
``option``, a ``frozenset`` of names for ``flags`` and a ``str`` for an ``enum`` case. The classes
here cover the rest:

- :class:`Record` for a record (a read-only mapping that also allows attribute access); records
  may also be given as any dataclass instance or mapping with the right field names;
- :class:`Variant` for a variant case and its payload;
- :class:`Ok` / :class:`Err` for a ``result``;
- :class:`Some` for an ``option`` whose payload could itself be ``None`` (nested options stay
  unambiguous: ``option<option<u32>>`` lifts ``some(none)`` as ``Some(None)``);
- :class:`Val`, a value paired with its type, for the dynamic ``Func.call`` API;
- :data:`Result`, ``Ok[T] | Err[E]``, for annotations.

Typed functions and host functions may instead name classes of the user's in their
annotations (a dataclass for a record, an ``enum.Enum``, an ``enum.Flag``, a union of
dataclasses for a variant): values then take those classes (see :mod:`wasm_component.typed`).

Example::

    >>> from wasm_component.values import Record, Variant, Ok
    >>> r = Record(x=1, y=2)
    >>> r.x, r["y"]
    (1, 2)
    >>> Variant("circle", 1.5) == Variant("circle", 1.5)
    True
    >>> Ok(3)
    Ok(3)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeAlias, TypeVar

from . import types as t

__all__ = ["Err", "Ok", "Record", "Result", "Some", "Val", "Variant"]

T = TypeVar("T")
E = TypeVar("E")


class Record(Mapping[str, Any]):
    """A record value: an immutable mapping from field name to value, with attribute access.

    Field names are WIT's kebab-case; Python's snake_case spelling works for keywords and
    attributes (WIT names never contain ``_``, so the spelling is unambiguous):

        >>> r = Record(link_count=1)
        >>> r["link-count"], r.link_count
        (1, 1)
    """

    __slots__ = ("_fields",)

    def __init__(self, fields: Mapping[str, Any] | None = None, /, **kwargs: Any) -> None:
        data = dict(fields or {})
        for key, value in kwargs.items():
            data[key.replace("_", "-")] = value
        object.__setattr__(self, "_fields", data)

    def __getitem__(self, key: str) -> Any:
        return self._fields[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __getattr__(self, name: str) -> Any:
        fields = self._fields
        try:
            return fields[name]
        except KeyError:
            pass
        try:
            return fields[name.replace("_", "-")]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("record values are immutable")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self._fields) == dict(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self._fields.items()))

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self._fields.items())
        return f"Record({inner})"


@dataclass(frozen=True, slots=True)
class Variant:
    """A variant value: the case name and its payload (``None`` for a case without one).

    Where a variant is expected, a case without a payload may also be given as its bare name,
    as an enum case is: ``"none"`` for ``Variant("none")``."""

    case: str
    payload: Any = None

    def __repr__(self) -> str:
        if self.payload is None:
            return f"Variant({self.case!r})"
        return f"Variant({self.case!r}, {self.payload!r})"


@dataclass(frozen=True, slots=True)
class Ok(Generic[T]):
    """The ``ok`` case of a ``result`` (``value`` is ``None`` when the case has no payload)."""

    value: T = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Ok({self.value!r})"


@dataclass(frozen=True, slots=True)
class Err(Generic[E]):
    """The ``error`` case of a ``result``."""

    value: E = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Err({self.value!r})"


Result: TypeAlias = Ok[T] | Err[E]
"""The Python form of ``result<T, E>``, for annotations: ``Result[int, str]`` is
``Ok[int] | Err[str]`` (``Ok[None]`` for a result without an ``ok`` payload)."""


@dataclass(frozen=True, slots=True)
class Some(Generic[T]):
    """An explicit ``some`` for an option whose payload may itself be ``None``."""

    value: T

    def __repr__(self) -> str:
        return f"Some({self.value!r})"


def option_needs_some(inner: t.Type) -> bool:
    """Whether ``option<inner>`` must wrap its payload in :class:`Some` to stay unambiguous."""
    return isinstance(inner, t.OptionType)


class Val:
    """A component value paired with its type, for the dynamic :meth:`Func.call` API.

    ``value`` holds the Python form described in this module. Construct with the typed helpers
    (``Val.u32(7)``, ``Val.string("hi")``) or ``Val(type, value)``; equality compares both.

    Example::

        >>> Val.u32(7) == Val(t.U32, 7)
        True
    """

    __slots__ = ("type", "value")

    def __init__(self, type: t.Type, value: Any) -> None:
        self.type = type
        self.value = value

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Val):
            return NotImplemented
        return self.type == other.type and _val_eq(self.value, other.value)

    def __hash__(self) -> int:
        return hash(self.type)

    def __repr__(self) -> str:
        try:
            from .wave import to_wave

            return f"Val({to_wave(self.type, self.value)}: {self.type.wit()})"
        except Exception:  # pragma: no cover - the printer is optional for repr
            return f"Val({self.value!r}: {self.type.wit()})"

    @staticmethod
    def bool(v: bool) -> Val:
        return Val(t.BOOL, v)

    @staticmethod
    def s8(v: int) -> Val:
        return Val(t.S8, v)

    @staticmethod
    def u8(v: int) -> Val:
        return Val(t.U8, v)

    @staticmethod
    def s16(v: int) -> Val:
        return Val(t.S16, v)

    @staticmethod
    def u16(v: int) -> Val:
        return Val(t.U16, v)

    @staticmethod
    def s32(v: int) -> Val:
        return Val(t.S32, v)

    @staticmethod
    def u32(v: int) -> Val:
        return Val(t.U32, v)

    @staticmethod
    def s64(v: int) -> Val:
        return Val(t.S64, v)

    @staticmethod
    def u64(v: int) -> Val:
        return Val(t.U64, v)

    @staticmethod
    def f32(v: float) -> Val:
        return Val(t.F32, v)

    @staticmethod
    def f64(v: float) -> Val:
        return Val(t.F64, v)

    @staticmethod
    def char(v: str) -> Val:
        return Val(t.CHAR, v)

    @staticmethod
    def string(v: str) -> Val:
        return Val(t.STRING, v)


def _val_eq(a: Any, b: Any) -> bool:
    # NaN payloads are canonicalised by the ABI, so NaN == NaN for values.
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_val_eq(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)
