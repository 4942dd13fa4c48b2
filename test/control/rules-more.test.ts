import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config.js';
import { DEFAULT_TIME_LIMITS } from '../../src/domain/limits.js';
import { ruleDraw } from '../../src/engine/rules.js';
import { DEFAULT_PROJECT_ID } from '../../src/runtime/node.js';
import { sendSigned, type Key, type Reply } from '../helpers/http.js';
import { makeDataDir, removeDataDir, startTestNode, waitFor, type TestNode } from '../helpers/node.js';
import { addTenant } from '../helpers/tenant.js';

/**
 * Scripted outcomes beyond the basics, over real HTTP: the nth job and a seeded probability, jobs
 * held until released (GET /held-jobs, POST /jobs/{job_id}/release), and refusal at submission.
 */
describe('scripted outcomes: nth, probability, hang and release, refuse', () => {
  let t: TestNode;
  const a: Key = { ak: DEFAULTS.defaultAk, sk: DEFAULTS.defaultSk };
  let b: { key: Key; projectId: string; phones: string[] };
  let phones: string[];
  let servers: string[];
  const serverOf = new Map<string, string>();

  const length = (body: unknown): Record<string, string> => (body === undefined ? {} : { 'content-length': String(Buffer.byteLength(JSON.stringify(body))) });
  const call = (key: Key, method: string, target: string, body?: unknown): Promise<Reply> =>
    sendSigned(t.node.port, key, method, target, { body, projectId: /^\/(?:_opencph\/)?v1\/([^/]+)\//.exec(target)?.[1], headers: length(body) });
  const ctl = (projectId = DEFAULT_PROJECT_ID) => `/_opencph/v1/${projectId}`;
  const cph = (projectId = DEFAULT_PROJECT_ID) => `/v1/${projectId}/cloud-phone`;

  async function rule(body: unknown): Promise<any> {
    const r = await call(a, 'POST', `${ctl()}/rules`, body);
    expect(r.status, r.text).toBe(200);
    return r.body.rule;
  }
  async function listRule(ruleId: string): Promise<any> {
    return (await call(a, 'GET', `${ctl()}/rules`)).body.rules.find((r: any) => r.rule_id === ruleId);
  }
  async function jobsOf(requestId: string, key = a, projectId = DEFAULT_PROJECT_ID): Promise<any[]> {
    return waitFor(async () => {
      const r = await call(key, 'GET', `${cph(projectId)}/jobs?request_id=${requestId}`);
      return r.body.jobs.every((j: { status: number }) => j.status !== 1) ? r.body.jobs : undefined;
    });
  }
  async function submitRestart(phoneId: string): Promise<string> {
    const r = await call(a, 'POST', `${cph()}/phones/batch-restart`, { phones: [{ phone_id: phoneId }] });
    expect(r.status, r.text).toBe(200);
    return r.body.request_id;
  }
  async function restart(phoneId: string): Promise<any> {
    return (await jobsOf(await submitRestart(phoneId)))[0];
  }
  async function heldJobs(key = a, projectId = DEFAULT_PROJECT_ID): Promise<any[]> {
    const r = await call(key, 'GET', `${ctl(projectId)}/held-jobs`);
    expect(r.status, r.text).toBe(200);
    return r.body.jobs;
  }
  /** Submit a restart a hang rule holds; the job once it is listed as held. */
  async function heldRestart(phoneId: string): Promise<{ requestId: string; jobId: string }> {
    const requestId = await submitRestart(phoneId);
    const jobId = (await call(a, 'GET', `${cph()}/jobs?request_id=${requestId}`)).body.jobs[0].job_id;
    await waitFor(async () => ((await heldJobs()).some((j) => j.job_id === jobId) ? true : undefined));
    return { requestId, jobId };
  }
  const release = (jobId: string, body?: unknown, key = a, projectId = DEFAULT_PROJECT_ID) => call(key, 'POST', `${ctl(projectId)}/jobs/${jobId}/release`, body);

  beforeAll(async () => {
    // A short shell time limit, for a held shell job that runs out of time.
    t = await startTestNode({ auth: 'verify', servers: 2, phonesPerServer: 3, timeLimits: { ...DEFAULT_TIME_LIMITS, shell: 800 } });
    const { key, projectId } = await addTenant(t.node, { servers: 1, phonesPerServer: 2 });
    b = { key, projectId, phones: (await call(key, 'GET', `${cph(projectId)}/phones`)).body.phones.map((p: any) => p.phone_id) };
    const listed = (await call(a, 'GET', `${cph()}/phones`)).body.phones;
    phones = listed.map((p: any) => p.phone_id);
    servers = [...new Set<string>(listed.map((p: any) => p.server_id))];
    for (const p of listed) serverOf.set(p.phone_id, p.server_id);
    expect(phones).toHaveLength(6);
    expect(servers).toHaveLength(2);
  });
  afterAll(async () => {
    await t.close();
  });

  it('nth: 3 lets two restarts run and fails exactly the third', async () => {
    await call(a, 'DELETE', `${ctl()}/rules`);
    const r = await rule({ match: { operation: 'phone.restart', phone_id: phones[0], nth: 3 }, outcome: { fail: { error_code: 'CPS.0022', error_msg: 'Not available phone.' } } });
    expect(r).toMatchObject({ remaining: 1, matched: 0, seen: 0 });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await restart(phones[0]!)).status);
    expect(statuses).toEqual([2, 2, -1, 2]);
    // Spent after the third: the fourth is not counted.
    expect(await listRule(r.rule_id)).toMatchObject({ remaining: 0, matched: 1, seen: 3 });
  });

  it('nth with times: the nth and the next times-1 are decided', async () => {
    await call(a, 'DELETE', `${ctl()}/rules`);
    const r = await rule({ match: { operation: 'phone.restart', phone_id: phones[0], nth: 2, times: 2 }, outcome: { fail: { error_code: 'CPS.0022' } } });
    const results: any[] = [];
    for (let i = 0; i < 5; i++) results.push(await restart(phones[0]!));
    expect(results.map((j) => j.status)).toEqual([2, -1, -1, 2, 2]);
    expect(results[1]).toMatchObject({ error_code: 'CPS.0022' });
    expect(await listRule(r.rule_id)).toMatchObject({ remaining: 0, matched: 2, seen: 3 });
  });

  it('probability 0.5 with seed 7 decides the same jobs of 20 on every run', async () => {
    async function run(): Promise<{ decided: number[]; rule: any }> {
      await call(a, 'DELETE', `${ctl()}/rules`);
      const r = await rule({ match: { operation: 'phone.restart', phone_id: phones[1], probability: 0.5, seed: 7 }, outcome: { fail: { error_code: 'CPS.0022' } } });
      // Jobs of one phone run in submission order.
      const requestIds: string[] = [];
      for (let i = 0; i < 20; i++) requestIds.push(await submitRestart(phones[1]!));
      const decided: number[] = [];
      for (const [i, id] of requestIds.entries()) if ((await jobsOf(id))[0].status === -1) decided.push(i + 1);
      return { decided, rule: await listRule(r.rule_id) };
    }
    const first = await run();
    const second = await run();
    expect(second.decided).toEqual(first.decided);
    expect(first.decided.length).toBeGreaterThan(0);
    expect(first.decided.length).toBeLessThan(20);
    // The kth job's draw depends on (seed, k) alone.
    expect(first.decided).toEqual([...Array(20).keys()].map((i) => i + 1).filter((k) => ruleDraw(7, k) < 0.5));
    expect(first.rule).toMatchObject({ match: { probability: 0.5, seed: 7 }, remaining: null, seen: 20, matched: first.decided.length });
  });

  it('hang: a restart stays at status 1, listed as held, until released with a failure', async () => {
    await call(a, 'DELETE', `${ctl()}/rules`);
    const r = await rule({ match: { operation: 'phone.restart', phone_id: phones[2], times: 1 }, outcome: { hang: true } });
    const { requestId, jobId } = await heldRestart(phones[2]!);
    expect(await heldJobs()).toEqual([{ job_id: jobId, rule_id: r.rule_id, operation: 'phone.restart', phone_id: phones[2], server_id: expect.any(String), since: expect.stringMatching(/Z$/) }]);
    expect((await call(a, 'GET', `${cph()}/jobs/${jobId}`)).body).toMatchObject({ status: 1 });
    // A release's outcome is checked as a rule's.
    const bad = await release(jobId, { outcome: { output: 'x' } });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error_code: 'CPS.0034', error_msg: 'Parameter: outcome.output is invalid.' });
    const badField = await release(jobId, { outcome: { duration_ms: 10 } });
    expect(badField.body).toMatchObject({ error_code: 'CPS.0034', error_msg: 'Parameter: outcome.duration_ms is invalid.' });

    const ok = await release(jobId, { outcome: { fail: { error_code: 'CPS.0022', error_msg: 'Not available phone.' } } });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body).toEqual({ request_id: expect.any(String) });
    expect((await jobsOf(requestId))[0]).toMatchObject({ status: -1, error_code: 'CPS.0022', error_msg: 'Not available phone.' });
    expect(await heldJobs()).toEqual([]);
    // Released once: a second release finds nothing held.
    expect((await release(jobId)).status).toBe(404);
  });

  it('hang: a release with nothing ends the job in success; an unknown job answers 404 CPS.0966', async () => {
    await call(a, 'DELETE', `${ctl()}/rules`);
    await rule({ match: { operation: 'phone.restart', phone_id: phones[2], times: 1 }, outcome: { hang: true } });
    const { requestId, jobId } = await heldRestart(phones[2]!);
    const ok = await release(jobId);
    expect(ok.status, ok.text).toBe(200);
    expect((await jobsOf(requestId))[0]).toMatchObject({ status: 2, error_code: '' });
    const missing = await release('0123456789abcdef0123456789abcdef', {});
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ request_id: expect.any(String), error_code: 'CPS.0966', error_msg: 'The job is not held by a rule.' });
  });

  it("hang: another project neither sees nor releases the project's held job", async () => {
    await call(a, 'DELETE', `${ctl()}/rules`);
    await rule({ match: { operation: 'phone.restart', phone_id: phones[3], times: 1 }, outcome: { hang: true } });
    const { requestId, jobId } = await heldRestart(phones[3]!);
    expect(await heldJobs(b.key, b.projectId)).toEqual([]);
    const theirs = await release(jobId, { outcome: { fail: { error_code: 'CPS.0022' } } }, b.key, b.projectId);
    expect(theirs.status).toBe(404);
    expect(theirs.body).toMatchObject({ error_code: 'CPS.0966' });
    // B's key on A's path is refused.
    expect((await call(b.key, 'GET', `${ctl()}/held-jobs`)).status).toBe(403);
    expect((await release(jobId, {}, b.key)).status).toBe(403);
    expect((await heldJobs()).map((j) => j.job_id)).toEqual([jobId]);
    expect((await release(jobId, {})).status).toBe(200);
    expect((await jobsOf(requestId))[0]).toMatchObject({ status: 2 });
  });

  it('hang: a held job still meets its time limit (CPS.0904) and is no longer held', async () => {
    await call(a, 'DELETE', `${ctl()}/rules`);
    await rule({ match: { operation: 'phone.shell', phone_id: phones[4] }, outcome: { hang: true } });
    const r = await call(a, 'POST', `${cph()}/phones/commands`, { command: 'shell', content: 'ls', phone_ids: [phones[4]] });
    expect(r.status, r.text).toBe(200);
    const jobId = r.body.jobs[0].job_id;
    await waitFor(async () => ((await heldJobs()).some((j) => j.job_id === jobId) ? true : undefined));
    expect((await jobsOf(r.body.request_id))[0]).toMatchObject({ status: -1, error_code: 'CPS.0904' });
    expect(await heldJobs()).toEqual([]);
    expect((await release(jobId)).status).toBe(404);
  });

  it('hang: a held shell command is released with an output and an exit status', async () => {
    await call(a, 'DELETE', `${ctl()}/rules`);
    await rule({ match: { operation: 'phone.shell', phone_id: phones[5], times: 1 }, outcome: { hang: true } });
    const r = await call(a, 'POST', `${cph()}/phones/commands`, { command: 'shell', content: 'ls', phone_ids: [phones[5]] });
    const jobId = r.body.jobs[0].job_id;
    await waitFor(async () => ((await heldJobs()).some((j) => j.job_id === jobId) ? true : undefined));
    expect((await release(jobId, { outcome: { output: 'released\n', exit_status: 4 } })).status).toBe(200);
    expect((await jobsOf(r.body.request_id))[0]).toMatchObject({ status: -1, error_code: 'CPS.0902', execute_msg: 'released\n' });
  });

  it('refuse: one phone of a batch restart answers with the code and its job is failed at once; the others run', async () => {
    await call(a, 'DELETE', `${ctl()}/rules`);
    const r0 = await rule({ match: { operation: 'phone.restart', phone_id: phones[1] }, outcome: { refuse: { error_code: 'CPS.0022', error_msg: 'Not available phone.' } } });
    const r = await call(a, 'POST', `${cph()}/phones/batch-restart`, { phones: phones.slice(0, 3).map((phone_id) => ({ phone_id })) });
    expect(r.status, r.text).toBe(200);
    expect(r.body.jobs).toEqual([
      { phone_id: phones[0], job_id: expect.any(String) },
      { phone_id: phones[1], job_id: expect.any(String), error_code: 'CPS.0022', error_msg: 'Not available phone.' },
      { phone_id: phones[2], job_id: expect.any(String) },
    ]);
    const refused = (await call(a, 'GET', `${cph()}/jobs/${r.body.jobs[1].job_id}`)).body;
    expect(refused).toMatchObject({ status: -1, error_code: 'CPS.0022', error_msg: 'Not available phone.' });
    expect(refused.begin_time).toBe(refused.end_time);
    expect((await jobsOf(r.body.request_id)).map((j) => [j.phone_id, j.status])).toEqual([
      [phones[0], 2],
      [phones[1], -1],
      [phones[2], 2],
    ]);
    expect(await listRule(r0.rule_id)).toMatchObject({ remaining: null, matched: 1, seen: 1 });
  });

  it('refuse: a command batch by server_ids answers the matched server’s phones with the code', async () => {
    await call(a, 'DELETE', `${ctl()}/rules`);
    await rule({ match: { operation: 'phone.shell', server_id: servers[0] }, outcome: { refuse: { error_code: 'CPS.0038' } } });
    const r = await call(a, 'POST', `${cph()}/phones/commands`, { command: 'shell', content: 'echo hi', server_ids: servers });
    expect(r.status, r.text).toBe(200);
    expect(r.body.jobs).toHaveLength(6);
    for (const j of r.body.jobs) {
      if (serverOf.get(j.phone_id) === servers[0]) expect(j).toMatchObject({ error_code: 'CPS.0038', error_msg: 'The item was refused as a rule of the test-control extension said.' });
      else expect(j.error_code).toBeUndefined();
    }
    const jobs = await jobsOf(r.body.request_id);
    expect(jobs.filter((j) => j.status === -1)).toHaveLength(3);
    expect(jobs.filter((j) => j.status === 2)).toHaveLength(3);
  });

  it('refuse with times: 1 refuses one server restart, then restarts are accepted; refuse with nth counts submissions', async () => {
    await call(a, 'DELETE', `${ctl()}/rules`);
    await rule({ match: { operation: 'server.restart', times: 1 }, outcome: { refuse: { error_code: 'CPS.0038', error_msg: 'The server is not running.' } } });
    const first = await call(a, 'POST', `${cph()}/servers/batch-restart`, { server_ids: [servers[1]] });
    expect(first.body.jobs).toEqual([{ server_id: servers[1], job_id: expect.any(String), error_code: 'CPS.0038', error_msg: 'The server is not running.' }]);
    expect((await jobsOf(first.body.request_id))[0]).toMatchObject({ status: -1, error_code: 'CPS.0038' });
    const second = await call(a, 'POST', `${cph()}/servers/batch-restart`, { server_ids: [servers[1]] });
    expect(second.body.jobs[0].error_code).toBeUndefined();
    expect((await jobsOf(second.body.request_id))[0]).toMatchObject({ status: 2 });

    await call(a, 'DELETE', `${ctl()}/rules`);
    await rule({ match: { operation: 'phone.stop', nth: 2 }, outcome: { refuse: { error_code: 'CPS.0022' } } });
    const stop = await call(a, 'POST', `${cph()}/phones/batch-stop`, { phone_ids: phones.slice(3, 6) });
    expect(stop.body.jobs.map((j: any) => j.error_code)).toEqual([undefined, 'CPS.0022', undefined]);
  });

  it('answers bad rules with 400 naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ match: { operation: 'phone.restart', nth: 0 } }, 'match.nth'],
      [{ match: { operation: 'phone.restart', nth: 1.5 } }, 'match.nth'],
      [{ match: { operation: 'phone.restart', probability: 0 } }, 'match.probability'],
      [{ match: { operation: 'phone.restart', probability: 1.5 } }, 'match.probability'],
      [{ match: { operation: 'phone.restart', seed: 3 } }, 'match.seed'],
      [{ match: { operation: 'phone.restart', probability: 0.5, seed: 0.5 } }, 'match.seed'],
      [{ match: { operation: 'phone.restart' }, outcome: { hang: false } }, 'outcome.hang'],
      [{ match: { operation: 'phone.restart' }, outcome: { hang: true, duration_ms: 100 } }, 'outcome.hang'],
      [{ match: { operation: 'phone.restart' }, outcome: { hang: true, fail: { error_code: 'CPS.0022' } } }, 'outcome.hang'],
      [{ match: { operation: 'phone.restart' }, outcome: { refuse: {} } }, 'outcome.refuse.error_code'],
      [{ match: { operation: 'phone.restart' }, outcome: { refuse: { error_code: 'CPS.0022', error_msg: '' } } }, 'outcome.refuse.error_msg'],
      [{ match: { operation: 'phone.restart' }, outcome: { refuse: { error_code: 'CPS.0022' }, phone_status: -7 } }, 'outcome.refuse'],
      [{ match: { operation: 'phone.restart' }, outcome: { refuse: { error_code: 'CPS.0022', extra: 1 } } }, 'outcome.refuse'],
    ];
    for (const [body, field] of cases) {
      const r = await call(a, 'POST', `${ctl()}/rules`, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body).toEqual({ request_id: expect.any(String), error_code: 'CPS.0034', error_msg: `Parameter: ${field} is invalid.` });
    }
    // A probability without a seed draws from seed 0.
    await call(a, 'DELETE', `${ctl()}/rules`);
    expect(await rule({ match: { operation: 'phone.restart', probability: 0.25 } })).toMatchObject({ match: { probability: 0.25, seed: 0 }, remaining: null });
  });
});

