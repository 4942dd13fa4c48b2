import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenCphApiError, type OpenCph, type OpenCphEvent } from '../../src/index.js';
import { phonesOf, sdkClient, startOnSuiteStore } from '../helpers/embed.js';
import { waitFor } from '../helpers/node.js';

/**
 * The handles of startOpenCph on the clock, snapshot, event and held-job routes of the test-control
 * API (README "Testing your code against OpenCPH"), end to end over HTTP.
 */

/** Restart one phone through the official SDK; its job id. */
async function restart(s: OpenCph, phoneId: string): Promise<string> {
  const batch = await sdkClient(s).restartCloudPhone({ body: { phones: [{ phone_id: phoneId }] } });
  return batch.jobs[0]!.job_id!;
}

const jobOf = async (s: OpenCph, jobId: string) => sdkClient(s).showJob({ job_id: jobId });

/** One server for the tests of a describe block: started before them, closed after. */
function serverPerBlock(): () => OpenCph {
  let s: OpenCph | undefined;
  beforeAll(async () => {
    s = await startOnSuiteStore();
  });
  afterAll(async () => {
    await s?.close();
  });
  return () => s!;
}

describe('clock handle', () => {
  let v: OpenCph;
  let real: OpenCph;
  beforeAll(async () => {
    [v, real] = await Promise.all([startOnSuiteStore({ clock: { virtual: true, start: '2030-01-01T00:00:00.000Z' } }), startOnSuiteStore()]);
  });
  afterAll(async () => {
    await Promise.all([v?.close(), real?.close()]);
  });

  it('starts a virtual clock where asked and moves it by a duration, by milliseconds and to an instant', async () => {
    expect(await v.clock.now()).toEqual({ mode: 'virtual', now: '2030-01-01T00:00:00.000Z', now_ms: Date.parse('2030-01-01T00:00:00.000Z') });
    expect(await v.clock.advance({ by: '1h30m' })).toMatchObject({ mode: 'virtual', now: '2030-01-01T01:30:00.000Z' });
    expect(await v.clock.advance({ by_ms: 250 })).toMatchObject({ now: '2030-01-01T01:30:00.250Z' });
    expect(await v.clock.advance({ to: new Date('2030-01-02T00:00:00.000Z') })).toMatchObject({ now: '2030-01-02T00:00:00.000Z' });
    expect(await v.clock.advance({ to: '2030-01-02T00:00:45.000Z' })).toMatchObject({ now: '2030-01-02T00:00:45.000Z', now_ms: Date.parse('2030-01-02T00:00:45.000Z') });
    // Time never runs backwards.
    const back = await v.clock.advance({ to: '2030-01-01T00:00:00.000Z' }).catch((e: unknown) => e);
    expect(back).toBeInstanceOf(OpenCphApiError);
    expect((back as OpenCphApiError).status).toBe(400);
    expect((await v.clock.now()).now).toBe('2030-01-02T00:00:45.000Z');
  });

  it('refuses to advance the real clock with 409 CPS.0970', async () => {
    const now = await real.clock.now();
    expect(now.mode).toBe('real');
    expect(Math.abs(now.now_ms - Date.now())).toBeLessThan(60_000);
    await expect(real.clock.advance({ by: '1m' })).rejects.toMatchObject({ name: 'OpenCphApiError', status: 409, error_code: 'CPS.0970' });
  });

  it('runs a simulated job in virtual time: it ends when the clock is moved past its duration', async () => {
    // A restart takes three base delays: 3 virtual seconds.
    const s = await startOnSuiteStore({ clock: { virtual: true }, simDelayMs: 1000 });
    try {
      const [phone] = await phonesOf(s);
      const jobId = await restart(s, phone!);
      expect((await jobOf(s, jobId)).status).toBe(1);
      await s.clock.advance({ by: '10s' });
      expect(await waitFor(async () => ((await jobOf(s, jobId)).status === 2 ? true : undefined), 2000)).toBe(true);
    } finally {
      await s.close();
    }
  });
});

describe('snapshots handle', () => {
  const server = serverPerBlock();

  it('saves, lists, restores and deletes a named snapshot', async () => {
    const s = server();
    const [phone] = await phonesOf(s);
    const saved = await s.snapshots.save('clean');
    expect(saved).toEqual({ name: 'clean', create_time: expect.any(String), rows: expect.any(Number) });
    expect(saved.rows).toBeGreaterThan(0);
    expect((await s.snapshots.list()).map((x) => x.name)).toEqual(['clean']);

    await s.faults.set({ phones: [{ phone_id: phone!, status: -7 }] });
    expect((await s.faults.list()).phones).toHaveLength(1);
    expect(await s.snapshots.restore('clean')).toMatchObject({ name: 'clean' });
    expect(await s.faults.list()).toEqual({ phones: [], servers: [] });
    expect(await phonesOf(s)).toContain(phone);

    await s.snapshots.delete('clean');
    expect(await s.snapshots.list()).toEqual([]);
    await expect(s.snapshots.restore('clean')).rejects.toMatchObject({ status: 404, error_code: 'CPS.0975' });
    await expect(s.snapshots.delete('clean')).rejects.toMatchObject({ status: 404, error_code: 'CPS.0975' });
  });

  it('resets the project to its first-start state, with the same phone ids', async () => {
    const s = server();
    const phones = await phonesOf(s);
    await s.faults.set({ phones: [{ phone_id: phones[0]!, status: 6 }] });
    await s.snapshots.reset();
    expect(await s.faults.list()).toEqual({ phones: [], servers: [] });
    expect(await phonesOf(s)).toEqual(phones);
  });
});

