"""Small components (WAT) shared by the reliability tests."""

from __future__ import annotations

from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
GREETER = (EXAMPLES / "greeter.wat").read_text()

# Takes a record, a list<u8>; loops forever; recurses forever; echoes a string through a
# realloc that a global can make return a bad pointer.
MISC = """
(component
  (core module $m
    (memory (export "memory") 1)
    (global $bad (mut i32) (i32.const 0))
    (func $realloc (export "realloc") (param i32 i32 i32 i32) (result i32)
      (if (result i32) (global.get $bad)
        (then (i32.const -8))
        (else (i32.const 1024))))
    (func (export "set-bad") (param i32) (global.set $bad (local.get 0)))
    (func (export "sum") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
    (func (export "len") (param i32 i32) (result i32) (local.get 1))
    (func (export "spin") (loop $l (br $l)))
    (func $deep (export "deep") (call $deep))
    (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))
  (core instance $i (instantiate $m))
  (type $pt (record (field "x" u32) (field "y" u32)))
  (export $pt2 "pt" (type $pt))
  (func (export "sum") (param "p" $pt2) (result u32) (canon lift (core func $i "sum")))
  (func (export "len") (param "b" (list u8)) (result u32)
    (canon lift (core func $i "len") (memory (core memory $i "memory"))
      (realloc (core func $i "realloc"))))
  (func (export "set-bad") (param "on" u32) (canon lift (core func $i "set-bad")))
  (func (export "spin") (canon lift (core func $i "spin")))
  (func (export "deep") (canon lift (core func $i "deep")))
  (func (export "add") (param "a" u32) (param "b" u32) (result u32)
    (canon lift (core func $i "add"))))
"""

HOST_RESOURCE = """
(component
  (import "file" (type $file (sub resource)))
  (import "[method]file.fd" (func $fd (param "self" (borrow $file)) (result u32)))
  (core func $fd_l (canon lower (func $fd)))
  (core func $drop (canon resource.drop $file))
  (core module $m
    (import "" "fd" (func $fd (param i32) (result i32)))
    (import "" "drop" (func $drop (param i32)))
    (func (export "consume") (param i32) (call $drop (local.get 0)))
    (func (export "fd-of") (param i32) (result i32)
      (local $r i32)
      (local.set $r (call $fd (local.get 0)))
      (call $drop (local.get 0))
      (local.get $r)))
  (core instance $i (instantiate $m (with "" (instance
    (export "fd" (func $fd_l)) (export "drop" (func $drop))))))
  (func (export "consume") (param "f" (own $file)) (canon lift (core func $i "consume")))
  (func (export "fd-of") (param "f" (borrow $file)) (result u32)
    (canon lift (core func $i "fd-of"))))
"""

# A guest resource whose destructor traps while a global says so; `with-borrow` calls the
# host import `cb` while a borrow of the resource is lent to it.
GUEST_RESOURCE = """
(component
  (import "cb" (func $cb))
  (core func $cb_l (canon lower (func $cb)))
  (core module $d
    (global $fail (export "fail") (mut i32) (i32.const 0))
    (global $drops (export "drops") (mut i32) (i32.const 0))
    (func (export "dtor") (param i32)
      (if (global.get $fail) (then unreachable))
      (global.set $drops (i32.add (global.get $drops) (i32.const 1)))))
  (core instance $d (instantiate $d))
  (type $r (resource (rep i32) (dtor (core func $d "dtor"))))
  (core func $new (canon resource.new $r))
  (core module $m
    (import "" "new" (func $new (param i32) (result i32)))
    (import "" "cb" (func $cb))
    (import "" "fail" (global $fail (mut i32)))
    (import "" "drops" (global $drops (mut i32)))
    (func (export "make") (param i32) (result i32) (call $new (local.get 0)))
    (func (export "with-borrow") (param i32) (call $cb))
    (func (export "fail") (param i32) (global.set $fail (local.get 0)))
    (func (export "drops") (result i32) (global.get $drops)))
  (core instance $i (instantiate $m (with "" (instance
    (export "new" (func $new)) (export "cb" (func $cb_l))
    (export "fail" (global $d "fail")) (export "drops" (global $d "drops"))))))
  (export $re "res" (type $r))
  (func (export "make") (param "v" u32) (result (own $re)) (canon lift (core func $i "make")))
  (func (export "with-borrow") (param "r" (borrow $re))
    (canon lift (core func $i "with-borrow")))
  (func (export "fail") (param "on" u32) (canon lift (core func $i "fail")))
  (func (export "drops") (result u32) (canon lift (core func $i "drops"))))
"""
