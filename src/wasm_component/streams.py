"""Streams, futures and error contexts as the host sees them (component-model async).

A ``stream<T>`` or ``future<T>`` value *is* its readable end. The host gets one as a
:class:`StreamReader` / :class:`FutureReader` when a guest passes it out (an export's result, a
host import's argument), and makes its own pairs with :func:`stream` and :func:`future`, keeping
the writer and passing the reader into a guest. ``stream<u8>`` ends are
:class:`ByteStreamReader` / :class:`ByteStreamWriter`, which move ``bytes`` (and any buffer, such
as a ``memoryview``) by slice copies, never element by element.

There is no buffering in between: as in the spec, a copy is a rendezvous of one reader and one
writer in the stream's shared state (:class:`~._abi.concurrency.copy.SharedStream`). ``await
writer.write(data)`` returns once readers took all of ``data``, so a slow reader holds the
writer back; ``await reader.read(n)`` returns as soon as something arrived (up to ``n``
elements). Cancelling the asyncio task of a pending read or write cancels the copy; what a read
had received by then is kept for the next read.

Example (host to host, which is also how a guest sees a host end)::

    reader, writer = stream(types.U8)

    async def produce() -> None:
        async with writer:
            await writer.write(b"hello ")
            await writer.write(memoryview(b"world"))

    async def consume() -> bytes:
        return await reader.read_all()

    # asyncio.gather(produce(), consume()) -> [None, b"hello world"]

Futures: ``fr, fw = future(types.U32)``; ``fw.write(7)``; ``await fr == 7``. A writer closed
(or garbage collected) without a value writes the default (``future(t, default=...)``, else the
type's default value), so a guest reading it never sees a broken future.

``ErrorContext`` is the runtime's own error-context value: ``ErrorContext("message")`` makes one
for a guest, ``.debug_message`` reads a guest's.

The runtime wraps and unwraps ends with :func:`lift_stream_end`, :func:`lift_future_end` and
:func:`lower_stream_end` and :func:`lower_future_end` (see ``docs/design/async-api.md``).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Generator, Sequence
from typing import Any, Generic, TypeVar

from . import types as t
from ._abi.concurrency.copy import (
    MAX_BUFFER_LENGTH,
    CopyResult,
    ReadableBytesBuffer,
    ReadableValuesBuffer,
    SharedFuture,
    SharedStream,
    WritableBytesBuffer,
    WritableValuesBuffer,
)
from ._abi.handles import ErrorContext
from ._abi.lower import values_check

__all__ = [
    "DEFAULT_CHUNK",
    "ByteStreamReader",
    "ByteStreamWriter",
    "ErrorContext",
    "FutureReader",
    "FutureWriter",
    "Notify",
    "StreamReader",
    "StreamWriter",
    "future",
    "lift_future_end",
    "lift_stream_end",
    "lower_end",
    "lower_future_end",
    "lower_stream_end",
    "stream",
]

T = TypeVar("T")
_E = TypeVar("_E", bound="_End")

#: What the runtime passes to be told that host activity may have made a parked guest ready.
Notify = Callable[[], None]

#: How many elements a :meth:`StreamReader.read` (and each step of ``async for``) asks for.
DEFAULT_CHUNK = 64 * 1024

_OPEN, _CLOSED, _MOVED = "open", "closed", "moved into a guest"


class _Link:
    """What the host's two ends of one stream or future share: the runtime's ``notify``, set
    when one of them is lowered into a guest."""

    __slots__ = ("notify",)

    def __init__(self, notify: Notify | None) -> None:
        self.notify = notify

    def changed(self) -> None:
        notify = self.notify
        if notify is not None:
            notify()


def _wake(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class _Copy:
    """One host copy in flight: the shared state's ``on_copy``/``on_copy_done`` callbacks, as a
    signal a coroutine awaits. They may run inside a guest's built-in, on another OS thread than
    the loop's; then the signal crosses with ``call_soon_threadsafe``."""

    __slots__ = ("fut", "loop", "result", "thread")

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.thread = threading.get_ident()
        self.fut: asyncio.Future[None] | None = None
        self.result: CopyResult | None = None

    def arm(self) -> asyncio.Future[None]:
        """A fresh future the next callback resolves (armed *before* checking the state, so no
        callback between the check and the wait is lost)."""
        fut = self.fut = self.loop.create_future()
        return fut

    def on_copy(self, reclaim_buffer: Callable[[], None]) -> None:
        # The buffer stays pending (later copies may top it up); the coroutine reclaims it when
        # it resumes, as a guest reclaims its buffer when the event is delivered.
        self._signal()

    def on_copy_done(self, result: CopyResult) -> None:
        self.result = result
        self._signal()

    def _signal(self) -> None:
        fut = self.fut
        if fut is None:
            return
        if threading.get_ident() == self.thread:
            _wake(fut)
        else:
            self.loop.call_soon_threadsafe(_wake, fut)


