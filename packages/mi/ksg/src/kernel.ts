/**
 * The one KSG neighbour kernel. It runs on the main thread and, as source text (`fn.toString()`), inside
 * the worker threads, so it must stay SELF-CONTAINED: no imports, no closures, no nested functions, no
 * helpers; only its arguments and `Math`. It never throws (validation happens at the public boundary).
 *
 * For every query row i in [r0, r1) it finds the kmax nearest joint neighbours outside the exclusion set
 * E(i) = {i} ∪ Θ(i), ordered by (distance, index), with an insertion buffer, and counts the marginal
 * neighbours n_x(i), n_y(i) for every k in `ks`:
 * - variant 1: n_x = #{j ∉ E(i) : ‖x_j − x_i‖ < ε_k(i)} (strict), ε_k = joint distance to the k-th neighbour;
 * - variant 2: n_x = #{j ∉ E(i) : ‖x_j − x_i‖ ≤ ε_x,k(i)}, ε_x,k = max x-distance over the k neighbours.
 *
 * Early exit (max norm: coordinates tested in order of the query's |value|, largest first; the exact
 * distance of a surviving pair is a max, so the order does not change it): a marginal distance that already exceeds the current kmax-th joint distance `bound` in some
 * coordinate (or partial sum) is abandoned and stored as +∞. It exceeds every radius used later (all radii are
 * ≤ the final bound ≤ the bound at that time), so the counts are exact.
 *
 * Layout: x is N×dx and y is N×dy, row-major float64. `out[(i·nk + q)·2]` receives n_x and `+1` receives n_y
 * for ks[q]. `ks` is ascending. Scratch: xs, ys of length n; bd, bx, by of length ≥ kmax.
 * `euclidean` is 0 (max norm within a variable) or 1 (L2 within a variable); the joint norm is always the max.
 * Θ(i) = {j : seq_j = seq_i, |pos_j − pos_i| ≤ w}, used only when w > 0 and tags are given.
 */
