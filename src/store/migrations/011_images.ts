import type { Kysely } from 'kysely';

/**
 * Custom images (cph-api.md §3.4, §4.4): an image is public (project_id null, the catalogue's) or
 * private to the project that made it, with its own status, size and times; image_members lists the
 * projects a private image is shared to, and whether each accepted. Existing rows are public images
 * in production.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('images').addColumn('project_id', 'varchar(32)').execute();
  await db.schema.alterTable('images').addColumn('domain_id', 'varchar(32)').execute();
  // 0 CREATING, 1 PRODUCTION, 2 CREATE_FAILED.
  await db.schema.alterTable('images').addColumn('status', 'integer', (c) => c.notNull().defaultTo(1)).execute();
  await db.schema.alterTable('images').addColumn('image_size', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('images').addColumn('create_time', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('images').addColumn('update_time', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('images').addColumn('is_support_encrypt', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.createIndex('images_by_project').on('images').columns(['project_id', 'create_time']).execute();

  await db.schema
    .createTable('image_members')
    .addColumn('image_id', 'varchar(32)', (c) => c.notNull().references('images.image_id'))
    // The project the image is shared to.
    .addColumn('project_id', 'varchar(32)', (c) => c.notNull().references('projects.project_id'))
    // pending, accepted, rejected.
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('create_time', 'bigint', (c) => c.notNull())
    .addColumn('update_time', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('image_members_pk', ['image_id', 'project_id'])
    .execute();
  await db.schema.createIndex('image_members_by_project').on('image_members').columns(['project_id', 'image_id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('image_members').ifExists().execute();
  await db.schema.dropIndex('images_by_project').ifExists().execute();
  for (const column of ['is_support_encrypt', 'update_time', 'create_time', 'image_size', 'status', 'domain_id', 'project_id']) {
    await db.schema.alterTable('images').dropColumn(column).execute();
  }
}
