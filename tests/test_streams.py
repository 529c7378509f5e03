"""The host's streams, futures and error contexts (``wasm_component.streams``) over the pure
state machines, without wasmtime: host to host through one ``SharedStream``/``SharedFuture``, and
against guest buffers in a ``BytearrayMemory`` driven by the async built-ins, as a guest would."""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from wasm_component import (
    ByteStreamReader,
    ByteStreamWriter,
    ErrorContext,
    FutureReader,
    StreamReader,
    Trap,
    future,
    stream,
)
from wasm_component import types as t
from wasm_component._abi import BytearrayMemory, CanonicalOptions, LiftLowerContext
from wasm_component._abi.concurrency import (
    BLOCKED,
    AsyncInstanceState,
    CopyOptions,
    ElemCodec,
    EventCode,
    SyncDriver,
    Task,
    Thread,
    elem_codec,
)
from wasm_component._abi.concurrency import builtins as b
from wasm_component.streams import (
    lift_future_end,
    lift_stream_end,
    lower_future_end,
    lower_stream_end,
)
from wasm_component.values import Record


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)


async def settle() -> None:
    """Let every ready task run (a few loop turns)."""
    for _ in range(5):
        await asyncio.sleep(0)


# -- host to host ------------------------------------------------------------------------------


def test_bytes_round_trip_and_iteration() -> None:
    async def main() -> list[bytes]:
        r, w = stream(t.U8)
        assert isinstance(r, ByteStreamReader) and isinstance(w, ByteStreamWriter)

        async def produce() -> None:
            async with w:
                await w.write(b"hello ")
                await w.write(bytearray(b"big "))
                await w.write(memoryview(b"world"))
                await w.write([33, 10])

        task = asyncio.ensure_future(produce())
        chunks = [c async for c in r]
        await task
        return chunks

    chunks = run(main())
    assert b"".join(chunks) == b"hello big world!\n"
    assert all(isinstance(c, bytes) for c in chunks)


def test_a_write_waits_for_the_reader_and_partial_reads_take_turns() -> None:
    """No buffering: the writer's ``write`` returns only when readers took all of it (back
    pressure), and reads smaller than the write get consecutive slices."""

    async def main() -> None:
        r, w = stream(t.U8)
        writing = asyncio.ensure_future(w.write(b"0123456789"))
        await settle()
        assert not writing.done()  # nobody read yet
        assert await r.read(3) == b"012"
        await settle()
        assert not writing.done()
        assert await r.read(4) == b"3456"
        assert await r.read(100) == b"789"
        await settle()
        assert writing.done() and writing.result() is None
        # the reader first: its buffer is topped up by several writes until it resumes
        reading = asyncio.ensure_future(r.read(8))
        await settle()
        await w.write(b"ab")  # completes at once: the reader was waiting
        await w.write(b"cd")  # tops up the same pending buffer
        assert await reading == b"abcd"

    run(main())


def test_memoryview_of_wider_items_moves_its_bytes() -> None:
    import array

    async def main() -> bytes:
        r, w = stream(t.U8)
        data = array.array("I", [1, 2])
        task = asyncio.ensure_future(w.write(memoryview(data)))
        got = await r.read(100)
        await task
        return bytes(got)

    assert run(main()) == bytes(array.array("I", [1, 2]))


def test_values_streams_move_lists() -> None:
    rt = t.RecordType((("x", t.U32), ("name", t.STRING)))

    async def main() -> tuple[Any, ...]:
        r, w = stream(rt)
        assert type(r) is StreamReader
        vals = [Record(x=i, name=str(i)) for i in range(5)]

        async def produce() -> None:
            await w.write(vals[:2])
            await w.write(tuple(vals[2:]))
            w.close()

        task = asyncio.ensure_future(produce())
        first = await r.read(3)
        rest = await r.read_all()
        await task
        return first, rest, r.at_eof(), await r.read()

    first, rest, eof, after = run(main())
    # the reader waited first, so both writes filled its buffer before it resumed
    assert [v["x"] for v in first] == [0, 1, 2] and [v["x"] for v in rest] == [3, 4]
    assert eof and after == []