export function ksgRowsKernel(
  x: Float64Array,
  dx: number,
  y: Float64Array,
  dy: number,
  n: number,
  ks: Int32Array,
  variant: number,
  euclidean: number,
  seq: Int32Array | null,
  pos: Int32Array | null,
  w: number,
  r0: number,
  r1: number,
  out: Int32Array,
  xs: Float64Array,
  ys: Float64Array,
  bd: Float64Array,
  bx: Float64Array,
  by: Float64Array,
): void {
  const nk = ks.length
  const kmax = ks[nk - 1]!
  const useTheiler = w > 0 && seq !== null && pos !== null
  // per query, the coordinates ordered by |value| descending (max norm): an extreme coordinate of the
  // query is the likeliest to exceed the bound, so the early exit comes after fewer coordinates
  const px = new Int32Array(dx)
  const qx = new Float64Array(dx)
  const py = new Int32Array(dy)
  const qy = new Float64Array(dy)
  for (let i = r0; i < r1; i++) {
    for (let t = 0; t < kmax; t++) {
      bd[t] = Infinity
      bx[t] = 0
      by[t] = 0
    }
    let bound = Infinity
    const xi = i * dx
    const yi = i * dy
    const si = useTheiler ? seq![i]! : 0
    const pi = useTheiler ? pos![i]! : 0
    if (euclidean === 0) {
      for (let side = 0; side < 2; side++) {
        const v = side === 0 ? x : y
        const dv = side === 0 ? dx : dy
        const off = side === 0 ? xi : yi
        const pv = side === 0 ? px : py
        const qv = side === 0 ? qx : qy
        // insertion sort of the coordinate indices by |v| descending (ties by index)
        for (let c = 0; c < dv; c++) {
          const key = Math.abs(v[off + c]!)
          let t = c
          while (t > 0 && Math.abs(v[off + pv[t - 1]!]!) < key) {
            pv[t] = pv[t - 1]!
            t--
          }
          pv[t] = c
        }
        for (let c = 0; c < dv; c++) qv[c] = v[off + pv[c]!]!
      }
    }
    for (let j = 0; j < n; j++) {
      if (j === i || (useTheiler && seq![j] === si && Math.abs(pos![j]! - pi) <= w)) {
        xs[j] = Infinity
        ys[j] = Infinity
        continue
      }
      let a = 0
      let b = 0
      const xj = j * dx
      const yj = j * dy
      if (euclidean === 0) {
        // Test |Δ| > bound four coordinates at a time (predictable branches, no running max); only a pair
        // that stays within the bound in every coordinate gets its exact distance in a second pass.
        let c = 0
        let out = false
        for (; c + 3 < dx; c += 4) {
          if (
            Math.abs(qx[c]! - x[xj + px[c]!]!) > bound ||
            Math.abs(qx[c + 1]! - x[xj + px[c + 1]!]!) > bound ||
            Math.abs(qx[c + 2]! - x[xj + px[c + 2]!]!) > bound ||
            Math.abs(qx[c + 3]! - x[xj + px[c + 3]!]!) > bound
          ) {
            out = true
            break
          }
        }
        if (!out) {
          for (; c < dx; c++) {
            if (Math.abs(qx[c]! - x[xj + px[c]!]!) > bound) {
              out = true
              break
            }
          }
        }
        if (out) a = Infinity
        else {
          for (c = 0; c < dx; c++) {
            const v = Math.abs(x[xi + c]! - x[xj + c]!)
            if (v > a) a = v
          }
        }
        c = 0
        out = false
        for (; c + 3 < dy; c += 4) {
          if (
            Math.abs(qy[c]! - y[yj + py[c]!]!) > bound ||
            Math.abs(qy[c + 1]! - y[yj + py[c + 1]!]!) > bound ||
            Math.abs(qy[c + 2]! - y[yj + py[c + 2]!]!) > bound ||
            Math.abs(qy[c + 3]! - y[yj + py[c + 3]!]!) > bound
          ) {
            out = true
            break
          }
        }
        if (!out) {
          for (; c < dy; c++) {
            if (Math.abs(qy[c]! - y[yj + py[c]!]!) > bound) {
              out = true
              break
            }
          }
        }
        if (out) b = Infinity
        else {
          for (c = 0; c < dy; c++) {
            const v = Math.abs(y[yi + c]! - y[yj + c]!)
            if (v > b) b = v
          }
        }
      } else {
        // squared partial sums against the squared bound with a margin, so "exceeded" is certain
        const b2 = bound * bound * (1 + 1e-9)
        for (let c = 0; c < dx; c++) {
          const v = x[xi + c]! - x[xj + c]!
          a += v * v
          if (a > b2) break
        }
        a = a > b2 ? Infinity : Math.sqrt(a)
        for (let c = 0; c < dy; c++) {
          const v = y[yi + c]! - y[yj + c]!
          b += v * v
          if (b > b2) break
        }
        b = b > b2 ? Infinity : Math.sqrt(b)
      }
      xs[j] = a
      ys[j] = b
      const d = a > b ? a : b
      if (d < bound) {
        // j is larger than every index in the buffer, so it goes after equal distances: (distance, index) order
        let t = kmax - 1
        while (t > 0 && bd[t - 1]! > d) {
          bd[t] = bd[t - 1]!
          bx[t] = bx[t - 1]!
          by[t] = by[t - 1]!
          t--
        }
        bd[t] = d
        bx[t] = a
        by[t] = b
        bound = bd[kmax - 1]!
      }
    }
    for (let q = 0; q < nk; q++) {
      const k = ks[q]!
      let cx = 0
      let cy = 0
      if (variant === 1) {
        const e = bd[k - 1]!
        for (let j = 0; j < n; j++) {
          if (xs[j]! < e) cx++
          if (ys[j]! < e) cy++
        }
      } else {
        let ex = 0
        let ey = 0
        for (let t = 0; t < k; t++) {
          if (bx[t]! > ex) ex = bx[t]!
          if (by[t]! > ey) ey = by[t]!
        }
        for (let j = 0; j < n; j++) {
          if (xs[j]! <= ex) cx++
          if (ys[j]! <= ey) cy++
        }
      }
      const o = (i * nk + q) * 2
      out[o] = cx
      out[o + 1] = cy
    }
  }
}

/**
 * The low-dimensional KSG kernel: the same counts as {@link ksgRowsKernel}, found by a sort-and-sweep search
 * instead of brute force. SELF-CONTAINED for the same reason (it also runs as worker source text).
 *
 * `ox` lists the rows sorted by x's first coordinate and `rx` is its inverse (rank of each row); `oy`/`ry`
 * likewise for y. Because every within-variable distance is ≥ |Δ first coordinate| (exactly, in floating
 * point, for both norms), the joint k-NN search walks outward from row i along `ox` and closes a side once
 * its |Δx₀| exceeds the current k-th distance; the marginal counts walk `ox` (resp. `oy`) only within the
 * final radius. Neighbours are kept in (distance, index) order, so ties resolve exactly as in the brute
 * force kernel. Fast when dx + dy is small (a few dimensions); in high dimensions the window covers
 * almost every row and brute force is faster.
 *
 * Scratch: bd, bx, by (Float64Array) and bi (Int32Array), each of length ≥ kmax; rad of length ≥ ks.length.
 */
