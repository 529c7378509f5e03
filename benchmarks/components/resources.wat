;; Benchmark component: a guest-defined resource `counter`.
;;
;; The representation of a counter is the address of its i32 cell in $state's memory (cells are
;; handed out round-robin from 16Ki slots). The destructor lives in $state so the resource type
;; can name it before the module that needs `resource.new` is instantiated. Methods receive the
;; rep directly (a borrow of a resource this component implements).
(component
  (core module $state
    (memory (export "memory") 1)
    (global $next (mut i32) (i32.const 0))
    (global $live (mut i32) (i32.const 0))
    (func (export "alloc") (param $init i32) (result i32) (local $rep i32)
      (local.set $rep (i32.shl (i32.and (global.get $next) (i32.const 0x3fff)) (i32.const 2)))
      (global.set $next (i32.add (global.get $next) (i32.const 1)))
      (global.set $live (i32.add (global.get $live) (i32.const 1)))
      (i32.store (local.get $rep) (local.get $init))
      (local.get $rep))
    (func (export "dtor") (param $rep i32)
      (global.set $live (i32.sub (global.get $live) (i32.const 1)))
      (i32.store (local.get $rep) (i32.const 0)))
    (func (export "inc") (param $rep i32) (result i32) (local $v i32)
      (local.set $v (i32.add (i32.load (local.get $rep)) (i32.const 1)))
      (i32.store (local.get $rep) (local.get $v))
      (local.get $v))
    (func (export "live") (result i32) (global.get $live)))
  (core instance $s (instantiate $state))
  (alias core export $s "dtor" (core func $dtor))

  (type $counter (resource (rep i32) (dtor (core func $dtor))))
  (core func $new (canon resource.new $counter))

  (core module $main
    (import "s" "alloc" (func $alloc (param i32) (result i32)))
    (import "r" "new" (func $new (param i32) (result i32)))
    (func (export "ctor") (param i32) (result i32) (call $new (call $alloc (local.get 0)))))
  (core instance $mi (instantiate $main
    (with "s" (instance $s))
    (with "r" (instance (export "new" (func $new))))))

  (export $counter-e "counter" (type $counter))
  (func (export "[constructor]counter") (param "init" u32) (result (own $counter-e))
    (canon lift (core func $mi "ctor")))
  (func (export "[method]counter.inc") (param "self" (borrow $counter-e)) (result u32)
    (canon lift (core func $s "inc")))
  (func (export "live") (result u32) (canon lift (core func $s "live")))
)
