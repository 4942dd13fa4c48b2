import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config.js';
import { sendSigned, type Reply } from '../helpers/http.js';
import { PROJECT, startTestNode, waitFor, type TestNode } from '../helpers/node.js';

const IMAGE = '5b4a1a3c0f2a4d8e9c7b6a5d4e3f2a10'; // cloud_phone, Android 11
const IMAGE_1620 = '5b4a1a3c0f2a4d8e9c7b6a5d4e3f2b11';
const VPC = '6c5e1a0c-1b3a-4e5f-9a2b-0c1d2e3f4a5b';
const SUBNET = '7d6f2b1d-2c4b-4f60-8b3c-1d2e3f4a5b6c';

/** A valid CreateNet2CloudPhoneServer body; tests change one field at a time. */
function net2(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    server_name: 'bought',
    server_model_name: 'physical.rx1.xlarge',
    phone_model_name: 'rx1.cp.c15.d46.e1v1',
    image_id: IMAGE,
    count: 1,
    keypair_name: 'kp-1',
    ports: [{ name: 'game', listen_port: 20000, internet_accessible: 'TRUE' }],
    extend_param: { charging_mode: 1 },
    tenant_vpc_id: VPC,
    nics: [{ subnet_id: SUBNET }],
    public_ip: { eip: { type: '5_bgp' }, count: 1 },
    band_width: { band_width_size: 50, band_width_charge_mode: 0, band_width_share_type: 0 },
    ...over,
  };
}

function changeBody(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    phone_model_name: 'rx1.cp.c15.d46.e1v1',
    image_id: '5b4a1a3c0f2a4d8e9c7b6a5d4e3f2a12',
    tenant_vpc_id: VPC,
    nics: [{ subnet_id: SUBNET }],
    public_ip: { eip: { type: '5_bgp' } },
    band_width: { band_width_size: 50, band_width_charge_mode: 0, band_width_share_type: 0 },
    ...over,
  };
}

