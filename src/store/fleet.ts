import { sql, type Expression, type ExpressionBuilder, type Selectable, type SqlBool } from 'kysely';
import type { FleetEffects } from '../domain/fleet.js';
import { fixedRead, readRows, type Db, type ReadStore } from './db.js';
import { applyEncodeServerEffects } from './encodeServers.js';
import type { ImageTable, PhoneTable, ServerTable } from './schema.js';
import { applyLifecycleEffects } from './serverOrders.js';

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
export function fuzzy(column: string, value: string) {
  const pattern = '%' + value.toLowerCase().replace(/[\\%_]/g, (c) => '\\' + c) + '%';
  return sql<boolean>`lower(${sql.ref(column)}) like ${pattern} escape '\\'`;
}

/**
 * A phone as the phone routes show it: its row, with what it shows of its image and server (null
 * when they are gone), read in one statement with the phone.
 */
export type PhoneView = PhoneRow & {
  image_version: string | null;
  order_id: string | null;
  product_id: string | null;
  server_ip: string | null;
  public_ip: string | null;
};

function phoneViews(db: Db) {
  return db
    .selectFrom('phones as p')
    .leftJoin('images as i', 'i.image_id', 'p.image_id')
    .leftJoin('servers as s', 's.server_id', 'p.server_id')
    .selectAll('p')
    .select(['i.image_version', 's.order_id', 's.product_id', 's.server_ip', 's.public_ip']);
}

/** The project's phones that match `filter`, in a query on `phones as p`. */
function phoneMatches(projectId: string, filter: PhoneFilter) {
  return (eb: ExpressionBuilder<{ p: PhoneTable }, 'p'>) => {
    const c: Expression<SqlBool>[] = [eb('p.project_id', '=', projectId)];
    if (filter.phoneName) c.push(fuzzy('p.phone_name', filter.phoneName));
    if (filter.serverId !== undefined) c.push(eb('p.server_id', '=', filter.serverId));
    if (filter.status !== undefined) c.push(eb('p.status', '=', filter.status));
    if (filter.type !== undefined) c.push(eb('p.type', '=', filter.type));
    return eb.and(c);
  };
}

/** A page of the project's phones, newest first, and how many match in all. */
export async function listPhones(store: ReadStore, projectId: string, filter: PhoneFilter, page: Page): Promise<{ rows: PhoneView[]; count: number }> {
  const matches = phoneMatches(projectId, filter);
  // The limit is written into the text, not bound: a bound LIMIT makes SQLite compile the statement anew each time.
  const rows = await readRows(store, phoneViews(store.db).where(matches).orderBy('p.create_time', 'desc').orderBy('p.phone_id').limit(sql.lit(page.limit)).offset(page.offset));
  const [total] = await readRows(store, store.db.selectFrom('phones as p').where(matches).select((eb) => eb.fn.countAll<number>().as('n')));
  return { rows, count: Number(total!.n) };
}

const phoneViewById = fixedRead((db, projectId: string, phoneId: string) => phoneViews(db).where('p.project_id', '=', projectId).where('p.phone_id', '=', phoneId));

/** One of the project's phones as the phone routes show it. */
export async function getPhoneView(store: ReadStore, projectId: string, phoneId: string): Promise<PhoneView | undefined> {
  const [row] = await phoneViewById(store, projectId, phoneId);
  return row;
}

