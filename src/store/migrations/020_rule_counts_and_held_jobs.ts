import type { Kysely } from 'kysely';

/**
 * Scripted outcomes, continued. On `rules`: `seen`, how many jobs met the rule's match while it was
 * in force (the count its `nth` and `probability` draw on), and `refuse`, 1 for a rule that acts
 * at submission rather than when a job runs, so each side reads only its own. `held_jobs`: the jobs
 * a rule holds at status 1 until released; `attempt` ties a row to the run that is holding (a job
 * re-queued after its node died is not held by the old row), and `release_json`/`released_at` are
 * written by the release the holding worker then picks up.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('rules').addColumn('seen', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('rules').addColumn('refuse', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema
    .createTable('held_jobs')
    .addColumn('job_id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('rule_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('since', 'bigint', (c) => c.notNull())
    .addColumn('release_json', 'text')
    .addColumn('released_at', 'bigint')
    .execute();
  await db.schema.createIndex('held_jobs_by_project').on('held_jobs').columns(['project_id', 'since']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('held_jobs').ifExists().execute();
  await db.schema.alterTable('rules').dropColumn('refuse').execute();
  await db.schema.alterTable('rules').dropColumn('seen').execute();
}
