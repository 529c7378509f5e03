"""A destructor run by another instance's ``resource.drop`` runs as a task of the resource's
implementing instance (the spec's ``canon_resource_drop`` lifts the destructor with
``rt.impl`` and calls it through a lowered sync call), so the built-ins it calls use that
instance's handle table. Found by the Component Model spec suite's ``sync-barges-in.wast``
(``tests/tools/spec_suite.py``); this is our own minimal component."""

from __future__ import annotations

from wasm_component import Component, Engine, Linker, Store
from wasm_component._validate.features import Features

# $C implements `r`, whose destructor makes a future and starts an async read of it (a handle
# of $C's table, index 2 after the start function's waitable set); $D makes an `r` and drops
# it, then asks $C which index the destructor's future got.
DROP_FROM_OUTSIDE = """
(component
  (component $C
    (core module $Mem (memory (export "mem") 1))
    (core instance $mem (instantiate $Mem))
    (core module $CM
      (import "" "mem" (memory 1))
      (import "" "future.new" (func $future.new (result i64)))
      (import "" "future.read" (func $future.read (param i32 i32) (result i32)))
      (import "" "waitable-set.new" (func $waitable-set.new (result i32)))
      (import "" "resource.new" (func $resource.new (param i32) (result i32)))
      (global $seen (mut i32) (i32.const 0))
      (func $start (drop (call $waitable-set.new)))
      (start $start)
      (func (export "dtor") (param i32)
        (local $rx i32)
        (local.set $rx (i32.wrap_i64 (call $future.new)))
        (if (i32.ne (call $future.read (local.get $rx) (i32.const 0)) (i32.const -1))
          (then unreachable))
        (global.set $seen (local.get $rx)))
      (func (export "seen") (result i32) (global.get $seen))
      (func (export "make") (result i32) (call $resource.new (i32.const 7)))
    )
    (type $FT (future))
    (canon future.new $FT (core func $fnew))
    (canon future.read $FT async (memory (core memory $mem "mem")) (core func $fread))
    (canon waitable-set.new (core func $wsnew))
    (core module $Tbl (table (export "t") 1 funcref) (type $ft (func (param i32)))
      (func (export "dtor") (param i32) (call_indirect (type $ft) (local.get 0) (i32.const 0))))
    (core instance $tbl (instantiate $Tbl))
    (type $R (resource (rep i32) (dtor (core func $tbl "dtor"))))
    (canon resource.new $R (core func $rnew))
    (core instance $cm (instantiate $CM (with "" (instance
      (export "mem" (memory $mem "mem"))
      (export "future.new" (func $fnew))
      (export "future.read" (func $fread))
      (export "waitable-set.new" (func $wsnew))
      (export "resource.new" (func $rnew))))))
    (core module $Fill (import "" "t" (table 1 funcref)) (import "" "f" (func $f (param i32)))
      (elem (i32.const 0) func $f))
    (core instance (instantiate $Fill (with "" (instance
      (export "t" (table $tbl "t")) (export "f" (func $cm "dtor"))))))
    (export $R' "r" (type $R))
    (func (export "make") (result (own $R')) (canon lift (core func $cm "make")))
    (func (export "seen") (result u32) (canon lift (core func $cm "seen")))
  )
  (component $D
    (import "c" (instance $c
      (export "r" (type $R (sub resource)))
      (export "make" (func (result (own $R))))
      (export "seen" (func (result u32)))))
    (alias export $c "r" (type $R))
    (canon resource.drop $R (core func $rdrop))
    (canon lower (func $c "make") (core func $make))
    (canon lower (func $c "seen") (core func $seen))
    (core module $DM
      (import "" "make" (func $make (result i32)))
      (import "" "seen" (func $seen (result i32)))
      (import "" "drop" (func $drop (param i32)))
      (func (export "run") (result i32)
        (call $drop (call $make))
        (call $seen)))
    (core instance $dm (instantiate $DM (with "" (instance
      (export "make" (func $make)) (export "seen" (func $seen)) (export "drop" (func $rdrop))))))
    (func (export "run") (result u32) (canon lift (core func $dm "run")))
  )
  (instance $c (instantiate $C))
  (instance $d (instantiate $D (with "c" (instance $c))))
  (func (export "run") (alias export $d "run"))
)
"""


def test_destructor_built_ins_use_the_implementing_instance() -> None:
    engine = Engine(features=Features.all())
    store = Store(engine, None)
    inst = Linker(engine).instantiate(store, Component.new(engine, DROP_FROM_OUTSIDE))
    run = inst.get_func(store, "run")
    assert run is not None
    assert run(store) == 2
