"""The `wasi:sockets` host (WASI 0.2): `network`, `instance-network`, `tcp`, `tcp-create-socket`,
`udp`, `udp-create-socket` and `ip-name-lookup`, as classes implementing the generated ``Host``
Protocols of ``wasi._bindings``.

This module only translates between the guest's handles and values and the socket objects of
``sockets_tcp``/``sockets_udp``/``sockets_lookup`` (which hold the state machines) and maps
their :class:`~wasm_component.wasi.sockets_net.SocketError` to `err(error-code)`. Every socket is
non-blocking; its pollables wait on the socket's descriptor in ``wasi.io.poll``.

Sockets are denied unless the store's ``WasiConfig`` allows them::

    config = WasiConfig().allow_tcp("127.0.0.1").allow_ip_name_lookup(names=["localhost"])
    store.set_wasi(config)
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from types import ModuleType
from typing import Any, Literal, TypeVar

from ..errors import Trap
from ..resources import Resource
from ..values import Err, Ok
from ._bindings.imports import wasi_io_poll as _b_poll
from ._bindings.imports import wasi_io_streams as _b_streams
from ._bindings.imports import wasi_sockets_instance_network as _b_instance_network
from ._bindings.imports import wasi_sockets_ip_name_lookup as _b_lookup
from ._bindings.imports import wasi_sockets_network as _b_network
from ._bindings.imports import wasi_sockets_tcp as _b_tcp
from ._bindings.imports import wasi_sockets_tcp_create_socket as _b_tcp_create
from ._bindings.imports import wasi_sockets_udp as _b_udp
from ._bindings.imports import wasi_sockets_udp_create_socket as _b_udp_create
from .ctx import WasiCtx, register
from .io import IoError
from .sockets_lookup import ResolveAddressStream, resolve_addresses
from .sockets_net import IpAddr, SockAddr, SocketError, SocketPolicy, error_code_from_errno
from .sockets_tcp import Network, TcpSocket
from .sockets_udp import (
    IncomingDatagramStream,
    OutgoingDatagramStream,
    SendPermitError,
    UdpSocket,
)

__all__ = [
    "InstanceNetworkHost",
    "IpNameLookupHost",
    "NetworkHost",
    "TcpCreateSocketHost",
    "TcpHost",
    "UdpCreateSocketHost",
    "UdpHost",
    "address_family",
    "create_socket",
    "from_wit_address",
    "sockets_state",
    "to_wit_address",
    "wit_family",
]

T = TypeVar("T")
R = TypeVar("R")

Result = Ok[Any] | Err[Any]


# -- value conversions ---------------------------------------------------------------------------

# The conversions take the bindings module of the WASI version (0.2's `network` or 0.3's
# `types`): the address types are the same records and variants there, under new classes.

def from_wit_address(a: Any) -> SockAddr:
    """A WIT `ip-socket-address` (of either version) as a :class:`SockAddr`."""
    if a.value.__class__.__name__ == "Ipv4SocketAddress":
        return SockAddr(ipaddress.IPv4Address(bytes(a.value.address)), a.value.port)
    v6 = a.value
    packed = b"".join(int(x).to_bytes(2, "big") for x in v6.address)
    return SockAddr(ipaddress.IPv6Address(packed), v6.port, v6.flow_info, v6.scope_id)


def to_wit_ip(ip: IpAddr, m: ModuleType = _b_network) -> Any:
    """An IP address as bindings ``m``'s `ip-address`."""
    packed = ip.packed
    if ip.version == 4:
        return m.IpAddressIpv4((packed[0], packed[1], packed[2], packed[3]))
    w = [int.from_bytes(packed[i:i + 2], "big") for i in range(0, 16, 2)]
    return m.IpAddressIpv6((w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]))


def to_wit_address(a: SockAddr, m: ModuleType = _b_network) -> Any:
    """A :class:`SockAddr` as bindings ``m``'s `ip-socket-address`."""
    ip = to_wit_ip(a.ip, m)
    if isinstance(ip, m.IpAddressIpv4):
        return m.IpSocketAddressIpv4(m.Ipv4SocketAddress(a.port, ip.value))
    return m.IpSocketAddressIpv6(m.Ipv6SocketAddress(a.port, a.flow_info, ip.value, a.scope_id))


def address_family(f: Any) -> int:
    """An `ip-address-family` (of either version) as ``AF_INET``/``AF_INET6``."""
    return socket.AF_INET if f.value == "ipv4" else socket.AF_INET6


