// The shared ModelAdapter conformance suite on seeded toy graphs (always) and on the reference
// models under models/ when their ONNX export is on disk.
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'
import { describeAdapter } from '@mi-prun/testkit'
import { loadOnnxModel } from '@mi-prun/adapter-onnx'
import { writeToyFolder } from './build-graphs.js'

const ort = () => import('onnxruntime-node')
const tmp = mkdtempSync(join(tmpdir(), 'mi-prun-onnx-conf-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

for (const [name, opts] of [
  ['toy, HF names, inline', { blocks: 4, names: 'hf' as const, seed: 21 }],
  [
    'toy, meaningless names, external data',
    { blocks: 3, names: 'opaque' as const, seed: 22, external: true },
  ],
] as const) {
  const dir = join(tmp, name.replace(/\W+/g, '-'))
  writeToyFolder(dir, opts)
  describeAdapter({
    name: `onnx ${name}`,
    load: () => loadOnnxModel(dir, { ort }),
    reload: (d) => loadOnnxModel(d, { ort }),
  })
}

const models = join(import.meta.dirname, '..', '..', '..', '..', 'models')
for (const m of ['gpt2-kjv', 'llama-kjv']) {
  const dir = join(models, m)
  if (!existsSync(join(dir, 'onnx', 'model.onnx'))) continue
  describeAdapter({
    name: `onnx ${m}`,
    load: () => loadOnnxModel(dir, { ort }),
    reload: (d) => loadOnnxModel(d, { ort }),
  })
}
