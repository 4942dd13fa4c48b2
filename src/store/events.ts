import { sql, type Kysely, type Selectable } from 'kysely';
import type { Db } from './db.js';
import { dialectOf, type DialectName } from './dialect.js';
import { CLAIM_LOCK } from './jobs.js';
import type { EventTable } from './schema.js';

/**
 * Live events (docs/decisions/0022-events-in-the-same-transaction.md). Every job change (accepted,
 * started, finished) and every phone or server status change is written to `events` by triggers,
 * in the transaction that makes the change: whatever writes jobs, phones or servers (submit, the
 * worker, recovery, faults, server deletion, the server lifecycle) reports it, and a change that
 * rolls back reports nothing. `seq` is the stream's order and the id a client resumes from.
 *
 * On PostgreSQL a statement that changes these tables first takes the claim lock for the rest of
 * its transaction, so transactions that write events commit one after another and `seq` order is
 * commit order: a reader that has seen event n never later meets a smaller one. The same trigger
 * raises a notification (delivered at commit) that wakes the streams of every node.
 */

export type EventRow = Selectable<EventTable>;

export const EVENT_TYPES = ['job.accepted', 'job.started', 'job.finished', 'phone.status', 'server.status'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The PostgreSQL channel on which event notifications travel. */
export const EVENTS_CHANNEL = 'opencph_events';

/** The event's own columns, after seq, project_id, type and created_at. */
export const EVENT_COLUMNS = [
  { name: 'request_id', type: 'varchar(64)' },
  { name: 'job_id', type: 'varchar(64)' },
  { name: 'operation', type: 'varchar(64)' },
  { name: 'phone_id', type: 'varchar(64)' },
  { name: 'server_id', type: 'varchar(64)' },
  { name: 'encode_server_id', type: 'varchar(64)' },
  { name: 'status', type: 'integer' },
  { name: 'previous_status', type: 'integer' },
  { name: 'error_code', type: 'varchar(32)' },
  { name: 'error_msg', type: 'text' },
] as const;

const INSERT = `insert into events (project_id, type, created_at, ${EVENT_COLUMNS.map((c) => c.name).join(', ')})`;

/** A job's event values, the job's columns named `${r}column`. */
const jobValues = (r: string, type: string, time: string) =>
  `${r}project_id, '${type}', ${time}, ${r}request_id, ${r}job_id, ${r}operation, ${r}phone_id, ${r}server_id, ${r}encode_server_id, ${r}status, cast(null as integer), ${r}error_code, ${r}error_msg`;
const phoneValues = (n: string, o: string) => `${n}project_id, 'phone.status', ${n}update_time, null, null, null, ${n}phone_id, ${n}server_id, null, ${n}status, ${o}status, null, null`;
const serverValues = (n: string, o: string) => `${n}project_id, 'server.status', ${n}update_time, null, null, null, null, ${n}server_id, null, ${n}status, ${o}status, null, null`;

const ACCEPTED = (r: string) => jobValues(r, 'job.accepted', `${r}begin_time`);
const STARTED = (r: string) => jobValues(r, 'job.started', `coalesce(${r}start_time, ${r}begin_time)`);
const FINISHED = (r: string) => jobValues(r, 'job.finished', `coalesce(${r}end_time, ${r}begin_time)`);

/** Install the triggers that write events (migration 019). */
export async function installEventTriggers(db: Kysely<any>): Promise<void> {
  const run = (text: string) => sql.raw(text).execute(db);
  if (dialectOf(db) === 'postgres') {
    // Before any row is touched: the lock, held to commit, orders the writers; the notification goes out at commit.
    await run(`create function events_turn() returns trigger language plpgsql as $$ begin
      perform pg_advisory_xact_lock(${CLAIM_LOCK}); perform pg_notify('${EVENTS_CHANNEL}', ''); return null; end $$`);
    await run(`create trigger jobs_events_turn before insert or update of state on jobs for each statement execute function events_turn()`);
    await run(`create trigger phones_events_turn before update of status on phones for each statement execute function events_turn()`);
    await run(`create trigger servers_events_turn before update of status on servers for each statement execute function events_turn()`);
    // After the statement, over its rows at once: one insert per statement, however many rows it wrote.
    await run(`create function jobs_events_insert() returns trigger language plpgsql as $$ begin
      ${INSERT} select e.* from n cross join lateral (
        select ${ACCEPTED('n.')} union all select ${FINISHED('n.')} where n.state = 'done') e order by n.seq;
      return null; end $$`);
    await run(`create trigger jobs_events_insert after insert on jobs referencing new table as n for each statement execute function jobs_events_insert()`);
    await run(`create function jobs_events_update() returns trigger language plpgsql as $$ begin
      ${INSERT} select e.* from n join o on o.seq = n.seq cross join lateral (
        select ${STARTED('n.')} where o.state = 'pending' and n.state = 'running'
        union all select ${FINISHED('n.')} where o.state <> 'done' and n.state = 'done') e order by n.seq;
      return null; end $$`);
    await run(`create trigger jobs_events_update after update on jobs referencing old table as o new table as n for each statement execute function jobs_events_update()`);
    for (const [table, key, values] of [
      ['phones', 'phone_id', phoneValues],
      ['servers', 'server_id', serverValues],
    ] as const) {
      await run(`create function ${table}_events_status() returns trigger language plpgsql as $$ begin
        ${INSERT} select ${values('n.', 'o.')} from n join o on o.${key} = n.${key} where o.status is distinct from n.status order by n.${key};
        return null; end $$`);
      await run(`create trigger ${table}_events_status after update on ${table} referencing old table as o new table as n for each statement execute function ${table}_events_status()`);
    }
    return;
  }
  // SQLite has row triggers only; they run inside the statement, with no round trip of their own.
  await run(`create trigger jobs_events_insert after insert on jobs begin
    ${INSERT} values (${ACCEPTED('new.')});
    ${INSERT} select ${FINISHED('new.')} where new.state = 'done';
  end`);
  await run(`create trigger jobs_events_started after update of state on jobs when old.state = 'pending' and new.state = 'running' begin ${INSERT} values (${STARTED('new.')}); end`);
  await run(`create trigger jobs_events_finished after update of state on jobs when old.state <> 'done' and new.state = 'done' begin ${INSERT} values (${FINISHED('new.')}); end`);
  await run(`create trigger phones_events_status after update of status on phones when old.status is not new.status begin ${INSERT} values (${phoneValues('new.', 'old.')}); end`);
  await run(`create trigger servers_events_status after update of status on servers when old.status is not new.status begin ${INSERT} values (${serverValues('new.', 'old.')}); end`);
}

/**
 * Take the event writers' turn now (PostgreSQL; SQLite has one writer anyway), for a transaction
 * that locks job rows by a statement the triggers do not see (`select … for update`) before it
 * changes them: taken later, by the trigger, it could wait on a lock holder that waits on those rows.
 */
export async function takeEventTurn(db: Db, dialect: DialectName): Promise<void> {
  if (dialect === 'postgres') await sql`select pg_advisory_xact_lock(${CLAIM_LOCK})`.execute(db);
}

export interface EventQuery {
  projectId: string;
  /** Events after this seq… */
  after: number;
  /** …up to this one (lastEventSeq, read before): a read is a bounded range of the primary key. */
  upTo: number;
  /** Only these types; all when absent. */
  types?: readonly string[];
  limit: number;
}

/**
 * The project's events in a range of seqs, in order. No index by project: the table is read by its
 * primary key from the reader's cursor, which a reader moves to the end of the range it read even
 * when nothing in it was its own (EventCursor), so each event is passed over once per reader.
 */
export async function readEvents(db: Db, q: EventQuery): Promise<EventRow[]> {
  let query = db.selectFrom('events').selectAll().where('seq', '>', q.after).where('seq', '<=', q.upTo).where('project_id', '=', q.projectId);
  if (q.types && q.types.length > 0) query = query.where('type', 'in', [...q.types]);
  return query.orderBy('seq').limit(q.limit).execute();
}

/** The last event's seq (0 when there is none): a stream without a cursor starts after it. */
export async function lastEventSeq(db: Db): Promise<number> {
  const row = await db.selectFrom('events').select((eb) => eb.fn.max('seq').as('seq')).executeTakeFirst();
  return Number(row?.seq ?? 0);
}

/**
 * Delete events older than `before`, oldest first, but never the newest: on SQLite a seq is the
 * largest rowid plus one, and the newest row kept is what keeps seqs from being given again. Events
 * are written in time order, so the oldest are at the head of the table: each round reads its head
 * and stops at the first young one.
 */
export async function purgeEvents(db: Db, before: number, batch = 5000): Promise<number> {
  const newest = await lastEventSeq(db);
  let total = 0;
  for (;;) {
    const head = await db.selectFrom('events').select(['seq', 'created_at']).where('seq', '<', newest).orderBy('seq').limit(batch).execute();
    const old = head.filter((r) => Number(r.created_at) < before).map((r) => r.seq);
    if (old.length > 0) await db.deleteFrom('events').where('seq', '<=', old[old.length - 1]!).where('created_at', '<', before).execute();
    total += old.length;
    if (old.length < head.length || head.length < batch) return total;
  }
}
