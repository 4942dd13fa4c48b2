import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccessKey, createAccount, createUser, grantProject, setAccessKeyEnabledByAk, setUserEnabledByName } from '../../src/auth/admin.js';
import { KEY_CACHE_MS } from '../../src/auth/keys.js';
import { hashToken } from '../../src/auth/secrets.js';
import { DEFAULTS } from '../../src/config.js';
import { newId } from '../../src/domain/ids.js';
import { formatUtc } from '../../src/domain/time.js';
import { DEFAULT_PROJECT_ID, type RunningNode } from '../../src/runtime/node.js';
import { createProject } from '../../src/runtime/projects.js';
import { captureLog } from '../helpers/log.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { getToken, passwordAuth, send, sendSigned, sendWithToken, type Key } from '../helpers/http.js';

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);
const DEFAULT_KEY: Key = { ak: DEFAULTS.defaultAk, sk: DEFAULTS.defaultSk };
const PHONES = `/v1/${DEFAULT_PROJECT_ID}/cloud-phone/phones`;
const ADMIN = passwordAuth(DEFAULTS.defaultUser, DEFAULTS.defaultPassword, DEFAULTS.defaultAccount, { id: DEFAULT_PROJECT_ID });
const IAM_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

describe('IAM tokens and AK/SK (--auth verify)', () => {
  let t: TestNode;
  let node: RunningNode;
  let now = T0;
  const deps = () => ({ db: node.handle.db, clock: { now: () => now }, ids: newId });

  beforeAll(async () => {
    t = await startTestNode({ auth: 'verify', servers: 1, phonesPerServer: 2 }, { clock: { now: () => now } });
    node = t.node;
  });
  afterAll(() => t.close());

  describe('token flow', () => {
    it('issues a project-scoped token (201, X-Subject-Token, the body IAM sends) and stores only its hash', async () => {
      const r = await getToken(node.port, ADMIN);
      expect(r.status, r.text).toBe(201);
      expect(r.token).toMatch(/^[A-Za-z0-9_-]{40,}$/);
      const t = r.body.token;
      expect(t.issued_at).toMatch(IAM_TIME);
      expect(t.expires_at).toMatch(IAM_TIME);
      expect(Date.parse(t.expires_at) - Date.parse(t.issued_at)).toBe(24 * 3_600_000);
      expect(Date.parse(t.issued_at)).toBe(T0);
      expect(t.methods).toEqual(['password']);
      expect(t.project).toMatchObject({ id: DEFAULT_PROJECT_ID, name: 'cn-north-4', domain: { name: DEFAULTS.defaultAccount } });
      expect(t.project.domain.id).toMatch(/^[0-9a-f]{32}$/);
      expect(t.user).toMatchObject({ name: DEFAULTS.defaultUser, domain: t.project.domain });
      expect(t.roles.length).toBeGreaterThan(0);
      expect(t.catalog).toEqual([expect.objectContaining({ type: 'cph', endpoints: [expect.objectContaining({ interface: 'public', url: node.url })] })]);

      const rows = await node.handle.db.withTables<{ tokens: { token_hash: string; user_id: string } }>().selectFrom('tokens').selectAll().execute();
      expect(rows.some((row) => row.token_hash === hashToken(r.token!))).toBe(true);
      expect(JSON.stringify(rows)).not.toContain(r.token!);
    });

    it('takes the scope by project name, and leaves out the catalog with nocatalog', async () => {
      const r = await getToken(node.port, passwordAuth(DEFAULTS.defaultUser, DEFAULTS.defaultPassword, DEFAULTS.defaultAccount, { name: 'cn-north-4' }), '?nocatalog=true');
      expect(r.status, r.text).toBe(201);
      expect(r.body.token.project.id).toBe(DEFAULT_PROJECT_ID);
      expect(r.body.token.catalog).toBeUndefined();
    });

    it('lets the token call CPH, verifies it, and refuses it once expired (injected clock)', async () => {
      const { token } = await getToken(node.port, ADMIN);
      const ok = await sendWithToken(node.port, token!, 'GET', PHONES);
      expect(ok.status, ok.text).toBe(200);
      expect(ok.body.count).toBe(2);

      const check = await send(node.port, 'GET', '/v3/auth/tokens', { 'X-Auth-Token': token!, 'X-Subject-Token': token! });
      expect(check.status, check.text).toBe(200);
      expect(check.headers['x-subject-token']).toBe(token);
      expect(check.body.token.project.id).toBe(DEFAULT_PROJECT_ID);

      const before = now;
      try {
        now = T0 + 24 * 3_600_000 - 1;
        expect((await sendWithToken(node.port, token!, 'GET', PHONES)).status).toBe(200);
        now = T0 + 24 * 3_600_000;
        const expired = await sendWithToken(node.port, token!, 'GET', PHONES);
        expect(expired.status).toBe(401);
        expect(expired.body).toMatchObject({ error_code: 'APIGW.0301' });
        expect(expired.body.error_msg).toMatch(/token expires.*expires_at: \d{4}-/);
        // Checked by someone else (signed with AK/SK): an expired subject token is not found.
        const gone = await sendSigned(node.port, DEFAULT_KEY, 'GET', '/v3/auth/tokens', { now, headers: { 'X-Subject-Token': token! } });
        expect(gone.status, gone.text).toBe(404);
        expect(gone.body.error_code).toBe('IAM.0005');
      } finally {
        now = before;
      }
    });

    it('refuses unknown and made-up tokens', async () => {
      const r = await sendWithToken(node.port, 'not-a-token', 'GET', PHONES);
      expect(r.status).toBe(401);
      expect(r.body.error_msg).toContain('decrypt token fail');
    });

    it('answers a wrong password, an unknown user and a disabled user with 401 and a clear message', async () => {
      const wrong = await getToken(node.port, passwordAuth(DEFAULTS.defaultUser, 'not the password', DEFAULTS.defaultAccount, { id: DEFAULT_PROJECT_ID }));
      expect(wrong.status).toBe(401);
      expect(wrong.body).toMatchObject({ error_code: 'IAM.0002', error_msg: 'The username or password is wrong.' });
      expect(wrong.token).toBeUndefined();
      expect(wrong.body.request_id).toBe(wrong.headers['x-request-id']);

      const unknown = await getToken(node.port, passwordAuth('nobody', DEFAULTS.defaultPassword, DEFAULTS.defaultAccount, { id: DEFAULT_PROJECT_ID }));
      expect(unknown.status).toBe(401);
      expect(unknown.body.error_msg).toBe(wrong.body.error_msg);

      await createUser(deps(), { account: DEFAULTS.defaultAccount, name: 'carol', password: 'Carol#password1' });
      await grantProject(deps(), { account: DEFAULTS.defaultAccount, user: 'carol', project: DEFAULT_PROJECT_ID });
      const carol = passwordAuth('carol', 'Carol#password1', undefined, { id: DEFAULT_PROJECT_ID });
      const { token, status } = await getToken(node.port, carol);
      expect(status).toBe(201);
      // The token works before the user is disabled, so its refusal after is the disabling's doing.
      expect((await sendWithToken(node.port, token!, 'GET', PHONES)).status).toBe(200);
      await setUserEnabledByName(deps(), DEFAULTS.defaultAccount, 'carol', false);
      const disabled = await getToken(node.port, carol);
      expect(disabled.status).toBe(401);
      expect(disabled.body).toMatchObject({ error_code: 'IAM.0003', error_msg: 'The user is disabled.' });
      const withOldToken = await sendWithToken(node.port, token!, 'GET', PHONES);
      expect(withOldToken.status).toBe(401);
      expect(withOldToken.body.error_msg).toContain('the user is disabled');
    });

    it('locks a user after 5 consecutive wrong passwords, for 5 minutes, with one answer for any password', async () => {
      await createUser(deps(), { account: DEFAULTS.defaultAccount, name: 'erin', password: 'Erin#password1' });
      await grantProject(deps(), { account: DEFAULTS.defaultAccount, user: 'erin', project: DEFAULT_PROJECT_ID });
      const right = passwordAuth('erin', 'Erin#password1', DEFAULTS.defaultAccount, { id: DEFAULT_PROJECT_ID });
      const wrong = passwordAuth('erin', 'Guess#password1', DEFAULTS.defaultAccount, { id: DEFAULT_PROJECT_ID });
      // A success in between starts the count again.
      for (let i = 0; i < 4; i++) expect((await getToken(node.port, wrong)).body.error_code).toBe('IAM.0002');
      expect((await getToken(node.port, right)).status).toBe(201);
      for (let i = 0; i < 5; i++) expect((await getToken(node.port, wrong)).body.error_code).toBe('IAM.0002');

      const locked = await getToken(node.port, right);
      expect(locked.status).toBe(401);
      expect(locked.token).toBeUndefined();
      expect(locked.body.request_id).toBe(locked.headers['x-request-id']);
      expect(locked.body.error_code).toBe('IAM.0006');
      expect(locked.body.error_msg).toBe(`The user is locked for 5 minutes after 5 consecutive failed logins. Try again after ${formatUtc(now + 5 * 60_000)}.`);
      const lockedWrong = await getToken(node.port, wrong);
      expect({ status: lockedWrong.status, ...lockedWrong.body, request_id: '' }).toEqual({ status: locked.status, ...locked.body, request_id: '' });
      // Other users are not concerned.
      expect((await getToken(node.port, ADMIN)).status).toBe(201);

      const before = now;
      try {
        now = before + 5 * 60_000 - 1000;
        expect((await getToken(node.port, right)).body.error_code).toBe('IAM.0006');
        now = before + 5 * 60_000 + 1000;
        expect((await getToken(node.port, right)).status).toBe(201);
      } finally {
        now = before;
      }
    });

    it('refuses a scope the user does not have, and malformed requests', async () => {
      const other = await createProject(deps(), { account: DEFAULTS.defaultAccount, name: 'eu-west-101', servers: 0, phonesPerServer: 0 });
      const r = await getToken(node.port, passwordAuth(DEFAULTS.defaultUser, DEFAULTS.defaultPassword, DEFAULTS.defaultAccount, { id: other.project_id }));
      expect(r.status).toBe(401);
      expect(r.body.error_code).toBe('IAM.0004');
      const missing = await getToken(node.port, passwordAuth(DEFAULTS.defaultUser, DEFAULTS.defaultPassword, DEFAULTS.defaultAccount, { name: 'no-such-region' }));
      expect(missing.status).toBe(401);

      for (const body of [{}, { auth: { identity: { methods: ['totp'] } } }, { auth: { identity: ADMIN.auth.identity } }]) {
        const bad = await getToken(node.port, body);
        expect(bad.status, JSON.stringify(body)).toBe(400);
        expect(bad.body.error_code).toBe('IAM.0001');
      }
    });

    it('lists the projects of the caller, by name (how the SDK finds a project id for a region)', async () => {
      const r = await sendSigned(node.port, DEFAULT_KEY, 'GET', '/v3/projects?name=cn-north-4', { now });
      expect(r.status, r.text).toBe(200);
      expect(r.body.projects).toEqual([expect.objectContaining({ id: DEFAULT_PROJECT_ID, name: 'cn-north-4', enabled: true, domain_id: expect.stringMatching(/^[0-9a-f]{32}$/) })]);
      const { token } = await getToken(node.port, ADMIN);
      const all = await sendWithToken(node.port, token!, 'GET', '/v3/projects');
      expect(all.body.projects.map((p: { name: string }) => p.name)).toContain('cn-north-4');
      expect((await send(node.port, 'GET', '/v3/projects')).status).toBe(401);
    });
  });

  describe('AK/SK signatures', () => {
    it('accepts a correctly signed request, and names the reason when refusing one', async () => {
      expect((await sendSigned(node.port, DEFAULT_KEY, 'GET', PHONES, { now })).status).toBe(200);

      const none = await send(node.port, 'GET', PHONES);
      expect(none.status).toBe(401);
      expect(none.body).toMatchObject({ error_code: 'APIGW.0301', request_id: none.headers['x-request-id'] });
      expect(none.body.error_msg).toContain('x-auth-token not found');

      const malformed = await send(node.port, 'GET', PHONES, { Authorization: 'SDK-HMAC-SHA256 Access=x' });
      expect(malformed.body.error_msg).toContain('is not "SDK-HMAC-SHA256 Access=');

      const unknown = await sendSigned(node.port, { ak: 'UNKNOWNAK00000000000', sk: DEFAULT_KEY.sk }, 'GET', PHONES, { now });
      expect(unknown.status).toBe(401);
      expect(unknown.body.error_msg).toContain('ak not exist');

      const wrongProject = await sendSigned(node.port, DEFAULT_KEY, 'GET', PHONES, { now, projectId: 'ffffffffffffffffffffffffffffffff' });
      expect(wrongProject.status).toBe(401);
      expect(wrongProject.body.error_msg).toContain('X-Project-Id');

      const auth = `SDK-HMAC-SHA256 Access=${DEFAULT_KEY.ak}, SignedHeaders=x-sdk-date, Signature=${'0'.repeat(64)}`;
      const incomplete = await send(node.port, 'GET', PHONES, { Authorization: auth, 'X-Sdk-Date': '20260115T120000Z' });
      expect(incomplete.body.error_msg).toContain('SignedHeaders must include host and x-sdk-date');

      const body = { phone_ids: ['p1'] };
      const signed = await sendSigned(node.port, DEFAULT_KEY, 'POST', `${PHONES}/batch-stop`, { now, body });
      expect(signed.status, signed.text).toBe(200);
    });

    it('refuses an X-Sdk-Date more than 15 minutes from the server clock, either way', async () => {
      for (const [offset, status] of [
        [-15 * 60_000 - 1000, 401],
        [15 * 60_000 + 1000, 401],
        [-14 * 60_000, 200],
        [14 * 60_000, 200],
      ] as const) {
        const r = await sendSigned(node.port, DEFAULT_KEY, 'GET', PHONES, { now: now + offset });
        expect(r.status, `${offset}: ${r.text}`).toBe(status);
        if (status === 401) expect(r.body.error_msg).toMatch(/signature expired.*15 minutes.*Signature time \d{8}T\d{6}Z, server time \d{8}T\d{6}Z/);
      }
      const noDate = await send(node.port, 'GET', PHONES, {
        Authorization: `SDK-HMAC-SHA256 Access=${DEFAULT_KEY.ak}, SignedHeaders=host;x-sdk-date, Signature=${'0'.repeat(64)}`,
      });
      expect(noDate.body.error_msg).toContain('X-Sdk-Date is missing');
    });

    it('locks an access key after 5 consecutive signature failures, for 5 minutes', async () => {
      const key = await createAccessKey(deps(), { account: DEFAULTS.defaultAccount, user: DEFAULTS.defaultUser });
      const bad = { ak: key.ak, sk: 'not-the-secret-key-at-all' };
      // A success in between starts the count again.
      for (let i = 0; i < 4; i++) expect((await sendSigned(node.port, bad, 'GET', PHONES, { now })).body.error_msg).toContain('verify aksk signature fail');
      expect((await sendSigned(node.port, key, 'GET', PHONES, { now })).status).toBe(200);
      for (let i = 0; i < 5; i++) expect((await sendSigned(node.port, bad, 'GET', PHONES, { now })).body.error_msg).toContain('verify aksk signature fail');

      const locked = await sendSigned(node.port, key, 'GET', PHONES, { now });
      expect(locked.status).toBe(401);
      expect(locked.body.error_msg).toContain('AK access failed to reach the limit');
      const before = now;
      try {
        now = before + 5 * 60_000 - 1000;
        expect((await sendSigned(node.port, key, 'GET', PHONES, { now })).status).toBe(401);
        now = before + 5 * 60_000 + 1000;
        expect((await sendSigned(node.port, key, 'GET', PHONES, { now })).status).toBe(200);
      } finally {
        now = before;
      }
    });

    it('refuses disabled keys and keys of disabled users once the copy of the key a node keeps runs out', async () => {
      await createUser(deps(), { account: DEFAULTS.defaultAccount, name: 'dave', password: 'Dave#password1' });
      await grantProject(deps(), { account: DEFAULTS.defaultAccount, user: 'dave', project: DEFAULT_PROJECT_ID });
      const key = await createAccessKey(deps(), { account: DEFAULTS.defaultAccount, user: 'dave' });
      const before = now;
      try {
        expect((await sendSigned(node.port, key, 'GET', PHONES, { now })).status).toBe(200);
        await setAccessKeyEnabledByAk(deps(), DEFAULTS.defaultAccount, key.ak, false);
        // The node goes by the copy it read for KEY_CACHE_MS, then reads the key again.
        now += KEY_CACHE_MS - 1;
        expect((await sendSigned(node.port, key, 'GET', PHONES, { now })).status).toBe(200);
        now += 1;
        expect((await sendSigned(node.port, key, 'GET', PHONES, { now })).body.error_msg).toContain('access key is disabled');
        await setAccessKeyEnabledByAk(deps(), DEFAULTS.defaultAccount, key.ak, true);
        await setUserEnabledByName(deps(), DEFAULTS.defaultAccount, 'dave', false);
        now += KEY_CACHE_MS;
        expect((await sendSigned(node.port, key, 'GET', PHONES, { now })).body.error_msg).toContain('the user is disabled');
      } finally {
        now = before;
      }
    });

    it('answers 403 CPS.0001 to a valid key on a project its user does not have', async () => {
      const account = await createAccount(deps(), 'other-co');
      const p = await createProject(deps(), { account: account.name, name: 'ap-southeast-9', servers: 1, phonesPerServer: 1 });
      const r = await sendSigned(node.port, DEFAULT_KEY, 'GET', `/v1/${p.project_id}/cloud-phone/phones`, { now });
      expect(r.status).toBe(403);
      expect(r.body.error_code).toBe('CPS.0001');
    });

    it('never echoes a secret in an answer', async () => {
      const answers = [
        await sendSigned(node.port, { ak: DEFAULT_KEY.ak, sk: 'wrong' }, 'GET', PHONES, { now }),
        await getToken(node.port, passwordAuth(DEFAULTS.defaultUser, 'Wrong#password', DEFAULTS.defaultAccount, { id: DEFAULT_PROJECT_ID })),
      ];
      for (const a of answers) {
        expect(a.text).not.toContain(DEFAULT_KEY.sk);
        expect(a.text).not.toContain('Wrong#password');
      }
    });
  });
});

