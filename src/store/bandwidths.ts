import { sql } from 'kysely';
import { readRows, type Db, type ReadStore } from './db.js';
import type { Page } from './fleet.js';
import type { BandwidthRow } from './serverOrders.js';

/** A page of the project's bandwidths, oldest first. */
export async function listBandwidths(store: ReadStore, projectId: string, page: Page): Promise<BandwidthRow[]> {
  return readRows(
    store,
    store.db
      .selectFrom('bandwidths')
      .selectAll()
      .where('project_id', '=', projectId)
      .orderBy('create_time')
      .orderBy('band_width_id')
      .limit(sql.lit(page.limit))
      .offset(page.offset),
  );
}

export async function getBandwidth(db: Db, projectId: string, bandwidthId: string): Promise<BandwidthRow | undefined> {
  return db.selectFrom('bandwidths').selectAll().where('project_id', '=', projectId).where('band_width_id', '=', bandwidthId).executeTakeFirst();
}

/** Whether the project has that bandwidth (and so now has it at `size` Mbit/s). */
export async function resizeBandwidth(db: Db, projectId: string, bandwidthId: string, size: number, now: number): Promise<boolean> {
  const r = await db
    .updateTable('bandwidths')
    .set({ band_width_size: size, update_time: now })
    .where('project_id', '=', projectId)
    .where('band_width_id', '=', bandwidthId)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}
