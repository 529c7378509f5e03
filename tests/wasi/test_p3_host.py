"""The WASI 0.3 hosts called straight through their Python API (no guest), with in-memory
stream and future ends (``p3_fakes``) on the guest's side: stdio as streams (into the same
streams 0.2 uses), environment and exit, clocks with async waits (real and virtual time),
random, and the filesystem (its 0.2 core under 0.3's types: streams for reads, writes and
listings, the sandbox, the error variants)."""

from __future__ import annotations

import asyncio
import errno
import io
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest

from wasm_component import Err, Ok, Variant
from wasm_component.bindgen.rt import ErrorResult
from wasm_component.resources import Resource
from wasm_component.wasi import (
    IoError,
    OutputStream,
    StreamFailed,
    WasiConfig,
    WasiCtx,
    WasiExit,
    vfs,
)
from wasm_component.wasi._bindings.imports import wasi_filesystem_types as fs2
from wasm_component.wasi._bindings_p3.imports import wasi_filesystem_types as fs3
from wasm_component.wasi._bindings_p3.imports.wasi_clocks_system_clock import Instant
from wasm_component.wasi.cli import ExitHost, _StdioHost
from wasm_component.wasi.filesystem import PreopensHost
from wasm_component.wasi.p3 import cli as cli3
from wasm_component.wasi.p3 import clocks as clocks3
from wasm_component.wasi.p3 import filesystem as filesystem3
from wasm_component.wasi.p3 import random as random3
from wasm_component.wasi.p3._async import drain, wait_ready
from wasm_component.wasi.p3._types import elem_types
from wasm_component.wasi.random import _RandomHost

from .p3_fakes import Pipe, ctx_of, guest_stream, run

T = TypeVar("T")


# -- cli ----------------------------------------------------------------------------------


def test_stdout_copies_the_guest_stream_and_resolves_ok() -> None:
    out = io.BytesIO()
    ctx, ch = ctx_of(WasiConfig().stdout(out))

    async def go() -> Any:
        done = cli3.StdoutHost(ctx).write_via_stream(guest_stream(b"hello, " * 1000, 100))
        return await done.read()

    assert run(go()) == Ok(None)
    assert out.getvalue() == b"hello, " * 1000
    assert ch.futures[0].elem.wit() == "result<_, enum { io, illegal-byte-sequence, pipe }>"


def test_stdout_and_stderr_share_the_0_2_streams_in_order() -> None:
    out = io.BytesIO()
    ctx, _ = ctx_of(WasiConfig().stdout(out))
    stream02 = ctx.get(_StdioHost(ctx, "stdout", None).get_stdout(), OutputStream)

    async def go() -> None:
        stream02.blocking_write_and_flush(b"one ")
        await cli3.StdoutHost(ctx).write_via_stream(guest_stream(b"two ")).read()
        stream02.blocking_write_and_flush(b"three")

    run(go())
    assert out.getvalue() == b"one two three"


class _Broken(OutputStream):
    def __init__(self, err: int) -> None:
        self.err = err

    def write(self, data: bytes) -> None:
        raise StreamFailed(IoError("broken", self.err))


@pytest.mark.parametrize(("err", "code"), [(errno.EPIPE, "pipe"), (errno.EIO, "io")])
def test_a_failed_stdout_write_resolves_err_and_drops_the_reader(err: int, code: str) -> None:
    ctx, _ = ctx_of(WasiConfig().stderr(_Broken(err)))
    data = guest_stream(b"x" * 10)

    async def go() -> Any:
        return await cli3.StderrHost(ctx).write_via_stream(data).read()

    assert run(go()) == Err(code)
    assert data._p.reader_closed


def test_stdin_streams_the_configured_bytes_in_bounded_chunks() -> None:
    payload = bytes(range(256)) * 2000  # 512000 bytes
    ctx, ch = ctx_of(WasiConfig().stdin(payload).limits(max_read_chunk=10_000))

    async def go() -> tuple[bytes, Any]:
        reader, done = cli3.StdinHost(ctx).read_via_stream()
        return await reader.read_all(), await done.read()

    data, result = run(go())
    assert data == payload and result == Ok(None)
    assert max(len(c) for c in ch.pipes[0].chunks) == 10_000


