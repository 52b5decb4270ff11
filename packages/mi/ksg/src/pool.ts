import { availableParallelism } from 'node:os'
import { MessageChannel, type MessagePort, Worker, receiveMessageOnPort } from 'node:worker_threads'
import { PruneError } from '@mi-prun/core'
import { ksgRowsKernel, ksgSweepKernel } from './kernel.js'

const P = '[@mi-prun/mi-ksg]'

/** Everything one neighbour-count job needs; the float and int arrays live in SharedArrayBuffers when threads > 1. */
export interface CountJob {
  readonly x: Float64Array
  readonly dx: number
  readonly y: Float64Array
  readonly dy: number
  readonly n: number
  /** Ascending, distinct, 1 ≤ k < n. */
  readonly ks: Int32Array
  readonly variant: 1 | 2
  readonly euclidean: 0 | 1
  readonly seq: Int32Array | null
  readonly pos: Int32Array | null
  readonly w: number
  /** 'brute' (exact brute force, any dimension) or 'sweep' (exact sort-and-sweep, few dimensions). */
  readonly search: 'brute' | 'sweep'
}

/** Default thread count: min(2, available cores). */
export function defaultThreads(): number {
  return Math.max(1, Math.min(2, availableParallelism()))
}

/** Allocates a Float64Array on a SharedArrayBuffer when `shared`, so workers read it without a copy. */
export function allocF64(length: number, shared: boolean): Float64Array {
  return shared ? new Float64Array(new SharedArrayBuffer(length * 8)) : new Float64Array(length)
}

function allocI32(length: number, shared: boolean): Int32Array {
  return shared ? new Int32Array(new SharedArrayBuffer(Math.max(1, length) * 4)) : new Int32Array(length)
}

function toShared(a: Int32Array | null): Int32Array | null {
  if (a === null || a.buffer instanceof SharedArrayBuffer) return a
  const s = allocI32(a.length, true)
  s.set(a)
  return s
}

/**
 * Worker source: the kernel's own text plus a chunk loop. `__name` is defined because some TS loaders
 * (esbuild with keepNames, used by tsx and vitest) wrap function names with it.
 */
const WORKER_SOURCE = `
'use strict'
const { parentPort, workerData } = require('node:worker_threads')
const __name = (f) => f
const brute = (${ksgRowsKernel.toString()})
const sweep = (${ksgSweepKernel.toString()})
parentPort.on('message', (job) => {
  const { ctrl, slot, chunk, port } = job
  try {
    const kmax = job.ks[job.ks.length - 1]
    const xs = new Float64Array(job.n)
    const ys = new Float64Array(job.n)
    const bd = new Float64Array(kmax)
    const bx = new Float64Array(kmax)
    const by = new Float64Array(kmax)
    const bi = new Int32Array(kmax)
    const rad = new Float64Array(job.ks.length)
    for (;;) {
      const r0 = Atomics.add(ctrl, 0, 1) * chunk
      if (r0 >= job.n) break
      const r1 = Math.min(job.n, r0 + chunk)
      if (job.search === 'sweep') {
        sweep(job.x, job.dx, job.y, job.dy, job.n, job.ks, job.variant, job.euclidean, job.seq, job.pos, job.w,
          r0, r1, job.out, job.ox, job.rx, job.oy, job.ry, bd, bx, by, bi, rad)
      } else {
        brute(job.x, job.dx, job.y, job.dy, job.n, job.ks, job.variant, job.euclidean, job.seq, job.pos, job.w,
          r0, r1, job.out, xs, ys, bd, bx, by)
      }
    }
    Atomics.store(ctrl, 1 + slot, 1)
  } catch (e) {
    port.postMessage(String(e && e.stack ? e.stack : e))
    Atomics.store(ctrl, 1 + slot, 2)
  }
  port.close()
  Atomics.notify(ctrl, 1 + slot)
})
Atomics.store(workerData.ready, 0, 1)
Atomics.notify(workerData.ready, 0)
`

interface PoolWorker {
  readonly worker: Worker
  readonly ready: Int32Array
}

/** The persistent pool, grown on demand. Workers are unref'ed: they never keep the process alive. */
const pool: PoolWorker[] = []

function spawn(): PoolWorker {
  const ready = new Int32Array(new SharedArrayBuffer(4))
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ready } })
  worker.unref()
  // a worker that fails to start is dropped below (its ready flag never rises); swallow its error event
  worker.on('error', () => {})
  return { worker, ready }
}

/** Ready workers for a job needing `count` helpers; a worker that does not come up within 10 s is dropped. */
function helpers(count: number): PoolWorker[] {
  while (pool.length < count) pool.push(spawn())
  const out: PoolWorker[] = []
  for (let s = 0; s < count; s++) {
    const pw = pool[s]!
    if (Atomics.load(pw.ready, 0) === 0) Atomics.wait(pw.ready, 0, 0, 10_000)
    if (Atomics.load(pw.ready, 0) === 1) out.push(pw)
  }
  for (let s = pool.length - 1; s >= 0; s--) {
    if (Atomics.load(pool[s]!.ready, 0) !== 1) {
      void pool[s]!.worker.terminate()
      pool.splice(s, 1)
    }
  }
  return out
}

