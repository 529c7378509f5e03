"""``wasi:sockets@0.3.0``: 0.2's sockets (:mod:`..sockets_tcp`, :mod:`..sockets_udp`,
:mod:`..sockets_lookup`) under 0.3's interfaces.

The socket objects, their state machines, the policy (``WasiConfig.allow_tcp`` and friends:
denied unless allowed, per address) and the name resolver are 0.2's. 0.3 has no ``network``
capability (the store's policy applies directly) and folds 0.2's ``start-*``/``finish-*``
pairs into one call: ``bind`` is both halves, ``connect`` is an ``async func`` that waits on
the socket between them, ``listen`` returns a ``stream<tcp-socket>`` that accepts while the
guest reads it, ``send``/``receive`` move the connection's 0.2 streams through
:mod:`._async`'s pumps, and the UDP datagram calls wait until the socket is ready. Error codes
are 0.3's variant; 0.2's cases that 0.3 dropped (``would-block``, ``new-socket-limit``, ...)
become ``other``.

Example::

    config = WasiConfig().allow_tcp("127.0.0.1")    # the same policy serves 0.2 and 0.3
    store.set_wasi(config)
"""

from __future__ import annotations

import contextlib
import errno
import socket
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from ... import types as t
from ...resources import Resource
from ...values import Err, Ok
from .._bindings_p3.imports import wasi_sockets_ip_name_lookup as _b_lookup
from .._bindings_p3.imports import wasi_sockets_types as _b_types
from ..ctx import register
from ..io import IoError
from ..sockets import (
    create_socket,
    from_wit_address,
    sockets_state,
    to_wit_address,
    to_wit_ip,
    wit_family,
)
from ..sockets_base import IpSocket
from ..sockets_lookup import resolve_addresses
from ..sockets_net import SockAddr, SocketError, error_code_from_os
from ..sockets_tcp import TcpInputStream, TcpOutputStream, TcpSocket
from ..sockets_udp import IncomingDatagramStream, OutgoingDatagramStream, UdpSocket
from ._async import (
    ByteReader,
    channels_of,
    failed_future,
    failed_stream,
    spawn,
    stream_from,
    stream_into,
    values_in,
    wait_ready,
)
from ._convert import case, lowered_case
from ._types import elem_types

if TYPE_CHECKING:
    from ..ctx import WasiCtx

__all__ = ["IpNameLookupHost", "SocketsTypesHost", "TcpSocket3", "UdpSocket3", "error_code"]

IFACE = _b_types.INSTANCE_NAME
R = TypeVar("R")


def error_code(name: str) -> Err[Any]:
    """``err`` of 0.3's ``wasi:sockets/types.error-code`` for the 0.2 case ``name``."""
    return Err(case(_b_types, "ErrorCode", name))


def _cases() -> tuple[str, ...]:
    res = elem_types(IFACE, "[method]tcp-socket.send")[0]
    assert isinstance(res, t.ResultType) and isinstance(res.err, t.VariantType)
    return tuple(name for name, _ in res.err.cases)


def _stream_error(e: IoError) -> Any:
    """A failed connection stream's ``error-code``, as the future carries it (lowered)."""
    code = "connection-broken" if e.errno == errno.EPIPE else (
        "unknown" if e.errno is None else error_code_from_os(OSError(e.errno, e.message)))
    return lowered_case(_cases(), code)


def _result(fn: Callable[[], R]) -> Ok[R] | Err[Any]:
    try:
        return Ok(fn())
    except SocketError as e:
        return error_code(e.code)


class TcpSocket3:
    """What a 0.3 ``tcp-socket`` handle holds: 0.2's socket, and its connection's streams
    (once connected or accepted), each handed to the guest at most once."""

    __slots__ = ("receiving", "sending", "sock", "streams")

    def __init__(self, sock: TcpSocket,
                 streams: tuple[TcpInputStream, TcpOutputStream] | None = None) -> None:  # fmt: skip
        self.sock = sock
        self.streams = streams
        self.sending = self.receiving = False


