"""Thread-safe byte channels between a guest's thread and the server's event loop.

An HTTP body crosses threads: the guest runs (blocking) in a worker thread, the ASGI server on
an event loop, and httpx's transfers in threads of their own. A :class:`Channel` is the one
bounded pipe every body goes through, whatever sits at either end (WASI 0.2 streams today;
WASI 0.3 ``stream<u8>`` later): the producer may put at most :meth:`Channel.space` bytes, so a
slow consumer stops a fast producer (back pressure), and both sides wait on :class:`Signal`\\ s,
level-triggered flags that threads (``wait``), ``selectors`` (``fileno``, so
``wasi:io/poll`` waits without spinning) and asyncio (:func:`wait_async`) can all wait on.

Example::

    ch = Channel(limit=4)
    ch.put(b"abcd")
    assert ch.space() == 0 and ch.readable.is_set()
    assert ch.take() == b"abcd"
    ch.finish()
    assert ch.take() is EOF
"""

from __future__ import annotations

import asyncio
import os
import selectors
import threading
from collections import deque
from typing import Any, Final

from ..wasi import InputStream, IoError, OutputStream, Pollable, StreamClosed, StreamFailed

__all__ = [
    "EOF",
    "Channel",
    "ChannelInputStream",
    "ChannelOutputStream",
    "Signal",
    "SignalPollable",
    "wait_async",
]

#: The default number of bytes a body channel holds before its producer must wait.
DEFAULT_LIMIT = 64 * 1024


class _Eof:
    __slots__ = ()

    def __repr__(self) -> str:
        return "EOF"


#: What :meth:`Channel.take` returns at the end of a body.
EOF: Final = _Eof()


class Signal:
    """A level-triggered flag, thread safe. ``wait()`` blocks a thread; :meth:`fileno` is a
    pipe that is readable exactly while the flag is set (made on first use, so flags nobody
    selects on cost no file descriptors; likewise the ``threading.Event`` a waiting thread
    blocks on: most flags are only ever tested, on the event loop)."""

    __slots__ = ("_event", "_flag", "_lock", "_r", "_w")

    def __init__(self) -> None:
        self._flag = False
        self._event: threading.Event | None = None
        self._lock = threading.Lock()
        self._r: int | None = None
        self._w: int | None = None

    def is_set(self) -> bool:
        return self._flag

    def set(self) -> None:
        with self._lock:
            if self._flag:
                return
            self._flag = True
            if self._event is not None:
                self._event.set()
            if self._w is not None:
                os.write(self._w, b"x")

    def clear(self) -> None:
        with self._lock:
            if not self._flag:
                return
            self._flag = False
            if self._event is not None:
                self._event.clear()
            if self._r is not None:
                os.read(self._r, 1)

    def wait(self, timeout: float | None = None) -> bool:
        with self._lock:
            if self._flag:
                return True
            event = self._event
            if event is None:
                event = self._event = threading.Event()
        return event.wait(timeout)

    def fileno(self) -> int:
        with self._lock:
            if self._r is None:
                self._r, self._w = os.pipe()
                os.set_blocking(self._r, False)
                if self._flag:
                    os.write(self._w, b"x")
            return self._r

    def close(self) -> None:
        with self._lock:
            for fd in (self._r, self._w):
                if fd is not None:
                    os.close(fd)
            self._r = self._w = None

    def __del__(self) -> None:
        if self._r is not None:
            self.close()


async def wait_async(signal: Signal) -> None:
    """Wait on the running event loop until ``signal`` is set (no thread is used)."""
    if signal.is_set():
        return
    loop = asyncio.get_running_loop()
    fd = signal.fileno()
    fut: asyncio.Future[None] = loop.create_future()

    def on_readable() -> None:
        if signal.is_set() and not fut.done():
            fut.set_result(None)

    loop.add_reader(fd, on_readable)
    try:
        on_readable()
        await fut
    finally:
        loop.remove_reader(fd)


class SignalPollable(Pollable):
    """A ``wasi:io/poll`` pollable that is ready while ``signal`` is set."""

    __slots__ = ("signal",)

    def __init__(self, signal: Signal) -> None:
        self.signal = signal

    def ready(self) -> bool:
        return self.signal.is_set()

    def wait_spec(self) -> tuple[Any, int] | None:
        return (self.signal.fileno(), selectors.EVENT_READ)


