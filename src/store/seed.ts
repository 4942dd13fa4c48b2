import type { Insertable } from 'kysely';
import { newId, type IdGenerator } from '../domain/ids.js';
import { PhoneStatus, ServerStatus } from '../domain/status.js';
import type { Db } from './db.js';
import { buildEncodeServers } from './encodeServers.js';
import { insertProject } from './projects.js';
import type { ImageTable } from './schema.js';
import { insertServerRows, type ServerRows } from './serverOrders.js';
import { FIRST_START, saveSnapshot } from './snapshots.js';

/**
 * The public images every project can use: Android 11 and 12 for each image label of the catalogue.
 * The columns of custom images (owner, status, size, times) take their defaults: public, in production.
 */
export const SIM_IMAGES: Insertable<ImageTable>[] = [
  { image_id: '5b4a1a3c0f2a4d8e9c7b6a5d4e3f2a10', image_name: 'CloudPhone_Android11', image_version: 'CPH_Android11_23.1.0', os_name: 'Android 11', os_type: 'Android', image_label: 'cloud_phone' },
  { image_id: '5b4a1a3c0f2a4d8e9c7b6a5d4e3f2a12', image_name: 'CloudPhone_Android12', image_version: 'CPH_Android12_24.2.0', os_name: 'Android 12', os_type: 'Android', image_label: 'cloud_phone' },
  { image_id: '5b4a1a3c0f2a4d8e9c7b6a5d4e3f2b11', image_name: 'CloudPhone1620_Android11', image_version: 'CPH1620_Android11_23.1.0', os_name: 'Android 11', os_type: 'Android', image_label: 'cloud_phone_1620' },
  { image_id: '5b4a1a3c0f2a4d8e9c7b6a5d4e3f2b12', image_name: 'CloudPhone1620_Android12', image_version: 'CPH1620_Android12_24.2.0', os_name: 'Android 12', os_type: 'Android', image_label: 'cloud_phone_1620' },
  { image_id: '5b4a1a3c0f2a4d8e9c7b6a5d4e3f2c11', image_name: 'CloudGame_Android11', image_version: 'CG_Android11_23.1.0', os_name: 'Android 11', os_type: 'Android', image_label: 'cloud_game' },
  { image_id: '5b4a1a3c0f2a4d8e9c7b6a5d4e3f2d11', image_name: 'CloudGame1620_Android11', image_version: 'CG1620_Android11_23.1.0', os_name: 'Android 11', os_type: 'Android', image_label: 'cloud_game_1620' },
  { image_id: '5b4a1a3c0f2a4d8e9c7b6a5d4e3f2e11', image_name: 'QemuPhone_Android11', image_version: 'QEMU_Android11_23.1.0', os_name: 'Android 11', os_type: 'Android', image_label: 'qemu_phone' },
];

export const DEFAULT_IMAGE_ID = SIM_IMAGES[0]!.image_id;

/** Servers with their phones, one dedicated bandwidth each and a data volume per phone. */
export type SeedFleet = ServerRows;

function imei(n: number): string {
  return ('86' + String(100000000000 + n * 7919)).slice(0, 15).padEnd(15, '0');
}

/** A simulated fleet: `servers` servers of `phonesPerServer` phones each, all running. */
export function buildFleet(projectId: string, servers: number, phonesPerServer: number, now: number, ids: IdGenerator = newId): SeedFleet {
  const out: SeedFleet = { servers: [], phones: [], bandwidths: [], serverBandwidths: [], volumes: [], encodeServers: [] };
  for (let s = 1; s <= servers; s++) {
    const serverId = ids();
    // Creation times step by one second so "newest first" has a defined order.
    const created = now - (servers - s + 1) * 1000;
    out.servers.push({
      server_id: serverId,
      project_id: projectId,
      server_name: `server-${String(s).padStart(4, '0')}`,
      server_model_name: 'physical.rx1.xlarge',
      phone_model_name: 'rx1.cp.c15.d46.e1v1',
      keypair_name: 'opencph-keypair',
      status: ServerStatus.Normal,
      availability_zone: 'cn-north-4a',
      network_version: 'v2',
      vpc_id: '6c5e1a0c-1b3a-4e5f-9a2b-0c1d2e3f4a5b',
      subnet_id: '7d6f2b1d-2c4b-4f60-8b3c-1d2e3f4a5b6c',
      server_ip: `10.0.${Math.floor(s / 250)}.${(s % 250) + 2}`,
      public_ip: `100.85.${Math.floor(s / 250)}.${(s % 250) + 2}`,
      order_id: ids(),
      product_id: ids(),
      create_time: created,
      update_time: created,
      charging_mode: 1,
      period_type: 0,
      period_num: 0,
      is_auto_renew: 0,
      enterprise_project_id: '0',
      ports: '[]',
      share_volume_type: 'SSD',
      share_volume_size: 0,
    });
    const bandwidthId = ids();
    out.bandwidths.push({
      band_width_id: bandwidthId,
      project_id: projectId,
      band_width_name: `bandwidth-server-${String(s).padStart(4, '0')}`,
      band_width_size: 100,
      band_width_charge_mode: 0,
      band_width_share_type: 0,
      create_time: created,
      update_time: created,
    });
    out.encodeServers.push(...buildEncodeServers(out.servers[out.servers.length - 1]!, ids));
    out.serverBandwidths.push({ server_id: serverId, band_width_id: bandwidthId });
    for (let p = 1; p <= phonesPerServer; p++) {
      const n = (s - 1) * phonesPerServer + p;
      out.phones.push({
        phone_id: ids(),
        project_id: projectId,
        server_id: serverId,
        phone_name: `phone-${String(s).padStart(4, '0')}-${String(p).padStart(2, '0')}`,
        phone_model_name: 'rx1.cp.c15.d46.e1v1',
        image_id: DEFAULT_IMAGE_ID,
        status: PhoneStatus.Running,
        type: 0,
        imei: imei(n),
        traffic_type: 'direct',
        volume_mode: 0,
        availability_zone: 'cn-north-4a',
        has_encrypt: 0,
        property: '{}',
        phone_ip: `172.16.${s % 250}.${p + 1}`,
        listen_port: 6000 + p,
        volume_size: 32,
        create_time: created + p,
        update_time: created + p,
      });
      const phone = out.phones[out.phones.length - 1]!;
      out.volumes.push({
        volume_id: ids(),
        project_id: projectId,
        server_id: serverId,
        phone_id: phone.phone_id,
        volume_name: `${phone.phone_name}-data`,
        volume_size: phone.volume_size,
        volume_type: 'SSD',
        create_time: phone.create_time,
        update_time: phone.create_time,
      });
    }
  }
  return out;
}

export interface NewSimProject {
  projectId: string;
  name: string;
  /** The account it belongs to (none for the default project of a first start, adopted later). */
  domainId?: string;
  servers: number;
  phonesPerServer: number;
  now: number;
  ids?: IdGenerator;
}

/** A project and its simulated fleet, written in one transaction with its first-start state (what a reset restores). */
export async function seedSimProject(db: Db, p: NewSimProject): Promise<SeedFleet> {
  const fleet = buildFleet(p.projectId, p.servers, p.phonesPerServer, p.now, p.ids);
  await db.transaction().execute(async (trx) => {
    await insertProject(trx, { project_id: p.projectId, name: p.name, created_at: p.now, ...(p.domainId !== undefined ? { domain_id: p.domainId } : {}) });
    await insertServerRows(trx, fleet);
    await saveSnapshot(trx, p.projectId, FIRST_START, p.now, { history: false });
  });
  return fleet;
}
