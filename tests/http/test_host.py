"""The pieces under ``wasm-component serve``, in process: header rules, body channels (back
pressure, ends, failures, waiting with selectors), the allow-list, outgoing requests served by
a Python hook instead of the network, error codes for failed connections, and the ASGI app's
lifespan, driven by a minimal ASGI server written here."""

from __future__ import annotations

import asyncio
import re
import selectors
import socket
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import pytest

from wasm_component.http import FORBIDDEN, Channel, Fields, HttpConfig, Message, asgi_app
from wasm_component.http._bindings.imports import wasi_http_types as b
from wasm_component.http.channel import EOF, ChannelInputStream, ChannelOutputStream, Signal
from wasm_component.http.outgoing import start_request
from wasm_component.wasi import StreamClosed, StreamFailed

from ._serve import componentize_py_app
from .conftest import built

httpx = pytest.importorskip("httpx", reason="httpx is part of the test extras")


def test_fields_rules() -> None:
    f = Fields.from_list([("Content-Type", b"text/plain"), ("X-A", b"1")], FORBIDDEN)
    assert isinstance(f, Fields)
    assert f.entries == [("content-type", b"text/plain"), ("x-a", b"1")]
    assert f.get("CONTENT-TYPE") == [b"text/plain"] and f.has("x-a") and not f.has("x-b")
    assert Fields.from_list([("Transfer-Encoding", b"chunked")], FORBIDDEN) == "forbidden"
    assert Fields.from_list([("a b", b"v")], FORBIDDEN) == "invalid-syntax"
    assert Fields.from_list([("a", b"v\r\nx: y")], FORBIDDEN) == "invalid-syntax"
    assert Fields.from_list([("a", b"tab\tand \xff ok")], FORBIDDEN) is not None
    assert f.append("x-a", b"2", FORBIDDEN) is None and f.get("x-a") == [b"1", b"2"]
    assert f.set("x-a", [b"3"], FORBIDDEN) is None and f.get("x-a") == [b"3"]
    assert f.set("host", [b"h"], FORBIDDEN) == "forbidden"
    assert f.delete("x-a", FORBIDDEN) is None and not f.has("x-a")
    view = f.view()
    assert view.append("x-c", b"1", FORBIDDEN) == "immutable"
    assert view.delete("content-type", FORBIDDEN) == "immutable"
    copy = view.clone()
    assert copy.append("x-c", b"1", FORBIDDEN) is None and not f.has("x-c")


def test_channel_back_pressure_end_and_failure() -> None:
    ch = Channel(limit=8)
    assert ch.writable.is_set() and not ch.readable.is_set()
    assert ch.take_nowait() is None
    ch.put(b"12345678")
    assert ch.space() == 0 and not ch.writable.is_set() and ch.readable.is_set()
    assert ch.take_nowait(3) == b"123"
    assert ch.writable.is_set() and ch.space() == 3
    assert ch.take_nowait() == b"45678" and not ch.readable.is_set()
    ch.put(b"ab")
    assert not ch.drained()  # (not ended yet)
    ch.finish(trailers=[("x-t", b"1")])
    assert not ch.drained()  # (not all taken)
    assert ch.take() == b"ab" and ch.drained()
    assert ch.take() is EOF and ch.trailers == [("x-t", b"1")]
    failed = Channel()
    failed.put(b"x")
    from wasm_component.wasi import IoError

    failed.fail(IoError("boom"))
    assert failed.take() == b"x"
    assert not failed.drained()  # (its end is the failure, which `take` raises)
    with pytest.raises(StreamFailed, match="boom"):
        failed.take()
    gone = Channel()
    gone.abandon()
    with pytest.raises(StreamClosed):
        gone.put(b"x")


def test_signal_is_selectable_exactly_while_set() -> None:
    s = Signal()
    sel = selectors.DefaultSelector()
    sel.register(s.fileno(), selectors.EVENT_READ)
    assert sel.select(0) == []
    s.set()
    s.set()
    assert len(sel.select(0)) == 1
    s.clear()
    assert sel.select(0) == []
    sel.close()
    s.close()


