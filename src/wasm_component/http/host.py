"""The host side of ``wasi:http/types`` and ``wasi:http/outgoing-handler`` 0.2.

Every resource the guest holds is an object in the store's WASI resource table (the same table
``wasi:io`` uses, so a body's ``input-stream`` is an ordinary WASI stream and its pollables go
into ``wasi:io/poll.poll`` with any others). The HTTP state of one store is an
:class:`HttpState`: its :class:`~wasm_component.http.HttpConfig` and the function that
receives the response the guest gives its ``response-outparam``.

Bodies are :class:`~wasm_component.http.channel.Channel`\\ s: the guest reads an incoming body
through a :class:`ChannelInputStream` and writes an outgoing one through a
:class:`ChannelOutputStream`; whoever is at the other end (the ASGI server, httpx, a test)
only sees the channel.

Example (a store that serves one request by hand)::

    state = HttpState(HttpConfig(), deliver=lambda response: print(response.status))
    install(store, state)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import Trap
from ..values import Err, Ok
from ..wasi import IoError, WasiCtx
from ..wasi._bindings.imports import wasi_io_poll as _b_poll
from ..wasi._bindings.imports import wasi_io_streams as _b_streams
from ._bindings.imports import wasi_http_outgoing_handler as b_out
from ._bindings.imports import wasi_http_types as b
from .channel import Channel, ChannelInputStream, ChannelOutputStream, SignalPollable
from .fields import FieldError, Fields, HeaderList
from .outgoing import HttpConfig, HttpIoError, Message, Pending, start_request

if TYPE_CHECKING:
    from ..engine import Store
    from ..linker import Linker
    from ..resources import Resource

__all__ = ["HttpState", "add_to_linker", "install", "push_outparam", "push_request"]

_KEY = "wasi:http"

_HEADER_ERRORS: dict[FieldError, Any] = {
    "invalid-syntax": b.HeaderErrorInvalidSyntax(),
    "forbidden": b.HeaderErrorForbidden(),
    "immutable": b.HeaderErrorImmutable(),
}

_METHODS: dict[str, Any] = {
    "GET": b.MethodGet, "HEAD": b.MethodHead, "POST": b.MethodPost, "PUT": b.MethodPut,
    "DELETE": b.MethodDelete, "CONNECT": b.MethodConnect, "OPTIONS": b.MethodOptions,
    "TRACE": b.MethodTrace, "PATCH": b.MethodPatch,
}
_METHOD_NAMES = {cls: name for name, cls in _METHODS.items()}
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_AUTHORITY = re.compile(r"[^\s/?#@]*(@[^\s/?#@]*)?\Z")
_PATH = re.compile(r"[^\s#\x00-\x1f\x7f]*\Z")


def method_variant(name: str) -> Any:
    cls = _METHODS.get(name)
    return cls() if cls is not None else b.MethodOther(name)


def method_name(v: Any) -> str | None:
    """The method a ``method`` variant names (``None``: not a valid method token)."""
    if isinstance(v, b.MethodOther):
        return v.value if _TOKEN.match(v.value) else None
    return _METHOD_NAMES[type(v)]


def scheme_variant(name: str | None) -> Any:
    if name is None:
        return None
    if name == "http":
        return b.SchemeHttp()
    if name == "https":
        return b.SchemeHttps()
    return b.SchemeOther(name)


def scheme_name(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, b.SchemeOther):
        return str(v.value)
    return "https" if isinstance(v, b.SchemeHttps) else "http"


# -- the host objects behind the guest's handles ------------------------------------------------


class IncomingBody:
    """A body the guest reads (a request's, or a response to an outgoing request)."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.stream_taken = False


class IncomingRequest:
    def __init__(self, msg: Message) -> None:
        self.msg = msg
        self.headers = Fields(msg.headers, mutable=False)
        self.consumed = False


class IncomingResponse:
    def __init__(self, msg: Message) -> None:
        self.msg = msg
        self.headers = Fields(msg.headers, mutable=False)
        self.consumed = False


class OutgoingBody:
    """A body the guest writes; ``finish`` ends it (checking any ``content-length``)."""

    def __init__(self, channel: Channel, headers: HeaderList, response: bool) -> None:
        self.channel = channel
        self.stream_taken = False
        self.written = 0
        self.response = response
        lengths = [v for k, v in headers if k == "content-length"]
        self.expected = int(lengths[0]) if lengths and lengths[0].strip().isdigit() else None

    def count(self, data: bytes) -> None:
        self.written += len(data)
        if self.expected is not None and self.written > self.expected:
            self.channel.fail(HttpIoError(self._size_error()))
            from ..wasi import StreamFailed

            raise StreamFailed(HttpIoError(self._size_error()))

    def _size_error(self) -> Any:
        if self.response:
            return b.ErrorCodeHttpResponseBodySize(self.written)
        return b.ErrorCodeHttpRequestBodySize(self.written)


class _OutgoingMessage:
    """An outgoing request or response under construction (its head may still change)."""

    def __init__(self, fields: Fields, body_limit: int, response: bool) -> None:
        self.fields = fields.view()
        self.body = OutgoingBody(Channel(body_limit), fields.entries, response)
        self.body_taken = False


class OutgoingRequest(_OutgoingMessage):
    def __init__(self, fields: Fields, body_limit: int) -> None:
        super().__init__(fields, body_limit, response=False)
        self.method = "GET"
        self.scheme: str | None = None
        self.authority: str | None = None
        self.path_with_query: str | None = None


class OutgoingResponse(_OutgoingMessage):
    def __init__(self, fields: Fields, body_limit: int) -> None:
        super().__init__(fields, body_limit, response=True)
        self.status = 200


class RequestOptions:
    def __init__(self) -> None:
        self.connect: int | None = None
        self.first_byte: int | None = None
        self.between_bytes: int | None = None


class ResponseOutparam:
    def __init__(self) -> None:
        self.set = False


class _Future:
    """``future-trailers`` and ``future-incoming-response``: ready when ``signal`` is."""

    def __init__(self, pollable: SignalPollable, get: Callable[[], Any]) -> None:
        self.pollable = pollable
        self.get = get
        self.taken = False


#: Per-store HTTP state: the configuration, and where the guest's response goes.
class HttpState:
    """``deliver(message_or_error_code)`` receives what the guest passes to
    ``response-outparam.set`` (a :class:`Message` whose body the guest may still be
    writing, or an ``error-code``)."""

    def __init__(self, config: HttpConfig,
                 deliver: Callable[[Message | Any], None] | None = None) -> None:
        self.config = config
        self.deliver = deliver


def install(store: Store, state: HttpState) -> None:
    """Give ``store`` (which has a WASI context) its HTTP state."""
    ctx: WasiCtx = store.wasi
    if ctx.extension(_KEY, lambda _c: state) is not state:
        raise ValueError("`install`: the store already has its HTTP state")


def _state(ctx: WasiCtx) -> HttpState:
    return ctx.extension(_KEY, lambda _c: HttpState(HttpConfig()))


# -- the wasi:http/types host -------------------------------------------------------------------


class _Base:
    def __init__(self, ctx: WasiCtx) -> None:
        self.ctx = ctx

    @property
    def state(self) -> HttpState:
        return _state(self.ctx)

    def drop(self, rep: Resource[Any]) -> None:
        self.ctx.delete(rep)


def _header_result(err: FieldError | None) -> Ok[None] | Err[Any]:
    return Ok(None) if err is None else Err(_HEADER_ERRORS[err])


class _FieldsHost(_Base):
    def _get(self, r: Resource[Any]) -> Fields:
        return self.ctx.get(r, Fields)

    def new(self) -> Resource[Any]:
        return self.ctx.push(Fields(), b._RT_Fields)

    def from_list(self, entries: list[tuple[str, bytes]]) -> Ok[Any] | Err[Any]:
        f = Fields.from_list(entries, self.state.config.forbidden_headers)
        if isinstance(f, str):
            return Err(_HEADER_ERRORS[f])
        return Ok(self.ctx.push(f, b._RT_Fields))

    def get(self, self_: Resource[Any], name: str) -> list[bytes]:
        return self._get(self_).get(name)

    def has(self, self_: Resource[Any], name: str) -> bool:
        return self._get(self_).has(name)

    def set(self, self_: Resource[Any], name: str, value: list[bytes]) -> Ok[None] | Err[Any]:
        return _header_result(self._get(self_).set(name, value,
                                                   self.state.config.forbidden_headers))

    def delete(self, self_: Resource[Any], name: str) -> Ok[None] | Err[Any]:
        return _header_result(self._get(self_).delete(name, self.state.config.forbidden_headers))

    def append(self, self_: Resource[Any], name: str, value: bytes) -> Ok[None] | Err[Any]:
        return _header_result(self._get(self_).append(name, value,
                                                      self.state.config.forbidden_headers))

    def entries(self, self_: Resource[Any]) -> list[tuple[str, bytes]]:
        return list(self._get(self_).entries)

    def clone(self, self_: Resource[Any]) -> Resource[Any]:
        return self.ctx.push(self._get(self_).clone(), b._RT_Fields)


class _IncomingMessageHost(_Base):
    """``incoming-request`` and ``incoming-response``: a head to read, a body to take once."""

    _cls: type[IncomingRequest | IncomingResponse]

    def _get(self, r: Resource[Any]) -> Any:
        return self.ctx.get(r, self._cls)

    def headers(self, self_: Resource[Any]) -> Resource[Any]:
        return self.ctx.push(self._get(self_).headers.view(), b._RT_Fields, parent=self_)

    def consume(self, self_: Resource[Any]) -> Ok[Any] | Err[None]:
        m = self._get(self_)
        if m.consumed:
            return Err(None)
        m.consumed = True
        return Ok(self.ctx.push(IncomingBody(m.msg.body), b._RT_IncomingBody))


class _IncomingRequestHost(_IncomingMessageHost):
    _cls = IncomingRequest

    def method(self, self_: Resource[Any]) -> Any:
        return method_variant(self._get(self_).msg.method)

    def path_with_query(self, self_: Resource[Any]) -> str | None:
        return self._get(self_).msg.path_with_query  # type: ignore[no-any-return]

    def scheme(self, self_: Resource[Any]) -> Any:
        return scheme_variant(self._get(self_).msg.scheme)

    def authority(self, self_: Resource[Any]) -> str | None:
        return self._get(self_).msg.authority  # type: ignore[no-any-return]


class _IncomingResponseHost(_IncomingMessageHost):
    _cls = IncomingResponse

    def status(self, self_: Resource[Any]) -> int:
        return self._get(self_).msg.status  # type: ignore[no-any-return]


def _set(ok: bool) -> Ok[None] | Err[None]:
    return Ok(None) if ok else Err(None)


class _OutgoingMessageHost(_Base):
    """``outgoing-request`` and ``outgoing-response``: a head to change, a body to take once."""

    _cls: type[OutgoingRequest | OutgoingResponse]

    def _get(self, r: Resource[Any]) -> Any:
        return self.ctx.get(r, self._cls)

    def new(self, headers: Resource[Any]) -> Resource[Any]:
        fields = self.ctx.delete(headers)
        if not isinstance(fields, Fields):
            raise Trap(f"WASI: handle {headers.rep} is a {type(fields).__name__}, expected a "
                       f"Fields")
        obj = self._cls(Fields(list(fields.entries)), self.state.config.body_buffer)
        return self.ctx.push(obj, self._rt)

    _rt: Any

    def headers(self, self_: Resource[Any]) -> Resource[Any]:
        return self.ctx.push(self._get(self_).fields.view(), b._RT_Fields, parent=self_)

    def body(self, self_: Resource[Any]) -> Ok[Any] | Err[None]:
        m = self._get(self_)
        if m.body_taken:
            return Err(None)
        m.body_taken = True
        return Ok(self.ctx.push(m.body, b._RT_OutgoingBody))


class _OutgoingRequestHost(_OutgoingMessageHost):
    _cls = OutgoingRequest
    _rt = b._RT_OutgoingRequest

    def method(self, self_: Resource[Any]) -> Any:
        return method_variant(self._get(self_).method)

    def set_method(self, self_: Resource[Any], method: Any) -> Ok[None] | Err[None]:
        name = method_name(method)
        if name is not None:
            self._get(self_).method = name
        return _set(name is not None)

    def path_with_query(self, self_: Resource[Any]) -> str | None:
        return self._get(self_).path_with_query  # type: ignore[no-any-return]

    def set_path_with_query(self, self_: Resource[Any], path_with_query: str | None
                            ) -> Ok[None] | Err[None]:
        ok = path_with_query is None or bool(_PATH.match(path_with_query))
        if ok:
            self._get(self_).path_with_query = path_with_query
        return _set(ok)

    def scheme(self, self_: Resource[Any]) -> Any:
        return scheme_variant(self._get(self_).scheme)

    def set_scheme(self, self_: Resource[Any], scheme: Any) -> Ok[None] | Err[None]:
        name = scheme_name(scheme)
        ok = name is None or bool(re.match(r"[A-Za-z][A-Za-z0-9+.\-]*\Z", name))
        if ok:
            self._get(self_).scheme = name
        return _set(ok)

    def authority(self, self_: Resource[Any]) -> str | None:
        return self._get(self_).authority  # type: ignore[no-any-return]

    def set_authority(self, self_: Resource[Any], authority: str | None) -> Ok[None] | Err[None]:
        ok = authority is None or bool(_AUTHORITY.match(authority))
        if ok:
            self._get(self_).authority = authority
        return _set(ok)


class _OutgoingResponseHost(_OutgoingMessageHost):
    _cls = OutgoingResponse
    _rt = b._RT_OutgoingResponse

    def status_code(self, self_: Resource[Any]) -> int:
        return self._get(self_).status  # type: ignore[no-any-return]

    def set_status_code(self, self_: Resource[Any], status_code: int) -> Ok[None] | Err[None]:
        ok = 100 <= status_code <= 999
        if ok:
            self._get(self_).status = status_code
        return _set(ok)


class _RequestOptionsHost(_Base):
    def _get(self, r: Resource[Any]) -> RequestOptions:
        return self.ctx.get(r, RequestOptions)

    def new(self) -> Resource[Any]:
        return self.ctx.push(RequestOptions(), b._RT_RequestOptions)

    def connect_timeout(self, self_: Resource[Any]) -> int | None:
        return self._get(self_).connect

    def set_connect_timeout(self, self_: Resource[Any], duration: int | None
                            ) -> Ok[None] | Err[Any]:  # fmt: skip
        self._get(self_).connect = duration
        return Ok(None)

    def first_byte_timeout(self, self_: Resource[Any]) -> int | None:
        return self._get(self_).first_byte

    def set_first_byte_timeout(self, self_: Resource[Any], duration: int | None
                               ) -> Ok[None] | Err[Any]:  # fmt: skip
        self._get(self_).first_byte = duration
        return Ok(None)

    def between_bytes_timeout(self, self_: Resource[Any]) -> int | None:
        return self._get(self_).between_bytes

    def set_between_bytes_timeout(self, self_: Resource[Any], duration: int | None
                                  ) -> Ok[None] | Err[Any]:  # fmt: skip
        self._get(self_).between_bytes = duration
        return Ok(None)


class _ResponseOutparamHost(_Base):
    def set(self, param: Resource[Any], response: Ok[Any] | Err[Any]) -> None:
        out = self.ctx.delete(param)
        if not isinstance(out, ResponseOutparam):
            raise Trap(f"WASI: handle {param.rep} is a {type(out).__name__}, expected a "
                       f"ResponseOutparam")
        if isinstance(response, Err):
            result: Message | Any = response.value
        else:
            resp = self.ctx.delete(response.value)
            if not isinstance(resp, OutgoingResponse):
                raise Trap(f"WASI: handle {response.value.rep} is a {type(resp).__name__}, "
                           f"expected an OutgoingResponse")
            if not resp.body_taken:
                resp.body.channel.finish()
            result = Message(resp.fields.entries, resp.body.channel, status=resp.status)
        out.set = True
        deliver = self.state.deliver
        if deliver is None:
            raise Trap("`wasi:http/types.response-outparam.set`: this store serves no request")
        deliver(result)


class _IncomingBodyHost(_Base):
    def stream(self, self_: Resource[Any]) -> Ok[Any] | Err[None]:
        body = self.ctx.get(self_, IncomingBody)
        if body.stream_taken:
            return Err(None)
        body.stream_taken = True
        return Ok(self.ctx.push(ChannelInputStream(body.channel), _b_streams._RT_InputStream,
                                parent=self_))

    def finish(self, this: Resource[Any]) -> Resource[Any]:
        body = self.ctx.get(this, IncomingBody)
        self.ctx.delete(this)  # traps while the stream is alive
        ch = body.channel
        if not ch.ended:
            ch.abandon()  # the rest of the body is not wanted

        def get() -> Any:
            if ch.error is not None:
                code = ch.error.code if isinstance(ch.error, HttpIoError) else \
                    b.ErrorCodeInternalError(ch.error.message)
                return Err(code)
            if ch.trailers is None:
                return Ok(None)
            return Ok(self.ctx.push(Fields(ch.trailers, mutable=False), b._RT_Fields))

        return self.ctx.push(_Future(SignalPollable(ch.done), get), b._RT_FutureTrailers)


class _FutureHost(_Base):
    """``future-trailers`` and ``future-incoming-response``."""

    def subscribe(self, self_: Resource[Any]) -> Resource[Any]:
        f = self.ctx.get(self_, _Future)
        return self.ctx.push(f.pollable, _b_poll._RT_Pollable, parent=self_)

    def get(self, self_: Resource[Any]) -> Any:
        f = self.ctx.get(self_, _Future)
        if not f.pollable.ready():
            return None
        if f.taken:
            return Err(None)
        f.taken = True
        return Ok(f.get())


class _OutgoingBodyHost(_Base):
    def write(self, self_: Resource[Any]) -> Ok[Any] | Err[None]:
        body = self.ctx.get(self_, OutgoingBody)
        if body.stream_taken:
            return Err(None)
        body.stream_taken = True
        stream = ChannelOutputStream(body.channel, on_write=body.count)
        return Ok(self.ctx.push(stream, _b_streams._RT_OutputStream, parent=self_))

    def finish(self, this: Resource[Any], trailers: Resource[Any] | None) -> Ok[None] | Err[Any]:
        body = self.ctx.get(this, OutgoingBody)
        self.ctx.delete(this)  # traps while the stream is alive
        entries = None
        if trailers is not None:
            t = self.ctx.delete(trailers)
            entries = list(t.entries) if isinstance(t, Fields) else None
        if body.expected is not None and body.written != body.expected:
            code = body._size_error()
            body.channel.fail(HttpIoError(code))
            return Err(code)
        body.channel.finish(entries)
        return Ok(None)

    def drop(self, rep: Resource[Any]) -> None:
        body: OutgoingBody = self.ctx.delete(rep)
        # dropped without `finish`: the body is incomplete
        body.channel.fail(IoError("the guest dropped the outgoing body without finishing it"))


class TypesHost:
    """``wasi:http/types``."""

    def __init__(self, ctx: WasiCtx) -> None:
        self.ctx = ctx
        self.fields = _FieldsHost(ctx)
        self.incoming_request = _IncomingRequestHost(ctx)
        self.outgoing_request = _OutgoingRequestHost(ctx)
        self.request_options = _RequestOptionsHost(ctx)
        self.response_outparam = _ResponseOutparamHost(ctx)
        self.incoming_response = _IncomingResponseHost(ctx)
        self.incoming_body = _IncomingBodyHost(ctx)
        self.future_trailers = _FutureHost(ctx)
        self.outgoing_response = _OutgoingResponseHost(ctx)
        self.outgoing_body = _OutgoingBodyHost(ctx)
        self.future_incoming_response = _FutureHost(ctx)

    def http_error_code(self, err: Resource[Any]) -> Any:
        e = self.ctx.get(err, IoError)
        return e.code if isinstance(e, HttpIoError) else None


def _seconds(ns: int | None) -> float | None:
    return None if ns is None else ns / 1e9


class OutgoingHandlerHost:
    """``wasi:http/outgoing-handler``."""

    def __init__(self, ctx: WasiCtx) -> None:
        self.ctx = ctx

    def handle(self, request: Resource[Any], options: Resource[Any] | None) -> Ok[Any] | Err[Any]:
        req = self.ctx.delete(request)
        if not isinstance(req, OutgoingRequest):
            raise Trap(f"WASI: handle {request.rep} is a {type(req).__name__}, expected an "
                       f"OutgoingRequest")
        opts = RequestOptions()
        if options is not None:
            o = self.ctx.delete(options)
            if isinstance(o, RequestOptions):
                opts = o
        msg = Message(req.fields.entries, req.body.channel, method=req.method,
                      scheme=req.scheme, authority=req.authority,
                      path_with_query=req.path_with_query,
                      timeouts=(_seconds(opts.connect), _seconds(opts.first_byte),
                                _seconds(opts.between_bytes)))
        pending = start_request(_state(self.ctx).config, msg)
        if not isinstance(pending, Pending):
            req.body.channel.abandon()
            return Err(pending)
        ctx = self.ctx

        def get() -> Any:
            r = pending.result
            if isinstance(r, Message):
                return Ok(ctx.push(IncomingResponse(r), b._RT_IncomingResponse))
            return Err(r)

        return Ok(ctx.push(_Future(SignalPollable(pending.ready), get),
                           b._RT_FutureIncomingResponse))


# -- wiring ---------------------------------------------------------------------------------------


class _Hosts:
    __slots__ = ("outgoing", "types")

    def __init__(self, ctx: WasiCtx) -> None:
        self.types = TypesHost(ctx)
        self.outgoing = OutgoingHandlerHost(ctx)


def _hosts(store: Store) -> _Hosts:
    ctx: WasiCtx = store.wasi
    return ctx.extension("wasi:http/hosts", _Hosts)


def add_to_linker(linker: Linker) -> None:
    """Define WASI 0.2 and ``wasi:http/types`` and ``wasi:http/outgoing-handler`` 0.2 on
    ``linker``; calls reach the store's WASI context (``store.set_wasi``) and its HTTP state
    (:func:`install`, else a default :class:`HttpConfig`: no outgoing requests)."""
    from ..wasi import add_to_linker as add_wasi

    add_wasi(linker)
    b.add_to_linker(linker, lambda s: _hosts(s).types)
    b_out.add_to_linker(linker, lambda s: _hosts(s).outgoing)


def push_request(store: Store, msg: Message) -> Resource[Any]:
    """An ``incoming-request`` handle for ``msg`` (to pass to ``incoming-handler.handle``)."""
    ctx: WasiCtx = store.wasi
    return ctx.push(IncomingRequest(msg), b._RT_IncomingRequest)


def push_outparam(store: Store) -> Resource[Any]:
    """A fresh ``response-outparam`` handle."""
    ctx: WasiCtx = store.wasi
    return ctx.push(ResponseOutparam(), b._RT_ResponseOutparam)