describe('events handle', () => {
  const server = serverPerBlock();

  it("waits on an open stream for the end of a job started after it connected", async () => {
    const s = server();
    const [phone] = await phonesOf(s);
    const stream = await s.events.open({ types: ['job.finished'] });
    try {
      const jobId = await restart(s, phone!);
      const finished = await stream.waitFor((e) => e.job_id === jobId, { timeoutMs: 10_000 });
      expect(finished).toMatchObject({ type: 'job.finished', project_id: s.projectId, job_id: jobId, phone_id: phone, operation: 'phone.restart', status: 2, time: expect.any(String) });
      expect(finished.id).toMatch(/^\d+$/);
      expect(stream.lastEventId).toBe(finished.id);
    } finally {
      stream.close();
    }
  });

  it('iterates a job from accepted to finished with for await, and leaving the loop closes the stream', async () => {
    const s = server();
    const [, phone] = await phonesOf(s);
    const stream = await s.events.open({ types: ['job.accepted', 'job.started', 'job.finished'] });
    const jobId = await restart(s, phone!);
    const seen: OpenCphEvent[] = [];
    for await (const e of stream) {
      if (e.job_id !== jobId) continue;
      seen.push(e);
      if (e.type === 'job.finished') break;
    }
    expect(seen.map((e) => e.type)).toEqual(['job.accepted', 'job.started', 'job.finished']);
    expect(seen.map((e) => Number(e.id))).toEqual([...seen.map((e) => Number(e.id))].sort((x, y) => x - y));
    // Closed: a new loop ends after what had already arrived.
    for await (const e of stream) expect(Number(e.id)).toBeGreaterThan(Number(seen.at(-1)!.id));
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });

  it('resumes after an event id, and filters by type', async () => {
    const s = server();
    const [phone] = await phonesOf(s);
    const stream = await s.events.open({ types: ['job.finished'] });
    let first: OpenCphEvent;
    try {
      const job1 = await restart(s, phone!);
      first = await stream.waitFor((e) => e.job_id === job1, { timeoutMs: 10_000 });
      const job2 = await restart(s, phone!);
      await stream.waitFor((e) => e.job_id === job2, { timeoutMs: 10_000 });
      // A stream opened now, after the fact, replays what came after `first`.
      const replayed = await s.events.waitFor((e) => e.job_id === job2, { types: ['job.finished'], lastEventId: first.id, timeoutMs: 10_000 });
      expect(replayed).toMatchObject({ type: 'job.finished', job_id: job2, status: 2 });
      expect(Number(replayed.id)).toBeGreaterThan(Number(first.id));
    } finally {
      stream.close();
    }
    const statuses = await s.events.open({ types: ['phone.status'] });
    try {
      await restart(s, phone!);
      const e = await statuses.waitFor((x) => x.phone_id === phone, { timeoutMs: 10_000 });
      expect(e).toMatchObject({ type: 'phone.status', phone_id: phone, status: expect.any(Number) });
    } finally {
      statuses.close();
    }
  });

  it('gives up waiting after timeoutMs', async () => {
    const s = server();
    await expect(s.events.waitFor(() => false, { timeoutMs: 300 })).rejects.toThrow('no matching event within 300 ms');
  });
});

describe('held jobs handle', () => {
  const server = serverPerBlock();

  it('lists a job a hang rule holds and releases it with an outcome, or as a success', async () => {
    const s = server();
    const [a, b] = await phonesOf(s);
    const rule = await s.rules.create({ match: { operation: 'phone.restart', times: 2 }, outcome: { hang: true } });
    const jobA = await restart(s, a!);
    const [held] = await waitFor(async () => {
      const jobs = await s.heldJobs.list();
      return jobs.length > 0 ? jobs : undefined;
    });
    expect(held).toMatchObject({ job_id: jobA, rule_id: rule.rule_id, operation: 'phone.restart', phone_id: a, since: expect.any(String) });
    expect((await jobOf(s, jobA)).status).toBe(1);

    await s.heldJobs.release(jobA, { fail: { error_code: 'CPS.0022', error_msg: 'Not available phone.' } });
    expect(await waitFor(async () => ((await jobOf(s, jobA)).status !== 1 ? jobOf(s, jobA) : undefined))).toMatchObject({ status: -1, error_code: 'CPS.0022', error_msg: 'Not available phone.' });
    await expect(s.heldJobs.release(jobA)).rejects.toMatchObject({ name: 'OpenCphApiError', status: 404, error_code: 'CPS.0966' });

    const jobB = await restart(s, b!);
    await waitFor(async () => ((await s.heldJobs.list()).some((j) => j.job_id === jobB) ? true : undefined));
    await s.heldJobs.release(jobB);
    expect(await waitFor(async () => ((await jobOf(s, jobB)).status !== 1 ? jobOf(s, jobB) : undefined))).toMatchObject({ status: 2 });
    expect(await s.heldJobs.list()).toEqual([]);
  });
});
