import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../dialect.js';

export async function up(db: Kysely<any>): Promise<void> {
  const pg = dialectOf(db) === 'postgres';

  await db.schema
    .createTable('projects')
    .addColumn('project_id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('name', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('images')
    .addColumn('image_id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('image_name', 'varchar(128)', (c) => c.notNull())
    .addColumn('image_version', 'varchar(64)', (c) => c.notNull())
    .addColumn('os_name', 'varchar(36)', (c) => c.notNull())
    .addColumn('os_type', 'varchar(16)', (c) => c.notNull())
    .addColumn('image_label', 'varchar(32)', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('servers')
    .addColumn('server_id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('project_id', 'varchar(32)', (c) => c.notNull().references('projects.project_id'))
    .addColumn('server_name', 'varchar(65)', (c) => c.notNull())
    .addColumn('server_model_name', 'varchar(64)', (c) => c.notNull())
    .addColumn('phone_model_name', 'varchar(64)', (c) => c.notNull())
    .addColumn('keypair_name', 'varchar(64)', (c) => c.notNull())
    .addColumn('status', 'integer', (c) => c.notNull())
    .addColumn('availability_zone', 'varchar(64)', (c) => c.notNull())
    .addColumn('network_version', 'varchar(8)', (c) => c.notNull())
    .addColumn('vpc_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('subnet_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('server_ip', 'varchar(64)', (c) => c.notNull())
    .addColumn('public_ip', 'varchar(64)', (c) => c.notNull())
    .addColumn('order_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('product_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('create_time', 'bigint', (c) => c.notNull())
    .addColumn('update_time', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('servers_by_project').on('servers').columns(['project_id', 'create_time']).execute();

  await db.schema
    .createTable('phones')
    .addColumn('phone_id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('project_id', 'varchar(32)', (c) => c.notNull().references('projects.project_id'))
    .addColumn('server_id', 'varchar(32)', (c) => c.notNull().references('servers.server_id'))
    .addColumn('phone_name', 'varchar(65)', (c) => c.notNull())
    .addColumn('phone_model_name', 'varchar(64)', (c) => c.notNull())
    .addColumn('image_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('status', 'integer', (c) => c.notNull())
    .addColumn('type', 'integer', (c) => c.notNull())
    .addColumn('imei', 'varchar(32)', (c) => c.notNull())
    .addColumn('traffic_type', 'varchar(16)', (c) => c.notNull())
    .addColumn('volume_mode', 'integer', (c) => c.notNull())
    .addColumn('availability_zone', 'varchar(64)', (c) => c.notNull())
    .addColumn('has_encrypt', 'integer', (c) => c.notNull())
    .addColumn('property', 'text', (c) => c.notNull())
    .addColumn('phone_ip', 'varchar(64)', (c) => c.notNull())
    .addColumn('listen_port', 'integer', (c) => c.notNull())
    .addColumn('volume_size', 'integer', (c) => c.notNull())
    .addColumn('create_time', 'bigint', (c) => c.notNull())
    .addColumn('update_time', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('phones_by_project').on('phones').columns(['project_id', 'create_time']).execute();
  await db.schema.createIndex('phones_by_server').on('phones').columns(['server_id']).execute();

  await db.schema
    .createTable('requests')
    .addColumn('request_id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('project_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('operation', 'varchar(32)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('requests_by_age').on('requests').column('created_at').execute();

  await db.schema
    .createTable('jobs')
    .addColumn('seq', pg ? 'bigserial' : 'integer', (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('job_id', 'varchar(32)', (c) => c.notNull().unique())
    .addColumn('project_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('request_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('operation', 'varchar(32)', (c) => c.notNull())
    // Targets that were never valid ids are kept as given, so these are wider than a real id.
    .addColumn('phone_id', 'varchar(256)')
    .addColumn('server_id', 'varchar(256)')
    .addColumn('params', 'text', (c) => c.notNull())
    .addColumn('state', 'varchar(8)', (c) => c.notNull())
    .addColumn('status', 'integer', (c) => c.notNull())
    .addColumn('error_code', 'varchar(32)')
    .addColumn('error_msg', 'text')
    .addColumn('execute_msg', 'text')
    .addColumn('begin_time', 'bigint', (c) => c.notNull())
    .addColumn('end_time', 'bigint')
    .addColumn('lease_owner', 'varchar(64)')
    .addColumn('lease_expires_at', 'bigint')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  // ListJobs and ShowJob: cost independent of how many jobs are stored.
  await db.schema.createIndex('jobs_by_request').on('jobs').columns(['project_id', 'request_id', 'seq']).execute();
  // The scheduler only ever looks at unfinished jobs; partial indexes keep that set small.
  const active = sql<boolean>`state <> 'done'`;
  await db.schema.createIndex('jobs_active').on('jobs').columns(['state', 'seq']).where(active).execute();
  await db.schema.createIndex('jobs_active_by_phone').on('jobs').columns(['phone_id', 'seq']).where(active).execute();
  await db.schema.createIndex('jobs_active_by_server').on('jobs').columns(['server_id', 'seq']).where(active).execute();
  await db.schema
    .createIndex('jobs_active_server_level')
    .on('jobs')
    .columns(['server_id', 'seq'])
    .where(sql<boolean>`state <> 'done' and phone_id is null`)
    .execute();
  await db.schema.createIndex('jobs_done_by_age').on('jobs').column('end_time').where(sql<boolean>`state = 'done'`).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['jobs', 'requests', 'phones', 'servers', 'images', 'projects']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
