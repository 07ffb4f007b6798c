import { defineConfig } from 'vitest/config';

// One run covers every package. Each test file isolates itself (its own SQLite file and its
// own PostgreSQL database cloned from a migrated template), so files run in parallel.
export default defineConfig({
  test: {
    include: ['apps/*/test/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'scripts/test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    globalSetup: ['packages/db/test/global-setup.ts'],
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
