;; Benchmark component: a host-defined resource `thing` passed in and out.
;;
;; `pass(t: own<thing>) -> own<thing>` gets a handle in its table and returns it (moving it back
;; out); `peek(t: borrow<thing>) -> u32` drops the borrow handle it was lent and returns it.
(component
  (import "thing" (type $thing (sub resource)))
  (core func $drop (canon resource.drop $thing))
  (core module $m
    (import "r" "drop" (func $drop (param i32)))
    (func (export "pass") (param i32) (result i32) (local.get 0))
    (func (export "peek") (param $h i32) (result i32) (call $drop (local.get $h)) (local.get $h)))
  (core instance $i (instantiate $m (with "r" (instance (export "drop" (func $drop))))))
  (func (export "pass") (param "t" (own $thing)) (result (own $thing))
    (canon lift (core func $i "pass")))
  (func (export "peek") (param "t" (borrow $thing)) (result u32)
    (canon lift (core func $i "peek")))
)