def test_stdin_stops_when_the_guest_drops_its_reader() -> None:
    ctx, ch = ctx_of(WasiConfig().stdin(b"y" * 1_000_000))

    async def go() -> Any:
        reader, done = cli3.StdinHost(ctx).read_via_stream()
        first = await reader.read(10)
        reader.close()
        return first, await done.read()

    first, result = run(go())
    assert first == b"y" * 10 and result == Ok(None)
    assert sum(len(c) for c in ch.pipes[0].chunks) < 1_000_000


def test_a_dropped_future_or_a_cancelled_copy_is_not_an_error() -> None:
    out = io.BytesIO()
    ctx, ch = ctx_of(WasiConfig().stdout(out))

    async def go() -> None:
        done = cli3.StdoutHost(ctx).write_via_stream(guest_stream(b"abc"))
        done.close()  # the guest does not want to know how it went
        await drain(ctx)  # the copy still finishes, and says nothing
        pipe = Pipe()  # a guest that never finishes its stream
        cli3.StdoutHost(ctx).write_via_stream(pipe.reader)
        await pipe.writer.write(b"def")
        await drain(ctx, timeout=0.05)  # gives up on it: cancelled, not resolved
        assert not ch.futures[1].done() and pipe.reader_closed

    run(go())
    assert out.getvalue() == b"abcdef"


def test_stdin_from_a_pipe_waits_for_data_without_blocking_the_loop() -> None:
    import os

    r, w = os.pipe()
    ctx, _ = ctx_of(WasiConfig().stdin(r))

    async def go() -> tuple[bytes, list[str]]:
        order: list[str] = []
        reader, done = cli3.StdinHost(ctx).read_via_stream()

        async def feed() -> None:
            await asyncio.sleep(0.05)
            order.append("fed")
            os.write(w, b"late data")
            os.close(w)

        feeder = asyncio.create_task(feed())
        data = await reader.read_all()
        order.append("read")
        await feeder
        assert await done.read() == Ok(None)
        return data, order

    try:
        data, order = run(go())
    finally:
        os.close(r)
    assert data == b"late data" and order == ["fed", "read"]


def test_two_waits_on_one_descriptor_both_wake() -> None:
    import os

    from wasm_component.wasi.io import FdPollable

    r, w = os.pipe()

    async def go() -> None:
        a = asyncio.ensure_future(wait_ready(FdPollable(r)))
        b = asyncio.ensure_future(wait_ready(FdPollable(r)))  # asyncio keeps one callback per fd
        await asyncio.sleep(0.02)
        assert not a.done() and not b.done()
        os.write(w, b"x")
        await asyncio.wait_for(asyncio.gather(a, b), 2)

    try:
        run(go())
    finally:
        os.close(r)
        os.close(w)


def test_environment_arguments_cwd_and_exit() -> None:
    config = WasiConfig().args("app", "-v").env("K", "V")
    config.initial_cwd = "/work"
    ctx = WasiCtx(config)
    env = cli3.EnvironmentHost(ctx)
    assert env.get_arguments() == ["app", "-v"]
    assert env.get_environment() == [("K", "V")]
    assert env.get_initial_cwd() == "/work"
    with pytest.raises(WasiExit) as e:
        ExitHost(ctx).exit_with_code(7)
    assert e.value.exit_code == 7
    with pytest.raises(WasiExit) as e:
        ExitHost(ctx).exit(Err(None))
    assert e.value.exit_code == 1


# -- clocks -------------------------------------------------------------------------------


def test_wait_for_on_the_system_clock_waits_that_long() -> None:
    host = clocks3.MonotonicClockHost(WasiCtx(WasiConfig()))

    async def go() -> int:
        t0 = time.monotonic_ns()
        await host.wait_for(20_000_000)
        return time.monotonic_ns() - t0

    assert run(go()) >= 20_000_000