def test_zero_length_reads_and_writes_rendezvous() -> None:
    async def main() -> None:
        r, w = stream(t.U32)
        # read(0) waits until a writer offers data, and takes none of it
        peek = asyncio.ensure_future(r.read(0))
        await settle()
        assert not peek.done()
        writing = asyncio.ensure_future(w.write([1, 2]))
        assert await peek == []
        assert await r.read() == [1, 2]
        await writing
        # wait_ready (a zero-length write) waits until a reader waits
        ready = asyncio.ensure_future(w.wait_ready())
        await settle()
        assert not ready.done()
        reading = asyncio.ensure_future(r.read(5))
        assert await ready is True
        assert not reading.done()  # the zero-length write moved nothing
        await w.write([3])
        assert await reading == [3]
        # an empty write is the same zero-length write
        reading = asyncio.ensure_future(r.read(5))
        await settle()
        await w.write([])
        assert not reading.done()
        w.close()
        assert await reading == [] and r.at_eof()

    run(main())


def test_closing_the_writer_ends_the_stream_after_what_was_read() -> None:
    async def main() -> None:
        r, w = stream(t.U8)
        reading = asyncio.ensure_future(r.read(10))
        await settle()
        w.close()
        assert await reading == b"" and r.at_eof()
        assert [c async for c in r] == []
        with pytest.raises(ValueError, match="stream writer is closed"):
            await w.write(b"x")
        w.close()  # twice is harmless

    run(main())


def test_dropping_the_reader_breaks_the_writers_pipe() -> None:
    async def main() -> None:
        r, w = stream(t.U8)
        writing = asyncio.ensure_future(w.write(b"abcdef"))
        assert await r.read(2) == b"ab"
        r.close()
        with pytest.raises(BrokenPipeError, match="reader was dropped after 2 of 6"):
            await writing
        assert w.reader_dropped()
        with pytest.raises(BrokenPipeError, match="after 0 of 1"):
            await w.write(b"z")
        assert await w.wait_ready() is False
        with pytest.raises(ValueError, match="stream reader is closed"):
            await r.read()

    run(main())


def test_closing_a_writer_with_a_write_in_flight() -> None:
    async def main() -> None:
        r, w = stream(t.U8)
        writing = asyncio.ensure_future(w.write(b"abc"))
        await settle()
        w.close()
        with pytest.raises(BrokenPipeError, match="writer was closed after 0 of 3"):
            await writing
        assert await r.read() == b"" and r.at_eof()

    run(main())


def test_cancelling_a_read_cancels_the_copy_and_loses_nothing() -> None:
    async def main() -> None:
        r, w = stream(t.U8)
        reading = asyncio.ensure_future(r.read(10))
        await settle()
        reading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reading
        # nothing is pending any more: a write now waits for the next read
        writing = asyncio.ensure_future(w.write(b"xyz"))
        await settle()
        assert not writing.done()
        assert await r.read(10) == b"xyz"
        await writing
        # cancelled after data arrived but before the reader ran: the data is kept
        reading = asyncio.ensure_future(r.read(10))
        await settle()
        await w.write(b"kept")
        reading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reading
        assert await r.read(2) == b"ke"
        assert await r.read(0) == b"" and not r.at_eof()  # what is left is there at once
        assert await r.read() == b"pt"

    run(main())


def test_cancelling_a_write_cancels_the_copy() -> None:
    async def main() -> None:
        r, w = stream(t.U8)
        writing = asyncio.ensure_future(w.write(b"abcdef"))
        assert await r.read(2) == b"ab"
        writing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await writing
        reading = asyncio.ensure_future(r.read(10))
        await settle()
        assert not reading.done()  # the rest of the cancelled write is gone
        await w.write(b"g")
        assert await reading == b"g"

    run(main())


def test_one_copy_at_a_time_per_end() -> None:
    async def main() -> None:
        r, _ = stream(t.U8)
        first = asyncio.ensure_future(r.read())
        await settle()
        with pytest.raises(RuntimeError, match="another read of this stream is in progress"):
            await r.read()
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first

    run(main())


def test_garbage_collected_writer_ends_the_stream() -> None:
    async def main() -> None:
        r, w = stream(t.U8)
        reading = asyncio.ensure_future(r.read())
        await settle()
        del w
        gc.collect()
        assert await reading == b"" and r.at_eof()

    run(main())


