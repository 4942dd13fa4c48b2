import { sql, type Kysely } from 'kysely';
import { dialectOf, type DialectName } from './dialect.js';

/**
 * Each job keeps its ListJobs item as JSON text in `jobs.list_json`, written by the database itself
 * (triggers) whenever a column it shows changes, so that every writer keeps it true: submit, finish,
 * fail, recovery, and anything that writes jobs directly.
 *
 * ListJobs is the call clients repeat hardest. Reading nine columns per job, building an object and
 * serializing it was a fifth of the server's CPU per ListJobs (1,000,000 jobs stored, 10 per
 * request): 36 µs a call against 14 µs for the ten stored texts, measured on the same store. A job's
 * item changes at most twice (submitted, finished), and is read many times.
 *
 * The item's shape is `listJob` in src/http/wire.ts, the wire mapping; this is the same item spelt
 * in SQL, and test/store/jobItems.test.ts holds the two to the same bytes on both dialects. A
 * change to the SQL needs a migration that calls `installJobItems` again, so that the triggers and
 * the items already stored follow it.
 */

/** The columns the item shows: a change to any of them writes it again. */
export const JOB_ITEM_COLUMNS = ['phone_id', 'server_id', 'encode_server_id', 'job_id', 'begin_time', 'end_time', 'status', 'error_code', 'error_msg', 'execute_msg'] as const;

type Column = (typeof JOB_ITEM_COLUMNS)[number];

/**
 * Which items a store's jobs table can render: `encode_server_id` exists from migration 012 on, so
 * migration 007 installs the items without it (phone and server jobs' items are the same bytes in both).
 */
export interface JobItemVersion {
  encodeServers: boolean;
}

const LATEST: JobItemVersion = { encodeServers: true };

const columnsOf = (v: JobItemVersion) => JOB_ITEM_COLUMNS.filter((c) => v.encodeServers || c !== 'encode_server_id');

/**
 * The item as an SQL expression over the job's columns, each named `${row}column`. An encode-server
 * job (encode_server_id set) shows `encode_server_id` and neither `phone_id`, `server_id` nor `node_id`.
 */
export function jobItemSql(dialect: DialectName, row: string, version: JobItemVersion = LATEST): string {
  const c = (name: Column) => row + name;
  const encodeJob = c('encode_server_id') + ' is not null';
  const plain = plainItemSql(dialect, c);
  if (!version.encodeServers) return plain;
  if (dialect === 'postgres') {
    return `case when ${encodeJob} then ${plainItemSql(dialect, c, `'{"encode_server_id":' || ${pgString(c('encode_server_id'))} || ','`)} else ${plain} end`;
  }
  return `case when ${encodeJob} then json_object('encode_server_id', ${c('encode_server_id')}, ${sqliteTail(c)}) else ${plain} end`;
}

/** The job's fields after its target: job_id, times, status, messages (SQLite json_object arguments). */
function sqliteTail(c: (name: Column) => string): string {
  const utc = (e: string) => `strftime('%Y-%m-%dT%H:%M:%SZ', ${e} / 1000, 'unixepoch')`;
  return `'job_id', ${c('job_id')},
    'begin_time', ${utc(c('begin_time'))}, 'end_time', ${utc(c('end_time'))}, 'status', ${c('status')},
    'error_code', coalesce(${c('error_code')}, ''), 'error_msg', coalesce(${c('error_msg')}, ''), 'execute_msg', coalesce(${c('execute_msg')}, '')`;
}

const pgString = (e: string) => `coalesce(to_json(${e})::text, 'null')`;

/**
 * A phone or server job's item; on PostgreSQL, `head` (the text up to `"job_id"`) may name another
 * target, as an encode-server job's item does.
 */
function plainItemSql(dialect: DialectName, c: (name: Column) => string, head?: string): string {
  const phoneJob = c('phone_id') + ' is not null';
  if (dialect === 'postgres') {
    const str = pgString;
    const orEmpty = (name: Column) => str(`coalesce(${c(name)}, '')`);
    const utc = (e: string) => `'"' || to_char(to_timestamp(${e} / 1000) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || '"'`;
    const target =
      head ??
      `'{' || case when ${phoneJob} then '"phone_id":' || ${str(c('phone_id'))} || ',' else '' end
      || '"server_id":' || ${str(c('server_id'))} || ',"node_id":' || ${str(c('server_id'))} || ','`;
    return `${target} || '"job_id":' || ${str(c('job_id'))}
      || ',"begin_time":' || ${utc(c('begin_time'))} || ',"end_time":' || coalesce(${utc(c('end_time'))}, 'null')
      || ',"status":' || ${c('status')}
      || ',"error_code":' || ${orEmpty('error_code')} || ',"error_msg":' || ${orEmpty('error_msg')}
      || ',"execute_msg":' || ${orEmpty('execute_msg')} || '}'`;
  }
  // json_object takes its keys in order and has no optional key: the two shapes are spelt apart.
  const rest = `'server_id', ${c('server_id')}, 'node_id', ${c('server_id')}, ${sqliteTail(c)}`;
  return `case when ${phoneJob} then json_object('phone_id', ${c('phone_id')}, ${rest}) else json_object(${rest}) end`;
}

/**
 * Install (or replace) the triggers that keep `jobs.list_json`, and write the item of every job
 * already stored. The column itself is migration 006's.
 */
export async function installJobItems(db: Kysely<any>, version: JobItemVersion = LATEST): Promise<void> {
  const dialect = dialectOf(db);
  const columns = columnsOf(version).join(', ');
  await dropJobItemTriggers(db);
  await sql.raw(`update jobs set list_json = ${jobItemSql(dialect, '', version)}`).execute(db);
  if (dialect === 'postgres') {
    // Set on the row being written: one write per change.
    await sql
      .raw(`create function jobs_list_json() returns trigger language plpgsql as $$ begin new.list_json := ${jobItemSql(dialect, 'new.', version)}; return new; end $$`)
      .execute(db);
    await sql.raw(`create trigger jobs_list_json before insert or update of ${columns} on jobs for each row execute function jobs_list_json()`).execute(db);
    return;
  }
  // SQLite's triggers cannot change the row being written; they write it again, by its rowid.
  const set = `update jobs set list_json = ${jobItemSql(dialect, 'new.', version)} where seq = new.seq;`;
  await sql.raw(`create trigger jobs_list_json_insert after insert on jobs begin ${set} end`).execute(db);
  await sql.raw(`create trigger jobs_list_json_update after update of ${columns} on jobs begin ${set} end`).execute(db);
}

/** Remove the triggers; items already stored stay as they are. */
export async function dropJobItemTriggers(db: Kysely<any>): Promise<void> {
  if (dialectOf(db) === 'postgres') {
    await sql`drop trigger if exists jobs_list_json on jobs`.execute(db);
    await sql`drop function if exists jobs_list_json()`.execute(db);
  } else {
    await sql`drop trigger if exists jobs_list_json_insert`.execute(db);
    await sql`drop trigger if exists jobs_list_json_update`.execute(db);
  }
}
