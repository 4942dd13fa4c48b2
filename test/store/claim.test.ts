import { describe, expect, test } from 'vitest';
import { ADB_OPERATIONS } from '../../src/engine/operations.js';
import { pickRunnable } from '../../src/engine/schedule.js';
import { openDb } from '../../src/store/db.js';
import { claimJobs, findExpired, finishJob, insertRequest, type JobRow } from '../../src/store/jobs.js';
import { newId } from '../../src/domain/ids.js';
import { takeCallSlot } from '../../src/store/rateLimits.js';
import { PROJECT } from '../helpers/node.js';
import { useFleetStore } from '../helpers/store.js';

const store = useFleetStore();

/** One request of `operation` on the given phones. */
async function submit(operation: string, phones: typeof store.fleet.phones): Promise<void> {
  await insertRequest(store.h.db, {
    requestId: newId(),
    projectId: PROJECT,
    operation,
    now: Date.now(),
    jobs: phones.map((p) => ({ jobId: newId(), phoneId: p.phone_id, serverId: p.server_id, params: {} })),
  });
}

const claim = (owner: string, serverAdbConcurrency: number, max = 100) =>
  store.h.db
    .transaction()
    .execute((trx) =>
      claimJobs(trx, { owner, max, now: Date.now, leaseMs: 60_000, dialect: store.h.dialect }, (active, n) => pickRunnable(active, n, { adbOperations: ADB_OPERATIONS, serverAdbConcurrency })),
    );

const finish = (job: JobRow) => store.h.db.transaction().execute((trx) => finishJob(trx, { seq: job.seq, owner: job.lease_owner!, attempt: job.attempts, ok: true, endTime: Date.now() }));

describe('server adb slots', () => {
  test('adb jobs run one at a time per server, in submission order; other work is not held up', async () => {
    const [a, b] = store.fleet.servers.map((s) => store.fleet.phones.filter((p) => p.server_id === s.server_id));
    await submit('phone.shell', [...a!, ...b!]);
    await submit('phone.update-property', a!);
    let claimed = await claim('w1', 1);
    // One shell per server; the property updates wait behind their phones' shells (per-phone FIFO).
    expect(claimed.map((j) => [j.operation, j.phone_id])).toEqual([
      ['phone.shell', a![0]!.phone_id],
      ['phone.shell', b![0]!.phone_id],
    ]);
    // Another worker finds nothing more while those run.
    expect(await claim('w2', 1)).toEqual([]);
    await finish(claimed[0]!);
    claimed = await claim('w2', 1);
    expect(claimed.map((j) => [j.operation, j.phone_id])).toEqual([
      ['phone.shell', a![1]!.phone_id],
      ['phone.update-property', a![0]!.phone_id],
    ]);
  });

  test('the limit is configurable', async () => {
    const a = store.fleet.phones.filter((p) => p.server_id === store.fleet.servers[0]!.server_id);
    await submit('phone.push', a);
    expect((await claim('w1', 2)).map((j) => j.phone_id)).toEqual([a[0]!.phone_id, a[1]!.phone_id]);
    expect(await claim('w1', 2)).toEqual([]);
  });

  test('power actions take no adb slot', async () => {
    const a = store.fleet.phones.filter((p) => p.server_id === store.fleet.servers[0]!.server_id);
    await submit('phone.restart', a);
    expect(await claim('w1', 1)).toHaveLength(3);
  });
});

describe('call limits', () => {
  test('are counted in the database, so every connection to it shares them', async () => {
    const other = openDb({ url: store.url });
    try {
      const limit = { projectId: PROJECT, name: 'sync-commands', windowMs: 60_000, max: 3 };
      const t0 = 1_000_000;
      expect(await takeCallSlot(store.h.db, store.h.dialect, { ...limit, now: t0 })).toEqual({ ok: true });
      expect(await takeCallSlot(other.db, other.dialect, { ...limit, now: t0 + 1000 })).toEqual({ ok: true });
      expect(await takeCallSlot(store.h.db, store.h.dialect, { ...limit, now: t0 + 2000 })).toEqual({ ok: true });
      expect(await takeCallSlot(other.db, other.dialect, { ...limit, now: t0 + 3000 })).toEqual({ ok: false, retryAfterMs: 57_000 });
      expect(await takeCallSlot(store.h.db, store.h.dialect, { ...limit, projectId: 'f'.repeat(32), now: t0 + 3000 })).toEqual({ ok: true });
      // The window slides: a minute after the first call, one slot is free again.
      expect(await takeCallSlot(other.db, other.dialect, { ...limit, now: t0 + 60_000 })).toEqual({ ok: true });
      expect(await takeCallSlot(store.h.db, store.h.dialect, { ...limit, now: t0 + 60_001 })).toEqual({ ok: false, retryAfterMs: 999 });
    } finally {
      await other.close();
    }
  });
});

describe('expired leases', () => {
  test('are found except those the caller names as still its own', async () => {
    const a = store.fleet.phones.filter((p) => p.server_id === store.fleet.servers[0]!.server_id);
    await submit('phone.restart', a);
    const claimed = await claim('w1', 1);
    expect(claimed.length).toBe(a.length);
    const later = Date.now() + 120_000;
    const all = await findExpired(store.h.db, later, store.h.dialect);
    expect(all.map((j) => j.seq)).toEqual(claimed.map((j) => j.seq));
    const others = await findExpired(store.h.db, later, store.h.dialect, [claimed[0]!.seq]);
    expect(others.map((j) => j.seq)).toEqual(claimed.slice(1).map((j) => j.seq));
    expect(await findExpired(store.h.db, Date.now(), store.h.dialect)).toEqual([]);
  });
});
