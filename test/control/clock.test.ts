import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config.js';
import { DEFAULT_PROJECT_ID } from '../../src/runtime/node.js';
import { startChild } from '../helpers/child.js';
import { getToken, passwordAuth, sendSigned, sendWithToken, type Key } from '../helpers/http.js';
import { makeDataDir, nodesPerTest, phoneIds, removeDataDir, startTestNode, type TestNode } from '../helpers/node.js';
import { openStream } from '../helpers/sse.js';

/** The clock (/_opencph/v1/{project_id}/clock) over real HTTP: a real one, and a virtual one that moves only when told. */
const CLOCK = `/_opencph/v1/${DEFAULT_PROJECT_ID}/clock`;
const ADVANCE = `${CLOCK}/advance`;
const START = '2030-01-01T00:00:00Z';
const T0 = Date.parse(START);
const KEY: Key = { ak: DEFAULTS.defaultAk, sk: DEFAULTS.defaultSk };
const ADMIN = passwordAuth(DEFAULTS.defaultUser, DEFAULTS.defaultPassword, DEFAULTS.defaultAccount, { id: DEFAULT_PROJECT_ID });

/** A short real pause: what a test would see if time were still real (well under a second). */
const realPause = (ms: number) => new Promise((r) => setTimeout(r, ms));

const node = nodesPerTest({ servers: 1, phonesPerServer: 3, shutdownGraceMs: 0 });
const virtual = (config: Parameters<typeof node>[0] = {}) => node({ clock: 'virtual', clockStart: START, simDelayMs: 1000, ...config });

async function advance(t: TestNode, body: unknown): Promise<any> {
  const r = await t.post(ADVANCE, body);
  expect(r.status, r.text).toBe(200);
  return r.body;
}

async function job(t: TestNode, jobId: string): Promise<any> {
  const r = await t.get(`/jobs/${jobId}`);
  expect(r.status, r.text).toBe(200);
  return r.body;
}

async function submit(t: TestNode, path: string, body: unknown): Promise<string> {
  const r = await t.post(path, body);
  expect(r.status, r.text).toBe(200);
  expect(r.body.jobs[0].error_code, r.text).toBeUndefined();
  return r.body.jobs[0].job_id;
}

