"""A real WASI 0.3 ``wasi:http/service`` component (componentize-py 0.25, built here against
the checked-in ``wasi:http@0.3.0`` WIT): it reads the request's method, path and body and
answers ``"METHOD PATH BODY-UPPER-CASED"`` from a body it writes in a spawned guest task after
returning the response. ``wasmtime serve -Sp3`` (the oracle) serves it over loopback; our
``asgi_app`` serves it from a reused instance, called in process as an ASGI server would. While
some of the async work is not merged our side stops at a known gap and the comparison is an
xfail naming it (the build and the oracle still run)."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wasm_component.http import asgi_app
from wasm_component.wasi import WasiConfig

from ..wasi._build import componentize_py_command, wasmtime_cli, xfail_if_async_gap

httpx = pytest.importorskip("httpx", reason="httpx is part of the test extras")

HTTP_WIT = (Path(__file__).resolve().parents[2] / "src" / "wasm_component" / "http" / "wit"
            / "0.3.0" / "service")

SERVICE = '''
import componentize_py_async_support
import wit_world
from componentize_py_types import Ok
from wit_world import exports
from wit_world.imports.wasi_http_types import Fields, Request, Response


class Handler(exports.Handler):
    async def handle(self, request: Request) -> Response:
        method = type(request.get_method()).__name__.split("_")[-1].upper()
        path = request.get_path_with_query()
        res_w, res_r = wit_world.result_unit_wasi_http_types_error_code_future(lambda: Ok(None))
        body, _trailers = Request.consume_body(request, res_r)
        data = b""
        with body:
            while not body.writer_dropped:
                data += await body.read(65536)
        tw, tr = wit_world.result_option_wasi_http_types_fields_wasi_http_types_error_code_future(
            lambda: Ok(None))
        bw, br = wit_world.byte_stream()
        response, _done = Response.new(Fields.from_list([("content-type", b"text/plain")]), br, tr)

        async def write_body() -> None:
            with bw:
                await bw.write_all(f"{method} {path} ".encode() + data.upper())
            with tw:
                await tw.write(Ok(None))

        componentize_py_async_support.spawn(write_body())
        return response
'''

REQUESTS = [("POST", "/x?q=1", b"hello"), ("PUT", "/y", b"again"), ("POST", "/z", b"")]
EXPECTED = [b"POST /x?q=1 HELLO", b"PUT /y AGAIN", b"POST /z "]


@pytest.fixture(scope="module")
def service() -> Path:
    return componentize_py_command(SERVICE, HTTP_WIT, "service")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def wasmtime_serve(service: Path) -> Iterator[str]:
    port = _free_port()
    p = subprocess.Popen([wasmtime_cli(), "serve", "-Wcomponent-model-async=y", "-Sp3=y",
                          "-Scli=y", "--addr", f"127.0.0.1:{port}", str(service)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300  # its first compile of an 18 MB component
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert p.poll() is None, p.stderr.read().decode() if p.stderr else ""
                time.sleep(0.5)
        yield url
    finally:
        p.kill()
        p.wait()


def test_wasmtime_serves_it(wasmtime_serve: str) -> None:
    with httpx.Client(base_url=wasmtime_serve, timeout=60) as client:
        got = [client.request(m, path, content=body) for m, path, body in REQUESTS]
    assert [(r.status_code, r.content) for r in got] == [(200, e) for e in EXPECTED]


async def _call(app: Any, method: str, path: str, body: bytes) -> tuple[int, bytes]:
    raw, _, query = path.partition("?")
    incoming = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop(0)
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": raw, "raw_path": raw.encode(),
             "query_string": query.encode(), "headers": [(b"host", b"example")],
             "scheme": "http", "server": ("127.0.0.1", 80)}  # fmt: skip
    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def test_asgi_app_serves_it_from_one_reused_instance(service: Path) -> None:
    app = asgi_app(service, wasi=WasiConfig())
    assert app.p3

    async def go() -> list[tuple[int, bytes]]:
        return [await asyncio.wait_for(_call(app, m, p, b), 60) for m, p, b in REQUESTS]

    try:
        got = asyncio.run(go())
    except Exception as e:  # a gap of the unmerged async work, or a real failure
        xfail_if_async_gap(f"{type(e).__name__}: {e}")
        raise
    for status, body in got:  # a trap is a 500 saying why
        if status == 500:
            xfail_if_async_gap(body.decode(errors="replace"))
    assert got == [(200, e) for e in EXPECTED]
    assert app.pool.made == 1  # one instance served them all


def test_hosts_type_their_futures_with_their_own_resources(service: Path) -> None:
    """``consume-body``'s trailers future holds a resource: the host types it with its own
    ``fields`` (the bindings' host resource type), which is what the component's import of
    ``fields`` is bound to once linked, and what the runtime makes the component's abstract
    ``(sub resource)`` into when the future is lowered (so the two agree)."""
    from wasm_component import types as t
    from wasm_component.http._bindings_p3.imports import wasi_http_types as b3
    from wasm_component.http.p3 import IFACE, WIT, elem_types
    from wasm_component.wasi.p3._types import elem_types as wit_elem_types

    from ..wasi._build import ours_compiled

    _engine, component = ours_compiled(service)
    fn = "[static]request.consume-body"
    imported = dict(dict(component.component_type().imports)[IFACE].exports)[fn]
    assert isinstance(imported, t.FuncType) and isinstance(imported.result, t.TupleType)
    future = imported.result.types[1]
    assert isinstance(future, t.FutureType)
    ours = elem_types(IFACE, fn, WIT)[1]
    fields_ = t.ResultType(t.OptionType(t.OwnType(b3._RT_Fields)), None)
    assert isinstance(ours, t.ResultType) and ours.ok == fields_.ok
    assert ours.err == wit_elem_types(IFACE, fn, WIT)[1].err  # type: ignore[union-attr]
    assert ours != future.payload  # the component's own is abstract until instantiated
    assert wit_elem_types(IFACE, fn, WIT)[1] != ours  # the WIT's is a fresh resource type
