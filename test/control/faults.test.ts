import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEFAULTS } from '../../src/config.js';
import { DEFAULT_PROJECT_ID } from '../../src/runtime/node.js';
import { sendSigned, type Key, type Reply } from '../helpers/http.js';
import { startTestNode, waitFor, type TestNode } from '../helpers/node.js';
import { addTenant } from '../helpers/tenant.js';

/** Faults over real HTTP, signed as the SDK signs, with a second tenant to show isolation. */
describe('faults (/_opencph/v1/{project_id}/faults)', () => {
  let node: TestNode;
  const a = { project: DEFAULT_PROJECT_ID, key: { ak: DEFAULTS.defaultAk, sk: DEFAULTS.defaultSk } as Key };
  const b = { project: '', key: { ak: '', sk: '' } as Key };

  const call = (t: { project: string; key: Key }, method: string, path: string, body?: unknown): Promise<Reply> =>
    sendSigned(node.node.port, t.key, method, path, {
      body,
      projectId: t.project,
      headers: body === undefined ? {} : { 'content-length': String(Buffer.byteLength(JSON.stringify(body))) },
    });
  const faults = (t: typeof a, method: string, body?: unknown) => call(t, method, `/_opencph/v1/${t.project}/faults`, body);
  const cph = (t: typeof a, method: string, path: string, body?: unknown) => call(t, method, `/v1/${t.project}/cloud-phone${path}`, body);

  /** Submit a batch and wait for its jobs; returns them. */
  async function run(t: typeof a, path: string, body: unknown): Promise<any[]> {
    const r = await cph(t, 'POST', path, body);
    expect(r.status, r.text).toBe(200);
    return waitFor(async () => {
      const jobs = (await cph(t, 'GET', `/jobs?request_id=${r.body.request_id}`)).body.jobs;
      return jobs.length > 0 && jobs.every((j: any) => j.status !== 1) ? jobs : undefined;
    });
  }
  const phoneStatus = async (t: typeof a, phoneId: string) => (await cph(t, 'GET', `/phones/${phoneId}`)).body.status;
  const serverStatus = async (t: typeof a, serverId: string) => (await cph(t, 'GET', `/servers/${serverId}`)).body.status;
  const shell = (t: typeof a, phoneId: string) => run(t, '/phones/commands', { command: 'shell', content: 'echo hi', phone_ids: [phoneId] });

  let phonesA: { phone_id: string; server_id: string }[] = [];
  let phonesB: { phone_id: string; server_id: string }[] = [];

  beforeAll(async () => {
    node = await startTestNode({ auth: 'verify', servers: 2, phonesPerServer: 2 });
    const tenant = await addTenant(node.node, { servers: 1, phonesPerServer: 2 });
    b.project = tenant.projectId;
    b.key = tenant.key;
    phonesA = (await cph(a, 'GET', '/phones')).body.phones;
    phonesB = (await cph(b, 'GET', '/phones')).body.phones;
  });
  afterAll(async () => {
    await node?.close();
  });

  test('an abnormal phone shows -7, refuses adb commands with CPS.0022, and a restart brings it back to 2', async () => {
    const phone = phonesA[0]!.phone_id;
    const before = (await cph(a, 'GET', `/phones/${phone}`)).body.update_time;
    const set = await faults(a, 'POST', { phones: [{ phone_id: phone, status: -7 }] });
    expect(set.status, set.text).toBe(200);
    expect(set.body.phones).toEqual([{ phone_id: phone, status: -7, update_time: expect.any(String) }]);
    expect(await phoneStatus(a, phone)).toBe(-7);
    expect((await cph(a, 'GET', '/phones?status=-7')).body.phones.map((p: any) => p.phone_id)).toEqual([phone]);
    expect((await cph(a, 'GET', `/phones/${phone}`)).body.update_time >= before).toBe(true);
    const listed = await faults(a, 'GET');
    expect(listed.body.phones.map((p: any) => [p.phone_id, p.status])).toEqual([[phone, -7]]);

    const [failed] = await shell(a, phone);
    expect([failed.status, failed.error_code]).toEqual([-1, 'CPS.0022']);
    const [restart] = await run(a, '/phones/batch-restart', { phones: [{ phone_id: phone }] });
    expect(restart.status).toBe(2);
    expect(await phoneStatus(a, phone)).toBe(2);
    expect((await shell(a, phone))[0].status).toBe(2);
    expect((await faults(a, 'GET')).body.phones).toEqual([]);
  });

  test('a frozen phone refuses even a restart; setting it back to 2 lets it work', async () => {
    const phone = phonesA[1]!.phone_id;
    await faults(a, 'POST', { phones: [{ phone_id: phone, status: 6 }] });
    expect(await phoneStatus(a, phone)).toBe(6);
    const [restart] = await run(a, '/phones/batch-restart', { phones: [{ phone_id: phone }] });
    expect([restart.status, restart.error_code]).toEqual([-1, 'CPS.0022']);
    expect(await phoneStatus(a, phone)).toBe(6);
    await faults(a, 'POST', { phones: [{ phone_id: phone, status: 2 }] });
    expect((await shell(a, phone))[0].status).toBe(2);
  });

  test("a shut-down server's phones fail with CPS.0038, a restart is refused, and clearing brings it back", async () => {
    const server = phonesA[0]!.server_id;
    const phone = phonesA.find((p) => p.server_id === server)!.phone_id;
    const set = await faults(a, 'POST', { servers: [{ server_id: server, status: 10 }] });
    expect(set.body.servers).toEqual([{ server_id: server, status: 10, update_time: expect.any(String) }]);
    expect(await serverStatus(a, server)).toBe(10);
    expect((await cph(a, 'GET', '/servers?status=10')).body.servers.map((s: any) => s.server_id)).toEqual([server]);
    expect((await shell(a, phone))[0].error_code).toBe('CPS.0038');
    expect((await run(a, '/phones/batch-restart', { phones: [{ phone_id: phone }] }))[0].error_code).toBe('CPS.0038');
    expect((await run(a, '/servers/batch-restart', { server_ids: [server] }))[0].error_code).toBe('CPS.0038');

    const cleared = await faults(a, 'DELETE');
    expect(cleared.status, cleared.text).toBe(200);
    expect(cleared.body.servers.map((s: any) => [s.server_id, s.status])).toEqual([[server, 5]]);
    expect(await serverStatus(a, server)).toBe(5);
    expect((await shell(a, phone))[0].status).toBe(2);
  });

  test('an abnormal server fails its phones with CPS.0038 until a server restart brings it back to 5', async () => {
    const server = phonesA[0]!.server_id;
    const phone = phonesA.find((p) => p.server_id === server)!.phone_id;
    await faults(a, 'POST', { servers: [{ server_id: server, status: 2 }] });
    expect((await shell(a, phone))[0].error_code).toBe('CPS.0038');
    expect((await run(a, '/servers/batch-restart', { server_ids: [server] }))[0].status).toBe(2);
    expect(await serverStatus(a, server)).toBe(5);
    expect((await shell(a, phone))[0].status).toBe(2);
  });

  test('a frozen server refuses a restart; setting it to 5 brings it back', async () => {
    const server = phonesA[0]!.server_id;
    await faults(a, 'POST', { servers: [{ server_id: server, status: 8 }] });
    expect((await run(a, '/servers/batch-restart', { server_ids: [server] }))[0].error_code).toBe('CPS.0038');
    await faults(a, 'POST', { servers: [{ server_id: server, status: 5 }] });
    expect(await serverStatus(a, server)).toBe(5);
  });

  test("stuck adb slots hold a server's adb jobs until released; other jobs still run", async () => {
    const server = phonesA[0]!.server_id;
    const [p1, p2] = phonesA.filter((p) => p.server_id === server).map((p) => p.phone_id);
    const set = await faults(a, 'POST', { servers: [{ server_id: server, stuck_adb_slots: 1 }] });
    expect(set.body.servers).toEqual([{ server_id: server, stuck_adb_slots: 1, update_time: expect.any(String) }]);
    expect((await faults(a, 'GET')).body.servers.map((s: any) => [s.server_id, s.status, s.stuck_adb_slots])).toEqual([[server, 5, 1]]);

    const shellCall = await cph(a, 'POST', '/phones/commands', { command: 'shell', content: 'echo held', phone_ids: [p1] });
    // Submitted after the shell, on another phone of the server: once it has run, the claim has seen the shell and left it.
    expect((await run(a, '/phones/batch-restart', { phones: [{ phone_id: p2 }] }))[0].status).toBe(2);
    const held = (await cph(a, 'GET', `/jobs?request_id=${shellCall.body.request_id}`)).body.jobs;
    expect(held.map((j: any) => j.status)).toEqual([1]);

    await faults(a, 'POST', { servers: [{ server_id: server, stuck_adb_slots: 0 }] });
    const done = await waitFor(async () => {
      const jobs = (await cph(a, 'GET', `/jobs?request_id=${shellCall.body.request_id}`)).body.jobs;
      return jobs[0].status !== 1 ? jobs : undefined;
    });
    expect(done[0].status).toBe(2);
    expect((await faults(a, 'GET')).body.servers).toEqual([]);
  });

  test('bad bodies answer 400 in CPH format', async () => {
    const phone = phonesA[0]!.phone_id;
    const cases: [unknown, string][] = [
      [{}, 'CPS.0034'],
      [{ phones: [] }, 'CPS.0034'],
      [{ phones: [{ phone_id: phone, status: 4 }] }, 'CPS.0010'],
      [{ phones: [{ phone_id: phone, status: -5 }] }, 'CPS.0010'],
      [{ servers: [{ server_id: phonesA[0]!.server_id, status: 13 }] }, 'CPS.0010'],
      [{ phones: [{ phone_id: phone }] }, 'CPS.0010'],
      [{ phones: [{ status: -7 }] }, 'CPS.0034'],
      [{ phones: [{ phone_id: phone, status: '-7' }] }, 'CPS.0010'],
      [{ other: 1 }, 'CPS.0034'],
      [{ phones: 'x' }, 'CPS.0034'],
      [{ servers: [{ server_id: phonesA[0]!.server_id }] }, 'CPS.0034'],
      [{ servers: [{ server_id: phonesA[0]!.server_id, stuck_adb_slots: -1 }] }, 'CPS.0034'],
      [{ servers: [{ server_id: phonesA[0]!.server_id, stuck_adb_slots: 101 }] }, 'CPS.0034'],
    ];
    for (const [body, code] of cases) {
      const r = await faults(a, 'POST', body);
      expect([r.status, r.body.error_code], JSON.stringify(body)).toEqual([400, code]);
      expect(r.body.request_id).toEqual(expect.any(String));
      expect(r.body.error_msg).toEqual(expect.any(String));
    }
    expect(await phoneStatus(a, phone)).toBe(2);
  });

  test("tenants are isolated: another project's ids answer as unknown, listings and clearing stay in the project", async () => {
    const phoneB = phonesB[0]!.phone_id;
    const serverB = phonesB[0]!.server_id;
    await faults(b, 'POST', { phones: [{ phone_id: phoneB, status: -7 }] });

    const r = await faults(a, 'POST', { phones: [{ phone_id: phoneB, status: 6 }, { phone_id: 'no-such-phone', status: 6 }], servers: [{ server_id: serverB, status: 10 }, { server_id: serverB, stuck_adb_slots: 1 }] });
    expect(r.status).toBe(200);
    expect(r.body.phones.map((p: any) => p.error_code)).toEqual(['CPS.0004', 'CPS.0004']);
    expect(r.body.servers.map((s: any) => s.error_code)).toEqual(['CPS.0097', 'CPS.0097']);
    expect((await faults(b, 'GET')).body.servers).toEqual([]);
    expect(await phoneStatus(b, phoneB)).toBe(-7);
    expect(await serverStatus(b, serverB)).toBe(5);

    expect((await faults(a, 'GET')).body.phones).toEqual([]);
    expect((await faults(a, 'DELETE')).body.phones).toEqual([]);
    expect(await phoneStatus(b, phoneB)).toBe(-7);
    // A's key on B's project path: refused by authentication, not answered.
    const cross = await sendSigned(node.node.port, a.key, 'GET', `/_opencph/v1/${b.project}/faults`, { projectId: b.project });
    expect(cross.status).toBeGreaterThanOrEqual(400);
    expect(cross.body.phones).toBeUndefined();

    const cleared = await faults(b, 'DELETE');
    expect(cleared.body.phones.map((p: any) => [p.phone_id, p.status])).toEqual([[phoneB, 2]]);
    expect(await phoneStatus(b, phoneB)).toBe(2);
  });
});
