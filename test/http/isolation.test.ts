import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccessKey, createAccount, createUser, grantProject } from '../../src/auth/admin.js';
import { DEFAULTS } from '../../src/config.js';
import { newId } from '../../src/domain/ids.js';
import { DEFAULT_PROJECT_ID, type RunningNode } from '../../src/runtime/node.js';
import { createProject } from '../../src/runtime/projects.js';
import { getToken, passwordAuth, send, sendSigned, sendWithToken, type Key, type Reply } from '../helpers/http.js';
import { startTestNode, waitFor, type TestNode } from '../helpers/node.js';

/** What one tenant has: a project with its fleet, jobs it ran, and its credentials. */
interface Tenant {
  projectId: string;
  key: Key;
  token: string;
  phoneIds: string[];
  serverIds: string[];
  phoneNames: string[];
  serverNames: string[];
  bandwidthIds: string[];
  requestId: string;
  jobIds: string[];
}

type Caller = (method: string, target: string, body?: unknown) => Promise<Reply>;

const SUBNET = '7d6f2b1d-2c4b-4f60-8b3c-1d2e3f4a5b6c';
const network = {
  tenant_vpc_id: '6c5e1a0c-1b3a-4e5f-9a2b-0c1d2e3f4a5b',
  nics: [{ subnet_id: SUBNET }],
  public_ip: { eip: { type: '5_bgp' }, band_width: { band_width_size: 5, band_width_charge_mode: 0, band_width_share_type: 0 } },
  band_width: { band_width_size: 5, band_width_charge_mode: 0, band_width_share_type: 0 },
};
const buyBody = {
  server_name: 'intruder',
  server_model_name: 'physical.rx1.xlarge',
  phone_model_name: 'rx1.cp.c15.d46.e1v1',
  image_id: '5b4a1a3c0f2a4d8e9c7b6a5d4e3f2a10',
  count: 1,
  keypair_name: 'kp',
  extend_param: { charging_mode: 1 },
  ...network,
};
const changeBody = { phone_model_name: 'rx1.cp.c15.d46.e1v1', image_id: '5b4a1a3c0f2a4d8e9c7b6a5d4e3f2a12', ...network };

