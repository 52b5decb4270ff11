import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  encodeFloats,
  encodeHeader,
  openCheckpoint,
  readSafetensorsHeader,
  writeSafetensors,
  writeShardedSafetensors,
} from '@mi-prun/safetensors'

const dir = mkdtempSync(join(tmpdir(), 'mi-prun-st-options-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const t = [
  { name: 'a', dtype: 'F32' as const, shape: [2], data: encodeFloats('F32', new Float32Array([1, 2])) },
]
const bad = (o: object): never => o as never

describe('safetensors option keys', () => {
  it('refuses unknown keys with a TypeError naming the closest one, before anything is written', async () => {
    expect(() => encodeHeader(t, bad({ meta: { a: 'b' } }))).toThrow(
      /\[@mi-prun\/safetensors\] unknown option "meta" \(did you mean "metadata"\?\)/,
    )
    await expect(writeSafetensors(join(dir, 'x', 'w.safetensors'), t, bad({ metdata: {} }))).rejects.toThrow(
      /did you mean "metadata"/,
    )
    expect(existsSync(join(dir, 'x'))).toBe(false)
    await expect(writeShardedSafetensors(join(dir, 'y'), t, bad({ maxShardSize: 10 }))).rejects.toThrow(
      /did you mean "maxShardBytes"/,
    )
    expect(existsSync(join(dir, 'y'))).toBe(false)
    await writeSafetensors(join(dir, 'w.safetensors'), t)
    expect(() => readSafetensorsHeader(join(dir, 'w.safetensors'), bad({ maxHeader: 10 }))).toThrow(
      /did you mean "maxHeaderBytes"/,
    )
    expect(() => openCheckpoint(dir, bad({ maxheaderbytes: 10 }))).toThrow(TypeError)
  })
})