def wit_family(family: int, m: ModuleType = _b_network) -> Any:
    """``AF_INET``/``AF_INET6`` as bindings ``m``'s `ip-address-family`."""
    return m.IpAddressFamily.IPV4 if family == socket.AF_INET else m.IpAddressFamily.IPV6


# -- per-context state ---------------------------------------------------------------------------

class SocketsState:
    """What a store's sockets share: the one `network` (carrying the config's policy)."""

    def __init__(self, ctx: WasiCtx) -> None:
        policy = getattr(ctx.config, "sockets_policy", None)
        self.network = Network(policy if isinstance(policy, SocketPolicy) else SocketPolicy())


def sockets_state(ctx: WasiCtx) -> SocketsState:
    return ctx.extension("sockets", SocketsState)


def create_socket(ctx: WasiCtx, protocol: Literal["tcp", "udp"], make: Callable[[int], T],
                  family: Any) -> T:  # fmt: skip
    """A new socket of ``family`` (either version's enum): `access-denied` while the policy
    allows nothing at all for the protocol."""
    if not sockets_state(ctx).network.policy.allows_protocol(protocol):
        raise SocketError("access-denied", f"the configuration allows no {protocol} use")
    return make(address_family(family))


class _Base:
    """Looks up the handle's object and turns :class:`SocketError` into `err(error-code)`."""

    _cls: type = object

    def __init__(self, ctx: WasiCtx) -> None:
        self._ctx = ctx

    def _get(self, r: Resource[Any]) -> Any:
        return self._ctx.get(r, self._cls)

    def _network(self, r: Resource[Any]) -> Network:
        return self._ctx.get(r, Network)

    def _do(self, r: Resource[Any], fn: Callable[[Any], Any]) -> Result:
        return _result(lambda: fn(self._get(r)))

    def subscribe(self, self_: Resource[Any]) -> Resource[Any]:
        """A pollable (a child of the handle, as in wasmtime) over the object's readiness."""
        return self._ctx.push(self._get(self_).subscribe(), _b_poll._RT_Pollable, parent=self_)

    def drop(self, rep: Resource[Any]) -> None:
        self._ctx.delete(rep).drop()


def _result(fn: Callable[[], Any]) -> Result:
    try:
        return Ok(fn())
    except SocketError as e:
        return Err(_b_network.ErrorCode(e.code))
    except SendPermitError as e:
        raise Trap(f"`wasi:sockets/udp.outgoing-datagram-stream.send`: {e}") from None


class _SocketResource(_Base):
    """What `tcp-socket` and `udp-socket` share."""

    def start_bind(self, self_: Resource[Any], network: Resource[Any],
                   local_address: _b_network.IpSocketAddress) -> Result:
        net = self._network(network)
        return self._do(self_, lambda s: s.start_bind(net, from_wit_address(local_address)))

    def finish_bind(self, self_: Resource[Any]) -> Result:
        return self._do(self_, lambda s: s.finish_bind())

    def local_address(self, self_: Resource[Any]) -> Result:
        return self._do(self_, lambda s: to_wit_address(s.local_address()))

    def remote_address(self, self_: Resource[Any]) -> Result:
        return self._do(self_, lambda s: to_wit_address(s.remote_address()))

    def address_family(self, self_: Resource[Any]) -> _b_network.IpAddressFamily:
        family: _b_network.IpAddressFamily = wit_family(self._get(self_).family)
        return family

    def receive_buffer_size(self, self_: Resource[Any]) -> Result:
        return self._do(self_, lambda s: s.receive_buffer_size())

    def set_receive_buffer_size(self, self_: Resource[Any], value: int) -> Result:
        return self._do(self_, lambda s: s.set_receive_buffer_size(value))

    def send_buffer_size(self, self_: Resource[Any]) -> Result:
        return self._do(self_, lambda s: s.send_buffer_size())

    def set_send_buffer_size(self, self_: Resource[Any], value: int) -> Result:
        return self._do(self_, lambda s: s.set_send_buffer_size(value))


class _Creator:
    """`create-tcp-socket`/`create-udp-socket`: `access-denied` while the policy allows nothing
    at all for the protocol."""

    def __init__(self, ctx: WasiCtx) -> None:
        self._ctx = ctx

    def _create(self, protocol: Literal["tcp", "udp"], make: Callable[[int], Any],
                rt: Any, family: _b_network.IpAddressFamily) -> Result:
        return _result(lambda: self._ctx.push(create_socket(self._ctx, protocol, make, family),
                                              rt))


