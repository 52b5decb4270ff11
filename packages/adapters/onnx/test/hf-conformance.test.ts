import { join } from 'node:path'
import { describeAdapter } from '@mi-prun/testkit'
import { loadHfOnOrt } from '@mi-prun/adapter-onnx'

// The shared ModelAdapter contract, for HF folders on ONNX Runtime (a llama with GQA and a gpt2 with
// learned positions and fused c_attn views), including export → reload.
const fixtures = join(import.meta.dirname, '..', '..', 'tfjs', 'test', 'fixtures')
for (const name of ['llama-gqa', 'gpt2-sharded']) {
  describeAdapter({
    name: `HF ${name} on ONNX Runtime`,
    load: () => loadHfOnOrt(join(fixtures, name), { intraOpNumThreads: 1 }),
    reload: (dir) => loadHfOnOrt(dir, { intraOpNumThreads: 1 }),
  })
}
