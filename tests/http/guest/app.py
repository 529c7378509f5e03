"""A `wasi:http/proxy` guest for tests/http (built with componentize-py).

Routes: /hello, /echo (method, path, x-* headers and the body streamed back; status from
`x-status`), /stream?n=N (N chunks of 16 KiB), /fetch (an outgoing request to the authority in
`x-upstream`, path in `x-upstream-path`), /trap (raises: the instance traps), /fields (header
rules seen from the guest), /trailers (a response with trailers)."""

from componentize_py_types import Err, Ok
from wit_world import exports
from wit_world.imports import outgoing_handler, types
from wit_world.imports.streams import StreamError_Closed
from wit_world.imports.types import (
    Fields,
    IncomingBody,
    OutgoingBody,
    OutgoingRequest,
    OutgoingResponse,
    RequestOptions,
    ResponseOutparam,
)


def method_name(m):
    if isinstance(m, types.Method_Other):
        return m.value
    return type(m).__name__.split("_", 1)[1].upper()


def write_all(stream, data):
    view = memoryview(data)
    while view:
        stream.blocking_write_and_flush(bytes(view[:4096]))
        view = view[4096:]


def start(out, status, headers):
    resp = OutgoingResponse(Fields.from_list(headers))
    resp.set_status_code(status)
    body = resp.body()
    ResponseOutparam.set(out, Ok(resp))
    return body


def respond(out, status, headers, chunks, trailers=None):
    body = start(out, status, headers)
    with body.write() as stream:
        for c in chunks:
            write_all(stream, c)
    OutgoingBody.finish(body, trailers)


def read_all(body):
    data = b""
    with body.stream() as inp:
        while True:
            try:
                data += inp.blocking_read(65536)
            except Err as e:
                if isinstance(e.value, StreamError_Closed):
                    break
                raise
    return data


def error_name(f):
    try:
        f()
    except Err as e:
        return type(e.value).__name__.split("_", 1)[1]
    return "ok"


class IncomingHandler(exports.IncomingHandler):
    def handle(self, request, response_out):
        path = request.path_with_query() or "/"
        route, _, query = path.partition("?")
        if route == "/hello":
            respond(response_out, 200, [("content-type", b"text/plain")], [b"hello world"])
        elif route == "/echo":
            self.echo(request, response_out, path)
        elif route == "/stream":
            n = int(query.partition("=")[2] or "4")
            chunk = b"x" * 16384
            respond(response_out, 200, [("content-type", b"application/octet-stream")],
                    (chunk for _ in range(n)))
        elif route == "/fetch":
            self.fetch(request, response_out)
        elif route == "/trap":
            raise RuntimeError("the guest fails on purpose")
        elif route == "/fields":
            self.fields(request, response_out)
        elif route == "/trailers":
            respond(response_out, 200, [], [b"body"], Fields.from_list([("x-trailer", b"done")]))
        else:
            respond(response_out, 404, [], [b"no route " + route.encode()])

    def echo(self, request, response_out, path):
        headers = request.headers()
        status = 200
        out_headers = [("x-method", method_name(request.method()).encode()),
                       ("x-path", path.encode())]
        for name, value in headers.entries():
            if name == "x-status":
                status = int(value)
            elif name.startswith("x-"):
                out_headers.append(("echo-" + name, value))
        body = request.consume()
        out = start(response_out, status, out_headers)
        with out.write() as sink, body.stream() as inp:
            while True:
                try:
                    data = inp.blocking_read(65536)
                except Err as e:
                    if isinstance(e.value, StreamError_Closed):
                        break
                    raise
                write_all(sink, data)
        trailers = IncomingBody.finish(body)
        with trailers.subscribe() as p:
            p.block()
        trailers.get()
        OutgoingBody.finish(out, None)

    def fields(self, request, response_out):
        headers = request.headers()
        f = Fields.from_list([("a", b"1")])
        f.append("a", b"2")
        report = [
            ("immutable", error_name(lambda: headers.set("x-new", [b"v"]))),
            ("forbidden", error_name(lambda: Fields.from_list([("connection", b"close")]))),
            ("syntax", error_name(lambda: Fields.from_list([("bad name", b"v")]))),
            ("badvalue", error_name(lambda: Fields.from_list([("x", b"a\nb")]))),
            ("multi", b",".join(f.get("a")).decode()),
            ("clone-mutable", error_name(lambda: headers.clone().set("x-new", [b"v"]))),
        ]
        respond(response_out, 200, [], [repr(report).encode()])

    def fetch(self, request, response_out):
        headers = dict(request.headers().entries())
        req = OutgoingRequest(Fields.from_list([("x-from-guest", b"yes")]))
        req.set_method(types.Method_Post())
        req.set_scheme(types.Scheme_Http())
        req.set_authority(headers["x-upstream"].decode())
        req.set_path_with_query(headers.get("x-upstream-path", b"/").decode())
        body = req.body()
        opts = RequestOptions()
        if "x-timeout-ms" in headers:
            opts.set_first_byte_timeout(int(headers["x-timeout-ms"]) * 1_000_000)
        try:
            fut = outgoing_handler.handle(req, opts)
        except Err as e:
            respond(response_out, 502, [], [("handle: " + type(e.value).__name__).encode()])
            return
        with body.write() as s:
            write_all(s, b"ping from the guest")
        OutgoingBody.finish(body, None)
        with fut.subscribe() as p:
            p.block()
        result = fut.get().value
        if isinstance(result, Err):
            respond(response_out, 502, [], [("upstream: " + type(result.value).__name__).encode()])
            return
        resp = result.value
        status = resp.status()
        upstream = resp.headers().entries()
        data = read_all(resp.consume())
        respond(response_out, 200, [("upstream-status", str(status).encode())] +
                [("upstream-" + k, v) for k, v in upstream if k.startswith("x-")], [data])


HANDLER = IncomingHandler
