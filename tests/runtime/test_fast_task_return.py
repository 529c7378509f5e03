"""``task.return``'s generated common case (``fast_lift.make_task_return``): the checks that
depend only on the task's lift made once, then one identity test, the result lifted inline and
``Task.return_`` inline; results of every shape (flat, in memory, spilled, none) as the general
built-in gives them, and its traps wherever the common case does not hold."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest

from wasm_component import Component, Engine, Linker, Store, Trap
from wasm_component._validate.features import Features

N = 17  # (a tuple of 17 `u32`s: more than 16 flat values, so `task.return` takes a pointer)
TUPLE = "(tuple " + " ".join(["u32"] * N) + ")"
DATA = "".join(f"\\{i:02x}\\00\\00\\00" for i in range(1, N + 1))


def _lifted(name: str, result: str, memory: bool = True) -> str:
    mem = " (memory $mem)" if memory else ""
    return (f'(func (export "{name}") async {result}\n'
            f'    (canon lift (core func $i "{name}") async{mem} (callback (core func $i "cb"))))')


WAT = f"""(component
  (core module $mm (memory (export "mem") 1)
    (data (i32.const 16) "hello")
    (data (i32.const 64) "{DATA}"))
  (core instance $mi (instantiate $mm))
  (alias core export $mi "mem" (core memory $mem))
  (core func $ret_u32 (canon task.return (result u32)))
  (core func $ret_str (canon task.return (result string) (memory $mem)))
  (core func $ret_big (canon task.return (result {TUPLE}) (memory $mem)))
  (core func $ret_none (canon task.return))
  (core module $m
    (import "" "ret_u32" (func $ret_u32 (param i32)))
    (import "" "ret_str" (func $ret_str (param i32 i32)))
    (import "" "ret_big" (func $ret_big (param i32)))
    (import "" "ret_none" (func $ret_none))
    (func (export "add") (param i32 i32) (result i32)
      (call $ret_u32 (i32.add (local.get 0) (local.get 1))) (i32.const 0))
    (func (export "sub") (param i32 i32) (result i32)
      (call $ret_u32 (i32.sub (local.get 0) (local.get 1))) (i32.const 0))
    (func (export "str") (result i32) (call $ret_str (i32.const 16) (i32.const 5)) (i32.const 0))
    (func (export "big") (result i32) (call $ret_big (i32.const 64)) (i32.const 0))
    (func (export "none") (result i32) (call $ret_none) (i32.const 0))
    (func (export "twice") (result i32)
      (call $ret_u32 (i32.const 1)) (call $ret_u32 (i32.const 2)) (i32.const 0))
    (func (export "wrong") (result i32) (call $ret_str (i32.const 16) (i32.const 5)) (i32.const 0))
    (func (export "cb") (param i32 i32 i32) (result i32) unreachable))
  (core instance $i (instantiate $m (with "" (instance
    (export "ret_u32" (func $ret_u32)) (export "ret_str" (func $ret_str))
    (export "ret_big" (func $ret_big)) (export "ret_none" (func $ret_none))))))
  {_lifted("add", '(param "a" u32) (param "b" u32) (result u32)', False)}
  {_lifted("sub", '(param "a" u32) (param "b" u32) (result u32)', False)}
  {_lifted("str", "(result string)")}
  {_lifted("big", f"(result {TUPLE})")}
  {_lifted("none", "")}
  {_lifted("twice", "(result u32)", False)}
  {_lifted("wrong", "(result u32)")})"""


class Inst:
    def __init__(self) -> None:
        engine = Engine(features=Features.all())
        self.store: Store[Any] = Store(engine)
        self.inst = Linker(engine).instantiate(self.store, Component.new(engine, WAT))

    def call(self, name: str, *args: Any) -> Any:
        f = self.inst.get_func(self.store, name)
        assert f is not None, name
        return asyncio.run(f.call_async(self.store, *args))


def test_results_of_every_shape_first_and_again() -> None:
    inst = Inst()
    want = {"str": "hello", "big": tuple(range(1, N + 1)), "none": None}
    for _ in range(3):  # (the first return of each lift is the general built-in's)
        for name, value in want.items():
            assert inst.call(name) == value, name
    assert inst.call("add", 2**32 - 1, 3) == 2


def test_two_lifts_sharing_the_built_in_alternate() -> None:
    inst = Inst()
    for i in range(5):
        assert inst.call("add", i, 10) == i + 10
        assert inst.call("sub", 10, i) == 10 - i


def test_the_common_case_runs_no_general_frame() -> None:
    inst = Inst()
    assert inst.call("add", 1, 2) == 3
    seen: set[str] = set()

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "call":
            seen.add(frame.f_code.co_filename + ":" + frame.f_code.co_name)

    sys.setprofile(profile)
    try:
        assert inst.call("add", 40, 2) == 42
    finally:
        sys.setprofile(None)
    assert any("make_task_return" in s and s.endswith(":task_return") for s in seen), seen
    assert not any("builtins.py:task_return" in s for s in seen)


def test_a_second_return_traps_on_the_fast_form() -> None:
    inst = Inst()
    assert inst.call("add", 1, 1) == 2
    with pytest.raises(Trap, match="task already returned or cancelled"):
        inst.call("twice")


def test_a_result_of_another_type_traps() -> None:
    inst = Inst()
    assert inst.call("str") == "hello"  # (the string built-in's checks passed for `str`)
    with pytest.raises(Trap, match="result type string does not match the function's u32"):
        inst.call("wrong")
