"""Guest stacks parked on wasmtime fibers (``docs/design/async-runtime.md``, "Fibers").

A component that may suspend a guest stack (here: a stackful ``async`` lift that calls
``waitable-set.wait``) runs its guest calls on fibers: a task that blocks suspends its fiber and
its caller goes on; the scheduler resumes the fiber once the task may go on. These tests drive
that from the host: two stackful tasks interleaved through ``call_async``, a trap after a
resumption, an error in a built-in's rest after its wait, a fiber left suspended when its store
goes, a synchronous ``Func.__call__`` into such a component, and the core-level ``GuestStack``.
"""

from __future__ import annotations

import asyncio
import gc
import weakref
from typing import Any

import pytest

from wasm_component import Component, Engine, Linker, NotSupported, Store, Trap
from wasm_component._runtime import core
from wasm_component._validate.features import Features

from .stackful import stackful_component, stackful_instance


def test_a_stackful_component_runs_its_guest_calls_on_fibers() -> None:
    async def slow(store: Store, x: int) -> int:
        return x

    store, _ = stackful_instance(slow)
    assert store._core.fibers
    # (a component without a built-in that may suspend keeps the unchecked sync path)
    engine = Engine(features=Features.all())
    plain = Store(engine)
    add = """(component
      (core module $m (func (export "add") (param i32 i32) (result i32)
        (i32.add (local.get 0) (local.get 1))))
      (core instance $i (instantiate $m))
      (func (export "add") (param "a" u32) (param "b" u32) (result u32)
        (canon lift (core func $i "add"))))"""
    f = Linker(engine).instantiate(plain, Component.new(engine, add)).get_func(plain, "add")
    assert f is not None and f(plain, 2, 3) == 5
    assert not plain._core.fibers


def test_a_blocked_stackful_task_is_resumed_after_a_concurrent_task_ran() -> None:
    """Task 1 blocks (its fiber suspends) until task 2's host call has run; task 2 runs to its
    end meanwhile, then task 1 is resumed where it stopped (its locals kept)."""
    log: list[str] = []

    async def main() -> None:
        gate = asyncio.Event()

        async def slow(store: Store, x: int) -> int:
            log.append(f"slow {x}")
            if x == 1:
                await gate.wait()  # (until task 2 returned to its caller)
            else:
                await asyncio.sleep(0)
            log.append(f"slow {x} done")
            return x * 10

        store, run = stackful_instance(slow)

        async def call(x: int) -> int:
            r: int = await run.call_async(store, x)
            log.append(f"run {x} -> {r}")
            if x == 2:
                gate.set()
            return r

        assert list(await asyncio.gather(call(1), call(2))) == [11, 21]

    asyncio.run(main())
    assert log.index("run 2 -> 21") < log.index("slow 1 done") < log.index("run 1 -> 11")
    assert log.index("slow 1") < log.index("slow 2")  # (task 1 blocked before task 2 began)


def test_a_trap_after_a_resumption_surfaces_and_poisons_the_instance() -> None:
    async def slow(store: Store, x: int) -> int:
        await asyncio.sleep(0)
        return x

    store, run = stackful_instance(slow, stackful_component(after="unreachable"))
    with pytest.raises(Trap, match="unreachable"):
        run(store, 1)
    with pytest.raises(Trap, match="cannot enter component instance"):
        run(store, 2)


def test_an_error_in_a_built_ins_rest_after_its_wait_traps_the_guest() -> None:
    """``waitable-set.wait`` stores its event after the wait: out of bounds there is a Trap
    raised in the fiber's continuation (reported through the host call's trap slot)."""
    async def slow(store: Store, x: int) -> int:
        await asyncio.sleep(0)
        return x

    store, run = stackful_instance(slow, stackful_component(event_at="(i32.const 0xfffffff0)"))
    with pytest.raises(Trap, match="out of bounds"):
        run(store, 1)


def test_a_sync_call_runs_the_scheduler_and_a_private_loop() -> None:
    """``Func.__call__`` into a fiber component: the host operation runs on the scheduler's
    own loop while the task's fiber is suspended."""
    async def slow(store: Store, x: int) -> int:
        await asyncio.sleep(0)
        return x * 3

    store, run = stackful_instance(slow)
    assert run(store, 5) == 16
    assert run(store, 6) == 19


def test_a_sync_call_inside_a_running_loop_says_call_async() -> None:
    async def slow(store: Store, x: int) -> int:
        await asyncio.sleep(0)
        return x

    store, run = stackful_instance(slow)

    async def main() -> None:
        with pytest.raises(NotSupported, match="call_async"):
            run(store, 1)

    asyncio.run(main())


