import type { Kysely } from 'kysely';

/**
 * Faults put on a server from outside any job (the test-control extension): how many of its adb
 * slots are held, so its adb jobs wait as behind a stuck task. A row only while slots are held;
 * the job claim reads the whole table, which stays as small as the faults a test sets.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('server_faults')
    .addColumn('server_id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('stuck_adb_slots', 'integer', (c) => c.notNull())
    .addColumn('update_time', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('server_faults').ifExists().execute();
}
