"""The public async API against the runtime: ``func_wrap_async`` host imports, and host streams
crossing into and out of a callback-lifted guest (``benchmarks/components/async_streams.wat``:
``total(stream<u8>) -> u64``, ``produce(n) -> stream<u8>``, ``ping(x)`` awaiting the host's
``pong``)."""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path
from typing import Any

import pytest

from wasm_component import (
    ByteStreamReader,
    Component,
    Engine,
    Linker,
    LinkError,
    NotSupported,
    Store,
    stream,
)
from wasm_component import types as t

GUEST = (Path(__file__).resolve().parents[1] / "benchmarks" / "components"
         / "async_streams.wat").read_text()

# a component without async features importing `pong` as a synchronous function
SYNC_IMPORT = """(component
  (import "pong" (func $pong (param "x" u32) (result u32)))
  (core func $pong (canon lower (func $pong)))
  (core module $m (import "" "pong" (func $pong (param i32) (result i32)))
    (func (export "ping") (param i32) (result i32)
      (i32.add (call $pong (local.get 0)) (i32.const 1))))
  (core instance $i (instantiate $m (with "" (instance (export "pong" (func $pong))))))
  (func (export "ping") (param "x" u32) (result u32) (canon lift (core func $i "ping"))))"""


def _instance(pong: Any, wat: str = GUEST, data: Any = None, wrap: str = "func_wrap_async"
              ) -> tuple[Store, Any]:
    engine = Engine()
    store: Store[Any] = Store(engine, data)
    linker: Linker[Any] = Linker(engine)
    getattr(linker.root(), wrap)("pong", pong)
    return store, linker.instantiate(store, Component.new(engine, wat))


def _func(store: Store, inst: Any, name: str) -> Any:
    f = inst.get_func(store, name)
    assert f is not None
    return f


# -- func_wrap_async ---------------------------------------------------------------------------


def test_func_wrap_refuses_async_callables() -> None:
    """An `async def` given to the sync `func_wrap` would hand the guest a coroutine object as
    its result (and never await it): refused when defined, pointing at `func_wrap_async`."""
    li = Linker(Engine()).root()

    async def pong(store: Store, x: int) -> int:
        return x

    with pytest.raises(TypeError, match=r"`func_wrap`: expected a plain function for `pong`, "
                                         r"got the `async def` .*use `func_wrap_async`"):
        li.func_wrap("pong", pong)


def test_func_wrap_async_takes_only_async_callables() -> None:
    li = Linker(Engine()).root()
    with pytest.raises(TypeError, match=r"`func_wrap_async`: expected an `async def` for `f`.*"
                                         r"use `func_wrap`"):
        li.func_wrap_async("f", lambda store: 1)  # type: ignore[arg-type, return-value]

    class Pong:
        async def __call__(self, store: Store, x: int) -> int:
            return x

    async def pong(store: Store, x: int, extra: int) -> int:
        return x + extra

    li.func_wrap_async("g", Pong())
    li.func_wrap_async("h", functools.partial(pong, extra=1))


def test_async_import_sees_the_store_and_is_awaited() -> None:
    async def pong(store: Store[dict[str, int]], x: int) -> int:
        store.data["calls"] += 1
        await asyncio.sleep(0.001)
        return x * 2

    store, inst = _instance(pong, data={"calls": 0})
    ping = _func(store, inst, "ping")

    async def main() -> list[Any]:
        return list(await asyncio.gather(*(ping.call_async(store, x) for x in (1, 2, 3))))

    assert asyncio.run(main()) == [3, 5, 7]
    assert ping(store, 10) == 21  # a plain call drives the import on a private loop
    assert store.data["calls"] == 4


def test_async_wit_function_implemented_by_a_plain_def() -> None:
    store, inst = _instance(lambda store, x: x + 100, wrap="func_wrap")
    ping = _func(store, inst, "ping")
    assert asyncio.run(ping.call_async(store, 1)) == 102


def test_async_import_annotations_are_checked_at_link_time() -> None:
    async def pong(store: Store, x: str) -> int:
        return 0

    engine = Engine()
    linker: Linker[Any] = Linker(engine)
    linker.root().func_wrap_async("pong", pong)
    with pytest.raises(LinkError, match="parameter `x` is u32, but the host function annotates"):
        linker.instantiate(Store(engine), Component.new(engine, GUEST))


def test_an_exception_in_an_async_import_reaches_the_caller() -> None:
    async def pong(store: Store, x: int) -> int:
        await asyncio.sleep(0)
        raise KeyError("no pong")

    store, inst = _instance(pong)
    with pytest.raises(KeyError, match="no pong"):
        asyncio.run(_func(store, inst, "ping").call_async(store, 1))


def test_async_def_for_a_synchronous_import() -> None:
    """Outside a loop the call blocks until the coroutine is done; inside a running loop a
    component without async features cannot wait, which is `NotSupported`, not a guest trap."""

    async def pong(store: Store, x: int) -> int:
        await asyncio.sleep(0)
        return x * 3

    store, inst = _instance(pong, SYNC_IMPORT)
    ping = _func(store, inst, "ping")
    assert ping(store, 2) == 7
    assert ping(store, 3) == 10

    async def main() -> Any:
        return await ping.call_async(store, 2)

    with pytest.raises(NotSupported, match="`pong`: an `async def` host function imported as a "
                                            "synchronous function"):
        asyncio.run(main())


# -- streams across the boundary ---------------------------------------------------------------


