"""p3 (component-model async) guests from the JS toolchain: componentize-js built with `async`
imports and exports, streams and futures, and a ``wasi:http/service@0.3.0`` handler.

Each case builds its component with the pinned componentize-js (npm-installed once into the
test cache, ``~/.cache/wasm-component-tests/componentize-js-<version>``; a build, or its
failure, is cached per content, so a session pays for each at most once). A build that fails
is a skip whose reason is the toolchain's own error and version: componentize-js 0.23.0 (the
newest release on npm, September 2026) cannot build any of them. Its splicer panics on
every `async` WIT function (`not yet implemented` at ``bindgen.rs:721`` for an async import,
``bindgen.rs:1000`` for an async export) and on any ``stream``/``future`` type
(`internal error: entered unreachable code` at ``bindgen.rs:867``), and its README says
"imported functions can only be synchronous pending component-model-level async support".
Once a release builds them, the same tests instantiate the component through our API and
check what it answers (wasmtime-py cannot run async components: the expected values are the
JS source's, asserted directly)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from wasm_component import Component, Engine, Linker, Store
from wasm_component.wasi import WasiConfig

from .cache import CACHE, cached_dir, content_key, tool_version

VERSION = "0.23.0"
PACKAGE = f"@bytecodealliance/componentize-js@{VERSION}"
HTTP_WIT = Path(__file__).resolve().parents[1] / "src" / "wasm_component" / "http" / "wit" / \
    "0.3.0" / "service"

BUILD = """
import { componentize } from '@bytecodealliance/componentize-js';
import { readFile, writeFile } from 'node:fs/promises';
const source = await readFile('app.js', 'utf8');
const { component } = await componentize(source, {
  witPath: 'wit', worldName: process.argv[2], disableFeatures: ['http', 'fetch-event'] });
await writeFile('app.wasm', component);
"""

ASYNC_WIT = """package test:jsp3;
interface host { slow: async func(x: u32) -> u32; }
world app {
  import host;
  export run: async func(x: u32) -> u32;
}
"""
ASYNC_JS = """import { slow } from 'test:jsp3/host';
export async function run(x) { return (await slow(x)) + 1; }
"""

STREAM_WIT = """package test:jsp3;
world app {
  export total: async func(s: stream<u8>) -> u64;
  export produce: async func(n: u32) -> stream<u8>;
  export later: async func(x: u32) -> future<u32>;
}
"""
STREAM_JS = """export async function total(s) { let n = 0n; for await (const c of s) n += BigInt(c.length); return n; }
export async function produce(n) { throw new Error('the JS stream API is the toolchain\\'s'); }
export async function later(x) { throw new Error('the JS future API is the toolchain\\'s'); }
"""

HTTP_JS = """export const handler = {
  async handle(request) { throw new Error('not reached: the build fails first'); }
};
"""


def _modules() -> Path:
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        pytest.skip("node and npm are needed to build componentize-js components")
    modules = CACHE / f"componentize-js-{VERSION}"
    if not (modules / "node_modules" / "@bytecodealliance" / "componentize-js").exists():
        modules.mkdir(parents=True, exist_ok=True)
        subprocess.run([npm, "install", "--silent", "--prefix", str(modules), PACKAGE],
                       check=True, capture_output=True, timeout=900)
    return modules / "node_modules"


def _panic(stderr: str) -> str:
    """The line of a build's stderr that says what failed (a Rust panic and its message)."""
    lines = [x.strip() for x in stderr.splitlines() if x.strip()]
    for i, line in enumerate(lines):
        if "panicked at" in line:
            return line.rstrip(":") + (f": {lines[i + 1]}" if i + 1 < len(lines) else "")
    return next((x for x in lines if "Error" in x), lines[-1] if lines else "no output")


def _build(name: str, world: str, js: str, wit: str | Path) -> Path:
    """The component ``js`` builds into for ``world`` (cached), or a skip with the error."""
    modules = _modules()
    node = shutil.which("node")
    assert node is not None

    def build(out: Path) -> None:
        work = out / "work"
        if isinstance(wit, Path):
            shutil.copytree(wit, work / "wit")
        else:
            (work / "wit").mkdir(parents=True)
            (work / "wit" / "world.wit").write_text(wit)
        (work / "app.js").write_text(js)
        (work / "build.mjs").write_text(BUILD)
        (work / "node_modules").symlink_to(modules)
        r = subprocess.run([node, "build.mjs", world], cwd=work, capture_output=True,
                           text=True, timeout=900)
        if r.returncode == 0:
            shutil.move(work / "app.wasm", out / "app.wasm")
        else:
            (out / "error.txt").write_text(_panic(r.stderr))
        shutil.rmtree(work)

    key = content_key(PACKAGE, tool_version(node), BUILD, world, js,
                      wit if isinstance(wit, Path) else wit.encode())
    out = cached_dir(f"cjs-p3-{name}", key, build)
    if (out / "error.txt").exists():
        pytest.skip(f"componentize-js {VERSION} cannot build {name}: "
                    f"{(out / 'error.txt').read_text()}")
    return out / "app.wasm"


def test_async_export_awaits_an_async_host_import() -> None:
    wasm = _build("async-import-export", "app", ASYNC_JS, ASYNC_WIT)
    engine = Engine()
    component = Component.from_file(engine, wasm)
    calls: list[int] = []

    async def slow(store: Store, x: int) -> int:
        calls.append(x)
        await asyncio.sleep(0.001)
        return x * 10

    linker: Linker[Any] = Linker(engine)
    linker.add_wasip2()
    linker.instance("test:jsp3/host").func_wrap_async("slow", slow)
    linker.define_unknown_imports_as_traps(component)
    store: Store[Any] = Store(engine)
    store.set_wasi(WasiConfig())
    run = linker.instantiate(store, component).get_func(store, "run")
    assert run is not None and run.type.is_async

    async def main() -> list[Any]:
        return list(await asyncio.gather(*(run.call_async(store, x) for x in (1, 2, 3))))

    assert asyncio.run(main()) == [11, 21, 31] and sorted(calls) == [1, 2, 3]


def test_streams_and_futures_cross_a_js_guest() -> None:
    from wasm_component import stream
    from wasm_component import types as t

    wasm = _build("streams-futures", "app", STREAM_JS, STREAM_WIT)
    engine = Engine()
    component = Component.from_file(engine, wasm)
    linker: Linker[Any] = Linker(engine)
    linker.add_wasip2()
    linker.define_unknown_imports_as_traps(component)
    store: Store[Any] = Store(engine)
    store.set_wasi(WasiConfig())
    total = linker.instantiate(store, component).get_func(store, "total")
    assert total is not None

    async def main() -> int:
        r, w = stream(t.U8)

        async def feed() -> None:
            async with w:
                await w.write(bytes(100_000))

        task = asyncio.ensure_future(feed())
        n = int(await total.call_async(store, r))
        await task
        return n

    assert asyncio.run(main()) == 100_000


def test_wasi_http_0_3_handler() -> None:
    wasm = _build("http-service", "wasi:http/service@0.3.0", HTTP_JS, HTTP_WIT)
    from wasm_component.http import asgi_app

    app = asgi_app(wasm, wasi=WasiConfig())
    assert app.p3  # a wasi:http/handler@0.3 export: served as a 0.3 service
    served = asyncio.run(app._new_instance())  # it instantiates, with its `handle`
    assert served.handle.type.is_async
