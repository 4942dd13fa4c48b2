import { describe, expect, test } from 'vitest';
import { newId } from '../../src/domain/ids.js';
import { pickRunnable } from '../../src/engine/schedule.js';
import { SIM_IMAGES } from '../../src/store/seed.js';
import { applyEffectsOfMany, getPhone } from '../../src/store/fleet.js';
import type { ReadStore } from '../../src/store/db.js';
import { claimJobs, finishJobs, getJob, insertRequest, listJobItems } from '../../src/store/jobs.js';
import { PROJECT } from '../helpers/node.js';
import { useFleetStore } from '../helpers/store.js';

const store = useFleetStore();

/** ListJobs items, parsed. */
const listJobs = async (read: ReadStore, requestIds: readonly string[], offset = 0, limit = 100, project = PROJECT) =>
  (await listJobItems(read, project, requestIds, offset, limit)).map((text) => JSON.parse(text) as Record<string, unknown>);

async function submit(jobs: { phoneId: string | null; serverId: string | null; failed?: { code: string; message: string } }[]): Promise<string> {
  const requestId = newId();
  await insertRequest(store.h.db, { requestId, projectId: PROJECT, operation: 'phone.restart', now: 1_700_000_000_123, jobs: jobs.map((j) => ({ jobId: newId(), params: {}, ...j })) });
  return requestId;
}

describe('job reads', () => {
  test('ListJobs and ShowJob reads: submission order across requests, pages, unknown ids (prepared on SQLite and through Kysely alike)', async () => {
    const [p0, p1, p2] = store.fleet.phones;
    const server = store.fleet.servers[0]!.server_id;
    const a = await submit([
      { phoneId: p0!.phone_id, serverId: p0!.server_id },
      { phoneId: p1!.phone_id, serverId: p1!.server_id, failed: { code: 'CPS.0005', message: 'The phone does not exist.' } },
    ]);
    const b = await submit([
      { phoneId: null, serverId: server },
      { phoneId: p2!.phone_id, serverId: p2!.server_id },
    ]);
    const direct = { db: store.h.db, sqlite: store.h.sqlite };
    const kysely = { db: store.h.db };
    const all = await listJobs(kysely, [a, b]);
    const ids = all.map((j) => j.job_id as string);
    const at = '2023-11-14T22:13:20Z';
    const none = { error_code: '', error_msg: '', execute_msg: '' };
    expect(all).toEqual([
      { phone_id: p0!.phone_id, server_id: p0!.server_id, node_id: p0!.server_id, job_id: ids[0], begin_time: at, end_time: null, status: 1, ...none },
      { phone_id: p1!.phone_id, server_id: p1!.server_id, node_id: p1!.server_id, job_id: ids[1], begin_time: at, end_time: at, status: -1, ...none, error_code: 'CPS.0005', error_msg: 'The phone does not exist.' },
      { server_id: server, node_id: server, job_id: ids[2], begin_time: at, end_time: null, status: 1, ...none },
      { phone_id: p2!.phone_id, server_id: p2!.server_id, node_id: p2!.server_id, job_id: ids[3], begin_time: at, end_time: null, status: 1, ...none },
    ]);
    const shown = await Promise.all(ids.map((id) => getJob(kysely, PROJECT, id)));
    expect(shown.map((j) => [j!.job_id, j!.phone_id, j!.server_id, j!.status, j!.error_code, j!.begin_time, j!.end_time])).toEqual([
      [ids[0], p0!.phone_id, p0!.server_id, 1, null, 1_700_000_000_123, null],
      [ids[1], p1!.phone_id, p1!.server_id, -1, 'CPS.0005', 1_700_000_000_123, 1_700_000_000_123],
      [ids[2], null, server, 1, null, 1_700_000_000_123, null],
      [ids[3], p2!.phone_id, p2!.server_id, 1, null, 1_700_000_000_123, null],
    ]);
    for (const read of [direct, kysely]) {
      for (const [requests, offset, limit, expected] of [
        [[a], 0, 100, ids.slice(0, 2)],
        [[a, b], 0, 100, ids],
        [[b, a], 1, 2, ids.slice(1, 3)],
        [[a, b, newId()], 3, 1, ids.slice(3)],
        [[newId()], 0, 100, []],
      ] as const) {
        expect((await listJobs(read, requests, offset, limit)).map((j) => j.job_id)).toEqual(expected);
      }
      expect(await listJobs(read, [a, b])).toEqual(all);
      for (const [i, id] of ids.entries()) expect(await getJob(read, PROJECT, id)).toEqual(shown[i]);
      expect(await getJob(read, PROJECT, newId())).toBeUndefined();
      expect(await getJob(read, 'f'.repeat(32), ids[0]!)).toBeUndefined();
      expect(await listJobs(read, [a], 0, 100, 'f'.repeat(32))).toEqual([]);
    }
  });

  test('a read during an open transaction never sees its uncommitted writes', async () => {
    const [p0] = store.fleet.phones;
    const a = await submit([{ phoneId: p0!.phone_id, serverId: p0!.server_id }]);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let written!: (statuses: unknown[]) => void;
    const seenInside = new Promise<unknown[]>((r) => (written = r));
    const tx = store.h.db.transaction().execute(async (trx) => {
      await trx.updateTable('jobs').set({ status: 2, state: 'done' }).where('request_id', '=', a).execute();
      written((await listJobs({ db: trx }, [a])).map((j) => j.status));
      await held;
      throw new Error('rolled back');
    });
    // The transaction is open, and its write is there to be seen from inside it.
    expect(await seenInside).toEqual([2]);
    if (store.h.sqlite) expect(store.h.sqlite.inTransaction).toBe(true);
    const read = listJobs({ db: store.h.db, sqlite: store.h.sqlite }, [a]);
    release();
    await expect(tx).rejects.toThrow('rolled back');
    expect((await read).map((j) => j.status)).toEqual([1]);
  });
});

