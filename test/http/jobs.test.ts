import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { phoneIds, startTestNode, waitForRequest, type TestNode } from '../helpers/node.js';

const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

describe('ListJobs and ShowJob', () => {
  let t: TestNode;
  let phones: string[];
  let req1: string; // restart of 3 phones + 1 unknown
  let req2: string; // stop of 2 phones
  let jobs1: any[];

  beforeAll(async () => {
    t = await startTestNode();
    phones = await phoneIds(t);
    const r1 = await t.post('/phones/batch-restart', { phones: [...phones.slice(0, 3).map((phone_id) => ({ phone_id })), { phone_id: 'ffffffffffffffffffffffffffffffff' }] });
    expect(r1.status).toBe(200);
    req1 = r1.body.request_id;
    jobs1 = r1.body.jobs;
    const r2 = await t.post('/phones/batch-stop', { phone_ids: phones.slice(5, 7) });
    req2 = r2.body.request_id;
    await waitForRequest(t, req1);
    await waitForRequest(t, req2);
  });
  afterAll(() => t.close());

  it('lists the jobs of one request in submission order with every Job field', async () => {
    const r = await t.get(`/jobs?request_id=${req1}`);
    expect(r.status).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(['jobs', 'request_id']); // no count field
    expect(r.body.request_id).toMatch(/^[0-9a-f]{32}$/);
    expect(r.body.request_id).not.toBe(req1); // the ListJobs call's own id
    expect(r.headers.get('x-request-id')).toBe(r.body.request_id);
    expect(r.body.jobs.map((j: any) => j.job_id)).toEqual(jobs1.map((j) => j.job_id));
    const [first] = r.body.jobs;
    expect(first).toMatchObject({ phone_id: phones[0], status: 2, error_code: '', error_msg: '', execute_msg: '' });
    expect(first.node_id).toMatch(/^[0-9a-f]{32}$/);
    expect(first.begin_time).toMatch(TIME);
    expect(first.end_time).toMatch(TIME);
  });

  it('shows a target that could not run as a failed job with its code', async () => {
    const r = await t.get(`/jobs?request_id=${req1}`);
    const failed = r.body.jobs[3];
    expect(failed).toMatchObject({ phone_id: 'ffffffffffffffffffffffffffffffff', status: -1, error_code: 'CPS.0005', error_msg: 'Phone is not found.' });
    expect(failed.end_time).toMatch(TIME);
  });

  it('takes several request ids, in stable order, and request_ids wins over request_id', async () => {
    const both = await t.get(`/jobs?request_ids=${req2},${req1}`);
    expect(both.status).toBe(200);
    expect(both.body.jobs).toHaveLength(6);
    const again = await t.get(`/jobs?request_ids=${req1},${req2}`);
    expect(again.body.jobs.map((j: any) => j.job_id)).toEqual(both.body.jobs.map((j: any) => j.job_id));
    const wins = await t.get(`/jobs?request_id=${req1}&request_ids=${req2}`);
    expect(wins.body.jobs).toHaveLength(2);
    expect(wins.body.jobs.every((j: any) => phones.slice(5, 7).includes(j.phone_id))).toBe(true);
  });

  it('pages with offset and limit (default 100, 1..100)', async () => {
    const all = (await t.get(`/jobs?request_ids=${req1},${req2}`)).body.jobs.map((j: any) => j.job_id);
    const page = await t.get(`/jobs?request_ids=${req1},${req2}&offset=2&limit=3`);
    expect(page.body.jobs.map((j: any) => j.job_id)).toEqual(all.slice(2, 5));
    expect((await t.get(`/jobs?request_id=${req1}&offset=10`)).body.jobs).toEqual([]);
    expect((await t.get(`/jobs?request_id=${req1}&limit=100`)).status).toBe(200);
  });

  it('rejects bad offset and limit with CPS.0002', async () => {
    for (const q of ['offset=-1', 'limit=0', 'limit=101', 'limit=abc', 'offset=1.5', 'limit=']) {
      const r = await t.get(`/jobs?request_id=${req1}&${q}`);
      expect(r.status, q).toBe(400);
      expect(r.body, q).toMatchObject({ error_code: 'CPS.0002', error_msg: 'Parameter: offset or limit is invalid.' });
    }
  });

  it('needs request_id or request_ids, at most 20, well formed', async () => {
    const none = await t.get('/jobs');
    expect(none.status).toBe(400);
    expect(none.body.error_code).toBe('CPS.0035');
    expect((await t.get('/jobs?request_ids=')).status).toBe(400);
    const ids21 = Array.from({ length: 21 }, (_, i) => i.toString(16).padStart(32, '0')).join(',');
    const many = await t.get(`/jobs?request_ids=${ids21}`);
    expect(many.status).toBe(400);
    expect(many.body.error_msg).toMatch(/20/);
    const ids20 = Array.from({ length: 19 }, (_, i) => i.toString(16).padStart(32, '0')).concat(req1).join(',');
    const twenty = await t.get(`/jobs?request_ids=${ids20}`);
    expect(twenty.status).toBe(200);
    expect(twenty.body.jobs).toHaveLength(4);
    expect((await t.get('/jobs?request_id=not-an-id')).status).toBe(400);
    expect((await t.get(`/jobs?request_id=${'a'.repeat(300)}`)).status).toBe(400);
  });

  it('answers an unknown but well-formed request id with no jobs', async () => {
    const r = await t.get(`/jobs?request_id=${'0'.repeat(32)}`);
    expect(r.status).toBe(200);
    expect(r.body.jobs).toEqual([]);
  });

  it('shows one job with phone_id and server_id; null for absent values', async () => {
    const job = jobs1[0];
    const r = await t.get(`/jobs/${job.job_id}`);
    expect(r.status).toBe(200);
    expect(r.headers.get('x-request-id')).toBe(r.body.request_id);
    expect(r.body).toMatchObject({ job_id: job.job_id, phone_id: phones[0], status: 2, error_code: null, error_msg: null, execute_msg: null });
    expect(r.body.server_id).toMatch(/^[0-9a-f]{32}$/);
    expect(r.body.begin_time).toMatch(TIME);
    expect(r.body.end_time).toMatch(TIME);
  });

  it('answers an unknown job with 404', async () => {
    for (const id of ['0'.repeat(32), 'nope', 'x'.repeat(200)]) {
      const r = await t.get(`/jobs/${id}`);
      expect(r.status, id).toBe(404);
      expect(r.body, id).toMatchObject({ error_code: 'CPS.0036', error_msg: 'Job is not found.' });
    }
  });

  it('keeps jobs of other projects out of reach', async () => {
    const other = `/v1/${'f'.repeat(32)}/cloud-phone`;
    expect((await t.get(`${other}/jobs?request_id=${req1}`)).status).toBe(400);
    expect((await t.get(`${other}/jobs/${jobs1[0].job_id}`)).status).toBe(400);
    expect((await t.get(`/v1/NOTAPROJECT/cloud-phone/jobs?request_id=${req1}`)).body.error_code).toBe('CPS.0046');
  });
});
