;; Benchmark component: scalar calls and data round-trips.
;;
;; Memory layout of the core module:
;;   [0, 64K)          return area at 64 (8-aligned, 64 bytes); nothing else
;;   [64K, 64K+1MiB)   "produce" area, filled with 'Z' by the start function; `produce-bytes`
;;                     returns a prefix of it (guest -> host list<u8>)
;;   [64K+1MiB, ...)   bump heap for `cabi_realloc`; reset by the post-return functions (and by
;;                     the functions that consume their params and return scalars), so memory
;;                     stays bounded however many calls are made
;;
;; Every echo really returns what it was given: strings/lists are returned as the same
;; (ptr, len) the host just lowered into guest memory, records/variants are re-stored field by
;; field into the return area.
(component
  (core module $m
    (memory (export "memory") 20)
    (global $heap (mut i32) (i32.const 0x110000))

    (func $start (memory.fill (i32.const 0x10000) (i32.const 0x5a) (i32.const 0x100000)))
    (start $start)

    ;; bump allocator: aligns, grows memory as needed, copies on a real realloc
    (func (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32)
                                  (param $new_size i32) (result i32)
      (local $ptr i32) (local $end i32) (local $have i32)
      (local.set $ptr
        (i32.and (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
                 (i32.sub (i32.const 0) (local.get $align))))
      (local.set $end (i32.add (local.get $ptr) (local.get $new_size)))
      (local.set $have (i32.shl (memory.size) (i32.const 16)))
      (if (i32.gt_u (local.get $end) (local.get $have))
        (then
          (if (i32.eq (memory.grow (i32.shr_u (i32.add (i32.sub (local.get $end) (local.get $have))
                                                       (i32.const 0xffff))
                                              (i32.const 16)))
                      (i32.const -1))
            (then unreachable))))
      (global.set $heap (local.get $end))
      (if (local.get $old)
        (then (memory.copy (local.get $ptr) (local.get $old)
                (select (local.get $old_size) (local.get $new_size)
                        (i32.lt_u (local.get $old_size) (local.get $new_size))))))
      (local.get $ptr))

    (func $reset (global.set $heap (i32.const 0x110000)))
    ;; post-return for every function whose flat result is one i32 (a return-area pointer)
    (func (export "post") (param i32) (call $reset))
    (func (export "heap") (result i32) (global.get $heap))

    (func (export "nop"))
    (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))

    ;; 20 u32 params exceed MAX_FLAT_PARAMS (16): they arrive in memory at $p
    (func (export "sum20") (param $p i32) (result i32) (local $i i32) (local $acc i32)
      (block $done
        (loop $next
          (br_if $done (i32.ge_u (local.get $i) (i32.const 80)))
          (local.set $acc (i32.add (local.get $acc)
                                   (i32.load (i32.add (local.get $p) (local.get $i)))))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $next)))
      (call $reset)
      (local.get $acc))

    ;; string / list echo: hand back the (ptr, len) we were given
    (func (export "echo-ptrlen") (param $ptr i32) (param $len i32) (result i32)
      (i32.store (i32.const 64) (local.get $ptr))
      (i32.store (i32.const 68) (local.get $len))
      (i32.const 64))

    ;; list<u8> host -> guest: the guest returns the length it received
    (func (export "consume") (param $ptr i32) (param $len i32) (result i32)
      (call $reset)
      (local.get $len))

    ;; list<u8> guest -> host: the first $n bytes of the produce area
    (func (export "produce") (param $n i32) (result i32)
      (if (i32.gt_u (local.get $n) (i32.const 0x100000)) (then unreachable))
      (i32.store (i32.const 64) (i32.const 0x10000))
      (i32.store (i32.const 68) (local.get $n))
      (i32.const 64))

    ;; record rec {a: u8, b: u16, c: u32, d: s64, e: f32, f: f64, g: bool, h: string}
    ;; layout: a@0 b@2 c@4 d@8 e@16 f@24 g@32 h.ptr@36 h.len@40 (size 48, align 8)
    (func (export "echo-rec") (param $a i32) (param $b i32) (param $c i32) (param $d i64)
                              (param $e f32) (param $f f64) (param $g i32)
                              (param $hp i32) (param $hl i32) (result i32)
      (i32.store8  (i32.const 64) (local.get $a))
      (i32.store16 (i32.const 66) (local.get $b))
      (i32.store   (i32.const 68) (local.get $c))
      (i64.store   (i32.const 72) (local.get $d))
      (f32.store   (i32.const 80) (local.get $e))
      (f64.store   (i32.const 88) (local.get $f))
      (i32.store8  (i32.const 96) (local.get $g))
      (i32.store   (i32.const 100) (local.get $hp))
      (i32.store   (i32.const 104) (local.get $hl))
      (i32.const 64))

    ;; option<u32>: flat (disc, payload); layout disc@0 payload@4
    (func (export "echo2") (param $disc i32) (param $x i32) (result i32)
      (i32.store8 (i32.const 64) (local.get $disc))
      (i32.store  (i32.const 68) (local.get $x))
      (i32.const 64))

    ;; variant v {a(u32), b(u32), c(string), d} and result<u32, string>:
    ;; flat (disc, p0, p1); layout disc@0 p0@4 p1@8
    (func (export "echo3") (param $disc i32) (param $x i32) (param $y i32) (result i32)
      (i32.store8 (i32.const 64) (local.get $disc))
      (i32.store  (i32.const 68) (local.get $x))
      (i32.store  (i32.const 72) (local.get $y))
      (i32.const 64))

    ;; flags (8 names) are one i32
    (func (export "echo-flags") (param i32) (result i32) (local.get 0))
  )
  (core instance $i (instantiate $m))
  (alias core export $i "memory" (core memory $mem))
  (alias core export $i "cabi_realloc" (core func $realloc))
  (alias core export $i "post" (core func $post))

  (type $rec (record (field "a" u8) (field "b" u16) (field "c" u32) (field "d" s64)
                     (field "e" f32) (field "f" f64) (field "g" bool) (field "h" string)))
  (export $rec-e "rec" (type $rec))
  (type $v (variant (case "a" u32) (case "b" u32) (case "c" string) (case "d")))
  (export $v-e "v" (type $v))
  (type $fl (flags "f0" "f1" "f2" "f3" "f4" "f5" "f6" "f7"))
  (export $fl-e "fl" (type $fl))

  (func (export "nop") (canon lift (core func $i "nop")))
  (func (export "add") (param "a" u32) (param "b" u32) (result u32)
    (canon lift (core func $i "add")))
  (func (export "sum20")
    (param "a1" u32) (param "a2" u32) (param "a3" u32) (param "a4" u32) (param "a5" u32)
    (param "a6" u32) (param "a7" u32) (param "a8" u32) (param "a9" u32) (param "a10" u32)
    (param "a11" u32) (param "a12" u32) (param "a13" u32) (param "a14" u32) (param "a15" u32)
    (param "a16" u32) (param "a17" u32) (param "a18" u32) (param "a19" u32) (param "a20" u32)
    (result u32)
    (canon lift (core func $i "sum20") (memory $mem) (realloc $realloc)))

  (func (export "echo-utf8") (param "s" string) (result string)
    (canon lift (core func $i "echo-ptrlen") (memory $mem) (realloc $realloc)
      string-encoding=utf8 (post-return $post)))
  (func (export "echo-utf16") (param "s" string) (result string)
    (canon lift (core func $i "echo-ptrlen") (memory $mem) (realloc $realloc)
      string-encoding=utf16 (post-return $post)))

  (func (export "consume-bytes") (param "b" (list u8)) (result u32)
    (canon lift (core func $i "consume") (memory $mem) (realloc $realloc)))
  (func (export "produce-bytes") (param "n" u32) (result (list u8))
    (canon lift (core func $i "produce") (memory $mem) (realloc $realloc)))
  (func (export "echo-u32s") (param "l" (list u32)) (result (list u32))
    (canon lift (core func $i "echo-ptrlen") (memory $mem) (realloc $realloc)
      (post-return $post)))

  (func (export "echo-rec") (param "r" $rec-e) (result $rec-e)
    (canon lift (core func $i "echo-rec") (memory $mem) (realloc $realloc)
      (post-return $post)))
  (func (export "echo-recs") (param "l" (list $rec-e)) (result (list $rec-e))
    (canon lift (core func $i "echo-ptrlen") (memory $mem) (realloc $realloc)
      (post-return $post)))

  (func (export "echo-variant") (param "x" $v-e) (result $v-e)
    (canon lift (core func $i "echo3") (memory $mem) (realloc $realloc) (post-return $post)))
  (func (export "echo-option") (param "x" (option u32)) (result (option u32))
    (canon lift (core func $i "echo2") (memory $mem) (realloc $realloc) (post-return $post)))
  (func (export "echo-result") (param "x" (result u32 (error string)))
    (result (result u32 (error string)))
    (canon lift (core func $i "echo3") (memory $mem) (realloc $realloc) (post-return $post)))
  (func (export "echo-flags") (param "x" $fl-e) (result $fl-e)
    (canon lift (core func $i "echo-flags")))

  ;; for sanity checks: where the bump heap currently ends
  (func (export "heap-top") (result u32) (canon lift (core func $i "heap")))
)
