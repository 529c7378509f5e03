"""``call_async`` of a ``callback``-lifted export: the generated common case (``fast_lift``)
against the general path (``tasks.call_async``), on the same components: the same results,
errors and thread indices, and the hand-off to the general path whenever the common case does
not hold (a callback code other than EXIT, a trap, bad arguments, a task that never returned,
an instance that cannot be entered)."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest

from wasm_component import Component, Engine, Linker, Store, Trap
from wasm_component._runtime import tasks
from wasm_component._validate.features import Features

# `add` returns at once; `index` returns its thread's index (`thread.index`) and keeps the
# context slot's previous value; `later` yields first (the callback returns the value);
# `trap` traps; `noret` exits without `task.return`; `waitret` returns and then WAITs on a
# set with nothing in it (a deadlock for its caller)
WAT = """(component
  (core func $ret (canon task.return (result u32)))
  (core func $index (canon thread.index))
  (core func $ws (canon waitable-set.new))
  (core module $m
    (import "" "ret" (func $ret (param i32)))
    (import "" "index" (func $index (result i32)))
    (import "" "ws" (func $ws (result i32)))
    (global $a (mut i32) (i32.const 0))
    (func (export "add") (param i32 i32) (result i32)
      (call $ret (i32.add (local.get 0) (local.get 1)))
      (i32.const 0))
    (func (export "index") (result i32)
      (call $ret (call $index))
      (i32.const 0))
    (func (export "later") (param i32) (result i32)
      (global.set $a (local.get 0))
      (i32.const 1))
    (func (export "trap") (result i32) unreachable)
    (func (export "noret") (result i32) (i32.const 0))
    (func (export "waitret") (result i32)
      (call $ret (i32.const 7))
      (i32.or (i32.const 2) (i32.shl (call $ws) (i32.const 4))))
    (func (export "cb") (param i32 i32 i32) (result i32)
      (call $ret (i32.mul (global.get $a) (i32.const 10)))
      (i32.const 0)))
  (core instance $i (instantiate $m (with "" (instance
    (export "ret" (func $ret)) (export "index" (func $index)) (export "ws" (func $ws))))))
  (func (export "add") async (param "a" u32) (param "b" u32) (result u32)
    (canon lift (core func $i "add") async (callback (core func $i "cb"))))
  (func (export "index") async (result u32)
    (canon lift (core func $i "index") async (callback (core func $i "cb"))))
  (func (export "later") async (param "x" u32) (result u32)
    (canon lift (core func $i "later") async (callback (core func $i "cb"))))
  (func (export "trap") async (result u32)
    (canon lift (core func $i "trap") async (callback (core func $i "cb"))))
  (func (export "noret") async (result u32)
    (canon lift (core func $i "noret") async (callback (core func $i "cb"))))
  (func (export "waitret") async (result u32)
    (canon lift (core func $i "waitret") async (callback (core func $i "cb")))))"""


class Side:
    """One instance of ``WAT``, called by the fast path or by the general one."""

    def __init__(self, fast: bool) -> None:
        engine = Engine(features=Features.all())
        self.store: Store[Any] = Store(engine)
        self.inst = Linker(engine).instantiate(self.store, Component.new(engine, WAT))
        self.fast = fast
        self.funcs: dict[str, Any] = {}

    def get(self, name: str) -> Any:
        f = self.funcs.get(name)
        if f is None:
            f = self.funcs[name] = self.inst.get_func(self.store, name)
            assert f is not None, name
        return f

    def call(self, name: str, *args: Any) -> Any:
        f = self.get(name)
        coro = f.call_async(self.store, *args)
        if not self.fast:
            coro.close()  # (the same function, its general path)
            coro = tasks.call_async(f._f._async_lift, args)
        return asyncio.run(coro)

    def outcome(self, name: str, *args: Any) -> tuple[str, Any]:
        try:
            return ("ok", self.call(name, *args))
        except (Trap, TypeError, ValueError, OverflowError) as e:
            return (type(e).__name__, str(e))

    def state(self) -> tuple[Any, ...]:
        """What the instance's state shows of the calls made: its thread table, flags."""
        f = self.get("add")
        f.call_async(self.store, 0, 0).close()  # (the call path made)
        lift = f._f._async_lift
        st = lift.inst
        tbl = st.threads
        held = st.exclusive_thread  # (a thread object: which index it had)
        return ([e is None for e in tbl.array], list(tbl.free), st.may_enter, st.may_leave,
                held and held.index, st.num_waiting_to_enter, st.root.poisoned,
                lift.sched.current, len(lift.sched.entered))


