import { readFileSync } from 'node:fs'

/** The CLI's package version (read from its package.json, which ships with it). */
export const cliVersion: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version