def test_payload_less_streams_move_units() -> None:
    async def main() -> None:
        r, w = stream(None)
        assert r.type == t.StreamType(None)
        task = asyncio.ensure_future(w.write([(), (), ()]))
        assert await r.read(2) == [(), ()]
        assert await r.read(2) == [()]
        await task
        with pytest.raises(TypeError, match="payload-less stream"):
            await w.write([1])

    run(main())


def test_write_type_errors() -> None:
    async def main() -> None:
        _, w = stream(t.U32)
        with pytest.raises(TypeError, match="expected a sequence of u32, got int"):
            await w.write(3)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="expected a sequence of u32, got bytes"):
            await w.write(b"ab")
        _, bw = stream(t.U8)
        with pytest.raises(TypeError, match="expected bytes, got list"):
            await bw.write([256])
        with pytest.raises(ValueError, match="expected a count >= 0, got -1"):
            await stream(t.U8)[0].read(-1)

    run(main())
    with pytest.raises(TypeError, match="`stream`: expected a component type or None"):
        stream("u8")  # type: ignore[arg-type]


def test_host_to_host_values_are_checked_at_the_write() -> None:
    point = t.RecordType((("x", t.U32), ("label", t.STRING)))

    async def main() -> None:
        r, w = stream(point)
        with pytest.raises(TypeError, match=r"^`StreamWriter.write`: expected string, got int"):
            await asyncio.wait_for(
                w.write([Record(x=1, label="a"), Record(x=2, label=3)]), 5)
        with pytest.raises(ValueError, match=r"^`StreamWriter.write`: u32 out of range"):
            await asyncio.wait_for(w.write([Record(x=-1, label="a")]), 5)  # (unchecked: it waits)
        _, sw = stream(t.ListType(t.STRING))
        with pytest.raises(TypeError, match=r"^`StreamWriter.write`: expected list, got str"):
            await asyncio.wait_for(sw.write([["a"], "b"]), 5)  # (unchecked: it waits)
        # nothing was offered: a good write still goes through whole
        task = asyncio.ensure_future(w.write([Record(x=7, label="seven")]))
        assert await r.read(5) == [Record(x=7, label="seven")]
        await task
        fr, fw = future(t.OptionType(t.U8))
        with pytest.raises(TypeError, match=r"^`FutureWriter.write`: expected u8, got str"):
            fw.write("x")
        fw.write(None)
        assert await fr is None

    run(main())


# -- futures -------------------------------------------------------------------------------------


def test_future_written_before_and_after_the_read() -> None:
    async def main() -> None:
        fr, fw = future(t.STRING)
        fw.write("early")
        assert await fr == "early" and await fr.read() == "early" and fr.done()
        fr, fw = future(t.U64)
        reading = asyncio.ensure_future(fr.read())
        await settle()
        assert not reading.done()
        fw.write(2**64 - 1)
        assert await reading == 2**64 - 1
        with pytest.raises(ValueError, match="future writer is closed"):
            fw.write(1)

    run(main())


def test_an_unwritten_future_writer_writes_the_default() -> None:
    async def main() -> None:
        fr, fw = future(t.OptionType(t.U32))
        fw.close()
        assert await fr is None
        fr, fw = future(t.U32, default=lambda: 42)
        reading = asyncio.ensure_future(fr.read())
        await settle()
        del fw
        gc.collect()
        assert await reading == 42
        fr, fw = future(None)
        fw.close()
        assert await fr is None

    run(main())
    with pytest.raises(ValueError, match=r"future<stream<u8>>|stream<u8> has no default value"):
        future(t.StreamType(t.U8))
    with pytest.raises(TypeError, match="expected a callable default"):
        future(t.U8, default=3)  # type: ignore[arg-type]


def test_future_reader_dropped() -> None:
    async def main() -> None:
        fr, fw = future(t.U8)
        fr.close()
        with pytest.raises(BrokenPipeError, match="reader was dropped"):
            fw.write(1)
        fr, fw = future(t.U8)
        reading = asyncio.ensure_future(fr.read())
        await settle()
        with pytest.raises(RuntimeError, match="a read is in progress"):
            fr.close()
        reading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reading
        fw.write(9)  # the cancelled read took nothing: the next one gets it
        assert await fr == 9

    run(main())


