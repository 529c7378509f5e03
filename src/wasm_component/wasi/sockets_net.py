"""What every `wasi:sockets` interface shares: socket addresses, the `error-code` mapping from
`errno`, the argument checks the WIT prescribes, and the host's address policy.

Kept apart from the bindings so the TCP/UDP state machines (``sockets_tcp``, ``sockets_udp``)
are plain Python over the :mod:`socket` module, testable without a component. Addresses are
carried as :class:`SockAddr` (an ``ipaddress`` object plus port, flow info and scope id); errors
as :class:`SocketError` whose ``code`` is the WIT `error-code` case name (``"access-denied"``),
which the generated enum takes as its value.

Sockets are denied unless the policy allows them::

    >>> p = SocketPolicy()
    >>> p.allows(SockAddr.parse("127.0.0.1", 80), SocketAddrUse.TCP_CONNECT)
    False
    >>> p.allow("tcp", "127.0.0.0/8")
    >>> p.allows(SockAddr.parse("127.0.0.1", 80), SocketAddrUse.TCP_CONNECT)
    True
"""

from __future__ import annotations

import enum
import errno
import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "IpAddr",
    "SockAddr",
    "SocketAddrCheck",
    "SocketAddrUse",
    "SocketError",
    "SocketPolicy",
    "error_code_from_os",
]

IpAddr = ipaddress.IPv4Address | ipaddress.IPv6Address


