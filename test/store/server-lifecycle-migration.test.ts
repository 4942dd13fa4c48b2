import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDb, type DbHandle } from '../../src/store/db.js';
import { migrateToLatest, migrateUpTo } from '../../src/store/migrate.js';
import { makeDataDir, PROJECT, removeDataDir, storeOf } from '../helpers/node.js';

describe('migration 010: servers already stored get a bandwidth and their phones data volumes', () => {
  let dir: string;
  let h: DbHandle;
  beforeEach(async () => {
    dir = makeDataDir();
    h = openDb({ url: (await storeOf(dir)) ?? `${dir}/opencph.db` });
  });
  afterEach(async () => {
    await h.close();
    await removeDataDir(dir);
  });

  it('fills bandwidths, links and volumes, and defaults the new server columns', async () => {
    await migrateUpTo(h.db, '009_catalogue');
    const db = h.db as any;
    await db.insertInto('projects').values({ project_id: PROJECT, name: 'p', created_at: 0, domain_id: null }).execute();
    const server = (n: number) => ({
      server_id: `s${n}`.padEnd(32, '0'), project_id: PROJECT, server_name: `old-${n}`, server_model_name: 'physical.rx1.xlarge', phone_model_name: 'rx1.cp.c15.d46.e1v1',
      keypair_name: 'k', status: 5, availability_zone: 'az', network_version: 'v2', vpc_id: 'v', subnet_id: 's', server_ip: '10.0.0.1', public_ip: '', order_id: 'o', product_id: 'p', create_time: 1000, update_time: 1000,
    });
    await db.insertInto('servers').values([server(1), server(2)]).execute();
    const phone = (s: number, p: number) => ({
      phone_id: `p${s}${p}`.padEnd(32, '0'), project_id: PROJECT, server_id: `s${s}`.padEnd(32, '0'), phone_name: `old-${s}-${p}`, phone_model_name: 'rx1.cp.c15.d46.e1v1', image_id: 'i',
      status: 2, type: 0, imei: '1', traffic_type: 'direct', volume_mode: 0, availability_zone: 'az', has_encrypt: 0, property: '{}', phone_ip: '1', listen_port: 1, volume_size: 24, create_time: 2000, update_time: 2000,
    });
    await db.insertInto('phones').values([phone(1, 1), phone(1, 2), phone(2, 1)]).execute();
    await migrateToLatest(h.db);

    const servers = await h.db.selectFrom('servers').selectAll().orderBy('server_name').execute();
    expect(servers.map((s) => [s.charging_mode, s.enterprise_project_id, s.ports, s.share_volume_size])).toEqual([
      [1, '0', '[]', 0],
      [1, '0', '[]', 0],
    ]);
    const bandwidths = await h.db.selectFrom('bandwidths').selectAll().orderBy('band_width_name').execute();
    expect(bandwidths.map((b) => [b.band_width_name, b.band_width_size, b.band_width_share_type, Number(b.create_time)])).toEqual([
      ['bandwidth-old-1', 100, 0, 1000],
      ['bandwidth-old-2', 100, 0, 1000],
    ]);
    const links = await h.db.selectFrom('server_bandwidths').selectAll().execute();
    expect(links).toHaveLength(2);
    const volumes = await h.db.selectFrom('volumes').selectAll().orderBy('volume_name').execute();
    expect(volumes.map((v) => [v.server_id.slice(0, 2), v.volume_name, v.volume_size, v.volume_type])).toEqual([
      ['s1', 'old-1-1-data', 24, 'SSD'],
      ['s1', 'old-1-2-data', 24, 'SSD'],
      ['s2', 'old-2-1-data', 24, 'SSD'],
    ]);
  });
});
