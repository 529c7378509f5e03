"""A host import taking a ``borrow``: the call's subtask holds the lend only while the call
runs. The trampoline keeps one subtask for the next call; these check that lends do not leak
across calls (a leaked lend makes the later drop trap) nor across a call that raised."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from wasm_component import Component, Engine, Linker, ResourceTable, ResourceType, Store, Trap

SUM = """
(component
  (import "file" (type $file (sub resource)))
  (import "[method]file.fd" (func $fd (param "self" (borrow $file)) (result u32)))
  (core func $fd_l (canon lower (func $fd)))
  (core func $drop (canon resource.drop $file))
  (core module $m
    (import "" "fd" (func $fd (param i32) (result i32)))
    (import "" "drop" (func $drop (param i32)))
    (func (export "sum") (param $h i32) (param $n i32) (param $drop i32) (result i32)
      (local $s i32)
      (block $done (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $s (i32.add (local.get $s) (call $fd (local.get $h))))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))
      (if (local.get $drop) (then (call $drop (local.get $h))))
      (local.get $s)))
  (core instance $i (instantiate $m (with "" (instance
    (export "fd" (func $fd_l)) (export "drop" (func $drop))))))
  (func (export "sum") (param "f" (own $file)) (param "n" u32) (param "drop" bool)
    (result u32) (canon lift (core func $i "sum"))))
"""


@dataclass
class File:
    fd: int


def _setup(fail_at: int | None = None) -> tuple[Store, object, ResourceTable, list[int]]:
    engine = Engine()
    table = ResourceTable()
    dropped: list[int] = []
    calls: list[int] = []

    def fd(store: Store, self: object) -> int:
        calls.append(1)
        if fail_at is not None and len(calls) == fail_at:
            raise RuntimeError("host failure")
        v: int = table.get(self).fd  # type: ignore[arg-type]
        return v

    linker = Linker(engine)
    root = linker.root()
    root.resource("file", ResourceType.host(File),
                  lambda store, rep: dropped.append(table.delete(rep).fd))
    root.func_wrap("[method]file.fd", fd)
    store = Store(engine)
    return store, linker.instantiate(store, Component.new(engine, SUM)), table, dropped


def test_lends_end_with_each_call() -> None:
    store, inst, table, dropped = _setup()
    f = inst.get_func(store, "sum")  # type: ignore[attr-defined]
    assert f(store, table.push(File(5)), 50, True) == 250
    assert dropped == [5], "no lend outlived its call: the drop succeeded"
    assert f(store, table.push(File(2)), 3, True) == 6
    assert dropped == [5, 2]


def test_a_failed_call_does_not_leak_into_the_next_scope() -> None:
    store, inst, table, _dropped = _setup(fail_at=2)
    f = inst.get_func(store, "sum")  # type: ignore[attr-defined]
    with pytest.raises((RuntimeError, Trap)):
        f(store, table.push(File(7)), 3, False)
    # the instance is poisoned by the failure: later calls trap, they do not misbehave
    with pytest.raises(Trap):
        f(store, table.push(File(8)), 1, True)
