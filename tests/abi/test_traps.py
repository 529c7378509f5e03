"""Guest faults the Canonical ABI turns into traps."""

from __future__ import annotations

import struct

import pytest

from wasm_component import types as t
from wasm_component._abi import CanonicalOptions, LiftLowerContext, lift_flat, load, lower_flat
from wasm_component.errors import Trap

from .support import make_cx


def test_pointer_alignment_and_bounds() -> None:
    cx, mem = make_cx()
    with pytest.raises(Trap, match="misaligned"):
        load(cx, t.U32, 2)
    with pytest.raises(Trap, match="out of bounds"):
        load(cx, t.U64, len(mem.data) - 8 + 8)
    with pytest.raises(Trap, match="misaligned list"):
        lift_flat(cx, t.ListType(t.U32), [2, 1])
    with pytest.raises(Trap, match="out of bounds"):
        lift_flat(cx, t.ListType(t.U32), [len(mem.data) - 4, 2])
    with pytest.raises(Trap, match="out of bounds"):
        lift_flat(cx, t.ListType(t.U8), [0xFFFFFFF0, 0x20])  # no wraparound
    with pytest.raises(Trap, match="maximum"):
        lift_flat(cx, t.ListType(t.U64), [0, 1 << 25])
    with pytest.raises(Trap, match="out of bounds"):
        lift_flat(cx, t.STRING, [len(mem.data) - 1, 2])
    with pytest.raises(Trap, match="maximum"):
        lift_flat(cx, t.STRING, [0, 1 << 28])
    cx16, _ = make_cx("utf16")
    with pytest.raises(Trap, match="misaligned string"):
        lift_flat(cx16, t.STRING, [1, 1])
    # pointers inside memory are checked too
    struct.pack_into("<II", mem.data, 16, 3, 1)
    with pytest.raises(Trap, match="misaligned list"):
        load(cx, t.ListType(t.U16), 16)


def test_invalid_char_discriminant_and_bool() -> None:
    cx, mem = make_cx()
    for bad in (0xD800, 0xDFFF, 0x110000, -1):
        with pytest.raises(Trap, match="char"):
            lift_flat(cx, t.CHAR, [bad])
    assert lift_flat(cx, t.CHAR, [0x10FFFF]) == "\U0010FFFF"
    struct.pack_into("<I", mem.data, 32, 0xD800)
    with pytest.raises(Trap, match="char"):
        load(cx, t.CHAR, 32)
    with pytest.raises(Trap, match="char"):
        lift_flat(cx, t.ListType(t.CHAR), [32, 1])
    with pytest.raises(Trap, match="discriminant"):
        lift_flat(cx, t.OptionType(t.U8), [2, 0])
    with pytest.raises(Trap, match="discriminant"):
        lift_flat(cx, t.EnumType(("a", "b", "c")), [3])
    mem.data[40] = 5
    with pytest.raises(Trap, match="discriminant"):
        load(cx, t.ResultType(t.U8, None), 40)
    assert lift_flat(cx, t.BOOL, [2]) is True and lift_flat(cx, t.BOOL, [-1]) is True
    assert lift_flat(cx, t.BOOL, [0]) is False
    mem.data[48] = 7
    assert load(cx, t.BOOL, 48) is True
    assert lift_flat(cx, t.ListType(t.BOOL), [48, 1]) == [True]


@pytest.mark.parametrize(("enc", "data", "units"), [
    ("utf8", b"\xff\xfe", 2),
    ("utf8", b"\xed\xa0\x80", 3),  # an encoded surrogate
    ("utf16", b"\x00\xd8", 1),  # a lone high surrogate
    ("latin1+utf16", b"\x00\xdc", 1 | 1 << 31),
])
def test_invalid_strings(enc: str, data: bytes, units: int) -> None:
    cx, mem = make_cx(enc)
    mem.data[64 : 64 + len(data)] = data
    with pytest.raises(Trap, match="invalid"):
        lift_flat(cx, t.STRING, [64, units])


def test_realloc_results_checked() -> None:
    cx, mem = make_cx()
    bad = [lambda o, s, a, n: len(mem.data), lambda o, s, a, n: 1]
    for realloc in bad:
        cx2 = LiftLowerContext(CanonicalOptions("utf8", mem, realloc), cx.inst, cx.borrow_scope)
        with pytest.raises(Trap, match=r"realloc|out of bounds|misaligned"):
            lower_flat(cx2, t.ListType(t.U32), [1, 2])
    cx2 = LiftLowerContext(CanonicalOptions("utf8", mem, bad[0]), cx.inst, cx.borrow_scope)
    with pytest.raises(Trap, match="out-of-bounds"):
        lower_flat(cx2, t.STRING, "x" * 10)
    assert cx.inst.may_leave


def test_realloc_runs_with_may_leave_cleared() -> None:
    cx, mem = make_cx()
    seen = []

    def realloc(o: int, s: int, a: int, n: int) -> int:
        seen.append(cx.inst.may_leave)
        return mem.realloc(o, s, a, n)

    cx2 = LiftLowerContext(CanonicalOptions("utf8", mem, realloc), cx.inst, cx.borrow_scope)
    lower_flat(cx2, t.STRING, "abc")
    assert seen == [False] and cx.inst.may_leave
