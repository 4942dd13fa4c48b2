import type { ColumnDefinitionBuilder, Kysely } from 'kysely';
import { dialectOf } from '../dialect.js';

/**
 * What a simulated phone keeps beyond its row in `phones`: the packages the user installed, the
 * files pushed to it, its `settings` values. Its system properties are its image's defaults
 * overlaid with `phones.property`, so they need no table. Also the call log that rate-limits sync
 * commands per project across nodes.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const pg = dialectOf(db) === 'postgres';
  const phoneRef = (c: ColumnDefinitionBuilder) => c.notNull().references('phones.phone_id').onDelete('cascade');

  await db.schema
    .createTable('android_packages')
    .addColumn('phone_id', 'varchar(32)', phoneRef)
    .addColumn('package_name', 'varchar(255)', (c) => c.notNull())
    .addColumn('version_code', 'bigint', (c) => c.notNull())
    .addColumn('version_name', 'varchar(255)', (c) => c.notNull())
    .addColumn('apk_path', 'text', (c) => c.notNull())
    .addColumn('splits', 'text', (c) => c.notNull())
    .addColumn('installed_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('android_packages_pk', ['phone_id', 'package_name'])
    .execute();

  await db.schema
    .createTable('android_files')
    .addColumn('phone_id', 'varchar(32)', phoneRef)
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('parent', 'text', (c) => c.notNull())
    .addColumn('kind', 'varchar(8)', (c) => c.notNull())
    .addColumn('mode', 'integer', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('mtime', 'bigint', (c) => c.notNull())
    .addColumn('content', pg ? 'bytea' : 'blob')
    .addPrimaryKeyConstraint('android_files_pk', ['phone_id', 'path'])
    .execute();
  await db.schema.createIndex('android_files_by_parent').on('android_files').columns(['phone_id', 'parent']).execute();

  await db.schema
    .createTable('android_settings')
    .addColumn('phone_id', 'varchar(32)', phoneRef)
    .addColumn('namespace', 'varchar(16)', (c) => c.notNull())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('android_settings_pk', ['phone_id', 'namespace', 'name'])
    .execute();

  await db.schema
    .createTable('call_log')
    .addColumn('project_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('name', 'varchar(32)', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('call_log_by_project').on('call_log').columns(['project_id', 'name', 'at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['call_log', 'android_settings', 'android_files', 'android_packages']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
