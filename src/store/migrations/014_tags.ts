import type { Kysely } from 'kysely';

/**
 * Tags of servers (cph-api.md §3.10): one row per key of a server, its value replaced when the key
 * is tagged again. The project is kept on the row so that ListProjectTags reads one project's tags
 * through an index without joining the servers; deleting a server deletes its rows (deleteTagsOf).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('server_tags')
    .addColumn('resource_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('key', 'varchar(512)', (c) => c.notNull())
    .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('value', 'varchar(1024)', (c) => c.notNull())
    .addPrimaryKeyConstraint('server_tags_pk', ['resource_id', 'key'])
    .execute();
  await db.schema.createIndex('server_tags_by_project').on('server_tags').columns(['project_id', 'key', 'value']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('server_tags').ifExists().execute();
}