class UdpSocket3:
    """What a 0.3 ``udp-socket`` handle holds: 0.2's socket and its current datagram
    streams (made at ``bind`` and at every ``connect``/``disconnect``)."""

    __slots__ = ("incoming", "outgoing", "sock")

    def __init__(self, sock: UdpSocket) -> None:
        self.sock = sock
        self.incoming: IncomingDatagramStream | None = None
        self.outgoing: OutgoingDatagramStream | None = None

    def restream(self, remote: Any) -> None:
        self.incoming, self.outgoing = self.sock.stream(remote)


class _SocketHost:
    """What ``tcp-socket`` and ``udp-socket`` share: bind, addresses, buffer sizes."""

    _cls: type[TcpSocket3] | type[UdpSocket3] = TcpSocket3
    _protocol: Literal["tcp", "udp"] = "tcp"

    def __init__(self, ctx: WasiCtx) -> None:
        self._ctx = ctx

    def _get(self, r: Resource[Any]) -> Any:
        return self._ctx.get(r, self._cls)

    def _do(self, r: Resource[Any], fn: Callable[[Any], R]) -> Ok[R] | Err[Any]:
        return _result(lambda: fn(self._get(r).sock))

    def _bind(self, s: IpSocket, local: Any) -> None:
        s.start_bind(sockets_state(self._ctx).network, from_wit_address(local))
        s.finish_bind()

    def bind(self, self_: Resource[Any], local_address: Any) -> Ok[None] | Err[Any]:
        return self._do(self_, lambda s: self._bind(s, local_address))

    def get_local_address(self, self_: Resource[Any]) -> Ok[Any] | Err[Any]:
        return self._do(self_, lambda s: to_wit_address(s.local_address(), _b_types))

    def get_remote_address(self, self_: Resource[Any]) -> Ok[Any] | Err[Any]:
        return self._do(self_, lambda s: to_wit_address(s.remote_address(), _b_types))

    def get_address_family(self, self_: Resource[Any]) -> Any:
        return wit_family(self._get(self_).sock.family, _b_types)

    def get_receive_buffer_size(self, self_: Resource[Any]) -> Ok[int] | Err[Any]:
        return self._do(self_, lambda s: s.receive_buffer_size())

    def set_receive_buffer_size(self, self_: Resource[Any], value: int) -> Ok[None] | Err[Any]:
        return self._do(self_, lambda s: s.set_receive_buffer_size(value))

    def get_send_buffer_size(self, self_: Resource[Any]) -> Ok[int] | Err[Any]:
        return self._do(self_, lambda s: s.send_buffer_size())

    def set_send_buffer_size(self, self_: Resource[Any], value: int) -> Ok[None] | Err[Any]:
        return self._do(self_, lambda s: s.set_send_buffer_size(value))

    def drop(self, rep: Resource[Any]) -> None:
        self._ctx.delete(rep).sock.drop()


