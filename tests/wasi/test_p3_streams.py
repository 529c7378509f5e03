"""The WASI 0.3 hosts with the component model's own stream and future ends
(``wasm_component.streams``, the default when nothing else is set) on the guest's side, in
pure Python: a write is a rendezvous there (it returns once the reader took everything), so
these check the pumps under the real back pressure, and the element types the hosts give
against the types a guest's ends have."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import pytest

from wasm_component import Err, Ok, Variant, types
from wasm_component.wasi import WasiConfig, WasiCtx
from wasm_component.wasi._bindings_p3.imports import wasi_filesystem_types as fs3
from wasm_component.wasi._bindings_p3.imports import wasi_sockets_types as s3
from wasm_component.wasi.filesystem import PreopensHost
from wasm_component.wasi.p3 import channels_of
from wasm_component.wasi.p3 import cli as cli3
from wasm_component.wasi.p3 import filesystem as filesystem3
from wasm_component.wasi.p3.sockets import SocketsTypesHost

from .p3_fakes import run

streams = pytest.importorskip("wasm_component.streams",
                              reason="the component-model async API is not merged")  # fmt: skip


async def guest_writes(data: bytes, chunk: int = 4096) -> Any:
    """A ``stream<u8>`` a guest task writes ``data`` to, then drops: the reader to hand over."""
    reader, writer = streams.stream(types.U8)

    async def produce() -> None:
        for i in range(0, len(data), chunk):
            await writer.write(data[i:i + chunk])
        writer.close()

    task = asyncio.ensure_future(produce())
    _PRODUCERS.add(task)  # (kept referenced while it runs)
    task.add_done_callback(_PRODUCERS.discard)
    return reader


_PRODUCERS: set[asyncio.Future[None]] = set()


def test_the_default_channels_are_the_component_models() -> None:
    assert channels_of(WasiCtx(WasiConfig())) is streams


def test_stdout_and_stdin_through_real_ends() -> None:
    out = io.BytesIO()
    ctx = WasiCtx(WasiConfig().stdout(out).stdin(b"in" * 50_000))

    async def go() -> tuple[Any, bytes, Any]:
        done = cli3.StdoutHost(ctx).write_via_stream(await guest_writes(b"out" * 30_000))
        wrote = await done
        reader, read_done = cli3.StdinHost(ctx).read_via_stream()
        return wrote, await reader.read_all(), await read_done

    wrote, got, read = run(go())
    assert (wrote, read) == (Ok(None), Ok(None))
    assert out.getvalue() == b"out" * 30_000 and got == b"in" * 50_000


def test_files_and_listings_through_real_ends(tmp_path: Path) -> None:
    (tmp_path / "old").write_bytes(b"x")
    ctx = WasiCtx(WasiConfig().preopen_dir(str(tmp_path), "/d"))
    d = filesystem3.TypesHost(ctx).descriptor
    (base, _), = PreopensHost(ctx).get_directories()
    flags = fs3.PathFlags(0)

    async def go() -> tuple[bytes, list[Any], Any]:
        f = (await d.open_at(base, flags, "new", fs3.OpenFlags.CREATE, fs3.DescriptorFlags.WRITE)
             ).value  # fmt: skip
        wrote = d.write_via_stream(f, await guest_writes(bytes(range(256)) * 400), 0)
        assert await wrote == Ok(None)
        g = (await d.open_at(base, flags, "new", fs3.OpenFlags(0), fs3.DescriptorFlags.READ)
             ).value  # fmt: skip
        data, done = d.read_via_stream(g, 0)
        got = await data.read_all()
        assert await done == Ok(None)
        entries, listed = d.read_directory(base)
        names = sorted(e["name"] for e in await entries.read_all())
        reader, failed = d.read_via_stream(f, 0)  # opened write-only
        assert await reader.read_all() == b""
        return got, names, (await listed, await failed)

    got, names, (listed, failed) = run(go())
    assert got == bytes(range(256)) * 400 and names == ["new", "old"]
    assert listed == Ok(None) and failed == Err(Variant("bad-descriptor"))


def test_tcp_echo_through_real_ends() -> None:
    tcp = SocketsTypesHost(WasiCtx(WasiConfig().allow_tcp("127.0.0.1"))).tcp_socket
    lo = s3.IpSocketAddressIpv4(s3.Ipv4SocketAddress(0, (127, 0, 0, 1)))

    async def go() -> bytes:
        server = tcp.create(s3.IpAddressFamily.IPV4).value
        assert tcp.bind(server, lo) == Ok(None)
        port = tcp.get_local_address(server).value.value.port
        accepted = tcp.listen(server).value
        client = tcp.create(s3.IpAddressFamily.IPV4).value
        to = s3.IpSocketAddressIpv4(s3.Ipv4SocketAddress(port, (127, 0, 0, 1)))
        assert await tcp.connect(client, to) == Ok(None)
        (conn,) = await accepted.read(1)
        sent = tcp.send(client, await guest_writes(b"ping" * 10_000))
        data, _ = tcp.receive(conn)
        got: bytes = await data.read_all()  # to the client's FIN
        assert await sent == Ok(None)
        return got

    assert run(go()) == b"ping" * 10_000
