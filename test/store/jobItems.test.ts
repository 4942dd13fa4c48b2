import fc from 'fast-check';
import { sql } from 'kysely';
import { describe, expect, test } from 'vitest';
import { newId } from '../../src/domain/ids.js';
import { pickRunnable } from '../../src/engine/schedule.js';
import { listJob } from '../../src/http/wire.js';
import { dropJobItemTriggers, JOB_ITEM_COLUMNS } from '../../src/store/jobItems.js';
import { claimJobs, expireLeasesOf, failRunning, finishJobs, insertRequest, listJobItems, renewLeases, requeue, type NewJob } from '../../src/store/jobs.js';
import * as m007 from '../../src/store/migrations/007_job_items.js';
import * as m012 from '../../src/store/migrations/012_encode_servers.js';
import * as m019 from '../../src/store/migrations/019_events.js';
import { PROJECT } from '../helpers/node.js';
import { useFleetStore } from '../helpers/store.js';

const store = useFleetStore();

/** The last second CPH's time format can write (9999-12-31T23:59:59Z), with its milliseconds. */
const FAR_FUTURE = 253_402_300_799_999;

/** Every control character PostgreSQL can store (not NUL), DEL, the JSON-sensitive ones, non-ASCII, emoji. */
const CONTROLS = Array.from({ length: 31 }, (_, i) => String.fromCharCode(i + 1)).join('') + '\u007f';
const TRICKY = `say "hi" \\ C:\\tmp\\ \\" ${CONTROLS} </script> \u2028\u2029 é 漢字 📱👩‍👩‍👧 \ufeff`;

/** A string of exactly `bytes` UTF-8 bytes (CPH's cap on execute_msg is 1024), multi-byte characters up to the last. */
function ofBytes(bytes: number): string {
  let s = TRICKY;
  while (Buffer.byteLength(s + '📱') <= bytes) s += '📱';
  return s + 'x'.repeat(bytes - Buffer.byteLength(s));
}

async function submit(jobs: Omit<NewJob, 'jobId' | 'params'>[], now = 1_700_000_000_123): Promise<string> {
  const requestId = newId();
  await insertRequest(store.h.db, { requestId, projectId: PROJECT, operation: 'phone.restart', now, jobs: jobs.map((j) => ({ jobId: newId(), params: {}, ...j })) });
  return requestId;
}

const claim = (owner: string, max = 10) =>
  store.h.db.transaction().execute((trx) => claimJobs(trx, { owner, max, now: Date.now, leaseMs: 60_000, dialect: store.h.dialect }, (active, n) => pickRunnable(active, n)));

/** The items ListJobs reads for these requests (through the prepared path on SQLite), and the same jobs as `listJob` writes them. */
async function bothWays(requestIds: readonly string[]) {
  const read = await listJobItems({ db: store.h.db, sqlite: store.h.sqlite }, PROJECT, requestIds, 0, 100);
  const rows = await store.h.db.selectFrom('jobs').select(JOB_ITEM_COLUMNS).where('request_id', 'in', [...requestIds]).orderBy('seq').execute();
  return { read, js: rows.map((r) => JSON.stringify(listJob(r))), rows };
}

async function expectSameBothWays(requestIds: readonly string[]) {
  const { read, js, rows } = await bothWays(requestIds);
  expect(read).toHaveLength(rows.length);
  // Item by item, so a mismatch names the job.
  for (const [i, text] of read.entries()) expect(text, `job ${i}`).toBe(js[i]);
  return { read, rows };
}

