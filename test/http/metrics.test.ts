import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config.js';
import { newId } from '../../src/domain/ids.js';
import { recoverExpired } from '../../src/engine/recovery.js';
import { insertRequest } from '../../src/store/jobs.js';
import { getToken, passwordAuth, request, type Reply } from '../helpers/http.js';
import { PROJECT, phoneIds, startTestNode, waitFor, waitForRequest, type TestNode } from '../helpers/node.js';

/** One sample of a scrape: the value of the first line named `name` whose labels include `labels`; 0 if none. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = new Map([...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) return Number(m[3]);
  }
  return 0;
}

const LIST_JOBS = '/v1/:project_id/cloud-phone/jobs';
const SHOW_PHONE = '/v1/:project_id/cloud-phone/phones/:phone_id';

describe('GET /metrics', () => {
  let t: TestNode;
  let phones: string[];
  const scrape = async (node: TestNode = t): Promise<string> => {
    const r = await node.get('/metrics');
    expect(r.status, r.text).toBe(200);
    return r.text;
  };
  const control = (path: string, body: unknown) => t.post(`/_opencph/v1/${PROJECT}${path}`, body);
  async function restart(phoneId: string): Promise<string> {
    const r = await t.post('/phones/batch-restart', { phones: [{ phone_id: phoneId }] });
    expect(r.status, r.text).toBe(200);
    return r.body.request_id;
  }

  beforeAll(async () => {
    t = await startTestNode({ servers: 1, phonesPerServer: 3 });
    phones = await phoneIds(t);
  });
  afterAll(() => t.close());

  it("answers in Prometheus's text format with the process's default metrics, each labelled with the node", async () => {
    const r = await t.get('/metrics');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(r.text).toContain('# TYPE process_cpu_user_seconds_total counter');
    expect(sample(r.text, 'nodejs_heap_size_used_bytes', { node: t.node.owner })).toBeGreaterThan(0);
    expect(r.text).toContain('# TYPE opencph_http_request_duration_seconds histogram');
    expect(r.text).toContain('# TYPE opencph_jobs_waiting gauge');
    // Another method is refused in CPH's format, as on every path.
    const post = await t.send('POST', '/metrics', { body: '{}', headers: { 'content-type': 'application/json' } });
    expect(post.status).toBe(405);
    expect(post.body).toMatchObject({ error_code: 'APIGW.0101', request_id: post.headers['x-request-id'] });
  });

  it('counts calls by route pattern, method and status, with their latency buckets, never by URL', async () => {
    const before = await scrape();
    const showOk = { route: SHOW_PHONE, method: 'GET', status: '200' };
    const showMissing = { route: SHOW_PHONE, method: 'GET', status: '404' };
    const counted = sample(before, 'opencph_http_request_duration_seconds_count', showOk);
    for (let i = 0; i < 3; i++) expect((await t.get(`/phones/${phones[0]}`)).status).toBe(200);
    expect((await t.get(`/phones/${'f'.repeat(32)}`)).status).toBe(404);
    expect((await t.get('/nothing/here')).status).toBe(404);
    const text = await scrape();
    expect(sample(text, 'opencph_http_request_duration_seconds_count', showOk)).toBe(counted + 3);
    expect(sample(text, 'opencph_http_request_duration_seconds_count', showMissing)).toBe(1);
    // Cumulative buckets: +Inf holds them all, and no bucket holds more than the next.
    expect(sample(text, 'opencph_http_request_duration_seconds_bucket', { ...showOk, le: '+Inf' })).toBe(counted + 3);
    expect(sample(text, 'opencph_http_request_duration_seconds_bucket', { ...showOk, le: '0.0005' })).toBeLessThanOrEqual(
      sample(text, 'opencph_http_request_duration_seconds_bucket', { ...showOk, le: '5' }),
    );
    expect(sample(text, 'opencph_http_request_duration_seconds_sum', showOk)).toBeGreaterThan(0);
    // A path no route matches is counted under one label, whatever the path.
    expect(sample(text, 'opencph_http_request_duration_seconds_count', { route: 'unmatched', method: 'GET', status: '404' })).toBeGreaterThanOrEqual(1);
    expect(text).not.toContain(phones[0]);
    expect(text).not.toContain(PROJECT);
    expect(text).not.toContain('/nothing/here');
  });

  it('counts a batch restart: its jobs submitted and finished by operation, and their run-times', async () => {
    const before = await scrape();
    const op = { operation: 'phone.restart' };
    const requestId = await restart(phones[1]!);
    await waitForRequest(t, requestId);
    expect((await t.get(`/jobs?request_id=${requestId}`)).status).toBe(200);
    const text = await waitFor(async () => {
      const s = await scrape();
      return sample(s, 'opencph_job_run_seconds_count', op) > sample(before, 'opencph_job_run_seconds_count', op) ? s : undefined;
    });
    expect(sample(text, 'opencph_jobs_submitted_total', op) - sample(before, 'opencph_jobs_submitted_total', op)).toBe(1);
    const ok = { ...op, outcome: 'ok', error_code: 'none' };
    expect(sample(text, 'opencph_jobs_finished_total', ok) - sample(before, 'opencph_jobs_finished_total', ok)).toBe(1);
    expect(sample(text, 'opencph_job_run_seconds_count', op) - sample(before, 'opencph_job_run_seconds_count', op)).toBe(1);
    expect(sample(text, 'opencph_job_run_seconds_bucket', { ...op, le: '+Inf' })).toBe(sample(text, 'opencph_job_run_seconds_count', op));
    // ListJobs is counted by its pattern, not with the request id of its query.
    expect(sample(text, 'opencph_http_request_duration_seconds_count', { route: LIST_JOBS, method: 'GET', status: '200' })).toBeGreaterThanOrEqual(1);
    expect(text).not.toContain(requestId);
  });

  it('counts a failed job by its code, and a code outside the catalogue as "other"', async () => {
    const before = await scrape();
    for (const code of ['CPS.0022', 'RULE.0001']) {
      const rule = await control('/rules', { match: { operation: 'phone.restart', phone_id: phones[1], times: 1 }, outcome: { fail: { error_code: code } } });
      expect(rule.status, rule.text).toBe(200);
      const jobs = await waitForRequest(t, await restart(phones[1]!));
      expect(jobs[0]).toMatchObject({ status: -1, error_code: code });
    }
    const failed = (error_code: string) => ({ operation: 'phone.restart', outcome: 'failed', error_code });
    const text = await waitFor(async () => {
      const s = await scrape();
      return sample(s, 'opencph_jobs_finished_total', failed('other')) > sample(before, 'opencph_jobs_finished_total', failed('other')) ? s : undefined;
    });
    expect(sample(text, 'opencph_jobs_finished_total', failed('CPS.0022')) - sample(before, 'opencph_jobs_finished_total', failed('CPS.0022'))).toBe(1);
    expect(sample(text, 'opencph_jobs_finished_total', failed('other')) - sample(before, 'opencph_jobs_finished_total', failed('other'))).toBe(1);
    expect(text).not.toContain('RULE.0001');
  });

  it('counts jobs written failed by the call itself (an unknown phone)', async () => {
    const before = await scrape();
    const r = await t.post('/phones/batch-restart', { phones: [{ phone_id: 'e'.repeat(32) }] });
    expect(r.status, r.text).toBe(200);
    const code = r.body.jobs[0].error_code as string;
    const failed = { operation: 'phone.restart', outcome: 'failed', error_code: code };
    const text = await scrape();
    expect(sample(text, 'opencph_jobs_submitted_total', { operation: 'phone.restart' }) - sample(before, 'opencph_jobs_submitted_total', { operation: 'phone.restart' })).toBe(1);
    expect(sample(text, 'opencph_jobs_finished_total', failed) - sample(before, 'opencph_jobs_finished_total', failed)).toBe(1);
  });

  it('shows the jobs waiting behind a held one, and how long the oldest has waited', async () => {
    expect(sample(await scrape(), 'opencph_jobs_waiting')).toBe(0);
    expect(sample(await scrape(), 'opencph_jobs_oldest_waiting_seconds')).toBe(0);
    const rule = await control('/rules', { match: { operation: 'phone.restart', phone_id: phones[2], times: 1 }, outcome: { hang: true } });
    expect(rule.status, rule.text).toBe(200);
    const held = await restart(phones[2]!);
    await waitFor(async () => ((await t.get(`/_opencph/v1/${PROJECT}/held-jobs`)).body.jobs?.length > 0 ? true : undefined));
    // Two more restarts of the same phone wait behind the held one.
    const waiting = [await restart(phones[2]!), await restart(phones[2]!)];
    const text = await waitFor(async () => {
      const s = await scrape();
      return sample(s, 'opencph_jobs_oldest_waiting_seconds') > 0 ? s : undefined;
    }, 5_000);
    expect(sample(text, 'opencph_jobs_waiting', { node: t.node.owner })).toBe(2);
    const heldJob = (await t.get(`/jobs?request_id=${held}`)).body.jobs[0].job_id as string;
    const released: Reply = await control(`/jobs/${heldJob}/release`, { outcome: {} });
    expect(released.status, released.text).toBe(200);
    for (const requestId of [held, ...waiting]) await waitForRequest(t, requestId);
    expect(sample(await scrape(), 'opencph_jobs_waiting')).toBe(0);
  });

  it("is what the Grafana dashboard in docs/ reads: every metric its queries name is served, through the ${DS_PROMETHEUS} input", async () => {
    const dashboard = JSON.parse(readFileSync(new URL('../../docs/grafana-opencph.json', import.meta.url), 'utf8'));
    expect(dashboard.__inputs).toEqual([expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' })]);
    const panels = (dashboard.panels as any[]).filter((p) => p.type !== 'row');
    expect(panels.length).toBeGreaterThanOrEqual(10);
    const exprs = panels.flatMap((p) => {
      expect(p.datasource.uid).toBe('${DS_PROMETHEUS}');
      return p.targets.map((x: any) => x.expr as string);
    });
    const served = new Set([...(await scrape()).matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    const named = new Set(exprs.flatMap((e) => [...e.matchAll(/\b((?:opencph|process|nodejs)_[a-z0-9_]+)/g)].map((m) => m[1]!.replace(/_(bucket|count|sum)$/, ''))));
    expect(named.size).toBeGreaterThanOrEqual(10);
    for (const name of named) expect(served, name).toContain(name);
  });

  it('counts the jobs it recovers after their lease ran out (their node died)', async () => {
    const before = await scrape();
    // A job another node claimed and never finished: its lease ran out long ago.
    const { db } = t.node.handle;
    const requestId = newId();
    await db.transaction().execute((trx) =>
      insertRequest(trx, { requestId, projectId: PROJECT, operation: 'phone.restart', now: Date.now(), jobs: [{ jobId: newId(), phoneId: phones[0]!, serverId: null, params: {} }] }),
    );
    await db.updateTable('jobs').set({ state: 'running', lease_owner: 'a-node-gone', lease_expires_at: 1, attempts: 1 }).where('request_id', '=', requestId).execute();
    // What the worker's recovery timer runs (every half lease), run now; whichever runs first, it is this node's.
    await recoverExpired(t.node.engine.deps);
    const requeued = { outcome: 'requeued', node: t.node.owner };
    expect(sample(await scrape(), 'opencph_lease_recoveries_total', requeued) - sample(before, 'opencph_lease_recoveries_total', requeued)).toBe(1);
    await waitForRequest(t, requestId);
  });

  it('counts a lock-out after 5 wrong passwords', async () => {
    const before = sample(await scrape(), 'opencph_lockouts_total', { locked: 'user' });
    const wrong = passwordAuth(DEFAULTS.defaultUser, 'Wrong#password1', DEFAULTS.defaultAccount, { id: PROJECT });
    for (let i = 0; i < 5; i++) expect((await getToken(t.node.port, wrong)).body.error_code).toBe('IAM.0002');
    expect((await getToken(t.node.port, wrong)).body.error_code).toBe('IAM.0006');
    expect(sample(await scrape(), 'opencph_lockouts_total', { locked: 'user' })).toBe(before + 1);
  });
});

describe('metrics of two nodes in one process', () => {
  let a: TestNode;
  let b: TestNode;
  beforeAll(async () => {
    a = await startTestNode({ servers: 1, phonesPerServer: 1 });
    // Under --auth verify it needs no credentials either.
    b = await startTestNode({ servers: 1, phonesPerServer: 1, auth: 'verify' });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it('keeps a registry per node: each shows its own calls and jobs, labelled with its own owner id', async () => {
    const [phone] = await phoneIds(a);
    const r = await a.post('/phones/batch-restart', { phones: [{ phone_id: phone }] });
    await waitForRequest(a, r.body.request_id);
    const ra = await a.get('/metrics');
    const rb = await b.get('/metrics');
    expect(rb.status, rb.text).toBe(200);
    const show = { route: '/v1/:project_id/cloud-phone/phones', method: 'GET', status: '200' };
    expect(sample(ra.text, 'opencph_http_request_duration_seconds_count', show)).toBeGreaterThanOrEqual(1);
    expect(sample(rb.text, 'opencph_http_request_duration_seconds_count', show)).toBe(0);
    expect(sample(ra.text, 'opencph_jobs_submitted_total', { operation: 'phone.restart' })).toBe(1);
    expect(sample(rb.text, 'opencph_jobs_submitted_total', { operation: 'phone.restart' })).toBe(0);
    expect(sample(ra.text, 'nodejs_heap_size_used_bytes', { node: a.node.owner })).toBeGreaterThan(0);
    expect(sample(rb.text, 'nodejs_heap_size_used_bytes', { node: b.node.owner })).toBeGreaterThan(0);
    expect(rb.text).not.toContain(a.node.owner);
  });

  it('is served alone on --metrics-port, also by a node that answers no HTTP (role worker)', async () => {
    const w = await startTestNode({ servers: 1, phonesPerServer: 1, role: 'worker', metricsPort: 0 });
    try {
      expect(w.node.url).toBe('');
      const r = await request(w.node.metricsUrl!, 'GET');
      expect(r.status, r.text).toBe(200);
      expect(r.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(sample(r.text, 'opencph_jobs_waiting', { node: w.node.owner })).toBe(0);
      expect(r.text).toContain('# TYPE opencph_job_run_seconds histogram');
      expect((await request(w.node.metricsUrl!.replace(/\/metrics$/, '/v1/x'), 'GET')).status).toBe(404);
    } finally {
      await w.close();
    }
    // Beside the API, it shows the same registry as the API's own /metrics.
    const both = await startTestNode({ servers: 1, phonesPerServer: 1, metricsPort: 0 });
    try {
      expect((await both.get('/phones')).status).toBe(200);
      const own = await request(both.node.metricsUrl!, 'GET');
      const show = { route: '/v1/:project_id/cloud-phone/phones', method: 'GET', status: '200', node: both.node.owner };
      expect(sample(own.text, 'opencph_http_request_duration_seconds_count', show)).toBe(1);
    } finally {
      await both.close();
    }
  });

  it('is not served by a node started without metrics', async () => {
    const c = await startTestNode({ servers: 1, phonesPerServer: 1, metrics: false });
    try {
      expect((await c.get('/metrics')).status).toBe(404);
    } finally {
      await c.close();
    }
  });
});
