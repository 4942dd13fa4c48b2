import { fileURLToPath } from 'node:url';
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
      // test/embed/package: the package's files and exports, the same on either store.
      // test/console: the web console in a browser; it reads the store only through the API, whose routes run on both.
      { extends: true, test: { name: 'sqlite', include: ['test/**/*.test.ts'], exclude: ['test/cluster/**'], env: { OPENCPH_TEST_STORE: 'sqlite' } } },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: ['test/**/*.test.ts'],
          exclude: ['test/domain/**', 'test/auth/**', 'test/cli/cores.test.ts', 'test/store/plans.test.ts', 'test/store/locking.test.ts', 'test/store/prepared.test.ts', 'test/embed/package.test.ts', 'test/console/**'],
          env: { OPENCPH_TEST_STORE: 'postgres' },
        },
      },
      // The examples use OpenCPH as a user does: `import … from 'opencph'`, the built package
      // (`npm test` builds it first), on its default store. Their own package.json hides the root
      // package from Node's self-reference, so the name is given here, as an install would give it.
      {
        extends: true,
        resolve: { alias: { opencph: fileURLToPath(new URL('./dist/index.js', import.meta.url)) } },
        test: { name: 'examples', include: ['examples/*/test/**/*.test.ts'] },
      },
    ],
  },
});
