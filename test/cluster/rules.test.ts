import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDataDir, PROJECT, removeDataDir, startTestNode, waitFor, waitForRequest, type TestNode } from '../helpers/node.js';

/**
 * Scripted outcomes on several nodes of one PostgreSQL: a rule written through one node acts on
 * another's next batch; held jobs (outcome.hang) are listed and released from a node that does not
 * hold them, and handed back when the holding node shuts down.
 */
describe('held jobs across nodes on one PostgreSQL', () => {
  const dataDir = makeDataDir();
  let holder: TestNode;
  let api: TestNode;
  let phones: string[];
  const ctl = (t: TestNode) => `${t.url}/_opencph/v1/${PROJECT}`;

  beforeAll(async () => {
    // The holder polls rarely: a release from the other node reaches it by a PostgreSQL notification.
    holder = await startTestNode({ dataDir, servers: 1, phonesPerServer: 3, pollMs: 30_000 });
    api = await startTestNode({ dataDir, role: 'api' });
    phones = (await api.get('/phones')).body.phones.map((p: any) => p.phone_id);
  });
  afterAll(async () => {
    await api.close();
    await holder.close();
    await removeDataDir(dataDir);
  });

  async function holdRestart(phoneId: string): Promise<{ requestId: string; jobId: string }> {
    const r = await holder.post('/phones/batch-restart', { phones: [{ phone_id: phoneId }] });
    expect(r.status, r.text).toBe(200);
    const jobId = r.body.jobs[0].job_id;
    // Listed on the node that does not hold it.
    await waitFor(async () => ((await api.get(`${ctl(api)}/held-jobs`)).body.jobs.some((j: any) => j.job_id === jobId) ? true : undefined));
    return { requestId: r.body.request_id, jobId };
  }

  it('a job held on one node is released from another with an outcome', async () => {
    const rule = await api.post(`${ctl(api)}/rules`, { match: { operation: 'phone.restart', phone_id: phones[0], times: 1 }, outcome: { hang: true } });
    expect(rule.status, rule.text).toBe(200);
    const { requestId, jobId } = await holdRestart(phones[0]!);
    expect((await holder.get(`/jobs/${jobId}`)).body.status).toBe(1);
    const released = await api.post(`${ctl(api)}/jobs/${jobId}/release`, { outcome: { fail: { error_code: 'CPS.0022', error_msg: 'Not available phone.' } } });
    expect(released.status, released.text).toBe(200);
    const [job] = await waitForRequest(api, requestId);
    expect(job).toMatchObject({ status: -1, error_code: 'CPS.0022', error_msg: 'Not available phone.' });
    expect((await holder.get(`${ctl(holder)}/held-jobs`)).body.jobs).toEqual([]);
  });

  // Nothing caches rules: a node learns of them in the statements its submissions and claims run.
  it('a rule added or deleted through one node applies to the next batch submitted or claimed on another', async () => {
    await api.send('DELETE', `${ctl(api)}/rules`);
    const restart = async (t: TestNode) => {
      const r = await t.post('/phones/batch-restart', { phones: [{ phone_id: phones[2] }] });
      expect(r.status, r.text).toBe(200);
      return r.body;
    };
    const refusing = await holder.post(`${ctl(holder)}/rules`, { match: { operation: 'phone.restart' }, outcome: { refuse: { error_code: 'CPS.0022', error_msg: 'Refused.' } } });
    expect(refusing.status, refusing.text).toBe(200);
    expect((await restart(api)).jobs[0]).toMatchObject({ error_code: 'CPS.0022', error_msg: 'Refused.' });
    expect((await api.send('DELETE', `${ctl(api)}/rules/${refusing.body.rule.rule_id}`)).status).toBe(200);
    expect((await restart(holder)).jobs[0].error_code).toBeUndefined();

    // The api node submits; the holder, the only worker, claims and meets the rule the api node wrote.
    const failing = await api.post(`${ctl(api)}/rules`, { match: { operation: 'phone.restart' }, outcome: { fail: { error_code: 'CPS.0023', error_msg: 'Scripted.' } } });
    expect(failing.status, failing.text).toBe(200);
    expect((await waitForRequest(api, (await restart(api)).request_id))[0]).toMatchObject({ status: -1, error_code: 'CPS.0023' });
    expect((await holder.send('DELETE', `${ctl(holder)}/rules/${failing.body.rule.rule_id}`)).status).toBe(200);
    expect((await waitForRequest(api, (await restart(api)).request_id))[0]).toMatchObject({ status: 2, error_code: '' });
  });

  it('a held job is handed back when its node shuts down, and runs elsewhere once the rule is spent', async () => {
    await api.send('DELETE', `${ctl(api)}/rules`);
    await api.post(`${ctl(api)}/rules`, { match: { operation: 'phone.restart', phone_id: phones[1], times: 1 }, outcome: { hang: true } });
    const { requestId } = await holdRestart(phones[1]!);
    const next = await startTestNode({ dataDir, role: 'worker', pollMs: 100 });
    try {
      // The holder stops: the held job goes back to the queue, and the other worker runs it.
      await holder.close(100);
      const [job] = await waitForRequest(api, requestId);
      expect(job).toMatchObject({ status: 2, error_code: '' });
      expect((await api.get(`${ctl(api)}/held-jobs`)).body.jobs).toEqual([]);
    } finally {
      await next.close();
      holder = await startTestNode({ dataDir, servers: 1, phonesPerServer: 3 });
    }
  });
});
