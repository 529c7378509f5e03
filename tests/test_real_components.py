"""A real component from a real toolchain: componentize-py builds an ~18 MB component (CPython
compiled to wasm plus a five-line app) importing dozens of WASI interfaces. We decode, validate,
compile and instantiate it, define the handful of WASI functions its start-up calls (the rest
trap if called), and call its export."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from wasm_component import Component, Engine, Linker, Record, Store
from wasm_component import types as t

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


def test_componentize_py_component_runs(app_wasm: Path) -> None:
    engine = Engine()
    component = Component.from_file(engine, app_wasm)
    ty = component.component_type()
    assert "greet" in dict(ty.exports)
    imports = dict(ty.imports)
    assert any(n.startswith("wasi:io/streams@") for n in imports)
    assert all(isinstance(x, t.InstanceType) for x in imports.values())

    def versioned(prefix: str) -> str:
        return next(n for n in imports if n.startswith(prefix + "@"))

    linker = Linker(engine)
    env = linker.instance(versioned("wasi:cli/environment"))
    env.func_wrap("get-environment", lambda store: [])
    env.func_wrap("get-arguments", lambda store: [])
    rnd = linker.instance(versioned("wasi:random/random"))
    rnd.func_wrap("get-random-bytes", lambda store, n: os.urandom(n))
    rnd.func_wrap("get-random-u64", lambda store: int.from_bytes(os.urandom(8), "little"))
    linker.instance(versioned("wasi:clocks/wall-clock")).func_wrap(
        "now", lambda store: Record(seconds=int(time.time()), nanoseconds=0))
    linker.instance(versioned("wasi:clocks/monotonic-clock")).func_wrap(
        "now", lambda store: time.monotonic_ns())
    linker.define_unknown_imports_as_traps(component)
    store = Store(engine)
    instance = linker.instantiate(store, component)
    greet = instance.get_func(store, "greet")
    assert greet is not None
    assert greet(store, "World") == "Hello, World!"
    assert greet(store, "wörld 🌍") == "Hello, wörld 🌍!"
