;; `run(n)`: subscribe to a ready timer (a duration of 0), then `wasi:io/poll.poll([it])` n
;; times; returns the number of ready indices seen (n). `run-block(n)`: the same with
;; `pollable.block`. For the `wasi-poll-ready` and `wasi-block-ready` rows.
(component
  (import "wasi:io/poll@0.2.0" (instance $poll
    (export "pollable" (type $p (sub resource)))
    (export "poll" (func (param "in" (list (borrow $p))) (result (list u32))))
    (export "[method]pollable.block" (func (param "self" (borrow $p))))))
  (alias export $poll "pollable" (type $pollable))
  (import "wasi:clocks/monotonic-clock@0.2.0" (instance $clock
    (export "pollable" (type (eq $pollable)))
    (export "subscribe-duration" (func (param "when" u64) (result (own $pollable))))))
  (core module $libc
    (memory (export "memory") 1)
    ;; every result list is one u32: one fixed slot is enough
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 4096)))
  (core instance $libc (instantiate $libc))
  (alias core export $libc "memory" (core memory $memory))
  (alias core export $libc "realloc" (core func $realloc))
  (core func $sub (canon lower (func $clock "subscribe-duration")))
  (core func $poll (canon lower (func $poll "poll") (memory $memory) (realloc $realloc)))
  (core func $block (canon lower (func $poll "[method]pollable.block")))
  (core func $drop (canon resource.drop $pollable))
  (core module $m
    (import "libc" "memory" (memory 1))
    (import "h" "sub" (func $sub (param i64) (result i32)))
    (import "h" "poll" (func $poll (param i32 i32 i32)))
    (import "h" "drop" (func $drop (param i32)))
    (import "h" "block" (func $block (param i32)))
    (func (export "run-block") (param $n i32) (result i32)
      (local $p i32) (local $k i32)
      (local.set $p (call $sub (i64.const 0)))
      (local.set $k (local.get $n))
      (block $done
        (loop $l
          (br_if $done (i32.eqz (local.get $k)))
          (call $block (local.get $p))
          (local.set $k (i32.sub (local.get $k) (i32.const 1)))
          (br $l)))
      (call $drop (local.get $p))
      (local.get $n))
    (func (export "run") (param $n i32) (result i32)
      (local $p i32) (local $sum i32)
      (local.set $p (call $sub (i64.const 0)))
      (i32.store (i32.const 0) (local.get $p))
      (block $done
        (loop $l
          (br_if $done (i32.eqz (local.get $n)))
          (call $poll (i32.const 0) (i32.const 1) (i32.const 16))
          (local.set $sum (i32.add (local.get $sum) (i32.load (i32.const 20))))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $l)))
      (call $drop (local.get $p))
      (local.get $sum)))
  (core instance $i (instantiate $m
    (with "libc" (instance $libc))
    (with "h" (instance (export "sub" (func $sub)) (export "poll" (func $poll))
                        (export "drop" (func $drop)) (export "block" (func $block))))))
  (func (export "run") (param "n" u32) (result u32) (canon lift (core func $i "run")))
  (func (export "run-block") (param "n" u32) (result u32) (canon lift (core func $i "run-block"))))
