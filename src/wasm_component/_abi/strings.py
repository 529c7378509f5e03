"""Strings across the boundary: UTF-8, UTF-16 and ``latin1+utf16`` ("compact UTF-16", whose
length carries a tag bit saying the bytes are UTF-16).

Loading follows the spec's ``load_string_from_range``: length bound, alignment and bounds traps,
then one C-level decode of a memory slice (invalid code units trap). The ``str`` produced is a
:class:`LiftedStr`: a ``str`` in every way (equality, hash, methods; concatenation and slicing
give plain ``str``) that also remembers the spec's "hint" of ``load_string``, the source
encoding and tagged code-unit length, through its class (no per-instance storage).

Storing a plain host ``str`` has the exact content at hand, so it takes the spec's
``store_string_copy`` path for the best encoding: encode once, one ``realloc`` of the exact size,
one slice copy. Storing a :class:`LiftedStr` (a string passed from one component to another)
follows the spec's ``store_string`` exactly: the guest observes the same ``realloc`` calls
(initial worst-case or optimistic allocation, then growing/shrinking reallocations), memory
writes and alignment/bounds traps, in the same order, as in the reference algorithm.
Both directions are specialised per (encoding, pointer type) once: UTF-8 and UTF-16 are
loaded and host strings stored inline by the generated adapters (``lift``/``lower``), using
:func:`decode_string` and :func:`string_too_long` for their traps and errors; the rest goes
through :func:`compact_utf16_loader`, :func:`string_storer` and :func:`lifted_string_storer`.
Values lifted for the host are plain ``str``; values for another component are
instances of :class:`LiftedStr`.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from functools import cache
from typing import ClassVar, Literal, NoReturn

from .context import LiftLowerContext, StringEncoding, trap
from .layout import MAX_STRING_BYTE_LENGTH, PtrType, ptr_size

__all__ = [
    "LiftedStr",
    "StringLoader",
    "StringStorer",
    "compact_utf16_loader",
    "decode_string",
    "lifted_str_class",
    "lifted_string_storer",
    "string_storer",
    "string_too_long",
    "utf16_decode",
    "utf16_encode",
    "utf16_tag",
]

StringLoader = Callable[[memoryview, int, int], str]
"""``(memory view, ptr, tagged code units) -> str``; traps on bad ranges or code units."""

StringStorer = Callable[[LiftLowerContext, str], "tuple[int, int, memoryview] | None"]
"""``(cx, s) -> (ptr, tagged code units, fresh memory view)``, or ``None`` when ``s`` holds a
lone surrogate (not a Unicode scalar value sequence)."""

SimpleEncoding = Literal["utf8", "utf16", "latin1"]


def utf16_tag(ptr_type: PtrType) -> int:
    return 1 << (ptr_size(ptr_type) * 8 - 1)


# -- lifted strings ----------------------------------------------------------------------------


class LiftedStr(str):
    """A ``str`` lifted out of a component, carrying the spec's ``load_string`` hint.

    ``src_encoding`` is the source's ``string-encoding`` option, ``src_simple_encoding`` the
    encoding of the actual bytes (``latin1+utf16`` split into ``latin1`` or ``utf16`` by its
    tag bit) and ``src_tagged_code_units`` the length the guest passed. All are derived from
    the class and the (strictly decoded, hence exactly re-encodable) contents, so an instance
    costs what a ``str`` costs. Use ``str(s)`` to drop the hint.
    """

    __slots__ = ()
    src_encoding: ClassVar[StringEncoding] = "utf8"
    src_simple_encoding: ClassVar[SimpleEncoding] = "utf8"
    src_tag: ClassVar[int] = 0
    """The source memory's UTF-16 tag bit when the source is tagged ``latin1+utf16``, else 0."""

    @property
    def src_code_units(self) -> int:
        """The source length in code units of ``src_simple_encoding`` (untagged)."""
        enc = self.src_simple_encoding
        if enc == "latin1":
            return len(self)
        if enc == "utf16":
            return len(self) if self.isascii() else len(self.encode("utf-16-le")) >> 1
        return len(self) if self.isascii() else len(self.encode("utf-8"))

    @property
    def src_tagged_code_units(self) -> int:
        return self.src_code_units | self.src_tag

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (self.src_encoding, self.src_simple_encoding, self.src_tag, str(self)))


