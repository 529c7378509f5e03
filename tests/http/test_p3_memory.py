"""Serving a WASI 0.3 ``wasi:http/service`` keeps no memory per request (issue 15's bounded load
test showed RSS rising): the ASGI app in process, the componentize-py test service
(``guest/service_p3.py``), instances retired and made anew every few requests (a small
``max_reuse``) as under load. After a warm-up, a few hundred more requests leave the Python heap
(tracemalloc, after a collection) and the live stores where they were, and nothing fails in a
loop callback (a retired instance's store ran guest code after it was dropped). A retired
instance's wasmtime store (its linear memories) goes at once, not at some later cyclic GC; so
does each WASI 0.2 request's."""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from wasm_component import Store
from wasm_component.http import asgi_app
from wasm_component.wasi import WasiConfig

from ..wasi._build import componentize_py_command
from ._serve import GUEST, wat_hello
from .test_p3_serve import HTTP_WIT

PER_INSTANCE, MAX_REUSE = 4, 16


@pytest.fixture(scope="module")
def app_wasm() -> Path:
    return componentize_py_command((GUEST / "service_p3.py").read_text(), HTTP_WIT, "service")


async def _get(app: Any, path: str = "/hello") -> tuple[int, bytes]:
    scope = {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(),
             "query_string": b"", "headers": [(b"host", b"127.0.0.1")], "scheme": "http",
             "server": ("127.0.0.1", 80)}
    sent: list[dict[str, Any]] = []
    done = asyncio.Event()
    first = True

    async def receive() -> dict[str, Any]:
        nonlocal first
        if first:
            first = False
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    done.set()
    bodies = [m for m in sent if m["type"] == "http.response.body"]
    assert bodies and bodies[-1]["more_body"] is False  # the last one ends the body
    assert all(m["more_body"] for m in bodies[:-1])
    return sent[0]["status"], b"".join(m["body"] for m in bodies)


async def _serve(app: Any, n: int, concurrency: int = 8) -> None:
    sem = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with sem:
            assert await _get(app) == (200, b"hello world")

    await asyncio.gather(*(one() for _ in range(n)))


def _stores() -> int:
    return sum(isinstance(o, Store) for o in gc.get_objects())


def test_requests_leave_no_memory_behind(app_wasm: Path) -> None:
    app = asgi_app(app_wasm, wasi=WasiConfig(), per_instance=PER_INSTANCE, max_reuse=MAX_REUSE)
    errors: list[dict[str, Any]] = []
    n = 320

    async def main() -> tuple[int, int, int, int]:
        asyncio.get_running_loop().set_exception_handler(lambda _, c: errors.append(c))
        await _serve(app, 4 * MAX_REUSE)  # warm-up: every code path built, instances retired
        for _ in range(5):
            await asyncio.sleep(0)
        gc.collect()
        tracemalloc.start()
        made, stores = app.pool.made, _stores()
        before = tracemalloc.get_traced_memory()[0]
        await _serve(app, n)
        for _ in range(5):
            await asyncio.sleep(0)
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        return app.pool.made - made, after - before, stores, _stores()

    made, grown, stores_before, stores_after = asyncio.run(main())
    assert errors == []
    assert made >= n // MAX_REUSE  # instances were retired and made anew all along
    # the stores alive are the pool's: none it retired
    assert stores_before <= len(app.pool.slots) + 1 and stores_after <= len(app.pool.slots)
    # a leak of even 1 KiB a request would be 320 KiB; what is left is noise of the runtime
    # (caches filled once, the loop's free lists)
    assert grown < 200 * 1024, f"{grown} bytes more after {n} requests"


def _core_stores() -> int:
    from wasm_component._runtime.core import CoreStore

    return sum(isinstance(o, CoreStore) for o in gc.get_objects())


def test_retired_instances_free_their_memories_at_once(app_wasm: Path) -> None:
    # before: what a retired instance's guest left (its tasks still waiting, their waitables)
    # is in reference cycles with its store's core: the wasmtime store and its linear
    # memories (~10 MiB each for this guest) lived on until the cyclic GC ran, many
    # retirements later (the bounded load test's RSS rose and fell by whole instances)
    app = asgi_app(app_wasm, wasi=WasiConfig(), per_instance=PER_INSTANCE,
                   max_reuse=MAX_REUSE, collect_retired=True)

    async def main() -> tuple[int, int]:
        await _serve(app, MAX_REUSE)
        made = app.pool.made
        gc.collect()
        gc.disable()  # (the automatic collector: it does not run here)
        try:
            await _serve(app, 4 * MAX_REUSE)
            for _ in range(5):
                await asyncio.sleep(0)
            return app.pool.made - made, _core_stores()
        finally:
            gc.enable()

    made, cores = asyncio.run(main())
    assert made >= 3  # instances retired and made anew
    assert cores <= len(app.pool.slots), f"{cores} wasmtime stores for {len(app.pool.slots)} " \
                                         f"live instances"


def test_a_wasi_0_2_request_frees_its_store_at_once() -> None:
    # before: the generated export bindings of the request's instance and their context
    # referred to each other, holding the request's store (its instance and linear memory)
    # until the cyclic GC: a 0.2 server's RSS grew by a store per request until it ran
    from .conftest import built

    app = asgi_app(built(wat_hello), wasi=WasiConfig())

    async def main() -> int:
        assert await _get(app, "/") == (200, b"hello world")
        gc.collect()
        gc.disable()  # (the automatic collector: it does not run here)
        try:
            for _ in range(8):
                assert await _get(app, "/") == (200, b"hello world")
            return _core_stores()
        finally:
            gc.enable()

    assert asyncio.run(main()) == 0
