/**
 * Marks the phase a run is in (load, select, write) for the interrupt tests: with the environment
 * variable MI_PRUN_HOLD_PHASE set to a phase name the run announces it on stderr and waits there until
 * it is signalled, so a test can kill the real process inside that phase deterministically.
 * Without the variable this does nothing.
 */
export async function enterPhase(phase: 'load' | 'select' | 'write'): Promise<void> {
  if (process.env['MI_PRUN_HOLD_PHASE'] !== phase) return
  process.stderr.write(`mi-prun: holding in the ${phase} phase (MI_PRUN_HOLD_PHASE)\n`)
  await new Promise<never>(() => {
    setInterval(() => {}, 1000)
  })
}
