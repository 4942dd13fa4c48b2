import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { describe, expect, test } from 'vitest';
import { DEFAULTS } from '../../src/config.js';
import { DEFAULT_PROJECT_ID } from '../../src/runtime/node.js';
import { GLOBAL_TABLES, PROJECT_TABLES, storeTables } from '../../src/store/snapshots.js';
import { admin } from '../helpers/admin.js';
import { buildApk } from '../helpers/apk.js';
import { sendSigned, type Key, type Reply } from '../helpers/http.js';
import { buildTar, putObject } from '../helpers/obs.js';
import { makeDataDir, nodesPerTest, removeDataDir, startTestNode, waitFor, type TestNode } from '../helpers/node.js';
import { addTenant } from '../helpers/tenant.js';

/** Snapshots and reset over real HTTP, signed as the SDK signs, on the default fleet (2 servers × 4 phones). */

interface Tenant {
  project: string;
  key: Key;
}
const A: Tenant = { project: DEFAULT_PROJECT_ID, key: { ak: DEFAULTS.defaultAk, sk: DEFAULTS.defaultSk } };

const startNode = nodesPerTest({ auth: 'verify' });

function client(t: TestNode, tenant: Tenant) {
  const call = (method: string, path: string, body?: unknown): Promise<Reply> => sendSigned(t.node.port, tenant.key, method, path, { body, projectId: tenant.project });
  const ctl = (method: string, path: string, body?: unknown) => call(method, `/_opencph/v1/${tenant.project}${path}`, body);
  const cph = (method: string, path: string, body?: unknown) => call(method, `/v1/${tenant.project}/cloud-phone${path}`, body);
  const ok = async (r: Promise<Reply>) => {
    const reply = await r;
    expect(reply.status, reply.text).toBe(200);
    return reply.body;
  };
  /** Tag a server (BatchCreateServerTags answers 204). */
  const tag = async (serverId: string, tags: { key: string; value: string }[]) => {
    const r = await call('POST', `/v1/${tenant.project}/cph-server/${serverId}/tags/action`, { action: 'create', tags });
    expect(r.status, r.text).toBe(204);
  };
  /** Submit and wait for every job of the request; answers the request id and its jobs. */
  const run = async (path: string, body: unknown) => {
    const { request_id } = await ok(cph('POST', path, body));
    const jobs = await waitFor(async () => {
      const list = (await cph('GET', `/jobs?request_id=${request_id}`)).body.jobs;
      return list.length > 0 && list.every((j: any) => j.status !== 1) ? list : undefined;
    });
    return { request_id: request_id as string, jobs };
  };
  const phones = async () => (await ok(cph('GET', '/phones?limit=100'))).phones as any[];
  const withoutRequestId = ({ request_id: _, ...rest }: any) => rest;
  /** What a test compares before and after: everything the API shows of the project. */
  const view = async (phoneId: string, serverId: string, requestIds: string[]) => ({
    phones: await phones(),
    phone: withoutRequestId(await ok(cph('GET', `/phones/${phoneId}`))),
    servers: (await ok(cph('GET', '/servers'))).servers,
    jobs: await Promise.all(requestIds.map(async (id) => (await ok(cph('GET', `/jobs?request_id=${id}`))).jobs)),
    rules: (await ok(ctl('GET', '/rules'))).rules,
    faults: withoutRequestId(await ok(ctl('GET', '/faults'))),
    tags: (await ok(call('GET', `/v1/${tenant.project}/cph-server/${serverId}/tags`))).tags,
  });
  /** `script`'s output on one phone through a sync shell (RunSyncCommand). */
  const syncShell = async (phoneId: string, script: string) => {
    const body = await ok(cph('POST', '/phones/sync-commands', { command: 'shell', content: script, phone_ids: [phoneId] }));
    expect(body.jobs[0].status, JSON.stringify(body)).toBe(2);
    return body.jobs[0].execute_msg as string;
  };
  return { call, ctl, cph, ok, tag, run, phones, view, syncShell };
}

