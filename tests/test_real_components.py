"""Real components from real toolchains, end to end: componentize-py builds an ~18 MB component
(CPython compiled to wasm plus a five-line app) and componentize-js a ~12 MB one (the
StarlingMonkey JS engine plus a small module), both importing dozens of WASI interfaces. We
decode, validate, compile and instantiate them, define the handful of WASI functions their
start-up calls (the rest trap if called), and call their exports with records, variants, lists
and strings."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from wasm_component import Component, Engine, Linker, Record, Store, Variant

WIT = """package example:hello;

world hello {
  export greet: func(name: string) -> string;
}
"""
APP = """import wit_world

class WitWorld(wit_world.WitWorld):
    def greet(self, name: str) -> str:
        return f"Hello, {name}!"
"""


@pytest.fixture(scope="module")
def app_wasm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    exe = shutil.which("componentize-py")
    if exe is None:
        pytest.skip("componentize-py is not installed (it is part of the test extras)")
    d = tmp_path_factory.mktemp("cpy")
    (d / "wit").mkdir()
    (d / "wit" / "world.wit").write_text(WIT)
    (d / "app.py").write_text(APP)
    subprocess.run([exe, "-d", "wit", "-w", "hello", "componentize", "app", "-o", "app.wasm"],
                   cwd=d, check=True, capture_output=True)
    return d / "app.wasm"


def _linker(engine: Engine, component: Component) -> Linker:
    """The few WASI functions the guests' start-up calls; every other import traps."""
    imports = dict(component.component_type().imports)
    assert any(n.startswith("wasi:io/streams@") for n in imports)

    hosts: dict[str, dict[str, object]] = {
        "wasi:cli/environment": {"get-environment": lambda store: [],
                                 "get-arguments": lambda store: []},
        "wasi:random/random": {
            "get-random-bytes": lambda store, n: os.urandom(n),
            "get-random-u64": lambda store: int.from_bytes(os.urandom(8), "little"),
        },
        "wasi:clocks/wall-clock": {
            "now": lambda store: Record(seconds=int(time.time()), nanoseconds=0)},
        "wasi:clocks/monotonic-clock": {"now": lambda store: time.monotonic_ns()},
    }
    linker = Linker(engine)
    for name in imports:
        for func, fn in hosts.get(name.split("@")[0], {}).items():
            linker.instance(name).func_wrap(func, fn)  # type: ignore[arg-type]
    linker.define_unknown_imports_as_traps(component)
    return linker


def test_componentize_py_component_runs(app_wasm: Path) -> None:
    engine = Engine()
    component = Component.from_file(engine, app_wasm)
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
    d = tmp_path_factory.mktemp("cjs")
    (d / "wit").mkdir()
    (d / "wit" / "world.wit").write_text(JS_WIT)
    (d / "app.js").write_text(JS_APP)
    (d / "build.mjs").write_text(JS_BUILD)
    (d / "node_modules").symlink_to(cache / "node_modules")
    subprocess.run([node, "build.mjs"], cwd=d, check=True, capture_output=True, timeout=600)
    return d / "app.wasm"


def test_componentize_js_component_runs(js_wasm: Path) -> None:
    engine = Engine()
    component = Component.from_file(engine, js_wasm)
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
