import { rmSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { newId } from '../../src/domain/ids.js';
import { systemClock } from '../../src/domain/time.js';
import { recoverExpired } from '../../src/engine/recovery.js';
import { ADB_OPERATIONS } from '../../src/engine/operations.js';
import { pickRunnable } from '../../src/engine/schedule.js';
import { openDb, type DbHandle } from '../../src/store/db.js';
import { getPhonesOfServers, getPhoneView, getServer, getServersByIds, listPhones, listServers, loadPhones, projectServerIds, serversOfPhones } from '../../src/store/fleet.js';
import {
  claimJobs,
  expireLeasesOf,
  failRunning,
  finishJobs,
  getJob,
  getJobsByIds,
  insertRequest,
  listJobItems,
  purgeFinished,
  renewLeases,
  requeue,
  waitingJobs,
} from '../../src/store/jobs.js';
import { makeDataDir, PROJECT } from '../helpers/node.js';
import { seedFleetStore } from '../helpers/store.js';

/**
 * Every statement the job store, the fleet's read routes and the batch path run, as SQLite plans it: none may read the whole
 * of a table that grows (or the whole of an index on it), and lookups by id go through the primary
 * key. Jobs and requests grow to millions of rows, fleets to thousands of phones, and SQLite runs
 * on the event loop: one full scan of a million jobs blocks every request for a quarter second.
 * (SQLite without ANALYZE data plans as if every table were large, so a small store shows the
 * plans a big one gets.)
 */
const GROWING = ['jobs', 'requests', 'phones', 'servers'];
const PRIMARY_KEY: Record<string, { column: string; index: string }> = {
  phones: { column: 'phone_id', index: 'sqlite_autoindex_phones_1' },
  servers: { column: 'server_id', index: 'sqlite_autoindex_servers_1' },
};

let dir: string;
let h: DbHandle;
const statements = new Set<string>();
/** What the store ran (the tests' own EXPLAINs are traced too, after it). */
let ran: string[] = [];

beforeAll(async () => {
  dir = makeDataDir();
  h = openDb({ url: join(dir, 'opencph.db'), trace: (sql) => statements.add(sql) });
  const fleet = await seedFleetStore(h);

  // What a node does with jobs over their life: submit, list and show, claim, renew, finish,
  // requeue or fail after a lost lease, recover expired leases, purge old ones.
  statements.clear();
  const now = Date.now();
  const phoneIds = fleet.phones.map((p) => p.phone_id);
  const serverIds = fleet.servers.map((x) => x.server_id);
  await serversOfPhones(h.db, PROJECT, phoneIds);
  await projectServerIds(h.db, PROJECT, serverIds);
  await getPhonesOfServers(h.db, serverIds);
  await loadPhones(h.db, phoneIds);
  await getServersByIds(h.db, serverIds);
  // The fleet's read routes, run straight on the connection and through Kysely.
  for (const store of [{ db: h.db, sqlite: h.sqlite }, { db: h.db }]) {
    await listPhones(store, PROJECT, {}, { offset: 0, limit: 100 });
    await listPhones(store, PROJECT, { phoneName: 'x', serverId: serverIds[0], status: 2, type: 0 }, { offset: 5, limit: 10 });
    await getPhoneView(store, PROJECT, phoneIds[0]!);
    await listServers(store, PROJECT, {}, { offset: 0, limit: 100 });
    await listServers(store, PROJECT, { serverName: 'x', serverId: serverIds[0], networkVersion: 'v2', phoneModelName: 'm', createSince: 0, createUntil: now, status: 5 }, { offset: 5, limit: 10 });
    await getServer(store, PROJECT, serverIds[0]!);
  }
  const requestIds = [newId(), newId()];
  const jobIds: string[] = [];
  for (const requestId of requestIds) {
    const jobs = fleet.phones.map((p) => ({ jobId: newId(), phoneId: p.phone_id, serverId: p.server_id, params: {} }));
    jobIds.push(...jobs.map((j) => j.jobId));
    await h.db.transaction().execute((trx) => insertRequest(trx, { requestId, projectId: PROJECT, operation: 'phone.restart', now, jobs }));
  }
  // The queue gauges of /metrics.
  await waitingJobs(h.db);
  for (const store of [{ db: h.db, sqlite: h.sqlite }, { db: h.db }]) {
    await listJobItems(store, PROJECT, requestIds.slice(0, 1), 0, 100);
    await listJobItems(store, PROJECT, requestIds, 2, 10);
    await getJob(store, PROJECT, jobIds[0]!);
  }
  await getJobsByIds(h.db, PROJECT, jobIds.slice(0, 3));
  const claimed = await h.db
    .transaction()
    .execute((trx) =>
      claimJobs(trx, { owner: 'w1', max: 4, now: () => now, leaseMs: 1000, dialect: 'sqlite' }, (active, n) => pickRunnable(active, n, { adbOperations: ADB_OPERATIONS, serverAdbConcurrency: 1 })),
    );
  expect(claimed.length).toBe(4);
  const seqs = claimed.map((j) => j.seq);
  await renewLeases(h.db, 'w1', seqs, now + 2000);
  await finishJobs(h.db, [{ seq: seqs[0]!, owner: 'w1', attempt: 1, ok: true, endTime: now }]);
  await requeue(h.db, [seqs[1]!], { owner: 'w1' });
  await failRunning(h.db, [seqs[2]!], { expiredBefore: now + 5000 }, 'CPS.0001', 'x', now);
  await recoverExpired({ db: h.db, dialect: 'sqlite', clock: { ...systemClock, now: () => now + 10_000 }, ids: newId, log: pino({ level: 'silent' }) });
  await expireLeasesOf(h.db, 'w1');
  await expireLeasesOf(h.db, null);
  await purgeFinished(h.db, now + 1);
  ran = [...statements];
});

afterAll(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('query plans of the job store and the batch path', () => {
  test('no statement reads a whole growing table', () => {
    const touching = ran.filter((s) => GROWING.some((t) => new RegExp(`\\b${t}\\b`).test(s)) && !/^\s*(begin|commit|rollback)/i.test(s));
    expect(touching.length).toBeGreaterThan(10);
    const scans = touching.flatMap((s) => {
      const plan = h.sqlite!.prepare(`explain query plan ${s}`).all() as { detail: string }[];
      const full = plan.filter((p) => GROWING.some((t) => new RegExp(`^SCAN ${t}\\b`).test(p.detail)));
      return full.map((p) => `${p.detail}\n    in: ${s.replace(/\s+/g, ' ').slice(0, 300)}`);
    });
    expect(scans).toEqual([]);
  });

  test('phones and servers named by id are found through the primary key', () => {
    const byId = ran.flatMap((s) =>
      Object.entries(PRIMARY_KEY)
        .filter(([table, { column }]) => new RegExp(`from "${table}" where .*"${column}" in \\(`).test(s))
        .map(([table, { index }]) => ({ s, table, index })),
    );
    expect(byId.length).toBeGreaterThanOrEqual(4);
    for (const { s, table, index } of byId) {
      const plan = (h.sqlite!.prepare(`explain query plan ${s}`).all() as { detail: string }[]).map((p) => p.detail).join('; ');
      expect(plan, s).toContain(`SEARCH ${table} USING INDEX ${index}`);
    }
  });
});
