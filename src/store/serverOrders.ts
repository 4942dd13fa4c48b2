import type { Selectable } from 'kysely';
import { Errors } from '../domain/errors.js';
import type { FleetEffects } from '../domain/fleet.js';
import { JobStatus } from '../domain/status.js';
import { readRows, type Db, type ReadStore } from './db.js';
import { insertEncodeServers, type EncodeServerRow } from './encodeServers.js';
import { deleteTagsOf } from './tags.js';
import type { BandwidthTable, PhoneTable, ServerBandwidthTable, ServerTable, VolumeTable } from './schema.js';

export type BandwidthRow = Selectable<BandwidthTable>;
export type VolumeRow = Selectable<VolumeTable>;
export type ServerBandwidthRow = Selectable<ServerBandwidthTable>;

/** Servers of one order, or of a seeded fleet, with everything they hold. */
export interface ServerRows {
  servers: Selectable<ServerTable>[];
  phones: Selectable<PhoneTable>[];
  /** New bandwidths only: a shared one that already exists is only linked. */
  bandwidths: BandwidthRow[];
  serverBandwidths: ServerBandwidthRow[];
  volumes: VolumeRow[];
  /** Each server's encode servers (buildEncodeServers). */
  encodeServers: EncodeServerRow[];
}

/** Write servers and what they hold; the caller wraps it in a transaction. */
export async function insertServerRows(db: Db, r: ServerRows): Promise<void> {
  const chunks = async <T>(rows: T[], size: number, write: (part: T[]) => Promise<unknown>) => {
    for (let i = 0; i < rows.length; i += size) await write(rows.slice(i, i + size));
  };
  // SQLite caps bound parameters per statement: each chunk stays well inside it.
  await chunks(r.servers, 25, (p) => db.insertInto('servers').values(p).execute());
  await chunks(r.phones, 40, (p) => db.insertInto('phones').values(p).execute());
  await chunks(r.bandwidths, 80, (p) => db.insertInto('bandwidths').values(p).execute());
  await chunks(r.serverBandwidths, 400, (p) => db.insertInto('server_bandwidths').values(p).execute());
  await chunks(r.volumes, 80, (p) => db.insertInto('volumes').values(p).execute());
  await insertEncodeServers(db, r.encodeServers);
}

/** The bandwidths and volumes ShowCloudPhoneServerDetail lists for a server. */
export async function serverResources(store: ReadStore, serverId: string): Promise<{ bandwidths: BandwidthRow[]; volumes: VolumeRow[] }> {
  const bandwidths = await readRows(
    store,
    store.db
      .selectFrom('server_bandwidths as sb')
      .innerJoin('bandwidths as b', 'b.band_width_id', 'sb.band_width_id')
      .selectAll('b')
      .where('sb.server_id', '=', serverId)
      .orderBy('b.create_time')
      .orderBy('b.band_width_id'),
  );
  const volumes = await readRows(store, store.db.selectFrom('volumes').selectAll().where('server_id', '=', serverId).orderBy('create_time').orderBy('volume_name'));
  return { bandwidths, volumes };
}

/** The project's servers among `serverIds`, with how each is charged. */
export async function projectServers(db: Db, projectId: string, serverIds: readonly string[]): Promise<Selectable<ServerTable>[]> {
  if (serverIds.length === 0) return [];
  return db.selectFrom('servers').selectAll().where('project_id', '=', projectId).where('server_id', 'in', [...new Set(serverIds)]).execute();
}

/**
 * Remove servers and all they hold: their phones (and the phones' simulated Android state), volumes,
 * links to bandwidths and the dedicated bandwidths no other server uses, encode servers, tags, shared
 * files and apps. Jobs still
 * waiting or running on them fail (the job that deletes them has finished before this runs). Every
 * table that holds something of a server is cleaned here.
 */
