import type { Kysely } from 'kysely';
import { newId } from '../../domain/ids.js';
import { buildEncodeServers, insertEncodeServers } from '../encodeServers.js';
import type { ServerRow } from '../fleet.js';
import { dropJobItemTriggers, installJobItems } from '../jobItems.js';

/**
 * Encode servers (cph-api.md §3.6, §4.5), and jobs that act on one: `jobs.encode_server_id`, with
 * ListJobs items that show it (store/jobItems.ts). Every server already stored gets the encode
 * servers a new one comes with.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('encode_servers')
    .addColumn('encode_server_id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('project_id', 'varchar(32)', (c) => c.notNull().references('projects.project_id'))
    // No reference to servers: deleting a server removes its encode servers itself.
    .addColumn('server_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('encode_server_name', 'varchar(64)', (c) => c.notNull())
    .addColumn('encode_server_ip', 'varchar(64)', (c) => c.notNull())
    .addColumn('keypair_name', 'varchar(64)', (c) => c.notNull())
    .addColumn('type', 'integer', (c) => c.notNull())
    .addColumn('status', 'integer', (c) => c.notNull())
    .addColumn('server_ip', 'varchar(64)', (c) => c.notNull())
    .addColumn('public_ip', 'varchar(64)', (c) => c.notNull())
    .addColumn('listen_port', 'integer', (c) => c.notNull())
    .addColumn('access_port', 'integer', (c) => c.notNull())
    .addColumn('create_time', 'bigint', (c) => c.notNull())
    .addColumn('update_time', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('encode_servers_by_project').on('encode_servers').columns(['project_id', 'create_time']).execute();
  await db.schema.createIndex('encode_servers_by_server').on('encode_servers').column('server_id').execute();

  const servers = (await db.selectFrom('servers').selectAll().execute()) as ServerRow[];
  const rows = servers.flatMap((s) => buildEncodeServers(s, newId));
  await insertEncodeServers(db, rows);

  // Targets that were never valid ids are kept as given, as for phone_id and server_id.
  await db.schema.alterTable('jobs').addColumn('encode_server_id', 'varchar(256)').execute();
  await installJobItems(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await dropJobItemTriggers(db);
  await db.schema.alterTable('jobs').dropColumn('encode_server_id').execute();
  await installJobItems(db, { encodeServers: false });
  await db.schema.dropTable('encode_servers').ifExists().execute();
}
