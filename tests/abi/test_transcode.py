"""Strings passed between components: lifting yields a ``LiftedStr`` carrying the spec's
``load_string`` hint, and lowering one follows the spec's ``store_string`` exactly.

The reference below is the spec's Python (CanonicalABI.md, ``store_string_into_range`` and the
transcoding functions it calls) transcribed as is; every (source, destination) encoding pair
is checked against it for the sequence of ``realloc`` calls, the result and the bytes left in
memory, and for trapping at the same ``realloc`` when the guest returns a bad pointer.
"""

# ruff: noqa: E701
# (the reference keeps the spec's layout)
from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wasm_component import types as t
from wasm_component._abi import (
    BytearrayMemory,
    CanonicalOptions,
    ComponentInstanceState,
    LiftLowerContext,
    Task,
    func_abi,
    lift_flat,
    lower_flat,
)
from wasm_component._abi.strings import LiftedStr, lifted_str_class
from wasm_component.errors import Trap

from .support import make_cx, string_encoding

# -- the spec's reference algorithm ------------------------------------------------------------


class RefTrap(Exception):
    pass


def trap_if(cond: bool) -> None:
    if cond:
        raise RefTrap


def align_to(ptr: int, alignment: int) -> int:
    return -(-ptr // alignment) * alignment


REALLOC_I32_MAX = 2**32 - 1


class RefMemory:
    def __init__(self, mem: BytearrayMemory, ptr_type: str) -> None:
        self.mem = mem
        self._pt = ptr_type

    def __len__(self) -> int:
        return len(self.mem.data)

    def __getitem__(self, i: Any) -> Any:
        return self.mem.data[i]

    def __setitem__(self, i: Any, v: Any) -> None:
        self.mem.data[i] = v

    def ptr_type(self) -> str:
        return self._pt


class RefOpts:
    def __init__(self, memory: RefMemory, enc: str) -> None:
        self.memory = memory
        self.string_encoding = enc


class RefCx:
    def __init__(self, mem: BytearrayMemory, enc: str, realloc: Callable[..., int],
                 pt: str = "i32") -> None:
        self.opts = RefOpts(RefMemory(mem, pt), enc)
        self._realloc = realloc

    def allocate(self, align: int, size: int) -> int:
        return self.reallocate(0, 0, align, size)

    def reallocate(self, old: int, old_size: int, align: int, new_size: int) -> int:
        return self._realloc(old, old_size, align, new_size)


def utf16_tag(ptr_type: str) -> int:
    return 1 << ((4 if ptr_type == "i32" else 8) * 8 - 1)


def store_string_into_range(cx: Any, v: tuple[str, str, int]) -> tuple[int, int]:
    src, src_encoding, src_tagged_code_units = v
    tag = utf16_tag(cx.opts.memory.ptr_type())

    if src_encoding == 'latin1+utf16':
        if bool(src_tagged_code_units & tag):
            src_simple_encoding = 'utf16'
            src_code_units = src_tagged_code_units ^ tag
        else:
            src_simple_encoding = 'latin1'
            src_code_units = src_tagged_code_units
    else:
        src_simple_encoding = src_encoding
        src_code_units = src_tagged_code_units

    match cx.opts.string_encoding:
        case 'utf8':
            match src_simple_encoding:
                case 'utf8': return store_string_copy(cx, src, src_code_units, 1, 1, 'utf-8')
                case 'utf16': return store_utf16_to_utf8(cx, src, src_code_units)
                case 'latin1': return store_latin1_to_utf8(cx, src, src_code_units)
        case 'utf16':
            match src_simple_encoding:
                case 'utf8': return store_utf8_to_utf16(cx, src, src_code_units)
                case 'utf16': return store_string_copy(cx, src, src_code_units, 2, 2, 'utf-16-le')
                case 'latin1': return store_string_copy(cx, src, src_code_units, 2, 2, 'utf-16-le')
        case 'latin1+utf16':
            match src_encoding:
                case 'utf8': return store_string_to_latin1_or_utf16(cx, src, src_code_units)
                case 'utf16': return store_string_to_latin1_or_utf16(cx, src, src_code_units)
                case 'latin1+utf16':
                    match src_simple_encoding:
                        case 'latin1':
                            return store_string_copy(cx, src, src_code_units, 1, 2, 'latin-1')
                        case 'utf16':
                            return store_probably_utf16_to_latin1_or_utf16(cx, src, src_code_units)
    raise AssertionError


def store_string_copy(cx: Any, src: str, src_code_units: int, dst_code_unit_size: int,
                      dst_alignment: int, dst_encoding: str) -> tuple[int, int]:
    dst_byte_length = dst_code_unit_size * src_code_units
    assert(dst_byte_length <= REALLOC_I32_MAX)
    ptr = cx.allocate(dst_alignment, dst_byte_length)
    trap_if(ptr != align_to(ptr, dst_alignment))
    trap_if(ptr + dst_byte_length > len(cx.opts.memory))
    encoded = src.encode(dst_encoding)
    assert(dst_byte_length == len(encoded))
    cx.opts.memory[ptr : ptr+len(encoded)] = encoded
    return (ptr, src_code_units)


def store_utf16_to_utf8(cx: Any, src: str, src_code_units: int) -> tuple[int, int]:
    worst_case_size = src_code_units * 3
    return store_string_to_utf8(cx, src, src_code_units, worst_case_size)


def store_latin1_to_utf8(cx: Any, src: str, src_code_units: int) -> tuple[int, int]:
    worst_case_size = src_code_units * 2
    return store_string_to_utf8(cx, src, src_code_units, worst_case_size)


def store_string_to_utf8(cx: Any, src: str, src_code_units: int, worst_case_size: int
                         ) -> tuple[int, int]:
    assert(src_code_units <= REALLOC_I32_MAX)
    ptr = cx.allocate(1, src_code_units)
    trap_if(ptr + src_code_units > len(cx.opts.memory))
    for i,code_point in enumerate(src):
        if ord(code_point) < 2**7:
            cx.opts.memory[ptr + i] = ord(code_point)
        else:
            assert(worst_case_size <= REALLOC_I32_MAX)
            ptr = cx.reallocate(ptr, src_code_units, 1, worst_case_size)
            trap_if(ptr + worst_case_size > len(cx.opts.memory))
            encoded = src.encode('utf-8')
            cx.opts.memory[ptr+i : ptr+len(encoded)] = encoded[i : ]
            if worst_case_size > len(encoded):
                ptr = cx.reallocate(ptr, worst_case_size, 1, len(encoded))
                trap_if(ptr + len(encoded) > len(cx.opts.memory))
            return (ptr, len(encoded))
    return (ptr, src_code_units)


def store_utf8_to_utf16(cx: Any, src: str, src_code_units: int) -> tuple[int, int]:
    worst_case_size = 2 * src_code_units
    assert(worst_case_size <= REALLOC_I32_MAX)
    ptr = cx.allocate(2, worst_case_size)
    trap_if(ptr != align_to(ptr, 2))
    trap_if(ptr + worst_case_size > len(cx.opts.memory))
    encoded = src.encode('utf-16-le')
    cx.opts.memory[ptr : ptr+len(encoded)] = encoded
    if len(encoded) < worst_case_size:
        ptr = cx.reallocate(ptr, worst_case_size, 2, len(encoded))
        trap_if(ptr != align_to(ptr, 2))
        trap_if(ptr + len(encoded) > len(cx.opts.memory))
    code_units = int(len(encoded) / 2)
    return (ptr, code_units)


def store_string_to_latin1_or_utf16(cx: Any, src: str, src_code_units: int) -> tuple[int, int]:
    assert(src_code_units <= REALLOC_I32_MAX)
    ptr = cx.allocate(2, src_code_units)
    trap_if(ptr != align_to(ptr, 2))
    trap_if(ptr + src_code_units > len(cx.opts.memory))
    dst_byte_length = 0
    for usv in src:
        if ord(usv) < (1 << 8):
            cx.opts.memory[ptr + dst_byte_length] = ord(usv)
            dst_byte_length += 1
        else:
            worst_case_size = 2 * src_code_units
            assert(worst_case_size <= REALLOC_I32_MAX)
            ptr = cx.reallocate(ptr, src_code_units, 2, worst_case_size)
            trap_if(ptr != align_to(ptr, 2))
            trap_if(ptr + worst_case_size > len(cx.opts.memory))
            for j in range(dst_byte_length-1, -1, -1):
                cx.opts.memory[ptr + 2*j] = cx.opts.memory[ptr + j]
                cx.opts.memory[ptr + 2*j + 1] = 0
            encoded = src.encode('utf-16-le')
            cx.opts.memory[ptr+2*dst_byte_length : ptr+len(encoded)] = encoded[2*dst_byte_length : ]
            if worst_case_size > len(encoded):
                ptr = cx.reallocate(ptr, worst_case_size, 2, len(encoded))
                trap_if(ptr != align_to(ptr, 2))
                trap_if(ptr + len(encoded) > len(cx.opts.memory))
            tagged_code_units = int(len(encoded) / 2) | utf16_tag(cx.opts.memory.ptr_type())
            return (ptr, tagged_code_units)
    if dst_byte_length < src_code_units:
        ptr = cx.reallocate(ptr, src_code_units, 2, dst_byte_length)
        trap_if(ptr != align_to(ptr, 2))
        trap_if(ptr + dst_byte_length > len(cx.opts.memory))
    return (ptr, dst_byte_length)


def store_probably_utf16_to_latin1_or_utf16(cx: Any, src: str, src_code_units: int
                                            ) -> tuple[int, int]:
    src_byte_length = 2 * src_code_units
    assert(src_byte_length <= REALLOC_I32_MAX)
    ptr = cx.allocate(2, src_byte_length)
    trap_if(ptr != align_to(ptr, 2))
    trap_if(ptr + src_byte_length > len(cx.opts.memory))
    encoded = src.encode('utf-16-le')
    cx.opts.memory[ptr : ptr+len(encoded)] = encoded
    if any(ord(c) >= (1 << 8) for c in src):
        tagged_code_units = int(len(encoded) / 2) | utf16_tag(cx.opts.memory.ptr_type())
        return (ptr, tagged_code_units)
    latin1_size = int(len(encoded) / 2)
    for i in range(latin1_size):
        cx.opts.memory[ptr + i] = cx.opts.memory[ptr + 2*i]
    ptr = cx.reallocate(ptr, src_byte_length, 1, latin1_size)
    trap_if(ptr + latin1_size > len(cx.opts.memory))
    return (ptr, latin1_size)


# -- sources: (encoding option, simple encoding) and how the guest encodes the length --------

SOURCES = [("utf8", "utf8"), ("utf16", "utf16"), ("latin1+utf16", "latin1"),
           ("latin1+utf16", "utf16")]
DESTS = ["utf8", "utf16", "latin1+utf16"]
STRINGS = ["", "a", "hello world", "\xe9t\xe9", "\xff" * 5, "ab\xe9\u20ac", "\u20ac",
           "x\U0001F600y", "\U0001F600", "caf\xe9 \u03a3 \U00010000!", "abc" * 40 + "\u0100",
           "\x7f\x80", "AΣ"]


def encodable(simple: str, s: str) -> bool:
    return simple != "latin1" or all(ord(c) < 256 for c in s)


def tagged_units(enc: str, simple: str, s: str, pt: str = "i32") -> int:
    if simple == "utf8":
        return len(s.encode("utf-8"))
    if simple == "latin1":
        return len(s)
    n = len(s.encode("utf-16-le")) // 2
    return n | utf16_tag(pt) if enc == "latin1+utf16" else n


def lifted(enc: str, simple: str, s: str) -> LiftedStr:
    """Lift ``s`` from a guest memory holding it in ``simple`` under option ``enc``."""
    cx, mem = make_cx(enc)
    codec = {"utf8": "utf-8", "utf16": "utf-16-le", "latin1": "latin-1"}[simple]
    b = s.encode(codec)
    mem.data[64 : 64 + len(b)] = b
    v = lift_flat(cx, t.STRING, [64, tagged_units(enc, simple, s)])
    assert isinstance(v, LiftedStr)
    return v


Realloc = Callable[[int, int, int, int], int]


def bad_realloc(mem: BytearrayMemory, calls: list[tuple[int, int, int, int]], at: int,
                how: str) -> Realloc:
    """Trace realloc calls; call number ``at`` returns an unaligned/out-of-bounds pointer."""

    def realloc(old: int, old_size: int, align: int, new_size: int) -> int:
        calls.append((old, old_size, align, new_size))
        ptr = mem.realloc(old, old_size, align, new_size)
        if len(calls) - 1 == at:
            return ptr + 1 if how == "unaligned" else len(mem.data) - new_size + 1
        return ptr

    return realloc


def run_ours(dst: str, v: LiftedStr, at: int = -1, how: str = "") -> tuple[Any, list[Any],
                                                                          bytes]:
    mem = BytearrayMemory(1 << 12)
    calls: list[tuple[int, int, int, int]] = []
    opts = CanonicalOptions(string_encoding(dst), mem, bad_realloc(mem, calls, at, how))
    cx = LiftLowerContext(opts, ComponentInstanceState(), Task(ComponentInstanceState()))
    try:
        out: Any = lower_flat(cx, t.STRING, v)
    except Trap:
        out = "trap"
    return out, calls, bytes(mem.data)


def run_ref(dst: str, enc: str, simple: str, s: str, at: int = -1, how: str = ""
            ) -> tuple[Any, list[Any], bytes]:
    mem = BytearrayMemory(1 << 12)
    calls: list[tuple[int, int, int, int]] = []
    cx = RefCx(mem, dst, bad_realloc(mem, calls, at, how))
    try:
        out: Any = list(store_string_into_range(cx, (s, enc, tagged_units(enc, simple, s))))
    except RefTrap:
        out = "trap"
    return out, calls, bytes(mem.data)


PAIRS = [(enc, simple, dst) for enc, simple in SOURCES for dst in DESTS]


@pytest.mark.parametrize(("enc", "simple", "dst"), PAIRS)
def test_realloc_sequence_matches_spec(enc: str, simple: str, dst: str) -> None:
    for s in STRINGS:
        if not encodable(simple, s):
            continue
        v = lifted(enc, simple, s)
        ours = run_ours(dst, v)
        ref = run_ref(dst, enc, simple, s)
        assert ours[1] == ref[1], (s, "realloc calls")
        assert ours[0] == ref[0], (s, "result")
        assert ours[2] == ref[2], (s, "memory")


@pytest.mark.parametrize(("enc", "simple", "dst"), PAIRS)
@pytest.mark.parametrize("how", ["unaligned", "out-of-bounds"])
def test_bad_realloc_results_trap_as_in_spec(enc: str, simple: str, dst: str, how: str) -> None:
    for s in STRINGS:
        if not encodable(simple, s):
            continue
        v = lifted(enc, simple, s)
        for at in range(3):
            ours = run_ours(dst, v, at, how)
            ref = run_ref(dst, enc, simple, s, at, how)
            assert (ours[0], ours[1]) == (ref[0], ref[1]), (s, at)
            if ref[0] != "trap":
                assert ours[2] == ref[2], (s, at)


# The realloc sequences, spelled out for one string per shape (bump allocator from 8).
EXPECTED = {
    # utf8 source "a€" (4 bytes)
    ("utf8", "utf8", "utf8", "a\u20ac"): [(0, 0, 1, 4)],
    ("utf8", "utf8", "utf16", "a\u20ac"): [(0, 0, 2, 8), (8, 8, 2, 4)],
    ("utf8", "utf8", "latin1+utf16", "a\u20ac"): [(0, 0, 2, 4), (8, 4, 2, 8), (12, 8, 2, 4)],
    ("utf8", "utf8", "latin1+utf16", "\xe9"): [(0, 0, 2, 2), (8, 2, 2, 1)],
    # utf16 source
    ("utf16", "utf16", "utf8", "ab"): [(0, 0, 1, 2)],
    ("utf16", "utf16", "utf8", "a\u20ac"): [(0, 0, 1, 2), (8, 2, 1, 6), (10, 6, 1, 4)],
    ("utf16", "utf16", "utf16", "a\u20ac"): [(0, 0, 2, 4)],
    ("utf16", "utf16", "latin1+utf16", "A\u03a3"): [(0, 0, 2, 2), (8, 2, 2, 4)],
    ("utf16", "utf16", "latin1+utf16", "\xe9"): [(0, 0, 2, 1)],
    # latin1+utf16 source, Latin-1 bytes
    ("latin1+utf16", "latin1", "utf8", "\xe9"): [(0, 0, 1, 1), (8, 1, 1, 2)],
    ("latin1+utf16", "latin1", "utf8", "a\xe9"): [(0, 0, 1, 2), (8, 2, 1, 4), (10, 4, 1, 3)],
    ("latin1+utf16", "latin1", "utf16", "\xe9"): [(0, 0, 2, 2)],
    ("latin1+utf16", "latin1", "latin1+utf16", "\xe9"): [(0, 0, 2, 1)],
    # latin1+utf16 source, UTF-16 bytes
    ("latin1+utf16", "utf16", "utf8", "\U0001F600"): [(0, 0, 1, 2), (8, 2, 1, 6),
                                                      (10, 6, 1, 4)],
    ("latin1+utf16", "utf16", "utf16", "\U0001F600"): [(0, 0, 2, 4)],
    ("latin1+utf16", "utf16", "latin1+utf16", "\u20ac"): [(0, 0, 2, 2)],
    ("latin1+utf16", "utf16", "latin1+utf16", "ab"): [(0, 0, 2, 4), (8, 4, 1, 2)],
}


@pytest.mark.parametrize(("enc", "simple", "dst", "s"), list(EXPECTED))
def test_realloc_sequences_spelled_out(enc: str, simple: str, dst: str, s: str) -> None:
    _, calls, _ = run_ours(dst, lifted(enc, simple, s))
    assert calls == EXPECTED[(enc, simple, dst, s)]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40), st.sampled_from(PAIRS))
