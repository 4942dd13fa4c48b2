import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config.js';
import { DEFAULT_PROJECT_ID } from '../../src/runtime/node.js';
import { sendSigned, type Key, type Reply } from '../helpers/http.js';
import { makeDataDir, removeDataDir, startTestNode, waitForRequest, type TestNode } from '../helpers/node.js';
import { lastEventSeq, purgeEvents } from '../../src/store/events.js';
import { openStream, signedHeaders, type SseEvent, type SseStream } from '../helpers/sse.js';
import { addTenant } from '../helpers/tenant.js';

/** Live events (/_opencph/v1/{project_id}/events) over real HTTP, signed as the SDK signs. */
describe('live events: a Server-Sent Events stream of job and status changes', () => {
  const dataDir = makeDataDir();
  let t: TestNode;
  const a: Key = { ak: DEFAULTS.defaultAk, sk: DEFAULTS.defaultSk };
  let b: { key: Key; projectId: string; phones: string[] };
  let phones: string[];
  const open: SseStream[] = [];

  const length = (body: unknown): Record<string, string> => (body === undefined ? {} : { 'content-length': String(Buffer.byteLength(JSON.stringify(body))) });
  const call = (key: Key, method: string, target: string, body?: unknown): Promise<Reply> =>
    sendSigned(t.node.port, key, method, target, { body, projectId: /^\/(?:_opencph\/)?v1\/([^/]+)\//.exec(target)?.[1], headers: length(body) });
  const cph = (projectId = DEFAULT_PROJECT_ID) => `/v1/${projectId}/cloud-phone`;
  const control = (projectId = DEFAULT_PROJECT_ID) => `/_opencph/v1/${projectId}`;

  async function stream(query = '', o: { key?: Key; projectId?: string; headers?: Record<string, string> } = {}): Promise<SseStream> {
    const projectId = o.projectId ?? DEFAULT_PROJECT_ID;
    const target = `${control(projectId)}/events${query}`;
    const s = await openStream(t.url + target, { ...signedHeaders(t.node.port, o.key ?? a, target, projectId), ...o.headers });
    open.push(s);
    return s;
  }
  async function restart(key: Key, phoneIds: string[], projectId = DEFAULT_PROJECT_ID): Promise<string> {
    const r = await call(key, 'POST', `${cph(projectId)}/phones/batch-restart`, { phones: phoneIds.map((phone_id) => ({ phone_id })) });
    expect(r.status, r.text).toBe(200);
    return r.body.request_id;
  }
  const ofJob = (jobId: string) => (e: SseEvent) => e.data.job_id === jobId;
  const ofPhone = (phoneId: string) => (e: SseEvent) => e.event === 'phone.status' && e.data.phone_id === phoneId;

  beforeAll(async () => {
    t = await startTestNode({ auth: 'verify', servers: 1, phonesPerServer: 3, simDelayMs: 30, dataDir });
    const { key, projectId } = await addTenant(t.node, { servers: 1, phonesPerServer: 2 });
    b = { key, projectId, phones: (await call(key, 'GET', `${cph(projectId)}/phones`)).body.phones.map((p: any) => p.phone_id) };
    phones = (await call(a, 'GET', `${cph()}/phones`)).body.phones.map((p: any) => p.phone_id);
  });
  afterAll(async () => {
    for (const s of open) s.close();
    await t.close();
    await removeDataDir(dataDir);
  });

  it('streams accepted → started → finished for each job of a batch restart, and the phones going 2 → 4 (restarting) → 2', async () => {
    const s = await stream();
    expect(s.status).toBe(200);
    expect(s.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(s.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    const requestId = await restart(a, phones.slice(0, 2));
    const jobs = await waitForRequest({ get: (p) => call(a, 'GET', `${cph()}${p}`) }, requestId);
    for (const job of jobs) {
      const events = await s.waitFor(3, ofJob(job.job_id));
      expect(events.map((e) => e.event)).toEqual(['job.accepted', 'job.started', 'job.finished']);
      expect(events[2]!.data).toMatchObject({ type: 'job.finished', project_id: DEFAULT_PROJECT_ID, request_id: requestId, job_id: job.job_id, phone_id: job.phone_id, status: 2 });
      expect(events[2]!.data.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(events[2]!.data).not.toHaveProperty('error_code');
      const changes = await s.waitFor(2, ofPhone(job.phone_id));
      expect(changes.map((e) => [e.data.previous_status, e.data.status])).toEqual([
        [2, 4],
        [4, 2],
      ]);
      // The phone restarts after its job started; it is back in the transaction that finishes the job.
      const order = (e: SseEvent) => s.events.indexOf(e);
      expect(order(changes[0]!)).toBeGreaterThan(order(events[1]!));
      expect(order(changes[1]!)).toBeGreaterThan(order(changes[0]!));
    }
    // Ids are the stream's order.
    const ids = s.events.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('carries the error code of a failing job (a scripted outcome) and of an item refused at submission', async () => {
    const rule = await call(a, 'POST', `${control()}/rules`, { match: { operation: 'phone.restart', phone_id: phones[2], times: 1 }, outcome: { fail: { error_code: 'CPS.0022', error_msg: 'The phone is unavailable.' } } });
    expect(rule.status, rule.text).toBe(200);
    const s = await stream('?types=job.accepted,job.finished');
    const r = await call(a, 'POST', `${cph()}/phones/batch-restart`, { phones: [{ phone_id: phones[2] }, { phone_id: 'ffffffffffffffffffffffffffffffff' }] });
    const requestId = r.body.request_id;
    const answered = r.body.jobs[1].error_code;
    expect(answered).toMatch(/^CPS\.\d{4}$/);
    const [failed] = await s.waitFor(1, (e) => e.event === 'job.finished' && e.data.phone_id === phones[2]);
    expect(failed!.data).toMatchObject({ request_id: requestId, status: -1, error_code: 'CPS.0022', error_msg: 'The phone is unavailable.' });
    const refused = await s.waitFor(2, (e) => e.data.phone_id === 'ffffffffffffffffffffffffffffffff');
    expect(refused.map((e) => [e.event, e.data.status, e.data.error_code])).toEqual([
      ['job.accepted', -1, answered],
      ['job.finished', -1, answered],
    ]);
  });

  it('answers HEAD with the head of a stream and ends it (no stream is held open)', async () => {
    const target = `${control()}/events`;
    const r = await call(a, 'HEAD', target);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(r.text).toBe('');
  });

  it('resumes after Last-Event-ID (header or query) with exactly the missed events, then goes on live', async () => {
    const first = await stream();
    const r1 = await restart(a, [phones[0]!]);
    const seen = await first.waitFor(1, (e) => e.event === 'job.finished' && e.data.request_id === r1);
    const lastSeen = seen[0]!.id;
    first.close();
    // Missed while away.
    const r2 = await restart(a, [phones[1]!]);
    await waitForRequest({ get: (p) => call(a, 'GET', `${cph()}${p}`) }, r2);
    const watcher = await stream('?last_event_id=0');
    await watcher.waitFor(1, (e) => e.event === 'job.finished' && e.data.request_id === r2);
    const missed = watcher.events.filter((e) => Number(e.id) > Number(lastSeen));
    watcher.close();

    for (const resumed of [await stream('', { headers: { 'Last-Event-ID': lastSeen } }), await stream(`?last_event_id=${lastSeen}`)]) {
      await resumed.waitFor(missed.length);
      // The first are exactly the missed ones (the second resumption also sees the first's live restart).
      expect(resumed.events.slice(0, missed.length).map((e) => e.id)).toEqual(missed.map((e) => e.id));
      expect(resumed.events.slice(0, missed.length).map((e) => e.data)).toEqual(missed.map((e) => e.data));
      // Then live.
      const r3 = await restart(a, [phones[0]!]);
      await resumed.waitFor(1, (e) => e.event === 'job.finished' && e.data.request_id === r3);
      const ids = resumed.events.map((e) => e.id);
      expect(new Set(ids).size).toBe(ids.length);
      resumed.close();
    }
  });

  it('filters by type', async () => {
    const s = await stream('?types=job.finished,phone.status');
    const requestId = await restart(a, [phones[0]!]);
    await s.waitFor(1, (e) => e.event === 'job.finished' && e.data.request_id === requestId);
    await s.waitFor(2, ofPhone(phones[0]!));
    expect(new Set(s.events.map((e) => e.event))).toEqual(new Set(['job.finished', 'phone.status']));
    expect(s.events.every((e) => e.event === e.data.type)).toBe(true);
  });

  it('refuses unknown types and a malformed Last-Event-ID with CPS.0034', async () => {
    const bad = await stream('?types=job.finished,job.exploded');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text)).toMatchObject({ error_code: 'CPS.0034' });
    const badId = await stream('', { headers: { 'Last-Event-ID': 'abc' } });
    expect(badId.status).toBe(400);
    expect(JSON.parse(badId.text)).toMatchObject({ error_code: 'CPS.0034' });
  });

  it("reports a fault's status change as phone.status", async () => {
    const s = await stream('?types=phone.status');
    const set = await call(a, 'POST', `${control()}/faults`, { phones: [{ phone_id: phones[1], status: -7 }] });
    expect(set.status, set.text).toBe(200);
    const [abnormal] = await s.waitFor(1, ofPhone(phones[1]!));
    expect(abnormal!.data).toMatchObject({ type: 'phone.status', project_id: DEFAULT_PROJECT_ID, phone_id: phones[1], status: -7, previous_status: 2 });
    expect(abnormal!.data.server_id).toMatch(/^[0-9a-f]{32}$/);
    await call(a, 'POST', `${control()}/faults`, { phones: [{ phone_id: phones[1], status: 2 }] });
    const back = await s.waitFor(2, ofPhone(phones[1]!));
    expect(back[1]!.data).toMatchObject({ status: 2, previous_status: -7 });
  });

  it("never carries another project's events, and refuses another project's stream", async () => {
    const sa = await stream('?last_event_id=0');
    const sb = await stream('?last_event_id=0', { key: b.key, projectId: b.projectId });
    expect(sb.status).toBe(200);
    const rb = await restart(b.key, [b.phones[0]!], b.projectId);
    const ra = await restart(a, [phones[0]!]);
    await sb.waitFor(1, (e) => e.event === 'job.finished' && e.data.request_id === rb);
    await sa.waitFor(1, (e) => e.event === 'job.finished' && e.data.request_id === ra);
    expect(sb.events.every((e) => e.data.project_id === b.projectId)).toBe(true);
    expect(sa.events.every((e) => e.data.project_id === DEFAULT_PROJECT_ID)).toBe(true);
    // B's key on A's project: refused before any stream opens.
    const target = `${control()}/events`;
    const refused = await openStream(t.url + target, signedHeaders(t.node.port, b.key, target, DEFAULT_PROJECT_ID));
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.events).toEqual([]);
    refused.close();
  });
});

describe('live events: shutdown', () => {
  it('a node closes with open streams: they end, nothing hangs', async () => {
    const t = await startTestNode({ servers: 1, phonesPerServer: 1 });
    const target = `/_opencph/v1/${DEFAULT_PROJECT_ID}/events`;
    const streams = await Promise.all([openStream(t.url + target), openStream(t.url + target + '?last_event_id=0')]);
    expect(streams.map((s) => s.status)).toEqual([200, 200]);
    await t.close();
    await Promise.all(streams.map((s) => s.ended));
    expect(t.node.engine.events.size).toBe(0);
  });

  it('purging old events keeps the newest, so an id is never given twice', async () => {
    const t = await startTestNode({ servers: 1, phonesPerServer: 1 });
    try {
      const db = t.node.handle.db;
      const phone = (await t.get('/phones')).body.phones[0].phone_id;
      const first = await t.post('/phones/batch-restart', { phones: [{ phone_id: phone }] });
      await waitForRequest(t, first.body.request_id);
      const newest = await lastEventSeq(db);
      const kept = (await db.selectFrom('events').select('seq').execute()).length;
      expect(kept).toBeGreaterThanOrEqual(3);
      // Everything is older than an hour from now; the newest stays all the same.
      expect(await purgeEvents(db, Date.now() + 3_600_000)).toBe(kept - 1);
      const target = `/_opencph/v1/${DEFAULT_PROJECT_ID}/events`;
      const s = await openStream(t.url + target + '?last_event_id=0');
      try {
        await s.waitFor(1);
        const second = await t.post('/phones/batch-restart', { phones: [{ phone_id: phone }] });
        await s.waitFor(1, (e) => e.event === 'job.finished' && e.data.request_id === second.body.request_id);
        expect(Number(s.events[0]!.id)).toBe(newest);
        expect(s.events.slice(1).every((e) => Number(e.id) > newest)).toBe(true);
      } finally {
        s.close();
      }
    } finally {
      await t.close();
    }
  });

  it('a client that hangs up is forgotten', async () => {
    const t = await startTestNode({ servers: 1, phonesPerServer: 1 });
    try {
      const target = `/_opencph/v1/${DEFAULT_PROJECT_ID}/events`;
      const s = await openStream(t.url + target);
      // The webhook deliverer listens too.
      const before = t.node.engine.events.size;
      s.close();
      const deadline = Date.now() + 5_000;
      while (t.node.engine.events.size !== before - 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(t.node.engine.events.size).toBe(before - 1);
    } finally {
      await t.close();
    }
  });
});