/** Changes of every kind the project's state holds, through the API. */
async function changeALot(t: TestNode, c: ReturnType<typeof client>, phoneId: string, otherPhoneId: string, serverId: string) {
  await c.ok(c.cph('PUT', `/phones/${phoneId}`, { phone_name: 'renamed-phone' }));
  const restart = await c.run('/phones/batch-restart', { phones: [{ phone_id: otherPhoneId }] });
  expect(restart.jobs[0].status).toBe(2);
  const apk = putObject(t.node.config.obsDir, 'apps', 'added.apk', buildApk({ packageName: 'com.example.added', versionCode: 3, versionName: '3.0' }));
  expect((await c.run('/phones/commands', { command: 'install', content: apk, phone_ids: [phoneId] })).jobs[0].status).toBe(2);
  const tar = putObject(t.node.config.obsDir, 'files', 'pushed.tar', await buildTar({ 'data/local/tmp/pushed.txt': 'pushed after the save' }));
  expect((await c.run('/phones/commands', { command: 'push', content: tar, phone_ids: [phoneId] })).jobs[0].status).toBe(2);
  await c.ok(c.ctl('POST', '/rules', { match: { operation: 'phone.stop' }, outcome: { fail: { error_code: 'CPS.0022' } } }));
  await c.ok(c.ctl('POST', '/faults', { phones: [{ phone_id: otherPhoneId, status: -7 }], servers: [{ server_id: serverId, stuck_adb_slots: 1 }] }));
  await c.tag(serverId, [{ key: 'env', value: 'changed' }, { key: 'added', value: 'yes' }]);
  return restart.request_id;
}