def test_host_stream_into_the_guest() -> None:
    store, inst = _instance(lambda store, x: x, wrap="func_wrap")
    total = _func(store, inst, "total")

    async def main() -> int:
        r, w = stream(t.U8)

        async def feed() -> None:
            async with w:
                await w.write(b"x" * 3)
                await w.write(memoryview(bytes(2_500_000)))  # more than one guest read
                await w.write(b"")  # a zero-length write waits for the guest's next read

        task = asyncio.ensure_future(feed())
        n = await total.call_async(store, r)
        await task
        assert r.closed  # moved into the guest
        return int(n)

    assert asyncio.run(main()) == 2_500_003


def test_guest_stream_out_to_the_host() -> None:
    store, inst = _instance(lambda store, x: x, wrap="func_wrap")
    produce = _func(store, inst, "produce")

    async def main() -> tuple[bytes, list[int]]:
        r = await produce.call_async(store, 3 << 20 | 5)
        assert isinstance(r, ByteStreamReader) and r.type == t.StreamType(t.U8)
        first = await r.read(16)  # the guest's memory from 0
        sizes = [len(first)]
        async for chunk in r:
            sizes.append(len(chunk))
        return first, sizes

    first, sizes = asyncio.run(main())
    assert first == b"0123456789abcdef"
    assert sum(sizes) == 3 << 20 | 5 and max(sizes) <= 1 << 16  # DEFAULT_CHUNK reads


def test_host_drops_a_guest_stream_early() -> None:
    """The host closes the reader after one chunk: the guest's pending write learns DROPPED,
    drops its end and finishes; the store goes on working."""
    store, inst = _instance(lambda store, x: x, wrap="func_wrap")
    produce, ping = _func(store, inst, "produce"), _func(store, inst, "ping")

    async def main() -> int:
        r = await produce.call_async(store, 8 << 20)
        chunk = await r.read(100)
        r.close()
        await asyncio.sleep(0)
        return len(chunk) + int(await ping.call_async(store, 1))

    assert asyncio.run(main()) == 100 + 2


def test_passing_a_writer_or_a_wrong_stream_is_a_type_error() -> None:
    store, inst = _instance(lambda store, x: x, wrap="func_wrap")
    total = _func(store, inst, "total")
    _, w = stream(t.U8)
    with pytest.raises(TypeError, match="expected a StreamReader for stream<u8>, got "
                                        "ByteStreamWriter"):
        asyncio.run(total.call_async(store, w))
    # (the runtime lowers an async call's arguments inside the task, where a host error
    # poisons the instance: a fresh one for the next case)
    store, inst = _instance(lambda store, x: x, wrap="func_wrap")
    total = _func(store, inst, "total")
    r32, _ = stream(t.U32)
    with pytest.raises(TypeError, match="expected a StreamReader of stream<u8>, got one of "
                                        "stream<u32>"):
        asyncio.run(total.call_async(store, r32))


# -- error contexts ----------------------------------------------------------------------------

ERROR_CONTEXTS = """(component
  (core module $libc (memory (export "mem") 1) (data (i32.const 0) "guest failed"))
  (core instance $libc (instantiate $libc))
  (core func $new (canon error-context.new (memory (core memory $libc "mem"))))
  (core module $m (import "" "new" (func $new (param i32 i32) (result i32)))
    (func (export "make") (result i32) (call $new (i32.const 0) (i32.const 12)))
    (func (export "echo") (param i32) (result i32) (local.get 0)))
  (core instance $i (instantiate $m (with "" (instance (export "new" (func $new))))))
  (func (export "make") (result error-context) (canon lift (core func $i "make")))
  (func (export "echo") (param "e" error-context) (result error-context)
    (canon lift (core func $i "echo"))))"""


def test_error_contexts_cross_both_ways() -> None:
    from wasm_component import ErrorContext

    engine = Engine()
    store = Store(engine)
    inst = Linker(engine).instantiate(store, Component.new(engine, ERROR_CONTEXTS))
    made = _func(store, inst, "make")(store)
    assert isinstance(made, ErrorContext) and made.debug_message == "guest failed"
    mine = ErrorContext("made by the host")
    back = _func(store, inst, "echo")(store, mine)
    assert back is mine and back.debug_message == "made by the host"
    with pytest.raises(TypeError, match="expected error-context, got str"):
        _func(store, inst, "echo")(store, "not one")


def test_a_guest_stream_read_on_a_later_event_loop() -> None:
    """The guest task that writes a returned stream is driven from whichever loop the host
    reads on, even when a drive was scheduled on an earlier loop that closed before running
    it: the first `asyncio.run` reads part of the stream, a loop that stops at once is notified
    and closed, and a third loop reads the rest."""
    store, inst = _instance(lambda store, x: x, wrap="func_wrap")
    produce = _func(store, inst, "produce")
    n = 3 << 20

    async def start() -> Any:
        r = await produce.call_async(store, n)
        assert len(await r.read(1 << 20)) == 1 << 20
        return r

    r = asyncio.run(start())
    sched = store._sched
    assert sched is not None
    loop = asyncio.new_event_loop()

    def notify_and_stop() -> None:
        sched.notify()  # schedules a drive on this loop, which stops before running it
        loop.stop()

    loop.call_soon(notify_and_stop)
    loop.run_forever()
    loop.close()
    rest = asyncio.run(asyncio.wait_for(r.read_all(), 30))
    assert len(rest) == n - (1 << 20)
