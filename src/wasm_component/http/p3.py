"""The host side of ``wasi:http@0.3.0`` (``types`` and ``client``), over the 0.2 host's plumbing.

WASI 0.3's HTTP has one ``request`` and one ``response`` resource (no incoming/outgoing pairs)
whose bodies are a ``stream<u8>`` with a ``future`` for the trailers, and an ``async``
``client.send``. The parts are 0.2's (:mod:`.host`, :mod:`.outgoing`, :mod:`.channel`): the
same :class:`~.fields.Fields` rules and forbidden names, the same :class:`~.outgoing.HttpConfig`
(allow-list, timeouts, the Python hook for outgoing requests), the same
:class:`~.outgoing.Message` with a :class:`~.channel.Channel` body that httpx and the ASGI app
read and write. A body moves between a guest stream and a channel through
:mod:`wasm_component.wasi.p3`'s pumps; 0.2 values (error codes, header errors) become 0.3's by
class name (``retype``).

Example (the host side of one exchange)::

    request = push_request(ctx, Message(headers, channel, method="GET", path_with_query="/"))
    # ... the guest's `handler.handle(request)` returns a response handle ...
    msg = message_of(ctx, response)      # its head, and a channel its body streams into
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import types as t
from ..errors import Trap
from ..values import Err, Ok
from ..wasi.p3._async import ByteReader, channels_of, pump_in, pump_out, resolve, spawn
from ..wasi.p3._convert import retype
from ..wasi.p3._types import elem_types as _wit_elem_types
from ._bindings_p3.imports import wasi_http_client as _b_client
from ._bindings_p3.imports import wasi_http_handler as _b_handler
from ._bindings_p3.imports import wasi_http_types as b3
from .channel import Channel, ChannelInputStream, ChannelOutputStream, wait_async
from .fields import Fields
from .host import (
    RequestOptions,
    _FieldsHost,
    _RequestOptionsHost,
    _seconds,
    _state,
    method_name,
    method_variant,
    scheme_name,
    scheme_variant,
)
from .outgoing import HttpIoError, Message, Pending, start_request

if TYPE_CHECKING:
    from ..engine import Store
    from ..linker import Linker
    from ..resources import Resource
    from ..wasi import WasiCtx
    from ..wasi.io import IoError

__all__ = ["Body", "Request", "Response", "add_to_linker", "message_of", "push_request"]

#: ``wasi:http@0.3.0``'s WIT (with its dependencies), as kept for the bindings
WIT = Path(__file__).resolve().parent / "wit" / "0.3.0" / "service"
IFACE = b3.INSTANCE_NAME



def elem_types(interface: str, function: str, wit: Path) -> tuple[t.Type | None, ...]:
    """The payloads of ``function``'s streams and futures, with this host's resource types."""
    return _wit_elem_types(interface, function, wit, b3)


class Body:
    """A message body: a host :class:`Channel` (requests from the server, responses from
    httpx), or the guest's ``contents`` stream and ``trailers`` future; taken once."""

    __slots__ = ("channel", "contents", "taken", "trailers")

    def __init__(self, channel: Channel | None = None, contents: ByteReader | None = None,
                 trailers: Any = None) -> None:  # fmt: skip
        self.channel = channel
        self.contents = contents
        self.trailers = trailers
        self.taken = False


class _Message:
    __slots__ = ("body", "done", "headers")

    def __init__(self, headers: Fields, body: Body, done: Any = None) -> None:
        self.headers = Fields(headers.entries, mutable=False)  # immutable once in a message
        self.body = body
        self.done = done  # the writer of the future the guest's `new` returned


class Request(_Message):
    """A ``request``: the head (as :class:`~.outgoing.Message` names it) and its body."""

    __slots__ = ("authority", "method", "options", "path_with_query", "scheme")

    def __init__(self, headers: Fields, body: Body, done: Any = None) -> None:
        super().__init__(headers, body, done)
        self.method = "GET"
        self.scheme: str | None = None
        self.authority: str | None = None
        self.path_with_query: str | None = None
        self.options: RequestOptions | None = None


class Response(_Message):
    __slots__ = ("status",)

    def __init__(self, headers: Fields, body: Body, done: Any = None) -> None:
        super().__init__(headers, body, done)
        self.status = 200


# -- error codes -------------------------------------------------------------------------------


def _lowered(code: Any) -> Any:
    """A 0.2 or 0.3 ``error-code`` as a future carries it."""
    return b3._lower_ErrorCode(retype(code, b3))


def _io_error(e: IoError) -> Any:
    return _lowered(e.code if isinstance(e, HttpIoError) else
                    b3.ErrorCodeInternalError(e.message))  # fmt: skip


class _Outcome:
    """A future writer that only remembers (for a pump whose result the host reads)."""

    value: Any = None

    def write(self, v: Any) -> None:
        self.value = v


