import type { Kysely } from 'kysely';

/**
 * The model catalogue: server models, and the phone models each holds (cph-api.md §4.3). What a
 * store holds of it is written at start-up (store/catalogue.ts) and by `opencph admin`.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('server_models')
    .addColumn('server_model_name', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('server_type', 'varchar(32)', (c) => c.notNull())
    .addColumn('cpu', 'integer', (c) => c.notNull())
    .addColumn('memory', 'integer', (c) => c.notNull())
    // ServerModel.extend_spec as JSON text: {cpu, memory, disk, network_interface, gpu, bms_flavor, gpu_count, numa_count, os_volume?}.
    .addColumn('extend_spec', 'text', (c) => c.notNull())
    .addColumn('disk_max_num', 'integer', (c) => c.notNull())
    .addColumn('product_type', 'integer', (c) => c.notNull())
    .addColumn('free_size', 'integer', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('phone_models')
    .addColumn('phone_model_name', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('server_model_name', 'varchar(64)', (c) => c.notNull().references('server_models.server_model_name'))
    .addColumn('status', 'integer', (c) => c.notNull())
    .addColumn('cpu', 'integer', (c) => c.notNull())
    .addColumn('memory', 'integer', (c) => c.notNull())
    .addColumn('disk', 'integer', (c) => c.notNull())
    .addColumn('resolution', 'varchar(16)', (c) => c.notNull())
    // PhoneModel.extend_spec as CPH gives it: a JSON string, with max_share_disk_size_g when shared storage is supported.
    .addColumn('extend_spec', 'varchar(512)', (c) => c.notNull())
    .addColumn('spec_code', 'varchar(64)', (c) => c.notNull())
    .addColumn('phone_capacity', 'integer', (c) => c.notNull())
    .addColumn('image_label', 'varchar(32)', (c) => c.notNull())
    .addColumn('product_type', 'integer', (c) => c.notNull())
    .addColumn('phone_model_version', 'integer', (c) => c.notNull())
    .addColumn('dpi', 'integer', (c) => c.notNull())
    .addColumn('fps', 'varchar(16)', (c) => c.notNull())
    .addColumn('volume_mode', 'integer', (c) => c.notNull())
    .addColumn('render_fps', 'integer', (c) => c.notNull())
    .addColumn('stream_fps', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('phone_models_by_server_model').on('phone_models').column('server_model_name').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('phone_models').ifExists().execute();
  await db.schema.dropTable('server_models').ifExists().execute();
}