/** The project's phones among `phoneIds` as the phone routes show them (by primary key, the project checked here: see serversOfPhones). */
export async function getPhoneViews(store: ReadStore, projectId: string, phoneIds: readonly string[]): Promise<Map<string, PhoneView>> {
  if (phoneIds.length === 0) return new Map();
  // Not through readRows: its statements are kept per text, and each list length is a text of its own.
  const rows = await phoneViews(store.db).where('p.phone_id', 'in', [...new Set(phoneIds)]).execute();
  return new Map(rows.filter((r) => r.project_id === projectId).map((r) => [r.phone_id, r]));
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

/** A page of the project's servers, newest first, and how many match in all. */
export async function listServers(store: ReadStore, projectId: string, filter: ServerFilter, page: Page): Promise<{ rows: ServerRow[]; count: number }> {
  const matches = (eb: ExpressionBuilder<{ servers: ServerTable }, 'servers'>) => {
    const c: Expression<SqlBool>[] = [eb('project_id', '=', projectId)];
    if (filter.serverName) c.push(fuzzy('server_name', filter.serverName));
    if (filter.serverId !== undefined) c.push(eb('server_id', '=', filter.serverId));
    if (filter.networkVersion !== undefined) c.push(eb('network_version', '=', filter.networkVersion));
    if (filter.phoneModelName !== undefined) c.push(eb('phone_model_name', '=', filter.phoneModelName));
    if (filter.createSince !== undefined) c.push(eb('create_time', '>=', filter.createSince));
    if (filter.createUntil !== undefined) c.push(eb('create_time', '<=', filter.createUntil));
    if (filter.status !== undefined) c.push(eb('status', '=', filter.status));
    return eb.and(c);
  };
  const q = store.db.selectFrom('servers').where(matches);
  // The limit is written into the text, as in listPhones.
  const rows = await readRows(store, q.selectAll().orderBy('create_time', 'desc').orderBy('server_id').limit(sql.lit(page.limit)).offset(page.offset));
  const [total] = await readRows(store, q.select((eb) => eb.fn.countAll<number>().as('n')));
  return { rows, count: Number(total!.n) };
}

const serverById = fixedRead((db, projectId: string, serverId: string) => db.selectFrom('servers').selectAll().where('project_id', '=', projectId).where('server_id', '=', serverId));

export async function getServer(store: ReadStore, projectId: string, serverId: string): Promise<ServerRow | undefined> {
  const [row] = await serverById(store, projectId, serverId);
  return row;
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

export async function applyEffects(db: Db, effects: FleetEffects, now: number): Promise<void> {
  for (const p of effects.phones ?? []) {
    const set: Partial<PhoneTable> = { update_time: now };
    if (p.status !== undefined) set.status = p.status;
    if (p.imageId !== undefined) set.image_id = p.imageId;
    if (p.property !== undefined) set.property = p.property;
    if (p.volumeSize !== undefined) set.volume_size = p.volumeSize;
    if (p.trafficType !== undefined) set.traffic_type = p.trafficType;
    await db.updateTable('phones').set(set).where('phone_id', '=', p.phoneId).execute();
  }
  for (const s of effects.servers ?? []) {
    const set: Partial<ServerTable> = { update_time: now };
    if (s.status !== undefined) set.status = s.status;
    await db.updateTable('servers').set(set).where('server_id', '=', s.serverId).execute();
  }
  await applyEncodeServerEffects(db, effects.encodeServers ?? [], now);
  await applyLifecycleEffects(db, effects, now);
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
      .map(
        (p) =>
          sql`(cast(${p.phoneId} as text), cast(${p.status ?? null} as integer), cast(${p.imageId ?? null} as text), cast(${p.property ?? null} as text),
            cast(${p.volumeSize ?? null} as integer), cast(${p.trafficType ?? null} as text))`,
      );
    await sql`
      with v (phone_id, status, image_id, property, volume_size, traffic_type) as (values ${sql.join(values)})
      update phones
      set status = coalesce(v.status, phones.status), image_id = coalesce(v.image_id, phones.image_id),
          property = coalesce(v.property, phones.property), volume_size = coalesce(v.volume_size, phones.volume_size),
          traffic_type = coalesce(v.traffic_type, phones.traffic_type), update_time = ${now}
      from v where phones.phone_id = v.phone_id`.execute(db);
  }
  for (let i = 0; i < servers.length; i += 500) {
    const values = servers.slice(i, i + 500).map((s) => sql`(cast(${s.serverId} as text), cast(${s.status ?? null} as integer))`);
    await sql`
      with v (server_id, status) as (values ${sql.join(values)})
      update servers set status = coalesce(v.status, servers.status), update_time = ${now}
      from v where servers.server_id = v.server_id`.execute(db);
  }
  await applyEncodeServerEffects(db, mergeById(list.flatMap((e) => e.encodeServers ?? []), (e) => e.encodeServerId), now);
  for (const e of list) if (e.serverChanges || e.removedServers) await applyLifecycleEffects(db, e, now);
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
