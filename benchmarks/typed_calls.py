"""Micro-benchmark: typed calls against ``Func.__call__`` on the benchmark's ``ops`` component.

For the rows ``nop``, ``add`` and ``params20`` of ``run.py``, the per-call time of
``Func.__call__``, of a ``TypedFunc`` made from a ``Callable[...]`` annotation, and of a method
of ``Instance.exports_as`` (the store bound), interleaved over rounds, as medians. A typed
function without classes of the user's takes the untyped function's own call path, so the
ratios should be 1.0 within noise.

Run: ``python benchmarks/typed_calls.py [rounds]``
"""

from __future__ import annotations

import statistics
import sys
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as bench  # the benchmark's components

from wasm_component import Component, Engine, Linker, Store

Sum20 = Callable[[int, int, int, int, int, int, int, int, int, int,
                  int, int, int, int, int, int, int, int, int, int], int]


class Ops(Protocol):
    def nop(self) -> None: ...
    def add(self, a: int, b: int) -> int: ...


def per_call(fn: Callable[..., Any], args: tuple[Any, ...], n: int) -> float:
    """ns per call of ``fn(*args)``."""
    return timeit.timeit(lambda: fn(*args), number=n) / n * 1e9


def main(rounds: int = 9, n: int = 20000) -> None:
    engine = Engine()
    store = Store(engine)
    inst = Linker(engine).instantiate(store, Component.new(engine, bench.component_bytes("ops")))
    ops = inst.exports_as(store, Ops)
    rows: dict[str, tuple[Any, Any, Any, tuple[int, ...]]] = {
        "nop": (inst.get_func(store, "nop"), inst.get_typed_func(store, "nop", Callable[[], None]),
                ops.nop, ()),
        "add": (inst.get_func(store, "add"),
                inst.get_typed_func(store, "add", Callable[[int, int], int]), ops.add, (40, 2)),
        "params20": (inst.get_func(store, "sum20"), inst.get_typed_func(store, "sum20", Sum20),
                     None, tuple(range(1, 21))),
    }
    times: dict[str, tuple[list[float], list[float], list[float]]] = {
        k: ([], [], []) for k in rows}
    for _ in range(rounds):
        for key, (f, typed, bound, args) in rows.items():
            plain, tf, ex = times[key]
            plain.append(per_call(f, (store, *args), n))
            tf.append(per_call(typed, (store, *args), n))
            if bound is not None:
                ex.append(per_call(bound, args, n))
    med = statistics.median
    for key, (plain, tf, ex) in times.items():
        line = (f"{key:9} Func {med(plain):6.0f} ns   TypedFunc {med(tf):6.0f} ns "
                f"({med(tf) / med(plain):.2f}x)")
        if ex:
            line += f"   exports_as {med(ex):6.0f} ns ({med(ex) / med(plain):.2f}x)"
        print(line)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 9)
