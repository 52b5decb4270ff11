import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { generateRandomCheckpoint, loadHfModel, randomConfig, selectBackend } from '@mi-prun/adapter-tfjs'

const fixtures = join(import.meta.dirname, 'fixtures')
const tmp = mkdtempSync(join(tmpdir(), 'adapter-tfjs-hygiene-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))
const bad = (o: object): never => o as never

describe('adapter-tfjs option keys', () => {
  it('refuses unknown keys with a TypeError naming the closest one, before loading anything', async () => {
    await expect(
      loadHfModel(join(fixtures, 'llama-gqa'), bad({ backend: 'cpu', streaming: true })),
    ).rejects.toThrow(/\[@mi-prun\/adapter-tfjs\] unknown option "streaming" \(did you mean "stream"\?\)/)
    await expect(selectBackend(bad({ backnd: 'cpu' }))).rejects.toThrow(/did you mean "backend"/)
    expect(() => randomConfig(bad({ arch: 'llama', seed: 1, numLayers: 2 }))).toThrow(TypeError)
    const out = join(tmp, 'never')
    await expect(
      generateRandomCheckpoint(out, bad({ arch: 'llama', seed: 1, hidenSize: 8 })),
    ).rejects.toThrow(/did you mean "hiddenSize"/)
    expect(existsSync(out)).toBe(false)
  })
})

describe('exportPruned creates missing parents', () => {
  it("writes 'out/pruned' when out/ does not exist, and removes the parents it made when it fails", async () => {
    const m = await loadHfModel(join(fixtures, 'llama-gqa'), { backend: 'cpu' })
    const out = join(tmp, 'out', 'deeper', 'pruned')
    const r = await m.exportPruned([1], out)
    expect(r.path).toBe(out)
    expect(existsSync(join(out, 'config.json'))).toBe(true)
    expect(readdirSync(join(tmp, 'out', 'deeper'))).toEqual(['pruned'])
    // a refused request (validated first) creates nothing
    await expect(m.exportPruned([9], join(tmp, 'no', 'pruned'))).rejects.toThrow(/out of range/)
    expect(existsSync(join(tmp, 'no'))).toBe(false)
    // a parent that is a plain file: a PruneError naming it, nothing written
    writeFileSync(join(tmp, 'plain'), 'x')
    await expect(m.exportPruned([1], join(tmp, 'plain', 'pruned'))).rejects.toThrow(/parent folder/)
    m.dispose()
    // a failure after the parents were made (the weights vanish mid-way) removes them again
    const src = join(tmp, 'src')
    cpSync(join(fixtures, 'llama-gqa'), src, { recursive: true })
    const s = await loadHfModel(src, { backend: 'cpu', stream: true })
    rmSync(join(src, 'model.safetensors'))
    await expect(s.exportPruned([1], join(tmp, 'gone', 'pruned'))).rejects.toThrow()
    expect(existsSync(join(tmp, 'gone'))).toBe(false)
    s.dispose()
  })
})

describe('the wasm backend leaves the process alone', () => {
  it("a user's uncaught error after loadHfModel on wasm is Node's own message and exit 1, not emscripten's", () => {
    const dist = join(import.meta.dirname, '..', 'dist', 'index.js')
    expect(existsSync(dist), 'run `npx tsc -b` first: the spawned script loads the built adapter').toBe(true)
    const script = join(tmp, 'user.mjs')
    writeFileSync(
      script,
      [
        `import { loadHfModel } from ${JSON.stringify(pathToFileURL(dist).href)}`,
        `const m = await loadHfModel(${JSON.stringify(join(fixtures, 'llama-gqa'))}, { backend: 'wasm' })`,
        `await m.nll({ ids: new Int32Array([1, 2, 3, 4]), batch: 1, seqLen: 4 })`,
        `console.log('listeners', process.listenerCount('uncaughtException'), process.listenerCount('unhandledRejection'))`,
        `const mode = process.argv[2]`,
        `if (mode === 'throw') setTimeout(() => { throw new Error('bug in user code') }, 0)`,
        `else Promise.reject(new Error('rejected in user code'))`,
      ].join('\n'),
    )
    for (const [mode, message] of [
      ['throw', 'bug in user code'],
      ['reject', 'rejected in user code'],
    ] as const) {
      const r = spawnSync(process.execPath, [script, mode], { encoding: 'utf8', timeout: 60_000 })
      expect(r.stdout).toContain('listeners 0 0')
      expect(r.status, r.stderr.slice(0, 500)).toBe(1)
      expect(r.stderr).toContain(message)
      expect(r.stderr).not.toMatch(/tf-backend-wasm/)
      expect(r.stderr.length).toBeLessThan(2000)
    }
  }, 120_000)
})
