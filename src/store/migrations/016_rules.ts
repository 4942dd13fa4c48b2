import type { Kysely } from 'kysely';
import { dialectOf } from '../dialect.js';

/**
 * Scripted outcomes of the test-control extension (/_opencph): a project's rules, each with its
 * match and outcome as JSON, how many uses remain (null = every matching job) and how often it
 * matched. `seq` keeps creation order, the order in which rules are tried.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const pg = dialectOf(db) === 'postgres';
  await db.schema
    .createTable('rules')
    .addColumn('seq', pg ? 'bigserial' : 'integer', (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('rule_id', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('match_json', 'text', (c) => c.notNull())
    .addColumn('outcome_json', 'text', (c) => c.notNull())
    .addColumn('remaining', 'integer')
    .addColumn('matched', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('rules_by_project').on('rules').columns(['project_id', 'seq']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('rules').ifExists().execute();
}
