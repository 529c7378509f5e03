"""The socket objects shared by `wasi:sockets/tcp`, `udp` and `ip-name-lookup`: the `network`
capability, pollables over a socket's readiness, and :class:`IpSocket`, the part of a TCP or
UDP socket that is the same for both (binding, addresses, hop limit, buffer sizes).

A pollable here asks its source again at every poll (``poll_ready``/``wait_spec``), so one
`subscribe` serves a socket's whole life, and all waiting is a descriptor handed to
``wasi.io.poll``'s selectors.
"""

from __future__ import annotations

import errno
import select
import selectors
import socket
import sys

from .io import Pollable
from .sockets_net import (
    SockAddr,
    SocketAddrUse,
    SocketError,
    SocketPolicy,
    check_family,
    check_unicast,
    raise_os,
)

__all__ = ["IpSocket", "Network", "SocketPollable", "Waitable", "events", "fd_ready"]

I32_MAX = 2**31 - 1
_POLLIN = 0x001
_POLLOUT = 0x004


class Network:
    """The `network` resource: the capability a guest passes to bind and connect, carrying the
    store's policy. ``instance-network`` hands out handles to one such object per context, so
    "the same network" is identity."""

    def __init__(self, policy: SocketPolicy) -> None:
        self.policy = policy


def fd_ready(sock: socket.socket, write: bool, timeout: float = 0.0) -> bool:
    """Whether ``sock`` is readable (or writable) now, or within ``timeout`` seconds; errors
    count as ready. (``poll``, not ``select``: descriptors above 1023 are fine.)"""
    if not hasattr(select, "poll"):  # Windows
        r, w, x = select.select([] if write else [sock], [sock] if write else [], [sock], timeout)
        return bool(r or w or x)
    p = select.poll()
    p.register(sock.fileno(), _POLLOUT if write else _POLLIN)
    return bool(p.poll(int(timeout * 1000)))


def events(write: bool) -> int:
    return selectors.EVENT_WRITE if write else selectors.EVENT_READ


class Waitable:
    """What a :class:`SocketPollable` asks: ready now, or which fd/event to wait on."""

    def poll_ready(self) -> bool:
        raise NotImplementedError

    def wait_spec(self) -> tuple[socket.socket, int] | None:
        raise NotImplementedError

    def subscribe(self) -> SocketPollable:
        return SocketPollable(self)


class SocketPollable(Pollable):
    """A pollable over a socket object's current readiness."""

    def __init__(self, source: Waitable) -> None:
        self._source = source

    def ready(self) -> bool:
        return self._source.poll_ready()

    def wait_spec(self) -> tuple[socket.socket, int] | None:
        return self._source.wait_spec()

    def deadline_ns(self) -> int | None:
        return None


def buffer_size(kernel_value: int) -> int:
    """Linux reports twice the size that was set (its bookkeeping overhead); undo that so a value
    reads back as set."""
    return kernel_value // 2 if sys.platform.startswith("linux") else kernel_value


def checked_buffer_size(value: int) -> int:
    if value == 0:
        raise SocketError("invalid-argument", "buffer size 0")
    return min(value, I32_MAX)


def new_socket(family: int, kind: int, proto: int) -> socket.socket:
    """A non-blocking socket for `create-tcp-socket`/`create-udp-socket` (IPv6: v6-only)."""
    if family not in (socket.AF_INET, socket.AF_INET6):
        raise SocketError("not-supported", f"address family {family}")
    try:
        sock = socket.socket(family, kind, proto)
    except OSError as e:
        raise raise_os(e, {errno.EAFNOSUPPORT: "not-supported"}) from e
    sock.setblocking(False)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    return sock


class IpSocket(Waitable):
    """A TCP or UDP socket's common part. ``state`` starts ``unbound``; a dropped socket is
    ``closed`` and answers `invalid-state` to everything."""

    BIND_USE = SocketAddrUse.TCP_BIND
    #: Whether a bind to a multicast or broadcast address fails with `invalid-argument`: the
    #: WIT lists that for TCP's bind, not for UDP's (a UDP receiver binds a group address).
    BIND_UNICAST_ONLY = True

    def __init__(self, sock: socket.socket, family: int, state: str = "unbound") -> None:
        self._sock = sock
        self.family = family
        self.state = state
        self._network: Network | None = None
        self._bound_to: SockAddr | None = None  # the address given to a successful bind

    def _require_open(self) -> socket.socket:
        if self.state == "closed":
            raise SocketError("invalid-state", "the socket is closed")
        return self._sock

    def _before_bind(self, local: SockAddr) -> None:
        """Set options a bind needs (TCP: SO_REUSEADDR)."""

    def start_bind(self, network: Network, local: SockAddr) -> None:
        if self.state != "unbound":
            raise SocketError("concurrency-conflict" if self.state == "bind-started"
                              else "invalid-state", f"cannot bind in state {self.state}")
        check_family(local, self.family)
        check_unicast(local, multicast_ok=not self.BIND_UNICAST_ONLY)
        network.policy.require(local, self.BIND_USE)
        try:
            self._before_bind(local)
            self._sock.bind(local.to_python())
        except OSError as e:
            raise raise_os(e) from e
        self._network = network
        self._bound_to = local
        self.state = "bind-started"

    def finish_bind(self) -> None:
        if self.state != "bind-started":
            raise SocketError("not-in-progress", "no bind in progress")
        self.state = "bound"

    def _local_address(self) -> SockAddr:
        try:
            return SockAddr.from_python(self._sock.getsockname())
        except OSError as e:
            raise raise_os(e) from e

    # -- options ------------------------------------------------------------------------------

    def _get(self, level: int, name: int) -> int:
        sock = self._require_open()
        try:
            return sock.getsockopt(level, name)
        except OSError as e:
            raise raise_os(e) from e

    def _set(self, level: int, name: int, value: int) -> None:
        sock = self._require_open()
        try:
            sock.setsockopt(level, name, value)
        except OSError as e:
            if e.errno == errno.ENOBUFS and name in (socket.SO_RCVBUF, socket.SO_SNDBUF):
                return  # a buffer size is a hint: BSDs refuse what Linux silently clamps
            raise raise_os(e) from e

    def _hop_option(self) -> tuple[int, int]:
        if self.family == socket.AF_INET:
            return (socket.IPPROTO_IP, socket.IP_TTL)
        return (socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS)

    def hop_limit(self) -> int:
        return self._get(*self._hop_option())

    def set_hop_limit(self, value: int) -> None:
        if value == 0:
            raise SocketError("invalid-argument", "hop limit 0")
        self._set(*self._hop_option(), value)

    def receive_buffer_size(self) -> int:
        return buffer_size(self._get(socket.SOL_SOCKET, socket.SO_RCVBUF))

    def set_receive_buffer_size(self, value: int) -> None:
        self._set(socket.SOL_SOCKET, socket.SO_RCVBUF, checked_buffer_size(value))

    def send_buffer_size(self) -> int:
        return buffer_size(self._get(socket.SOL_SOCKET, socket.SO_SNDBUF))

    def set_send_buffer_size(self, value: int) -> None:
        self._set(socket.SOL_SOCKET, socket.SO_SNDBUF, checked_buffer_size(value))
