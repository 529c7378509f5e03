"""``wasm-component serve FILE``: a ``wasi:http/proxy`` component behind uvicorn.

The first line on stderr is the URL it listens on (``--addr 127.0.0.1:0`` picks a free port,
so a test or script can start it and read where to connect).

Example::

    $ wasm-component serve proxy.wasm --addr 127.0.0.1:0
    http://127.0.0.1:43117
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import socket
import sys
from collections.abc import Sequence

__all__ = ["main"]


def _parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="wasm-component serve",
        description="Serve a wasi:http/proxy component over HTTP (uvicorn).")
    p.add_argument("--addr", default="127.0.0.1:8080", metavar="HOST:PORT",
                   help="where to listen (port 0: a free port); default 127.0.0.1:8080")
    p.add_argument("--dir", action="append", default=[], metavar="HOST[::GUEST]",
                   help="preopen host directory HOST, seen by the guest as GUEST")
    p.add_argument("--env", action="append", default=[], metavar="NAME[=VAL]",
                   help="set NAME for the guest (without =VAL: this process's value)")
    p.add_argument("-S", "--wasi", action="append", default=[], metavar="OPT[=y|n]",
                   help="a WASI option, as for `wasm-component run` (e.g. inherit-network)")
    p.add_argument("--allow-host", action="append", default=[], metavar="HOST[:PORT]",
                   help="a host outgoing requests may reach (none by default; `*`: any)")
    p.add_argument("--workers", type=int, default=64,
                   help="requests whose guest runs at once (threads); default 64")
    p.add_argument("--keep-alive", type=float, default=5.0, metavar="SECONDS",
                   help="close idle keep-alive connections after this long; default 5")
    p.add_argument("--log-level", default="warning", help="uvicorn's log level")
    p.add_argument("file", help="the component (.wasm or .wat)")
    return p.parse_args(list(argv))


def main(argv: Sequence[str]) -> int:
    ns = _parse_args(argv)
    try:
        import uvicorn
    except ImportError:
        print("error: `wasm-component serve` needs uvicorn (pip install "
              "'wasm-component[http]')", file=sys.stderr)
        return 1
    from ..run import _config
    from ..wasi import WasiConfig
    from . import HttpConfig, asgi_app

    host, sep, port = ns.addr.rpartition(":")
    if not sep or not port.isdigit():
        print(f"error: `--addr`: expected HOST:PORT, got `{ns.addr}`", file=sys.stderr)
        return 2
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, int(port)))
    sock.listen(1024)
    bound = sock.getsockname()
    shown = f"[{bound[0]}]" if family == socket.AF_INET6 else bound[0]
    # the URL first (before a slow first compile prints anything); connections wait in the
    # listen backlog until the server runs
    print(f"http://{shown}:{bound[1]}", file=sys.stderr, flush=True)
    wasi_ns = argparse.Namespace(file=ns.file, args=[], env=ns.env, dir=ns.dir, wasi=ns.wasi)

    def wasi() -> WasiConfig:
        config: WasiConfig = _config(wasi_ns)
        return config.stdin_bytes(b"")  # the proxy world's stdin is always at its end

    wasi()  # a bad --dir or --env fails now, not at the first request
    app = asgi_app(ns.file, wasi=wasi, http=HttpConfig(allowed_hosts=ns.allow_host),
                   max_workers=ns.workers, collect_retired=True)
    # what start-up made (the compiled component, its types and adapters, the modules) lives
    # as long as the server: frozen out of the cyclic GC's walks, a collection (one per
    # retired instance, see `collect_retired`) only walks what the live instances hold
    gc.collect()
    gc.freeze()
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s:     %(message)s"))
    log = logging.getLogger("wasm_component.http")
    log.addHandler(handler)
    log.setLevel(ns.log_level.upper())
    server = uvicorn.Server(uvicorn.Config(app, log_level=ns.log_level, lifespan="on",
                                           access_log=False, timeout_keep_alive=ns.keep_alive))
    asyncio.run(server.serve(sockets=[sock]))
    return 0
