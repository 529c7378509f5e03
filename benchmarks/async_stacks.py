"""Prototype: two ways the async runtime could park a guest's stack, measured.

1. wasmtime fibers: ``wasmtime_func_call_async`` returns a future driven by
   ``wasmtime_call_future_poll``; a host function defined with
   ``wasmtime_linker_define_async_func`` returns a continuation the poll loop asks again, so
   the guest stays suspended (on its fiber stack) until the continuation reports ready.
2. OS threads: the guest runs on a worker thread; a host function that must block hands control
   back to the driving thread and waits to be resumed.

Each guest call of ``wait`` below is one suspend and one resume. Run:
``python benchmarks/async_stacks.py``; the results are written up in
``docs/design/async-stacks.md``. (A benchmark script, outside the package: it uses wasmtime's
ctypes bindings directly.)
"""

from __future__ import annotations

import ctypes
import threading
import time

import wasmtime
from wasmtime import _bindings as b
from wasmtime import _ffi as ffi

N = 20000
WAT = """
(module
  (import "host" "wait" (func $wait (param i32) (result i32)))
  (func (export "run") (param $n i32) (result i32) (local $acc i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $acc (i32.add (local.get $acc) (call $wait (local.get $n))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $l)))
    (local.get $acc))
  (func (export "trap_after") (param i32) (result i32)
    (drop (call $wait (local.get 0))) unreachable))
"""


def fibers() -> None:
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    module = wasmtime.Module(engine, WAT)
    linker = wasmtime.Linker(engine)
    ctx = store._context()
    i32 = wasmtime.ValType.i32()
    fty = wasmtime.FuncType([i32], [i32])
    polls = [0]

    @b.wasmtime_func_async_continuation_callback_t
    def cont(env: int) -> bool:  # pending on the first poll: the guest stays suspended
        polls[0] += 1
        return polls[0] % 2 == 0

    @b.wasmtime_func_async_callback_t
    def host(env, caller, args, nargs, results, nresults, trap, continuation):  # type: ignore[no-untyped-def]
        results[0].kind = ffi.WASMTIME_I32.value
        results[0].of.i32 = args[0].of.i32 * 2
        continuation.contents.callback = cont
        continuation.contents.env = None

    finalizer = ctypes.CFUNCTYPE(None, ctypes.c_void_p)(0)
    err = b._wasmtime_linker_define_async_func(
        linker.ptr(), b"host", 4, b"wait", 4, fty.ptr(), host, None, finalizer)
    assert not err
    raw = ffi.wasmtime_instance_t()
    trap0 = ctypes.POINTER(ffi.wasm_trap_t)()
    error0 = ctypes.POINTER(ffi.wasmtime_error_t)()
    fut0 = b._wasmtime_linker_instantiate_async(linker.ptr(), ctx, module.ptr(), ctypes.byref(raw),
                                                ctypes.byref(trap0), ctypes.byref(error0))
    while not b._wasmtime_call_future_poll(fut0):
        pass
    b._wasmtime_call_future_delete(fut0)
    assert not trap0 and not error0
    inst = wasmtime.Instance._from_raw(raw)
    for name, n, want in (("run", N, N * (N + 1)), ("trap_after", 1, None)):
        func = inst.exports(store)[name]
        args = (ffi.wasmtime_val_t * 1)()
        args[0].kind = ffi.WASMTIME_I32.value
        args[0].of.i32 = n
        out = (ffi.wasmtime_val_t * 1)()
        trap = ctypes.POINTER(ffi.wasm_trap_t)()
        error = ctypes.POINTER(ffi.wasmtime_error_t)()
        polls[0] = 0
        t = time.perf_counter()
        fut = b._wasmtime_func_call_async(ctx, ctypes.byref(func._func), args, 1, out, 1,
                                          ctypes.byref(trap), ctypes.byref(error))
        rounds = 1
        while not b._wasmtime_call_future_poll(fut):
            rounds += 1
        dt = time.perf_counter() - t
        b._wasmtime_call_future_delete(fut)
        if want is not None:
            acc = out[0].of.i32 & 0xFFFFFFFF
            assert acc == want & 0xFFFFFFFF, (acc, want)
            print(f"fibers: {N} suspends+resumes in {dt * 1e3:.1f} ms: "
                  f"{dt / N * 1e6:.2f} µs per switch pair ({rounds} polls)")
        else:
            print(f"fibers: trap after a suspension reported: trap={bool(trap)} "
                  f"error={bool(error)}")


def threads() -> None:
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    module = wasmtime.Module(engine, WAT)
    to_driver, to_guest = threading.Semaphore(0), threading.Semaphore(0)

    def wait(x: int) -> int:
        to_driver.release()  # park: the driver runs until it resumes us
        to_guest.acquire()
        return x * 2

    i32 = wasmtime.ValType.i32()
    host = wasmtime.Func(store, wasmtime.FuncType([i32], [i32]), wait)
    inst = wasmtime.Instance(store, module, [host])
    for name, n in (("run", N), ("trap_after", 1)):
        func = inst.exports(store)[name]
        result: list[object] = []

        def guest(func: wasmtime.Func = func, n: int = n, result: list[object] = result) -> None:
            try:
                result.append(func(store, n))
            except wasmtime.Trap as e:
                result.append(e)
            to_driver.release()

        t = time.perf_counter()
        worker = threading.Thread(target=guest)
        worker.start()
        switches = 0
        while True:
            to_driver.acquire()
            if result:
                break
            switches += 1
            to_guest.release()
        worker.join()
        dt = time.perf_counter() - t
        if name == "run":
            print(f"threads: {switches} suspends+resumes in {dt * 1e3:.1f} ms: "
                  f"{dt / switches * 1e6:.2f} µs per switch pair")
        else:
            print(f"threads: trap after a suspension reported: {type(result[0]).__name__}")


if __name__ == "__main__":
    fibers()
    threads()
