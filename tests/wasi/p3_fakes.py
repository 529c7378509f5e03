"""In-memory stream and future ends for driving the WASI 0.3 hosts from Python, standing in
for the guest's side of ``stream<T>``/``future<T>`` (the component-model async API's classes
take their place once a real guest runs).

A :class:`Pipe` is one stream: ``writer``/``reader`` ends with the methods the hosts use, with
``wasm_component.streams``' meanings (``read`` returns ``b""``/``[]`` at the end, ``write``
raises :class:`BrokenPipeError` once the reader is gone); the test plays the guest on the
other end. ``chunks`` records
each write, so tests can check the bounds of what the host sends at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

from wasm_component.wasi import WasiConfig, WasiCtx
from wasm_component.wasi.p3 import set_channels

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a host coroutine to completion on a fresh loop (at most 10 s)."""
    return asyncio.run(asyncio.wait_for(coro, 10))


def ctx_of(config: WasiConfig) -> tuple[WasiCtx, FakeChannels]:
    """A context for ``config`` whose 0.3 hosts make :class:`FakeChannels` ends."""
    ctx = WasiCtx(config)
    ch = FakeChannels()
    set_channels(ctx, ch)
    return ctx, ch


class Pipe:
    """One ``stream<T>`` between host and guest (bytes when ``binary``)."""

    def __init__(self, elem: Any = None, binary: bool = True) -> None:
        self.elem = elem
        self.binary = binary
        self.items: list[Any] = []  # values or bytes chunks not yet read
        self.chunks: list[Any] = []  # every write, as written
        self.writer_closed = False
        self.reader_closed = False
        self._changed = asyncio.Event()
        self.writer = _Writer(self)
        self.reader = _Reader(self)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait(self) -> None:
        await self._changed.wait()


class _Writer:
    def __init__(self, pipe: Pipe) -> None:
        self._p = pipe

    async def write(self, data: Any) -> None:
        p = self._p
        assert not p.writer_closed, "write after close"
        await asyncio.sleep(0)  # a write is a suspension point, as a real one
        if p.reader_closed:
            raise BrokenPipeError("the reader was dropped")
        p.chunks.append(data)
        if p.binary:
            p.items.append(bytes(data))
        else:
            assert isinstance(data, Sequence)
            p.items.extend(data)
        p._notify()

    def close(self) -> None:
        self._p.writer_closed = True
        self._p._notify()


class _Reader:
    def __init__(self, pipe: Pipe) -> None:
        self._p = pipe

    async def read(self, max_count: int) -> Any:
        p = self._p
        while not p.items:
            if p.writer_closed:
                return b"" if p.binary else []
            await p.wait()
        if p.binary:
            data = p.items[0]
            out, rest = data[:max_count], data[max_count:]
            if rest:
                p.items[0] = rest
            else:
                p.items.pop(0)
            return out
        out_v, p.items = p.items[:max_count], p.items[max_count:]
        return out_v

    async def read_all(self) -> Any:
        parts = []
        while chunk := await self.read(1 << 30):
            parts.append(chunk)
        if self._p.binary:
            return b"".join(parts)
        return [v for part in parts for v in part]

    def close(self) -> None:
        self._p.reader_closed = True
        self._p._notify()


class Future:
    """One ``future<T>``: the host writes once, the test awaits ``reader.read()``."""

    def __init__(self, elem: Any = None) -> None:
        self.elem = elem
        self._f: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.writer = self
        self.reader = self
        self.reader_closed = False

    def write(self, value: Any) -> None:
        assert not self._f.done(), "a future is written once"
        if self.reader_closed:
            raise BrokenPipeError("the reader was dropped")
        self._f.set_result(value)

    def close(self) -> None:  # the reader's
        self.reader_closed = True

    async def read(self) -> Any:
        return await asyncio.wait_for(asyncio.shield(self._f), 5)

    def done(self) -> bool:
        return self._f.done()


class FakeChannels:
    """A :class:`wasm_component.wasi.p3.Channels` of :class:`Pipe` and :class:`Future`
    (``(reader, writer)`` pairs, as ``wasm_component.streams``), remembering what it made."""

    def __init__(self) -> None:
        self.pipes: list[Pipe] = []
        self.futures: list[Future] = []

    def stream(self, elem: Any) -> tuple[Any, Any]:
        from wasm_component import types

        p = Pipe(elem, binary=elem == types.U8)
        self.pipes.append(p)
        return p.reader, p.writer

    def future(self, elem: Any) -> tuple[Any, Any]:
        f = Future(elem)
        self.futures.append(f)
        return f.reader, f.writer


def guest_stream(data: bytes, chunk: int = 1 << 20) -> Any:
    """A ``stream<u8>`` the guest has written ``data`` to and then dropped: its reader end."""
    p = Pipe()
    for i in range(0, len(data), chunk):
        p.items.append(data[i:i + chunk])
    p.writer_closed = True
    return p.reader
