"""The ``wasi:http@0.3.0`` host called from Python, with in-memory stream and future ends
playing the guest: 0.3's header errors over 0.2's rules, a guest-made response streamed into a
host channel (with trailers), a host request's body streamed to the guest, and ``client.send``
through an ``HttpConfig`` hook (and its allow-list)."""

from __future__ import annotations

from typing import Any

import pytest

from wasm_component import Err, Ok
from wasm_component.http import Channel, Fields, HttpConfig, Message
from wasm_component.http._bindings_p3.imports import wasi_http_types as b3
from wasm_component.http.channel import EOF
from wasm_component.http.host import HttpState
from wasm_component.http.p3 import ClientHost, TypesHost, message_of, push_request
from wasm_component.resources import Resource
from wasm_component.wasi import WasiConfig, WasiCtx

from ..wasi.p3_fakes import Future, Pipe, ctx_of, guest_stream, run

httpx = pytest.importorskip("httpx", reason="httpx is part of the test extras")


def hosts(config: HttpConfig | None = None) -> tuple[WasiCtx, TypesHost]:
    ctx, _ = ctx_of(WasiConfig())
    ctx.extension("wasi:http", lambda _c: HttpState(config or HttpConfig()))
    return ctx, TypesHost(ctx)


def drain_channel(channel: Channel) -> bytes:
    out = b""
    while (got := channel.take(timeout=5)) is not EOF:
        assert isinstance(got, bytes)
        out += got
    return out


def test_fields_give_0_3_header_errors() -> None:
    _, h = hosts()
    assert h.fields.from_list([("Connection", b"close")]) == Err(b3.HeaderErrorForbidden())
    f = h.fields.from_list([("X-A", b"1"), ("x-a", b"2"), ("b", b"3")])
    assert isinstance(f, Ok)
    assert h.fields.set(f.value, "a b", [b"v"]) == Err(b3.HeaderErrorInvalidSyntax())
    assert h.fields.get_and_delete(f.value, "x-a") == Ok([b"1", b"2"])
    assert h.fields.copy_all(f.value) == [("b", b"3")]


def test_a_guest_response_streams_into_a_host_channel_with_trailers() -> None:
    ctx, h = hosts()

    async def go() -> tuple[Message, bytes, Any]:
        headers = h.fields.from_list([("content-type", b"text/plain")]).value
        trailers = Future()
        body = Pipe()
        resp, done = h.response.new(headers, body.reader, trailers.reader)
        assert h.response.set_status_code(resp, 201) == Ok(None)
        assert h.response.set_status_code(resp, 42) == Err(None)
        msg = message_of(ctx, resp)
        await body.writer.write(b"hello, ")
        await body.writer.write(b"world")
        body.writer.close()
        trailer_fields = h.fields.from_list([("x-checksum", b"abc")]).value
        trailers.write(Ok(trailer_fields))
        result = await done.read()
        return msg, drain_channel(msg.body), result

    msg, data, result = run(go())
    assert (msg.status, msg.headers) == (201, [("content-type", b"text/plain")])
    assert data == b"hello, world" and result == Ok(None)
    assert msg.body.trailers == [("x-checksum", b"abc")]


def test_a_host_request_body_streams_to_the_guest() -> None:
    ctx, h = hosts()
    channel = Channel()
    channel.put(b"request body")
    channel.finish([("x-t", b"1")])
    req = push_request(ctx, Message([("host", b"example")], channel, method="PUT",
                                    path_with_query="/p?q", scheme="https"))  # fmt: skip
    assert h.request.get_method(req) == b3.MethodPut()
    assert h.request.get_scheme(req) == b3.SchemeHttps()
    assert h.request.get_path_with_query(req) == "/p?q"
    headers = h.request.get_headers(req)
    assert h.fields.append(headers, "x", b"y") == Err(b3.HeaderErrorImmutable())

    async def go() -> tuple[bytes, Any]:
        res = Future()
        reader, trailers = h.request.consume_body(req, res.reader)
        return await reader.read_all(), await trailers.read()

    data, trailers = run(go())
    assert data == b"request body"
    assert isinstance(trailers, Ok) and isinstance(trailers.value, Resource)
    assert h.fields.copy_all(trailers.value) == [("x-t", b"1")]


def _guest_request(ctx: WasiCtx, h: TypesHost, body: bytes, authority: str) -> Resource[Any]:
    headers = h.fields.from_list([("x-from", b"guest")]).value
    trailers = Future()
    trailers.write(Ok(None))
    req, _done = h.request.new(headers, guest_stream(body), trailers.reader, None)
    assert h.request.set_method(req, b3.MethodPost()) == Ok(None)
    assert h.request.set_scheme(req, b3.SchemeHttp()) == Ok(None)
    h.request.set_authority(req, authority)
    h.request.set_path_with_query(req, "/echo")
    assert isinstance(req, Resource)
    return req


def test_client_send_through_the_python_hook() -> None:
    seen: list[Any] = []

    def hook(request: Any) -> Any:
        seen.append((request.method, str(request.url), request.headers.get("x-from"),
                     request.read()))  # fmt: skip
        return httpx.Response(202, headers={"x-reply": "1"}, content=b"echo:" + request.content)

    ctx, h = hosts(HttpConfig(outgoing=hook))

    async def go() -> tuple[int, bytes]:
        req = _guest_request(ctx, h, b"ping", "example.test")
        sent = await ClientHost(ctx).send(req)
        assert isinstance(sent, Ok), sent
        resp = sent.value
        status = h.response.get_status_code(resp)
        reader, trailers = h.response.consume_body(resp, Future().reader)
        data = await reader.read_all()
        assert await trailers.read() == Ok(None)
        return status, data

    status, data = run(go())
    assert (status, data) == (202, b"echo:ping")
    assert seen == [("POST", "http://example.test/echo", "guest", b"ping")]


def test_client_send_outside_the_allow_list_is_denied() -> None:
    ctx, h = hosts(HttpConfig(allowed_hosts=["allowed.test"]))

    async def go() -> Any:
        return await ClientHost(ctx).send(_guest_request(ctx, h, b"", "denied.test"))

    assert run(go()) == Err(b3.ErrorCodeHttpRequestDenied())


def test_a_requests_options_are_immutable_but_their_clones_are_not() -> None:
    ctx, h = hosts()

    async def go() -> None:
        opts = h.request_options.new()
        assert h.request_options.set_connect_timeout(opts, 5_000) == Ok(None)
        req, _ = h.request.new(h.fields.new(), None, Future().reader, opts)
        got = h.request.get_options(req)
        assert got is not None and h.request_options.get_connect_timeout(got) == 5_000
        assert h.request_options.set_connect_timeout(got, 1) == \
            Err(b3.RequestOptionsErrorImmutable())  # fmt: skip
        copy = h.request_options.clone(got)
        assert h.request_options.set_first_byte_timeout(copy, 7) == Ok(None)
        assert message_of(ctx, req).timeouts == (5e-6, None, None)  # seconds, as 0.2's

    run(go())


def test_fields_rules_are_0_2_s() -> None:
    # the 0.3 host adds no rule of its own: what 0.2's Fields refuses, 0.3 refuses
    from wasm_component.http import FORBIDDEN

    for name in sorted(FORBIDDEN):
        assert Fields.from_list([(name, b"x")], FORBIDDEN) == "forbidden"
        assert hosts()[1].fields.from_list([(name, b"x")]) == Err(b3.HeaderErrorForbidden())
