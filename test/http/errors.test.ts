import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reply } from '../helpers/http.js';
import { PROJECT, phoneIds, startTestNode, type TestNode } from '../helpers/node.js';

/** Every error is `{request_id, error_code, error_msg}`, request_id equal to X-Request-Id, no stack. */
function expectCphError(r: Reply, status: number, code: string) {
  expect(r.status, r.text).toBe(status);
  expect(Object.keys(r.body).sort()).toEqual(['error_code', 'error_msg', 'request_id']);
  expect(r.body.error_code).toBe(code);
  expect(r.body.request_id).toBe(r.headers['x-request-id']);
  expect(r.body.request_id).toMatch(/^[0-9a-f]{32}$/);
  expect(r.text).not.toMatch(/at .*\.(js|ts):\d+/);
}

describe('errors in CPH format', () => {
  let t: TestNode;
  let phone: string;

  beforeAll(async () => {
    t = await startTestNode();
    phone = (await phoneIds(t))[0]!;
  });
  afterAll(() => t.close());

  it('answers unknown routes with 404 and wrong methods with 405', async () => {
    expectCphError(await t.get('/nothing/here'), 404, 'APIGW.0101');
    expectCphError(await t.get(`/v1/${PROJECT}/cloud-phone/unknown`), 404, 'APIGW.0101');
    const wrong = await t.send('DELETE', `/phones/${phone}`);
    expectCphError(wrong, 405, 'APIGW.0101');
    expect(wrong.headers['allow']).toMatch(/GET/);
    expectCphError(await t.send('DELETE', '/servers/batch-restart'), 405, 'APIGW.0101');
    expectCphError(await t.send('PATCH', '/jobs'), 405, 'APIGW.0101');
  });

  it('answers malformed JSON, wrong types and missing fields with 400', async () => {
    const json = { 'content-type': 'application/json' };
    expectCphError(await t.send('POST', '/phones/batch-stop', { body: '{"phone_ids": [', headers: json }), 400, 'CPS.0034');
    expectCphError(await t.send('POST', '/phones/batch-stop', { body: '', headers: json }), 400, 'CPS.0034');
    expectCphError(await t.post('/phones/batch-stop', { phone_ids: [1, 2] }), 400, 'CPS.0004');
    expectCphError(await t.post('/phones/batch-restart', { phones: [{}] }), 400, 'CPS.0004');
    expectCphError(await t.post('/phones/batch-restart', { phones: [{ phone_id: phone, property: { a: 1 } }] }), 400, 'CPS.0034');
    expectCphError(await t.post('/phones/batch-restart', { phones: 'all' }), 400, 'CPS.0009');
    expectCphError(await t.post('/servers/batch-restart', {}), 400, 'CPS.0034');
    expectCphError(await t.post('/servers/batch-restart', 'just a string'), 400, 'CPS.0034');
    expectCphError(await t.put(`/phones/${phone}`, { phone_name: ['a'] }), 400, 'CPS.0025');
  });

  it('answers other content types with 415', async () => {
    expectCphError(await t.send('POST', '/phones/batch-stop', { body: 'phone_ids=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'APIGW.0201');
  });

  it('answers oversized bodies with 413', async () => {
    const big = JSON.stringify({ phone_ids: ['a'.repeat(1024 * 1024)] });
    expectCphError(await t.send('POST', '/phones/batch-stop', { body: big, headers: { 'content-type': 'application/json' } }), 413, 'APIGW.0201');
  });

  it('answers ids that are too long', async () => {
    expectCphError(await t.get(`/phones/${'a'.repeat(5000)}`), 400, 'CPS.0004');
    expectCphError(await t.get(`/servers/${'a'.repeat(64)}`), 400, 'CPS.0016');
    expectCphError(await t.get(`/jobs/${'a'.repeat(64)}`), 404, 'CPS.0036');
    expectCphError(await t.get(`/v1/${'a'.repeat(64)}/cloud-phone/phones`), 400, 'CPS.0046');
    expectCphError(await t.get(`/jobs?request_id=${'a'.repeat(5000)}`), 400, 'CPS.0035');
  });

  it('accepts the content type the SDK sends on GET', async () => {
    const r = await t.send('GET', '/phones', { headers: { 'content-type': 'application/json' } });
    expect(r.status).toBe(200);
  });

  it('puts X-Request-Id on every answer', async () => {
    for (const r of [await t.get('/phones'), await t.get('/servers'), await t.get(`/phones/${phone}`)]) {
      expect(r.headers['x-request-id']).toBe(r.body.request_id);
    }
  });

  it('serves the OpenAPI document generated from the route schemas, and a docs page', async () => {
    const doc = await t.get('/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    const ops = Object.values(doc.body.paths as Record<string, Record<string, any>>).flatMap((p) => Object.values(p).map((o) => o.operationId));
    for (const op of ['ListJobs', 'ShowJob', 'ListCloudPhones', 'ShowCloudPhoneDetail', 'UpdatePhoneName', 'RestartCloudPhone', 'ResetCloudPhone', 'StopCloudPhone', 'ListCloudPhoneServers', 'ShowCloudPhoneServerDetail', 'UpdateServerName', 'RestartCloudPhoneServer']) {
      expect(ops, op).toContain(op);
    }
    const page = await t.send('GET', '/docs/');
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/swagger/i);
  });
});
