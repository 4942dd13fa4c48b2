import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config.js';
import { DEFAULT_PROJECT_ID } from '../../src/runtime/node.js';
import { sendSigned, type Key, type Reply } from '../helpers/http.js';
import { makeDataDir, removeDataDir, startTestNode, waitFor, type TestNode } from '../helpers/node.js';
import { addTenant } from '../helpers/tenant.js';

interface Delivery {
  headers: http.IncomingHttpHeaders;
  body: string;
  data: any;
  answered: number;
}

/** A real HTTP receiver on loopback: records every POST, answers 500 to the first `failFirst`. */
async function receiver(failFirst = 0): Promise<{ url: string; deliveries: Delivery[]; accepted: () => Delivery[]; close(): Promise<void> }> {
  const deliveries: Delivery[] = [];
  let toFail = failFirst;
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const answered = toFail > 0 ? (toFail--, 500) : 204;
      deliveries.push({ headers: req.headers, body, data: JSON.parse(body), answered });
      res.writeHead(answered).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    deliveries,
    accepted: () => deliveries.filter((d) => d.answered === 204),
    close: () => new Promise((r) => server.close(() => r())),
  };
}

const verify = (secret: string, d: Delivery) =>
  d.headers['x-opencph-signature'] === 'sha256=' + createHmac('sha256', secret).update(`${d.headers['x-opencph-timestamp']}.${d.body}`).digest('hex');

