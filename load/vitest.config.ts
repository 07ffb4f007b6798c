import { defineConfig } from 'vitest/config';

// The load package's own suites (the root config leaves load/ out: its dependencies are
// installed only by `npm run load`). Run: vitest run --config load/vitest.config.ts
export default defineConfig({
  test: {
    include: ['load/test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