class Channel:
    """A bounded, thread-safe byte pipe with an end (and optional trailers) or an error.

    Producer: :meth:`space`, :meth:`put`, :meth:`finish`, :meth:`fail`; :attr:`writable` is set
    while there is space (or the consumer has gone). Consumer: :meth:`take_nowait`,
    :meth:`take`, :meth:`abandon`; :attr:`readable` is set while data, the end or an error is
    waiting. ``limit`` bounds what is buffered: back pressure for the producer."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._chunks: deque[bytes] = deque()
        self._size = 0
        self._ended = False
        self.error: IoError | None = None  # the producer failed
        self.trailers: Any = None  # what the producer ended with
        self.abandoned = False  # the consumer went away
        self.readable = Signal()
        self.writable = Signal()
        self.writable.set()
        self.done = Signal()  # the producer finished or failed

    # -- producer ------------------------------------------------------------------------------

    def space(self) -> int:
        with self._lock:
            return max(0, self.limit - self._size)

    def put(self, data: bytes) -> None:
        """Buffer ``data`` (the caller keeps within :meth:`space`). :class:`StreamClosed` once
        the consumer has gone."""
        if not data:
            return
        with self._lock:
            if self.abandoned:
                raise StreamClosed
            if self._ended:
                raise ValueError("`Channel.put`: the channel has already ended")
            self._chunks.append(bytes(data))
            self._size += len(data)
            self.readable.set()
            if self._size >= self.limit:
                self.writable.clear()

    def finish(self, trailers: Any = None) -> None:
        """The body ended (with ``trailers``, if any)."""
        with self._lock:
            if self._ended:
                return
            self._ended = True
            self.trailers = trailers
            self.readable.set()
            self.done.set()

    def fail(self, error: IoError) -> None:
        """The producer failed: the consumer's next take raises :class:`StreamFailed`."""
        with self._lock:
            if self._ended:
                return
            self._ended = True
            self.error = error
            self.readable.set()
            self.done.set()

    @property
    def ended(self) -> bool:
        return self._ended

    # -- consumer ------------------------------------------------------------------------------

    def take_nowait(self, n: int = -1) -> bytes | _Eof | None:
        """Up to ``n`` bytes (all buffered if ``n < 0``); ``None`` when nothing is buffered
        yet; :data:`EOF` at the end; :class:`StreamFailed` if the producer failed."""
        with self._lock:
            if self._chunks:
                chunk = self._chunks.popleft()
                if 0 <= n < len(chunk):
                    chunk, rest = chunk[:n], chunk[n:]
                    self._chunks.appendleft(rest)
                self._size -= len(chunk)
                if not self._chunks and not self._ended:
                    self.readable.clear()
                if self._size < self.limit:
                    self.writable.set()
                return chunk
            if self._ended:
                if self.error is not None:
                    raise StreamFailed(self.error)
                return EOF
            return None

    def drained(self) -> bool:
        """Whether the producer ended (without failing) and everything was taken: the next
        :meth:`take_nowait` is :data:`EOF`."""
        with self._lock:
            return not self._chunks and self._ended and self.error is None

    def take(self, n: int = -1, timeout: float | None = None) -> bytes | _Eof:
        """Like :meth:`take_nowait` but waits for data; ``TimeoutError`` after ``timeout``."""
        while True:
            got = self.take_nowait(n)
            if got is not None:
                return got
            if not self.readable.wait(timeout):
                raise TimeoutError("no data within the timeout")

    def abandon(self) -> None:
        """The consumer has gone: later puts fail and the producer stops waiting for space."""
        with self._lock:
            self.abandoned = True
            self._chunks.clear()
            self._size = 0
            self.writable.set()

    def close(self) -> None:
        for s in (self.readable, self.writable, self.done):
            s.close()


class ChannelInputStream(InputStream):
    """The guest reads a body from ``channel`` (``wasi:io/streams.input-stream``)."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self._pollable = SignalPollable(channel.readable)

    def read(self, n: int) -> bytes:
        got = self.channel.take_nowait(n)
        if got is None:
            return b""
        if isinstance(got, _Eof):
            raise StreamClosed
        return got

    def pollable(self) -> Pollable:
        return self._pollable

    def close(self) -> None:
        self.channel.abandon()


class ChannelOutputStream(OutputStream):
    """The guest writes a body into ``channel`` (``wasi:io/streams.output-stream``); what the
    channel has room for is what ``check-write`` permits. ``on_write`` (if given) sees each
    write before it is buffered (a content-length check, say)."""

    def __init__(self, channel: Channel, on_write: Any = None) -> None:
        self.channel = channel
        self._pollable = SignalPollable(channel.writable)
        self._on_write = on_write
        self.closed = False

    def check_write(self) -> int:
        if self.channel.abandoned:
            raise StreamClosed
        if self.channel.ended:
            raise StreamClosed
        return self.channel.space()

    def write(self, data: bytes) -> None:
        if self._on_write is not None:
            self._on_write(data)
        self.channel.put(data)

    def pollable(self) -> Pollable:
        return self._pollable

    def close(self) -> None:
        self.closed = True