def test_a_fiber_left_suspended_is_unwound_when_its_store_goes() -> None:
    """A task that can never go on (it waits on an empty set: the deadlock trap) leaves its
    fiber suspended; dropping the store unwinds it, with no guest code run and no crash."""
    text = stackful_component().replace(
        "(local.set $r (call $slow (local.get $x) (local.get $at)))",
        "(local.set $r (i32.const 1))").replace(
        "(call $join (i32.shr_u (local.get $r) (i32.const 4)) (local.get $ws))", "")

    async def slow(store: Store, x: int) -> int:
        return x

    store, run = stackful_instance(slow, text)
    with pytest.raises(Trap, match="deadlock"):
        run(store, 1)
    stacks = list(store._core._stacks or ())
    assert len(stacks) == 1 and not stacks[0].done
    ref = weakref.ref(stacks[0])
    stack = stacks[0]
    del stacks, run
    del store
    gc.collect()
    assert stack.done and "dropped" in str(stack.error)
    del stack
    gc.collect()
    assert ref() is None


# -- core: GuestStack and Suspend ------------------------------------------------------------

WAT = """(module
  (import "h" "wait" (func $w (param i32) (result i32)))
  (func (export "run") (param i32) (result i32) (i32.add (call $w (local.get 0)) (i32.const 1)))
  (func (export "trap") (param i32) (result i32) (drop (call $w (local.get 0))) unreachable))"""
FT = core.CoreFuncType(("i32",), ("i32",))


def _core_instance() -> tuple[core.CoreStore, core.CoreInstance, dict[str, bool]]:
    engine = core.CoreEngine()
    store = core.CoreStore(engine)
    store.enable_fibers()
    flags: dict[str, bool] = {}

    def wait(x: int) -> Any:
        def poll() -> Any:
            if not flags.get("go"):
                return core.PENDING
            if flags.get("boom"):
                raise ValueError("after the wait")
            return x * 2

        return core.Suspend(poll)

    host = core.new_async_host_func(store, ("i32",), ("i32",), wait)
    module = core.compile_module(engine, core.wat2wasm(WAT))
    return store, core.instantiate(store, module, [host]), flags


def test_guest_stacks_suspend_and_resume_in_any_order() -> None:
    store, inst, flags = _core_instance()
    a = core.GuestStack(inst.func("run"), FT, (20,))
    b = core.GuestStack(inst.func("run"), FT, (5,))
    assert not a.poll() and not b.poll()
    assert not a.poll()  # (still pending: stays suspended)
    flags["go"] = True
    assert b.poll() and b.result() == (11,)
    assert a.poll() and a.result() == (41,)
    store.release()


def test_a_trap_and_an_exception_after_a_resumption() -> None:
    store, inst, flags = _core_instance()
    s = core.GuestStack(inst.func("trap"), FT, (1,))
    assert not s.poll()
    flags["go"] = True
    assert s.poll()
    with pytest.raises(Trap, match="unreachable"):
        s.result()
    flags["go"] = False
    s = core.GuestStack(inst.func("run"), FT, (1,))
    assert not s.poll()
    flags.update(go=True, boom=True)
    assert s.poll()
    with pytest.raises(ValueError, match="after the wait"):
        s.result()
    store.release()


def test_a_dropped_or_collected_suspended_stack_unwinds_at_a_safe_point() -> None:
    store, inst, flags = _core_instance()
    s = core.GuestStack(inst.func("run"), FT, (1,))
    assert not s.poll()
    s.drop()
    assert s.done and "dropped" in str(s.error)
    t = core.GuestStack(inst.func("run"), FT, (2,))
    assert not t.poll()
    del t
    gc.collect()
    assert len(store._orphans) == 1  # (not dropped inside a finalizer)
    flags["go"] = True
    u = core.GuestStack(inst.func("run"), FT, (3,))
    assert u.poll() and u.result() == (7,)  # (the orphan was dropped before this poll)
    assert store._orphans == []
    store.release()


def test_a_sync_caller_in_a_store_with_fibers_waits_for_its_stack() -> None:
    store, inst, flags = _core_instance()
    waited: list[core.GuestStack] = []

    def waiter(stack: core.GuestStack) -> None:
        waited.append(stack)
        flags["go"] = True
        assert stack.poll()

    store.stack_waiter = waiter
    call = inst.func("run").make_caller(FT)
    assert call((4,)) == (9,) and len(waited) == 1
    store.stack_waiter = None
    flags["go"] = False
    with pytest.raises(NotSupported, match="suspended its stack"):
        call((4,))
    store.release()


