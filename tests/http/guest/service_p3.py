"""A `wasi:http/service@0.3.0` guest for tests/http (built with componentize-py, async).

Routes: / and /hello, /echo (method, path, x-* headers and the body streamed back; status from
`x-status`), /stream?n=N (N chunks of 16 KiB), /fetch (an outgoing request through
`wasi:http/client` to the authority in `x-upstream`), /trap (raises: the instance traps),
/trailers (a response with trailers), /slow?ms=N (waits on the monotonic clock)."""

import componentize_py_async_support
import wit_world
from componentize_py_types import Err, Ok
from wit_world import exports
from wit_world.imports import client, monotonic_clock
from wit_world.imports import wasi_http_types as types
from wit_world.imports.wasi_http_types import Fields, Request, Response


def method_name(m):
    if isinstance(m, types.Method_Other):
        return m.value
    return type(m).__name__.split("_", 1)[1].upper()


def no_trailers():
    return Ok(None)


def respond_with(status, headers, producer, trailers=None):
    """A response whose body `producer(writer)` writes (spawned: the body streams after
    `handle` returned)."""
    writer, reader = wit_world.byte_stream()
    tw, tr = wit_world.result_option_wasi_http_types_fields_wasi_http_types_error_code_future(
        no_trailers)

    async def feed():
        with writer:
            await producer(writer)
        with tw:
            await tw.write(Ok(trailers() if trailers else None))

    componentize_py_async_support.spawn(feed())
    resp, _sent = Response.new(Fields.from_list(headers), reader, tr)
    resp.set_status_code(status)
    return resp


def body_of(chunks):
    async def produce(writer):
        for c in chunks:
            await writer.write_all(c)
    return produce


async def drain(reader):
    data = b""
    with reader:
        while not reader.writer_dropped:
            data += await reader.read(65536)
    return data


def unit_future():
    return wit_world.result_unit_wasi_http_types_error_code_future(lambda: Ok(None))


class Handler(exports.Handler):
    async def handle(self, request: Request) -> Response:
        path = request.get_path_with_query() or "/"
        route, _, query = path.partition("?")
        if route in ("/", "/hello"):
            return respond_with(200, [("content-type", b"text/plain")], body_of([b"hello world"]))
        if route == "/echo":
            return self.echo(request, path)
        if route == "/stream":
            n = int(query.partition("=")[2] or "4")
            chunk = b"x" * 16384
            return respond_with(200, [("content-type", b"application/octet-stream")],
                                body_of(chunk for _ in range(n)))
        if route == "/slow":
            await monotonic_clock.wait_for(int(query.partition("=")[2] or "10") * 1_000_000)
            return respond_with(200, [], body_of([b"slept"]))
        if route == "/fetch":
            return await self.fetch(request)
        if route == "/trap":
            raise RuntimeError("the guest fails on purpose")
        if route == "/trailers":
            return respond_with(200, [], body_of([b"body"]),
                                lambda: Fields.from_list([("x-trailer", b"done")]))
        return respond_with(404, [], body_of([b"no route " + route.encode()]))

    def echo(self, request, path):
        status = 200
        out_headers = [("x-method", method_name(request.get_method()).encode()),
                       ("x-path", path.encode())]
        for name, value in request.get_headers().copy_all():
            if name == "x-status":
                status = int(value)
            elif name.startswith("x-"):
                out_headers.append(("echo-" + name, value))
        _w, res = unit_future()
        body, trailers = Request.consume_body(request, res)

        async def copy(writer):
            with body:
                while not body.writer_dropped:
                    data = await body.read(65536)
                    if data:
                        await writer.write_all(data)
            with trailers:
                await trailers.read()

        return respond_with(status, out_headers, copy)

    async def fetch(self, request):
        headers = dict(request.get_headers().copy_all())
        writer, reader = wit_world.byte_stream()
        tw, tr = wit_world.result_option_wasi_http_types_fields_wasi_http_types_error_code_future(
            no_trailers)
        req, _sent = Request.new(Fields.from_list([("x-from-guest", b"yes")]), reader, tr, None)
        req.set_method(types.Method_Post())
        req.set_scheme(types.Scheme_Http())
        req.set_authority(headers["x-upstream"].decode())
        req.set_path_with_query(headers.get("x-upstream-path", b"/").decode())

        async def send_body():
            with writer:
                await writer.write_all(b"ping from the guest")
            with tw:
                await tw.write(Ok(None))

        componentize_py_async_support.spawn(send_body())
        try:
            resp = await client.send(req)
        except Err as e:
            return respond_with(502, [], body_of([type(e.value).__name__.encode()]))
        status = resp.get_status_code()
        got = dict(resp.get_headers().copy_all())
        _w, res = unit_future()
        rbody, rtrailers = Response.consume_body(resp, res)
        data = await drain(rbody)
        with rtrailers:
            await rtrailers.read()
        return respond_with(200, [("x-upstream-status", str(status).encode()),
                                  ("x-upstream-mark", got.get("x-upstream-mark", b""))],
                            body_of([data]))
