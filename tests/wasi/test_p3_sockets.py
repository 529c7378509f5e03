"""The WASI 0.3 sockets host called from Python over loopback, with in-memory stream ends
(``p3_fakes``) playing the guest: a TCP echo (listen as a stream of sockets, connect, send
and receive as streams, the FIN when the guest drops its writer), UDP datagrams, name lookup,
and the policy (denied unless allowed) with 0.3's error variants."""

from __future__ import annotations

import asyncio
import socket
from typing import Any, TypeVar

from wasm_component import Err, Ok, Variant
from wasm_component.resources import Resource
from wasm_component.wasi import WasiConfig, WasiCtx
from wasm_component.wasi._bindings_p3.imports import wasi_sockets_ip_name_lookup as lk3
from wasm_component.wasi._bindings_p3.imports import wasi_sockets_types as s3
from wasm_component.wasi.p3.sockets import IpNameLookupHost, SocketsTypesHost

from .p3_fakes import Pipe, ctx_of, run

T = TypeVar("T")
V4 = s3.IpAddressFamily.IPV4


def hosts(config: WasiConfig) -> tuple[SocketsTypesHost, Any]:
    ctx, ch = ctx_of(config)
    return SocketsTypesHost(ctx), ch


def loopback(port: int = 0) -> s3.IpSocketAddressIpv4:
    return s3.IpSocketAddressIpv4(s3.Ipv4SocketAddress(port, (127, 0, 0, 1)))


def ok(r: Ok[T] | Err[Any]) -> T:
    assert isinstance(r, Ok), r
    return r.value


def test_tcp_echo_over_loopback() -> None:
    h, _ = hosts(WasiConfig().allow_tcp("127.0.0.1"))
    tcp = h.tcp_socket

    async def go() -> tuple[bytes, Any, Any]:
        server = ok(tcp.create(V4))
        assert ok(tcp.bind(server, loopback())) is None
        port = ok(tcp.get_local_address(server)).value.port
        accepted = ok(tcp.listen(server))
        assert tcp.get_is_listening(server)

        client = ok(tcp.create(V4))
        assert await tcp.connect(client, loopback(port)) == Ok(None)
        assert ok(tcp.get_remote_address(client)) == loopback(port)

        (conn,) = await accepted.read(1)  # the guest reads one socket off the listen stream
        assert isinstance(conn, Resource)

        out = Pipe()  # the client guest's outgoing stream
        sent = tcp.send(client, out.reader)
        await out.writer.write(b"ping " * 1000)
        out.writer.close()  # the guest is done sending: a FIN follows
        assert await sent.read() == Ok(None)

        data, server_done = tcp.receive(conn)
        got = await data.read_all()  # ends at the client's FIN
        assert await server_done.read() == Ok(None)

        back = Pipe()
        echoed = tcp.send(conn, back.reader)
        await back.writer.write(got.upper())
        back.writer.close()
        client_in, client_done = tcp.receive(client)
        reply = await client_in.read_all()
        return reply, await echoed.read(), await client_done.read()

    reply, echoed, done = run(go())
    assert reply == b"PING " * 1000 and echoed == Ok(None) and done == Ok(None)


def test_send_and_receive_are_once_and_need_a_connection() -> None:
    h, _ = hosts(WasiConfig().allow_tcp("127.0.0.1"))
    tcp = h.tcp_socket

    async def go() -> None:
        sock = ok(tcp.create(V4))
        data, done = tcp.receive(sock)
        assert await data.read_all() == b""
        assert await done.read() == Err(Variant("invalid-state"))
        out = Pipe()
        assert await tcp.send(sock, out.reader).read() == Err(Variant("invalid-state"))
        assert out.reader_closed

    run(go())


def test_tcp_is_denied_by_default_and_per_address() -> None:
    h, _ = hosts(WasiConfig())
    assert h.tcp_socket.create(V4) == Err(s3.ErrorCodeAccessDenied())
    h, _ = hosts(WasiConfig().allow_tcp("127.0.0.1", 1))

    async def go() -> Any:
        sock = ok(h.tcp_socket.create(V4))
        return await h.tcp_socket.connect(sock, loopback(2))

    assert run(go()) == Err(s3.ErrorCodeAccessDenied())


