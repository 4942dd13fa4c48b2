import type { Kysely } from 'kysely';

/**
 * The adb fleet mapping: each phone of an adb fleet is one device, named by its serial on one adb
 * server. A device is one phone at most, and a phone one device.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('devices')
    .addColumn('phone_id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('server_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('serial', 'varchar(255)', (c) => c.notNull())
    .addColumn('adb_server', 'varchar(255)', (c) => c.notNull())
    .addColumn('create_time', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('devices_by_serial', ['adb_server', 'serial'])
    .execute();
  await db.schema.createIndex('devices_by_project').on('devices').columns(['project_id', 'server_id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('devices').ifExists().execute();
}
