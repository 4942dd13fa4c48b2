import type { Kysely } from 'kysely';

/**
 * Users lock after consecutive wrong passwords as access keys do after bad signatures (003): the
 * same two columns on the row the check reads anyway, so a login needs no other lookup, and every
 * node on the store counts together.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('users').addColumn('locked_until', 'bigint').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').dropColumn('locked_until').execute();
  await db.schema.alterTable('users').dropColumn('failures').execute();
}
