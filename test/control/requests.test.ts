import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT, startTestNode, waitForRequest, type TestNode } from '../helpers/node.js';
import { addTenant } from '../helpers/tenant.js';

/** GET /_opencph/v1/{project_id}/requests: a project's requests newest first, their jobs counted by status. */
describe('recent requests', () => {
  let t: TestNode;
  let phones: string[];
  const requests = (query = '') => t.get(`/_opencph/v1/${PROJECT}/requests${query}`);

  beforeAll(async () => {
    t = await startTestNode({ simDelayMs: 0 });
    phones = (await t.get('/phones?limit=200')).body.phones.map((p: { phone_id: string }) => p.phone_id).sort();
  });
  afterAll(async () => {
    await t.close();
  });

  it('lists requests newest first with their jobs counted, pages, filters by phone and keeps projects apart', async () => {
    const empty = await requests();
    expect(empty.status).toBe(200);
    expect(empty.body.requests).toEqual([]);

    const first = (await t.post('/phones/batch-restart', { phones: [{ phone_id: phones[0] }, { phone_id: phones[1] }, { phone_id: 'nosuchphone' }] })).body.request_id;
    await waitForRequest(t, first);
    const second = (await t.post('/phones/batch-stop', { phone_ids: [phones[2]] })).body.request_id;
    await waitForRequest(t, second);

    const all = await requests();
    expect(all.status, all.text).toBe(200);
    expect(all.body.requests.map((r: { request_id: string }) => r.request_id)).toEqual([second, first]);
    expect(all.body.requests[1]).toEqual({
      request_id: first,
      operation: 'phone.restart',
      create_time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      jobs: 3,
      running: 0,
      succeeded: 2,
      failed: 1,
    });
    expect(all.body.requests[0]).toMatchObject({ request_id: second, operation: 'phone.stop', jobs: 1, succeeded: 1, failed: 0 });

    expect((await requests('?limit=1')).body.requests.map((r: { request_id: string }) => r.request_id)).toEqual([second]);
    expect((await requests('?limit=1&offset=1')).body.requests.map((r: { request_id: string }) => r.request_id)).toEqual([first]);
    const onPhone = (await requests(`?phone_id=${phones[2]}`)).body.requests;
    expect(onPhone.map((r: { request_id: string }) => r.request_id)).toEqual([second]);
    // The phone's job in each request, as ListJobs shows it.
    const listed = (await t.get(`/jobs?request_id=${second}`)).body.jobs[0];
    expect(onPhone[0].job).toEqual(listed);
    expect(all.body.requests[0].job).toBeUndefined();
    expect((await requests(`?phone_id=${phones[5]}`)).body.requests).toEqual([]);

    const other = await addTenant(t.node, { servers: 1, phonesPerServer: 1 });
    const theirs = await t.get(`/_opencph/v1/${other.projectId}/requests`);
    expect(theirs.status, theirs.text).toBe(200);
    expect(theirs.body.requests).toEqual([]);
  });

  it('refuses a bad page or phone id in CPH format', async () => {
    for (const [query, code] of [
      ['?limit=0', 'CPS.0002'],
      ['?limit=101', 'CPS.0002'],
      ['?offset=-1', 'CPS.0002'],
      ['?phone_id=a%20b', 'CPS.0004'],
    ] as const) {
      const r = await requests(query);
      expect(r.status, query).toBe(400);
      expect(r.body.error_code, query).toBe(code);
    }
  });
});
