import type { Kysely } from 'kysely';

/** A project's requests newest first (the console's request list): read without a sort or a scan. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('requests_by_project_age').on('requests').columns(['project_id', 'created_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('requests_by_project_age').ifExists().execute();
}