def test_waits_on_a_virtual_clock_advance_it_at_once() -> None:
    ctx = WasiCtx(WasiConfig().virtual_clock(monotonic_start_ns=100))
    host = clocks3.MonotonicClockHost(ctx)

    async def go() -> None:
        await host.wait_for(3600 * 10**9)  # an hour
        assert host.now() == 100 + 3600 * 10**9
        await host.wait_until(host.now() + 5)
        assert host.now() == 100 + 3600 * 10**9 + 5
        await host.wait_until(0)  # in the past: at once, time stands still
        assert host.now() == 100 + 3600 * 10**9 + 5

    t0 = time.monotonic()
    run(go())
    assert time.monotonic() - t0 < 5
    assert host.get_resolution() == 1


def test_concurrent_waits_finish_in_deadline_order() -> None:
    host = clocks3.MonotonicClockHost(WasiCtx(WasiConfig()))

    async def go() -> list[int]:
        done: list[int] = []

        async def one(ms: int) -> None:
            await host.wait_for(ms * 1_000_000)
            done.append(ms)

        await asyncio.gather(one(30), one(10), one(20))
        return done

    assert run(go()) == [10, 20, 30]


def test_system_clock_is_the_wall_clock_as_an_instant() -> None:
    ctx = WasiCtx(WasiConfig().virtual_clock(wall_start_ns=-1))  # just before the epoch
    host = clocks3.SystemClockHost(ctx)
    assert host.now() == clocks3.instant(-1) == Instant(-1, 999_999_999)
    assert host.get_resolution() == 1


# -- random -------------------------------------------------------------------------------


def test_random_is_0_2_s_source_and_caps_at_max_alloc() -> None:
    a = WasiCtx(WasiConfig().random_seed(5).limits(max_alloc=64))
    b = WasiCtx(WasiConfig().random_seed(5).limits(max_alloc=64))
    r3 = random3.RandomHost(a, a.random, "random")
    r2 = _RandomHost(b, b.random, "random")
    assert r3.get_random_bytes(16) == r2.get_random_bytes(16)
    assert len(r3.get_random_bytes(1 << 40)) == 64  # "at most max-len": never a trap
    assert random3.InsecureSeedHost(a).get_insecure_seed() == a.insecure_seed


# -- filesystem ---------------------------------------------------------------------------

R3, W3 = fs3.DescriptorFlags.READ, fs3.DescriptorFlags.WRITE
FOLLOW3 = fs3.PathFlags.SYMLINK_FOLLOW
CREATE3 = fs3.OpenFlags.CREATE
NO_OPEN3 = fs3.OpenFlags(0)


class Fs3:
    """A context with a read-write preopen ``/rw`` and a read-only ``/ro``, and its 0.3 host."""

    def __init__(self, rw: Any, ro: Any) -> None:
        config = WasiConfig().preopen_dir(rw, "/rw").preopen_dir(ro, "/ro", readonly=True)
        self.ctx, self.ch = ctx_of(config)
        self.d = filesystem3.TypesHost(self.ctx).descriptor
        dirs = {g: r for r, g in PreopensHost(self.ctx).get_directories()}
        self.rw, self.ro = dirs["/rw"], dirs["/ro"]

    async def open(self, base: Resource[Any], path: str, oflags: fs3.OpenFlags = NO_OPEN3,
                   flags: fs3.DescriptorFlags = R3) -> Resource[Any]:  # fmt: skip
        r = await self.d.open_at(base, FOLLOW3, path, oflags, flags)
        assert isinstance(r.value, Resource)
        return r.value

    async def write(self, path: str, data: bytes) -> Any:
        f = await self.open(self.rw, path, CREATE3, W3)
        return await self.d.write_via_stream(f, guest_stream(data, 4096), 0).read()

    async def read(self, path: str, base: Resource[Any] | None = None) -> tuple[bytes, Any]:
        f = await self.open(self.rw if base is None else base, path)
        reader, done = self.d.read_via_stream(f, 0)
        return await reader.read_all(), await done.read()


@pytest.fixture(params=["host", "memory"])
def fs(request: pytest.FixtureRequest, tmp_path: Path) -> Fs3:
    if request.param == "host":
        (tmp_path / "rw").mkdir()
        (tmp_path / "ro").mkdir()
        (tmp_path / "ro" / "readme").write_bytes(b"read only")
        return Fs3(str(tmp_path / "rw"), str(tmp_path / "ro"))
    ro = vfs.MemoryDirectory()
    ro.write_file("readme", b"read only")
    return Fs3(vfs.MemoryDirectory(), ro)