export function ksgSweepKernel(
  x: Float64Array,
  dx: number,
  y: Float64Array,
  dy: number,
  n: number,
  ks: Int32Array,
  variant: number,
  euclidean: number,
  seq: Int32Array | null,
  pos: Int32Array | null,
  w: number,
  r0: number,
  r1: number,
  out: Int32Array,
  ox: Int32Array,
  rx: Int32Array,
  oy: Int32Array,
  ry: Int32Array,
  bd: Float64Array,
  bx: Float64Array,
  by: Float64Array,
  bi: Int32Array,
  rad: Float64Array,
): void {
  const nk = ks.length
  const kmax = ks[nk - 1]!
  const useTheiler = w > 0 && seq !== null && pos !== null
  for (let i = r0; i < r1; i++) {
    for (let t = 0; t < kmax; t++) {
      bd[t] = Infinity
      bx[t] = 0
      by[t] = 0
      bi[t] = n
    }
    let bound = Infinity
    const xi = i * dx
    const yi = i * dy
    const x0 = x[xi]!
    const y0 = y[yi]!
    const si = useTheiler ? seq![i]! : 0
    const pi = useTheiler ? pos![i]! : 0
    // ---- joint k-NN: walk outward along ox, nearer side first
    let up = rx[i]! + 1
    let dn = rx[i]! - 1
    let upOpen = up < n
    let dnOpen = dn >= 0
    while (upOpen || dnOpen) {
      let j = 0
      let gap = 0
      if (upOpen && dnOpen) {
        const gu = Math.abs(x[ox[up]! * dx]! - x0)
        const gd = Math.abs(x[ox[dn]! * dx]! - x0)
        if (gu <= gd) {
          j = ox[up]!
          gap = gu
        } else {
          j = ox[dn]!
          gap = gd
        }
      } else if (upOpen) {
        j = ox[up]!
        gap = Math.abs(x[j * dx]! - x0)
      } else {
        j = ox[dn]!
        gap = Math.abs(x[j * dx]! - x0)
      }
      const isUp = upOpen && j === ox[up]!
      if (gap > bound) {
        if (isUp) upOpen = false
        else dnOpen = false
        continue
      }
      if (isUp) {
        up++
        upOpen = up < n
      } else {
        dn--
        dnOpen = dn >= 0
      }
      if (useTheiler && seq![j] === si && Math.abs(pos![j]! - pi) <= w) continue
      let a = 0
      let b = 0
      const xj = j * dx
      const yj = j * dy
      if (euclidean === 0) {
        for (let c = 0; c < dx; c++) {
          const v = Math.abs(x[xi + c]! - x[xj + c]!)
          if (v > a) a = v
        }
        for (let c = 0; c < dy; c++) {
          const v = Math.abs(y[yi + c]! - y[yj + c]!)
          if (v > b) b = v
        }
      } else {
        for (let c = 0; c < dx; c++) {
          const v = x[xi + c]! - x[xj + c]!
          a += v * v
        }
        for (let c = 0; c < dy; c++) {
          const v = y[yi + c]! - y[yj + c]!
          b += v * v
        }
        a = Math.sqrt(a)
        b = Math.sqrt(b)
      }
      const d = a > b ? a : b
      if (d < bound || (d === bound && j < bi[kmax - 1]!)) {
        let t = kmax - 1
        while (t > 0 && (bd[t - 1]! > d || (bd[t - 1]! === d && bi[t - 1]! > j))) {
          bd[t] = bd[t - 1]!
          bx[t] = bx[t - 1]!
          by[t] = by[t - 1]!
          bi[t] = bi[t - 1]!
          t--
        }
        bd[t] = d
        bx[t] = a
        by[t] = b
        bi[t] = j
        bound = bd[kmax - 1]!
      }
    }
    // ---- marginal counts: radii per k (non-decreasing in k), one outward walk per variable
    for (let q = 0; q < nk; q++) {
      out[(i * nk + q) * 2] = 0
      out[(i * nk + q) * 2 + 1] = 0
    }
    for (let side = 0; side < 2; side++) {
      const isX = side === 0
      const v = isX ? x : y
      const dv = isX ? dx : dy
      const o = isX ? ox : oy
      const vi = isX ? xi : yi
      const v0 = isX ? x0 : y0
      const rank = isX ? rx[i]! : ry[i]!
      // radius per k (variant 1: ε_k, variant 2: ε_x,k or ε_y,k); non-decreasing in k, so the walk uses the last
      for (let q = 0; q < nk; q++) {
        const k = ks[q]!
        if (variant === 1) rad[q] = bd[k - 1]!
        else {
          let r = 0
          for (let t = 0; t < k; t++) {
            const m = isX ? bx[t]! : by[t]!
            if (m > r) r = m
          }
          rad[q] = r
        }
      }
      const rmax = rad[nk - 1]!
      for (let dir = -1; dir <= 1; dir += 2) {
        for (let m = rank + dir; m >= 0 && m < n; m += dir) {
          const j = o[m]!
          const vj = j * dv
          if (Math.abs(v[vj]! - v0) > rmax) break
          if (useTheiler && seq![j] === si && Math.abs(pos![j]! - pi) <= w) continue
          let a = 0
          if (euclidean === 0) {
            for (let c = 0; c < dv; c++) {
              const u = Math.abs(v[vi + c]! - v[vj + c]!)
              if (u > a) a = u
            }
          } else {
            for (let c = 0; c < dv; c++) {
              const u = v[vi + c]! - v[vj + c]!
              a += u * u
            }
            a = Math.sqrt(a)
          }
          for (let q = 0; q < nk; q++) {
            if (variant === 1 ? a < rad[q]! : a <= rad[q]!) out[(i * nk + q) * 2 + side]++
          }
        }
      }
    }
  }
}