describe('webhooks: signed POSTs of the events, in order, retried', () => {
  const dataDir = makeDataDir();
  let t: TestNode;
  const a: Key = { ak: DEFAULTS.defaultAk, sk: DEFAULTS.defaultSk };
  let b: { key: Key; projectId: string; phones: string[] };
  let phones: string[];
  const receivers: Awaited<ReturnType<typeof receiver>>[] = [];

  const length = (body: unknown): Record<string, string> => (body === undefined ? {} : { 'content-length': String(Buffer.byteLength(JSON.stringify(body))) });
  const call = (key: Key, method: string, target: string, body?: unknown): Promise<Reply> =>
    sendSigned(t.node.port, key, method, target, { body, projectId: /^\/(?:_opencph\/)?v1\/([^/]+)\//.exec(target)?.[1], headers: length(body) });
  const cph = (projectId = DEFAULT_PROJECT_ID) => `/v1/${projectId}/cloud-phone`;
  const hooks = (projectId = DEFAULT_PROJECT_ID) => `/_opencph/v1/${projectId}/webhooks`;
  async function restart(key: Key, phoneId: string, projectId = DEFAULT_PROJECT_ID): Promise<{ requestId: string; jobId: string }> {
    const r = await call(key, 'POST', `${cph(projectId)}/phones/batch-restart`, { phones: [{ phone_id: phoneId }] });
    expect(r.status, r.text).toBe(200);
    return { requestId: r.body.request_id, jobId: r.body.jobs[0].job_id };
  }
  async function newReceiver(failFirst = 0) {
    const r = await receiver(failFirst);
    receivers.push(r);
    return r;
  }
  async function create(key: Key, body: unknown, projectId = DEFAULT_PROJECT_ID): Promise<any> {
    const r = await call(key, 'POST', hooks(projectId), body);
    expect(r.status, r.text).toBe(200);
    return r.body.webhook;
  }
  const finishedOf = (jobId: string) => (d: Delivery) => d.data.type === 'job.finished' && d.data.job_id === jobId;

  beforeAll(async () => {
    t = await startTestNode({ auth: 'verify', servers: 1, phonesPerServer: 3, dataDir });
    const { key, projectId } = await addTenant(t.node, { servers: 1, phonesPerServer: 1 });
    b = { key, projectId, phones: (await call(key, 'GET', `${cph(projectId)}/phones`)).body.phones.map((p: any) => p.phone_id) };
    phones = (await call(a, 'GET', `${cph()}/phones`)).body.phones.map((p: any) => p.phone_id);
  });
  afterAll(async () => {
    await t.close();
    for (const r of receivers) await r.close();
    await removeDataDir(dataDir);
  });

  it('delivers each event as a signed POST, in order, with its id, type and timestamp', async () => {
    const rx = await newReceiver();
    const hook = await create(a, { url: rx.url, secret: 'tell-no-one' });
    expect(hook).toMatchObject({ webhook_id: expect.stringMatching(/^[0-9a-f]{32}$/), url: rx.url, secret: 'tell-no-one', types: ['job.accepted', 'job.started', 'job.finished', 'phone.status', 'server.status'] });
    expect(hook.create_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const { jobId } = await restart(a, phones[0]!);
    await waitFor(async () => (rx.deliveries.some(finishedOf(jobId)) ? true : undefined));
    const ofJob = rx.deliveries.filter((d) => d.data.job_id === jobId);
    expect(ofJob.map((d) => d.data.type)).toEqual(['job.accepted', 'job.started', 'job.finished']);
    for (const d of rx.deliveries) {
      expect(d.headers['content-type']).toBe('application/json');
      expect(d.headers['x-opencph-event-type']).toBe(d.data.type);
      expect(d.headers['x-opencph-timestamp']).toMatch(/^\d{10}$/);
      expect(Math.abs(Number(d.headers['x-opencph-timestamp']) - Date.now() / 1000)).toBeLessThan(300);
      expect(verify('tell-no-one', d)).toBe(true);
      expect(verify('another secret', d)).toBe(false);
      expect(d.data.project_id).toBe(DEFAULT_PROJECT_ID);
    }
    const ids = rx.deliveries.map((d) => Number(d.headers['x-opencph-event-id']));
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    expect(new Set(ids).size).toBe(ids.length);
    // The delivery state: the cursor is at the last event delivered.
    const listed = (await call(a, 'GET', hooks())).body.webhooks.find((w: any) => w.webhook_id === hook.webhook_id);
    await waitFor(async () => {
      const w = (await call(a, 'GET', hooks())).body.webhooks.find((x: any) => x.webhook_id === hook.webhook_id);
      // At the last event delivered, or past it over events that are not the webhook's.
      return w.last_event_id >= Math.max(...rx.deliveries.map((d) => Number(d.headers['x-opencph-event-id']))) ? w : undefined;
    });
    expect(listed).toMatchObject({ failures: 0, last_error: null, next_attempt_time: null });
    await call(a, 'DELETE', `${hooks()}/${hook.webhook_id}`);
  });

  it('generates a secret when none is given, and sends only the types asked for', async () => {
    const rx = await newReceiver();
    const hook = await create(a, { url: rx.url, types: ['job.finished'] });
    expect(hook.secret).toMatch(/^[0-9a-f]{64}$/);
    expect(hook.types).toEqual(['job.finished']);
    const { jobId } = await restart(a, phones[1]!);
    await waitFor(async () => (rx.deliveries.some(finishedOf(jobId)) ? true : undefined));
    expect(rx.deliveries.every((d) => d.data.type === 'job.finished' && verify(hook.secret, d))).toBe(true);
    await call(a, 'DELETE', `${hooks()}/${hook.webhook_id}`);
  });

  it('retries a receiver that fails (500) with backoff, records the failures, then delivers in order', async () => {
    const rx = await newReceiver(2);
    const hook = await create(a, { url: rx.url, types: ['job.accepted', 'job.finished'] });
    const { jobId } = await restart(a, phones[2]!);
    // The failure is visible while the retry waits.
    const failing = await waitFor(async () => {
      const w = (await call(a, 'GET', hooks())).body.webhooks.find((x: any) => x.webhook_id === hook.webhook_id);
      return w.failures > 0 ? w : undefined;
    });
    expect(failing).toMatchObject({ last_error: 'HTTP 500' });
    expect(failing.next_attempt_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    await waitFor(async () => (rx.accepted().some(finishedOf(jobId)) ? true : undefined));
    // The same first event three times (two refused), then the rest once each, in order.
    expect(rx.deliveries.map((d) => [d.data.type, d.answered])).toEqual([
      ['job.accepted', 500],
      ['job.accepted', 500],
      ['job.accepted', 204],
      ['job.finished', 204],
    ]);
    expect(new Set(rx.deliveries.slice(0, 3).map((d) => d.headers['x-opencph-event-id'])).size).toBe(1);
    const after = await waitFor(async () => {
      const w = (await call(a, 'GET', hooks())).body.webhooks.find((x: any) => x.webhook_id === hook.webhook_id);
      return w.failures === 0 ? w : undefined;
    });
    expect(after).toMatchObject({ last_error: null, next_attempt_time: null });
    expect(after.last_event_id).toBeGreaterThanOrEqual(Number(rx.deliveries[3]!.headers['x-opencph-event-id']));
    await call(a, 'DELETE', `${hooks()}/${hook.webhook_id}`);
  });

  it('stops delivering once a webhook is deleted', async () => {
    const gone = await newReceiver();
    const witness = await newReceiver();
    const hook = await create(a, { url: gone.url, types: ['job.finished'] });
    const kept = await create(a, { url: witness.url, types: ['job.finished'] });
    const first = await restart(a, phones[0]!);
    await waitFor(async () => (gone.deliveries.some(finishedOf(first.jobId)) ? true : undefined));
    const deleted = await call(a, 'DELETE', `${hooks()}/${hook.webhook_id}`);
    expect(deleted.status, deleted.text).toBe(200);
    expect((await call(a, 'GET', hooks())).body.webhooks.map((w: any) => w.webhook_id)).toEqual([kept.webhook_id]);
    const before = gone.deliveries.length;
    const second = await restart(a, phones[0]!);
    // The webhook still registered receives the event; the deleted one does not.
    await waitFor(async () => (witness.deliveries.some(finishedOf(second.jobId)) ? true : undefined));
    expect(gone.deliveries.length).toBe(before);
    const again = await call(a, 'DELETE', `${hooks()}/${hook.webhook_id}`);
    expect(again.status).toBe(404);
    expect(again.body).toMatchObject({ error_code: 'CPS.0980' });
    await call(a, 'DELETE', `${hooks()}/${kept.webhook_id}`);
  });

  it("keeps projects apart: B neither sees nor deletes A's webhook, and receives only its own events", async () => {
    const rxA = await newReceiver();
    const rxB = await newReceiver();
    const hookA = await create(a, { url: rxA.url, types: ['job.finished'] });
    const hookB = await create(b.key, { url: rxB.url, types: ['job.finished'] }, b.projectId);
    expect((await call(b.key, 'GET', hooks(b.projectId))).body.webhooks.map((w: any) => w.webhook_id)).toEqual([hookB.webhook_id]);
    const denied = await call(b.key, 'DELETE', `${hooks(b.projectId)}/${hookA.webhook_id}`);
    expect(denied.status).toBe(404);
    expect(denied.body).toMatchObject({ error_code: 'CPS.0980' });
    // Nor through A's path.
    expect((await call(b.key, 'DELETE', `${hooks()}/${hookA.webhook_id}`)).status).toBeGreaterThanOrEqual(400);
    expect((await call(a, 'GET', hooks())).body.webhooks.map((w: any) => w.webhook_id)).toContain(hookA.webhook_id);
    const jobA = await restart(a, phones[1]!);
    const jobB = await restart(b.key, b.phones[0]!, b.projectId);
    await waitFor(async () => (rxA.deliveries.some(finishedOf(jobA.jobId)) && rxB.deliveries.some(finishedOf(jobB.jobId)) ? true : undefined));
    expect(rxA.deliveries.every((d) => d.data.project_id === DEFAULT_PROJECT_ID)).toBe(true);
    expect(rxB.deliveries.every((d) => d.data.project_id === b.projectId)).toBe(true);
  });

  it('refuses a URL that is not http(s) and unknown types with CPS.0034', async () => {
    for (const body of [{ url: 'ftp://127.0.0.1/x' }, { url: 'not a url' }, { url: 'http://127.0.0.1/x', types: ['job.exploded'] }, { secret: 'x' }]) {
      const r = await call(a, 'POST', hooks(), body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error_code).toBe('CPS.0034');
    }
  });
});
