import type { Kysely } from 'kysely';
import { dropJobItemTriggers, installJobItems } from '../jobItems.js';

/**
 * ListJobs items as the store renders them (src/store/jobItems.ts), phone jobs now with `server_id`
 * beside `node_id`: the triggers are replaced and every stored item is written again.
 */
export async function up(db: Kysely<any>): Promise<void> {
  // The items as this migration's jobs table can hold them: encode_server_id comes with 012.
  await installJobItems(db, { encodeServers: false });
}

export async function down(db: Kysely<any>): Promise<void> {
  await dropJobItemTriggers(db);
}