class _End:
    """What every host end has: its shared state, the link to the runtime, open/closed/moved."""

    __slots__ = ("__weakref__", "_link", "_shared", "_state")

    _kind = "end"

    def __init__(self, shared: SharedStream | SharedFuture, link: _Link) -> None:
        self._shared = shared
        self._link = link
        self._state = _OPEN

    def _check_open(self, api: str) -> None:
        if self._state is not _OPEN:
            raise ValueError(f"`{type(self).__name__}.{api}`: the {self._kind} is {self._state}")

    @property
    def closed(self) -> bool:
        """Whether this end was closed or moved into a guest (it cannot be used any more)."""
        return self._state is not _OPEN

    def __del__(self) -> None:
        if getattr(self, "_state", None) is _OPEN:
            self._drop()

    def _drop(self) -> None:
        raise NotImplementedError


class _StreamEnd(_End):
    """A host stream end: at most one copy in flight (``_buf``)."""

    __slots__ = ("_buf", "_busy")

    _shared: SharedStream

    def __init__(self, shared: SharedStream, link: _Link) -> None:
        super().__init__(shared, link)
        self._buf: Any = None
        self._busy = False

    @property
    def type(self) -> t.StreamType:
        """The stream's type (``stream<T>``)."""
        return t.StreamType(self._shared.t)

    def _begin(self, api: str) -> None:
        self._check_open(api)
        if self._busy:
            raise RuntimeError(f"`{type(self).__name__}.{api}`: another {api} of this stream is "
                               "in progress")
        self._busy = True

    async def _copy(self, buf: Any) -> CopyResult | None:
        """Offer ``buf`` to the shared state and wait until the copy is done, or (for a non-empty
        buffer) until something moved. ``None``: elements moved and the buffer was reclaimed."""
        shared, reads = self._shared, isinstance(self, StreamReader)
        op = _Copy()
        self._buf = buf
        if reads:
            shared.read(None, buf, op.on_copy, op.on_copy_done)
        else:
            shared.write(None, buf, op.on_copy, op.on_copy_done)
        self._link.changed()
        zero = buf.is_zero_length()
        try:
            while True:
                fut = op.arm()
                moved = buf.progress > 0 if reads else buf.remain() == 0
                if op.result is not None or (moved and not zero):
                    break
                await fut
        except BaseException:  # cancelled (or interrupted): the copy is cancelled too
            if shared.pending_buffer is buf:
                shared.cancel()
                self._link.changed()
            raise
        finally:
            self._buf = None
        if shared.pending_buffer is buf:  # reclaim it: the spec's ``reclaim_buffer``
            shared.reset_pending()
        return op.result

    def _drop(self) -> None:
        self._state = _CLOSED
        shared = self._shared
        buf = self._buf
        if buf is not None and shared.pending_buffer is buf:
            shared.cancel()  # our own copy in flight ends CANCELLED, not DROPPED
        shared.drop()
        self._link.changed()

    def close(self) -> None:
        """Drop this end (a copy in flight is cancelled first). The other side learns
        ``DROPPED``: a reader sees the end of the stream, a writer a ``BrokenPipeError``.
        Closing twice is harmless; garbage collection closes an open end."""
        if self._state is _OPEN:
            self._drop()

    async def __aenter__(self) -> Any:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