def test_error_context_carries_its_message() -> None:
    e = ErrorContext("it broke")
    assert e.debug_message == "it broke"
    inst = AsyncInstanceState()
    mem = BytearrayMemory(256)
    cx = LiftLowerContext(CanonicalOptions(memory=mem), inst)
    from wasm_component._abi.handles import lift_error_context, lower_error_context

    i = lower_error_context(cx, e)
    assert lift_error_context(cx, i) is e
    got: list[str] = []
    b.error_context_debug_message(inst, lambda s, ptr: got.append(s), i, 0)
    assert got == ["it broke"]


# -- against guest buffers --------------------------------------------------------------------


class Guest:
    """One instance with a running thread, a memory, and copy options for one element type."""

    def __init__(self, vt: t.Type, codec: Callable[[t.Type, LiftLowerContext], ElemCodec]
                 = elem_codec) -> None:
        self.inst = AsyncInstanceState()
        task = Task(self.inst, t.FuncType((), None, is_async=True), CanonicalOptions(async_=True))
        self.thread = Thread(task, SyncDriver())
        self.mem = BytearrayMemory(1 << 16)
        cx = LiftLowerContext(CanonicalOptions(memory=self.mem), self.inst)
        self.opts = CopyOptions(True, self.mem, codec(vt, cx))
        self.st = t.StreamType(vt)
        self.ft = t.FutureType(vt)
        self.ws = b.waitable_set_new(self.inst)

    def read(self, i: int, ptr: int, n: int) -> int:
        return b.stream_read(self.thread, self.st, self.opts, i, ptr, n)

    def write(self, i: int, ptr: int, n: int) -> int:
        return b.stream_write(self.thread, self.st, self.opts, i, ptr, n)

    def join(self, i: int) -> None:
        b.waitable_join(self.inst, i, self.ws)

    def poll(self) -> tuple[int, int, int]:
        code = b.waitable_set_poll(self.thread, False, self.mem, self.ws, 1024)
        d = self.mem.data
        return (code, int.from_bytes(d[1024:1028], "little"),
                int.from_bytes(d[1028:1032], "little"))


def _refusing(vt: t.Type, cx: LiftLowerContext) -> ElemCodec:
    c = elem_codec(vt, cx)

    def no(*args: Any) -> Any:
        raise AssertionError("stream<u8> moves slices, never elements")

    return ElemCodec(c.size, c.align, no, no, c.bulk)


def test_host_writer_to_guest_reader_in_slices() -> None:
    notified: list[int] = []
    g = Guest(t.U8, _refusing)

    async def main() -> None:
        r, w = stream(t.U8)
        ri = b.lower_stream(g.inst, lower_stream_end(r, g.st, lambda: notified.append(1)))
        assert r.closed
        with pytest.raises(ValueError, match="stream reader is moved into a guest"):
            await r.read()
        writing = asyncio.ensure_future(w.write(b"hello world"))
        await settle()
        assert notified  # the writer's offer was signalled to the runtime
        assert g.read(ri, 0, 5) == 5 << 4  # a partial copy, at once
        await settle()
        assert not writing.done()
        assert g.read(ri, 5, 100) == 6 << 4
        await writing
        assert bytes(g.mem.data[:11]) == b"hello world"

    async def main2() -> None:
        # the guest waits first; the host's write completes its read (an event)
        r, w = stream(t.U8)
        ri = b.lower_stream(g.inst, lower_stream_end(r, g.st, lambda: notified.append(1)))
        g.join(ri)
        assert g.read(ri, 100, 4) == BLOCKED
        n = len(notified)
        writing = asyncio.ensure_future(w.write(b"abcdef"))
        await settle()
        assert len(notified) > n
        assert g.poll() == (EventCode.STREAM_READ, ri, 4 << 4)
        assert bytes(g.mem.data[100:104]) == b"abcd"
        assert not writing.done()  # two bytes left: the write waits for the next read
        assert g.read(ri, 104, 4) == 2 << 4
        await writing
        w.close()
        assert g.read(ri, 104, 4) == 1  # DROPPED, nothing copied

    run(main())
    run(main2())


