import Database from 'better-sqlite3';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE } from '../helpers/database.js';
import { phoneIds, startTestNode, waitFor, waitForRequest, type TestNode } from '../helpers/node.js';

/**
 * Another process holding SQLite's write lock (an API process's batch, `opencph admin`): a node
 * that must wait for it to write still answers the reads that need no lock.
 */
describe.runIf(STORE === 'sqlite')('while another process holds the SQLite write lock', () => {
  let t: TestNode;
  let other: Database.Database;

  beforeAll(async () => {
    t = await startTestNode({ servers: 1, phonesPerServer: 2 });
    other = new Database(join(t.dataDir, 'opencph.db'));
  });
  afterAll(async () => {
    other.close();
    await t.close();
  });

  it('a batch waits for the lock, and ListJobs and ShowJob are answered meanwhile', async () => {
    const phones = (await phoneIds(t)).map((phone_id) => ({ phone_id }));
    const earlier = await t.post('/phones/batch-restart', { phones });
    const jobs = await waitForRequest(t, earlier.body.request_id);

    other.exec('begin immediate');
    let batch: Promise<{ status: number }>;
    let queued: { answered: boolean };
    try {
      batch = t.post('/phones/batch-restart', { phones });
      // The batch waits at its transaction's BEGIN holding the node's one store connection, so a
      // query through Kysely queues behind it: once such a query stays unanswered, read.
      queued = await waitFor(async () => {
        const probe = { answered: false };
        void t.node.handle.db.selectFrom('jobs').select('seq').limit(1).execute().then(() => (probe.answered = true));
        await sleep(50);
        return probe.answered ? undefined : probe;
      });
      const reads = Promise.all([t.get(`/jobs?request_id=${earlier.body.request_id}`), t.get(`/jobs/${jobs[0].job_id}`)]);
      const first = await Promise.race([reads.then(() => 'answered'), sleep(3000).then(() => 'still waiting')]);
      expect(first).toBe('answered');
      // Answered while the batch still held the connection, waiting for the lock.
      expect(queued.answered).toBe(false);
      const [list, show] = await reads;
      expect(list.body.jobs.map((j: any) => j.job_id)).toEqual(jobs.map((j) => j.job_id));
      expect(show.body.job_id).toBe(jobs[0].job_id);
    } finally {
      other.exec('commit');
    }
    const r = await batch!;
    expect(r.status).toBe(200);
    await waitFor(async () => (queued!.answered ? true : undefined));
  });
});