# -- bodies ------------------------------------------------------------------------------------


async def _channel_to_guest(ctx: WasiCtx, channel: Channel, writer: Any, trailers: Any) -> None:
    """A host body to the guest: the bytes into ``writer``, then the trailers future."""
    outcome = _Outcome()
    await pump_in(ChannelInputStream(channel), writer, outcome, chunk=ctx.max_read_chunk,
                  error=_io_error)  # fmt: skip
    if isinstance(outcome.value, Err):
        resolve(trailers, outcome.value)
    elif channel.trailers is None:
        resolve(trailers, Ok(None))
    else:
        resolve(trailers, Ok(ctx.push(Fields(channel.trailers, mutable=False), b3._RT_Fields)))


async def _guest_to_channel(ctx: WasiCtx, body: Body, channel: Channel, done: Any) -> None:
    """A guest body to a host channel: the stream, then its trailers; ``done`` (the future
    the guest's ``new`` returned) says how it went."""
    assert body.contents is not None, "a guest body has contents"
    outcome = _Outcome()
    await pump_out(body.contents, ChannelOutputStream(channel), outcome, error=_io_error)
    if isinstance(outcome.value, Err):
        channel.fail(HttpIoError(b3.ErrorCodeInternalError("the body could not be delivered")))
        if done is not None:
            resolve(done, outcome.value)
        return
    trailers = None
    if body.trailers is not None:
        got = await body.trailers.read()
        if isinstance(got, Ok) and got.value is not None:
            trailers = ctx.delete(got.value).entries
    channel.finish(trailers)
    if done is not None:
        resolve(done, Ok(None))


def _body_channel(ctx: WasiCtx, m: _Message) -> Channel:
    """The body of ``m`` as a host channel (a guest body starts streaming into it)."""
    body = m.body
    if body.taken:
        raise Trap("`wasi:http`: the body of this message was taken already")
    body.taken = True
    if body.channel is not None:
        return body.channel
    channel = Channel(_state(ctx).config.body_buffer)
    if body.contents is None:
        channel.finish()
        if m.done is not None:
            resolve(m.done, Ok(None))
    else:
        spawn(ctx, _guest_to_channel(ctx, body, channel, m.done), output=True)
    return channel


# -- the resources -----------------------------------------------------------------------------


def _v3(r: Ok[Any] | Err[Any]) -> Ok[Any] | Err[Any]:
    """A 0.2 ``fields`` method's result as 0.3's: its ``header-error`` retyped (an ``ok``, a
    handle or nothing, is the same in both)."""
    return r if isinstance(r, Ok) else retype(r, b3)


class FieldsHost(_FieldsHost):
    """``fields``: 0.2's rules; 0.3's ``header-error`` variant, ``get-and-delete``,
    ``copy-all``."""

    def from_list(self, entries: list[tuple[str, bytes]]) -> Ok[Any] | Err[Any]:
        return _v3(super().from_list(entries))

    def set(self, self_: Resource[Any], name: str, value: list[bytes]) -> Ok[None] | Err[Any]:
        return _v3(super().set(self_, name, value))

    def delete(self, self_: Resource[Any], name: str) -> Ok[None] | Err[Any]:
        return _v3(super().delete(self_, name))

    def append(self, self_: Resource[Any], name: str, value: bytes) -> Ok[None] | Err[Any]:
        return _v3(super().append(self_, name, value))

    def get_and_delete(self, self_: Resource[Any], name: str) -> Ok[list[bytes]] | Err[Any]:
        values = self.get(self_, name)
        r = self.delete(self_, name)
        return Ok(values) if isinstance(r, Ok) else r

    def copy_all(self, self_: Resource[Any]) -> list[tuple[str, bytes]]:
        return self.entries(self_)


class FrozenOptions(RequestOptions):
    """The ``request-options`` a request hands out (``get-options``): "immutable: ``set-*``
    operations will fail" (the WIT)."""


def _copy_options(o: RequestOptions, cls: type[RequestOptions] = RequestOptions) -> Any:
    c = cls()
    c.connect, c.first_byte, c.between_bytes = o.connect, o.first_byte, o.between_bytes
    return c