class TcpSocketHost(_SocketHost):
    """``[method]tcp-socket.*`` and ``[static]tcp-socket.create``."""

    _cls = TcpSocket3

    def create(self, address_family: Any) -> Ok[Resource[Any]] | Err[Any]:
        return _result(lambda: self._ctx.push(
            TcpSocket3(create_socket(self._ctx, "tcp", TcpSocket.create, address_family)),
            _b_types._RT_TcpSocket))

    async def connect(self, self_: Resource[Any], remote_address: Any) -> Ok[None] | Err[Any]:
        s3: TcpSocket3 = self._get(self_)
        try:
            s3.sock.start_connect(sockets_state(self._ctx).network,
                                  from_wit_address(remote_address))  # fmt: skip
            while True:
                try:
                    s3.streams = s3.sock.finish_connect()
                    return Ok(None)
                except SocketError as e:
                    if e.code != "would-block":
                        raise
                await wait_ready(s3.sock.subscribe())
        except SocketError as e:
            return error_code(e.code)

    def listen(self, self_: Resource[Any]) -> Ok[Any] | Err[Any]:
        s3: TcpSocket3 = self._get(self_)
        try:
            s3.sock.start_listen()
            s3.sock.finish_listen()
        except SocketError as e:
            return error_code(e.code)
        (elem,) = elem_types(IFACE, "[method]tcp-socket.listen")
        reader, writer = channels_of(self._ctx).stream(elem)
        spawn(self._ctx, values_in(self._accepted(s3.sock), writer))
        return Ok(reader)

    async def _accepted(self, listener: TcpSocket) -> AsyncIterator[Resource[Any]]:
        """Each connection as it arrives (the guest's reads pace the accepting); ends when
        accepting fails for good (the listener was dropped)."""
        while True:
            try:
                child, inp, out = listener.accept()
            except SocketError as e:
                if e.code != "would-block":
                    return
                await wait_ready(listener.subscribe())
                continue
            yield self._ctx.push(TcpSocket3(child, (inp, out)), _b_types._RT_TcpSocket)

    def send(self, self_: Resource[Any], data: ByteReader) -> Any:
        fn = "[method]tcp-socket.send"
        s3: TcpSocket3 = self._get(self_)
        if s3.streams is None or s3.sending:
            return failed_future(self._ctx, IFACE, fn, lowered_case(_cases(), "invalid-state"),
                                 data)
        s3.sending = True

        def shut() -> None:  # the guest dropped its writer: a FIN, as `shutdown(SHUT_WR)`
            with contextlib.suppress(SocketError):
                s3.sock.shutdown("send")

        return stream_into(self._ctx, IFACE, fn, data, s3.streams[1], _stream_error, shut)

    def receive(self, self_: Resource[Any]) -> tuple[Any, Any]:
        fn = "[method]tcp-socket.receive"
        s3: TcpSocket3 = self._get(self_)
        if s3.streams is None or s3.receiving:
            return failed_stream(self._ctx, IFACE, fn, lowered_case(_cases(), "invalid-state"))
        s3.receiving = True
        return stream_from(self._ctx, IFACE, fn, s3.streams[0], _stream_error)

    def get_is_listening(self, self_: Resource[Any]) -> bool:
        return bool(self._get(self_).sock.is_listening())

    def set_listen_backlog_size(self, self_: Resource[Any], value: int) -> Ok[None] | Err[Any]:
        return self._do(self_, lambda s: s.set_listen_backlog_size(value))

    def get_keep_alive_enabled(self, self_: Resource[Any]) -> Ok[bool] | Err[Any]:
        return self._do(self_, lambda s: s.keep_alive_enabled())

    def set_keep_alive_enabled(self, self_: Resource[Any], value: bool) -> Ok[None] | Err[Any]:
        return self._do(self_, lambda s: s.set_keep_alive_enabled(value))

    def get_keep_alive_idle_time(self, self_: Resource[Any]) -> Ok[int] | Err[Any]:
        return self._do(self_, lambda s: s.keep_alive_idle_time())

    def set_keep_alive_idle_time(self, self_: Resource[Any], value: int) -> Ok[None] | Err[Any]:
        return self._do(self_, lambda s: s.set_keep_alive_idle_time(value))

    def get_keep_alive_interval(self, self_: Resource[Any]) -> Ok[int] | Err[Any]:
        return self._do(self_, lambda s: s.keep_alive_interval())

    def set_keep_alive_interval(self, self_: Resource[Any], value: int) -> Ok[None] | Err[Any]:
        return self._do(self_, lambda s: s.set_keep_alive_interval(value))

    def get_keep_alive_count(self, self_: Resource[Any]) -> Ok[int] | Err[Any]:
        return self._do(self_, lambda s: s.keep_alive_count())

    def set_keep_alive_count(self, self_: Resource[Any], value: int) -> Ok[None] | Err[Any]:
        return self._do(self_, lambda s: s.set_keep_alive_count(value))

    def get_hop_limit(self, self_: Resource[Any]) -> Ok[int] | Err[Any]:
        return self._do(self_, lambda s: s.hop_limit())

    def set_hop_limit(self, self_: Resource[Any], value: int) -> Ok[None] | Err[Any]:
        return self._do(self_, lambda s: s.set_hop_limit(value))


