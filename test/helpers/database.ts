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
    drop: () => admin((c) => c.query(`drop database if exists ${name} with (force)`)).then(() => undefined),
  };
}
