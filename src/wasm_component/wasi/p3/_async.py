"""The one bridge from the WASI 0.2 core to asyncio, for every WASI 0.3 interface.

Why this module exists: WASI 0.3 replaces ``wasi:io``'s streams and pollables with the
component model's ``stream<T>``, ``future<T>`` and ``async func``, but the operations behind
them are 0.2's (the same :class:`~..io.InputStream`/:class:`~..io.OutputStream` for stdio,
files and sockets; the same :class:`~..io.Pollable` for timers, descriptors and name
lookups). So a 0.3 host needs only three things, defined here once:

- :func:`wait_ready`: await a 0.2 pollable on the running loop (its file descriptor through
  ``loop.add_reader``/``add_writer``, its deadline through ``asyncio.sleep``, a simulated
  clock by advancing it, as 0.2's ``poll`` does);
- :func:`pump_in`: copy a 0.2 input stream into a host-made ``stream<u8>`` for the guest to
  read, then resolve the ``future<result<_, error-code>>`` that goes with it;
- :func:`pump_out`: copy a guest-written ``stream<u8>`` into a 0.2 output stream, then resolve
  the returned future.

and :func:`values_in` for ``stream<T>`` of values (directory entries, accepted sockets).

The stream and future ends are the component model's (``wasm_component.streams``); this
module needs only the few methods the :class:`ByteReader`, :class:`ByteWriter`,
:class:`ValueWriter` and :class:`FutureWriter` Protocols name, and makes them through a
:class:`Channels` (:func:`channels_of`), so that tests can drive every host with in-memory
ends (:func:`set_channels`).

Example::

    reader, writer = channels_of(ctx).stream(types.U8)
    done_r, done_w = channels_of(ctx).future(result_type)
    spawn(ctx, pump_in(ctx.stdio.stdin, writer, done_w, chunk=ctx.max_read_chunk,
                       error=lambda e: Variant("io")))
    return (reader, done_r)
"""

from __future__ import annotations

import asyncio
import contextlib
import selectors
import time
import weakref
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ...errors import NotSupported, Trap
from ...values import Err, Ok
from ..io import (
    STREAM_READ_CHUNK,
    InputStream,
    IoError,
    OutputStream,
    Pollable,
    StreamClosed,
    StreamFailed,
)
from ._types import elem_types

if TYPE_CHECKING:
    from ..ctx import WasiCtx

__all__ = [
    "ByteReader",
    "ByteWriter",
    "Channels",
    "FutureWriter",
    "ValueWriter",
    "channels_of",
    "drain",
    "failed_future",
    "failed_stream",
    "pump_in",
    "pump_out",
    "set_channels",
    "spawn",
    "stream_from",
    "stream_into",
    "values_in",
    "wait_ready",
]

T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)


class ByteReader(Protocol):
    """The host's end of a ``stream<u8>`` the guest writes (``wasm_component.StreamReader``)."""

    async def read(self, n: int) -> bytes:
        """Up to ``n`` bytes once some are written; ``b""`` when the guest dropped its end
        (the stream is over)."""
        ...

    def close(self) -> None:
        """Drop this end (the guest's next write learns it)."""
        ...


class ByteWriter(Protocol):
    """The host's end of a ``stream<u8>`` the guest reads (``wasm_component.StreamWriter``)."""

    async def write(self, values: bytes) -> None:
        """Write all of ``values`` (once the guest took them); :class:`BrokenPipeError` when
        the guest dropped its end."""
        ...

    def close(self) -> None:
        ...


class ValueWriter(Protocol[T_contra]):
    """The host's end of a ``stream<T>`` of values the guest reads."""

    async def write(self, values: Sequence[T_contra]) -> None:
        ...

    def close(self) -> None:
        ...


class FutureWriter(Protocol[T_contra]):
    """The host's end of a ``future<T>`` the guest reads."""

    def write(self, value: T_contra) -> None:
        ...


