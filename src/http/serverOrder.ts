import { randomInt } from 'node:crypto';
import { CphError, Errors, invalidParameter } from '../domain/errors.js';
import type { IdGenerator } from '../domain/ids.js';
import { formatProperty, parseProperty } from '../domain/property.js';
import { PhoneStatus } from '../domain/status.js';
import { isValidName } from '../domain/text.js';
import { getPhoneModel, getServerModel, PHONE_MODELS, type PhoneModelRow, type ServerModelRow } from '../store/catalogue.js';
import { DEFAULT_IMAGE_ID, SIM_IMAGES } from '../store/seed.js';
import { getBandwidth } from '../store/bandwidths.js';
import type { Db } from '../store/db.js';
import type { ImageRow } from '../store/fleet.js';
import { usableImage } from '../store/images.js';
import { buildEncodeServers } from '../store/encodeServers.js';
import type { ServerRows } from '../store/serverOrders.js';

/**
 * The rules of a server purchase or change (cph-api.md §3.3.1–3.3.3) that the body schemas cannot
 * say, and the rows a purchase writes. Each rule throws the CphError its field answers with.
 */

export interface Charging {
  charging_mode: number;
  period_type?: number;
  period_num?: number;
  is_auto_pay?: number;
  is_auto_renew?: number;
  enterprise_project_id?: string;
}
export interface BandWidthIn {
  band_width_id?: string;
  band_width_size?: number;
  band_width_charge_mode: number;
  band_width_share_type: number;
}
export interface VolumeIn {
  volume_type: string;
  size: number;
  count?: number;
}
export interface PortIn {
  name: string;
  listen_port: number;
  internet_accessible: string;
}

/** Bandwidth sizes (Mbit/s): steps of 1 up to 300, of 50 up to 1000, of 500 above; OpenCPH's ceiling is 2000. */
export const BANDWIDTH_MAX = 2000;

export function validBandwidthSize(size: number): boolean {
  if (!Number.isInteger(size) || size < 1 || size > BANDWIDTH_MAX) return false;
  if (size <= 300) return true;
  if (size <= 1000) return size % 50 === 0;
  return size % 500 === 0;
}

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

export function checkServerName(name: string): void {
  if (!isValidName(name)) throw new CphError(invalidParameter('server_name'), 'Letters, digits, Chinese, "_" and "-", at most 60 characters.');
}

export function checkCount(count: number): void {
  if (!Number.isInteger(count) || count < 1 || count > 10) throw new CphError(Errors.invalidCount, 'Buy 1 to 10 servers at a time.');
}

export function checkKeypair(name: string | undefined): void {
  if (name !== undefined && (name.length === 0 || bytes(name) > 64)) throw new CphError(invalidParameter('keypair_name'), 'At most 64 bytes.');
}

/** extend_param / order_param: a prepaid server needs its period (month 1–9, year 1–10). */
export function checkCharging(c: Charging, field: string): void {
  const prepaid = c.charging_mode === 0;
  if (prepaid && c.period_type === undefined) throw new CphError(invalidParameter(`${field}.period_type`), 'A yearly/monthly server needs period_type (2 month, 3 year).');
  if (prepaid && c.period_num === undefined) throw new CphError(invalidParameter(`${field}.period_num`), 'A yearly/monthly server needs period_num.');
  if (c.period_num !== undefined) {
    const max = c.period_type === 3 ? 10 : 9;
    if (c.period_num < 1 || c.period_num > max) throw new CphError(invalidParameter(`${field}.period_num`), `1 to ${max} ${c.period_type === 3 ? 'years' : 'months'}.`);
  }
}

export function checkPorts(ports: readonly PortIn[] | undefined): void {
  const seen = new Set<string>();
  for (const p of ports ?? []) {
    const lower = p.name.toLowerCase();
    if (p.name.length === 0 || bytes(p.name) > 16 || lower === 'adb' || lower === 'vnc' || seen.has(lower)) {
      throw new CphError(invalidParameter('ports.name'), 'At most 16 bytes, unique, neither "adb" nor "vnc".');
    }
    seen.add(lower);
    if (!/^(true|false)$/i.test(p.internet_accessible)) throw new CphError(invalidParameter('ports.internet_accessible'), 'Give "true" or "false".');
  }
}

/**
 * band_width: a dedicated one is bought with its size, a shared one is an existing bandwidth of the
 * project, named by id. Answers the shared bandwidth's id, if any.
 */
