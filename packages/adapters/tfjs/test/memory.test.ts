import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import { generateRandomCheckpoint, inspectHfModel, loadHfModel } from '@mi-prun/adapter-tfjs'

// Layer streaming, measured in tensor bytes held by the tfjs engine (exact, unlike RSS): a streamed
// model holds only the final norm between calls and, at its peak, less than one block: each matrix
// is read right before its use and freed right after, so the peak is about the largest matrix plus
// the activations of one sub-layer; a resident model holds every block. The RSS check on a > 2 GB
// checkpoint is bench/tfjs-streaming.bench.ts.
describe('layer streaming memory', () => {
  const root = mkdtempSync(join(tmpdir(), 'adapter-tfjs-mem-'))
  const dir = join(root, 'llama')
  const d = 64
  const I = 256
  const batch = { ids: Int32Array.from([1, 5, 9, 2]), batch: 1, seqLen: 4 }
  const N = 4
  // float32 bytes of one sub-layer's intermediates, generously: ≤ 16 copies of [N, max(d, I)],
  // the attention scores three times, and the logits twice (vocab 64)
  const activations = 4 * (16 * N * Math.max(d, I) + 3 * 4 * N * N + 2 * N * 64)
  let largest = 0
  let allBlocks = 0
  beforeAll(async () => {
    await tf.setBackend('cpu')
    await generateRandomCheckpoint(dir, {
      arch: 'llama',
      seed: 3,
      hiddenSize: d,
      intermediateSize: I,
      numBlocks: 4,
      numHeads: 4,
      numKvHeads: 2,
      vocabSize: 64,
    })
    const s = inspectHfModel(dir) // F32, so bytes on disk = bytes as tensors
    largest = Math.max(...s.blockBytes)
    allBlocks = s.blockBytes.reduce((a, b) => a + b, 0)
  })
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  it('streamed: nothing large resident; peak < one block, ≤ 1.5 × (largest matrix + activations)', async () => {
    const before = tf.memory().numBytes
    const m = await loadHfModel(dir, { backend: 'cpu', stream: true })
    expect(tf.memory().numBytes - before).toBe(d * 4) // the final RMSNorm weight only
    const p = await tf.profile(async () => {
      await m.forward(batch, { hiddenStates: true })
    })
    const peak = p.peakBytes - before
    expect(activations).toBeLessThan(largest / 2) // the bound below is about weights, not activations
    expect(peak).toBeGreaterThanOrEqual(d * I * 4) // the largest matrix is held while it is used
    expect(peak).toBeLessThan(largest) // never a whole block at once
    expect(peak).toBeLessThanOrEqual(1.5 * (d * I * 4 + activations))
    expect(peak).toBeLessThan(allBlocks / 2)
    m.dispose()
    expect(tf.memory().numBytes).toBe(before)
  })

  it('resident: every block is held; dispose releases everything', async () => {
    const before = tf.memory().numBytes
    const m = await loadHfModel(dir, { backend: 'cpu' })
    expect(tf.memory().numBytes - before).toBeGreaterThanOrEqual(allBlocks)
    await m.forward(batch)
    m.dispose()
    expect(tf.memory().numBytes).toBe(before)
  })
})
