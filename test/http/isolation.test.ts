import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config.js';
import { newId } from '../../src/domain/ids.js';
import { DEFAULT_PROJECT_ID, type RunningNode } from '../../src/runtime/node.js';
import { importImage } from '../../src/store/images.js';
import { SIM_IMAGES } from '../../src/store/seed.js';
import { getToken, passwordAuth, send, sendSigned, sendWithToken, type Key, type Reply } from '../helpers/http.js';
import { startTestNode, waitFor, type TestNode } from '../helpers/node.js';
import { addTenant, TENANT_B } from '../helpers/tenant.js';

/** What one tenant has: a project with its fleet, jobs it ran, and its credentials. */
interface Tenant {
  projectId: string;
  key: Key;
  token: string;
  phoneIds: string[];
  serverIds: string[];
  phoneNames: string[];
  serverNames: string[];
  encodeServerIds: string[];
  bandwidthIds: string[];
  requestId: string;
  jobIds: string[];
  /** A private image of the project, shared with no one. */
  imageId: string;
  /** A restart of its first encode server. */
  encodeRequestId: string;
  encodeJobIds: string[];
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
    const t: Tenant = { projectId, key, token, phoneIds: [], serverIds: [], phoneNames: [], serverNames: [], encodeServerIds: [], requestId: '', jobIds: [], encodeRequestId: '', encodeJobIds: [], imageId: '', bandwidthIds: [] };
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
    t.imageId = (await importImage(node.handle.db, { projectId, name: 'golden', fromImageId: SIM_IMAGES[0]!.image_id, sizeBytes: 1 << 30 }, Date.now(), newId)).image_id;
    t.encodeServerIds = (await call('GET', `/v1/${projectId}/cloud-phone/encode-servers`)).body.encode_servers.map((e: { encode_server_id: string }) => e.encode_server_id);
    const restart = await call('POST', `/v1/${projectId}/cloud-phone/encode-servers/batch-restart`, { encode_server_ids: t.encodeServerIds.slice(0, 1) });
    expect(restart.status, restart.text).toBe(200);
    t.encodeRequestId = restart.body.request_id;
    t.encodeJobIds = restart.body.jobs.map((j: { job_id: string }) => j.job_id);
    await waitForJobs(call, projectId, t.encodeRequestId);
    return t;
  }

  beforeAll(async () => {
    harness = await startTestNode({ auth: 'verify', servers: 2, phonesPerServer: 2 });
    node = harness.node;
    const b = await addTenant(node, { servers: 2, phonesPerServer: 3 });

    const aToken = (await getToken(node.port, passwordAuth(DEFAULTS.defaultUser, DEFAULTS.defaultPassword, DEFAULTS.defaultAccount, { id: DEFAULT_PROJECT_ID }))).token!;
    const bToken = (await getToken(node.port, passwordAuth(TENANT_B.user, TENANT_B.password, TENANT_B.account, { id: b.projectId }))).token!;
    tenants.a = await describeTenant(DEFAULT_PROJECT_ID, { ak: DEFAULTS.defaultAk, sk: DEFAULTS.defaultSk }, aToken);
    tenants.b = await describeTenant(b.projectId, b.key, bToken);
    expect(tenants.a.phoneIds).toHaveLength(4);
    expect(tenants.b.phoneIds).toHaveLength(6);
    expect(tenants.a.encodeServerIds).toHaveLength(2);
    expect(tenants.b.encodeServerIds).toHaveLength(2);
  });
  afterAll(() => harness.close());

  /** The tag operations on `projectId`'s path, for `server`. */
  function tagRoutesOn(projectId: string, server: string): [string, string, unknown?][] {
    const tags = `/v1/${projectId}/cph-server`;
    return [
      ['POST', `${tags}/${server}/tags/action`, { action: 'create', tags: [{ key: 'taken', value: 'yes' }] }],
      ['POST', `${tags}/${server}/tags/action`, { action: 'delete', tags: [{ key: 'owner' }] }],
      ['GET', `${tags}/${server}/tags`],
      ['GET', `${tags}/tags`],
      ['POST', `${tags}/resource_instances/action`, { action: 'filter' }],
      ['POST', `${tags}/resource_instances/action`, { action: 'count' }],
    ];
  }

  /** Every CPH route on `victim`'s path, with ids of `victim`'s resources. */
  function routesOn(victim: Tenant): [string, string, unknown?][] {
    const base = `/v1/${victim.projectId}/cloud-phone`;
    const phone = victim.phoneIds[0]!;
    const server = victim.serverIds[0]!;
    const encodeServer = victim.encodeServerIds[0]!;
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
      ['POST', `${base}/phones/batch-storage`, { storage_infos: [{ phone_id: phone, include_files: ['/data'], bucket_name: 'stolen', object_path: 'data.tar' }] }],
      ['POST', `${base}/phones/batch-restore`, { restore_infos: [{ phone_id: phone, bucket_name: 'stolen', object_path: 'data.tar' }] }],
      ['POST', `${base}/phones/share-files`, { bucket_name: 'stolen', object_path: 'files.tar', server_ids: [server] }],
      ['POST', `${base}/phones/share-files`, { file_paths: ['/data/share'], server_ids: [server] }],
      ['GET', `${base}/servers/share-files?server_ids=${server}&path=/data`],
      ['POST', `${base}/phones/share-apps`, { package_name: 'com.example.app', bucket_name: 'stolen', object_path: 'app.tar', server_ids: [server] }],
      ['DELETE', `${base}/phones/share-apps`, { package_name: 'com.example.app', server_ids: [server] }],
      ['GET', `${base}/jobs?request_id=${victim.requestId}`],
      ['GET', `${base}/jobs?request_ids=${victim.requestId}`],
      ['GET', `${base}/jobs/${victim.jobIds[0]}`],
      ['GET', `${base}/phone-images?image_type=private`],
      ['GET', `${base}/images`],
      ['DELETE', `${base}/images/${victim.imageId}`],
      ['POST', `${base}/images/${victim.imageId}/members`, { member: victim.projectId }],
      ['GET', `${base}/images/${victim.imageId}/members`],
      ['PUT', `${base}/images/${victim.imageId}/members`, { status: 'accepted' }],
      ['DELETE', `${base}/images/${victim.imageId}/members/${victim.projectId}`],
      ['GET', `${base}/jobs/${victim.encodeJobIds[0]}`],
      ['GET', `${base}/encode-servers`],
      ['POST', `${base}/encode-servers/batch-restart`, { encode_server_ids: [encodeServer] }],
      ['POST', `${base}/phones/batch-connection`, { phone_ids: [phone], client_type: 'ANDROID' }],
      ['POST', `${base}/phones/expand-volume`, { phones: [{ phone_id: phone, new_size: 999 }] }],
      ['POST', `${base}/phones-traffic`, { traffic_type: 'routing', phone_ids: [phone] }],
      ...tagRoutesOn(victim.projectId, server),
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
      // The test-control extension's rules (scripted outcomes).
      ['POST', `/_opencph/v1/${victim.projectId}/rules`, { match: { operation: 'phone.restart' }, outcome: { fail: { error_code: 'CPS.0006' } } }],
      ['GET', `/_opencph/v1/${victim.projectId}/rules`],
      ['DELETE', `/_opencph/v1/${victim.projectId}/rules/${victim.jobIds[0]}`],
      ['DELETE', `/_opencph/v1/${victim.projectId}/rules`],
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
    const encodeServers = await call('GET', `${base}/encode-servers`);
    expectNone(encodeServers, ...b.encodeServerIds, ...b.serverIds);
    expect(encodeServers.body.encode_servers).toHaveLength(2);
    expect((await call('GET', `${base}/encode-servers?server_id=${bServer}`)).body.encode_servers).toEqual([]);
    const connection = await call('POST', `${base}/phones/batch-connection`, { phone_ids: [bPhone], client_type: 'ANDROID' });
    expect(connection.body.connect_infos).toEqual([]);
    expect(connection.body.errors).toEqual([{ phone_id: bPhone, error_code: 'CPS.0005', error_msg: 'Phone is not found.' }]);

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
      ['encode-servers/batch-restart', { encode_server_ids: [b.encodeServerIds[0]] }],
      ['phones/expand-volume', { phones: [{ phone_id: bPhone, new_size: 999 }] }],
      ['phones-traffic', { traffic_type: 'routing', phone_ids: [bPhone] }],
    ] as const) {
      const r = await call('POST', `${base}/${path}`, body);
      expect(r.status, r.text).toBe(200);
      expect(r.body.jobs).toHaveLength(1);
      expect(r.body.jobs[0].error_code, `${path}: ${r.text}`).toMatch(/^CPS\.(0005|0097|0930)$/);
    }
    // Data export/restore and shared storage: B's phones are not found, B's servers are not A's
    // (CPS.0097, not the CPS.0940 an rx1 server of A's own would answer).
    for (const [method, path, body, code] of [
      ['POST', 'phones/batch-storage', { storage_infos: [{ phone_id: bPhone, include_files: ['/data'], bucket_name: 'stolen', object_path: 'data.tar' }] }, 'CPS.0005'],
      ['POST', 'phones/batch-restore', { restore_infos: [{ phone_id: bPhone, bucket_name: 'stolen', object_path: 'data.tar' }] }, 'CPS.0005'],
      ['POST', 'phones/share-files', { bucket_name: 'stolen', object_path: 'files.tar', server_ids: [bServer] }, 'CPS.0097'],
      ['POST', 'phones/share-files', { file_paths: ['/data/share'], server_ids: [bServer] }, 'CPS.0097'],
      ['GET', `servers/share-files?server_ids=${bServer}&path=/data`, undefined, 'CPS.0097'],
      ['POST', 'phones/share-apps', { package_name: 'com.example.app', bucket_name: 'stolen', object_path: 'app.tar', server_ids: [bServer] }, 'CPS.0097'],
      ['DELETE', 'phones/share-apps', { package_name: 'com.example.app', server_ids: [bServer] }, 'CPS.0097'],
    ] as const) {
      const r = await call(method, `${base}/${path}`, body);
      expect(r.status, r.text).toBe(200);
      expect(r.body.jobs).toHaveLength(1);
      expect(r.body.jobs[0].error_code, `${method} ${path}: ${r.text}`).toBe(code);
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
    for (const jobId of [...b.jobIds, ...b.encodeJobIds]) expect((await call('GET', `${base}/jobs/${jobId}`)).status).toBe(404);
    expect((await call('GET', `${base}/jobs?request_id=${b.encodeRequestId}`)).body.jobs).toEqual([]);
  });

  it("A cannot list, use, delete, share or accept B's private image, nor manage its members", async () => {
    const a = tenants.a;
    const b = tenants.b;
    const call = viaKey(a);
    const base = `/v1/${a.projectId}/cloud-phone`;
    const image = b.imageId;
    const expectImageInvalid = (r: Reply, what: string) => {
      expect(r.status, `${what}: ${r.text}`).toBe(400);
      expect(r.body.error_code, what).toBe('CPS.0030');
    };
    for (const type of ['all', 'private', 'share']) expect((await call('GET', `${base}/phone-images?image_type=${type}`)).text).not.toContain(image);
    const listed = await call('GET', `${base}/images`);
    expect(listed.body.image_infos.map((i: { image_id: string }) => i.image_id)).toEqual([a.imageId]);
    expect((await call('GET', `${base}/images?image_id=${image}`)).body.total).toBe(0);
    expect((await call('GET', `${base}/images?src_project_id=${b.projectId}`)).body.total).toBe(0);
    expectImageInvalid(await call('POST', `${base}/phones/batch-reset`, { image_id: image, phones: [{ phone_id: a.phoneIds[0] }] }), 'reset');
    expectImageInvalid(await call('DELETE', `${base}/images/${image}`), 'DeleteImage');
    // Sharing B's image with A itself, or with a third party: refused as an unknown image.
    expectImageInvalid(await call('POST', `${base}/images/${image}/members`, { member: a.projectId }), 'AddImageMember');
    expectImageInvalid(await call('GET', `${base}/images/${image}/members`), 'ListImageMembers');
    expectImageInvalid(await call('PUT', `${base}/images/${image}/members`, { status: 'accepted' }), 'UpdateImageMember');
    expectImageInvalid(await call('DELETE', `${base}/images/${image}/members/${a.projectId}`), 'DeleteImageMember');

    // B's image is still B's, shared with no one.
    const own = await viaKey(b)('GET', `/v1/${b.projectId}/cloud-phone/images/${image}/members`);
    expect(own.status, own.text).toBe(200);
    expect(own.body.members).toEqual([]);
    expect((await viaKey(b)('GET', `/v1/${b.projectId}/cloud-phone/images?image_id=${image}`)).body.total).toBe(1);
  });

  it("A cannot tag, read the tags of, or find B's servers through A's own project", async () => {
    const [a, b] = [tenants.a, tenants.b];
    const bServer = b.serverIds[0]!;
    const bTags = `/v1/${b.projectId}/cph-server`;
    const tagged = await viaKey(b)('POST', `${bTags}/${bServer}/tags/action`, { action: 'create', tags: [{ key: 'owner', value: 'bob' }] });
    expect(tagged.status, tagged.text).toBe(204);

    const call = viaKey(a);
    const aTags = `/v1/${a.projectId}/cph-server`;
    for (const [method, target, body] of tagRoutesOn(a.projectId, bServer).slice(0, 3)) {
      const r = await call(method, target, body);
      expect(r.status, `${method} ${target}: ${r.text}`).toBe(404);
      expect(r.body.error_code).toBe('CPS.0016');
    }
    const projectTags = await call('GET', `${aTags}/tags`);
    expect(projectTags.body).toEqual({ tags: [], total_count: 0 });
    const byTag = { tags: [{ key: 'owner', values: ['bob'] }] };
    expect((await call('POST', `${aTags}/resource_instances/action`, { action: 'filter', ...byTag })).body).toEqual({ resources: [], total_count: 0 });
    expect((await call('POST', `${aTags}/resource_instances/action`, { action: 'count', ...byTag })).body).toEqual({ total_count: 0 });
    const byName = { matches: [{ key: 'resource_name', value: b.serverNames[0] }] };
    // The projects' servers may share names: A finds its own, never B's.
    const named = await call('POST', `${aTags}/resource_instances/action`, { action: 'filter', ...byName });
    expect(named.body.resources.map((r: { resource_id: string }) => r.resource_id)).toEqual(a.serverIds.filter((_, i) => a.serverNames[i] === b.serverNames[0]));
    const all = await call('POST', `${aTags}/resource_instances/action`, { action: 'filter' });
    expect(all.body.resources.map((r: { resource_id: string }) => r.resource_id).sort()).toEqual([...a.serverIds].sort());

    expect((await viaKey(b)('GET', `${bTags}/${bServer}/tags`)).body).toEqual({ tags: [{ key: 'owner', value: 'bob' }] });
    expect((await viaKey(b)('GET', `${bTags}/tags`)).body).toEqual({ tags: [{ key: 'owner', values: ['bob'] }], total_count: 1 });
  });

  it("B's fleet and jobs are untouched by all of the above", async () => {
    const b = tenants.b;
    const call = viaKey(b);
    const base = `/v1/${b.projectId}/cloud-phone`;
    const phones = (await call('GET', `${base}/phones?limit=200`)).body.phones;
    expect(phones.map((p: { phone_name: string }) => p.phone_name)).toEqual(b.phoneNames);
    expect(phones.every((p: { status: number }) => p.status === 2)).toBe(true);
    expect((await call('GET', `${base}/phones/${b.phoneIds[0]}`)).body.property).not.toContain('ro.taken');
    expect(phones.every((p: { traffic_type: string }) => p.traffic_type === 'direct')).toBe(true);
    expect((await call('GET', `${base}/phones/${b.phoneIds[0]}`)).body.phone_data_volume.volume_size).not.toBe(999);
    const encodeServers = (await call('GET', `${base}/encode-servers`)).body.encode_servers;
    expect(encodeServers.map((e: { encode_server_id: string; status: number }) => [e.encode_server_id, e.status])).toEqual(b.encodeServerIds.map((id) => [id, 1]));
    const servers = (await call('GET', `${base}/servers`)).body.servers;
    expect(servers.map((s: { server_name: string }) => s.server_name)).toEqual(b.serverNames);
    expect(servers.every((s: { status: number }) => s.status === 5)).toBe(true);
    expect(servers.map((s: { server_model_name: string }) => s.server_model_name)).toEqual(servers.map(() => 'physical.rx1.xlarge'));
    expect(servers.map((s: { keypair_name: string }) => s.keypair_name)).toEqual(servers.map(() => 'opencph-keypair'));
    const bandwidths = (await call('GET', `${base}/bandwidths`)).body.band_widths;
    expect(bandwidths.map((bw: { band_width_id: string; band_width_size: number }) => [bw.band_width_id, bw.band_width_size])).toEqual(b.bandwidthIds.map((id) => [id, 100]));
    const jobs = await node.handle.db.selectFrom('jobs').select(['job_id', 'status']).where('project_id', '=', b.projectId).execute();
    expect(jobs.map((j) => j.job_id).sort()).toEqual([...b.jobIds, ...b.encodeJobIds].sort());
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
