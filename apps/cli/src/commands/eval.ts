import { createRequire } from 'node:module'
import { evaluateMultipleChoice, loadMcTasks, loadTokenizer, measureLatency, perplexity } from '@mi-prun/eval'
import type { ModelAdapter } from '@mi-prun/core'
import type { McResult, PerplexityResult, TextTokenizer } from '@mi-prun/eval'
import { bundledHeldout, readTokenStreams } from '../calibration.js'
import type { CommandContext, CommandSpec } from '../command.js'
import { blockListOption, intOption, listOption, stringOption } from '../options.js'
import { openModel } from '../model.js'
import { numberDefault } from '../defaults.js'

/** The bundled multiple-choice task (packages/eval/tasks/kjv-cloze.jsonl). */
export function bundledTasks(): string {
  return createRequire(import.meta.url).resolve('@mi-prun/eval/tasks/kjv-cloze.jsonl')
}

/** Held-out token stream of the given files (joined), for perplexity. */
export async function heldoutIds(
  files: readonly string[],
  tokenizer: TextTokenizer,
  vocab: number,
): Promise<Int32Array> {
  const streams = await readTokenStreams(files, tokenizer, vocab)
  const total = streams.reduce((a, s) => a + s.length, 0)
  const ids = new Int32Array(total)
  let o = 0
  for (const s of streams) {
    ids.set(s, o)
    o += s.length
  }
  return ids
}

/** Perplexity with a progress bar. */
export async function evalPerplexity(
  ctx: CommandContext,
  adapter: ModelAdapter,
  ids: Int32Array,
  opts: { windowLength: number; maxWindows: number; skip: readonly number[]; label: string },
): Promise<PerplexityResult> {
  const bar = ctx.progress.start(
    opts.label,
    Math.min(opts.maxWindows, Math.floor(ids.length / opts.windowLength)),
  )
  try {
    return await perplexity(adapter, ids, {
      windowLength: opts.windowLength,
      maxWindows: opts.maxWindows,
      skip: opts.skip,
      onProgress: (d, t) => bar.update(d, t),
    })
  } finally {
    bar.finish()
  }
}

export const evalCommand: CommandSpec = {
  name: 'eval',
  summary: 'perplexity on held-out text, multiple-choice accuracy and latency',
  usage: 'mi-prun eval MODEL [--text FILE...] [--skip-blocks 3,4,5] [--tasks FILE|none] [--latency]',
  description:
    'Perplexity over non-overlapping windows of --seq-len tokens (mean NLL in nats and PPL = exp(mean NLL)); lm-eval-style acc/acc_norm on a JSONL task; optional latency. With --skip-blocks the blocks are skipped in memory: a selection is evaluated without writing files.',
  positionals: [{ name: 'MODEL', description: 'model folder or .onnx file', required: true }],
  options: [
    'text',
    'skip-blocks',
    'tasks',
    'latency',
    'seq-len',
    'max-windows',
    'mc-limit',
    'seed',
    'backend',
  ],
  jsonKeys: ['perplexity', 'meanNll', 'tokens', 'windows', 'settings'],
  async run(ctx) {
    const v = ctx.values
    const texts = listOption(v, 'text').length ? listOption(v, 'text') : [bundledHeldout]
    const windowLength = intOption(v, 'seq-len', numberDefault('eval', 'seq-len'), 2)
    const maxWindows = intOption(v, 'max-windows', numberDefault('eval', 'max-windows'), 1)
    const mcLimit = intOption(v, 'mc-limit', numberDefault('eval', 'mc-limit'), 1)
    const tasksArg = stringOption(v, 'tasks')
    const { adapter, location } = await openModel(ctx.positionals[0]!, stringOption(v, 'backend'))
    try {
      const skip = blockListOption(v, 'skip-blocks', adapter.info.numBlocks)
      const tokenizer = await loadTokenizer(location.root)
      const ids = await heldoutIds(texts, tokenizer, adapter.info.vocabSize)
      const ppl = await evalPerplexity(ctx, adapter, ids, {
        windowLength,
        maxWindows,
        skip,
        label: 'perplexity',
      })
      let mc: (McResult & { task: string }) | undefined
      if (tasksArg !== 'none') {
        const task = tasksArg ?? bundledTasks()
        const items = await loadMcTasks(task)
        const bar = ctx.progress.start('multiple choice', Math.min(items.length, mcLimit))
        try {
          const r = await evaluateMultipleChoice(adapter, tokenizer, items, {
            skip,
            limit: mcLimit,
            maxLength: Math.min(256, adapter.info.maxPositions),
            onProgress: (d, t) => bar.update(d, t),
          })
          mc = { ...r, task }
        } finally {
          bar.finish()
        }
      }
      let latency
      if (v.latency === true) {
        const bar = ctx.progress.start('latency', 1)
        try {
          latency = await measureLatency(adapter, skip, {
            seed: intOption(v, 'seed', 0, 0),
            onProgress: (d, t) => bar.update(d, t),
          })
        } finally {
          bar.finish()
        }
      }
      const json = {
        perplexity: ppl.perplexity,
        meanNll: ppl.meanNll,
        tokens: ppl.tokens,
        windows: ppl.windows,
        skip,
        numBlocks: adapter.info.numBlocks,
        model: location.path,
        settings: { ...ppl.settings, text: texts, backend: adapter.info.backend },
        multipleChoice: mc
          ? {
              task: mc.task,
              acc: mc.acc,
              accNorm: mc.accNorm,
              accStderr: mc.accStderr,
              items: mc.items,
              settings: mc.settings,
            }
          : null,
        latency: latency ?? null,
      }
      const lines = [
        `perplexity ${ppl.perplexity.toFixed(3)} (mean NLL ${ppl.meanNll.toFixed(4)} nats over ${ppl.tokens} tokens, ${ppl.windows} windows of ${windowLength})${skip.length ? `, blocks [${skip.join(', ')}] skipped` : ''}`,
      ]
      if (mc)
        lines.push(
          `multiple choice (${mc.items} items): acc ${mc.acc.toFixed(3)} ± ${mc.accStderr.toFixed(3)}, acc_norm ${mc.accNorm.toFixed(3)}`,
        )
      if (latency) {
        lines.push(
          `latency dense: prefill ${latency.dense.prefillTokensPerSecond.toFixed(0)} tokens/s, decode ${latency.dense.decodeMsPerToken.toFixed(1)} ms/token`,
        )
        if (latency.pruned)
          lines.push(
            `latency pruned: prefill ${latency.pruned.prefillTokensPerSecond.toFixed(0)} tokens/s, decode ${latency.pruned.decodeMsPerToken.toFixed(1)} ms/token (×${latency.prefillSpeedup!.toFixed(2)} prefill)`,
          )
      }
      return { json, text: lines.join('\n') }
    } finally {
      await adapter.dispose()
    }
  },
}