def test_random_strings_match_spec(s: str, pair: tuple[str, str, str]) -> None:
    enc, simple, dst = pair
    if not encodable(simple, s):
        return
    ours = run_ours(dst, lifted(enc, simple, s))
    ref = run_ref(dst, enc, simple, s)
    assert ours == ref


# -- LiftedStr behaves as str ------------------------------------------------------------------


def test_lifted_str_is_a_str(encoding: str) -> None:
    cx, _ = make_cx(encoding)
    for s in ["", "hello", "\xe9", "\u20ac\U0001F600"]:
        v = lift_flat(cx, t.STRING, lower_flat(cx, t.STRING, s))
        assert isinstance(v, LiftedStr) and isinstance(v, str)
        d: dict[str, int] = {v: 1}
        assert v == s and hash(v) == hash(s) and d[s] == 1
        assert repr(v) == repr(s) and f"{v}" == s and v + "" == s
        assert type(v + "x") is str and type(str(v)) is str
        assert v.src_encoding == encoding
        back = pickle.loads(pickle.dumps(v))
        assert back == s and type(back) is type(v)


def test_lifted_str_hint() -> None:
    v = lifted("latin1+utf16", "utf16", "ab")
    assert v.src_simple_encoding == "utf16"
    assert v.src_tagged_code_units == 2 | 1 << 31
    assert lifted("utf8", "utf8", "\u20ac").src_tagged_code_units == 3
    assert lifted("utf16", "utf16", "\U0001F600").src_tagged_code_units == 2
    assert lifted("latin1+utf16", "latin1", "\xe9\xe9").src_tagged_code_units == 2
    assert lifted_str_class("utf8", "utf8") is type(lifted("utf8", "utf8", "x"))


