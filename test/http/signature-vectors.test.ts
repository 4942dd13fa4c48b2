import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSdkDate } from '../../src/auth/signature.js';
import { DEFAULTS } from '../../src/config.js';
import { DEFAULT_PROJECT_ID, type RunningNode } from '../../src/runtime/node.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { send } from '../helpers/http.js';
import { headerOf, VECTORS } from '../helpers/vectors.js';

/**
 * Every request in the SDK-signed fixture, sent over real HTTP with its exact headers (its signed
 * Host included) and body bytes, to a node whose clock stands at the vector's X-Sdk-Date.
 */
describe('SDK-signed vectors over HTTP (--auth verify)', () => {
  let t: TestNode;
  let node: RunningNode;
  let now = 0;

  beforeAll(async () => {
    now = parseSdkDate(headerOf(VECTORS.vectors[0]!, 'x-sdk-date'))!;
    t = await startTestNode({ auth: 'verify' }, { clock: { now: () => now } });
    node = t.node;
  });
  afterAll(() => t.close());

  it('uses the credentials and project the vectors were signed for', () => {
    expect(VECTORS.credentials).toEqual({ ak: DEFAULTS.defaultAk, sk: DEFAULTS.defaultSk, project_id: DEFAULT_PROJECT_ID });
  });

  for (const v of VECTORS.vectors) {
    it(`${v.valid ? 'accepts' : 'refuses'} "${v.name}"`, async () => {
      now = parseSdkDate(headerOf(v, 'x-sdk-date'))!;
      const r = await send(node.port, v.method, v.target, v.headers, v.body === '' ? undefined : v.body);
      if (v.valid) {
        // Past authentication, the route answers: the vectors name a phone and a job that are not there.
        const notFound = v.method === 'GET' && /\/(phones|jobs)\/[0-9a-f]{32}$/.test(v.target);
        expect(r.status, r.text).toBe(notFound ? 404 : 200);
        expect(r.body.request_id).toBe(r.headers['x-request-id']);
      } else {
        expect(r.status, r.text).toBe(401);
        expect(r.body.error_code).toBe('APIGW.0301');
        expect(r.body.error_msg).toMatch(/verify aksk signature fail|ak not exist/);
      }
    });
  }

  it('refuses a valid vector once the server clock is more than 15 minutes from its X-Sdk-Date', async () => {
    const v = VECTORS.vectors.find((x) => x.valid && x.method === 'GET')!;
    const signedAt = parseSdkDate(headerOf(v, 'x-sdk-date'))!;
    for (const [offset, status] of [
      [15 * 60_000, 200],
      [15 * 60_000 + 1000, 401],
      [-15 * 60_000 - 1000, 401],
    ] as const) {
      now = signedAt + offset;
      const r = await send(node.port, v.method, v.target, v.headers);
      expect(r.status, r.text).toBe(status);
      if (status === 401) expect(r.body.error_msg).toContain('signature expired');
    }
  });
});
