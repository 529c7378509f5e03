"""Threads and stores (issue 16). A store is entered by one thread at a time: calls,
instantiation and drops take the store's re-entrant lock. Before it, threads sharing a store
aborted the process (a Rust panic in wasmtime's stack walker: "assertion failed:
core::ptr::eq(head, self)"), mixed up each other's traps, or let a trapping call return.

The stress runs in a subprocess, so that a crash is a failed test rather than a dead pytest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.exports import export_func
from wasm_component import Component, Engine, Linker, Store

from .components import MISC

HERE = Path(__file__).resolve().parent
N = 300  # calls per adder thread (3 adders, 2 trappers): bounded load, about a second


def _stress(mode: str) -> dict[str, Any]:
    env = dict(os.environ)
    src = str(HERE.parents[1] / "src")
    env["PYTHONPATH"] = os.pathsep.join([src, str(HERE), env.get("PYTHONPATH", "")])
    r = subprocess.run([sys.executable, str(HERE / "threads_stress.py"), mode, str(N)],
                       capture_output=True, text=True, timeout=300, env=env, cwd=HERE)
    assert r.returncode == 0, f"the process died (rc={r.returncode}):\n{r.stderr[-2000:]}"
    out: dict[str, Any] = json.loads(r.stdout.strip().splitlines()[-1])
    return out


@pytest.mark.parametrize("mode", ["shared", "per-thread"])
def test_threads_under_load(mode: str) -> None:
    rep = _stress(mode)
    assert rep["errors"] == [] and rep["wrong"] == []
    assert sorted(rep["ok"]) == ["adder 0", "adder 1", "adder 2", "trapper 0", "trapper 1"]


def test_a_host_function_may_call_back_into_its_store() -> None:
    """The lock is re-entrant: an import calling another instance of the same store, on the
    same thread, does not deadlock."""
    engine = Engine()
    store = Store(engine)
    inner = Linker(engine).instantiate(store, Component.new(engine, MISC))
    add = export_func(inner, store, "add")
    linker = Linker(engine)
    linker.root().func_wrap("cb", lambda s: add(s, 1, 2) and None)
    from .components import GUEST_RESOURCE

    outer = linker.instantiate(store, Component.new(engine, GUEST_RESOURCE))
    r = export_func(outer, store, "make")(store, 1)
    export_func(outer, store, "with-borrow")(store, r)  # calls cb, which calls add


def test_a_second_thread_waits_for_the_first() -> None:
    """While one thread is inside the store (in a host function), another's call waits."""
    engine = Engine()
    store = Store(engine)
    order: list[str] = []
    inside = threading.Event()

    def cb(s: Store) -> None:
        inside.set()
        time.sleep(0.2)
        order.append("first done")

    linker = Linker(engine)
    linker.root().func_wrap("cb", cb)
    from .components import GUEST_RESOURCE

    inst = linker.instantiate(store, Component.new(engine, GUEST_RESOURCE))
    r = export_func(inst, store, "make")(store, 1)
    drops = export_func(inst, store, "drops")
    t1 = threading.Thread(target=lambda: export_func(inst, store, "with-borrow")(store, r))
    t1.start()
    inside.wait(5)
    drops(store)
    order.append("second done")
    t1.join()
    assert order == ["first done", "second done"]
