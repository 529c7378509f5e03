;; A small WASI 0.2 command written by hand (docs/guides/wasi.md): its `wasi:cli/run` reads
;; `in.txt` from the first preopened directory, writes it upper-cased to stdout and to `out.txt`.
;; A core module: make it a component against the WASI WIT the package ships, with wasm-tools:
;;   wasm-tools parse examples/wasi_files.wat -o core.wasm
;;   wasm-tools component embed src/wasm_component/wasi/wit/0.2.12 --world command core.wasm -o core.wasm
;;   wasm-tools component new core.wasm -o wasi_files.wasm
;;   wasm-component run --dir .::/data wasi_files.wasm
(module
  (import "wasi:filesystem/preopens@0.2.12" "get-directories" (func $dirs (param i32)))
  (import "wasi:filesystem/types@0.2.12" "[method]descriptor.open-at"
    (func $open_at (param i32 i32 i32 i32 i32 i32 i32)))
  (import "wasi:filesystem/types@0.2.12" "[method]descriptor.read"
    (func $read (param i32 i64 i64 i32)))
  (import "wasi:filesystem/types@0.2.12" "[method]descriptor.write"
    (func $write (param i32 i32 i32 i64 i32)))
  (import "wasi:cli/stdout@0.2.12" "get-stdout" (func $stdout (result i32)))
  (import "wasi:io/streams@0.2.12" "[method]output-stream.blocking-write-and-flush"
    (func $print (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "in.txt")
  (data (i32.const 32) "out.txt")
  (global $bump (mut i32) (i32.const 4096))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
                           (i32.xor (i32.sub (local.get 2) (i32.const 1)) (i32.const -1))))
    (global.set $bump (i32.add (local.get $p) (local.get 3)))
    (local.get $p))
  ;; run: copy the first preopen's in.txt to stdout and to out.txt, upper-cased
  (func (export "wasi:cli/run@0.2.12#run") (result i32)
    (local $dir i32) (local $file i32) (local $data i32) (local $len i32) (local $i i32)
    (call $dirs (i32.const 64))                                ;; list at 64: (ptr, len)
    (if (i32.eqz (i32.load (i32.const 68))) (then (return (i32.const 1))))
    (local.set $dir (i32.load (i32.load (i32.const 64))))      ;; first element's descriptor
    ;; open-at(dir, path-flags 0, "in.txt", open-flags 0, descriptor-flags read)
    (call $open_at (local.get $dir) (i32.const 0) (i32.const 16) (i32.const 6) (i32.const 0)
      (i32.const 1) (i32.const 128))
    (if (i32.load8_u (i32.const 128)) (then (return (i32.const 1))))
    (local.set $file (i32.load (i32.const 132)))
    (call $read (local.get $file) (i64.const 4096) (i64.const 0) (i32.const 128))
    (if (i32.load8_u (i32.const 128)) (then (return (i32.const 1))))
    (local.set $data (i32.load (i32.const 132)))
    (local.set $len (i32.load (i32.const 136)))
    (block $done (loop $up                                     ;; a-z -> A-Z
      (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
      (if (i32.lt_u (i32.sub (i32.load8_u (i32.add (local.get $data) (local.get $i)))
                             (i32.const 97)) (i32.const 26))
        (then (i32.store8 (i32.add (local.get $data) (local.get $i))
                (i32.sub (i32.load8_u (i32.add (local.get $data) (local.get $i))) (i32.const 32)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $up)))
    (call $print (call $stdout) (local.get $data) (local.get $len) (i32.const 128))
    (if (i32.load8_u (i32.const 128)) (then (return (i32.const 1))))
    ;; open-at(dir, 0, "out.txt", open-flags create, descriptor-flags write)
    (call $open_at (local.get $dir) (i32.const 0) (i32.const 32) (i32.const 7) (i32.const 1)
      (i32.const 2) (i32.const 128))
    (if (i32.load8_u (i32.const 128)) (then (return (i32.const 1))))
    (call $write (i32.load (i32.const 132)) (local.get $data) (local.get $len) (i64.const 0)
      (i32.const 128))
    (i32.load8_u (i32.const 128))))
