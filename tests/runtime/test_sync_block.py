"""A task of a non-``async`` function type that waits before returning: the end of the spec's
``canon_lift`` runs only the ready threads of the task's own instance (never another
instance's, nor the thread holding the instance's exclusive lock) until the task returns, and
traps (``cannot block a synchronous task before returning``) when none is ready. Before, the
whole store's ready threads ran (a sibling instance's thread ran during the sync call), and a
wait with nothing ready trapped as a deadlock. Found by the Component Model spec suite's
``during-sync-call-*`` files (``tests/tools/spec_suite.py``); these are our own components."""

from __future__ import annotations

import asyncio

import pytest

from wasm_component import Component, Engine, Func, Linker, Store, Trap
from wasm_component._validate.features import Features

# $S: `arm` leaves one thread of $S ready (it traps if it ever runs; its count says whether
# it did). $I: `block` (non-async) suspends its only thread; `yield-then-42` (non-async)
# starts a thread of its own instance that wakes the implicit thread, then suspends: the
# instance's own ready thread lets the sync task go on.
SIBLING = """
(component
  (component $S
    (core module $T (table (export "t") 1 funcref))
    (core instance $t (instantiate $T))
    (core module $M
      (import "" "new" (func $new (param i32 i32) (result i32)))
      (import "" "later" (func $later (param i32)))
      (import "" "t" (table 1 funcref))
      (global $ran (mut i32) (i32.const 0))
      (func $body (param i32) (global.set $ran (i32.const 1)))
      (elem (i32.const 0) func $body)
      (func (export "arm") (call $later (call $new (i32.const 0) (i32.const 0))))
      (func (export "ran") (result i32) (global.get $ran)))
    (core type $start (func (param i32)))
    (alias core export $t "t" (core table $tbl))
    (core func $new (canon thread.new-indirect $start (core table $tbl)))
    (core func $later (canon thread.resume-later))
    (core instance $m (instantiate $M (with "" (instance
      (export "new" (func $new)) (export "later" (func $later)) (export "t" (table $tbl))))))
    (func (export "arm") (canon lift (core func $m "arm")))
    (func (export "ran") (result u32) (canon lift (core func $m "ran"))))
  (component $I
    (core module $T (table (export "t") 1 funcref))
    (core instance $t (instantiate $T))
    (core module $M
      (import "" "suspend" (func $suspend (result i32)))
      (import "" "new" (func $new (param i32 i32) (result i32)))
      (import "" "later" (func $later (param i32)))
      (import "" "index" (func $index (result i32)))
      (import "" "t" (table 1 funcref))
      (global $main (mut i32) (i32.const 0))
      (func $helper (param i32)
        (call $later (global.get $main))
        (drop (call $suspend)))
      (elem (i32.const 0) func $helper)
      (func (export "block") (drop (call $suspend)) unreachable)
      (func (export "yield-then-42") (result i32)
        (global.set $main (call $index))
        (call $later (call $new (i32.const 0) (i32.const 0)))
        (drop (call $suspend))
        (i32.const 42)))
    (core type $start (func (param i32)))
    (alias core export $t "t" (core table $tbl))
    (core func $suspend (canon thread.suspend))
    (core func $new (canon thread.new-indirect $start (core table $tbl)))
    (core func $later (canon thread.resume-later))
    (core func $index (canon thread.index))
    (core instance $m (instantiate $M (with "" (instance
      (export "suspend" (func $suspend)) (export "new" (func $new))
      (export "later" (func $later)) (export "index" (func $index))
      (export "t" (table $tbl))))))
    (func (export "block") (canon lift (core func $m "block")))
    (func (export "yield-then-42") (result u32) (canon lift (core func $m "yield-then-42"))))
  (instance $s (instantiate $S))
  (instance $i (instantiate $I))
  (func (export "arm") (alias export $s "arm"))
  (func (export "ran") (alias export $s "ran"))
  (func (export "block") (alias export $i "block"))
  (func (export "yield-then-42") (alias export $i "yield-then-42"))
)
"""


