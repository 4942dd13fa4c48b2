import type { Kysely } from 'kysely';

/**
 * The virtual clock's instant (`serve --clock virtual`): one row, written after every advance, so a
 * node started again on the store resumes where time stood.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('virtual_clock')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('now_ms', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('virtual_clock').ifExists().execute();
}
