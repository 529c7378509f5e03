;; Benchmark component: guest -> host calls.
;;
;; `run-nop(n)` calls the imported `host-nop` n times; `run-log(n)` calls the imported
;; `host-log(s: string)` n times with the 16-byte string "hello, component" from its memory
;; (the host lifts it each time). Both return n so the caller can check the loop ran.
(component
  (import "host-nop" (func $host-nop))
  (import "host-log" (func $host-log (param "s" string)))

  (core module $mem
    (memory (export "memory") 1)
    (data (i32.const 16) "hello, component"))
  (core instance $mi (instantiate $mem))
  (alias core export $mi "memory" (core memory $memory))

  (core func $nop-core (canon lower (func $host-nop)))
  (core func $log-core (canon lower (func $host-log) (memory $memory) string-encoding=utf8))

  (core module $m
    (import "host" "nop" (func $nop))
    (import "host" "log" (func $log (param i32 i32)))
    (func (export "run-nop") (param $n i32) (result i32) (local $i i32)
      (block $done
        (loop $next
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          (call $nop)
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
      (local.get $i))
    (func (export "run-log") (param $n i32) (result i32) (local $i i32)
      (block $done
        (loop $next
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          (call $log (i32.const 16) (i32.const 16))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
      (local.get $i)))
  (core instance $i (instantiate $m
    (with "host" (instance (export "nop" (func $nop-core)) (export "log" (func $log-core))))))

  (func (export "run-nop") (param "n" u32) (result u32) (canon lift (core func $i "run-nop")))
  (func (export "run-log") (param "n" u32) (result u32) (canon lift (core func $i "run-log")))
)