describe('a held job when its node shuts down', () => {
  const dataDir = makeDataDir();
  afterAll(() => removeDataDir(dataDir));

  it('is handed back, and runs normally on the next start once its times: 1 rule is spent', async () => {
    let t = await startTestNode({ dataDir, servers: 1, phonesPerServer: 1 });
    const phone = (await t.get('/phones')).body.phones[0].phone_id;
    const ctl = `/_opencph/v1/${DEFAULT_PROJECT_ID}`;
    expect((await t.post(`${ctl}/rules`, { match: { operation: 'phone.restart', times: 1 }, outcome: { hang: true } })).status).toBe(200);
    const r = await t.post('/phones/batch-restart', { phones: [{ phone_id: phone }] });
    const jobId = r.body.jobs[0].job_id;
    await waitFor(async () => ((await t.get(`${ctl}/held-jobs`)).body.jobs.length === 1 ? true : undefined));
    await t.close();
    t = await startTestNode({ dataDir });
    try {
      await waitFor(async () => ((await t.get(`/jobs/${jobId}`)).body.status === 2 ? true : undefined));
      expect((await t.get(`${ctl}/held-jobs`)).body.jobs).toEqual([]);
      expect((await t.get(`${ctl}/rules`)).body.rules[0]).toMatchObject({ remaining: 0, matched: 1 });
    } finally {
      await t.close();
    }
  });
});
