"""A `wasi:http/middleware@0.3.0` guest for tests/http (built with componentize-py, async):
it forwards each request to the `wasi:http/handler` it imports (the host's outgoing client)
at the authority in `x-upstream`, marking it `x-via: middleware`, and marks the response
`x-middleware: seen` on its way back."""

from wit_world import exports
from wit_world.imports import handler
from wit_world.imports import wasi_http_types as types
from wit_world.imports.wasi_http_types import Fields, Request, Response

#: what a proxy does not forward (and guests may not set)
HOP_BY_HOP = {"host", "connection", "keep-alive", "transfer-encoding", "upgrade",
              "content-length"}


class Handler(exports.Handler):
    async def handle(self, request: Request) -> Response:
        entries = request.get_headers().copy_all()
        upstream = dict(entries)["x-upstream"].decode()
        method = request.get_method()
        path = request.get_path_with_query()
        _res_w, res = _unit_future()
        body, trailers = Request.consume_body(request, res)
        headers = Fields.from_list([(k, v) for k, v in entries if k not in HOP_BY_HOP]
                                   + [("x-via", b"middleware")])
        out, _sent = Request.new(headers, body, trailers, None)
        out.set_method(method)
        out.set_path_with_query(path)
        out.set_scheme(types.Scheme_Http())
        out.set_authority(upstream)
        resp = await handler.handle(out)
        status = resp.get_status_code()
        got = resp.get_headers().copy_all()
        _w2, res2 = _unit_future()
        rbody, rtrailers = Response.consume_body(resp, res2)
        back, _done = Response.new(Fields.from_list([*got, ("x-middleware", b"seen")]), rbody,
                                   rtrailers)
        back.set_status_code(status)
        return back


def _unit_future():
    import wit_world
    from componentize_py_types import Ok

    return wit_world.result_unit_wasi_http_types_error_code_future(lambda: Ok(None))