class RequestOptionsHost(_RequestOptionsHost):
    """``request-options`` (durations in nanoseconds, as 0.2's)."""

    get_connect_timeout = _RequestOptionsHost.connect_timeout
    get_first_byte_timeout = _RequestOptionsHost.first_byte_timeout
    get_between_bytes_timeout = _RequestOptionsHost.between_bytes_timeout

    def _set(self, r: Resource[Any], field: str, duration: int | None) -> Ok[None] | Err[Any]:
        o = self._get(r)
        if isinstance(o, FrozenOptions):
            return Err(b3.RequestOptionsErrorImmutable())
        setattr(o, field, duration)
        return Ok(None)

    def set_connect_timeout(self, self_: Resource[Any], duration: int | None
                            ) -> Ok[None] | Err[Any]:  # fmt: skip
        return self._set(self_, "connect", duration)

    def set_first_byte_timeout(self, self_: Resource[Any], duration: int | None
                               ) -> Ok[None] | Err[Any]:  # fmt: skip
        return self._set(self_, "first_byte", duration)

    def set_between_bytes_timeout(self, self_: Resource[Any], duration: int | None
                                  ) -> Ok[None] | Err[Any]:  # fmt: skip
        return self._set(self_, "between_bytes", duration)

    def clone(self, self_: Resource[Any]) -> Resource[Any]:  # (a clone may be changed)
        return self.ctx.push(_copy_options(self._get(self_)), b3._RT_RequestOptions)


class _MessageHost:
    _cls: type[Request] | type[Response] = Request

    def __init__(self, ctx: WasiCtx) -> None:
        self.ctx = ctx

    def _get(self, r: Resource[Any]) -> Any:
        return self.ctx.get(r, self._cls)

    def _new(self, headers: Resource[Any], contents: ByteReader | None, trailers: Any
             ) -> tuple[Any, Any]:  # fmt: skip
        (res,) = elem_types(IFACE, f"[static]{self._cls.__name__.lower()}.new", WIT)
        done_reader, done = channels_of(self.ctx).future(res)
        fields = self.ctx.delete(headers)
        return self._cls(fields, Body(contents=contents, trailers=trailers), done), done_reader

    def get_headers(self, self_: Resource[Any]) -> Resource[Any]:
        # (not a child handle, as 0.2's: 0.3 lets `consume-body` take the message while the
        # guest still holds its headers)
        return self.ctx.push(self._get(self_).headers.view(), b3._RT_Fields)

    def consume_body(self, this: Resource[Any], res: Any) -> tuple[Any, Any]:
        m = self.ctx.delete(this)
        body: Body = m.body
        if body.taken:
            raise Trap("`wasi:http`: the body of this message was taken already")
        body.taken = True
        if body.contents is not None:  # the guest's own stream goes back to it
            if m.done is not None:
                spawn(self.ctx, _forward(res, m.done))
            return (body.contents, body.trailers)
        elem, trailers_type = elem_types(
            IFACE, f"[static]{self._cls.__name__.lower()}.consume-body", WIT)
        ch = channels_of(self.ctx)
        reader, writer = ch.stream(elem)
        trailers_reader, trailers = ch.future(trailers_type)
        channel = body.channel if body.channel is not None else _empty()
        spawn(self.ctx, _channel_to_guest(self.ctx, channel, writer, trailers))
        return (reader, trailers_reader)

    def drop(self, rep: Resource[Any]) -> None:
        self.ctx.delete(rep)


def _empty() -> Channel:
    c = Channel()
    c.finish()
    return c


async def _forward(res: Any, done: Any) -> None:
    """The guest's verdict on a body it consumed, passed on to whoever made the message."""
    resolve(done, await res.read())


class RequestHost(_MessageHost):
    """``request``."""

    _cls = Request

    def new(self, headers: Resource[Any], contents: ByteReader | None, trailers: Any,
            options: Resource[Any] | None) -> tuple[Any, Any]:  # fmt: skip
        req, done_reader = self._new(headers, contents, trailers)
        if options is not None:
            req.options = self.ctx.delete(options)
        return (self.ctx.push(req, b3._RT_Request), done_reader)

    def get_method(self, self_: Resource[Any]) -> Any:
        return retype(method_variant(self._get(self_).method), b3)

    def set_method(self, self_: Resource[Any], method: Any) -> Ok[None] | Err[None]:
        from ._bindings.imports import wasi_http_types as b2

        name = method_name(retype(method, b2))
        if name is None:
            return Err(None)
        self._get(self_).method = name
        return Ok(None)

    def get_path_with_query(self, self_: Resource[Any]) -> str | None:
        return self._get(self_).path_with_query  # type: ignore[no-any-return]

    def set_path_with_query(self, self_: Resource[Any], path_with_query: str | None
                            ) -> Ok[None]:  # fmt: skip
        self._get(self_).path_with_query = path_with_query
        return Ok(None)

    def get_scheme(self, self_: Resource[Any]) -> Any:
        return retype(scheme_variant(self._get(self_).scheme), b3)

    def set_scheme(self, self_: Resource[Any], scheme: Any) -> Ok[None] | Err[None]:
        from ._bindings.imports import wasi_http_types as b2

        name = None if scheme is None else scheme_name(retype(scheme, b2))
        if scheme is not None and name is None:
            return Err(None)
        self._get(self_).scheme = name
        return Ok(None)

    def get_authority(self, self_: Resource[Any]) -> str | None:
        return self._get(self_).authority  # type: ignore[no-any-return]

    def set_authority(self, self_: Resource[Any], authority: str | None) -> Ok[None]:
        self._get(self_).authority = authority
        return Ok(None)

    def get_options(self, self_: Resource[Any]) -> Resource[Any] | None:
        o = self._get(self_).options
        if o is None:
            return None
        return self.ctx.push(_copy_options(o, FrozenOptions), b3._RT_RequestOptions)