class StreamReader(_StreamEnd, Generic[T]):
    """The readable end of a ``stream<T>``: ``await read(n)``, or ``async for chunk in reader``
    until the writer closes. Chunks are lists (``bytes`` for :class:`ByteStreamReader`)."""

    __slots__ = ("_eof", "_leftover")

    _kind = "stream reader"

    def __init__(self, shared: SharedStream, link: _Link) -> None:
        super().__init__(shared, link)
        self._eof = False
        self._leftover: Any = None  # what a cancelled read had received

    def _buffer(self, n: int) -> Any:
        return WritableValuesBuffer(self._shared.t, n)

    def _chunk(self, buf: Any) -> Any:
        # (a payload-less stream's copies move counts only)
        return buf.values if self._shared.t is not None else [()] * buf.progress

    def _empty(self) -> Any:
        return []

    async def read(self, n: int = DEFAULT_CHUNK) -> Sequence[T]:
        """Up to ``n`` elements, as soon as at least one arrived; empty at the end of the stream
        (see :meth:`at_eof`). ``read(0)`` is the spec's zero-length read: it returns (empty)
        once a writer is waiting with data, or the writer closed."""
        self._begin("read")
        try:
            if n < 0:
                raise ValueError(f"`StreamReader.read`: expected a count >= 0, got {n}")
            left = self._leftover
            if left is not None:
                self._leftover = left[n:] or None
                return left[:n]  # type: ignore[no-any-return]
            if self._eof:
                return self._empty()  # type: ignore[no-any-return]
            buf = self._buffer(min(n, MAX_BUFFER_LENGTH))
            try:
                result = await self._copy(buf)
            except BaseException:
                if buf.progress:
                    self._leftover = self._chunk(buf)
                raise
            if result == CopyResult.DROPPED:
                self._eof = True
            return self._chunk(buf)  # type: ignore[no-any-return]
        finally:
            self._busy = False

    def at_eof(self) -> bool:
        """Whether the writer closed and everything it wrote was read."""
        return self._eof and self._leftover is None

    async def read_all(self) -> Sequence[T]:
        """Everything until the writer closes."""
        parts = []
        while not self.at_eof():
            parts.append(await self.read())
        return self._join(parts)  # type: ignore[no-any-return]

    def _join(self, parts: list[Any]) -> Any:
        return [v for p in parts for v in p]

    def __aiter__(self) -> StreamReader[T]:
        return self

    async def __anext__(self) -> Sequence[T]:
        while True:
            if self.at_eof() or self._state is not _OPEN:
                raise StopAsyncIteration
            chunk = await self.read()
            if len(chunk):
                return chunk

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self.type.wit()} ({self._state})>"


class ByteStreamReader(StreamReader[int]):
    """The readable end of a ``stream<u8>``: chunks are ``bytes``."""

    __slots__ = ("_scratch",)

    def __init__(self, shared: SharedStream, link: _Link) -> None:
        super().__init__(shared, link)
        self._scratch = bytearray()

    def _buffer(self, n: int) -> Any:
        if len(self._scratch) < n:  # grown once to the largest read (never shrunk)
            self._scratch = bytearray(n)
        return WritableBytesBuffer(n, self._scratch)

    def _chunk(self, buf: Any) -> Any:
        return buf.data

    def _empty(self) -> Any:
        return b""

    def _join(self, parts: list[Any]) -> Any:
        return b"".join(parts)

    async def read(self, n: int = DEFAULT_CHUNK) -> bytes:
        return await super().read(n)  # type: ignore[return-value]

    async def read_all(self) -> bytes:
        return await super().read_all()  # type: ignore[return-value]

    def __aiter__(self) -> ByteStreamReader:
        return self

    async def __anext__(self) -> bytes:
        return await super().__anext__()  # type: ignore[return-value]


