import type { Kysely } from 'kysely';
import { newId } from '../../domain/ids.js';

/**
 * Servers bought and changed over the API (cph-api.md §3.3, §3.7): how a server is charged, its
 * ports and shared volume, and the bandwidths and volumes ShowCloudPhoneServerDetail lists.
 * Servers already stored get what a seeded server gets (store/seed.ts): a dedicated bandwidth of
 * 100 Mbit/s, and a data volume per phone of the phone's volume size.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const servers = db.schema.alterTable('servers');
  // 0 yearly/monthly (prepaid), 1 on demand; a prepaid server's period: 2 month, 3 year (0 none).
  await servers.addColumn('charging_mode', 'integer', (c) => c.notNull().defaultTo(1)).execute();
  await db.schema.alterTable('servers').addColumn('period_type', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('servers').addColumn('period_num', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('servers').addColumn('is_auto_renew', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('servers').addColumn('enterprise_project_id', 'varchar(64)', (c) => c.notNull().defaultTo('0')).execute();
  // The body's ports ([{name, listen_port, internet_accessible}]) as JSON text.
  await db.schema.alterTable('servers').addColumn('ports', 'text', (c) => c.notNull().defaultTo('[]')).execute();
  // share_volume_info; size 0 when the server has no shared volume.
  await db.schema.alterTable('servers').addColumn('share_volume_type', 'varchar(16)', (c) => c.notNull().defaultTo('SSD')).execute();
  await db.schema.alterTable('servers').addColumn('share_volume_size', 'integer', (c) => c.notNull().defaultTo(0)).execute();

  await db.schema
    .createTable('bandwidths')
    .addColumn('band_width_id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('project_id', 'varchar(32)', (c) => c.notNull().references('projects.project_id'))
    .addColumn('band_width_name', 'varchar(64)', (c) => c.notNull())
    .addColumn('band_width_size', 'integer', (c) => c.notNull())
    .addColumn('band_width_charge_mode', 'integer', (c) => c.notNull())
    .addColumn('band_width_share_type', 'integer', (c) => c.notNull())
    .addColumn('create_time', 'bigint', (c) => c.notNull())
    .addColumn('update_time', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('bandwidths_by_project').on('bandwidths').columns(['project_id', 'create_time']).execute();

  // A shared bandwidth serves several servers; a dedicated one, its own server.
  await db.schema
    .createTable('server_bandwidths')
    .addColumn('server_id', 'varchar(32)', (c) => c.notNull().references('servers.server_id').onDelete('cascade'))
    .addColumn('band_width_id', 'varchar(32)', (c) => c.notNull().references('bandwidths.band_width_id'))
    .addPrimaryKeyConstraint('server_bandwidths_pk', ['server_id', 'band_width_id'])
    .execute();
  await db.schema.createIndex('server_bandwidths_by_bandwidth').on('server_bandwidths').column('band_width_id').execute();

  await db.schema
    .createTable('volumes')
    .addColumn('volume_id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('project_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('server_id', 'varchar(32)', (c) => c.notNull().references('servers.server_id').onDelete('cascade'))
    // The phone whose data it holds; null for a bare server's data volume.
    .addColumn('phone_id', 'varchar(32)')
    .addColumn('volume_name', 'varchar(128)', (c) => c.notNull())
    .addColumn('volume_size', 'integer', (c) => c.notNull())
    .addColumn('volume_type', 'varchar(16)', (c) => c.notNull())
    .addColumn('create_time', 'bigint', (c) => c.notNull())
    .addColumn('update_time', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('volumes_by_server').on('volumes').column('server_id').execute();

  await fillExisting(db);
}

/** Bandwidths and volumes for the servers a store already holds, a few hundred rows per statement. */
async function fillExisting(db: Kysely<any>): Promise<void> {
  const servers = await db.selectFrom('servers').select(['server_id', 'project_id', 'server_name', 'create_time']).execute();
  const links: { server_id: string; band_width_id: string }[] = [];
  const bandwidths = servers.map((s) => {
    const id = newId();
    links.push({ server_id: s.server_id, band_width_id: id });
    const t = Number(s.create_time);
    return { band_width_id: id, project_id: s.project_id, band_width_name: `bandwidth-${s.server_name}`.slice(0, 64), band_width_size: 100, band_width_charge_mode: 0, band_width_share_type: 0, create_time: t, update_time: t };
  });
  for (let i = 0; i < bandwidths.length; i += 100) await db.insertInto('bandwidths').values(bandwidths.slice(i, i + 100)).execute();
  for (let i = 0; i < links.length; i += 400) await db.insertInto('server_bandwidths').values(links.slice(i, i + 400)).execute();
  const phones = await db.selectFrom('phones').select(['phone_id', 'project_id', 'server_id', 'phone_name', 'volume_size', 'create_time']).execute();
  const volumes = phones.map((p) => {
    const t = Number(p.create_time);
    return { volume_id: newId(), project_id: p.project_id, server_id: p.server_id, phone_id: p.phone_id, volume_name: `${p.phone_name}-data`, volume_size: p.volume_size, volume_type: 'SSD', create_time: t, update_time: t };
  });
  for (let i = 0; i < volumes.length; i += 100) await db.insertInto('volumes').values(volumes.slice(i, i + 100)).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('volumes').ifExists().execute();
  await db.schema.dropTable('server_bandwidths').ifExists().execute();
  await db.schema.dropTable('bandwidths').ifExists().execute();
  for (const column of ['share_volume_size', 'share_volume_type', 'ports', 'enterprise_project_id', 'is_auto_renew', 'period_num', 'period_type', 'charging_mode']) {
    await db.schema.alterTable('servers').dropColumn(column).execute();
  }
}