describe('the clock', () => {
  it('shows the real clock by default, and refuses to move it (409 CPS.0970)', async () => {
    const t = await node();
    const r = await t.get(CLOCK);
    expect(r.status, r.text).toBe(200);
    expect(r.body).toEqual({ request_id: r.headers['x-request-id'], mode: 'real', now: new Date(r.body.now_ms).toISOString(), now_ms: expect.any(Number) });
    expect(Math.abs(r.body.now_ms - Date.now())).toBeLessThan(60_000);
    const moved = await t.post(ADVANCE, { by_ms: 1000 });
    expect(moved.status).toBe(409);
    expect(moved.body).toEqual({ request_id: moved.headers['x-request-id'], error_code: 'CPS.0970', error_msg: 'The clock is real; start the server with --clock virtual.' });
  });

  it('answers 400 CPS.0034 naming the field for a body that is not exactly one of by_ms, by, to', async () => {
    const t = await virtual();
    const cases: [unknown, string][] = [
      [{}, 'body'],
      [{ by_ms: -1 }, 'by_ms'],
      [{ by_ms: 1.5 }, 'by_ms'],
      [{ by_ms: '1000' }, 'by_ms'],
      [{ by: '1x' }, 'by'],
      [{ by: '30' }, 'by'],
      [{ to: 'tomorrow' }, 'to'],
      [{ to: '2029-12-31T23:59:59Z' }, 'to'],
      [{ by_ms: 1, by: '1s' }, 'by'],
      [{ by_ms: 1, when: 'now' }, 'body'],
      [{ by: '9999999d' }, 'by'],
    ];
    for (const [body, field] of cases) {
      const r = await t.post(ADVANCE, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error_code, JSON.stringify(body)).toBe('CPS.0034');
      expect(r.body.error_msg, JSON.stringify(body)).toContain(`Parameter: ${field} is invalid.`);
    }
    // Nothing moved.
    expect((await t.get(CLOCK)).body).toMatchObject({ mode: 'virtual', now: '2030-01-01T00:00:00.000Z', now_ms: T0 });
  });

  it('moves by ms, by a duration, or to an instant (the same instant again is no move)', async () => {
    const t = await virtual();
    expect(await advance(t, { by_ms: 250 })).toMatchObject({ mode: 'virtual', now: '2030-01-01T00:00:00.250Z', now_ms: T0 + 250 });
    expect(await advance(t, { by: '1h30m' })).toMatchObject({ now: '2030-01-01T01:30:00.250Z' });
    expect(await advance(t, { by: '2d' })).toMatchObject({ now: '2030-01-03T01:30:00.250Z' });
    expect(await advance(t, { to: '2030-01-03T03:30:00.250+02:00' })).toMatchObject({ now: '2030-01-03T01:30:00.250Z' });
    expect(await advance(t, { to: '2030-02-01T00:00:00Z' })).toMatchObject({ now: '2030-02-01T00:00:00.000Z', now_ms: Date.parse('2030-02-01T00:00:00Z') });
  });

  it('a restart takes 3 s of virtual time: it stays at status 1 until the clock passes them, and begins and ends at virtual instants', async () => {
    const t = await virtual();
    const [phone] = await phoneIds(t);
    const jobId = await submit(t, '/phones/batch-restart', { phones: [{ phone_id: phone }] });
    await realPause(300);
    expect(await job(t, jobId)).toMatchObject({ status: 1 });
    expect((await t.get(`/phones/${phone}`)).body.status).toBe(4); // restarting
    await advance(t, { by_ms: 2999 });
    expect(await job(t, jobId)).toMatchObject({ status: 1 });
    expect(await advance(t, { by_ms: 1 })).toMatchObject({ now: '2030-01-01T00:00:03.000Z' });
    expect(await job(t, jobId)).toMatchObject({ status: 2, begin_time: '2030-01-01T00:00:00Z', end_time: '2030-01-01T00:00:03Z' });
    expect((await t.get(`/phones/${phone}`)).body.status).toBe(2);
  });

  it('jobs queued on one phone each start when the one before ends, at that virtual instant', async () => {
    const t = await virtual();
    const [phone] = await phoneIds(t);
    const first = await submit(t, '/phones/batch-restart', { phones: [{ phone_id: phone }] });
    const second = await submit(t, '/phones/batch-stop', { phone_ids: [phone] });
    await advance(t, { by: '1m' });
    expect(await job(t, first)).toMatchObject({ status: 2, begin_time: '2030-01-01T00:00:00Z', end_time: '2030-01-01T00:00:03Z' });
    // Accepted with the first; started when it ended, and a stop weighs 2 base delays.
    expect(await job(t, second)).toMatchObject({ status: 2, begin_time: '2030-01-01T00:00:00Z', end_time: '2030-01-01T00:00:05Z' });
  });

  it('a reset scripted to take 30 minutes finishes when the clock is moved on 30 minutes', async () => {
    // Past the default limit of a reset (600 s), which would fail it first.
    const t = await virtual({ timeLimits: { ...DEFAULTS.timeLimits, operation: 3_600_000 } });
    const [phone] = await phoneIds(t);
    const rule = await t.post(`/_opencph/v1/${DEFAULT_PROJECT_ID}/rules`, { match: { operation: 'phone.reset' }, outcome: { duration_ms: 1_800_000 } });
    expect(rule.status, rule.text).toBe(200);
    const jobId = await submit(t, '/phones/batch-reset', { phones: [{ phone_id: phone }] });
    await advance(t, { by: '29m59s' });
    expect(await job(t, jobId)).toMatchObject({ status: 1 });
    await advance(t, { by: '1s' });
    expect(await job(t, jobId)).toMatchObject({ status: 2, begin_time: '2030-01-01T00:00:00Z', end_time: '2030-01-01T00:30:00Z' });
  });

  it('a job held by a rule does not hold an advance back; released, it ends at the instant the clock stands at, and its events carry virtual times', async () => {
    const t = await virtual();
    const [held, other] = await phoneIds(t);
    const stream = await openStream(`${t.url}/_opencph/v1/${DEFAULT_PROJECT_ID}/events?types=job.started,job.finished`);
    try {
      const rule = await t.post(`/_opencph/v1/${DEFAULT_PROJECT_ID}/rules`, { match: { operation: 'phone.restart', phone_id: held, times: 1 }, outcome: { hang: true } });
      expect(rule.status, rule.text).toBe(200);
      const heldJob = await submit(t, '/phones/batch-restart', { phones: [{ phone_id: held }] });
      const otherJob = await submit(t, '/phones/batch-restart', { phones: [{ phone_id: other }] });
      // The held job waits for its release, not for time: the advance answers, the other restart ends.
      await advance(t, { by: '10s' });
      expect(await job(t, otherJob)).toMatchObject({ status: 2, end_time: '2030-01-01T00:00:03Z' });
      expect(await job(t, heldJob)).toMatchObject({ status: 1, begin_time: '2030-01-01T00:00:00Z' });
      const listed = await t.get(`/_opencph/v1/${DEFAULT_PROJECT_ID}/held-jobs`);
      expect(listed.body.jobs).toEqual([expect.objectContaining({ job_id: heldJob, since: '2030-01-01T00:00:00Z' })]);
      const released = await t.post(`/_opencph/v1/${DEFAULT_PROJECT_ID}/jobs/${heldJob}/release`, { outcome: { fail: { error_code: 'CPS.0006', error_msg: 'Phone is abnormal.' } } });
      expect(released.status, released.text).toBe(200);
      const [finished] = await stream.waitFor(1, (e) => e.event === 'job.finished' && e.data.job_id === heldJob);
      expect(finished!.data).toMatchObject({ status: -1, error_code: 'CPS.0006', time: '2030-01-01T00:00:10Z' });
      expect(await job(t, heldJob)).toMatchObject({ status: -1, end_time: '2030-01-01T00:00:10Z' });
      const started = stream.events.filter((e) => e.event === 'job.started').map((e) => e.data.time);
      expect(started).toEqual(['2030-01-01T00:00:00Z', '2030-01-01T00:00:00Z']);
    } finally {
      stream.close();
    }
  });

  it("a job's time limit is reached by moving the clock (CPS.0904)", async () => {
    const t = await virtual();
    const [a, b] = await phoneIds(t);
    const rule = await t.post(`/_opencph/v1/${DEFAULT_PROJECT_ID}/rules`, { match: { operation: 'phone.restart', phone_id: a }, outcome: { duration_ms: 3_600_000 } });
    expect(rule.status, rule.text).toBe(200);
    const limited = await submit(t, '/phones/batch-restart', { phones: [{ phone_id: a }] });
    const other = await submit(t, '/phones/batch-restart', { phones: [{ phone_id: b }] });
    await advance(t, { by: '9m59s' });
    expect(await job(t, limited)).toMatchObject({ status: 1 });
    expect(await job(t, other)).toMatchObject({ status: 2, end_time: '2030-01-01T00:00:03Z' });
    await advance(t, { by: '1s' });
    // The operation limit is 600 s; the phone is left as a restart that did not finish leaves it.
    expect(await job(t, limited)).toMatchObject({ status: -1, error_code: 'CPS.0904', begin_time: '2030-01-01T00:00:00Z', end_time: '2030-01-01T00:10:00Z' });
  });

  it('a job that outlives a day-long jump keeps its lease and finishes when its time comes', async () => {
    const day = 86_400_000;
    // A restart of 3 × 40,000 s: 33 h 20 min.
    const t = await virtual({ simDelayMs: 40_000_000, timeLimits: { ...DEFAULTS.timeLimits, operation: 3 * day } });
    const [phone] = await phoneIds(t);
    const jobId = await submit(t, '/phones/batch-restart', { phones: [{ phone_id: phone }] });
    await advance(t, { by: '1d' });
    expect(await job(t, jobId)).toMatchObject({ status: 1 });
    const row = await t.node.handle.db.selectFrom('jobs').select(['lease_expires_at', 'attempts']).where('job_id', '=', jobId).executeTakeFirstOrThrow();
    expect(Number(row.lease_expires_at)).toBeGreaterThan(T0 + day);
    expect(row.attempts).toBe(1);
    await advance(t, { by: '9h19m59s' });
    expect(await job(t, jobId)).toMatchObject({ status: 1 });
    await advance(t, { by: '1d' });
    expect(await job(t, jobId)).toMatchObject({ status: 2, begin_time: '2030-01-01T00:00:00Z', end_time: '2030-01-02T09:20:00Z' });
  });

  it('a sync command answers once the clock has passed its duration', async () => {
    const t = await virtual();
    const [phone] = await phoneIds(t);
    const call = t.post('/phones/sync-commands', { command: 'shell', content: 'sleep 1; echo done', phone_ids: [phone] });
    let answered = false;
    void call.then(() => (answered = true));
    await realPause(300);
    expect(answered).toBe(false);
    await advance(t, { by: '2s' });
    const r = await call;
    expect(r.status, r.text).toBe(200);
    expect(r.body.jobs[0]).toMatchObject({ status: 2, execute_msg: 'done\n' });
  });
});

