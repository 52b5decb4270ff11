// Files other tools read, written beside every pruned HF model.
// mergekit (passthrough merge): `slices` that keep the surviving layer ranges of the original model, so
// `mergekit-yaml mergekit.yaml OUT` rebuilds the same pruned checkpoint from the source. mergekit's
// `layer_range: [a, b]` is half-open (layers a … b−1).

import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'

export const MERGEKIT_FILE = 'mergekit.yaml'

/** Maximal runs [a, b) of kept layers, in order. */
export function keptRanges(numBlocks: number, removed: readonly number[]): [number, number][] {
  const gone = new Set(removed)
  const out: [number, number][] = []
  for (let i = 0; i < numBlocks; i++) {
    if (gone.has(i)) continue
    const last = out[out.length - 1]
    if (last !== undefined && last[1] === i) last[1] = i + 1
    else out.push([i, i + 1])
  }
  return out
}

/** The mergekit passthrough config that keeps every layer not in `removed` of the model at `source`. */
export function mergekitYaml(source: string, numBlocks: number, removed: readonly number[]): string {
  const lines = [
    `# mergekit passthrough config written by mi-prun: removes blocks [${[...removed].sort((a, b) => a - b).join(', ')}] of ${numBlocks}`,
    '# rebuild with: mergekit-yaml mergekit.yaml OUT_DIR',
    'slices:',
  ]
  for (const [a, b] of keptRanges(numBlocks, removed))
    lines.push(
      '  - sources:',
      `      - model: ${JSON.stringify(source)}`,
      `        layer_range: [${a}, ${b}]`,
    )
  lines.push('merge_method: passthrough', '')
  return lines.join('\n')
}

/** Writes mergekit.yaml into `dir` (a pruned HF folder being staged). */
export async function writeMergekitConfig(
  dir: string,
  source: string,
  numBlocks: number,
  removed: readonly number[],
): Promise<void> {
  await writeFile(join(dir, MERGEKIT_FILE), mergekitYaml(source, numBlocks, removed))
}
