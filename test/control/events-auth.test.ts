import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config.js';
import { admin } from '../helpers/admin.js';
import { getToken, passwordAuth, sendSigned, type Key } from '../helpers/http.js';
import { nodesPerTest, PROJECT, type TestNode } from '../helpers/node.js';
import { openStream, signedHeaders, type SseStream } from '../helpers/sse.js';

/**
 * An open event stream holds its caller to the same rules as each call: once the token or access
 * key is no longer taken (the user or key disabled), the stream ends at its next event, and the
 * events after it are not sent.
 */
describe('event streams end when their credentials stop working', () => {
  const start = nodesPerTest({ auth: 'verify', simDelayMs: 0 });
  const a: Key = { ak: DEFAULTS.defaultAk, sk: DEFAULTS.defaultSk };
  const target = `/_opencph/v1/${PROJECT}/events`;
  const streams: SseStream[] = [];
  afterEach(() => {
    for (const s of streams.splice(0)) s.close();
  });

  async function restart(t: TestNode, key: Key, phoneId: string): Promise<string> {
    const body = { phones: [{ phone_id: phoneId }] };
    const r = await sendSigned(t.node.port, key, 'POST', `/v1/${PROJECT}/cloud-phone/phones/batch-restart`, {
      body,
      projectId: PROJECT,
      headers: { 'content-length': String(Buffer.byteLength(JSON.stringify(body))) },
    });
    expect(r.status, r.text).toBe(200);
    return r.body.request_id;
  }

  async function phones(t: TestNode): Promise<string[]> {
    const r = await sendSigned(t.node.port, a, 'GET', `/v1/${PROJECT}/cloud-phone/phones`, { projectId: PROJECT });
    return r.body.phones.map((p: { phone_id: string }) => p.phone_id);
  }

  /** The stream sees one restart, then its credentials are withdrawn; the next restart ends it unseen. */
  async function endsAfterWithdrawal(t: TestNode, s: SseStream, withdraw: () => Promise<unknown>, restartKey: Key): Promise<void> {
    const [p1, p2] = await phones(t);
    const first = await restart(t, restartKey, p1!);
    await s.waitFor(1, (e) => e.data.request_id === first && e.event === 'job.finished');
    await withdraw();
    // Past the stream's pace of checks (and a node's copy of an access key).
    await new Promise((r) => setTimeout(r, 1_200));
    const second = await restart(t, restartKey, p2!);
    await s.ended;
    expect(s.events.filter((e) => e.data.request_id === second)).toEqual([]);
  }

  it('a token of a user who is then disabled', async () => {
    const t = await start();
    await admin(t.dataDir, 'users', 'create', 'carol', '--account', DEFAULTS.defaultAccount, '--password', 'Carol#password1');
    await admin(t.dataDir, 'users', 'grant', 'carol', PROJECT, '--account', DEFAULTS.defaultAccount);
    const login = await getToken(t.node.port, passwordAuth('carol', 'Carol#password1', DEFAULTS.defaultAccount, { id: PROJECT }));
    expect(login.status, login.text).toBe(201);
    const s = await openStream(t.url + target, { 'X-Auth-Token': login.token! });
    streams.push(s);
    expect(s.status).toBe(200);
    await endsAfterWithdrawal(t, s, () => admin(t.dataDir, 'users', 'disable', 'carol', '--account', DEFAULTS.defaultAccount), a);
  });

  it.each([
    ['real', undefined],
    // A virtual clock stands still unless moved: the recheck must not go by the node's copy of the key.
    ['virtual', 'virtual' as const],
  ])('a signature by an access key that is then disabled (%s clock)', async (_name, clock) => {
    const t = await start(clock ? { clock } : {});
    const created = await admin(t.dataDir, 'keys', 'create', '--user', DEFAULTS.defaultUser, '--account', DEFAULTS.defaultAccount);
    const ak = /\b([A-Z0-9]{20})\b/.exec(created.join('\n'))![1]!;
    const sk = /\b([A-Za-z0-9]{40})\b/.exec(created.join('\n'))![1]!;
    const s = await openStream(t.url + target, signedHeaders(t.node.port, { ak, sk }, target, PROJECT));
    streams.push(s);
    expect(s.status).toBe(200);
    await endsAfterWithdrawal(t, s, () => admin(t.dataDir, 'keys', 'disable', ak, '--account', DEFAULTS.defaultAccount), a);
  });
});
