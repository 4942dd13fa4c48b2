import { sql, type Expression, type ExpressionBuilder, type Selectable, type SqlBool } from 'kysely';
import type { IdGenerator } from '../domain/ids.js';
import { EncodeServerStatus } from '../domain/status.js';
import { readRows, type Db, type ReadStore } from './db.js';
import type { Page, ServerRow } from './fleet.js';
import type { EncodeServerTable } from './schema.js';

export type EncodeServerRow = Selectable<EncodeServerTable>;

/** Where an encode container listens for the phones' streams (CPH's cph_app_server port). */
const ENCODE_PORT = 8000;

/**
 * The encode servers a server comes with: one container on the server, running, reached at the
 * server's own addresses. Pure: the seeded fleet, migration 012 (servers stored before it) and
 * a server purchase all build them here.
 */
export function buildEncodeServers(server: ServerRow, ids: IdGenerator): EncodeServerRow[] {
  return [
    {
      encode_server_id: ids(),
      project_id: server.project_id,
      server_id: server.server_id,
      encode_server_name: `encode-${server.server_name}`.slice(0, 64),
      encode_server_ip: server.server_ip,
      keypair_name: server.keypair_name,
      type: 1,
      status: EncodeServerStatus.Running,
      server_ip: server.server_ip,
      public_ip: server.public_ip,
      listen_port: ENCODE_PORT,
      access_port: ENCODE_PORT,
      create_time: server.create_time,
      update_time: server.create_time,
    },
  ];
}

export async function insertEncodeServers(db: Db, rows: readonly EncodeServerRow[]): Promise<void> {
  // 14 columns × 50 rows stays inside SQLite's bound-parameter limit.
  for (let i = 0; i < rows.length; i += 50) await db.insertInto('encode_servers').values(rows.slice(i, i + 50)).execute();
}

export interface EncodeServerFilter {
  type?: number;
  /** Model statuses, any of which matches (the query's value already mapped). */
  statuses?: readonly number[];
  serverId?: string;
}

/** A page of the project's encode servers, newest first. */
export async function listEncodeServers(store: ReadStore, projectId: string, filter: EncodeServerFilter, page: Page): Promise<EncodeServerRow[]> {
  if (filter.statuses && filter.statuses.length === 0) return [];
  const matches = (eb: ExpressionBuilder<{ encode_servers: EncodeServerTable }, 'encode_servers'>) => {
    const c: Expression<SqlBool>[] = [eb('project_id', '=', projectId)];
    if (filter.type !== undefined) c.push(eb('type', '=', filter.type));
    if (filter.statuses) c.push(eb('status', 'in', [...filter.statuses]));
    if (filter.serverId !== undefined) c.push(eb('server_id', '=', filter.serverId));
    return eb.and(c);
  };
  const q = store.db.selectFrom('encode_servers').selectAll().where(matches).orderBy('create_time', 'desc').orderBy('encode_server_id');
  // The limit written into the text, as in listPhones.
  return readRows(store, q.limit(sql.lit(page.limit)).offset(page.offset));
}

/** Which of `ids` are the project's encode servers (by primary key, the project checked here: see serversOfPhones). */
export async function projectEncodeServerIds(db: Db, projectId: string, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.selectFrom('encode_servers').select(['encode_server_id', 'project_id']).where('encode_server_id', 'in', [...new Set(ids)]).execute();
  return new Set(rows.filter((r) => r.project_id === projectId).map((r) => r.encode_server_id));
}

/** Encode servers by id across projects: the worker loads the targets of a claimed batch in one query. */
export async function loadEncodeServers(db: Db, ids: readonly string[]): Promise<EncodeServerRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('encode_servers').selectAll().where('encode_server_id', 'in', [...new Set(ids)]).execute();
}

export type EncodeServerEffects = { encodeServerId: string; status?: number }[];

/** Encode-server effects of finished jobs (few per flush: one statement each). */
export async function applyEncodeServerEffects(db: Db, effects: EncodeServerEffects, now: number): Promise<void> {
  for (const e of effects) {
    if (e.status === undefined) continue;
    await db.updateTable('encode_servers').set({ status: e.status, update_time: now }).where('encode_server_id', '=', e.encodeServerId).execute();
  }
}
