import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config.js';
import { newId } from '../../src/domain/ids.js';
import { importImage } from '../../src/store/images.js';
import { DEFAULT_IMAGE_ID } from '../../src/store/seed.js';
import { buildApk } from '../helpers/apk.js';
import { CphClient, refusal, type CreateNet2ServerBody, type SdkError, type Job, type Phone, type ServerDetail } from '../helpers/cphClient.js';
import { PROJECT, startTestNode, waitFor, type TestNode } from '../helpers/node.js';
import { addTenant } from '../helpers/tenant.js';
import { buildTar, putObject } from '../helpers/obs.js';

/**
 * Every one of the 52 operations of the official SDK's CphClient, driven end to end through a
 * typed client that signs and sends as the SDK does, on one node: each job waited for, each
 * result checked through the API as a user would. Each `it` is one operation group; they share
 * state in order (servers bought early are used by later groups and deleted last).
 */

/**
 * A private image of `projectId`, made as an operator imports one. The only place that knows how:
 * adapt it if the images store function is named or shaped differently.
 */
async function importPrivateImage(t: TestNode, projectId: string, imageName: string): Promise<string> {
  const image = await importImage(t.node.handle.db, { projectId, name: imageName, fromImageId: DEFAULT_IMAGE_ID, version: 'CPH_Android11_custom', sizeBytes: 1 << 30 }, Date.now(), newId);
  return image.image_id;
}

/** The 52 SDK methods of cph-api.md §3 (and §2), as the SDK names them. */
const SDK_OPERATIONS = [
  'listCloudPhones',
  'showCloudPhoneDetail',
  'updatePhoneName',
  'resetCloudPhone',
  'restartCloudPhone',
  'stopCloudPhone',
  'updateCloudPhoneProperty',
  'batchShowPhoneConnectInfos',
  'expandPhoneDataVolumeSize',
  'importTraffic',
  'installApk',
  'uninstallApk',
  'pushFile',
  'runShellCommand',
  'runSyncCommand',
  'listCloudPhoneServers',
  'showCloudPhoneServerDetail',
  'updateServerName',
  'restartCloudPhoneServer',
  'updateKeypair',
  'createNet2CloudPhoneServer',
  'createCloudPhoneSingleServer',
  'changeCloudPhoneServer',
  'changeCloudPhoneServerModel',
  'deleteCloudPhoneServer',
  'listCloudPhoneImages',
  'listImages',
  'deleteImage',
  'addImageMember',
  'listImageMembers',
  'updateImageMember',
  'deleteImageMember',
  'listCloudPhoneModels',
  'listCloudPhoneServerModels',
  'listEncodeServers',
  'restartEncodeServer',
  'showBandwidthDetail',
  'updateBandwidth',
  'batchExportCloudPhoneData',
  'batchImportCloudPhoneData',
  'pushShareFiles',
  'deleteShareFiles',
  'listShareFiles',
  'pushShareApps',
  'deleteShareApps',
  'batchCreateTags',
  'batchDeleteTags',
  'listResourceTags',
  'listProjectTags',
  'listResourceInstances',
  'listJobs',
  'showJob',
] as const;

/** The four SDK operations that share POST /phones/commands, told apart by `command`. */
const COMMAND_OPERATIONS = ['InstallApk', 'UninstallApk', 'PushFile', 'RunShellCommand'];

const pascal = (name: string) => name[0]!.toUpperCase() + name.slice(1);

// Public images of the catalogue (src/store/seed.ts SIM_IMAGES).
const ANDROID11 = '5b4a1a3c0f2a4d8e9c7b6a5d4e3f2a10';
const ANDROID12 = '5b4a1a3c0f2a4d8e9c7b6a5d4e3f2a12';
const ANDROID11_1620 = '5b4a1a3c0f2a4d8e9c7b6a5d4e3f2b11';
const VPC = '6c5e1a0c-1b3a-4e5f-9a2b-0c1d2e3f4a5b';
const SUBNET = '7d6f2b1d-2c4b-4f60-8b3c-1d2e3f4a5b6c';
const UNKNOWN = 'f'.repeat(32);

/** A v2 purchase body (§3.3.1), on demand so that it may be deleted. */
function net2Body(o: Partial<CreateNet2ServerBody> & Pick<CreateNet2ServerBody, 'server_name' | 'count'>): CreateNet2ServerBody {
  return {
    server_model_name: 'physical.rx1.xlarge',
    phone_model_name: 'rx1.cp.c15.d46.e1v1',
    image_id: ANDROID11,
    keypair_name: 'opencph-keypair',
    extend_param: { charging_mode: 1, period_type: 2, period_num: 1 },
    tenant_vpc_id: VPC,
    nics: [{ subnet_id: SUBNET }],
    public_ip: { eip: { type: '5_bgp' }, count: 1 },
    band_width: { band_width_size: 10, band_width_charge_mode: 0, band_width_share_type: 0 },
    availability_zone: 'cn-north-4a',
    ...o,
  };
}

