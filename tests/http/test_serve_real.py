"""A componentize-py ``wasi:http/proxy`` app (``guest/app.py``) served by ``wasm-component
serve`` (a subprocess on 127.0.0.1, port 0) and hit by httpx over loopback: methods, headers,
status codes, streaming bodies both ways, header rules, an outgoing request to a local server,
the allow-list and timeouts, a trapping guest, and clients that disconnect mid-body."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import pytest

from ._serve import (
    Server,
    check_disconnect_mid_request_body,
    check_disconnect_mid_response,
    componentize_py_app,
)
from .conftest import Upstream, built

httpx = pytest.importorskip("httpx", reason="httpx is part of the test extras")
pytest.importorskip("uvicorn", reason="uvicorn is part of the test extras")


@pytest.fixture(scope="module")
def app_wasm() -> Path:
    return built(componentize_py_app)


def test_hello(client: Any) -> None:
    r = client.get("/hello")
    assert r.status_code == 200
    assert r.text == "hello world"
    assert r.headers["content-type"] == "text/plain"


@pytest.mark.parametrize(("method", "status"), [
    ("GET", 200), ("POST", 201), ("PUT", 202), ("DELETE", 204), ("PATCH", 418),
    ("OPTIONS", 299), ("PURGE", 404), ("HEAD", 200)])
def test_methods_headers_status(client: Any, method: str, status: int) -> None:
    r = client.request(method, "/echo?a=1&b=%20", headers={"x-status": str(status),
                       "x-Custom": "v1", "x-bytes": "caf\xe9".encode("latin-1")},
                       content=b"" if method in ("GET", "HEAD", "DELETE") else b"payload")
    assert r.status_code == status
    assert r.headers["x-method"] == method
    assert r.headers["x-path"] == "/echo?a=1&b=%20"
    assert r.headers["echo-x-custom"] == "v1"
    assert r.headers.get_list("echo-x-bytes")[0].encode("latin-1") == "caf\xe9".encode("latin-1")
    if method not in ("GET", "HEAD", "DELETE"):
        assert r.content == b"payload"
    else:
        assert r.content == b""


def test_repeated_request_headers_keep_order(client: Any) -> None:
    r = client.get("/echo", headers=[("x-multi", "one"), ("x-multi", "two")])
    assert r.headers.get_list("echo-x-multi") == ["one", "two"]


def test_streaming_request_body_is_echoed(client: Any) -> None:
    chunks = [bytes([i]) * 8192 for i in range(64)]  # 512 KiB, more than any buffer on the way
    r = client.post("/echo", content=iter(chunks))
    assert r.status_code == 200
    assert r.content == b"".join(chunks)


def test_streaming_response_arrives_in_pieces(client: Any) -> None:
    with client.stream("GET", "/stream?n=128") as r:  # 2 MiB
        assert r.status_code == 200
        sizes = [len(c) for c in r.iter_raw()]
    assert sum(sizes) == 128 * 16384
    assert len(sizes) > 1


def test_header_rules_seen_by_the_guest(client: Any) -> None:
    r = client.get("/fields")
    assert r.status_code == 200
    assert r.text == repr([("immutable", "Immutable"), ("forbidden", "Forbidden"),
                           ("syntax", "InvalidSyntax"), ("badvalue", "InvalidSyntax"),
                           ("multi", "1,2"), ("clone-mutable", "ok")])


def test_outgoing_request_to_a_local_server(client: Any, upstream: str) -> None:
    Upstream.seen.clear()
    r = client.get("/fetch", headers={"x-upstream": upstream, "x-upstream-path": "/up?x=1"})
    assert r.status_code == 200, r.text
    assert r.headers["upstream-status"] == "203"
    assert r.headers["upstream-x-upstream-mark"] == "42"
    assert r.content == b"upstream got ping from the guest"
    [(method, path, headers, body)] = Upstream.seen
    assert (method, path, body) == ("POST", "/up?x=1", b"ping from the guest")
    assert headers["x-from-guest"] == "yes"
    assert headers["Host"] == upstream


def test_outgoing_request_outside_the_allow_list_is_denied(client: Any, upstream: str) -> None:
    port = upstream.split(":")[1]
    other = socket.socket()
    other.bind(("127.0.0.1", 0))  # a port nobody allowed
    try:
        r = client.get("/fetch", headers={"x-upstream": f"127.0.0.1:{other.getsockname()[1]}"})
    finally:
        other.close()
    assert r.status_code == 502
    assert r.text == "handle: ErrorCode_HttpRequestDenied"
    r = client.get("/fetch", headers={"x-upstream": f"localhost:{port}"})
    assert r.text == "handle: ErrorCode_HttpRequestDenied"


def test_outgoing_first_byte_timeout(client: Any, upstream: str) -> None:
    t0 = time.monotonic()
    r = client.get("/fetch", headers={"x-upstream": upstream, "x-upstream-path": "/slow",
                                      "x-timeout-ms": "300"})
    assert r.status_code == 502
    assert r.text == "upstream: ErrorCode_ConnectionReadTimeout"
    assert time.monotonic() - t0 < 1.9  # it did not wait for the slow answer


def test_trapping_guest_gives_500_and_the_server_stays_up(client: Any, server: Server) -> None:
    r = client.get("/trap")
    assert r.status_code == 500
    assert "the component failed" in r.text
    assert "the guest fails on purpose" in server.stderr_text()  # the guest's own traceback
    for _ in range(3):
        assert client.get("/hello").text == "hello world"


def test_client_disconnects_mid_response(server: Server, client: Any) -> None:
    check_disconnect_mid_response(server, client)


def test_client_disconnects_mid_request_body(server: Server, client: Any) -> None:
    check_disconnect_mid_request_body(server, client)


def test_unknown_route_is_the_guests_404(client: Any) -> None:
    r = client.get("/nowhere")
    assert r.status_code == 404
    assert r.text == "no route /nowhere"