def test_streams_over_a_channel() -> None:
    ch = Channel(limit=4)
    out, inp = ChannelOutputStream(ch), ChannelInputStream(ch)
    assert out.check_write() == 4
    out.write(b"abcd")
    assert out.check_write() == 0 and not out.pollable().ready()
    assert inp.read(10) == b"abcd" and out.pollable().ready()
    assert inp.read(10) == b"" and not inp.pollable().ready()
    ch.finish()
    assert inp.pollable().ready()
    with pytest.raises(StreamClosed):
        inp.read(1)
    with pytest.raises(StreamClosed):
        out.check_write()


def test_allow_list() -> None:
    c = HttpConfig(allowed_hosts=["127.0.0.1:8080", "example.com", "*.example.org", "[::1]:81"])
    assert c.allows("127.0.0.1", 8080) and not c.allows("127.0.0.1", 8081)
    assert c.allows("example.com", 443) and c.allows("EXAMPLE.com", None)
    assert c.allows("a.b.example.org", 80) and not c.allows("example.org", 80)
    assert c.allows("::1", 81) and not c.allows("::1", 80)
    assert not HttpConfig().allows("127.0.0.1", 80)  # deny by default
    assert HttpConfig(allowed_hosts=["*"]).allows("anything", 1)


def _request(authority: str, path: str = "/") -> Message:
    body = Channel()
    body.finish()
    return Message([], body, method="GET", scheme="http", authority=authority,
                   path_with_query=path)


def test_outgoing_errors() -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    config = HttpConfig(allowed_hosts=["127.0.0.1"])
    assert isinstance(start_request(config, _request(f"10.0.0.1:{port}")),
                      b.ErrorCodeHttpRequestDenied)
    bad_scheme = _request("127.0.0.1")
    bad_scheme.scheme = "ftp"
    assert isinstance(start_request(config, bad_scheme), b.ErrorCodeHttpProtocolError)
    pending = start_request(config, _request(f"127.0.0.1:{port}"))
    assert pending.ready.wait(30)
    assert isinstance(pending.result, b.ErrorCodeConnectionRefused)


@pytest.fixture(scope="module")
def app_wasm() -> Path:
    return built(componentize_py_app)


