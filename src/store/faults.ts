import type { Db } from './db.js';
import { PhoneStatus, ServerStatus } from '../domain/status.js';

/**
 * Faults put on a project's phones and servers from outside any job (the test-control extension):
 * the status is written as it is, and the jobs that meet it behave as the driver does for that
 * status. A fault is nothing but the status, so the listing is "who is in a fault status now",
 * however it got there.
 */

/** Statuses a phone may be put in: the two faults, and the two settled states to come back to. */
export const PHONE_FAULT_STATUSES = [PhoneStatus.Abnormal, PhoneStatus.Frozen, PhoneStatus.Running, PhoneStatus.Stopped] as const;
/** Statuses a server may be put in: the three faults, and normal to come back to. */
export const SERVER_FAULT_STATUSES = [ServerStatus.Abnormal, ServerStatus.ShutDown, ServerStatus.Frozen, ServerStatus.Normal] as const;

const PHONE_FAULTS: number[] = [PhoneStatus.Abnormal, PhoneStatus.Frozen];
const SERVER_FAULTS: number[] = [ServerStatus.Abnormal, ServerStatus.ShutDown, ServerStatus.Frozen];

export interface FaultedPhone {
  phone_id: string;
  server_id: string;
  status: number;
  update_time: number;
}

export interface FaultedServer {
  server_id: string;
  status: number;
  /** Adb slots held by a fault: its adb jobs wait while `serverAdbConcurrency` or more are taken. */
  stuck_adb_slots: number;
  update_time: number;
}

/** Set one phone's status; false when the project has no such phone. */
export async function setPhoneStatus(db: Db, projectId: string, phoneId: string, status: number, now: number): Promise<boolean> {
  const r = await db.updateTable('phones').set({ status, update_time: now }).where('project_id', '=', projectId).where('phone_id', '=', phoneId).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Set one server's status; false when the project has no such server. */
export async function setServerStatus(db: Db, projectId: string, serverId: string, status: number, now: number): Promise<boolean> {
  const r = await db.updateTable('servers').set({ status, update_time: now }).where('project_id', '=', projectId).where('server_id', '=', serverId).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/**
 * Hold `slots` of one server's adb slots (0 releases them); false when the project has no such
 * server. The job claim counts them as adb jobs already running on the server.
 */
export async function setStuckAdbSlots(db: Db, projectId: string, serverId: string, slots: number, now: number): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    const server = await tx.selectFrom('servers').select('server_id').where('project_id', '=', projectId).where('server_id', '=', serverId).executeTakeFirst();
    if (!server) return false;
    await tx.deleteFrom('server_faults').where('server_id', '=', serverId).execute();
    if (slots > 0) await tx.insertInto('server_faults').values({ server_id: serverId, project_id: projectId, stuck_adb_slots: slots, update_time: now }).execute();
    return true;
  });
}

/** The project's phones and servers in a fault status now, and its servers with adb slots held. */
export async function listFaults(db: Db, projectId: string): Promise<{ phones: FaultedPhone[]; servers: FaultedServer[] }> {
  return {
    phones: await db
      .selectFrom('phones')
      .select(['phone_id', 'server_id', 'status', 'update_time'])
      .where('project_id', '=', projectId)
      .where('status', 'in', PHONE_FAULTS)
      .orderBy('phone_id')
      .execute(),
    servers: (
      await db
        .selectFrom('servers')
        .leftJoin('server_faults', 'server_faults.server_id', 'servers.server_id')
        .select(['servers.server_id', 'servers.status', 'servers.update_time', 'server_faults.stuck_adb_slots', 'server_faults.update_time as slots_time'])
        .where('servers.project_id', '=', projectId)
        .where((eb) => eb.or([eb('servers.status', 'in', SERVER_FAULTS), eb('server_faults.stuck_adb_slots', '>', 0)]))
        .orderBy('servers.server_id')
        .execute()
    ).map((r) => ({
      server_id: r.server_id,
      status: r.status,
      stuck_adb_slots: r.stuck_adb_slots ?? 0,
      // The later of the status change and the slots' change.
      update_time: Math.max(Number(r.update_time), Number(r.slots_time ?? 0)),
    })),
  };
}

/** Every fault of the project cleared: phones back to running, servers back to normal. Returns what was cleared. */
export async function clearFaults(db: Db, projectId: string, now: number): Promise<{ phones: FaultedPhone[]; servers: FaultedServer[] }> {
  return db.transaction().execute(async (tx) => {
    const found = await listFaults(tx, projectId);
    await tx.updateTable('phones').set({ status: PhoneStatus.Running, update_time: now }).where('project_id', '=', projectId).where('status', 'in', PHONE_FAULTS).execute();
    await tx.updateTable('servers').set({ status: ServerStatus.Normal, update_time: now }).where('project_id', '=', projectId).where('status', 'in', SERVER_FAULTS).execute();
    await tx.deleteFrom('server_faults').where('project_id', '=', projectId).execute();
    return {
      phones: found.phones.map((p) => ({ ...p, status: PhoneStatus.Running, update_time: now })),
      servers: found.servers.map((s) => ({ ...s, status: ServerStatus.Normal, stuck_adb_slots: 0, update_time: now })),
    };
  });
}