def lifted_str_class(
    encoding: StringEncoding, simple: SimpleEncoding, tag: int = 0
) -> type[LiftedStr]:
    """The :class:`LiftedStr` subclass of strings lifted from ``encoding`` memory whose bytes
    are in ``simple`` (``tag``: the source's UTF-16 tag bit for tagged ``latin1+utf16``)."""
    return _lifted_str_class(encoding, simple, tag)


@cache
def _lifted_str_class(encoding: StringEncoding, simple: SimpleEncoding, tag: int
                      ) -> type[LiftedStr]:
    name = {"utf8": "Utf8", "utf16": "Utf16", "latin1+utf16": "CompactUtf16"}[encoding]
    if encoding == "latin1+utf16":
        name += "Latin1" if simple == "latin1" else f"Utf16Tag{tag.bit_length()}"
    ns = {"__slots__": (), "src_encoding": encoding, "src_simple_encoding": simple,
          "src_tag": tag, "__module__": __name__, "__qualname__": f"LiftedStr.{name}"}
    return type(f"LiftedStr.{name}", (LiftedStr,), ns)


def _rebuild(encoding: StringEncoding, simple: SimpleEncoding, tag: int, s: str) -> LiftedStr:
    r: LiftedStr = str.__new__(lifted_str_class(encoding, simple, tag), s)
    return r


# -- loading -----------------------------------------------------------------------------------


utf16_decode = _utf16_decode = codecs.utf_16_le_decode
utf16_encode = _utf16_encode = codecs.utf_16_le_encode


def decode_string(m: memoryview, ptr: int, byte_length: int, align: int, encoding: str
                  ) -> str:
    """Decode a guest string, trapping on a bad range or bad code units."""
    if byte_length > MAX_STRING_BYTE_LENGTH or ptr & (align - 1) or ptr + byte_length > len(m):
        if byte_length > MAX_STRING_BYTE_LENGTH:
            trap(f"string byte length {byte_length} exceeds the maximum "
                 f"{MAX_STRING_BYTE_LENGTH}")
        if ptr & (align - 1):
            trap(f"misaligned string pointer {ptr:#x}")
        trap(f"string [{ptr:#x}, +{byte_length}) out of bounds")
    try:
        if encoding == "utf-16-le":  # ``str()`` has fast paths for UTF-8 and Latin-1 only
            return _utf16_decode(m[ptr : ptr + byte_length], None, True)[0]
        return str(m[ptr : ptr + byte_length], encoding)
    except UnicodeDecodeError:
        trap(f"invalid {encoding} string at {ptr:#x}")


_new_str = str.__new__


@cache
def compact_utf16_loader(ptr_type: PtrType = "i32", host: bool = False) -> StringLoader:
    r"""The loader of Latin-1+UTF-16 strings (UTF-8 and UTF-16 ones are loaded inline by the
    generated lifting code). ``host``: plain ``str``; else :class:`LiftedStr`\ s, which keep
    the source encoding for transcoding into another component.

    (A subclass instance is made from the decoded ``str``, a copy costing about a quarter of
    the decode on large strings and ~0.15 µs on small ones; decoding straight into the
    subclass takes a slow generic path in CPython.)"""
    tag = utf16_tag(ptr_type)
    cls_l: type[str] = str if host else lifted_str_class("latin1+utf16", "latin1")
    cls_u: type[str] = str if host else lifted_str_class("latin1+utf16", "utf16", tag)

    def load_latin1_utf16(m: memoryview, ptr: int, n: int) -> str:
        s: str
        if n & tag:
            s = _new_str(cls_u, decode_string(m, ptr, 2 * (n ^ tag), 2, "utf-16-le"))
        else:
            s = _new_str(cls_l, decode_string(m, ptr, n, 2, "latin-1"))
        return s

    return load_latin1_utf16


# -- storing host strings ----------------------------------------------------------------------