# -- network, instance-network -------------------------------------------------------------------

class _NetworkResource(_Base):
    _cls = Network

    def drop(self, rep: Resource[Any]) -> None:
        self._ctx.delete(rep)


class NetworkHost:
    """`wasi:sockets/network`."""

    def __init__(self, ctx: WasiCtx) -> None:
        self._ctx = ctx
        self.network = _NetworkResource(ctx)

    def network_error_code(self, err: Resource[Any]) -> _b_network.ErrorCode | None:
        """The `error-code` of a stream's `error` that came from the operating system (as
        wasmtime: any I/O error, a socket's or a file's, maps by its errno), else `none`.
        ``@unstable(feature = network-error-code)``: linked only when that is enabled."""
        e = self._ctx.get(err, IoError)
        if e.errno is None:
            return None
        return _b_network.ErrorCode(error_code_from_errno(e.errno))


class InstanceNetworkHost:
    """`wasi:sockets/instance-network`: every handle is to the store's one network."""

    def __init__(self, ctx: WasiCtx) -> None:
        self._ctx = ctx

    def instance_network(self) -> Resource[Any]:
        return self._ctx.push(sockets_state(self._ctx).network, _b_network._RT_Network)


# -- tcp ----------------------------------------------------------------------------------------

class _TcpSocketResource(_SocketResource):
    _cls = TcpSocket

    def _streams(self, inp: Any, out: Any) -> tuple[Resource[Any], Resource[Any]]:
        push = self._ctx.push
        return (push(inp, _b_streams._RT_InputStream), push(out, _b_streams._RT_OutputStream))

    def start_connect(self, self_: Resource[Any], network: Resource[Any],
                      remote_address: _b_network.IpSocketAddress) -> Result:
        net = self._network(network)
        return self._do(self_, lambda s: s.start_connect(net, from_wit_address(remote_address)))

    def finish_connect(self, self_: Resource[Any]) -> Result:
        return self._do(self_, lambda s: self._streams(*s.finish_connect()))

    def start_listen(self, self_: Resource[Any]) -> Result:
        return self._do(self_, lambda s: s.start_listen())

    def finish_listen(self, self_: Resource[Any]) -> Result:
        return self._do(self_, lambda s: s.finish_listen())

    def accept(self, self_: Resource[Any]) -> Result:
        def go(s: TcpSocket) -> tuple[Resource[Any], Resource[Any], Resource[Any]]:
            child, inp, out = s.accept()
            return (self._ctx.push(child, _b_tcp._RT_TcpSocket), *self._streams(inp, out))
        return self._do(self_, go)

    def is_listening(self, self_: Resource[Any]) -> bool:
        return bool(self._get(self_).is_listening())

    def set_listen_backlog_size(self, self_: Resource[Any], value: int) -> Result:
        return self._do(self_, lambda s: s.set_listen_backlog_size(value))

    def keep_alive_enabled(self, self_: Resource[Any]) -> Result:
        return self._do(self_, lambda s: s.keep_alive_enabled())

    def set_keep_alive_enabled(self, self_: Resource[Any], value: bool) -> Result:
        return self._do(self_, lambda s: s.set_keep_alive_enabled(value))

    def keep_alive_idle_time(self, self_: Resource[Any]) -> Result:
        return self._do(self_, lambda s: s.keep_alive_idle_time())

    def set_keep_alive_idle_time(self, self_: Resource[Any], value: int) -> Result:
        return self._do(self_, lambda s: s.set_keep_alive_idle_time(value))

    def keep_alive_interval(self, self_: Resource[Any]) -> Result:
        return self._do(self_, lambda s: s.keep_alive_interval())

    def set_keep_alive_interval(self, self_: Resource[Any], value: int) -> Result:
        return self._do(self_, lambda s: s.set_keep_alive_interval(value))

    def keep_alive_count(self, self_: Resource[Any]) -> Result:
        return self._do(self_, lambda s: s.keep_alive_count())

    def set_keep_alive_count(self, self_: Resource[Any], value: int) -> Result:
        return self._do(self_, lambda s: s.set_keep_alive_count(value))

    def hop_limit(self, self_: Resource[Any]) -> Result:
        return self._do(self_, lambda s: s.hop_limit())

    def set_hop_limit(self, self_: Resource[Any], value: int) -> Result:
        return self._do(self_, lambda s: s.set_hop_limit(value))

    def shutdown(self, self_: Resource[Any], shutdown_type: _b_tcp.ShutdownType) -> Result:
        return self._do(self_, lambda s: s.shutdown(shutdown_type.value))