/** Rows sorted by their first coordinate (ties by row index): the sweep order. */
function sortedBy(a: Float64Array, d: number, n: number, shared: boolean): Int32Array {
  const o = allocI32(n, shared)
  for (let i = 0; i < n; i++) o[i] = i
  o.sort((p, q) => a[p * d]! - a[q * d]! || p - q)
  return o
}

function inverse(o: Int32Array, shared: boolean): Int32Array {
  const r = allocI32(o.length, shared)
  for (let m = 0; m < o.length; m++) r[o[m]!] = m
  return r
}

/**
 * Terminates the persistent worker pool (it is re-created on the next multi-threaded estimate). Workers
 * never keep a process alive, so calling this is optional.
 */
export function terminateKsgWorkers(): Promise<void> {
  const all = pool.splice(0, pool.length)
  return Promise.all(all.map((p) => p.worker.terminate())).then(() => undefined)
}

/**
 * Neighbour counts n_x, n_y for every row and every k of the job, as `out[(i·nk + q)·2 + {0,1}]`.
 * With threads > 1 the rows are handed out in chunks to the calling thread and `threads − 1` pool
 * workers through a shared atomic counter; the caller blocks (Atomics.wait) until all are done. Counts
 * are integers stored per row, so the result does not depend on the thread count or the scheduling.
 */
export function neighbourCounts(job: CountJob, threads: number): Int32Array {
  const { n, ks } = job
  const nk = ks.length
  const kmax = ks[nk - 1]!
  const useWorkers = threads > 1 && n >= 64
  const out = allocI32(n * nk * 2, useWorkers)
  const sweep = job.search === 'sweep'
  const xs = new Float64Array(sweep ? 0 : n)
  const ys = new Float64Array(sweep ? 0 : n)
  const bd = new Float64Array(kmax)
  const bx = new Float64Array(kmax)
  const by = new Float64Array(kmax)
  const bi = new Int32Array(kmax)
  const rad = new Float64Array(nk)
  const team = useWorkers ? helpers(threads - 1) : []
  const shareOrders = team.length > 0
  const ox = sweep ? sortedBy(job.x, job.dx, n, shareOrders) : allocI32(0, false)
  const oy = sweep ? sortedBy(job.y, job.dy, n, shareOrders) : allocI32(0, false)
  const rx = sweep ? inverse(ox, shareOrders) : ox
  const ry = sweep ? inverse(oy, shareOrders) : oy
  const run = sweep
    ? (r0: number, r1: number): void =>
        ksgSweepKernel(
          job.x,
          job.dx,
          job.y,
          job.dy,
          n,
          ks,
          job.variant,
          job.euclidean,
          job.seq,
          job.pos,
          job.w,
          r0,
          r1,
          out,
          ox,
          rx,
          oy,
          ry,
          bd,
          bx,
          by,
          bi,
          rad,
        )
    : (r0: number, r1: number): void =>
        ksgRowsKernel(
          job.x,
          job.dx,
          job.y,
          job.dy,
          n,
          ks,
          job.variant,
          job.euclidean,
          job.seq,
          job.pos,
          job.w,
          r0,
          r1,
          out,
          xs,
          ys,
          bd,
          bx,
          by,
        )
  if (team.length === 0) {
    run(0, n)
    return out
  }
  const participants = team.length + 1
  const chunk = Math.max(1, Math.min(64, Math.ceil(n / (participants * 16))))
  // ctrl[0]: next chunk; ctrl[1 + s]: status of helper s (0 running, 1 done, 2 failed)
  const ctrl = allocI32(1 + team.length, true)
  const shared = {
    x: job.x,
    dx: job.dx,
    y: job.y,
    dy: job.dy,
    n,
    ks: toShared(ks),
    variant: job.variant,
    euclidean: job.euclidean,
    seq: toShared(job.seq),
    pos: toShared(job.pos),
    w: job.w,
    search: job.search,
    ox,
    rx,
    oy,
    ry,
    out,
    ctrl,
    chunk,
  }
  const ports: MessagePort[] = []
  team.forEach((pw, slot) => {
    const { port1, port2 } = new MessageChannel()
    ports.push(port1)
    pw.worker.postMessage({ ...shared, slot, port: port2 }, [port2])
  })
  for (;;) {
    const r0 = Atomics.add(ctrl, 0, 1) * chunk
    if (r0 >= n) break
    run(r0, Math.min(n, r0 + chunk))
  }
  const failures: string[] = []
  team.forEach((_, slot) => {
    while (Atomics.load(ctrl, 1 + slot) === 0) Atomics.wait(ctrl, 1 + slot, 0)
    if (Atomics.load(ctrl, 1 + slot) === 2) {
      const msg = receiveMessageOnPort(ports[slot]!)
      failures.push(msg === undefined ? 'unknown error' : String(msg.message))
    }
    ports[slot]!.close()
  })
  if (failures.length > 0) {
    throw new PruneError(
      'RUNTIME_UNAVAILABLE',
      `${P} a KSG worker thread failed: ${failures[0]}; retry with { threads: 1 } to compute in-process`,
    )
  }
  return out
}