class UdpSocketHost(_SocketHost):
    """``[method]udp-socket.*`` and ``[static]udp-socket.create``."""

    _cls = UdpSocket3
    _protocol = "udp"

    def create(self, address_family: Any) -> Ok[Resource[Any]] | Err[Any]:
        return _result(lambda: self._ctx.push(
            UdpSocket3(create_socket(self._ctx, "udp", UdpSocket.create, address_family)),
            _b_types._RT_UdpSocket))

    def bind(self, self_: Resource[Any], local_address: Any) -> Ok[None] | Err[Any]:
        s3: UdpSocket3 = self._get(self_)

        def go() -> None:
            self._bind(s3.sock, local_address)
            s3.restream(None)
        return _result(go)

    def connect(self, self_: Resource[Any], remote_address: Any) -> Ok[None] | Err[Any]:
        s3: UdpSocket3 = self._get(self_)
        return _result(lambda: s3.restream(from_wit_address(remote_address)))

    def disconnect(self, self_: Resource[Any]) -> Ok[None] | Err[Any]:
        s3: UdpSocket3 = self._get(self_)

        def go() -> None:
            s3.sock.remote_address()  # `invalid-state` unless connected
            s3.restream(None)
        return _result(go)

    async def send(self, self_: Resource[Any], data: bytes,
                   remote_address: Any | None) -> Ok[None] | Err[Any]:  # fmt: skip
        s3: UdpSocket3 = self._get(self_)
        remote = None if remote_address is None else from_wit_address(remote_address)
        try:
            if s3.outgoing is None:  # never bound: "WASI requires `send` to perform an
                # implicit bind" (the WIT), to the unspecified address and any port, as the
                # guest's own `bind` would (so the policy decides as it would there)
                any_ip = "0.0.0.0" if s3.sock.family == socket.AF_INET else "::"
                s3.sock.start_bind(sockets_state(self._ctx).network, SockAddr.parse(any_ip, 0))
                s3.sock.finish_bind()
                s3.restream(None)
            assert s3.outgoing is not None, "bound above"
            while s3.outgoing.check_send() == 0:
                await wait_ready(s3.outgoing.subscribe())
            s3.outgoing.send([(bytes(data), remote)])
            return Ok(None)
        except SocketError as e:
            return error_code(e.code)

    async def receive(self, self_: Resource[Any]) -> Ok[tuple[bytes, Any]] | Err[Any]:
        s3: UdpSocket3 = self._get(self_)
        try:
            while True:
                if s3.incoming is None:
                    raise SocketError("invalid-state", "the socket is not bound")
                got = s3.incoming.receive(1)
                if got:
                    data, addr = got[0]
                    return Ok((data, to_wit_address(addr, _b_types)))
                await wait_ready(s3.incoming.subscribe())
        except SocketError as e:
            return error_code(e.code)

    def get_unicast_hop_limit(self, self_: Resource[Any]) -> Ok[int] | Err[Any]:
        return self._do(self_, lambda s: s.unicast_hop_limit())

    def set_unicast_hop_limit(self, self_: Resource[Any], value: int) -> Ok[None] | Err[Any]:
        return self._do(self_, lambda s: s.set_unicast_hop_limit(value))


class SocketsTypesHost:
    """``wasi:sockets/types@0.3.0``."""

    def __init__(self, ctx: WasiCtx) -> None:
        self.tcp_socket = TcpSocketHost(ctx)
        self.udp_socket = UdpSocketHost(ctx)


class IpNameLookupHost:
    """``wasi:sockets/ip-name-lookup@0.3.0``: 0.2's lookup (the policy, a resolver thread),
    awaited."""

    def __init__(self, ctx: WasiCtx) -> None:
        self._ctx = ctx

    async def resolve_addresses(self, name: str) -> Ok[list[Any]] | Err[Any]:
        try:
            lookup = resolve_addresses(sockets_state(self._ctx).network, name)
            try:
                await wait_ready(lookup.subscribe())
                out = []
                while (ip := lookup.resolve_next_address()) is not None:
                    out.append(to_wit_ip(ip, _b_types))
                return Ok(out)
            finally:
                lookup.drop()
        except SocketError as e:
            return Err(case(_b_lookup, "ErrorCode", e.code))


register(_b_types, SocketsTypesHost)
register(_b_lookup, IpNameLookupHost)
