import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Suites spawn servers (strata, etcd); two workers match the 2-core machine.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
