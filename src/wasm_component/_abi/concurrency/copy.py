"""Streams and futures: buffers, the shared state between two ends, and the ends themselves
(CanonicalABI.md "Buffer State", "Stream State", "Future State").

A copy meets in the *shared* object of a stream or future. Whichever end arrives first leaves its
buffer pending there; the second end copies ``min(remain)`` elements between the two buffers at
once and both ends learn the outcome through callbacks (``on_copy`` for progress that leaves the
pending buffer usable, ``on_copy_done`` with a :class:`CopyResult` when it is finished). The
spec's rules are kept to the letter: a zero-length read or write rendezvouses without moving
anything, a write into a zero-length pending read completes it and waits again, dropping one
end reports ``DROPPED`` to a pending copy of the other, and (for now, as the spec says) two ends
in the same instance may only copy ``none``-or-number elements.

Buffers are a protocol, so either side may be the host's: Python values
(:class:`ReadableValuesBuffer`, :class:`WritableValuesBuffer`) or, for ``u8`` elements, raw bytes
(:class:`ReadableBytesBuffer`, :class:`WritableBytesBuffer`). A guest buffer
(:class:`GuestBuffer`) is a range of linear memory read through the :class:`~.context.Memory`
protocol; its elements are moved by an :class:`ElemCodec` the runtime injects (built from the
lift/lower builders by :func:`elem_codec`). Whenever both sides hold the elements as bytes of one
size (numbers in guest memory, host ``bytes``), a copy is one slice assignment, never element by
element.

Example (the host writes ``bytes`` into a stream whose readable end a guest holds)::

    src = ReadableBytesBuffer(b"hello")
    shared.write(None, src, on_copy, on_copy_done)   # pending until the guest reads
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import Any, Protocol

from ... import types as t
from ..context import (
    LiftLowerContext,
    Memory,
    hostcall_fuel_exhausted,
    memory_covering,
    trap,
    trap_if,
)
from ..layout import alignment, elem_size
from .task import AsyncInstanceState
from .waitable import Waitable

__all__ = [
    "MAX_BUFFER_LENGTH",
    "Buffer",
    "CopyEnd",
    "CopyResult",
    "CopyState",
    "ElemCodec",
    "GuestBuffer",
    "OnCopy",
    "OnCopyDone",
    "ReadableBuffer",
    "ReadableBytesBuffer",
    "ReadableFutureEnd",
    "ReadableGuestBuffer",
    "ReadableStreamEnd",
    "ReadableValuesBuffer",
    "SharedFuture",
    "SharedStream",
    "WritableBuffer",
    "WritableBytesBuffer",
    "WritableFutureEnd",
    "WritableGuestBuffer",
    "WritableStreamEnd",
    "WritableValuesBuffer",
    "copy_elements",
    "elem_codec",
    "none_or_number_type",
]

MAX_BUFFER_LENGTH = 2**28 - 1

_NUMBERS = frozenset(("u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64", "f32", "f64"))


def none_or_number_type(vt: t.Type | None) -> bool:
    """The element types two ends of one instance may copy between (the spec's temporary rule)."""
    return vt is None or (isinstance(vt, t.PrimType) and vt.name in _NUMBERS)


class Buffer(Protocol):
    """What a copy needs of either side: its element type, how far it got, how much is left,
    and, for elements that are plain bytes, a view of them (``elem_bytes`` is their size, 0
    when they must be lifted and lowered one by one)."""

    t: t.Type | None
    progress: int

    def remain(self) -> int: ...

    def is_zero_length(self) -> bool: ...

    def elem_bytes(self) -> int: ...

    def bytes_view(self, n: int) -> memoryview:
        """The bytes of the next ``n`` elements (only when ``elem_bytes()``)."""
        ...

    def advance(self, n: int) -> None:
        """Count ``n`` elements as moved through :meth:`bytes_view`."""
        ...


class ReadableBuffer(Buffer, Protocol):
    def read(self, n: int) -> list[Any]: ...


class WritableBuffer(Buffer, Protocol):
    def write(self, vs: Sequence[Any]) -> None: ...


@dataclass(frozen=True, slots=True)
class ElemCodec:
    """How a guest buffer's elements move: ``load(ptr, n)`` lifts ``n`` elements stored from
    ``ptr``, ``store(ptr, values)`` lowers them there (both after the buffer checked the range).
    ``bulk``: the elements are plain numbers, so two guest buffers may exchange raw bytes."""

    size: int
    align: int
    load: Callable[[int, int], list[Any]]
    store: Callable[[int, Sequence[Any]], None]
    bulk: bool = False


def elem_codec(vt: t.Type, cx: LiftLowerContext) -> ElemCodec:
    """The codec for elements of type ``vt`` in ``cx``'s memory, from the generated ``load`` and
    ``store`` of the synchronous ABI (so every element type moves as it does in a list)."""
    from ..lift import build_load
    from ..lower import build_store

    o = cx.opts
    pt = o.ptr_type
    size = elem_size(vt, pt)
    # The elements of one copy are one lift: one hostcall fuel for all of them (the elements
    # themselves charged first, as a list of them would be), the loads charging what is left.
    ld = build_load(vt, o.string_encoding, pt, False)
    st = build_store(vt, o.string_encoding, pt)
    forms = cx.inst.forms

    def load(ptr: int, n: int) -> list[Any]:
        fuel = cx.fuel = forms.hostcall_fuel - n * size
        if fuel < 0:
            hostcall_fuel_exhausted(cx)
        return [ld(cx, ptr + k * size) for k in range(n)]

    def store(ptr: int, vs: Sequence[Any]) -> None:
        for k, v in enumerate(vs):
            st(cx, v, ptr + k * size)

    return ElemCodec(size, alignment(vt, pt), load, store, none_or_number_type(vt))


class GuestBuffer:
    """``length`` elements of linear memory from ``ptr`` (the spec's ``BufferGuestImpl``); a
    ``None`` codec stands for a payload-less ``stream``/``future`` (elements are ``()``)."""

    __slots__ = ("codec", "length", "memory", "progress", "ptr", "t")

    def __init__(
        self,
        vt: t.Type | None,
        memory: Memory | None,
        codec: ElemCodec | None,
        ptr: int,
        length: int,
    ) -> None:
        if length > MAX_BUFFER_LENGTH:
            trap(f"buffer length {length} exceeds the maximum of {MAX_BUFFER_LENGTH}")
        if vt is not None and length > 0:
            assert codec is not None and memory is not None, "validation requires memory"
            if ptr & (codec.align - 1):
                trap(f"buffer pointer {ptr:#x} is not aligned to {codec.align}")
            if memory_covering(memory, ptr + length * codec.size) is None:
                trap(f"buffer [{ptr:#x}, +{length * codec.size}) is out of bounds")
        self.t = vt
        self.memory = memory
        self.codec = codec
        self.ptr = ptr
        self.progress = 0
        self.length = length

    def remain(self) -> int:
        return self.length - self.progress

    def is_zero_length(self) -> bool:
        return self.length == 0

    def elem_bytes(self) -> int:
        codec = self.codec
        return codec.size if codec is not None and codec.bulk else 0

    def bytes_view(self, n: int) -> memoryview:
        codec, memory = self.codec, self.memory
        assert codec is not None and memory is not None and codec.bulk, "number elements"
        return memory.view()[self.ptr : self.ptr + n * codec.size]

    def advance(self, n: int) -> None:
        if self.codec is not None:
            self.ptr += n * self.codec.size
        self.progress += n


class ReadableGuestBuffer(GuestBuffer):
    """A guest buffer a writer copies out of (``stream.write``, ``future.write``)."""

    __slots__ = ()

    def read(self, n: int) -> list[Any]:
        assert n <= self.remain(), "copies never exceed what is left"
        if self.t is not None:
            assert self.codec is not None, "typed buffers have a codec"
            vs = self.codec.load(self.ptr, n)
        else:
            vs = [()] * n
        self.advance(n)
        return vs


class WritableGuestBuffer(GuestBuffer):
    """A guest buffer a reader copies into (``stream.read``, ``future.read``)."""

    __slots__ = ()

    def write(self, vs: Sequence[Any]) -> None:
        assert len(vs) <= self.remain(), "copies never exceed what is left"
        if self.t is not None:
            assert self.codec is not None, "typed buffers have a codec"
            self.codec.store(self.ptr, vs)
        else:
            assert all(v == () for v in vs), "payload-less elements are ()"
        self.advance(len(vs))


class _HostBuffer:
    """Host-side buffers: Python values (the ``Values`` pair) or raw bytes of a
    ``stream<u8>``/``future<u8>`` (the ``Bytes`` pair)."""

    __slots__ = ("length", "progress", "t")

    def __init__(self, vt: t.Type | None, length: int) -> None:
        assert length <= MAX_BUFFER_LENGTH, "host buffers are bounded as guest ones are"
        self.t = vt
        self.length = length
        self.progress = 0

    def remain(self) -> int:
        return self.length - self.progress

    def is_zero_length(self) -> bool:
        return self.length == 0

    def elem_bytes(self) -> int:
        return 0

    def bytes_view(self, n: int) -> memoryview:
        raise AssertionError("only byte buffers have a byte view")

    def advance(self, n: int) -> None:
        self.progress += n


class ReadableValuesBuffer(_HostBuffer):
    """Values the host writes (``values[progress:]`` is what is left)."""

    __slots__ = ("values",)

    def __init__(self, vt: t.Type | None, values: Sequence[Any]) -> None:
        super().__init__(vt, len(values))
        self.values = values

    def read(self, n: int) -> list[Any]:
        assert n <= self.remain(), "copies never exceed what is left"
        p = self.progress
        self.advance(n)
        return list(self.values[p : p + n])


class WritableValuesBuffer(_HostBuffer):
    """Room for up to ``length`` values the host reads (gathered in ``values``)."""

    __slots__ = ("values",)

    def __init__(self, vt: t.Type | None, length: int) -> None:
        super().__init__(vt, length)
        self.values: list[Any] = []

    def write(self, vs: Sequence[Any]) -> None:
        assert len(vs) <= self.remain(), "copies never exceed what is left"
        self.values.extend(vs)
        self.advance(len(vs))


class ReadableBytesBuffer(_HostBuffer):
    """``bytes`` the host writes into a ``stream<u8>`` (moved as slices)."""

    __slots__ = ("data",)

    def __init__(self, data: bytes | bytearray | memoryview) -> None:
        view = memoryview(data).cast("B")
        super().__init__(t.U8, len(view))
        self.data = view

    def elem_bytes(self) -> int:
        return 1

    def bytes_view(self, n: int) -> memoryview:
        return self.data[self.progress : self.progress + n]

    def read(self, n: int) -> list[Any]:
        vs = list(self.bytes_view(n))
        self.advance(n)
        return vs


class WritableBytesBuffer(_HostBuffer):
    """Room for up to ``length`` bytes the host reads from a ``stream<u8>``; ``data`` holds
    what arrived. ``scratch`` (at least ``length`` bytes) is a reader's reusable room, so a
    read allocates nothing but its result."""

    __slots__ = ("_buf",)

    def __init__(self, length: int, scratch: bytearray | None = None) -> None:
        super().__init__(t.U8, length)
        assert scratch is None or len(scratch) >= length, "the reader sizes its scratch"
        self._buf = bytearray(length) if scratch is None else scratch

    @property
    def data(self) -> bytes:
        with memoryview(self._buf) as view:  # (one copy, not a slice and then a copy)
            return bytes(view[: self.progress])

    def elem_bytes(self) -> int:
        return 1

    def bytes_view(self, n: int) -> memoryview:
        return memoryview(self._buf)[self.progress : self.progress + n]

    def write(self, vs: Sequence[Any]) -> None:
        assert len(vs) <= self.remain(), "copies never exceed what is left"
        self.bytes_view(len(vs))[:] = bytes(vs)
        self.advance(len(vs))


def copy_elements(src: ReadableBuffer, dst: WritableBuffer, n: int) -> None:
    """Move ``n`` elements from ``src`` to ``dst``: one byte-slice copy when both hold the
    elements as bytes of one size (numbers in guest memory, host ``bytes``), else lift them
    from one side and lower them into the other. (Slice assignment moves overlapping ranges
    of one memory correctly.)"""
    size = src.elem_bytes()
    if src.t is None and dst.t is None:  # payload-less: only the counts move
        src.advance(n)
        dst.advance(n)
    elif size and size == dst.elem_bytes():
        dst.bytes_view(n)[:] = src.bytes_view(n)
        src.advance(n)
        dst.advance(n)
    else:
        dst.write(src.read(n))


class CopyResult(IntEnum):
    COMPLETED = 0
    DROPPED = 1
    CANCELLED = 2


ReclaimBuffer = Callable[[], None]
OnCopy = Callable[[ReclaimBuffer], None]
OnCopyDone = Callable[[CopyResult], None]


def _no_pending_done(result: CopyResult) -> None:
    raise AssertionError("no copy is pending")


class _Shared:
    """The pending side of a stream or future (one buffer, its owner and callbacks)."""

    __slots__ = (
        "dropped",
        "pending_buffer",
        "pending_inst",
        "pending_on_copy",
        "pending_on_copy_done",
        "t",
    )

    def __init__(self, vt: t.Type | None) -> None:
        self.t = vt
        self.dropped = False
        self.reset_pending()

    def set_pending(
        self,
        inst: AsyncInstanceState | None,
        buffer: Any,
        on_copy: OnCopy | None,
        on_copy_done: OnCopyDone,
    ) -> None:
        self.pending_inst = inst
        self.pending_buffer = buffer
        self.pending_on_copy = on_copy
        self.pending_on_copy_done = on_copy_done

    def reset_pending(self) -> None:
        self.set_pending(None, None, None, _no_pending_done)

    def reset_and_notify_pending(self, result: CopyResult) -> None:
        on_copy_done = self.pending_on_copy_done
        self.reset_pending()
        on_copy_done(result)

    def cancel(self) -> None:
        self.reset_and_notify_pending(CopyResult.CANCELLED)

    def check_same_instance(self, inst: AsyncInstanceState | None) -> None:
        if inst is not None and inst is self.pending_inst and not none_or_number_type(self.t):
            trap(f"both ends of a {self.kind()} of {self.t} are in one instance")

    def drop(self) -> None:
        if not self.dropped:
            self.dropped = True
            # A pending copy of the other end learns ``DROPPED``. Of a future, only the
            # reader can drop while the writer waits (a writable future end drops once done). (The reference's
            # ``assert(isinstance(self.pending_buffer, WritableBuffer))`` fails here, as a
            # guest write buffer is no ``WritableBuffer``; the differential tests note it.)
            if self.pending_buffer is not None:
                self.reset_and_notify_pending(CopyResult.DROPPED)

    def kind(self) -> str:
        raise NotImplementedError


class SharedStream(_Shared):
    """The spec's ``SharedStreamImpl``: what a stream's readable and writable ends share."""

    __slots__ = ()

    def kind(self) -> str:
        return "stream"

    def read(
        self,
        inst: AsyncInstanceState | None,
        dst: WritableBuffer,
        on_copy: OnCopy,
        on_copy_done: OnCopyDone,
    ) -> None:
        self._meet(inst, dst, on_copy, on_copy_done, reading=True)

    def write(
        self,
        inst: AsyncInstanceState | None,
        src: ReadableBuffer,
        on_copy: OnCopy,
        on_copy_done: OnCopyDone,
    ) -> None:
        self._meet(inst, src, on_copy, on_copy_done, reading=False)

    def _meet(
        self,
        inst: AsyncInstanceState | None,
        buffer: Any,
        on_copy: OnCopy,
        on_copy_done: OnCopyDone,
        reading: bool,
    ) -> None:
        """The spec's ``read`` and ``write``, which differ only in the copy's direction and in
        that a zero-length write meeting a zero-length read completes at once."""
        if self.dropped:
            on_copy_done(CopyResult.DROPPED)
            return
        pending = self.pending_buffer
        if pending is None:
            self.set_pending(inst, buffer, on_copy, on_copy_done)
            return
        assert self.t == buffer.t == pending.t, "both ends have the stream's element type"
        self.check_same_instance(inst)
        if pending.remain() > 0:
            if buffer.remain() > 0:
                src, dst = (pending, buffer) if reading else (buffer, pending)
                copy_elements(src, dst, min(src.remain(), dst.remain()))
                pending_on_copy = self.pending_on_copy
                assert pending_on_copy is not None, "a stream copy has on_copy"
                pending_on_copy(self.reset_pending)
            on_copy_done(CopyResult.COMPLETED)
        elif not reading and buffer.is_zero_length() and pending.is_zero_length():
            on_copy_done(CopyResult.COMPLETED)
        else:
            self.reset_and_notify_pending(CopyResult.COMPLETED)
            self.set_pending(inst, buffer, on_copy, on_copy_done)


class SharedFuture(_Shared):
    """The spec's ``SharedFutureImpl``: one value, written once."""

    __slots__ = ()

    def kind(self) -> str:
        return "future"

    def read(
        self, inst: AsyncInstanceState | None, dst: WritableBuffer, on_copy_done: OnCopyDone
    ) -> None:
        assert not self.dropped and dst.remain() == 1, "a future is read once, before it drops"
        self._meet(inst, dst, on_copy_done, reading=True)

    def write(
        self, inst: AsyncInstanceState | None, src: ReadableBuffer, on_copy_done: OnCopyDone
    ) -> None:
        assert src.remain() == 1, "a future is written once"
        if self.dropped:
            on_copy_done(CopyResult.DROPPED)
            return
        self._meet(inst, src, on_copy_done, reading=False)

    def _meet(
        self,
        inst: AsyncInstanceState | None,
        buffer: Any,
        on_copy_done: OnCopyDone,
        reading: bool,
    ) -> None:
        pending = self.pending_buffer
        if pending is None:
            self.set_pending(inst, buffer, None, on_copy_done)
            return
        self.check_same_instance(inst)
        src, dst = (pending, buffer) if reading else (buffer, pending)
        copy_elements(src, dst, 1)
        self.reset_and_notify_pending(CopyResult.COMPLETED)
        on_copy_done(CopyResult.COMPLETED)


class CopyState(Enum):
    IDLE = 1
    COPYING = 2
    CANCELLING_COPY = 3
    DONE = 4


class CopyEnd(Waitable):
    """One end of a stream or future in a handle table."""

    __slots__ = ("shared", "state")

    #: The readable or writable kind, for messages ("readable stream end").
    what = "copy end"
    #: Whether copies through this end read (else they write).
    reads = False

    def __init__(self, shared: SharedStream | SharedFuture) -> None:
        Waitable.__init__(self)
        self.state = CopyState.IDLE
        self.shared = shared

    def copying(self) -> bool:
        return self.state in (CopyState.COPYING, CopyState.CANCELLING_COPY)

    def copy(self, inst: AsyncInstanceState | None, buffer: Any, *callbacks: Any) -> None:
        """Start a copy through the shared state (the spec's ``ReadableStreamEnd.copy`` and
        its three siblings): ``callbacks`` are ``on_copy, on_copy_done`` for a stream,
        ``on_copy_done`` for a future."""
        shared = self.shared
        (shared.read if self.reads else shared.write)(inst, buffer, *callbacks)

    def drop(self) -> None:
        trap_if(self.copying(), "cannot drop a stream or future end while it copies")
        self.shared.drop()
        Waitable.drop(self)


class ReadableStreamEnd(CopyEnd):
    __slots__ = ()
    what = "readable stream end"
    reads = True
    shared: SharedStream


class WritableStreamEnd(CopyEnd):
    __slots__ = ()
    what = "writable stream end"
    reads = False
    shared: SharedStream


class ReadableFutureEnd(CopyEnd):
    __slots__ = ()
    what = "readable future end"
    reads = True
    shared: SharedFuture


class WritableFutureEnd(CopyEnd):
    __slots__ = ()
    what = "writable future end"
    reads = False
    shared: SharedFuture

    def drop(self) -> None:
        trap_if(
            self.state != CopyState.DONE,
            "cannot drop a writable future end before its value was written",
        )
        CopyEnd.drop(self)
