import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccessKey, createUser } from '../../src/auth/admin.js';
import { authenticatorFor, type Authenticator } from '../../src/auth/authenticator.js';
import { DEFAULTS } from '../../src/config.js';
import { Errors } from '../../src/domain/errors.js';
import { newId } from '../../src/domain/ids.js';
import { systemClock } from '../../src/domain/time.js';
import { createLogger } from '../../src/runtime/log.js';
import { PROJECT, startTestNode, waitFor, type TestNode } from '../helpers/node.js';
import { getToken, passwordAuth, send, sendSigned, sendWithToken, type Key, type Reply } from '../helpers/http.js';

const KEY: Key = { ak: DEFAULTS.defaultAk, sk: DEFAULTS.defaultSk };
const JOBS = `/v1/${PROJECT}/cloud-phone/jobs`;
const MINTED = /^[0-9a-f]{32}$/;

/** What a client can tell of an answer: status, content type, and the body with its request id blanked. */
function seen(r: Reply) {
  const body = JSON.parse(r.text);
  expect(body.request_id).toMatch(MINTED);
  expect(r.headers['x-request-id']).toBe(body.request_id);
  return { status: r.status, type: r.headers['content-type'], body: { ...body, request_id: '' } };
}

describe('ListJobs in every form goes through the one request path', () => {
  let t: TestNode;
  let requestId: string;
  let token: string;

  beforeAll(async () => {
    t = await startTestNode({ auth: 'verify', servers: 1, phonesPerServer: 2 });
    const phones = (await sendSigned(t.node.port, KEY, 'GET', `/v1/${PROJECT}/cloud-phone/phones`)).body.phones as { phone_id: string }[];
    const batch = await sendSigned(t.node.port, KEY, 'POST', `/v1/${PROJECT}/cloud-phone/phones/batch-restart`, {
      body: { phones: [...phones.map((p) => ({ phone_id: p.phone_id })), { phone_id: 'no-such-phone' }] },
    });
    expect(batch.status, batch.text).toBe(200);
    requestId = batch.body.request_id;
    await waitFor(async () => {
      const jobs = (await sendSigned(t.node.port, KEY, 'GET', `${JOBS}?request_id=${requestId}`)).body.jobs as { status: number }[];
      return jobs.every((j) => j.status !== 1) || undefined;
    });
    token = (await getToken(t.node.port, passwordAuth(DEFAULTS.defaultUser, DEFAULTS.defaultPassword, DEFAULTS.defaultAccount, { id: PROJECT }))).token!;
  });
  afterAll(() => t.close());

  // The form clients poll with, and the same call spelt with its defaults.
  const forms = (id: string) => [`request_id=${id}`, `request_id=${id}&limit=100`, `request_id=${id}&offset=0`];
  const allForms = async (call: (query: string) => Promise<Reply>) => {
    const out = [];
    for (const q of forms(requestId)) out.push(seen(await call(q)));
    return out;
  };

  it('answers a signed poll alike in every form: the jobs, in order, with their items', async () => {
    const [poll, ...others] = await allForms((q) => sendSigned(t.node.port, KEY, 'GET', `${JOBS}?${q}`));
    for (const other of others) expect(other).toEqual(poll);
    expect(poll!.status).toBe(200);
    expect(poll!.type).toBe('application/json; charset=utf-8');
    expect(poll!.body.jobs.map((j: { status: number }) => j.status)).toEqual([2, 2, -1]);
    expect(poll!.body.jobs[2]).toMatchObject({ phone_id: 'no-such-phone', error_code: 'CPS.0005' });
  });

  it("runs Fastify's route handler for every form, the poll too", async () => {
    const heard: string[] = [];
    // Fastify publishes here as a route's handler starts: a hook added to the app sees the same calls.
    const channel = 'tracing:fastify.request.handler:start';
    const start = (m: unknown) => heard.push((m as { request: { url: string } }).request.url);
    subscribe(channel, start);
    try {
      for (const q of forms(requestId)) expect((await sendSigned(t.node.port, KEY, 'GET', `${JOBS}?${q}`)).status).toBe(200);
    } finally {
      unsubscribe(channel, start);
    }
    expect(heard).toEqual(forms(requestId).map((q) => `${JOBS}?${q}`));
  });

  it('answers a token, an unknown request and every refusal alike in every form', async () => {
    const stranger = newId();
    const cases: [string, (q: string) => Promise<Reply>][] = [
      ['token', (q) => sendWithToken(t.node.port, token, 'GET', `${JOBS}?${q}`)],
      ['unknown request', (q) => sendSigned(t.node.port, KEY, 'GET', `${JOBS}?${q.replace(requestId, stranger)}`)],
      ['no credentials', (q) => send(t.node.port, 'GET', `${JOBS}?${q}`)],
      ['a bad token', (q) => sendWithToken(t.node.port, 'not-a-token', 'GET', `${JOBS}?${q}`)],
      ['a wrong secret', (q) => sendSigned(t.node.port, { ak: KEY.ak, sk: 'wrong' }, 'GET', `${JOBS}?${q}`)],
      ['an unknown key', (q) => sendSigned(t.node.port, { ak: 'NOSUCHAK', sk: 'x' }, 'GET', `${JOBS}?${q}`)],
      ['a project not granted', (q) => sendSigned(t.node.port, KEY, 'GET', `/v1/${'f'.repeat(32)}/cloud-phone/jobs?${q}`)],
    ];
    for (const [name, call] of cases) {
      const [poll, ...others] = await allForms(call);
      for (const other of others) expect({ name, ...other }).toEqual({ name, ...poll });
    }
    // A good signature afterwards clears the failures the wrong secret counted.
    expect((await sendSigned(t.node.port, KEY, 'GET', `${JOBS}?request_id=${requestId}`)).status).toBe(200);
  });

  it('answers a user whose key sees other projects alike in every form', async () => {
    const deps = { db: t.node.handle.db, clock: systemClock, ids: newId };
    const user = await createUser(deps, { account: DEFAULTS.defaultAccount, name: 'poll-user', password: 'Poll#2026-pass' });
    const key = await createAccessKey(deps, { user: user.name, account: DEFAULTS.defaultAccount });
    const [poll, ...others] = await allForms((q) => sendSigned(t.node.port, { ak: key.ak, sk: key.sk }, 'GET', `${JOBS}?${q}`));
    for (const other of others) expect(other).toEqual(poll);
    expect([poll!.status, poll!.body.error_code]).toEqual([403, Errors.noPermission.code]);
  });
});