class ResponseHost(_MessageHost):
    """``response``."""

    _cls = Response

    def new(self, headers: Resource[Any], contents: ByteReader | None, trailers: Any
            ) -> tuple[Any, Any]:  # fmt: skip
        resp, done_reader = self._new(headers, contents, trailers)
        return (self.ctx.push(resp, b3._RT_Response), done_reader)

    def get_status_code(self, self_: Resource[Any]) -> int:
        return self._get(self_).status  # type: ignore[no-any-return]

    def set_status_code(self, self_: Resource[Any], status_code: int) -> Ok[None] | Err[None]:
        if not 100 <= status_code <= 999:
            return Err(None)
        self._get(self_).status = status_code
        return Ok(None)


class TypesHost:
    """``wasi:http/types@0.3.0``."""

    def __init__(self, ctx: WasiCtx) -> None:
        self.fields = FieldsHost(ctx)
        self.request_options = RequestOptionsHost(ctx)
        self.request = RequestHost(ctx)
        self.response = ResponseHost(ctx)


# -- the host's side: requests in, responses out, and the client -----------------------------


def push_request(ctx: WasiCtx, msg: Message) -> Resource[Any]:
    """A ``request`` handle for an incoming ``msg`` (to pass to ``handler.handle``)."""
    req = Request(Fields(msg.headers, mutable=False), Body(channel=msg.body))
    req.method, req.scheme = msg.method, msg.scheme
    req.authority, req.path_with_query = msg.authority, msg.path_with_query
    return ctx.push(req, b3._RT_Request)


def message_of(ctx: WasiCtx, handle: Resource[Any]) -> Message:
    """The guest's ``request`` or ``response`` ``handle`` as a :class:`Message` (taking it):
    its head, and a channel its body streams into."""
    m = ctx.delete(handle)
    if not isinstance(m, Request | Response):
        raise Trap(f"`wasi:http`: handle {handle.rep} is a {type(m).__name__}, expected a "
                   f"request or response")
    channel = _body_channel(ctx, m)
    if isinstance(m, Response):
        return Message(m.headers.entries, channel, status=m.status)
    o = m.options or RequestOptions()
    return Message(m.headers.entries, channel, method=m.method, scheme=m.scheme,
                   authority=m.authority, path_with_query=m.path_with_query,
                   timeouts=(_seconds(o.connect), _seconds(o.first_byte),
                             _seconds(o.between_bytes)))  # fmt: skip


class ClientHost:
    """``wasi:http/client@0.3.0``: ``send`` through the store's :class:`HttpConfig` (its
    allow-list, timeouts and Python hook), as 0.2's ``outgoing-handler``. It is the imported
    ``wasi:http/handler@0.3.0`` of a middleware component too (``handle``: the next hop of
    the chain is the network)."""

    def __init__(self, ctx: WasiCtx) -> None:
        self.ctx = ctx

    async def send(self, request: Resource[Any]) -> Ok[Resource[Any]] | Err[Any]:
        msg = message_of(self.ctx, request)
        pending = start_request(_state(self.ctx).config, msg)
        if not isinstance(pending, Pending):
            msg.body.abandon()
            return Err(retype(pending, b3))
        await wait_async(pending.ready)
        got = pending.result
        if not isinstance(got, Message):
            return Err(retype(got, b3))
        resp = Response(Fields(got.headers, mutable=False), Body(channel=got.body))
        resp.status = got.status
        return Ok(self.ctx.push(resp, b3._RT_Response))

    handle = send


class _Hosts:
    __slots__ = ("client", "types")

    def __init__(self, ctx: WasiCtx) -> None:
        self.types = TypesHost(ctx)
        self.client = ClientHost(ctx)


def _hosts(store: Store) -> _Hosts:
    ctx: WasiCtx = store.wasi
    return ctx.extension("wasi:http@0.3/hosts", _Hosts)


def add_to_linker(linker: Linker) -> None:
    """Define WASI 0.3 and ``wasi:http/types``, ``wasi:http/client`` and (for middleware
    components) the imported ``wasi:http/handler`` 0.3 on ``linker``."""
    from ..wasi.p3 import add_to_linker as add_wasi

    add_wasi(linker)
    b3.add_to_linker(linker, lambda s: _hosts(s).types)
    _b_client.add_to_linker(linker, _client)
    _b_handler.add_to_linker(linker, _client)


def _client(store: Store) -> ClientHost:
    return _hosts(store).client
