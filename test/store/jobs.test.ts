import { describe, expect, test } from 'vitest';
import { newId } from '../../src/domain/ids.js';
import { getJob, insertRequest, listJobsByRequests } from '../../src/store/jobs.js';
import { PROJECT } from '../helpers/cph.js';
import { useFleetStore } from '../helpers/store.js';

const store = useFleetStore();

async function submit(jobs: { phoneId: string | null; serverId: string | null; failed?: { code: string; message: string } }[]): Promise<string> {
  const requestId = newId();
  await insertRequest(store.h.db, { requestId, projectId: PROJECT, operation: 'phone.restart', now: 1_700_000_000_123, jobs: jobs.map((j) => ({ jobId: newId(), params: {}, ...j })) });
  return requestId;
}

describe('job reads', () => {
  test('the prepared statements on SQLite answer exactly what the Kysely queries answer', async () => {
    const [p0, p1, p2] = store.fleet.phones;
    const a = await submit([
      { phoneId: p0!.phone_id, serverId: p0!.server_id },
      { phoneId: p1!.phone_id, serverId: p1!.server_id, failed: { code: 'CPS.0005', message: 'The phone does not exist.' } },
    ]);
    const b = await submit([
      { phoneId: null, serverId: store.fleet.servers[0]!.server_id },
      { phoneId: p2!.phone_id, serverId: p2!.server_id },
    ]);
    const direct = { db: store.h.db, sqlite: store.h.sqlite };
    const kysely = { db: store.h.db };
    for (const [ids, offset, limit] of [
      [[a], 0, 100],
      [[a, b], 0, 100],
      [[b, a], 1, 2],
      [[a, b, newId()], 3, 1],
      [[newId()], 0, 100],
    ] as const) {
      expect(await listJobsByRequests(direct, PROJECT, ids, offset, limit)).toEqual(await listJobsByRequests(kysely, PROJECT, ids, offset, limit));
    }
    const jobs = await listJobsByRequests(kysely, PROJECT, [a, b], 0, 100);
    expect(jobs).toHaveLength(4);
    for (const job of jobs) expect(await getJob(direct, PROJECT, job.job_id)).toEqual(job);
    expect(await getJob(direct, PROJECT, newId())).toBeUndefined();
    expect(await getJob(direct, 'f'.repeat(32), jobs[0]!.job_id)).toBeUndefined();
  });

  test('a read during an open transaction never sees its uncommitted writes', async () => {
    const [p0] = store.fleet.phones;
    const a = await submit([{ phoneId: p0!.phone_id, serverId: p0!.server_id }]);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const tx = store.h.db.transaction().execute(async (trx) => {
      await trx.updateTable('jobs').set({ status: 2, state: 'done' }).where('request_id', '=', a).execute();
      await held;
      throw new Error('rolled back');
    });
    await new Promise((r) => setTimeout(r, 20));
    const read = listJobsByRequests({ db: store.h.db, sqlite: store.h.sqlite }, PROJECT, [a], 0, 100);
    release();
    await expect(tx).rejects.toThrow('rolled back');
    expect((await read).map((j) => j.status)).toEqual([1]);
  });
});
