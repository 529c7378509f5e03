"""Run by ``test_threads.py`` in a subprocess (a crash must not take pytest down with it):
``python threads_stress.py MODE N`` with MODE ``shared`` (threads share one store) or
``per-thread`` (a store each). Prints one JSON line of what each thread saw."""

from __future__ import annotations

import json
import sys
import threading
from typing import Any

from components import MISC  # type: ignore[import-not-found]

from wasm_component import Component, Engine, Linker, Store, Trap


def main(mode: str, n: int) -> None:
    engine = Engine()
    comp = Component.new(engine, MISC)
    linker = Linker(engine)
    shared = Store(engine)
    report: dict[str, Any] = {"ok": [], "wrong": [], "errors": []}
    lock = threading.Lock()

    def note(kind: str, what: str) -> None:
        with lock:
            report[kind].append(what)

    def adder(k: int) -> None:
        store = shared if mode == "shared" else Store(engine)
        inst = linker.instantiate(store, comp)
        add, length = inst.get_func(store, "add"), inst.get_func(store, "len")
        assert add is not None and length is not None, "MISC exports `add` and `len`"
        for i in range(n):
            try:
                if add(store, i, k) != i + k or length(store, bytes(i % 7)) != i % 7:
                    note("wrong", f"adder {k}: wrong result at {i}")
            except BaseException as e:
                note("errors", f"adder {k} at {i}: {type(e).__name__}: {e}"[:200])
                return
        note("ok", f"adder {k}")

    def trapper(k: int) -> None:
        store = shared if mode == "shared" else Store(engine)
        for i in range(n // 4):
            inst = linker.instantiate(store, comp)
            deep = inst.get_func(store, "deep")
            assert deep is not None, "MISC exports `deep`"
            try:
                deep(store)
                note("wrong", f"trapper {k}: a trapping call returned at {i}")
            except Trap as e:
                if "stack" not in str(e) and "exhausted" not in str(e):
                    note("wrong", f"trapper {k}: wrong trap at {i}: {e}"[:200])
            except BaseException as e:
                note("errors", f"trapper {k} at {i}: {type(e).__name__}: {e}"[:200])
                return
        note("ok", f"trapper {k}")

    threads = [threading.Thread(target=adder, args=(k,)) for k in range(3)]
    threads += [threading.Thread(target=trapper, args=(k,)) for k in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