def test_connect_refused_is_0_3_s_error() -> None:
    h, _ = hosts(WasiConfig().allow_tcp("127.0.0.1"))
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async def go() -> Any:
        sock = ok(h.tcp_socket.create(V4))
        return await h.tcp_socket.connect(sock, loopback(port))

    assert run(go()) == Err(s3.ErrorCodeConnectionRefused())


def test_udp_datagrams_both_ways() -> None:
    h, _ = hosts(WasiConfig().allow_udp("127.0.0.1"))
    udp = h.udp_socket

    async def go() -> None:
        a, b = ok(udp.create(V4)), ok(udp.create(V4))
        ok(udp.bind(a, loopback()))
        ok(udp.bind(b, loopback()))
        pa = ok(udp.get_local_address(a)).value.port
        pb = ok(udp.get_local_address(b)).value.port
        receiving = asyncio.ensure_future(udp.receive(b))  # waits: nothing sent yet
        await asyncio.sleep(0.01)
        assert not receiving.done()
        assert await udp.send(a, b"hello", loopback(pb)) == Ok(None)
        data, sender = ok(await receiving)
        assert data == b"hello" and sender == loopback(pa)
        ok(udp.connect(b, loopback(pa)))
        assert ok(udp.get_remote_address(b)) == loopback(pa)
        assert await udp.send(b, b"back", None) == Ok(None)
        assert ok(await udp.receive(a))[0] == b"back"
        ok(udp.disconnect(b))
        assert udp.disconnect(b) == Err(s3.ErrorCodeInvalidState())

    run(go())


def test_udp_send_binds_implicitly() -> None:
    h, _ = hosts(WasiConfig().allow_udp("0.0.0.0").allow_udp("127.0.0.1"))
    udp = h.udp_socket

    async def go() -> tuple[bytes, int]:
        a, b = ok(udp.create(V4)), ok(udp.create(V4))
        ok(udp.bind(b, loopback()))
        pb = ok(udp.get_local_address(b)).value.port
        assert udp.get_local_address(a) == Err(s3.ErrorCodeInvalidState())  # not bound yet
        assert await udp.send(a, b"implicit", loopback(pb)) == Ok(None)
        data, sender = ok(await udp.receive(b))
        port = ok(udp.get_local_address(a)).value.port
        assert sender.value.port == port  # it came from the port the bind picked
        return data, port

    data, port = run(go())
    assert data == b"implicit" and port != 0


def test_name_lookup_follows_the_policy() -> None:
    ctx = WasiCtx(WasiConfig().allow_ip_name_lookup(names=["localhost"]))
    host = IpNameLookupHost(ctx)
    addrs = ok(run(host.resolve_addresses("localhost")))
    assert s3.IpAddressIpv4((127, 0, 0, 1)) in addrs or s3.IpAddressIpv6(
        (0, 0, 0, 0, 0, 0, 0, 1)) in addrs
    assert run(host.resolve_addresses("example.com")) == Err(lk3.ErrorCodeAccessDenied())
    assert ok(run(host.resolve_addresses("10.1.2.3"))) == [s3.IpAddressIpv4((10, 1, 2, 3))]


def test_listen_streams_carry_the_hosts_tcp_socket() -> None:
    """``listen``'s ``stream<tcp-socket>`` is made with the host's resource type (the WIT
    resolves ``tcp-socket`` to a fresh abstract one): what the linker binds the component's
    import to, and so what the runtime checks the stream against when lowering it."""
    from wasm_component import types as t
    from wasm_component.wasi.p3._types import WIT_DIR, elem_types, host_typed, result_type

    fn = "[method]tcp-socket.listen"
    (elem,) = elem_types(s3.INSTANCE_NAME, fn)
    assert elem == t.OwnType(s3._RT_TcpSocket)
    raw = result_type(s3.INSTANCE_NAME, fn, WIT_DIR)
    assert isinstance(raw, t.ResultType) and isinstance(raw.ok, t.StreamType)
    assert raw.ok.payload != elem  # abstract before
    assert host_typed(raw.ok.payload, s3) == elem
    assert host_typed(t.U8, s3) is t.U8  # types without resources are left as they are