class Channels(Protocol):
    """Makes the pairs of ends the hosts hand to the guest, ``(reader, writer)``: the reader
    goes to the guest, the host keeps the writer. ``wasm_component.streams`` is one (its
    ``stream``/``future`` functions); tests give in-memory ones."""

    def stream(self, payload: Any) -> tuple[Any, Any]:
        ...

    def future(self, payload: Any) -> tuple[Any, Any]:
        ...


_CHANNELS = "p3.channels"


def _default_channels(ctx: WasiCtx) -> Channels:
    try:
        from ... import streams
    except ImportError:
        raise NotSupported(
            "WASI 0.3 streams and futures need the component-model async API "
            "(`wasm_component.streams`), which is not built yet") from None
    channels: Channels = streams  # the module is the factory
    return channels


def channels_of(ctx: WasiCtx) -> Channels:
    """The stream/future factory of ``ctx`` (see :func:`set_channels`)."""
    return ctx.extension(_CHANNELS, _default_channels)


def set_channels(ctx: WasiCtx, channels: Channels) -> None:
    """Make the 0.3 hosts of ``ctx`` create their streams and futures with ``channels``."""
    ctx._extensions[_CHANNELS] = channels


# -- tasks -----------------------------------------------------------------------------------


class _Tasks(set["asyncio.Task[None]"]):
    """The pumps a context runs: referenced until they end (asyncio keeps only weak ones)."""


