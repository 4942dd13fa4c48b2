import { sql, type RawBuilder } from 'kysely';
import { takeEventTurn } from './events.js';
import { Errors } from '../domain/errors.js';
import { JobStatus } from '../domain/status.js';
import type { Db } from './db.js';
import { dialectOf, type DialectName } from './dialect.js';

/**
 * Snapshots: a project's whole state saved under a name, restored, and its first-start state
 * restored (reset). Why it is built this way: docs/decisions/0021-snapshots-per-project.md.
 *
 * Every table of the store is named here, once: either a table whose rows belong to a project
 * (saved and restored with it) or a global one with the reason it is not. test/control/
 * snapshots.test.ts fails when a migration adds a table that is in neither list.
 */

/** How a table's rows are found to belong to the project. */
export type Scope =
  /** `project_id` = the project. */
  | 'project'
  /** `phone_id` of one of the project's phones. */
  | 'phone'
  /** `server_id` of one of the project's servers. */
  | 'server'
  /** `image_id` of one of the project's own images. */
  | 'image';

export interface ProjectScopedTable {
  name: string;
  scope: Scope;
  /**
   * A generated ordering column: restored rows get new values from the table's sequence, in the
   * saved order. Jobs: a worker still running a job of the replaced state can never take a restored
   * job for its own (its finish is matched by seq).
   */
  renumber?: string;
  /** Columns the database writes itself (triggers): neither saved nor inserted. */
  derived?: readonly string[];
  /** A record of what happened rather than set-up: not part of the first-start state. */
  history?: true;
  /** Deleted on restore and reset, never saved (it describes work in flight). */
  transient?: true;
  /**
   * The project's, but outside its state: neither saved nor touched by a restore or reset. The
   * event log is not rewound (its events name jobs by seq, which a restore renumbers; a stream's
   * Last-Event-ID must stay valid) and a restore's own changes appear in it as events; webhooks
   * are the project's subscriptions to that log, with their delivery cursors.
   */
  kept?: true;
}

/**
 * The project's tables, parents before children: restored in this order, deleted in the reverse
 * one. Requests come after jobs so that they are deleted first (no reference joins them), and jobs
 * are deleted before the phones and servers a running job's transition locks (decision 0021).
 * Tables of later migrations are named too; one the store lacks is skipped.
 */
export const PROJECT_TABLES: readonly ProjectScopedTable[] = [
  { name: 'images', scope: 'project' },
  // The projects the project's own images are shared to (a share made to it is the sharer's).
  { name: 'image_members', scope: 'image' },
  { name: 'servers', scope: 'project' },
  { name: 'bandwidths', scope: 'project' },
  { name: 'server_bandwidths', scope: 'server' },
  { name: 'phones', scope: 'project' },
  // By server: volumes_by_server is the index volumes have.
  { name: 'volumes', scope: 'server' },
  { name: 'encode_servers', scope: 'project' },
  { name: 'android_packages', scope: 'phone' },
  { name: 'android_files', scope: 'phone' },
  { name: 'android_settings', scope: 'phone' },
  { name: 'shared_files', scope: 'server' },
  { name: 'shared_apps', scope: 'server' },
  { name: 'server_tags', scope: 'project' },
  { name: 'server_faults', scope: 'project' },
  { name: 'rules', scope: 'project', renumber: 'seq' },
  { name: 'webhooks', scope: 'project', kept: true },
  // Which real device is which phone: the operator's declaration of the fleet, not the phone's state.
  { name: 'devices', scope: 'project', kept: true },
  { name: 'jobs', scope: 'project', renumber: 'seq', derived: ['list_json'], history: true },
  { name: 'requests', scope: 'project', history: true },
  { name: 'events', scope: 'project', kept: true },
  { name: 'held_jobs', scope: 'project', transient: true },
];

/** Tables that are not any one project's state, and why. */
export const GLOBAL_TABLES: Readonly<Record<string, string>> = {
  projects: 'identity: the project itself',
  domains: 'identity',
  users: 'identity',
  project_members: 'identity',
  access_keys: 'identity',
  tokens: 'identity: a token outlives a restore',
  server_models: 'catalogue',
  phone_models: 'catalogue',
  call_log: 'a rate limit over the last minute, not state',
  sim_runs: "the simulated fleet's journal of executions, across projects",
  snapshots: 'the snapshots themselves',
  virtual_clock: "the node's virtual clock, shared by every project",
  opencph_migrations: 'the schema version',
  opencph_migrations_lock: 'the schema version',
};

