"""Component-model async rows for ``run.py``. wasmtime-py has no async API, so both columns are
ours, on the callback-lifted guest ``components/async_streams.wat``; each row's "peer" column is
a reference chosen so that the ratio says what the issue asks:

- ``async-import``: ``await ping.call_async(store, x)``, whose guest awaits the ``async def``
  host import ``pong`` (an export task plus a host subtask). Reference: our synchronous round
  trip of an export calling a plain host import once (``imports``' ``run-nop(1)``).
- ``stream-in-1MiB`` / ``stream-out-1MiB``: ``stream<u8>`` throughput at 1 MiB chunks, host to
  guest (``total``) and guest to host (``produce``), time per MiB. Reference: the 1 GB/s line
  itself (a timed spin of 1.048576 ms per MiB), so the ratio is 1 GB/s over our throughput and
  the issue's ">= 1 GB/s" is a ratio of at most 1.
- ``tasks-10k``: 10,000 concurrent ``call_async`` tasks in one store, all parked in the host
  import at once, then released; time per task. Reference: the same with 1,000 tasks, so the
  ratio is how far from linear the cost per task grows. The row's note gives the memory per
  parked task (the process's resident size before and after they all parked).
- ``stackful-yield``: a stackful task's ``thread.yield`` (its fiber suspended and resumed),
  per yield, through a plain call. Reference: a callback-lifted task answering ``YIELD`` as
  often (the same scheduler round trip without a stack to park).

Each ``op_*(side, job, ours)`` gets the side (``ours`` for the measured column, anything else
for the reference), ``run.py``'s ``Job`` class and our side object.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

MIB = 1 << 20
CHUNKS = 16  # MiB per iteration of a stream row
GBPS_US_PER_MIB = MIB / 1e9 * 1e6  # 1,048.576 µs: one MiB at 1 GB/s


def _async_instance(ours: Any, pong: Any) -> tuple[Any, Any]:
    from wasm_component import Linker, Store

    store = Store(ours.engine)
    linker = Linker(ours.engine)
    linker.root().func_wrap_async("pong", pong)
    return store, linker.instantiate(store, ours.component("async_streams"))


def _loop_job(job: Any, loop: asyncio.AbstractEventLoop, coro_fn: Any, per: int = 1) -> Any:
    return job(lambda _, n: loop.run_until_complete(coro_fn(n)), per=per)


def _gbps_line(job: Any) -> Any:
    """The reference of a throughput row: 1 MiB per 1.048576 ms, spun on the clock."""

    def run(_: Any, n: int) -> None:
        end = time.perf_counter() + n * CHUNKS * GBPS_US_PER_MIB / 1e6
        while time.perf_counter() < end:
            pass

    return job(run, per=CHUNKS)


def op_async_import(side: Any, job: Any, ours: Any) -> Any:
    if side is not ours:
        store = ours.new_store()
        linker = ours.linker(funcs={"host-nop": lambda store: None,
                                    "host-log": lambda store, s: None})
        run_nop = ours.func(ours.instantiate(linker, store, ours.component("imports")), store,
                            "run-nop")

        def sync(_: Any, n: int) -> None:
            for _ in range(n):
                run_nop(store, 1)

        return job(sync)

    async def pong(store: Any, x: int) -> int:
        return x * 2

    store, inst = _async_instance(ours, pong)
    ping = ours.func(inst, store, "ping")
    loop = asyncio.new_event_loop()
    got = loop.run_until_complete(ping.call_async(store, 20))
    if got != 41:
        raise AssertionError(f"ping: got {got}, want 41")

    async def calls(n: int) -> None:
        for _ in range(n):
            await ping.call_async(store, 20)

    return _loop_job(job, loop, calls)


def op_stream_in(side: Any, job: Any, ours: Any) -> Any:
    if side is not ours:
        return _gbps_line(job)
    from wasm_component import stream, types

    store, inst = _async_instance(ours, _no_pong)
    total = ours.func(inst, store, "total")
    chunk = bytes(MIB)
    loop = asyncio.new_event_loop()

    async def one(chunks: int) -> int:
        r, w = stream(types.U8)

        async def feed() -> None:
            async with w:
                for _ in range(chunks):
                    await w.write(chunk)

        task = asyncio.ensure_future(feed())
        got = int(await total.call_async(store, r))
        await task
        return got

    got = loop.run_until_complete(one(2))
    if got != 2 * MIB:
        raise AssertionError(f"total: got {got}, want {2 * MIB}")

    async def calls(n: int) -> None:
        for _ in range(n):
            await one(CHUNKS)

    return _loop_job(job, loop, calls, per=CHUNKS)


def op_stream_out(side: Any, job: Any, ours: Any) -> Any:
    if side is not ours:
        return _gbps_line(job)
    store, inst = _async_instance(ours, _no_pong)
    produce = ours.func(inst, store, "produce")
    loop = asyncio.new_event_loop()

    async def one(chunks: int) -> int:
        r = await produce.call_async(store, chunks * MIB)
        n = 0
        while not r.at_eof():
            n += len(await r.read(MIB))
        return n

    got = loop.run_until_complete(one(2))
    if got != 2 * MIB:
        raise AssertionError(f"produce: got {got} bytes, want {2 * MIB}")

    async def calls(n: int) -> None:
        for _ in range(n):
            await one(CHUNKS)

    return _loop_job(job, loop, calls, per=CHUNKS)


async def _no_pong(store: Any, x: int) -> int:
    return x


def op_tasks(side: Any, job: Any, ours: Any) -> Any:
    tasks = 10_000 if side is ours else 1_000
    gate: list[asyncio.Future[None]] = []
    entered = [0]

    async def pong(store: Any, x: int) -> int:
        entered[0] += 1
        await gate[0]
        return x

    store, inst = _async_instance(ours, pong)
    ping = ours.func(inst, store, "ping")
    loop = asyncio.new_event_loop()

    async def wave(count: int, measure: bool = False) -> int:
        gate[:] = [loop.create_future()]
        entered[0] = 0
        calls = [asyncio.ensure_future(ping.call_async(store, k % 200)) for k in range(count)]
        while entered[0] < count:  # every task waits in the host import
            await asyncio.sleep(0)
        used = _rss() if measure else 0
        gate[0].set_result(None)
        got = await asyncio.gather(*calls)
        if got != [k % 200 + 1 for k in range(count)]:
            raise AssertionError("ping results differ")
        return used

    loop.run_until_complete(wave(10))
    base = _rss()
    used = loop.run_until_complete(wave(tasks, measure=True)) - base

    def run(_: Any, n: int) -> None:
        for _ in range(n):
            loop.run_until_complete(wave(tasks))

    j = job(run, per=tasks)
    j.note = f"{tasks:,} tasks parked: {used / tasks / 1024:.1f} KiB resident memory per task"
    return j


def _rss() -> int:
    """The process's resident set size in bytes (Linux; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


