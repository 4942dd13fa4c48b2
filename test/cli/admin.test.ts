import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY_CACHE_MS } from '../../src/auth/keys.js';
import { adminCommand } from '../../src/cli/admin.js';
import { DEFAULTS } from '../../src/config.js';
import { DEFAULT_PROJECT_ID, type RunningNode } from '../../src/runtime/node.js';
import { admin } from '../helpers/admin.js';
import { getToken, passwordAuth, sendSigned, sendWithToken } from '../helpers/http.js';
import { makeDataDir, removeDataDir, startTestNode, type TestNode } from '../helpers/node.js';

describe('opencph admin', () => {
  let dataDir: string;
  let t: TestNode;
  let node: RunningNode;

  beforeAll(() => {
    dataDir = makeDataDir();
  });
  afterAll(async () => {
    await t?.close();
    await removeDataDir(dataDir);
  });

  it('seeds a new store as a first start would, and lists it', async () => {
    expect((await admin(dataDir, 'accounts', 'list'))[1]).toMatch(new RegExp(`^${DEFAULTS.defaultAccount}\\s+[0-9a-f]{32}\\s+yes`));
    expect((await admin(dataDir, 'projects', 'list')).join('\n')).toContain(`${DEFAULTS.defaultAccount}  cn-north-4  ${DEFAULT_PROJECT_ID}`);
    expect((await admin(dataDir, 'users', 'list')).join('\n')).toMatch(new RegExp(`${DEFAULTS.defaultAccount}\\s+${DEFAULTS.defaultUser}\\s+[0-9a-f]{32}\\s+yes\\s+no\\s+cn-north-4`));
    const keys = (await admin(dataDir, 'keys', 'list')).join('\n');
    expect(keys).toContain(DEFAULTS.defaultAk);
    expect(keys).not.toContain(DEFAULTS.defaultSk);
  });

  let projectId = '';
  let key = { ak: '', sk: '' };

  it('creates an account, a user, a project with its own fleet, a grant and a key (secret shown once)', async () => {
    expect((await admin(dataDir, 'accounts', 'create', 'acme'))[0]).toMatch(/^created account acme \([0-9a-f]{32}\)$/);
    expect((await admin(dataDir, 'users', 'create', 'bob', '--account', 'acme', '--password', 'Bob#password1'))[0]).toMatch(/^created user bob/);
    const created = await admin(dataDir, 'projects', 'create', 'cn-south-1', '--account', 'acme', '--servers', '1', '--phones-per-server', '3');
    projectId = /\(([0-9a-f]{32})\)/.exec(created[0]!)![1]!;
    expect((await admin(dataDir, 'users', 'grant', 'bob', 'cn-south-1', '--account', 'acme'))[0]).toContain(projectId);
    const out = await admin(dataDir, 'keys', 'create', '--user', 'bob', '--account', 'acme', '--description', 'ci');
    key = { ak: out[0]!.replace('access key: ', ''), sk: out[1]!.replace('secret key: ', '') };
    expect(key.ak).toMatch(/^[A-Z0-9]{20}$/);
    expect(key.sk).toMatch(/^[A-Za-z0-9]{40}$/);
    const listed = (await admin(dataDir, 'keys', 'list', '--account', 'acme')).join('\n');
    expect(listed).toContain(key.ak);
    expect(listed).not.toContain(key.sk);
  });

  it('refuses what does not make sense, with a message', async () => {
    await expect(admin(dataDir, 'users', 'create', 'eve', '--account', 'acme', '--password', 'short')).rejects.toThrow('at least 8 characters');
    await expect(admin(dataDir, 'users', 'grant', 'bob', 'cn-north-4', '--account', 'acme')).rejects.toThrow('belongs to another account');
    await expect(admin(dataDir, 'accounts', 'create', 'acme')).rejects.toThrow('exists already');
    await expect(admin(dataDir, 'projects', 'create', 'cn-south-1', '--account', 'acme')).rejects.toThrow('exists already');
    await expect(admin(dataDir, 'keys', 'disable', 'NOSUCHKEY')).rejects.toThrow('No access key');
  });

  it('one rule for --account: every users/projects/keys verb takes it, names are looked up in it, lists show every account unless it is given', async () => {
    const program = adminCommand();
    for (const group of ['users', 'projects', 'keys']) {
      const verbs = program.commands.find((c) => c.name() === group)!.commands;
      for (const verb of verbs) expect(verb.options.map((o) => o.long), `${group} ${verb.name()}`).toContain('--account');
    }

    // Lists: every account, the ACCOUNT column first; --account narrows to one.
    const rowsOf = (lines: string[]) => lines.slice(1).map((l) => l.split(/\s+/));
    const accountsIn = (lines: string[]) => [...new Set(rowsOf(lines).map((r) => r[0]))].sort();
    for (const list of [['users', 'list'], ['projects', 'list'], ['keys', 'list']]) {
      const all = await admin(dataDir, ...list);
      expect(all[0], list.join(' ')).toMatch(/^ACCOUNT\s/);
      expect(accountsIn(all), list.join(' ')).toEqual(['acme', DEFAULTS.defaultAccount].sort());
      expect(accountsIn(await admin(dataDir, ...list, '--account', 'acme')), list.join(' ')).toEqual(['acme']);
      expect(accountsIn(await admin(dataDir, ...list, '--account', DEFAULTS.defaultAccount)), list.join(' ')).toEqual([DEFAULTS.defaultAccount]);
      await expect(admin(dataDir, ...list, '--account', 'nosuch')).rejects.toThrow('No account named "nosuch"');
    }
    expect(rowsOf(await admin(dataDir, 'users', 'list', '--account', 'acme')).map((r) => r[1])).toEqual(['bob']);
    expect(rowsOf(await admin(dataDir, 'keys', 'list', '--account', 'acme')).map((r) => r[1])).toEqual([key.ak]);

    // Verbs that name something look in --account, by default the default account.
    await expect(admin(dataDir, 'users', 'disable', 'bob')).rejects.toThrow(`No user "bob" in account "${DEFAULTS.defaultAccount}"`);
    await expect(admin(dataDir, 'keys', 'disable', key.ak)).rejects.toThrow(`Access key ${key.ak} is in account "acme", not "${DEFAULTS.defaultAccount}"`);
    await expect(admin(dataDir, 'keys', 'list', '--user', 'bob')).rejects.toThrow(`No user "bob" in account "${DEFAULTS.defaultAccount}"`);
    expect(rowsOf(await admin(dataDir, 'keys', 'list', '--user', 'bob', '--account', 'acme')).map((r) => r[1])).toEqual([key.ak]);
    expect(await admin(dataDir, 'keys', 'disable', DEFAULTS.defaultAk)).toEqual([`disabled access key ${DEFAULTS.defaultAk}`]);
    expect(await admin(dataDir, 'keys', 'enable', DEFAULTS.defaultAk, '--account', DEFAULTS.defaultAccount)).toEqual([`enabled access key ${DEFAULTS.defaultAk}`]);
  });

  it('what it made works against a server on the same store; disabling takes effect within a second', async () => {
    t = await startTestNode({ auth: 'verify', dataDir });
    node = t.node;
    const phones = `/v1/${projectId}/cloud-phone/phones`;
    const listed = await sendSigned(node.port, key, 'GET', phones);
    expect(listed.status, listed.text).toBe(200);
    expect(listed.body.count).toBe(3);
    expect((await sendSigned(node.port, key, 'GET', `/v1/${DEFAULT_PROJECT_ID}/cloud-phone/phones`)).status).toBe(403);

    const { token } = await getToken(node.port, passwordAuth('bob', 'Bob#password1', 'acme', { name: 'cn-south-1' }));
    expect((await sendWithToken(node.port, token!, 'GET', phones)).status).toBe(200);

    // Tokens are read on every call; a server goes by its copy of an access key for KEY_CACHE_MS.
    const signedStatus = async () => (await sendSigned(node.port, key, 'GET', phones)).status;
    await admin(dataDir, 'keys', 'disable', key.ak, '--account', 'acme');
    expect(await statusWithin(KEY_CACHE_MS, signedStatus, 401)).toBe(401);
    await admin(dataDir, 'keys', 'enable', key.ak, '--account', 'acme');
    expect(await statusWithin(KEY_CACHE_MS, signedStatus, 200)).toBe(200);
    // A lock-out shows in the lists.
    const guess = passwordAuth('bob', 'Guess#password1', 'acme', { name: 'cn-south-1' });
    for (let i = 0; i < 5; i++) expect((await getToken(node.port, guess)).status).toBe(401);
    expect((await admin(dataDir, 'users', 'list', '--account', 'acme'))[1]).toMatch(/^acme\s+bob\s+[0-9a-f]{32}\s+yes\s+until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s+cn-south-1$/);
    await admin(dataDir, 'users', 'disable', 'bob', '--account', 'acme');
    expect((await sendWithToken(node.port, token!, 'GET', phones)).status).toBe(401);
    expect(await statusWithin(KEY_CACHE_MS, signedStatus, 401)).toBe(401);
  });
});

