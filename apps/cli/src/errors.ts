import { isPruneError } from '@mi-prun/core'
import type { PruneErrorCode } from '@mi-prun/core'

/**
 * Exit codes of `mi-prun` (documented in apps/cli/README.md). Scripts may rely on them.
 */
export const exitCodes = Object.freeze({
  /** Success. */
  ok: 0,
  /** An unexpected internal error (a bug): the message says what failed; please report it. */
  internal: 1,
  /** Bad command line: unknown command or flag, missing or malformed value. */
  usage: 2,
  /** Bad input files: model folder, checkpoint, config, ONNX graph, calibration text, task file, run file. */
  input: 3,
  /** The request cannot be met with this input: budget too large, too few samples or tokens, k ≥ samples. */
  infeasible: 4,
  /** Numerical failure: NaN or ±∞ in weights, activations or scores; a search that did not converge. */
  numeric: 5,
  /** A runtime or backend is not available on this machine. */
  runtime: 6,
  /** Cannot read or write a file or folder (including an output folder that already exists without --force). */
  io: 7,
})
export type ExitCodeName = keyof typeof exitCodes

/** An error the CLI reports without a stack: a message and the exit code. */
export class CliError extends Error {
  override readonly name = 'CliError'
  readonly exitCode: number
  constructor(exitCode: number, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.exitCode = exitCode
  }
}

const byPruneCode: Readonly<Record<PruneErrorCode, number>> = Object.freeze({
  INVALID_INPUT: exitCodes.input,
  INVALID_CHECKPOINT: exitCodes.input,
  INVALID_CONFIG: exitCodes.input,
  UNSUPPORTED_ARCHITECTURE: exitCodes.input,
  UNSUPPORTED_CONFIG: exitCodes.input,
  UNSUPPORTED_GRAPH: exitCodes.input,
  INVALID_DUMP: exitCodes.input,
  UNSUPPORTED_OPERATION: exitCodes.runtime,
  // an interrupted run: the conventional 128 + SIGINT
  CANCELLED: 130,
  INSUFFICIENT_SAMPLES: exitCodes.infeasible,
  INFEASIBLE_BUDGET: exitCodes.infeasible,
  NON_FINITE: exitCodes.numeric,
  NOT_CONVERGED: exitCodes.numeric,
  RUNTIME_UNAVAILABLE: exitCodes.runtime,
  IO_ERROR: exitCodes.io,
})

/** The exit code and one-paragraph message for any thrown value. */
export function describeError(e: unknown): { exitCode: number; message: string } {
  if (e instanceof CliError) return { exitCode: e.exitCode, message: e.message }
  if (isPruneError(e))
    return { exitCode: byPruneCode[e.code] ?? exitCodes.internal, message: `${e.message} [${e.code}]` }
  if (e instanceof RangeError || e instanceof TypeError) {
    const msg = e.message
    // argument errors from the packages carry their [@mi-prun/...] prefix; they come from CLI values
    if (msg.startsWith('[@mi-prun/')) return { exitCode: exitCodes.usage, message: msg }
  }
  const err = e as NodeJS.ErrnoException
  if (err && typeof err.code === 'string' && /^E[A-Z]+$/.test(err.code)) {
    return {
      exitCode: exitCodes.io,
      message: `[@mi-prun/cli] ${err.message}: check the path and its permissions`,
    }
  }
  const text = e instanceof Error ? (e.stack ?? e.message) : String(e)
  return {
    exitCode: exitCodes.internal,
    message: `[@mi-prun/cli] internal error: ${text}\nThis is a bug in mi-prun; please report it with the command line.`,
  }
}
