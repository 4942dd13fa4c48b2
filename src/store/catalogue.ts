import { sql, type Selectable } from 'kysely';
import { readRows, type Db, type ReadStore } from './db.js';
import type { Page } from './fleet.js';
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

/** The image labels CPH knows (cph-api.md §4.3); cloud_game* are for gaming (product_type 1). */
export const IMAGE_LABELS = ['qemu_phone', 'cloud_phone', 'cloud_phone_1620', 'cloud_game', 'cloud_game_1620'] as const;

function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(message);
}

const fits = (value: string, max: number) => value.length >= 1 && value.length <= max;

function isJsonObject(text: string): boolean {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}

/** Add a server model (`opencph admin catalogue add-server-model`), refusing what CPH's model would not hold. */
export async function addServerModel(db: Db, m: ServerModelRow): Promise<void> {
  check(fits(m.server_model_name, 64), 'The server model name must be 1 to 64 characters.');
  check(fits(m.server_type, 32), 'The server type must be 1 to 32 characters.');
  check(m.product_type === 0 || m.product_type === 1, 'The product type must be 0 (cloud phone) or 1 (cloud gaming).');
  check(isJsonObject(m.extend_spec), 'extend_spec must be a JSON object.');
  check(!(await getServerModel(db, m.server_model_name)), `The server model ${m.server_model_name} exists already.`);
  await db.insertInto('server_models').values(m).execute();
}

/** Add a phone model to a server model of the catalogue (`opencph admin catalogue add-phone-model`). */
export async function addPhoneModel(db: Db, m: PhoneModelRow): Promise<void> {
  check(fits(m.phone_model_name, 64), 'The phone model name must be 1 to 64 characters.');
  check(fits(m.spec_code, 64), 'The spec code must be 1 to 64 characters.');
  check(/^\d{2,5}\*\d{2,5}$/.test(m.resolution), 'The resolution must be <width>*<height>, e.g. 720*1280.');
  check(fits(m.extend_spec, 512) && isJsonObject(m.extend_spec), 'extend_spec must be a JSON object of at most 512 characters.');
  check((IMAGE_LABELS as readonly string[]).includes(m.image_label), `The image label must be one of ${IMAGE_LABELS.join(', ')}.`);
  check(m.status === 0 || m.status === 1, 'The status must be 1 (normal) or 0 (offline).');
  check(m.phone_model_version === 0 || m.phone_model_version === 1, 'The phone model version must be 0 (spec 1.0) or 1 (spec 2.0).');
  check(m.volume_mode === 0 || m.volume_mode === 1, 'The volume mode must be 0 or 1.');
  check(fits(m.fps, 16), 'fps must be 1 to 16 characters.');
  const server = await getServerModel(db, m.server_model_name);
  check(server !== undefined, `No server model ${m.server_model_name}: add it first (opencph admin catalogue add-server-model).`);
  check(m.product_type === server!.product_type, `The product type must be that of server model ${m.server_model_name} (${server!.product_type}).`);
  check(m.image_label.startsWith('cloud_game') === (m.product_type === 1), 'A cloud_game* image label goes with product type 1 (gaming), the others with 0.');
  check(!(await getPhoneModel(db, m.phone_model_name)), `The phone model ${m.phone_model_name} exists already.`);
  await db.insertInto('phone_models').values(m).execute();
}

/** ListCloudPhoneModels (a page) and `opencph admin catalogue list` (all): phone models by name, of one status or all. */
export async function listPhoneModels(store: ReadStore, status?: number, page?: Page): Promise<PhoneModelRow[]> {
  let q = store.db.selectFrom('phone_models').selectAll();
  if (status !== undefined) q = q.where('status', '=', status);
  q = q.orderBy('phone_model_name');
  return readRows(store, page ? q.limit(sql.lit(page.limit)).offset(page.offset) : q);
}

/** ListCloudPhoneServerModels: server models by name, of one product type or all. */
export async function listServerModels(store: ReadStore, productType?: number): Promise<ServerModelRow[]> {
  let q = store.db.selectFrom('server_models').selectAll();
  if (productType !== undefined) q = q.where('product_type', '=', productType);
  return readRows(store, q.orderBy('server_model_name'));
}
