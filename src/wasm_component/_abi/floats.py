"""Float <-> bit-pattern conversions, defined once for the ABI (lift, lower) and WAVE.

``*_bits`` give the IEEE-754 bits of a float; ``*_from_bits`` the float of a bit pattern, as is;
``lift_f32``/``lift_f64`` the Canonical ABI's ``decode_i32_as_float`` /
``decode_i64_as_float``: any NaN becomes the one canonical NaN.
"""

from __future__ import annotations

import struct

__all__ = ["NAN", "f32_bits", "f32_from_bits", "f64_bits", "f64_from_bits", "lift_f32", "lift_f64"]

_f32 = struct.Struct("<f")
_u32 = struct.Struct("<I")
_f64 = struct.Struct("<d")
_u64 = struct.Struct("<Q")
NAN = float("nan")  # the canonical NaN lifts produce (one object)
M32 = 0xFFFFFFFF
M64 = 0xFFFFFFFFFFFFFFFF


def f32_bits(f: float) -> int:
    i: int = _u32.unpack(_f32.pack(f))[0]
    return i


def f64_bits(f: float) -> int:
    i: int = _u64.unpack(_f64.pack(f))[0]
    return i


def f32_from_bits(i: int) -> float:
    f: float = _f32.unpack(_u32.pack(i & M32))[0]
    return f


def f64_from_bits(i: int) -> float:
    f: float = _f64.unpack(_u64.pack(i & M64))[0]
    return f


def lift_f32(i: int) -> float:
    f: float = _f32.unpack(_u32.pack(i & M32))[0]
    return f if f == f else NAN


def lift_f64(i: int) -> float:
    f: float = _f64.unpack(_u64.pack(i & M64))[0]
    return f if f == f else NAN
