import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startChild, type ChildNode } from '../helpers/child.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { makeDataDir, removeDataDir, waitForRequest } from '../helpers/node.js';

let store: TestDatabase;
let client: pg.Client;
let node: ChildNode | undefined;
const dataDir = makeDataDir();

beforeAll(async () => {
  store = await createTestDatabase();
  client = new pg.Client({ connectionString: store.url });
  await client.connect();
});
afterAll(async () => {
  node?.proc.kill('SIGKILL');
  await node?.exited;
  await client.end();
  await store.drop();
  await removeDataDir(dataDir);
});

/** Connections to the test database other than this test's own. */
async function nodeConnections(): Promise<number> {
  const { rows } = await client.query('select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()');
  return rows[0].n;
}

it('--db-pool-size caps the connections a node opens, and the node still does all its work', { timeout: 60_000 }, async () => {
  node = await startChild(['--log-level', 'warn', '--database', store.url!, '--data-dir', dataDir, '--servers', '2', '--phones-per-server', '10', '--sim-delay', '5', '--db-pool-size', '2']);
  const phones: string[] = (await node.get('/phones?limit=100')).body.phones.map((p: any) => p.phone_id);
  let most = 0;
  let working = true;
  const sampling = (async () => {
    while (working) {
      most = Math.max(most, await nodeConnections());
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  try {
    // Batches, reads and the worker all at once.
    const batches = await Promise.all(Array.from({ length: 10 }, () => node!.post('/phones/batch-restart', { phones: phones.map((phone_id) => ({ phone_id })) })));
    expect(batches.map((b) => b.status)).toEqual(new Array(10).fill(200));
    const reads = await Promise.all(batches.flatMap((b) => [node!.get(`/jobs?request_id=${b.body.request_id}`), node!.get('/phones?limit=100')]));
    expect(reads.every((r) => r.status === 200)).toBe(true);
    for (const b of batches) expect((await waitForRequest(node, b.body.request_id, 30_000)).every((j) => j.status === 2)).toBe(true);
  } finally {
    working = false;
    await sampling;
  }
  // Two in the pool, one more that listens for new jobs.
  expect(most).toBeGreaterThan(0);
  expect(most).toBeLessThanOrEqual(3);
});
