import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PROJECT_ID } from '../../src/runtime/node.js';
import { SIM_IMAGES } from '../../src/store/seed.js';
import { admin } from '../helpers/admin.js';
import { makeDataDir, removeDataDir, startTestNode } from '../helpers/node.js';

describe('opencph admin catalogue and images', () => {
  let dataDir: string;

  beforeAll(() => {
    dataDir = makeDataDir();
  });
  afterAll(() => removeDataDir(dataDir));

  it('lists the catalogue a first start writes: server models, phone models, public images', async () => {
    const out = (await admin(dataDir, 'catalogue', 'list')).join('\n');
    expect(out).toMatch(/^SERVER MODEL\s+TYPE\s+CPU/m);
    expect(out).toMatch(/^physical\.rx1\.xlarge\s+Hi1616\s+64\s+256\s+0$/m);
    expect(out).toMatch(/^rx1\.cp\.c15\.d46\.e1v1\s+physical\.rx1\.xlarge\s+1\s+4\s+4096\s+32\s+15\s+cloud_phone$/m);
    for (const image of SIM_IMAGES) expect(out).toContain(image.image_id);
  });

  it('adds a server model and a phone model to it, as a server on the store holds them', async () => {
    expect(await admin(dataDir, 'catalogue', 'add-server-model', 'physical.rx2.xlarge', '--server-type', 'Kunpeng920', '--cpu', '96', '--memory', '384')).toEqual(['added server model physical.rx2.xlarge']);
    expect(
      await admin(dataDir, 'catalogue', 'add-phone-model', 'rx2.cp.c12.d48.e2v2', '--server-model', 'physical.rx2.xlarge', '--cpu', '8', '--memory', '8192', '--disk', '64', '--capacity', '12', '--image-label', 'cloud_phone_1620', '--version', '1', '--share-disk-g', '512', '--resolution', '1080*1920'),
    ).toEqual(['added phone model rx2.cp.c12.d48.e2v2 to server model physical.rx2.xlarge']);
    const out = (await admin(dataDir, 'catalogue', 'list')).join('\n');
    expect(out).toMatch(/^physical\.rx2\.xlarge\s+Kunpeng920\s+96\s+384\s+0$/m);
    expect(out).toMatch(/^rx2\.cp\.c12\.d48\.e2v2\s+physical\.rx2\.xlarge\s+1\s+8\s+8192\s+64\s+12\s+cloud_phone_1620$/m);

    const t = await startTestNode({ dataDir });
    try {
      const db = t.node.handle.db;
      const model = await db.selectFrom('phone_models').selectAll().where('phone_model_name', '=', 'rx2.cp.c12.d48.e2v2').executeTakeFirstOrThrow();
      expect(model).toMatchObject({ server_model_name: 'physical.rx2.xlarge', phone_model_version: 1, product_type: 0, extend_spec: '{"max_share_disk_size_g":512}', spec_code: 'rx2.cp.c12.d48.e2v2', status: 1 });
      const server = await db.selectFrom('server_models').selectAll().where('server_model_name', '=', 'physical.rx2.xlarge').executeTakeFirstOrThrow();
      expect(JSON.parse(server.extend_spec)).toMatchObject({ bms_flavor: 'physical.rx2.xlarge' });
    } finally {
      await t.close();
    }
  });

  it('refuses models that do not make sense, with a message', async () => {
    const phone = (name: string, ...more: string[]) => admin(dataDir, 'catalogue', 'add-phone-model', name, '--cpu', '2', '--memory', '2048', '--disk', '16', '--capacity', '10', ...more);
    await expect(admin(dataDir, 'catalogue', 'add-server-model', 'physical.rx2.xlarge', '--server-type', 'X', '--cpu', '1', '--memory', '1')).rejects.toThrow('exists already');
    await expect(admin(dataDir, 'catalogue', 'add-server-model', 'x'.repeat(65), '--server-type', 'X', '--cpu', '1', '--memory', '1')).rejects.toThrow('1 to 64 characters');
    await expect(admin(dataDir, 'catalogue', 'add-server-model', 'm1', '--server-type', 'X', '--cpu', '0', '--memory', '1')).rejects.toThrow('--cpu must be a whole number');
    await expect(admin(dataDir, 'catalogue', 'add-server-model', 'm1', '--server-type', 'X', '--cpu', '1', '--memory', '1', '--extend-spec', '[1]')).rejects.toThrow('extend_spec must be a JSON object');
    await expect(phone('p1', '--server-model', 'physical.nosuch', '--image-label', 'cloud_phone')).rejects.toThrow('No server model physical.nosuch');
    await expect(phone('p1', '--server-model', 'physical.rx1.xlarge', '--image-label', 'android')).rejects.toThrow('Allowed choices are qemu_phone');
    await expect(phone('p1', '--server-model', 'physical.rx1.xlarge', '--image-label', 'cloud_game')).rejects.toThrow('cloud_game* image label goes with product type 1');
    await expect(phone('p1', '--server-model', 'physical.rx1.xlarge', '--image-label', 'cloud_phone', '--resolution', 'big')).rejects.toThrow('resolution');
    await expect(phone('rx1.cp.c15.d46.e1v1', '--server-model', 'physical.rx1.xlarge', '--image-label', 'cloud_phone')).rejects.toThrow('exists already');
    expect((await admin(dataDir, 'catalogue', 'list')).join('\n')).not.toMatch(/^p1\s/m);
  });

  it('imports a private image of a project from a public one', async () => {
    const out = await admin(dataDir, 'images', 'import', '--project', DEFAULT_PROJECT_ID, '--name', 'golden', '--from-image', SIM_IMAGES[2]!.image_id);
    expect(out[0]).toMatch(new RegExp(`^imported image golden \\(([0-9a-f]{32})\\) into project cn-north-4 \\(${DEFAULT_PROJECT_ID}\\): cloud_phone_1620, ${SIM_IMAGES[2]!.image_version}$`));
    const t = await startTestNode({ dataDir });
    try {
      const r = await t.get(`/v1/${DEFAULT_PROJECT_ID}/cloud-phone/images`);
      expect(r.body.image_infos).toHaveLength(1);
      expect(r.body.image_infos[0]).toMatchObject({ image_name: 'golden', image_type: 'private', status: 1, project_id: DEFAULT_PROJECT_ID });
    } finally {
      await t.close();
    }
    const imported = /\(([0-9a-f]{32})\)/.exec(out[0]!)![1]!;
    // A private image is made from a public one, for a project that exists.
    await expect(admin(dataDir, 'images', 'import', '--project', DEFAULT_PROJECT_ID, '--name', 'copy', '--from-image', imported)).rejects.toThrow('No public image');
    await expect(admin(dataDir, 'images', 'import', '--project', 'f'.repeat(32), '--name', 'x', '--from-image', SIM_IMAGES[0]!.image_id)).rejects.toThrow('No project');
    await expect(admin(dataDir, 'images', 'import', '--project', DEFAULT_PROJECT_ID, '--name', 'x'.repeat(129), '--from-image', SIM_IMAGES[0]!.image_id)).rejects.toThrow('--name must be 1 to 128');
    await expect(admin(dataDir, 'images', 'import', '--project', DEFAULT_PROJECT_ID, '--name', 'x', '--from-image', SIM_IMAGES[0]!.image_id, '--status', 'done')).rejects.toThrow('Allowed choices are creating, production, create-failed');
  });
});