def string_too_long(n: int) -> NoReturn:
    raise ValueError(f"string of {n} bytes exceeds the maximum of {MAX_STRING_BYTE_LENGTH}")


def _copy(
    cx: LiftLowerContext, encoded: bytes, align: int, code_units: int
) -> tuple[int, int, memoryview]:
    n = len(encoded)
    if n > MAX_STRING_BYTE_LENGTH:
        string_too_long(n)
    ptr, m = cx.alloc(align, n)
    m[ptr : ptr + n] = encoded
    return ptr, code_units, m


@cache
def string_storer(encoding: StringEncoding, ptr_type: PtrType = "i32") -> StringStorer:
    """The storer of host strings (exact-size ``store_string_copy``) into ``encoding``."""
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
                b = _utf16_encode(s)[0]
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
                b = _utf16_encode(s)[0]
            except UnicodeEncodeError:
                return None
            return _copy(cx, b, 2, (len(b) >> 1) | tag)
        return _copy(cx, b, 2, len(b))

    return store_latin1_utf16


# -- storing lifted strings: the spec's store_string, step by step -----------------------------

Stored = tuple[int, int, memoryview]
_NON_ASCII = re.compile(b"[\x80-\xff]")


def _checked(cx: LiftLowerContext, ptr: int, align: int, size: int) -> memoryview:
    """The spec's ``trap_if``\\ s after each ``realloc``: alignment (when ``align`` > 1), then
    bounds; returns the fresh memory view."""
    m = cx.view()
    if ptr & (align - 1):
        trap(f"realloc returned unaligned pointer {ptr:#x} (alignment {align})")
    if ptr + size > len(m) and ptr + size > len(m := cx.current()):
        trap(f"realloc returned out-of-bounds range [{ptr:#x}, +{size})")
    return m


def store_string_copy(
    cx: LiftLowerContext, src: str, src_code_units: int, dst_code_unit_size: int,
    dst_alignment: int, dst_encoding: str,
) -> Stored:
    n = dst_code_unit_size * src_code_units
    ptr = cx.allocate(dst_alignment, n)
    m = _checked(cx, ptr, dst_alignment, n)
    encoded = src.encode(dst_encoding)
    assert len(encoded) == n, "the hint matches the contents"
    m[ptr : ptr + n] = encoded
    return ptr, src_code_units, m


def store_string_to_utf8(
    cx: LiftLowerContext, src: str, src_code_units: int, worst_case_size: int
) -> Stored:
    """``store_utf16_to_utf8`` / ``store_latin1_to_utf8``: optimistic 1 byte per code unit,
    then (at the first non-ASCII code point) grow to the worst case and shrink to fit."""
    ptr = cx.allocate(1, src_code_units)
    m = _checked(cx, ptr, 1, src_code_units)
    if src.isascii():
        m[ptr : ptr + src_code_units] = src.encode("ascii")
        return ptr, src_code_units, m
    encoded = src.encode("utf-8")
    found = _NON_ASCII.search(encoded)
    assert found is not None, "a non-ASCII string has a non-ASCII UTF-8 byte"
    i = found.start()  # the ASCII prefix: one byte per code point, written before growing
    m[ptr : ptr + i] = encoded[:i]
    ptr = cx.reallocate(ptr, src_code_units, 1, worst_case_size)
    m = _checked(cx, ptr, 1, worst_case_size)
    n = len(encoded)
    m[ptr + i : ptr + n] = encoded[i:]
    if worst_case_size > n:
        ptr = cx.reallocate(ptr, worst_case_size, 1, n)
        m = _checked(cx, ptr, 1, n)
    return ptr, n, m


def store_utf8_to_utf16(cx: LiftLowerContext, src: str, src_code_units: int) -> Stored:
    worst_case_size = 2 * src_code_units
    ptr = cx.allocate(2, worst_case_size)
    m = _checked(cx, ptr, 2, worst_case_size)
    encoded = src.encode("utf-16-le")
    n = len(encoded)
    m[ptr : ptr + n] = encoded
    if n < worst_case_size:
        ptr = cx.reallocate(ptr, worst_case_size, 2, n)
        m = _checked(cx, ptr, 2, n)
    return ptr, n >> 1, m


