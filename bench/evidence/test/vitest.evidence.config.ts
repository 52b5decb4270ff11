// Runs the evidence helpers' tests (the root vitest.config.ts does not include bench/):
//   npx vitest run --config bench/evidence/test/vitest.evidence.config.ts
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  root: fileURLToPath(new URL('../../..', import.meta.url)),
  resolve: { conditions: ['@mi-prun/source'] },
  ssr: { resolve: { conditions: ['@mi-prun/source'], externalConditions: ['@mi-prun/source'] } },
  test: { include: ['bench/**/test/**/*.test.ts'], pool: 'forks' },
})
