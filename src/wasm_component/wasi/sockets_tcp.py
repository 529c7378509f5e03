"""`wasi:sockets/tcp`: the TCP socket state machine of the WIT (and of WASI's
TcpSocketOperationalSemantics.md) over a non-blocking :class:`socket.socket`, with the
connection's byte streams as :mod:`wasi.io <wasm_component.wasi.io>` streams.

States: ``unbound -> bind-started -> bound -> listen-started -> listening`` and
``unbound|bound -> connecting -> connected``; a failed connect, or a dropped socket, is
``closed``. Every `start-*` only checks and records (bind runs the native `bind` at once, the
WIT allows either); every `finish-*` completes or says `would-block` / `not-in-progress`. The
socket's pollable (`subscribe`) is ready when the operation in progress can finish: at once
while binding or starting to listen, on writability while connecting, on a pending client while
listening, and at once otherwise. All waiting is a file descriptor handed to io's selectors.

Example (loopback only, policy allowing it)::

    >>> from wasm_component.wasi.sockets_net import SocketPolicy, SockAddr
    >>> pol = SocketPolicy(); pol.allow("tcp", "127.0.0.1")
    >>> net = Network(pol)
    >>> srv = TcpSocket.create(socket.AF_INET)
    >>> srv.start_bind(net, SockAddr.parse("127.0.0.1", 0)); srv.finish_bind()
    >>> srv.start_listen(); srv.finish_listen(); srv.is_listening()
    True
    >>> srv.drop()
"""

from __future__ import annotations

import contextlib
import errno
import math
import socket
import threading
import time

from .io import InputStream, IoError, OutputStream, Pollable, StreamClosed, StreamFailed
from .sockets_base import (
    I32_MAX,
    IpSocket,
    Network,
    SocketPollable,
    Waitable,
    buffer_size,
    events,
    fd_ready,
    new_socket,
)
from .sockets_net import (
    SockAddr,
    SocketAddrUse,
    SocketError,
    check_family,
    check_remote,
    check_unicast,
    raise_os,
)

__all__ = ["Network", "SocketPollable", "TcpInputStream", "TcpOutputStream", "TcpSocket"]

WRITE_BUDGET = 64 * 1024
"""What `check-write` permits at a time: the host buffers at most this much per stream."""
LINGER_SECONDS = 30.0
"""How long queued bytes of a dropped stream keep trying to reach a peer that reads nothing."""