export async function checkBandwidth(db: Db, projectId: string, bw: BandWidthIn): Promise<string | undefined> {
  if (bw.band_width_share_type === 1) {
    if (!bw.band_width_id) throw new CphError(Errors.invalidBandwidth, 'A shared bandwidth is named by band_width_id.');
    const found = await getBandwidth(db, projectId, bw.band_width_id);
    if (!found || found.band_width_share_type !== 1) throw new CphError(Errors.invalidBandwidth, `No shared bandwidth ${bw.band_width_id} in this project.`);
    return found.band_width_id;
  }
  if (bw.band_width_size === undefined || !validBandwidthSize(bw.band_width_size)) {
    throw new CphError(Errors.invalidBandwidth, `A dedicated bandwidth needs band_width_size: 1–300 Mbit/s, then steps of 50 up to 1000, then of 500 up to ${BANDWIDTH_MAX}.`);
  }
  return undefined;
}

export function checkVolume(v: VolumeIn | undefined, field: string, min: number): void {
  if (v && (v.size < min || v.size > 32768)) throw new CphError(invalidParameter(`${field}.size`), `${min} to 32768 GiB.`);
}

/** `property`: applied to every phone, so it is what a phone's properties may be. */
export function checkProperty(p: string | undefined): string {
  if (p === undefined) return '{}';
  const parsed = parseProperty(p);
  if (!parsed) throw new CphError(invalidParameter('property'), 'A JSON object of property names to values.');
  return formatProperty(parsed);
}

export async function serverModelNamed(db: Db, name: string): Promise<ServerModelRow> {
  const m = bytes(name) <= 64 ? await getServerModel(db, name) : undefined;
  if (!m) throw new CphError(invalidParameter('server_model_name'), 'No such server model.');
  return m;
}

/** A phone model that can be bought on `serverModel`: known, online, and one of that server model's. */
export async function phoneModelFor(db: Db, name: string, serverModel: string): Promise<PhoneModelRow> {
  if (name.length === 0) throw new CphError(Errors.phoneModelEmpty);
  const m = bytes(name) <= 64 ? await getPhoneModel(db, name) : undefined;
  if (!m) throw new CphError(Errors.invalidPhoneModel, 'No such phone model.');
  if (m.status !== 1) throw new CphError(Errors.invalidPhoneModel, `${name} is offline and cannot be bought.`);
  if (m.server_model_name !== serverModel) throw new CphError(Errors.invalidPhoneModel, `${name} runs on ${m.server_model_name}, not on ${serverModel}.`);
  return m;
}

/** An image the project may use, made for phones of `label` (when a phone model says which). */
export async function imageFor(db: Db, projectId: string, imageId: string, label: string | undefined): Promise<ImageRow> {
  if (imageId.length === 0) throw new CphError(Errors.imageIdEmpty);
  const image = bytes(imageId) <= 36 ? await usableImage(db, projectId, imageId) : undefined;
  if (!image) throw new CphError(Errors.invalidImageId, 'No such image for this project.');
  if (label !== undefined && image.image_label !== label) throw new CphError(Errors.invalidImageId, `The image is for ${image.image_label} phones; this phone model takes ${label}.`);
  return image;
}

/** Everything a purchase writes, checked. */
export interface OrderPlan {
  projectId: string;
  serverName: string;
  count: number;
  serverModel: ServerModelRow;
  /** Absent for a bare server (CreateCloudPhoneSingleServer). */
  phoneModel?: PhoneModelRow;
  imageId: string;
  keypairName: string;
  availabilityZone: string;
  charging: Charging;
  vpcId: string;
  subnetId: string;
  ports: readonly PortIn[];
  publicIp: boolean;
  bandwidth: BandWidthIn;
  /** A shared bandwidth the servers join. */
  sharedBandwidthId?: string;
  phoneVolume?: VolumeIn;
  shareVolume?: VolumeIn;
  /** A bare server's data volumes. */
  dataVolume?: VolumeIn;
  property: string;
}

const octet = () => randomInt(2, 250);

/** Server names of a purchase: as given for one, `name-0001`… for several. */
export function serverNames(name: string, count: number): string[] {
  return count === 1 ? [name] : Array.from({ length: count }, (_, i) => `${name}-${String(i + 1).padStart(4, '0')}`);
}

