import { sql, type Kysely } from 'kysely';
import type { Db } from './db.js';
import { dialectOf, type DialectName } from './dialect.js';
import { CLAIM_LOCK, EVENT_TURN } from './jobs.js';

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

/** An event as read: its row, with the fields of its job (absent for phone and server events). */
export interface EventRow {
  seq: number;
  project_id: string;
  type: string;
  created_at: number;
  status: number | null;
  previous_status: number | null;
  phone_id: string | null;
  server_id: string | null;
  request_id: string | null;
  job_id: string | null;
  operation: string | null;
  encode_server_id: string | null;
  error_code: string | null;
  error_msg: string | null;
}

/** The PostgreSQL channel on which event notifications travel. */
export const EVENTS_CHANNEL = 'opencph_events';

/**
 * The event's own columns, after seq, project_id, type and created_at. A job's event names the job
 * by its seq and keeps only what changes (its status); what the job never changes (request, id,
 * operation, target, and its error once finished) is read from the job (readEvents): a job's three
 * events are a third of what they would be, on the engine's hot path.
 */
export const EVENT_COLUMNS = [
  { name: 'job_seq', type: 'bigint' },
  { name: 'phone_id', type: 'varchar(64)' },
  { name: 'server_id', type: 'varchar(64)' },
  { name: 'status', type: 'integer' },
  { name: 'previous_status', type: 'integer' },
] as const;

const INSERT = `insert into events (project_id, type, created_at, ${EVENT_COLUMNS.map((c) => c.name).join(', ')})`;

/** A job's event values, the job's columns named `${r}column`. */
const jobValues = (r: string, type: string, time: string) => `${r}project_id, '${type}', ${time}, ${r}seq, null, null, ${r}status, cast(null as integer)`;
const phoneValues = (n: string, o: string) => `${n}project_id, 'phone.status', ${n}update_time, cast(null as bigint), ${n}phone_id, ${n}server_id, ${n}status, ${o}status`;
const serverValues = (n: string, o: string) => `${n}project_id, 'server.status', ${n}update_time, cast(null as bigint), null, ${n}server_id, ${n}status, ${o}status`;

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
  if (dialect === 'postgres') await sql`select ${EVENT_TURN}`.execute(db);
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
  let query = db
    .selectFrom('events as e')
    .leftJoin('jobs as j', 'j.seq', 'e.job_seq')
    .select((eb) => [
      'e.seq',
      'e.project_id',
      'e.type',
      'e.created_at',
      'e.status',
      'e.previous_status',
      eb.fn.coalesce('e.phone_id', 'j.phone_id').as('phone_id'),
      eb.fn.coalesce('e.server_id', 'j.server_id').as('server_id'),
      'j.request_id',
      'j.job_id',
      'j.operation',
      'j.encode_server_id',
      'j.error_code',
      'j.error_msg',
    ])
    .where('e.seq', '>', q.after)
    .where('e.seq', '<=', q.upTo)
    .where('e.project_id', '=', q.projectId);
  if (q.types && q.types.length > 0) query = query.where('e.type', 'in', [...q.types]);
  const rows = await query.orderBy('e.seq').limit(q.limit).execute();
  return rows.map((r) => ({ ...r, seq: Number(r.seq), created_at: Number(r.created_at) }) as EventRow);
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
