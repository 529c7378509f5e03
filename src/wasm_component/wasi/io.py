"""The stream and poll abstraction every WASI module builds on, and the ``wasi:io`` host.

``wasi:io`` is the base of WASI 0.2: files, sockets, stdio and timers all hand the guest
``input-stream``/``output-stream`` and ``pollable`` resources. Here they are plain Python
classes: subclass :class:`InputStream`, :class:`OutputStream` or :class:`Pollable`, implement
the few non-blocking primitives, and every blocking variant, ``subscribe`` and ``poll`` work.

- :class:`Pollable`: ``ready()``, and how to wait for it: ``wait_spec()`` (a file object or fd
  and ``selectors`` events) and/or ``deadline_ns()`` (a ``time.monotonic_ns()`` deadline).
  :func:`poll` waits on many at once with ``selectors`` (never spinning); ``block()`` is
  ``poll([self])``.
- :class:`InputStream`: ``read(n)`` returns what is ready now (``b""`` if nothing), raises
  :class:`StreamClosed` at the end and :class:`StreamFailed` on an error.
- :class:`OutputStream`: ``check_write()``, ``write(data)``, ``flush()``.

Example (a stream that yields one chunk, then ends)::

    class Once(InputStream):
        def __init__(self, data: bytes) -> None:
            self.data = data
        def read(self, n: int) -> bytes:
            if not self.data:
                raise StreamClosed
            out, self.data = self.data[:n], self.data[n:]
            return out

    assert Once(b"hi").blocking_read(10) == b"hi"
"""

from __future__ import annotations

import os
import selectors
import sys
import time
from collections.abc import Callable, Sequence
from typing import IO, TYPE_CHECKING, Any

from ..errors import Trap
from ..resources import ResourceTableError
from ..values import Err, Ok
from ._bindings.imports import wasi_io_error as _b_error
from ._bindings.imports import wasi_io_poll as _b_poll
from ._bindings.imports import wasi_io_streams as _b_streams

if TYPE_CHECKING:
    from ..resources import Resource
    from .ctx import WasiCtx

__all__ = [
    "BytesInputStream",
    "CallbackInputStream",
    "CallbackOutputStream",
    "ClosedInputStream",
    "FdPollable",
    "FileInputStream",
    "FileOutputStream",
    "InputStream",
    "IoError",
    "OutputStream",
    "Pollable",
    "ReadyPollable",
    "SinkOutputStream",
    "StdioOutputStream",
    "StreamClosed",
    "StreamFailed",
    "poll",
]

#: The most a ``blocking-write-and-flush`` may carry (the WIT says 4096).
BLOCKING_WRITE_LIMIT = 4096
#: What an always-writable stream permits per ``check-write``.
WRITE_BUDGET = 1 << 20
#: The most one stream read returns (as wasmtime: 64 KiB), below the context's
#: ``max_read_chunk``. More is not only host memory: a wasi-libc program under the preview1
#: adapter hands ``read()`` a ``malloc``-ed buffer whose heap overlaps the pages the adapter
#: grew for its own stack and state (the heap claims all memory present at its first
#: ``malloc``), so a larger answer lands on them.
STREAM_READ_CHUNK = 64 * 1024