/** The name of a project's first-start state: a name no caller can give (see SNAPSHOT_NAME). */
export const FIRST_START = ':first-start';

/** What a caller may name a snapshot. */
export const SNAPSHOT_NAME = '^[A-Za-z0-9._-]{1,64}$';

export interface SnapshotView {
  name: string;
  createdAt: number;
  rows: number;
}

/** The saved form: per table its columns and rows of values; bytes as `{"$bytes": base64}`. */
interface SavedTable {
  columns: string[];
  rows: unknown[][];
}
interface Saved {
  version: 1;
  tables: Record<string, SavedTable>;
}

const BYTES = '$bytes';

/** The store's tables (SQLite's own excepted). */
export async function storeTables(db: Db): Promise<Set<string>> {
  if (db.isTransaction) return readStoreTables(db);
  // A store's tables change only by migration, before it serves: read once per handle.
  let tables = tablesOf.get(db);
  if (!tables) tablesOf.set(db, (tables = readStoreTables(db)));
  return tables;
}
const tablesOf = new WeakMap<Db, Promise<Set<string>>>();

async function readStoreTables(db: Db): Promise<Set<string>> {
  const rows =
    dialectOf(db) === 'postgres'
      ? await sql<{ name: string }>`select tablename as name from pg_catalog.pg_tables where schemaname = current_schema()`.execute(db)
      : await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(db);
  return new Set(rows.rows.map((r) => r.name));
}

/** The condition that selects the project's rows of a table. */
function belongs(t: ProjectScopedTable, projectId: string): RawBuilder<unknown> {
  switch (t.scope) {
    case 'project':
      return sql`project_id = ${projectId}`;
    case 'phone':
      return sql`phone_id in (select phone_id from phones where project_id = ${projectId})`;
    case 'server':
      return sql`server_id in (select server_id from servers where project_id = ${projectId})`;
    case 'image':
      return sql`image_id in (select image_id from images where project_id = ${projectId})`;
  }
}

/**
 * In a transaction of its own unless `db` is one already. A save reads one consistent state: on
 * PostgreSQL its one statement sees one snapshot of the data; on SQLite the transaction holds the
 * write lock from its start.
 */
function inTransaction<T>(db: Db, fn: (trx: Db) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db) : db.transaction().execute(fn);
}

/**
 * Save the project's state under `name`, replacing a snapshot of that name. Without `history`
 * (the first-start state) jobs, requests and events are left out.
 */
export async function saveSnapshot(db: Db, projectId: string, name: string, now: number, o: { history?: boolean } = {}): Promise<SnapshotView> {
  const history = o.history ?? true;
  const present = await storeTables(db);
  const tables = PROJECT_TABLES.filter((t) => present.has(t.name) && !t.transient && !t.kept && (history || !t.history));
  return inTransaction(db, async (trx) => {
    const read = dialectOf(trx) === 'postgres' ? await readAllPg(trx, tables, projectId) : await readEach(trx, tables, projectId);
    const saved: Saved = { version: 1, tables: {} };
    let count = 0;
    for (const t of tables) {
      const rows = read[t.name] ?? [];
      if (rows.length === 0) continue;
      const columns = Object.keys(rows[0]!).filter((c) => !t.derived?.includes(c));
      saved.tables[t.name] = { columns, rows: rows.map((r) => columns.map((c) => encode(r[c]))) };
      count += rows.length;
    }
    const row = { project_id: projectId, name, created_at: now, rows: count, data: JSON.stringify(saved) };
    await trx
      .insertInto('snapshots')
      .values(row)
      .onConflict((oc) => oc.columns(['project_id', 'name']).doUpdateSet({ created_at: now, rows: count, data: row.data }))
      .execute();
    return { name, createdAt: now, rows: count };
  });
}

type Rows = Record<string, Record<string, unknown>[]>;
const orderOf = (t: ProjectScopedTable, row = '') => (t.renumber ? sql` order by ${sql.ref(row + t.renumber)}` : sql``);

/** SQLite: one statement per table, each a local call. */
async function readEach(trx: Db, tables: readonly ProjectScopedTable[], projectId: string): Promise<Rows> {
  const out: Rows = {};
  for (const t of tables) out[t.name] = (await sql<Record<string, unknown>>`select * from ${sql.table(t.name)} where ${belongs(t, projectId)}${orderOf(t)}`.execute(trx)).rows;
  return out;
}