class TcpHost:
    """`wasi:sockets/tcp`."""

    def __init__(self, ctx: WasiCtx) -> None:
        self.tcp_socket = _TcpSocketResource(ctx)


class TcpCreateSocketHost(_Creator):
    """`wasi:sockets/tcp-create-socket`."""

    def create_tcp_socket(self, address_family: _b_network.IpAddressFamily) -> Result:
        return self._create("tcp", TcpSocket.create, _b_tcp._RT_TcpSocket, address_family)


# -- udp ----------------------------------------------------------------------------------------

class _UdpSocketResource(_SocketResource):
    _cls = UdpSocket

    def stream(self, self_: Resource[Any],
               remote_address: _b_network.IpSocketAddress | None) -> Result:
        remote = None if remote_address is None else from_wit_address(remote_address)

        def go(s: UdpSocket) -> tuple[Resource[Any], Resource[Any]]:
            inc, out = s.stream(remote)
            push = self._ctx.push
            return (push(inc, _b_udp._RT_IncomingDatagramStream),
                    push(out, _b_udp._RT_OutgoingDatagramStream))
        return self._do(self_, go)

    def unicast_hop_limit(self, self_: Resource[Any]) -> Result:
        return self._do(self_, lambda s: s.unicast_hop_limit())

    def set_unicast_hop_limit(self, self_: Resource[Any], value: int) -> Result:
        return self._do(self_, lambda s: s.set_unicast_hop_limit(value))

class _IncomingResource(_Base):
    _cls = IncomingDatagramStream

    def receive(self, self_: Resource[Any], max_results: int) -> Result:
        return self._do(self_, lambda s: [
            _b_udp.IncomingDatagram(data, to_wit_address(addr))
            for data, addr in s.receive(max_results)])


class _OutgoingResource(_Base):
    _cls = OutgoingDatagramStream

    def check_send(self, self_: Resource[Any]) -> Result:
        return self._do(self_, lambda s: s.check_send())

    def send(self, self_: Resource[Any], datagrams: list[_b_udp.OutgoingDatagram]) -> Result:
        items = [(bytes(d.data), None if d.remote_address is None
                  else from_wit_address(d.remote_address)) for d in datagrams]
        return self._do(self_, lambda s: s.send(items))


class UdpHost:
    """`wasi:sockets/udp`."""

    def __init__(self, ctx: WasiCtx) -> None:
        self.udp_socket = _UdpSocketResource(ctx)
        self.incoming_datagram_stream = _IncomingResource(ctx)
        self.outgoing_datagram_stream = _OutgoingResource(ctx)


class UdpCreateSocketHost(_Creator):
    """`wasi:sockets/udp-create-socket`."""

    def create_udp_socket(self, address_family: _b_network.IpAddressFamily) -> Result:
        return self._create("udp", UdpSocket.create, _b_udp._RT_UdpSocket, address_family)


# -- ip-name-lookup -----------------------------------------------------------------------------

class _ResolveResource(_Base):
    _cls = ResolveAddressStream

    def resolve_next_address(self, self_: Resource[Any]) -> Result:
        def go(s: ResolveAddressStream) -> _b_network.IpAddress | None:
            ip = s.resolve_next_address()
            return None if ip is None else to_wit_ip(ip)
        return self._do(self_, go)


class IpNameLookupHost:
    """`wasi:sockets/ip-name-lookup`."""

    def __init__(self, ctx: WasiCtx) -> None:
        self._ctx = ctx
        self.resolve_address_stream = _ResolveResource(ctx)

    def resolve_addresses(self, network: Resource[Any], name: str) -> Result:
        net = self._ctx.get(network, Network)
        return _result(lambda: self._ctx.push(resolve_addresses(net, name),
                                              _b_lookup._RT_ResolveAddressStream))


def _register() -> None:
    register(_b_network, NetworkHost)
    register(_b_instance_network, InstanceNetworkHost)
    register(_b_tcp, TcpHost)
    register(_b_tcp_create, TcpCreateSocketHost)
    register(_b_udp, UdpHost)
    register(_b_udp_create, UdpCreateSocketHost)
    register(_b_lookup, IpNameLookupHost)


_register()
