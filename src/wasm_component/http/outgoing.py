"""The HTTP policy of a host (``HttpConfig``) and outgoing requests through ``httpx``.

A guest's outgoing request is a :class:`Message` (head plus a body :class:`Channel` the guest
keeps writing to). :func:`start_request` checks it against the allow-list (deny by default)
and hands it to a worker thread that sends it with ``httpx`` (or gives it to
``HttpConfig.outgoing``, a Python function that serves the request itself), resolving a
:class:`Pending` response as soon as the response head arrives; the body then streams into a
channel of its own, with back pressure. Failures become ``wasi:http`` ``error-code``\\ s.

Example::

    config = HttpConfig(allowed_hosts=["127.0.0.1:8080", "*.example.com"])
    assert config.allows("127.0.0.1", 8080) and not config.allows("127.0.0.1", 80)

    def serve(request: httpx.Request) -> httpx.Response:     # no network at all
        return httpx.Response(200, content=b"from python")
    config = HttpConfig(outgoing=serve)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..wasi import IoError, StreamClosed
from ._bindings.imports import wasi_http_types as b
from .channel import DEFAULT_LIMIT, EOF, Channel, Signal
from .fields import FORBIDDEN, HeaderList

if TYPE_CHECKING:
    import httpx

__all__ = ["HttpConfig", "HttpIoError", "Message", "Pending", "error_code_of", "start_request"]

#: A Python function serving a guest's outgoing requests instead of the network.
OutgoingHook = Callable[["httpx.Request"], "httpx.Response"]


@dataclass
class HttpConfig:
    """What a store's ``wasi:http`` may do.

    - ``allowed_hosts``: hosts outgoing requests may reach: ``"host"`` (any port),
      ``"host:port"``, ``"*.domain"``, or ``"*"`` (anything). Empty (the default): none.
    - ``outgoing``: serve outgoing requests from Python instead (``httpx.Request`` in,
      ``httpx.Response`` out); the allow-list does not apply to it.
    - timeouts (seconds) when the guest gives none in ``request-options``.
    - ``body_buffer``: bytes a body may buffer before its writer waits (back pressure).
    - ``forbidden_headers``: names guests may not set.
    """

    allowed_hosts: Sequence[str] = ()
    outgoing: OutgoingHook | None = None
    connect_timeout: float = 10.0
    first_byte_timeout: float = 60.0
    between_bytes_timeout: float = 60.0
    body_buffer: int = DEFAULT_LIMIT
    forbidden_headers: frozenset[str] = FORBIDDEN
    _client: Any = field(default=None, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def allows(self, host: str, port: int | None) -> bool:
        host = host.lower().strip("[]")
        for pattern in self.allowed_hosts:
            pattern = pattern.lower()
            if pattern == "*":
                return True
            p_host, p_port = _split_authority(pattern)
            p_host = p_host.strip("[]")
            if p_port is not None and port != p_port:
                continue
            if p_host == host or (p_host.startswith("*.") and host.endswith(p_host[1:])):
                return True
        return False

    def client(self) -> httpx.Client:
        """The ``httpx`` client (one connection pool per configuration)."""
        with self._lock:
            if self._client is None:
                import httpx

                self._client = httpx.Client(http2=False, follow_redirects=False)
            client: httpx.Client = self._client
            return client


class HttpIoError(IoError):
    """A ``wasi:io/error`` that ``wasi:http``'s ``http-error-code`` turns into ``code``."""

    def __init__(self, code: Any) -> None:
        super().__init__(f"HTTP error: {code}")
        self.code = code


@dataclass
class Message:
    """An HTTP request or response head and its body (the plumbing shared by every side:
    incoming and outgoing, WASI 0.2 and, later, 0.3)."""

    headers: HeaderList
    body: Channel
    method: str = "GET"
    scheme: str | None = None
    authority: str | None = None
    path_with_query: str | None = None
    status: int = 200
    # per-request timeouts in seconds: connect, first byte, between bytes
    timeouts: tuple[float | None, float | None, float | None] = (None, None, None)


class Pending:
    """A response that arrives later: :attr:`ready` is set once :attr:`result` is a
    :class:`Message` or an ``error-code``."""

    def __init__(self) -> None:
        self.ready = Signal()
        self.result: Message | Any = None

    def resolve(self, result: Message | Any) -> None:
        if not self.ready.is_set():
            self.result = result
            self.ready.set()