START_YIELDS = """
(component
  (core func $yield (canon thread.yield))
  (core module $m
    (import "" "yield" (func $yield (result i32)))
    (func $start (drop (call $yield)))
    (start $start))
  (core instance $i (instantiate $m (with "" (instance (export "yield" (func $yield))))))
)
"""


def test_a_core_start_function_reaching_a_blocking_built_in_traps_without_aborting() -> None:
    """A start function runs on a fiber in a store with fibers (a sync instantiation reaching
    an async host function would abort the process); outside any task, the built-in traps.
    Run in a subprocess: an abort must fail this test, not end the test run."""
    import subprocess
    import sys

    code = f"""
from wasm_component import Component, Engine, Linker, Store, Trap
from wasm_component._validate.features import Features
engine = Engine(features=Features.all())
store = Store(engine)
try:
    Linker(engine).instantiate(store, Component.new(engine, {START_YIELDS!r}))
except Trap as e:
    print("trap:", e)
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "trap:" in proc.stdout and "outside a task" in proc.stdout, proc.stdout


# -- differential: thread switching against the spec's reference -------------------------------
#
# A scenario gives each thread a straight-line program: ``("log", k)``, ``("new", c)`` (a new
# thread running program ``c``; thread ``c``'s index is kept for the others), ``("switch", c)``
# (``thread.suspend-then-resume``), ``("yield_to", c)`` (``thread.yield-then-resume``),
# ``("later", c)`` (``thread.resume-later``), ``("suspend",)``. Program 0 is the stackful
# export's own (implicit) thread, which ends with ``task.return``. The same scenario runs in the
# reference (``shared/spec/canonical-abi/definitions.py``, its threads on OS threads) and as a
# generated component here; the order of the logged values must be the same. The scenarios have
# at most one ready thread whenever the spec picks one (it picks at random).

SCENARIOS: list[dict[int, list[tuple[Any, ...]]]] = [
    {0: [("new", 1), ("new", 2), ("log", 10), ("switch", 1), ("log", 11)],
     1: [("log", 20), ("later", 0), ("switch", 2), ("log", 21)],
     2: [("log", 30), ("switch", 1), ("log", 31)]},
    {0: [("new", 1), ("log", 10), ("yield_to", 1), ("log", 11)],
     1: [("log", 20), ("suspend",), ("log", 21)]},
    {0: [("new", 1), ("later", 1), ("log", 10), ("suspend",), ("log", 11)],
     1: [("log", 20), ("later", 0), ("log", 21)]},
    {0: [("new", 1), ("new", 2), ("later", 2), ("switch", 1), ("log", 11)],
     1: [("log", 20), ("yield_to", 0), ("log", 21)],
     2: [("log", 30), ("later", 1), ("log", 31)]},
    # ``thread.spawn-indirect``: a new thread made ready at once (new-indirect + resume-later)
    {0: [("spawn", 1), ("log", 10), ("suspend",), ("log", 11)],
     1: [("log", 20), ("later", 0), ("log", 21)]},
    {0: [("spawn", 1), ("log", 10), ("suspend",), ("log", 11)],
     1: [("log", 20), ("spawn", 2), ("log", 21)],
     2: [("log", 30), ("later", 0), ("log", 31)]},
]


def _reference_log(scenario: dict[int, list[tuple[Any, ...]]]) -> list[int]:
    from tests.abi.test_concurrency_differential import d

    store = d.Store()
    inst = d.ComponentInstance(store)
    log: list[int] = []
    index: dict[int, int] = {}
    ftbl = d.Table()
    ft = d.CoreFuncType(["i32"], [])
    opts = d.CanonicalOptions(async_=True)

    def run(ops: list[tuple[Any, ...]]) -> None:
        for op in ops:
            match op:
                case ("log", k):
                    log.append(k)
                case ("new", c):
                    [index[c]] = d.canon_thread_new_indirect(ft, ftbl, slots[c], c)
                case ("spawn", c):  # (the spec defines it so: the reference has no spawn)
                    [index[c]] = d.canon_thread_new_indirect(ft, ftbl, slots[c], c)
                    d.canon_thread_resume_later(index[c])
                case ("switch", c):
                    d.canon_thread_suspend_then_resume(False, index[c])
                case ("yield_to", c):
                    d.canon_thread_yield_then_resume(False, index[c])
                case ("later", c):
                    d.canon_thread_resume_later(index[c])
                case ("suspend",):
                    d.canon_thread_suspend(False)

    def worker(args: list[int]) -> list[int]:
        run(scenario[args[0]])
        return []

    slots = {c: ftbl.add(d.CoreFuncRef(ft, worker)) for c in scenario if c}

    def main(args: list[int]) -> list[int]:
        [index[0]] = d.canon_thread_index()
        run(scenario[0])
        d.canon_task_return([], opts, [])
        return []

    done: list[Any] = []
    func = store.lift(main, d.FuncType([], [], async_=True), opts, inst)
    store.invoke(func, lambda: [], done.append)
    for _ in range(100):
        if done:
            break
        store.tick()
    assert done, "the reference's task resolved"
    return log


def _component_text(scenario: dict[int, list[tuple[Any, ...]]]) -> str:
    def body(ops: list[tuple[Any, ...]]) -> str:
        out = []
        for op in ops:
            match op:
                case ("log", k):
                    out.append(f"(call $log (i32.const {k}))")
                case ("new" | "spawn" as how, c):
                    out.append(f"(global.set $t{c} (call ${how} (i32.const {c}) "
                               f"(i32.const {c})))")
                case ("switch", c):
                    out.append(f"(drop (call $switch (global.get $t{c})))")
                case ("yield_to", c):
                    out.append(f"(drop (call $yield_to (global.get $t{c})))")
                case ("later", c):
                    out.append(f"(call $later (global.get $t{c}))")
                case ("suspend",):
                    out.append("(drop (call $suspend))")
        return "\n        ".join(out)

    n = max(scenario) + 1
    globals_ = "\n    ".join(f"(global $t{c} (mut i32) (i32.const 0))" for c in range(n))
    workers = "\n    ".join(
        f"(func $p{c} (param i32)\n        {body(scenario[c])})" for c in range(1, n))
    elem = " ".join(f"$p{c}" for c in range(1, n))
    return f"""