describe('the virtual clock and credentials', () => {
  it('IAM tokens expire after 24 h of virtual time', async () => {
    const t = await virtual({ auth: 'verify' });
    const got = await getToken(t.node.port, ADMIN);
    expect(got.status, got.text).toBe(201);
    expect((await sendWithToken(t.node.port, got.token!, 'GET', CLOCK)).body).toMatchObject({ mode: 'virtual' });
    expect((await sendWithToken(t.node.port, got.token!, 'POST', ADVANCE, { by: '23h59m' })).status).toBe(200);
    expect((await sendWithToken(t.node.port, got.token!, 'GET', CLOCK)).status).toBe(200);
    expect((await sendWithToken(t.node.port, got.token!, 'POST', ADVANCE, { by: '1h1m' })).status).toBe(200);
    const expired = await sendWithToken(t.node.port, got.token!, 'GET', CLOCK);
    expect(expired.status).toBe(401);
    expect(expired.body.error_msg).toContain('token expires. expires_at: 2030-01-02T00:00:00.000000Z');
  });

  it('signatures are checked against the virtual time: 15 minutes either way', async () => {
    // Virtual time starts at the real time here: the store's first start without --clock-start.
    const t = await node({ clock: 'virtual', auth: 'verify' });
    const signed = (now?: number, body?: unknown) => sendSigned(t.node.port, KEY, body ? 'POST' : 'GET', body ? ADVANCE : CLOCK, { projectId: DEFAULT_PROJECT_ID, now, body });
    const before = await signed();
    expect(before.status, before.text).toBe(200);
    expect((await signed(undefined, { by: '20m' })).status).toBe(200);
    const real = await signed(Date.now());
    expect(real.status).toBe(401);
    expect(real.body.error_msg).toContain('Signature time');
    const virtualNow = before.body.now_ms + 20 * 60_000;
    expect((await signed(virtualNow)).status).toBe(200);
  });

  it('a locked-out user can sign in again once the lock-out has passed in virtual time', async () => {
    const t = await virtual({ auth: 'verify' });
    const wrong = passwordAuth(DEFAULTS.defaultUser, 'not-the-password', DEFAULTS.defaultAccount, { id: DEFAULT_PROJECT_ID });
    for (let i = 0; i < 5; i++) expect((await getToken(t.node.port, wrong)).status).toBe(401);
    const locked = await getToken(t.node.port, ADMIN);
    expect(locked.body.error_code).toBe('IAM.0006');
    expect(locked.body.error_msg).toContain('2030-01-01T00:05:00Z');
    expect((await sendSigned(t.node.port, KEY, 'POST', ADVANCE, { projectId: DEFAULT_PROJECT_ID, now: T0, body: { by: '4m59s' } })).status).toBe(200);
    expect((await getToken(t.node.port, ADMIN)).body.error_code).toBe('IAM.0006');
    expect((await sendSigned(t.node.port, KEY, 'POST', ADVANCE, { projectId: DEFAULT_PROJECT_ID, now: T0 + 299_000, body: { by: '2s' } })).status).toBe(200);
    expect((await getToken(t.node.port, ADMIN)).status).toBe(201);
  });
});

