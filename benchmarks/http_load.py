"""A bounded HTTP load test of ``wasm-component serve`` over loopback.

Starts ``wasm-component serve`` (a subprocess on 127.0.0.1, port 0) on a hello-world
``wasi:http/proxy`` component (``examples/http_hello.wat`` by default, or the componentize-py
test app with ``--component py``), warms it up, then sends ``--requests`` requests from
``--concurrency`` concurrent httpx clients and reports requests/s, p50/p99 latency, failures
and the server's RSS after warm-up and at the end. It stops by itself: after the requests, or
at ``--max-seconds``.

It also says whether wasmtime-py can serve the same component (``--peer``).

    PYTHONPATH=src python benchmarks/http_load.py                 # 10,000 at concurrency 64
    PYTHONPATH=src python benchmarks/http_load.py --requests 2000 --concurrency 16
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

from tests.http._serve import Server, componentize_py_app, wat_hello  # noqa: E402


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
            f"(names with 'http'/'incoming' in wasmtime.component: {made}); the `wasmtime` "
            f"CLI (`wasmtime serve`) is not installed here")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=10_000)
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--warmup", type=int, default=500)
    p.add_argument("--keep-alive", type=float, default=120.0)
    p.add_argument("--workers", type=int, default=None,
                   help="the server's guest threads (default: serve's own default)")
    p.add_argument("--max-seconds", type=float, default=900.0)
    p.add_argument("--component", default="wat", help="wat, py, or a path to a .wasm")
    p.add_argument("--no-peer", action="store_true")
    ns = p.parse_args(argv)
    if ns.component == "wat":
        wasm, path = wat_hello(), "/"
    elif ns.component == "py":
        wasm, path = componentize_py_app(), "/hello"
    else:
        wasm, path = Path(ns.component), "/"
    stop = time.monotonic() + ns.max_seconds
    out: dict[str, Any] = {"component": str(wasm), "concurrency": ns.concurrency}
    # idle keep-alive connections live longer than the slowest client turn-around on a loaded
    # machine (uvicorn's 5 s default races with clients reusing a connection it is closing)
    extra = ["--keep-alive", str(ns.keep_alive)]
    if ns.workers is not None:
        extra += ["--workers", str(ns.workers)]
    out["workers"] = ns.workers or "default"
    with Server(wasm, *extra) as server:
        reasons: list[str] = []
        _, wfailed, _ = asyncio.run(_load(server.url, ns.warmup, ns.concurrency, stop, path,
                                          reasons))
        rss_warm = server.rss_kib()
        rss: list[int] = []
        lat, failed, elapsed = asyncio.run(_load(server.url, ns.requests, ns.concurrency, stop,
                                                 path, reasons,
                                                 lambda: rss.append(server.rss_kib())))
        rss_end = server.rss_kib()
        server_errors = [line.rstrip() for line in server.lines
                         if line.startswith(("ERROR", "WARNING"))]
    out.update({
        "requests": len(lat), "failed": failed, "warmup_failed": wfailed,
        "seconds": round(elapsed, 2), "requests_per_s": round(len(lat) / elapsed, 1),
        "p50_ms": round(_pct(lat, 0.50), 2), "p99_ms": round(_pct(lat, 0.99), 2),
        "mean_ms": round(statistics.fmean(lat) * 1000, 2),
        "rss_after_warmup_mib": round(rss_warm / 1024, 1),
        "rss_end_mib": round(rss_end / 1024, 1),
        "rss_by_quarter_mib": [round(rss[min(len(rss) - 1, len(rss) * q // 4)] / 1024, 1)
                               for q in range(1, 5)] if rss else [],
        "stopped_by_deadline": len(lat) < ns.requests,
    })
    for k, v in out.items():
        print(f"{k:>22}: {v}")
    for r in reasons[:5]:
        print(f"{'failure':>22}: {r}")
    for line in server_errors[:5]:
        print(f"{'server said':>22}: {line}")
    if not ns.no_peer:
        try:
            print(f"{'wasmtime-py':>22}: {peer_wasmtime(wasm)}")
        except Exception as e:
            print(f"{'wasmtime-py':>22}: failed: {type(e).__name__}: {e}")
    return 0 if failed == 0 and not out["stopped_by_deadline"] else 1


if __name__ == "__main__":
    sys.exit(main())
