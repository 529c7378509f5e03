"""Run the Python guest (``app.py``, built by componentize-py) from a Python host.

The guest imports dozens of WASI interfaces. There is no WASI in wasm-component yet, so
:func:`stub_linker` defines the few functions the guest's start-up calls (environment,
randomness, clocks) and makes every other import trap if called.

    componentize-py -d wit -w hello componentize app -o app.wasm
    python host.py app.wasm World
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any

from wasm_component import Component, Engine, Linker, Record, Store

WASI_STUBS: dict[str, dict[str, Callable[..., Any]]] = {
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


def stub_linker(engine: Engine, component: Component) -> Linker:
    """A linker with :data:`WASI_STUBS` for ``component``'s imports; the rest trap."""
    linker = Linker(engine)
    for name, _ in component.component_type().imports:
        for func, fn in WASI_STUBS.get(name.split("@")[0], {}).items():
            linker.instance(name).func_wrap(func, fn)
    linker.define_unknown_imports_as_traps(component)
    return linker


def main(path: str, who: str) -> None:
    engine = Engine()
    component = Component.from_file(engine, path)
    store = Store(engine)
    instance = stub_linker(engine, component).instantiate(store, component)
    greet = instance.get_func(store, "greet")
    assert greet is not None
    print(greet(store, who))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "World")