/**
 * PostgreSQL: every table in one statement (one round trip, one snapshot of the data), each as a
 * JSON array of its rows. bytea comes as its hex text (`\x…`), which an insert reads back as bytes.
 */
async function readAllPg(trx: Db, tables: readonly ProjectScopedTable[], projectId: string): Promise<Rows> {
  if (tables.length === 0) return {};
  const columns = tables.map(
    (t) => sql`(select coalesce(json_agg(x${orderOf(t, 'x.')}), '[]'::json) from ${sql.table(t.name)} x where ${belongs(t, projectId)}) as ${sql.ref(t.name)}`,
  );
  const { rows } = await sql<Rows>`select ${sql.join(columns)}`.execute(trx);
  return rows[0]!;
}

const encode = (v: unknown): unknown => (Buffer.isBuffer(v) ? { [BYTES]: v.toString('base64') } : v);
const decode = (v: unknown): unknown => (v !== null && typeof v === 'object' && BYTES in v ? Buffer.from((v as Record<string, string>)[BYTES]!, 'base64') : v);

/** Bound parameters one statement may carry: SQLite's limit (32766) and PostgreSQL's (65535), with room. */
const MAX_PARAMETERS: Record<DialectName, number> = { sqlite: 32_000, postgres: 65_000 };
/** Rows per statement at most, whatever the width: past this a larger statement gains nothing. */
const MAX_ROWS = 2_000;

/** How a restore treats jobs that were running when the snapshot was taken. */
export interface RestoreOptions {
  now: number;
  /**
   * Why such a job may not run again (it fails then, as recovery fails an interrupted job); undefined:
   * it goes back to the queue and runs again.
   */
  whyNotRerun(job: { operation: string; attempts: number }): string | undefined;
}

/**
 * Replace the project's state with the snapshot `name`, in one transaction: the project's rows of
 * every table deleted, the saved ones inserted. Answers undefined when the project has no such
 * snapshot (nothing changed then). Other projects' rows are not touched.
 */
export async function restoreSnapshot(db: Db, projectId: string, name: string, o: RestoreOptions): Promise<SnapshotView | undefined> {
  const dialect = dialectOf(db);
  const present = await storeTables(db);
  const tables = PROJECT_TABLES.filter((t) => present.has(t.name) && !t.kept);
  return db.transaction().execute(async (trx) => {
    const snap = await trx.selectFrom('snapshots').select(['created_at', 'rows', 'data']).where('project_id', '=', projectId).where('name', '=', name).executeTakeFirst();
    if (!snap) return undefined;
    const saved = JSON.parse(snap.data) as Saved;
    // The event writers' turn first: the inserts below fire the event triggers, which take it, and
    // taken after the deletes' row locks it could wait on a finish that waits on those rows.
    await takeEventTurn(trx, dialect);
    await deleteRows(trx, dialect, [...tables].reverse(), projectId);
    const inserts = new Inserts(trx, dialect);
    for (const t of tables) {
      const s = saved.tables[t.name];
      if (!s || s.rows.length === 0) continue;
      let columns = s.columns;
      let rows = s.rows.map((r) => r.map(decode));
      if (t.name === 'jobs') rows = settleJobs(columns, rows, o);
      if (t.renumber) {
        const skip = columns.indexOf(t.renumber);
        columns = columns.filter((_, i) => i !== skip);
        rows = rows.map((r) => r.filter((_, i) => i !== skip));
      }
      const per = Math.max(1, Math.min(MAX_ROWS, Math.floor(MAX_PARAMETERS[dialect] / columns.length)));
      for (let i = 0; i < rows.length; i += per) await inserts.add(t.name, columns, rows.slice(i, i + per));
    }
    await inserts.flush();
    return { name, createdAt: Number(snap.created_at), rows: Number(snap.rows) };
  });
}

/**
 * Delete the project's rows of `tables` (children first). On PostgreSQL in two statements: the
 * history tables first (a running job's transition holds its job row, then locks its phone: the
 * restore waits for it rather than deadlock), then every other table in one statement of
 * data-modifying CTEs, which all see the rows as they were before it.
 */