describe('server lifecycle: buy, change, delete, key pairs', () => {
  let t: TestNode;
  const key = { ak: DEFAULTS.defaultAk, sk: DEFAULTS.defaultSk };
  const v1 = `/v1/${PROJECT}/cloud-phone`;
  // Node's client sends a DELETE body only with a length given (the SDK's axios always gives one).
  const call = (method: string, path: string, body?: unknown): Promise<Reply> =>
    sendSigned(t.node.port, key, method, path, { body, projectId: PROJECT, headers: body === undefined ? {} : { 'content-length': String(Buffer.byteLength(JSON.stringify(body))) } });
  const buy = (body: Record<string, unknown>) => call('POST', `/v2/${PROJECT}/cloud-phone/servers`, body);
  const show = (serverId: string) => call('GET', `${v1}/servers/${serverId}`);
  const phonesOf = async (serverId: string) => (await call('GET', `${v1}/phones?server_id=${serverId}&limit=200`)).body.phones as any[];
  const job = (jobId: string) => waitFor(async () => {
    const r = await call('GET', `${v1}/jobs/${jobId}`);
    return r.body.status !== 1 ? r.body : undefined;
  });
  const expectError = (r: Reply, status: number, code: string, what: string) => {
    expect(r.status, `${what}: ${r.text}`).toBe(status);
    expect(r.body.error_code, `${what}: ${r.text}`).toBe(code);
  };

  beforeAll(async () => {
    // Each simulated step takes a multiple of 100 ms, so a bought server is seen creating.
    t = await startTestNode({ auth: 'verify', servers: 2, phonesPerServer: 2, simDelayMs: 100 });
  });
  afterAll(() => t.close());

  it('buys 3 servers: suffixed names, phones 1 → 2 and servers → 5, then usable', async () => {
    const r = await buy(net2({ count: 3, server_name: 'farm', property: '{"ro.bought":"yes"}' }));
    expect(r.status, r.text).toBe(200);
    expect(r.body).toEqual({ request_id: r.headers['x-request-id'], order_id: expect.stringMatching(/^[0-9a-f]{32}$/), product_id: expect.any(String), server_ids: expect.any(Array) });
    const ids: string[] = r.body.server_ids;
    expect(ids).toHaveLength(3);
    const first = await show(ids[0]!);
    expect(first.status, first.text).toBe(200);
    expect([0, 1, 3, 4]).toContain(first.body.status);
    const creating = await phonesOf(ids[0]!);
    expect(creating).toHaveLength(15);
    expect(creating.every((p) => p.status === 1)).toBe(true);
    for (const id of ids) await waitFor(async () => ((await show(id)).body.status === 5 ? true : undefined));
    const names = [];
    for (const id of ids) {
      const d = (await show(id)).body;
      names.push(d.server_name);
      expect(d).toMatchObject({ keypair_name: 'kp-1', vpc_id: VPC, subnet_id: SUBNET, network_version: 'v2', metadata: { charging_mode: 1, order_id: r.body.order_id } });
      expect(d.band_widths).toEqual([expect.objectContaining({ band_width_size: 50, band_width_share_type: 0 })]);
      expect(d.volumes).toHaveLength(15);
      const phones = await phonesOf(id);
      expect(phones.every((p) => p.status === 2 && p.image_id === IMAGE && p.phone_model_name === 'rx1.cp.c15.d46.e1v1')).toBe(true);
      expect(phones.map((p) => p.phone_name)).toContain(`phone-${d.server_name}-01`);
    }
    expect(names.sort()).toEqual(['farm-0001', 'farm-0002', 'farm-0003']);
    const phone = (await phonesOf(ids[1]!))[0];
    expect((await call('GET', `${v1}/phones/${phone.phone_id}`)).body.property).toBe('{"ro.bought":"yes"}');
    // The provisioning jobs are ListJobs jobs of the purchase's request.
    const jobs = (await call('GET', `${v1}/jobs?request_id=${r.body.request_id}`)).body.jobs;
    expect(jobs.map((j: any) => [j.server_id, j.status]).sort()).toEqual(ids.map((id) => [id, 2]).sort());
    const restart = await call('POST', `${v1}/phones/batch-restart`, { phones: [{ phone_id: phone.phone_id }] });
    expect((await job(restart.body.jobs[0].job_id)).status).toBe(2);
  });

  it('buys a spec 2.0 server with volumes and shared storage, and a bare server (v2.1)', async () => {
    const r = await buy(
      net2({
        server_model_name: 'physical.kg1.4xlarge.cp',
        phone_model_name: 'kg1.cp.c8.d16.e2v2',
        image_id: IMAGE_1620,
        phone_data_volume: { volume_type: 'GPSSD', size: 64 },
        server_share_data_volume: { volume_type: 'SSD', size: 100 },
        extend_param: { charging_mode: 0, period_type: 2, period_num: 3, is_auto_renew: 1 },
      }),
    );
    expect(r.status, r.text).toBe(200);
    const id = r.body.server_ids[0];
    const d = (await show(id)).body;
    expect(d.metadata.charging_mode).toBe(0);
    expect(d.share_volume_info).toEqual({ volume_type: 'SSD', size: 100, version: 1 });
    expect(d.volumes).toHaveLength(16);
    expect(d.volumes[0]).toMatchObject({ volume_type: 'GPSSD', volume_size: 64 });

    const bare = await call('POST', `/v2.1/${PROJECT}/cloud-phone/servers`, {
      server_name: 'bare',
      server_model_name: 'physical.kg1.4xlarge.cp',
      count: 2,
      order_param: { charging_mode: 1 },
      nics: [{ subnet_id: SUBNET }],
      public_ip: { band_width: { band_width_size: 400, band_width_charge_mode: 1, band_width_share_type: 0 } },
      data_volume: { volume_type: 'SSD', size: 200, count: 2 },
      keypair_name: 'kp-bare',
    });
    expect(bare.status, bare.text).toBe(200);
    expect(bare.body.server_ids).toHaveLength(2);
    for (const sid of bare.body.server_ids) {
      await waitFor(async () => ((await show(sid)).body.status === 5 ? true : undefined));
      const b = (await show(sid)).body;
      expect(b.server_name).toMatch(/^bare-000[12]$/);
      expect(b.volumes.map((v: any) => v.volume_size)).toEqual([200, 200]);
      expect(await phonesOf(sid)).toEqual([]);
    }
  });

  it('refuses every invalid purchase with its code', async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['count 0', { count: 0 }, 'CPS.0024'],
      ['count 11', { count: 11 }, 'CPS.0024'],
      ['no phone model', { phone_model_name: undefined }, 'CPS.0027'],
      ['empty phone model', { phone_model_name: '' }, 'CPS.0027'],
      ['unknown phone model', { phone_model_name: 'nope' }, 'CPS.0028'],
      ['offline phone model', { phone_model_name: 'rx1.cp.c60.d184.e1v1' }, 'CPS.0028'],
      ['phone model of another server model', { phone_model_name: 'kg1.cp.c8.d16.e2v2' }, 'CPS.0028'],
      ['no image', { image_id: undefined }, 'CPS.0029'],
      ['unknown image', { image_id: 'f'.repeat(32) }, 'CPS.0030'],
      ['image of another label', { image_id: IMAGE_1620 }, 'CPS.0030'],
      ['unknown server model', { server_model_name: 'physical.none' }, 'CPS.0034'],
      ['bad name', { server_name: 'has space' }, 'CPS.0034'],
      ['long name', { server_name: 'n'.repeat(61) }, 'CPS.0034'],
      ['port adb', { ports: [{ name: 'ADB', listen_port: 20000, internet_accessible: 'true' }] }, 'CPS.0034'],
      ['long port name', { ports: [{ name: 'p'.repeat(17), listen_port: 20000, internet_accessible: 'true' }] }, 'CPS.0034'],
      ['low port', { ports: [{ name: 'web', listen_port: 9999, internet_accessible: 'true' }] }, 'CPS.0034'],
      ['high port', { ports: [{ name: 'web', listen_port: 50001, internet_accessible: 'true' }] }, 'CPS.0034'],
      ['port accessibility', { ports: [{ name: 'web', listen_port: 20000, internet_accessible: 'maybe' }] }, 'CPS.0034'],
      ['no band_width', { band_width: undefined }, 'CPS.0031'],
      ['dedicated without size', { band_width: { band_width_charge_mode: 0, band_width_share_type: 0 } }, 'CPS.0031'],
      ['size off step', { band_width: { band_width_size: 310, band_width_charge_mode: 0, band_width_share_type: 0 } }, 'CPS.0031'],
      ['shared unknown', { band_width: { band_width_id: 'a'.repeat(32), band_width_charge_mode: 0, band_width_share_type: 1 } }, 'CPS.0031'],
      ['charge mode 2', { band_width: { band_width_size: 5, band_width_charge_mode: 2, band_width_share_type: 0 } }, 'CPS.0031'],
      ['spec 2.0 without phone volume', { server_model_name: 'physical.kg1.4xlarge.cp', phone_model_name: 'kg1.cp.c8.d16.e2v2', image_id: IMAGE_1620 }, 'CPS.0034'],
      ['volume too big', { phone_data_volume: { volume_type: 'SSD', size: 32769 } }, 'CPS.0034'],
      ['volume type', { phone_data_volume: { volume_type: 'HDD', size: 10 } }, 'CPS.0034'],
      ['shared storage on spec 1.0', { server_share_data_volume: { volume_type: 'SSD', size: 100 } }, 'CPS.0034'],
      ['prepaid without period', { extend_param: { charging_mode: 0 } }, 'CPS.0034'],
      ['10 months', { extend_param: { charging_mode: 0, period_type: 2, period_num: 10 } }, 'CPS.0034'],
      ['11 years', { extend_param: { charging_mode: 0, period_type: 3, period_num: 11 } }, 'CPS.0034'],
      ['charging mode 2', { extend_param: { charging_mode: 2 } }, 'CPS.0034'],
      ['vpc not a UUID', { tenant_vpc_id: 'vpc-1' }, 'CPS.0034'],
      ['subnet not a UUID', { nics: [{ subnet_id: 'subnet-1' }] }, 'CPS.0034'],
      ['no nics', { nics: [] }, 'CPS.0034'],
      ['no public_ip', { public_ip: undefined }, 'CPS.0034'],
      ['eip type', { public_ip: { eip: { type: '5_none' } } }, 'CPS.0034'],
      ['two EIPs', { public_ip: { ids: ['a', 'b'] } }, 'CPS.0034'],
      ['more IPs than phones', { public_ip: { count: 2 } }, 'CPS.0034'],
      ['phones per IP', { phone_count_per_ip: 16 }, 'CPS.0034'],
      ['empty property', { property: '' }, 'CPS.0034'],
      ['property not JSON', { property: 'x=1' }, 'CPS.0034'],
      ['long keypair', { keypair_name: 'k'.repeat(65) }, 'CPS.0034'],
      ['no extend_param', { extend_param: undefined }, 'CPS.0034'],
    ];
    const before = (await call('GET', `${v1}/servers`)).body.count;
    for (const [what, over, code] of cases) expectError(await buy(net2(over)), 400, code, what);
    expect((await call('GET', `${v1}/servers`)).body.count).toBe(before);
    const bare = await call('POST', `/v2.1/${PROJECT}/cloud-phone/servers`, { server_name: 'bare', server_model_name: 'physical.rx1.xlarge', count: 1, order_param: { charging_mode: 1 }, nics: [{ subnet_id: SUBNET }], public_ip: { band_width: { band_width_size: 5, band_width_charge_mode: 0, band_width_share_type: 0 } } });
    expectError(bare, 400, 'CPS.0034', 'bare server without keypair_name');
  });

  it('deletes on-demand servers with their phones (one job); refuses prepaid ones and more than 10', async () => {
    const r = await buy(net2({ server_name: 'doomed', count: 2 }));
    const ids: string[] = r.body.server_ids;
    const phones = [...(await phonesOf(ids[0]!)), ...(await phonesOf(ids[1]!))];
    expect(phones).toHaveLength(30);
    const del = await call('DELETE', `/v2/${PROJECT}/cloud-phone/servers`, { server_ids: ids });
    expect(del.status, del.text).toBe(200);
    expect(del.body).toEqual({ request_id: del.headers['x-request-id'], job_id: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect((await job(del.body.job_id)).status).toBe(2);
    for (const id of ids) expectError(await show(id), 404, 'CPS.0016', 'deleted server');
    expectError(await call('GET', `${v1}/phones/${phones[0].phone_id}`), 404, 'CPS.0005', 'deleted phone');
    expect(await phonesOf(ids[0]!)).toEqual([]);
    // Their bandwidths went with them.
    const left = (await call('GET', `${v1}/bandwidths`)).body.band_widths.map((b: any) => b.band_width_name);
    expect(left.filter((n: string) => n.includes('doomed'))).toEqual([]);

    const prepaid = await buy(net2({ server_name: 'prepaid', extend_param: { charging_mode: 0, period_type: 3, period_num: 1 } }));
    expectError(await call('DELETE', `/v2/${PROJECT}/cloud-phone/servers`, { server_ids: prepaid.body.server_ids }), 400, 'CPS.0910', 'prepaid');
    expect((await show(prepaid.body.server_ids[0])).status).toBe(200);
    const seeded = (await call('GET', `${v1}/servers?server_name=server-0001`)).body.servers[0].server_id;
    expectError(await call('DELETE', `/v2/${PROJECT}/cloud-phone/servers`, { server_ids: Array.from({ length: 11 }, () => seeded) }), 400, 'CPS.0034', 'eleven');
    expectError(await call('DELETE', `/v2/${PROJECT}/cloud-phone/servers`, { server_ids: [] }), 400, 'CPS.0034', 'none');
    expectError(await call('DELETE', `/v2/${PROJECT}/cloud-phone/servers`, { server_ids: ['a'.repeat(32)] }), 400, 'CPS.0016', 'unknown');
    expect((await show(seeded)).status).toBe(200);
  });

  it('fails the unfinished jobs of deleted servers clearly', async () => {
    const r = await buy(net2({ server_name: 'short-lived', count: 2 }));
    const [a, b] = r.body.server_ids as string[];
    // The one delete job is filed under the first server: jobs submitted on it afterwards wait
    // behind it (server jobs run in order) and are still waiting when it ends. (A job on the second
    // server could run while that server shuts down, and fail as any job on an unavailable server.)
    const del = await call('DELETE', `/v2/${PROJECT}/cloud-phone/servers`, { server_ids: [a, b] });
    await call('POST', `${v1}/servers/batch-restart`, { server_ids: [a] });
    const second = await call('POST', `${v1}/servers/batch-restart`, { server_ids: [a] });
    expect((await job(del.body.job_id)).status).toBe(2);
    const failed = await job(second.body.jobs[0].job_id);
    expect(failed).toMatchObject({ status: -1, error_code: 'CPS.0912' });
    expect(failed.error_msg).toContain('The server was deleted.');
    const listed = (await call('GET', `${v1}/jobs?request_id=${second.body.request_id}`)).body.jobs;
    expect(listed).toEqual([expect.objectContaining({ status: -1, error_code: 'CPS.0912' })]);
  });

  it('changes a server: same ids, new image, data lost', async () => {
    const r = await buy(net2({ server_name: 'to-change' }));
    const id = r.body.server_ids[0];
    await waitFor(async () => ((await show(id)).body.status === 5 ? true : undefined));
    const before = await phonesOf(id);
    const phone = before[0].phone_id;
    const push = await call('POST', `${v1}/phones/sync-commands`, { command: 'shell', content: 'settings put global opencph_mark kept', phone_ids: [phone] });
    expect(push.body.jobs[0].status, push.text).toBe(2);
    const ch = await call('POST', `/v2/${PROJECT}/cloud-phone/servers/${id}/change`, changeBody({ keypair_name: 'kp-new', availability_zone: 'cn-north-4b', phone_data_volume: { volume_type: 'SSD', size: 48 } }));
    expect(ch.status, ch.text).toBe(200);
    expect(ch.body).toEqual({ request_id: ch.headers['x-request-id'], server_id: id, job_id: expect.any(String) });
    expect((await job(ch.body.job_id)).status).toBe(2);
    const after = await phonesOf(id);
    expect(after.map((p) => p.phone_id).sort()).toEqual(before.map((p) => p.phone_id).sort());
    expect(after.every((p) => p.status === 2 && p.image_id === '5b4a1a3c0f2a4d8e9c7b6a5d4e3f2a12')).toBe(true);
    const d = (await show(id)).body;
    expect(d).toMatchObject({ keypair_name: 'kp-new', availability_zone: 'cn-north-4b', status: 5 });
    expect(after.every((p) => p.availability_zone === 'cn-north-4b')).toBe(true);
    expect(d.volumes[0].volume_size).toBe(48);
    const probe = await call('POST', `${v1}/phones/sync-commands`, { command: 'shell', content: 'settings get global opencph_mark', phone_ids: [phone] });
    expect(probe.body.jobs[0].execute_msg).toBe('null\n');

    const bad: [string, string, Record<string, unknown>, number, string][] = [
      ['unknown server', 'a'.repeat(32), changeBody(), 404, 'CPS.0016'],
      ['other capacity', id, changeBody({ phone_model_name: 'rx1.cp.c30.d92.e1v1' }), 400, 'CPS.0028'],
      ['other server model', id, changeBody({ phone_model_name: 'kg1.cp.c8.d16.e2v2' }), 400, 'CPS.0028'],
      ['wrong image label', id, changeBody({ image_id: IMAGE_1620 }), 400, 'CPS.0030'],
      ['no image', id, changeBody({ image_id: undefined }), 400, 'CPS.0029'],
      ['small volume', id, changeBody({ phone_data_volume: { volume_type: 'SSD', size: 9 } }), 400, 'CPS.0034'],
      ['no band_width', id, changeBody({ band_width: undefined }), 400, 'CPS.0031'],
    ];
    for (const [what, sid, body, status, code] of bad) expectError(await call('POST', `/v2/${PROJECT}/cloud-phone/servers/${sid}/change`, body), status, code, what);
  });

  it('changes the server model within its generation only', async () => {
    const seeded = (await call('GET', `${v1}/servers?server_name=server-0002`)).body.servers[0];
    const path = `${v1}/servers/change-server-model`;
    const ok = await call('POST', path, { server_id: seeded.server_id, server_model_name: 'physical.rx1.2xlarge', phone_model_name: 'rx1.cp.c15.d92.e1v1' });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body).toEqual({ request_id: ok.headers['x-request-id'], order_id: expect.any(String), product_id: expect.any(String) });
    await waitFor(async () => {
      const d = (await show(seeded.server_id)).body;
      return d.server_model_name === 'physical.rx1.2xlarge' && d.status === 5 ? true : undefined;
    });
    expect((await phonesOf(seeded.server_id)).every((p) => p.phone_model_name === 'rx1.cp.c15.d92.e1v1' && p.status === 2)).toBe(true);
    const jobs = (await call('GET', `${v1}/jobs?request_id=${ok.body.request_id}`)).body.jobs;
    expect(jobs).toEqual([expect.objectContaining({ server_id: seeded.server_id, status: 2 })]);

    const bad: [string, Record<string, unknown>, number, string][] = [
      ['other generation', { server_model_name: 'physical.kg1.4xlarge.cp', phone_model_name: 'kg1.cp.c8.d16.e2v2' }, 400, 'CPS.0034'],
      ['unknown server model', { server_model_name: 'physical.none', phone_model_name: 'rx1.cp.c15.d46.e1v1' }, 400, 'CPS.0034'],
      ['phone model of another server model', { server_model_name: 'physical.rx1.xlarge', phone_model_name: 'rx1.cp.c15.d92.e1v1' }, 400, 'CPS.0028'],
      ['other phone count', { server_model_name: 'physical.rx1.xlarge', phone_model_name: 'rx1.cp.c30.d92.e1v1' }, 400, 'CPS.0028'],
      ['offline phone model', { server_model_name: 'physical.rx1.xlarge', phone_model_name: 'rx1.cp.c60.d184.e1v1' }, 400, 'CPS.0028'],
    ];
    for (const [what, body, status, code] of bad) expectError(await call('POST', path, { server_id: seeded.server_id, ...body }), status, code, what);
    expectError(await call('POST', path, { server_id: 'a'.repeat(32), server_model_name: 'physical.rx1.xlarge', phone_model_name: 'rx1.cp.c15.d46.e1v1' }), 404, 'CPS.0016', 'unknown server');
  });

  it('updates key pairs with a job per server; /servers/open-access is not PUT /servers/{server_id}', async () => {
    const list = (await call('GET', `${v1}/servers?server_name=server-000`)).body.servers;
    const r = await call('PUT', `${v1}/servers/open-access`, { servers: [{ server_id: list[0].server_id, keypair_name: 'kp-open' }, { server_id: 'a'.repeat(32), keypair_name: 'kp-x' }] });
    expect(r.status, r.text).toBe(200);
    expect(r.body.jobs[0]).toEqual({ server_id: list[0].server_id, job_id: expect.any(String) });
    expect(r.body.jobs[1]).toMatchObject({ server_id: 'a'.repeat(32), error_code: 'CPS.0097' });
    expect((await job(r.body.jobs[0].job_id)).status).toBe(2);
    expect((await show(list[0].server_id)).body.keypair_name).toBe('kp-open');
    // Had the literal path fallen to UpdateServerName, this body would be refused for lacking server_name.
    expect((await call('GET', `${v1}/servers?server_name=open-access`)).body.count).toBe(0);
    expectError(await call('PUT', `${v1}/servers/open-access`, { servers: [{ server_id: list[0].server_id, keypair_name: 'k'.repeat(65) }] }), 400, 'CPS.0034', 'long keypair');
    expectError(await call('PUT', `${v1}/servers/open-access`, { servers: [] }), 400, 'CPS.0034', 'no servers');
  });
});
