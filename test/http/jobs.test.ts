import { Ajv, type ValidateFunction } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listJobsResponse, showJobResponse } from '../../src/http/schemas/jobs.js';
import { phoneIds, servers, startTestNode, waitForRequest, type TestNode } from '../helpers/node.js';

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
    expect(r.headers['x-request-id']).toBe(r.body.request_id);
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

  // CPH's own examples differ so (cph-api.md §2, docs/decisions/0033): a client may test either form.
  it('gives a finished job\'s empty messages as "" in ListJobs and as null in ShowJob, each as CPH\'s example', async () => {
    const job = jobs1[0];
    const listed = (await t.get(`/jobs?request_id=${req1}`)).body.jobs.find((j: any) => j.job_id === job.job_id);
    const shown = (await t.get(`/jobs/${job.job_id}`)).body;
    const messages = (j: any) => [j.error_code, j.error_msg, j.execute_msg];
    expect(listed.status).toBe(2);
    expect(messages(listed)).toEqual(['', '', '']);
    expect(messages(shown)).toEqual([null, null, null]);
  });

  it('shows one job with phone_id and server_id; null for absent values', async () => {
    const job = jobs1[0];
    const r = await t.get(`/jobs/${job.job_id}`);
    expect(r.status).toBe(200);
    expect(r.headers['x-request-id']).toBe(r.body.request_id);
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

describe('ListJobs and ShowJob answers against their response schemas', () => {
  const ajv = new Ajv({ allowUnionTypes: true });
  const listJobs = ajv.compile(listJobsResponse);
  const showJob = ajv.compile(showJobResponse);
  const errorsOf = (validate: ValidateFunction, body: unknown) => (validate(body) ? [] : validate.errors);

  let t: TestNode;
  let slow: TestNode;
  let answers: { list: any[]; show: any[] };

  beforeAll(async () => {
    t = await startTestNode();
    // Jobs that stay running while the answers are read.
    slow = await startTestNode({ servers: 1, phonesPerServer: 2, simDelayMs: 600_000 });
    const phones = await phoneIds(t);
    const [s0] = await servers(t);
    const phoneJobs = await t.post('/phones/batch-restart', { phones: [{ phone_id: phones[0] }, { phone_id: 'f'.repeat(32) }] });
    const serverJobs = await t.post('/servers/batch-restart', { server_ids: [s0.server_id, 'a'.repeat(32)] });
    const shell = await t.post('/phones/commands', { command: 'shell', content: 'echo x', phone_ids: [phones[1]] });
    const failing = await t.post('/phones/batch-stop', { phone_ids: [phones[2], phones[2]] });
    const requests = [phoneJobs, serverJobs, shell, failing].map((r) => r.body.request_id);
    for (const id of requests) await waitForRequest(t, id);
    const running = await slow.post('/servers/batch-restart', { server_ids: (await servers(slow)).map((s: any) => s.server_id) });
    const list = [(await t.get(`/jobs?request_ids=${requests.join(',')}`)).body, (await slow.get(`/jobs?request_id=${running.body.request_id}`)).body];
    const show = [
      ...(await Promise.all(list[0].jobs.map((j: any) => t.get(`/jobs/${j.job_id}`)))),
      ...(await Promise.all(list[1].jobs.map((j: any) => slow.get(`/jobs/${j.job_id}`)))),
    ].map((r) => r.body);
    answers = { list, show };
  });
  afterAll(async () => {
    await slow?.close(0);
    await t?.close();
  });

  it('covers phone and server jobs, running, succeeded and failed, with and without a server and output', () => {
    const kind = (j: any) => `${j.phone_id ? 'phone' : 'server'} ${j.status} ${j.server_id === null ? 'no server' : 'server'}`;
    const listed = answers.list.flatMap((b) => b.jobs);
    for (const jobs of [listed, answers.show]) {
      expect([...new Set(jobs.map(kind))].sort()).toEqual(['phone -1 no server', 'phone -1 server', 'phone 2 server', 'server -1 server', 'server 1 server', 'server 2 server']);
    }
    expect(listed.filter((j) => j.execute_msg !== '')).toHaveLength(1);
  });

  it('every ListJobs answer matches the route\'s response schema', () => {
    for (const body of answers.list) expect(errorsOf(listJobs, body)).toEqual([]);
  });

  it('every ShowJob answer matches the route\'s response schema', () => {
    for (const body of answers.show) expect(errorsOf(showJob, body)).toEqual([]);
  });

  it('the schemas refuse an answer with a field missing, extra or of the wrong type', () => {
    const [list] = answers.list;
    const [show] = answers.show;
    const phoneJob = list.jobs[0];
    const serverJob = list.jobs.find((j: any) => !('phone_id' in j));
    const without = (o: any, key: string) => Object.fromEntries(Object.entries(o).filter(([k]) => k !== key));
    const listWith = (job: unknown) => ({ ...list, jobs: [job] });
    // Without phone_id, a phone job is a well-formed server job.
    for (const key of Object.keys(phoneJob).filter((k) => k !== 'phone_id')) expect(errorsOf(listJobs, listWith(without(phoneJob, key))), key).not.toEqual([]);
    for (const key of Object.keys(serverJob)) expect(errorsOf(listJobs, listWith(without(serverJob, key))), key).not.toEqual([]);
    for (const key of Object.keys(show)) expect(errorsOf(showJob, without(show, key)), key).not.toEqual([]);
    expect(errorsOf(listJobs, listWith({ ...phoneJob, encode_server_id: 'x' }))).not.toEqual([]);
    expect(errorsOf(listJobs, listWith({ ...serverJob, phone_id: null }))).not.toEqual([]);
    expect(errorsOf(listJobs, listWith({ ...phoneJob, status: '2' }))).not.toEqual([]);
    expect(errorsOf(listJobs, listWith({ ...phoneJob, error_msg: null }))).not.toEqual([]);
    expect(errorsOf(listJobs, { ...list, count: 1 })).not.toEqual([]);
    expect(errorsOf(showJob, { ...show, node_id: show.server_id })).not.toEqual([]);
    expect(errorsOf(showJob, { ...show, begin_time: 0 })).not.toEqual([]);
  });
});