describe('lockout is counted in the database', () => {
  it('is shared by two nodes on one store, for access keys and users; each lock-out is logged at warn without secrets', async () => {
    let now = T0;
    const clock = { now: () => now };
    const logA = captureLog('warn');
    const logB = captureLog('warn');
    const a = await startTestNode({ auth: 'verify', servers: 0, logLevel: 'warn' }, { clock, logger: logA.logger });
    const b = await startTestNode({ auth: 'verify', database: a.node.config.database, logLevel: 'warn' }, { clock, logger: logB.logger });
    try {
      const bad = { ak: DEFAULT_KEY.ak, sk: 'wrong-secret-key-0000' };
      for (const n of [a, a, b, a, b]) expect((await sendSigned(n.node.port, bad, 'GET', PHONES, { now })).status).toBe(401);
      for (const n of [a, b]) expect((await sendSigned(n.node.port, DEFAULT_KEY, 'GET', PHONES, { now })).body.error_msg).toContain('AK access failed to reach the limit');

      const wrongPassword = 'Guess#password-77';
      const wrong = passwordAuth(DEFAULTS.defaultUser, wrongPassword, DEFAULTS.defaultAccount, { id: DEFAULT_PROJECT_ID });
      for (const n of [b, a, b, a, a]) expect((await getToken(n.node.port, wrong)).body.error_code).toBe('IAM.0002');
      for (const n of [a, b]) expect((await getToken(n.node.port, ADMIN)).body.error_code).toBe('IAM.0006');

      // One line per lock-out, on the node whose failure set it.
      const lockLines = [...logA.lines, ...logB.lines].filter((l) => l.includes('locked after'));
      expect(lockLines).toHaveLength(2);
      const [keyLock, userLock] = [lockLines.find((l) => l.includes('access key locked'))!, lockLines.find((l) => l.includes('user locked'))!];
      expect(logB.lines).toContain(keyLock);
      expect(logA.lines).toContain(userLock);
      expect(JSON.parse(keyLock)).toMatchObject({ level: 40, accessKey: DEFAULT_KEY.ak, user: DEFAULTS.defaultUser, lockedUntil: formatUtc(T0 + 5 * 60_000) });
      expect(JSON.parse(userLock)).toMatchObject({ level: 40, user: DEFAULTS.defaultUser, account: DEFAULTS.defaultAccount, lockedUntil: formatUtc(T0 + 5 * 60_000) });
      const logged = [...logA.lines, ...logB.lines].join('');
      for (const secret of [DEFAULT_KEY.sk, bad.sk, DEFAULTS.defaultPassword, wrongPassword]) expect(logged).not.toContain(secret);
      // A signature is 64 hex digits; ids are 32.
      expect(logged).not.toMatch(/[0-9a-f]{64}/);

      now += 5 * 60_000 + 1;
      for (const n of [a, b]) {
        expect((await sendSigned(n.node.port, DEFAULT_KEY, 'GET', PHONES, { now })).status).toBe(200);
        expect((await getToken(n.node.port, ADMIN)).status).toBe(201);
      }
    } finally {
      await b.close();
      await a.close();
    }
  });
});

