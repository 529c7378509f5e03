"""Fixtures shared by the HTTP tests: a local upstream server for the guests' outgoing
requests, and ``wasm-component serve`` on the module's ``app_wasm`` with an httpx client."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from ._serve import Missing, Server


class Upstream(http.server.BaseHTTPRequestHandler):
    """Answers 203 with ``x-upstream-mark: 42`` and ``upstream got <body>``; ``/slow`` first
    sleeps 2 s. Every request is kept in :attr:`seen`."""

    protocol_version = "HTTP/1.1"
    seen: ClassVar[list[tuple[str, str, dict[str, str], bytes]]] = []

    def _body(self) -> bytes:
        if self.headers.get("transfer-encoding") != "chunked":
            return self.rfile.read(int(self.headers.get("content-length") or 0))
        body = b""
        while True:
            size = int(self.rfile.readline().strip(), 16)
            if size == 0:
                self.rfile.readline()
                return body
            body += self.rfile.read(size)
            self.rfile.readline()

    def _answer(self) -> None:
        body = self._body()
        self.seen.append((self.command, self.path, dict(self.headers), body))
        if self.path.startswith("/slow"):
            time.sleep(2)
        out = b"upstream got " + body
        self.send_response(203)
        self.send_header("x-upstream-mark", "42")
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_POST = do_GET = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def upstream() -> Iterator[str]:
    """``host:port`` of the local upstream server (on 127.0.0.1)."""
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


def built(build: Callable[[], Path]) -> Path:
    """``build()``'s component, or a skip naming the missing tool."""
    try:
        return build()
    except Missing as e:
        pytest.skip(str(e))


@pytest.fixture(scope="module")
def server(app_wasm: Path, upstream: str) -> Iterator[Server]:
    """``wasm-component serve`` on the module's ``app_wasm``, allowed to reach ``upstream``."""
    with Server(app_wasm, "--allow-host", upstream, "--log-level", "info") as s:
        yield s


@pytest.fixture(scope="module")
def client(server: Server) -> Iterator[Any]:
    import httpx

    with httpx.Client(base_url=server.url, timeout=60) as c:
        yield c