class StreamWriter(_StreamEnd, Generic[T]):
    """The writable end of a ``stream<T>``: ``await write(values)``, then :meth:`close`."""

    __slots__ = ()

    _kind = "stream writer"

    def _source(self, values: Any) -> Any:
        """``values`` as a host buffer (``TypeError`` for what cannot be the stream's elements)."""
        vt = self._shared.t
        if not isinstance(values, Sequence) or isinstance(values, (str, bytes, bytearray)):
            raise TypeError(f"`StreamWriter.write`: expected a sequence of {vt}, got "
                            f"{type(values).__name__}")
        if vt is None:
            if any(v != () for v in values):
                raise TypeError("`StreamWriter.write`: a payload-less stream's elements are ()")
        else:
            _check_values(vt, values, True, "StreamWriter.write")
        return ReadableValuesBuffer(vt, values)

    async def write(self, values: Sequence[T]) -> None:
        """Write all of ``values``, waiting for readers to take them. ``BrokenPipeError`` if the
        reader is dropped first (or this writer is closed meanwhile). An empty ``values`` is the
        spec's zero-length write (see :meth:`wait_ready`)."""
        self._begin("write")
        try:
            if not hasattr(values, "__len__") or len(values) <= MAX_BUFFER_LENGTH:
                sources = [self._source(values)]
            else:  # one host buffer holds at most what a guest buffer may
                sources = [self._source(values[k : k + MAX_BUFFER_LENGTH])
                           for k in range(0, len(values), MAX_BUFFER_LENGTH)]
            done = 0
            for src in sources:
                while True:
                    result = await self._copy(src)
                    if result in (CopyResult.DROPPED, CopyResult.CANCELLED):
                        how = ("the reader was dropped" if result == CopyResult.DROPPED
                               else "the writer was closed")
                        raise BrokenPipeError(f"`StreamWriter.write`: {how} after "
                                              f"{done + src.progress} of {len(values)} elements")
                    if src.remain() == 0:
                        break
                done += src.length
        finally:
            self._busy = False

    async def wait_ready(self) -> bool:
        """Wait until a reader waits for data (a zero-length write); ``False`` if the reader is
        gone."""
        self._begin("wait_ready")
        try:
            return await self._copy(self._source(self._zero())) != CopyResult.DROPPED
        finally:
            self._busy = False

    def _zero(self) -> Any:
        return ()

    def reader_dropped(self) -> bool:
        """Whether the readable end was dropped (writes would raise ``BrokenPipeError``)."""
        return self._shared.dropped

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self.type.wit()} ({self._state})>"


class ByteStreamWriter(StreamWriter[int]):
    """The writable end of a ``stream<u8>``: writes ``bytes``, ``bytearray``, ``memoryview`` (any
    buffer) by slice copies; a sequence of ints is converted with ``bytes()`` first."""

    __slots__ = ()

    def _source(self, values: Any) -> Any:
        if isinstance(values, (bytes, bytearray, memoryview)):
            return ReadableBytesBuffer(values)
        try:
            return ReadableBytesBuffer(memoryview(values))
        except TypeError:
            pass
        try:
            return ReadableBytesBuffer(bytes(values))
        except (TypeError, ValueError) as e:
            raise TypeError(f"`ByteStreamWriter.write`: expected bytes, got "
                            f"{type(values).__name__} ({e})") from None

    async def write(self, values: bytes | bytearray | memoryview | Sequence[int]) -> None:
        if isinstance(values, memoryview):
            values = values.cast("B") if values.format != "B" or values.ndim != 1 else values
        await super().write(values)

    def _zero(self) -> Any:
        return b""


class FutureReader(_End, Generic[T]):
    """The readable end of a ``future<T>``: ``await reader`` (or ``await reader.read()``) gives
    the value once the writer wrote it; awaiting again gives it again."""

    __slots__ = ("_busy", "_has_value", "_value")

    _kind = "future reader"
    _shared: SharedFuture

    def __init__(self, shared: SharedFuture, link: _Link) -> None:
        super().__init__(shared, link)
        self._has_value = False
        self._value: Any = None
        self._busy = False

    @property
    def type(self) -> t.FutureType:
        return t.FutureType(self._shared.t)

    def done(self) -> bool:
        """Whether the value arrived (awaiting returns it at once)."""
        return self._has_value

    async def read(self) -> T:
        if self._has_value:
            return self._value  # type: ignore[no-any-return]
        self._check_open("read")
        if self._busy:
            raise RuntimeError("`FutureReader.read`: another read of this future is in progress")
        self._busy = True
        shared = self._shared
        buf = WritableValuesBuffer(shared.t, 1)
        op = _Copy()
        try:
            shared.read(None, buf, op.on_copy_done)
            self._link.changed()
            while True:
                fut = op.arm()
                if op.result is not None:
                    break
                await fut
        except BaseException:
            if shared.pending_buffer is buf:
                shared.cancel()
                self._link.changed()
            raise
        finally:
            self._busy = False
        if op.result != CopyResult.COMPLETED:
            raise BrokenPipeError(f"`FutureReader.read`: the future ended {op.result.name} "
                                  "without a value")
        self._value = None if shared.t is None else buf.values[0]
        self._has_value = True
        return self._value  # type: ignore[no-any-return]

    def __await__(self) -> Generator[Any, None, T]:
        return self.read().__await__()

    def _drop(self) -> None:
        self._state = _CLOSED
        self._shared.drop()
        self._link.changed()

    def close(self) -> None:
        """Drop this end (a pending guest write learns ``DROPPED``)."""
        if self._state is _OPEN:
            if self._busy:
                raise RuntimeError("`FutureReader.close`: a read is in progress (cancel it)")
            self._drop()

    def __repr__(self) -> str:
        state = "done" if self._has_value else self._state
        return f"<FutureReader of {self.type.wit()} ({state})>"


