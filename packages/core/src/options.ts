/**
 * The one check every public factory runs on its options object: an unknown key is a `TypeError`
 * that names the closest valid key, so `createKsgEstimator({ neighbors: 5 })` fails loudly instead
 * of silently running the default `k`. Argument errors are `TypeError`/`RangeError` in every package
 * (domain failures are `PruneError`); see docs/guide/extending.md#errors.
 */

/** Levenshtein distance between two short strings (option names). */
export function editDistance(a: string, b: string): number {
  const m = a.length
  const n = b.length
  let prev = Array.from({ length: n + 1 }, (_, j) => j)
  for (let i = 1; i <= m; i++) {
    const cur = [i]
    for (let j = 1; j <= n; j++) {
      const sub = prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)
      cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, sub))
    }
    prev = cur
  }
  return prev[n]!
}

/** True when every character of `a` appears in `b` in order (an abbreviation: "seqLen" of "sequenceLength"). */
function isSubsequence(a: string, b: string): boolean {
  let j = 0
  for (let i = 0; i < b.length && j < a.length; i++) if (b[i] === a[j]) j++
  return j === a.length
}

/**
 * The candidate closest to `name` (case-insensitive edit distance; a substring or an abbreviation
 * with the same first letter counts as close; ties go to the smaller edit distance), or undefined when none is close enough to be a
 * plausible typo (distance > max(2, ⌊len/3⌋)).
 */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  const lower = name.toLowerCase()
  let best: string | undefined
  let bestD = Infinity
  let bestE = Infinity
  for (const c of candidates) {
    const cl = c.toLowerCase()
    const [short, long] = lower.length <= cl.length ? [lower, cl] : [cl, lower]
    const d = long.includes(short)
      ? Math.min(1, long.length - short.length)
      : short.length >= 3 && short[0] === long[0] && isSubsequence(short, long)
        ? 1.5
        : editDistance(lower, cl)
    // a tie ("maxIteration" contains "ratio" and is contained in "maxIterations") goes to the smaller
    // plain edit distance
    const e = editDistance(lower, cl)
    if (d < bestD || (d === bestD && e < bestE)) {
      bestD = d
      bestE = e
      best = c
    }
  }
  const limit = Math.max(2, Math.floor(name.length / 3))
  return bestD <= limit ? best : undefined
}

/** `(did you mean "k"?)` or the list of valid names when nothing is close. */
export function suggestion(name: string, candidates: readonly string[]): string {
  const near = closestName(name, candidates)
  return near !== undefined
    ? `(did you mean "${near}"?)`
    : `(valid: ${candidates.length === 0 ? 'none' : candidates.map((c) => `"${c}"`).join(', ')})`
}

/**
 * Throws `TypeError` when `options` is not a plain object or has a key outside `allowed`:
 * `[@mi-prun/mi-ksg] unknown option "neighbors" (did you mean "k"?)`. `undefined` passes.
 * `aliases` maps names people use elsewhere (another library's, or an old one) to the valid key to
 * suggest when spelling alone would not find it.
 * @example
 * assertKnownOptions('@mi-prun/mi-ksg', options, ['k', 'variant', 'seed'], { neighbors: 'k' })
 */
export function assertKnownOptions(
  pkg: string,
  options: unknown,
  allowed: readonly string[],
  aliases: Readonly<Record<string, string>> = {},
): void {
  if (options === undefined) return
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(
      `[${pkg}] options must be an object, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`,
    )
  }
  for (const key of Object.keys(options)) {
    if (allowed.includes(key)) continue
    const alias = Object.hasOwn(aliases, key) ? aliases[key] : undefined
    throw new TypeError(
      `[${pkg}] unknown option "${key}" ${alias !== undefined && allowed.includes(alias) ? `(did you mean "${alias}"?)` : suggestion(key, allowed)}`,
    )
  }
}