class SocketError(Exception):
    """A `wasi:sockets` `error-code`, raised by the state machines and returned as `err(code)`."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code


class SocketAddrUse(enum.Enum):
    """Why an address is checked against the policy (as wasmtime's `SocketAddrUse`)."""

    TCP_BIND = "tcp-bind"
    TCP_CONNECT = "tcp-connect"
    UDP_BIND = "udp-bind"
    UDP_CONNECT = "udp-connect"
    UDP_OUTGOING_DATAGRAM = "udp-outgoing-datagram"

    @property
    def protocol(self) -> Literal["tcp", "udp"]:
        return "tcp" if self.value.startswith("tcp") else "udp"


SocketAddrCheck = Callable[[IpAddr, int, SocketAddrUse], bool]
"""``check(ip, port, use) -> bool``: a user's policy callback (True allows)."""


@dataclass(frozen=True)
class SockAddr:
    """An IP socket address as `wasi:sockets` spells it (`ip-socket-address`)."""

    ip: IpAddr
    port: int
    flow_info: int = 0
    scope_id: int = 0

    @staticmethod
    def parse(host: str, port: int) -> SockAddr:
        return SockAddr(ipaddress.ip_address(host), port)

    @property
    def family(self) -> int:
        return socket.AF_INET if self.ip.version == 4 else socket.AF_INET6

    def to_python(self) -> tuple[str, int] | tuple[str, int, int, int]:
        """The address tuple the :mod:`socket` module takes."""
        if self.ip.version == 4:
            return (str(self.ip), self.port)
        return (str(self.ip), self.port, self.flow_info, self.scope_id)

    @staticmethod
    def from_python(addr: tuple[object, ...]) -> SockAddr:
        """From what ``getsockname``/``recvfrom``/``accept`` return (scope suffixes dropped)."""
        host = str(addr[0]).split("%", 1)[0]
        port = int(addr[1])  # type: ignore[call-overload]
        if len(addr) >= 4:
            return SockAddr(ipaddress.IPv6Address(host), port, int(addr[2]), int(addr[3]))  # type: ignore[call-overload]
        return SockAddr(ipaddress.ip_address(host), port)

    def __str__(self) -> str:
        return f"{self.ip}:{self.port}" if self.ip.version == 4 else f"[{self.ip}]:{self.port}"


# -- the argument checks the WIT's "typical errors" prescribe -----------------------------------

def check_family(addr: SockAddr, family: int) -> None:
    """`invalid-argument`: the address has the wrong address family, or is an IPv6 address
    that stands for an IPv4 one (IPv4-mapped, or the deprecated IPv4-compatible ``::a.b.c.d``,
    which operating systems treat inconsistently); WASI IPv6 sockets are IPv6-only."""
    if addr.family != family:
        raise SocketError("invalid-argument", f"address {addr} does not match the socket's family")
    ip = addr.ip
    if isinstance(ip, ipaddress.IPv6Address) and (
            ip.ipv4_mapped is not None
            or (int(ip) >> 32 == 0 and int(ip) > 1)):  # ::a.b.c.d, but not :: or ::1
        raise SocketError("invalid-argument", f"{ip} is an IPv4 address in IPv6 form")


def check_unicast(addr: SockAddr, *, multicast_ok: bool = False) -> None:
    """`invalid-argument`: not a unicast address (unless ``multicast_ok``), or an IPv4-mapped
    IPv6 address."""
    ip = addr.ip
    if not multicast_ok and (ip.is_multicast or (
            ip.version == 4 and ip == ipaddress.IPv4Address("255.255.255.255"))):
        raise SocketError("invalid-argument", f"{ip} is not a unicast address")
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        raise SocketError("invalid-argument", f"{ip} is an IPv4-mapped IPv6 address")


def check_remote(addr: SockAddr) -> None:
    """`invalid-argument`: a remote address may be neither `0.0.0.0`/`::` nor port 0."""
    if addr.ip.is_unspecified:
        raise SocketError("invalid-argument", f"remote address {addr.ip} is unspecified")
    if addr.port == 0:
        raise SocketError("invalid-argument", "remote port 0")


# -- errno -> error-code ------------------------------------------------------------------------

_ERRNO: dict[int, str] = {}
for _code, _names in {
    "access-denied": ("EACCES", "EPERM"),
    "not-supported": ("EOPNOTSUPP", "ENOTSUP", "ENOPROTOOPT", "EPROTONOSUPPORT"),
    "invalid-argument": ("EINVAL", "EAFNOSUPPORT", "EFAULT", "EDESTADDRREQ"),
    "out-of-memory": ("ENOMEM", "ENOBUFS"),
    "timeout": ("ETIMEDOUT",),
    "concurrency-conflict": ("EALREADY",),
    "would-block": ("EWOULDBLOCK", "EAGAIN", "EINPROGRESS"),
    "invalid-state": ("EISCONN", "ENOTCONN"),
    "new-socket-limit": ("EMFILE", "ENFILE"),
    "address-in-use": ("EADDRINUSE",),
    "address-not-bindable": ("EADDRNOTAVAIL",),
    "remote-unreachable": ("EHOSTUNREACH", "EHOSTDOWN", "ENETUNREACH", "ENETDOWN", "ENONET",
                           "ENETRESET"),
    "connection-refused": ("ECONNREFUSED",),
    "connection-reset": ("ECONNRESET", "EPIPE"),
    "connection-aborted": ("ECONNABORTED",),
    "datagram-too-large": ("EMSGSIZE",),
}.items():
    for _name in _names:
        _num = getattr(errno, _name, None)
        if _num is not None:
            _ERRNO.setdefault(_num, _code)


def error_code_from_os(exc: OSError, overrides: dict[int, str] | None = None) -> str:
    """The `error-code` for an OS error; ``overrides`` maps errnos whose meaning depends on the
    call (``EADDRNOTAVAIL`` from an implicit bind in `connect` is `address-in-use`)."""
    if isinstance(exc, TimeoutError) and exc.errno is None:
        return "timeout"
    num = exc.errno
    if num is None:
        return "unknown"
    if overrides and num in overrides:
        return overrides[num]
    return error_code_from_errno(num)


def error_code_from_errno(num: int) -> str:
    """The `error-code` of an ``errno`` (`unknown` when none fits)."""
    return _ERRNO.get(num, "unknown")


def raise_os(exc: OSError, overrides: dict[int, str] | None = None) -> SocketError:
    """A :class:`SocketError` for ``exc`` (use as ``raise raise_os(e) from e``)."""
    return SocketError(error_code_from_os(exc, overrides), str(exc))


# -- the policy -----------------------------------------------------------------------------------

Protocol = Literal["tcp", "udp"]


@dataclass(frozen=True)
class _Rule:
    protocol: Protocol
    network: ipaddress.IPv4Network | ipaddress.IPv6Network
    ports: range | None  # None: every port (including 0, "any free port" when binding)
    uses: frozenset[SocketAddrUse]

    def matches(self, addr: SockAddr, use: SocketAddrUse) -> bool:
        return (use in self.uses and addr.ip.version == self.network.version
                and addr.ip in self.network and (self.ports is None or addr.port in self.ports))


_TCP_USES = frozenset({SocketAddrUse.TCP_BIND, SocketAddrUse.TCP_CONNECT})
_UDP_USES = frozenset({SocketAddrUse.UDP_BIND, SocketAddrUse.UDP_CONNECT,
                       SocketAddrUse.UDP_OUTGOING_DATAGRAM})


def _ports(ports: int | range | tuple[int, int] | None) -> range | None:
    if ports is None:
        return None
    if isinstance(ports, bool):
        raise TypeError(f"`ports`: expected an int, a range or a (low, high) pair, got {ports!r}")
    if isinstance(ports, int):
        r = range(ports, ports + 1)
    elif isinstance(ports, range):
        r = ports
    elif isinstance(ports, tuple) and len(ports) == 2 and all(isinstance(p, int) for p in ports):
        r = range(ports[0], ports[1] + 1)
    else:
        raise TypeError(f"`ports`: expected an int, a range or a (low, high) pair, got {ports!r}")
    if r.step != 1 or (len(r) and (r.start < 0 or r[-1] > 65535)):
        raise ValueError(f"`ports`: expected ports within 0..=65535, got {ports!r}")
    return r


@dataclass
class SocketPolicy:
    """Which addresses a guest may bind, connect and send to, and whether it may look names up.

    Everything is denied until allowed: by rules (protocol, CIDR, ports, uses), by a callback,
    or wholesale (:meth:`allow_all`, like wasmtime's ``inherit_network``). An address is allowed
    if any rule matches or the callback returns True.
    """

    rules: list[_Rule] = field(default_factory=list)
    check: SocketAddrCheck | None = None
    all_addresses: bool = False
    ip_name_lookup: bool = False
    lookup_names: frozenset[str] | None = None  # None: any name (when lookups are allowed)

    def allow(self, protocol: Protocol, cidr: str, ports: int | range | tuple[int, int] | None = None,
              *, uses: Iterable[SocketAddrUse] | None = None) -> None:
        """Allow ``protocol`` (``"tcp"``/``"udp"``) to addresses in ``cidr`` (an address or a
        network such as ``"127.0.0.0/8"``), on ``ports`` (all when None), for ``uses`` (every
        use of that protocol when None)."""
        if protocol not in ("tcp", "udp"):
            raise ValueError(f"`SocketPolicy.allow`: expected 'tcp' or 'udp', got {protocol!r}")
        try:
            net = ipaddress.ip_network(cidr, strict=False)
        except ValueError as e:
            raise ValueError(f"`SocketPolicy.allow`: expected an IP address or CIDR, got {cidr!r}") from e
        every = _TCP_USES if protocol == "tcp" else _UDP_USES
        chosen = every if uses is None else frozenset(uses)
        if not chosen <= every:
            raise ValueError(f"`SocketPolicy.allow`: uses {sorted(u.value for u in chosen - every)} "
                             f"are not {protocol} uses")
        self.rules.append(_Rule(protocol, net, _ports(ports), chosen))

    def allows(self, addr: SockAddr, use: SocketAddrUse) -> bool:
        if self.all_addresses or any(r.matches(addr, use) for r in self.rules):
            return True
        return self.check is not None and bool(self.check(addr.ip, addr.port, use))

    def require(self, addr: SockAddr, use: SocketAddrUse) -> None:
        """`access-denied` unless the policy allows ``use`` of ``addr``."""
        if not self.allows(addr, use):
            raise SocketError("access-denied", f"{use.value} {addr} is not allowed by the policy")

    def allows_protocol(self, protocol: Protocol) -> bool:
        """Whether anything at all may be done with ``protocol`` (creating a socket is refused
        otherwise, as wasmtime does while TCP/UDP are off)."""
        return (self.all_addresses or self.check is not None
                or any(r.protocol == protocol for r in self.rules))

    def allows_lookup(self, name: str) -> bool:
        if not self.ip_name_lookup:
            return False
        return self.lookup_names is None or name.lower().rstrip(".") in self.lookup_names
