"""A real WASI 0.3 ``wasi:http/service`` app (componentize-py 0.25, ``guest/service_p3.py``,
built here against the checked-in ``wasi:http@0.3.0`` WIT) served by ``wasm-component serve``
(a subprocess on 127.0.0.1, port 0) and hit by httpx over loopback: methods, headers, status
codes, bodies streamed both ways, an outgoing request through ``wasi:http/client`` to a local
server (and one the allow-list denies), a guest that traps (500; the server stays up), and
concurrent requests on reused instances, clients that disconnect mid-body; and a
``wasi:http/middleware`` app (``guest/middleware_p3.py``) whose imported ``handler`` is the
host's client. In process: trailers, the Python hook for outgoing requests, back pressure on
the request body, one instance serving several requests and a busy instance making the pool
start another (``per_instance``)."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from wasm_component.http import HttpConfig, asgi_app
from wasm_component.wasi import WasiConfig

from ..wasi._build import componentize_py_command
from ._serve import (
    GUEST,
    Server,
    check_disconnect_mid_request_body,
    check_disconnect_mid_response,
)
from .conftest import Upstream
from .test_host import _call as _call_with
from .test_p3_serve import HTTP_WIT, _call

httpx = pytest.importorskip("httpx", reason="httpx is part of the test extras")
pytest.importorskip("uvicorn", reason="uvicorn is part of the test extras")


@pytest.fixture(scope="module")
def app_wasm() -> Path:
    return componentize_py_command((GUEST / "service_p3.py").read_text(), HTTP_WIT, "service")


def test_hello(client: Any) -> None:
    r = client.get("/hello")
    assert (r.status_code, r.text, r.headers["content-type"]) == (200, "hello world",
                                                                 "text/plain")


@pytest.mark.parametrize(("method", "status"), [
    ("GET", 200), ("POST", 201), ("PUT", 202), ("DELETE", 204), ("PATCH", 418),
    ("OPTIONS", 299), ("PURGE", 404), ("HEAD", 200)])
def test_methods_headers_status(client: Any, method: str, status: int) -> None:
    body = b"" if method in ("GET", "HEAD", "DELETE") else b"payload"
    r = client.request(method, "/echo?a=1&b=%20", content=body,
                       headers={"x-status": str(status), "x-Custom": "v1"})
    assert r.status_code == status
    assert r.headers["x-method"] == method
    assert r.headers["x-path"] == "/echo?a=1&b=%20"
    assert r.headers["echo-x-custom"] == "v1"
    assert r.content == (b"" if method == "HEAD" or status == 204 else body)


def test_repeated_request_headers_keep_order(client: Any) -> None:
    r = client.get("/echo", headers=[("x-multi", "one"), ("x-multi", "two")])
    assert r.headers.get_list("echo-x-multi") == ["one", "two"]


def test_streaming_request_body_is_echoed(client: Any) -> None:
    chunks = [bytes([i]) * 8192 for i in range(64)]  # 512 KiB, more than any buffer on the way
    r = client.post("/echo", content=iter(chunks))
    assert r.status_code == 200
    assert r.content == b"".join(chunks)


def test_streaming_response_arrives_in_pieces(client: Any) -> None:
    with client.stream("GET", "/stream?n=128") as r:  # 2 MiB, written after `handle` returned
        assert r.status_code == 200
        sizes = [len(c) for c in r.iter_raw()]
    assert sum(sizes) == 128 * 16384
    assert len(sizes) > 1


def test_outgoing_request_to_a_local_server(client: Any, upstream: str) -> None:
    Upstream.seen.clear()
    r = client.get("/fetch", headers={"x-upstream": upstream, "x-upstream-path": "/p?q=1"})
    assert r.status_code == 200, r.text
    assert r.headers["x-upstream-status"] == "203"
    assert r.headers["x-upstream-mark"] == "42"
    assert r.content == b"upstream got ping from the guest"
    method, path, headers, body = Upstream.seen[-1]
    assert (method, path, headers.get("x-from-guest"), body) == (
        "POST", "/p?q=1", "yes", b"ping from the guest")


def test_outgoing_request_outside_the_allow_list_is_denied(client: Any) -> None:
    r = client.get("/fetch", headers={"x-upstream": "127.0.0.1:9"})
    assert (r.status_code, r.text) == (502, "ErrorCode_HttpRequestDenied")


def test_trap_is_a_500_and_the_server_stays_up(client: Any, server: Server) -> None:
    r = client.get("/trap")
    assert r.status_code == 500
    assert "the component failed" in r.text
    assert client.get("/hello").text == "hello world"
    assert "guest trapped" in server.stderr_text()


def test_concurrent_requests(server: Server) -> None:
    """24 requests at once, more than one instance takes (16): each gets its own answer."""
    def one(i: int) -> tuple[int, bytes]:
        with httpx.Client(base_url=server.url, timeout=60) as c:
            r = c.post("/echo", content=f"request {i}".encode() * 1000)
            return r.status_code, r.content

    with ThreadPoolExecutor(24) as ex:
        got = list(ex.map(one, range(24)))
    assert got == [(200, f"request {i}".encode() * 1000) for i in range(24)]


async def _held_echo(app: Any, release: asyncio.Event) -> tuple[int, bytes]:
    """An `/echo` whose request body arrives only once ``release`` is set (the request stays
    in its instance until then)."""
    sent: list[dict[str, Any]] = []
    early = [{"type": "http.request", "body": b"early ", "more_body": True}]
    late = [{"type": "http.request", "body": b"late", "more_body": False}]

    async def receive() -> dict[str, Any]:
        if early:
            return early.pop(0)
        await release.wait()
        if late:
            return late.pop(0)
        await asyncio.sleep(3600)  # (the app stops listening once it answered)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/echo", "raw_path": b"/echo",
             "query_string": b"", "headers": [(b"host", b"example")], "scheme": "http",
             "server": ("127.0.0.1", 80)}  # fmt: skip
    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def test_one_instance_serves_many_and_a_busy_one_gets_company(app_wasm: Path) -> None:
    """Sequential requests reuse one instance; 5 held open at once with ``per_instance=2``
    run in 3 instances."""
    app = asgi_app(app_wasm, wasi=WasiConfig(), per_instance=2)

    async def go() -> list[tuple[int, bytes]]:
        seq = [await _call(app, "GET", "/hello", b"") for _ in range(3)]
        assert app.pool.made == 1
        release = asyncio.Event()
        held = [asyncio.create_task(_held_echo(app, release)) for _ in range(5)]
        while sum(s.active for s in app.pool.slots) < 5:
            await asyncio.sleep(0.01)
        assert app.pool.made == 3
        assert max(s.active for s in app.pool.slots) == 2
        release.set()
        return [*seq, *await asyncio.gather(*held)]

    got = asyncio.run(asyncio.wait_for(go(), 120))
    assert got == [(200, b"hello world")] * 3 + [(200, b"early late")] * 5


def test_client_disconnects_mid_response(server: Server, client: Any) -> None:
    check_disconnect_mid_response(server, client)


def test_client_disconnects_mid_request_body(server: Server, client: Any) -> None:
    check_disconnect_mid_request_body(server, client)


def test_response_trailers_when_the_server_takes_them(app_wasm: Path) -> None:
    app = asgi_app(app_wasm, wasi=WasiConfig())
    sent: list[dict[str, Any]] = []
    status, _, body = asyncio.run(_call_with(app, "GET", "/trailers", [],
                                             extensions={"http.response.trailers": {}},
                                             sent=sent))  # fmt: skip
    assert (status, body) == (200, b"body")
    assert sent[0]["trailers"] is True
    assert sent[-1] == {"type": "http.response.trailers", "headers": [(b"x-trailer", b"done")],
                        "more_trailers": False}


def test_python_hook_serves_the_guests_outgoing_request(app_wasm: Path) -> None:
    seen: list[tuple[str, str, bytes]] = []

    def hook(request: Any) -> Any:
        seen.append((request.method, str(request.url), request.read()))
        return httpx.Response(207, headers={"x-upstream-mark": "py"}, content=b"from python")

    app = asgi_app(app_wasm, wasi=WasiConfig(), http=HttpConfig(outgoing=hook))
    status, headers, body = asyncio.run(_call_with(app, "GET", "/fetch", [
        (b"x-upstream", b"api.invalid:9"), (b"x-upstream-path", b"/p?q=1")]))
    assert (status, body) == (200, b"from python")
    assert (headers["x-upstream-status"], headers["x-upstream-mark"]) == ("207", "py")
    assert seen == [("POST", "http://api.invalid:9/p?q=1", b"ping from the guest")]


def test_back_pressure_holds_the_request_body(app_wasm: Path) -> None:
    """A server that never finishes sending the echoed body: the guest's copy stalls, so the
    app stops pulling the request body (a bounded amount is in flight), and nothing is lost:
    once sending resumes, the whole body comes back."""
    app = asgi_app(app_wasm, wasi=WasiConfig())
    chunk, total = 64 * 1024, 16 * 1024 * 1024
    pulled = [0]
    sent: list[bytes] = []

    async def go() -> None:
        resume = asyncio.Event()

        async def receive() -> dict[str, Any]:
            if pulled[0] >= total:
                await asyncio.sleep(3600)
                return {"type": "http.disconnect"}
            pulled[0] += chunk
            return {"type": "http.request", "body": b"z" * chunk,
                    "more_body": pulled[0] < total}

        async def send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.body":
                await resume.wait()
                sent.append(message.get("body", b""))

        scope = {"type": "http", "method": "POST", "path": "/echo", "raw_path": b"/echo",
                 "query_string": b"", "headers": [(b"host", b"x")], "scheme": "http",
                 "server": ("127.0.0.1", 80)}  # fmt: skip
        task = asyncio.create_task(app(scope, receive, send))
        last, still = -1, 0
        while still < 20:  # until nothing more is pulled for 20 looks (1 s)
            await asyncio.sleep(0.05)
            still = still + 1 if pulled[0] == last else 0
            last = pulled[0]
        held = pulled[0]
        resume.set()
        await asyncio.wait_for(task, 120)
        assert held <= 2 * 1024 * 1024, held  # of 16 MiB offered

    asyncio.run(go())
    assert b"".join(sent) == b"z" * total


@pytest.fixture(scope="module")
def middleware_wasm() -> Path:
    return componentize_py_command((GUEST / "middleware_p3.py").read_text(), HTTP_WIT,
                                   "middleware")


def test_middleware_forwards_through_the_imported_handler(middleware_wasm: Path,
                                                          upstream: str) -> None:
    """The middleware's imported ``wasi:http/handler`` is the host's client: the request
    (method, path, headers, streamed body) reaches the local server and its answer comes
    back through the guest."""
    Upstream.seen.clear()
    with Server(middleware_wasm, "--allow-host", upstream) as s, \
            httpx.Client(base_url=s.url, timeout=60) as c:
        r = c.post("/m?x=1", content=iter([b"a" * 70000, b"b" * 70000]),
                   headers={"x-upstream": upstream, "x-custom": "c"})
        denied = c.post("/m", content=b"no", headers={"x-upstream": "127.0.0.1:9"})
    assert r.status_code == 203, r.text
    assert (r.headers["x-middleware"], r.headers["x-upstream-mark"]) == ("seen", "42")
    assert r.content == b"upstream got " + b"a" * 70000 + b"b" * 70000
    method, path, headers, body = Upstream.seen[-1]
    assert (method, path, headers["x-via"], headers["x-custom"]) == ("POST", "/m?x=1",
                                                                     "middleware", "c")
    assert body == b"a" * 70000 + b"b" * 70000
    assert denied.status_code == 500  # `handle` returned `err(HTTP-request-denied)`
