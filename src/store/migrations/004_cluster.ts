import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../dialect.js';

export async function up(db: Kysely<any>): Promise<void> {
  const pg = dialectOf(db) === 'postgres';
  // The scheduler reads the unfinished jobs oldest first.
  await db.schema.createIndex('jobs_active_by_seq').on('jobs').column('seq').where(sql<boolean>`state <> 'done'`).execute();

  // The simulated fleet's journal of executions (with --sim-journal): which worker ran which job when.
  await db.schema
    .createTable('sim_runs')
    .addColumn('run_id', pg ? 'bigserial' : 'integer', (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('job_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('worker', 'varchar(64)', (c) => c.notNull())
    .addColumn('operation', 'varchar(32)', (c) => c.notNull())
    .addColumn('phone_id', 'varchar(32)')
    .addColumn('server_id', 'varchar(32)')
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('ended_at', 'bigint')
    .execute();
  await db.schema.createIndex('sim_runs_by_job').on('sim_runs').column('job_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('sim_runs').ifExists().execute();
  await db.schema.dropIndex('jobs_active_by_seq').ifExists().execute();
}
