/** A progress bar on a TTY stream; silent when the stream is not a TTY or when quiet. */
export interface Progress {
  /** Starts a task of `total` units; returns an updater. */
  start(label: string, total: number): ProgressTask
}
export interface ProgressTask {
  update(done: number, total?: number): void
  finish(): void
}

export interface ProgressStream {
  write(chunk: string): unknown
  readonly isTTY?: boolean
  readonly columns?: number
}

const silentTask: ProgressTask = { update() {}, finish() {} }

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '--:--'
  const t = Math.max(0, Math.round(s))
  const m = Math.floor(t / 60)
  return `${m}:${String(t % 60).padStart(2, '0')}`
}

/**
 * Progress bars with an ETA (linear extrapolation of the elapsed time per unit), redrawn at most
 * every 100 ms on `stream` (stderr). Nothing is written unless `enabled` and the stream is a TTY.
 */
export function createProgress(
  stream: ProgressStream,
  enabled: boolean,
  now: () => number = () => performance.now(),
): Progress {
  if (!enabled || !stream.isTTY) return { start: () => silentTask }
  return {
    start(label: string, total: number): ProgressTask {
      const t0 = now()
      let last = -Infinity
      let tot = total
      const draw = (done: number, force: boolean): void => {
        const t = now()
        if (!force && t - last < 100) return
        last = t
        const frac = tot > 0 ? Math.min(1, done / tot) : 0
        const width = 24
        const filled = Math.round(frac * width)
        const elapsed = (t - t0) / 1000
        const eta = done > 0 ? (elapsed / done) * (tot - done) : Number.NaN
        const line = `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${tot} ${Math.round(frac * 100)}% ${formatSeconds(elapsed)} ETA ${formatSeconds(eta)}`
        stream.write(`\r\x1b[2K${line}`)
      }
      draw(0, true)
      return {
        update(done: number, newTotal?: number) {
          if (newTotal !== undefined) tot = newTotal
          draw(done, done >= tot)
        },
        finish() {
          stream.write('\r\x1b[2K')
        },
      }
    },
  }
}