# ``stackful-yield``: a stackful task yields (``thread.yield``) N times, each yield a suspension
# and a resumption of its fiber. Reference: a callback-lifted task whose callback answers YIELD
# N times (the same round trip through the scheduler, with no stack to park).
YIELDS = 1000
_STACKFUL_YIELD = """
(component
  (core func $yield (canon thread.yield))
  (core func $ret (canon task.return (result u32)))
  (core module $m
    (import "" "yield" (func $yield (result i32)))
    (import "" "ret" (func $ret (param i32)))
    (func (export "run") (param $n i32) (local $k i32)
      (block $done (loop $l
        (br_if $done (i32.ge_u (local.get $k) (local.get $n)))
        (drop (call $yield))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $l)))
      (call $ret (local.get $k))))
  (core instance $i (instantiate $m (with "" (instance
    (export "yield" (func $yield)) (export "ret" (func $ret))))))
  (func (export "run") async (param "n" u32) (result u32)
    (canon lift (core func $i "run") async)))
"""
_CALLBACK_YIELD = """
(component
  (core func $ret (canon task.return (result u32)))
  (core module $m
    (import "" "ret" (func $ret (param i32)))
    (global $n (mut i32) (i32.const 0))
    (global $k (mut i32) (i32.const 0))
    (func (export "run") (param $n i32) (result i32)
      (global.set $n (local.get $n)) (global.set $k (i32.const 0))
      (call $cb (i32.const 0) (i32.const 0) (i32.const 0)))
    (func $cb (export "cb") (param i32 i32 i32) (result i32)
      (if (result i32) (i32.ge_u (global.get $k) (global.get $n))
        (then (call $ret (global.get $k)) (i32.const 0))
        (else (global.set $k (i32.add (global.get $k) (i32.const 1))) (i32.const 1)))))
  (core instance $i (instantiate $m (with "" (instance (export "ret" (func $ret))))))
  (func (export "run") async (param "n" u32) (result u32)
    (canon lift (core func $i "run") async (callback (core func $i "cb")))))
"""


def op_stackful_yield(side: Any, job: Any, ours: Any) -> Any:
    from wasm_component import Component, Linker, Store

    text = _STACKFUL_YIELD if side is ours else _CALLBACK_YIELD
    store = Store(ours.engine)
    run = ours.func(Linker(ours.engine).instantiate(store, Component.new(ours.engine, text)),
                    store, "run")
    if run(store, 3) != 3:
        raise AssertionError("run: got the wrong count")

    def calls(_: Any, n: int) -> None:
        for _ in range(n):
            run(store, YIELDS)

    return job(calls, per=YIELDS)
