;; A small component: imports `name`, exports `greet` returning "Hello, <name>!".
;; The core module does the string work in its own linear memory.
(component
  (import "name" (func $name (result string)))

  (core module $libc
    (memory (export "memory") 1)
    (global $bump (mut i32) (i32.const 1024))
    ;; A bump allocator: realloc(old_ptr, old_size, align, new_size) -> ptr
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $ptr i32)
      (local.set $ptr
        (i32.and
          (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
          (i32.sub (i32.const 0) (local.get 2))))
      (global.set $bump (i32.add (local.get $ptr) (local.get 3)))
      (if (i32.gt_u (global.get $bump) (i32.mul (memory.size) (i32.const 65536)))
        (then (drop (memory.grow (i32.const 1)))))
      (local.get $ptr))
  )
  (core instance $libc (instantiate $libc))

  (core func $name_lowered
    (canon lower (func $name) (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))

  (core module $main
    (import "libc" "memory" (memory 1))
    (import "libc" "realloc" (func $realloc (param i32 i32 i32 i32) (result i32)))
    (import "host" "name" (func $name (param i32)))
    ;; "Hello, " at 0 (7 bytes) and "!" at 16
    (data (i32.const 0) "Hello, ")
    (data (i32.const 16) "!")
    (func (export "greet") (result i32)
      (local $nptr i32) (local $nlen i32) (local $out i32) (local $len i32)
      ;; call the host: it writes (ptr, len) of the name at 32
      (call $name (i32.const 32))
      (local.set $nptr (i32.load (i32.const 32)))
      (local.set $nlen (i32.load (i32.const 36)))
      (local.set $len (i32.add (local.get $nlen) (i32.const 8)))
      (local.set $out (call $realloc (i32.const 0) (i32.const 0) (i32.const 1) (local.get $len)))
      (memory.copy (local.get $out) (i32.const 0) (i32.const 7))
      (memory.copy (i32.add (local.get $out) (i32.const 7)) (local.get $nptr) (local.get $nlen))
      (i32.store8 (i32.add (local.get $out) (i32.add (local.get $nlen) (i32.const 7))) (i32.const 33))
      ;; return (ptr, len) through a return area at 48
      (i32.store (i32.const 48) (local.get $out))
      (i32.store (i32.const 52) (local.get $len))
      (i32.const 48))
  )
  (core instance $main (instantiate $main
    (with "libc" (instance $libc))
    (with "host" (instance (export "name" (func $name_lowered))))))

  (func (export "greet") (result string)
    (canon lift (core func $main "greet") (memory (core memory $libc "memory"))))
)
