import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  readdirSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { isPruneError } from '@mi-prun/core'
import {
  decodeFloats,
  encodeFloats,
  openCheckpoint,
  readSafetensorsHeader,
  readTensorF32,
  writeSafetensors,
  writeShardedSafetensors,
} from '@mi-prun/safetensors'

const root = mkdtempSync(join(tmpdir(), 'st-test-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
let n = 0
const fresh = (): string => {
  const d = join(root, `d${n++}`)
  mkdirSync(d)
  return d
}

/** Builds a file from a raw header string and data bytes, exactly as given. */
function rawFile(header: string, data: Uint8Array, lenOverride?: bigint): string {
  const h = new TextEncoder().encode(header)
  const buf = new Uint8Array(8 + h.length + data.length)
  new DataView(buf.buffer).setBigUint64(0, lenOverride ?? BigInt(h.length), true)
  buf.set(h, 8)
  buf.set(data, 8 + h.length)
  const p = join(fresh(), 'x.safetensors')
  writeFileSync(p, buf)
  return p
}

function expectError(f: () => unknown, code: string, ...parts: RegExp[]): void {
  try {
    f()
  } catch (e) {
    expect(isPruneError(e)).toBe(true)
    expect((e as { code: string }).code).toBe(code)
    for (const p of parts) expect((e as Error).message).toMatch(p)
    expect((e as Error).message).toMatch(/^\[@mi-prun\/safetensors\]/)
    return
  }
  throw new Error('expected a PruneError')
}

describe('dtype conversion', () => {
  it('decodes known F16 and BF16 bit patterns', () => {
    // F16: 1.0 = 0x3c00, -2 = 0xc000, 65504 = 0x7bff, smallest subnormal 0x0001 = 2^-24
    const f16 = new Uint8Array([0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b, 0x01, 0x00])
    expect(Array.from(decodeFloats('F16', f16))).toEqual([1, -2, 65504, 2 ** -24])
    // BF16: 1.0 = 0x3f80, -3.5 = 0xc060
    expect(Array.from(decodeFloats('BF16', new Uint8Array([0x80, 0x3f, 0x60, 0xc0])))).toEqual([1, -3.5])
  })
  it('round-trips values representable in F16/BF16 exactly and rounds to nearest otherwise', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), (h) => {
        const exp = (h >>> 10) & 0x1f
        fc.pre(exp !== 31)
        const v = decodeFloats('F16', new Uint8Array([h & 0xff, h >>> 8]))
        const back = encodeFloats('F16', v)
        return back[0] === (h & 0xff) && back[1] === h >>> 8
      }),
    )
    // 1 + 2^-11 is halfway between 1 and 1+2^-10 in F16: ties to even -> 1
    expect(decodeFloats('F16', encodeFloats('F16', new Float32Array([1 + 2 ** -11])))[0]).toBe(1)
    expect(decodeFloats('F16', encodeFloats('F16', new Float32Array([1e6])))[0]).toBe(Infinity)
    expect(decodeFloats('BF16', encodeFloats('BF16', new Float32Array([1 + 2 ** -8 + 2 ** -12])))[0]).toBe(
      1 + 2 ** -7,
    )
  })
})

