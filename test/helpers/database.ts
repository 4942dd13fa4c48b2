import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * Which store a test node uses. The suite runs once per store (see vitest.config.ts): with
 * OPENCPH_TEST_STORE=postgres every node gets a fresh database on the server at OPENCPH_TEST_PG_URL.
 */
export const STORE = process.env.OPENCPH_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite';
export const PG_ADMIN_URL = process.env.OPENCPH_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  /** A postgres:// URL, or undefined for the default SQLite file in the data dir. */
  url: string | undefined;
  drop(): Promise<void>;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  try {
    await c.connect();
  } catch (err) {
    throw new Error(`PostgreSQL is not reachable at ${PG_ADMIN_URL} (${(err as Error).message}); start it or run the SQLite pass only.`);
  }
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export async function createTestDatabase(): Promise<TestDatabase> {
  if (STORE === 'sqlite') return { url: undefined, drop: async () => undefined };
  const name = `opencph_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`create database ${name}`));
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () =>
      admin(async (c) => {
        // pg-pool's end() resolves before its sockets have closed; forcing the drop while they close
        // kills them mid-goodbye, which surfaces as an uncaught error in whichever test runs next.
        for (let i = 0; i < 100; i++) {
          const { rows } = await c.query('select count(*)::int as n from pg_stat_activity where datname = $1', [name]);
          if (rows[0].n === 0) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        await c.query(`drop database if exists ${name} with (force)`);
      }),
  };
}
