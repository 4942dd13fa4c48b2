import type { Selectable } from 'kysely';
import { upsertFileRows } from './android.js';
import type { Db } from './db.js';
import { supportsSharedStorage } from './catalogue.js';
import type { SharedAppTable, SharedFileTable } from './schema.js';

/** Shared storage of servers: files and apps every phone of a server sees (cph-api.md §3.9). */

export type SharedFileRow = Selectable<SharedFileTable>;
export type SharedAppRow = Selectable<SharedAppTable>;

/**
 * The project's servers among `serverIds`, each with whether its phone model has shared storage
 * (a server whose phone model is not in the catalogue has none).
 */
export async function sharedStorageOf(db: Db, projectId: string, serverIds: readonly string[]): Promise<Map<string, { phoneModel: string; supported: boolean }>> {
  if (serverIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('servers')
    .leftJoin('phone_models', 'phone_models.phone_model_name', 'servers.phone_model_name')
    .select(['servers.server_id', 'servers.phone_model_name', 'phone_models.extend_spec'])
    .where('servers.project_id', '=', projectId)
    .where('servers.server_id', 'in', [...serverIds])
    .execute();
  return new Map(rows.map((r) => [r.server_id, { phoneModel: r.phone_model_name, supported: r.extend_spec !== null && supportsSharedStorage({ extend_spec: r.extend_spec }) }]));
}

export async function getSharedFile(db: Db, serverId: string, path: string): Promise<SharedFileRow | undefined> {
  return db.selectFrom('shared_files').selectAll().where('server_id', '=', serverId).where('path', '=', path).executeTakeFirst();
}

/** The entries directly under `dir`, by path, a page of them when `page` is given. */
export async function listSharedChildren(db: Db, serverId: string, dir: string, page?: { offset: number; limit: number }): Promise<SharedFileRow[]> {
  let q = db.selectFrom('shared_files').selectAll().where('server_id', '=', serverId).where('parent', '=', dir).orderBy('path');
  if (page) q = q.offset(page.offset).limit(page.limit);
  return q.execute();
}

export async function countSharedChildren(db: Db, serverId: string, dir: string): Promise<number> {
  const row = await db.selectFrom('shared_files').select((eb) => eb.fn.countAll<number | string>().as('n')).where('server_id', '=', serverId).where('parent', '=', dir).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Write shared files and directories; an existing path is replaced. */
export async function putSharedFiles(db: Db, rows: readonly SharedFileRow[]): Promise<void> {
  await upsertFileRows(db, 'shared_files', 'server_id', rows);
}

export async function listSharedApps(db: Db, serverId: string): Promise<SharedAppRow[]> {
  return db.selectFrom('shared_apps').selectAll().where('server_id', '=', serverId).orderBy('package_name').execute();
}

export async function getSharedApp(db: Db, serverId: string, packageName: string): Promise<SharedAppRow | undefined> {
  return db.selectFrom('shared_apps').selectAll().where('server_id', '=', serverId).where('package_name', '=', packageName).executeTakeFirst();
}

/** Share an app, or replace the shared version of it. */
export async function putSharedApp(db: Db, row: SharedAppRow): Promise<void> {
  const { server_id: _s, package_name: _n, ...rest } = row;
  await db
    .insertInto('shared_apps')
    .values(row)
    .onConflict((oc) => oc.columns(['server_id', 'package_name']).doUpdateSet(rest))
    .execute();
}

export async function deleteSharedApp(db: Db, serverId: string, packageName: string): Promise<boolean> {
  const r = await db.deleteFrom('shared_apps').where('server_id', '=', serverId).where('package_name', '=', packageName).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}