describe('--auth accept and --auth off', () => {
  it('accept: any well-formed signature or token is taken for the default project only', async () => {
    const t = await startTestNode({ auth: 'accept', servers: 1, phonesPerServer: 1 });
    const node = t.node;
    try {
      const anyKey = { ak: 'ANYTHING', sk: 'whatever' };
      expect((await sendSigned(node.port, anyKey, 'GET', PHONES)).status).toBe(200);
      expect((await sendWithToken(node.port, 'any-token', 'GET', PHONES)).status).toBe(200);
      expect((await send(node.port, 'GET', PHONES, { Authorization: 'SDK-HMAC-SHA256 nonsense' })).status).toBe(401);
      expect((await send(node.port, 'GET', PHONES)).status).toBe(401);
      const p = await createProject({ db: node.handle.db, clock: { now: () => Date.now() }, ids: newId }, { account: DEFAULTS.defaultAccount, name: 'sa-brazil-9', servers: 0, phonesPerServer: 0 });
      expect((await sendWithToken(node.port, 'any-token', 'GET', `/v1/${p.project_id}/cloud-phone/phones`)).status).toBe(403);
    } finally {
      await t.close();
    }
  });

  it('off: no credentials needed; passwords are still checked when a token is asked for', async () => {
    const t = await startTestNode({ auth: 'off', servers: 1, phonesPerServer: 1 });
    const node = t.node;
    try {
      expect((await send(node.port, 'GET', PHONES)).status).toBe(200);
      expect((await getToken(node.port, passwordAuth(DEFAULTS.defaultUser, 'wrong password', DEFAULTS.defaultAccount, { id: DEFAULT_PROJECT_ID }))).status).toBe(401);
      expect((await getToken(node.port, ADMIN)).status).toBe(201);
    } finally {
      await t.close();
    }
  });
});