def _split_authority(authority: str) -> tuple[str, int | None]:
    host, sep, port = authority.rpartition(":")
    if sep and port.isdigit() and not host.endswith(":"):
        return host, int(port)
    return authority, None


def start_request(config: HttpConfig, request: Message) -> Pending | Any:
    """Send ``request`` in a worker thread; a :class:`Pending` response, or at once an
    ``error-code`` when the request may not or cannot be made."""
    if request.scheme not in ("http", "https"):
        return b.ErrorCodeHttpProtocolError()
    if not request.authority:
        return b.ErrorCodeHttpRequestUriInvalid()
    host, port = _split_authority(request.authority)
    if config.outgoing is None and not config.allows(host, port):
        return b.ErrorCodeHttpRequestDenied()
    pending = Pending()
    threading.Thread(target=_send, args=(config, request, pending), daemon=True,
                     name="wasi-http-outgoing").start()
    return pending


def _body_chunks(channel: Channel, timeout: float | None) -> Iterator[bytes]:
    while True:
        got = channel.take(timeout=timeout)
        if got is EOF:
            return
        assert isinstance(got, bytes)
        yield got


def _send(config: HttpConfig, msg: Message, pending: Pending) -> None:
    import httpx

    connect, first_byte, between = (
        t if t is not None else d for t, d in zip(
            msg.timeouts,
            (config.connect_timeout, config.first_byte_timeout, config.between_bytes_timeout),
            strict=True))
    out = Channel(config.body_buffer)
    response: httpx.Response | None = None
    try:
        url = f"{msg.scheme}://{msg.authority}{msg.path_with_query or '/'}"
        body: Any = _body_chunks(msg.body, between)
        timeout = httpx.Timeout(connect=connect, read=first_byte, write=between, pool=connect)
        timeouts = timeout.as_dict()
        req = httpx.Request(msg.method, url,
                            headers=[(k.encode(), v) for k, v in msg.headers], content=body,
                            extensions={"timeout": timeouts})
        if config.outgoing is not None:
            response = config.outgoing(req)
        else:
            response = config.client().send(req, stream=True)
            # the first byte has come: from now on reads wait at most `between` (httpcore
            # looks this dict up at every read)
            timeouts["read"] = between
        headers = [(k.decode("latin-1").lower(), v) for k, v in response.headers.raw]
        pending.resolve(Message(headers, out, status=response.status_code))
        for chunk in _raw_chunks(response):
            while out.space() == 0 and not out.abandoned:
                out.writable.wait()
            out.put(chunk)
        out.finish()
    except StreamClosed:  # the guest dropped the response body
        out.finish()
    except Exception as e:
        code = error_code_of(e)
        if pending.ready.is_set():
            out.fail(HttpIoError(code))
        else:
            pending.resolve(code)
    finally:
        if response is not None:
            response.close()


def _raw_chunks(response: httpx.Response) -> Iterator[bytes]:
    """The body as it came (no content decoding); a response a hook built from bytes has
    been read already."""
    import httpx

    try:
        yield from response.iter_raw()
    except httpx.StreamConsumed:
        yield response.content


def error_code_of(e: BaseException) -> Any:
    """The ``wasi:http`` ``error-code`` for an exception raised while sending a request."""
    import httpx

    if isinstance(e, httpx.ConnectTimeout | httpx.PoolTimeout):
        return b.ErrorCodeConnectionTimeout()
    if isinstance(e, httpx.ReadTimeout):
        return b.ErrorCodeConnectionReadTimeout()
    if isinstance(e, httpx.WriteTimeout):
        return b.ErrorCodeConnectionWriteTimeout()
    if isinstance(e, httpx.ConnectError):
        text = str(e).lower()
        if "name or service" in text or "nodename" in text or "getaddrinfo" in text:
            return b.ErrorCodeDnsError(b.DnsErrorPayload(None, None))
        return b.ErrorCodeConnectionRefused()
    if isinstance(e, httpx.RemoteProtocolError | httpx.LocalProtocolError):
        return b.ErrorCodeHttpProtocolError()
    if isinstance(e, httpx.ReadError | httpx.WriteError):
        return b.ErrorCodeConnectionTerminated()
    if isinstance(e, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return b.ErrorCodeHttpRequestUriInvalid()
    if isinstance(e, TimeoutError):  # the guest stopped writing the request body
        return b.ErrorCodeConnectionWriteTimeout()
    return b.ErrorCodeInternalError(f"{type(e).__name__}: {e}")