async def _err(aw: Coroutine[Any, Any, Any]) -> Any:
    with pytest.raises(ErrorResult) as e:
        await aw
    return e.value.value


def test_write_then_read_a_file_through_streams(fs: Fs3) -> None:
    data = bytes(range(256)) * 1000

    async def go() -> None:
        assert await fs.write("f.bin", data) == Ok(None)
        got, done = await fs.read("f.bin")
        assert got == data and done == Ok(None)
        st = (await fs.d.stat_at(fs.rw, FOLLOW3, "f.bin")).value
        assert st.type == fs3.DescriptorTypeRegularFile() and st.size == len(data)
        assert isinstance(st.data_modification_timestamp, fs3.Instant)
        f = await fs.open(fs.rw, "f.bin", flags=W3)
        assert await fs.d.append_via_stream(f, guest_stream(b"!")).read() == Ok(None)
        assert (await fs.read("f.bin"))[0] == data + b"!"
        reader, done = fs.d.read_via_stream(f, len(data))  # opened write-only
        assert await reader.read_all() == b""
        assert await done.read() == Err(Variant("bad-descriptor"))

    run(go())


def test_reads_are_bounded_by_max_read_chunk(tmp_path: Path) -> None:
    (tmp_path / "big").write_bytes(b"z" * 300_000)
    config = WasiConfig().preopen_dir(str(tmp_path), "/d").limits(max_read_chunk=4096)
    ctx, ch = ctx_of(config)
    d = filesystem3.TypesHost(ctx).descriptor
    (base, _), = PreopensHost(ctx).get_directories()

    async def go() -> bytes:
        f = (await d.open_at(base, FOLLOW3, "big", fs3.OpenFlags(0), R3)).value
        reader, done = d.read_via_stream(f, 0)
        data: bytes = await reader.read_all()
        assert await done.read() == Ok(None)
        return data

    assert run(go()) == b"z" * 300_000
    assert max(len(c) for c in ch.pipes[0].chunks) == 4096


def test_the_sandbox_and_permissions_give_0_3_error_variants(fs: Fs3) -> None:
    async def go() -> None:
        assert await _err(fs.d.open_at(fs.rw, FOLLOW3, "../x", fs3.OpenFlags(0), R3)) == \
            fs3.ErrorCodeNotPermitted()  # fmt: skip
        assert await _err(fs.d.open_at(fs.rw, FOLLOW3, "/etc/passwd", fs3.OpenFlags(0), R3)) == \
            fs3.ErrorCodeNotPermitted()  # fmt: skip
        assert await _err(fs.d.stat_at(fs.rw, FOLLOW3, "missing")) == fs3.ErrorCodeNoEntry()
        assert await _err(fs.d.open_at(fs.ro, FOLLOW3, "new", CREATE3, W3)) == \
            fs3.ErrorCodeReadOnly()  # fmt: skip
        assert await _err(fs.d.create_directory_at(fs.ro, "d")) == fs3.ErrorCodeReadOnly()
        got, done = await fs.read("readme", fs.ro)
        assert got == b"read only" and done == Ok(None)
        f = await fs.open(fs.ro, "readme")
        assert await fs.d.write_via_stream(f, guest_stream(b"no"), 0).read() == \
            Err(Variant("not-permitted"))  # fmt: skip  (as 0.2's, and wasmtime 49's)

    run(go())


def test_directory_listing_is_a_stream_of_entries(fs: Fs3) -> None:
    async def go() -> list[Any]:
        await fs.write("a.txt", b"a")
        await fs.d.create_directory_at(fs.rw, "sub")
        reader, done = fs.d.read_directory(fs.rw)
        entries = await reader.read_all()
        assert await done.read() == Ok(None)
        return sorted(entries, key=lambda e: e["name"])

    assert run(go()) == [{"type": Variant("regular-file"), "name": "a.txt"},
                         {"type": Variant("directory"), "name": "sub"}]  # fmt: skip
    assert fs.ch.pipes[0].elem.wit().startswith("record { type: variant { block-device")


