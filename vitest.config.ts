import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // graphql 16 has no `exports` map: Node loads its CommonJS build while Vite
    // would pick the `module` build, and two copies of graphql cannot share a
    // schema. Point Vite at the build Node uses.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', '.isthmus/**'],
    // In CI, refuse to run without DATABASE_URL: its PostgreSQL cases would all be skipped.
    globalSetup: ['test/support/ci-database-check.ts'],
    // Each file starts its own bureau servers and databases on free ports, so
    // files run in parallel; two workers match the 2-core machines we run on.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
