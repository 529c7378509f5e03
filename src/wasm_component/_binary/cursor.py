"""A bounds-checked cursor over a byte buffer: LEB128 numbers, names, vectors.

Every failure is a :class:`DecodeError` carrying the absolute offset, so callers never see
``IndexError`` or ``UnicodeDecodeError`` from malformed input.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ..errors import DecodeError

T = TypeVar("T")


class Reader:
    """Reads ``buf[pos:end]``; offsets reported are absolute positions in ``buf``."""

    __slots__ = ("buf", "end", "pos")

    def __init__(self, buf: memoryview, pos: int, end: int) -> None:
        self.buf = buf
        self.pos = pos
        self.end = end

    def at_end(self) -> bool:
        return self.pos >= self.end

    def sub(self, size: int) -> Reader:
        """A reader over the next ``size`` bytes; this reader skips past them."""
        if size > self.end - self.pos:
            raise DecodeError("unexpected end of section or function", self.pos)
        r = Reader(self.buf, self.pos, self.pos + size)
        self.pos += size
        return r

    def eof(self) -> DecodeError:
        return DecodeError("unexpected end-of-file", self.pos)

    def peek(self) -> int:
        if self.pos >= self.end:
            raise self.eof()
        return self.buf[self.pos]

    def u8(self) -> int:
        if self.pos >= self.end:
            raise self.eof()
        b = self.buf[self.pos]
        self.pos += 1
        return b

    def bytes(self, n: int) -> bytes:
        if n > self.end - self.pos:
            raise self.eof()
        b = bytes(self.buf[self.pos : self.pos + n])
        self.pos += n
        return b

    def skip(self, n: int) -> None:
        if n > self.end - self.pos:
            raise self.eof()
        self.pos += n

    def _uleb(self, bits: int, what: str) -> int:
        start = self.pos
        buf = self.buf
        end = self.end
        result = 0
        shift = 0
        pos = self.pos
        while True:
            if pos >= end:
                self.pos = pos
                raise self.eof()
            b = buf[pos]
            pos += 1
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
            if shift >= bits:
                raise DecodeError(f"invalid var_{what}: integer representation too long", start)
        self.pos = pos
        if result >> bits:
            raise DecodeError(f"invalid var_{what}: integer too large", start)
        return result

    def u32(self) -> int:
        # Fast path for the common one-byte case.
        pos = self.pos
        if pos < self.end:
            b = self.buf[pos]
            if b < 0x80:
                self.pos = pos + 1
                return b
        return self._uleb(32, "u32")

    def u64(self) -> int:
        return self._uleb(64, "u64")

    def _sleb(self, bits: int) -> int:
        start = self.pos
        result = 0
        shift = 0
        while True:
            b = self.u8()
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
            if shift >= bits:
                raise DecodeError(f"invalid var_s{bits}: integer representation too long", start)
        if b & 0x40:
            result -= 1 << shift
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        if not lo <= result <= hi:
            raise DecodeError(f"invalid var_s{bits}: integer too large", start)
        return result

    def s33(self) -> int:
        return self._sleb(33)

    def s32(self) -> int:
        return self._sleb(32)

    def s64(self) -> int:
        return self._sleb(64)

    def name(self) -> str:
        n = self.u32()
        start = self.pos
        raw = self.bytes(n)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise DecodeError("malformed UTF-8 encoding", start) from None

    def vec(self, item: Callable[[Reader], T]) -> list[T]:
        count_off = self.pos
        n = self.u32()
        if n > self.end - self.pos:
            raise DecodeError("vector length is out of bounds", count_off)
        return [item(self) for _ in range(n)]
