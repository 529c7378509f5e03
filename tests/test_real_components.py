"""Real components from real toolchains, end to end: componentize-py builds an ~18 MB component
(CPython compiled to wasm plus a five-line app) and componentize-js a ~12 MB one (the
StarlingMonkey JS engine plus a small module), both importing dozens of WASI interfaces. We
decode, validate, compile and instantiate them, define the handful of WASI functions their
start-up calls (the rest trap if called), and call their exports with records, variants, lists
and strings."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from wasm_component import Component, Engine, Linker, Record, Store, Variant
from wasm_component.engine import EngineConfig

from .cache import cached_dir, content_key, tool_version

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "python_guest"


def _load_host() -> Any:
    """``examples/python_guest/host.py`` (its WASI stubs serve both guests here)."""
    spec = importlib.util.spec_from_file_location("python_guest_host", EXAMPLE / "host.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HOST = _load_host()


@pytest.fixture(scope="module")
def app_wasm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    exe = shutil.which("componentize-py")
    if exe is None:
        pytest.skip("componentize-py is not installed (it is part of the test extras)")

    def build(out: Path) -> None:
        d = tmp_path_factory.mktemp("cpy")
        shutil.copytree(EXAMPLE / "wit", d / "wit")
        shutil.copy(EXAMPLE / "app.py", d / "app.py")
        subprocess.run([exe, "-d", "wit", "-w", "hello", "componentize", "app", "-o",
                        str(out / "app.wasm")], cwd=d, check=True, capture_output=True)

    # built once per content (the app, its WIT and the componentize-py version)
    key = content_key(tool_version(exe), EXAMPLE / "wit", EXAMPLE / "app.py")
    return cached_dir("componentize-py-app", key, build) / "app.wasm"


def _engine() -> Engine:
    """An engine that compiles without Cranelift's optimisations: these tests are about
    decoding, validating, linking and calling, and unoptimised code compiles several times
    faster (what a cold test cache pays)."""
    return Engine(EngineConfig(cranelift_opt_level="none"))


def _load(engine: Engine, path: Path) -> Component:
    """``path`` decoded, validated and compiled; the compiled form is cached by content (with
    the wasmtime and serialization versions and the optimisation level), so only the first run
    pays for compiling ~30 MB of core wasm with Cranelift. Later runs still decode and validate
    the whole component (:meth:`Component.deserialize` does) and instantiate and call it."""
    from wasm_component.component import _SER_MAGIC

    def build(out: Path) -> None:
        (out / "app.cwasm").write_bytes(Component.from_file(engine, path).serialize())

    key = content_key(path, metadata.version("wasmtime"), _SER_MAGIC, "opt-level=none")
    return Component.deserialize_file(engine, cached_dir("compiled", key, build) / "app.cwasm")


def _linker(engine: Engine, component: Component) -> Linker:
    """The few WASI functions the guests' start-up calls; every other import traps."""
    imports = dict(component.component_type().imports)
    assert any(n.startswith("wasi:io/streams@") for n in imports)
    linker: Linker = HOST.stub_linker(engine, component)
    return linker


def test_componentize_py_component_runs(app_wasm: Path) -> None:
    engine = _engine()
    component = _load(engine, app_wasm)
    assert "greet" in dict(component.component_type().exports)
    store = Store(engine)
    instance = _linker(engine, component).instantiate(store, component)
    greet = instance.get_func(store, "greet")
    assert greet is not None
    assert greet(store, "World") == "Hello, World!"
    assert greet(store, "wörld 🌍") == "Hello, wörld 🌍!"


JS_WIT = """package example:hello;

world hello {
  record point { x: s32, y: s32 }
  variant shape { circle(f64), square(point), none }
  export greet: func(name: string) -> string;
  export add-points: func(a: point, b: point) -> point;
  export describe: func(s: shape) -> string;
  export sum: func(xs: list<u32>) -> u64;
}
"""
JS_APP = """
export function greet(name) { return `Hello, ${name}!`; }
export function addPoints(a, b) { return { x: a.x + b.x, y: a.y + b.y }; }
export function describe(s) {
  switch (s.tag) {
    case 'circle': return `circle ${s.val}`;
    case 'square': return `square ${s.val.x},${s.val.y}`;
    default: return 'none';
  }
}
export function sum(xs) { let t = 0n; for (const x of xs) t += BigInt(x); return t; }
"""
JS_BUILD = """
import { componentize } from '@bytecodealliance/componentize-js';
import { readFile, writeFile } from 'node:fs/promises';
const source = await readFile('app.js', 'utf8');
const { component } = await componentize(source, {
  witPath: 'wit', worldName: 'hello', disableFeatures: ['http', 'fetch-event'] });
await writeFile('app.wasm', component);
"""
COMPONENTIZE_JS = "@bytecodealliance/componentize-js@0.23.0"


@pytest.fixture(scope="module")
def js_wasm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        pytest.skip("node and npm are needed to build a componentize-js component")
    cache = Path.home() / ".cache" / "wasm-component-tests" / "componentize-js-0.23.0"
    if not (cache / "node_modules" / "@bytecodealliance" / "componentize-js").exists():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([npm, "install", "--silent", "--prefix", str(cache), COMPONENTIZE_JS],
                       check=True, capture_output=True, timeout=600)

    def build(out: Path) -> None:
        d = tmp_path_factory.mktemp("cjs")
        (d / "wit").mkdir()
        (d / "wit" / "world.wit").write_text(JS_WIT)
        (d / "app.js").write_text(JS_APP)
        (d / "build.mjs").write_text(JS_BUILD)
        (d / "node_modules").symlink_to(cache / "node_modules")
        subprocess.run([node, "build.mjs"], cwd=d, check=True, capture_output=True, timeout=600)
        shutil.copy(d / "app.wasm", out / "app.wasm")

    # built once per content (the sources and the pinned componentize-js and node versions)
    key = content_key(COMPONENTIZE_JS, tool_version(node), JS_WIT, JS_APP, JS_BUILD)
    return cached_dir("componentize-js-app", key, build) / "app.wasm"


def test_componentize_js_component_runs(js_wasm: Path) -> None:
    engine = _engine()
    component = _load(engine, js_wasm)
    store = Store(engine)
    instance = _linker(engine, component).instantiate(store, component)

    def call(name: str, *args: object) -> object:
        f = instance.get_func(store, name)
        assert f is not None, name
        return f(store, *args)

    assert call("greet", "World") == "Hello, World!"
    assert call("add-points", Record(x=1, y=2), {"x": 3, "y": -4}) == Record(x=4, y=-2)
    assert call("describe", Variant("circle", 1.5)) == "circle 1.5"
    assert call("describe", Variant("square", Record(x=1, y=2))) == "square 1,2"
    assert call("describe", Variant("none")) == "none"
    assert call("sum", [1, 2, 3, 2**32 - 1]) == 2**32 + 5
