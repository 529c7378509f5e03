"""🪙 Value definitions: the bytes of ``(value t v)`` decoded by ``t``, as Binary.md's ``val(t)``.

Why this exists: a component may carry literal values (for its start function's arguments or
as exports). The validator decodes each one so a malformed value is a ``ValidationError`` at its
offset, and translation decodes it again into the value's Python form (the same forms lifted
values take: see :mod:`wasm_component.values`), which the runtime hands out unchanged.

Example::

    >>> from wasm_component import types as t
    >>> decode_value(t.OptionType(t.U32), b"\\x01\\x2a", 0)
    42
"""

from __future__ import annotations

import math
import struct
from typing import Any

from .. import types as t
from .._binary.cursor import Reader
from ..errors import DecodeError, ValidationError
from ..values import Err, Ok, Record, Some, Variant, option_needs_some

__all__ = ["decode_value"]

_F32, _F64 = struct.Struct("<f"), struct.Struct("<d")
#: the one NaN of each float type a value may hold (Binary.md: ``val(f32)``, ``val(f64)``)
_NAN32, _NAN64 = b"\x00\x00\xc0\x7f", b"\x00\x00\x00\x00\x00\x00\xf8\x7f"
_UNSIGNED = {"u8": 8, "u16": 16, "u32": 32, "u64": 64}
_SIGNED = {"s16": 16, "s32": 32, "s64": 64}


def decode_value(ty: t.Type, data: bytes, offset: int) -> Any:
    """The value ``data`` encodes as a ``ty`` (``ValidationError`` at ``offset``, the value
    definition's, when it does not, or when bytes are left over)."""
    r = Reader(memoryview(data), 0, len(data))
    try:
        value = _val(r, ty)
    except DecodeError as e:
        raise ValidationError(f"invalid value of type `{ty.wit()}`: {e.message}",
                              offset) from None
    if not r.at_end():
        raise ValidationError(f"invalid value of type `{ty.wit()}`: {len(data) - r.pos} "
                              "bytes left after it", offset)
    return value


def _bad(r: Reader, what: str) -> DecodeError:
    return DecodeError(what, r.pos)


def _index(r: Reader, n: int, what: str, byte: bool = False) -> int:
    i = r.u8() if byte else r.u32()
    if i >= n:
        raise _bad(r, f"{what} index {i} out of range (expected less than {n})")
    return i


def _float(r: Reader, st: struct.Struct, nan: bytes) -> float:
    raw = r.bytes(st.size)
    v: float = st.unpack(raw)[0]
    if math.isnan(v) and raw != nan:
        raise _bad(r, "a NaN other than the canonical one")
    return v


def _val(r: Reader, ty: t.Type) -> Any:
    if isinstance(ty, t.PrimType):
        name = ty.name
        if name == "bool":
            b = r.u8()
            if b > 1:
                raise _bad(r, f"expected 0 or 1 for a bool, got {b}")
            return b == 1
        if name in _UNSIGNED:
            return r.u8() if name == "u8" else r._uleb(_UNSIGNED[name], name)
        if name == "s8":
            b = r.u8()
            return b - 256 if b >= 128 else b
        if name in _SIGNED:
            return r._sleb(_SIGNED[name])
        if name == "f32":
            return _float(r, _F32, _NAN32)
        if name == "f64":
            return _float(r, _F64, _NAN64)
        if name == "string":
            return r.name()
        if name == "char":
            return _char(r)
    elif isinstance(ty, t.ListType):
        n = r.u32()
        if ty.length is not None and n != ty.length:
            raise _bad(r, f"expected {ty.length} elements, got {n}")
        if ty.element == t.U8 and ty.length is None:
            return r.bytes(n)
        return [_val(r, ty.element) for _ in range(n)]
    elif isinstance(ty, t.RecordType):
        return Record({name: _val(r, ft) for name, ft in ty.fields})
    elif isinstance(ty, t.TupleType):
        return tuple(_val(r, et) for et in ty.types)
    elif isinstance(ty, t.VariantType):
        case, payload = ty.cases[_index(r, len(ty.cases), "variant case")]
        return Variant(case, None if payload is None else _val(r, payload))
    elif isinstance(ty, t.EnumType):
        return ty.names[_index(r, len(ty.names), "enum case")]
    elif isinstance(ty, t.FlagsType):
        raw = r.bytes(-(-len(ty.names) // 8))
        bits = int.from_bytes(raw, "little")
        if bits >> len(ty.names):
            raise _bad(r, "flags set past the last label")
        return frozenset(n for i, n in enumerate(ty.names) if bits >> i & 1)
    elif isinstance(ty, t.OptionType):
        if _index(r, 2, "option case", True) == 0:
            return None
        v = _val(r, ty.inner)
        return Some(v) if option_needs_some(ty.inner) else v
    elif isinstance(ty, t.ResultType):
        if _index(r, 2, "result case", True) == 0:
            return Ok(None if ty.ok is None else _val(r, ty.ok))
        return Err(None if ty.err is None else _val(r, ty.err))
    raise _bad(r, f"a value of type `{ty.wit()}` cannot be written in a component")


def _char(r: Reader) -> str:
    first = r.u8()
    n = 1 if first < 0x80 else 2 if first >> 5 == 6 else 3 if first >> 4 == 14 else \
        4 if first >> 3 == 30 else 0
    if not n:
        raise _bad(r, f"invalid UTF-8 lead byte {first:#x} in a char")
    raw = bytes([first]) + r.bytes(n - 1)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _bad(r, "invalid UTF-8 in a char") from None
