import type { Kysely } from 'kysely';

/**
 * A project's requests newest first (GET /_opencph/…/requests): a page is read in the index's
 * order, ties by id included, without a sort or a scan of the project's other requests.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('requests_by_project_age').on('requests').columns(['project_id', 'created_at', 'request_id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('requests_by_project_age').ifExists().execute();
}