def test_guest_writer_to_host_reader_in_slices() -> None:
    g = Guest(t.U8, _refusing)

    async def main() -> None:
        packed = b.stream_new(g.inst, g.st)
        ri, wi = packed & 0xFFFF_FFFF, packed >> 32
        r = lift_stream_end(b.lift_stream(g.inst, ri, t.U8), None)
        assert isinstance(r, ByteStreamReader)
        g.mem.data[0:10] = b"0123456789"
        # the guest writes first: the host's read takes what fits
        assert g.write(wi, 0, 10) == BLOCKED
        assert await r.read(4) == b"0123"
        assert await r.read(100) == b"456789"
        g.join(wi)
        assert g.poll() == (EventCode.STREAM_WRITE, wi, 10 << 4)
        # the host reads first; the guest's write completes it
        reading = asyncio.ensure_future(r.read(100))
        await settle()
        assert g.write(wi, 2, 3) == 3 << 4
        assert await reading == b"234"
        # the guest drops its writer: end of stream
        b.stream_drop_writable(g.inst, g.st, wi)
        assert await r.read() == b"" and r.at_eof()

    run(main())


def test_host_reader_dropped_under_a_guest_write() -> None:
    g = Guest(t.U32)

    async def main() -> None:
        packed = b.stream_new(g.inst, g.st)
        ri, wi = packed & 0xFFFF_FFFF, packed >> 32
        r = lift_stream_end(b.lift_stream(g.inst, ri, t.U32), None)
        for k in range(4):
            g.mem.data[4 * k : 4 * k + 4] = (k + 10).to_bytes(4, "little")
        assert g.write(wi, 0, 4) == BLOCKED
        assert await r.read(1) == [10]
        r.close()
        g.join(wi)
        assert g.poll() == (EventCode.STREAM_WRITE, wi, 1 | (1 << 4))  # DROPPED after 1

    run(main())


def test_cancelling_a_host_read_against_a_guest() -> None:
    g = Guest(t.U8)

    async def main() -> None:
        packed = b.stream_new(g.inst, g.st)
        ri, wi = packed & 0xFFFF_FFFF, packed >> 32
        r = lift_stream_end(b.lift_stream(g.inst, ri, t.U8), None)
        reading = asyncio.ensure_future(r.read(8))
        await settle()
        reading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reading
        g.mem.data[0:2] = b"hi"
        assert g.write(wi, 0, 2) == BLOCKED  # the cancelled read left nothing pending
        assert await r.read() == b"hi"

    run(main())


def test_futures_both_ways_with_a_guest() -> None:
    g = Guest(t.STRING)
    mem = g.mem
    cx = LiftLowerContext(CanonicalOptions(memory=mem, realloc=mem.realloc), g.inst)
    g.opts = CopyOptions(True, mem, elem_codec(t.STRING, cx))

    async def main() -> None:
        # host -> guest: the guest reads a future the host writes later
        fr, fw = future(t.STRING)
        ri = b.lower_future(g.inst, lower_future_end(fr, g.ft, None))
        g.join(ri)
        assert b.future_read(g.thread, g.ft, g.opts, ri, 0) == BLOCKED
        fw.write("done")
        assert g.poll() == (EventCode.FUTURE_READ, ri, 0)
        ptr, n = (int.from_bytes(mem.data[k : k + 4], "little") for k in (0, 4))
        assert bytes(mem.data[ptr : ptr + n]) == b"done"
        # a host writer closed unwritten: the guest reads the default, never DROPPED
        fr, fw = future(t.STRING)
        ri2 = b.lower_future(g.inst, lower_future_end(fr, g.ft, None))
        fw.close()
        assert b.future_read(g.thread, g.ft, g.opts, ri2, 16) == 0
        assert int.from_bytes(mem.data[20:24], "little") == 0
        # guest -> host
        packed = b.future_new(g.inst, g.ft)
        gri, gwi = packed & 0xFFFF_FFFF, packed >> 32
        reader = lift_future_end(b.lift_future(g.inst, gri, t.STRING), None)
        assert isinstance(reader, FutureReader)
        reading = asyncio.ensure_future(reader.read())
        await settle()
        s = mem.realloc(0, 0, 1, 2)
        mem.data[s : s + 2] = b"ok"
        mem.data[32:36] = s.to_bytes(4, "little")
        mem.data[36:40] = (2).to_bytes(4, "little")
        assert b.future_write(g.thread, g.ft, g.opts, gwi, 32) == 0
        assert await reading == "ok"
        b.future_drop_writable(g.inst, g.ft, gwi)
        assert await reader == "ok"

    run(main())