describe('all 52 CPH operations through a typed SDK client', () => {
  let t: TestNode;
  let cph: CphClient;
  /** The second tenant: a project that images are shared with. */
  let other: CphClient;
  let otherPhones: string[] = [];
  /** SDK methods that answered successfully at least once (through either client). */
  const called = new Set<string>();

  /** A client whose successful SDK calls are recorded in `called`. */
  function recorded(client: CphClient): CphClient {
    return new Proxy(client, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function' || typeof prop !== 'string') return value;
        return (...args: unknown[]) => {
          const result = (value as (...a: unknown[]) => unknown).apply(receiver, args);
          if (!(SDK_OPERATIONS as readonly string[]).includes(prop)) return result;
          return (result as Promise<unknown>).then((answer) => {
            called.add(prop);
            return answer;
          });
        };
      },
    });
  }

  // Shared state, filled in order.
  let phones: Phone[] = [];
  let serverIds: string[] = [];
  /** Servers bought with v2 (count 2), v2.1 (bare) and the spec 2.0 one with shared storage. */
  let bought: string[] = [];
  let bare = '';
  let spec2 = '';

  const expectJobsDone = (jobs: Job[], n?: number) => {
    if (n !== undefined) expect(jobs).toHaveLength(n);
    for (const j of jobs) expect(j, JSON.stringify(j)).toMatchObject({ status: 2 });
  };

  /** Poll a bought or changed server until it is normal (5); abnormal (2) fails at once. */
  async function waitForServer(serverId: string, check: (s: ServerDetail) => boolean = () => true): Promise<ServerDetail> {
    return waitFor(
      async () => {
        // A bought server may be shown only once its order is processed: 404 until then.
        const s = await cph.showCloudPhoneServerDetail({ server_id: serverId }).catch((e: SdkError) => {
          if (e.httpStatusCode === 404) return undefined;
          throw e;
        });
        if (!s) return undefined;
        if (s.status === 2) throw new Error(`server ${serverId} is abnormal`);
        return s.status === 5 && check(s) ? s : undefined;
      },
      90_000,
      100,
    );
  }

  /** Poll until the server's phones are listed, all running (2). */
  async function waitForRunningPhones(serverId: string): Promise<Phone[]> {
    return waitFor(
      async () => {
        const r = await cph.listCloudPhones({ server_id: serverId, limit: 200 });
        return r.phones.length > 0 && r.phones.every((p) => p.status === 2) ? r.phones : undefined;
      },
      90_000,
      100,
    );
  }

  beforeAll(async () => {
    t = await startTestNode({ auth: 'verify', servers: 2, phonesPerServer: 3, simDelayMs: 20 });
    cph = recorded(new CphClient(t.url, DEFAULTS.defaultAk, DEFAULTS.defaultSk, PROJECT));

    const tenant = await addTenant(t.node, { servers: 1, phonesPerServer: 2 });
    other = recorded(new CphClient(t.url, tenant.key.ak, tenant.key.sk, tenant.projectId));
  });
  afterAll(() => t.close());

  it('GET /openapi.json names every SDK operation as an operationId', async () => {
    const doc = (await t.get('/openapi.json')).body as { paths: Record<string, Record<string, { operationId?: string; description?: string; summary?: string }>> };
    const ops = Object.values(doc.paths).flatMap((byMethod) => Object.values(byMethod));
    const ids = new Set(ops.map((o) => o.operationId));
    // Operations that share one method and path (told apart by the body) share one route: its text names each.
    const named = (name: string) => ops.some((o) => new RegExp(`\\b${name}\\b`).test(`${o.summary ?? ''} ${o.description ?? ''}`));
    const missing = SDK_OPERATIONS.map(pascal).filter((name) => !ids.has(name) && !named(name));
    expect(missing).toEqual([]);
    const runCommand = ops.find((o) => o.operationId === 'RunCommand');
    const text = `${runCommand?.summary ?? ''} ${runCommand?.description ?? ''}`;
    for (const name of COMMAND_OPERATIONS) expect(text).toContain(name);
  });

  it('the client has one method per SDK operation', () => {
    expect(new Set(SDK_OPERATIONS).size).toBe(52);
    for (const name of SDK_OPERATIONS) expect(typeof (cph as unknown as Record<string, unknown>)[name], name).toBe('function');
  });

  it('phones: list, detail, rename, restart, reset, stop, properties; jobs: list and show', async () => {
    const list = await cph.listCloudPhones({ limit: 200 });
    expect(list).toMatchObject({ httpStatusCode: 200, count: 6 });
    expect(list.request_id).toMatch(/^[0-9a-f]{32}$/);
    phones = list.phones;
    expect((await cph.listCloudPhones({ offset: 1, limit: 2 })).phones.map((p) => p.phone_id)).toEqual(phones.slice(1, 3).map((p) => p.phone_id));
    const [p0, p1, p2, p3] = phones.map((p) => p.phone_id) as [string, string, string, string];

    const detail = await cph.showCloudPhoneDetail({ phone_id: p0 });
    expect(detail).toMatchObject({ phone_id: p0, status: 2, image_id: phones[0]!.image_id });
    expect(detail.access_infos.length).toBeGreaterThan(0);
    const unknown = await refusal(cph.showCloudPhoneDetail({ phone_id: UNKNOWN }));
    expect(unknown).toMatchObject({ httpStatusCode: 404, errorCode: 'CPS.0005', errorMsg: 'Phone is not found.' });
    expect(unknown.requestId).toMatch(/^[0-9a-f]{32}$/);

    expect((await cph.updatePhoneName({ phone_id: p0, body: { phone_name: 'renamed-phone' } })).httpStatusCode).toBe(200);
    expect((await cph.showCloudPhoneDetail({ phone_id: p0 })).phone_name).toBe('renamed-phone');

    const restart = await cph.restartCloudPhone({ body: { phones: [{ phone_id: p0 }, { phone_id: UNKNOWN }] } });
    expect(restart.jobs).toHaveLength(2);
    expect(restart.jobs[1]).toMatchObject({ phone_id: UNKNOWN });
    expect(restart.jobs[1]!.error_code).toMatch(/^CPS\.000[45]$/);
    const restarted = await cph.waitForJobs([restart.jobs[0]!.job_id!]);
    expectJobsDone(restarted, 1);
    const shown = await cph.showJob({ job_id: restart.jobs[0]!.job_id! });
    expect(shown).toMatchObject({ job_id: restart.jobs[0]!.job_id, status: 2, phone_id: p0 });
    expect(shown.end_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    const reset = await cph.resetCloudPhone({ body: { image_id: ANDROID12, phones: [{ phone_id: p1 }] } });
    expectJobsDone(await cph.waitForJobs(reset.request_id), 1);
    expect((await cph.showCloudPhoneDetail({ phone_id: p1 })).image_id).toBe(ANDROID12);

    const stop = await cph.stopCloudPhone({ body: { phone_ids: [p2] } });
    expectJobsDone(await cph.waitForJobs(stop.request_id), 1);
    expect((await cph.showCloudPhoneDetail({ phone_id: p2 })).status).toBe(8);
    expectJobsDone(await cph.waitForJobs((await cph.restartCloudPhone({ body: { phones: [{ phone_id: p2 }] } })).request_id), 1);
    expect((await cph.showCloudPhoneDetail({ phone_id: p2 })).status).toBe(2);

    const property = JSON.stringify({ 'sys.prop.writewifissid': 'e2e_wifi' });
    const update = await cph.updateCloudPhoneProperty({ body: { phones: [{ phone_id: p3, property }] } });
    expectJobsDone(await cph.waitForJobs(update.request_id), 1);
    expect((await cph.showCloudPhoneDetail({ phone_id: p3 })).property).toContain('e2e_wifi');

    const both = await cph.listJobs({ request_ids: `${reset.request_id},${stop.request_id}` });
    expect(both.jobs.map((j) => j.phone_id).sort()).toEqual([p1, p2].sort());
  });

  it('servers: list, detail, rename, restart', async () => {
    const list = await cph.listCloudPhoneServers();
    expect(list).toMatchObject({ httpStatusCode: 200, count: 2 });
    serverIds = list.servers.map((s) => s.server_id);
    const [s0, s1] = serverIds as [string, string];
    expect(await cph.showCloudPhoneServerDetail({ server_id: s0 })).toMatchObject({ server_id: s0, status: 5, server_model_name: 'physical.rx1.xlarge' });
    expect(await refusal(cph.showCloudPhoneServerDetail({ server_id: UNKNOWN }))).toMatchObject({ httpStatusCode: 404, errorCode: 'CPS.0016' });

    await cph.updateServerName({ server_id: s0, body: { server_name: 'renamed-server' } });
    expect((await cph.showCloudPhoneServerDetail({ server_id: s0 })).server_name).toBe('renamed-server');

    const restart = await cph.restartCloudPhoneServer({ body: { server_ids: [s1] } });
    expect(restart.jobs).toMatchObject([{ server_id: s1 }]);
    expectJobsDone(await cph.waitForJobs(restart.request_id), 1);
    expect((await cph.showCloudPhoneServerDetail({ server_id: s1 })).status).toBe(5);
    const phonesOfS1 = await cph.listCloudPhones({ server_id: s1 });
    expect(phonesOfS1.phones.every((p) => p.status === 2)).toBe(true);
  });

  it('commands: install, uninstall, push, shell, sync shell', async () => {
    const obs = t.node.config.obsDir;
    const phone = phones[4]!.phone_id;
    const apk = putObject(obs, 'apps', 'e2e/demo.apk', buildApk({ packageName: 'com.example.e2e', versionCode: 7, versionName: '7.0' }));
    const install = await cph.installApk({ body: { command: 'install', content: apk, phone_ids: [phone] } });
    expectJobsDone(await cph.waitForJobs(install.request_id), 1);

    const listed = await cph.runShellCommand({ body: { command: 'shell', content: 'pm list packages -3', phone_ids: [phone] } });
    const [shellJob] = await cph.waitForJobs(listed.request_id);
    expect(shellJob).toMatchObject({ status: 2, execute_msg: 'package:com.example.e2e\n' });

    const uninstall = await cph.uninstallApk({ body: { command: 'uninstall', content: 'com.example.e2e', phone_ids: [phone] } });
    expectJobsDone(await cph.waitForJobs(uninstall.request_id), 1);
    const after = await cph.waitForJobs((await cph.runShellCommand({ body: { command: 'shell', content: 'pm list packages -3', phone_ids: [phone] } })).request_id);
    expect(after[0]!.execute_msg ?? '').toBe('');

    const tar = putObject(obs, 'files', 'e2e/hello.tar', await buildTar({ 'data/local/tmp/hello.txt': 'hello from the sdk\n' }));
    const push = await cph.pushFile({ body: { command: 'push', content: tar, phone_ids: [phone] } });
    expectJobsDone(await cph.waitForJobs(push.request_id), 1);
    const sync = await cph.runSyncCommand({ body: { command: 'shell', content: 'cat /data/local/tmp/hello.txt', phone_ids: [phone] } });
    expect(sync.jobs).toMatchObject([{ phone_id: phone, status: 2, execute_msg: 'hello from the sdk\n' }]);
  });

  it('catalogue: phone models, server models, public images', async () => {
    const models = await cph.listCloudPhoneModels();
    expect(models.request_id).toMatch(/^[0-9a-f]{32}$/);
    const byName = new Map(models.phone_models.map((m) => [m.phone_model_name, m]));
    expect(byName.get('rx1.cp.c15.d46.e1v1')).toMatchObject({ server_model_name: 'physical.rx1.xlarge', status: 1, image_label: 'cloud_phone', product_type: 0 });
    expect(byName.get('kg1.cp.c8.d16.e2v2')).toMatchObject({ server_model_name: 'physical.kg1.4xlarge.cp', status: 1, phone_model_version: 1 });
    expect(byName.get('kg1.cp.c8.d16.e2v2')!.extend_spec).toContain('max_share_disk_size_g');
    const offline = await cph.listCloudPhoneModels({ status: 0 });
    expect(offline.phone_models.map((m) => m.phone_model_name)).toContain('rx1.cp.c60.d184.e1v1');
    expect(offline.phone_models.every((m) => m.status === 0)).toBe(true);
    expect((await cph.listCloudPhoneModels({ limit: 2 })).phone_models).toHaveLength(2);

    const servers = await cph.listCloudPhoneServerModels();
    const names = servers.server_models.map((m) => m.server_model_name);
    expect(names).toEqual(expect.arrayContaining(['physical.rx1.xlarge', 'physical.kg1.4xlarge.cp']));
    const gaming = await cph.listCloudPhoneServerModels({ product_type: 1 });
    expect(gaming.server_models.length).toBeGreaterThan(0);
    expect(gaming.server_models.every((m) => m.product_type === 1)).toBe(true);

    const images = await cph.listCloudPhoneImages({ image_type: 'public' });
    const image = images.phone_images.find((i) => i.image_id === ANDROID11);
    expect(image).toMatchObject({ is_public: 1, image_label: 'cloud_phone' });
    expect(images.phone_images.every((i) => i.is_public === 1)).toBe(true);
  });

  it('buying servers: v2 with count 2 and v2.1 bare, until normal with running phones; a bought phone restarts', { timeout: 180_000 }, async () => {
    const order = await cph.createNet2CloudPhoneServer({ body: net2Body({ server_name: 'bought', count: 2 }) });
    expect(order.httpStatusCode).toBe(200);
    expect(order.server_ids).toHaveLength(2);
    expect(order.order_id).toBeTruthy();
    bought = [...order.server_ids];

    const single = await cph.createCloudPhoneSingleServer({
      body: {
        server_name: 'bare',
        server_model_name: 'physical.rx1.xlarge',
        count: 1,
        order_param: { charging_mode: 1, period_type: 2, period_num: 1 },
        nics: [{ subnet_id: SUBNET }],
        public_ip: { type: '5_bgp', count: 0, band_width: { band_width_size: 10, band_width_charge_mode: 0, band_width_share_type: 0 } },
        keypair_name: 'opencph-keypair',
      },
    });
    expect(single.server_ids).toHaveLength(1);
    bare = single.server_ids[0]!;
    bought.push(bare);

    for (const id of order.server_ids) {
      const s = await waitForServer(id);
      expect(s).toMatchObject({ server_id: id, server_model_name: 'physical.rx1.xlarge', phone_model_name: 'rx1.cp.c15.d46.e1v1' });
      expect(s.server_name.startsWith('bought')).toBe(true);
      const running = await waitForRunningPhones(id);
      expect(running.every((p) => p.phone_model_name === 'rx1.cp.c15.d46.e1v1' && p.image_id === ANDROID11)).toBe(true);
    }
    expect(await waitForServer(bare)).toMatchObject({ server_id: bare, server_model_name: 'physical.rx1.xlarge' });
    expect((await cph.listCloudPhones({ server_id: bare })).count).toBe(0);
    const listed = (await cph.listCloudPhoneServers()).servers.map((s) => s.server_id);
    expect(listed).toEqual(expect.arrayContaining(bought));

    const phone = (await cph.listCloudPhones({ server_id: bought[0] })).phones[0]!.phone_id;
    const restart = await cph.restartCloudPhone({ body: { phones: [{ phone_id: phone }] } });
    expectJobsDone(await cph.waitForJobs(restart.request_id), 1);
    expect((await cph.showCloudPhoneDetail({ phone_id: phone })).status).toBe(2);
  });

  it('buying a spec 2.0 server with shared storage', { timeout: 180_000 }, async () => {
    const order = await cph.createNet2CloudPhoneServer({
      body: net2Body({
        server_name: 'spec2',
        count: 1,
        server_model_name: 'physical.kg1.4xlarge.cp',
        phone_model_name: 'kg1.cp.c8.d16.e2v2',
        image_id: ANDROID11_1620,
        phone_data_volume: { volume_type: 'SSD', size: 64 },
        server_share_data_volume: { volume_type: 'SSD', size: 100 },
      }),
    });
    expect(order.server_ids).toHaveLength(1);
    spec2 = order.server_ids[0]!;
    bought.push(spec2);
    const s = await waitForServer(spec2);
    expect(s).toMatchObject({ server_model_name: 'physical.kg1.4xlarge.cp', phone_model_name: 'kg1.cp.c8.d16.e2v2' });
    expect(s.share_volume_info?.size).toBe(100);
    await waitForRunningPhones(spec2);
  });

  it('key pair: updateKeypair', async () => {
    const s0 = serverIds[0]!;
    const r = await cph.updateKeypair({ body: { servers: [{ server_id: s0, keypair_name: 'e2e-keypair' }] } });
    expect(r.jobs).toMatchObject([{ server_id: s0 }]);
    expectJobsDone(await cph.waitForJobs(r.request_id), 1);
    expect((await cph.showCloudPhoneServerDetail({ server_id: s0 })).keypair_name).toBe('e2e-keypair');
  });

  it('bandwidth: show and update', async () => {
    const shown = await cph.showBandwidthDetail();
    expect(shown.request_id).toMatch(/^[0-9a-f]{32}$/);
    expect(shown.band_widths.length, 'a bandwidth to update').toBeGreaterThan(0);
    const bw = shown.band_widths[0]!;
    const size = bw.band_width_size < 300 ? bw.band_width_size + 1 : bw.band_width_size - 1;
    const r = await cph.updateBandwidth({ band_width_id: bw.band_width_id, body: { band_width_size: size } });
    expect(r.httpStatusCode).toBe(200);
    await waitFor(async () => {
      const now = (await cph.showBandwidthDetail()).band_widths.find((b) => b.band_width_id === bw.band_width_id);
      return now?.band_width_size === size ? true : undefined;
    }, 30_000);
  });

  it('connect infos: one ticket per phone and call; unknown phones in errors', async () => {
    const ids = [phones[0]!.phone_id, phones[1]!.phone_id];
    const first = await cph.batchShowPhoneConnectInfos({ body: { phone_ids: [...ids, UNKNOWN], client_type: 'ANDROID' } });
    expect(first.connect_infos.map((c) => c.phone_id).sort()).toEqual([...ids].sort());
    for (const c of first.connect_infos) expect(c.access_info.ticket).toBeTruthy();
    expect(first.errors).toMatchObject([{ phone_id: UNKNOWN }]);
    expect(first.errors[0]!.error_code).toMatch(/^CPS\./);
    const second = await cph.batchShowPhoneConnectInfos({ body: { phone_ids: [ids[0]!], client_type: 'H5_PC' } });
    const ticket = (r: typeof first, id: string) => r.connect_infos.find((c) => c.phone_id === id)!.access_info.ticket;
    expect(ticket(second, ids[0]!)).not.toBe(ticket(first, ids[0]!));
  });

  it('expand volume: the new size is shown', async () => {
    const phone = (await cph.listCloudPhones({ server_id: spec2 })).phones[0]!.phone_id;
    const before = (await cph.showCloudPhoneDetail({ phone_id: phone })).phone_data_volume?.volume_size ?? 0;
    const r = await cph.expandPhoneDataVolumeSize({ body: { phones: [{ phone_id: phone, new_size: before + 10 }] } });
    expect(r.jobs).toMatchObject([{ phone_id: phone }]);
    expectJobsDone(await cph.waitForJobs(r.request_id), 1);
    expect((await cph.showCloudPhoneDetail({ phone_id: phone })).phone_data_volume?.volume_size).toBe(before + 10);
  });

  it('import traffic: traffic_type is shown', async () => {
    const phone = phones[5]!.phone_id;
    const routing = await cph.importTraffic({ body: { traffic_type: 'routing', phone_ids: [phone] } });
    expect(routing.jobs).toMatchObject([{ phone_id: phone }]);
    expectJobsDone(await cph.waitForJobs(routing.request_id), 1);
    expect((await cph.showCloudPhoneDetail({ phone_id: phone })).traffic_type).toBe('routing');
    expect((await cph.listCloudPhones({ limit: 200 })).phones.find((p) => p.phone_id === phone)!.traffic_type).toBe('routing');
    expectJobsDone(await cph.waitForJobs((await cph.importTraffic({ body: { traffic_type: 'direct', phone_ids: [phone] } })).request_id), 1);
    expect((await cph.showCloudPhoneDetail({ phone_id: phone })).traffic_type).toBe('direct');
  });

  it('phone data: export to OBS, restore on another phone, read it back', async () => {
    const obs = t.node.config.obsDir;
    const [from, to] = [phones[2]!.phone_id, phones[3]!.phone_id];
    const tar = putObject(obs, 'files', 'e2e/keep.tar', await buildTar({ 'data/local/tmp/keep.txt': 'kept across phones\n' }));
    expectJobsDone(await cph.waitForJobs((await cph.pushFile({ body: { command: 'push', content: tar, phone_ids: [from] } })).request_id), 1);
    const before = await cph.waitForJobs((await cph.runShellCommand({ body: { command: 'shell', content: 'ls /data/local/tmp', phone_ids: [to] } })).request_id);
    expect(before[0]!.execute_msg ?? '').not.toContain('keep.txt');

    const exported = await cph.batchExportCloudPhoneData({
      body: { storage_infos: [{ phone_id: from, include_files: ['/data/local/tmp/keep.txt'], bucket_name: 'phone-data', object_path: 'backups/from.tar' }] },
    });
    expect(exported.jobs).toMatchObject([{ phone_id: from }]);
    expectJobsDone(await cph.waitForJobs(exported.request_id), 1);
    expect(existsSync(join(obs, 'phone-data', 'backups', 'from.tar'))).toBe(true);

    const restored = await cph.batchImportCloudPhoneData({ body: { restore_infos: [{ phone_id: to, bucket_name: 'phone-data', object_path: 'backups/from.tar' }] } });
    expect(restored.jobs).toMatchObject([{ phone_id: to }]);
    expectJobsDone(await cph.waitForJobs(restored.request_id), 1);
    const sync = await cph.runSyncCommand({ body: { command: 'shell', content: 'cat /data/local/tmp/keep.txt', phone_ids: [to] } });
    expect(sync.jobs).toMatchObject([{ phone_id: to, status: 2, execute_msg: 'kept across phones\n' }]);
  });

  it('shared storage: push, list, delete files; push and delete a shared app (spec 2.0 server)', async () => {
    const obs = t.node.config.obsDir;
    putObject(obs, 'shares', 'e2e/files.tar', await buildTar({ 'data/media/shared/readme.txt': 'for every phone\n' }));
    const push = await cph.pushShareFiles({ body: { bucket_name: 'shares', object_path: 'e2e/files.tar', server_ids: [spec2] } });
    expect(push.jobs).toMatchObject([{ server_id: spec2 }]);
    expectJobsDone(await cph.waitForJobs(push.request_id), 1);

    const listing = async () => {
      const r = await cph.listShareFiles({ server_ids: spec2, path: '/data/media/shared' });
      expect(r.jobs).toMatchObject([{ server_id: spec2 }]);
      const [job] = await cph.waitForJobs(r.request_id);
      expect(job!.status).toBe(2);
      return job!.execute_msg ?? '';
    };
    expect(await listing()).toContain('readme.txt');

    const del = await cph.deleteShareFiles({ body: { server_ids: [spec2], file_paths: ['/data/media/shared/readme.txt'] } });
    expect(del.jobs).toMatchObject([{ server_id: spec2 }]);
    expectJobsDone(await cph.waitForJobs(del.request_id), 1);
    expect(await listing()).not.toContain('readme.txt');

    const apk = buildApk({ packageName: 'com.example.shared', versionCode: 1, versionName: '1.0' });
    putObject(obs, 'shares', 'e2e/app.tar', await buildTar({ 'com.example.shared.apk': apk }));
    const app = await cph.pushShareApps({ body: { package_name: 'com.example.shared', pre_install_app: 0, bucket_name: 'shares', object_path: 'e2e/app.tar', server_ids: [spec2] } });
    expect(app.jobs).toMatchObject([{ server_id: spec2 }]);
    expectJobsDone(await cph.waitForJobs(app.request_id), 1);
    const gone = await cph.deleteShareApps({ body: { package_name: 'com.example.shared', server_ids: [spec2] } });
    expect(gone.jobs).toMatchObject([{ server_id: spec2 }]);
    expectJobsDone(await cph.waitForJobs(gone.request_id), 1);
  });

  it('tags: create, list, project tags, filter and count, delete', async () => {
    const [s0, s1] = serverIds as [string, string];
    const created = await cph.batchCreateTags({ resource_id: s0, body: { action: 'create', tags: [{ key: 'env', value: 'e2e' }, { key: 'team', value: 'phones' }] } });
    expect(created.httpStatusCode).toBe(204);
    await cph.batchCreateTags({ resource_id: s1, body: { action: 'create', tags: [{ key: 'env', value: 'staging' }] } });

    const own = await cph.listResourceTags({ resource_id: s0 });
    expect(own.tags).toEqual(expect.arrayContaining([{ key: 'env', value: 'e2e' }, { key: 'team', value: 'phones' }]));
    expect(own.tags).toHaveLength(2);

    const project = await cph.listProjectTags();
    expect(project.total_count).toBe(2);
    const env = project.tags.find((tag) => tag.key === 'env')!;
    expect([...env.values].sort()).toEqual(['e2e', 'staging']);

    const filter = await cph.listResourceInstances({ body: { action: 'filter', tags: [{ key: 'env', values: ['e2e'] }] } });
    expect(filter.total_count).toBe(1);
    expect(filter.resources).toMatchObject([{ resource_id: s0, resource_name: 'renamed-server' }]);
    expect(filter.resources![0]!.tags).toEqual(expect.arrayContaining([{ key: 'team', value: 'phones' }]));
    const anyEnv = await cph.listResourceInstances({ body: { action: 'filter', tags: [{ key: 'env', values: [] }], offset: '0', limit: '10' } });
    expect(anyEnv.resources!.map((r) => r.resource_id).sort()).toEqual([s0, s1].sort());
    const count = await cph.listResourceInstances({ body: { action: 'count', tags: [{ key: 'env', values: ['e2e', 'staging'] }] } });
    expect(count.total_count).toBe(2);
    const byName = await cph.listResourceInstances({ body: { action: 'filter', matches: [{ key: 'resource_name', value: 'renamed-server' }] } });
    expect(byName.resources!.map((r) => r.resource_id)).toEqual([s0]);
    const untagged = await cph.listResourceInstances({ body: { action: 'filter', without_any_tag: true } });
    const untaggedIds = untagged.resources!.map((r) => r.resource_id);
    expect(untaggedIds).not.toContain(s0);
    expect(untaggedIds).not.toContain(s1);

    const deleted = await cph.batchDeleteTags({ resource_id: s0, body: { action: 'delete', tags: [{ key: 'team', value: 'phones' }] } });
    expect(deleted.httpStatusCode).toBe(204);
    expect((await cph.listResourceTags({ resource_id: s0 })).tags).toEqual([{ key: 'env', value: 'e2e' }]);
  });

  it('images: a private image shared with another project, usable there only once accepted', async () => {
    const imageId = await importPrivateImage(t, PROJECT, 'e2e-private');
    const mine = await waitFor(async () => {
      const r = await cph.listImages({ image_type: 'private', image_id: imageId });
      return r.image_infos[0]?.status === 1 ? r : undefined;
    }, 30_000);
    expect(mine.image_infos).toMatchObject([{ image_id: imageId, image_name: 'e2e-private', image_type: 'private', status: 1 }]);
    expect(mine.total).toBe(1);
    const phoneImages = await cph.listCloudPhoneImages({ image_type: 'private' });
    expect(phoneImages.phone_images).toMatchObject([{ image_id: imageId, is_public: 2 }]);

    otherPhones = (await other.listCloudPhones()).phones.map((p) => p.phone_id);
    expect(otherPhones).toHaveLength(2);
    const useIt = () => other.resetCloudPhone({ body: { image_id: imageId, phones: [{ phone_id: otherPhones[0]! }] } });
    expect(await refusal(useIt())).toMatchObject({ httpStatusCode: 400, errorCode: 'CPS.0030' });

    expect((await cph.addImageMember({ image_id: imageId, body: { member: other.projectId } })).httpStatusCode).toBe(200);
    const members = await cph.listImageMembers({ image_id: imageId });
    expect(members.members).toMatchObject([{ image_id: imageId, member_id: other.projectId }]);
    expect(typeof members.members[0]!.create_time).toBe('number');
    // Shared, not yet accepted: still unusable.
    expect(await refusal(useIt())).toMatchObject({ httpStatusCode: 400, errorCode: 'CPS.0030' });

    expect((await other.updateImageMember({ image_id: imageId, body: { status: 'accepted' } })).httpStatusCode).toBe(200);
    const shared = await other.listImages({ image_type: 'share' });
    expect(shared.image_infos).toMatchObject([{ image_id: imageId, image_type: 'share', src_project_id: PROJECT }]);
    const reset = await useIt();
    expectJobsDone(await other.waitForJobs(reset.request_id), 1);
    expect((await other.showCloudPhoneDetail({ phone_id: otherPhones[0]! })).image_id).toBe(imageId);
    // Back on a public image before the share and the image go.
    expectJobsDone(await other.waitForJobs((await other.resetCloudPhone({ body: { image_id: ANDROID11, phones: [{ phone_id: otherPhones[0]! }] } })).request_id), 1);

    await cph.deleteImageMember({ image_id: imageId, member_id: other.projectId });
    expect((await cph.listImageMembers({ image_id: imageId })).members).toEqual([]);
    expect((await other.listImages({ image_type: 'share' })).image_infos.map((i) => i.image_id)).not.toContain(imageId);
    expect(await refusal(useIt())).toMatchObject({ httpStatusCode: 400, errorCode: 'CPS.0030' });

    expect((await cph.deleteImage({ image_id: imageId })).httpStatusCode).toBe(200);
    expect((await cph.listImages({ image_type: 'private' })).image_infos.map((i) => i.image_id)).not.toContain(imageId);
  });

  it('encode servers: list, restart with jobs carrying encode_server_id', async () => {
    const list = await cph.listEncodeServers();
    expect(list.request_id).toMatch(/^[0-9a-f]{32}$/);
    expect(list.encode_servers.length, 'an encode server to restart').toBeGreaterThan(0);
    const encoder = list.encode_servers[0]!;
    const projectServers = (await cph.listCloudPhoneServers()).servers.map((s) => s.server_id);
    expect(projectServers).toContain(encoder.server_id);
    const ofServer = await cph.listEncodeServers({ server_id: encoder.server_id });
    expect(ofServer.encode_servers.every((e) => e.server_id === encoder.server_id)).toBe(true);

    const restart = await cph.restartEncodeServer({ body: { encode_server_ids: [encoder.encode_server_id, UNKNOWN] } });
    expect(restart.jobs).toHaveLength(2);
    expect(restart.jobs[0]).toMatchObject({ encode_server_id: encoder.encode_server_id });
    expect(restart.jobs[0]!.job_id).toMatch(/^[0-9a-f]{32}$/);
    expect(restart.jobs[1]).toMatchObject({ encode_server_id: UNKNOWN });
    expect(restart.jobs[1]!.error_code).toMatch(/^CPS\./);
    expectJobsDone(await cph.waitForJobs([restart.jobs[0]!.job_id!]), 1);
    const again = (await cph.listEncodeServers({ server_id: encoder.server_id })).encode_servers.find((e) => e.encode_server_id === encoder.encode_server_id);
    expect(again!.status).toBe(1);
  });

  it('changing a server (new physical server, new image) and its model', { timeout: 180_000 }, async () => {
    const [first, second] = bought as [string, string];
    const change = await cph.changeCloudPhoneServer({
      server_id: first,
      body: {
        phone_model_name: 'rx1.cp.c15.d46.e1v1',
        image_id: ANDROID12,
        tenant_vpc_id: VPC,
        nics: [{ subnet_id: SUBNET }],
        public_ip: { eip: { type: '5_bgp' }, count: 1 },
        band_width: { band_width_size: 10, band_width_charge_mode: 0, band_width_share_type: 0 },
      },
    });
    expect(change).toMatchObject({ httpStatusCode: 200, server_id: first });
    expect(change.job_id).toMatch(/^[0-9a-f]{32}$/);
    expectJobsDone(await cph.waitForJobs([change.job_id]), 1);
    expect(await waitForServer(first)).toMatchObject({ server_id: first, phone_model_name: 'rx1.cp.c15.d46.e1v1' });
    const changed = await waitFor(async () => {
      const r = await waitForRunningPhones(first);
      return r.every((p) => p.image_id === ANDROID12) ? r : undefined;
    }, 60_000);
    expect(changed.length).toBeGreaterThan(0);

    const model = await cph.changeCloudPhoneServerModel({ body: { server_id: second, server_model_name: 'physical.rx1.2xlarge', phone_model_name: 'rx1.cp.c15.d92.e1v1', extend_param: { is_auto_pay: 1 } } });
    expect(model.httpStatusCode).toBe(200);
    expect(model.order_id).toBeTruthy();
    const s = await waitForServer(second, (d) => d.phone_model_name === 'rx1.cp.c15.d92.e1v1');
    expect(s.server_model_name).toBe('physical.rx1.2xlarge');
    const running = await waitForRunningPhones(second);
    expect(running.every((p) => p.phone_model_name === 'rx1.cp.c15.d92.e1v1')).toBe(true);
  });

  it('deleting the bought servers: gone from detail, lists and phones', { timeout: 120_000 }, async () => {
    expect(bought).toHaveLength(4);
    const del = await cph.deleteCloudPhoneServer({ body: { server_ids: bought } });
    expect(del.httpStatusCode).toBe(200);
    expect(del.job_id).toMatch(/^[0-9a-f]{32}$/);
    const jobs = await cph.waitForJobs(del.request_id, 90_000);
    expectJobsDone(jobs);
    expect((await cph.showJob({ job_id: del.job_id })).status).toBe(2);
    for (const id of bought) {
      expect(await refusal(cph.showCloudPhoneServerDetail({ server_id: id }))).toMatchObject({ httpStatusCode: 404, errorCode: 'CPS.0016' });
      expect((await cph.listCloudPhones({ server_id: id })).count).toBe(0);
    }
    const left = (await cph.listCloudPhoneServers()).servers.map((s) => s.server_id);
    expect(left.sort()).toEqual([...serverIds].sort());
  });

  it('every SDK operation answered successfully at least once', () => {
    expect(SDK_OPERATIONS.filter((name) => !called.has(name))).toEqual([]);
  });
});
