/** Selectors whose selection at n is the first n entries of their order (as in apps/cli/src/compare.ts). */
export const prefixable: ReadonlySet<string> = new Set(['sleb', 'ppl-rank', 'shortgpt'])