export async function deleteServers(db: Db, serverIds: readonly string[], now: number): Promise<void> {
  const ids = [...new Set(serverIds)];
  if (ids.length === 0) return;
  const phoneIds = (await db.selectFrom('phones').select('phone_id').where('server_id', 'in', ids).execute()).map((p) => p.phone_id);
  const failed = { state: 'done', status: JobStatus.Failure, error_code: Errors.serverDeleted.code, end_time: now, lease_owner: null, lease_expires_at: null } as const;
  const detail = (what: string) => `${Errors.serverDeleted.message} The ${what} no longer exists; this job did not run to its end.`;
  await db.updateTable('jobs').set({ ...failed, error_msg: detail('server') }).where('state', '<>', 'done').where('server_id', 'in', ids).where('phone_id', 'is', null).execute();
  for (let i = 0; i < phoneIds.length; i += 500) {
    await db
      .updateTable('jobs')
      .set({ ...failed, error_msg: detail('phone') })
      .where('state', '<>', 'done')
      .where('phone_id', 'in', phoneIds.slice(i, i + 500))
      .execute();
  }
  const dedicated = await db
    .selectFrom('server_bandwidths as sb')
    .innerJoin('bandwidths as b', 'b.band_width_id', 'sb.band_width_id')
    .select('b.band_width_id')
    .where('sb.server_id', 'in', ids)
    .where('b.band_width_share_type', '=', 0)
    .execute();
  await db.deleteFrom('server_bandwidths').where('server_id', 'in', ids).execute();
  const unused = dedicated.map((b) => b.band_width_id);
  if (unused.length) {
    const stillUsed = new Set((await db.selectFrom('server_bandwidths').select('band_width_id').where('band_width_id', 'in', unused).execute()).map((r) => r.band_width_id));
    const gone = unused.filter((id) => !stillUsed.has(id));
    if (gone.length) await db.deleteFrom('bandwidths').where('band_width_id', 'in', gone).execute();
  }
  await db.deleteFrom('volumes').where('server_id', 'in', ids).execute();
  const encodeServerIds = (await db.selectFrom('encode_servers').select('encode_server_id').where('server_id', 'in', ids).execute()).map((e) => e.encode_server_id);
  if (encodeServerIds.length) {
    await db.updateTable('jobs').set({ ...failed, error_msg: detail('encode server') }).where('state', '<>', 'done').where('encode_server_id', 'in', encodeServerIds).execute();
    await db.deleteFrom('encode_servers').where('encode_server_id', 'in', encodeServerIds).execute();
  }
  await deleteTagsOf(db, ids);
  await db.deleteFrom('shared_files').where('server_id', 'in', ids).execute();
  await db.deleteFrom('shared_apps').where('server_id', 'in', ids).execute();
  for (let i = 0; i < phoneIds.length; i += 500) {
    const part = phoneIds.slice(i, i + 500);
    // Stated, not left to the cascade: SQLite honours it only with foreign_keys on.
    await db.deleteFrom('android_packages').where('phone_id', 'in', part).execute();
    await db.deleteFrom('android_files').where('phone_id', 'in', part).execute();
    await db.deleteFrom('android_settings').where('phone_id', 'in', part).execute();
  }
  await db.deleteFrom('phones').where('server_id', 'in', ids).execute();
  await db.deleteFrom('servers').where('server_id', 'in', ids).execute();
}

/** The lifecycle part of a job's effects (removals, model and key pair changes); store/fleet.ts applies the rest. */
export async function applyLifecycleEffects(db: Db, effects: FleetEffects, now: number): Promise<void> {
  for (const c of effects.serverChanges ?? []) {
    const set: Partial<ServerTable> = { update_time: now };
    if (c.serverModelName !== undefined) set.server_model_name = c.serverModelName;
    if (c.phoneModelName !== undefined) set.phone_model_name = c.phoneModelName;
    if (c.keypairName !== undefined) set.keypair_name = c.keypairName;
    if (c.availabilityZone !== undefined) set.availability_zone = c.availabilityZone;
    await db.updateTable('servers').set(set).where('server_id', '=', c.serverId).execute();
    if (c.availabilityZone !== undefined) await db.updateTable('phones').set({ availability_zone: c.availabilityZone }).where('server_id', '=', c.serverId).execute();
    if (c.phoneModelName !== undefined) await db.updateTable('phones').set({ phone_model_name: c.phoneModelName, update_time: now }).where('server_id', '=', c.serverId).execute();
    if (c.phoneVolumeSize !== undefined) {
      await db.updateTable('phones').set({ volume_size: c.phoneVolumeSize }).where('server_id', '=', c.serverId).execute();
      await db.updateTable('volumes').set({ volume_size: c.phoneVolumeSize, update_time: now }).where('server_id', '=', c.serverId).where('phone_id', 'is not', null).execute();
    }
  }
  if (effects.removedServers?.length) await deleteServers(db, effects.removedServers, now);
}
