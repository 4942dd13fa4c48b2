import { sql } from 'kysely';
import type { Db } from './db.js';
import type { DialectName } from './dialect.js';

export interface CallLimit {
  projectId: string;
  /** Which limit: calls of different names are counted apart. */
  name: string;
  now: number;
  windowMs: number;
  max: number;
}

export type CallSlot = { ok: true } | { ok: false; retryAfterMs: number };

/**
 * Count one call against a sliding-window limit kept in the database, so every node shares it:
 * at most `max` calls in any `windowMs`. Refused calls are not counted.
 */
export async function takeCallSlot(db: Db, dialect: DialectName, l: CallLimit): Promise<CallSlot> {
  return db.transaction().execute(async (trx) => {
    // SQLite runs one writer at a time; PostgreSQL needs the check-then-insert serialized per project.
    if (dialect === 'postgres') await sql`select pg_advisory_xact_lock(hashtext(${`${l.name}:${l.projectId}`}))`.execute(trx);
    const since = l.now - l.windowMs;
    await trx.deleteFrom('call_log').where('project_id', '=', l.projectId).where('name', '=', l.name).where('at', '<=', since).execute();
    const recent = await trx
      .selectFrom('call_log')
      .select('at')
      .where('project_id', '=', l.projectId)
      .where('name', '=', l.name)
      .orderBy('at')
      .execute();
    if (recent.length >= l.max) return { ok: false, retryAfterMs: Math.max(0, recent[recent.length - l.max]!.at + l.windowMs - l.now) };
    await trx.insertInto('call_log').values({ project_id: l.projectId, name: l.name, at: l.now }).execute();
    return { ok: true };
  });
}
