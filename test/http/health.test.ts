import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, waitFor, type TestNode } from '../helpers/node.js';

describe('GET /_opencph/health', () => {
  let t: TestNode;

  beforeAll(async () => {
    t = await startTestNode({ auth: 'verify' });
  });
  afterAll(() => t.close());

  it("answers without credentials with this process's figures", async () => {
    const r = await t.get('/_opencph/health');
    expect(r.status, r.text).toBe(200);
    expect(r.body.request_id).toBe(r.headers['x-request-id']);
    expect(r.body.pid).toBe(process.pid);
    expect(r.body.rss_bytes).toBeGreaterThan(r.body.heap_used_bytes);
    const byType = Object.values(r.body.active_resources_by_type as Record<string, number>);
    expect(byType.reduce((a, b) => a + b, 0)).toBe(r.body.active_resources);
    expect(r.body.active_resources_by_type.TCPServerWrap).toBeGreaterThanOrEqual(1);
    expect(Object.keys(r.body.event_loop_delay_ms).sort()).toEqual(['max', 'p50', 'p99']);
  });

  it('shows the delay of the last whole second once one has passed', async () => {
    const figures = await waitFor(async () => {
      const d = (await t.get('/_opencph/health')).body.event_loop_delay_ms;
      return d.max > 0 ? d : undefined;
    }, 5_000, 100);
    expect(figures.p99).toBeGreaterThanOrEqual(figures.p50);
    expect(figures.max).toBeGreaterThanOrEqual(figures.p99);
  });

  it('is in the API document, and refuses other methods in CPH’s format', async () => {
    expect((await t.get('/openapi.json')).body.paths['/_opencph/health'].get.operationId).toBe('Health');
    const r = await t.send('POST', '/_opencph/health', { body: '{}', headers: { 'content-type': 'application/json' } });
    expect(r.status).toBe(405);
    expect(r.body).toMatchObject({ error_code: 'APIGW.0101', request_id: r.headers['x-request-id'] });
  });
});
