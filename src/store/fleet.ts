import { sql, type Selectable } from 'kysely';
import type { FleetEffects } from '../domain/fleet.js';
import type { Db } from './db.js';
import type { ImageTable, PhoneTable, ServerTable } from './schema.js';

export type PhoneRow = Selectable<PhoneTable>;
export type ServerRow = Selectable<ServerTable>;
export type ImageRow = Selectable<ImageTable>;

export interface Page {
  offset: number;
  limit: number;
}

export interface PhoneFilter {
  phoneName?: string;
  serverId?: string;
  status?: number;
  type?: number;
}

export interface ServerFilter {
  serverName?: string;
  serverId?: string;
  networkVersion?: string;
  phoneModelName?: string;
  createSince?: number;
  createUntil?: number;
  status?: number;
}

export type { FleetEffects };

/** Case-insensitive substring match, with LIKE's wildcards in the input taken literally. */
function fuzzy(column: string, value: string) {
  const pattern = '%' + value.toLowerCase().replace(/[\\%_]/g, (c) => '\\' + c) + '%';
  return sql<boolean>`lower(${sql.ref(column)}) like ${pattern} escape '\\'`;
}

export async function listPhones(db: Db, projectId: string, filter: PhoneFilter, page: Page) {
  let q = db.selectFrom('phones').where('project_id', '=', projectId);
  if (filter.phoneName) q = q.where(fuzzy('phone_name', filter.phoneName));
  if (filter.serverId !== undefined) q = q.where('server_id', '=', filter.serverId);
  if (filter.status !== undefined) q = q.where('status', '=', filter.status);
  if (filter.type !== undefined) q = q.where('type', '=', filter.type);
  const [rows, total] = await Promise.all([
    q.selectAll().orderBy('create_time', 'desc').orderBy('phone_id').limit(page.limit).offset(page.offset).execute(),
    q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, count: Number(total.n) };
}

export async function getPhone(db: Db, projectId: string, phoneId: string): Promise<PhoneRow | undefined> {
  return db.selectFrom('phones').selectAll().where('project_id', '=', projectId).where('phone_id', '=', phoneId).executeTakeFirst();
}

/**
 * The server of each of the project's phones among `phoneIds` (what a batch needs to write its jobs).
 * Looked up by primary key, the project checked here: with `project_id = ?` in the query, SQLite
 * would rather read every phone of the project through phones_by_project and test each against the
 * list, which on a big fleet is most of a batch call.
 */
export async function serversOfPhones(db: Db, projectId: string, phoneIds: readonly string[]): Promise<Map<string, string>> {
  if (phoneIds.length === 0) return new Map();
  const rows = await db.selectFrom('phones').select(['phone_id', 'project_id', 'server_id']).where('phone_id', 'in', [...new Set(phoneIds)]).execute();
  return new Map(rows.filter((r) => r.project_id === projectId).map((r) => [r.phone_id, r.server_id]));
}

export async function getPhonesOfServers(db: Db, serverIds: readonly string[]): Promise<PhoneRow[]> {
  if (serverIds.length === 0) return [];
  return db.selectFrom('phones').selectAll().where('server_id', 'in', [...new Set(serverIds)]).orderBy('create_time').orderBy('phone_id').execute();
}

export async function renamePhone(db: Db, projectId: string, phoneId: string, name: string, now: number): Promise<boolean> {
  const r = await db
    .updateTable('phones')
    .set({ phone_name: name, update_time: now })
    .where('project_id', '=', projectId)
    .where('phone_id', '=', phoneId)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function listServers(db: Db, projectId: string, filter: ServerFilter, page: Page) {
  let q = db.selectFrom('servers').where('project_id', '=', projectId);
  if (filter.serverName) q = q.where(fuzzy('server_name', filter.serverName));
  if (filter.serverId !== undefined) q = q.where('server_id', '=', filter.serverId);
  if (filter.networkVersion !== undefined) q = q.where('network_version', '=', filter.networkVersion);
  if (filter.phoneModelName !== undefined) q = q.where('phone_model_name', '=', filter.phoneModelName);
  if (filter.createSince !== undefined) q = q.where('create_time', '>=', filter.createSince);
  if (filter.createUntil !== undefined) q = q.where('create_time', '<=', filter.createUntil);
  if (filter.status !== undefined) q = q.where('status', '=', filter.status);
  const [rows, total] = await Promise.all([
    q.selectAll().orderBy('create_time', 'desc').orderBy('server_id').limit(page.limit).offset(page.offset).execute(),
    q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, count: Number(total.n) };
}

export async function getServer(db: Db, projectId: string, serverId: string): Promise<ServerRow | undefined> {
  return db.selectFrom('servers').selectAll().where('project_id', '=', projectId).where('server_id', '=', serverId).executeTakeFirst();
}

export async function getServersByIds(db: Db, serverIds: readonly string[]): Promise<ServerRow[]> {
  if (serverIds.length === 0) return [];
  return db.selectFrom('servers').selectAll().where('server_id', 'in', [...new Set(serverIds)]).execute();
}

/** Which of `serverIds` are the project's (by primary key, the project checked here: see serversOfPhones). */
export async function projectServerIds(db: Db, projectId: string, serverIds: readonly string[]): Promise<Set<string>> {
  if (serverIds.length === 0) return new Set();
  const rows = await db.selectFrom('servers').select(['server_id', 'project_id']).where('server_id', 'in', [...new Set(serverIds)]).execute();
  return new Set(rows.filter((r) => r.project_id === projectId).map((r) => r.server_id));
}

export async function renameServer(db: Db, projectId: string, serverId: string, name: string, now: number): Promise<boolean> {
  const r = await db
    .updateTable('servers')
    .set({ server_name: name, update_time: now })
    .where('project_id', '=', projectId)
    .where('server_id', '=', serverId)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function getImage(db: Db, imageId: string): Promise<ImageRow | undefined> {
  return db.selectFrom('images').selectAll().where('image_id', '=', imageId).executeTakeFirst();
}

export async function getImages(db: Db, imageIds: readonly string[]): Promise<ImageRow[]> {
  if (imageIds.length === 0) return [];
  return db.selectFrom('images').selectAll().where('image_id', 'in', [...new Set(imageIds)]).execute();
}

export async function applyEffects(db: Db, effects: FleetEffects, now: number): Promise<void> {
  for (const p of effects.phones ?? []) {
    const set: Partial<PhoneTable> = { update_time: now };
    if (p.status !== undefined) set.status = p.status;
    if (p.imageId !== undefined) set.image_id = p.imageId;
    if (p.property !== undefined) set.property = p.property;
    await db.updateTable('phones').set(set).where('phone_id', '=', p.phoneId).execute();
  }
  for (const s of effects.servers ?? []) {
    const set: Partial<ServerTable> = { update_time: now };
    if (s.status !== undefined) set.status = s.status;
    await db.updateTable('servers').set(set).where('server_id', '=', s.serverId).execute();
  }
}

/** Effects on one id, in order: a later one's fields win, the fields it leaves out stay. */
function mergeById<T extends object>(items: readonly T[], idOf: (item: T) => string): T[] {
  const merged = new Map<string, T>();
  for (const item of items) {
    const earlier = merged.get(idOf(item));
    const given = Object.fromEntries(Object.entries(item).filter(([, v]) => v !== undefined)) as Partial<T>;
    merged.set(idOf(item), earlier ? { ...earlier, ...given } : item);
  }
  return [...merged.values()];
}

/**
 * The effects of many finished jobs, in one statement per table. Jobs that run together never touch
 * the same phone or server (per-phone order, server jobs wait for their phones'); should one id
 * appear twice all the same, its effects are merged in order first.
 */
export async function applyEffectsOfMany(db: Db, list: readonly FleetEffects[], now: number): Promise<void> {
  const phones = mergeById(list.flatMap((e) => e.phones ?? []), (p) => p.phoneId);
  const servers = mergeById(list.flatMap((e) => e.servers ?? []), (s) => s.serverId);
  // A field left out keeps its value: the columns are NOT NULL, so null in `v` means "unchanged".
  for (let i = 0; i < phones.length; i += 500) {
    const values = phones
      .slice(i, i + 500)
      .map((p) => sql`(cast(${p.phoneId} as text), cast(${p.status ?? null} as integer), cast(${p.imageId ?? null} as text), cast(${p.property ?? null} as text))`);
    await sql`
      with v (phone_id, status, image_id, property) as (values ${sql.join(values)})
      update phones
      set status = coalesce(v.status, phones.status), image_id = coalesce(v.image_id, phones.image_id),
          property = coalesce(v.property, phones.property), update_time = ${now}
      from v where phones.phone_id = v.phone_id`.execute(db);
  }
  for (let i = 0; i < servers.length; i += 500) {
    const values = servers.slice(i, i + 500).map((s) => sql`(cast(${s.serverId} as text), cast(${s.status ?? null} as integer))`);
    await sql`
      with v (server_id, status) as (values ${sql.join(values)})
      update servers set status = coalesce(v.status, servers.status), update_time = ${now}
      from v where servers.server_id = v.server_id`.execute(db);
  }
}

export async function insertImages(db: Db, rows: ImageRow[]): Promise<void> {
  if (rows.length) await db.insertInto('images').values(rows).execute();
}

export async function insertServers(db: Db, rows: ServerRow[]): Promise<void> {
  if (rows.length) await db.insertInto('servers').values(rows).execute();
}

export async function insertPhones(db: Db, rows: PhoneRow[]): Promise<void> {
  // SQLite caps bound parameters per statement; 19 columns × 40 rows stays well inside it.
  for (let i = 0; i < rows.length; i += 40) await db.insertInto('phones').values(rows.slice(i, i + 40)).execute();
}

/** Phones by id across projects: the worker loads the targets of a claimed batch in one query. */
export async function loadPhones(db: Db, phoneIds: readonly string[]): Promise<PhoneRow[]> {
  if (phoneIds.length === 0) return [];
  return db.selectFrom('phones').selectAll().where('phone_id', 'in', [...new Set(phoneIds)]).execute();
}
