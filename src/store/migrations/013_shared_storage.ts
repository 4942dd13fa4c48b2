import type { ColumnDefinitionBuilder, Kysely } from 'kysely';
import { dialectOf } from '../dialect.js';

/**
 * Shared storage of a server (spec 2.0 models): files every phone of the server sees beside its
 * own, and the apps shared with all of them (cph-api.md §3.9). Both go with their server.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const pg = dialectOf(db) === 'postgres';
  const serverRef = (c: ColumnDefinitionBuilder) => c.notNull().references('servers.server_id').onDelete('cascade');

  await db.schema
    .createTable('shared_files')
    .addColumn('server_id', 'varchar(32)', serverRef)
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('parent', 'text', (c) => c.notNull())
    .addColumn('kind', 'varchar(8)', (c) => c.notNull())
    .addColumn('mode', 'integer', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('mtime', 'bigint', (c) => c.notNull())
    .addColumn('content', pg ? 'bytea' : 'blob')
    .addPrimaryKeyConstraint('shared_files_pk', ['server_id', 'path'])
    .execute();
  await db.schema.createIndex('shared_files_by_parent').on('shared_files').columns(['server_id', 'parent']).execute();

  await db.schema
    .createTable('shared_apps')
    .addColumn('server_id', 'varchar(32)', serverRef)
    .addColumn('package_name', 'varchar(128)', (c) => c.notNull())
    .addColumn('version_code', 'bigint', (c) => c.notNull())
    .addColumn('version_name', 'varchar(255)', (c) => c.notNull())
    .addColumn('apk_path', 'text', (c) => c.notNull())
    .addColumn('pre_install', 'integer', (c) => c.notNull())
    .addColumn('installed_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('shared_apps_pk', ['server_id', 'package_name'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['shared_apps', 'shared_files']) await db.schema.dropTable(table).ifExists().execute();
}
