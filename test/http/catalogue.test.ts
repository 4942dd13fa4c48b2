import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config.js';
import { PHONE_MODELS, SERVER_MODELS } from '../../src/store/catalogue.js';
import { sendSigned, type Reply } from '../helpers/http.js';
import { PROJECT, startTestNode, type TestNode } from '../helpers/node.js';

describe('model catalogue: ListCloudPhoneModels, ListCloudPhoneServerModels', () => {
  let t: TestNode;
  const base = `/v1/${PROJECT}/cloud-phone`;
  const get = (path: string): Promise<Reply> => sendSigned(t.node.port, { ak: DEFAULTS.defaultAk, sk: DEFAULTS.defaultSk }, 'GET', `${base}${path}`);

  beforeAll(async () => {
    t = await startTestNode({ auth: 'verify', servers: 1, phonesPerServer: 1 });
  });
  afterAll(() => t.close());

  it('lists phone models with every PhoneModel field, extend_spec a string, and no count', async () => {
    const r = await get('/phone-models');
    expect(r.status, r.text).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(['phone_models', 'request_id']);
    expect(r.body.phone_models).toHaveLength(PHONE_MODELS.length);
    const kg = r.body.phone_models.find((m: any) => m.phone_model_name === 'kg1.cp.c8.d16.e2v2');
    expect(kg).toEqual({
      server_model_name: 'physical.kg1.4xlarge.cp',
      phone_model_name: 'kg1.cp.c8.d16.e2v2',
      status: 1,
      cpu: 8,
      memory: 8192,
      disk: 64,
      resolution: '720*1280',
      extend_spec: '{"max_share_disk_size_g":1024,"max_phone_disk_size_g":256}',
      spec_code: 'kg1.cp.c8.d16.e2v2',
      phone_capacity: 16,
      image_label: 'cloud_phone_1620',
      product_type: 0,
      phone_model_version: 1,
      dpi: 320,
      fps: '30',
      volume_mode: 1,
      render_fps: 30,
      stream_fps: 30,
    });
  });

  it('filters phone models by status and pages them (limit 1..100)', async () => {
    const offline = (await get('/phone-models?status=0')).body.phone_models;
    expect(offline.map((m: any) => m.phone_model_name)).toEqual(['rx1.cp.c60.d184.e1v1']);
    const online = (await get('/phone-models?status=1')).body.phone_models;
    expect(online).toHaveLength(PHONE_MODELS.length - 1);
    expect(online.every((m: any) => m.status === 1)).toBe(true);
    const all = (await get('/phone-models')).body.phone_models.map((m: any) => m.phone_model_name);
    expect((await get('/phone-models?offset=1&limit=2')).body.phone_models.map((m: any) => m.phone_model_name)).toEqual(all.slice(1, 3));
    for (const q of ['limit=0', 'limit=101', 'offset=-1']) expect((await get(`/phone-models?${q}`)).body.error_code, q).toBe('CPS.0002');
    const bad = await get('/phone-models?status=2');
    expect(bad.status).toBe(400);
    expect(bad.body.error_code).toBe('CPS.0010');
  });

  it('lists server models with extend_spec an object, filtered by product_type', async () => {
    const r = await get('/server-models');
    expect(r.status, r.text).toBe(200);
    expect(r.body.server_models).toHaveLength(SERVER_MODELS.length);
    const kg = r.body.server_models.find((m: any) => m.server_model_name === 'physical.kg1.4xlarge.cp');
    expect(kg).toMatchObject({ server_type: 'Kunpeng920', cpu: 128, memory: 512, disk_max_num: 10, product_type: 0, free_size: 4096 });
    expect(kg.extend_spec).toMatchObject({ bms_flavor: 'physical.kg1.4xlarge.cp', gpu_count: 4, numa_count: 4, os_volume: { size: 200, volume_type: 'SSD' } });
    const rx = r.body.server_models.find((m: any) => m.server_model_name === 'physical.rx1.xlarge');
    expect(rx.extend_spec.os_volume).toBeUndefined();
    const gaming = (await get('/server-models?product_type=1')).body.server_models;
    expect(gaming.map((m: any) => m.server_model_name).sort()).toEqual(['physical.kg1.4xlarge.cg', 'physical.rx1.xlarge.cg']);
    expect((await get('/server-models?product_type=0')).body.server_models.every((m: any) => m.product_type === 0)).toBe(true);
    expect((await get('/server-models?product_type=3')).status).toBe(400);
  });
});