describe('snapshots (/_opencph/v1/{project_id}/snapshots)', () => {
  test('save, change a lot, restore: the project is as saved', async () => {
    const t = await startNode();
    const c = client(t, A);
    const [p0, p1] = await c.phones();
    const phoneId = p0.phone_id;
    const serverId = p0.server_id;
    // State before the save: an app, a tag, a finished job.
    const apk = putObject(t.node.config.obsDir, 'apps', 'kept.apk', buildApk({ packageName: 'com.example.kept', versionCode: 1, versionName: '1.0' }));
    const install = await c.run('/phones/commands', { command: 'install', content: apk, phone_ids: [phoneId] });
    expect(install.jobs[0].status).toBe(2);
    const kept = putObject(t.node.config.obsDir, 'files', 'kept.tar', await buildTar({ 'data/local/tmp/kept.txt': 'kept before the save: ü' }));
    expect((await c.run('/phones/commands', { command: 'push', content: kept, phone_ids: [phoneId] })).jobs[0].status).toBe(2);
    await c.tag(serverId, [{ key: 'env', value: 'saved' }]);
    // Eight jobs of one request: ListJobs shows them in submission order before and after.
    const all = await c.run('/phones/batch-restart', { phones: (await c.phones()).map((p) => ({ phone_id: p.phone_id })) });
    expect(all.jobs).toHaveLength(8);
    const before = await c.view(phoneId, serverId, [install.request_id, all.request_id]);
    const packagesBefore = await c.syncShell(phoneId, 'pm list packages -3');
    expect(packagesBefore).toContain('com.example.kept');

    const saved = await c.ok(c.ctl('POST', '/snapshots', { name: 'base' }));
    expect(saved.snapshot).toEqual({ name: 'base', create_time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/), rows: expect.any(Number) });
    expect(saved.snapshot.rows).toBeGreaterThan(8 + 2);
    expect((await c.ok(c.ctl('GET', '/snapshots'))).snapshots).toEqual([saved.snapshot]);

    const restartRequest = await changeALot(t, c, phoneId, p1.phone_id, serverId);
    const changed = await c.view(phoneId, serverId, [install.request_id, all.request_id, restartRequest]);
    expect(changed.phones.find((p: any) => p.phone_id === phoneId).phone_name).toBe('renamed-phone');
    expect(changed.rules).toHaveLength(1);
    expect(changed.faults.phones).toHaveLength(1);
    expect(changed.tags).toHaveLength(2);
    expect((await c.ok(c.ctl('GET', '/faults'))).servers).toEqual([expect.objectContaining({ server_id: serverId, stuck_adb_slots: 1 })]);

    const restored = await c.ok(c.ctl('POST', '/snapshots/base/restore'));
    expect(restored.snapshot).toEqual(saved.snapshot);
    const after = await c.view(phoneId, serverId, [install.request_id, all.request_id, restartRequest]);
    expect(after).toEqual({ ...before, jobs: [...before.jobs, []] });
    expect(await c.syncShell(phoneId, 'pm list packages -3')).toBe(packagesBefore);
    expect((await c.syncShell(phoneId, 'ls /data/local/tmp')).trim()).toBe('kept.txt');
    expect(await c.syncShell(phoneId, 'cat /data/local/tmp/kept.txt')).toBe('kept before the save: ü');
    // Jobs run as before: the held adb slot is gone with the fault.
    const again = (await c.run('/phones/commands', { command: 'shell', content: 'echo again', phone_ids: [p1.phone_id] })).jobs[0];
    expect(again.status).toBe(2);
    // Restored jobs took new seqs, and the sequence stays ahead of them: the newest job is last.
    const seqs = await t.node.handle.db.selectFrom('jobs').select(['job_id', 'seq']).where('project_id', '=', A.project).orderBy('seq').execute();
    expect(seqs.at(-1)!.job_id).toBe(again.job_id);
    expect(new Set(seqs.map((j) => j.seq)).size).toBe(seqs.length);
  });

  test('reset: the first-start fleet with the same ids, no jobs, rules, faults or tags; snapshots stay', async () => {
    const t = await startNode();
    const c = client(t, A);
    const first = await c.phones();
    const firstServers = (await c.ok(c.cph('GET', '/servers'))).servers;
    expect(first).toHaveLength(8);
    await c.ok(c.ctl('POST', '/snapshots', { name: 'kept' }));
    const restartRequest = await changeALot(t, c, first[0].phone_id, first[1].phone_id, first[0].server_id);

    const reset = await c.call('POST', `/_opencph/v1/${A.project}/reset`);
    expect(reset.status, reset.text).toBe(200);
    expect(reset.body).toEqual({ request_id: reset.headers['x-request-id'] });
    const after = await c.view(first[0].phone_id, first[0].server_id, [restartRequest]);
    expect(after.phones).toEqual(first);
    expect(after.servers).toEqual(firstServers);
    expect(after.jobs).toEqual([[]]);
    expect([after.rules, after.faults, after.tags]).toEqual([[], { phones: [], servers: [] }, []]);
    expect(await c.syncShell(first[0].phone_id, 'pm list packages -3')).toBe('');
    expect((await c.ok(c.ctl('GET', '/snapshots'))).snapshots.map((s: any) => s.name)).toEqual(['kept']);
    // A second reset in a row changes nothing more.
    await c.ok(c.call('POST', `/_opencph/v1/${A.project}/reset`));
    expect(await c.phones()).toEqual(first);
  });

  test("tenants: B neither sees nor restores A's snapshots, and A's restore and reset leave B's state alone", async () => {
    const t = await startNode();
    const tenant = await addTenant(t.node, { servers: 1, phonesPerServer: 2 });
    const B: Tenant = { project: tenant.projectId, key: tenant.key };
    const a = client(t, A);
    const b = client(t, B);
    await a.ok(a.ctl('POST', '/snapshots', { name: 'shared-name' }));
    expect((await b.ok(b.ctl('GET', '/snapshots'))).snapshots).toEqual([]);
    const stolen = await b.ctl('POST', '/snapshots/shared-name/restore');
    expect([stolen.status, stolen.body.error_code]).toEqual([404, 'CPS.0975']);
    expect((await b.ctl('DELETE', '/snapshots/shared-name')).status).toBe(404);
    // A's project under B's key: refused before any snapshot is looked at.
    const foreign = await sendSigned(t.node.port, B.key, 'POST', `/_opencph/v1/${A.project}/snapshots/shared-name/restore`, { projectId: A.project });
    expect(foreign.status).toBe(403);
    const foreignReset = await sendSigned(t.node.port, B.key, 'POST', `/_opencph/v1/${A.project}/reset`, { projectId: A.project });
    expect(foreignReset.status).toBe(403);

    // B changes its own state, then A restores and resets.
    const [bPhone] = await b.phones();
    await b.ok(b.cph('PUT', `/phones/${bPhone.phone_id}`, { phone_name: 'b-renamed' }));
    const bRestart = await b.run('/phones/batch-restart', { phones: [{ phone_id: bPhone.phone_id }] });
    await b.ok(b.ctl('POST', '/rules', { match: { operation: 'phone.stop' } }));
    await b.ok(b.ctl('POST', '/snapshots', { name: 'shared-name' }));
    const bBefore = await b.view(bPhone.phone_id, bPhone.server_id, [bRestart.request_id]);
    const aPhone = (await a.phones())[0];
    await a.ok(a.cph('PUT', `/phones/${aPhone.phone_id}`, { phone_name: 'a-renamed' }));

    await a.ok(a.ctl('POST', '/snapshots/shared-name/restore'));
    expect((await a.phones()).find((p) => p.phone_id === aPhone.phone_id).phone_name).toBe(aPhone.phone_name);
    expect(await b.view(bPhone.phone_id, bPhone.server_id, [bRestart.request_id])).toEqual(bBefore);
    await a.ok(a.call('POST', `/_opencph/v1/${A.project}/reset`));
    expect(await b.view(bPhone.phone_id, bPhone.server_id, [bRestart.request_id])).toEqual(bBefore);
    expect((await b.ok(b.ctl('GET', '/snapshots'))).snapshots.map((s: any) => s.name)).toEqual(['shared-name']);

    // B's reset gives B its own first start, and leaves A's snapshot.
    await b.ok(b.call('POST', `/_opencph/v1/${B.project}/reset`));
    expect((await b.phones()).find((p) => p.phone_id === bPhone.phone_id).phone_name).toBe(bPhone.phone_name);
    expect((await b.ok(b.ctl('GET', '/rules'))).rules).toEqual([]);
    expect((await a.ok(a.ctl('GET', '/snapshots'))).snapshots.map((s: any) => s.name)).toEqual(['shared-name']);
  });

  test('names: 1–64 of [A-Za-z0-9._-] (else 400 CPS.0034); a name saved again is replaced; unknown names answer 404 CPS.0975', async () => {
    const t = await startNode();
    const c = client(t, A);
    for (const name of ['', 'has space', 'x'.repeat(65), 'slash/name', 'é', ':first-start']) {
      const r = await c.ctl('POST', '/snapshots', { name });
      expect([r.status, r.body.error_code, r.body.error_msg], name).toEqual([400, 'CPS.0034', 'Parameter: name is invalid.']);
    }
    for (const body of [{}, { name: 1 }, { name: 'a', extra: true }]) expect((await c.ctl('POST', '/snapshots', body)).status).toBe(400);
    const bad = await c.ctl('POST', '/snapshots/has%20space/restore');
    expect([bad.status, bad.body.error_code]).toEqual([400, 'CPS.0034']);

    const first = await c.ok(c.ctl('POST', '/snapshots', { name: 'A.b_c-1' }));
    const [phone] = await c.phones();
    await c.ok(c.ctl('POST', '/rules', { match: { operation: 'phone.stop' } }));
    const second = await c.ok(c.ctl('POST', '/snapshots', { name: 'A.b_c-1' }));
    expect(second.snapshot.rows).toBe(first.snapshot.rows + 1);
    await c.ok(c.ctl('POST', '/snapshots', { name: 'x'.repeat(64) }));
    expect((await c.ok(c.ctl('GET', '/snapshots'))).snapshots.map((s: any) => s.name)).toEqual(['A.b_c-1', 'x'.repeat(64)]);
    // The replaced one is what a restore brings back: the rule is there.
    await c.ok(c.ctl('DELETE', '/rules'));
    await c.ok(c.ctl('POST', '/snapshots/A.b_c-1/restore'));
    expect((await c.ok(c.ctl('GET', '/rules'))).rules).toHaveLength(1);

    const deleted = await c.ctl('DELETE', '/snapshots/A.b_c-1');
    expect(deleted.status, deleted.text).toBe(200);
    expect(deleted.body).toEqual({ request_id: deleted.headers['x-request-id'] });
    for (const [method, path] of [
      ['POST', '/snapshots/A.b_c-1/restore'],
      ['DELETE', '/snapshots/A.b_c-1'],
      ['POST', '/snapshots/never-saved/restore'],
    ] as const) {
      const r = await c.ctl(method, path);
      expect([r.status, r.body.error_code, r.body.error_msg]).toEqual([404, 'CPS.0975', 'The snapshot does not exist.']);
    }
    expect((await c.phones()).map((p) => p.phone_id)).toContain(phone.phone_id);
  });

  test('snapshots and the first-start state survive a restart of the server', async () => {
    const dataDir = makeDataDir();
    try {
      let t = await startTestNode({ auth: 'verify', dataDir });
      let c = client(t, A);
      const first = await c.phones();
      await c.ok(c.cph('PUT', `/phones/${first[0].phone_id}`, { phone_name: 'saved-name' }));
      const saved = await c.ok(c.ctl('POST', '/snapshots', { name: 'durable' }));
      await c.ok(c.cph('PUT', `/phones/${first[0].phone_id}`, { phone_name: 'later-name' }));
      await t.close();

      t = await startTestNode({ auth: 'verify', dataDir });
      c = client(t, A);
      expect((await c.ok(c.ctl('GET', '/snapshots'))).snapshots).toEqual([saved.snapshot]);
      await c.ok(c.ctl('POST', '/snapshots/durable/restore'));
      expect((await c.phones()).find((p) => p.phone_id === first[0].phone_id).phone_name).toBe('saved-name');
      await c.ok(c.call('POST', `/_opencph/v1/${A.project}/reset`));
      expect(await c.phones()).toEqual(first);
      await t.close();
    } finally {
      await removeDataDir(dataDir);
    }
  });

  test('a store without a first-start state (made by an earlier version) records it at its next start', async () => {
    const dataDir = makeDataDir();
    try {
      let t = await startTestNode({ auth: 'verify', dataDir });
      let c = client(t, A);
      const [phone] = await c.phones();
      await c.ok(c.cph('PUT', `/phones/${phone.phone_id}`, { phone_name: 'before-upgrade' }));
      const restart = await c.run('/phones/batch-restart', { phones: [{ phone_id: phone.phone_id }] });
      await t.node.handle.db.deleteFrom('snapshots').execute();
      await t.close();

      t = await startTestNode({ auth: 'verify', dataDir });
      c = client(t, A);
      const atStart = await c.phones();
      await c.ok(c.cph('PUT', `/phones/${phone.phone_id}`, { phone_name: 'after-upgrade' }));
      await c.ok(c.call('POST', `/_opencph/v1/${A.project}/reset`));
      // The first-start state is that start's, without its jobs.
      expect(await c.phones()).toEqual(atStart);
      expect(atStart.find((p) => p.phone_id === phone.phone_id).phone_name).toBe('before-upgrade');
      expect((await c.ok(c.cph('GET', `/jobs?request_id=${restart.request_id}`))).jobs).toEqual([]);
      await t.close();
    } finally {
      await removeDataDir(dataDir);
    }
  });

  test('opencph admin snapshots: save, list, restore, reset, delete, beside a running server', async () => {
    const dataDir = makeDataDir();
    try {
      const t = await startTestNode({ auth: 'verify', dataDir });
      const c = client(t, A);
      const first = await c.phones();
      const rename = (name: string) => c.ok(c.cph('PUT', `/phones/${first[0].phone_id}`, { phone_name: name }));
      const nameNow = async () => (await c.phones()).find((p) => p.phone_id === first[0].phone_id).phone_name;
      const project = ['--project', A.project];
      await rename('saved-by-admin');
      expect(await admin(dataDir, 'snapshots', 'save', 'one', ...project)).toEqual([expect.stringMatching(/^saved snapshot one: \d+ rows$/)]);
      const listed = await admin(dataDir, 'snapshots', 'list', ...project);
      expect(listed[0]).toMatch(/^NAME\s+CREATED\s+ROWS$/);
      expect(listed.slice(1)).toEqual([expect.stringMatching(/^one\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s+\d+$/)]);
      await rename('later');
      expect(await admin(dataDir, 'snapshots', 'restore', 'one', ...project)).toEqual(['restored snapshot one']);
      expect(await nameNow()).toBe('saved-by-admin');
      expect(await admin(dataDir, 'snapshots', 'reset', ...project)).toEqual(['reset the project to its first-start state']);
      expect(await c.phones()).toEqual(first);
      expect(await admin(dataDir, 'snapshots', 'delete', 'one', ...project)).toEqual(['deleted snapshot one']);
      await expect(admin(dataDir, 'snapshots', 'delete', 'one', ...project)).rejects.toThrow('The project has no snapshot "one".');
      await expect(admin(dataDir, 'snapshots', 'save', 'bad name', ...project)).rejects.toThrow('A snapshot name is 1 to 64');
      await expect(admin(dataDir, 'snapshots', 'list', '--project', 'f'.repeat(32))).rejects.toThrow('No project has the id');
      await t.close();
    } finally {
      await removeDataDir(dataDir);
    }
  });

  test('the OpenAPI document lists the five operations under the tag opencph', async () => {
    const t = await startNode();
    const doc = (await t.get('/openapi.json')).body as { paths: Record<string, Record<string, { operationId?: string; tags?: string[] }>> };
    const ops = Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, o]) => [o.operationId, `${method.toUpperCase()} ${path}`, o.tags]));
    const ours = ops.filter(([id]) => ['OpenCphCreateSnapshot', 'OpenCphListSnapshots', 'OpenCphRestoreSnapshot', 'OpenCphDeleteSnapshot', 'OpenCphReset'].includes(String(id)));
    expect(ours.sort()).toEqual([
      ['OpenCphCreateSnapshot', 'POST /_opencph/v1/{project_id}/snapshots', ['opencph']],
      ['OpenCphDeleteSnapshot', 'DELETE /_opencph/v1/{project_id}/snapshots/{name}', ['opencph']],
      ['OpenCphListSnapshots', 'GET /_opencph/v1/{project_id}/snapshots', ['opencph']],
      ['OpenCphReset', 'POST /_opencph/v1/{project_id}/reset', ['opencph']],
      ['OpenCphRestoreSnapshot', 'POST /_opencph/v1/{project_id}/snapshots/{name}/restore', ['opencph']],
    ]);
  });

  test('every table of the store is classified: saved with its project, or global', async () => {
    const t = await startNode();
    const db = t.node.handle.db;
    const classified = new Set([...PROJECT_TABLES.map((x) => x.name), ...Object.keys(GLOBAL_TABLES)]);
    const tables = [...(await storeTables(db))].sort();
    expect(tables.length).toBeGreaterThan(20);
    expect(tables.filter((name) => !classified.has(name)), 'tables neither in PROJECT_TABLES nor in GLOBAL_TABLES of src/store/snapshots.ts').toEqual([]);
    expect(PROJECT_TABLES.filter((x) => x.name in GLOBAL_TABLES)).toEqual([]);
    // Each project table that exists has the column its scope selects by.
    for (const x of PROJECT_TABLES.filter((p) => tables.includes(p.name))) {
      const column = { project: 'project_id', phone: 'phone_id', server: 'server_id', image: 'image_id' }[x.scope];
      await sql`select ${sql.ref(column)} from ${sql.table(x.name)} where 1 = 0`.execute(db);
    }
  });

  test('a restore while a job runs: the restored state wins, the run is dropped', async () => {
    // A restart shows the phone at 4 (restarting) for 3 × 300 ms, then ends at 2.
    const t = await startNode({ simDelayMs: 300 });
    const c = client(t, A);
    const [phone] = await c.phones();
    await c.ok(c.cph('PUT', `/phones/${phone.phone_id}`, { phone_name: 'before-restart' }));
    const saved = await c.ok(c.ctl('POST', '/snapshots', { name: 'idle' }));
    const restart = await c.ok(c.cph('POST', '/phones/batch-restart', { phones: [{ phone_id: phone.phone_id }] }));
    await waitFor(async () => ((await c.ok(c.cph('GET', `/phones/${phone.phone_id}`))).status === 4 ? true : undefined));
    expect(t.node.engine.worker!.inFlight).toBe(1);

    await c.ok(c.ctl('POST', '/snapshots/idle/restore'));
    expect(t.node.engine.worker!.inFlight).toBe(0);
    const detail = await c.ok(c.cph('GET', `/phones/${phone.phone_id}`));
    expect([detail.status, detail.phone_name]).toEqual([2, 'before-restart']);
    expect((await c.ok(c.cph('GET', `/jobs?request_id=${restart.request_id}`))).jobs).toEqual([]);
    // Past the time the restart would have taken, nothing of it was written.
    await sleep(1000);
    expect((await c.ok(c.cph('GET', `/phones/${phone.phone_id}`))).update_time).toBe(detail.update_time);
    expect((await c.ok(c.ctl('GET', '/snapshots'))).snapshots).toEqual([saved.snapshot]);
  });

  test('a snapshot taken while jobs run: after a restore a restart runs again, an adb command fails as after a crash', async () => {
    const t = await startNode();
    const c = client(t, A);
    const [phone, other] = await c.phones();
    // Each hangs for a minute, once.
    await c.ok(c.ctl('POST', '/rules', { match: { operation: 'phone.restart', phone_id: phone.phone_id, times: 1 }, outcome: { duration_ms: 60_000 } }));
    await c.ok(c.ctl('POST', '/rules', { match: { operation: 'phone.shell', phone_id: other.phone_id, times: 1 }, outcome: { duration_ms: 60_000 } }));
    const restart = await c.ok(c.cph('POST', '/phones/batch-restart', { phones: [{ phone_id: phone.phone_id }] }));
    const shell = await c.ok(c.cph('POST', '/phones/commands', { command: 'shell', content: 'echo once', phone_ids: [other.phone_id] }));
    await waitFor(async () => (t.node.engine.worker!.inFlight === 2 ? true : undefined));
    await c.ok(c.ctl('POST', '/snapshots', { name: 'mid-run' }));

    await c.ok(c.ctl('POST', '/snapshots/mid-run/restore'));
    // The hanging runs are dropped; the restart, back in the queue, runs on the fleet (the rule's one use is spent).
    const finished = (requestId: string) =>
      waitFor(async () => {
        const jobs = (await c.ok(c.cph('GET', `/jobs?request_id=${requestId}`))).jobs;
        return jobs.length === 1 && jobs[0].status !== 1 ? jobs[0] : undefined;
      });
    const job = await finished(restart.request_id);
    expect([job.status, job.error_code]).toEqual([2, '']);
    const adb = await finished(shell.request_id);
    expect([adb.status, adb.error_code]).toEqual([-1, 'CPS.0003']);
    expect(adb.error_msg).toContain('was running when the snapshot was taken');
    expect(t.node.engine.worker!.inFlight).toBe(0);
  });
});
