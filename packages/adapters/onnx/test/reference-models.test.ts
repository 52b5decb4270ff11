// Cross-checks on the reference models under models/ (skipped when their ONNX export is absent):
// the ONNX and TF.js adapters agree on hidden states and logits, dense, skipped and exported; and
// the pruned ONNX folder loads and generates offline in transformers.js, a client we did not write.
// Nothing here hard-codes values of a particular training run.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ModelAdapter, TokenBatch } from '@mi-prun/core'
import { relDiff } from '@mi-prun/testkit'
import { loadHfModel } from '@mi-prun/adapter-tfjs'
import { discoverBlocks, loadOnnxModel, readModelFile, type OnnxModelAdapter } from '@mi-prun/adapter-onnx'

/** Agreement required between two engines (different kernels and summation order): 1e-3 relative. */
const TOL_ENGINES_REL = 1e-3
const ort = () => import('onnxruntime-node')
const models = join(import.meta.dirname, '..', '..', '..', '..', 'models')
const tmp = mkdtempSync(join(tmpdir(), 'mi-prun-onnx-ref-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))
/** Set MI_PRUN_SKIP_TRANSFORMERS_JS=1 to skip the transformers.js client check (475 MB devDependency). */
const skipTjs = process.env.MI_PRUN_SKIP_TRANSFORMERS_JS === '1'

function argmaxLastRow(logits: { cols: number; rows: number; data: Float32Array }): number {
  const V = logits.cols
  const row = logits.data.subarray((logits.rows - 1) * V, logits.rows * V)
  let best = 0
  for (let v = 1; v < V; v++) if (row[v]! > row[best]!) best = v
  return best
}

for (const name of ['gpt2-kjv', 'llama-kjv']) {
  const dir = join(models, name)
  const present = existsSync(join(dir, 'onnx', 'model.onnx')) && existsSync(join(dir, 'model.safetensors'))
  describe.skipIf(!present)(`reference model ${name}`, () => {
    let onnx: OnnxModelAdapter
    let tfjs: ModelAdapter
    let T: number
    let batch: TokenBatch
    let removed: number[]
    beforeAll(async () => {
      onnx = await loadOnnxModel(dir, { ort })
      tfjs = await loadHfModel(dir, { backend: 'wasm' })
      T = onnx.info.numBlocks
      removed = [1, T - 2]
      const V = onnx.info.vocabSize
      batch = { batch: 2, seqLen: 24, ids: Int32Array.from({ length: 48 }, (_, i) => (i * 131 + 17) % V) }
    })
    afterAll(async () => {
      await onnx?.dispose()
      await tfjs?.dispose()
    })

    it('discovers every block from the HF node names, matching config.json', () => {
      const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'))
      expect(onnx.structure.method).toBe('names')
      expect(T).toBe(cfg.num_hidden_layers ?? cfg.n_layer)
      expect(onnx.structure.addsPerBlock).toBe(2)
      expect(onnx.structure.embedding).toMatch(/\/(wte|embed_tokens)\/Gather/)
      expect(onnx.info).toMatchObject({
        hiddenSize: tfjs.info.hiddenSize,
        vocabSize: tfjs.info.vocabSize,
        numBlocks: tfjs.info.numBlocks,
        format: 'onnx',
      })
    })

    it('with every node name erased, the structural fallback finds the same boundaries', async () => {
      for (const f of ['model.onnx', 'model_no_past.onnx']) {
        const lf = await readModelFile(join(dir, 'onnx', f))
        const named = discoverBlocks(lf.model)
        lf.model.graph!.node.forEach((n, i) => (n.name = `n${i}`))
        const bare = discoverBlocks(lf.model)
        expect(named.method).toBe('names')
        expect(bare.method).toBe('structure')
        expect(bare.hiddenStates).toEqual(named.hiddenStates)
        expect(bare.hiddenStates).toHaveLength(T + 1)
      }
    })

    it('adding h_0..h_T as outputs leaves the logits bit-identical', async () => {
      const plain = await onnx.forward(batch)
      const withStates = await onnx.forward(batch, { hiddenStates: true })
      expect(withStates.logits!.data).toEqual(plain.logits!.data)
    })

    it('ONNX and TF.js give the same hidden states and logits, dense and with blocks skipped', async () => {
      for (const skip of [[], removed]) {
        const a = await onnx.forward(batch, { hiddenStates: true, skip })
        const b = await tfjs.forward(batch, { hiddenStates: true, skip })
        expect(a.hiddenStates).toHaveLength(T + 1)
        a.hiddenStates!.forEach((h, i) =>
          expect(relDiff(h.data, b.hiddenStates![i]!.data), `h_${i} skip=${skip}`).toBeLessThan(
            TOL_ENGINES_REL,
          ),
        )
        expect(relDiff(a.logits!.data, b.logits!.data)).toBeLessThan(TOL_ENGINES_REL)
        const na = await onnx.nll(batch, { skip })
        const nb = await tfjs.nll(batch, { skip })
        expect(Math.abs(na.sumNll - nb.sumNll) / nb.sumNll).toBeLessThan(TOL_ENGINES_REL)
      }
    })

    it('the pruned exports of both adapters (same blocks removed) agree', async () => {
      const po = await onnx.exportPruned(removed, join(tmp, `${name}-onnx`), { check: 'cross' })
      const pt = await tfjs.exportPruned(removed, join(tmp, `${name}-tfjs`), { check: 'cross' })
      const ro = await loadOnnxModel(po.path, { ort })
      const rt = await loadHfModel(pt.path, { backend: 'wasm' })
      try {
        expect(ro.info.numBlocks).toBe(T - 2)
        expect(rt.info.numBlocks).toBe(T - 2)
        const a = await ro.forward(batch, { hiddenStates: true })
        const b = await rt.forward(batch, { hiddenStates: true })
        a.hiddenStates!.forEach((h, i) =>
          expect(relDiff(h.data, b.hiddenStates![i]!.data)).toBeLessThan(TOL_ENGINES_REL),
        )
        expect(relDiff(a.logits!.data, b.logits!.data)).toBeLessThan(TOL_ENGINES_REL)
        const kv = JSON.parse(readFileSync(join(po.path, 'config.json'), 'utf8'))
        expect(kv.num_hidden_layers ?? kv.n_layer).toBe(T - 2)
      } finally {
        await ro.dispose()
        await rt.dispose()
      }
    })

    it.skipIf(skipTjs)('the pruned ONNX folder loads and generates offline in transformers.js', async () => {
      const out = join(tmp, `tjs-${name}`)
      await onnx.exportPruned(removed, out)
      const pruned = await loadOnnxModel(out, { ort })
      const tj = await import('@huggingface/transformers')
      tj.env.allowRemoteModels = false
      tj.env.allowLocalModels = true
      tj.env.localModelPath = tmp
      const tok = await tj.AutoTokenizer.from_pretrained(`tjs-${name}`, { local_files_only: true })
      const model = await tj.AutoModelForCausalLM.from_pretrained(`tjs-${name}`, {
        local_files_only: true,
        dtype: 'fp32',
        device: 'cpu',
      })
      try {
        const enc = tok('And God said, Let there be light')
        const prompt = (enc.input_ids.tolist() as bigint[][])[0]!.map(Number)
        // Its forward (KV-cache graph, empty past) gives our pruned model's logits.
        const fw = await model(enc)
        const ours = await pruned.forward({ ids: Int32Array.from(prompt), batch: 1, seqLen: prompt.length })
        expect(relDiff(fw.logits.data as Float32Array, ours.logits!.data)).toBeLessThan(1e-4)
        // Its greedy generation (KV cache, step by step) equals our greedy decode (full re-run per token).
        const steps = 8
        const gen = await model.generate({ ...enc, max_new_tokens: steps, do_sample: false })
        const theirs = (gen.tolist() as bigint[][])[0]!.map(Number)
        const seq = [...prompt]
        for (let s = 0; s < steps; s++) {
          const r = await pruned.forward({ ids: Int32Array.from(seq), batch: 1, seqLen: seq.length })
          seq.push(argmaxLastRow(r.logits!))
        }
        expect(theirs).toEqual(seq)
        expect(typeof tok.decode(theirs)).toBe('string')
      } finally {
        await model.dispose()
        await pruned.dispose()
      }
    })
  })
}
