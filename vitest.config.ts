import { defineConfig } from 'vitest/config'

export default defineConfig({
  resolve: { conditions: ['@mi-prun/source'] },
  ssr: { resolve: { conditions: ['@mi-prun/source'], externalConditions: ['@mi-prun/source'] } },
  test: {
    include: [
      'packages/**/test/**/*.test.ts',
      'apps/**/test/**/*.test.ts',
      'examples/**/*.test.ts',
      'docs/test/**/*.test.ts',
      'bench/**/test/**/*.test.ts',
    ],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    benchmark: { include: ['packages/**/test/**/*.bench.ts', 'bench/**/*.bench.ts'] },
  },
})