describe('write', () => {
  it('writes byte-exact safetensors: u64 LE length, JSON padded with spaces to 8, contiguous data', async () => {
    const p = join(fresh(), 'a.safetensors')
    const total = await writeSafetensors(
      p,
      [
        { name: 'b', dtype: 'F16', shape: [1], data: encodeFloats('F16', new Float32Array([1])) },
        { name: 'a', dtype: 'F32', shape: [2], data: encodeFloats('F32', new Float32Array([1, -2])) },
      ],
      { metadata: { format: 'pt' } },
    )
    const json =
      '{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F16","shape":[1],"data_offsets":[8,10]}}'
    const padded = json + ' '.repeat((8 - (json.length % 8)) % 8)
    const want = new Uint8Array(8 + padded.length + 10)
    new DataView(want.buffer).setBigUint64(0, BigInt(padded.length), true)
    want.set(new TextEncoder().encode(padded), 8)
    want.set([0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0, 0x00, 0x3c], 8 + padded.length)
    const got = new Uint8Array(readFileSync(p))
    expect(total).toBe(want.length)
    expect(Buffer.from(got).equals(Buffer.from(want))).toBe(true)
    expect(readdirSync(join(p, '..'))).toEqual(['a.safetensors'])
  })
  it('is deterministic and round-trips tensors by byte range', async () => {
    const d = fresh()
    const vals = Float32Array.from({ length: 12 }, (_, i) => i * 0.5 - 3)
    const t = [
      { name: 'w', dtype: 'F32', shape: [3, 4], data: encodeFloats('F32', vals) },
      { name: 'h', dtype: 'BF16', shape: [12], data: () => encodeFloats('BF16', vals) },
    ]
    await writeSafetensors(join(d, '1.safetensors'), t)
    await writeSafetensors(join(d, '2.safetensors'), t)
    expect(readFileSync(join(d, '1.safetensors')).equals(readFileSync(join(d, '2.safetensors')))).toBe(true)
    const f = readSafetensorsHeader(join(d, '1.safetensors'))
    expect(f.tensors.get('w')!.shape).toEqual([3, 4])
    expect(Array.from(readTensorF32(f, 'w'))).toEqual(Array.from(vals))
    expect(Array.from(readTensorF32(f, 'h'))).toEqual(Array.from(vals))
  })
  it('refuses data whose length does not match dtype and shape, leaving no file', async () => {
    const d = fresh()
    await expect(
      writeSafetensors(join(d, 'x.safetensors'), [
        { name: 'w', dtype: 'F32', shape: [3], data: new Uint8Array(8) },
      ]),
    ).rejects.toThrow(/12 bytes but 8/)
    expect(readdirSync(d)).toEqual([])
  })
  it('shards with an index that openCheckpoint reads back', async () => {
    const d = fresh()
    writeFileSync(join(d, 'config.json'), '{"model_type":"x"}')
    const t = ['a', 'b', 'c', 'd'].map((name, i) => ({
      name,
      dtype: 'F32',
      shape: [4],
      data: encodeFloats('F32', new Float32Array(4).fill(i)),
    }))
    const files = await writeShardedSafetensors(d, t, { maxShardBytes: 32 })
    expect(files).toEqual([
      'model-00001-of-00002.safetensors',
      'model-00002-of-00002.safetensors',
      'model.safetensors.index.json',
    ])
    const idx = JSON.parse(readFileSync(join(d, 'model.safetensors.index.json'), 'utf8'))
    expect(idx.metadata.total_size).toBe(64)
    expect(idx.weight_map).toEqual({ a: files[0], b: files[0], c: files[1], d: files[1] })
    const ck = openCheckpoint(d)
    expect(ck.sharded).toBe(true)
    expect(Array.from(ck.readF32('c'))).toEqual([2, 2, 2, 2])
  })
})

