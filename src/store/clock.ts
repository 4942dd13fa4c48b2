import type { Db } from './db.js';

/** The virtual clock's persisted instant (migration 017): one row, id 1. */

export async function readVirtualNow(db: Db): Promise<number | undefined> {
  const row = await db.selectFrom('virtual_clock').select('now_ms').where('id', '=', 1).executeTakeFirst();
  return row === undefined ? undefined : Number(row.now_ms);
}

export async function writeVirtualNow(db: Db, nowMs: number): Promise<void> {
  await db
    .insertInto('virtual_clock')
    .values({ id: 1, now_ms: nowMs })
    .onConflict((oc) => oc.column('id').doUpdateSet({ now_ms: nowMs }))
    .execute();
}
