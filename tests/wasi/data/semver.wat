(component
  (import "wasi:io/poll@0.2.0" (instance $poll
    (export "pollable" (type $p (sub resource)))
    (export "[method]pollable.block" (func (param "self" (borrow $p))))))
  (alias export $poll "pollable" (type $pollable))
  (import "wasi:clocks/monotonic-clock@0.2.3" (instance $clock
    (export "pollable" (type (eq $pollable)))
    (export "now" (func (result u64)))
    (export "subscribe-duration" (func (param "when" u64) (result (own $pollable))))))
  (import "wasi:random/random@0.2.0" (instance $random
    (export "get-random-u64" (func (result u64)))))
  (import "wasi:cli/exit@0.2.12" (instance $exit
    (export "exit-with-code" (func (param "status-code" u8)))))
  (import "wasi:sockets/udp@0.2.0" (instance $udp
    (export "pollable" (type (eq $pollable)))
    (export "udp-socket" (type (sub resource)))))
  (core func $now (canon lower (func $clock "now")))
  (core func $sub (canon lower (func $clock "subscribe-duration")))
  (core func $rand (canon lower (func $random "get-random-u64")))
  (core func $exit (canon lower (func $exit "exit-with-code")))
  (core func $block (canon lower (func $poll "[method]pollable.block")))
  (core func $drop (canon resource.drop $pollable))
  (core module $m
    (import "h" "now" (func $now (result i64)))
    (import "h" "sub" (func $sub (param i64) (result i32)))
    (import "h" "rand" (func $rand (result i64)))
    (import "h" "exit" (func $exit (param i32)))
    (import "h" "block" (func $block (param i32)))
    (import "h" "drop" (func $drop (param i32)))
    (func (export "now") (result i64) (call $now))
    (func (export "rand") (result i64) (call $rand))
    (func (export "exit") (param i32) (call $exit (local.get 0)))
    (func (export "sleep") (param i64) (local $p i32)
      (local.set $p (call $sub (local.get 0)))
      (call $block (local.get $p))
      (call $drop (local.get $p))))
  (core instance $i (instantiate $m (with "h" (instance
    (export "now" (func $now)) (export "sub" (func $sub)) (export "rand" (func $rand))
    (export "exit" (func $exit)) (export "block" (func $block)) (export "drop" (func $drop))))))
  (func (export "now") (result u64) (canon lift (core func $i "now")))
  (func (export "rand") (result u64) (canon lift (core func $i "rand")))
  (func (export "exit") (param "code" u8) (canon lift (core func $i "exit")))
  (func (export "sleep") (param "ns" u64) (canon lift (core func $i "sleep")))
)
