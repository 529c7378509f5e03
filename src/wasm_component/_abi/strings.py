"""Strings across the boundary: UTF-8, UTF-16 and ``latin1+utf16`` ("compact UTF-16", whose
length carries a tag bit saying the bytes are UTF-16).

Loading follows the spec's ``load_string_from_range``: length bound, alignment and bounds traps,
then one C-level decode of a memory slice (invalid code units trap). Storing a host ``str`` has
the exact content at hand, so it takes the spec's ``store_string_copy`` path for the best source
encoding: encode once, one ``realloc`` of the exact size, one slice copy, no transcoding loop.
Both directions are specialised per (encoding, pointer type) once, by :func:`string_loader` and
:func:`string_storer`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from .context import LiftLowerContext, StringEncoding, trap, trap_if
from .layout import MAX_STRING_BYTE_LENGTH, PtrType, ptr_size

__all__ = ["StringLoader", "StringStorer", "string_loader", "string_storer", "utf16_tag"]

StringLoader = Callable[[memoryview, int, int], str]
"""``(memory view, ptr, tagged code units) -> str``; traps on bad ranges or code units."""

StringStorer = Callable[[LiftLowerContext, str], "tuple[int, int, memoryview] | None"]
"""``(cx, s) -> (ptr, tagged code units, fresh memory view)``, or ``None`` when ``s`` holds a
lone surrogate (not a Unicode scalar value sequence)."""


def utf16_tag(ptr_type: PtrType) -> int:
    return 1 << (ptr_size(ptr_type) * 8 - 1)


def _decode(m: memoryview, ptr: int, byte_length: int, align: int, encoding: str) -> str:
    trap_if(byte_length > MAX_STRING_BYTE_LENGTH, "string byte length exceeds the maximum")
    trap_if(ptr & (align - 1), f"misaligned string pointer {ptr:#x}")
    trap_if(ptr + byte_length > len(m), f"string [{ptr:#x}, +{byte_length}) out of bounds")
    try:
        return str(m[ptr : ptr + byte_length], encoding)
    except UnicodeDecodeError:
        trap(f"invalid {encoding} string at {ptr:#x}")


@cache
def string_loader(encoding: StringEncoding, ptr_type: PtrType = "i32") -> StringLoader:
    if encoding == "utf8":

        def load_utf8(m: memoryview, ptr: int, n: int) -> str:
            return _decode(m, ptr, n, 1, "utf-8")

        return load_utf8
    if encoding == "utf16":

        def load_utf16(m: memoryview, ptr: int, n: int) -> str:
            return _decode(m, ptr, 2 * n, 2, "utf-16-le")

        return load_utf16
    assert encoding == "latin1+utf16", "validation admits three string encodings"
    tag = utf16_tag(ptr_type)

    def load_latin1_utf16(m: memoryview, ptr: int, n: int) -> str:
        if n & tag:
            return _decode(m, ptr, 2 * (n ^ tag), 2, "utf-16-le")
        return _decode(m, ptr, n, 2, "latin-1")

    return load_latin1_utf16


def _copy(
    cx: LiftLowerContext, encoded: bytes, align: int, code_units: int
) -> tuple[int, int, memoryview]:
    n = len(encoded)
    if n > MAX_STRING_BYTE_LENGTH:
        raise ValueError(f"string of {n} bytes exceeds the maximum of {MAX_STRING_BYTE_LENGTH}")
    ptr, m = cx.alloc(align, n)
    m[ptr : ptr + n] = encoded
    return ptr, code_units, m


@cache
def string_storer(encoding: StringEncoding, ptr_type: PtrType = "i32") -> StringStorer:
    if encoding == "utf8":

        def store_utf8(cx: LiftLowerContext, s: str) -> tuple[int, int, memoryview] | None:
            try:
                b = s.encode("utf-8")
            except UnicodeEncodeError:
                return None
            return _copy(cx, b, 1, len(b))

        return store_utf8
    if encoding == "utf16":

        def store_utf16(cx: LiftLowerContext, s: str) -> tuple[int, int, memoryview] | None:
            try:
                b = s.encode("utf-16-le")
            except UnicodeEncodeError:
                return None
            return _copy(cx, b, 2, len(b) >> 1)

        return store_utf16
    assert encoding == "latin1+utf16", "validation admits three string encodings"
    tag = utf16_tag(ptr_type)

    def store_latin1_utf16(cx: LiftLowerContext, s: str) -> tuple[int, int, memoryview] | None:
        try:
            b = s.encode("latin-1")
        except UnicodeEncodeError:
            try:
                b = s.encode("utf-16-le")
            except UnicodeEncodeError:
                return None
            return _copy(cx, b, 2, (len(b) >> 1) | tag)
        return _copy(cx, b, 2, len(b))

    return store_latin1_utf16