class _Connection:
    """The connected socket shared by the `tcp-socket`, its two streams and a background
    sender; the descriptor is closed when the last of them lets go (any order)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.holders = 3
        self.read_shut = False
        self.write_shut = False
        self._lock = threading.Lock()

    def hold(self) -> None:
        with self._lock:
            self.holders += 1

    def release(self) -> None:
        with self._lock:
            self.holders -= 1
            last = self.holders == 0
        if last:
            self.sock.close()

    def shutdown(self, how: int) -> None:
        try:
            self.sock.shutdown(how)
        except OSError as e:
            if e.errno != errno.ENOTCONN:  # the peer went first: nothing left to shut
                raise raise_os(e) from e


class TcpInputStream(InputStream, Waitable):
    """The receiving half of a connection: `read` is a non-blocking `recv`."""

    def __init__(self, conn: _Connection) -> None:
        self._conn = conn
        self._eof = False
        self._dropped = False

    def _ended(self) -> bool:
        return self._eof or self._conn.read_shut or self._dropped

    def read(self, n: int) -> bytes:
        if self._ended():
            raise StreamClosed()
        if n <= 0:
            return b""
        try:
            data = self._conn.sock.recv(n)
        except BlockingIOError:
            return b""
        except OSError as e:
            self._eof = True
            raise StreamFailed(IoError(f"tcp receive: {e.strerror or e}", e.errno)) from e
        if not data:
            self._eof = True
            raise StreamClosed()
        return data

    def pollable(self) -> Pollable:
        return SocketPollable(self)

    def poll_ready(self) -> bool:
        return self._ended() or fd_ready(self._conn.sock, False)

    def wait_spec(self) -> tuple[socket.socket, int] | None:
        return None if self._ended() else (self._conn.sock, events(False))

    def close(self) -> None:
        if not self._dropped:
            self._dropped = True
            self._conn.release()


class TcpOutputStream(OutputStream, Waitable):
    """The sending half. `write` hands the bytes to the kernel without blocking; what it does
    not take at once is sent by a background thread (as wasmtime's background write task), so
    it reaches the peer whatever the guest does next, a later `shutdown(send)` included.
    Meanwhile `check-write` says 0 and the pollable waits for that thread's wake-up, so a
    `flush` completes when everything is sent. At most :data:`WRITE_BUDGET` bytes are queued."""

    def __init__(self, conn: _Connection) -> None:
        self._conn = conn
        self._lock = threading.Lock()
        self._pending = bytearray()  # guarded by _lock; non-empty while the sender runs
        self._error: OSError | None = None
        self._dropped = False
        self._shut_after_send = False
        self._sending = False  # a sender thread is running (it holds the connection)
        self._wake: tuple[socket.socket, socket.socket] | None = None  # (read end, write end)

    def _closed(self) -> bool:
        return self._conn.write_shut or self._dropped

    def _busy(self) -> bool:
        with self._lock:
            return bool(self._pending)

    def _raise_error(self) -> None:
        if self._error is not None:
            e = self._error
            raise StreamFailed(IoError(f"tcp send: {e.strerror or e}", e.errno))

    def check_write(self) -> int:
        if self._closed():
            raise StreamClosed()
        self._raise_error()
        if self._busy() or not fd_ready(self._conn.sock, True):
            return 0
        return WRITE_BUDGET

    def write(self, data: bytes) -> None:
        if self._closed():
            raise StreamClosed()
        self._raise_error()
        with self._lock:
            if self._pending:  # the sender is still at work: queue behind it
                self._pending += data
                return
        view = memoryview(data)
        while view:
            try:
                sent = self._conn.sock.send(view)
            except BlockingIOError:
                break
            except OSError as e:
                self._error = e
                return
            view = view[sent:]
        if view:
            self._start_sender(bytes(view))

    def flush(self) -> None:
        if self._closed():
            raise StreamClosed()
        self._raise_error()

    def _start_sender(self, rest: bytes) -> None:
        if self._wake is None:
            r, w = socket.socketpair()
            r.setblocking(False)
            self._wake = (r, w)
        with contextlib.suppress(BlockingIOError):  # wake-ups left by an earlier sender
            while self._wake[0].recv(64):
                pass
        with self._lock:
            self._pending += rest
            self._sending = True
        self._conn.hold()
        threading.Thread(target=self._send_rest, daemon=True, name="wasi tcp sender").start()

    def _send_rest(self) -> None:
        sock = self._conn.sock
        progress = time.monotonic()
        try:
            while True:
                with self._lock:
                    stuck = self._dropped and time.monotonic() - progress > LINGER_SECONDS
                    if stuck:  # nobody will ever see these bytes or their fate
                        self._pending.clear()
                    if not self._pending:
                        shut, self._shut_after_send = self._shut_after_send and not stuck, False
                        break
                    chunk = bytes(self._pending[:WRITE_BUDGET])
                fd_ready(sock, True, 1.0)
                try:
                    sent = sock.send(chunk)
                except BlockingIOError:
                    continue
                except OSError as e:
                    with self._lock:
                        self._error = e
                        self._pending.clear()
                        shut = False
                    break
                progress = time.monotonic()
                with self._lock:
                    del self._pending[:sent]
            if shut:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_WR)
        finally:
            with self._lock:
                self._sending = False
                close_wake = self._dropped
                if self._wake is not None:
                    with contextlib.suppress(OSError):
                        self._wake[1].send(b"x")
            if close_wake:
                self._close_wake()
            self._conn.release()

    def shut_when_sent(self) -> bool:
        """For `shutdown(send)`: True if the FIN can go now; else the sender sends it after
        the queued bytes (so none are lost)."""
        with self._lock:
            if self._pending:
                self._shut_after_send = True
                return False
            return True

    def pollable(self) -> Pollable:
        return SocketPollable(self)

    def poll_ready(self) -> bool:
        if self._closed() or self._error is not None:
            return True
        return not self._busy() and fd_ready(self._conn.sock, True)

    def wait_spec(self) -> tuple[socket.socket, int] | None:
        if self._closed() or self._error is not None:
            return None
        if self._busy():
            assert self._wake is not None
            return (self._wake[0], events(False))  # readable when the sender is done
        return (self._conn.sock, events(True))

    def _close_wake(self) -> None:
        if self._wake is not None:
            for end in self._wake:
                end.close()
            self._wake = None

    def close(self) -> None:
        if not self._dropped:
            with self._lock:
                self._dropped = True
                sending = self._sending
            if not sending:
                self._close_wake()  # else the sender closes it when done
            self._conn.release()


# Linux passes a pending connection's network error out of accept(); to the guest that
# connection was aborted before it could be accepted.
_ACCEPT_ERRORS = {getattr(errno, n): "connection-aborted" for n in (
    "ECONNRESET", "ENETRESET", "EHOSTUNREACH", "EHOSTDOWN", "ENETDOWN", "ENETUNREACH", "EPROTO",
    "ENOPROTOOPT", "ENONET", "EOPNOTSUPP") if hasattr(errno, n)}
_BOUND_STATES = frozenset({"bound", "listen-started", "listening", "connecting", "connected"})


def _duration_secs(value: int) -> int:
    """A keep-alive duration (ns) as the whole seconds Linux takes, rounded up and clamped."""
    if value <= 0:
        raise SocketError("invalid-argument", "duration 0")
    return max(1, min(math.ceil(value / 1_000_000_000), 32767))


class TcpSocket(IpSocket):
    """One `tcp-socket`; methods raise :class:`SocketError` with the WIT's error codes."""

    BIND_USE = SocketAddrUse.TCP_BIND

    def __init__(self, sock: socket.socket, family: int, state: str = "unbound") -> None:
        super().__init__(sock, family, state)
        self._backlog = 128
        self._connect_error: SocketError | None = None
        self._conn: _Connection | None = None
        self._streams: tuple[TcpInputStream, TcpOutputStream] | None = None

    @staticmethod
    def create(family: int) -> TcpSocket:
        """`create-tcp-socket`: a non-blocking socket (IPv6 ones are v6-only)."""
        return TcpSocket(new_socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP), family)

    # -- helpers -----------------------------------------------------------------------------

    def _close(self) -> None:
        self.state = "closed"
        if self._conn is None:
            self._sock.close()

    def _check_network(self, network: Network) -> None:
        if self._network is not None and network is not self._network:
            raise SocketError("invalid-argument", "the socket is attached to a different network")

    def _before_bind(self, local: SockAddr) -> None:
        if local.port != 0:  # as the WIT asks: TIME_WAIT must not block a re-bind
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)

    # -- connect ------------------------------------------------------------------------------

    def start_connect(self, network: Network, remote: SockAddr) -> None:
        st = self.state
        if st in ("bind-started", "connecting", "listen-started"):
            raise SocketError("concurrency-conflict", f"cannot connect in state {st}")
        if st not in ("unbound", "bound"):
            raise SocketError("invalid-state", f"cannot connect in state {st}")
        self._check_network(network)
        check_family(remote, self.family)
        check_unicast(remote)
        check_remote(remote)
        network.policy.require(remote, SocketAddrUse.TCP_CONNECT)
        self._network = network
        code = self._sock.connect_ex(remote.to_python())
        self.state = "connecting"
        if code not in (0, errno.EINPROGRESS, errno.EAGAIN):
            self._connect_error = raise_os(OSError(code, errno.errorcode.get(code, str(code))),
                                           {errno.EADDRNOTAVAIL: "address-in-use"})

    def finish_connect(self) -> tuple[TcpInputStream, TcpOutputStream]:
        if self.state != "connecting":
            raise SocketError("not-in-progress", "no connect in progress")
        if self._connect_error is None:
            if not fd_ready(self._sock, True):
                raise SocketError("would-block", "the connection is still in progress")
            code = self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if code != 0:
                self._connect_error = raise_os(OSError(code, errno.errorcode.get(code, "")),
                                               {errno.EADDRNOTAVAIL: "address-in-use"})
        if self._connect_error is not None:
            err = self._connect_error
            self._close()
            raise err
        return self._become_connected()

    def _become_connected(self) -> tuple[TcpInputStream, TcpOutputStream]:
        self.state = "connected"
        self._conn = _Connection(self._sock)
        self._streams = (TcpInputStream(self._conn), TcpOutputStream(self._conn))
        return self._streams

    # -- listen / accept ------------------------------------------------------------------------

    def start_listen(self) -> None:
        if self.state == "listen-started":
            raise SocketError("concurrency-conflict", "a listen is in progress")
        if self.state != "bound":
            raise SocketError("invalid-state", f"cannot listen in state {self.state}")
        self.state = "listen-started"

    def finish_listen(self) -> None:
        if self.state != "listen-started":
            raise SocketError("not-in-progress", "no listen in progress")
        try:
            self._sock.listen(self._backlog)
        except OSError as e:
            self.state = "bound"
            raise raise_os(e) from e
        self.state = "listening"

    def accept(self) -> tuple[TcpSocket, TcpInputStream, TcpOutputStream]:
        if self.state != "listening":
            raise SocketError("invalid-state", "the socket is not listening")
        try:
            client, _ = self._sock.accept()
        except BlockingIOError as e:
            raise SocketError("would-block", "no pending connection") from e
        except OSError as e:
            raise raise_os(e, _ACCEPT_ERRORS) from e
        client.setblocking(False)
        self._inherit_options(client)
        child = TcpSocket(client, self.family, "bound")
        child._network = self._network
        inp, out = child._become_connected()
        return child, inp, out

    def _inherit_options(self, client: socket.socket) -> None:
        """The WIT lists what an accepted socket inherits; copy it rather than trust the OS
        (buffer sizes as they were set: the kernel reports them doubled)."""
        buffers = (socket.SO_RCVBUF, socket.SO_SNDBUF)
        for level, name in self._inherited_options():
            value = self._sock.getsockopt(level, name)
            if level == socket.SOL_SOCKET and name in buffers:
                value = buffer_size(value)
            with contextlib.suppress(OSError):
                client.setsockopt(level, name, value)

    def _inherited_options(self) -> list[tuple[int, int]]:
        opts = [(socket.SOL_SOCKET, socket.SO_KEEPALIVE), self._hop_option(),
                (socket.SOL_SOCKET, socket.SO_RCVBUF), (socket.SOL_SOCKET, socket.SO_SNDBUF)]
        opts += [(socket.IPPROTO_TCP, getattr(socket, n)) for n in
                 ("TCP_KEEPIDLE", "TCP_KEEPINTVL", "TCP_KEEPCNT") if hasattr(socket, n)]
        return opts

    # -- addresses and state --------------------------------------------------------------------

    def local_address(self) -> SockAddr:
        if self.state not in _BOUND_STATES:
            raise SocketError("invalid-state", f"the socket is not bound (state {self.state})")
        return self._local_address()

    def remote_address(self) -> SockAddr:
        if self.state != "connected":
            raise SocketError("invalid-state", "the socket is not connected")
        try:
            return SockAddr.from_python(self._sock.getpeername())
        except OSError as e:
            raise raise_os(e) from e

    def is_listening(self) -> bool:
        return self.state == "listening"

    def set_listen_backlog_size(self, value: int) -> None:
        if value == 0:
            raise SocketError("invalid-argument", "backlog 0")
        if self.state in ("connecting", "connected", "closed"):
            raise SocketError("invalid-state", f"cannot set the backlog in state {self.state}")
        backlog = min(value, I32_MAX)
        if self.state == "listening":
            try:
                self._sock.listen(backlog)
            except OSError as e:  # the platform cannot change it after the first listen
                raise SocketError("not-supported", str(e)) from e
        self._backlog = backlog

    # -- options ------------------------------------------------------------------------------

    def keep_alive_enabled(self) -> bool:
        return bool(self._get(socket.SOL_SOCKET, socket.SO_KEEPALIVE))

    def set_keep_alive_enabled(self, value: bool) -> None:
        self._set(socket.SOL_SOCKET, socket.SO_KEEPALIVE, int(value))

    def _tcp_opt(self, name: str) -> int:
        opt = getattr(socket, name, None)
        if opt is None:
            raise SocketError("not-supported", f"{name} is not available on this platform")
        return int(opt)

    def keep_alive_idle_time(self) -> int:
        return self._get(socket.IPPROTO_TCP, self._tcp_opt("TCP_KEEPIDLE")) * 1_000_000_000

    def set_keep_alive_idle_time(self, value: int) -> None:
        self._set(socket.IPPROTO_TCP, self._tcp_opt("TCP_KEEPIDLE"), _duration_secs(value))

    def keep_alive_interval(self) -> int:
        return self._get(socket.IPPROTO_TCP, self._tcp_opt("TCP_KEEPINTVL")) * 1_000_000_000

    def set_keep_alive_interval(self, value: int) -> None:
        self._set(socket.IPPROTO_TCP, self._tcp_opt("TCP_KEEPINTVL"), _duration_secs(value))

    def keep_alive_count(self) -> int:
        return self._get(socket.IPPROTO_TCP, self._tcp_opt("TCP_KEEPCNT"))

    def set_keep_alive_count(self, value: int) -> None:
        if value == 0:
            raise SocketError("invalid-argument", "keep-alive count 0")
        self._set(socket.IPPROTO_TCP, self._tcp_opt("TCP_KEEPCNT"), min(value, 127))

    # -- readiness, shutdown, drop ------------------------------------------------------------

    def poll_ready(self) -> bool:
        if self.state == "connecting":
            return self._connect_error is not None or fd_ready(self._sock, True)
        if self.state == "listening":
            return fd_ready(self._sock, False)
        return True

    def wait_spec(self) -> tuple[socket.socket, int] | None:
        if self.state == "connecting" and self._connect_error is None:
            return (self._sock, events(True))
        if self.state == "listening":
            return (self._sock, events(False))
        return None

    def shutdown(self, how: str) -> None:
        """`shutdown` with ``how`` one of ``receive``, ``send``, ``both`` (idempotent)."""
        if self.state != "connected" or self._conn is None or self._streams is None:
            raise SocketError("invalid-state", "the socket is not connected")
        conn = self._conn
        if how in ("receive", "both") and not conn.read_shut:
            conn.shutdown(socket.SHUT_RD)
            conn.read_shut = True
        if how in ("send", "both") and not conn.write_shut:
            conn.write_shut = True
            if self._streams[1].shut_when_sent():
                conn.shutdown(socket.SHUT_WR)

    def drop(self) -> None:
        if self.state == "closed" and self._conn is None:
            return
        self.state = "closed"
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.release()
        else:
            self._sock.close()
