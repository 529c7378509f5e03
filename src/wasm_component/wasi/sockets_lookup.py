"""`wasi:sockets/ip-name-lookup`: `resolve-addresses` never blocks; a literal IP answers at
once, a name is resolved by ``getaddrinfo`` on a worker thread, which wakes the stream's
pollable through a socket pair (so `poll` waits on a descriptor like every other pollable).

Only names the policy allows are looked up (`access-denied` otherwise, and nothing leaves the
host): see :meth:`~wasm_component.wasi.sockets_net.SocketPolicy.allows_lookup`.

Example::

    >>> from wasm_component.wasi.sockets_net import SocketPolicy
    >>> from wasm_component.wasi.sockets_tcp import Network
    >>> s = resolve_addresses(Network(SocketPolicy()), "127.0.0.1")
    >>> s.resolve_next_address(), s.resolve_next_address()
    (IPv4Address('127.0.0.1'), None)
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading

from .sockets_base import Network, Waitable, events
from .sockets_net import IpAddr, SocketError

__all__ = ["ResolveAddressStream", "resolve_addresses"]

_GAI_ERRORS: dict[int, str] = {}
for _name, _code in (("EAI_NONAME", "name-unresolvable"), ("EAI_NODATA", "name-unresolvable"),
                     ("EAI_ADDRFAMILY", "name-unresolvable"), ("EAI_AGAIN", "temporary-resolver-failure"),
                     ("EAI_FAIL", "permanent-resolver-failure"), ("EAI_MEMORY", "out-of-memory")):
    _num = getattr(socket, _name, None)
    if _num is not None:
        _GAI_ERRORS[_num] = _code

_MAX_NAME = 253


def _parse_name(name: str) -> IpAddr | str:
    """An IP literal, or the name as the ASCII (IDNA) host name to look up; `invalid-argument`
    for anything that is neither."""
    text = name[1:-1] if name.startswith("[") and name.endswith("]") else name
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        pass
    else:
        mapped = getattr(ip, "ipv4_mapped", None)
        return mapped if mapped is not None else ip
    try:
        ascii_name = name.encode("idna").decode("ascii")
    except UnicodeError as e:
        raise SocketError("invalid-argument", f"{name!r} is not a valid domain name") from e
    labels = ascii_name.rstrip(".").split(".")
    if (not ascii_name or len(ascii_name) > _MAX_NAME
            or any(not lab or len(lab) > 63 or not all(c.isalnum() or c in "-_" for c in lab)
                   or lab.startswith("-") or lab.endswith("-") for lab in labels)):
        raise SocketError("invalid-argument", f"{name!r} is not a valid domain name")
    return ascii_name.lower()


class ResolveAddressStream(Waitable):
    """The addresses of one lookup, in the resolver's order, without duplicates."""

    def __init__(self, addresses: list[IpAddr] | None = None) -> None:
        self._addresses = addresses
        self._error: SocketError | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._lock = threading.Lock()

    @staticmethod
    def start(name: str) -> ResolveAddressStream:
        stream = ResolveAddressStream()
        stream._wake_r, stream._wake_w = socket.socketpair()
        stream._wake_r.setblocking(False)
        threading.Thread(target=stream._run, args=(name,), daemon=True,
                         name=f"wasi-ip-name-lookup {name}").start()
        return stream

    def _run(self, name: str) -> None:
        addresses: list[IpAddr] = []
        error: SocketError | None = None
        try:
            infos = socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)
        except socket.gaierror as e:
            error = SocketError(_GAI_ERRORS.get(e.errno or 0, "permanent-resolver-failure"), str(e))
        except (OSError, UnicodeError) as e:
            error = SocketError("permanent-resolver-failure", str(e))
        else:
            for info in infos:
                ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
                mapped = getattr(ip, "ipv4_mapped", None)  # never hand out IPv4-mapped IPv6
                ip = mapped if mapped is not None else ip
                if ip not in addresses:
                    addresses.append(ip)
        with self._lock:
            self._error = error
            self._addresses = addresses
            if self._wake_w is not None:
                with contextlib.suppress(OSError):  # the stream was dropped meanwhile
                    self._wake_w.send(b"x")
                self._wake_w.close()
                self._wake_w = None

    def resolve_next_address(self) -> IpAddr | None:
        with self._lock:
            if self._error is not None:
                err, self._error = self._error, None
                self._addresses = []
                raise err
            if self._addresses is None:
                raise SocketError("would-block", "the lookup is still running")
            return self._addresses.pop(0) if self._addresses else None

    def poll_ready(self) -> bool:
        with self._lock:
            return self._addresses is not None

    def wait_spec(self) -> tuple[socket.socket, int] | None:
        # Even when the lookup has just finished: the wake-up byte makes the socket readable,
        # so `poll` returns at once (answering None here could look like "never ready").
        return None if self._wake_r is None else (self._wake_r, events(False))

    def drop(self) -> None:
        with self._lock:
            if self._wake_r is not None:
                self._wake_r.close()
                self._wake_r = None


def resolve_addresses(network: Network, name: str) -> ResolveAddressStream:
    """`resolve-addresses`: `invalid-argument` for a malformed name, `access-denied` when the
    policy does not allow looking it up; IP literals are returned as they are."""
    parsed = _parse_name(name)
    if not isinstance(parsed, str):
        return ResolveAddressStream([parsed])
    if not network.policy.allows_lookup(parsed):
        raise SocketError("access-denied", f"looking up {name!r} is not allowed by the policy")
    return ResolveAddressStream.start(parsed)