/** The rows of a purchase: servers at status 0 (ordered) with their phones at 1 (creating), bandwidths, volumes. */
export function orderRows(plan: OrderPlan, ids: IdGenerator, now: number): { rows: ServerRows; orderId: string; productId: string } {
  const orderId = ids();
  const productId = ids();
  const rows: ServerRows = { servers: [], phones: [], bandwidths: [], serverBandwidths: [], volumes: [], encodeServers: [] };
  const c = plan.charging;
  const prepaid = c.charging_mode === 0;
  for (const name of serverNames(plan.serverName, plan.count)) {
    const serverId = ids();
    const net = `${octet()}.${octet()}`;
    rows.servers.push({
      server_id: serverId,
      project_id: plan.projectId,
      server_name: name,
      server_model_name: plan.serverModel.server_model_name,
      phone_model_name: plan.phoneModel?.phone_model_name ?? '',
      keypair_name: plan.keypairName,
      status: 0,
      availability_zone: plan.availabilityZone,
      network_version: 'v2',
      vpc_id: plan.vpcId,
      subnet_id: plan.subnetId,
      server_ip: `10.0.${net}`,
      public_ip: plan.publicIp ? `100.85.${net}` : '',
      order_id: orderId,
      product_id: productId,
      create_time: now,
      update_time: now,
      charging_mode: c.charging_mode,
      period_type: prepaid ? (c.period_type ?? 0) : 0,
      period_num: prepaid ? (c.period_num ?? 0) : 0,
      is_auto_renew: c.is_auto_renew ?? 0,
      enterprise_project_id: c.enterprise_project_id || '0',
      ports: JSON.stringify(plan.ports),
      share_volume_type: plan.shareVolume?.volume_type ?? 'SSD',
      share_volume_size: plan.shareVolume?.size ?? 0,
    });
    rows.encodeServers.push(...buildEncodeServers(rows.servers[rows.servers.length - 1]!, ids));
    let bandwidthId = plan.sharedBandwidthId;
    if (!bandwidthId) {
      bandwidthId = ids();
      rows.bandwidths.push({
        band_width_id: bandwidthId,
        project_id: plan.projectId,
        band_width_name: `bandwidth-${name}`.slice(0, 64),
        band_width_size: plan.bandwidth.band_width_size!,
        band_width_charge_mode: plan.bandwidth.band_width_charge_mode,
        band_width_share_type: 0,
        create_time: now,
        update_time: now,
      });
    }
    rows.serverBandwidths.push({ server_id: serverId, band_width_id: bandwidthId });
    const volume = (phoneId: string | null, volumeName: string, v: { volume_type: string; size: number }) =>
      rows.volumes.push({ volume_id: ids(), project_id: plan.projectId, server_id: serverId, phone_id: phoneId, volume_name: volumeName, volume_size: v.size, volume_type: v.volume_type, create_time: now, update_time: now });
    for (let i = 1; i <= (plan.dataVolume ? (plan.dataVolume.count ?? 1) : 0); i++) volume(null, `${name}-data-${i}`, plan.dataVolume!);
    const model = plan.phoneModel;
    if (!model) continue;
    const phoneVolume = plan.phoneVolume ?? { volume_type: 'SSD', size: model.disk };
    for (let p = 1; p <= model.phone_capacity; p++) {
      const phoneId = ids();
      const phoneName = `phone-${name}`.slice(0, 62) + `-${String(p).padStart(2, '0')}`;
      rows.phones.push({
        phone_id: phoneId,
        project_id: plan.projectId,
        server_id: serverId,
        phone_name: phoneName,
        phone_model_name: model.phone_model_name,
        image_id: plan.imageId,
        status: PhoneStatus.Creating,
        type: 0,
        imei: '86' + String(randomInt(10 ** 12, 10 ** 13 - 1)),
        traffic_type: 'direct',
        volume_mode: model.volume_mode,
        availability_zone: plan.availabilityZone,
        has_encrypt: 0,
        property: plan.property,
        phone_ip: `172.16.${octet()}.${p + 1}`,
        listen_port: 6000 + p,
        volume_size: phoneVolume.size,
        create_time: now + p,
        update_time: now + p,
      });
      volume(phoneId, `${phoneName}-data`, phoneVolume);
    }
  }
  return { rows, orderId, productId };
}

/** A bare server's image when its purchase names none: the first public image of its server model's phone models. */
export function defaultImageId(serverModelName: string): string {
  const label = PHONE_MODELS.find((m) => m.server_model_name === serverModelName)?.image_label;
  return SIM_IMAGES.find((i) => i.image_label === label)?.image_id ?? DEFAULT_IMAGE_ID;
}