def test_lower_end_checks_what_it_moves() -> None:
    g = Guest(t.U8)
    r, w = stream(t.U8)
    with pytest.raises(TypeError, match=r"expected a StreamReader for stream<u8>, got ByteStreamWriter"):
        lower_stream_end(w, g.st, None)
    with pytest.raises(TypeError, match=r"expected a StreamReader of stream<u32>, got one of stream<u8>"):
        lower_stream_end(r, t.StreamType(t.U32), None)
    with pytest.raises(TypeError, match=r"expected a FutureReader for future<u8>, got ByteStreamReader"):
        lower_future_end(r, g.ft, None)
    lower_stream_end(r, g.st, None)
    with pytest.raises(ValueError, match="moved into a guest"):
        lower_stream_end(r, g.st, None)
    fr, fw = future(t.U8)
    fw.write(1)

    async def read_it() -> None:
        assert await fr == 1

    run(read_it())
    with pytest.raises(ValueError, match="whose value the host read"):
        lower_future_end(fr, g.ft, None)


def test_a_guest_on_another_thread_completes_a_host_read() -> None:
    """The copy's callbacks may run on another OS thread (a guest stack parked there): the host
    coroutine is woken through ``call_soon_threadsafe``."""
    g = Guest(t.U8)

    async def main() -> bytes:
        packed = b.stream_new(g.inst, g.st)
        ri, wi = packed & 0xFFFF_FFFF, packed >> 32
        r = lift_stream_end(b.lift_stream(g.inst, ri, t.U8), None)
        reading = asyncio.ensure_future(r.read(16))
        await settle()
        g.mem.data[0:5] = b"fiber"
        th = threading.Thread(target=lambda: g.write(wi, 0, 5))
        th.start()
        th.join()
        return bytes(await asyncio.wait_for(reading, 5))

    assert run(main()) == b"fiber"


def test_host_ends_are_in_no_instance() -> None:
    """Host ends carry no instance, so the same-instance rule never blocks them (both ends of a
    host-made stream of strings)."""

    async def main() -> list[str]:
        r, w = stream(t.STRING)
        task = asyncio.ensure_future(w.write(["a", "b"]))
        got = await r.read()
        await task
        return list(got)

    assert run(main()) == ["a", "b"]


def test_a_trapping_guest_copy_is_still_a_trap() -> None:
    g = Guest(t.U8)
    r, _ = stream(t.U8)
    ri = b.lower_stream(g.inst, lower_stream_end(r, g.st, None))
    with pytest.raises(Trap, match="out of bounds"):
        g.read(ri, 1 << 16, 4)


# -- a property: whatever the interleaving, a stream delivers what was written, in order -------


_chunks = st.lists(st.binary(max_size=40), max_size=8)
# (some read takes data, or the reader would wait forever)
_reads = st.lists(st.integers(0, 50), min_size=1, max_size=12).map(lambda r: r if any(r) else [*r, 1])


