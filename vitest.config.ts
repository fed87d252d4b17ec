import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', '.isthmus/**'],
    // Each file starts its own bureau servers and databases on free ports, so
    // files run in parallel; two workers match the 2-core machines we run on.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
