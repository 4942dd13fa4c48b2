/** What every benchmark shares: the default project and its access key, and how figures are rounded. */

export const PROJECT = '0123456789abcdef0123456789abcdef';
export const CREDENTIALS = { ak: 'EXAMPLEAK0000000001', sk: 'ExampleSecretKey0000000000000000000000000', projectId: PROJECT };

export const round = (x, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/** result / baseline, to three places. */
export const ratio = (a, b) => round(a / b, 3);

/** The PostgreSQL the benchmarks make their databases on. */
export const PG_ADMIN = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** One statement as PG_ADMIN's user (create or drop a benchmark's database). */
export async function pgAdmin(text) {
  const { default: pg } = await import('pg');
  const c = new pg.Client({ connectionString: PG_ADMIN });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}