(component
  (import "log" (func $log (param "x" u32)))
  (core module $libc (table (export "tbl") {n} funcref))
  (core instance $libc (instantiate $libc))
  (core type $start (func (param i32)))
  (alias core export $libc "tbl" (core table $tbl))
  (core func $log (canon lower (func $log)))
  (core func $new (canon thread.new-indirect $start (core table $tbl)))
  (core func $spawn (canon thread.spawn-indirect $start (core table $tbl)))
  (core func $index (canon thread.index))
  (core func $switch (canon thread.suspend-then-resume))
  (core func $yield_to (canon thread.yield-then-resume))
  (core func $later (canon thread.resume-later))
  (core func $suspend (canon thread.suspend))
  (core func $ret (canon task.return))
  (core module $m
    (import "" "log" (func $log (param i32)))
    (import "" "new" (func $new (param i32 i32) (result i32)))
    (import "" "spawn" (func $spawn (param i32 i32) (result i32)))
    (import "" "index" (func $index (result i32)))
    (import "" "switch" (func $switch (param i32) (result i32)))
    (import "" "yield_to" (func $yield_to (param i32) (result i32)))
    (import "" "later" (func $later (param i32)))
    (import "" "suspend" (func $suspend (result i32)))
    (import "" "ret" (func $ret))
    (import "libc" "tbl" (table {n} funcref))
    {globals_}
    {workers}
    (elem (i32.const 1) func {elem})
    (func (export "run")
        (global.set $t0 (call $index))
        {body(scenario[0])}
        (call $ret)))
  (core instance $i (instantiate $m
    (with "" (instance
      (export "log" (func $log)) (export "new" (func $new)) (export "index" (func $index))
      (export "spawn" (func $spawn))
      (export "switch" (func $switch)) (export "yield_to" (func $yield_to))
      (export "later" (func $later)) (export "suspend" (func $suspend))
      (export "ret" (func $ret))))
    (with "libc" (instance $libc))))
  (func (export "run") async (canon lift (core func $i "run") async)))
"""


@pytest.mark.parametrize("k", range(len(SCENARIOS)))
def test_thread_switching_matches_the_spec_reference(k: int) -> None:
    scenario = SCENARIOS[k]
    want = _reference_log(scenario)
    engine = Engine(features=Features.all())
    store = Store(engine)
    linker = Linker(engine)
    got: list[int] = []
    linker.root().func_wrap("log", lambda store, x: got.append(x))
    inst = linker.instantiate(store, Component.new(engine, _component_text(scenario)))
    run = inst.get_func(store, "run")
    assert run is not None
    run(store)
    assert got == want, (got, want)
    assert len(want) >= 2
