/** Error codes of domain failures. Argument-shape problems also use `INVALID_INPUT`. */
export type PruneErrorCode =
  | 'INVALID_INPUT'
  | 'NON_FINITE'
  | 'INSUFFICIENT_SAMPLES'
  | 'UNSUPPORTED_ARCHITECTURE'
  | 'INVALID_CHECKPOINT'
  | 'INVALID_CONFIG'
  | 'RUNTIME_UNAVAILABLE'
  | 'INFEASIBLE_BUDGET'
  | 'NOT_CONVERGED'
  | 'IO_ERROR'
  | 'UNSUPPORTED_CONFIG'
  | 'UNSUPPORTED_GRAPH'
  | 'UNSUPPORTED_OPERATION'
  | 'INVALID_DUMP'
  | 'CANCELLED'

/**
 * The one error type of mi-prun. Messages start with the package in brackets, say what is wrong,
 * where, and how to fix it: `[@mi-prun/mi-ksg] k must be < N (k=5, N=4): lower k or pass more samples`.
 */
export class PruneError extends Error {
  override readonly name = 'PruneError'
  readonly code: PruneErrorCode
  constructor(code: PruneErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}

/** Throws a PruneError when `ok` is false; the message is built lazily so hot paths pay nothing. */
export function assert(ok: unknown, code: PruneErrorCode, message: () => string): asserts ok {
  if (!ok) throw new PruneError(code, message())
}

/** True when `e` is a PruneError (with the given code, when one is passed). */
export function isPruneError(e: unknown, code?: PruneErrorCode): e is PruneError {
  return e instanceof PruneError && (code === undefined || e.code === code)
}
