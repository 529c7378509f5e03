;; A tiny component that imports one WASI function: `exit(code)` calls
;; `wasi:cli/exit.exit-with-code` (the README's WASI example).
(component
  (import "wasi:cli/exit@0.2.12" (instance $exit
    (export "exit-with-code" (func (param "status-code" u8)))))
  (core func $exit (canon lower (func $exit "exit-with-code")))
  (core module $m
    (import "h" "exit" (func $exit (param i32)))
    (func (export "exit") (param i32) (call $exit (local.get 0))))
  (core instance $i (instantiate $m (with "h" (instance (export "exit" (func $exit))))))
  (func (export "exit") (param "code" u8) (canon lift (core func $i "exit"))))
