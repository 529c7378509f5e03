"""``wasm-component run FILE --invoke 'name(args)'``: instantiate a component and call an export.

Arguments and the result are written in WAVE (the WebAssembly value text format). Imports the
component needs but nobody defines trap when called.

Example::

    $ wasm-component run examples/greeter.wat --invoke 'greet("World")'
    "Hello, World!"
"""

from __future__ import annotations

import argparse
import sys

from . import wave
from .component import Component
from .engine import Engine, Store
from .linker import Linker

__all__ = ["main"]


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="wasm-component run")
    p.add_argument("file", help="component (.wasm or .wat)")
    p.add_argument("--invoke", required=True, metavar="CALL", help="e.g. 'add(1, 2)'")
    args = p.parse_args(argv)
    engine = Engine()
    store = Store(engine, None)
    component = Component.from_file(engine, args.file)
    linker = Linker(engine)
    linker.define_unknown_imports_as_traps(component)
    instance = linker.instantiate(store, component)

    def param_types(name: str) -> list[object] | None:
        f = instance.get_func(store, name)
        return None if f is None else [ty for _, ty in f.params()]

    name, values = wave.parse_call(args.invoke, param_types)  # type: ignore[arg-type]
    func = instance.get_func(store, name)
    if func is None:
        print(f"error: the component has no function export `{name}`", file=sys.stderr)
        return 1
    result = func(store, *values)
    results = func.results()
    if results:
        print(wave.to_wave(results[0], result))
    return 0