def test_the_fast_path_is_one_generated_frame() -> None:
    side = Side(True)
    f = side.get("add")
    assert side.call("add", 40, 2) == 42
    code = f._acall.__code__
    assert code.co_filename.startswith("<wasm-component make_call_async")
    import linecache

    assert "exit_implicit_thread" in "".join(linecache.getlines(code.co_filename))


SCRIPT: list[tuple[Any, ...]] = [
    ("add", 1, 2), ("index",), ("add", 2**32 - 1, 1), ("index",), ("later", 4), ("index",),
    ("add", -1, 0), ("add", 1), ("add", "x", 1), ("index",), ("noret",), ("add", 1, 1),
]


def test_fast_and_general_paths_agree_call_by_call() -> None:
    fast, general = Side(True), Side(False)
    for step in SCRIPT:
        got, want = fast.outcome(*step), general.outcome(*step)
        assert got == want, step
        # (poisoned after `noret`: from then on both refuse to enter)
    assert fast.state() == general.state()
    assert fast.outcome("add", 1, 1)[0] == "Trap"


def test_results_and_thread_indices() -> None:
    side = Side(True)
    assert side.call("add", 2**32 - 1, 1) == 0
    first = side.call("index")
    assert first >= 1 and side.call("index") == first  # (the slot is free again after each)
    assert side.call("later", 5) == 50  # YIELD first: the general path went on
    assert side.call("index") == first
    st = side.state()
    assert st[2:] == (True, True, None, 0, False, None, 0)


def test_bad_arguments_leave_the_instance_usable() -> None:
    side = Side(True)
    with pytest.raises(TypeError, match="`add`: expected 2 arguments"):
        side.call("add", 1)
    with pytest.raises((TypeError, ValueError, OverflowError), match="`add`"):
        side.call("add", -1, 2)
    assert side.call("add", 3, 4) == 7
    assert side.state()[2:] == (True, True, None, 0, False, None, 0)


@pytest.mark.parametrize("name", ["trap", "noret"])
def test_a_trap_poisons_the_instance_as_on_the_general_path(name: str) -> None:
    fast, general = Side(True), Side(False)
    got, want = fast.outcome(name), general.outcome(name)
    assert got == want and got[0] == "Trap"
    assert fast.state() == general.state()
    again = fast.outcome("add", 1, 2)
    assert again == general.outcome("add", 1, 2)
    assert again[0] == "Trap" and "trapped earlier" in again[1]


def test_a_wait_after_returning_goes_to_the_general_driver() -> None:
    fast, general = Side(True), Side(False)
    got, want = fast.outcome("waitret"), general.outcome("waitret")
    assert got == want


def test_an_instance_on_the_stack_takes_the_general_path() -> None:
    side = Side(True)
    f = side.get("add")
    side.call("add", 0, 0)
    st = f._f._async_lift.inst
    st.may_enter = False  # (as while a call into it runs)
    try:
        with pytest.raises(Trap, match="already on the stack"):
            side.call("add", 1, 2)
    finally:
        st.may_enter = True
    assert side.call("add", 1, 2) == 3


def test_a_call_leaves_no_cyclic_garbage() -> None:
    side = Side(True)
    loop = asyncio.new_event_loop()
    f = side.get("add")

    async def calls(n: int) -> None:
        for _ in range(n):
            assert await f.call_async(side.store, 1, 2) == 3

    try:
        loop.run_until_complete(calls(5))
        gc.collect()
        gc.disable()
        try:
            loop.run_until_complete(calls(50))
            assert gc.collect() < 50
        finally:
            gc.enable()
    finally:
        loop.close()