def test_host_str_subclasses_take_the_host_path() -> None:
    class MyStr(str):
        pass

    cx, mem = make_cx("utf16")
    mem.realloc_calls = []
    lower_flat(cx, t.STRING, MyStr("a\u20ac"))
    assert mem.realloc_calls == [(0, 0, 2, 4)]


def test_lifted_strings_nested_in_values() -> None:
    """Strings inside lists, records and spilled parameters keep the hint end to end."""
    ft = t.FuncType(tuple((f"p{i}", t.STRING) for i in range(20)),
                    t.ListType(t.RecordType((("s", t.STRING),))))
    src_cx, src_mem = make_cx("latin1+utf16")
    src_abi = func_abi(ft, "latin1+utf16")
    # the caller's guest passes 20 strings (spilled) stored as tagged UTF-16 "ab"
    src_mem.data[64:68] = "ab".encode("utf-16-le")
    import struct
    for i in range(20):
        struct.pack_into("<II", src_mem.data, 256 + 8 * i, 64, 2 | 1 << 31)
    args = src_abi.lift_params(src_cx, [256, 1024])
    assert all(isinstance(a, LiftedStr) and a.src_simple_encoding == "utf16" for a in args)
    dst_cx, dst_mem = make_cx("latin1+utf16")
    dst_mem.realloc_calls = []
    func_abi(ft, "latin1+utf16").lower_params(dst_cx, args)
    # the tuple, then per string: a pessimistic UTF-16 allocation and a Latin-1 shrink
    assert dst_mem.realloc_calls[0][1:] == (0, 4, 160)
    assert [c[1:] for c in dst_mem.realloc_calls[1:3]] == [(0, 2, 4), (4, 1, 2)]
    assert len(dst_mem.realloc_calls) == 41
