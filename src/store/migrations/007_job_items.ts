import type { Kysely } from 'kysely';
import { dropJobItemTriggers, installJobItems } from '../jobItems.js';

/**
 * ListJobs items as the store renders them (src/store/jobItems.ts), phone jobs now with `server_id`
 * beside `node_id`: the triggers are replaced and every stored item is written again.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await installJobItems(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await dropJobItemTriggers(db);
}