def test_metadata_rename_links_and_times(fs: Fs3) -> None:
    async def go() -> None:
        await fs.write("a", b"12345")
        f = await fs.open(fs.rw, "a")
        assert (await fs.d.get_type(f)).value == fs3.DescriptorTypeRegularFile()
        assert (await fs.d.get_type(fs.rw)).value == fs3.DescriptorTypeDirectory()
        assert (await fs.d.get_flags(f)).value == R3
        assert (await fs.d.get_flags(fs.rw)).value == R3 | fs3.DescriptorFlags.MUTATE_DIRECTORY
        h1 = (await fs.d.metadata_hash(f)).value
        assert h1 == (await fs.d.metadata_hash_at(fs.rw, FOLLOW3, "a")).value
        assert await fs.d.rename_at(fs.rw, "a", fs.rw, "b") == Ok(None)
        assert await fs.d.is_same_object(f, await fs.open(fs.rw, "b"))
        when = fs3.NewTimestampTimestamp(fs3.Instant(1_000_000, 5))
        assert await fs.d.set_times_at(fs.rw, FOLLOW3, "b", fs3.NewTimestampNoChange(),
                                       when) == Ok(None)  # fmt: skip
        st = (await fs.d.stat_at(fs.rw, FOLLOW3, "b")).value
        assert st.data_modification_timestamp == fs3.Instant(1_000_000, 5)
        assert await fs.d.unlink_file_at(fs.rw, "b") == Ok(None)
        assert await _err(fs.d.unlink_file_at(fs.rw, "b")) == fs3.ErrorCodeNoEntry()

    run(go())


def test_symlinks_cannot_leave_the_preopen(tmp_path: Path) -> None:
    (tmp_path / "rw").mkdir()
    (tmp_path / "ro").mkdir()
    (tmp_path / "secret").write_text("no")
    fs = Fs3(str(tmp_path / "rw"), str(tmp_path / "ro"))

    async def go() -> None:
        assert await fs.d.symlink_at(fs.rw, "../secret", "up") == Ok(None)
        assert await _err(fs.d.open_at(fs.rw, FOLLOW3, "up", fs3.OpenFlags(0), R3)) == \
            fs3.ErrorCodeNotPermitted()  # fmt: skip
        assert (await fs.d.readlink_at(fs.rw, "up")).value == "../secret"
        assert await _err(fs.d.symlink_at(fs.rw, "/etc/passwd", "abs")) == \
            fs3.ErrorCodeNotPermitted()  # fmt: skip

    run(go())


def test_flags_and_error_codes_convert_by_name() -> None:
    for f2, f3 in ((fs2.DescriptorFlags, fs3.DescriptorFlags), (fs2.OpenFlags, fs3.OpenFlags),
                   (fs2.PathFlags, fs3.PathFlags)):  # fmt: skip
        assert [(m.name, m.value) for m in f2] == [(m.name, m.value) for m in f3]
    for code in fs2.ErrorCode:
        v = filesystem3.error_code(code.value)
        if code.value == "would-block":  # not in 0.3
            assert v == fs3.ErrorCodeOther("would-block")
        else:
            assert type(v).__name__ != "ErrorCodeOther", code
    assert filesystem3.descriptor_type("unknown") == fs3.DescriptorTypeOther(None)
    assert filesystem3.descriptor_type("fifo") == fs3.DescriptorTypeFifo()


def test_element_types_come_from_the_0_3_wit() -> None:
    elem, res = elem_types("wasi:filesystem/types@0.3.0", "[method]descriptor.read-via-stream")
    assert elem is not None and elem.wit() == "u8"
    assert res is not None and res.wit().startswith("result<_, variant { access, already,")


def test_streams_outside_a_running_loop_say_to_use_call_async() -> None:
    from wasm_component import NotSupported

    pytest.importorskip("wasm_component.streams", reason="the async API is not merged")
    ctx = WasiCtx(WasiConfig().stdin(b"x"))  # the component model's own ends
    with pytest.raises(NotSupported, match="call_async"):
        cli3.StdinHost(ctx).read_via_stream()  # (a guest called synchronously)


def test_a_wait_that_can_never_end_traps() -> None:
    from wasm_component import Trap
    from wasm_component.wasi import Pollable

    with pytest.raises(Trap, match="can never end"):
        run(wait_ready(Pollable()))