async function deleteRows(trx: Db, dialect: DialectName, tables: readonly ProjectScopedTable[], projectId: string): Promise<void> {
  const remove = (t: ProjectScopedTable) => sql`delete from ${sql.table(t.name)} where ${belongs(t, projectId)}`;
  if (dialect === 'sqlite') {
    for (const t of tables) await remove(t).execute(trx);
    return;
  }
  for (const group of [tables.filter((t) => t.history || t.transient), tables.filter((t) => !t.history && !t.transient)]) {
    if (group.length === 0) continue;
    await sql`with ${sql.join(group.map((t, i) => sql`${sql.raw(`d${i}`)} as (${remove(t)})`))} select 1`.execute(trx);
  }
}

/**
 * Multi-row inserts, parents first. On PostgreSQL several tables go in one statement (CTEs) up to
 * the bound-parameter limit: references are checked at the end of the statement, when every row is
 * in; the rows of one VALUES list take their sequence values in order.
 */
class Inserts {
  private pending: RawBuilder<unknown>[] = [];
  private parameters = 0;

  constructor(
    private readonly trx: Db,
    private readonly dialect: DialectName,
  ) {}

  async add(table: string, columns: string[], rows: unknown[][]): Promise<void> {
    const statement = sql`insert into ${sql.table(table)} (${sql.join(columns.map((c) => sql.ref(c)))}) values ${sql.join(rows.map((r) => sql`(${sql.join(r)})`))}`;
    if (this.dialect === 'sqlite') {
      await statement.execute(this.trx);
      return;
    }
    const count = columns.length * rows.length;
    if (this.parameters + count > MAX_PARAMETERS.postgres) await this.flush();
    this.pending.push(statement);
    this.parameters += count;
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const ctes = this.pending.map((s, i) => sql`${sql.raw(`i${i}`)} as (${s})`);
    this.pending = [];
    this.parameters = 0;
    await sql`with ${sql.join(ctes)} select 1`.execute(this.trx);
  }
}

/**
 * Jobs that were running when the snapshot was taken: their run belongs to the replaced state.
 * Each goes back to the queue, or fails when it may not run again (as recovery decides).
 */
function settleJobs(columns: string[], rows: unknown[][], o: RestoreOptions): unknown[][] {
  const at = (c: string) => columns.indexOf(c);
  const [state, operation, attempts, status, code, msg, end, owner, expires] = ['state', 'operation', 'attempts', 'status', 'error_code', 'error_msg', 'end_time', 'lease_owner', 'lease_expires_at'].map(at) as number[];
  return rows.map((r) => {
    if (r[state!] !== 'running') return r;
    const row = [...r];
    row[owner!] = null;
    row[expires!] = null;
    const why = o.whyNotRerun({ operation: String(r[operation!]), attempts: Number(r[attempts!]) });
    if (why === undefined) {
      row[state!] = 'pending';
      return row;
    }
    row[state!] = 'done';
    row[status!] = JobStatus.Failure;
    row[code!] = Errors.internal.code;
    row[msg!] = `${Errors.internal.message} The job was running when the snapshot was taken and was not run again after the restore: ${why}.`;
    row[end!] = o.now;
    return row;
  });
}

/** The project's snapshots by creation, oldest first; its first-start state is not among them. */
export async function listSnapshots(db: Db, projectId: string): Promise<SnapshotView[]> {
  const rows = await db
    .selectFrom('snapshots')
    .select(['name', 'created_at', 'rows'])
    .where('project_id', '=', projectId)
    .where('name', '<>', FIRST_START)
    .orderBy('created_at')
    .orderBy('name')
    .execute();
  return rows.map((r) => ({ name: r.name, createdAt: Number(r.created_at), rows: Number(r.rows) }));
}

/** False when the project has no snapshot of that name. */
export async function deleteSnapshot(db: Db, projectId: string, name: string): Promise<boolean> {
  const r = await db.deleteFrom('snapshots').where('project_id', '=', projectId).where('name', '=', name).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/**
 * The first-start state of every project that has none: a store made before snapshots existed
 * gets its projects' state of this start (without jobs, requests and events). Answers how many.
 */
export async function ensureFirstStartSnapshots(db: Db, now: number): Promise<number> {
  const missing = await db
    .selectFrom('projects')
    .select('project_id')
    .where((eb) => eb.not(eb.exists(eb.selectFrom('snapshots').select('name').whereRef('snapshots.project_id', '=', 'projects.project_id').where('snapshots.name', '=', FIRST_START))))
    .execute();
  for (const p of missing) await saveSnapshot(db, p.project_id, FIRST_START, now, { history: false });
  return missing.length;
}
