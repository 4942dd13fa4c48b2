import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccessKey, createUser } from '../../src/auth/admin.js';
import { DEFAULTS } from '../../src/config.js';
import { Errors } from '../../src/domain/errors.js';
import { newId } from '../../src/domain/ids.js';
import { systemClock } from '../../src/domain/time.js';
import { AnswerBatch } from '../../src/http/batch.js';
import { projectChecker } from '../../src/auth/authenticator.js';
import { authenticatorFor } from '../../src/auth/authenticator.js';
import { listJobsLane, type ListJobsLaneDeps } from '../../src/http/routes/jobs.js';
import { createLogger, type AccessEntry } from '../../src/runtime/log.js';
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

describe('ListJobs as clients poll it, answered beside Fastify', () => {
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

  // Each call twice: as the lane takes it, and with `offset=0` added, which only Fastify's route takes.
  const both = async (call: (query: string) => Promise<Reply>) => [seen(await call(`request_id=${requestId}`)), seen(await call(`request_id=${requestId}&offset=0`))];

  it('answers a signed poll as the route does: the jobs, in order, with their items', async () => {
    const [lane, route] = await both((q) => sendSigned(t.node.port, KEY, 'GET', `${JOBS}?${q}`));
    expect(lane).toEqual(route);
    expect(lane!.status).toBe(200);
    expect(lane!.type).toBe('application/json; charset=utf-8');
    expect(lane!.body.jobs.map((j: { status: number }) => j.status)).toEqual([2, 2, -1]);
    expect(lane!.body.jobs[2]).toMatchObject({ phone_id: 'no-such-phone', error_code: 'CPS.0005' });
  });

  it('takes the poll in front of Fastify, whose handlers hear only the other forms', async () => {
    const heard: string[] = [];
    // Fastify publishes here as a route's handler starts.
    const channel = 'tracing:fastify.request.handler:start';
    const start = (m: unknown) => heard.push((m as { request: { url: string } }).request.url);
    subscribe(channel, start);
    try {
      for (const q of [`request_id=${requestId}`, `request_id=${requestId}&offset=0`]) {
        expect((await sendSigned(t.node.port, KEY, 'GET', `${JOBS}?${q}`)).status).toBe(200);
      }
    } finally {
      unsubscribe(channel, start);
    }
    expect(heard).toEqual([`${JOBS}?request_id=${requestId}&offset=0`]);
  });

  it('answers a token, an unknown request and every refusal as the route does', async () => {
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
      const [lane, route] = await both(call);
      expect({ name, ...lane }).toEqual({ name, ...route });
    }
    // A good signature afterwards clears the two failures the wrong secret counted.
    expect((await sendSigned(t.node.port, KEY, 'GET', `${JOBS}?request_id=${requestId}`)).status).toBe(200);
  });

  it('answers a user whose key sees other projects as the route does', async () => {
    const deps = { db: t.node.handle.db, clock: systemClock, ids: newId };
    const user = await createUser(deps, { account: DEFAULTS.defaultAccount, name: 'lane-user', password: 'Lane#2026-pass' });
    const key = await createAccessKey(deps, { user: user.name, account: DEFAULTS.defaultAccount });
    const [lane, route] = await both((q) => sendSigned(t.node.port, { ak: key.ak, sk: key.sk }, 'GET', `${JOBS}?${q}`));
    expect(lane).toEqual(route);
    expect([lane!.status, lane!.body.error_code]).toEqual([403, Errors.noPermission.code]);
  });
});

