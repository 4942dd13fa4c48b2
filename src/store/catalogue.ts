import type { Selectable } from 'kysely';
import type { Db } from './db.js';
import { SIM_IMAGES } from './seed.js';
import type { PhoneModelTable, ServerModelTable } from './schema.js';

export type ServerModelRow = Selectable<ServerModelTable>;
export type PhoneModelRow = Selectable<PhoneModelTable>;

const spec = (o: Record<string, unknown>) => JSON.stringify(o);

/**
 * The catalogue every store starts with: server models of both generations (Hi1616 "rx1", spec
 * 1.0 on local disks; Kunpeng 920 "kg1", spec 2.0 on cloud volumes with shared storage), for
 * phones and for gaming, and phone models of each, one of them offline. The seeded fleet uses
 * physical.rx1.xlarge with rx1.cp.c15.d46.e1v1.
 */
export const SERVER_MODELS: ServerModelRow[] = [
  {
    server_model_name: 'physical.rx1.xlarge',
    server_type: 'Hi1616',
    cpu: 64,
    memory: 256,
    extend_spec: spec({ cpu: 'Hi1616 64 cores 2.4GHz', memory: '256GB DDR4', disk: '2*1.2TB SAS', network_interface: '2*10GE', gpu: '2*AMD WX5100', bms_flavor: 'physical.rx1.xlarge', gpu_count: 2, numa_count: 2 }),
    disk_max_num: 0,
    product_type: 0,
    free_size: 0,
  },
  // The same generation with twice the memory: what ChangeCloudPhoneServerModel can move an rx1.xlarge to.
  {
    server_model_name: 'physical.rx1.2xlarge',
    server_type: 'Hi1616',
    cpu: 64,
    memory: 512,
    extend_spec: spec({ cpu: 'Hi1616 64 cores 2.4GHz', memory: '512GB DDR4', disk: '2*1.2TB SAS', network_interface: '2*10GE', gpu: '2*AMD WX5100', bms_flavor: 'physical.rx1.2xlarge', gpu_count: 2, numa_count: 2 }),
    disk_max_num: 0,
    product_type: 0,
    free_size: 0,
  },
  {
    server_model_name: 'physical.rx1.xlarge.cg',
    server_type: 'Hi1616',
    cpu: 64,
    memory: 256,
    extend_spec: spec({ cpu: 'Hi1616 64 cores 2.4GHz', memory: '256GB DDR4', disk: '2*1.2TB SAS', network_interface: '2*10GE', gpu: '2*AMD WX5100', bms_flavor: 'physical.rx1.xlarge.cg', gpu_count: 2, numa_count: 2 }),
    disk_max_num: 0,
    product_type: 1,
    free_size: 0,
  },
  {
    server_model_name: 'physical.kg1.4xlarge.cp',
    server_type: 'Kunpeng920',
    cpu: 128,
    memory: 512,
    extend_spec: spec({ cpu: 'Kunpeng 920 128 cores 2.6GHz', memory: '512GB DDR4', disk: 'EVS', network_interface: '2*25GE', gpu: '4*Radeon Pro W5700', bms_flavor: 'physical.kg1.4xlarge.cp', gpu_count: 4, numa_count: 4, os_volume: { size: 200, volume_type: 'SSD' } }),
    disk_max_num: 10,
    product_type: 0,
    free_size: 4096,
  },
  {
    server_model_name: 'physical.kg1.4xlarge.cg',
    server_type: 'Kunpeng920',
    cpu: 128,
    memory: 512,
    extend_spec: spec({ cpu: 'Kunpeng 920 128 cores 2.6GHz', memory: '512GB DDR4', disk: 'EVS', network_interface: '2*25GE', gpu: '4*Radeon Pro W5700', bms_flavor: 'physical.kg1.4xlarge.cg', gpu_count: 4, numa_count: 4, os_volume: { size: 200, volume_type: 'SSD' } }),
    disk_max_num: 10,
    product_type: 1,
    free_size: 4096,
  },
];

const phoneModel = (m: Partial<PhoneModelRow> & Pick<PhoneModelRow, 'phone_model_name' | 'server_model_name' | 'cpu' | 'memory' | 'disk' | 'phone_capacity' | 'image_label'>): PhoneModelRow => ({
  status: 1,
  resolution: '720*1280',
  extend_spec: '{}',
  spec_code: m.phone_model_name,
  product_type: 0,
  phone_model_version: 0,
  dpi: 320,
  fps: '30',
  volume_mode: 0,
  render_fps: 30,
  stream_fps: 30,
  ...m,
});

