import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../dialect.js';
import { EVENT_COLUMNS, installEventTriggers } from '../events.js';

/**
 * Live events (the test-control extension): `events` holds every job change and phone/server status
 * change, written by triggers in the transaction that makes the change (store/events.ts);
 * `webhooks` holds the project's receivers, each with its delivery cursor and lease. Jobs gain
 * `start_time`, the instant a worker claimed them, which their `job.started` event carries.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const pg = dialectOf(db) === 'postgres';
  let events = db.schema
    .createTable('events')
    // SQLite: a rowid, max + 1 on insert; purging always keeps the newest event, so a seq is never given twice.
    .addColumn('seq', pg ? 'bigserial' : 'integer', (c) => c.primaryKey())
    .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('type', 'varchar(32)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull());
  for (const column of EVENT_COLUMNS) events = events.addColumn(column.name, column.type);
  await events.execute();
  await db.schema.alterTable('jobs').addColumn('start_time', 'bigint').execute();
  await db.schema
    .createTable('webhooks')
    .addColumn('webhook_id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('types', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_event_id', 'bigint', (c) => c.notNull())
    .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('lease_owner', 'varchar(64)')
    .addColumn('lease_expires_at', 'bigint')
    .execute();
  await db.schema.createIndex('webhooks_by_project').on('webhooks').columns(['project_id', 'created_at']).execute();
  await installEventTriggers(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  const pg = dialectOf(db) === 'postgres';
  for (const t of ['jobs_events_turn', 'jobs_events_insert', 'jobs_events_update', 'jobs_events_started', 'jobs_events_finished']) {
    await sql.raw(pg ? `drop trigger if exists ${t} on jobs` : `drop trigger if exists ${t}`).execute(db);
  }
  for (const table of ['phones', 'servers']) {
    for (const t of [`${table}_events_turn`, `${table}_events_status`]) await sql.raw(pg ? `drop trigger if exists ${t} on ${table}` : `drop trigger if exists ${t}`).execute(db);
  }
  if (pg) for (const f of ['events_turn', 'jobs_events_insert', 'jobs_events_update', 'phones_events_status', 'servers_events_status']) await sql.raw(`drop function if exists ${f}()`).execute(db);
  await db.schema.dropTable('webhooks').ifExists().execute();
  await db.schema.dropTable('events').ifExists().execute();
  await db.schema.alterTable('jobs').dropColumn('start_time').execute();
}