describe('hostile input', () => {
  const good = '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'
  it('header length beyond the file', () => {
    expectError(
      () => readSafetensorsHeader(rawFile(good, new Uint8Array(8), 1000n)),
      'INVALID_CHECKPOINT',
      /x\.safetensors/,
      /past the end/,
    )
  })
  it('header length beyond the cap', () => {
    expectError(
      () => readSafetensorsHeader(rawFile(good, new Uint8Array(8), 2n ** 62n)),
      'INVALID_CHECKPOINT',
      /exceeds the cap/,
    )
    expectError(
      () => readSafetensorsHeader(rawFile(good, new Uint8Array(8)), { maxHeaderBytes: 10 }),
      'INVALID_CHECKPOINT',
      /exceeds the cap of 10/,
    )
  })
  it('file too short and malformed JSON', () => {
    const p = join(fresh(), 's.safetensors')
    writeFileSync(p, new Uint8Array(3))
    expectError(() => readSafetensorsHeader(p), 'INVALID_CHECKPOINT', /too short/)
    expectError(
      () => readSafetensorsHeader(rawFile('{"w":', new Uint8Array(0))),
      'INVALID_CHECKPOINT',
      /not valid UTF-8 JSON/,
    )
    expectError(
      () => readSafetensorsHeader(rawFile('[1,2]', new Uint8Array(0))),
      'INVALID_CHECKPOINT',
      /must be an object/,
    )
  })
  it('offsets out of range, overlapping, or inconsistent with dtype and shape', () => {
    expectError(
      () => readSafetensorsHeader(rawFile(good, new Uint8Array(4))),
      'INVALID_CHECKPOINT',
      /"w"/,
      /run past/,
    )
    const overlap =
      '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}'
    expectError(
      () => readSafetensorsHeader(rawFile(overlap, new Uint8Array(12))),
      'INVALID_CHECKPOINT',
      /overlap/,
    )
    const mismatch = '{"w":{"dtype":"F16","shape":[2],"data_offsets":[0,8]}}'
    expectError(
      () => readSafetensorsHeader(rawFile(mismatch, new Uint8Array(8))),
      'INVALID_CHECKPOINT',
      /= 4 bytes but data_offsets span 8/,
    )
    const badDtype = '{"w":{"dtype":"F31","shape":[2],"data_offsets":[0,8]}}'
    expectError(
      () => readSafetensorsHeader(rawFile(badDtype, new Uint8Array(8))),
      'INVALID_CHECKPOINT',
      /unknown dtype/,
    )
    const badShape = '{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}'
    expectError(
      () => readSafetensorsHeader(rawFile(badShape, new Uint8Array(8))),
      'INVALID_CHECKPOINT',
      /invalid shape/,
    )
    const reversed = '{"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}'
    expectError(
      () => readSafetensorsHeader(rawFile(reversed, new Uint8Array(8))),
      'INVALID_CHECKPOINT',
      /invalid data_offsets/,
    )
  })
  it('non-float tensors are listed but not read as weights', () => {
    const f = readSafetensorsHeader(
      rawFile('{"i":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}', new Uint8Array(8)),
    )
    expectError(() => readTensorF32(f, 'i'), 'INVALID_CHECKPOINT', /I64/)
  })
  it('shards outside the folder, missing shards, pickles', async () => {
    const d = fresh()
    writeFileSync(join(d, 'config.json'), '{}')
    const idx = (wm: Record<string, string>): void =>
      writeFileSync(join(d, 'model.safetensors.index.json'), JSON.stringify({ weight_map: wm }))
    idx({ w: '../evil.safetensors' })
    expectError(
      () => openCheckpoint(d),
      'INVALID_CHECKPOINT',
      /model\.safetensors\.index\.json/,
      /outside the model folder/,
    )
    idx({ w: '/etc/passwd' })
    expectError(() => openCheckpoint(d), 'INVALID_CHECKPOINT', /outside the model folder/)
    idx({ w: 'model-00001-of-00002.safetensors' })
    expectError(
      () => openCheckpoint(d),
      'INVALID_CHECKPOINT',
      /"model-00001-of-00002\.safetensors" is missing/,
    )
    const outside = join(fresh(), 'o.safetensors')
    await writeSafetensors(outside, [{ name: 'w', dtype: 'F32', shape: [1], data: new Uint8Array(4) }])
    symlinkSync(outside, join(d, 'link.safetensors'))
    idx({ w: 'link.safetensors' })
    expectError(() => openCheckpoint(d), 'INVALID_CHECKPOINT', /link to a file outside/)
    const p = fresh()
    writeFileSync(join(p, 'config.json'), '{}')
    writeFileSync(join(p, 'pytorch_model.bin'), 'not read')
    expectError(
      () => openCheckpoint(p),
      'INVALID_CHECKPOINT',
      /pytorch_model\.bin/,
      /never unpickles/,
      /save_pretrained/,
    )
    expectError(() => openCheckpoint(fresh()), 'INVALID_CONFIG', /config\.json/)
  })
})

describe('range reads', () => {
  it('reads a slice of elements by byte range, F32 and F16, and refuses out-of-range slices', async () => {
    const { readTensorRangeF32 } = await import('@mi-prun/safetensors')
    const d = fresh()
    const vals = Float32Array.from({ length: 10 }, (_, i) => i - 4.5)
    await writeSafetensors(join(d, 'r.safetensors'), [
      { name: 'f', dtype: 'F32', shape: [2, 5], data: encodeFloats('F32', vals) },
      { name: 'h', dtype: 'F16', shape: [10], data: encodeFloats('F16', vals) },
    ])
    const f = readSafetensorsHeader(join(d, 'r.safetensors'))
    expect(Array.from(readTensorRangeF32(f, 'f', 5, 5))).toEqual([0.5, 1.5, 2.5, 3.5, 4.5])
    expect(Array.from(readTensorRangeF32(f, 'h', 1, 3))).toEqual([-3.5, -2.5, -1.5])
    expect(readTensorRangeF32(f, 'f', 10, 0).length).toBe(0)
    expect(() => readTensorRangeF32(f, 'f', 8, 3)).toThrow(RangeError)
    expect(() => readTensorRangeF32(f, 'f', -1, 1)).toThrow(RangeError)
    const { readTensorF32Into } = await import('@mi-prun/safetensors')
    const buf = new Float32Array(12).fill(7)
    expect(Array.from(readTensorF32Into(f, 'h', buf))).toEqual(Array.from(vals))
    expect(Array.from(readTensorF32Into(f, 'f', buf))).toEqual(Array.from(vals))
    expect(buf[10]).toBe(7)
    expect(() => readTensorF32Into(f, 'f', new Float32Array(9))).toThrow(RangeError)
    const into = new Float32Array(4).fill(9)
    expect(Array.from(readTensorRangeF32(f, 'f', 2, 3, into))).toEqual([-2.5, -1.5, -0.5])
    expect(Array.from(readTensorRangeF32(f, 'h', 7, 3, into))).toEqual([2.5, 3.5, 4.5])
    expect(into[3]).toBe(9)
    expect(() => readTensorRangeF32(f, 'f', 0, 5, into)).toThrow(RangeError)
  })
})
