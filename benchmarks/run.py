"""Component-model benchmark: wasm-component ("ours") against ``wasmtime.component`` ("peer").

Both runtimes execute the same components (WAT in ``benchmarks/components/``, plus a generated
~10 MiB one from ``components/big.py``) in one process. Per operation each side is set up and
checked once (the guest must return what the operation expects), calibrated so one sample runs
long enough (>= 5 ms by default), warmed up, then sampled for several rounds, ours and peer
interleaved within each round (alternating which goes first). The reported time is the median
sample, per operation (per import call for the guest->host rows), in microseconds; the ratio is
ours / peer (below 1: we are faster).

If our runtime cannot do an operation yet (any exception in setup, check or run) the row is
recorded as ``n/a`` with the error, and the run goes on.

Usage::

    python benchmarks/run.py                 # full run (~11 rounds)
    python benchmarks/run.py --quick         # 3 rounds, tighter time budget (< 60 s)
    python benchmarks/run.py --json out.json --filter string

Writes ``benchmarks/results/results.md`` (Markdown table) and ``benchmarks/results/ratios.png``
(bar chart of the ratios; needs matplotlib, skipped with a message when it is not installed).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
COMPONENTS = HERE / "components"
RESULTS = HERE / "results"

_WASM_CACHE: dict[str, bytes] = {}
_HOST_CACHE: dict[str, Any] = {}


def component_bytes(name: str) -> bytes:
    """The binary of ``components/<name>.wat`` (assembled once; both sides get the same bytes)."""
    blob = _WASM_CACHE.get(name)
    if blob is None:
        import wasmtime

        if name == "big":
            import importlib.util

            spec = importlib.util.spec_from_file_location("_bench_big", COMPONENTS / "big.py")
            assert spec is not None and spec.loader is not None
            big = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(big)
            blob = big.big_component()
        else:
            blob = bytes(wasmtime.wat2wasm((COMPONENTS / f"{name}.wat").read_text()))
        _WASM_CACHE[name] = blob
    return blob


def _python_guest_host() -> Any:
    """``examples/python_guest/host.py`` (its WASI stubs), loaded once."""
    host = _HOST_CACHE.get("host")
    if host is None:
        import importlib.util

        spec = importlib.util.spec_from_file_location("python_guest_host", REAL_APP / "host.py")
        assert spec is not None and spec.loader is not None
        host = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(host)
        _HOST_CACHE["host"] = host
    return host


# the real component: the Python guest in examples/ (built with componentize-py)
REAL_APP = Path(__file__).resolve().parents[1] / "examples" / "python_guest"


class Unavailable(Exception):
    """An operation that cannot run on this machine (reported, never counted)."""


def componentize_py(key: str, app: str, wit: Path, world: str) -> bytes:
    """componentize-py's build of ``app`` (the source of ``app.py``) against ``wit``'s
    ``world``, built once and cached (keyed by the app, the WIT and componentize-py's version)."""
    blob = _WASM_CACHE.get(key)
    if blob is not None:
        return blob
    import hashlib
    import shutil
    import subprocess

    exe = shutil.which("componentize-py")
    if exe is None:
        raise Unavailable("componentize-py is not installed (pip install componentize-py)")
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.strip()
    h = hashlib.sha256((app + version + world).encode())
    for f in sorted(wit.rglob("*.wit")):
        h.update(f.read_bytes())
    cache = Path.home() / ".cache" / "wasm-component-bench" / f"{key}-{h.hexdigest()[:12]}"
    wasm = cache / "app.wasm"
    if not wasm.exists():
        cache.mkdir(parents=True, exist_ok=True)
        (cache / "app.py").write_text(app)
        subprocess.run([exe, "-d", str(wit), "-w", world, "componentize", "app", "-o",
                        "app.wasm"], cwd=cache, check=True, capture_output=True)
    blob = _WASM_CACHE[key] = wasm.read_bytes()
    return blob


def real_component() -> bytes:
    """A real component: componentize-py's build of a two-line Python app (CPython compiled to
    wasm, about 18 MB, importing dozens of WASI interfaces), built once and cached."""
    return componentize_py("real", (REAL_APP / "app.py").read_text(), REAL_APP / "wit", "hello")


# --------------------------------------------------------------------------------------------
# The two runtimes behind one small interface, so that every operation below is written once.
# --------------------------------------------------------------------------------------------


class Peer:
    """wasmtime-py's native component API (``wasmtime.component``), used as it is."""

    label = "wasmtime.component"

    def __init__(self) -> None:
        import wasmtime
        import wasmtime.component as wc

        self.wasmtime = wasmtime
        self.wc = wc
        self.engine = wasmtime.Engine()
        self._components: dict[str, Any] = {}
        self.host_drops: list[int] = []

    # compile / link / instantiate
    def compile(self, blob: bytes) -> Any:
        return self.wc.Component(self.engine, blob)

    def deserialize(self, blob: bytes) -> Any:
        return self.wc.Component.deserialize(self.engine, blob)

    def component(self, name: str) -> Any:
        if name not in self._components:
            self._components[name] = self.compile(component_bytes(name))
        return self._components[name]

    def new_store(self) -> Any:
        return self.wasmtime.Store(self.engine)

    def linker(
        self, funcs: dict[str, Callable[..., Any]] | None = None, host_resource: str | None = None
    ) -> Any:
        linker = self.wc.Linker(self.engine)
        with linker.root() as root:
            for name, fn in (funcs or {}).items():
                root.add_func(name, fn)
            if host_resource is not None:
                root.add_resource(
                    host_resource,
                    self.wc.ResourceType.host(7),
                    lambda store, rep: self.host_drops.append(rep),
                )
        return linker

    def instantiate(self, linker: Any, store: Any, component: Any) -> Any:
        return linker.instantiate(store, component)

    def real_linker(self, component: Any, stubs: bool = False) -> Any:
        """The real component's imports: wasmtime's own WASI, or (``stubs``) the same stubs
        ours is linked to (``examples/python_guest/host.py``), every other import trapping."""
        linker = self.wc.Linker(self.engine)
        if not stubs:
            linker.add_wasip2()
            return linker
        host = _python_guest_host()

        def wall_clock_now(store: Any) -> Any:
            now = self.wc.Record()
            now.seconds, now.nanoseconds = int(time.time()), 0
            return now

        funcs = {**host.WASI_STUBS, "wasi:clocks/wall-clock": {"now": wall_clock_now}}
        for name in component.type.imports(self.engine):
            fs = funcs.get(name.split("@")[0])
            if fs:
                with linker.root() as root, root.add_instance(name) as inst:
                    for f, fn in fs.items():
                        inst.add_func(f, fn)
        linker.define_unknown_imports_as_traps(component)
        return linker

    def real_store(self, stubs: bool = False) -> Any:
        store = self.wasmtime.Store(self.engine)
        if not stubs:
            store.set_wasi(self.wasmtime.WasiConfig())
        return store

    def func(self, instance: Any, store: Any, name: str) -> Any:
        f = instance.get_func(store, name)
        if f is None:
            raise LookupError(f"no export {name!r}")
        return f

    # values
    def record(self, fields: dict[str, Any]) -> Any:
        r = self.wc.Record()
        for k, v in fields.items():
            setattr(r, k, v)
        return r

    def record_fields(self, r: Any) -> dict[str, Any]:
        return dict(vars(r))

    def variant(self, case: str, payload: Any = None) -> Any:
        return self.wc.Variant(case, payload)

    def variant_parts(self, v: Any) -> tuple[str, Any]:
        return (v.tag, v.payload)

    def ok(self, v: Any) -> Any:
        # result<u32, string>: the Python classes of the cases differ, so wasmtime.component
        # takes/returns the payload untagged
        return v

    def flags(self, names: Iterable[str]) -> Any:
        return set(names)

    # resources
    def drop(self, store: Any, resource: Any) -> None:
        resource.drop(store)

    def host_resource(self, rep: int) -> Any:
        return self.wc.ResourceHost.own(rep, 7)

    def host_resource_rep(self, store: Any, value: Any) -> int:
        return int(value.to_host(store).rep)


class Ours:
    """wasm-component's public API (``wasm_component``)."""

    label = "wasm-component"

    def __init__(self) -> None:
        import wasm_component as wcm

        def pick(name: str, *modules: str) -> Any:
            obj = getattr(wcm, name, None)
            for mod in modules:
                if obj is not None:
                    break
                try:
                    obj = getattr(__import__(f"wasm_component.{mod}", fromlist=[name]), name, None)
                except ImportError:
                    obj = None
            if obj is None:
                raise ImportError(f"wasm_component has no {name}")
            return obj

        self.Engine = pick("Engine", "engine")
        self.Store = pick("Store", "engine")
        self.Component = pick("Component", "component")
        self.Linker = pick("Linker", "linker", "_runtime.linker")
        self.Record = pick("Record", "values")
        self.Variant = pick("Variant", "values")
        self.Ok = pick("Ok", "values")
        self.ResourceType = pick("ResourceType", "types")
        self.Resource = pick("Resource", "resources")
        self.engine = self.Engine()
        self._components: dict[str, Any] = {}
        self.host_drops: list[Any] = []

        class Thing:
            __slots__ = ("rep",)

            def __init__(self, rep: int) -> None:
                self.rep = rep

        self.Thing = Thing

    def compile(self, blob: bytes) -> Any:
        return self.Component.new(self.engine, blob)

    def deserialize(self, blob: bytes) -> Any:
        return self.Component.deserialize(self.engine, blob)

    def component(self, name: str) -> Any:
        if name not in self._components:
            self._components[name] = self.compile(component_bytes(name))
        return self._components[name]

    def new_store(self) -> Any:
        return self.Store(self.engine, None)

    def linker(
        self, funcs: dict[str, Callable[..., Any]] | None = None, host_resource: str | None = None
    ) -> Any:
        linker = self.Linker(self.engine)
        root = linker.root()
        for name, fn in (funcs or {}).items():
            root.func_wrap(name, fn)
        if host_resource is not None:
            root.resource(
                host_resource,
                self.ResourceType.host(self.Thing),
                lambda *args: self.host_drops.append(args[-1]),
            )
        return linker

    def instantiate(self, linker: Any, store: Any, component: Any) -> Any:
        return linker.instantiate(store, component)

    def real_linker(self, component: Any, stubs: bool = True) -> Any:
        """The real component's imports: the few WASI functions its start-up calls
        (``examples/python_guest/host.py``); every other import traps if called."""
        return _python_guest_host().stub_linker(self.engine, component)

    def real_store(self, stubs: bool = True) -> Any:
        return self.new_store()

    def func(self, instance: Any, store: Any, name: str) -> Any:
        f = instance.get_func(store, name)
        if f is None:
            raise LookupError(f"no export {name!r}")
        return f

    def record(self, fields: dict[str, Any]) -> Any:
        return self.Record(fields)

    def record_fields(self, r: Any) -> dict[str, Any]:
        return dict(r)

    def variant(self, case: str, payload: Any = None) -> Any:
        return self.Variant(case, payload)

    def variant_parts(self, v: Any) -> tuple[str, Any]:
        return (v.case, v.payload)

    def ok(self, v: Any) -> Any:
        return self.Ok(v)

    def flags(self, names: Iterable[str]) -> Any:
        return frozenset(names)

    def drop(self, store: Any, resource: Any) -> None:
        resource.drop(store)  # (the same wrapper as the peer's, so both pay the same)

    def host_resource(self, rep: int) -> Any:
        # an owned handle to host type `Thing` with the host's key `rep`
        return self.Resource.new_own(rep, self.ResourceType.host(self.Thing))

    def host_resource_rep(self, store: Any, value: Any) -> int:
        return int(value.rep)


# --------------------------------------------------------------------------------------------
# Operations. Each `setup(side)` instantiates what it needs, checks one call, and returns a Job.
# --------------------------------------------------------------------------------------------


@dataclass
class Job:
    """``run(state, n)`` is timed; ``prep(n)`` / ``done(state)`` around it are not.
    ``per``: units of work per iteration (the time is reported per unit)."""

    run: Callable[[Any, int], Any]
    prep: Callable[[int], Any] = lambda n: None
    done: Callable[[Any], None] = lambda state: None
    per: int = 1
    note: str = ""  # a remark for the row's notes (e.g. memory measured at setup)


class CheckFailed(AssertionError):
    pass


def expect(got: Any, want: Any, what: str = "result") -> None:
    if got != want:
        g, w = repr(got), repr(want)
        raise CheckFailed(f"wrong {what}: got {g[:80]}, want {w[:80]}")


def call_job(f: Any, store: Any, *args: Any) -> Job:
    def run(_: Any, n: int) -> None:
        for _ in range(n):
            f(store, *args)

    return Job(run)


def instance_of(side: Any, name: str, **linker_kw: Any) -> tuple[Any, Any]:
    store = side.new_store()
    inst = side.instantiate(side.linker(**linker_kw), store, side.component(name))
    return store, inst


def op_nop(side: Any) -> Job:
    store, inst = instance_of(side, "ops")
    f = side.func(inst, store, "nop")
    expect(f(store), None)
    return call_job(f, store)


def op_add(side: Any) -> Job:
    store, inst = instance_of(side, "ops")
    f = side.func(inst, store, "add")
    expect(f(store, 40, 2), 42)
    return call_job(f, store, 40, 2)


ASYNC_ADD = """(component
  (core func $ret (canon task.return (result u32)))
  (core module $m (import "" "ret" (func $ret (param i32)))
    (func (export "add") (param i32 i32) (result i32)
      (call $ret (i32.add (local.get 0) (local.get 1)))
      (i32.const 0))
    (func (export "cb") (param i32 i32 i32) (result i32) unreachable))
  (core instance $i (instantiate $m (with "" (instance (export "ret" (func $ret))))))
  (func (export "add") async (param "a" u32) (param "b" u32) (result u32)
    (canon lift (core func $i "add") async (callback (core func $i "cb")))))"""


def op_async_add(side: Any) -> Job:
    """``await call_async`` of a callback-lifted async ``add`` (ours) against our own plain
    synchronous call of the sync ``add`` (the "peer" column here is ours too)."""
    if isinstance(side, Peer):
        return op_add(Ours())
    import asyncio

    from wasm_component._validate.features import Features

    engine = side.Engine(features=Features.all())
    store = side.Store(engine)
    inst = side.Linker(engine).instantiate(store, side.Component.new(engine, ASYNC_ADD))
    f = side.func(inst, store, "add")
    expect(asyncio.run(f.call_async(store, 40, 2)), 42)
    loop = asyncio.new_event_loop()

    async def calls(n: int) -> None:
        for _ in range(n):
            await f.call_async(store, 40, 2)

    def run(_: Any, n: int) -> None:
        loop.run_until_complete(calls(n))

    return Job(run)


def op_params20(side: Any) -> Job:
    store, inst = instance_of(side, "ops")
    f = side.func(inst, store, "sum20")
    args = list(range(1, 21))
    expect(f(store, *args), 210)
    return call_job(f, store, *args)


def _text(n: int) -> str:
    base = "The quick brown fox jumps over the lazy dog. 0123456789 "
    return (base * (n // len(base) + 1))[:n]


def op_echo_string(encoding: str, size: int) -> Callable[[Any], Job]:
    def setup(side: Any) -> Job:
        store, inst = instance_of(side, "ops")
        f = side.func(inst, store, f"echo-{encoding}")
        s = _text(size)
        expect(f(store, s), s)
        return call_job(f, store, s)

    return setup


def op_bytes_in(size: int) -> Callable[[Any], Job]:
    def setup(side: Any) -> Job:
        store, inst = instance_of(side, "ops")
        f = side.func(inst, store, "consume-bytes")
        b = bytes(range(256)) * (size // 256)
        expect(f(store, b), size)
        return call_job(f, store, b)

    return setup


def op_bytes_out(size: int) -> Callable[[Any], Job]:
    def setup(side: Any) -> Job:
        store, inst = instance_of(side, "ops")
        f = side.func(inst, store, "produce-bytes")
        got = f(store, size)
        expect(bytes(got), b"Z" * size)
        return call_job(f, store, size)

    return setup


def op_u32s(side: Any) -> Job:
    store, inst = instance_of(side, "ops")
    f = side.func(inst, store, "echo-u32s")
    xs = [(i * 2654435761) & 0xFFFFFFFF for i in range(64 * 1024)]
    expect(list(f(store, xs)), xs)
    return call_job(f, store, xs)


REC = {
    "a": 200,
    "b": 60000,
    "c": 4_000_000_000,
    "d": -(2**40),
    "e": 1.5,
    "f": 2.25,
    "g": True,
    "h": "hello",
}


def op_record(side: Any) -> Job:
    store, inst = instance_of(side, "ops")
    f = side.func(inst, store, "echo-rec")
    r = side.record(REC)
    expect(side.record_fields(f(store, r)), REC)
    return call_job(f, store, r)


def op_records(side: Any) -> Job:
    store, inst = instance_of(side, "ops")
    f = side.func(inst, store, "echo-recs")
    fields = [dict(REC, c=i, h=f"item-{i}") for i in range(1000)]
    recs = [side.record(d) for d in fields]
    got = f(store, recs)
    expect(len(got), 1000, "length")
    expect([side.record_fields(got[0]), side.record_fields(got[-1])], [fields[0], fields[-1]])
    return call_job(f, store, recs)


def op_variant(side: Any) -> Job:
    store, inst = instance_of(side, "ops")
    f = side.func(inst, store, "echo-variant")
    v = side.variant("b", 7)
    expect(side.variant_parts(f(store, v)), ("b", 7))
    expect(side.variant_parts(f(store, side.variant("c", "str"))), ("c", "str"))
    return call_job(f, store, v)


def op_option(side: Any) -> Job:
    store, inst = instance_of(side, "ops")
    f = side.func(inst, store, "echo-option")
    expect(f(store, 7), 7)
    expect(f(store, None), None)
    return call_job(f, store, 7)


def op_result(side: Any) -> Job:
    store, inst = instance_of(side, "ops")
    f = side.func(inst, store, "echo-result")
    v = side.ok(7)
    expect(f(store, v), v)
    return call_job(f, store, v)


def op_flags(side: Any) -> Job:
    store, inst = instance_of(side, "ops")
    f = side.func(inst, store, "echo-flags")
    v = side.flags(["f0", "f3", "f7"])
    expect(set(f(store, v)), {"f0", "f3", "f7"})
    return call_job(f, store, v)


IMPORT_CALLS = 1000  # import calls made by one export call


def op_import(which: str) -> Callable[[Any], Job]:
    def setup(side: Any) -> Job:
        seen: list[str] = []
        funcs = {"host-nop": lambda store: None, "host-log": lambda store, s: seen.append(s)}
        store, inst = instance_of(side, "imports", funcs=funcs)
        f = side.func(inst, store, f"run-{which}")
        expect(f(store, 3), 3)
        if which == "log":
            expect(seen, ["hello, component"] * 3, "strings seen by the host")

        def run(_: Any, n: int) -> None:
            for _ in range(n):
                f(store, IMPORT_CALLS)
            seen.clear()

        return Job(run, per=IMPORT_CALLS)

    return setup


def op_resource_new(side: Any) -> Job:
    store, inst = instance_of(side, "resources")
    ctor = side.func(inst, store, "[constructor]counter")
    live = side.func(inst, store, "live")
    r = ctor(store, 1)
    expect(live(store), 1, "live counters")
    side.drop(store, r)
    expect(live(store), 0, "live counters after drop")

    def run(made: list[Any], n: int) -> None:
        for _ in range(n):
            made.append(ctor(store, 1))

    def done(made: list[Any]) -> None:
        for r in made:
            side.drop(store, r)

    return Job(run, prep=lambda n: [], done=done)


def op_resource_method(side: Any) -> Job:
    store, inst = instance_of(side, "resources")
    ctor = side.func(inst, store, "[constructor]counter")
    inc = side.func(inst, store, "[method]counter.inc")
    r = ctor(store, 10)
    expect(inc(store, r), 11)
    return call_job(inc, store, r)


def op_resource_drop(side: Any) -> Job:
    store, inst = instance_of(side, "resources")
    ctor = side.func(inst, store, "[constructor]counter")
    live = side.func(inst, store, "live")
    side.drop(store, ctor(store, 1))
    expect(live(store), 0, "live counters after drop")

    def run(made: list[Any], n: int) -> None:
        for r in made:
            side.drop(store, r)

    return Job(run, prep=lambda n: [ctor(store, 1) for _ in range(n)])


def op_host_resource(side: Any) -> Job:
    store, inst = instance_of(side, "host_resource", host_resource="thing")
    f = side.func(inst, store, "pass")
    x = f(store, f(store, side.host_resource(42)))
    expect(side.host_resource_rep(store, x), 42, "rep")
    cell = [f(store, side.host_resource(43))]

    def run(_: Any, n: int) -> None:
        r = cell[0]
        for _ in range(n):
            r = f(store, r)
        cell[0] = r

    return Job(run)


def op_host_resource_borrow(side: Any) -> Job:
    store, inst = instance_of(side, "host_resource", host_resource="thing")
    peek = side.func(inst, store, "peek")
    own = side.func(inst, store, "pass")(store, side.host_resource(44))
    peek(store, own)
    return call_job(peek, store, own)


def op_instantiate(
    name: str, export: str, args: tuple[int, ...], want: int
) -> Callable[[Any], Job]:
    def setup(side: Any) -> Job:
        component = side.component(name)
        linker = side.linker()
        store = side.new_store()
        inst = side.instantiate(linker, store, component)
        expect(side.func(inst, store, export)(store, *args), want)

        def run(store: Any, n: int) -> None:
            for _ in range(n):
                side.instantiate(linker, store, component)

        return Job(run, prep=lambda n: side.new_store())

    return setup


def _real(side: Any, stubs: bool = False) -> tuple[Any, Any]:
    """The real component and a linker for it: each side's default (``stubs``: both sides
    linked to the same WASI stubs)."""
    key = "real"
    if key not in side._components:
        side._components[key] = _compiled_real(side)
    component = side._components[key]
    return component, side.real_linker(component, stubs)


def _compiled_real(side: Any) -> Any:
    """The real component compiled by ``side``, once per machine: its serialized form is cached
    on disk (keyed by the binary, the side and wasmtime's version), so a run deserializes it
    instead of compiling 18 MB of core wasm again (the quick mode stays under a minute)."""
    import hashlib
    from importlib.metadata import version

    blob = real_component()
    digest = hashlib.sha256(blob).hexdigest()[:16]
    path = (Path.home() / ".cache" / "wasm-component-bench" / "compiled"
            / f"{type(side).__name__}-{version('wasmtime')}-{digest}.bin")
    if path.exists():
        try:
            return side.deserialize(path.read_bytes())
        except Exception:  # another version's format: compile again below
            path.unlink()
    component = side.compile(blob)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(component.serialize())
    tmp.replace(path)
    return component


def op_real_instantiate(side: Any) -> Job:
    component, linker = _real(side)
    store = side.real_store()
    inst = side.instantiate(linker, store, component)
    expect(side.func(inst, store, "greet")(store, "World"), "Hello, World!")

    def run(store: Any, n: int) -> None:
        for _ in range(n):
            side.instantiate(linker, store, component)

    return Job(run, prep=lambda n: side.real_store())


def op_real_call(side: Any) -> Job:
    component, linker = _real(side)
    store = side.real_store()
    greet = side.func(side.instantiate(linker, store, component), store, "greet")
    expect(greet(store, "wörld"), "Hello, wörld!")
    return call_job(greet, store, "wörld")


def op_store_instantiate(side: Any) -> Job:
    """A new store and an instance of the tiny component in it (what a request handler does)."""
    component, linker = side.component("small"), side.linker()
    store = side.new_store()
    expect(side.func(side.instantiate(linker, store, component), store, "add")(store, 1, 2), 3)

    def run(_: Any, n: int) -> None:
        for _ in range(n):
            side.instantiate(linker, side.new_store(), component)

    return Job(run)


REQUESTS = 200


def op_requests(side: Any) -> Job:
    """The real component served per request: new store, instantiate, call, drop, in a loop
    of ``REQUESTS`` per iteration, as the row is defined (the time per request;
    ``benchmarks/request_rss.py`` runs the same loop and reports the peak RSS growth). Both
    sides linked to the same stubs. (A sample of a request or two measures something else:
    the first request after the collection each sample starts with runs with the caches
    emptied by it, over a millisecond slower on both sides.)"""
    component, linker = _real(side, stubs=True)

    def run(_: Any, n: int) -> None:
        for _ in range(n * REQUESTS):
            store = side.real_store(stubs=True)
            side.func(side.instantiate(linker, store, component), store, "greet")(store, "x")
            del store

    return Job(run, per=REQUESTS)


def op_real_first_result(side: Any) -> Job:
    """A new store, an instance of the real component and its first call, both sides linked
    to the same stubs."""
    component, linker = _real(side, stubs=True)

    def run(_: Any, n: int) -> None:
        for _ in range(n):
            store = side.real_store(stubs=True)
            greet = side.func(side.instantiate(linker, store, component), store, "greet")
            expect(greet(store, "World"), "Hello, World!")

    return Job(run)


def op_deserialize(side: Any) -> Job:
    """Rebuild the real component from its serialized form (no core compilation)."""
    component, _ = _real(side)
    blob = component.serialize()
    side.deserialize(blob)

    def run(_: Any, n: int) -> None:
        for _ in range(n):
            side.deserialize(blob)

    return Job(run)


def op_compile_big(side: Any) -> Job:
    blob = component_bytes("big")
    c = side.compile(blob)
    store = side.new_store()
    inst = side.instantiate(side.linker(), store, c)
    side.func(inst, store, "run")(store, 12345)

    def run(_: Any, n: int) -> None:
        for _ in range(n):
            side.compile(blob)

    return Job(run)


# -- wasi:filesystem (wasi-fs): a C component writing and reading 64 MiB (benchmarks/wasi_fs.py)


def _wasi_fs(name: str) -> Callable[[Any], Job]:
    def setup(side: Any) -> Job:
        sys.path.insert(0, str(HERE))
        import wasi_fs

        try:
            job: Job = getattr(wasi_fs, name)(side, Job)
        except wasi_fs.Unavailable as e:
            raise Unavailable(str(e)) from None
        return job

    return setup


@dataclass
class Op:
    key: str
    title: str
    setup: Callable[[Any], Job]


KIB, MIB = 1024, 1024 * 1024

OPS: list[Op] = [
    Op("nop", "nop call", op_nop),
    Op("add", "add(u32, u32) -> u32", op_add),
    Op("async-add", "await call_async of an async add (vs our sync add)", op_async_add),
    Op("params20", "20 u32 params (spilled to memory)", op_params20),
    *(
        Op(f"string-{enc}-{label}", f"string echo {enc}, {size_label}", op_echo_string(enc, size))
        for enc in ("utf8", "utf16")
        for label, size_label, size in (
            ("16B", "16 B", 16),
            ("4KiB", "4 KiB", 4 * KIB),
            ("1MiB", "1 MiB", MIB),
        )
    ),
    Op("bytes-in-4KiB", "list<u8> 4 KiB host->guest", op_bytes_in(4 * KIB)),
    Op("bytes-in-1MiB", "list<u8> 1 MiB host->guest", op_bytes_in(MIB)),
    Op("bytes-out-4KiB", "list<u8> 4 KiB guest->host", op_bytes_out(4 * KIB)),
    Op("bytes-out-1MiB", "list<u8> 1 MiB guest->host", op_bytes_out(MIB)),
    Op("u32s-64Ki", "list<u32> 64 Ki echo", op_u32s),
    Op("record", "record of 8 mixed fields echo", op_record),
    Op("records-1000", "list<record> 1,000 echo", op_records),
    Op("variant", "variant echo", op_variant),
    Op("option", "option<u32> echo", op_option),
    Op("result", "result<u32, string> echo", op_result),
    Op("flags", "flags (8) echo", op_flags),
    Op("import-nop", "guest->host nop import (per call)", op_import("nop")),
    Op("import-string", "guest->host import with 16 B string (per call)", op_import("log")),
    Op("resource-new", "guest resource constructor", op_resource_new),
    Op("resource-method", "guest resource method (borrow)", op_resource_method),
    Op("resource-drop", "guest resource drop (runs dtor)", op_resource_drop),
    Op("host-resource-own", "host resource own in -> own out", op_host_resource),
    Op("host-resource-borrow", "host resource borrow in", op_host_resource_borrow),
    Op(
        "instantiate-small",
        "instantiate small component",
        op_instantiate("small", "add", (1, 2), 3),
    ),
    Op(
        "instantiate-nested",
        "instantiate nested components",
        op_instantiate("nested", "add6", (1, 2, 3, 4, 5, 6), 21),
    ),
    Op("compile-10MiB", "compile a 10 MiB component", op_compile_big),
    Op("fs-write-64MiB", "write 64 MiB to a file in 64 KiB writes (C, whole run)",
       _wasi_fs("op_write")),
    Op("fs-read-64MiB", "read it back in 64 KiB reads (C, whole run)", _wasi_fs("op_read")),
    # not among the operations: a real component, for scale (componentize-py's CPython)
    Op("real-instantiate", "instantiate componentize-py's 18 MB component", op_real_instantiate),
    Op("real-call", "call it: greet(string) -> string in CPython", op_real_call),
    Op("real-first-result", "new store + instantiate + first greet call", op_real_first_result),
    Op("store-instantiate-tiny", "new store + instantiate small component",
       op_store_instantiate),
    Op("requests", "per request, a loop of 200 (real component): new store, instantiate, call, drop",
       op_requests),
    Op("deserialize", "deserialize componentize-py's 18 MB component", op_deserialize),
]


# --------------------------------------------------------------------------------------------
# Component-model async rows (benchmarks/async_rows.py: both columns are ours, against a
# reference that makes the ratio the measure).
# --------------------------------------------------------------------------------------------

_OURS: list[Any] = []


def _async_row(name: str) -> Callable[[Any], Job]:
    def setup(side: Any) -> Job:
        sys.path.insert(0, str(HERE))
        import async_rows

        if not _OURS:
            _OURS.append(side if isinstance(side, Ours) else Ours())
        ours = side if isinstance(side, Ours) else _OURS[0]
        job: Job = getattr(async_rows, name)(side, Job, ours)
        return job

    return setup


OPS.extend([
    Op("async-import", "await call_async: async host import round trip (vs our sync one)",
       _async_row("op_async_import")),
    Op("stream-in-1MiB", "stream<u8> host->guest, 1 MiB chunks, per MiB (vs 1 GB/s)",
       _async_row("op_stream_in")),
    Op("stream-out-1MiB", "stream<u8> guest->host, 1 MiB chunks, per MiB (vs 1 GB/s)",
       _async_row("op_stream_out")),
    Op("tasks-10k", "10,000 concurrent tasks in one store, per task (vs 1,000 tasks)",
       _async_row("op_tasks")),
    Op("stackful-yield", "stackful task: thread.yield suspends+resumes its fiber, per yield "
       "(vs a callback's YIELD)", _async_row("op_stackful_yield")),
])


# --------------------------------------------------------------------------------------------
# WASI rows (wasi-core): our `Linker.add_wasip2()` + `store.set_wasi(WasiConfig())` against
# wasmtime's `add_wasip2()` + `store.set_wasi(wasmtime.WasiConfig())`, on the same components.
# --------------------------------------------------------------------------------------------

WASI_WIT = (Path(__file__).resolve().parents[1] / "src" / "wasm_component" / "wasi" / "wit"
            / "0.2.12")
WASI_HELLO_APP = """
from wit_world import exports


class Run(exports.Run):
    def run(self) -> None:
        print("hello")
"""


def wasi_hello_component() -> bytes:
    """componentize-py's build of a command app printing "hello" (a `wasi:cli/run` export,
    about 18 MB), built once and cached."""
    return componentize_py("wasi-hello", WASI_HELLO_APP, WASI_WIT, "command")


def _wasi_linker(side: Any) -> Any:
    linker = side.wc.Linker(side.engine) if isinstance(side, Peer) else side.Linker(side.engine)
    linker.add_wasip2()
    return linker


def _wasi_store(side: Any) -> Any:
    """A new store with a default WASI context (no args or env, stdout discarded)."""
    if isinstance(side, Peer):
        store = side.wasmtime.Store(side.engine)
        store.set_wasi(side.wasmtime.WasiConfig())
    else:
        from wasm_component.wasi import WasiConfig

        store = side.new_store()
        store.set_wasi(WasiConfig())
    return store


def _wasi_component(side: Any, key: str, blob: Callable[[], bytes]) -> Any:
    if key not in side._components:
        side._components[key] = side.compile(blob())
    return side._components[key]


def _cli_run(side: Any, inst: Any, store: Any) -> Any:
    outer = inst.get_export_index(store, "wasi:cli/run@0.2.12")
    return inst.get_func(store, inst.get_export_index(store, "run", outer))


def _run_ok(side: Any, result: Any) -> bool:
    return getattr(result, "tag", None) == "ok" if isinstance(side, Peer) else \
        type(result).__name__ == "Ok"


def op_wasi_hello_run(side: Any) -> Job:
    """A componentize-py "hello" command run to completion: new store, instantiate, run."""
    component = _wasi_component(side, "wasi-hello", wasi_hello_component)
    linker = _wasi_linker(side)

    def once() -> None:
        store = _wasi_store(side)
        inst = side.instantiate(linker, store, component)
        result = _cli_run(side, inst, store)(store)
        if not _run_ok(side, result):
            raise CheckFailed(f"wasi:cli/run returned {result!r}")

    once()

    def run(_: Any, n: int) -> None:
        for _ in range(n):
            once()

    return Job(run)


def op_wasi_poll(export: str) -> Callable[[Any], Job]:
    """`wasi:io/poll.poll([p])` (or `p.block()`) on a ready pollable, per call."""

    def setup(side: Any) -> Job:
        component = _wasi_component(side, "wasi_poll", lambda: component_bytes("wasi_poll"))
        store = _wasi_store(side)
        f = side.func(side.instantiate(_wasi_linker(side), store, component), store, export)
        expect(f(store, 3), 3)

        def run(_: Any, n: int) -> None:
            for _ in range(n):
                f(store, IMPORT_CALLS)

        return Job(run, per=IMPORT_CALLS)

    return setup


WASI_OPS: list[Op] = [
    Op("wasi-hello-run", "WASI: componentize-py hello, new store + instantiate + run",
       op_wasi_hello_run),
    Op("wasi-poll-ready", "WASI: poll([ready pollable]) (per call)", op_wasi_poll("run")),
    Op("wasi-block-ready", "WASI: ready pollable.block() (per call)", op_wasi_poll("run-block")),
]
OPS.extend(WASI_OPS)


def wasi_summary(results: dict[str, Outcome]) -> str:
    """The WASI target that compares two of our own rows: poll on a ready pollable against a
    plain guest->host import call (``import-nop``), by wall time and by CPU time. The rows'
    samples differ in length (about one guest call of 1,000 polls against several of 1,000
    nops), so on a machine busy with other work the wall-time ratio also measures how much more
    often the longer samples were preempted. The CPU-time ratio is free of that bias (though
    not of other work sharing the cores and caches); instruction counts (callgrind) are the
    steadiest measure on such a machine."""
    base = results.get("import-nop")
    lines = []
    for key in ("wasi-poll-ready", "wasi-block-ready"):
        o = results.get(key)
        if o is not None and base is not None and o.ours_us and base.ours_us:
            cpu = (f", by CPU time {o.ours_cpu_us / base.ours_cpu_us:.2f}x"
                   if o.ours_cpu_us and base.ours_cpu_us else "")
            lines.append(f"- `{key}` / our `import-nop`: {o.ours_us / base.ours_us:.2f}x{cpu} "
                         f"(target <= 3x)")
    return ("\nWASI, against our own plain import call:\n\n" + "\n".join(lines) + "\n"
            if lines else "")


# --------------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------------


@dataclass
class Settings:
    rounds: int
    min_sample_ns: int
    budget_ns: int  # per operation and side, after setup
    max_iters: int = 1_000_000


@dataclass
class Runner:
    """One side of one operation: calibrates, then yields samples (ns per unit) on demand."""

    job: Job
    settings: Settings
    samples: list[float] = field(default_factory=list)
    #: the same samples in CPU time of the whole process (every thread): without the time the
    #: process waited for a core (on a loaded machine a long sample is preempted more often
    #: than a short one, which skews wall-time ratios between rows)
    cpu_samples: list[float] = field(default_factory=list)
    last_cpu: float = 0.0  # the last sample's CPU time
    n: int = 1
    rounds: int = 0
    note: str = ""

    def sample(self, n: int) -> float:
        state = self.job.prep(n)
        gc.collect()
        gc.disable()
        try:
            c0 = time.process_time_ns()
            t0 = time.perf_counter_ns()
            self.job.run(state, n)
            t1 = time.perf_counter_ns()
            c1 = time.process_time_ns()
        finally:
            gc.enable()
        self.job.done(state)
        self.last_cpu = (c1 - c0) / (n * self.job.per)
        return (t1 - t0) / (n * self.job.per)

    def calibrate(self) -> None:
        s = self.settings
        first = self.sample(1) * self.job.per  # ns per iteration, cold
        if first >= s.budget_ns:
            # too slow to repeat within the budget: the single (cold) sample is all we get
            self.samples = [first / self.job.per]
            self.rounds = 0
            self.note = "single cold sample"
            return
        self.n = min(s.max_iters, max(1, math.ceil(s.min_sample_ns / max(first, 1))))
        warm = self.sample(self.n) * self.job.per  # warm-up at full size, and a better estimate
        self.n = min(s.max_iters, max(1, math.ceil(s.min_sample_ns / max(warm, 1))))
        self.rounds = max(1, min(s.rounds, int(s.budget_ns // max(self.n * warm, 1))))
        if self.rounds < s.rounds:
            self.note = f"{self.rounds} round(s) (time budget)"

    def median_us(self) -> float:
        return statistics.median(self.samples) / 1000.0

    def median_cpu_us(self) -> float | None:
        return statistics.median(self.cpu_samples) / 1000.0 if self.cpu_samples else None


@dataclass
class Outcome:
    ours_us: float | None = None
    peer_us: float | None = None
    ours_cpu_us: float | None = None  # median CPU time (see ``Runner.cpu_samples``)
    ours_error: str | None = None
    peer_error: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        if self.ours_us is None or self.peer_us is None or self.peer_us == 0:
            return None
        return self.ours_us / self.peer_us


def _err(e: BaseException) -> str:
    """One line: the exception, and where it was raised (the innermost frame)."""
    msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
    where = ""
    tb = e.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is not None:
        path = Path(tb.tb_frame.f_code.co_filename)
        where = f" (at {'/'.join(path.parts[-2:])}:{tb.tb_lineno})"
    return f"{type(e).__name__}: {msg}"[:200] + where


def bench_op(
    op: Op, sides: dict[str, Any], settings: Settings, log: Callable[[str], None]
) -> Outcome:
    out = Outcome()
    runners: dict[str, Runner] = {}
    for who, side in sides.items():
        if isinstance(side, BaseException):
            setattr(out, f"{who}_error", _err(side))
            continue
        try:
            job = op.setup(side)
            if job.note:
                out.notes.append(f"{who}: {job.note}")
            runner = Runner(job, settings)
            runner.calibrate()
            runners[who] = runner
        except Exception as e:
            setattr(out, f"{who}_error", _err(e))
    # interleaved rounds: ours and peer alternate which goes first
    total = max((r.rounds for r in runners.values()), default=0)
    order = [w for w in ("ours", "peer") if w in runners]
    for k in range(total):
        for who in order if k % 2 == 0 else order[::-1]:
            r = runners[who]
            if k >= r.rounds or getattr(out, f"{who}_error"):
                continue
            try:
                r.samples.append(r.sample(r.n))
                r.cpu_samples.append(r.last_cpu)
            except Exception as e:
                setattr(out, f"{who}_error", _err(e))
    for who, r in runners.items():
        if getattr(out, f"{who}_error") is None and r.samples:
            setattr(out, f"{who}_us", r.median_us())
            if who == "ours":
                out.ours_cpu_us = r.median_cpu_us()
            if r.note:
                out.notes.append(f"{who}: {r.note}")
    for who in ("ours", "peer"):
        e = getattr(out, f"{who}_error")
        if e is not None:
            setattr(out, f"{who}_us", None)
    return out


# --------------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------------


def fmt_us(v: float | None) -> str:
    if v is None:
        return "n/a"
    if v >= 1000:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def fmt_ratio(r: float | None) -> str:
    if r is None:
        return "n/a"
    return f"{r:.2f}×" if r >= 0.01 else f"{r:.1e}×"


def _version(dist: str) -> str:
    try:
        from importlib.metadata import version

        return version(dist)
    except Exception:
        return "?"


def environment() -> str:
    return (
        f"Python {platform.python_version()}, wasmtime-py {_version('wasmtime')}, "
        f"wasm-component {_version('wasm-component')}, {platform.machine()}, {os.cpu_count()} CPU(s), "
        f"{time.strftime('%Y-%m-%d')}"
    )


def markdown(results: dict[str, Outcome], ops: list[Op], mode: str) -> str:
    lines = [
        "| Operation | wasm-component (µs) | wasmtime.component (µs) | ours / theirs |",
        "| --- | ---: | ---: | ---: |",
    ]
    foot: list[str] = []
    for op in ops:
        o = results[op.key]
        marks = ""
        for who in ("ours", "peer"):
            e = getattr(o, f"{who}_error")
            if e:
                foot.append(f"{op.key} ({who}): {e}")
                marks = marks or f" [{len(foot)}]"
        lines.append(
            f"| {op.title} (`{op.key}`){marks} | {fmt_us(o.ours_us)} | {fmt_us(o.peer_us)} "
            f"| {fmt_ratio(o.ratio)} |"
        )
    text = "\n".join(lines)
    text += (
        f"\n\nMedian time per operation ({mode} run; per import call for the guest->host rows). "
        f"Ratio below 1: wasm-component is faster.\n{environment()}.\n"
    )
    if foot:
        text += "\nNot measured:\n\n" + "\n".join(f"{i}. {m}" for i, m in enumerate(foot, 1)) + "\n"
    notes = [
        f"- `{op.key}`: " + "; ".join(results[op.key].notes) for op in ops if results[op.key].notes
    ]
    if notes:
        text += "\nSampling notes:\n\n" + "\n".join(notes) + "\n"
    return text


#: Each row's target, ours / the peer's time (the issues' numbers; a throughput target of
#: ">= 0.5 of the peer" is a time ratio of 2). Rows without one (`real-call`, and the WASI
#: poll rows, whose target is against our own `import-nop`: see `wasi_summary`) are drawn
#: against parity. Rows named here that a run lacks are ignored.
TARGETS: dict[str, float] = {
    "nop": 0.25, "add": 0.25, "params20": 0.25, "async-add": 3.0,
    "string-utf8-16B": 0.35, "string-utf8-4KiB": 0.35, "string-utf16-16B": 0.35,
    "string-utf16-4KiB": 0.35, "string-utf8-1MiB": 0.5, "string-utf16-1MiB": 0.5,
    "bytes-in-4KiB": 0.005, "bytes-out-4KiB": 0.005, "bytes-in-1MiB": 0.001,
    "bytes-out-1MiB": 0.001, "u32s-64Ki": 0.05, "records-1000": 0.5,
    "record": 0.5, "variant": 0.5, "option": 0.5, "result": 0.5, "flags": 0.5,
    "import-nop": 0.3, "import-string": 0.3,
    "resource-new": 0.5, "resource-method": 0.5, "resource-drop": 0.5,
    "host-resource-own": 0.5, "host-resource-borrow": 0.5,
    "instantiate-small": 1.5, "instantiate-nested": 1.5, "compile-10MiB": 1.1,
    "real-instantiate": 1.5, "real-first-result": 0.5, "store-instantiate-tiny": 1.2,
    "requests": 0.8, "deserialize": 1.2,
    "fs-write-64MiB": 2.0, "fs-read-64MiB": 2.0, "wasi-hello-run": 1.5,
    # async (the peer column is a reference: see benchmarks/async_rows.py)
    "async-import": 10.0, "stream-in-1MiB": 1.0, "stream-out-1MiB": 1.0, "tasks-10k": 1.5,
}


def chart(results: dict[str, Outcome], ops: list[Op], path: Path) -> str:
    """``ratios.png``: one bar per operation (ours / peer, log scale), grouped by area, with the
    operation's target as a dashed mark: green within it, red over it. Rows without a target of
    their own get the parity mark (1.0), and amber when above it. Also copied to
    ``docs/assets/ratios.png`` for the documentation site."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "chart skipped: matplotlib is not installed (pip install matplotlib)"
    targets = TARGETS
    areas = (
        ("calls", ("nop", "add", "params20", "async-add")),
        ("strings", ("string-",)),
        ("lists", ("bytes-", "u32s", "records-")),
        ("values", ("record", "variant", "option", "result", "flags")),
        ("host imports", ("import-",)),
        ("resources", ("resource-", "host-resource-")),
        ("instantiation", ("instantiate-", "store-", "compile", "deserialize", "requests")),
        ("WASI", ("fs-",)),
        ("real component", ("real-",)),
        ("async", ("async-import", "stream-", "tasks-", "stackful-")),
    )

    def area(key: str) -> int:
        for i, (_, prefixes) in enumerate(areas):
            if any(key == p or key.startswith(p) for p in prefixes):
                return i
        return len(areas)

    order = sorted(range(len(ops)), key=lambda i: (area(ops[i].key), i))
    keys = [ops[i].key for i in order]
    ratios = [results[k].ratio for k in keys]
    finite = [r for r in ratios if r is not None]
    lo = min([*finite, *targets.values(), 1.0]) / 2
    hi = max([*finite, 1.0]) * 4
    # y positions, with a gap and a label between areas
    ys: list[float] = []
    labels: list[tuple[float, str]] = []
    y, last = 0.0, -1
    for k in keys:
        a = area(k)
        if a != last:
            if last != -1:
                y += 0.8
            labels.append((y, areas[a][0] if a < len(areas) else "other"))
            y += 0.9
            last = a
        ys.append(y)
        y += 1
    fig, ax = plt.subplots(figsize=(9, 0.3 * y + 1.5))
    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    shown = [r if r is not None else lo for r in ratios]
    colors = []
    for k, r in zip(keys, ratios, strict=True):
        over = "#c62828" if k in targets else "#f9a825"
        colors.append("#999999" if r is None else "#2e7d32" if r <= targets.get(k, 1.0) else over)
    ax.barh(ys, shown, color=colors, height=0.8)
    for yy, k, r, x in zip(ys, keys, ratios, shown, strict=True):
        ax.text(x, yy, " " + fmt_ratio(r), va="center", fontsize=7)
        target = targets.get(k, 1.0)
        ax.plot([target, target], [yy - 0.45, yy + 0.45], color="black", linestyle="--",
                linewidth=1)
    for yy, name in labels:
        ax.text(lo * 1.05, yy, name, va="center", fontsize=8, fontweight="bold")
    ax.axvline(1.0, color="black", linewidth=0.6, alpha=0.4)
    ax.set_yticks(ys)
    ax.set_yticklabels(keys, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("time ratio wasm-component / wasmtime.component (log scale; < 1 is faster; "
                  "dashed: the row's target)")
    ax.set_title("wasm-component vs wasmtime.component\n(green: within target; red: over its "
                 "target; amber: above parity, no target of its own)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    docs = Path(__file__).resolve().parents[1] / "docs" / "assets"
    if docs.is_dir() and path.resolve() != (docs / path.name).resolve():
        import shutil

        shutil.copy(path, docs / path.name)
    return f"chart: {path}"


# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer rounds and a tighter time budget")
    p.add_argument("--rounds", type=int, help="rounds per operation (default 11, quick 3)")
    p.add_argument("--min-sample-ms", type=float, default=5.0, help="minimum length of a sample")
    p.add_argument(
        "--budget-s", type=float, help="time budget per operation and side (default 6, quick 0.8)"
    )
    p.add_argument(
        "--filter",
        action="append",
        default=[],
        help="only operations whose key contains this (repeatable)",
    )
    p.add_argument("--json", metavar="FILE", help="also write results as JSON to FILE")
    p.add_argument("--out", default=str(RESULTS), help="directory for results.md and ratios.png")
    p.add_argument("--no-chart", action="store_true")
    p.add_argument("--list", action="store_true", help="list the operations and exit")
    args = p.parse_args(argv)

    if args.list:
        for op in OPS:
            print(f"{op.key:24} {op.title}")
        return 0

    settings = Settings(
        rounds=args.rounds or (3 if args.quick else 11),
        min_sample_ns=int(args.min_sample_ms * 1e6),
        budget_ns=int((args.budget_s or (0.8 if args.quick else 6.0)) * 1e9),
    )
    ops = [op for op in OPS if not args.filter or any(f in op.key for f in args.filter)]
    if not ops:
        print("no operation matches", file=sys.stderr)
        return 2

    def log(msg: str) -> None:
        print(msg, flush=True)

    sides: dict[str, Any] = {}
    for who, cls in (("ours", Ours), ("peer", Peer)):
        try:
            sides[who] = cls()
        except Exception as e:  # ours may not be importable yet: every row becomes n/a
            sides[who] = e
            log(f"{cls.label}: unavailable ({_err(e)})")

    started = time.perf_counter()
    results: dict[str, Outcome] = {}
    log(f"{'operation':24} {'ours µs':>12} {'peer µs':>12} {'ratio':>8}")
    for op in ops:
        o = bench_op(op, sides, settings, log)
        results[op.key] = o
        extra = f"  ours n/a: {o.ours_error}" if o.ours_error else ""
        extra += f"  PEER n/a: {o.peer_error}" if o.peer_error else ""
        log(
            f"{op.key:24} {fmt_us(o.ours_us):>12} {fmt_us(o.peer_us):>12} "
            f"{fmt_ratio(o.ratio):>8}{extra[:160]}"
        )
    mode = "quick" if args.quick else "full"
    log(f"total {time.perf_counter() - started:.1f} s")

    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    md = markdown(results, ops, mode) + wasi_summary(results)
    (out_dir / "results.md").write_text(md)
    log(f"table: {out_dir / 'results.md'}")
    if not args.no_chart:
        log(chart(results, ops, out_dir / "ratios.png"))
    if args.json:
        data: dict[str, dict[str, Any]] = {}
        for op in ops:
            o = results[op.key]
            entry: dict[str, Any] = {"ours_us": o.ours_us, "peer_us": o.peer_us, "ratio": o.ratio,
                                     "ours_cpu_us": o.ours_cpu_us}
            if o.ours_error:
                entry["ours_error"] = o.ours_error
            if o.peer_error:
                entry["peer_error"] = o.peer_error
            data[op.key] = entry
        Path(args.json).write_text(json.dumps(data, indent=2) + "\n")
        log(f"json: {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
