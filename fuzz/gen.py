"""Random inputs for the fuzz targets, from ``random.Random`` (fast enough for millions of runs):
byte mutations of seed binaries and texts, component value types, and values of those types."""

from __future__ import annotations

import random
from typing import Any

from wasm_component import types as t
from wasm_component.values import Err, Ok, Record, Some, Variant

_INTS = {"s8": 8, "u8": 8, "s16": 16, "u16": 16, "s32": 32, "u32": 32, "s64": 64, "u64": 64}
PRIMS = [t.BOOL, t.S8, t.U8, t.S16, t.U16, t.S32, t.U32, t.S64, t.U64, t.F32, t.F64, t.CHAR,
         t.STRING]
_BOUNDARY = [0x7F, 0x80, 0xFF, 0x3FFF, 0x4000, 0xFFFF, 2**31 - 1, 2**32 - 1, 2**32, 2**63]


def leb(rng: random.Random) -> bytes:
    """A LEB128-ish run: small, boundary, over-long and unterminated encodings."""
    c = rng.randrange(5)
    if c == 0:
        return bytes([rng.randrange(0x80)])
    if c == 1:
        return b"\x80" * rng.randint(1, 12)
    if c == 2:
        return b"\xff" * rng.randint(1, 10) + b"\x0f"
    n = rng.choice(_BOUNDARY) if c == 3 else rng.randrange(2**35)
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | 0x80 if n else b)
        if not n:
            return bytes(out)


def mutate(rng: random.Random, seed: bytes, keep: int = 8, rounds: int = 4) -> bytes:
    """``seed`` with 1..``rounds`` random edits after its first ``keep`` bytes: truncate, flip a
    bit, insert, delete, overwrite, splice a LEB128 value, duplicate a slice."""
    data = bytearray(seed)
    for _ in range(rng.randint(1, rounds)):
        n = len(data)
        lo = keep if n > keep else 0
        pos = rng.randint(lo, max(n, lo))
        op = rng.randrange(7)
        if op == 0 and rng.random() < 0.3:
            del data[pos:]
        elif op == 1 and pos < n:
            data[pos] ^= 1 << rng.randrange(8)
        elif op == 2:
            data[pos:pos] = rng.randbytes(rng.randint(1, 8))
        elif op == 3:
            del data[pos:pos + rng.randint(1, 8)]
        elif op == 4 and pos < n:
            b = rng.randbytes(rng.randint(1, 4))
            data[pos:pos + len(b)] = b
        elif op == 5:
            b = leb(rng)
            data[pos:pos + rng.randint(0, len(b))] = b
        elif op == 6 and n:
            a = rng.randrange(n)
            data[pos:pos] = data[a:a + rng.randint(1, 32)]
    return bytes(data)


def names(prefix: str, n: int) -> tuple[str, ...]:
    return tuple(f"{prefix}{i}" for i in range(n))


def value_type(rng: random.Random, depth: int = 3) -> t.Type:
    """A random value type (no resources, streams or futures), at most ``depth`` deep."""
    if depth <= 0 or rng.random() < 0.4:
        return rng.choice(PRIMS)
    def sub() -> t.Type:
        return value_type(rng, depth - 1)

    k = rng.randrange(11)
    n = rng.randint(1, 4)
    if k == 0:
        return t.ListType(sub())
    if k == 1:
        return t.ListType(sub(), rng.randint(1, 3))
    if k == 2:
        return t.RecordType(tuple(zip(names("f", n), [sub() for _ in range(n)], strict=True)))
    if k == 3:
        return t.TupleType(tuple(sub() for _ in range(n)))
    if k == 4:
        cases = [None if rng.random() < 0.3 else sub() for _ in range(n)]
        return t.VariantType(tuple(zip(names("c", n), cases, strict=True)))
    if k == 5:
        return t.EnumType(names("e", rng.choice([1, 2, 3, 255, 256, 300])))
    if k == 6:
        return t.FlagsType(names("g", rng.choice([1, 8, 9, 16, 17, 32])))
    if k == 7:
        return t.OptionType(sub())
    if k == 8:
        return t.ResultType(sub() if rng.random() < 0.7 else None,
                            sub() if rng.random() < 0.7 else None)
    if k == 9:
        return t.MapType(rng.choice([t.BOOL, t.U8, t.S32, t.U64, t.CHAR, t.STRING]), sub())
    return t.ListType(t.U8)


def _char(rng: random.Random) -> str:
    while True:
        c = rng.choice([rng.randrange(0x80), rng.randrange(0x800), rng.randrange(0x110000)])
        if not 0xD800 <= c <= 0xDFFF:
            return chr(c)


def value(rng: random.Random, ty: t.Type) -> Any:
    """A random value of ``ty`` in the Python form :mod:`wasm_component.values` describes."""
    match ty:
        case t.PrimType("bool"):
            return rng.random() < 0.5
        case t.PrimType(name) if name in _INTS:
            bits = _INTS[name]
            lo, hi = (0, (1 << bits) - 1) if name[0] == "u" else (
                -(1 << (bits - 1)), (1 << (bits - 1)) - 1)
            return rng.choice([lo, hi, 0, rng.randint(lo, hi)])
        case t.PrimType("f32"):
            import struct
            return struct.unpack("<f", struct.pack("<f", rng.uniform(-1e30, 1e30)))[0]
        case t.PrimType("f64"):
            return rng.choice([0.0, -0.0, float("inf"), rng.uniform(-1e300, 1e300)])
        case t.PrimType("char"):
            return _char(rng)
        case t.PrimType("string"):
            return "".join(_char(rng) for _ in range(rng.randrange(12)))
        case t.ListType(t.PrimType("u8"), None):
            return rng.randbytes(rng.randrange(16))
        case t.ListType(el, None):
            return [value(rng, el) for _ in range(rng.randrange(4))]
        case t.ListType(el, int(n)):
            return [value(rng, el) for _ in range(n)]
        case t.RecordType(fields):
            return Record({k: value(rng, ft) for k, ft in fields})
        case t.TupleType(types):
            return tuple(value(rng, x) for x in types)
        case t.VariantType(cases):
            name, pt = rng.choice(cases)
            return Variant(name, None if pt is None else value(rng, pt))
        case t.EnumType(ns):
            return rng.choice(ns)
        case t.FlagsType(ns):
            return frozenset(x for x in ns if rng.random() < 0.3)
        case t.OptionType(inner):
            if rng.random() < 0.3:
                return None
            v = value(rng, inner)
            return Some(v) if isinstance(inner, (t.OptionType,)) or v is None else v
        case t.ResultType(ok, err):
            if rng.random() < 0.5:
                return Ok(None if ok is None else value(rng, ok))
            return Err(None if err is None else value(rng, err))
        case t.MapType(k, v):
            return {value(rng, k): value(rng, v) for _ in range(rng.randrange(3))}
    raise NotImplementedError(f"no generator for {ty}")
