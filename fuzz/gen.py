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


# -- structure-aware: random component type sections, as text ---------------------------------

_PRIM_WAT = ["bool", "s8", "u8", "s16", "u16", "s32", "u32", "s64", "u64", "f32", "f64", "char",
             "string"]


def _ref(rng: random.Random, k: int) -> str:
    """A value type: a primitive, or a reference to one of the ``k`` types defined so far
    (sometimes to one that does not exist, or is not a value type: validation must say so)."""
    if k == 0 or rng.random() < 0.35:
        return rng.choice(_PRIM_WAT)
    return f"{rng.randrange(k + (1 if rng.random() < 0.05 else 0))}"


def _deftype(rng: random.Random, k: int) -> str:
    def r() -> str:
        return _ref(rng, k)

    n = rng.randint(1, 4)
    c = rng.randrange(13)
    if c == 0:
        return "(record " + " ".join(f'(field "f{i}" {r()})' for i in range(n)) + ")"
    if c == 1:
        return "(variant " + " ".join(
            f'(case "c{i}"' + ("" if rng.random() < 0.3 else f" {r()}") + ")"
            for i in range(n)) + ")"
    if c == 2:
        return f"(list {r()})"
    if c == 3:
        return "(tuple " + " ".join(r() for _ in range(n)) + ")"
    if c == 4:
        return "(flags " + " ".join(f'"g{i}"' for i in range(n)) + ")"
    if c == 5:
        return "(enum " + " ".join(f'"e{i}"' for i in range(n)) + ")"
    if c == 6:
        return f"(option {r()})"
    if c == 7:
        return f"(result {r()} (error {r()}))"
    if c == 8:
        params = " ".join(f'(param "p{i}" {r()})' for i in range(rng.randint(0, 3)))
        return f"(func {params}" + (f" (result {r()})" if rng.random() < 0.6 else "") + ")"
    if c == 9:
        return f"(own {rng.randrange(max(k, 1))})"
    if c == 10:
        return f"(borrow {rng.randrange(max(k, 1))})"
    return _instance_type(rng, k, depth=2) if c == 11 else "(resource (rep i32))"


def _instance_type(rng: random.Random, k: int, depth: int) -> str:
    """An instance type whose exports use the outer types and types of its own."""
    decls = []
    local = 0
    for i in range(rng.randint(0, 5)):
        c = rng.randrange(6)
        if c == 0:
            decls.append(f'(export "r{i}" (type (sub resource)))')
            local += 1
        elif c == 1 and k:
            decls.append(f'(alias outer 1 {rng.randrange(k)} (type))')
            local += 1
        elif c == 2:
            decls.append(f"(type {_deftype(rng, local) if depth > 0 else '(list u8)'})")
            local += 1
        elif c == 3 and local:
            decls.append(f'(export "t{i}" (type (eq {rng.randrange(local)})))')
            local += 1
        elif c == 4 and local:
            decls.append(f'(export "f{i}" (func (type {rng.randrange(local)})))')
        elif depth > 0:
            decls.append(f'(export "i{i}" (instance {_instance_body(rng, depth - 1)}))')
    return "(instance " + " ".join(decls) + ")"


def _instance_body(rng: random.Random, depth: int) -> str:
    return _instance_type(rng, 0, depth)[len("(instance "):-1]


def component_wat(rng: random.Random) -> str:
    """A component of random type definitions, imports and exports of them (valid or not)."""
    items = []
    k = 0
    for i in range(rng.randint(1, 12)):
        c = rng.randrange(10)
        if c < 6 or k == 0:
            items.append(f"(type {_deftype(rng, k)})")
            k += 1
        elif c == 6:
            items.append(f'(import "x{i}" (type (eq {rng.randrange(k)})))')
            k += 1
        elif c == 7:
            items.append(f'(import "i{i}" (instance (type {rng.randrange(k)})))')
        elif c == 8:
            items.append(f'(import "f{i}" (func (type {rng.randrange(k)})))')
        else:
            items.append(f'(export "e{i}" (type {rng.randrange(k)}))')
            k += 1
    return "(component\n  " + "\n  ".join(items) + ")"
