/**
 * Seeded pseudo-random numbers: xoshiro128** (Blackman & Vigna 2018) seeded through splitmix32.
 * Same seed, same sequence, on every platform. mi-prun never uses Math.random.
 */
export interface Rng {
  /** Uniform float in [0, 1) with 32 bits of randomness. */
  next(): number
  /** Uniform float64 in [0, 1) with 53 bits of randomness. */
  nextDouble(): number
  /** Uniform integer in [0, n). */
  nextInt(n: number): number
  /** Standard normal draw (Box–Muller, using both values of each pair). */
  normal(): number
  /** Shuffles an array in place (Fisher–Yates) and returns it. */
  shuffle<T>(a: T[]): T[]
  /** k distinct integers from [0, n), in ascending order. */
  sample(n: number, k: number): Int32Array
  /** An independent generator derived from this one's seed and a label (does not advance this one). */
  fork(label: string | number): Rng
  /** The seed this generator was created with. */
  readonly seed: number
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x9e3779b9) >>> 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
}

function hashLabel(seed: number, label: string | number): number {
  const str = `${seed}:${label}`
  let h = 0x811c9dc5
  for (let i = 0; i < str.length; i++) {
    h ^= str.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h >>> 0
}

/**
 * Creates a seeded generator.
 * @example
 * const rng = createRng(7)
 * const u = rng.next() // same value for seed 7, always
 */
export function createRng(seed: number): Rng {
  if (!Number.isFinite(seed))
    throw new RangeError(`[@mi-prun/core] seed must be a finite number, got ${seed}`)
  const seed32 = Math.trunc(seed) >>> 0
  const sm = splitmix32(seed32)
  let a = sm()
  let b = sm()
  let c = sm()
  let d = sm()
  if ((a | b | c | d) === 0) a = 1
  const nextU32 = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5) >>> 0, 7), 9) >>> 0
    const t = (b << 9) >>> 0
    c ^= a
    d ^= b
    b ^= c
    a ^= d
    c ^= t
    d = rotl(d, 11)
    a >>>= 0
    b >>>= 0
    c >>>= 0
    d >>>= 0
    return result
  }
  let spare: number | undefined
  const rng: Rng = {
    seed: seed32,
    next: () => nextU32() / 4294967296,
    nextDouble: () => ((nextU32() >>> 5) * 67108864 + (nextU32() >>> 6)) / 9007199254740992,
    nextInt(n: number): number {
      if (!Number.isInteger(n) || n <= 0)
        throw new RangeError(`[@mi-prun/core] nextInt needs a positive integer, got ${n}`)
      // rejection sampling for an unbiased result
      const limit = Math.floor(4294967296 / n) * n
      let v = nextU32()
      while (v >= limit) v = nextU32()
      return v % n
    },
    normal(): number {
      if (spare !== undefined) {
        const s = spare
        spare = undefined
        return s
      }
      let u = 0
      while (u === 0) u = rng.nextDouble()
      const v = rng.nextDouble()
      const r = Math.sqrt(-2 * Math.log(u))
      spare = r * Math.sin(2 * Math.PI * v)
      return r * Math.cos(2 * Math.PI * v)
    },
    shuffle<T>(arr: T[]): T[] {
      for (let i = arr.length - 1; i > 0; i--) {
        const j = rng.nextInt(i + 1)
        const tmp = arr[i]!
        arr[i] = arr[j]!
        arr[j] = tmp
      }
      return arr
    },
    sample(n: number, k: number): Int32Array {
      if (!Number.isInteger(k) || k < 0 || k > n)
        throw new RangeError(`[@mi-prun/core] cannot sample ${k} of ${n}`)
      // Floyd's algorithm: k draws, exact uniform k-subset
      const chosen = new Set<number>()
      for (let j = n - k; j < n; j++) {
        const t = rng.nextInt(j + 1)
        chosen.add(chosen.has(t) ? j : t)
      }
      return Int32Array.from([...chosen].sort((p, q) => p - q))
    },
    fork: (label: string | number) => createRng(hashLabel(seed32, label)),
  }
  return rng
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0
}
