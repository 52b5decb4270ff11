/**
 * Writes the hostile-input corpus under test/fixtures/hostile/: a tiny valid Llama (4 blocks, d = 16,
 * seeded random weights, a character tokenizer) in `_model/`, and one folder per bad input with a
 * `case.json` ({ description, args, exitCode, message }) that test/hostile.test.ts runs through the CLI.
 * Placeholders in args: {fixtures} (this corpus), {model} (the valid model), {out} (an output folder
 * that must stay absent). Same seed → same bytes.
 *
 * Run: node --import tsx --conditions @mi-prun/source apps/cli/scripts/make-hostile-fixtures.ts
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateRandomCheckpoint } from '@mi-prun/adapter-tfjs'

const root = fileURLToPath(new URL('../test/fixtures/hostile/', import.meta.url))
rmSync(root, { recursive: true, force: true })
mkdirSync(root, { recursive: true })

const model = join(root, '_model')
await generateRandomCheckpoint(model, {
  arch: 'llama',
  seed: 7,
  hiddenSize: 16,
  numBlocks: 4,
  numHeads: 2,
  vocabSize: 128,
  maxPositions: 64,
})
// character tokenizer: printable ASCII and '\n' (ids 0..95), '<unk>' = 96
const vocab: Record<string, number> = {}
for (let c = 32; c < 127; c++) vocab[String.fromCharCode(c)] = c - 32
vocab['\n'] = 95
vocab['<unk>'] = 96
writeFileSync(
  join(model, 'tokenizer.json'),
  JSON.stringify({
    version: '1.0',
    added_tokens: [],
    normalizer: null,
    pre_tokenizer: null,
    post_processor: null,
    decoder: { type: 'Fuse' },
    model: {
      type: 'BPE',
      vocab,
      merges: [],
      dropout: null,
      unk_token: '<unk>',
      fuse_unk: true,
      byte_fallback: false,
    },
  }),
)

const modelFiles = ['config.json', 'model.safetensors', 'tokenizer.json']
function caseDir(
  name: string,
  c: { description: string; args: string[]; exitCode: number; message: string },
  copyModel = true,
): string {
  const dir = join(root, name)
  mkdirSync(dir, { recursive: true })
  if (copyModel) for (const f of modelFiles) copyFileSync(join(model, f), join(dir, f))
  writeFileSync(join(dir, 'case.json'), `${JSON.stringify(c, null, 2)}\n`)
  return dir
}
const prune = (m: string, ...extra: string[]): string[] => [
  'prune',
  m,
  '--out',
  '{out}',
  '--remove',
  '1',
  '--seq-len',
  '32',
  '--samples',
  '4',
  ...extra,
]

caseDir(
  'missing-model',
  {
    description: 'the model path does not exist',
    args: prune('{fixtures}/missing-model/no-such-model'),
    exitCode: 3,
    message: 'no model at',
  },
  false,
)

let dir = caseDir('truncated-safetensors', {
  description: 'model.safetensors cut to half its length',
  args: prune('{fixtures}/truncated-safetensors'),
  exitCode: 3,
  message: 'safetensors',
})
const full = readFileSync(join(model, 'model.safetensors'))
writeFileSync(join(dir, 'model.safetensors'), full.subarray(0, full.length >> 1))

dir = caseDir('oversized-safetensors', {
  description: 'the 8-byte header length claims 1 TiB',
  args: prune('{fixtures}/oversized-safetensors'),
  exitCode: 3,
  message: 'header',
})
const big = Buffer.from(full)
big.writeBigUInt64LE(1n << 40n, 0)
writeFileSync(join(dir, 'model.safetensors'), big)

dir = caseDir('path-escaping-shard-index', {
  description: 'the shard index points outside the model folder',
  args: prune('{fixtures}/path-escaping-shard-index'),
  exitCode: 3,
  message: 'outside',
})
rmSync(join(dir, 'model.safetensors'))
const header = JSON.parse(full.subarray(8, 8 + Number(full.readBigUInt64LE(0))).toString('utf8')) as Record<
  string,
  unknown
>
const weightMap: Record<string, string> = {}
for (const k of Object.keys(header)) if (k !== '__metadata__') weightMap[k] = '../../_model/model.safetensors'
writeFileSync(
  join(dir, 'model.safetensors.index.json'),
  JSON.stringify({ metadata: { total_size: full.length }, weight_map: weightMap }),
)

dir = caseDir('malformed-config', {
  description: 'config.json is not valid JSON',
  args: prune('{fixtures}/malformed-config'),
  exitCode: 3,
  message: 'config.json',
})
writeFileSync(join(dir, 'config.json'), '{"model_type": "llama", "hidden_size": 16,')

dir = caseDir('unsupported-architecture', {
  description: 'config.json names an architecture no adapter supports',
  args: prune('{fixtures}/unsupported-architecture'),
  exitCode: 3,
  message: 'mamba',
})
const cfg = JSON.parse(readFileSync(join(model, 'config.json'), 'utf8')) as Record<string, unknown>
writeFileSync(
  join(dir, 'config.json'),
  JSON.stringify({ ...cfg, model_type: 'mamba', architectures: ['MambaForCausalLM'] }),
)

dir = caseDir(
  'broken-onnx',
  {
    description: 'model.onnx holds bytes that are not an ONNX protobuf',
    args: prune('{fixtures}/broken-onnx'),
    exitCode: 3,
    message: 'onnx',
  },
  false,
)
writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'gpt2', n_layer: 2 }))
writeFileSync(
  join(dir, 'model.onnx'),
  Buffer.from('this is not a protobuf\u0000\u00ff\u00fe garbage'.repeat(8), 'latin1'),
)

dir = caseDir(
  'empty-calibration',
  {
    description: 'the calibration file is empty',
    args: prune('{model}', '--calib', '{fixtures}/empty-calibration/empty.txt'),
    exitCode: 3,
    message: 'empty',
  },
  false,
)
writeFileSync(join(dir, 'empty.txt'), '')

caseDir(
  'budget-too-large',
  {
    description: 'N ≥ T: remove 4 of 4 blocks',
    args: ['prune', '{model}', '--out', '{out}', '--remove', '4', '--seq-len', '32', '--samples', '4'],
    exitCode: 4,
    message: 'cannot remove 4 of 4 blocks',
  },
  false,
)

caseDir(
  'k-too-large',
  {
    description: 'KSG k ≥ number of MI samples',
    args: prune('{model}', '--estimator', 'ksg', '--k', '60', '--tokens', '50'),
    exitCode: 4,
    message: '--k 60 must be smaller',
  },
  false,
)

dir = caseDir('nan-weights', {
  description: 'a weight of block 1 is NaN, so every later state is NaN',
  args: prune('{fixtures}/nan-weights'),
  exitCode: 5,
  message: 'NaN',
})
const nan = Buffer.from(full)
const hlen = Number(nan.readBigUInt64LE(0))
const entry = header['model.layers.1.mlp.down_proj.weight'] as { data_offsets: [number, number] }
nan.writeFloatLE(Number.NaN, 8 + hlen + entry.data_offsets[0])
writeFileSync(join(dir, 'model.safetensors'), nan)

console.log(`wrote the hostile corpus to ${root}`)
