import { defineConfig } from 'vitest/config';

/** The suite runs once per store: SQLite files, and fresh databases on the local PostgreSQL. */
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      // test/cluster: several processes on one database, which only PostgreSQL supports.
      // test/store/plans, locking and prepared: SQLite's query plans, its file lock, its statements. Tests of pure functions run once.
      { extends: true, test: { name: 'sqlite', include: ['test/**/*.test.ts'], exclude: ['test/cluster/**'], env: { OPENCPH_TEST_STORE: 'sqlite' } } },
      { extends: true, test: { name: 'postgres', include: ['test/**/*.test.ts'], exclude: ['test/domain/**', 'test/auth/**', 'test/cli/cores.test.ts', 'test/store/plans.test.ts', 'test/store/locking.test.ts', 'test/store/prepared.test.ts'], env: { OPENCPH_TEST_STORE: 'postgres' } } },
    ],
  },
});
