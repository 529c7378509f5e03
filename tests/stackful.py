"""The stackful guest the fiber and async-runtime tests share.

``run(x) -> u32`` is a stackful ``async`` lift that calls the async host import ``slow(x)`` and, if
the subtask did not return at once, blocks on ``waitable-set.wait`` for it (its guest stack is
parked), then returns ``slow(x) + 1``. :func:`stackful_component` splices code in after the wait
and moves where the wait stores its event; :func:`stackful_instance` instantiates it with ``slow``
as the host import.
"""

from __future__ import annotations

from typing import Any

from wasm_component import Component, Engine, Linker, Store
from wasm_component._validate.features import Features

# A stackful ``run(x) -> u32``: calls the async host import ``slow(x)`` (async lower); if it did
# not return at once, blocks on ``waitable-set.wait`` for the subtask (its fiber suspends);
# then returns ``slow(x) + 1``. Each task keeps its slots at ``64 * x``. ``AFTER`` is spliced
# in after the wait (a trap there: a trap after the resumption). ``EVENT_AT`` is where the
# wait stores its event (out of bounds: the built-in's rest fails after the wait).
STACKFUL = """
(component
  (import "slow" (func $slow async (param "x" u32) (result u32)))
  (core module $libc (memory (export "mem") 1))
  (core instance $libc (instantiate $libc))
  (core func $slow (canon lower (func $slow) async (memory (core memory $libc "mem"))))
  (core func $ws_new (canon waitable-set.new))
  (core func $wait (canon waitable-set.wait (memory (core memory $libc "mem"))))
  (core func $join (canon waitable.join))
  (core func $ret (canon task.return (result u32)))
  (core module $m
    (import "" "mem" (memory 1))
    (import "" "slow" (func $slow (param i32 i32) (result i32)))
    (import "" "ws_new" (func $ws_new (result i32)))
    (import "" "wait" (func $wait (param i32 i32) (result i32)))
    (import "" "join" (func $join (param i32 i32)))
    (import "" "ret" (func $ret (param i32)))
    (func (export "run") (param $x i32)
      (local $r i32) (local $ws i32) (local $at i32)
      (local.set $at (i32.shl (local.get $x) (i32.const 6)))
      (local.set $r (call $slow (local.get $x) (local.get $at)))
      (if (i32.ne (i32.and (local.get $r) (i32.const 0xf)) (i32.const 2))
        (then
          (local.set $ws (call $ws_new))
          (call $join (i32.shr_u (local.get $r) (i32.const 4)) (local.get $ws))
          (if (i32.ne (call $wait (local.get $ws) EVENT_AT) (i32.const 1))
            (then unreachable))
          AFTER))
      (call $ret (i32.add (i32.load (local.get $at)) (i32.const 1))))
  )
  (core instance $i (instantiate $m (with "" (instance
    (export "mem" (memory $libc "mem"))
    (export "slow" (func $slow))
    (export "ws_new" (func $ws_new))
    (export "wait" (func $wait))
    (export "join" (func $join))
    (export "ret" (func $ret))))))
  (func (export "run") async (param "x" u32) (result u32)
    (canon lift (core func $i "run") async))
)
"""


def stackful_component(after: str = "", event_at: str = "(i32.add (local.get $at) (i32.const 8))"
               ) -> str:
    return STACKFUL.replace("AFTER", after).replace("EVENT_AT", event_at)


def stackful_instance(slow: Any, text: str | None = None) -> tuple[Store, Any]:
    engine = Engine(features=Features.all())
    store = Store(engine)
    linker = Linker(engine)
    linker.root().func_wrap_async("slow", slow)
    inst = linker.instantiate(store, Component.new(engine, text or stackful_component()))
    run = inst.get_func(store, "run")
    assert run is not None
    return store, run
