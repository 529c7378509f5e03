"""`wasi:sockets/udp`: a UDP socket (``unbound -> bind-started -> bound``, then streaming to any
peer or to one) over a non-blocking :class:`socket.socket`, and its datagram streams.

`stream(remote)` connects the kernel socket to ``remote`` (so the local address follows the
route, as the WIT allows, and ICMP errors surface) or dissolves an earlier association with
``connect(AF_UNSPEC)``; it returns a fresh pair of streams, and only the newest pair works
(older ones answer `invalid-state`). Linux's dissolve also releases a port that was bound as 0;
since a WASI binding never changes, the socket is bound to that port again at once. A
connected stream's `receive` drops datagrams from anyone else (some may have been queued before
the `connect`). `receive` takes up to ``max-results`` datagrams that are there now;
`check-send` grants a number of datagrams that the next `send` may carry (sending more traps),
and `send` stops at the first datagram the kernel will not take without blocking.

Example (loopback only)::

    >>> from wasm_component.wasi.sockets_net import SocketPolicy, SockAddr
    >>> from wasm_component.wasi.sockets_tcp import Network
    >>> pol = SocketPolicy(); pol.allow("udp", "127.0.0.1")
    >>> net = Network(pol)
    >>> a = UdpSocket.create(socket.AF_INET)
    >>> a.start_bind(net, SockAddr.parse("127.0.0.1", 0)); a.finish_bind()
    >>> inc, out = a.stream(None)
    >>> out.check_send() > 0
    True
    >>> out.send([(b"hi", a.local_address())])
    1
    >>> [d for d, _ in inc.receive(5)]
    [b'hi']
    >>> a.drop()
"""

from __future__ import annotations

import ctypes
import errno
import functools
import socket

from .sockets_base import IpSocket, Network, Waitable, events, fd_ready, new_socket
from .sockets_net import (
    SockAddr,
    SocketAddrUse,
    SocketError,
    check_family,
    check_remote,
    check_unicast,
    raise_os,
)

__all__ = ["IncomingDatagramStream", "OutgoingDatagramStream", "UdpSocket"]

MAX_DATAGRAM = 65535
RECEIVE_BATCH = 16
"""The most datagrams one `receive` returns (the host bounds what one call allocates)."""
SEND_PERMIT = 16
"""What `check-send` grants when the socket can send."""


@functools.cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


class UdpSocket(IpSocket):
    """One `udp-socket`; methods raise :class:`SocketError` with the WIT's error codes."""

    BIND_USE = SocketAddrUse.UDP_BIND
    BIND_UNICAST_ONLY = False  # the WIT's udp bind lists no such error

    def __init__(self, sock: socket.socket, family: int) -> None:
        super().__init__(sock, family)
        self._remote: SockAddr | None = None
        self.generation = 0  # which stream pair is current

    @staticmethod
    def create(family: int) -> UdpSocket:
        """`create-udp-socket`: a non-blocking socket (IPv6 ones are v6-only)."""
        return UdpSocket(new_socket(family, socket.SOCK_DGRAM, socket.IPPROTO_UDP), family)

    @property
    def sock(self) -> socket.socket:
        return self._require_open()

    @property
    def network(self) -> Network:
        assert self._network is not None
        return self._network

    def stream(self, remote: SockAddr | None) -> tuple[IncomingDatagramStream, OutgoingDatagramStream]:
        if self.state != "bound":
            raise SocketError("invalid-state", f"the socket is not bound (state {self.state})")
        if remote is not None:
            check_family(remote, self.family)
            check_unicast(remote)
            check_remote(remote)
            self.network.policy.require(remote, SocketAddrUse.UDP_CONNECT)
        sock = self._require_open()
        if self._remote is not None:
            self._disconnect()
        if remote is not None:
            try:
                sock.connect(remote.to_python())
            except OSError as e:
                if e.errno != errno.EINVAL:
                    raise raise_os(e, {errno.EADDRNOTAVAIL: "address-in-use"}) from e
                # Linux: a socket whose route changes cannot be re-connected in place
                self._disconnect()
                try:
                    sock.connect(remote.to_python())
                except OSError as e2:
                    raise raise_os(e2, {errno.EADDRNOTAVAIL: "address-in-use"}) from e2
        self._remote = remote
        self.generation += 1
        return IncomingDatagramStream(self, self.generation), OutgoingDatagramStream(self, self.generation)

    def _disconnect(self) -> None:
        """``connect(fd, {AF_UNSPEC})`` (which Python's `connect` cannot express), keeping the
        port the socket was bound to."""
        before = self._local_address()
        libc = _libc()
        unspec = (ctypes.c_ubyte * 16)()  # sa_family 0 = AF_UNSPEC, the rest zero
        if libc.connect(self._sock.fileno(), ctypes.byref(unspec), ctypes.c_uint(16)) != 0:
            num = ctypes.get_errno()
            if num not in (errno.EAFNOSUPPORT, errno.EINVAL):  # BSDs report success this way
                raise raise_os(OSError(num, errno.errorcode.get(num, "")))
        self._remote = None
        after = self._local_address()
        if after.port == 0 and before.port != 0:
            bound = self._bound_to or before
            try:
                self._sock.bind(SockAddr(bound.ip, before.port, bound.flow_info,
                                         bound.scope_id).to_python())
            except OSError as e:
                raise raise_os(e) from e

    def local_address(self) -> SockAddr:
        if self.state != "bound":
            raise SocketError("invalid-state", "the socket is not bound")
        return self._local_address()

    def remote_address(self) -> SockAddr:
        if self.state != "bound" or self._remote is None:
            raise SocketError("invalid-state", "the socket is not streaming to a remote address")
        return self._remote

    def unicast_hop_limit(self) -> int:
        return self.hop_limit()

    def set_unicast_hop_limit(self, value: int) -> None:
        self.set_hop_limit(value)

    def poll_ready(self) -> bool:
        return True  # no asynchronous operation of the socket itself ever waits

    def wait_spec(self) -> tuple[socket.socket, int] | None:
        return None

    def drop(self) -> None:
        if self.state != "closed":
            self.state = "closed"
            self._sock.close()