@settings(max_examples=150, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(_chunks, _reads, st.booleans(), st.lists(st.integers(0, 3), max_size=12),
       st.lists(st.integers(0, 4), min_size=1, max_size=8))
def test_property_host_streams_deliver_in_order(
    chunks: list[bytes], reads: list[int], as_values: bool, cancels: list[int], delays: list[int]
) -> None:
    """A writer task writes ``chunks`` (pausing the drawn number of loop turns before each) and
    closes; the reader reads with the drawn sizes (cycling), cancelling a read that is not done
    after three loop turns. The reader gets exactly the
    concatenation, each read at most its size, and the writer never finishes a write before
    its bytes were read."""

    async def main() -> None:
        r, w = stream(t.U32 if as_values else t.U8)
        written = 0
        log: list[int] = []

        async def produce() -> None:
            nonlocal written
            for j, c in enumerate(chunks):
                for _ in range(delays[j % len(delays)]):
                    await asyncio.sleep(0)
                await w.write(list(c) if as_values else c)
                written += len(c)
                log.append(written)
            w.close()

        task = asyncio.ensure_future(produce())
        got: list[int] = []
        k = 0
        while not r.at_eof():
            n = reads[k % len(reads)]
            turns = cancels[k % len(cancels)] if cancels else 0
            k += 1
            reading = asyncio.ensure_future(r.read(n))
            for _ in range(turns):
                await asyncio.sleep(0)
            if turns == 3 and not reading.done():
                reading.cancel()
                try:
                    chunk = await reading
                except asyncio.CancelledError:
                    event("a read was cancelled")
                    continue
            else:
                chunk = await reading
            assert len(chunk) <= n
            got.extend(chunk)
            held = len(got) + len(r._leftover or ())  # a cancelled read's data is kept there
            assert all(x <= held for x in log), "a write finished before it was read"
        await task
        assert bytes(got) == b"".join(chunks)

    run(main())


@settings(max_examples=100, derandomize=True, database=None, deadline=None)
@given(_chunks, _reads)
def test_property_guest_reads_what_the_host_wrote(chunks: list[bytes], reads: list[int]) -> None:
    """The same against a guest reader: its reads of the drawn sizes (zero-length ones too)
    see the host's bytes in order, and it sees DROPPED after the host closes."""
    g = Guest(t.U8)

    async def main() -> None:
        r, w = stream(t.U8)
        ri = b.lower_stream(g.inst, lower_stream_end(r, g.st, None))
        g.join(ri)

        async def produce() -> None:
            for c in chunks:
                await w.write(c)
            w.close()

        task = asyncio.ensure_future(produce())
        out = bytearray()
        k = 0
        while True:
            n = reads[k % len(reads)]
            k += 1
            code = g.read(ri, 0, n)
            if code == BLOCKED:
                ev = g.poll()
                for _ in range(20):
                    if ev[0] != EventCode.NONE:
                        break
                    await settle()
                    ev = g.poll()
                assert ev[0] == EventCode.STREAM_READ and ev[1] == ri
                code = ev[2]
            result, count = code & 0xF, code >> 4
            assert count <= n
            out += g.mem.data[:count]
            if result == 1:  # DROPPED
                break
        await task
        assert bytes(out) == b"".join(chunks)

    run(main())


def test_the_streams_module_needs_neither_the_runtime_nor_wasmtime() -> None:
    import subprocess
    import sys
    from pathlib import Path

    src = Path(__file__).resolve().parents[1] / "src"
    code = ("import sys, asyncio, wasm_component.streams as s, wasm_component.types as t; "
            "r, w = s.stream(t.U8); fr, fw = s.future(t.U32, default=lambda: 0); fw.close(); "
            "assert asyncio.run(fr.read()) == 0; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'wasmtime' "
            "or m.startswith('wasm_component._runtime')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={"PYTHONPATH": str(src)}).stdout
    assert out.strip() == "[]", out


@settings(max_examples=100, derandomize=True, database=None, deadline=None)
@given(_chunks, _reads, st.booleans())
def test_property_host_reads_what_the_guest_wrote(
    chunks: list[bytes], reads: list[int], as_values: bool
) -> None:
    """The other direction: a guest writes ``chunks`` (waiting for each write's event when it
    blocks, writing the rest after a partial copy) and drops its end; the host reads with the drawn sizes and gets the concatenation,
    each read at most its size (``u8`` as bytes, or ``u32`` values through the codec)."""
    vt = t.U32 if as_values else t.U8
    g = Guest(vt)
    size = 4 if as_values else 1

    async def main() -> None:
        packed = b.stream_new(g.inst, g.st)
        ri, wi = packed & 0xFFFF_FFFF, packed >> 32
        r = lift_stream_end(b.lift_stream(g.inst, ri, vt), None)
        g.join(wi)
        got: list[int] = []

        async def consume() -> None:
            k = 0
            while not r.at_eof():
                n = reads[k % len(reads)]
                k += 1
                chunk = await r.read(n)
                assert len(chunk) <= n
                got.extend(chunk)

        reader = asyncio.ensure_future(consume())
        for c in chunks:
            for j, v in enumerate(c):
                g.mem.data[j * size : (j + 1) * size] = v.to_bytes(size, "little")
            done = 0
            while True:  # a reader may take part of a write: the guest writes the rest
                code = g.write(wi, done * size, len(c) - done)
                while code == BLOCKED:
                    ev = g.poll()
                    if ev[0] == EventCode.NONE:
                        await settle()
                        continue
                    assert ev[0] == EventCode.STREAM_WRITE and ev[1] == wi
                    code = ev[2]
                assert code & 0xF == 0  # COMPLETED (the host never drops its reader here)
                done += code >> 4
                if done == len(c):
                    break
        b.stream_drop_writable(g.inst, g.st, wi)
        await reader
        assert bytes(got) == b"".join(chunks)

    run(main())
