import type { Selectable } from 'kysely';
import type { IdGenerator } from '../domain/ids.js';
import type { Db } from './db.js';
import type { DeviceTable } from './schema.js';
import { buildFleet } from './seed.js';
import { insertServerRows } from './serverOrders.js';

export type DeviceRow = Selectable<DeviceTable>;

/** A device as `opencph admin devices list` shows it: its mapping, with its phone and server. */
export type DeviceView = DeviceRow & { phone_name: string; server_name: string; status: number };

export interface NewDevice {
  projectId: string;
  /** The server that groups it (one per host or rack): found by name in the project, else created. */
  serverName: string;
  serial: string;
  adbServer: string;
  /** The phone's name (default: the serial, with characters a phone name cannot hold as '-'). */
  phoneName?: string;
  now: number;
  ids: IdGenerator;
}

export type AddDeviceResult = { ok: true; device: DeviceView; serverCreated: boolean } | { ok: false; reason: string };

/** A phone name made of a serial: letters, digits, '-' and '_' only, at most 60 characters. */
export function phoneNameOf(serial: string): string {
  return serial.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 60);
}

/**
 * Map a device to a new phone of the project, written as a seeded fleet writes its phones (a data
 * volume, running); its server is created as a seeded one is (bandwidth, encode servers) when the
 * project has no server of that name. One transaction.
 */
export async function addDevice(db: Db, d: NewDevice): Promise<AddDeviceResult> {
  return db.transaction().execute(async (trx) => {
    const project = await trx.selectFrom('projects').select('project_id').where('project_id', '=', d.projectId).executeTakeFirst();
    if (!project) return { ok: false as const, reason: `There is no project ${d.projectId}.` };
    const taken = await trx.selectFrom('devices').select('phone_id').where('adb_server', '=', d.adbServer).where('serial', '=', d.serial).executeTakeFirst();
    if (taken) return { ok: false as const, reason: `Device ${d.serial} on ${d.adbServer} is already phone ${taken.phone_id}.` };
    const existing = await trx.selectFrom('servers').selectAll().where('project_id', '=', d.projectId).where('server_name', '=', d.serverName).executeTakeFirst();
    const built = buildFleet(d.projectId, 1, 1, d.now, d.ids);
    const phone = { ...built.phones[0]!, phone_name: d.phoneName ?? phoneNameOf(d.serial) };
    const volume = { ...built.volumes[0]!, volume_name: `${phone.phone_name}-data` };
    if (existing) {
      phone.server_id = volume.server_id = existing.server_id;
      await insertServerRows(trx, { servers: [], phones: [phone], bandwidths: [], serverBandwidths: [], volumes: [volume], encodeServers: [] });
    } else {
      const server = { ...built.servers[0]!, server_name: d.serverName };
      await insertServerRows(trx, { ...built, servers: [server], phones: [phone], volumes: [volume] });
    }
    const row: DeviceRow = { phone_id: phone.phone_id, project_id: d.projectId, server_id: phone.server_id, serial: d.serial, adb_server: d.adbServer, create_time: d.now };
    await trx.insertInto('devices').values(row).execute();
    return { ok: true as const, device: { ...row, phone_name: phone.phone_name, server_name: d.serverName, status: phone.status }, serverCreated: !existing };
  });
}

/** The mapped devices, of one project or of all, by server then serial. */
export async function listDevices(db: Db, projectId?: string): Promise<DeviceView[]> {
  let q = db
    .selectFrom('devices as d')
    .innerJoin('phones as p', 'p.phone_id', 'd.phone_id')
    .innerJoin('servers as s', 's.server_id', 'd.server_id')
    .selectAll('d')
    .select(['p.phone_name', 'p.status', 's.server_name']);
  if (projectId !== undefined) q = q.where('d.project_id', '=', projectId);
  return q.orderBy('s.server_name').orderBy('d.adb_server').orderBy('d.serial').execute();
}

/**
 * Take a device out of the mapping; its phone stays (its jobs and history with it), and its jobs
 * fail with CPS.0985 until a device is mapped to it again. Answers the phone it was, if it was one.
 */
export async function removeDevice(db: Db, projectId: string, adbServer: string, serial: string): Promise<string | undefined> {
  const row = await db.selectFrom('devices').select('phone_id').where('project_id', '=', projectId).where('adb_server', '=', adbServer).where('serial', '=', serial).executeTakeFirst();
  if (!row) return undefined;
  await db.deleteFrom('devices').where('phone_id', '=', row.phone_id).execute();
  return row.phone_id;
}

/** The device a phone is, if it is mapped. */
export async function deviceOfPhone(db: Db, phoneId: string): Promise<DeviceRow | undefined> {
  return db.selectFrom('devices').selectAll().where('phone_id', '=', phoneId).executeTakeFirst();
}

/** Every mapped device with its phone's status (the health watcher's view). */
export async function devicesWithStatus(db: Db): Promise<(DeviceRow & { status: number })[]> {
  return db.selectFrom('devices as d').innerJoin('phones as p', 'p.phone_id', 'd.phone_id').selectAll('d').select('p.status').execute();
}

/** Move a phone from one status to another, only if it is still in the first (the watcher does not overwrite a job's state). */
export async function movePhoneStatus(db: Db, phoneId: string, from: readonly number[], to: number, now: number): Promise<boolean> {
  const r = await db.updateTable('phones').set({ status: to, update_time: now }).where('phone_id', '=', phoneId).where('status', 'in', [...from]).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}