/** The status `call` answers once it answers `wanted`, or its last answer after `ms` and a margin. */
async function statusWithin(ms: number, call: () => Promise<number>, wanted: number): Promise<number> {
  const deadline = Date.now() + ms + 500;
  for (;;) {
    const status = await call();
    if (status === wanted || Date.now() > deadline) return status;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('first start with other default credentials', () => {
  it('seeds the access key, user and password given by flags instead of the documented ones', async () => {
    const t = await startTestNode({ auth: 'verify', defaultAccount: 'lab', defaultUser: 'ops', defaultPassword: 'Ops#password99', defaultAk: 'LABAK000000000000001', defaultSk: 'LabSecretKey000000000000000000000000000' });
    const node = t.node;
    try {
      const phones = `/v1/${DEFAULT_PROJECT_ID}/cloud-phone/phones`;
      expect((await sendSigned(node.port, { ak: 'LABAK000000000000001', sk: 'LabSecretKey000000000000000000000000000' }, 'GET', phones)).status).toBe(200);
      expect((await sendSigned(node.port, { ak: DEFAULTS.defaultAk, sk: DEFAULTS.defaultSk }, 'GET', phones)).status).toBe(401);
      expect((await getToken(node.port, passwordAuth('ops', 'Ops#password99', 'lab', { id: DEFAULT_PROJECT_ID }))).status).toBe(201);
    } finally {
      await t.close();
    }
  });

  it('takes the same flags in opencph admin, when it is the first to open the store', async () => {
    const dir = makeDataDir();
    try {
      const keys = await admin(dir, '--default-account', 'lab', '--default-user', 'ops', '--default-ak', 'LABAK000000000000002', 'keys', 'list', '--account', 'lab');
      expect(keys.join('\n')).toMatch(/lab\s+LABAK000000000000002\s+ops\s+yes/);
      // --account defaults to the default account these flags name.
      await admin(dir, '--default-account', 'lab', 'users', 'create', 'kim', '--password', 'Kim#password1');
      expect((await admin(dir, 'users', 'list')).join('\n')).toMatch(/^lab\s+kim\s/m);
    } finally {
      await removeDataDir(dir);
    }
  });
});