describe('the ListJobs lane on its own', () => {
  let t: TestNode;
  let server: Server;
  let port: number;
  let closing = false;
  const access: AccessEntry[] = [];
  const errors: string[] = [];
  let failAuth = false;
  // While held, the lane's answers wait in their batch until the test lets them go.
  let hold = false;
  const held: (() => void)[] = [];
  let added = 0;

  beforeAll(async () => {
    t = await startTestNode({ auth: 'verify', servers: 1, phonesPerServer: 1 });
    const verify = authenticatorFor('verify', { db: t.node.handle.db, sqlite: t.node.handle.sqlite, clock: systemClock, log: t.node.log }, PROJECT);
    const deps: ListJobsLaneDeps = {
      store: { db: t.node.handle.db, sqlite: t.node.handle.sqlite },
      authenticator: { authenticate: (c) => (failAuth ? Promise.reject(new Error('the identity store is gone')) : verify.authenticate(c)) },
      checkProject: projectChecker(t.node.handle.db),
      accessLog: { write: (e) => access.push(e), close: () => undefined },
      logger: createLogger('info', new Writable({ write: (chunk, _enc, done) => (errors.push(String(chunk)), done()) })),
      answers: new AnswerBatch(
        (err) => errors.push(String(err)),
        (flush) => (hold ? held.push(flush) : setImmediate(flush)),
      ),
      closing: () => closing,
    };
    const add = deps.answers.add.bind(deps.answers);
    deps.answers.add = (write, then) => (added++, add(write, then));
    const lane = listJobsLane(deps);
    // What the lane leaves is answered 418 here, where the app would hand it to Fastify.
    server = createServer((req, res) => {
      if (!lane(req, res)) res.writeHead(418).end('not taken');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await t.close();
  });

  it('takes only a GET of one minted request id with no body, while the app is open', async () => {
    const id = newId();
    const poll = `${JOBS}?request_id=${id}`;
    const left: [string, () => Promise<Reply>][] = [
      ['HEAD', () => sendSigned(port, KEY, 'HEAD', poll)],
      ['POST', () => sendSigned(port, KEY, 'POST', poll, { body: {} })],
      // Node's client frames a GET's body only when told its length.
      ['a body on GET', () => sendSigned(port, KEY, 'GET', poll, { body: {}, headers: { 'content-length': '2' } })],
      ['a page', () => sendSigned(port, KEY, 'GET', `${poll}&limit=5`)],
      ['request_ids', () => sendSigned(port, KEY, 'GET', `${JOBS}?request_ids=${id}`)],
      ['a trailing slash', () => sendSigned(port, KEY, 'GET', `${JOBS}/?request_id=${id}`)],
      ['an id in capitals', () => sendSigned(port, KEY, 'GET', `${JOBS}?request_id=${id.toUpperCase()}`)],
      ['an id too short', () => sendSigned(port, KEY, 'GET', `${JOBS}?request_id=${id.slice(1)}`)],
      ['one job', () => sendSigned(port, KEY, 'GET', `${JOBS}/${id}`)],
      ['another project', () => sendSigned(port, KEY, 'GET', `/v1/${PROJECT.toUpperCase()}/cloud-phone/jobs?request_id=${id}`)],
    ];
    for (const [name, call] of left) expect([name, (await call()).status]).toEqual([name, 418]);
    expect(access).toEqual([]);

    const taken = await sendSigned(port, KEY, 'GET', poll);
    expect(taken.status, taken.text).toBe(200);
    expect(taken.body.jobs).toEqual([]);
    closing = true;
    try {
      expect((await sendSigned(port, KEY, 'GET', poll)).status).toBe(418);
    } finally {
      closing = false;
    }
  });

  it('writes the request line of every call it answers, refusals and failures too', async () => {
    access.length = 0;
    const id = newId();
    const ok = await sendSigned(port, KEY, 'GET', `${JOBS}?request_id=${id}`);
    const refused = await send(port, 'GET', `${JOBS}?request_id=${id}`);
    failAuth = true;
    let failed: Reply;
    try {
      failed = await sendSigned(port, KEY, 'GET', `${JOBS}?request_id=${id}`);
    } finally {
      failAuth = false;
    }
    expect([ok.status, refused.status, failed.status]).toEqual([200, 401, 500]);
    expect(failed.body.error_code).toBe('CPS.0003');
    expect(access.map((e) => [e.reqId, e.method, e.path, e.status])).toEqual(
      [ok, refused, failed].map((r) => [r.headers['x-request-id'], 'GET', `${JOBS}?request_id=${id}`, r.status]),
    );
    for (const e of access) expect(e.ms).toBeGreaterThanOrEqual(0);
    // The unexpected failure is logged with the id the client was given, as the app's error handler does.
    const logged = errors.map((l) => JSON.parse(l)).find((l) => l.msg === 'request failed');
    expect(logged?.reqId).toBe(failed.headers['x-request-id']);
    expect(logged?.err?.message).toBe('the identity store is gone');
  });

  it('writes its answers with the rest of their turn: none goes out before the batch', async () => {
    access.length = 0;
    hold = true;
    added = 0;
    const ids = [newId(), newId()];
    let answered = 0;
    let calls: Promise<Reply>[];
    try {
      calls = ids.map((id) => sendSigned(port, KEY, 'GET', `${JOBS}?request_id=${id}`).finally(() => answered++));
      await waitFor(async () => added === 2 || undefined);
      // Both calls are answered into one batch, held back: nothing has been written or logged.
      expect(held).toHaveLength(1);
      expect(answered).toBe(0);
      expect(access).toEqual([]);
    } finally {
      hold = false;
      while (held.length > 0) held.shift()!();
    }
    const replies = await Promise.all(calls);
    expect(replies.map((r) => [r.status, r.body.jobs])).toEqual([
      [200, []],
      [200, []],
    ]);
    expect(access.map((e) => e.reqId).sort()).toEqual(replies.map((r) => r.headers['x-request-id']).sort());
  });

  it('closes the connection of an answer still in its batch when the app begins to close', async () => {
    hold = true;
    added = 0;
    let call: Promise<Reply>;
    try {
      call = sendSigned(port, KEY, 'GET', `${JOBS}?request_id=${newId()}`);
      await waitFor(async () => added === 1 || undefined);
      closing = true;
    } finally {
      hold = false;
      while (held.length > 0) held.shift()!();
    }
    try {
      const reply = await call;
      expect(reply.status).toBe(200);
      expect(reply.headers['connection']).toBe('close');
    } finally {
      closing = false;
    }
  });
});
