import type { Kysely } from 'kysely';

/**
 * Snapshots of a project's state (the test-control extension, store/snapshots.ts): each one JSON
 * text of the project's rows, table by table, under a name unique in the project. The project's
 * first-start state is one of them under a name no caller can give. Requests get an index by
 * project so that a restore finds the project's requests without reading every project's.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('snapshots')
    .addColumn('project_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('name', 'varchar(64)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('rows', 'integer', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('snapshots_pk', ['project_id', 'name'])
    .execute();
  await db.schema.createIndex('requests_by_project').on('requests').columns(['project_id', 'request_id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('requests_by_project').ifExists().execute();
  await db.schema.dropTable('snapshots').ifExists().execute();
}
