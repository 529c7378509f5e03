;; Benchmark component: instantiation with nested components.
;;
;; $adder exports `add`; $mid imports an `add` and exports `add3` built from two calls to it
;; (a lowered import inside a core module); $top instantiates $adder, wires it into two
;; instances of $mid, and a second nesting level ($outer) wraps the whole thing. The root
;; exports `add3` (through both levels) and `add6` (a core module calling both instances).
(component
  (component $adder
    (core module $m
      (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))
    (core instance $i (instantiate $m))
    (func (export "add") (param "a" u32) (param "b" u32) (result u32)
      (canon lift (core func $i "add"))))

  (component $mid
    (import "add" (func $add (param "a" u32) (param "b" u32) (result u32)))
    (core func $add-core (canon lower (func $add)))
    (core module $m
      (import "host" "add" (func $add (param i32 i32) (result i32)))
      (func (export "add3") (param i32 i32 i32) (result i32)
        (call $add (call $add (local.get 0) (local.get 1)) (local.get 2))))
    (core instance $i (instantiate $m
      (with "host" (instance (export "add" (func $add-core))))))
    (func (export "add3") (param "a" u32) (param "b" u32) (param "c" u32) (result u32)
      (canon lift (core func $i "add3"))))

  (component $outer
    (import "adder" (component $a
      (export "add" (func (param "a" u32) (param "b" u32) (result u32)))))
    (import "mid" (component $m
      (import "add" (func (param "a" u32) (param "b" u32) (result u32)))
      (export "add3" (func (param "a" u32) (param "b" u32) (param "c" u32) (result u32)))))
    (instance $ia (instantiate $a))
    (instance $im1 (instantiate $m (with "add" (func $ia "add"))))
    (instance $im2 (instantiate $m (with "add" (func $ia "add"))))
    (core func $a3-1 (canon lower (func $im1 "add3")))
    (core func $a3-2 (canon lower (func $im2 "add3")))
    (core module $six
      (import "x" "one" (func $one (param i32 i32 i32) (result i32)))
      (import "x" "two" (func $two (param i32 i32 i32) (result i32)))
      (func (export "add6") (param i32 i32 i32 i32 i32 i32) (result i32)
        (i32.add (call $one (local.get 0) (local.get 1) (local.get 2))
                 (call $two (local.get 3) (local.get 4) (local.get 5)))))
    (core instance $si (instantiate $six
      (with "x" (instance (export "one" (func $a3-1)) (export "two" (func $a3-2))))))
    (export "add3" (func $im1 "add3"))
    (func (export "add6") (param "a" u32) (param "b" u32) (param "c" u32)
                          (param "d" u32) (param "e" u32) (param "f" u32) (result u32)
      (canon lift (core func $si "add6"))))

  (instance $o (instantiate $outer (with "adder" (component $adder)) (with "mid" (component $mid))))
  (export "add3" (func $o "add3"))
  (export "add6" (func $o "add6"))
)