async def _call(app: Any, method: str, path: str, headers: list[tuple[bytes, bytes]],
                body: bytes = b"", extensions: dict[str, Any] | None = None,
                sent: list[dict[str, Any]] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One request through ``app`` (a minimal ASGI server)."""
    sent = [] if sent is None else sent
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    done = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    path_only, _, query = path.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "scheme": "http", "path": path_only,
             "raw_path": path_only.encode(), "query_string": query.encode(),
             "headers": [(b"host", b"test"), *headers], "server": ("127.0.0.1", 80),
             "extensions": extensions or {}}
    await app(scope, receive, send)
    done.set()
    start = sent[0]
    assert start["type"] == "http.response.start"
    bodies = [m for m in sent if m["type"] == "http.response.body"]
    out = b"".join(m.get("body", b"") for m in bodies)
    assert bodies[-1].get("more_body", False) is False
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, out


def test_python_hook_serves_outgoing_requests(app_wasm: Path) -> None:
    seen: list[tuple[str, str, bytes, str]] = []

    def hook(request: Any) -> Any:
        seen.append((request.method, str(request.url), request.read(),
                     request.headers["x-from-guest"]))
        return httpx.Response(207, headers={"x-hooked": "1"}, content=b"from python")

    app = asgi_app(app_wasm, http=HttpConfig(outgoing=hook))
    status, headers, body = asyncio.run(_call(app, "GET", "/fetch", [
        (b"x-upstream", b"api.invalid:9"), (b"x-upstream-path", b"/p?q=1")]))
    assert (status, body) == (200, b"from python")
    assert headers["upstream-status"] == "207" and headers["upstream-x-hooked"] == "1"
    assert seen == [("POST", "http://api.invalid:9/p?q=1", b"ping from the guest", "yes")]


def test_lifespan_and_unknown_scope(app_wasm: Path) -> None:
    app = asgi_app(app_wasm)
    sent: list[MutableMapping[str, Any]] = []
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app({"type": "lifespan"}, receive, send))
    assert [m["type"] for m in sent] == ["lifespan.startup.complete",
                                         "lifespan.shutdown.complete"]
    with pytest.raises(ValueError, match="expected an `http` or `lifespan` scope"):
        asyncio.run(app({"type": "websocket"}, receive, send))


def test_a_fresh_instance_per_request(app_wasm: Path) -> None:
    app = asgi_app(app_wasm)
    for _ in range(3):
        status, _, body = asyncio.run(_call(app, "POST", "/echo", [], b"same"))
        assert (status, body) == (200, b"same")


def test_response_trailers_when_the_server_takes_them(app_wasm: Path) -> None:
    app = asgi_app(app_wasm)
    sent: list[dict[str, Any]] = []
    status, _, body = asyncio.run(_call(app, "GET", "/trailers", [],
                                        extensions={"http.response.trailers": {}}, sent=sent))
    assert (status, body) == (200, b"body")
    assert sent[0]["trailers"] is True
    assert sent[-1] == {"type": "http.response.trailers", "headers": [(b"x-trailer", b"done")],
                        "more_trailers": False}
    sent.clear()  # a server without the extension gets the body alone
    asyncio.run(_call(app, "GET", "/trailers", [], sent=sent))
    assert [m["type"] for m in sent][-1] == "http.response.body"


def _types_host() -> Any:
    from wasm_component import Engine, Store
    from wasm_component.http.host import TypesHost
    from wasm_component.wasi import WasiConfig

    store = Store(Engine())
    store.set_wasi(WasiConfig())
    return TypesHost(store.wasi), store.wasi


def test_outgoing_body_rules() -> None:
    from wasm_component import Trap
    from wasm_component.values import Err, Ok

    host, ctx = _types_host()
    fields = host.fields.from_list([("content-length", b"3")]).value
    resp = host.outgoing_response.new(fields)
    assert host.outgoing_response.set_status_code(resp, 99) == Err(None)
    assert host.outgoing_response.set_status_code(resp, 201) == Ok(None)
    view = host.outgoing_response.headers(resp)
    assert host.fields.append(view, "x-a", b"1") == Err(b.HeaderErrorImmutable())
    assert host.fields.get(view, "Content-Length") == [b"3"]
    host.fields.drop(view)
    body = host.outgoing_response.body(resp).value
    assert host.outgoing_response.body(resp) == Err(None)  # only once
    stream = host.outgoing_body.write(body).value
    assert host.outgoing_body.write(body) == Err(None)
    with pytest.raises(Trap, match="still alive"):
        host.outgoing_body.finish(body, None)  # the stream is a child of the body
    out = ctx.get(stream, ChannelOutputStream)
    out.write(b"ab")
    ctx.delete(stream)
    assert host.outgoing_body.finish(body, None) == Err(b.ErrorCodeHttpResponseBodySize(2))


def test_future_trailers_and_http_error_code() -> None:
    from wasm_component.http import HttpIoError
    from wasm_component.http.host import IncomingBody
    from wasm_component.values import Err, Ok
    from wasm_component.wasi import IoError

    host, ctx = _types_host()
    ch = Channel()
    body = ctx.push(IncomingBody(ch), b._RT_IncomingBody)
    stream = host.incoming_body.stream(body).value
    assert host.incoming_body.stream(body) == Err(None)
    ch.put(b"data")
    assert ctx.get(stream, ChannelInputStream).read(10) == b"data"
    ctx.delete(stream)
    ch2 = Channel()
    body2 = ctx.push(IncomingBody(ch2), b._RT_IncomingBody)
    fut = host.incoming_body.finish(body)
    assert host.future_trailers.get(fut) is None  # the body has not ended
    ch.finish([("x-t", b"1")])
    got = host.future_trailers.get(fut)
    assert isinstance(got, Ok) and isinstance(got.value, Ok)
    assert host.fields.entries(got.value.value) == [("x-t", b"1")]
    assert host.future_trailers.get(fut) == Err(None)  # only once
    ch2.fail(HttpIoError(b.ErrorCodeConnectionTerminated()))
    fut2 = host.incoming_body.finish(body2)
    assert host.future_trailers.get(fut2) == Ok(Err(b.ErrorCodeConnectionTerminated()))
    err = ctx.push(HttpIoError(b.ErrorCodeHttpProtocolError()))
    assert host.http_error_code(err) == b.ErrorCodeHttpProtocolError()
    assert host.http_error_code(ctx.push(IoError("plain"))) is None


def _handler_component(export: str) -> Any:
    from wasm_component import Component, Engine

    return Component.new(Engine(), f"""(component
      (core module $m (func (export "f")))
      (core instance $i (instantiate $m))
      (func $f (canon lift (core func $i "f")))
      (instance $h (export "handle" (func $f)))
      (export "{export}" (instance $h)))""")


def test_components_that_are_not_http_handlers() -> None:
    from wasm_component import LinkError

    with pytest.raises(LinkError, match=re.escape(
            "exports no `wasi:http/incoming-handler@0.2.x` or `wasi:http/handler@0.3.x`")):
        asgi_app(_handler_component("example:other/thing"))


def test_a_0_3_service_is_served_from_reused_instances() -> None:
    app = asgi_app(_handler_component("wasi:http/handler@0.3.0"), per_instance=3, max_reuse=9)
    assert (app.export, app.p3) == ("wasi:http/handler@0.3.0", True)
    assert (app.pool.per_instance, app.pool.max_reuse) == (3, 9)


def test_response_back_pressure(app_wasm: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The guest never gets more than ``body_buffer`` bytes ahead of what the server has sent
    (its ``check-write`` says 0 until the server takes more), though it has 2 MiB to write."""
    most = [0]
    put = Channel.put

    def recording_put(self: Channel, data: bytes) -> None:
        put(self, data)
        most[0] = max(most[0], self.limit - self.space())

    monkeypatch.setattr(Channel, "put", recording_put)
    app = asgi_app(app_wasm, http=HttpConfig(body_buffer=16384))
    sent: list[dict[str, Any]] = []

    async def run() -> tuple[int, dict[str, str], bytes]:
        return await _call(app, "GET", "/stream?n=128", [], sent=sent)

    status, _, body = asyncio.run(run())
    assert status == 200 and len(body) == 128 * 16384
    assert 0 < most[0] <= 16384
    assert len([m for m in sent if m["type"] == "http.response.body"]) > 64


def test_between_bytes_timeout_fails_the_body() -> None:
    """The head arrives, then the server stalls: the response resolves and its body then
    fails with `connection-read-timeout`, which `http-error-code` reads from the stream error."""
    import threading

    from wasm_component.http import HttpIoError

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    release = threading.Event()

    def serve() -> None:
        conn, _ = srv.accept()
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc")
        release.wait(10)
        conn.close()

    threading.Thread(target=serve, daemon=True).start()
    try:
        msg = _request(f"127.0.0.1:{srv.getsockname()[1]}")
        msg.timeouts = (None, 5.0, 0.3)  # connect, first byte, between bytes
        pending = start_request(HttpConfig(allowed_hosts=["127.0.0.1"]), msg)
        assert pending.ready.wait(30)
        response = pending.result
        assert isinstance(response, Message) and response.status == 200
        assert response.body.take(timeout=30) == b"abc"
        with pytest.raises(StreamFailed) as e:
            response.body.take(timeout=30)
        assert isinstance(e.value.error, HttpIoError)
        assert isinstance(e.value.error.code, b.ErrorCodeConnectionReadTimeout)
    finally:
        release.set()
        srv.close()