describe('tenant isolation: two projects, each with its own fleet and jobs', () => {
  let harness: TestNode;
  let node: RunningNode;
  const tenants: Record<'a' | 'b', Tenant> = {} as never;

  // Node's client sends a DELETE body only with its length given (the SDKs always give one).
  const length = (body: unknown): Record<string, string> => (body === undefined ? {} : { 'content-length': String(Buffer.byteLength(JSON.stringify(body))) });
  const viaKey =
    (t: Tenant): Caller =>
    (method, target, body) =>
      sendSigned(node.port, t.key, method, target, { body, projectId: /^\/v[0-9.]+\/([^/]+)\//.exec(target)?.[1], headers: length(body) });
  const viaToken =
    (t: Tenant): Caller =>
    (method, target, body) =>
      body === undefined
        ? sendWithToken(node.port, t.token, method, target)
        : send(node.port, method, target, { 'content-type': 'application/json', 'X-Auth-Token': t.token, ...length(body) }, JSON.stringify(body));

  async function waitForJobs(call: Caller, projectId: string, requestId: string): Promise<void> {
    await waitFor(async () => {
      const r = await call('GET', `/v1/${projectId}/cloud-phone/jobs?request_id=${requestId}`);
      return r.body.jobs.every((j: { status: number }) => j.status !== 1) ? true : undefined;
    }, 4000);
  }

  async function describeTenant(projectId: string, key: Key, token: string): Promise<Tenant> {
    const t: Tenant = { projectId, key, token, phoneIds: [], serverIds: [], phoneNames: [], serverNames: [], bandwidthIds: [], requestId: '', jobIds: [] };
    const call = viaKey(t);
    const phones = (await call('GET', `/v1/${projectId}/cloud-phone/phones`)).body.phones;
    const servers = (await call('GET', `/v1/${projectId}/cloud-phone/servers`)).body.servers;
    Object.assign(t, {
      phoneIds: phones.map((p: { phone_id: string }) => p.phone_id),
      phoneNames: phones.map((p: { phone_name: string }) => p.phone_name),
      serverIds: servers.map((s: { server_id: string }) => s.server_id),
      serverNames: servers.map((s: { server_name: string }) => s.server_name),
      bandwidthIds: (await call('GET', `/v1/${projectId}/cloud-phone/bandwidths`)).body.band_widths.map((b: { band_width_id: string }) => b.band_width_id),
    });
    const batch = await call('POST', `/v1/${projectId}/cloud-phone/phones/batch-restart`, { phones: t.phoneIds.slice(0, 2).map((phone_id) => ({ phone_id })) });
    expect(batch.status, batch.text).toBe(200);
    t.requestId = batch.body.request_id;
    t.jobIds = batch.body.jobs.map((j: { job_id: string }) => j.job_id);
    await waitForJobs(call, projectId, t.requestId);
    return t;
  }

  beforeAll(async () => {
    harness = await startTestNode({ auth: 'verify', servers: 2, phonesPerServer: 2 });
    node = harness.node;
    const deps = { db: node.handle.db, clock: { now: () => Date.now() }, ids: newId };
    await createAccount(deps, 'tenant-b');
    await createUser(deps, { account: 'tenant-b', name: 'bob', password: 'Bob#password1' });
    const b = await createProject(deps, { account: 'tenant-b', name: 'cn-south-1', servers: 2, phonesPerServer: 3 });
    await grantProject(deps, { account: 'tenant-b', user: 'bob', project: b.project_id });
    const bKey = await createAccessKey(deps, { account: 'tenant-b', user: 'bob' });

    const aToken = (await getToken(node.port, passwordAuth(DEFAULTS.defaultUser, DEFAULTS.defaultPassword, DEFAULTS.defaultAccount, { id: DEFAULT_PROJECT_ID }))).token!;
    const bToken = (await getToken(node.port, passwordAuth('bob', 'Bob#password1', 'tenant-b', { id: b.project_id }))).token!;
    tenants.a = await describeTenant(DEFAULT_PROJECT_ID, { ak: DEFAULTS.defaultAk, sk: DEFAULTS.defaultSk }, aToken);
    tenants.b = await describeTenant(b.project_id, bKey, bToken);
    expect(tenants.a.phoneIds).toHaveLength(4);
    expect(tenants.b.phoneIds).toHaveLength(6);
  });
  afterAll(() => harness.close());

  /** Every CPH route on `victim`'s path, with ids of `victim`'s resources. */
  function routesOn(victim: Tenant): [string, string, unknown?][] {
    const base = `/v1/${victim.projectId}/cloud-phone`;
    const phone = victim.phoneIds[0]!;
    const server = victim.serverIds[0]!;
    return [
      ['GET', `${base}/phones`],
      ['GET', `${base}/phones/${phone}`],
      ['PUT', `${base}/phones/${phone}`, { phone_name: 'taken-over' }],
      ['POST', `${base}/phones/batch-restart`, { phones: [{ phone_id: phone }] }],
      ['POST', `${base}/phones/batch-reset`, { phones: [{ phone_id: phone }] }],
      ['POST', `${base}/phones/batch-stop`, { phone_ids: [phone] }],
      ['POST', `${base}/phones/batch-update-property`, { phones: [{ phone_id: phone, property: '{"ro.taken":"yes"}' }] }],
      ['POST', `${base}/phones/commands`, { command: 'shell', content: 'ls /', phone_ids: [phone] }],
      ['POST', `${base}/phones/commands`, { command: 'shell', content: 'ls /', server_ids: [server] }],
      ['POST', `${base}/phones/sync-commands`, { command: 'shell', content: 'ls /', phone_ids: [phone] }],
      ['GET', `${base}/servers`],
      ['GET', `${base}/servers/${server}`],
      ['PUT', `${base}/servers/${server}`, { server_name: 'taken-over' }],
      ['POST', `${base}/servers/batch-restart`, { server_ids: [server] }],
      ['GET', `${base}/jobs?request_id=${victim.requestId}`],
      ['GET', `${base}/jobs?request_ids=${victim.requestId}`],
      ['GET', `${base}/jobs/${victim.jobIds[0]}`],
      ['GET', `${base}/phone-models`],
      ['GET', `${base}/server-models`],
      ['GET', `${base}/bandwidths`],
      ['PUT', `${base}/bandwidths/${victim.bandwidthIds[0]}`, { band_width_size: 5 }],
      ['PUT', `${base}/servers/open-access`, { servers: [{ server_id: server, keypair_name: 'taken-over' }] }],
      ['POST', `${base}/servers/change-server-model`, { server_id: server, server_model_name: 'physical.rx1.2xlarge', phone_model_name: 'rx1.cp.c15.d92.e1v1' }],
      ['POST', `/v2/${victim.projectId}/cloud-phone/servers`, buyBody],
      ['POST', `/v2.1/${victim.projectId}/cloud-phone/servers`, { ...buyBody, order_param: { charging_mode: 1 } }],
      ['DELETE', `/v2/${victim.projectId}/cloud-phone/servers`, { server_ids: [server] }],
      ['POST', `/v2/${victim.projectId}/cloud-phone/servers/${server}/change`, changeBody],
    ];
  }

  for (const [attacker, victim] of [
    ['a', 'b'],
    ['b', 'a'],
  ] as const) {
    for (const via of ['AK/SK', 'token'] as const) {
      it(`${attacker.toUpperCase()} (${via}) gets 403 CPS.0001 on every route of ${victim.toUpperCase()}'s project`, async () => {
        const t = tenants[attacker];
        const call = via === 'token' ? viaToken(t) : viaKey(t);
        for (const [method, target, body] of routesOn(tenants[victim])) {
          const r = await call(method, target, body);
          expect(r.status, `${method} ${target}: ${r.text}`).toBe(403);
          expect(r.body.error_code).toBe('CPS.0001');
        }
      });
    }
  }

  it("A cannot list, read, change or poll B's resources through A's own project", async () => {
    const a = tenants.a;
    const b = tenants.b;
    const call = viaKey(a);
    const base = `/v1/${a.projectId}/cloud-phone`;
    const [bPhone, bServer] = [b.phoneIds[0]!, b.serverIds[0]!];
    const expectNone = (r: Reply, ...ids: string[]) => {
      expect(r.status, r.text).toBe(200);
      for (const id of ids) expect(r.text).not.toContain(id);
    };

    const phones = await call('GET', `${base}/phones?limit=200`);
    expectNone(phones, ...b.phoneIds, ...b.serverIds);
    expect(phones.body.count).toBe(4);
    expect((await call('GET', `${base}/phones?server_id=${bServer}`)).body.count).toBe(0);
    const servers = await call('GET', `${base}/servers`);
    expectNone(servers, ...b.serverIds);
    expect(servers.body.count).toBe(2);
    expect((await call('GET', `${base}/servers?server_id=${bServer}`)).body.count).toBe(0);

    expect((await call('GET', `${base}/phones/${bPhone}`)).status).toBe(404);
    expect((await call('PUT', `${base}/phones/${bPhone}`, { phone_name: 'taken-over' })).status).toBe(404);
    expect((await call('GET', `${base}/servers/${bServer}`)).status).toBe(404);
    expect((await call('PUT', `${base}/servers/${bServer}`, { server_name: 'taken-over' })).status).toBe(404);

    for (const [path, body] of [
      ['phones/batch-restart', { phones: [{ phone_id: bPhone }] }],
      ['phones/batch-reset', { phones: [{ phone_id: bPhone }] }],
      ['phones/batch-stop', { phone_ids: [bPhone] }],
      ['phones/batch-update-property', { phones: [{ phone_id: bPhone, property: '{"ro.taken":"yes"}' }] }],
      ['phones/commands', { command: 'shell', content: 'settings put global opencph_taken yes', phone_ids: [bPhone] }],
      ['phones/commands', { command: 'shell', content: 'settings put global opencph_taken yes', server_ids: [bServer] }],
      ['phones/sync-commands', { command: 'shell', content: 'settings put global opencph_taken yes', phone_ids: [bPhone] }],
      ['servers/batch-restart', { server_ids: [bServer] }],
    ] as const) {
      const r = await call('POST', `${base}/${path}`, body);
      expect(r.status, r.text).toBe(200);
      expect(r.body.jobs).toHaveLength(1);
      expect(r.body.jobs[0].error_code, `${path}: ${r.text}`).toMatch(/^CPS\.(0005|0097)$/);
    }

    // Server lifecycle and bandwidths: B's ids through A's project answer as unknown ones.
    const v2 = `/v2/${a.projectId}/cloud-phone`;
    const del = await call('DELETE', `${v2}/servers`, { server_ids: [bServer] });
    expect(del.status, del.text).toBe(400);
    expect(del.body.error_code).toBe('CPS.0016');
    expect((await call('POST', `${v2}/servers/${bServer}/change`, changeBody)).status).toBe(404);
    const model = await call('POST', `${base}/servers/change-server-model`, { server_id: bServer, server_model_name: 'physical.rx1.2xlarge', phone_model_name: 'rx1.cp.c15.d92.e1v1' });
    expect(model.status, model.text).toBe(404);
    const keypair = await call('PUT', `${base}/servers/open-access`, { servers: [{ server_id: bServer, keypair_name: 'taken-over' }] });
    expect(keypair.body.jobs[0].error_code, keypair.text).toBe('CPS.0097');
    const bandwidths = await call('GET', `${base}/bandwidths`);
    expectNone(bandwidths, ...b.bandwidthIds);
    expect(bandwidths.body.band_widths).toHaveLength(a.bandwidthIds.length);
    const resize = await call('PUT', `${base}/bandwidths/${b.bandwidthIds[0]}`, { band_width_size: 5 });
    expect(resize.status).toBe(404);
    expect(resize.body.error_code).toBe('CPS.0911');

    const polled = await call('GET', `${base}/jobs?request_id=${b.requestId}`);
    expect(polled.status, polled.text).toBe(200);
    expect(polled.body.jobs).toEqual([]);
    const mixed = await call('GET', `${base}/jobs?request_ids=${a.requestId},${b.requestId}`);
    expect(mixed.body.jobs.map((j: { job_id: string }) => j.job_id).sort()).toEqual([...a.jobIds].sort());
    for (const jobId of b.jobIds) expect((await call('GET', `${base}/jobs/${jobId}`)).status).toBe(404);
  });

  it("B's fleet and jobs are untouched by all of the above", async () => {
    const b = tenants.b;
    const call = viaKey(b);
    const base = `/v1/${b.projectId}/cloud-phone`;
    const phones = (await call('GET', `${base}/phones?limit=200`)).body.phones;
    expect(phones.map((p: { phone_name: string }) => p.phone_name)).toEqual(b.phoneNames);
    expect(phones.every((p: { status: number }) => p.status === 2)).toBe(true);
    expect((await call('GET', `${base}/phones/${b.phoneIds[0]}`)).body.property).not.toContain('ro.taken');
    const servers = (await call('GET', `${base}/servers`)).body.servers;
    expect(servers.map((s: { server_name: string }) => s.server_name)).toEqual(b.serverNames);
    expect(servers.every((s: { status: number }) => s.status === 5)).toBe(true);
    expect(servers.map((s: { server_model_name: string }) => s.server_model_name)).toEqual(servers.map(() => 'physical.rx1.xlarge'));
    expect(servers.map((s: { keypair_name: string }) => s.keypair_name)).toEqual(servers.map(() => 'opencph-keypair'));
    const bandwidths = (await call('GET', `${base}/bandwidths`)).body.band_widths;
    expect(bandwidths.map((bw: { band_width_id: string; band_width_size: number }) => [bw.band_width_id, bw.band_width_size])).toEqual(b.bandwidthIds.map((id) => [id, 100]));
    const jobs = await node.handle.db.selectFrom('jobs').select(['job_id', 'status']).where('project_id', '=', b.projectId).execute();
    expect(jobs.map((j) => j.job_id).sort()).toEqual([...b.jobIds].sort());
    expect(jobs.every((j) => j.status === 2)).toBe(true);
    const pendingOnB = await node.handle.db.selectFrom('jobs').select('job_id').where('phone_id', 'in', b.phoneIds).where('state', '<>', 'done').execute();
    expect(pendingOnB).toEqual([]);
    // And on the simulated phone itself, nothing ran: the setting the shell attempts would have written is not there.
    const probe = await call('POST', `${base}/phones/sync-commands`, { command: 'shell', content: 'settings get global opencph_taken', phone_ids: [b.phoneIds[0]] });
    expect(probe.status, probe.text).toBe(200);
    expect(probe.body.jobs[0].status, probe.text).toBe(2);
    expect(probe.body.jobs[0].execute_msg).toBe('null\n');
  });
});
