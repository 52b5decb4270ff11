;; Upper-triangle cross-product C = ZᵀZ with f64x2 SIMD (source of src/gram-wasm.ts; rebuild with
;; `node scripts/build-wasm.mjs`). Z is column-major, n rows (even) × d columns (multiple of 4),
;; at byte offset $z; C is row-major d×d at byte offset $out and is ACCUMULATED into (zero it first).
;; Only rows [$r0, $r1) are summed ($r0 even): the caller walks the rows in a few calls, so V8 tiers
;; the function up from its baseline compiler after the first calls (wasm has no on-stack replacement).
;; 2×4 tiles of f64x2 accumulators (two rows per lane pair) over row blocks of 256; each tile is reduced
;; lane 0 + lane 1 and added to C, so the summation order is fixed.
(module
  (memory (export "memory") 1)
  (func (export "gram") (param $n i32) (param $d i32) (param $z i32) (param $out i32) (param $r0 i32) (param $r1 i32)
    (local $i0 i32) (local $len i32) (local $a i32) (local $b i32) (local $k i32)
    (local $pa0 i32) (local $pa1 i32) (local $pb0 i32) (local $pb1 i32) (local $pb2 i32) (local $pb3 i32)
    (local $nb i32) (local $o i32)
    (local $va0 v128) (local $va1 v128) (local $vb v128)
    (local $c00 v128) (local $c01 v128) (local $c02 v128) (local $c03 v128)
    (local $c10 v128) (local $c11 v128) (local $c12 v128) (local $c13 v128)
    (local.set $nb (i32.shl (local.get $n) (i32.const 3)))
    (local.set $i0 (local.get $r0))
    (block $done_i
      (loop $loop_i
        (br_if $done_i (i32.ge_u (local.get $i0) (local.get $r1)))
        ;; len = min(256, r1 - i0) rows, in bytes
        (local.set $len (i32.sub (local.get $r1) (local.get $i0)))
        (if (i32.gt_u (local.get $len) (i32.const 256)) (then (local.set $len (i32.const 256))))
        (local.set $len (i32.shl (local.get $len) (i32.const 3)))
        (local.set $a (i32.const 0))
        (block $done_a
          (loop $loop_a
            (br_if $done_a (i32.ge_u (local.get $a) (local.get $d)))
            (local.set $pa0 (i32.add (local.get $z)
              (i32.shl (i32.add (i32.mul (local.get $a) (local.get $n)) (local.get $i0)) (i32.const 3))))
            (local.set $pa1 (i32.add (local.get $pa0) (local.get $nb)))
            (local.set $b (i32.and (local.get $a) (i32.const -4)))
            (block $done_b
              (loop $loop_b
                (br_if $done_b (i32.ge_u (local.get $b) (local.get $d)))
                (local.set $pb0 (i32.add (local.get $z)
                  (i32.shl (i32.add (i32.mul (local.get $b) (local.get $n)) (local.get $i0)) (i32.const 3))))
                (local.set $pb1 (i32.add (local.get $pb0) (local.get $nb)))
                (local.set $pb2 (i32.add (local.get $pb1) (local.get $nb)))
                (local.set $pb3 (i32.add (local.get $pb2) (local.get $nb)))
                (local.set $c00 (v128.const f64x2 0 0)) (local.set $c01 (v128.const f64x2 0 0))
                (local.set $c02 (v128.const f64x2 0 0)) (local.set $c03 (v128.const f64x2 0 0))
                (local.set $c10 (v128.const f64x2 0 0)) (local.set $c11 (v128.const f64x2 0 0))
                (local.set $c12 (v128.const f64x2 0 0)) (local.set $c13 (v128.const f64x2 0 0))
                (local.set $k (i32.const 0))
                (block $done_k
                  (loop $loop_k
                    (br_if $done_k (i32.ge_u (local.get $k) (local.get $len)))
                    (local.set $va0 (v128.load align=8 (i32.add (local.get $pa0) (local.get $k))))
                    (local.set $va1 (v128.load align=8 (i32.add (local.get $pa1) (local.get $k))))
                    (local.set $vb (v128.load align=8 (i32.add (local.get $pb0) (local.get $k))))
                    (local.set $c00 (f64x2.add (local.get $c00) (f64x2.mul (local.get $va0) (local.get $vb))))
                    (local.set $c10 (f64x2.add (local.get $c10) (f64x2.mul (local.get $va1) (local.get $vb))))
                    (local.set $vb (v128.load align=8 (i32.add (local.get $pb1) (local.get $k))))
                    (local.set $c01 (f64x2.add (local.get $c01) (f64x2.mul (local.get $va0) (local.get $vb))))
                    (local.set $c11 (f64x2.add (local.get $c11) (f64x2.mul (local.get $va1) (local.get $vb))))
                    (local.set $vb (v128.load align=8 (i32.add (local.get $pb2) (local.get $k))))
                    (local.set $c02 (f64x2.add (local.get $c02) (f64x2.mul (local.get $va0) (local.get $vb))))
                    (local.set $c12 (f64x2.add (local.get $c12) (f64x2.mul (local.get $va1) (local.get $vb))))
                    (local.set $vb (v128.load align=8 (i32.add (local.get $pb3) (local.get $k))))
                    (local.set $c03 (f64x2.add (local.get $c03) (f64x2.mul (local.get $va0) (local.get $vb))))
                    (local.set $c13 (f64x2.add (local.get $c13) (f64x2.mul (local.get $va1) (local.get $vb))))
                    (local.set $k (i32.add (local.get $k) (i32.const 16)))
                    (br $loop_k)))
                ;; row a: out[a*d + b .. b+3] += lane0 + lane1
                (local.set $o (i32.add (local.get $out)
                  (i32.shl (i32.add (i32.mul (local.get $a) (local.get $d)) (local.get $b)) (i32.const 3))))
                (f64.store (local.get $o) (f64.add (f64.load (local.get $o))
                  (f64.add (f64x2.extract_lane 0 (local.get $c00)) (f64x2.extract_lane 1 (local.get $c00)))))
                (f64.store offset=8 (local.get $o) (f64.add (f64.load offset=8 (local.get $o))
                  (f64.add (f64x2.extract_lane 0 (local.get $c01)) (f64x2.extract_lane 1 (local.get $c01)))))
                (f64.store offset=16 (local.get $o) (f64.add (f64.load offset=16 (local.get $o))
                  (f64.add (f64x2.extract_lane 0 (local.get $c02)) (f64x2.extract_lane 1 (local.get $c02)))))
                (f64.store offset=24 (local.get $o) (f64.add (f64.load offset=24 (local.get $o))
                  (f64.add (f64x2.extract_lane 0 (local.get $c03)) (f64x2.extract_lane 1 (local.get $c03)))))
                ;; row a+1
                (local.set $o (i32.add (local.get $o) (i32.shl (local.get $d) (i32.const 3))))
                (f64.store (local.get $o) (f64.add (f64.load (local.get $o))
                  (f64.add (f64x2.extract_lane 0 (local.get $c10)) (f64x2.extract_lane 1 (local.get $c10)))))
                (f64.store offset=8 (local.get $o) (f64.add (f64.load offset=8 (local.get $o))
                  (f64.add (f64x2.extract_lane 0 (local.get $c11)) (f64x2.extract_lane 1 (local.get $c11)))))
                (f64.store offset=16 (local.get $o) (f64.add (f64.load offset=16 (local.get $o))
                  (f64.add (f64x2.extract_lane 0 (local.get $c12)) (f64x2.extract_lane 1 (local.get $c12)))))
                (f64.store offset=24 (local.get $o) (f64.add (f64.load offset=24 (local.get $o))
                  (f64.add (f64x2.extract_lane 0 (local.get $c13)) (f64x2.extract_lane 1 (local.get $c13)))))
                (local.set $b (i32.add (local.get $b) (i32.const 4)))
                (br $loop_b)))
            (local.set $a (i32.add (local.get $a) (i32.const 2)))
            (br $loop_a)))
        (local.set $i0 (i32.add (local.get $i0) (i32.const 256)))
        (br $loop_i)))))
