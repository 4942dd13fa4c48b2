import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import type { Tag } from '../domain/tags.js';
import { readRows, type Db, type ReadStore } from './db.js';
import { dialectOf } from './dialect.js';
import type { Page } from './fleet.js';
import type { Database } from './schema.js';

/** Tags of servers (migration 014). Every function takes the project: a server of another is not there. */

export type TagWrite = 'done' | 'notFound' | 'tooMany';

/** A tag to delete: by key, or by key and value when the value is given (the TMS convention). */
export interface TagToDelete {
  key: string;
  value?: string;
}

/** A ListResourceInstances filter: keys ANDed, each key's values ORed, no values = any value. */
export interface TagFilter {
  withoutAnyTag?: boolean;
  tags?: { key: string; values: string[] }[];
  /** resource_name must equal each of these. */
  names?: string[];
}

export interface TaggedServer {
  server_id: string;
  server_name: string;
  tags: Tag[];
}

/**
 * The project's server, read in the writing transaction; on PostgreSQL its row is locked, so that
 * two calls tagging one server at once cannot pass the cap together (SQLite's write transactions
 * run one at a time already).
 */
async function lockServer(trx: Db, projectId: string, serverId: string): Promise<boolean> {
  const q = trx.selectFrom('servers').select('server_id').where('server_id', '=', serverId).where('project_id', '=', projectId);
  return (await (dialectOf(trx) === 'postgres' ? q.forUpdate() : q).executeTakeFirst()) !== undefined;
}

/** Tag a server: a key it has already takes the new value; more than `cap` keys in all writes nothing. */
export async function createTags(db: Db, projectId: string, serverId: string, tags: readonly Tag[], cap: number): Promise<TagWrite> {
  return db.transaction().execute(async (trx) => {
    if (!(await lockServer(trx, projectId, serverId))) return 'notFound';
    const keys = new Set((await trx.selectFrom('server_tags').select('key').where('resource_id', '=', serverId).execute()).map((r) => r.key));
    for (const t of tags) keys.add(t.key);
    if (keys.size > cap) return 'tooMany';
    await trx
      .insertInto('server_tags')
      .values(tags.map((t) => ({ resource_id: serverId, key: t.key, project_id: projectId, value: t.value })))
      .onConflict((oc) => oc.columns(['resource_id', 'key']).doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })))
      .execute();
    return 'done';
  });
}

/** Remove tags of a server; a tag it does not have is no error. */
export async function deleteTags(db: Db, projectId: string, serverId: string, tags: readonly TagToDelete[]): Promise<TagWrite> {
  return db.transaction().execute(async (trx) => {
    if (!(await lockServer(trx, projectId, serverId))) return 'notFound';
    await trx
      .deleteFrom('server_tags')
      .where('resource_id', '=', serverId)
      .where((eb) => eb.or(tags.map((t) => (t.value ? eb.and([eb('key', '=', t.key), eb('value', '=', t.value)]) : eb('key', '=', t.key)))))
      .execute();
    return 'done';
  });
}

/** The tags of the project's server, by key; undefined when the project has no such server. */
export async function listServerTags(store: ReadStore, projectId: string, serverId: string): Promise<Tag[] | undefined> {
  const [server] = await readRows(store, store.db.selectFrom('servers').select('server_id').where('server_id', '=', serverId).where('project_id', '=', projectId));
  if (!server) return undefined;
  return readRows(store, store.db.selectFrom('server_tags').select(['key', 'value']).where('resource_id', '=', serverId).orderBy('key'));
}

/** A page of the keys the project's servers carry, each with its values, and how many keys in all. */
export async function listProjectTags(store: ReadStore, projectId: string, page: Page): Promise<{ tags: { key: string; values: string[] }[]; total: number }> {
  const ofProject = store.db.selectFrom('server_tags').where('project_id', '=', projectId);
  const keys = (await readRows(store, ofProject.select('key').distinct().orderBy('key').limit(sql.lit(page.limit)).offset(page.offset))).map((r) => r.key);
  const [total] = await readRows(store, ofProject.select((eb) => eb.fn.count<number>('key').distinct().as('n')));
  if (keys.length === 0) return { tags: [], total: Number(total!.n) };
  const pairs = await readRows(store, ofProject.select(['key', 'value']).distinct().where('key', 'in', keys).orderBy('key').orderBy('value'));
  const values = new Map<string, string[]>(keys.map((k) => [k, []]));
  for (const p of pairs) values.get(p.key)!.push(p.value);
  return { tags: keys.map((key) => ({ key, values: values.get(key)! })), total: Number(total!.n) };
}

/** The project's servers that `filter` takes, in a query on `servers as s`. */
function serverMatches(projectId: string, filter: TagFilter) {
  return (eb: ExpressionBuilder<Database & { s: Database['servers'] }, 's'>) => {
    const tagOf = () => eb.selectFrom('server_tags as t').select(sql.lit(1).as('one')).whereRef('t.resource_id', '=', 's.server_id');
    const c: Expression<SqlBool>[] = [eb('s.project_id', '=', projectId)];
    if (filter.withoutAnyTag) c.push(eb.not(eb.exists(tagOf())));
    else {
      for (const f of filter.tags ?? []) {
        const withKey = tagOf().where('t.key', '=', f.key);
        c.push(eb.exists(f.values.length > 0 ? withKey.where('t.value', 'in', f.values) : withKey));
      }
    }
    for (const name of filter.names ?? []) c.push(eb('s.server_name', '=', name));
    return eb.and(c);
  };
}

/** How many of the project's servers `filter` takes. */
export async function countTaggedServers(store: ReadStore, projectId: string, filter: TagFilter): Promise<number> {
  const [row] = await readRows(store, store.db.selectFrom('servers as s').where(serverMatches(projectId, filter)).select((eb) => eb.fn.countAll<number>().as('n')));
  return Number(row!.n);
}

/** A page of the project's servers that `filter` takes, newest first, each with its tags. */
export async function findTaggedServers(store: ReadStore, projectId: string, filter: TagFilter, page: Page): Promise<TaggedServer[]> {
  const rows = await readRows(
    store,
    store.db
      .selectFrom('servers as s')
      .where(serverMatches(projectId, filter))
      .select(['s.server_id', 's.server_name'])
      .orderBy('s.create_time', 'desc')
      .orderBy('s.server_id')
      .limit(sql.lit(page.limit))
      .offset(page.offset),
  );
  if (rows.length === 0) return [];
  const tags = await readRows(store, store.db.selectFrom('server_tags').select(['resource_id', 'key', 'value']).where('resource_id', 'in', rows.map((r) => r.server_id)).orderBy('key'));
  const byServer = new Map<string, Tag[]>(rows.map((r) => [r.server_id, []]));
  for (const t of tags) byServer.get(t.resource_id)?.push({ key: t.key, value: t.value });
  return rows.map((r) => ({ server_id: r.server_id, server_name: r.server_name, tags: byServer.get(r.server_id)! }));
}

/** Drop the tags of servers that are being deleted (DeleteCloudPhoneServer calls this in its transaction). */
export async function deleteTagsOf(db: Db, serverIds: readonly string[]): Promise<void> {
  if (serverIds.length === 0) return;
  await db.deleteFrom('server_tags').where('resource_id', 'in', [...new Set(serverIds)]).execute();
}