def _exports() -> tuple[Store, list[Func]]:
    engine = Engine(features=Features.all())
    store = Store(engine, None)
    inst = Linker(engine).instantiate(store, Component.new(engine, SIBLING))
    funcs = [inst.get_func(store, n) for n in ("arm", "ran", "block", "yield-then-42")]
    assert all(f is not None for f in funcs)
    return store, [f for f in funcs if f is not None]


def test_a_sync_task_with_no_ready_thread_of_its_instance_traps() -> None:
    store, (arm, _, block, _) = _exports()
    arm(store)
    with pytest.raises(Trap, match="cannot block a synchronous task before returning"):
        block(store)


def test_a_sync_task_goes_on_through_its_own_instances_ready_threads_only() -> None:
    store, (arm, ran, _, go) = _exports()
    arm(store)
    assert go(store) == 42
    assert ran(store) == 0  # (the sibling's ready thread did not run during the sync call)


def test_the_trap_leaves_the_instance_poisoned() -> None:
    store, (arm, _, block, _) = _exports()
    arm(store)
    with pytest.raises(Trap, match="cannot block a synchronous task before returning"):
        block(store)
    with pytest.raises(Trap, match="cannot enter component instance"):
        block(store)


# The same rule on a stack that is not a fiber. $B's `go` (non-async) calls `wait`, a sync
# import the host implements with `async def`: its task waits for the host operation on the
# native stack it runs on (nothing in this component puts the store on fibers). $S's `start`
# (async, callback-lifted) returns at once and leaves its task's event loop ready, counting
# each callback it runs.
NO_FIBERS = """
(component
  (import "wait" (func $wait))
  (component $S
    (core module $M
      (import "" "return" (func $ret))
      (global $n (mut i32) (i32.const 0))
      (func (export "start") (result i32) (call $ret) (i32.const 1))  ;; YIELD
      (func (export "cb") (param i32 i32 i32) (result i32)
        (global.set $n (i32.add (global.get $n) (i32.const 1)))
        (i32.lt_u (global.get $n) (i32.const 3)))  ;; YIELD twice, then EXIT
      (func (export "ran") (result i32) (global.get $n)))
    (core func $ret (canon task.return))
    (core instance $m (instantiate $M (with "" (instance (export "return" (func $ret))))))
    (func (export "start") async
      (canon lift (core func $m "start") async (callback (core func $m "cb"))))
    (func (export "ran") (result u32) (canon lift (core func $m "ran"))))
  (component $B
    (import "wait" (func $w))
    (core func $wl (canon lower (func $w)))
    (core module $M (import "" "w" (func $w))
      (func (export "go") (result i32) (call $w) (i32.const 7)))
    (core instance $m (instantiate $M (with "" (instance (export "w" (func $wl))))))
    (func (export "go") (result u32) (canon lift (core func $m "go"))))
  (instance $s (instantiate $S))
  (instance $b (instantiate $B (with "wait" (func $wait))))
  (func (export "start") (alias export $s "start"))
  (func (export "ran") (alias export $s "ran"))
  (func (export "go") (alias export $b "go")))
"""


def test_on_a_stack_that_is_not_a_fiber_a_sibling_does_not_run_either() -> None:
    engine = Engine(features=Features.all())
    linker = Linker(engine)

    async def wait(store: Store) -> None:
        await asyncio.sleep(0)

    linker.root().func_wrap_async("wait", wait)
    store = Store(engine, None)
    inst = linker.instantiate(store, Component.new(engine, NO_FIBERS))
    start, ran, go = (inst.get_func(store, n) for n in ("start", "ran", "go"))
    assert start is not None and ran is not None and go is not None
    assert not store._core.fibers  # (the case: `go` waits on the stack it runs on)
    start(store)
    assert ran(store) == 0  # ($S's event loop is ready, not yet run)
    assert go(store) == 7  # (the host operation is waited for)
    assert ran(store) == 0  # (before: 3, $S's callbacks ran during the sync call)
