import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { RunReport } from '@mi-prun/cli'

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))
const bin = fileURLToPath(new URL('../src/bin.ts', import.meta.url))

export interface CliRun {
  code: number
  stdout: string
  stderr: string
}

/** Spawns the CLI from source (tsx, @mi-prun/source condition), as scripts would run the built bin. */
export function runMiPrun(
  args: readonly string[],
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--conditions', '@mi-prun/source', bin, ...args],
      {
        cwd: options.cwd ?? repoRoot,
        env: { ...process.env, FORCE_COLOR: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 280_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolvePromise({ code: code ?? -1, stdout, stderr })
    })
  })
}

/** A synthetic but complete run for an 8-block model (values from closed forms, no model needed). */
export function syntheticReport(): RunReport {
  const T = 8
  const mi = Array.from({ length: T }, (_, i) => 2 + Math.sin(i) + i / 4)
  const bi = Array.from({ length: T }, (_, i) => 0.1 + 0.05 * Math.cos(i))
  const spans = []
  for (let l = 1; l <= T; l++)
    for (let j = 0; j + l <= T; j++) spans.push({ start: j, length: l, value: 3 / l + j / 10 })
  const point = (removed: number, base: number) => ({
    removed,
    selected: Array.from({ length: removed }, (_, i) => i + 2),
    meanNll: Math.log(base * (1 + removed / 4)),
    perplexity: base * (1 + removed / 4),
  })
  return {
    schema: 'mi-prun/report',
    version: 1,
    createdBy: { tool: '@mi-prun/cli', version: '0.1.0', command: 'compare models/fixture --remove 2' },
    model: {
      path: 'models/fixture',
      architecture: 'LlamaForCausalLM',
      format: 'hf-safetensors',
      numBlocks: T,
      hiddenSize: 64,
      parameters: 123456,
      dtype: 'F32',
      backend: 'wasm',
    },
    calibration: { sources: ['bundled'], samples: 16, seqLen: 64, tokenCap: 512, seed: 0 },
    budget: 2,
    blockScores: [
      {
        scorer: 'mi:gaussian',
        settings: { kind: 'gaussian', reducer: 'pca:16' },
        higherMeansRemovable: true,
        unit: 'nats',
        samples: 512,
        values: mi,
      },
      {
        scorer: 'shortgpt-bi',
        settings: { kind: 'bi', nanPolicy: 'half' },
        higherMeansRemovable: false,
        unit: 'bi',
        samples: 1024,
        values: bi,
      },
    ],
    spanScores: [
      {
        scorer: 'mi:gaussian',
        settings: { kind: 'gaussian', reducer: 'pca:16' },
        higherMeansRemovable: true,
        unit: 'nats',
        samples: 512,
        spans,
      },
    ],
    methods: [
      {
        selector: 'fbs',
        settings: { kind: 'fbs', k: 5 },
        selected: [4, 5],
        cost: { forwardPasses: 1, miEvaluations: 12, wallMs: 40 },
      },
      {
        selector: 'shortgpt',
        settings: { kind: 'shortgpt' },
        selected: [2, 6],
        cost: { forwardPasses: 1, miEvaluations: 0, wallMs: 3 },
      },
    ],
    perplexity: {
      settings: {
        kind: 'perplexity',
        unit: 'nats',
        windowLength: 64,
        stride: 64,
        streamTokens: 4096,
        text: ['bundled'],
      },
      dense: { meanNll: Math.log(10), perplexity: 10, tokens: 4032 },
      curves: [
        { selector: 'fbs', points: [point(1, 10), point(2, 10)] },
        { selector: 'shortgpt', points: [point(1, 11), point(2, 12)] },
      ],
    },
    stability: {
      subsets: 3,
      samplesPerSubset: 5,
      rows: [
        {
          selector: 'fbs',
          meanJaccard: 1,
          minJaccard: 1,
          selections: [
            [4, 5],
            [4, 5],
            [4, 5],
          ],
        },
        {
          selector: 'shortgpt',
          meanJaccard: 5 / 9,
          minJaccard: 1 / 3,
          selections: [
            [2, 6],
            [2, 6],
            [2, 5],
          ],
        },
      ],
    },
  }
}
