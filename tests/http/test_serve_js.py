"""A componentize-js fetch-event app (``guest/app.js``, StarlingMonkey) served by
``wasm-component serve`` and hit by httpx over loopback: methods, headers, status codes,
streaming bodies both ways, ``fetch()`` to a local server, a throwing handler, and a client that
disconnects mid-body. StarlingMonkey drives everything through ``wasi:io/poll``, so this is
also the pollables' test under a real event loop."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from ._serve import Server, componentize_js_app
from .conftest import Upstream, built

httpx = pytest.importorskip("httpx", reason="httpx is part of the test extras")
pytest.importorskip("uvicorn", reason="uvicorn is part of the test extras")


@pytest.fixture(scope="module")
def app_wasm() -> Path:
    return built(componentize_js_app)


def test_hello(client: Any) -> None:
    r = client.get("/hello")
    assert (r.status_code, r.text, r.headers["content-type"]) == (200, "hello from js",
                                                                  "text/plain")


@pytest.mark.parametrize(("method", "status"), [
    ("GET", 200), ("POST", 201), ("PUT", 202), ("PATCH", 418), ("DELETE", 200)])
def test_methods_headers_status(client: Any, method: str, status: int) -> None:
    content = b"" if method == "GET" else b"js payload"
    r = client.request(method, "/echo", headers={"x-status": str(status), "x-foo": "bar"},
                       content=content)
    assert r.status_code == status
    assert r.headers["x-method"] == method
    assert r.headers["echo-x-foo"] == "bar"
    assert r.content == content


def test_streaming_bodies_both_ways(client: Any) -> None:
    chunks = [bytes([65 + i % 26]) * 8192 for i in range(32)]
    r = client.post("/echo", content=iter(chunks))
    assert r.content == b"".join(chunks)
    with client.stream("GET", "/stream?n=64") as r:
        sizes = [len(c) for c in r.iter_raw()]
    assert sum(sizes) == 64 * 16384 and len(sizes) > 1


def test_fetch_to_a_local_server(client: Any, upstream: str) -> None:
    Upstream.seen.clear()
    r = client.get("/fetch", headers={"x-upstream": upstream})
    assert r.status_code == 200, r.text
    assert r.headers["upstream-status"] == "203"
    assert r.text == "upstream got ping from js"
    assert [(m, p, b) for m, p, _, b in Upstream.seen] == [("POST", "/from-js", b"ping from js")]


def _wait_for_stderr(server: Server, text: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while text not in server.stderr_text():
        assert time.monotonic() < deadline, (text, server.stderr_text()[-3000:])
        time.sleep(0.05)


def test_throwing_handler_gives_500_and_the_server_stays_up(client: Any, server: Server) -> None:
    # StarlingMonkey answers a throwing handler with a 500 itself, then returns from `handle`
    # without finishing that response's body: the head has gone out, so the connection is cut
    # (as wasmtime serve does with an unfinished body) and the server says why
    with client.stream("GET", "/trap") as r:
        assert r.status_code == 500
        with pytest.raises(httpx.RemoteProtocolError):
            r.read()
    # (the server writes its log lines after the connection is cut: wait for them)
    _wait_for_stderr(server, "the js guest fails on purpose")
    _wait_for_stderr(server, "before finishing the response body")
    for _ in range(3):
        assert client.get("/hello").text == "hello from js"


def test_client_disconnects_mid_response(server: Server, client: Any) -> None:
    before = server.stderr_text().count("client disconnected mid-response")
    with httpx.Client(base_url=server.url, timeout=60) as c, \
            c.stream("GET", "/stream?n=20000") as r:
        it = r.iter_raw()
        next(it)
    deadline = time.monotonic() + 30
    while server.stderr_text().count("client disconnected mid-response") == before:
        assert time.monotonic() < deadline, server.stderr_text()[-3000:]
        time.sleep(0.1)
    assert client.get("/hello").text == "hello from js"
