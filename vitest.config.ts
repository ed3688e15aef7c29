import { defineConfig } from 'vitest/config';

/**
 * One project per test directory, so a tier runs alone: `npx vitest run --project unit` (no build,
 * no database, no etcd), `--project conformance`, and so on. `vitest run` runs them all in one
 * pool of two forks, as before.
 */
const TIERS = ['unit', 'backend', 'conformance', 'differential', 'e2e', 'gateway', 'bench', 'fuzz'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Suites spawn servers (strata, etcd); two workers match the 2-core machine. The pool is shared
    // by all projects.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    projects: TIERS.map((name) => ({ extends: true, test: { name, include: [`test/${name}/**/*.test.ts`] } })),
  },
});
