import { afterAll, describe, expect, it } from 'vitest';
import { makeDataDir, phoneIds, removeDataDir, startTestNode, waitFor, waitForRequest } from '../helpers/node.js';

describe('retention', () => {
  const dataDir = makeDataDir();
  afterAll(() => removeDataDir(dataDir));

  it('keeps state across restarts and purges finished jobs past the retention period', async () => {
    const a = await startTestNode({ dataDir, retentionDays: 30 });
    const phones = await phoneIds(a);
    const r = await a.post('/phones/batch-restart', { phones: [{ phone_id: phones[0] }] });
    const [job] = await waitForRequest(a, r.body.request_id);
    await a.put(`/phones/${phones[1]}`, { phone_name: 'kept' });
    await a.close();

    // 29 days later: still there, and so is everything else.
    const day = 86_400_000;
    const b = await startTestNode({ dataDir, retentionDays: 30 }, { clock: { now: () => Date.now() + 29 * day } });
    expect((await b.get(`/jobs/${job.job_id}`)).status).toBe(200);
    expect((await b.get(`/phones/${phones[1]}`)).body.phone_name).toBe('kept');
    expect(await phoneIds(b)).toEqual(phones);
    await b.close();

    // 31 days later: the finished job is purged, the fleet is not.
    const c = await startTestNode({ dataDir, retentionDays: 30 }, { clock: { now: () => Date.now() + 31 * day } });
    await waitFor(async () => ((await c.get(`/jobs/${job.job_id}`)).status === 404 ? true : undefined));
    expect((await c.get(`/jobs?request_id=${r.body.request_id}`)).body.jobs).toEqual([]);
    expect(await phoneIds(c)).toEqual(phones);
    await c.close();
  });
});
