"""Linear memory as the Canonical ABI sees it, and a bytearray-backed memory for tests and tools.

The ABI only needs ``view()``: a writable ``memoryview`` of the current bytes, re-fetched after
anything that may grow memory (a ``realloc`` call). The runtime's wasmtime memory implements the
same protocol over the pointer wasmtime hands out; :class:`BytearrayMemory` implements it over a
``bytearray`` and adds a bump allocator usable as the ``realloc`` option.
"""

from __future__ import annotations

from .context import Memory

__all__ = ["BytearrayMemory", "Memory"]


class BytearrayMemory:
    """A growable memory over a ``bytearray`` with a bump-allocating ``realloc``.

    Growing replaces the ``bytearray`` (so earlier views stay valid but stale, as a wasm memory's
    would after ``memory.grow``).
    """

    __slots__ = ("_view", "data", "grows", "next", "realloc_calls")

    def __init__(self, size: int = 65536, start: int = 8, trace: bool = False) -> None:
        self.data = bytearray(size)
        self._view = memoryview(self.data)
        self.next = start
        self.grows = 0
        self.realloc_calls: list[tuple[int, int, int, int]] | None = [] if trace else None

    def view(self) -> memoryview:
        return self._view

    def grow(self, new_size: int) -> None:
        data = bytearray(new_size)
        data[: len(self.data)] = self.data
        self.data = data
        self._view = memoryview(data)
        self.grows += 1

    def realloc(self, old_ptr: int, old_size: int, align: int, new_size: int) -> int:
        if self.realloc_calls is not None:
            self.realloc_calls.append((old_ptr, old_size, align, new_size))
        if old_ptr and new_size <= old_size:
            return old_ptr
        ptr = -(-self.next // align) * align
        self.next = ptr + new_size
        if self.next > len(self.data):
            self.grow(max(self.next, 2 * len(self.data)))
        if old_ptr:
            self.data[ptr : ptr + old_size] = self.data[old_ptr : old_ptr + old_size]
        return ptr