def store_string_to_latin1_or_utf16(
    cx: LiftLowerContext, src: str, src_code_units: int, tag: int
) -> Stored:
    """Speculate Latin-1; at the first code point outside it, grow to the worst case, inflate
    the Latin-1 prefix in place (as the reallocated memory holds it) and shrink to fit."""
    ptr = cx.allocate(2, src_code_units)
    m = _checked(cx, ptr, 2, src_code_units)
    try:
        latin1 = src.encode("latin-1")
    except UnicodeEncodeError as e:
        k = e.start  # code points before it are Latin-1, one byte each
    else:
        k = len(latin1)
        m[ptr : ptr + k] = latin1
        if k < src_code_units:
            ptr = cx.reallocate(ptr, src_code_units, 2, k)
            m = _checked(cx, ptr, 2, k)
        return ptr, k, m
    m[ptr : ptr + k] = src[:k].encode("latin-1")
    worst_case_size = 2 * src_code_units
    ptr = cx.reallocate(ptr, src_code_units, 2, worst_case_size)
    m = _checked(cx, ptr, 2, worst_case_size)
    m[ptr : ptr + 2 * k] = str(m[ptr : ptr + k], "latin-1").encode("utf-16-le")
    encoded = src.encode("utf-16-le")
    n = len(encoded)
    m[ptr + 2 * k : ptr + n] = encoded[2 * k :]
    if worst_case_size > n:
        ptr = cx.reallocate(ptr, worst_case_size, 2, n)
        m = _checked(cx, ptr, 2, n)
    return ptr, (n >> 1) | tag, m


def store_probably_utf16_to_latin1_or_utf16(
    cx: LiftLowerContext, src: str, src_code_units: int, tag: int
) -> Stored:
    """Pessimistic UTF-16 allocation; deflate in place to Latin-1 when all code points fit
    (the upper half keeps the tail of the UTF-16 bytes, as in the spec) and shrink."""
    src_byte_length = 2 * src_code_units
    ptr = cx.allocate(2, src_byte_length)
    m = _checked(cx, ptr, 2, src_byte_length)
    encoded = src.encode("utf-16-le")
    n = len(encoded)
    m[ptr : ptr + n] = encoded
    try:
        latin1 = src.encode("latin-1")
    except UnicodeEncodeError:
        return ptr, (n >> 1) | tag, m
    k = len(latin1)
    m[ptr : ptr + k] = latin1
    ptr = cx.reallocate(ptr, src_byte_length, 1, k)
    m = _checked(cx, ptr, 1, k)
    return ptr, k, m


LiftedStorer = Callable[[LiftLowerContext, LiftedStr], Stored]


@cache
def lifted_string_storer(encoding: StringEncoding, ptr_type: PtrType = "i32") -> LiftedStorer:
    """The spec's ``store_string_into_range`` into ``encoding`` memory for a lifted string: the
    case analysis on (source simple encoding, destination encoding).

    The source's latin1/utf16 split uses the source's own tag bit (the spec tests the
    destination's, which differs only between 32- and 64-bit memories, where its literal
    reading would treat a tagged 64-bit length as an oversized Latin-1 one)."""
    tag = utf16_tag(ptr_type)

    def store_lifted(cx: LiftLowerContext, s: LiftedStr) -> Stored:
        simple = s.src_simple_encoding
        cu = s.src_code_units
        if encoding == "utf8":
            if simple == "utf8":
                return store_string_copy(cx, s, cu, 1, 1, "utf-8")
            return store_string_to_utf8(cx, s, cu, cu * (3 if simple == "utf16" else 2))
        if encoding == "utf16":
            if simple == "utf8":
                return store_utf8_to_utf16(cx, s, cu)
            return store_string_copy(cx, s, cu, 2, 2, "utf-16-le")
        if s.src_encoding != "latin1+utf16":
            return store_string_to_latin1_or_utf16(cx, s, cu, tag)
        if simple == "latin1":
            return store_string_copy(cx, s, cu, 1, 2, "latin-1")
        return store_probably_utf16_to_latin1_or_utf16(cx, s, cu, tag)

    return store_lifted