describe('the request line of a ListJobs poll', () => {
  const lines: string[] = [];
  const logger = createLogger('info', new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }));
  let failAuth: false | 'rejects' | 'throws' = false;
  let verify: Authenticator | undefined;
  let t: TestNode;

  beforeAll(async () => {
    // The node's own verifier, made once its store exists; until then (and while failAuth) the call fails.
    const authenticator: Authenticator = {
      authenticate: (c) => {
        if (failAuth === 'throws') throw new Error('the identity store is gone');
        return failAuth || !verify ? Promise.reject(new Error('the identity store is gone')) : verify.authenticate(c);
      },
    };
    t = await startTestNode({ auth: 'verify', servers: 1, phonesPerServer: 1, logLevel: 'info' }, { logger, authenticator });
    verify = authenticatorFor('verify', { db: t.node.handle.db, sqlite: t.node.handle.sqlite, clock: systemClock, log: t.node.log }, PROJECT);
  });
  afterAll(() => t.close());

  it('is written once for every call, refusals and failures too, with the id the client was given', async () => {
    const id = newId();
    const target = `${JOBS}?request_id=${id}`;
    lines.length = 0;
    const ok = await sendSigned(t.node.port, KEY, 'GET', target);
    const refused = await send(t.node.port, 'GET', target);
    let failed: Reply;
    let thrown: Reply;
    try {
      failAuth = 'rejects';
      failed = await sendSigned(t.node.port, KEY, 'GET', target);
      // An authenticator that throws before it answers a promise fails the call the same way.
      failAuth = 'throws';
      thrown = await sendSigned(t.node.port, KEY, 'GET', target);
    } finally {
      failAuth = false;
    }
    expect([ok.status, refused.status, failed.status, thrown.status]).toEqual([200, 401, 500, 500]);
    expect([failed.body.error_code, thrown.body.error_code]).toEqual(['CPS.0003', 'CPS.0003']);
    const logged = lines.map((l) => JSON.parse(l));
    const requests = logged.filter((l) => l.msg === 'request');
    expect(requests.map((e) => [e.reqId, e.method, e.path, e.status])).toEqual(
      [ok, refused, failed, thrown].map((r) => [r.headers['x-request-id'], 'GET', target, r.status]),
    );
    for (const e of requests) expect(e.ms).toBeGreaterThanOrEqual(0);
    // The unexpected failure is logged by the app's error handler with the id the client was given.
    const failures = logged.filter((l) => l.msg === 'request failed');
    expect(failures.map((l) => [l.reqId, l.err?.message])).toEqual([failed, thrown].map((r) => [r.headers['x-request-id'], 'the identity store is gone']));
  });
});
