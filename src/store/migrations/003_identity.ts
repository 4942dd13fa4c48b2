import type { Kysely } from 'kysely';

/**
 * Identity: accounts (IAM domains), users, project membership, access keys and tokens.
 * Secret keys are kept as given (HMAC verification needs them); passwords and tokens only as hashes.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('domains')
    .addColumn('domain_id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('name', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema.alterTable('projects').addColumn('domain_id', 'varchar(32)', (c) => c.references('domains.domain_id')).execute();

  await db.schema
    .createTable('users')
    .addColumn('user_id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('domain_id', 'varchar(32)', (c) => c.notNull().references('domains.domain_id'))
    .addColumn('name', 'varchar(64)', (c) => c.notNull())
    .addColumn('password_hash', 'varchar(256)', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('users_name_in_domain', ['domain_id', 'name'])
    .execute();

  await db.schema
    .createTable('project_members')
    .addColumn('user_id', 'varchar(32)', (c) => c.notNull().references('users.user_id'))
    .addColumn('project_id', 'varchar(32)', (c) => c.notNull().references('projects.project_id'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('project_members_pk', ['user_id', 'project_id'])
    .execute();

  await db.schema
    .createTable('access_keys')
    .addColumn('access_key', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('secret_key', 'varchar(128)', (c) => c.notNull())
    .addColumn('user_id', 'varchar(32)', (c) => c.notNull().references('users.user_id'))
    .addColumn('description', 'varchar(255)', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    // Consecutive signature failures and the lock they lead to, shared by every node on this store.
    .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('locked_until', 'bigint')
    .execute();
  await db.schema.createIndex('access_keys_by_user').on('access_keys').column('user_id').execute();

  await db.schema
    .createTable('tokens')
    .addColumn('token_hash', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('user_id', 'varchar(32)', (c) => c.notNull().references('users.user_id'))
    .addColumn('project_id', 'varchar(32)', (c) => c.notNull().references('projects.project_id'))
    .addColumn('methods', 'varchar(64)', (c) => c.notNull())
    .addColumn('issued_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('tokens_by_expiry').on('tokens').column('expires_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['tokens', 'access_keys', 'project_members', 'users']) await db.schema.dropTable(table).ifExists().execute();
  await db.schema.alterTable('projects').dropColumn('domain_id').execute();
  await db.schema.dropTable('domains').ifExists().execute();
}