export const PHONE_MODELS: PhoneModelRow[] = [
  phoneModel({ phone_model_name: 'rx1.cp.c15.d46.e1v1', server_model_name: 'physical.rx1.xlarge', cpu: 4, memory: 4096, disk: 32, phone_capacity: 15, image_label: 'cloud_phone' }),
  phoneModel({ phone_model_name: 'rx1.cp.c30.d92.e1v1', server_model_name: 'physical.rx1.xlarge', cpu: 2, memory: 3072, disk: 16, phone_capacity: 30, image_label: 'cloud_phone' }),
  phoneModel({ phone_model_name: 'rx1.cp.c15.d92.e1v1', server_model_name: 'physical.rx1.2xlarge', cpu: 4, memory: 8192, disk: 64, phone_capacity: 15, image_label: 'cloud_phone' }),
  // Sold no more: listed, but cannot be bought.
  phoneModel({ phone_model_name: 'rx1.cp.c60.d184.e1v1', server_model_name: 'physical.rx1.xlarge', status: 0, cpu: 1, memory: 2048, disk: 8, phone_capacity: 60, image_label: 'cloud_phone' }),
  phoneModel({ phone_model_name: 'rx1.cg.c4.d12.e1v1', server_model_name: 'physical.rx1.xlarge.cg', cpu: 16, memory: 12288, disk: 64, phone_capacity: 4, image_label: 'cloud_game', product_type: 1, resolution: '1080*1920', dpi: 480, fps: '60', render_fps: 60, stream_fps: 60 }),
  phoneModel({
    phone_model_name: 'kg1.cp.c8.d16.e2v2',
    server_model_name: 'physical.kg1.4xlarge.cp',
    cpu: 8,
    memory: 8192,
    disk: 64,
    phone_capacity: 16,
    image_label: 'cloud_phone_1620',
    phone_model_version: 1,
    volume_mode: 1,
    extend_spec: spec({ max_share_disk_size_g: 1024, max_phone_disk_size_g: 256 }),
  }),
  phoneModel({
    phone_model_name: 'kg1.cg.c16.d32.e2v2',
    server_model_name: 'physical.kg1.4xlarge.cg',
    cpu: 16,
    memory: 16384,
    disk: 128,
    phone_capacity: 8,
    image_label: 'cloud_game_1620',
    product_type: 1,
    phone_model_version: 1,
    volume_mode: 1,
    resolution: '1080*1920',
    dpi: 480,
    fps: '60',
    render_fps: 60,
    stream_fps: 60,
    extend_spec: spec({ max_share_disk_size_g: 2048, max_phone_disk_size_g: 512 }),
  }),
];

/**
 * Write the catalogue's models and public images a store does not hold yet; those it holds
 * (changed by an admin or not) stay.
 */
export async function ensureCatalogue(db: Db): Promise<number> {
  const haveImages = new Set((await db.selectFrom('images').select('image_id').execute()).map((r) => r.image_id));
  const images = SIM_IMAGES.filter((i) => !haveImages.has(i.image_id));
  if (images.length) await db.insertInto('images').values(images).execute();
  const haveServers = new Set((await db.selectFrom('server_models').select('server_model_name').execute()).map((r) => r.server_model_name));
  const havePhones = new Set((await db.selectFrom('phone_models').select('phone_model_name').execute()).map((r) => r.phone_model_name));
  const servers = SERVER_MODELS.filter((m) => !haveServers.has(m.server_model_name));
  const phones = PHONE_MODELS.filter((m) => !havePhones.has(m.phone_model_name));
  if (servers.length) await db.insertInto('server_models').values(servers).execute();
  if (phones.length) await db.insertInto('phone_models').values(phones).execute();
  return images.length + servers.length + phones.length;
}

export async function getPhoneModel(db: Db, name: string): Promise<PhoneModelRow | undefined> {
  return db.selectFrom('phone_models').selectAll().where('phone_model_name', '=', name).executeTakeFirst();
}

export async function getServerModel(db: Db, name: string): Promise<ServerModelRow | undefined> {
  return db.selectFrom('server_models').selectAll().where('server_model_name', '=', name).executeTakeFirst();
}

/** Whether a phone model's spec has shared storage (its extend_spec names max_share_disk_size_g). */
export function supportsSharedStorage(model: Pick<PhoneModelRow, 'extend_spec'>): boolean {
  try {
    const parsed = JSON.parse(model.extend_spec) as Record<string, unknown>;
    return typeof parsed.max_share_disk_size_g === 'number' && parsed.max_share_disk_size_g > 0;
  } catch {
    return false;
  }
}
