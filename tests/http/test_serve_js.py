"""A componentize-js fetch-event app (``guest/app.js``, StarlingMonkey) served by
``wasm-component serve`` and hit by httpx over loopback: methods, headers, status codes,
streaming bodies both ways, ``fetch()`` to a local server, a throwing handler, and a client that
disconnects mid-body. StarlingMonkey drives everything through ``wasi:io/poll``, so this is
also the pollables' test under a real event loop."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from ._serve import Missing, Server, componentize_js_app

httpx = pytest.importorskip("httpx", reason="httpx is part of the test extras")
pytest.importorskip("uvicorn", reason="uvicorn is part of the test extras")


class _Upstream(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: ClassVar[list[tuple[str, str, bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0)) \
            if "content-length" in self.headers else self._chunked()
        self.seen.append((self.command, self.path, body))
        out = b"js upstream got " + body
        self.send_response(201)
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def _chunked(self) -> bytes:
        body = b""
        while True:
            size = int(self.rfile.readline().strip(), 16)
            if size == 0:
                self.rfile.readline()
                return body
            body += self.rfile.read(size)
            self.rfile.readline()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


@pytest.fixture(scope="module")
def app_wasm() -> Path:
    try:
        return componentize_js_app()
    except Missing as e:
        pytest.skip(str(e))


@pytest.fixture(scope="module")
def server(app_wasm: Path, upstream: str) -> Iterator[Server]:
    with Server(app_wasm, "--allow-host", upstream, "--log-level", "info") as s:
        yield s


@pytest.fixture(scope="module")
def client(server: Server) -> Iterator[Any]:
    with httpx.Client(base_url=server.url, timeout=60) as c:
        yield c


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
    _Upstream.seen.clear()
    r = client.get("/fetch", headers={"x-upstream": upstream})
    assert r.status_code == 200, r.text
    assert r.headers["upstream-status"] == "201"
    assert r.text == "js upstream got ping from js"
    assert _Upstream.seen == [("POST", "/from-js", b"ping from js")]


def test_throwing_handler_gives_500_and_the_server_stays_up(client: Any, server: Server) -> None:
    # StarlingMonkey answers a throwing handler with a 500 itself, then returns from `handle`
    # without finishing that response's body: the head has gone out, so the connection is cut
    # (as wasmtime serve does with an unfinished body) and the server says why
    with client.stream("GET", "/trap") as r:
        assert r.status_code == 500
        with pytest.raises(httpx.RemoteProtocolError):
            r.read()
    assert "the js guest fails on purpose" in server.stderr_text()
    assert "before finishing the response body" in server.stderr_text()
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
