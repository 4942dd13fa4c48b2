import type { Kysely } from 'kysely';
import { dropJobItemTriggers } from '../jobItems.js';

/**
 * The column that keeps each job's ListJobs item as JSON text (why: src/store/jobItems.ts). What
 * writes it is the store's, installed by 007; this migration first installed its own triggers,
 * which 007 replaces on a store that ran it.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('jobs').addColumn('list_json', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await dropJobItemTriggers(db);
  await db.schema.alterTable('jobs').dropColumn('list_json').execute();
}