class FutureWriter(_End, Generic[T]):
    """The writable end of a ``future<T>``: :meth:`write` the value once."""

    __slots__ = ("_default", "_written")

    _kind = "future writer"
    _shared: SharedFuture

    def __init__(self, shared: SharedFuture, link: _Link, default: Callable[[], Any]) -> None:
        super().__init__(shared, link)
        self._default = default
        self._written = False

    @property
    def type(self) -> t.FutureType:
        return t.FutureType(self._shared.t)

    def write(self, value: T) -> None:
        """Give the future its value; the reader takes it when it reads (this does not wait).
        ``BrokenPipeError`` if the reader is already gone; a writer is written once."""
        self._check_open("write")
        if self._shared.dropped:
            self._written, self._state = True, _CLOSED
            raise BrokenPipeError("`FutureWriter.write`: the reader was dropped")
        self._put(value)

    def _put(self, value: Any) -> None:
        shared = self._shared
        vt = shared.t
        if vt is None:
            if value not in ((), None):
                raise TypeError(f"`FutureWriter.write`: a payload-less future's value is None, "
                                f"got {value!r}")
        else:
            _check_values(vt, value, False, "FutureWriter.write")
        self._written, self._state = True, _CLOSED

        def on_copy_done(result: CopyResult) -> None:
            if result == CopyResult.COMPLETED:
                shared.drop()  # done: the writable end goes, as a guest's would

        shared.write(None, ReadableValuesBuffer(vt, [() if vt is None else value]), on_copy_done)
        self._link.changed()

    def _drop(self) -> None:
        if not self._written:
            self._put(self._default())
        self._state = _CLOSED

    def close(self) -> None:
        """Done with this writer: if no value was written, the default is (the reader never sees
        a broken future). Garbage collection does the same."""
        if self._state is _OPEN:
            self._drop()

    def __repr__(self) -> str:
        return f"<FutureWriter of {self.type.wit()} ({'written' if self._written else 'open'})>"


def _check_values(vt: t.Type, values: Any, many: bool, api: str) -> None:
    """``TypeError`` (``ValueError`` out of range) naming ``api`` unless ``values`` (``many``:
    a sequence of them) are of type ``vt`` (a type holding handles is checked when a guest
    takes them)."""
    check = values_check(vt, many)
    if check is not None:
        try:
            check(values)
        except (TypeError, ValueError, OverflowError) as e:
            raise type(e)(f"`{api}`: {e}") from None


def stream(payload: t.Type | None) -> tuple[StreamReader[Any], StreamWriter[Any]]:
    """A new ``stream<payload>`` (``None``: the payload-less ``stream``), as ``(reader,
    writer)``. For ``types.U8`` they are a :class:`ByteStreamReader` and a
    :class:`ByteStreamWriter`."""
    if payload is not None and not isinstance(payload, t.Type):
        raise TypeError(f"`stream`: expected a component type or None, got {payload!r}")
    shared = SharedStream(payload)
    link = _Link(None)
    if payload == t.U8:
        return ByteStreamReader(shared, link), ByteStreamWriter(shared, link)
    return StreamReader(shared, link), StreamWriter(shared, link)