describe('finishing in batches', () => {
  test('finishes the jobs still held at the attempt that ran, and only applies their effects', async () => {
    const [p0, p1, p2] = store.fleet.phones;
    await submit([p0!, p1!, p2!].map((p) => ({ phoneId: p.phone_id, serverId: p.server_id })));
    const claimed = await store.h.db
      .transaction()
      .execute((trx) => claimJobs(trx, { owner: 'w1', max: 10, now: Date.now, leaseMs: 60_000, dialect: store.h.dialect }, (active, n) => pickRunnable(active, n)));
    expect(claimed).toHaveLength(3);
    const [j0, j1, j2] = claimed;
    const results = [
      { seq: j0!.seq, owner: 'w1', attempt: j0!.attempts, ok: true, endTime: 1_700_000_001_000 },
      { seq: j1!.seq, owner: 'w1', attempt: j1!.attempts, ok: false, errorCode: 'CPS.0022', errorMsg: "It's not available.", endTime: 1_700_000_002_000 },
      // Re-claimed since by someone else: a stale attempt must not finish it.
      { seq: j2!.seq, owner: 'w1', attempt: j2!.attempts + 1, ok: true, executeMsg: 'out', endTime: 1_700_000_003_000 },
    ];
    const finished = await finishJobs(store.h.db, results);
    expect([...finished].sort()).toEqual([j0!.seq, j1!.seq].sort());
    const after = await listJobs({ db: store.h.db }, [j0!.request_id]);
    expect(after.map((j) => [j.status, j.error_code, j.error_msg, j.execute_msg, j.end_time])).toEqual([
      [2, '', '', '', '2023-11-14T22:13:21Z'],
      [-1, 'CPS.0022', "It's not available.", '', '2023-11-14T22:13:22Z'],
      [1, '', '', '', null],
    ]);
  });

  test('effects of many jobs land as one by one would', async () => {
    const [p0, p1, p2] = store.fleet.phones;
    const s0 = store.fleet.servers[0]!;
    await applyEffectsOfMany(
      store.h.db,
      [{ phones: [{ phoneId: p0!.phone_id, status: 8 }] }, { phones: [{ phoneId: p1!.phone_id, property: '{"a":"b"}', imageId: SIM_IMAGES[1]!.image_id }] }, { servers: [{ serverId: s0.server_id, status: 13 }] }],
      42_000,
    );
    const [a, b, c] = await Promise.all([p0, p1, p2].map((p) => getPhone(store.h.db, PROJECT, p!.phone_id)));
    expect([a!.status, a!.property, a!.image_id, a!.update_time]).toEqual([8, p0!.property, p0!.image_id, 42_000]);
    expect([b!.status, b!.property, b!.image_id, b!.update_time]).toEqual([p1!.status, '{"a":"b"}', SIM_IMAGES[1]!.image_id, 42_000]);
    expect(c!.update_time).toBe(p2!.update_time);
    const server = await store.h.db.selectFrom('servers').selectAll().where('server_id', '=', s0.server_id).executeTakeFirstOrThrow();
    expect([server.status, server.update_time]).toEqual([13, 42_000]);
    // The same phone twice: applied in order, the later one wins.
    await applyEffectsOfMany(store.h.db, [{ phones: [{ phoneId: p2!.phone_id, status: 4 }] }, { phones: [{ phoneId: p2!.phone_id, status: 2 }] }], 43_000);
    expect((await getPhone(store.h.db, PROJECT, p2!.phone_id))!.status).toBe(2);
  });
});