class _DatagramStream(Waitable):
    def __init__(self, owner: UdpSocket, generation: int) -> None:
        self._owner = owner
        self._generation = generation

    def _sock(self) -> socket.socket:
        if self._owner.generation != self._generation:
            raise SocketError("invalid-state", "a later `stream` call replaced this stream")
        return self._owner.sock

    def _live(self) -> bool:
        return self._owner.generation == self._generation and self._owner.state != "closed"

    def drop(self) -> None:
        pass


class IncomingDatagramStream(_DatagramStream):
    """`incoming-datagram-stream`: `receive` never blocks and never says `would-block`."""

    def receive(self, max_results: int) -> list[tuple[bytes, SockAddr]]:
        sock = self._sock()
        want = min(max_results, RECEIVE_BATCH)
        remote = self._owner._remote
        out: list[tuple[bytes, SockAddr]] = []
        for _ in range(4 * want):  # bounded even while strangers flood a connected stream
            if len(out) == want:
                break
            try:
                data, addr = sock.recvfrom(MAX_DATAGRAM)
            except BlockingIOError:
                break
            except OSError as e:
                if out:
                    break
                raise raise_os(e, {errno.ECONNRESET: "remote-unreachable"}) from e
            source = SockAddr.from_python(addr)
            if remote is None or _same_peer(source, remote):
                out.append((data, source))
        return out

    def poll_ready(self) -> bool:
        return not self._live() or fd_ready(self._owner._sock, False)

    def wait_spec(self) -> tuple[socket.socket, int] | None:
        return (self._owner._sock, events(False)) if self._live() else None


def _same_peer(source: SockAddr, remote: SockAddr) -> bool:
    return source.ip == remote.ip and source.port == remote.port


class SendPermitError(Exception):
    """`send` without a permit, or with more datagrams than `check-send` granted: the WIT says
    the implementation must trap."""


class OutgoingDatagramStream(_DatagramStream):
    """`outgoing-datagram-stream`: permits from `check-send`, then `send`."""

    def __init__(self, owner: UdpSocket, generation: int) -> None:
        super().__init__(owner, generation)
        self._permit: int | None = None  # None: no check-send since the last send
        self._blocked = False

    def check_send(self) -> int:
        sock = self._sock()
        if self._blocked:
            if not fd_ready(sock, True):
                return 0
            self._blocked = False
        if self._permit is None:
            self._permit = SEND_PERMIT
        return self._permit

    def send(self, datagrams: list[tuple[bytes, SockAddr | None]]) -> int:
        if self._permit is None:
            raise SendPermitError("`send` without a preceding `check-send`")
        if len(datagrams) > self._permit:
            raise SendPermitError(f"`send` of {len(datagrams)} datagrams, "
                                  f"`check-send` permitted {self._permit}")
        sock = self._sock()
        self._permit = None
        sent = 0
        for data, addr in datagrams:
            try:
                self._send_one(sock, data, addr)
            except BlockingIOError:
                self._blocked = True
                break
            except SocketError:
                if sent:
                    break
                raise
            sent += 1
        return sent

    def _send_one(self, sock: socket.socket, data: bytes, addr: SockAddr | None) -> None:
        owner = self._owner
        remote = owner._remote
        if addr is None and remote is None:
            raise SocketError("invalid-argument", "no remote address for an unconnected stream")
        if addr is not None:
            if remote is not None and addr != remote:
                raise SocketError("invalid-argument",
                                  f"{addr} is not the stream's remote address {remote}")
            check_family(addr, owner.family)
            check_unicast(addr)
            check_remote(addr)
            owner.network.policy.require(addr, SocketAddrUse.UDP_OUTGOING_DATAGRAM)
        try:
            if remote is not None:
                sock.send(data)  # connected: the address (if any) was checked to be the peer
            else:
                assert addr is not None
                sock.sendto(data, addr.to_python())
        except BlockingIOError:
            raise
        except OSError as e:
            raise raise_os(e, {errno.ECONNRESET: "remote-unreachable"}) from e

    def poll_ready(self) -> bool:
        return not self._live() or not self._blocked or fd_ready(self._owner._sock, True)

    def wait_spec(self) -> tuple[socket.socket, int] | None:
        return (self._owner._sock, events(True)) if self._live() and self._blocked else None