def future(payload: t.Type | None, default: Callable[[], Any] | None = None
           ) -> tuple[FutureReader[Any], FutureWriter[Any]]:
    """A new ``future<payload>`` as ``(reader, writer)``. ``default()`` is the value written
    when the writer is closed unwritten; without it the type's default value
    (``linker.default_value``) is used, and a type without one (a resource, a stream) needs an
    explicit ``default`` (``ValueError``)."""
    if payload is not None and not isinstance(payload, t.Type):
        raise TypeError(f"`future`: expected a component type or None, got {payload!r}")
    if default is None:
        value = None if payload is None else _default_value(payload)
        default = lambda: value  # noqa: E731
    elif not callable(default):
        raise TypeError(f"`future`: expected a callable default, got {default!r}")
    shared = SharedFuture(payload)
    link = _Link(None)
    return FutureReader(shared, link), FutureWriter(shared, link, default)


def _default_value(payload: t.Type) -> Any:
    from .errors import LinkError
    from .linker import default_value  # the linker loads the runtime: only when needed

    try:
        return default_value(payload, "future")
    except LinkError:
        raise ValueError(f"`future`: {payload.wit()} has no default value, which a writer "
                         "closed unwritten must write; pass `default=`") from None


# -- the runtime's hooks ---------------------------------------------------------------------


def lift_stream_end(shared: SharedStream, notify: Notify | None) -> StreamReader[Any]:
    """The host's reader of a stream a guest passed out (its readable end, already taken out of
    the guest's table by ``builtins.lift_stream``)."""
    link = _Link(notify)
    return (ByteStreamReader if shared.t == t.U8 else StreamReader)(shared, link)


def lift_future_end(shared: SharedFuture, notify: Notify | None) -> FutureReader[Any]:
    return FutureReader(shared, _Link(notify))


def lower_end(value: object, ty: t.StreamType | t.FutureType, notify: Notify | None
              ) -> SharedStream | SharedFuture:
    """:func:`lower_stream_end` or :func:`lower_future_end`, by ``ty`` (the runtime's hook)."""
    if isinstance(ty, t.StreamType):
        return lower_stream_end(value, ty, notify)
    return lower_future_end(value, ty, notify)


def lower_stream_end(value: object, ty: t.StreamType, notify: Notify | None) -> SharedStream:
    """The shared state of host reader ``value`` passed into a guest as a ``ty`` (the runtime
    gives it to ``builtins.lower_stream``). The reader is moved: the Python object cannot be used
    afterwards. ``TypeError`` for anything but a reader of exactly ``ty``; ``ValueError`` for one
    that is closed, moved, busy, or holding data the host read."""
    r = _movable(value, ty, StreamReader)
    assert isinstance(r, StreamReader), "checked by _movable"
    if r._leftover is not None:
        raise ValueError("`StreamReader`: cannot pass a reader holding data it read")
    return _move(r, notify)._shared


def lower_future_end(value: object, ty: t.FutureType, notify: Notify | None) -> SharedFuture:
    """As :func:`lower_stream_end`, for a ``future`` (one whose value the host read cannot be
    passed on)."""
    r = _movable(value, ty, FutureReader)
    assert isinstance(r, FutureReader), "checked by _movable"
    if r._has_value:
        raise ValueError("`FutureReader`: cannot pass a future whose value the host read")
    return _move(r, notify)._shared


def _movable(value: object, ty: t.StreamType | t.FutureType, cls: type[_End]) -> _End:
    if not isinstance(value, cls):
        raise TypeError(f"expected a {cls.__name__} for {ty.wit()}, got "
                        f"{type(value).__name__}")
    assert isinstance(value, (StreamReader, FutureReader)), "the readers"
    if value.type != ty:
        raise TypeError(f"expected a {cls.__name__} of {ty.wit()}, got one of "
                        f"{value.type.wit()}")
    value._check_open("lower")
    if value._busy:
        raise ValueError(f"`{cls.__name__}`: cannot pass a reader with a read in progress")
    return value


def _move(r: _E, notify: Notify | None) -> _E:
    r._state = _MOVED
    r._link.notify = notify
    return r