class IoError:
    """The object behind a ``wasi:io/error.error``: a message and, when it came from the OS,
    the ``errno`` (``wasi:filesystem`` and ``wasi:sockets`` read it to give an error code)."""

    __slots__ = ("errno", "message")

    def __init__(self, message: str, errno: int | None = None) -> None:
        self.message = message
        self.errno = errno

    @staticmethod
    def from_os_error(e: OSError) -> IoError:
        return IoError(str(e), e.errno)

    def to_debug_string(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"IoError({self.message!r}, errno={self.errno})"


class StreamClosed(Exception):
    """The stream has ended (input) or no longer accepts data (output)."""


class StreamFailed(Exception):
    """The last operation failed; ``error`` says why. The stream is closed after this."""

    def __init__(self, error: IoError) -> None:
        super().__init__(error.message)
        self.error = error


# -- pollables -----------------------------------------------------------------------------------


class Pollable:
    """Something the guest can wait for. Subclasses override :meth:`ready` and say how to wait:
    :meth:`wait_spec` for a file descriptor, :meth:`deadline_ns` for a timer (both may be
    given). A pollable with neither that is not ready can never become ready."""

    __slots__ = ()

    def ready(self) -> bool:
        """Whether it is ready now (never blocks)."""
        return False

    def wait_spec(self) -> tuple[Any, int] | None:
        """``(fileobj_or_fd, selectors.EVENT_READ | EVENT_WRITE)`` to wait on, or ``None``."""
        return None

    def deadline_ns(self) -> int | None:
        """The ``time.monotonic_ns()`` at which it becomes ready, or ``None``."""
        return None

    def virtual_deadline(self) -> tuple[Any, int] | None:
        """``(clock, ns)`` for a timer on a simulated clock: :func:`poll` advances ``clock`` (its
        ``advance_to(ns)``) instead of sleeping when nothing real is ready."""
        return None

    def block(self) -> None:
        """Wait until ready (``poll([self])``)."""
        if not self.ready():
            poll([self])


class ReadyPollable(Pollable):
    """Always ready (streams over memory, regular files, closed streams)."""

    __slots__ = ()

    def ready(self) -> bool:
        return True


READY = ReadyPollable()


class FdPollable(Pollable):
    """Ready when ``fd`` (an int or an object with ``fileno()``) is readable or writable."""

    __slots__ = ("events", "fd")

    def __init__(self, fd: Any, events: int = selectors.EVENT_READ) -> None:
        self.fd = fd
        self.events = events

    def ready(self) -> bool:
        return _select_ready([(self.fd, self.events)], 0.0) != set()

    def wait_spec(self) -> tuple[Any, int] | None:
        return (self.fd, self.events)


def _select_ready(specs: Sequence[tuple[Any, int]], timeout: float | None) -> set[int]:
    """Indices of ``specs`` that are ready within ``timeout`` seconds (``None``: forever)."""
    sel = selectors.DefaultSelector()
    try:
        keys: dict[int, int] = {}
        for fd, events in specs:
            n = fd if isinstance(fd, int) else fd.fileno()
            keys[n] = keys.get(n, 0) | events
        for n, events in keys.items():
            sel.register(n, events)
        fired = {key.fd: ev for key, ev in sel.select(timeout)}
    finally:
        sel.close()
    out = set()
    for i, (fd, events) in enumerate(specs):
        n = fd if isinstance(fd, int) else fd.fileno()
        if fired.get(n, 0) & events:
            out.add(i)
    return out


def poll(pollables: Sequence[Pollable]) -> list[int]:
    """Wait until at least one of ``pollables`` is ready; the indices of the ready ones.

    Waits with ``selectors`` on the file descriptors and sleeps until the earliest deadline;
    timers on a simulated clock jump that clock forward instead. Traps when none of them can
    ever become ready (a guest that would hang forever).
    """
    ready = [i for i, p in enumerate(pollables) if p.ready()]
    while not ready:
        specs: list[tuple[Any, int]] = []
        deadline: int | None = None
        virtual: tuple[Any, int] | None = None
        for p in pollables:
            spec = p.wait_spec()
            if spec is not None:
                specs.append(spec)
            d = p.deadline_ns()
            if d is not None and (deadline is None or d < deadline):
                deadline = d
            v = p.virtual_deadline()
            if v is not None and (virtual is None or v[1] < virtual[1]):
                virtual = v
        if virtual is not None:
            # simulated time: anything really ready goes first, else the clock jumps
            if specs:
                _select_ready(specs, 0.0)
            ready = [i for i, p in enumerate(pollables) if p.ready()]
            if not ready:
                virtual[0].advance_to(virtual[1])
        elif specs:
            timeout = None if deadline is None else max(0, deadline - time.monotonic_ns()) / 1e9
            _select_ready(specs, timeout)
        elif deadline is not None:
            time.sleep(max(0, deadline - time.monotonic_ns()) / 1e9)
        else:
            raise Trap("`wasi:io/poll.poll`: none of the pollables can ever become ready")
        ready = [i for i, p in enumerate(pollables) if p.ready()]
    return ready


# -- streams -------------------------------------------------------------------------------------


class InputStream:
    """A byte source. Implement :meth:`read` (non-blocking) and, if data may not be ready yet,
    :meth:`pollable`; the blocking and skipping variants follow."""

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes that are ready now (``b""`` if none); :class:`StreamClosed` at the
        end, :class:`StreamFailed` on an error."""
        raise NotImplementedError

    def pollable(self) -> Pollable:
        """Ready when :meth:`read` would return data or fail."""
        return READY

    def blocking_read(self, n: int) -> bytes:
        data = self.read(n)
        while not data and n:
            self.pollable().block()
            data = self.read(n)
        return data

    def skip(self, n: int) -> int:
        return len(self.read(n))

    def blocking_skip(self, n: int) -> int:
        return len(self.blocking_read(n))

    def close(self) -> None:
        """The guest dropped the stream (release what it holds)."""


class OutputStream:
    """A byte sink. Implement :meth:`write`, and :meth:`check_write`/:meth:`flush`/
    :meth:`pollable` when writes can be refused or complete later."""

    _permit = 0  # what the last check-write allowed (the host enforces it)

    def check_write(self) -> int:
        """How many bytes :meth:`write` accepts now (0: wait for :meth:`pollable`)."""
        return WRITE_BUDGET

    def write(self, data: bytes) -> None:
        raise NotImplementedError

    def flush(self) -> None:
        """Start flushing what was written (completion shows as ``check_write() > 0``)."""

    def pollable(self) -> Pollable:
        """Ready when :meth:`check_write` would return more than 0 or fail."""
        return READY

    def _wait_writable(self) -> int:
        n = self.check_write()
        while n == 0:
            self.pollable().block()
            n = self.check_write()
        return n

    def blocking_write_and_flush(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            n = self._wait_writable()
            self.write(bytes(view[:n]))
            view = view[n:]
        self.blocking_flush()

    def blocking_flush(self) -> None:
        self.flush()
        self._wait_writable()

    def write_zeroes(self, n: int) -> None:
        self.write(bytes(n))

    def blocking_write_zeroes_and_flush(self, n: int) -> None:
        self.blocking_write_and_flush(bytes(n))

    def splice(self, src: InputStream, n: int) -> int:
        permit = self.check_write()
        data = src.read(min(n, permit))
        if data:
            self.write(data)
        return len(data)

    def blocking_splice(self, src: InputStream, n: int) -> int:
        permit = self._wait_writable()
        data = src.blocking_read(min(n, permit))
        if data:
            self.write(data)
        return len(data)

    def close(self) -> None:
        """The guest dropped the stream."""


class ClosedInputStream(InputStream):
    """Always at its end (the default stdin)."""

    def read(self, n: int) -> bytes:
        raise StreamClosed


class BytesInputStream(InputStream):
    """Reads from a bytes object, then ends."""

    def __init__(self, data: bytes) -> None:
        self._data = memoryview(bytes(data))
        self._pos = 0

    def read(self, n: int) -> bytes:
        if self._pos >= len(self._data):
            raise StreamClosed
        out = bytes(self._data[self._pos : self._pos + n])
        self._pos += len(out)
        return out


class CallbackInputStream(InputStream):
    """Calls ``fn(n) -> bytes`` for data (``b""``: the end). The callback may block."""

    def __init__(self, fn: Callable[[int], bytes]) -> None:
        self._fn = fn
        self._done = False

    def read(self, n: int) -> bytes:
        if self._done:
            raise StreamClosed
        if n == 0:
            return b""
        data = self._fn(n)
        if not data:
            self._done = True
            raise StreamClosed
        return bytes(data[:n])


class FileInputStream(InputStream):
    """Reads from a binary file-like object or a file descriptor. Pipes, ttys and sockets are
    waited on with ``selectors``; other objects (files, ``BytesIO``) are always ready."""

    def __init__(self, f: IO[bytes] | int) -> None:
        self._f = f
        self._fd: int | None = f if isinstance(f, int) else _fileno(f)
        # worked out at first use: probing the descriptor costs an epoll instance, and most
        # contexts (a store per request) never read their stdin
        self._pollable: Pollable | None = None
        self._done = False

    def pollable(self) -> Pollable:
        p = self._pollable
        if p is None:
            p = READY
            if self._fd is not None and _waitable(self._fd):
                p = FdPollable(self._fd, selectors.EVENT_READ)
            self._pollable = p
        return p

    def read(self, n: int) -> bytes:
        if self._done:
            raise StreamClosed
        if n == 0:
            return b""
        p = self.pollable()
        if p is not READY and not p.ready():
            return b""
        try:
            if isinstance(self._f, int):
                data = os.read(self._f, n)
            else:
                read1 = getattr(self._f, "read1", None)
                data = read1(n) if read1 is not None else self._f.read(n)
        except OSError as e:
            self._done = True
            raise StreamFailed(IoError.from_os_error(e)) from None
        if not data:
            self._done = True
            raise StreamClosed
        return bytes(data)


def _fileno(f: Any) -> int | None:
    try:
        n = f.fileno()
    except (AttributeError, OSError, ValueError):
        return None
    return n if isinstance(n, int) else None


def _waitable(fd: int) -> bool:
    """Whether reads on ``fd`` may have to wait and ``selectors`` can wait for them (pipes,
    ttys, sockets; not regular files, nor devices such as ``/dev/null`` that epoll refuses)."""
    import stat

    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        sel = selectors.DefaultSelector()
        try:
            sel.register(fd, selectors.EVENT_READ)
        finally:
            sel.close()
    except (OSError, ValueError):
        return False
    return True


def _os_write(stream: Any, op: Any) -> None:
    """``op()``, a write or flush to the OS on behalf of output ``stream``: a reader that went
    away (EPIPE) closes the stream (the WIT's ``closed``: "no more input will be accepted",
    as wasmtime answers a broken stdout pipe), then and on every later call; another OS error
    is the ``last-operation-failed`` of that one call."""
    if stream._broken:
        raise StreamClosed
    try:
        op()
    except BrokenPipeError:
        stream._broken = True
        raise StreamClosed from None
    except OSError as e:
        raise StreamFailed(IoError.from_os_error(e)) from None


class FileOutputStream(OutputStream):
    """Writes to a binary file-like object (flushing on ``flush``)."""

    _broken = False  # its reader went away (EPIPE): closed

    def __init__(self, f: IO[bytes]) -> None:
        self._f = f

    def write(self, data: bytes) -> None:
        _os_write(self, lambda: self._f.write(data))

    def flush(self) -> None:
        _os_write(self, self._f.flush)


class StdioOutputStream(OutputStream):
    """The process's own ``sys.stdout``/``sys.stderr`` (looked up at each write, so
    ``contextlib.redirect_stdout`` and notebooks see the output); text streams without a
    ``buffer`` get UTF-8 decoded text."""

    def __init__(self, name: str) -> None:
        self._name = name

    def _stream(self) -> Any:
        return getattr(sys, self._name)

    _broken = False  # its reader went away (EPIPE): closed

    def write(self, data: bytes) -> None:
        s = self._stream()
        if s is None:
            # The process has no such stream (Python's None: its descriptor was closed, e.g.
            # `>&-`): the writes are dropped, as wasmtime's (Rust's stdio takes EBADF so).
            return

        def write() -> None:
            buf = getattr(s, "buffer", None)
            if buf is not None:
                s.flush()  # keep the order of what Python printed before
                buf.write(data)
            else:
                s.write(data.decode("utf-8", errors="replace"))

        _os_write(self, write)

    def flush(self) -> None:
        s = self._stream()
        if s is not None:
            _os_write(self, s.flush)

    def isatty(self) -> bool:
        try:
            return bool(self._stream().isatty())
        except (AttributeError, ValueError, OSError):
            return False


class CallbackOutputStream(OutputStream):
    """Calls ``fn(data)`` for every write."""

    def __init__(self, fn: Callable[[bytes], object]) -> None:
        self._fn = fn

    def write(self, data: bytes) -> None:
        self._fn(data)


class SinkOutputStream(OutputStream):
    """Discards everything (the default stdout and stderr)."""

    def write(self, data: bytes) -> None:
        pass


# -- the wasi:io host ----------------------------------------------------------------------------


def _closed() -> Err[Any]:
    return Err(_b_streams.StreamErrorClosed())


class _ErrorHost:
    def __init__(self, ctx: WasiCtx) -> None:
        self._ctx = ctx

    def to_debug_string(self, self_: Resource[Any]) -> str:
        return self._ctx.get(self_, IoError).to_debug_string()

    def drop(self, rep: Resource[Any]) -> None:
        self._ctx.delete(rep)


class ErrorHost:
    """``wasi:io/error``."""

    def __init__(self, ctx: WasiCtx) -> None:
        self.error = _ErrorHost(ctx)


def _pollable(ctx: WasiCtx, r: Resource[Any]) -> Pollable:
    return ctx.get(r, Pollable)


class _PollableHost:
    def __init__(self, ctx: WasiCtx) -> None:
        self._ctx = ctx
        self._get = ctx.table.get  # (the hot paths straight to the table; errors via ctx.get)

    def ready(self, self_: Resource[Any]) -> bool:
        return self._ctx.get(self_, Pollable).ready()

    def block(self, self_: Resource[Any]) -> None:
        try:
            p: Pollable = self._get(self_, Pollable)
        except ResourceTableError:
            p = _pollable(self._ctx, self_)  # (traps, saying why)
        if not p.ready():  # (a ready one returns at once: no call into its `block`)
            p.block()

    def drop(self, rep: Resource[Any]) -> None:
        self._ctx.delete(rep)


#: ``poll``'s answer when its one pollable is ready: one shared (immutable) sequence, not a new
#: list per call
_FIRST = (0,)


class PollHost:
    """``wasi:io/poll``."""

    def __init__(self, ctx: WasiCtx) -> None:
        self._ctx = ctx
        self._get = ctx.table.get
        self.pollable = _PollableHost(ctx)

    def poll(self, in_: list[Resource[Any]]) -> Sequence[int]:
        if len(in_) == 1:  # the common case: one pollable, often ready already
            try:
                p: Pollable = self._get(in_[0], Pollable)
            except ResourceTableError:
                p = _pollable(self._ctx, in_[0])  # (traps, saying why)
            return _FIRST if p.ready() else poll((p,))
        if not in_:
            raise Trap("`wasi:io/poll.poll`: expected at least one pollable, got an empty list")
        get = self._ctx.get
        return poll([get(r, Pollable) for r in in_])


class _StreamHostBase:
    """Calls into a stream, mapping :class:`StreamClosed`/:class:`StreamFailed` to the WIT's
    ``stream-error`` (``last-operation-failed`` carries a new ``error`` resource)."""

    def __init__(self, ctx: WasiCtx) -> None:
        self._ctx = ctx
        self._chunk = min(ctx.max_read_chunk, STREAM_READ_CHUNK)

    def _failed(self, e: StreamFailed) -> Err[Any]:
        return Err(_b_streams.StreamErrorLastOperationFailed(
            self._ctx.push(e.error, _b_error._RT_Error)))

    def subscribe(self, self_: Resource[Any]) -> Resource[Any]:
        s: InputStream | OutputStream = self._ctx.get(self_, self._cls)
        return self._ctx.push(s.pollable(), _b_poll._RT_Pollable, parent=self_)

    def drop(self, rep: Resource[Any]) -> None:
        obj: InputStream | OutputStream = self._ctx.delete(rep)
        obj.close()

    _cls: type[InputStream | OutputStream] = InputStream


class _InputStreamHost(_StreamHostBase):
    _cls = InputStream

    def _call(self, self_: Resource[Any], len: int, method: str) -> Ok[Any] | Err[Any]:
        s: InputStream = self._ctx.get(self_, InputStream)
        try:
            return Ok(getattr(s, method)(min(len, self._chunk)))
        except StreamClosed:
            return _closed()
        except StreamFailed as e:
            return self._failed(e)

    def read(self, self_: Resource[Any], len: int) -> Ok[Any] | Err[Any]:
        return self._call(self_, len, "read")

    def blocking_read(self, self_: Resource[Any], len: int) -> Ok[Any] | Err[Any]:
        return self._call(self_, len, "blocking_read")

    def skip(self, self_: Resource[Any], len: int) -> Ok[Any] | Err[Any]:
        return self._call(self_, len, "skip")

    def blocking_skip(self, self_: Resource[Any], len: int) -> Ok[Any] | Err[Any]:
        return self._call(self_, len, "blocking_skip")


class _OutputStreamHost(_StreamHostBase):
    _cls = OutputStream

    def _call(self, s: OutputStream, method: str, *args: Any) -> Ok[Any] | Err[Any]:
        try:
            return Ok(getattr(s, method)(*args))
        except StreamClosed:
            return _closed()
        except StreamFailed as e:
            return self._failed(e)

    def _get(self, r: Resource[Any]) -> OutputStream:
        s: OutputStream = self._ctx.get(r, OutputStream)
        return s

    def check_write(self, self_: Resource[Any]) -> Ok[Any] | Err[Any]:
        s = self._get(self_)
        r = self._call(s, "check_write")
        if isinstance(r, Ok):
            s._permit = r.value
        return r

    def _spend(self, s: OutputStream, n: int, what: str) -> None:
        if n > s._permit:
            raise Trap(f"`wasi:io/streams.output-stream.{what}`: expected at most {s._permit} "
                       f"bytes (what `check-write` permitted), got {n}")
        s._permit -= n

    def write(self, self_: Resource[Any], contents: bytes) -> Ok[Any] | Err[Any]:
        s = self._get(self_)
        self._spend(s, len(contents), "write")
        return self._call(s, "write", contents)

    def _limit(self, n: int, what: str) -> None:
        if n > BLOCKING_WRITE_LIMIT:
            raise Trap(f"`wasi:io/streams.output-stream.{what}`: expected at most "
                       f"{BLOCKING_WRITE_LIMIT} bytes, got {n}")

    def blocking_write_and_flush(self, self_: Resource[Any], contents: bytes
                                 ) -> Ok[Any] | Err[Any]:
        self._limit(len(contents), "blocking-write-and-flush")
        return self._call(self._get(self_), "blocking_write_and_flush", contents)

    def flush(self, self_: Resource[Any]) -> Ok[Any] | Err[Any]:
        return self._call(self._get(self_), "flush")

    def blocking_flush(self, self_: Resource[Any]) -> Ok[Any] | Err[Any]:
        return self._call(self._get(self_), "blocking_flush")

    def write_zeroes(self, self_: Resource[Any], len: int) -> Ok[Any] | Err[Any]:
        s = self._get(self_)
        self._spend(s, len, "write-zeroes")
        return self._call(s, "write_zeroes", len)

    def blocking_write_zeroes_and_flush(self, self_: Resource[Any], len: int
                                        ) -> Ok[Any] | Err[Any]:
        self._limit(len, "blocking-write-zeroes-and-flush")
        return self._call(self._get(self_), "blocking_write_zeroes_and_flush", len)

    def _splice(self, self_: Resource[Any], src: Resource[Any], len: int,
                method: str) -> Ok[Any] | Err[Any]:
        s = self._get(self_)
        source = self._ctx.get(src, InputStream)
        return self._call(s, method, source, min(len, self._chunk))

    def splice(self, self_: Resource[Any], src: Resource[Any], len: int) -> Ok[Any] | Err[Any]:
        return self._splice(self_, src, len, "splice")

    def blocking_splice(self, self_: Resource[Any], src: Resource[Any], len: int
                        ) -> Ok[Any] | Err[Any]:
        return self._splice(self_, src, len, "blocking_splice")


class StreamsHost:
    """``wasi:io/streams``."""

    def __init__(self, ctx: WasiCtx) -> None:
        self.input_stream = _InputStreamHost(ctx)
        self.output_stream = _OutputStreamHost(ctx)


def _register() -> None:
    from .ctx import register

    register(_b_error, ErrorHost)
    register(_b_poll, PollHost)
    register(_b_streams, StreamsHost)


_register()