def spawn(ctx: WasiCtx, coro: Coroutine[Any, Any, None], *, output: bool = False
          ) -> asyncio.Task[None]:  # fmt: skip
    """Run ``coro`` on the running loop as a task of ``ctx`` (the store's loop: the one the
    guest is called on); ``output`` marks a copy into a host stream, which :func:`drain` lets
    finish."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        coro.close()
        raise NotSupported(
            "a WASI 0.3 stream or future is copied by an asyncio task, and there is no running "
            "loop: call the guest's export with `await func.call_async(store, ...)`") from None
    tasks = ctx.extension("p3.outputs" if output else "p3.tasks", lambda _: _Tasks())
    task = loop.create_task(coro)
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    return task


#: How long :func:`drain` waits for output copies the guest left running.
DRAIN_TIMEOUT_S = 5.0


async def drain(ctx: WasiCtx, timeout: float = DRAIN_TIMEOUT_S) -> None:
    """After the guest's last call: let the copies into host streams (stdout, files, sockets)
    finish, for up to ``timeout`` seconds (a guest that never closed a stream it writes would
    keep one open), and cancel the rest (reads from stdin, accept loops)."""
    outputs = list(ctx.extension("p3.outputs", lambda _: _Tasks()))
    stop = list(ctx.extension("p3.tasks", lambda _: _Tasks()))
    if outputs:
        _, pending = await asyncio.wait(outputs, timeout=timeout)
        stop += pending
    for task in stop:
        task.cancel()
    await asyncio.gather(*stop, return_exceptions=True)  # their ends are closed


# -- waiting ---------------------------------------------------------------------------------


async def wait_ready(p: Pollable) -> None:
    """Wait until ``p`` is ready, without blocking the loop: 0.2's ``poll`` for one pollable,
    on asyncio. Traps when ``p`` can never become ready."""
    loop = asyncio.get_running_loop()
    while not p.ready():
        virtual = p.virtual_deadline()
        if virtual is not None:
            await asyncio.sleep(0)  # let real work go first, as 0.2's poll does
            if not p.ready():
                virtual[0].advance_to(virtual[1])
            continue
        spec = p.wait_spec()
        deadline = p.deadline_ns()
        timeout = None if deadline is None else max(0, deadline - time.monotonic_ns()) / 1e9
        if spec is None:
            if timeout is None:
                raise Trap("WASI: a wait that can never end (nothing can make it ready)")
            await asyncio.sleep(timeout)
            continue
        fd, events = spec
        fired: asyncio.Future[None] = loop.create_future()
        key = (fd if isinstance(fd, int) else fd.fileno(), bool(events & selectors.EVENT_WRITE))
        _watch(loop, key, fired)
        try:
            await asyncio.wait_for(asyncio.shield(fired), timeout)
        except TimeoutError:
            pass
        finally:
            _unwatch(loop, key, fired)


#: Per loop, the waiters on each (descriptor, for writing): asyncio keeps one callback per
#: descriptor and direction, and two copies may wait on one (two reads of one stdin, a
#: socket's receive and a datagram receive), so one callback wakes them all.
_WAITERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop,
                                    dict[tuple[int, bool], set[asyncio.Future[None]]]] = (
    weakref.WeakKeyDictionary())


def _watch(loop: asyncio.AbstractEventLoop, key: tuple[int, bool],
           fired: asyncio.Future[None]) -> None:  # fmt: skip
    table = _WAITERS.setdefault(loop, {})
    waiters = table.get(key)
    if waiters is None:
        waiters = table[key] = set()

        def wake() -> None:
            for f in list(waiters):
                if not f.done():
                    f.set_result(None)

        fd, write = key
        (loop.add_writer if write else loop.add_reader)(fd, wake)
    waiters.add(fired)


def _unwatch(loop: asyncio.AbstractEventLoop, key: tuple[int, bool],
             fired: asyncio.Future[None]) -> None:  # fmt: skip
    table = _WAITERS.get(loop, {})
    waiters = table.get(key)
    if waiters is None:
        return
    waiters.discard(fired)
    if not waiters:
        del table[key]
        fd, write = key
        (loop.remove_writer if write else loop.remove_reader)(fd)


# -- pumps -----------------------------------------------------------------------------------


def resolve(done: FutureWriter[Any], result: Any) -> None:
    """Write ``result`` to ``done``, unless the guest dropped the future's reader (it does
    not want to know)."""
    with contextlib.suppress(BrokenPipeError):
        done.write(result)


#: ``error(io_error) -> payload``: the version's ``error-code`` value for a failed stream.
ErrorOf = Callable[[IoError], Any]


async def pump_in(source: InputStream, writer: ByteWriter, done: FutureWriter[Any], *,
                  chunk: int, error: ErrorOf) -> None:  # fmt: skip
    """Copy ``source`` to the guest's ``stream<u8>`` (``writer``), at most ``chunk`` bytes (and
    :data:`~..io.STREAM_READ_CHUNK`) a read, waiting on ``source``'s pollable when it has
    nothing yet; then resolve ``done``: ``ok`` at the end of ``source`` or when the guest
    dropped its reader, ``err(error(e))`` when ``source`` failed."""
    n = min(chunk, STREAM_READ_CHUNK)
    result: Any = Ok(None)
    try:
        while True:
            try:
                data = source.read(n)
            except StreamClosed:
                break
            except StreamFailed as e:
                result = Err(error(e.error))
                break
            if not data:
                await wait_ready(source.pollable())
                continue
            try:
                await writer.write(data)
            except BrokenPipeError:
                break  # the guest dropped its reader
    finally:  # (a cancelled pump leaves `done` to its writer's default)
        writer.close()
    resolve(done, result)


async def pump_out(reader: ByteReader, sink: OutputStream, done: FutureWriter[Any], *,
                   error: ErrorOf, finish: Callable[[], None] | None = None) -> None:  # fmt: skip
    """Copy the guest's ``stream<u8>`` (``reader``) into ``sink`` (waiting while ``sink``
    refuses more), flushing as it goes; then resolve ``done``: ``ok`` once the guest dropped
    its writer and everything is written (after ``finish()``, such as a socket's shutdown), or
    ``err(error(e))`` on a failed write, after which the reader is dropped (the WIT: the guest
    learns it on its next write)."""
    result: Any = Ok(None)
    try:
        while True:
            data = await reader.read(STREAM_READ_CHUNK)
            if not data:
                break
            view = memoryview(data)
            while view:
                permit = sink.check_write()
                if permit == 0:
                    await wait_ready(sink.pollable())
                    continue
                sink.write(bytes(view[:permit]))
                view = view[permit:]
            sink.flush()
        if finish is not None:
            finish()
    except StreamFailed as e:
        result = Err(error(e.error))
    except StreamClosed:
        result = Err(error(IoError("the stream is closed")))
    finally:
        reader.close()
    resolve(done, result)


async def values_in(values: Iterable[T] | AsyncIterator[T], writer: ValueWriter[T], *,
                    done: FutureWriter[Any] | None = None,
                    error: Callable[[Exception], Any] | None = None,
                    failures: tuple[type[Exception], ...] = ()) -> None:  # fmt: skip
    """Write ``values`` one at a time to the guest's ``stream<T>``; stop when the guest dropped
    its reader. Then resolve ``done``: ``ok``, or ``err(error(e))`` when producing the next
    value raised one of ``failures``."""
    result: Any = Ok(None)
    try:
        if isinstance(values, AsyncIterator):
            async for v in values:
                await writer.write([v])
        else:
            for v in values:
                await writer.write([v])
    except BrokenPipeError:
        pass  # the guest dropped its reader
    except failures as e:
        assert error is not None, "failures need an error mapping"
        result = Err(error(e))
    finally:
        writer.close()
    if done is not None:
        resolve(done, result)


# -- the two shapes every 0.3 stream function has -----------------------------------------


def stream_from(ctx: WasiCtx, interface: str, function: str, source: InputStream,
                error: ErrorOf) -> tuple[Any, Any]:  # fmt: skip
    """``-> tuple<stream<u8>, future<result<_, E>>>`` (stdin, file and socket reads): a new
    stream fed from ``source`` by :func:`pump_in`, and its future; the two readers."""
    elem, res = elem_types(interface, function)
    ch = channels_of(ctx)
    reader, writer = ch.stream(elem)
    done_reader, done = ch.future(res)
    spawn(ctx, pump_in(source, writer, done, chunk=ctx.max_read_chunk, error=error))
    return (reader, done_reader)


def stream_into(ctx: WasiCtx, interface: str, function: str, data: ByteReader,
                sink: OutputStream, error: ErrorOf,
                finish: Callable[[], None] | None = None) -> Any:  # fmt: skip
    """``(data: stream<u8>) -> future<result<_, E>>`` (stdout, file and socket writes): the
    guest's stream copied into ``sink`` by :func:`pump_out`; the future's reader."""
    (res,) = elem_types(interface, function)
    done_reader, done = channels_of(ctx).future(res)
    spawn(ctx, pump_out(data, sink, done, error=error, finish=finish), output=True)
    return done_reader


def _resolved(ctx: WasiCtx, payload: Any, error: Any) -> Any:
    done_reader, done = channels_of(ctx).future(payload)
    resolve(done, Err(error))
    return done_reader


def failed_future(ctx: WasiCtx, interface: str, function: str, error: Any,
                  data: ByteReader) -> Any:  # fmt: skip
    """What ``(data: stream<u8>) -> future<result<_, E>>`` returns when it fails before any
    data moves: the future resolved to ``err(error)``; the guest's ``data`` is dropped."""
    data.close()
    (res,) = elem_types(interface, function)
    return _resolved(ctx, res, error)


def failed_stream(ctx: WasiCtx, interface: str, function: str, error: Any) -> tuple[Any, Any]:
    """What ``-> tuple<stream<T>, future<result<_, E>>>`` returns when it fails before any
    data moves: an ended stream and the future resolved to ``err(error)``."""
    elem, res = elem_types(interface, function)
    reader, writer = channels_of(ctx).stream(elem)
    writer.close()
    return (reader, _resolved(ctx, res, error))