describe('the virtual instant is kept in the store', () => {
  const dataDir = makeDataDir();
  let t: TestNode | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });
  afterAll(() => removeDataDir(dataDir));

  it('a node started again resumes where time stood; --clock-start sets it', async () => {
    t = await startTestNode({ dataDir, clock: 'virtual', clockStart: START, servers: 1, phonesPerServer: 1 });
    await advance(t, { by: '1h' });
    await t.close();
    t = await startTestNode({ dataDir, clock: 'virtual', servers: 1, phonesPerServer: 1 });
    expect((await t.get(CLOCK)).body).toMatchObject({ mode: 'virtual', now: '2030-01-01T01:00:00.000Z' });
    await t.close();
    t = await startTestNode({ dataDir, clock: 'virtual', clockStart: '2031-06-01T12:00:00+02:00', servers: 1, phonesPerServer: 1 });
    expect((await t.get(CLOCK)).body).toMatchObject({ now: '2031-06-01T10:00:00.000Z' });
    await t.close();
    // A real clock leaves the kept instant alone.
    t = await startTestNode({ dataDir, servers: 1, phonesPerServer: 1 });
    expect((await t.get(CLOCK)).body.mode).toBe('real');
    await t.close();
    t = await startTestNode({ dataDir, clock: 'virtual', servers: 1, phonesPerServer: 1 });
    expect((await t.get(CLOCK)).body.now).toBe('2031-06-01T10:00:00.000Z');
  });
});

describe('serve --clock virtual refuses more than one node', () => {
  const refused = async (args: string[]) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'opencph-clock-'));
    try {
      const child = startChild(['--data-dir', dataDir, '--clock', 'virtual', ...args]);
      await expect(child).rejects.toThrow(/exited before listening/);
      return (await child.catch((err: Error) => err.message)) as string;
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  };

  it('with --role api, or --api-processes above 1, saying why', async () => {
    expect(await refused(['--role', 'api'])).toContain('--clock virtual needs --role all: a virtual clock lives in one process');
    expect(await refused(['--api-processes', '2'])).toContain('--clock virtual takes no --api-processes above 1');
  });

  it('a --clock-start that is not an ISO 8601 instant', async () => {
    expect(await refused(['--clock-start', 'next tuesday'])).toContain('--clock-start must be an ISO 8601 date-time');
  });
});