describe('ListJobs items kept by the database', () => {
  test('every kind of job, through every store writer, reads as listJob writes it', async () => {
    const [p0, p1, p2, p3] = store.fleet.phones;
    const [s0, s1] = store.fleet.servers;
    const phone = (p: typeof p0) => ({ phoneId: p!.phone_id, serverId: p!.server_id });
    const a = await submit([
      phone(p0), // finished: success, execute_msg at the cap
      { phoneId: null, serverId: s1!.server_id }, // server job: failure with an awkward message
      phone(p1), // failed by recovery (failRunning)
      { phoneId: 'not-a-phone', serverId: null, failed: { code: 'CPS.0005', message: TRICKY } }, // failed at submit, no server
      phone(p3), // success with empty strings rather than nulls
    ]);
    const b = await submit([phone(p2)], 0); // requeued after its lease ran out; begins at the epoch
    const c = await submit([{ phoneId: null, serverId: s0!.server_id }], FAR_FUTURE); // never claimed
    const [e0, e1] = store.fleet.encodeServers;
    const encode = (e: typeof e0, failed?: NewJob['failed']) => ({ phoneId: null, serverId: null, encodeServerId: e!.encode_server_id, failed });
    // Encode-server jobs: one finished, one failed at submit (an id that never named one), one behind the first on its encode server.
    const d = await submit([encode(e0), encode(e1, { code: 'CPS.0930', message: TRICKY }), encode(e0)], 1_700_000_000_500);
    const claimed = await claim('w1');
    // p3's job waits behind the server job on its server; the one on s0 behind s0's phones; e0's second behind its first.
    expect(claimed.map((j) => j.request_id)).toEqual([a, a, a, b, d]);
    const [j0, j1, j2, j5, je] = claimed;
    expect(je!.encode_server_id).toBe(e0!.encode_server_id);
    expect(await renewLeases(store.h.db, 'w1', [j0!.seq], Date.now() + 120_000)).toBe(1);
    // Running (claimed, leased) jobs, before anything finishes.
    await expectSameBothWays([a, b, c]);

    const cap = ofBytes(1024);
    expect(Buffer.byteLength(cap)).toBe(1024);
    await expectSameBothWays([d]);
    const finished = await finishJobs(store.h.db, [
      { seq: je!.seq, owner: 'w1', attempt: je!.attempts, ok: true, endTime: 1_700_000_003_000 },
      { seq: j0!.seq, owner: 'w1', attempt: j0!.attempts, ok: true, executeMsg: cap, endTime: FAR_FUTURE },
      { seq: j1!.seq, owner: 'w1', attempt: j1!.attempts, ok: false, errorCode: 'CPS.0022', errorMsg: TRICKY, executeMsg: '\\"', endTime: 0 },
    ]);
    const [j4] = await claim('w2');
    expect(j4!.phone_id).toBe(p3!.phone_id);
    await finishJobs(store.h.db, [{ seq: j4!.seq, owner: 'w2', attempt: j4!.attempts, ok: true, errorCode: '', errorMsg: '', executeMsg: '', endTime: 1_700_000_001_000 }]);
    expect(finished.size).toBe(3);
    expect(await failRunning(store.h.db, [j2!.seq], { owner: 'w1' }, 'CPS.0003', 'interrupted\r\n"twice"', 1_700_000_120_000)).toBe(1);
    expect(await expireLeasesOf(store.h.db, 'w1')).toBe(1);
    expect(await requeue(store.h.db, [j5!.seq], { expiredBefore: 1 })).toBe(1);
    // A job written straight into the table, as an import or a seeder would.
    await store.h.db
      .insertInto('jobs')
      .values({ job_id: newId(), project_id: PROJECT, request_id: c, operation: 'phone.shell', phone_id: p0!.phone_id, server_id: p0!.server_id, params: '{}', state: 'done', status: 2, begin_time: 1, end_time: 999, execute_msg: 'é\n', attempts: 0 })
      .execute();

    const encodeItems = (await expectSameBothWays([d])).read.map((text) => JSON.parse(text) as Record<string, unknown>);
    const tail = ['job_id', 'begin_time', 'end_time', 'status', 'error_code', 'error_msg', 'execute_msg'];
    for (const item of encodeItems) expect(Object.keys(item)).toEqual(['encode_server_id', ...tail]);
    expect(encodeItems.map((i) => [i.encode_server_id, i.status, i.end_time, i.error_msg])).toEqual([
      [e0!.encode_server_id, 2, '2023-11-14T22:13:23Z', ''],
      [e1!.encode_server_id, -1, '2023-11-14T22:13:20Z', TRICKY],
      [e0!.encode_server_id, 1, null, ''],
    ]);

    const { rows, read } = await expectSameBothWays([a, b, c]);
    // The cases above are the ones meant: each kind and value is there.
    expect(rows.map((r) => [r.phone_id !== null, r.server_id !== null, r.status, r.begin_time, r.end_time])).toEqual([
      [true, true, 2, 1_700_000_000_123, FAR_FUTURE],
      [false, true, -1, 1_700_000_000_123, 0],
      [true, true, -1, 1_700_000_000_123, 1_700_000_120_000],
      [true, false, -1, 1_700_000_000_123, 1_700_000_000_123],
      [true, true, 2, 1_700_000_000_123, 1_700_000_001_000],
      [true, true, 1, 0, null],
      [false, true, 1, FAR_FUTURE, null],
      [true, true, 2, 1, 999],
    ]);
    expect(rows[4]).toMatchObject({ error_code: '', error_msg: '', execute_msg: '' });
    expect(rows[5]).toMatchObject({ error_code: null, error_msg: null, execute_msg: null });
    const items = read.map((text) => JSON.parse(text) as Record<string, unknown>);
    expect(items[0]).toMatchObject({ execute_msg: cap, end_time: '9999-12-31T23:59:59Z' });
    expect(items[1]).toMatchObject({ error_msg: TRICKY, end_time: '1970-01-01T00:00:00Z' });
    expect(items[5]).toMatchObject({ begin_time: '1970-01-01T00:00:00Z', end_time: null });
    // Key order is part of the item, as in CPH's ListJobs example.
    const rest = ['node_id', 'job_id', 'begin_time', 'end_time', 'status', 'error_code', 'error_msg', 'execute_msg'];
    expect(Object.keys(items[0]!)).toEqual(['phone_id', 'server_id', ...rest]);
    expect(Object.keys(items[1]!)).toEqual(['server_id', ...rest]);
    expect(items[0]).toMatchObject({ phone_id: p0!.phone_id, server_id: p0!.server_id, node_id: p0!.server_id });
    expect(items[3]).toMatchObject({ phone_id: 'not-a-phone', server_id: null, node_id: null });
  });

  test('any job the columns can hold reads as listJob writes it', async () => {
    const requestId = await submit([]);
    // Any text PostgreSQL can store (it refuses NUL), any time CPH's format can write.
    const text = fc.option(fc.string({ unit: 'binary', maxLength: 40 }).map((s) => s.replaceAll('\0', '')), { nil: null });
    const time = fc.integer({ min: 0, max: FAR_FUTURE });
    const job = fc.record({
      phone_id: fc.option(fc.constant(newId()), { nil: null }),
      server_id: fc.option(fc.constant(newId()), { nil: null }),
      encode_server_id: fc.option(fc.constant(newId()), { nil: null }),
      status: fc.constantFrom(1, 2, -1),
      begin_time: time,
      end_time: fc.option(time, { nil: null }),
      error_code: text,
      error_msg: text,
      execute_msg: text,
    });
    await fc.assert(
      fc.asyncProperty(job, async (j) => {
        await store.h.db.deleteFrom('jobs').execute();
        await store.h.db
          .insertInto('jobs')
          .values({ ...j, job_id: newId(), project_id: PROJECT, request_id: requestId, operation: 'phone.shell', params: '{}', state: 'done', attempts: 0 })
          .execute();
        const { read, js } = await bothWays([requestId]);
        expect(read).toEqual(js);
      }),
      { numRuns: 60 },
    );
  });

  test('a change to any one column the item shows, alone, rewrites the item', async () => {
    const [p0] = store.fleet.phones;
    const requestId = await submit([{ phoneId: p0!.phone_id, serverId: p0!.server_id }]);
    const changes = {
      phone_id: 'another-phone',
      server_id: 'another-server',
      encode_server_id: 'an-encode-server',
      job_id: newId(),
      begin_time: 1_700_000_001_000,
      end_time: 1_700_000_002_000,
      status: -1,
      error_code: 'CPS.0011',
      error_msg: 'changed "alone"',
      execute_msg: 'changed\nalone',
    } as const;
    expect(Object.keys(changes).sort()).toEqual([...JOB_ITEM_COLUMNS].sort());
    for (const [column, value] of Object.entries(changes)) {
      const before = (await bothWays([requestId])).read;
      await store.h.db.updateTable('jobs').set({ [column]: value }).where('request_id', '=', requestId).execute();
      const { read } = await expectSameBothWays([requestId]);
      expect(read, column).not.toEqual(before);
    }
    // An encode-server job becomes a phone job again, then a server job: server_id leads.
    await store.h.db.updateTable('jobs').set({ encode_server_id: null }).where('request_id', '=', requestId).execute();
    expect(Object.keys(JSON.parse((await expectSameBothWays([requestId])).read[0]!))[0]).toBe('phone_id');
    await store.h.db.updateTable('jobs').set({ phone_id: null }).where('request_id', '=', requestId).execute();
    const { read } = await expectSameBothWays([requestId]);
    expect(Object.keys(JSON.parse(read[0]!))[0]).toBe('server_id');
  });

  test('migrating writes the item of every job already stored, and keeps the ones written after', async () => {
    const [p0, p1] = store.fleet.phones;
    const old = await submit([{ phoneId: p0!.phone_id, serverId: p0!.server_id }, { phoneId: null, serverId: p1!.server_id, failed: { code: 'CPS.0097', message: 'gone' } }]);
    // As a store left by an earlier release: other triggers (or none), items in another shape.
    await dropJobItemTriggers(store.h.db);
    await sql`update jobs set list_json = ${'{"phone_id":"stale"}'}`.execute(store.h.db);
    const unkept = await submit([{ phoneId: p1!.phone_id, serverId: p1!.server_id }]);
    expect((await bothWays([old, unkept])).read).toEqual(['{"phone_id":"stale"}', '{"phone_id":"stale"}', null]);
    await m007.up(store.h.db);
    await expectSameBothWays([old, unkept]);
    const after = await submit([{ phoneId: p0!.phone_id, serverId: p0!.server_id }]);
    await expectSameBothWays([after]);
  });

  test('migration 012 back-fills encode servers and keeps the items of phone and server jobs byte for byte', async () => {
    const [p0, p1] = store.fleet.phones;
    const a = await submit([{ phoneId: p0!.phone_id, serverId: p0!.server_id }, { phoneId: null, serverId: p1!.server_id, failed: { code: 'CPS.0097', message: 'gone' } }]);
    const read = () => listJobItems({ db: store.h.db, sqlite: store.h.sqlite }, PROJECT, [a], 0, 100);
    const latest = await read();
    // As a store before 012: no encode servers, no encode_server_id, 007's items (and so none of
    // 019's event triggers, which read encode_server_id).
    await m019.down(store.h.db);
    await m012.down(store.h.db);
    expect(await read()).toEqual(latest);
    await m012.up(store.h.db);
    await m019.up(store.h.db);
    expect(await read()).toEqual(latest);
    const encodeServers = await store.h.db.selectFrom('encode_servers').selectAll().orderBy('create_time').execute();
    expect(encodeServers.map((e) => [e.server_id, e.project_id, e.type, e.status])).toEqual(store.fleet.servers.map((s) => [s.server_id, PROJECT, 1, 1]));
    const e = await submit([{ phoneId: null, serverId: null, encodeServerId: encodeServers[0]!.encode_server_id }]);
    await expectSameBothWays([a, e]);
    expect(Object.keys(JSON.parse((await bothWays([e])).read[0]!))[0]).toBe('encode_server_id');
  });
});
